#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/lint/run.sh SPFKIT - `spfkit lint`, `spfkit tree` and `spfkit trace`
# as a user runs them, hermetic (zone files only): every lint rule with a
# record that triggers it and one that must not, the suggested fixes
# (applied and re-linted; fixes.py holds every finding of every run to
# exact, parsing corrections and no '?' for an octet), --ignore and third
# parties' findings apart, exit statuses, the output formats, tree's result
# and problems, and (suite_counts.py) the counts and results of tree, trace
# and lint against the evaluator's for every case of the RFC 7208 suite.
# Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit}
cd "$(dirname "$0")/../.."
Z=tests/lint/rules.zone
suite=${SPFKIT_SUITE:-tests/rfc7208/suite/rfc7208-tests.yml}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# lint_json ARGS...: runs lint --format json into $tmp/j; $rc is its exit.
lint_json() {
	"$bin" lint --format json "$@" >"$tmp/j" 2>"$tmp/e"
	rc=$?
	if ! $py -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/j" 2>/dev/null; then
		bad "lint $*: not JSON (exit $rc)"; cat "$tmp/e"; return 1
	fi
	# Every run's findings go to fixes.py at the end.
	$py -c 'import json,sys; print(json.dumps({"args": sys.argv[2:], "out": json.load(open(sys.argv[1]))}))' "$tmp/j" "$@" >>"$tmp/runs.jsonl"
}

# codes: the finding codes of the last lint_json, one per line.
codes() {
	$py -c 'import json,sys; [print(f["code"]) for f in json.load(open(sys.argv[1]))["findings"]]' "$tmp/j"
}

# has CODE ARGS...: lint reports CODE.
has() {
	local code=$1; shift
	lint_json "$@" || return
	if codes | grep -x -- "$code" >/dev/null; then ok; else bad "lint $*: no $code (got: $(codes | tr '\n' ' '))"; fi
}

# lacks CODE ARGS...: lint does not report CODE (and ran).
lacks() {
	local code=$1; shift
	lint_json "$@" || return
	if codes | grep -x -- "$code" >/dev/null; then bad "lint $*: reports $code"; else ok; fi
}

# clean ARGS...: no finding at all, exit 0.
clean() {
	lint_json "$@" || return
	if [ -z "$(codes)" ] && [ "$rc" -eq 0 ]; then ok; else bad "lint $*: not clean (exit $rc: $(codes | tr '\n' ' '))"; fi
}

# fixed CODE DOMAIN: applies lint's replacement for CODE to DOMAIN's
# record and lints the result as a draft of the same domain: CODE is gone.
fixed() {
	local code=$1 dom=$2
	lint_json "$dom" --zone "$Z" || return
	local rec
	rec=$($py - "$tmp/j" "$code" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["findings"]:
    if f["code"] == sys.argv[2] and f["position"] and f.get("replacement"):
        p = f["position"] - 1
        print(f["record"][:p] + f["replacement"] + f["record"][p + f["length"]:])
        break
EOF
)
	if [ -z "$rec" ]; then bad "fixed $code $dom: no finding with a position and a replacement"; return; fi
	lacks "$code" "$dom" --zone "$Z" --record "$rec"
}

# corrects CODE WANT ARGS...: lint's finding CODE offers exactly the
# corrected record WANT ("": no correction, the fix is in words only).
corrects() {
	local code=$1 want=$2; shift 2
	lint_json "$@" || return
	local got
	got=$($py - "$tmp/j" "$code" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
fs = [f for f in d["findings"] if f["code"] == sys.argv[2]]
print("NONE" if not fs else (fs[0].get("corrected_record") or ""))
EOF
)
	if [ "$got" = "$want" ]; then ok; else bad "lint $*: $code corrects to '$got', want '$want'"; fi
}

