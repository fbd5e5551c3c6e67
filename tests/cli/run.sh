#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/cli/run.sh SPFKIT - the spfkit command as a user runs it: results
# and exit statuses on the bundled example, every output format, batch
# mode, usage errors, header injection, --help and the man page.
# Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit}
cd "$(dirname "$0")/../.."
zone=examples/contact-form.zone
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect NAME WANT-EXIT GREP-PATTERN -- ARGS...: runs spfkit, checks the
# exit status and that stdout+stderr match the pattern.
expect() {
	local name=$1 want=$2 pat=$3; shift 4
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then bad "$name: exit $rc, want $want"; cat "$tmp/out" "$tmp/err"; return; fi
	if ! cat "$tmp/out" "$tmp/err" | grep -qE -- "$pat"; then bad "$name: output does not match /$pat/"; cat "$tmp/out" "$tmp/err"; return; fi
	ok
}

# one_line NAME: the last command's stderr is exactly one line.
one_line() {
	if [ "$(wc -l <"$tmp/err")" -eq 1 ]; then ok; else bad "$1: stderr is not one line"; cat "$tmp/err"; fi
}

C=(check --zone "$zone")
expect "contact form as visitor: fail" 1 '^fail: 203\.0\.113\.5 is not authorised' -- "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org --helo www.shop.example
expect "fail shows the exp= explanation" 1 'may not send as example\.org' -- "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org
expect "contact form as the shop: pass" 0 '^pass: 203\.0\.113\.5 is authorised' -- "${C[@]}" --ip 203.0.113.5 --sender forms@shop.example --helo www.shop.example
expect "IPv6 through the include" 0 '^pass' -- "${C[@]}" --ip 2001:db8:113::9 --sender forms@shop.example
expect "IPv4-mapped IPv6 is IPv4" 0 '^pass' -- "${C[@]}" --ip ::ffff:203.0.113.5 --sender forms@shop.example
expect "null sender checks HELO" 0 'identity +mailfrom +postmaster@www\.shop\.example' -- "${C[@]}" --ip 203.0.113.5 --sender '' --helo www.shop.example
expect "<> is the null sender" 0 'postmaster@www\.shop\.example' -- "${C[@]}" --ip 203.0.113.5 --sender '<>' --helo www.shop.example
expect "--scope helo" 1 '^fail' -- "${C[@]}" --ip 203.0.113.6 --sender forms@shop.example --helo www.shop.example --scope helo
expect "no record: none" 4 '^none' -- "${C[@]}" --ip 203.0.113.5 --sender a@nothing.example
expect "malformed domain: none" 4 '^none' -- "${C[@]}" --ip 203.0.113.5 --sender 'a@legit.example(.attacker.example)'
expect "draft record with --record" 0 '^pass' -- "${C[@]}" --ip 198.51.100.77 --sender visitor@example.org --record 'v=spf1 ip4:198.51.100.0/24 mx -all'
expect "draft with a typo: permerror" 5 'did you mean .ip4:' -- "${C[@]}" --ip 198.51.100.77 --sender visitor@example.org --record 'v=spf1 ipv4:198.51.100.0/24 -all'
expect "%{t} is the time of the check" 1 'at 1[0-9]{9} ' -- "${C[@]}" --ip 203.0.113.5 --sender forms@shop.example --record 'v=spf1 -all' --explanation 'at %{t} go'
expect "custom default explanation" 1 'go away 203\.0\.113\.5' -- "${C[@]}" --ip 203.0.113.5 --sender forms@shop.example --helo x.example --record 'v=spf1 -all' --explanation 'go away %{i}'

# JSON: valid, with the documented keys.
"$bin" "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org --format json >"$tmp/j"
if python3 - "$tmp/j" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
for k in ("result", "explanation", "domain", "identity", "mechanism", "lookups", "void_lookups", "problem"):
    assert k in o, k
assert o["result"] == "fail" and o["domain"] == "example.org" and o["identity"] == "mailfrom"
assert o["mechanism"] == "-all" and o["lookups"] == 1 and o["void_lookups"] == 0
PY
then ok; else bad "json keys"; cat "$tmp/j"; fi

