#!/usr/bin/env bash
# tests/daemon/run.sh BUILD_DIR - spfkitd's golden transcripts and its
# socket server. Each cases/NAME.in (or one written by generated.py) is
# fed to `spfkitd --stdio` with cases/NAME.conf or test.conf (zone_file
# only: no network); stdout must equal cases/NAME.out byte for byte, and
# every "COUNT REGEX" line of cases/NAME.log must match that many lines
# of the log. Then sockets.py runs the daemon on loopback sockets with
# many concurrent clients, and socketmap.py its SRS socketmap (srs_listen)
# with the policy service's refusal of forged SRS recipients. Ends with
# "N passed, N failed".
set -u
build=${1:?usage: run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
bin=$build/src/spfkitd/spfkitd
[ -x "$bin" ] || { echo "run.sh: no $bin"; echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

mkdir -p "$tmp/gen"
/usr/bin/python3 tests/daemon/generated.py "$tmp/gen" || bad "generated.py"

for out in tests/daemon/cases/*.out; do
	name=$(basename "$out" .out)
	in=tests/daemon/cases/$name.in
	[ -f "$in" ] || in=$tmp/gen/$name.in
	if [ ! -f "$in" ]; then bad "$name: no input"; continue; fi
	conf=tests/daemon/cases/$name.conf
	[ -f "$conf" ] || conf=tests/daemon/test.conf
	"$bin" --stdio -c "$conf" <"$in" >"$tmp/out" 2>"$tmp/log"
	rc=$?
	if [ "$rc" -ne 0 ]; then bad "$name: exit $rc"; tail -n 5 "$tmp/log"; continue; fi
	if ! cmp -s "$tmp/out" "$out"; then
		bad "$name: output differs"; diff -a "$out" "$tmp/out" | head -n 20; continue
	fi
	if grep -qE 'runtime error|Sanitizer' "$tmp/log"; then bad "$name: sanitizer"; cat "$tmp/log"; continue; fi
	logok=true
	if [ -f "tests/daemon/cases/$name.log" ]; then
		while read -r want re; do
			[ -z "$want" ] && continue
			got=$(grep -cE -- "$re" "$tmp/log")
			if [ "$got" -ne "$want" ]; then
				bad "$name: log has $got lines matching /$re/, want $want"; cat "$tmp/log"; logok=false
			fi
		done <"tests/daemon/cases/$name.log"
	fi
	$logok && ok
done

# The same input through a pipe, one byte per write: partial reads.
if /usr/bin/python3 - "$bin" tests/daemon/test.conf tests/daemon/cases/pipelined-mixed.in tests/daemon/cases/pipelined-mixed.out <<'PY'
import subprocess, sys
bin, conf, inp, want = sys.argv[1:]
p = subprocess.Popen([bin, "--stdio", "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
data = open(inp, "rb").read()
for i in range(len(data)):
    p.stdin.write(data[i:i + 1])
p.stdin.close()
got = p.stdout.read()
p.wait()
sys.exit(0 if got == open(want, "rb").read() and p.returncode == 0 else 1)
PY
then ok; else bad "byte-by-byte pipe"; fi

# -t: good and bad configurations, errors as FILE:LINE.
if "$bin" -t -c tests/daemon/test.conf >"$tmp/t" 2>&1; then ok; else bad "-t good config"; cat "$tmp/t"; fi
check_bad() { # name, expected pattern, config text
	printf '%s\n' "$3" >"$tmp/bad.conf"
	"$bin" -t -c "$tmp/bad.conf" >"$tmp/t" 2>&1
	local rc=$?
	if [ "$rc" -eq 1 ] && grep -qE -- "$2" "$tmp/t" && [ "$(wc -l <"$tmp/t")" -eq 1 ]; then ok; else bad "-t $1: exit $rc"; cat "$tmp/t"; fi
}
check_bad "unknown key" 'bad\.conf:2: unknown key .frobnicate.' $'# comment\nfrobnicate = 1'
check_bad "temperror reject" 'bad\.conf:1: mailfrom_temperror: reject is not allowed' 'mailfrom_temperror = reject'
check_bad "bad action" 'bad\.conf:3: mailfrom_fail: .drop. is not accept' $'\n\nmailfrom_fail = drop'
check_bad "bad cidr" 'bad\.conf:1: skip_addresses: .10\.0\.0\.0/33.' 'skip_addresses = 127.0.0.0/8, 10.0.0.0/33'
check_bad "bad listen" 'bad\.conf:1: listen: .tcp:1. is not' 'listen = tcp:1'
check_bad "bad template" 'bad\.conf:1: reject_reason: unknown %\{name\}' 'reject_reason = no %{such}'
check_bad "no equals" 'bad\.conf:1: expected .key = value.' 'helo_check yes'
check_bad "bad duration" 'bad\.conf:1: deadline: .5x.' 'deadline = 5x'
check_bad "bad nameserver" 'bad\.conf:1: nameserver: .nowhere. is not an IP' 'nameserver = nowhere'
check_bad "missing zone" 'zone_file: .*no-such\.zone' "zone_file = $tmp/no-such.zone"
printf 'this is not a zone\n' >"$tmp/bad.zone"
check_bad "bad zone line" 'bad\.zone:1' "zone_file = $tmp/bad.zone"
check_bad "no such user" 'user .no-such-user-here.' $'zone_file = tests/daemon/zone.yml\nuser = no-such-user-here'
check_bad "bad reject code" 'reject_code: .450. is not a number from 500' 'reject_code = 450'
"$bin" -t -c "$tmp/nonexistent.conf" >"$tmp/t" 2>&1
if [ $? -eq 1 ] && grep -q 'nonexistent.conf: No such file' "$tmp/t"; then ok; else bad "-t missing file"; cat "$tmp/t"; fi
"$bin" --no-such-option >"$tmp/t" 2>&1
if [ $? -eq 64 ]; then ok; else bad "usage error exit"; fi
if "$bin" --help | grep -q -- '--stdio'; then ok; else bad "--help"; fi

# Sockets: many concurrent clients, metrics, --status, reload, temperror
# through a real resolver whose server does not answer.
if /usr/bin/python3 tests/daemon/sockets.py "$bin" "$tmp/sock" >"$tmp/socket.out" 2>&1; then
	p=$(grep -cE '^ok ' "$tmp/socket.out"); pass=$((pass + p))
else
	p=$(grep -cE '^ok ' "$tmp/socket.out"); pass=$((pass + p))
	bad "sockets.py"; grep -vE '^ok ' "$tmp/socket.out" | tail -n 30
fi

# SRS: the socketmap (forward, reverse), forged bounces refused by the
# policy service, secrets reloaded.
if /usr/bin/python3 tests/daemon/socketmap.py "$bin" "$tmp/srs" >"$tmp/socketmap.out" 2>&1; then
	p=$(grep -cE '^ok ' "$tmp/socketmap.out"); pass=$((pass + p))
else
	p=$(grep -cE '^ok ' "$tmp/socketmap.out"); pass=$((pass + p))
	bad "socketmap.py"; grep -vE '^ok ' "$tmp/socketmap.out" | tail -n 30
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