# field EXPR WANT ARGS...: the Python expression EXPR over the lint JSON d
# (codes[CODE] is the first finding of CODE) gives WANT.
field() {
	local expr=$1 want=$2; shift 2
	lint_json "$@" || return
	local got
	got=$($py - "$tmp/j" "$expr" <<'EOF' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
codes = {}
for f in d["findings"]:
    codes.setdefault(f["code"], f)
print(eval(sys.argv[2]))
EOF
)
	if [ "$got" = "$want" ]; then ok; else bad "lint $*: $expr is '$(echo "$got" | tail -n 1)', want '$want'"; fi
}

# expect NAME WANT-EXIT PATTERN -- ARGS...: exit status and output.
expect() {
	local name=$1 want=$2 pat=$3; shift 4
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	local r=$?
	if [ "$r" -ne "$want" ]; then bad "$name: exit $r, want $want"; head -n 20 "$tmp/out" "$tmp/err"; return; fi
	if ! cat "$tmp/out" "$tmp/err" | grep -qE -- "$pat"; then bad "$name: output does not match /$pat/"; head -n 20 "$tmp/out" "$tmp/err"; return; fi
	ok
}

# ---------------------------------------------------------------- clean
clean ok.lint.example --zone "$Z"
clean reporting.lint.example --zone "$Z"   # RFC 6652 ra= rp= rr= recognised
clean split.lint.example --zone "$Z"
clean softfail.lint.example --zone "$Z"
clean carveout.lint.example --zone "$Z"    # -ip4 inside +ip4 is no overlap
for d in shop.example example.org mailprovider.example; do
	clean "$d" --zone examples/contact-form.zone
done