expect "received-spf" 0 '^Received-SPF: pass .*client-ip=203\.0\.113\.5;.*envelope-from=' -- "${C[@]}" --ip 203.0.113.5 --sender forms@shop.example --format received-spf
expect "authres" 1 '^Authentication-Results: mx\.example; spf=fail .*smtp\.mailfrom=visitor@example\.org' -- "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org --format authres --authserv-id mx.example

# Header injection: CR, LF and controls from the sender never reach the header.
"$bin" "${C[@]}" --ip 203.0.113.5 --sender $'a\r\nX-Evil: 1\x01@shop.example' --format received-spf >"$tmp/h"
if [ "$(wc -l <"$tmp/h")" -eq 1 ] && ! grep -q $'\r' "$tmp/h" && ! grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$tmp/h"; then ok; else bad "header injection"; od -c "$tmp/h" | head; fi

# Usage errors: exit 64 and one clear line.
expect "bad IP" 64 "is not an IPv4 or IPv6 address" -- "${C[@]}" --ip 1.2.3 --sender a@shop.example; one_line "bad IP"
expect "missing --ip" 64 "--ip" -- "${C[@]}" --sender a@shop.example; one_line "missing --ip"
expect "authres without authserv-id" 64 "authserv-id" -- "${C[@]}" --ip 203.0.113.5 --sender a@shop.example --format authres; one_line "authres without id"
expect "bad format" 64 "format" -- "${C[@]}" --ip 203.0.113.5 --sender a@shop.example --format xml; one_line "bad format"
expect "unknown command" 64 "unknown command" -- frobnicate; one_line "unknown command"
expect "zone is a directory" 66 "regular file|directory" -- check --zone "$tmp" --ip 203.0.113.5 --sender a@shop.example; one_line "zone dir"
expect "missing zone file" 66 "no-such-file" -- check --zone "$tmp/no-such-file" --ip 203.0.113.5 --sender a@shop.example; one_line "missing zone"
printf 'example.org. IN TXT "v=spf1 -all"\nbroken line here\n' >"$tmp/bad.zone"
expect "zone syntax error names the line" 65 'bad\.zone:2' -- check --zone "$tmp/bad.zone" --ip 203.0.113.5 --sender a@example.org; one_line "bad zone"
expect "help" 0 'Usage: spfkit check' -- check --help
expect "top help" 0 'Usage: spfkit' -- --help
expect "version" 0 '[0-9]+\.[0-9]+' -- --version

# Batch: one line out per line in, in order; a malformed line gets its own error.
printf '203.0.113.5\tvisitor@example.org\twww.shop.example\n203.0.113.5\tforms@shop.example\twww.shop.example\nnot-an-ip\tx@y.example\n203.0.113.5\n203.0.113.5\t\twww.shop.example\r\n' >"$tmp/batch"
"$bin" "${C[@]}" --batch <"$tmp/batch" >"$tmp/bo" 2>"$tmp/be"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/bo")" -eq 5 ] && sed -n 1p "$tmp/bo" | grep -q fail && sed -n 2p "$tmp/bo" | grep -q pass \
	&& sed -n 3p "$tmp/bo" | grep -q '^error: line 3' && sed -n 4p "$tmp/bo" | grep -q '^error: line 4' && sed -n 5p "$tmp/bo" | grep -q pass; then ok
else bad "batch text (exit $rc)"; cat "$tmp/bo" "$tmp/be"; fi
"$bin" "${C[@]}" --batch --format json <"$tmp/batch" >"$tmp/bj"
if python3 - "$tmp/bj" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 5, len(lines)
objs = [json.loads(l) for l in lines]
assert [o.get("result") for o in objs] == ["fail", "pass", None, None, "pass"], objs
assert objs[2]["line"] == 3 and "error" in objs[2]
PY
then ok; else bad "batch json"; cat "$tmp/bj"; fi

