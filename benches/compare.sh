#!/usr/bin/env bash
# Side-by-side wall time and peak memory of `rprof -top` and
# `go tool pprof -top` on synthetic 100k- and 1M-sample CPU profiles, plus
# per-command times in rprof's shell. Prints the tables of BENCHMARKS.md.
#
#   bash benches/compare.sh [workdir] [runs]
#
# Needs /usr/bin/time (Debian package `time`); Go is optional (its column
# is skipped without it). Each figure is the median of `runs` runs (3).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/rprof-bench}
RUNS=${2:-3}
mkdir -p "$DIR"
cargo build --release --quiet --bin rprof --example gen_profile
RPROF=$PWD/target/release/rprof
for n in 100000 1000000; do
	[ -f "$DIR/$n.pb.gz" ] || ./target/release/examples/gen_profile "$n" "$DIR/$n.pb.gz"
done

# median of RUNS runs of a command: prints "seconds maxrss_kb"
measure() {
	local i out
	for ((i = 0; i < RUNS; i++)); do
		out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
		echo "$out"
	done | sort -n | awk -v r="$RUNS" 'NR == int((r + 1) / 2) { print }'
}

echo "| profile | tool | wall (s) | peak RSS (MB) |"
echo "|---|---|---:|---:|"
for n in 100000 1000000; do
	f=$DIR/$n.pb.gz
	read -r t m < <(measure "$RPROF" -top "$f")
	printf '| %s samples | rprof -top | %s | %d |\n' "$n" "$t" $((m / 1024))
	if command -v go >/dev/null; then
		read -r t m < <(measure go tool pprof -top "$f")
		printf '| %s samples | go tool pprof -top | %s | %d |\n' "$n" "$t" $((m / 1024))
	fi
done

echo
echo "Shell, 1M samples (RPROF_TIMINGS), one run:"
printf 'top\ntop\ntop 30\ntop -cum\npeek store\\.\\(\\*T0\\)\\.Method3$\npeek store\\.\\(\\*T1\\)\\.Method3$\nlist store\\.\\(\\*T0\\)\\.Method3$\nlist store\\.\\(\\*T1\\)\\.Method3$\n' |
	RPROF_TIMINGS=1 "$RPROF" "$DIR/1000000.pb.gz" 2>&1 >/dev/null | grep -E 'took|load' | sed 's/^/    /'
