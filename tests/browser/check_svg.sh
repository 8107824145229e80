#!/usr/bin/env bash
# Renders an SVG file in headless Chromium and writes a PNG screenshot.
#
#   tests/browser/check_svg.sh FILE.svg OUT.png [WIDTHxHEIGHT]
#
# Also writes the DOM Chromium built (OUT.png with .dom instead of .png) and
# fails when Chromium could not parse the file (its <parsererror> page).
#
# Installs Debian's `chromium` with apt-get when it is missing, but only as
# root with a working apt. Exit status: 0 = screenshot written, 3 = skipped
# (no browser could be had; the reason is printed), anything else = failure.
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

browser=$(find_browser)
if [ -z "$browser" ]; then
	if [ "$(id -u)" != 0 ]; then
		skip "chromium is not installed and we are not root to apt-get install it"
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		skip "chromium is not installed and there is no apt-get"
	fi
	echo "check_svg.sh: installing chromium with apt-get (this can take a few minutes)" >&2
	export DEBIAN_FRONTEND=noninteractive
	# A stale or missing package list makes the install fail: refresh first.
	if ! timeout 600 apt-get update -qq >&2; then
		skip "apt-get update failed: cannot install chromium"
	fi
	if ! timeout 1200 apt-get install -y -qq --no-install-recommends chromium >&2; then
		skip "apt-get install chromium failed"
	fi
	browser=$(find_browser) || skip "chromium still missing after apt-get install"
fi

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