# ------------------------------------------- each rule: triggers, and not
has no-record nothing.lint.example --zone "$Z"
lacks no-record ok.lint.example --zone "$Z"
has missing-version spf1only.lint.example --zone "$Z"
has version-not-first quoted.lint.example --zone "$Z"
has version-typo sid.lint.example --zone "$Z"
has glued-all x.lint.example --zone "$Z" --record "v=spf1 a:mail.ok.lint.example-all"
lacks glued-all ok.lint.example --zone "$Z"
has version-no-space nothing.lint.example --zone "$Z" --record 'v=spf1mx -all'
lacks missing-version ok.lint.example --zone "$Z"
has multiple-records multi.lint.example --zone "$Z"
lacks multiple-records ok.lint.example --zone "$Z"
has ipv4-typo ipv4.lint.example --zone "$Z"
fixed ipv4-typo ipv4.lint.example
has ipv6-typo ipv6.lint.example --zone "$Z"
fixed ipv6-typo ipv6.lint.example
has ip-typo ip.lint.example --zone "$Z"
fixed ip-typo ip.lint.example
has include-equals incequals.lint.example --zone "$Z"
fixed include-equals incequals.lint.example
has mechanism-equals x.lint.example --zone "$Z" --record 'v=spf1 a=mail.ok.lint.example -all'
lacks mechanism-equals ok.lint.example --zone "$Z"
has missing-space space.lint.example --zone "$Z"
lacks missing-space split.lint.example --zone "$Z"
has modifier-colon colon.lint.example --zone "$Z"
fixed modifier-colon colon.lint.example
has ip-as-domain ipdomain.lint.example --zone "$Z"
fixed ip-as-domain ipdomain.lint.example
has no-domain nodomain.lint.example --zone "$Z"
has no-domain x.lint.example --zone "$Z" --record 'v=spf1 exists:nodot -all'
lacks no-domain ok.lint.example --zone "$Z"
has exp-not-domain exptext.lint.example --zone "$Z"
lacks syntax exptext.lint.example --zone "$Z"   # the words of the text: one finding
lacks exp-not-domain x.lint.example --zone "$Z" --record 'v=spf1 -all exp=explain._spf.lint.example'
has all-argument allarg.lint.example --zone "$Z"
fixed all-argument allarg.lint.example
has stray-quote stray.lint.example --zone "$Z"
has bad-octet octet.lint.example --zone "$Z"
has syntax generic.lint.example --zone "$Z"
has duplicate-modifier dupmod.lint.example --zone "$Z"
lacks duplicate-modifier ok.lint.example --zone "$Z"
has ptr ptr.lint.example --zone "$Z"
lacks ptr ok.lint.example --zone "$Z"
has all-pass passall.lint.example --zone "$Z"
lacks all-pass ok.lint.example --zone "$Z"
has all-neutral neutral.lint.example --zone "$Z"
lacks all-neutral ok.lint.example --zone "$Z"   # ?all inside an include is usual
has redirect-ignored ignored.lint.example --zone "$Z"
lacks redirect-ignored redirnone.lint.example --zone "$Z"
has after-all afterall.lint.example --zone "$Z"
lacks after-all ok.lint.example --zone "$Z"
has cidr-host-bits hostbits.lint.example --zone "$Z"
fixed cidr-host-bits hostbits.lint.example
has huge-range huge.lint.example --zone "$Z"
has huge-range x.lint.example --zone "$Z" --record 'v=spf1 a:mail.ok.lint.example/8 -all'
lacks huge-range x.lint.example --zone "$Z" --record 'v=spf1 ip4:198.51.100.0/16 -all'
has all-range allrange.lint.example --zone "$Z"
lacks all-range ok.lint.example --zone "$Z"
has no-all noall.lint.example --zone "$Z"
lacks no-all redirnone.lint.example --zone "$Z"
lacks no-all ok.lint.example --zone "$Z"
has local-part-macro local.lint.example --zone "$Z"
lacks local-part-macro x.lint.example --zone "$Z" --record 'v=spf1 exists:%{i}._spf.lint.example -all'
has unknown-modifier unknownmod.lint.example --zone "$Z"
lacks unknown-modifier reporting.lint.example --zone "$Z"
has duplicate-version twoversions.lint.example --zone "$Z"
has duplicate-term dupterm.lint.example --zone "$Z"
lacks duplicate-term ok.lint.example --zone "$Z"
has include-no-record incnone.lint.example --zone "$Z"
has missing-version incnear.lint.example --zone "$Z"   # the near miss is named
lacks include-no-record ok.lint.example --zone "$Z"
has redirect-no-record redirnone.lint.example --zone "$Z"
lacks redirect-no-record colon.lint.example --zone "$Z" --record 'v=spf1 redirect=ok.lint.example'
has loop loop.lint.example --zone "$Z"
lacks loop dupinc.lint.example --zone "$Z"
has void-lookup voids.lint.example --zone "$Z"
has too-many-void-lookups voids.lint.example --zone "$Z"
lacks too-many-void-lookups x.lint.example --zone "$Z" --record 'v=spf1 a:gone1.lint.example a:gone2.lint.example -all'
lacks void-lookup x.lint.example --zone "$Z" --record 'v=spf1 exists:%{i}.gone.lint.example -all'
has mx-none mxnone.lint.example --zone "$Z"
has mx-none nullmx.lint.example --zone "$Z"
lacks mx-none ok.lint.example --zone "$Z"
has mx-too-many mxmany.lint.example --zone "$Z"
lacks mx-too-many ok.lint.example --zone "$Z"
has bad-target --sender 'x..y@badtarget.lint.example' --zone "$Z"
lacks bad-target --sender 'xy@badtarget.lint.example' --zone "$Z"
has dns-error tmo.lint.example --zone tests/lint/timeout.yml
lacks dns-error ok.lint.example --zone "$Z"
has duplicate-include dupinc.lint.example --zone "$Z"
lacks duplicate-include ok.lint.example --zone "$Z"
has duplicate-netblock dupnet.lint.example --zone "$Z"
has overlapping-netblock overlap.lint.example --zone "$Z"
lacks overlapping-netblock carveout.lint.example --zone "$Z"
has answer-large big.lint.example --zone "$Z"
lacks answer-large ok.lint.example --zone "$Z"
has too-many-lookups toomany.lint.example --zone "$Z"
lacks too-many-lookups atlimit.lint.example --zone "$Z"
has lookups-at-limit atlimit.lint.example --zone "$Z"
lacks lookups-at-limit ok.lint.example --zone "$Z"
long=$($py -c 'print("v=spf1 " + " ".join("ip4:198.51.%d.0/24" % i for i in range(14)) + " -all")')
has txt-string-long x.lint.example --zone "$Z" --record "$long"
lacks txt-string-long ok.lint.example --zone "$Z"
has txt-string-long long.lint.example --zone tests/lint/long.zone
lacks txt-string-long split.lint.example --zone "$Z"

