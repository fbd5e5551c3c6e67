#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/integration/dnssec.sh BUILD-DIR
#
# DNSSEC status through libunbound, end to end: `spfkit check` and
# `spfkit trace` against NSD on loopback (a port chosen here, stopped by
# PID whatever happens) serving zones signed here with fresh keys:
#   .                  signed (NSEC); its KSK's DS is the trust anchor
#   child.example.     signed (NSEC3), delegated with a DS: secure
#   insecure.example.  unsigned, delegated without a DS: insecure
#   bogus.example.     a TXT in the root altered after signing: bogus
# and the same checks without --trust-anchor: unknown. Expected: secure
# and insecure answers give the record's result; a bogus answer is never
# used (temperror), in the record itself or through an include; a check's
# "dnssec" is its weakest answer's; trace --format json gives each
# answer's own status.
# BUILD-DIR holds src/spfkit/spfkit. Needs nsd, ldnsutils (ldns-keygen,
# ldns-signzone, ldns-verify-zone) and python3-dnslib. Never reads
# /etc/resolv.conf: every query goes to --nameserver 127.0.0.1@PORT.
# One line per failing check; ends with "N passed, N failed"; exit 1 on
# failures.
set -u
build=$(realpath "${1:?usage: dnssec.sh BUILD-DIR}")
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
[ -x "$spfkit" ] || { echo "dnssec.sh: $spfkit is missing (build first)" >&2; exit 1; }
for t in nsd nsd-checkconf nsd-checkzone ldns-keygen ldns-signzone ldns-verify-zone; do
	command -v "$t" >/dev/null ||
		{ echo "dnssec.sh: $t is not installed (scripts/deps.sh)" >&2; exit 1; }
done
"$INT_PY" -c 'import dnslib' || { echo "dnssec.sh: $INT_PY lacks dnslib" >&2; exit 1; }

# ------------------------------------------------------------ zones
z=$INT_TMP/zones
mkdir -p "$z"
# keygen NAME ARGS...: a P-256 key for zone NAME in $z; prints its base name.
keygen() {
	local name=$1; shift
	(cd "$z" && ldns-keygen -a ECDSAP256SHA256 "$@" "$name")
}
# sign ORIGIN FILE ZSK KSK [OPTION...]: FILE.signed, valid from now to 4
# weeks on (ldns-signzone's default).
sign() {
	local origin=$1 file=$2 zsk=$3 ksk=$4; shift 4
	(cd "$z" && ldns-signzone -o "$origin" "$@" "$file" "$zsk" "$ksk") ||
		{ echo "dnssec.sh: ldns-signzone $origin failed" >&2; exit 1; }
}

if ! { root_ksk=$(keygen . -k) && root_zsk=$(keygen .) && other_ksk=$(keygen . -k) &&
	child_ksk=$(keygen child.example. -k) && child_zsk=$(keygen child.example.); }; then
	echo "dnssec.sh: ldns-keygen failed" >&2; exit 1
fi

# child.example.: NSEC3 (no extra iterations, no salt: RFC 9276).
cat >"$z/child.zone" <<'ZONE'
$TTL 300
child.example.         IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
child.example.         IN NS  ns.test.
child.example.         IN TXT "v=spf1 a:mail.child.example -all"
mail.child.example.    IN A   192.0.2.1
ZONE
sign child.example. child.zone "$child_zsk" "$child_ksk" -n -t 0

cat >"$z/insecure.zone" <<'ZONE'
$TTL 300
insecure.example.      IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
insecure.example.      IN NS  ns.test.
insecure.example.      IN TXT "v=spf1 ip4:192.0.2.1 -all"
ZONE

{
	cat <<'ZONE'
$TTL 300
.                      IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
.                      IN NS  ns.test.
ns.test.               IN A   127.0.0.1
signed.example.        IN TXT "v=spf1 include:_spf.signed.example -all"
_spf.signed.example.   IN TXT "v=spf1 ip4:192.0.2.1 -all"
mixed.example.         IN TXT "v=spf1 include:insecure.example -all"
bogus.example.         IN TXT "v=spf1 ip4:192.0.2.1 -all"
badinclude.example.    IN TXT "v=spf1 include:bogus.example ip4:192.0.2.1 -all"
insecure.example.      IN NS  ns.test.
child.example.         IN NS  ns.test.
ZONE
	cat "$z/$child_ksk.ds"
} >"$z/root.zone"
sign . root.zone "$root_zsk" "$root_ksk"
cp "$z/$root_ksk.ds" "$z/root.ds"
# A key the root is not signed with: as the trust anchor, nothing validates.
cp "$z/$other_ksk.ds" "$z/wrong.ds"

