#!/usr/bin/env bash
# Times the web UI's views on a running server, rprof's or go tool pprof's:
# each path's first answer (status, seconds, bytes) and, with REPEAT=1, a
# second request of the same path.
#
#   cargo run --release --example gen_profile -- --random 1000000 /tmp/r1m.pb.gz
#   target/release/rprof -http=127.0.0.1:8081 -no_browser /tmp/r1m.pb.gz &
#   go tool pprof -http=127.0.0.1:8082 -no_browser /tmp/r1m.pb.gz &
#   REPEAT=1 bash benches/web_times.sh http://127.0.0.1:8081
#   bash benches/web_times.sh http://127.0.0.1:8082
#
# The f= regexps name a function of the --random profile. rprof's pages
# end with `<!-- rendered in N ms -->` when they were not cached.
set -uo pipefail
base=${1:?usage: web_times.sh BASEURL [PATH...]}
shift
paths=("$@")
if [ ${#paths[@]} -eq 0 ]; then
	paths=("/ui/" "/ui/top" "/ui/flamegraph" "/ui/peek?f=T1006%5C).Method0"
		"/ui/source?f=T1006%5C).Method0" "/ui/?f=T1006" "/ui/top?f=T1006"
		"/ui/flamegraph?f=T1006" "/ui/?si=samples" "/ui/top?si=samples"
		"/ui/flamegraph?si=samples")
fi
body=$(mktemp)
trap 'rm -f "$body"' EXIT
for p in "${paths[@]}"; do
	a=$(curl -s -m 900 -o "$body" -w "%{http_code} %{time_total}" "$base$p")
	line=$(printf "%-36s %s %9.3fs %9d bytes" "$p" "${a% *}" "${a#* }" "$(stat -c %s "$body")")
	if [ "${REPEAT:-0}" = 1 ]; then
		b=$(curl -s -m 900 -o /dev/null -w "%{time_total}" "$base$p")
		line="$line   repeat $(printf "%.4f" "$b")s"
	fi
	echo "$line"
done