# ------------------------------------ fixes safe to paste (issue 13, 2)
# A TAB after v=spf1: the fix is the record with a space, not a '?' (the
# neutral qualifier, which would break the domain's mail).
corrects version-no-space 'v=spf1 ip4:192.0.2.0/24 -all' tab.lint.example --zone "$Z"
field 'codes["version-no-space"]["fix"]' "put a space after v=spf1: 'v=spf1 ip4:192.0.2.0/24 -all'" tab.lint.example --zone "$Z"
corrects version-no-space 'v=spf1 mx -all' x.lint.example --zone "$Z" --record 'v=spf1mx -all'
corrects bad-octet 'v=spf1 ip4:192.0.2.0/24 -all' tabin.lint.example --zone "$Z"
corrects bad-octet 'v=spf1 mx -all' octet.lint.example --zone "$Z"
field '"\\xC2\\xA0" in codes["bad-octet"]["message"]' True octet.lint.example --zone "$Z"
corrects bad-octet 'v=spf1 mx -all' dash.lint.example --zone "$Z"
corrects version-not-first 'v=spf1 mx -all' curly.lint.example --zone "$Z"
corrects version-not-first 'v=spf1 mx -all' quoted.lint.example --zone "$Z"
corrects missing-version 'v=spf1 mx -all' spf1only.lint.example --zone "$Z"
corrects missing-space 'v=spf1 ip4:192.0.2.0/24 include:_spf.ok.lint.example -all' space.lint.example --zone "$Z"
corrects glued-all 'v=spf1 a:mail.ok.lint.example -all' x.lint.example --zone "$Z" --record "v=spf1 a:mail.ok.lint.example-all"
corrects unknown-modifier 'v=spf1 -all redirect=ok.lint.example' unknownmod.lint.example --zone "$Z"
# An octet that is no typing slip: words, and the octet as \x01.
corrects bad-octet '' ctrl.lint.example --zone "$Z"
field '"\\x01" in codes["bad-octet"]["message"]' True ctrl.lint.example --zone "$Z"
# Long terms are quoted whole, never cut with "...".
corrects include-equals "$(sed -n 's/^longterm *IN *TXT *"\(.*\)"$/\1/p' "$Z" | sed 's/include=/include:/')" longterm.lint.example --zone "$Z"
# ipv4: with a name: ip4: would not parse, so there is no text to paste.
corrects ipv4-typo '' badv4.lint.example --zone "$Z"
field 'codes["ipv4-typo"]["fix"] is not None and "ip4:mail" not in codes["ipv4-typo"]["fix"]' True badv4.lint.example --zone "$Z"
# Text output: the octet as \x09 (escaped once), the fix as it is.
expect "lint: text shows octets as \\xHH" 1 "followed by '\\\\x09', not a space" -- lint tab.lint.example --zone "$Z"
expect "lint: the record shows octets as \\xHH" 1 "^    v=spf1\\\\x09ip4:192" -- lint tab.lint.example --zone "$Z"
expect "lint: text fix is the corrected record" 1 "fix: put a space after v=spf1: 'v=spf1 ip4:192\.0\.2\.0/24 -all'$" -- lint tab.lint.example --zone "$Z"
"$bin" lint tab.lint.example --zone "$Z" >"$tmp/out" 2>&1
if grep -q 'x5Cx' "$tmp/out"; then bad "lint: text escapes the escape"; else ok; fi
# A draft over 255 octets: the fix splits it into strings of at most 255
# (fixes.py checks that they join to the record).
long2=$($py -c 'print("v=spf1 " + " ".join("ip4:198.51.%d.0/24" % i for i in range(40)) + " -all")')
field 'len(__import__("re").findall(r"\"([^\"]*)\"", codes["txt-string-long"]["fix"]))' 4 x.lint.example --zone "$Z" --record "$long2"

