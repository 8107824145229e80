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

# shellcheck source=benches/measure.sh
. benches/measure.sh

echo "| profile | tool | wall (s) | CPU (s) | peak RSS (MB) |"
echo "|---|---|---:|---:|---:|"
row() { # label tool wall rss user sys
	awk -v l="$1" -v tool="$2" -v w="$3" -v m="$4" -v u="$5" -v s="$6" \
		'BEGIN { printf "| %s | %s | %.2f | %.2f | %d |\n", l, tool, w, u + s, m / 1024 }'
}
for n in 100000 1000000; do
	f=$DIR/$n.pb.gz
	read -r rt rm ru rs < <(measure "$RPROF" -top "$f")
	row "$n samples" "rprof -top" "$rt" "$rm" "$ru" "$rs"
	if command -v go >/dev/null; then
		read -r gt gm gu gs < <(measure go tool pprof -top "$f")
		row "$n samples" "go tool pprof -top" "$gt" "$gm" "$gu" "$gs"
		awk -v a="$gt" -v b="$rt" -v c="$gm" -v d="$rm" \
			'BEGIN { printf "| %s samples | ratio | %.1fx faster | | %.1fx less |\n", "'"$n"'", a / b, c / d }'
	fi
done
echo
echo "Shell, 1M samples (RPROF_TIMINGS), one run:"
printf 'top\ntop\ntop 30\ntop -cum\npeek store\\.\\(\\*T0\\)\\.Method3$\npeek store\\.\\(\\*T1\\)\\.Method3$\nlist store\\.\\(\\*T0\\)\\.Method3$\nlist store\\.\\(\\*T1\\)\\.Method3$\n' |
	RPROF_TIMINGS=1 "$RPROF" "$DIR/1000000.pb.gz" 2>&1 >/dev/null | grep -E 'took|load' | sed 's/^/    /'