# A long stream stays in order and in one process.
for i in $(seq 1 2000); do printf '203.0.113.%d\tforms@shop.example\n198.51.100.%d\tforms@shop.example\n' $((i % 250)) $((i % 250)); done >"$tmp/many"
"$bin" "${C[@]}" --batch --format json <"$tmp/many" >"$tmp/mo"
if [ "$(wc -l <"$tmp/mo")" -eq 4000 ] && [ "$(grep -c '"result":"pass"' "$tmp/mo")" -eq 2000 ] && [ "$(grep -c '"result":"fail"' "$tmp/mo")" -eq 2000 ] \
	&& sed -n 2p "$tmp/mo" | grep -q '"result":"fail"'; then ok; else bad "batch of 4000"; fi

# Batch text fields are terminal-safe: a space, backslash, control and
# high octets as \xHH; printable ASCII (the quote too) as it is.
printf '203.0.113.5\ta "q" b\\c\377\001\177~!@example.org\n' >"$tmp/odd"
"$bin" "${C[@]}" --batch <"$tmp/odd" >"$tmp/oo" 2>&1
if [ "$(cat "$tmp/oo")" = '203.0.113.5 a\x20"q"\x20b\x5Cc\xFF\x01\x7F~!@example.org fail -all' ]; then ok; else
	bad "batch text escaping"; cat "$tmp/oo"; fi

# --timing: the check's time in every format that shows a check.
expect "--timing: a time row" 1 '^  time +[0-9]+\.[0-9] ms$' -- "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org --timing
expect "--timing: elapsed_ms in JSON" 1 '"queries":[0-9]+,"elapsed_ms":[0-9]+\.[0-9]{3}\}$' -- "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org --format json --timing
expect "--timing: last field of a batch line" 0 '^203\.0\.113\.5 forms@shop\.example pass .* [0-9]+\.[0-9]{3}ms$' -- "${C[@]}" --batch --timing < <(printf '203.0.113.5\tforms@shop.example\n')
expect "no elapsed_ms without --timing" 1 '"queries":[0-9]+\}$' -- "${C[@]}" --ip 203.0.113.5 --sender visitor@example.org --format json
# --no-cache wants a batch over real DNS, one line at a time.
expect "--no-cache with a zone alone" 64 'no-cache applies to --batch with real DNS' -- "${C[@]}" --batch --no-cache </dev/null
one_line "--no-cache with a zone alone"
expect "--no-cache with --concurrency" 64 'one line at a time; drop --concurrency' -- check --batch --nameserver 127.0.0.1@9 --no-cache --concurrency 4 </dev/null
one_line "--no-cache with --concurrency"