# --------------------------------------------- new rules (issue 13, 2)
has exp-no-target expnone.lint.example --zone "$Z"
has exp-no-target expnodata.lint.example --zone "$Z"
has exp-multiple expmulti.lint.example --zone "$Z"
has exp-bad-macro expmacro.lint.example --zone "$Z"
clean expok.lint.example --zone "$Z"
lacks exp-no-target expsoft.lint.example --zone "$Z"   # never fetched: ~all
has private-range private.lint.example --zone "$Z"
field 'sum(1 for f in d["findings"] if f["code"] == "private-range")' 3 private.lint.example --zone "$Z"
has loopback-range loopback.lint.example --zone "$Z"
field 'sum(1 for f in d["findings"] if f["code"] == "loopback-range")' 2 loopback.lint.example --zone "$Z"
has link-local-range linklocal.lint.example --zone "$Z"
field 'sum(1 for f in d["findings"] if f["code"] == "link-local-range")' 2 linklocal.lint.example --zone "$Z"
clean public.lint.example --zone "$Z"   # 172.32/16 is public; -ip4:10/8 denies
lacks private-range ok.lint.example --zone "$Z"

# ------------------------------- advice matches the cause (issue 13, 2)
# exists:%{i} finds nothing for most clients by design: no "stale" advice.
has too-many-void-lookups design.lint.example --zone "$Z"
field '"by design" in codes["too-many-void-lookups"]["message"]' True design.lint.example --zone "$Z"
field '"stale" in codes["too-many-void-lookups"]["fix"] or "do not exist" in codes["too-many-void-lookups"]["fix"]' False design.lint.example --zone "$Z"
lacks void-lookup design.lint.example --zone "$Z"
# ptr and exists by design, a:gone1 stale: the fix names the stale term.
field '"a:gone1.lint.example" in codes["too-many-void-lookups"]["fix"] and "by design" in codes["too-many-void-lookups"]["message"]' True designptr.lint.example --zone "$Z"
field '"stale" in codes["too-many-void-lookups"]["fix"]' True voids.lint.example --zone "$Z"

# ------------------------------------- scope: --ignore and third parties
T=tests/lint/thirdparty.zone
expect "lint --ignore: the code is dropped" 0 'no problems found' -- lint ptr.lint.example --zone "$Z" --strict --ignore ptr
expect "lint --ignore: a list" 0 'no problems found' -- lint neutral.lint.example --zone "$Z" --strict --ignore ptr,all-neutral
expect "lint --ignore: an unknown code" 64 "--ignore: unknown code 'bogus'" -- lint ptr.lint.example --zone "$Z" --ignore ptr,bogus
lacks ptr ptr.lint.example --zone "$Z" --ignore ptr
field 'd["warnings"]' 0 ptr.lint.example --zone "$Z" --ignore ptr
# The owner's own subdomain is the owner's; the provider's are apart.
field 'sorted((f["code"], f["third_party"]) for f in d["findings"])' "[('overlapping-netblock', True), ('ptr', False)]" owner.example --zone "$T"
field 'd["third_party"]' "{'errors': 0, 'warnings': 1, 'infos': 0}" owner.example --zone "$T"
field 'd["warnings"]' 1 owner.example --zone "$T"
expect "lint --strict: own warnings fail" 1 'ptr' -- lint owner.example --zone "$T" --strict
expect "lint --strict: a provider's warnings do not" 0 'overlapping-netblock' -- lint tidy.example --zone "$T" --strict
expect "lint --strict-all: they do" 1 'overlapping-netblock' -- lint tidy.example --zone "$T" --strict-all
expect "lint: text reports third parties apart" 0 '^in third-party includes' -- lint tidy.example --zone "$T"
# A network the owner repeats: the owner can act, so it is the owner's;
# the provider's /25 within its own /24 stays the provider's.
field '[(f["code"], f["third_party"]) for f in d["findings"] if f["code"].endswith("netblock")]' "[('duplicate-netblock', False), ('overlapping-netblock', True)]" repeat.example --zone "$T"
# A provider's error breaks the owner's mail: it always counts.
expect "lint: a provider's error still fails" 1 'ipv4-typo' -- lint broken.example --zone "$T"
# Void lookups: the owner's stale a:, the provider's exists:%{i} by design.
field '"a:gone.designed.example" in codes["too-many-void-lookups"]["fix"] and "by design" in codes["too-many-void-lookups"]["message"] and not codes["too-many-void-lookups"]["third_party"]' True designed.example --zone "$T"

