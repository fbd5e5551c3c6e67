#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/integration/run.sh BUILD-DIR [SANITIZER-BUILD-DIR]
#
# Integration tests of the libunbound driver against real servers on
# loopback, on ports chosen here, stopped by PID (trap) whatever happens:
#   a) every case of the openspf suite (SPFKIT_SUITE, default
#      tests/rfc7208/suite/rfc7208-tests.yml) through NSD serving the
#      document's zones (suite2zones.py), one case at a time and all at
#      once, except the cases that need a timeout;
#   b) those timeout cases: against faultdns.py serving the document with
#      TIMEOUT meaning "never answer" (the suite's results), and against a
#      server that never answers at all (temperror within the deadline);
#   c) fault injection through `spfkit check --nameserver`: SERVFAIL,
#      REFUSED, truncation, garbage, wrong ID/question/type/owner, bad
#      RDATA, delays, big and split TXT, CNAMEs; the RFC result and exit
#      status, within --timeout plus slack, nothing on stderr from a
#      sanitizer;
#   d) the cache: a --batch of 100 lines for one domain asks for its
#      record once;
#   f) an MX answer's additional addresses are used: no A message;
#   e) (c) again with SANITIZER-BUILD-DIR's spfkit, if given;
#   g) DNSSEC status (secure, insecure, bogus, unknown) from zones signed
#      on the spot: dnssec.sh BUILD-DIR, its counts joining ours.
#   h) --recursive from a private root (NSD on port 53 of a loopback
#      address, --root-hints): recursive.sh BUILD-DIR, likewise.
# BUILD-DIR holds src/spfkit/spfkit, tests/rfc7208_runner and
# tests/integration/rfc7208_dns_runner. Needs nsd, python3-dnslib,
# python3-yaml and, for (g), ldnsutils. One line per failing check; ends
# with "N passed, N failed"; exit 1 on failures.
set -u
build=$(realpath "${1:?usage: run.sh BUILD-DIR [SANITIZER-BUILD-DIR]}")
asan_build=${2:+$(realpath "$2")}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
suite=$(realpath "${SPFKIT_SUITE:-tests/rfc7208/suite/rfc7208-tests.yml}")
INT_PY=${SPFKIT_PYTHON:-/usr/bin/python3} # Debian's, with dnslib and yaml
INT_TMP=$(mktemp -d)
. "$here/lib.sh"
trap 'int_stop_all; rm -rf "$INT_TMP"' EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

spfkit=$build/src/spfkit/spfkit
runner=$build/tests/rfc7208_runner
dns_runner=$build/tests/integration/rfc7208_dns_runner
for f in "$spfkit" "$runner" "$dns_runner"; do
	[ -x "$f" ] || { echo "run.sh: $f is missing (build first)" >&2; exit 1; }
done
for t in nsd nsd-checkconf; do
	command -v "$t" >/dev/null || { echo "run.sh: $t is not installed" >&2; exit 1; }
done
"$INT_PY" -c 'import dnslib, yaml' || { echo "run.sh: $INT_PY lacks dnslib or yaml" >&2; exit 1; }

now_ms() { date +%s%3N; }

# counted NAME COMMAND...: a program ending in "N passed, N failed"; its
# counts join ours, its FAIL lines are shown.
counted() {
	local name=$1; shift
	local out=$INT_TMP/counted.out
	"$@" >"$out" 2>&1
	local rc=$? line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		bad "$name: exited $rc without a count"; tail -n 20 "$out"; return
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$out"; then
		echo "FAIL: $name ($line, exit $rc)"
		grep -E 'FAIL|ERROR|Sanitizer|runtime error' "$out" | head -n 40
		grep -qE 'Sanitizer|runtime error' "$out" && fail=$((fail + 1))
	fi
}

# ------------------------------------------------------------ zones
zones=$INT_TMP/zones
"$INT_PY" "$here/suite2zones.py" "$suite" "$zones" --runner "$runner" >/dev/null ||
	{ echo "run.sh: suite2zones.py failed" >&2; exit 1; }
