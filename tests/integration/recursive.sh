#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/integration/recursive.sh BUILD-DIR
#
# --recursive, end to end, against a private root: NSD on a loopback
# address on port 53 (where roots answer; the tests run as root) serves a
# root zone that delegates example. to itself, and `spfkit check`, `trace`
# and a batch resolve from it with --root-hints (root servers named in a
# hints file, as named.root names the real ones) and no resolver at all:
# libunbound follows the referral from the root down as it does on the
# Internet. NSD also listens on 127.0.0.1 on a free port, to tell when it
# is up. Stopped by PID whatever happens; never reads /etc/resolv.conf.
# One line per failing check; ends with "N passed, N failed"; exit 1 on
# failures.
set -u
build=$(realpath "${1:?usage: recursive.sh BUILD-DIR}")
here=$(cd "$(dirname "$0")" && pwd)
INT_PY=${SPFKIT_PYTHON:-/usr/bin/python3} # Debian's, with dnslib
INT_TMP=$(mktemp -d)
# shellcheck source-path=SCRIPTDIR
. "$here/lib.sh"
trap 'int_stop_all; rm -rf "$INT_TMP"' EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

spfkit=$build/src/spfkit/spfkit
[ -x "$spfkit" ] || { echo "recursive.sh: $spfkit is missing (build first)" >&2; exit 1; }
command -v nsd >/dev/null || { echo "recursive.sh: nsd is not installed (scripts/deps.sh)" >&2; exit 1; }

# ------------------------------------------------------------ zones
z=$INT_TMP/zones
mkdir -p "$z"
# The root's server: an address of 127/8 that nothing else uses (tried in
# turn below), written into the zones once chosen.
write_zones() { # ADDR
	cat >"$z/root.zone" <<ZONE
\$TTL 3600
.                   IN SOA a.root.test. hostmaster.root.test. 1 3600 600 86400 300
.                   IN NS  a.root.test.
a.root.test.        IN A   $1
example.            IN NS  ns.example.
ns.example.         IN A   $1
ZONE
	cat >"$z/example.zone" <<ZONE
\$TTL 300
example.               IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
example.               IN NS  ns.example.
ns.example.            IN A   $1
shop.example.          IN TXT "v=spf1 ip4:192.0.2.1 include:_spf.provider.example -all"
_spf.provider.example. IN TXT "v=spf1 ip4:198.51.100.0/24 mx:mail.example ~all"
mail.example.          IN MX  10 mx1.mail.example.
mx1.mail.example.      IN A   203.0.113.25
ZONE
	cat >"$INT_TMP/hints" <<HINTS
.               3600000 NS a.root.test.
a.root.test.    3600000 A  $1
HINTS
}

port=$(free_port)
started=""
for addr in 127.53.0.1 127.53.1.1 127.53.2.1; do
	write_zones "$addr"
	d=$INT_TMP/nsd-$addr
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<CONF
server:
	ip-address: $addr@53
	ip-address: 127.0.0.1@$port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$z"
	database: ""
	zonelistfile: "$d/zone.list"
	xfrdfile: "$d/xfrd.state"
	xfrdir: "$d"
	pidfile: "$d/nsd.pid"
	logfile: "$d/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
	identity: ""
remote-control:
	control-enable: no
zone:
	name: "."
	zonefile: "root.zone"
zone:
	name: "example."
	zonefile: "example.zone"
CONF
	nsd -d -c "$d/nsd.conf" >>"$d/nsd.out" 2>&1 &
	NSD_PID=$!
	INT_PIDS+=("$NSD_PID")
	if "$INT_PY" "$here/dnsq.py" --wait 5 "$port" shop.example TXT >/dev/null 2>&1; then
		started=$addr
		break
	fi
	nsd_stop
	port=$(free_port)
done
if [ -z "$started" ]; then
	bad "nsd could not serve a private root on port 53 of 127.53.x.1 (run as root?)"
	cat "$INT_TMP"/nsd-*/nsd.out "$INT_TMP"/nsd-*/nsd.log 2>/dev/null | tail -n 20
	echo "$pass passed, $fail failed"
	exit 1
fi

# ------------------------------------------------------------ checks
R=(--root-hints "$INT_TMP/hints" --timeout 10)

# check IP SENDER RESULT [WHERE-PATTERN]: a JSON check resolved from the root.
check() {
	local ip=$1 sender=$2 want=$3 where=${4:-}
	timeout 30 "$spfkit" check "${R[@]}" --ip "$ip" --sender "$sender" --format json \
		>"$INT_TMP/out" 2>"$INT_TMP/err"
	if grep -q "\"result\":\"$want\"" "$INT_TMP/out" && [ ! -s "$INT_TMP/err" ] &&
		{ [ -z "$where" ] || grep -qE "\"where\":\"$where\"" "$INT_TMP/out"; }; then
		ok
	else
		bad "check $ip $sender from the private root: want $want ${where:+($where)}"
		cat "$INT_TMP/out" "$INT_TMP/err"
	fi
}
check 192.0.2.1 a@shop.example pass 'shop\.example'
check 198.51.100.7 a@shop.example pass 'shop\.example > include _spf\.provider\.example'
check 203.0.113.25 a@shop.example pass 'shop\.example > include _spf\.provider\.example'  # mx in the include
check 203.0.113.9 a@shop.example fail
check 192.0.2.1 a@nowhere.example none
check 192.0.2.1 a@unknown-tld.invalid none

# A batch shares the resolution from the root between its lines.
printf '192.0.2.1\ta@shop.example\n198.51.100.7\tb@shop.example\n203.0.113.9\tc@shop.example\n' |
	timeout 30 "$spfkit" check "${R[@]}" --batch >"$INT_TMP/out" 2>"$INT_TMP/err"
if [ "$(awk '{print $3}' "$INT_TMP/out" | tr '\n' ' ')" = "pass pass fail " ]; then ok; else
	bad "batch from the private root"; cat "$INT_TMP/out" "$INT_TMP/err"; fi

# trace follows the same path and shows the answers it used.
timeout 30 "$spfkit" trace "${R[@]}" --ip 198.51.100.7 --sender a@shop.example >"$INT_TMP/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'TXT _spf\.provider\.example -> NOERROR' "$INT_TMP/out"; then ok; else
	bad "trace from the private root (exit $rc)"; cat "$INT_TMP/out"; fi

# tree takes the same DNS options (src/support/opts.c, dnsrun.c).
timeout 30 "$spfkit" tree "${R[@]}" shop.example >"$INT_TMP/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '_spf\.provider\.example' "$INT_TMP/out"; then ok; else
	bad "tree from the private root (exit $rc)"; cat "$INT_TMP/out"; fi

# Usage: a root is not asked through a resolver; a missing file is named.
timeout 10 "$spfkit" check "${R[@]}" --nameserver 127.0.0.1@53 --ip 192.0.2.1 --sender a@shop.example \
	>"$INT_TMP/out" 2>&1
rc=$?
if [ "$rc" -eq 64 ] && grep -q 'drop --nameserver' "$INT_TMP/out"; then ok; else
	bad "--root-hints with --nameserver: exit $rc"; cat "$INT_TMP/out"; fi
timeout 10 "$spfkit" check --root-hints "$INT_TMP/no-such-file" --ip 192.0.2.1 --sender a@shop.example \
	>"$INT_TMP/out" 2>&1
rc=$?
if [ "$rc" -eq 66 ] && grep -q "root-hints '.*no-such-file'" "$INT_TMP/out"; then ok; else
	bad "--root-hints with a missing file: exit $rc"; cat "$INT_TMP/out"; fi

nsd_stop
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
