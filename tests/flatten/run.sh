#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/flatten/run.sh SPFKIT - `spfkit flatten` as a user runs it, hermetic
# (zone files only). Table-driven over the provider-like trees of
# providers.zone: each is flattened, the snippet's records are measured
# (strings of at most 255 octets, 450 octets of RDATA), what must stay or
# go is looked for, and the equivalence proof is run again by this test:
# spfkit check on every boundary address (first, last, first-1, last+1 of
# every block in the zone and the snippet) and sample addresses, once over
# the zone and once over the zone with the snippet laid over it
# (--zone providers.zone --zone snippet.zone), and the results compared.
# Then the drift check (--check), the errors, and the unit test of the
# address sets. Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit}
bin=$(realpath "$bin")
cd "$(dirname "$0")/../.."
Z=tests/flatten/providers.zone
py=/usr/bin/python3
sn=tests/flatten/snippet.py
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# results ZONE-ARGS... < LINES: "ip result" per line, through check --batch.
results() {
	"$bin" check --batch --format json "$@" >"$tmp/r.jsonl" 2>"$tmp/r.err" || {
		cat "$tmp/r.err"; return 1; }
	$py $sn results "$tmp/r.jsonl"
}

# The table: case | domain | flatten options | must appear | must not appear.
# Each case is flattened, measured and proven; "|"-separated, "-" for none.
cases=(
	"google-like 3 levels|google.owner.test|-|ip4:35.190.247.0/24|include:"
	"outlook-like include inside|outlook.owner.test|-|ip6:2a01:4180:4051:800::/64|include:"
	"mailgun-like chain, a and mx|mailgun.owner.test|-|ip4:192.0.2.26|mx"
	"ses-like long list: helpers|ses.owner.test|-|include:_spf1.ses.owner.test|amazonses"
	"sparkpost-like exists and ptr kept|sparkpost.owner.test|-|exists:%{i}._spf.sparkpost.test|include:"
	"exists after a non-pass term: include kept|guarded.owner.test|-|include:_spf.guarded.test|ip4:203.0.113"
	"redirect and mixed qualifiers|mixed.owner.test|-|?ip6:2001:db8:1::/48|redirect="
	"IPv6 blocks merged|v6.owner.test|-|ip6:2001:db8:a::/48|include:"
	"--keep leaves a partner's terms|keep.owner.test|--keep mail.partner.test,_spf.partner.test|a:mail.partner.test|ip4:198.51.100.40"
	"over ten lookups as published|big.owner.test|-|include:_spf1.big.owner.test|outlook"
	"hostile text in a kept term, escaped|hostile.owner.test|-|exists:%{i}.x\\\"y\\\\z.test|include:"
)