# The worst path through includes: 12 terms, counted as the evaluator
# counts them (a check from the same IP stops at the 11th).
lint_json toomany.lint.example --zone "$Z"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["lookups"], d["void_lookups"])' "$tmp/j")
[ "$n" = "12 0" ] && ok || bad "toomany: lookups '$n', want '12 0'"
"$bin" check --zone "$Z" --ip 192.0.2.1 --sender a@toomany.lint.example --format json >"$tmp/c"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["lookups"])' "$tmp/c")
[ "$n" = "permerror 11" ] && ok || bad "toomany check: '$n', want 'permerror 11'"

# ---------------------------------------------------------------- exit
expect "lint: errors exit 1" 1 'ipv4-typo' -- lint ipv4.lint.example --zone "$Z"
expect "lint: clean exits 0" 0 'no problems found' -- lint ok.lint.example --zone "$Z"
expect "lint: warnings alone exit 0" 0 'warning +ptr' -- lint ptr.lint.example --zone "$Z"
expect "lint --strict: warnings exit 1" 1 'warning +ptr' -- lint ptr.lint.example --zone "$Z" --strict
expect "lint: text shows the fix" 1 'fix: ip4:192\.0\.2\.0/24' -- lint ipv4.lint.example --zone "$Z"
expect "lint: text marks the term" 1 '^ +\^{17}$' -- lint ipv4.lint.example --zone "$Z"
expect "lint: a draft zone" 1 'long\.zone:3' -- lint long.lint.example --zone tests/lint/long.zone
expect "lint: a draft zone, --ignore" 0 'no problems found' -- lint long.lint.example --zone tests/lint/long.zone --ignore txt-string-long
expect "lint: the bundled draft" 1 'include-no-record' -- lint shop.example --zone examples/lint-draft.zone
expect "lint: no argument" 64 'give a DOMAIN' -- lint
expect "lint: two domains" 64 'unexpected argument' -- lint a.example b.example
expect "lint: unknown option" 64 'unknown or ambiguous option' -- lint a.example --bogus
expect "lint: no dot format" 64 "is not text or json" -- lint a.example --format dot
expect "lint: DOMAIN and --sender" 64 'not both' -- lint a.example --sender x@b.example
expect "lint: missing zone" 66 'cannot|No such' -- lint a.example --zone "$tmp/none.zone"
printf 'x.example. IN BOGUSTYPE foo\n' >"$tmp/bad.zone"
expect "lint: bad zone" 65 'bad\.zone' -- lint x.example --zone "$tmp/bad.zone"
expect "lint --help" 0 'Usage: spfkit lint' -- lint --help
expect "help lint" 0 'Usage: spfkit lint' -- help lint
expect "tree --strict is not an option" 64 'does not apply' -- tree a.example --strict
expect "trace needs --ip" 64 '--ip IP is required' -- trace --sender a@b.example --zone "$Z"
expect "hostile names are escaped" 0 'x\\x1B\[31m' -- tree --zone "$Z" --sender 'a@x.lint.example' --record "$(printf 'v=spf1 a:x\033[31m.lint.example -all')"