for z in "$zones"/*/root.zone; do
	if nsd-checkzone . "$z" >/dev/null 2>"$INT_TMP/cz"; then ok; else bad "nsd-checkzone $z: $(cat "$INT_TMP/cz")"; fi
done

# ------------------------------------------------------------ a) suite via NSD
for d in "$zones"/*/; do
	d=${d%/}; n=$(basename "$d"); doc=$((10#$n))
	port=$(free_port)
	if ! nsd_start "$INT_TMP/nsd$n" "$d/root.zone" "$port"; then
		bad "document $doc: nsd did not start"; nsd_stop; continue
	fi
	counted "suite document $doc via NSD" "$dns_runner" --nameserver "127.0.0.1@$port" \
		--doc "$doc" --only "$d/cases" --query-timeout 3000 --max-ms 6000 "$suite"
	counted "suite document $doc via NSD, all at once" "$dns_runner" --nameserver "127.0.0.1@$port" \
		--doc "$doc" --only "$d/cases" --query-timeout 3000 --max-ms 6000 --parallel "$suite"
	nsd_stop
done

# ------------------------------------------------------------ b) timeout cases
for d in "$zones"/*/; do
	d=${d%/}; n=$(basename "$d"); doc=$((10#$n))
	[ -s "$d/timeout-cases" ] || continue
	port=$(free_port)
	if fault_start "$INT_TMP/zone$n" "$port" --mode zone --suite "$suite" --doc "$doc"; then
		counted "timeout cases of document $doc (TIMEOUT = no answer)" "$dns_runner" \
			--nameserver "127.0.0.1@$port" --doc "$doc" --only "$d/timeout-cases" \
			--query-timeout 1000 --deadline 3000 --max-ms 5000 "$suite"
	else
		bad "document $doc: faultdns (zone mode) did not start"
	fi
	fault_stop
done
port=$(free_port)
if fault_start "$INT_TMP/silent" "$port" --mode silent; then
	cat "$zones"/*/timeout-cases >"$INT_TMP/all-timeout-cases"
	counted "timeout cases, server never answers" "$dns_runner" \
		--nameserver "127.0.0.1@$port" --only "$INT_TMP/all-timeout-cases" \
		--expect temperror --query-timeout 1000 --deadline 2000 --max-ms 4000 "$suite"
	counted "timeout cases, server never answers, all at once" "$dns_runner" \
		--nameserver "127.0.0.1@$port" --only "$INT_TMP/all-timeout-cases" \
		--expect temperror --query-timeout 1000 --deadline 2000 --max-ms 4000 --parallel "$suite"
	# The CLI's --timeout is the check's deadline.
	t0=$(now_ms)
	"$spfkit" check --nameserver "127.0.0.1@$port" --timeout 2 --ip 192.0.2.1 \
		--sender a@example.com >"$INT_TMP/out" 2>"$INT_TMP/err"
	rc=$? t=$(( $(now_ms) - t0 ))
	if [ "$rc" -eq 6 ] && [ "$t" -lt 4000 ]; then ok; else
		bad "silent server, --timeout 2: exit $rc (want 6) after $t ms (want < 4000)"; cat "$INT_TMP/out" "$INT_TMP/err"; fi
else
	bad "faultdns (silent) did not start"
fi
fault_stop

# ------------------------------------------------------------ c) faults
# name IP WANT(|ALT...) [PROBLEM]: the sender is postmaster@NAME.fault.example;
# PROBLEM, when given, is an ERE the JSON "problem" must match: DNS
# failures are named (libunbound answers SERVFAIL of its own when the
# server it forwards to refuses or answers nonsense).
faults=(
	"servfail 192.0.2.1 temperror ^DNS failure \(SERVFAIL\) for TXT servfail\.fault\.example$"
	"refused 192.0.2.1 temperror ^DNS failure \(SERVFAIL\) for TXT refused\.fault\.example$"
	"nxdomain 192.0.2.1 none"
	"nodata 192.0.2.1 none"
	"silent 192.0.2.1 temperror"
	"trunc 192.0.2.1 pass"
	"trunc-tcp 192.0.2.1 temperror"
	"tcp-close 192.0.2.1 temperror"
	"garbage 192.0.2.1 temperror"
	"short 192.0.2.1 temperror"
	"wrongid 192.0.2.1 temperror"
	"wrongq 192.0.2.1 temperror"
	"wrongtype 192.0.2.1 none"
	"wrongname 192.0.2.1 none"
	"badtxt 192.0.2.1 temperror|none"
	"delay-short 192.0.2.1 pass"
	"delay-long 192.0.2.1 temperror"
	"big 192.0.2.1 pass"
	"big 192.0.2.2 fail"
	"many 192.0.2.1 pass"
	"cname 192.0.2.1 pass"
	"cnameloop 192.0.2.1 temperror"
	"include-servfail 192.0.2.1 temperror ^DNS failure \(SERVFAIL\) for TXT "
	"mx-servfail 192.0.2.1 temperror ^DNS failure \(SERVFAIL\) for "
	"a-delay 192.0.2.1 pass"
	"exists-silent 192.0.2.1 temperror"
	"exp-servfail 192.0.2.1 fail"
	"a-wrongtype 192.0.2.1 fail"
	"a-badrdata 192.0.2.1 fail|temperror"
	"a-garbage 192.0.2.1 temperror"
)
exit_of() {
	case $1 in pass) echo 0;; fail) echo 1;; softfail) echo 2;; neutral) echo 3;;
	none) echo 4;; permerror) echo 5;; temperror) echo 6;; *) echo 99;; esac
}