# ---------------------------------------------------------------- what a result tells
T=(check --zone tests/cli/tell.zone)
# The matched term is the innermost one, with the terms that led to it;
# mechanism (Received-SPF's mechanism=) stays the customer's include.
expect "innermost term, via the include chain" 0 '^  matched +ip4:203\.0\.113\.0/24  via include:_spf\.provider\.example > include:_nb\.provider\.example$' -- "${T[@]}" --ip 203.0.113.9 --sender a@customer.example
expect "innermost term through a redirect" 2 '^  matched +~all  via redirect=_spf\.provider\.example$' -- "${T[@]}" --ip 192.0.2.99 --sender a@redirected.example
expect "the checked domain's own term: in" 1 '^  matched +-all  in customer\.example$' -- "${T[@]}" --ip 192.0.2.99 --sender a@customer.example
expect "Received-SPF keeps the include as mechanism" 0 'mechanism="include:_spf\.provider\.example"$' -- "${T[@]}" --ip 2001:db8:4860::5 --sender a@customer.example --format received-spf
"$bin" "${T[@]}" --ip 2001:db8:4860::5 --sender a@customer.example --format json >"$tmp/j"
if python3 - "$tmp/j" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["mechanism"] == "include:_spf.provider.example", o
assert o["matched"] == "ip6:2001:db8:4860::/48", o
assert o["via"] == "include:_spf.provider.example > include:_nb6.provider.example", o
PY
then ok; else bad "json matched and via"; cat "$tmp/j"; fi
"$bin" "${T[@]}" --ip 192.0.2.99 --sender a@customer.example --format json >"$tmp/j"
if python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["matched"] == "-all" and o["via"] == "", o' "$tmp/j"; then ok; else bad "json via of a direct match"; cat "$tmp/j"; fi
expect "batch detail: innermost term and route" 0 '^203\.0\.113\.9 a@customer\.example pass ip4:203\.0\.113\.0/24 via include:_spf\.provider\.example > include:_nb\.provider\.example$' -- "${T[@]}" --batch < <(printf '203.0.113.9\ta@customer.example\n')
# Loops are reported as loops (permerror, reason loop), not as the limit.
expect "include loop" 5 '^  problem +a loop: include:ping\.example in the record of pong\.example leads back to ping\.example' -- "${T[@]}" --ip 192.0.2.1 --sender a@ping.example
expect "redirect loop" 5 'a loop: redirect=self\.example in the record of self\.example leads back' -- "${T[@]}" --ip 192.0.2.1 --sender a@self.example
expect "loop reason in JSON" 5 '"reason":"loop"' -- "${T[@]}" --ip 192.0.2.1 --sender a@ping.example --format json
# DNS failures are named.
expect "a timeout is named" 6 '^  problem +DNS failure \(timeout\) for A dead\.slow\.example$' -- check --zone tests/cli/timeout.yml --ip 192.0.2.1 --sender a@slow.example
expect "trace names it too" 6 'A dead\.slow\.example -> TEMPFAIL \(timeout\)' -- trace --zone tests/cli/timeout.yml --ip 192.0.2.1 --sender a@slow.example
expect "and lint" 1 'DNS failure \(timeout\) for A dead\.slow\.example' -- lint --zone tests/cli/timeout.yml slow.example
# The default explanation is readable for an IPv6 client.
expect "default explanation, IPv6 client" 1 '^  explanation  2001:db8::7 is not one of customer\.example.s designated mail servers' -- "${T[@]}" --ip 2001:db8::7 --sender a@customer.example
# --record without v=spf1 is a usage error, not a permerror.
expect "--record without v=spf1" 64 "--record: 'ip4:192\.0\.2\.1 -all' is not an SPF record" -- "${T[@]}" --ip 192.0.2.1 --sender a@customer.example --record 'ip4:192.0.2.1 -all'
one_line "--record without v=spf1"
expect "--record v=spf1 alone" 3 '^neutral' -- "${T[@]}" --ip 192.0.2.1 --sender a@customer.example --record 'V=SPF1'
# --scope helo: the header carries the real envelope sender.
expect "--scope helo header: envelope-from" 0 'envelope-from="a@customer\.example"; helo=relay\.customer\.example; .*identity=helo' -- "${T[@]}" --ip 192.0.2.25 --sender a@customer.example --helo relay.customer.example --scope helo --format received-spf
# A null sender without a HELO name has no usable domain: none.
expect "null sender, no HELO: none" 4 '^none: there is no domain to check' -- "${T[@]}" --ip 192.0.2.1 --sender ''
expect "null sender, empty HELO: none" 4 'no domain to check: a null sender' -- "${T[@]}" --ip 192.0.2.1 --sender '<>' --helo ''
expect "batch: null sender without HELO is none" 0 '^192\.0\.2\.1 postmaster@ none no domain to check' -- "${T[@]}" --batch < <(printf '192.0.2.1\t\n192.0.2.1\t<>\t\n')
if [ "$(grep -c ' none no domain' "$tmp/out")" -eq 2 ]; then ok; else bad "batch: two none lines"; cat "$tmp/out"; fi
# A local part that makes the macro no domain name finds nothing: the
# sender cannot turn the domain's fail into a permerror (RFC 7208 7.1).
expect "macro, a good local part" 0 '^pass' -- "${T[@]}" --ip 192.0.2.1 --sender info@macro.example
expect "macro, local part a..b: fail, not permerror" 1 '^  matched +-all  in macro\.example$' -- "${T[@]}" --ip 192.0.2.1 --sender a..b@macro.example
# --zone answers as an authoritative server loaded with the same files.
cat >"$tmp/published.zone" <<'ZONE'
$ORIGIN shop.example.
@                TXT "v=spf1 ip4:192.0.2.0/24 -all"
@                TXT "google-site-verification=abc"
; RFC 4592 wildcards: every reverse-style name below answers
*.in-addr        TXT "v=spf1 a:%{ir}.in-addr.shop.example -all"
*.in-addr        A   192.0.2.7
; an SPF (type 99) record is no TXT record for a server
spf99            SPF "v=spf1 +all"
ZONE
cat >"$tmp/draft.zone" <<'ZONE'
$ORIGIN shop.example.
@                TXT "v=spf1 ip4:198.51.100.0/24 -all"
@                TXT "google-site-verification=abc"
ZONE
Z=(check --zone "$tmp/published.zone")
expect "wildcard TXT and A" 0 '^pass' -- "${Z[@]}" --ip 192.0.2.7 --sender a@4.3.2.1.in-addr.shop.example
expect "type 99 in a master file is not TXT" 4 '^none: spf99\.shop\.example publishes no SPF record' -- "${Z[@]}" --ip 192.0.2.7 --sender a@spf99.shop.example
expect "published alone" 1 '^fail' -- "${Z[@]}" --ip 198.51.100.5 --sender a@shop.example
expect "a draft laid over the published zone" 0 '^pass' -- "${Z[@]}" --zone "$tmp/draft.zone" --ip 198.51.100.5 --sender a@shop.example
expect "the draft replaces the published record" 1 '^fail' -- "${Z[@]}" --zone "$tmp/draft.zone" --ip 192.0.2.9 --sender a@shop.example
expect "the same file twice: records are one" 1 '^fail' -- "${Z[@]}" --zone "$tmp/published.zone" --ip 198.51.100.5 --sender a@shop.example
# A TXT string over 255 octets: the clear message, with file:line, everywhere.
printf 'a.example. TXT "v=spf1 %0300d -all"\n' 0 >"$tmp/long.zone"
for c in check trace; do
	expect "$c: long TXT string" 65 "long\.zone:1: a TXT string of 312 octets: a character-string holds at most 255" -- "$c" --zone "$tmp/long.zone" --ip 192.0.2.1 --sender a@a.example
	one_line "$c: long TXT string"