# Both signed zones verify as signed; then bogus.example's TXT is changed
# under its signature (192.0.2.1 -> 192.0.2.99), and verification fails.
for f in root.zone.signed child.zone.signed; do
	if ldns-verify-zone "$z/$f" >"$INT_TMP/vz" 2>&1; then ok; else
		bad "ldns-verify-zone $f (as signed)"; cat "$INT_TMP/vz"; fi
done
sed -i 's/^\(bogus\.example\.\t.*\tTXT\t"v=spf1 ip4:192\.0\.2\.\)1 -all"$/\199 -all"/' \
	"$z/root.zone.signed"
if grep -qP '^bogus\.example\.\t.*\tTXT\t"v=spf1 ip4:192\.0\.2\.99 -all"$' "$z/root.zone.signed" &&
	! ldns-verify-zone "$z/root.zone.signed" >"$INT_TMP/vz" 2>&1; then ok; else
	bad "bogus.example's TXT was not altered under its signature"; grep -F bogus.example "$z/root.zone.signed"; fi

for zf in ".:root.zone.signed" "child.example.:child.zone.signed" "insecure.example.:insecure.zone"; do
	if nsd-checkzone "${zf%%:*}" "$z/${zf#*:}" >/dev/null 2>"$INT_TMP/cz"; then ok; else
		bad "nsd-checkzone ${zf#*:}: $(cat "$INT_TMP/cz")"; fi
done

# ------------------------------------------------------------ NSD
# All three zones from one NSD: a DS query is answered from the parent.
port=$(free_port)
nsd_dir=$INT_TMP/nsd
mkdir -p "$nsd_dir"
cat >"$nsd_dir/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$port
	port: $port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$z"
	database: ""
	zonelistfile: "$nsd_dir/zone.list"
	xfrdfile: "$nsd_dir/xfrd.state"
	xfrdir: "$nsd_dir"
	pidfile: "$nsd_dir/nsd.pid"
	logfile: "$nsd_dir/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
	identity: ""
	refuse-any: yes
remote-control:
	control-enable: no
zone:
	name: "."
	zonefile: "$z/root.zone.signed"
zone:
	name: "child.example."
	zonefile: "$z/child.zone.signed"
zone:
	name: "insecure.example."
	zonefile: "$z/insecure.zone"
CONF
nsd-checkconf "$nsd_dir/nsd.conf" || { echo "dnssec.sh: nsd-checkconf failed" >&2; exit 1; }
nsd -d -c "$nsd_dir/nsd.conf" >>"$nsd_dir/nsd.out" 2>&1 &
NSD_PID=$!
INT_PIDS+=("$NSD_PID")
for name in . child.example. insecure.example.; do
	if ! "$INT_PY" "$here/dnsq.py" --wait 10 "$port" "$name" SOA >"$INT_TMP/q" 2>&1 ||
		! grep -q "SOA" "$INT_TMP/q"; then
		echo "dnssec.sh: nsd does not serve $name on 127.0.0.1@$port:" >&2
		cat "$INT_TMP/q" "$nsd_dir/nsd.out" "$nsd_dir/nsd.log" >&2 2>/dev/null
		exit 1
	fi
done

# ------------------------------------------------------------ check
exit_of() {
	case $1 in pass) echo 0;; fail) echo 1;; softfail) echo 2;; neutral) echo 3;;
	none) echo 4;; permerror) echo 5;; temperror) echo 6;; *) echo 99;; esac
}
ta=(--trust-anchor "$z/root.ds")

# check TA|noTA|wrongTA IP SENDER RESULT DNSSEC: spfkit check --format
# json gives RESULT (and its exit status) and "dnssec":DNSSEC.
check() {
	local anchor=$1 ip=$2 sender=$3 want=$4 want_sec=$5 rc got
	local opts=()
	case $anchor in
	TA) opts=("${ta[@]}");;
	wrongTA) opts=(--trust-anchor "$z/wrong.ds");;
	esac
	timeout 30 "$spfkit" check --ip "$ip" --sender "$sender" --nameserver "127.0.0.1@$port" \
		--timeout 10 "${opts[@]}" --format json >"$INT_TMP/out" 2>"$INT_TMP/err"
	rc=$?
	got=$("$INT_PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["result"], j["dnssec"])' \
		"$INT_TMP/out" 2>/dev/null)
	if [ "$got" = "$want $want_sec" ] && [ "$rc" -eq "$(exit_of "$want")" ] && [ ! -s "$INT_TMP/err" ]; then
		ok
	else
		bad "check ($anchor) $ip $sender: got '${got:-nothing}' exit $rc, want '$want $want_sec' exit $(exit_of "$want")"
		cat "$INT_TMP/out" "$INT_TMP/err"
	fi
}

