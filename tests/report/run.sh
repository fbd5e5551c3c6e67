#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/report/run.sh SPFKIT [ARTIFACTS] - `spfkit report` and `spfkit tree
# --format svg|dot` as a user runs them, hermetic (report.zone only): the
# SVG is well-formed XML with the nodes, running counts and marks (past
# the ten-lookup limit, findings); the page is self-contained, holds the
# findings with fixes and the addresses; a hostile record (markup, a
# quote, octets outside ASCII) shows as text; and a real browser
# (Debian's chromium, headless, no network: its own network namespace
# when it can have one) renders the page: its DOM holds the tree's nodes
# and the findings. The screenshots are kept in ARTIFACTS (default: a
# directory beside SPFKIT's build tree), whose path is printed.
# Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit [ARTIFACTS]}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
art=${2:-$(dirname "$bin")/../../tests/report-artifacts}
cd "$(dirname "$0")/../.."
Z=tests/report/report.zone
py=/usr/bin/python3
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# checked KIND FILE: check.py's verdict on FILE, its counts added to ours.
checked() {
	local out p f
	out=$($py tests/report/check.py "$1" "$2")
	grep '^FAIL' <<<"$out" | sed "s/^/$1: /"
	p=$(tail -n 1 <<<"$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(tail -n 1 <<<"$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then bad "check.py $1 did not finish"; return; fi
	pass=$((pass + p)); fail=$((fail + f))
}

# run NAME WANT-EXIT OUT ARGS...: spfkit ARGS into OUT, exit WANT-EXIT.
run() {
	local name=$1 want=$2 out=$3; shift 3
	"$bin" "$@" >"$out" 2>"$tmp/err"
	local r=$?
	if [ "$r" -eq "$want" ]; then ok; else bad "$name: exit $r, want $want"; head -n 5 "$tmp/err"; fi
}

# expect NAME WANT-EXIT PATTERN ARGS...: exit and a line of stdout+stderr.
expect() {
	local name=$1 want=$2 pat=$3; shift 3
	run "$name" "$want" "$tmp/o" "$@"
	if cat "$tmp/o" "$tmp/err" | grep -qE -- "$pat"; then ok; else bad "$name: no /$pat/"; head -n 5 "$tmp/o" "$tmp/err"; fi
}

# ------------------------------------------------------------ content
run "tree svg" 0 "$tmp/big.svg" tree big.report.example --zone "$Z" --format svg
checked svg-big "$tmp/big.svg"
run "tree svg, hostile" 0 "$tmp/evil.svg" tree evil.report.example --zone "$Z" --format svg
checked svg-evil "$tmp/evil.svg"
run "tree svg, no record" 0 "$tmp/norec.svg" tree norec.report.example --zone "$Z" --format svg
checked svg-norec "$tmp/norec.svg"
run "tree dot" 0 "$tmp/big.dot" tree big.report.example --zone "$Z" --format dot
checked dot-big "$tmp/big.dot"
run "report" 0 "$tmp/big.html" report big.report.example --zone "$Z" --format html
checked html-big "$tmp/big.html"
run "report, hostile" 0 "$tmp/evil.html" report evil.report.example --zone "$Z"
checked html-evil "$tmp/evil.html"
# Lint's replacement, and the record with it put in.
expect "report: the corrected record" 0 '<pre class="corrected">v=spf1 <ins>ip4:192\.0\.2\.0/24</ins> -all</pre>' \
	report hostbits.report.example --zone "$Z"
# A draft record: its hostile text escaped the same way.
run "report, draft" 0 "$tmp/draft.html" report draft.report.example --zone "$Z" \
	--record "$(printf 'v=spf1 a:<i>\001"\303\251.report.example -all')"
if grep -q '&lt;i&gt;\\x01&quot;\\xC3\\xA9' "$tmp/draft.html" && ! grep -q '<i>' "$tmp/draft.html"; then ok; else bad "report, draft: record not escaped"; fi

# ------------------------------------------------------------ usage
expect "report --format text" 64 "is not html" report big.report.example --zone "$Z" --format text
expect "report without a domain" 64 "give a DOMAIN" report --zone "$Z"
expect "report --help" 0 "Usage: spfkit report" report --help
expect "help report" 0 "Usage: spfkit report" help report
expect "report --version" 0 "0\.2\.0" report --version
expect "spfkit --help lists report" 0 "^  report " --help
expect "tree --format svg in the error" 64 "text, json, dot or svg" tree a.example --format png
expect "report: missing zone" 66 "cannot|No such" report a.example --zone "$tmp/none.zone"

# ------------------------------------------------------------ browser
# Chromium as root needs --no-sandbox. No network: the page references
# nothing, every name maps to NOTFOUND, and when unshare can give it a
# network namespace of its own, it has no interface but loopback.
chrome=$(command -v chromium || true)
if [ -z "$chrome" ]; then
	bad "chromium is not installed (scripts/deps.sh)"
else
	mkdir -p "$art"
	art=$(cd "$art" && pwd)
	iso=""
	unshare -n true 2>/dev/null && iso="unshare -n"
	# browse FILE ARGS...: chromium headless on file://FILE.
	browse() {
		local page=$1; shift
		$iso "$chrome" --headless=new --no-sandbox --disable-gpu \
			--user-data-dir="$tmp/profile" --no-first-run \
			--disable-background-networking --disable-component-update \
			--disable-sync --host-resolver-rules="MAP * ~NOTFOUND" \
			"$@" "file://$page" 2>>"$tmp/chromium.log"
	}
	browse "$tmp/big.html" --dump-dom >"$tmp/big.dom"
	if [ -s "$tmp/big.dom" ]; then checked dom-big "$tmp/big.dom"; else bad "chromium dumped no DOM"; tail -n 5 "$tmp/chromium.log"; fi
	browse "$tmp/evil.html" --dump-dom >"$tmp/evil.dom"
	if [ -s "$tmp/evil.dom" ]; then checked dom-evil "$tmp/evil.dom"; else bad "chromium dumped no DOM (hostile)"; fi
	for shot in "big 1200,1400" "evil 1200,900" "big-phone 390,1600"; do
		set -- $shot
		rm -f "$art/report-$1.png"
		browse "$tmp/${1%-phone}.html" --window-size="$2" --screenshot="$art/report-$1.png" >/dev/null
		# A PNG, and not a blank page: far more than a blank one takes.
		if [ "$(head -c 8 "$art/report-$1.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] &&
			[ "$(stat -c %s "$art/report-$1.png")" -gt 20000 ]; then ok; else bad "screenshot report-$1.png"; fi
	done
	echo "screenshots: $art/report-big.png, report-evil.png, report-big-phone.png"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