# fault_cases LABEL SPFKIT PORT: every row of faults, --timeout 3.
fault_cases() {
	local label=$1 bin=$2 port=$3 row name ip want pat t0 t rc got alt okay
	for row in "${faults[@]}"; do
		read -r name ip want pat <<<"$row"
		t0=$(now_ms)
		timeout 30 "$bin" check --nameserver "127.0.0.1@$port" --timeout 3 --format json \
			--ip "$ip" --sender "postmaster@$name.fault.example" \
			>"$INT_TMP/out" 2>"$INT_TMP/err"
		rc=$? t=$(( $(now_ms) - t0 ))
		got=$("$INT_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' \
			"$INT_TMP/out" 2>/dev/null)
		okay=
		for alt in ${want//|/ }; do
			[ "$got" = "$alt" ] && [ "$rc" -eq "$(exit_of "$alt")" ] && okay=1
		done
		problem=$("$INT_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["problem"])' \
			"$INT_TMP/out" 2>/dev/null)
		if [ -z "$okay" ]; then
			bad "$label $name ($ip): got ${got:-nothing} exit $rc, want $want ($t ms)"
			head -c 600 "$INT_TMP/out" "$INT_TMP/err"; echo
		elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$problem"; then
			bad "$label $name ($ip): problem '$problem' does not match /$pat/"
		elif [ "$t" -ge 5000 ]; then
			bad "$label $name ($ip): $got after $t ms, want < 5000 (--timeout 3 + 2 s)"
		elif grep -qE 'Sanitizer|runtime error' "$INT_TMP/err"; then
			bad "$label $name ($ip): sanitizer report"; head -n 30 "$INT_TMP/err"
		else
			ok
		fi
	done
}

port=$(free_port)
if fault_start "$INT_TMP/faults" "$port"; then
	fault_cases faults "$spfkit" "$port"
	# A server that never answers: the query's own timeout (5 s, within a
	# deadline of 10) is named as such, in check and in trace.
	timeout 30 "$spfkit" check --nameserver "127.0.0.1@$port" --timeout 10 --format json \
		--ip 192.0.2.1 --sender postmaster@silent.fault.example >"$INT_TMP/out" 2>&1
	if grep -q '"problem":"DNS failure (timeout) for TXT silent.fault.example"' "$INT_TMP/out"; then ok; else
		bad "silent server: the query timeout is not named"; cat "$INT_TMP/out"; fi
	timeout 30 "$spfkit" trace --nameserver "127.0.0.1@$port" \
		--ip 192.0.2.1 --sender postmaster@servfail.fault.example >"$INT_TMP/out" 2>&1
	if grep -qE 'TXT servfail\.fault\.example .*TEMPFAIL.*SERVFAIL' "$INT_TMP/out"; then ok; else
		bad "trace: SERVFAIL is not named"; cat "$INT_TMP/out"; fi

	# ---------------------------------------------------- d) cache
	for conc in 1 16; do
		"$INT_PY" "$here/dnsq.py" "$port" reset.control. TXT >/dev/null
		for i in $(seq 1 100); do
			printf '192.0.2.%d\tuser%d@cache.fault.example\n' "$i" "$i"
		done >"$INT_TMP/batch"
		timeout 60 "$spfkit" check --batch --concurrency "$conc" --nameserver "127.0.0.1@$port" \
			--timeout 3 <"$INT_TMP/batch" >"$INT_TMP/out" 2>"$INT_TMP/err"
		rc=$?
		lines=$(awk '$3 == "pass"' "$INT_TMP/out" | wc -l)
		asked=$("$INT_PY" "$here/dnsq.py" "$port" cache.fault.example.count.control. TXT |
			sed -n 's/.* TXT "\(.*\)"/\1/p')
		if [ "$rc" -eq 0 ] && [ "$lines" -eq 100 ]; then ok; else
			bad "batch of 100, concurrency $conc: exit $rc, $lines pass lines (want 0, 100)"; head -n 5 "$INT_TMP/out" "$INT_TMP/err"; fi
		if [ "$asked" = 1 ]; then ok; else
			bad "batch of 100 for one domain, concurrency $conc: the server was asked $asked times for it, want 1"; fi
	done
	# --no-cache: every line starts with empty caches, so the server is
	# asked once per line; --timing gives each line its time.
	"$INT_PY" "$here/dnsq.py" "$port" reset.control. TXT >/dev/null
	head -n 5 "$INT_TMP/batch" >"$INT_TMP/batch5"
	timeout 60 "$spfkit" check --batch --no-cache --timing --format json \
		--nameserver "127.0.0.1@$port" --timeout 3 <"$INT_TMP/batch5" >"$INT_TMP/out" 2>"$INT_TMP/err"
	rc=$?
	lines=$(grep -cE '"result":"pass".*"elapsed_ms":[0-9]+\.[0-9]{3}}$' "$INT_TMP/out")
	asked=$("$INT_PY" "$here/dnsq.py" "$port" cache.fault.example.count.control. TXT |
		sed -n 's/.* TXT "\(.*\)"/\1/p')
	if [ "$rc" -eq 0 ] && [ "$lines" -eq 5 ] && [ "$asked" = 5 ]; then ok; else
		bad "--no-cache batch of 5: exit $rc, $lines timed pass lines, asked $asked times (want 0, 5, 5)"; head -n 5 "$INT_TMP/out" "$INT_TMP/err"; fi
else
	bad "faultdns did not start"
fi

# ------------------------------------------------------------ f) MX glue
# NSD puts the exchanges' addresses in an MX answer's additional section;
# the driver keeps them, so `mx` costs the MX message alone (as pyspf
# does). Counted by bench/dnsdelay.py in front of NSD, with no delay.
mkdir -p "$INT_TMP/glue"
cat >"$INT_TMP/glue/root.zone" <<'ZONE'
$TTL 300
.                 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
.                 IN NS  ns.test.
ns.test.          IN A   127.0.0.1
ttl.example.   77 IN TXT "v=spf1 include:gone.example -all"
glue.example.     IN TXT "v=spf1 mx -all"
glue.example.     IN MX  10 mx1.glue.example.
glue.example.     IN MX  20 mx2.glue.example.
mx1.glue.example. IN A   192.0.2.11
mx2.glue.example. IN A   192.0.2.12
ZONE
gport=$(free_port)
fport=$(free_port)
while [ "$fport" = "$gport" ]; do fport=$(free_port); done
if nsd_start "$INT_TMP/glue/nsd" "$INT_TMP/glue/root.zone" "$gport"; then
	"$INT_PY" "$here/../../bench/dnsdelay.py" --listen "$fport" --upstream "$gport" \
		--delay-ms 0 >"$INT_TMP/glue/delay.out" 2>&1 &
	delay_pid=$!
	INT_PIDS+=("$delay_pid")
	"$INT_PY" "$here/dnsq.py" --wait 10 "$fport" _count.dnsdelay. TXT >/dev/null
	for ip in 192.0.2.12 192.0.2.99; do
		"$spfkit" check --nameserver "127.0.0.1@$fport" --ip "$ip" \
			--sender a@glue.example --format json >"$INT_TMP/glue/out" 2>&1
	done
	want=fail
	got=$(sed -n 's/^{"result":"\([a-z]*\)".*/\1/p' "$INT_TMP/glue/out")
	counts=$("$INT_PY" "$here/dnsq.py" "$fport" _count.dnsdelay. TXT | sed -n 's/.* TXT "\(.*\)"/\1/p')
	msgs=$(echo "$counts" | awk -F'[ =]' '{print $2 + $4}')
	if [ "$got" = "$want" ]; then ok; else bad "mx glue: got $got for 192.0.2.99, want $want"; fi
	# Two processes, each: TXT and MX (the exp= lookup is not there).
	if [ "$msgs" = 4 ]; then ok; else
		bad "mx glue: $msgs DNS messages for two checks ($counts), want 4: TXT and MX each, the addresses from the MX answer"; fi
	"$spfkit" check --nameserver "127.0.0.1@$fport" --ip 192.0.2.12 \
		--sender a@glue.example >/dev/null 2>&1
	if [ $? -eq 0 ]; then ok; else bad "mx glue: 192.0.2.12 (mx2) does not pass"; fi
	# --no-cache keeps nothing across checks, yet a check takes the
	# exchanges' addresses its own MX answer brought: two lines, TXT and
	# MX each (four messages, not eight with the A queries for mx1, mx2).
	before=$("$INT_PY" "$here/dnsq.py" "$fport" _count.dnsdelay. TXT | sed -n 's/.* TXT "\(.*\)"/\1/p' |
		awk -F'[ =]' '{print $2 + $4}')
	printf '192.0.2.12\ta@glue.example\n192.0.2.99\ta@glue.example\n' |
		"$spfkit" check --batch --no-cache --nameserver "127.0.0.1@$fport" >"$INT_TMP/glue/nc" 2>&1
	after=$("$INT_PY" "$here/dnsq.py" "$fport" _count.dnsdelay. TXT | sed -n 's/.* TXT "\(.*\)"/\1/p' |
		awk -F'[ =]' '{print $2 + $4}')
	if grep -q '^192.0.2.12 a@glue.example pass ' "$INT_TMP/glue/nc" &&
		grep -q '^192.0.2.99 a@glue.example fail ' "$INT_TMP/glue/nc" &&
		[ $((after - before)) = 4 ]; then ok; else
		bad "mx glue, --no-cache: $((after - before)) DNS messages for two checks, want 4 (TXT and MX each), and pass, fail"; cat "$INT_TMP/glue/nc"; fi
	# The TTL as libunbound's answer carries it, the record's own (the
	# negative TTL of RFC 2308 §5 is tests/unit/test_ubresult.c's).
	"$spfkit" trace --nameserver "127.0.0.1@$fport" --ip 192.0.2.1 \
		--sender a@ttl.example >"$INT_TMP/glue/ttl" 2>&1
	if grep -q 'record "v=spf1 include:gone.example -all" (ttl 77)' "$INT_TMP/glue/ttl"; then ok; else
		bad "TTL through libunbound: want ttl 77 on the record"; cat "$INT_TMP/glue/ttl"; fi
	stop_pid "$delay_pid"; forget_pid "$delay_pid"
	nsd_stop
else
	bad "NSD for the MX glue test did not start"
fi

# ------------------------------------------------------------ e) sanitizers
if [ -n "$asan_build" ]; then
	if [ -x "$asan_build/src/spfkit/spfkit" ] && [ -n "${FAULT_PID:-}" ]; then
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
			fault_cases "faults (sanitizers)" "$asan_build/src/spfkit/spfkit" "$port"
	else
		bad "sanitizer build: $asan_build/src/spfkit/spfkit missing or no fault server"
	fi
fi
fault_stop

# ------------------------------------------------------------ g) DNSSEC
counted "DNSSEC (dnssec.sh)" "$here/dnssec.sh" "$build"

# ------------------------------------------------------------ h) recursive
counted "recursion from a root (recursive.sh)" "$here/recursive.sh" "$build"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