check TA   192.0.2.1  a@signed.example             pass      secure
check TA   192.0.2.2  a@signed.example             fail      secure
check TA   192.0.2.1  a@child.example              pass      secure
check TA   192.0.2.2  a@child.example              fail      secure
check TA   192.0.2.1  a@missing.example            none      secure # NSEC denial
check TA   192.0.2.1  a@missing.child.example      none      secure # NSEC3 denial
check TA   192.0.2.1  a@insecure.example           pass      insecure
check TA   192.0.2.2  a@insecure.example           fail      insecure
check TA   192.0.2.1  a@mixed.example              pass      insecure # the weakest answer
check TA   192.0.2.1  a@bogus.example              temperror bogus
check TA   192.0.2.99 a@bogus.example              temperror bogus # the altered record
check TA   192.0.2.1  a@badinclude.example         temperror bogus
check noTA 192.0.2.1  a@signed.example             pass      unknown
check noTA 192.0.2.1  a@insecure.example           pass      unknown
# Unvalidated, the altered record is simply used: validation is what
# stops it above.
check noTA 192.0.2.99 a@bogus.example              pass      unknown
# A trust anchor the root's keys do not match: every answer is bogus.
check wrongTA 192.0.2.1 a@signed.example           temperror bogus
check wrongTA 192.0.2.1 a@insecure.example         temperror bogus

# The text format names the status too.
timeout 30 "$spfkit" check --ip 192.0.2.1 --sender a@bogus.example \
	--nameserver "127.0.0.1@$port" --timeout 10 "${ta[@]}" >"$INT_TMP/out" 2>&1
if grep -qE '^ *dnssec +bogus' "$INT_TMP/out"; then ok; else
	bad "check (text) a@bogus.example: no 'dnssec bogus' row"; cat "$INT_TMP/out"; fi

# ------------------------------------------------------------ trace
# trace TA|noTA IP SENDER RESULT NAME=DNSSEC...: spfkit trace --format json
# ends in RESULT, and has an answer event for each NAME (TXT or A) whose
# "dnssec" is DNSSEC, and no other answers.
trace() {
	local anchor=$1 ip=$2 sender=$3 want=$4; shift 4
	local opts=() rc got; [ "$anchor" = TA ] && opts=("${ta[@]}")
	timeout 30 "$spfkit" trace --ip "$ip" --sender "$sender" --nameserver "127.0.0.1@$port" \
		--timeout 10 "${opts[@]}" --format json >"$INT_TMP/out" 2>"$INT_TMP/err"
	rc=$?
	got=$("$INT_PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
ans = sorted("%s=%s" % (e["name"], e["dnssec"]) for e in j["events"] if e["event"] == "answer")
print(j["result"], *ans)' "$INT_TMP/out" 2>/dev/null)
	local want_all
	want_all="$want $(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')"
	if [ "$got" = "${want_all% }" ] && [ "$rc" -eq "$(exit_of "$want")" ]; then ok; else
		bad "trace ($anchor) $ip $sender: got '${got:-nothing}' exit $rc, want '${want_all% }'"
		cat "$INT_TMP/out" "$INT_TMP/err"
	fi
}

trace TA   192.0.2.1 a@signed.example   pass \
	signed.example=secure _spf.signed.example=secure
trace TA   192.0.2.1 a@child.example    pass \
	child.example=secure mail.child.example=secure
trace TA   192.0.2.1 a@mixed.example    pass \
	mixed.example=secure insecure.example=insecure
trace TA   192.0.2.1 a@bogus.example    temperror \
	bogus.example=bogus
trace TA   192.0.2.1 a@badinclude.example temperror \
	badinclude.example=secure bogus.example=bogus
trace noTA 192.0.2.1 a@signed.example   pass \
	signed.example=unknown _spf.signed.example=unknown

# The text trace shows each answer's status when something was validated.
for c in "a@mixed.example:TXT mixed\.example -> NOERROR .*dnssec secure\):TXT insecure\.example -> NOERROR .*dnssec insecure\)" \
	"a@bogus.example:TXT bogus\.example -> TEMPFAIL .*dnssec bogus\)"; do
	sender=${c%%:*} pats=${c#*:}
	timeout 30 "$spfkit" trace --ip 192.0.2.1 --sender "$sender" --nameserver "127.0.0.1@$port" \
		--timeout 10 "${ta[@]}" >"$INT_TMP/out" 2>"$INT_TMP/err"
	miss=""
	IFS=: read -r -a want <<<"$pats"
	for p in "${want[@]}"; do grep -qE -- "$p" "$INT_TMP/out" || miss="$miss /$p/"; done
	if [ -z "$miss" ]; then ok; else bad "text trace $sender: no line like$miss"; cat "$INT_TMP/out"; fi
done

nsd_stop
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
