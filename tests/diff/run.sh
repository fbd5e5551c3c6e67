#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/diff/run.sh SPFKIT - `spfkit diff` as a user runs it, hermetic (zone
# files, and NSD on loopback). Table-driven: each case lays a draft zone over
# published.zone (or gives two --record texts), and checks the exit status
# (0 nothing changes, 1 something does, 64 usage) and lines the text output
# and the JSON output must hold; then the same over NSD (nsd.sh).
# Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit}
bin=$(realpath "$bin")
cd "$(dirname "$0")/../.." || exit 1
D=tests/diff
P=$D/published.zone
py=/usr/bin/python3
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# The table: name | domain | arguments after DOMAIN (a bash array literal) |
# exit | lines the text must hold ("&&"-separated, grep -F) | a Python
# expression over the JSON object j that must be true.
cases=(
	"adds an include|addinc.owner.test|--zone $P --zone $D/draft-addinc.zone|1|addresses of include:mailer.test:&&  came:   ip4:203.0.113.128/26 ip6:2001:db8:99::/64&&lookups: 0 -> 2 (void lookups: 0 -> 1)&&new finding: warning ptr:&&result for 203.0.113.128: fail -> pass&&result for 203.0.113.191: fail -> pass|j['lookups']=={'before':0,'after':2} and j['addresses']['came']=='ip4:203.0.113.128/26 ip6:2001:db8:99::/64' and any(f.startswith('warning ptr:') for f in j['new_findings']) and j['changed']"
	"removes an ip4 range|rmrange.owner.test|--zone $P --zone $D/draft-rmrange.zone|1|  went:   ip4:198.51.100.0/24&&result for 198.51.100.0: pass -> fail&&result for 198.51.100.255: pass -> fail&&lookups: 0 -> 0|j['addresses']['went']=='ip4:198.51.100.0/24' and {'ip':'198.51.100.0','before':'pass','after':'fail'} in j['results'] and not any(r['ip']=='198.51.99.255' or r['ip']=='192.0.2.0' for r in j['results'])"
	"~all becomes -all|soft.owner.test|--zone $P --zone $D/draft-soft.zone|1|result for 192.0.2.15: softfail -> fail&&result for 8.8.8.8: softfail -> fail&&result for 2001:db8::1: softfail -> fail|j['addresses']['came']=='' and j['addresses']['went']=='' and not any(r['ip']=='192.0.2.16' for r in j['results'])"
	"identical draft|same.owner.test|--zone $P --zone $D/draft-same.zone|0|no change&&lookups: 1 -> 1|not j['changed'] and j['results']==[] and j['new_findings']==[]"
	"IPv6 prefix narrows|six.owner.test|--zone $P --zone $D/draft-six.zone|1|  before: ip6:2001:db8:1::/48&&  after:  ip6:2001:db8:1::/56&&result for 2001:db8:1:100::: pass -> fail&&result for 2001:db8:1:ffff:ffff:ffff:ffff:ffff: pass -> fail|{'ip':'2001:db8:1:100::','before':'pass','after':'fail'} in j['results'] and not any(r['ip']=='2001:db8:1::' for r in j['results'])"
	"over ten lookups|many.owner.test|--zone $P --zone $D/draft-many.zone|1|lookups: 2 -> 11&&new finding: error too-many-lookups:&&result for 11.11.0.0: fail -> permerror&&result for 8.8.8.8: fail -> permerror|j['lookups']['after']==11 and any(f.startswith('error too-many-lookups:') for f in j['new_findings']) and {'ip':'11.11.0.0','before':'fail','after':'permerror'} in j['results']"
	"a first record|new.owner.test|--zone $P --zone $D/draft-new.zone|1|  after:  ip4:192.0.2.0/30&&fixed finding: error no-record:&&result for 192.0.2.0: none -> pass&&result for 192.0.2.4: none -> fail|j['addresses']['came']=='ip4:192.0.2.0/30' and {'ip':'192.0.2.3','before':'none','after':'pass'} in j['results']"
	"a draft with a syntax error|same.owner.test|--zone $P --zone $D/draft-broken.zone|1|new finding: error syntax:&&result for 192.0.2.32: pass -> permerror&&result for 8.8.8.8: fail -> permerror&&lookups: 1 -> 0|any(f.startswith('error syntax:') for f in j['new_findings']) and {'ip':'203.0.113.0','before':'pass','after':'permerror'} in j['results']"
	"two records, include added|rec.owner.test|--zone $P --record 'v=spf1 ip4:192.0.2.0/28 ~all' --record 'v=spf1 ip4:192.0.2.0/29 include:esp.test ~all'|1|  went:   ip4:192.0.2.8/29&&addresses of include:esp.test:&&lookups: 0 -> 1&&result for 192.0.2.8: pass -> softfail&&result for 203.0.113.0: softfail -> pass|j['addresses']['went']=='ip4:192.0.2.8/29' and j['lookups']=={'before':0,'after':1}"
	"two records, the same|rec.owner.test|--zone $P --record 'v=spf1 ip4:192.0.2.0/28 -all' --record 'v=spf1 ip4:192.0.2.0/28 -all'|0|no change|not j['changed']"
	"two records, a finding fixed|rec.owner.test|--zone $P --record 'v=spf1 ptr -all' --record 'v=spf1 ip4:192.0.2.0/28 -all'|1|fixed finding: warning ptr:|any(f.startswith('warning ptr:') for f in j['fixed_findings']) and j['new_findings']==[]"
)