# ---------------------------------------------------------------- tree
expect "tree: the include and its record" 0 '_spf\.mailprovider\.example  \[include, TXT ttl 3600\]' -- tree shop.example --zone examples/contact-form.zone
expect "tree: addresses" 0 'authorises 256 IPv4 addresses, 1 IPv6 prefix' -- tree shop.example --zone examples/contact-form.zone
expect "tree: totals" 0 '^total: 12 of 10 DNS-querying terms' -- tree toomany.lint.example --zone "$Z"
expect "tree: dot" 0 '^digraph spf' -- tree shop.example --zone examples/contact-form.zone --format dot
expect "tree: dot shows octets as \\xHH" 0 'a:x\\\\x01\\\\x5C\\"y' -- tree --zone "$Z" --sender 'a@x.lint.example' --format dot --record "$(printf 'v=spf1 a:x\001\\"y.lint.example -all')"
expect "tree: dot edge" 0 'n0 -> n1 \[label="include:_spf\.mailprovider\.example"\]' -- tree shop.example --zone examples/contact-form.zone --format dot
"$bin" tree toomany.lint.example --zone "$Z" --format json >"$tmp/t"
n=$($py - "$tmp/t" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def nodes(n):
    yield n
    for t in n["terms"]:
        if t["child"]:
            yield from nodes(t["child"])
ns = list(nodes(d["tree"]))
print(d["lookups"], sum(n["own_lookups"] for n in ns), len(ns),
      ns[0]["terms"][0]["child"]["own_lookups"])
EOF
)
[ "$n" = "12 12 3 5" ] && ok || bad "tree json: '$n', want '12 12 3 5'"
"$bin" tree ok.lint.example --zone "$Z" --format json >"$tmp/t"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1]))["tree"]; print(d["ipv4_addresses"], d["total_ipv4_addresses"], d["ipv6_prefixes"], d["total_ipv6_prefixes"])' "$tmp/t")
# own: 192.0.2.0/24 + mx host + a host (the same, counted once) = 257;
# with the include's 203.0.113.0/24: 513. IPv6: the /32 only (A walk).
[ "$n" = "257 513 1 1" ] && ok || bad "tree addresses: '$n', want '257 513 1 1'"

# The top result is the evaluator's for the tree's client: past the void
# limit every check gives permerror (issue 13, 3).
"$bin" tree voids.lint.example --zone "$Z" --format json >"$tmp/t"
n=$($py - "$tmp/t" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["result"], d["reason"], d["tree"]["result"],
      [(p["reason"], p["domain"], p["term"]) for p in d["problems"]])
EOF
)
[ "$n" = "permerror void-limit permerror [('void-limit', 'voids.lint.example', 'a:gone3.lint.example')]" ] && ok || bad "tree voids json: '$n'"
expect "tree: the result line" 0 '^result: permerror \(too many void lookups' -- tree voids.lint.example --zone "$Z"
"$bin" check --zone "$Z" --ip 192.0.2.1 --sender postmaster@voids.lint.example --format json >"$tmp/c"
n=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' "$tmp/c")
[ "$n" = permerror ] && ok || bad "check voids: '$n'"
# An include without a record, a DNS failure: the problem and where.
"$bin" tree incnone.lint.example --zone "$Z" --format json >"$tmp/t"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], [(p["reason"], p["where"]) for p in d["problems"]])' "$tmp/t")
[ "$n" = "permerror [('include-none', 'incnone.lint.example > include nothing.lint.example')]" ] && ok || bad "tree incnone json: '$n'"
"$bin" tree tmo.lint.example --zone tests/lint/timeout.yml --format json >"$tmp/t"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], [p["reason"] for p in d["problems"]])' "$tmp/t")
[ "$n" = "temperror ['dns-error']" ] && ok || bad "tree tmo json: '$n'"
# The client is listed: the check passes; the walk still shows the tree,
# and the root's result is what a client it does not list gets.
"$bin" tree ok.lint.example --zone "$Z" --ip 192.0.2.77 --format json >"$tmp/t"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["mechanism"], d["tree"]["result"], d["problems"])' "$tmp/t")
[ "$n" = "pass ip4:192.0.2.0/24 fail []" ] && ok || bad "tree pass json: '$n'"
# A loop: a check goes round until the limit, so every record on it is
# permerror, and the loop is a problem with its place.
"$bin" tree loop.lint.example --zone "$Z" --format json >"$tmp/t"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["tree"]["result"], d["tree"]["terms"][0]["child"]["result"], [(p["reason"], p["where"]) for p in d["problems"]])' "$tmp/t")
[ "$n" = "permerror permerror permerror [('loop', 'loop.lint.example > include loop2.lint.example')]" ] && ok || bad "tree loop json: '$n'"

