# Sourced by the bench scripts. measure CMD...: the median of $RUNS runs
# of a command (by wall time); prints "seconds maxrss_kb user_s sys_s".
measure() {
	local i t
	t=$(mktemp)
	for ((i = 0; i < RUNS; i++)); do
		/usr/bin/time -o "$t" -f "%e %M %U %S" "$@" >/dev/null 2>&1
		tail -1 "$t"
	done | sort -n | awk -v r="$RUNS" 'NR == int((r + 1) / 2) { print }'
	rm -f "$t"
}
