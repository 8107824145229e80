#!/usr/bin/env bash
# The "Hard shapes" tables of BENCHMARKS.md: whole commands on a 1M-sample
# random-stack CPU profile and on a fleet of 200 x 5k-sample profiles, then
# a scripted shell session; `go tool pprof` on the same files when Go is
# installed (GO=0 skips it: it takes minutes per command).
#
#   bash benches/hard.sh [workdir] [runs]
#
# Each rprof figure is the median of `runs` runs (3) of wall time and peak
# RSS (/usr/bin/time, Debian package `time`). Pause other work on the
# machine while it runs: two cores are easily disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/rprof-hard}
RUNS=${2:-3}
mkdir -p "$DIR/fleet"
cargo build --release --quiet --bin rprof --example gen_profile
RPROF=$PWD/target/release/rprof
GEN=$PWD/target/release/examples/gen_profile
F=$DIR/r1m.pb.gz
[ -f "$F" ] || "$GEN" --random 1000000 "$F"
[ -f "$DIR/fleet/profile-200.pb.gz" ] || "$GEN" --many 200 5000 "$DIR/fleet"
RE='T100\).Method3$'

# shellcheck source=benches/measure.sh
. benches/measure.sh
row() {
	local name=$1 s kb
	shift
	read -r s kb _ < <(measure "$@")
	printf '| %s | %.2f s | %d MB |\n' "$name" "$s" $((kb / 1024))
}

echo "| command (rprof, median of $RUNS) | wall | peak RSS |"
echo "|---|---:|---:|"
row '`-top`' "$RPROF" -top "$F"
row '`-dot`' "$RPROF" -dot "$F"
row '`-peek=RE`' "$RPROF" -peek="$RE" "$F"
row '`-list=RE`' "$RPROF" -list="$RE" "$F"
row '`-flame`' "$RPROF" -flame -output="$DIR/flame.svg" "$F"
row '`-traces` to a file' "$RPROF" -traces -output="$DIR/traces.txt" "$F"
rm -f "$DIR/traces.txt"
row 'fleet, 200 x 5k, `-top`' "$RPROF" -top "$DIR"/fleet/*.pb.gz

echo
echo "shell (RPROF_TIMINGS=1), after a 3 s pause:"
(
	printf 'top\n'
	sleep 3
	printf 'top 30\ntop -cum\npeek T100\\).Method3$\npeek T101\\).Method3$\n'
	printf 'list T100\\).Method3$\nlist T102\\).Method3$\ndot > %s\ndot > %s\n' "$DIR/s1.dot" "$DIR/s2.dot"
	printf 'flame > %s\ntop\npeek T103\\).Method3$\n' "$DIR/s.svg"
) | RPROF_TIMINGS=1 "$RPROF" "$F" 2>&1 >/dev/null | grep 'rprof:'

if [ "${GO:-1}" != 0 ] && command -v go >/dev/null 2>&1; then
	RUNS=1
	echo
	echo "| command (go tool pprof, one run) | wall | peak RSS |"
	echo "|---|---:|---:|"
	row '`-top`' go tool pprof -top "$F"
	row 'fleet, 200 x 5k, `-top`' go tool pprof -top "$DIR"/fleet/*.pb.gz
fi