for c in "${cases[@]}"; do
	IFS='|' read -r name dom args want lines expr <<<"$c"
	eval "set -- $args"
	"$bin" diff "$dom" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, not $want: $(cat "$tmp/err")"
	else
		ok
	fi
	rest=$lines
	while [ -n "$rest" ]; do
		l=${rest%%&&*}
		[ "$l" = "$rest" ] && rest= || rest=${rest#*&&}
		if grep -qF -- "$l" "$tmp/out"; then ok; else
			bad "$name: no line '$l' in:"; cat "$tmp/out"; fi
	done
	"$bin" diff "$dom" "$@" --format json >"$tmp/j" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = "$want" ] && $py -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/j" "$expr"; then ok; else
		bad "$name: JSON (exit $rc) fails $expr:"; cat "$tmp/j"; fi
done

# Usage and errors: exit 64 with one line, 66 for a zone that is not there.
usage=(
	"no DOMAIN|--zone $P --zone $D/draft-same.zone|64"
	"one zone alone: nothing to compare|same.owner.test --zone $P|64"
	"one --record|same.owner.test --zone $P --record 'v=spf1 -all'|64"
	"three --record|x.test --zone $P --record 'v=spf1' --record 'v=spf1' --record 'v=spf1'|64"
	"bad --format|same.owner.test --zone $P --zone $D/draft-same.zone --format xml|64"
	"bad domain|'a b' --zone $P --zone $D/draft-same.zone|64"
	"missing zone|same.owner.test --zone $P --zone $D/nothing.zone|66"
)
for u in "${usage[@]}"; do
	IFS='|' read -r name args want <<<"$u"
	eval "set -- $args"
	"$bin" diff "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = "$want" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
		grep -q '^spfkit diff: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then ok; else
		bad "$name: exit $rc (want $want): $(cat "$tmp/err")"; fi
done

# The same over real DNS: NSD on loopback (tests/diff/nsd.sh).
. tests/diff/nsd.sh

# help, --help and --version.
if "$bin" help diff | grep -q '^usage: spfkit diff DOMAIN'; then ok; else bad "help diff"; fi
if "$bin" diff --help | grep -q -- '--record TEXT'; then ok; else bad "diff --help"; fi
if "$bin" help | grep -q '^ *diff '; then ok; else bad "diff in the command list"; fi
if "$bin" diff --version | grep -q '^spfkit '; then ok; else bad "diff --version"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
