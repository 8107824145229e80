#!/usr/bin/env bash
# Renders an SVG file in headless Chromium and writes a PNG screenshot.
#
#   tests/browser/check_svg.sh FILE.svg OUT.png [WIDTHxHEIGHT]
#
# Also writes the DOM Chromium built (OUT.png with .dom instead of .png) and
# fails when Chromium could not parse the file (its <parsererror> page).
#
# Never installs anything: without `chromium` (Debian's package; `.ci/run`
# installs it for CI) it skips. Exit status: 0 = screenshot written,
# 3 = skipped (no browser; the reason is printed), anything else = failure.
set -uo pipefail

svg=${1:?usage: check_svg.sh FILE.svg OUT.png [WxH]}
png=${2:?usage: check_svg.sh FILE.svg OUT.png [WxH]}
size=${3:-1600x1200}

skip() {
	echo "SKIP: $*" >&2
	exit 3
}

find_browser() {
	local b
	for b in chromium chromium-browser; do
		if command -v "$b" >/dev/null 2>&1; then
			command -v "$b"
			return 0
		fi
	done
	return 1
}

browser=$(find_browser) ||
	skip "no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"

profile_dir=$(mktemp -d)
trap 'rm -rf "$profile_dir"' EXIT
abs_svg=$(cd "$(dirname "$svg")" && pwd)/$(basename "$svg")
dom=${png%.png}.dom
rm -f "$png" "$dom"
chromium_run() {
	# No sandbox (root in a container), no GPU, and no network chatter.
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-dev-shm-usage --hide-scrollbars \
		--user-data-dir="$profile_dir" --window-size="${size/x/,}" "$@" "file://$abs_svg"
}
chromium_run --screenshot="$png" >"$profile_dir/log" 2>&1
status=$?
if [ ! -s "$png" ]; then
	echo "check_svg.sh: chromium exited with $status and wrote no screenshot:" >&2
	tail -n 20 "$profile_dir/log" >&2
	exit 1
fi
if ! chromium_run --dump-dom >"$dom" 2>>"$profile_dir/log" || [ ! -s "$dom" ]; then
	echo "check_svg.sh: chromium could not dump the DOM:" >&2
	tail -n 20 "$profile_dir/log" >&2
	exit 1
fi
if grep -q '<parsererror' "$dom"; then
	echo "check_svg.sh: chromium could not parse $svg:" >&2
	sed -e 's/<[^>]*>/ /g' "$dom" | head -c 600 >&2
	exit 1
fi
echo "check_svg.sh: $png and $dom written by $browser" >&2