done
expect "tree: long TXT string" 65 "long\.zone:1: a TXT string of 312 octets" -- tree --zone "$tmp/long.zone" a.example

# --batch fed by a pipe that stays open (tail -f mail.log | ...) writes
# each result when it is known, not at the end of input: over the zone,
# and over the resolver (zone names only; 127.0.0.1@9 is never asked).
for mode in zone resolver; do
	extra=()
	[ "$mode" = resolver ] && extra=(--nameserver 127.0.0.1@9)
	if python3 - "$bin" "$mode" "${extra[@]}" <<'PY'
import select, subprocess, sys
bin, mode, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
p = subprocess.Popen([bin, "check", "--zone", "tests/cli/tell.zone", "--batch", *extra],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def one(line, want):
    p.stdin.write(line.encode()); p.stdin.flush()
    # A guard against a hang, not a timing: the line must come while
    # standard input is still open.
    r, _, _ = select.select([p.stdout], [], [], 20)
    got = p.stdout.readline().decode() if r else ""
    if want not in got:
        print(f"{mode}: after {line!r} got {got!r}, want {want!r}"); p.kill(); sys.exit(1)
one("203.0.113.9\ta@customer.example\n", " pass ")
one("192.0.2.99\ta@customer.example\n", " fail ")
p.stdin.close()
sys.exit(p.wait(20))
PY
	then ok; else bad "batch over a pipe held open ($mode): results wait for the end of input"; fi
done

# --version on every subcommand, and -V.
for c in check trace tree lint message srs; do
	expect "$c --version" 0 '^spfkit [0-9]+\.[0-9]+\.[0-9]+ \(libspfkit ' -- "$c" --version
done
expect "-V" 0 '^spfkit [0-9]+\.[0-9]+' -- -V
expect "--version among check's options" 0 '^spfkit [0-9]' -- "${T[@]}" --ip 192.0.2.1 --version
expect "--version as an option's value is a value" 4 'helo --version' -- "${T[@]}" --ip 192.0.2.1 --sender a@nothing.example --helo --version

# The man page renders.
if MANWIDTH=80 man -l man/spfkit.1 2>/dev/null | grep -q 'EXIT STATUS'; then ok; else bad "man page does not render"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