for c in "${cases[@]}"; do
	IFS='|' read -r name dom opts want notwant <<<"$c"
	[ "$opts" = - ] && opts=
	out="$tmp/$dom.zone"
	# shellcheck disable=SC2086
	"$bin" flatten "$dom" --zone $Z $opts >"$out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then bad "$name: exit $rc: $(cat "$tmp/err")"; continue; fi
	ok
	records=$(grep -v '^;' "$out")
	if grep -qF -- "$want" <<<"$records"; then ok; else bad "$name: no '$want' in: $records"; fi
	if [ "$notwant" = - ] || ! grep -qF -- "$notwant" <<<"$records"; then ok; else
		bad "$name: '$notwant' is still in: $records"; fi
	if n=$($py $sn sizes "$out"); then ok; else bad "$name: records too big: $n"; fi
	# The proof, again, by spfkit check over the zone with the snippet laid over it.
	$py $sn points "$dom" $Z "$out" >"$tmp/points"
	echo "203.0.113.64	postmaster@$dom" >>"$tmp/points"   # sparkpost's exists
	echo "203.0.113.200	postmaster@$dom" >>"$tmp/points"   # guarded's exists
	sort -u -o "$tmp/points" "$tmp/points"
	flat=$(results --zone $Z --zone "$out" <"$tmp/points") || { bad "$name: check over the snippet failed"; continue; }
	if [ "$dom" = big.owner.test ]; then
		# As published it is over the limit (permerror for some); the oracle is
		# the providers' owners checked one by one (each within the limit):
		# pass where any gives pass, else fail (big's -all).
		orig=$(results --zone $Z <"$tmp/points")
		if grep -q ' permerror$' <<<"$orig"; then ok; else bad "$name: published big.owner.test should exceed the limit"; fi
		expect=$(for o in google outlook mailgun ses v6; do
			sed "s/postmaster@big.owner.test/postmaster@$o.owner.test/" "$tmp/points" |
				results --zone $Z; done |
			awk '{ if (!($1 in r)) { r[$1] = "fail"; order[n++] = $1 } if ($2 == "pass") r[$1] = "pass" }
			     END { for (i = 0; i < n; i++) print order[i], r[order[i]] }' | sort)
		orig=$expect
		flat=$(sort <<<"$flat")
	else
		orig=$(results --zone $Z <"$tmp/points")
	fi
	np=$(wc -l <"$tmp/points")
	if [ "$orig" = "$flat" ] && [ "$np" -gt 10 ]; then ok; else
		bad "$name: results differ over the snippet:"; diff <(echo "$orig") <(echo "$flat") | head -n 10
	fi
done

# Qualifiers by hand: ~ip4 of a redirect target stays ~, the top's own ~ip4
# stays ~, and the include's -ip4 before its ip4 is "no match" (§5.2), so
# 203.0.113.10 goes on to the redirect's -all while 203.0.113.70 passes.
r=$(printf '10.1.2.3\tpostmaster@mixed.owner.test\n192.0.2.9\tpostmaster@mixed.owner.test\n203.0.113.10\tpostmaster@mixed.owner.test\n203.0.113.70\tpostmaster@mixed.owner.test\n' |
	results --zone $Z --zone "$tmp/mixed.owner.test.zone" | tr '\n' ' ')
if [ "$r" = "10.1.2.3 softfail 192.0.2.9 softfail 203.0.113.10 fail 203.0.113.70 pass " ]; then ok; else
	bad "mixed qualifiers by hand: $r"; fi
# TTL: the smallest of the answers (google's _spf 300, outlook's spfd 600).
if grep -q '^google.owner.test. 300 IN TXT' "$tmp/google.owner.test.zone"; then ok; else bad "google TTL: $(grep -v '^;' "$tmp/google.owner.test.zone" | head -n 1)"; fi
if grep -q '^outlook.owner.test. 600 IN TXT' "$tmp/outlook.owner.test.zone"; then ok; else bad "outlook TTL"; fi

# JSON: the records, lookups, kept terms, sources and the proof's count.
if "$bin" flatten sparkpost.owner.test --zone $Z --format json >"$tmp/j" &&
	$py - "$tmp/j" <<'PY'; then ok; else bad "flatten --format json: $(cat "$tmp/j")"; fi
import json, sys
j = json.load(open(sys.argv[1]))
assert j["domain"] == "sparkpost.owner.test" and j["ttl"] == 3600
assert j["lookups"] == 2, j["lookups"]
assert j["records"][0]["name"] == "sparkpost.owner.test"
assert j["records"][0]["text"].startswith("v=spf1 ")
assert j["kept"] == ["exists:%{i}._spf.sparkpost.test", "ptr"], j["kept"]
assert j["sources"][0]["include"] == "_spf.sparkpost.test"
assert j["sources"][0]["terms"] == "ip4:203.0.113.0/27"
assert j["proof_addresses"] > 10
assert j["original"] == "v=spf1 ip4:192.0.2.0/28 include:_spf.sparkpost.test ptr -all"
PY

# Cannot be flattened: one line, exit 2.
"$bin" flatten toomany.owner.test --zone $Z >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 2 ] && [ ! -s "$tmp/o" ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] &&
	grep -q 'need 11 DNS lookups' "$tmp/e"; then ok; else bad "toomany: exit $rc: $(cat "$tmp/e")"; fi
"$bin" flatten nothing.owner.test --zone $Z >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ]; then ok; else bad "no record: exit $rc: $(cat "$tmp/e")"; fi
for c in "loop.owner.test|a loop: include:loop.owner.test" \
	"missing.owner.test|include target has no v=spf1 record (RFC 7208 5.2): nowhere.test"; do
	IFS='|' read -r dom why <<<"$c"
	"$bin" flatten "$dom" --zone $Z >"$tmp/o" 2>"$tmp/e"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$tmp/o" ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] &&
		grep -qF "spfkit flatten: cannot flatten $dom: $why" "$tmp/e"; then ok; else bad "$dom: exit $rc: $(cat "$tmp/e")"; fi
done
# The kept hostile term, unescaped, in JSON.
if "$bin" flatten hostile.owner.test --zone $Z --format json >"$tmp/j" &&
	$py -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["kept"] == ["exists:%{i}.x\"y\\z.test"], j["kept"]' "$tmp/j"; then ok; else
	bad "hostile JSON: $(cat "$tmp/j")"; fi
