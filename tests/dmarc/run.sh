#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/dmarc/run.sh SPFKIT - `spfkit dmarc` as a user runs it, hermetic
# (zone files; then NSD on loopback, nsd.sh). Table-driven: one case per
# rule of RFC 9989 4.10 (the walk: order, label skipping, the limit of
# eight), 4.10.1 (the record that applies: own, organizational, PSD; p,
# sp, np) and 4.10.2 (the organizational domain: psd=y, psd=n, the
# fewest labels), and the records that are none (several at one name, a
# TXT that is not DMARC), DNS failures. Each case checks the exit status,
# lines of the text output, and a Python expression over the JSON; every
# JSON is also checked for the limit (at most eight _dmarc queries) and
# for queries listed in the order asked. Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit}
bin=$(realpath "$bin")
cd "$(dirname "$0")/../.." || exit 1
D=tests/dmarc
Z="--zone $D/dmarc.zone --zone $D/timeout.yml"
py=/usr/bin/python3
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# The table: name | domain | extra arguments | exit | lines the text must
# hold ("&&"-separated, grep -F) | a Python expression over the JSON j,
# with q the list of "TYPE name" of its queries.
cases=(
	"own record: p|org.test||0|DMARC policy for org.test: reject (p= of the record at org.test)&&  TXT  _dmarc.test -> NXDOMAIN|j['policy']=='reject' and j['policy_from']=='p' and j['policy_domain']=='org.test' and j['organizational_domain']=='org.test' and q==['TXT _dmarc.org.test','TXT _dmarc.test']"
	"existing subdomain: sp|sub.org.test||0|sub.org.test: quarantine (sp= of the record at org.test)&&domain exists:  yes|j['policy']=='quarantine' and j['policy_from']=='sp' and j['domain_exists'] and q==['TXT _dmarc.sub.org.test','TXT _dmarc.org.test','TXT _dmarc.test','A sub.org.test']"
	"non-existent subdomain: np|nx.org.test||0|nx.org.test: none (np= of the record at org.test)&&domain exists:  no (NXDOMAIN)&&  A    nx.org.test -> NXDOMAIN|j['policy']=='none' and j['policy_from']=='np' and not j['domain_exists'] and j['p']=='reject' and j['sp']=='quarantine' and j['np']=='none' and j['adkim']=='s' and j['aspf']=='r'"
	"a subdomain's own record|own.org.test||0|own.org.test: none (p= of the record at own.org.test)|j['policy']=='none' and j['policy_domain']=='own.org.test' and j['organizational_domain']=='org.test' and q==['TXT _dmarc.own.org.test','TXT _dmarc.org.test','TXT _dmarc.test']"
	"more than eight labels: eight names, exactly|a.b.c.d.e.f.g.h.i.j.mail.org.test||0|discovery: treewalk (RFC 9989), 9 queries|q==['TXT _dmarc.a.b.c.d.e.f.g.h.i.j.mail.org.test','TXT _dmarc.g.h.i.j.mail.org.test','TXT _dmarc.h.i.j.mail.org.test','TXT _dmarc.i.j.mail.org.test','TXT _dmarc.j.mail.org.test','TXT _dmarc.mail.org.test','TXT _dmarc.org.test','TXT _dmarc.test','A a.b.c.d.e.f.g.h.i.j.mail.org.test'] and j['policy']=='none' and j['policy_from']=='np'"
	"psd=y: the org domain one label below, the PSD's record|x.org1.psd.test||0|x.org1.psd.test: reject (p= of the record at psd.test)&&organizational domain: org1.psd.test|j['organizational_domain']=='org1.psd.test' and j['policy_domain']=='psd.test' and j['psd']=='y' and q==['TXT _dmarc.x.org1.psd.test','TXT _dmarc.org1.psd.test','TXT _dmarc.psd.test','A x.org1.psd.test']"
	"psd=y: an org domain's own record comes first|a.org2.psd.test||0|a.org2.psd.test: none (p= of the record at org2.psd.test)|j['organizational_domain']=='org2.psd.test' and j['policy_domain']=='org2.psd.test'"
	"psd=n: the walk stops there|x.mail.corp.test||0|organizational domain: mail.corp.test|j['organizational_domain']=='mail.corp.test' and j['policy']=='quarantine' and j['psd']=='n' and q==['TXT _dmarc.x.mail.corp.test','TXT _dmarc.mail.corp.test','A x.mail.corp.test']"
	"no psd: the record at the fewest labels|y.other.corp.test||0|y.other.corp.test: reject (p= of the record at corp.test)&&organizational domain: corp.test|j['organizational_domain']=='corp.test' and j['policy_domain']=='corp.test' and 'TXT _dmarc.test' in q"
	"two records at one name: none|two.test||1|DMARC policy for two.test: none: no DMARC record applies&&error dmarc-multiple-records: 2 DMARC records at _dmarc.two.test|j['status']=='none' and j['record'] is None and j['policy'] is None and j['organizational_domain']=='two.test' and any(f['code']=='dmarc-multiple-records' for f in j['findings'])"
	"a TXT that is not DMARC is ignored|mixed.test||0|mixed.test: quarantine (p= of the record at mixed.test)|j['record']=='v=DMARC1; p=quarantine; rua=mailto:d@mixed.test' and j['queries'][0]['records']==2"
	"a TXT that almost is DMARC: a fix|near.test||1|error dmarc-not-dmarc:&&    fix: publish v=DMARC1; p=reject|j['status']=='none' and any(f['code']=='dmarc-not-dmarc' and f['replacement']=='v=DMARC1; p=reject' for f in j['findings'])"
	"no record anywhere|nothing.test||1|warning dmarc-no-record:|j['status']=='none' and j['organizational_domain']=='nothing.test' and q==['TXT _dmarc.nothing.test','TXT _dmarc.test']"
	"DNS failure at the author domain|slow.test||2|DMARC policy for slow.test: temperror&&TXT  _dmarc.slow.test -> TEMPFAIL (timeout)|j['status']=='temperror' and j['policy'] is None and j['organizational_domain'] is None and j['queries'][0]['failure']=='timeout' and any(f['code']=='dmarc-dns-error' for f in j['findings'])"
	"DNS failure higher up|a.slowparent.test||2|temperror|j['status']=='temperror' and q==['TXT _dmarc.a.slowparent.test','TXT _dmarc.slowparent.test']"
	"removed tags and a bad p= with rua=: p=none|old.test||0|old.test: none (p= of the record at old.test)&&error dmarc-bad-value: 'p=rejct'&&    fix: write p=reject&&warning dmarc-removed-tag: 'pct=50'|j['policy']=='none' and j['p'] is None and any(f['code']=='dmarc-removed-tag' and f['replacement']=='v=DMARC1; p=rejct; rua=mailto:d@old.test' for f in j['findings']) and any(f['code']=='dmarc-bad-value' and f['replacement']=='p=reject' and f['record'][f['pos']:f['pos']+f['len']]=='p=rejct' for f in j['findings'])"
	"RFC 7489 discovery with the public suffix list|sub.org.test|--discovery psl|0|discovery: psl (RFC 7489), 3 queries|j['discovery']=='psl' and q==['TXT _dmarc.sub.org.test','TXT _dmarc.org.test','A sub.org.test'] and j['policy']=='quarantine'"
	"RFC 7489: the list, not psd=, names the org domain|x.org1.psd.test|--discovery psl|0|discovery: psl (RFC 7489), 3 queries&&organizational domain: psd.test|j['status']=='found' and j['organizational_domain']=='psd.test' and q==['TXT _dmarc.x.org1.psd.test','TXT _dmarc.psd.test','A x.org1.psd.test']"
	"a trailing dot and capitals|Sub.ORG.test.||0|DMARC policy for sub.org.test: quarantine|j['domain']=='sub.org.test'"
)