# ---------------------------------------------------------------- trace
expect "trace: fail exits 1" 1 '^result: fail' -- trace --zone examples/contact-form.zone --ip 203.0.113.5 --sender visitor@example.org
expect "trace: the answer" 1 'MX example\.org -> NOERROR mail\.example\.org \(ttl 3600' -- trace --zone examples/contact-form.zone --ip 203.0.113.5 --sender visitor@example.org
expect "trace: counters" 1 'term mx \(counts\)   \[lookups 1/10, void 0/2\]' -- trace --zone examples/contact-form.zone --ip 203.0.113.5 --sender visitor@example.org
expect "trace: why" 1 "why +'-all' matched" -- trace --zone examples/contact-form.zone --ip 203.0.113.5 --sender visitor@example.org
expect "trace: pass through include" 0 "why +'include:_spf\.mailprovider\.example' matched" -- trace --zone examples/contact-form.zone --ip 203.0.113.5 --sender forms@shop.example
expect "trace: void lookup" 1 'void lookup: A gone1\.lint\.example does not exist' -- trace --zone "$Z" --ip 192.0.2.1 --sender a@x.lint.example --record 'v=spf1 a:gone1.lint.example -all'
expect "trace: permerror" 5 'more than 10 DNS-querying terms' -- trace --zone "$Z" --ip 192.0.2.1 --sender a@toomany.lint.example
"$bin" trace --zone examples/contact-form.zone --ip 203.0.113.5 --sender visitor@example.org --format json >"$tmp/tr"
n=$($py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["result"], d["lookups"], d["events"][-1]["event"], sorted(set(e["event"] for e in d["events"])))' "$tmp/tr")
[ "$n" = "fail 1 result ['answer', 'frame', 'frame_end', 'lookup', 'query', 'record', 'result', 'term', 'term_end']" ] && ok || bad "trace json: '$n'"

# ------------------------------------------------ the suite, every case
if [ -f "$suite" ]; then
	$py tests/lint/suite_counts.py "$bin" "$suite" >"$tmp/s" 2>&1
	line=$(tail -n 1 "$tmp/s")
	if echo "$line" | grep -qE '^[0-9]+ passed, [0-9]+ failed$'; then
		pass=$((pass + $(echo "$line" | cut -d' ' -f1)))
		f=$(echo "$line" | cut -d' ' -f3)
		fail=$((fail + f))
		[ "$f" -eq 0 ] || grep FAIL "$tmp/s" | head -n 20
		grep -E '^[0-9]+ cases' "$tmp/s"
	else
		bad "suite_counts.py gave no count"; tail -n 20 "$tmp/s"
	fi
else
	bad "the RFC 7208 suite is not at $suite (set SPFKIT_SUITE)"
fi

# ------------------------------------------ every finding of every run
$py tests/lint/fixes.py "$bin" "$tmp/runs.jsonl" >"$tmp/fx" 2>&1
line=$(tail -n 1 "$tmp/fx")
if echo "$line" | grep -qE '^[0-9]+ passed, [0-9]+ failed$'; then
	pass=$((pass + $(echo "$line" | cut -d' ' -f1)))
	f=$(echo "$line" | cut -d' ' -f3)
	fail=$((fail + f))
	[ "$f" -eq 0 ] || grep FAIL "$tmp/fx" | head -n 30
	grep -E '^[0-9]+ findings' "$tmp/fx"
else
	bad "fixes.py gave no count"; tail -n 20 "$tmp/fx"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