for args in "" "a.test b.test --zone $Z" "a.test --format xml --zone $Z" "a.test --keep , --zone $Z" \
	"a.test --check $Z --format json --zone $Z" "bad..name/ --zone $Z"; do
	# shellcheck disable=SC2086
	"$bin" flatten $args >"$tmp/o" 2>"$tmp/e"
	rc=$?
	if [ $rc -eq 64 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ]; then ok; else bad "flatten $args: exit $rc: $(cat "$tmp/e")"; fi
done
"$bin" flatten a.test --zone "$tmp/none.zone" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 66 ]; then ok; else bad "missing zone: exit $rc"; fi

# --check: no drift against the same sources; drift when a provider's range moves.
for d in google.owner.test ses.owner.test sparkpost.owner.test mixed.owner.test; do
	"$bin" flatten "$d" --zone $Z --check "$tmp/$d.zone" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^no drift' "$tmp/o"; then ok; else bad "--check $d without drift: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
done
cat >"$tmp/drift.zone" <<'Z'
; google-like moved a /20: 66.102.0.0/20 went, 66.102.16.0/20 came
_netblocks.goog.test. 3600 TXT "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.16.0/20 ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 ip4:173.194.0.0/16 ip4:209.85.128.0/17 ip4:216.58.192.0/19 ip4:216.239.32.0/19 ~all"
Z
"$bin" flatten google.owner.test --zone $Z --zone "$tmp/drift.zone" --check "$tmp/google.owner.test.zone" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "--check drift: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
if grep -q '^drift: include:_netblocks.goog.test changed: came ip4:66.102.16.0/20; went ip4:66.102.0.0/20$' "$tmp/o"; then ok; else
	bad "--check drift does not name the include: $(cat "$tmp/o")"; fi
if grep -q "^drift: google.owner.test's + addresses: came ip4:66.102.16.0/20; went ip4:66.102.0.0/20$" "$tmp/o"; then ok; else
	bad "--check drift does not name the addresses: $(cat "$tmp/o")"; fi
# A drifted SES list behind helper records: one range gone.
sed 's/ip4:54.240.6.0\/24 //' $Z >"$tmp/ses-drift.zone"
"$bin" flatten ses.owner.test --zone "$tmp/ses-drift.zone" --check "$tmp/ses.owner.test.zone" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 1 ] && grep -q '^drift: include:amazonses.test changed: came nothing; went ip4:54.240.6.0/24$' "$tmp/o"; then ok; else
	bad "--check ses drift: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
# Once published, DNS serves the flattened record for the domain, not the
# original: --check flattens the original the snippet carries ("; original")
# over the sources, so a provider's change still shows.
"$bin" flatten google.owner.test --zone $Z --zone "$tmp/google.owner.test.zone" \
	--check "$tmp/google.owner.test.zone" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "--check of the published snippet: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
"$bin" flatten google.owner.test --zone $Z --zone "$tmp/google.owner.test.zone" --zone "$tmp/drift.zone" \
	--check "$tmp/google.owner.test.zone" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 1 ] && grep -q '^drift: include:_netblocks.goog.test changed: came ip4:66.102.16.0/20; went ip4:66.102.0.0/20$' "$tmp/o"; then ok; else
	bad "--check drift once published: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
if grep -qx '; original "v=spf1 include:_spf.goog.test ~all"' "$tmp/google.owner.test.zone"; then ok; else
	bad "no '; original' line in the snippet"; fi
"$bin" flatten google.owner.test --zone $Z --check "$tmp/nonexistent" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 66 ]; then ok; else bad "--check of a missing file: exit $rc"; fi

# The same over real DNS: NSD on loopback (tests/flatten/nsd.sh).
. tests/flatten/nsd.sh

# Help and version.
if "$bin" help flatten | grep -q -- '--check FILE'; then ok; else bad "spfkit help flatten"; fi
if "$bin" flatten --help | grep -q '^Usage: spfkit flatten'; then ok; else bad "flatten --help"; fi
if "$bin" flatten --version | grep -q '^spfkit '; then ok; else bad "flatten --version"; fi
if "$bin" --help | grep -q '^  flatten '; then ok; else bad "spfkit --help lists flatten"; fi

# The unit test of the address sets (built next to the command).
unit="$(dirname "$bin")/../../tests/flatten/test_flatten_set"
if [ -x "$unit" ]; then
	line=$("$unit" | tail -n 1)
	p=$(echo "$line" | cut -d' ' -f1); f=$(echo "$line" | cut -d' ' -f3)
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" = 0 ] || echo "FAIL: test_flatten_set: $line"
else
	bad "no unit test at $unit"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