for c in "${cases[@]}"; do
	IFS='|' read -r name dom args want lines expr <<<"$c"
	# shellcheck disable=SC2086
	"$bin" dmarc "$dom" $Z $args >"$tmp/out" 2>"$tmp/err"
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
	# shellcheck disable=SC2086
	"$bin" dmarc "$dom" $Z $args --format json >"$tmp/j" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = "$want" ] && $py -c '
import json, sys
j = json.load(open(sys.argv[1]))
q = [x["type"] + " " + x["name"] for x in j["queries"]]
# RFC 9989 4.10: never more than eight _dmarc names; every key present.
assert sum(1 for x in j["queries"] if x["name"].startswith("_dmarc.")) <= 8
for k in ("domain", "record", "policy_domain", "organizational_domain",
          "policy", "p", "sp", "np", "adkim", "aspf", "testing", "psd",
          "discovery", "queries", "findings"):
    assert k in j, k
assert len(q) == len(set(q))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/j" "$expr"; then ok; else
		bad "$name: JSON (exit $rc) fails $expr:"; cat "$tmp/j"; fi
done

# Usage and errors: one line "spfkit dmarc: ...", nothing on stdout.
usage=(
	"no DOMAIN|$Z|64"
	"two domains|a.test b.test $Z|64"
	"not a domain|'a b' $Z|64"
	"an empty label|a..test $Z|64"
	"bad --format|org.test $Z --format xml|64"
	"bad --discovery|org.test $Z --discovery dns|64"
	"--discovery twice|org.test $Z --discovery psl --discovery psl|64"
	"missing zone|org.test --zone $D/nothing.zone|66"
	"unknown option|org.test $Z --ip 192.0.2.1|64"
)
for u in "${usage[@]}"; do
	IFS='|' read -r name args want <<<"$u"
	eval "set -- $args"
	"$bin" dmarc "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = "$want" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
		grep -q '^spfkit dmarc: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then ok; else
		bad "$name: exit $rc (want $want): $(cat "$tmp/err")"; fi
done

# The same over real DNS: NSD on loopback, the libunbound driver.
. $D/nsd.sh

# help, --help and --version.
if "$bin" help dmarc | grep -q '^Usage: spfkit dmarc DOMAIN'; then ok; else bad "help dmarc"; fi
if "$bin" dmarc --help | grep -q -- '--discovery HOW'; then ok; else bad "dmarc --help"; fi
if "$bin" --help | grep -q '^ *dmarc '; then ok; else bad "dmarc in the command list"; fi
if "$bin" dmarc --version | grep -q '^spfkit '; then ok; else bad "dmarc --version"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
