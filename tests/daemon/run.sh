#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/daemon/run.sh BUILD_DIR - spfkitd's golden transcripts and its
# socket server. Each cases/NAME.in (or one written by generated.py) is
# fed to `spfkitd --stdio` with cases/NAME.conf or test.conf (zone_file
# only: no network); stdout must equal cases/NAME.out byte for byte, and
# every "COUNT REGEX" line of cases/NAME.log must match that many lines
# of the log. Then sockets.py runs the daemon on loopback sockets with
# many concurrent clients, and socketmap.py its SRS socketmap (srs_listen)
# with the policy service's refusal of forged SRS recipients, and
# abuse.py a hostile client and machine (idle holders, descriptors running
# out, symbolic links, reloads). Ends with "N passed, N failed".
set -u
build=${1:?usage: run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
bin=$build/src/spfkitd/spfkitd
[ -x "$bin" ] || { echo "run.sh: no $bin"; echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0
tmp=$(mktemp -d)
# Readable by the user= of the configurations written here (nobody): the
# daemon checks at start that a reload could read them.
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# The zone as well: user= must be able to read it again on a reload, and
# the checkout may be closed to nobody (a clone in a mktemp -d directory).
cp tests/daemon/zone.yml "$tmp/zone.yml"
chmod 644 "$tmp/zone.yml"
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
check_bad "missing zone" 'bad\.conf:1: zone_file: .*no-such\.zone' "zone_file = $tmp/no-such.zone"
printf 'this is not a zone\n' >"$tmp/bad.zone"
check_bad "bad zone line" 'bad\.conf:1: zone_file: .*bad\.zone:1' "zone_file = $tmp/bad.zone"
check_bad "no such user" 'bad\.conf:2: user: .no-such-user-here.: no such user' "zone_file = $tmp/zone.yml"$'\nuser = no-such-user-here'
check_bad "bad reject code" 'reject_code: .450. is not a number from 500' 'reject_code = 450'
# Every refusal names the file, the line and the key, those found only
# once the whole file is read too (at the line that completed them).
check_bad "recursive and nameserver" 'bad\.conf:3: nameserver: recursive = yes and nameserver exclude' $'recursive = yes\n\nnameserver = 127.0.0.1'
check_bad "both checks off" 'bad\.conf:2: mailfrom_check: helo_check and mailfrom_check are both off' $'helo_check = no\nmailfrom_check = no'
check_bad "srs key without srs_domain" 'bad\.conf:2: srs_listen: needs srs_domain' "zone_file = $tmp/zone.yml"$'\nsrs_listen = inet:127.0.0.1:1'
check_bad "srs_domain without secrets" 'bad\.conf:2: srs_domain: needs srs_secrets' "zone_file = $tmp/zone.yml"$'\nsrs_domain = fwd.example'
check_bad "missing secrets" 'bad\.conf:3: srs_secrets: .*nope: No such file' "zone_file = $tmp/zone.yml"$'\nsrs_domain = fwd.example\nsrs_secrets = '"$tmp"'/nope'
check_bad "missing trust anchor" 'bad\.conf:2: trust_anchor: .*nope\.key: No such file' $'nameserver = 127.0.0.1@53\ntrust_anchor = '"$tmp"'/nope.key'
check_bad "chroot not a directory" 'bad\.conf:2: chroot: /nonexistent-spfkit: not a directory' "zone_file = $tmp/zone.yml"$'\nchroot = /nonexistent-spfkit'
check_bad "bad test_only" 'bad\.conf:1: test_only: .sometimes. is not yes, no or a result' 'test_only = fail, sometimes'
check_bad "defer_if_permit not an error action" 'bad\.conf:1: internal_error_action: .defer_if_permit. is not accept' 'internal_error_action = defer_if_permit'
check_bad "temperror reject still refused" 'bad\.conf:1: helo_temperror: reject is not allowed' 'helo_temperror = reject'
# ... and at start, what only binding finds.
busy=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 -c 'import socket,sys,time;s=socket.socket();s.bind(("127.0.0.1",int(sys.argv[1])));s.listen();time.sleep(30)' "$busy" &
holder=$!
sleep 0.3
printf 'zone_file = %s\nlog = stderr\n\nlisten = inet:127.0.0.1:%s\n' "$tmp/zone.yml" "$busy" >"$tmp/busy.conf"
"$bin" -f -c "$tmp/busy.conf" >"$tmp/t" 2>&1
if [ $? -ne 0 ] && grep -qE "busy\.conf:4: listen: inet:127\.0\.0\.1:$busy: Address already in use" "$tmp/t"; then ok; else bad "start: listen error names file, line and key"; cat "$tmp/t"; fi
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# -t warns (exit 0) of what works but exposes the service: a listener
# anyone can reach (the protocols have no authentication), and root.
check_warn() { # name, expected pattern (a warning line), config text
	printf '%s\n' "$3" >"$tmp/warn.conf"
	"$bin" -t -c "$tmp/warn.conf" >"$tmp/t" 2>&1
	local rc=$?
	if [ "$rc" -eq 0 ] && grep -qE -- "^spfkitd: warning: .*$2" "$tmp/t" && grep -q 'configuration ok' "$tmp/t"; then ok; else bad "-t warns: $1: exit $rc"; cat "$tmp/t"; fi
}
zone="zone_file = $tmp/zone.yml"$'\nuser = nobody'
head -c 24 /dev/urandom | base64 >"$tmp/srs.secrets"
check_warn "milter on every address" 'warn\.conf:3: milter_listen: .inet:10025. listens on every address: the milter protocol has no authentication' "$zone"$'\nmilter_listen = inet:10025'
check_warn "milter on a public address" 'warn\.conf:3: milter_listen: .inet:10025@192\.0\.2\.1. is not a loopback address' "$zone"$'\nmilter_listen = inet:10025@192.0.2.1'
check_warn "policy on every address" 'warn\.conf:3: listen: .inet:0\.0\.0\.0:10023. listens on every address: the policy protocol has no authentication' "$zone"$'\nlisten = inet:0.0.0.0:10023'
check_warn "socketmap on a public address" 'warn\.conf:5: srs_listen: .inet:\[2001:db8::1\]:10003. is not a loopback address: the socketmap has no authentication' "$zone"$'\nsrs_domain = fwd.example\nsrs_secrets = '"$tmp/srs.secrets"$'\nsrs_listen = inet:[2001:db8::1]:10003'
check_warn "metrics on every address" 'warn\.conf:3: metrics_listen: .inet:\[::\]:10024. listens on every address' "$zone"$'\nmetrics_listen = inet:[::]:10024'
# policyd-spf's whitelist names mean "clients that pass the listed domain's
# SPF" there; as spfkitd's name lists they would exempt forgers: warned of
# and ignored, and a forged sender at that domain is still checked.
check_warn "Domain_Whitelist in spfkitd's format" 'warn\.conf:3: domain_whitelist: ignored: in policyd-spf it exempts clients that pass' "$zone"$'\nDomain_Whitelist = fail.example'
check_warn "HELO_Whitelist in spfkitd's format" 'warn\.conf:3: helo_whitelist: ignored: .* list the relays. addresses in whitelist_ip' "$zone"$'\nHELO_Whitelist = fail.example'
printf '%s\nDomain_Whitelist = fail.example\nlog = stderr\n' "$zone" >"$tmp/dw.conf"
printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.200\nhelo_name=x.example\nsender=a@fail.example\nrecipient=b@dest.example\n\n' |
	"$bin" --stdio -c "$tmp/dw.conf" >"$tmp/t" 2>/dev/null
grep -q '^action=550 ' "$tmp/t" && ok || { bad "Domain_Whitelist must not exempt a forged sender"; cat "$tmp/t"; }
if [ "$(id -u)" -eq 0 ]; then
	check_warn "root without user" 'warn\.conf: user: not set: spfkitd runs as root' "zone_file = $tmp/zone.yml"
fi
printf '%s\nlisten = inet:127.0.0.1:10023\nlisten = inet:[::1]:10023\nmilter_listen = inet:10025@localhost\nmetrics_listen = inet:127.0.0.2:10024\nlisten = unix:%s/p.sock\n' "$zone" "$tmp" >"$tmp/quiet.conf"
"$bin" -t -c "$tmp/quiet.conf" >"$tmp/t" 2>&1
if [ $? -eq 0 ] && ! grep -q warning "$tmp/t"; then ok; else bad "-t: loopback and unix listeners are not warned about"; cat "$tmp/t"; fi
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

# Abuse: idle holders on every listener, descriptors running out under
# the daemon, pid file and socket safety, a reload keeping the DNS cache,
# secrets a reload must still read.
if /usr/bin/python3 tests/daemon/abuse.py "$bin" "$tmp/abuse" >"$tmp/abuse.out" 2>&1; then
	p=$(grep -cE '^ok ' "$tmp/abuse.out"); pass=$((pass + p))
else
	p=$(grep -cE '^ok ' "$tmp/abuse.out"); pass=$((pass + p))
	bad "abuse.py"; grep -vE '^ok ' "$tmp/abuse.out" | tail -n 30
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
