#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/differential/run.sh BUILD-DIR [--long] - spfkit against pyspf
# (python3-spf), line by line, over two generated worlds served by NSD:
#   a) the bench world (bench/zones/gen.py: provider trees, long lists,
#      a/mx/ptr/exists, broken records) and its query stream;
#   b) the differential fuzzer (gen_fuzz.py: random records, zones and
#      senders that reach the corners of RFC 7208), over several seeds.
# Every disagreement must be one doc/conformance.md explains (compare.py
# classifies them, each class naming its section there); an unexplained
# one fails the test and is printed with both results and the record.
#
# pyspf asks DNS by itself, from /etc/resolv.conf. So the whole test runs
# in a private mount and network namespace (unshare -m -n: its own
# loopback, nothing else reachable), with a bind-mounted resolv.conf that
# names 127.0.0.1, where a counting front (bench/dnsdelay.py, no delay)
# forwards to NSD; the test fails when pyspf says it uses other servers
# or when its queries do not reach the front. spfkit asks NSD through
# --nameserver. Short by default (a few hundred checks each); --long (or
# DIFF_LINES, DIFF_CASES, DIFF_SEEDS) for more. Ends with "N passed, N
# failed": a check agreeing or explained passes.
set -u
build=$(realpath "${1:?usage: run.sh BUILD-DIR [--long]}")
long=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3

if [ -z "${DIFF_IN_NS:-}" ]; then
	command -v unshare >/dev/null || { echo "run.sh: unshare (util-linux) is missing"; echo "0 passed, 1 failed"; exit 1; }
	exec unshare -m -n env DIFF_IN_NS=1 "$0" "$@"
fi

pass=0 fail=0
ok() { pass=$((pass + $1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

spfkit=$build/src/spfkit/spfkit
[ -x "$spfkit" ] || { echo "run.sh: $spfkit is missing (build first)"; echo "0 passed, 1 failed"; exit 1; }
"$PY" -c 'import spf, dnslib' 2>/dev/null || { echo "run.sh: python3-spf or python3-dnslib missing (scripts/deps.sh)"; echo "0 passed, 1 failed"; exit 1; }

INT_TMP=$(mktemp -d)
INT_PY=$PY
. "$top/tests/integration/lib.sh"
trap 'int_stop_all; [ -n "${DIFF_KEEP:-}" ] && cp -r "$INT_TMP" "$DIFF_KEEP"; rm -rf "$INT_TMP"' EXIT
trap 'exit 130' INT TERM

# This namespace's own loopback and resolv.conf (private mounts: the
# machine's file is untouched).
ip link set lo up || { bad "cannot bring up loopback in the private network namespace"; echo "$pass passed, $fail failed"; exit 1; }
printf 'nameserver 127.0.0.1\noptions attempts:2 timeout:5\n' >"$INT_TMP/resolv.conf"
mount --bind "$INT_TMP/resolv.conf" /etc/resolv.conf ||
	{ bad "cannot bind-mount resolv.conf"; echo "$pass passed, $fail failed"; exit 1; }

NSD_PORT=5300
FRONT_PORT=53
"$PY" "$top/bench/dnsdelay.py" --listen "$FRONT_PORT" --upstream "$NSD_PORT" --delay-ms 0 \
	>"$INT_TMP/front.log" 2>&1 &
FRONT_PID=$!
INT_PIDS+=("$FRONT_PID")

# front_count: the DNS messages the front received since its last reset.
front_count() {
	"$PY" "$top/tests/integration/dnsq.py" "$FRONT_PORT" _reset.dnsdelay. TXT |
		sed -n 's/.* TXT "udp=\([0-9]*\) tcp=\([0-9]*\)"/\1 \2/p' | awk '{print $1 + $2}'
}

if [ "$long" = --long ]; then
	lines=${DIFF_LINES:-10000}; cases=${DIFF_CASES:-3000}; seeds=${DIFF_SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
else
	lines=${DIFF_LINES:-300}; cases=${DIFF_CASES:-300}; seeds=${DIFF_SEEDS:-"13"}
fi
# DIFF_SEEDS=random: ten seeds of the moment, printed to rerun a failure.
if [ "$seeds" = random ]; then
	seeds=$(for _ in $(seq 10); do echo $((RANDOM * 32768 + RANDOM)); done | tr '\n' ' ')
	echo "seeds: $seeds"
fi

# world NAME DIR: serves DIR/root.zone, checks DIR/stream.tsv with both,
# compares.
world() {
	local name=$1 dir=$2
	if ! nsd_start "$dir/nsd" "$dir/root.zone" "$NSD_PORT"; then
		bad "$name: NSD did not start"; return
	fi
	"$PY" "$top/tests/integration/dnsq.py" --wait 10 "$FRONT_PORT" _count.dnsdelay. TXT >/dev/null ||
		{ bad "$name: the counting front does not answer"; nsd_stop; return; }
	front_count >/dev/null
	"$PY" "$here/pyspf_run.py" <"$dir/stream.tsv" >"$dir/pyspf.out" 2>"$dir/pyspf.err"
	local asked
	asked=$(front_count)
	local dns
	dns=$(head -n 1 "$dir/pyspf.err")
	if [ "$dns" != "dns=pydns servers=127.0.0.1 port=53" ] &&
		[ "$dns" != "dns=dnspython servers=127.0.0.1 port=53" ]; then
		bad "$name: pyspf does not use the test's server ($dns)"
	fi
	# Every check asks at least its domain's TXT record, bar the few
	# whose domain is unusable: far fewer messages than half the checks
	# means pyspf asked someone else.
	local checks
	checks=$(wc -l <"$dir/stream.tsv")
	if [ "${asked:-0}" -lt $((checks / 2)) ]; then
		bad "$name: pyspf's queries did not reach the test's server (${asked:-0} messages for $checks checks)"
	fi
	timeout 600 "$spfkit" check --batch --format json --concurrency 32 \
		--nameserver "127.0.0.1@$NSD_PORT" <"$dir/stream.tsv" >"$dir/spfkit.out" 2>"$dir/spfkit.err" ||
		bad "$name: spfkit check --batch exited $?"
	# compare.py checks the lines they disagree on again (the server
	# still runs): pyspf with the documented readings, both after a
	# timeout.
	"$PY" "$here/compare.py" --name "$name" --doc "$top/doc/conformance.md" \
		--spfkit "$spfkit" --nameserver "127.0.0.1@$NSD_PORT" --runner "$here/pyspf_run.py" \
		"$dir/stream.tsv" "$dir/spfkit.out" "$dir/pyspf.out" "$dir/root.zone" >"$dir/compare.out"
	local rc=$?
	nsd_stop
	cat "$dir/compare.out"
	local p f
	p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$dir/compare.out")
	f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$dir/compare.out")
	if [ -z "$p" ]; then bad "$name: compare.py exited $rc without a count"; return; fi
	ok "$p"
	fail=$((fail + f))
	echo "$name: pyspf sent $asked DNS messages to the test's server"
}

mkdir -p "$INT_TMP/bench"
"$PY" "$top/bench/zones/gen.py" "$INT_TMP/bench" --lines "$lines" --domains "$((lines < 400 ? 100 : 400))" >/dev/null ||
	bad "bench/zones/gen.py failed"
[ -s "$INT_TMP/bench/stream.tsv" ] && world "bench world ($lines checks)" "$INT_TMP/bench"

for seed in $seeds; do
	d="$INT_TMP/fuzz$seed"
	if "$PY" "$here/gen_fuzz.py" "$d" --cases "$cases" --seed "$seed"; then
		world "fuzz seed $seed ($cases checks)" "$d"
	else
		bad "gen_fuzz.py --seed $seed failed"
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
