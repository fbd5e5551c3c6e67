#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/message/run.sh SPFKIT - `spfkit message` on the fixtures of this
# directory: a direct send, a forward, a mailing list, two DSN bounces
# (message/rfc822 and text/rfc822-headers) and an Exim bounce, forged
# Authentication-Results, a sending service's envelope domain, a contact
# form, folded headers (Microsoft), 8-bit and malformed fields, CRLF, a
# missing Return-Path; then unparsable input, usage errors and output
# hygiene. DNS comes from message.zone only (hermetic). Assertions read
# the JSON output with python3. Ends with "N passed, N failed".
set -u
bin=${1:?usage: run.sh PATH-TO-spfkit}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
cd "$(dirname "$0")"
zone=message.zone
py=/usr/bin/python3
[ -x "$py" ] || py=python3
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run NAME FILE [ARGS...]: spfkit message --format json on FILE into
# $tmp/NAME.json; one check: exit 0 and valid JSON.
run() {
	local name=$1 file=$2; shift 2
	"$bin" message --zone "$zone" --format json "$@" "$file" >"$tmp/$name.json" 2>"$tmp/$name.err"
	local rc=$?
	if [ "$rc" -ne 0 ]; then bad "$name: exit $rc"; cat "$tmp/$name.err"; return; fi
	if "$py" -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/$name.json" 2>/dev/null; then ok; else bad "$name: not JSON"; head -c 600 "$tmp/$name.json"; fi
}

# expect NAME EXPR: a Python expression over the JSON of run NAME, with
# o (all), e (envelope), r (recheck), m (mail_from check), a (alignment),
# d (diagnosis codes), s (receiver_said), b (bounce), h (hop) bound.
expect() {
	local name=$1 expr=$2
	if "$py" - "$tmp/$name.json" "$expr" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
e, r, a, s, b, h = o["envelope"], o["recheck"], o["alignment"], o["receiver_said"], o["bounce"], o["hop"]
m = r["mail_from"] or {}
d = [x["code"] for x in o["diagnosis"]]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
	then ok; else bad "$name: $expr"; "$py" -m json.tool "$tmp/$name.json" | head -n 80; fi
}

# status NAME WANT [ARGS...]: exit status, one line on stderr, nothing
# on stdout.
status() {
	local name=$1 want=$2; shift 2
	"$bin" message "$@" >"$tmp/st.out" 2>"$tmp/st.err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then bad "$name: exit $rc, want $want"; cat "$tmp/st.err"; return; fi
	if [ "$(wc -l <"$tmp/st.err")" -ne 1 ] || [ -s "$tmp/st.out" ]; then
		bad "$name: want one line on stderr and no output"; cat "$tmp/st.out" "$tmp/st.err"; return
	fi
	ok
}

# ---------------------------------------------------------------- stories
run direct direct.eml
expect direct 'm["result"] == "pass" and m["domain"] == "example.org"'
expect direct 'h["index"] == 2 and h["skipped"] == [{"index": 1, "why": "internal address"}]'
expect direct 'e["ip"] == "198.51.100.25" and e["helo"] == "mail.example.org" and e["mail_from"] == "alice@example.org" and e["mail_from_source"] == "return-path"'
expect direct 'a["strict"] and a["relaxed"] and a["dmarc_spf"] == "pass" and a["from_org"] == "example.org"'
expect direct 's["recorded"] == "pass" and r["compared"] == "same" and d == ["pass-aligned"]'
expect direct 's["received_spf"][0]["trusted"] and s["received_spf"][0]["why"] == "client-ip"'
expect direct 'r["helo"]["result"] == "pass" and r["dns"] == "zone"'

run forward forward.eml
expect forward 'm["result"] == "fail" and s["recorded"] == "fail" and r["compared"] == "same"'
expect forward 'r["upstream"] == {"hop": 2, "ip": "198.51.100.25", "result": "pass"}'
expect forward '"forwarding" in d and "contact-form" not in d'
expect forward '[x["trusted"] for x in s["received_spf"]] == [True, False]'

run list list.eml
expect list 'm["result"] == "pass" and m["domain"] == "lists.example.net"'
expect list 'not a["strict"] and not a["relaxed"] and a["dmarc_spf"] == "fail" and a["spf_org"] == "example.net" and a["from_org"] == "example.com"'
expect list '"mailing-list" in d and o["message"]["list_id"].startswith("Announcements")'

run dsn-rfc822 dsn-rfc822.eml
expect dsn-rfc822 'b["kind"] == "dsn" and b["original"] == "message" and b["reporting_mta"] == "www.shop.example" and b["remote_mta"] == "mx.mailprovider.example"'
expect dsn-rfc822 'b["status"] == "5.7.23" and b["final_recipient"] == "orders@shop.example" and b["sender"] == "visitor@example.org"'
expect dsn-rfc822 'e["ip"] == "203.0.113.5" and e["ip_source"] == "bounce diagnostic" and e["helo"] == "www.shop.example" and e["mail_from"] == "visitor@example.org"'
expect dsn-rfc822 'm["result"] == "fail" and "bounce" in d and "contact-form" in d'
expect dsn-rfc822 'o["message"]["subject"].startswith("Contact form") and o["received"][0]["by"] == "www.shop.example"'

run dsn-headers dsn-headers.eml
expect dsn-headers 'b["kind"] == "dsn" and b["original"] == "headers" and b["remote_mta"] == "mx.partner.example"'
expect dsn-headers 'e["ip"] == "192.0.2.80" and e["helo"] == "relay.newsletter.example" and e["mail_from"] == "alice@example.org" and e["mail_from_source"] == "bounce recipient"'
expect dsn-headers 'm["result"] == "fail" and "fail" in d and "contact-form" not in d'
# The same bounce without the address in its diagnostic: no check, and
# --ip supplies it.
sed 's/192\.0\.2\.80 is not permitted/the sender is not permitted/' dsn-headers.eml >"$tmp/noip.eml"
run dsn-noip "$tmp/noip.eml"
expect dsn-noip 'not r["done"] and "--ip" in r["why_not"] and r["mail_from"] is None and a is None and d[-1] == "not-checked"'
run dsn-ip "$tmp/noip.eml" --ip 192.0.2.80
expect dsn-ip 'r["done"] and e["ip_source"] == "option" and m["result"] == "fail"'

run exim-bounce exim-bounce.eml
expect exim-bounce 'b["kind"] == "quoted" and b["remote_mta"] == "mx.example.net" and b["original"] == "message"'
expect exim-bounce 'e["ip"] == "192.0.2.200" and e["helo"] == "mail.hosting.example" and e["mail_from"] == "alice@example.org" and e["mail_from_source"] == "return-path"'
expect exim-bounce 'o["received"][0]["ip"] == "198.51.100.77" and o["received"][0]["helo"] == "[192.168.1.20]" and o["received"][0]["envelope_from"] == "alice@example.org"'
expect exim-bounce 'm["result"] == "fail" and "bounce" in d'
# Exim's recipient (X-Failed-Recipients, the address under "failed:") and
# the rejecting server's own SPF verdict, compared with the re-check.
expect exim-bounce 'b["final_recipient"] == "carol@example.net" and b["spf"]["result"] == "fail" and b["spf"]["source"] == "diagnostic"'
expect exim-bounce 'r["bounce_compared"] == "same" and "bounce-spf-differs" not in d'
expect dsn-rfc822 'b["spf"] == {"result": "fail", "source": "diagnostic", "text": "SPF fail"} and r["bounce_compared"] == "same"'
expect dsn-headers 'b["spf"]["result"] == "fail" and r["bounce_compared"] == "same"'

# The rejecting server said softfail; the record now passes that address.
run dsn-differs dsn-differs.eml
expect dsn-differs 'b["spf"]["result"] == "softfail" and e["ip"] == "198.51.100.25" and m["result"] == "pass" and r["bounce_compared"] == "different"'
expect dsn-differs '"bounce-spf-differs" in d and "different time" in [x["text"] for x in o["diagnosis"] if x["code"] == "bounce-spf-differs"][0]'
# The same bounce with --ip naming another address: the server saw
# another one.
run dsn-differs-ip dsn-differs.eml --ip 203.0.113.9
expect dsn-differs-ip 'r["bounce_compared"] == "same" or "198.51.100.25" in [x["text"] for x in o["diagnosis"] if x["code"] == "bounce-spf-differs"][0]'

# Quoted-printable bounce text and RFC 2047 encoded words (GMime).
run ms-qp ms-qp.eml
expect ms-qp 'b["kind"] == "quoted" and e["ip"] == "192.0.2.80" and e["ip_source"] == "bounce diagnostic" and m["result"] == "fail"'
expect ms-qp 'b["spf"]["result"] == "fail" and "Sender Policy Framework violation" in b["diagnostic"] and r["bounce_compared"] == "same"'
expect ms-qp 'o["message"]["subject"] == "R\u00e9union de novembre" and o["message"]["from"]["display"] == "J\u00fcrgen M\u00fcller"'
expect ms-qp 'o["received"][0]["ip"] == "192.0.2.81" and o["received"][0]["by"] == "relay.newsletter.example"'

run forged-ar forged-ar.eml
expect forged-ar '[x["trusted"] for x in s["authentication_results"]] == [True, False, False]'
expect forged-ar 's["authentication_results"][1]["why"] == "authserv-id is not the receiver'"'"'s" and "came with the message" in s["authentication_results"][2]["why"]'
expect forged-ar 'd.count("untrusted-authentication-results") == 1 and d.count("forged-receiver-field") == 1 and m["result"] == "fail" and s["recorded"] == "fail"'

# A sender's own fields that claim the receiver (RFC 8601 §5: the
# receiver's record is its topmost; what lies below came with the
# message): a forged pass below a genuine fail is a conflict, named with
# its position; a copy that agrees is no conflict.
run forged-ar-below forged-ar-below.eml
expect forged-ar-below '[x["trusted"] for x in s["authentication_results"]] == [True, False] and s["recorded"] == "fail"'
expect forged-ar-below 's["conflict"] is True and s["conflicts"] == [{"field": "Authentication-Results", "position": 5, "line": 10, "says": "pass", "receiver_says": "fail", "receiver_field": "Authentication-Results", "receiver_position": 3}]'
expect forged-ar-below '"forged-receiver-field" in d and "Authentication-Results field 5 (line 10)" in [x["text"] for x in o["diagnosis"] if x["code"] == "forged-receiver-field"][0]'
expect forged-ar-below 's["authentication_results"][1]["claims_receiver"] and s["authentication_results"][1]["position"] == 5 and s["authentication_results"][0]["position"] == 3'
run forged-rspf forged-rspf.eml
expect forged-rspf 's["recorded"] == "fail" and s["recorded_source"] == "authentication-results" and r["compared"] == "same"'
expect forged-rspf 'not s["received_spf"][0]["trusted"] and s["received_spf"][0]["claims_receiver"] and s["conflict"] is True'
expect forged-rspf '[(c["field"], c["position"], c["says"], c["receiver_says"]) for c in s["conflicts"]] == [("Received-SPF", 5, "pass", "fail")] and "forged-receiver-field" in d'
if "$bin" message --zone "$zone" forged-rspf.eml | grep -q '^  CONFLICT  *Received-SPF field 5 (line 10) claims the receiver and says pass'; then ok; else bad "forged-rspf: text output names the conflict"; fi
run forged-agree forged-agree.eml
expect forged-agree '[x["trusted"] for x in s["authentication_results"]] == [True, True, False] and s["received_spf"][0]["trusted"]'
expect forged-agree 's["conflict"] is False and s["conflicts"] == [] and "forged-receiver-field" not in d and s["recorded"] == "pass"'
expect forged-agree '"came with the message" in s["authentication_results"][2]["why"] and m["result"] == "pass"'
# The older fixture: its forged pass below an earlier hop is a conflict too.
expect forged-ar 's["conflict"] is True and [c["position"] for c in s["conflicts"]] == [8]'

run ses ses.eml
expect ses 'm["result"] == "pass" and m["domain"] == "mail.sesvendor.example"'
expect ses 'not a["relaxed"] and a["spf_pass"] and a["dmarc_spf"] == "fail" and "different-envelope-domain" in d'

run contact-form contact-form.eml
expect contact-form 'm["result"] == "fail" and r["helo"]["result"] == "pass" and s["recorded"] == "fail"'
expect contact-form '"contact-form" in d and "forwarding" not in d and "Reply-To" in o["diagnosis"][0]["text"]'
expect contact-form 'a["strict"] and a["dmarc_spf"] == "fail"'

run folded folded.eml
expect folded 'h["index"] == 2 and h["skipped"][0]["why"] == "the receiver'"'"'s own relay" and m["result"] == "pass"'
expect folded 'o["message"]["subject"] == "A subject that goes on and on, folded\tover three lines"'
expect folded 'o["message"]["from"]["display"] == "Example, Alice" and o["message"]["from"]["address"] == "alice@example.org"'
expect folded 'o["message"]["message_id"] == "<folded-1@example.org>" and o["message"]["return_path"] == "alice@example.org"'
expect folded 'o["received"][1]["ip"] == "198.51.100.25" and o["received"][1]["with"] == "Microsoft SMTP Server" and o["received"][0]["ip"] == "2603:10b6:5:123::45"'
expect folded 's["received_spf"][0]["trusted"] and s["authentication_results"][0]["authserv_id"] is None and not s["authentication_results"][0]["trusted"]'
run folded-hop1 folded.eml --trusted-hops 1
expect folded-hop1 'h["index"] == 1 and h["how"] == "trusted-hops" and m["result"] == "fail"'
run folded-rcv folded.eml --receiver mail.protection.outlook.com
expect folded-rcv 'h["index"] == 2 and h["how"] == "receiver" and m["result"] == "pass" and r["compared"] == "same"'

run 8bit 8bit.eml
expect 8bit 'any("ended the header section early" in w for w in o["input"]["warnings"])'
expect 8bit 'o["message"]["subject"].startswith("Caf\u00e9 ") and o["message"]["from"]["display"] == "J\u00fcrgen M\u00fcller"'
expect 8bit 'm["result"] == "pass" and d == ["pass-aligned"]'

run crlf crlf.eml
expect crlf 'e["ip"] == "2001:db8:51::25" and m["result"] == "pass" and s["recorded"] == "pass" and r["compared"] == "same"'

run no-return-path no-return-path.eml
expect no-return-path 'o["message"]["return_path"] is None and e["mail_from"] == "alice@example.org" and e["mail_from_source"] == "received-spf" and m["result"] == "pass"'

# Every fixture with CRLF line ends gives the same analysis.
for f in *.eml; do
	n=${f%.eml}
	sed 's/$/\r/' "$f" >"$tmp/crlf-$f"
	"$bin" message --zone "$zone" --format json "$f" >"$tmp/lf.json" 2>/dev/null
	"$bin" message --zone "$zone" --format json "$tmp/crlf-$f" >"$tmp/cr.json" 2>/dev/null
	if "$py" - "$tmp/lf.json" "$tmp/cr.json" <<'PY'
import json, sys
x, y = (json.load(open(p)) for p in sys.argv[1:3])
def key(o):
    r = o["recheck"]
    return (o["envelope"], r["done"], r["mail_from"] and r["mail_from"]["result"],
            o["alignment"], [d["code"] for d in o["diagnosis"]], o["hop"],
            o["message"]["subject"], o["input"]["bounce"])
sys.exit(0 if key(x) == key(y) else 1)
PY
	then ok; else bad "CRLF version of $f differs"; fi
done

# Standard input, and text output with its sections.
if "$bin" message --zone "$zone" <contact-form.eml >"$tmp/t" 2>&1 && "$bin" message --zone "$zone" - <contact-form.eml | cmp -s - "$tmp/t"; then ok; else bad "standard input"; fi
for sec in '^Message$' '^Envelope$' '^Receiver said$' '^Re-check$' '^DMARC [(]RFC 9989[)]$' '^Diagnosis$' 'contact-form: '; do
	if grep -qE "$sec" "$tmp/t"; then ok; else bad "text output lacks /$sec/"; cat "$tmp/t"; fi
done
# Text output never passes control characters through.
for f in *.eml; do
	"$bin" message --zone "$zone" "$f" >"$tmp/t" 2>&1
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$tmp/t"; then bad "$f: control octets in text output"; else ok; fi
done

# ---------------------------------------------------------------- size
# Messages of any size are read; only the header section of each level
# and a bounce's parts are held, each under its cap (msgparse.h). The
# inputs are made here, never committed.
"$py" - "$tmp" <<'PY'
import sys
t = sys.argv[1]
def hdr_body(path):
    s = open(path, newline="").read()
    h, b = s.split("\n\n", 1)
    return h, b
# 50 MiB: direct.eml with a large body.
h, b = hdr_body("direct.eml")
with open(t + "/big50.eml", "w") as f:
    f.write(h + "\n\n" + b)
    line = "x" * 1023 + "\n"
    for _ in range(50 * 1024):
        f.write(line)
# 50 MiB bounce: dsn-rfc822.eml whose original carries a large
# attachment after its header section.
s = open("dsn-rfc822.eml").read()
cut = s.index("Name: Visitor")
with open(t + "/bounce50.eml", "w") as f:
    f.write(s[:cut])
    line = "QUJD" * 19 + "\n"
    for _ in range(50 * 1024 * 1024 // len(line)):
        f.write(line)
    f.write(s[cut:])
# A header section of 24 MiB: 200,000 fields below the trace fields.
h, b = hdr_body("direct.eml")
top, rest = h.split("Message-ID:", 1)
with open(t + "/hugehdr.eml", "w") as f:
    f.write(top)
    pad = "X-Pad: " + "p" * 120 + "\n"
    for _ in range(200000):
        f.write(pad)
    f.write("Message-ID:" + rest + "\n\n" + b)
PY
run big50 "$tmp/big50.eml"
expect big50 'm["result"] == "pass" and d == ["pass-aligned"] and o["input"]["octets"] > 50 * 1024 * 1024'
expect big50 'o["input"]["body_octets_skipped"] > 50 * 1024 * 1024 - 4096 and o["input"]["warnings"] == []'
run bounce50 "$tmp/bounce50.eml"
expect bounce50 'b["kind"] == "dsn" and b["original"] == "message" and o["message"]["subject"].startswith("Contact form") and m["result"] == "fail" and "contact-form" in d'
expect bounce50 'o["input"]["body_octets_skipped"] > 40 * 1024 * 1024 and any("body" in w and "MiB" in w for w in o["input"]["warnings"])'
run hugehdr "$tmp/hugehdr.eml"
expect hugehdr 'm["result"] == "pass" and h["index"] == 2 and s["recorded"] == "pass"'
expect hugehdr 'o["input"]["fields_skipped"] > 150000 and o["input"]["header_octets_skipped"] > 20 * 1024 * 1024 and any("header fields" in w for w in o["input"]["warnings"])'
# Memory stays bounded however large the input: 300 MiB through a pipe
# (a bounce whose original is huge, and a huge header section), peak RSS
# under SPFKIT_MSG_RSS_MIB (the sanitizer build's shadow memory included).
if "$py" - "$bin" "$zone" "$tmp" <<'PY'
import resource, subprocess, sys
exe, zone, t = sys.argv[1:4]
asan = b"libasan" in subprocess.run(["ldd", exe], capture_output=True).stdout
limit = (160 if asan else 48) * 1024  # KiB
def feed(head, line, n, tail):
    p = subprocess.Popen([exe, "message", "--zone", zone, "--format", "json", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p.stdin.write(head)
    chunk = line * (1048576 // len(line))
    for _ in range(n):
        p.stdin.write(chunk)
    p.stdin.write(tail)
    p.stdin.close()
    return p.wait()
s = open("dsn-rfc822.eml", "rb").read()
cut = s.index(b"Name: Visitor")
rc1 = feed(s[:cut], b"QUJD" * 19 + b"\n", 300, s[cut:])
h, b = open("direct.eml", "rb").read().split(b"\n\n", 1)
top, rest = h.split(b"Message-ID:", 1)
rc2 = feed(top, b"X-Pad: " + b"p" * 120 + b"\n", 300, b"Message-ID:" + rest + b"\n\n" + b)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("peak RSS %d KiB (limit %d KiB), exits %d %d" % (peak, limit, rc1, rc2))
sys.exit(0 if rc1 == 0 and rc2 == 0 and peak < limit else 1)
PY
then ok; else bad "300 MiB through a pipe: memory not bounded or refused"; fi

# ---------------------------------------------------------------- DMARC
# The whole verdict (RFC 9989): DKIM signatures made here with a key made
# here (dkimpy signs, libopendkim verifies), the public key and the DMARC
# records in a zone written here, on top of message.zone. Fixtures in
# dmarc/: *.in are signed (dkim_sign.py), *.eml are used as they are.
dz="$tmp/dmarc.zone"
if "$py" dkim_sign.py key "$tmp/k.pem" >"$tmp/k.txt"; then ok; else bad "dkim key"; fi
"$py" - "$tmp/k.txt" >"$tmp/keys.zone" <<'PY'
import sys
key = open(sys.argv[1]).read().strip()
# The key in character-strings of 200 octets: RFC 6376 §3.6.2.2 joins
# them with nothing between.
txt = " ".join('"%s"' % key[i:i + 200] for i in range(0, len(key), 200))
for name in ("sel1._domainkey.author.example", "sel1._domainkey.news.author.example",
             "sel1._domainkey.mail.strict.example", "sel1._domainkey.nodmarc.example",
             "sel1._domainkey.esp.example"):
    print("%s. IN TXT %s" % (name, txt))
PY
cat message.zone "$tmp/keys.zone" - >"$dz" <<'ZONE'
; author.example: p=reject, relaxed alignment (the defaults).
_dmarc.author.example.          IN  TXT   "v=DMARC1; p=reject; rua=mailto:dmarc@author.example"
author.example.                 IN  TXT   "v=spf1 ip4:198.51.100.60 -all"
news.author.example.            IN  TXT   "v=spf1 ip4:198.51.100.61 -all"
mail.author.example.            IN  A     198.51.100.60
mail.author.example.            IN  TXT   "v=spf1 a -all"
mail2.author.example.           IN  TXT   "v=spf1 ip4:198.51.100.62 -all"
www.author.example.             IN  TXT   "v=spf1 a -all"
; strict.example: strict alignment of both.
_dmarc.strict.example.          IN  TXT   "v=DMARC1; p=quarantine; adkim=s; aspf=s"
strict.example.                 IN  TXT   "v=spf1 -all"
mail.strict.example.            IN  TXT   "v=spf1 ip4:198.51.100.70 -all"
; testing.example: p=reject, but t=y.
_dmarc.testing.example.         IN  TXT   "v=DMARC1; p=reject; t=y"
testing.example.                IN  TXT   "v=spf1 ip4:198.51.100.75 -all"
; nodmarc.example: SPF and DKIM, no DMARC record.
nodmarc.example.                IN  TXT   "v=spf1 ip4:198.51.100.80 -all"
; esp.example: a sending service, its own bounce domain and key.
bounce.esp.example.             IN  TXT   "v=spf1 ip4:192.0.2.128/25 -all"
ZONE
# Queries for tempfail.example's policy time out (YAML zonedata).
cat >"$tmp/tempfail.yml" <<'YML'
zonedata:
  _dmarc.tempfail.example:
    - TIMEOUT
  tempfail.example:
    - TXT: v=spf1 ip4:198.51.100.90 -all
YML
sign() { # NAME IN DOMAIN [CHANGE...]: dmarc/IN.in signed (d=DOMAIN,
	# s=$SEL or sel1) into $tmp/NAME.eml, then changed as CHANGE says
	local name=$1 in=$2 dom=$3; shift 3
	if "$py" dkim_sign.py sign "$tmp/k.pem" "$dom" "${SEL:-sel1}" "dmarc/$in.in" "$tmp/$name.eml" "$@"; then ok; else bad "sign $name"; fi
}
# dexpect NAME EXPR: expect with x (the dmarc object) and k (its dkim list).
dexpect() {
	local name=$1 expr=$2
	expect "$name" 'bool([x := o["dmarc"], k := x["dkim"]]) and ('"$expr"')'
}
drun() { # NAME FILE [ARGS...]
	local name=$1 file=$2; shift 2
	"$bin" message --zone "$dz" --zone "$tmp/tempfail.yml" --format json "$@" "$file" >"$tmp/$name.json" 2>"$tmp/$name.err"
	local rc=$?
	if [ "$rc" -ne 0 ]; then bad "$name: exit $rc"; cat "$tmp/$name.err"; return; fi
	ok
}

# A good signature of the author's domain, and SPF aligned too.
sign good good author.example
drun good "$tmp/good.eml"
dexpect good 'x["result"] == "pass" and x["disposition"] == "none" and x["policy"] == "reject" and x["policy_domain"] == "author.example"'
dexpect good 'x["spf_aligned"] and x["dkim_aligned"] and x["author_domain"] == "author.example" and x["organizational_domain"] == "author.example"'
dexpect good 'k == [{"domain": "author.example", "selector": "sel1", "result": "pass", "reason": None, "aligned": True, "organizational_domain": "author.example", "testing": False}]'
dexpect good 'x["spf"] == {"domain": "author.example", "source": "mail-from", "result": "pass", "organizational_domain": "author.example", "aligned": True} and "dmarc-pass" in d'

# The body changed after signing: DKIM fails (body hash), SPF still
# carries DMARC.
sign body good author.example footer
drun body "$tmp/body.eml"
dexpect body 'k[0]["result"] == "fail" and k[0]["reason"] == "body hash mismatch" and not k[0]["aligned"] and not x["dkim_aligned"]'
dexpect body 'x["result"] == "pass" and x["spf_aligned"]'

# A malformed DKIM-Signature (anyone can add one) hides no good one.
sign garbage good author.example on-top:"DKIM-Signature: garbage"
drun garbage "$tmp/garbage.eml"
dexpect garbage 'x["dkim_signatures"] == 2 and [s["result"] for s in k] == ["neutral", "pass"] and k[0]["reason"] == "domain tag missing" and x["dkim_aligned"]'

# A key that is not in DNS: permerror.
SEL=nokey sign nokey good author.example
drun nokey "$tmp/nokey.eml"
dexpect nokey 'k[0]["selector"] == "nokey" and k[0]["result"] == "permerror" and k[0]["reason"].startswith("key not found")'

# A mailing list that tagged the subject and added a footer: the author's
# signature fails, SPF passes for the list only: DMARC fails, p=reject.
sign list list author.example subject-tag footer
drun list "$tmp/list.eml"
dexpect list 'k[0]["domain"] == "author.example" and k[0]["result"] == "fail" and x["result"] == "fail" and x["disposition"] == "reject"'
dexpect list 'x["spf"]["result"] == "pass" and x["spf"]["domain"] == "lists.example.net" and not x["spf_aligned"] and "mailing-list-broke-dkim" in d'
expect list '"subject tag" in [t["text"] for t in o["diagnosis"] if t["code"] == "mailing-list-broke-dkim"][0]'
# The subject tag alone: the signed header fields changed.
sign list-tag list author.example subject-tag
drun list-tag "$tmp/list-tag.eml"
dexpect list-tag 'k[0]["result"] == "fail" and k[0]["reason"].startswith("signature mismatch") and x["result"] == "fail"'

# The contact form: the visitor's domain publishes p=reject.
drun contact dmarc/contact-form.eml
dexpect contact 'x["result"] == "fail" and x["policy"] == "reject" and x["disposition"] == "reject" and k == [] and x["dkim_signatures"] == 0'
dexpect contact '"contact-form" in d and "contact-form-dmarc" in d and "Reply-To" in [t["text"] for t in o["diagnosis"] if t["code"] == "contact-form-dmarc"][0]'

# A forward without SRS: SPF fails at the last hop, the author's DKIM
# signature survived: DMARC passes.
sign forward forward author.example
drun forward "$tmp/forward.eml"
dexpect forward 'm["result"] == "fail" and "forwarding" in d and x["result"] == "pass" and not x["spf_aligned"] and x["dkim_aligned"]'
dexpect forward '"forward-dkim-survived" in d and x["disposition"] == "none"'

# A sending service with its own envelope domain and its own signature:
# neither aligns.
sign esp esp esp.example
drun esp "$tmp/esp.eml"
dexpect esp 'x["spf"]["result"] == "pass" and not x["spf_aligned"] and k[0]["domain"] == "esp.example" and k[0]["result"] == "pass" and not k[0]["aligned"]'
dexpect esp 'x["result"] == "fail" and x["disposition"] == "reject" and "esp-dkim-not-aligned" in d and k[0]["organizational_domain"] == "esp.example"'
# The same service signing with the author's domain: DMARC passes on DKIM.
sign esp-author esp author.example
drun esp-author "$tmp/esp-author.eml"
dexpect esp-author 'x["result"] == "pass" and not x["spf_aligned"] and x["dkim_aligned"] and "esp-dkim-not-aligned" not in d'

# Relaxed: a subdomain's SPF and DKIM align with the organizational
# domain; strict: the same shape does not.
sign relaxed relaxed news.author.example
drun relaxed "$tmp/relaxed.eml"
dexpect relaxed 'x["result"] == "pass" and x["spf_aligned"] and x["spf"]["domain"] == "news.author.example" and x["spf"]["organizational_domain"] == "author.example"'
dexpect relaxed 'k[0]["domain"] == "news.author.example" and k[0]["aligned"] and k[0]["organizational_domain"] == "author.example" and x["adkim"] == "r" and x["aspf"] == "r"'
sign strict strict mail.strict.example
drun strict "$tmp/strict.eml"
dexpect strict 'x["adkim"] == "s" and x["aspf"] == "s" and x["spf"]["result"] == "pass" and not x["spf_aligned"]'
dexpect strict 'k[0]["result"] == "pass" and not k[0]["aligned"] and x["result"] == "fail" and x["policy"] == "quarantine" and x["disposition"] == "quarantine"'

# t=y: p=reject is tested, so a failure is quarantined.
drun testing dmarc/testing.eml
dexpect testing 'x["result"] == "fail" and x["policy"] == "reject" and x["testing"] and x["testing_lowered"] and x["disposition"] == "quarantine"'

# No DMARC record: none, whatever DKIM and SPF say.
sign nodmarc nodmarc nodmarc.example
drun nodmarc "$tmp/nodmarc.eml"
dexpect nodmarc 'x["result"] == "none" and x["policy"] is None and x["policy_domain"] is None and x["disposition"] == "none" and k[0]["result"] == "pass"'

# Discovery fails: temperror.
drun tempfail dmarc/tempfail.eml
dexpect tempfail 'x["result"] == "temperror" and "dmarc-temperror" in d'

# The null sender: SPF's MAIL FROM check is postmaster@HELO, and it
# aligns. A HELO that passes never counts when MAIL FROM fails.
drun null dmarc/null-sender.eml
dexpect null 'x["spf"]["source"] == "helo" and x["spf"]["domain"] == "mail.author.example" and x["spf_aligned"] and x["result"] == "pass"'
drun helo-only dmarc/helo-only.eml
dexpect helo-only 'r["helo"]["result"] == "pass" and m["result"] == "fail" and not x["spf_aligned"] and x["result"] == "fail"'

# Two authors: no single author domain (RFC 9989 section 4.4).
drun two dmarc/two-authors.eml
dexpect two 'x["result"] == "none" and "more than one mailbox" in x["why_not"] and "dmarc-no-author" in d'

# A bounce: the original inside it is verified (its octets as the bounce
# holds them); with only its header section, it cannot be.
mkbounce() { # ORIGINAL TYPE OUT
	{
		printf 'Return-Path: <>\nFrom: MAILER-DAEMON@mx.shop.example\nTo: alice@author.example\n'
		printf 'Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
		printf -- '--b1\nContent-Type: text/plain\n\nThe mail system rejected it: DMARC policy.\n\n'
		printf -- '--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.shop.example\n\n'
		printf 'Final-Recipient: rfc822; bob@shop.example\nAction: failed\nStatus: 5.7.1\n'
		printf 'Remote-MTA: dns; mx.shop.example\nDiagnostic-Code: smtp; 550 5.7.1 rejected by DMARC policy (198.51.100.60)\n\n'
		printf -- '--b1\nContent-Type: %s\n\n' "$2"
		if [ "$2" = message/rfc822 ]; then cat "$1"; else sed '/^$/q' "$1"; fi
		printf -- '\n--b1--\n'
	} >"$3"
}
mkbounce "$tmp/good.eml" message/rfc822 "$tmp/bounce-good.eml"
drun bounce-good "$tmp/bounce-good.eml"
dexpect bounce-good 'b["original"] == "message" and k[0]["domain"] == "author.example" and k[0]["result"] == "pass" and x["dkim_why_not"] is None and x["dkim_aligned"]'
mkbounce "$tmp/list.eml" message/rfc822 "$tmp/bounce-list.eml"
drun bounce-list "$tmp/bounce-list.eml"
dexpect bounce-list 'k[0]["result"] == "fail" and x["result"] == "fail" and "mailing-list-broke-dkim" in d'
mkbounce "$tmp/good.eml" text/rfc822-headers "$tmp/bounce-hdr.eml"
drun bounce-hdr "$tmp/bounce-hdr.eml"
dexpect bounce-hdr 'b["original"] == "headers" and k == [] and "header section" in x["dkim_why_not"]'

# Text output tells the verdict.
"$bin" message --zone "$dz" "$tmp/list.eml" >"$tmp/list.txt" 2>&1
for sec in '^DMARC \(RFC 9989\)$' '^  result +fail$' '^  disposition +reject$' '^  DKIM +fail d=author.example s=sel1' 'mailing-list-broke-dkim: '; do
	if grep -qE "$sec" "$tmp/list.txt"; then ok; else bad "DMARC text output lacks /$sec/"; cat "$tmp/list.txt"; fi
done

# libopendkim never asks DNS itself (its resolver hooks fail every query):
# keys come from the zone through spfkit's own DNS source, so with --zone
# alone no Internet socket is opened at all. (dkim_init() does read
# resolv.conf through res_init(); reading it asks nobody.)
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=socket,connect,sendto,sendmsg -o "$tmp/strace" "$bin" message --zone "$dz" --format json "$tmp/good.eml" >"$tmp/t" 2>&1
	if grep -q '"result":"pass"' "$tmp/t" && ! grep -qE 'AF_INET|sin6?_port' "$tmp/strace"; then ok; else bad "spfkit message --zone opened a network socket (or did not verify)"; grep -E 'AF_INET|port' "$tmp/strace" | head; fi
fi

# ---------------------------------------------------------------- errors
: >"$tmp/empty"
status "empty input" 65 --zone "$zone" "$tmp/empty"
printf 'hello world\nthis is not a message\n' >"$tmp/prose"
status "prose" 65 --zone "$zone" "$tmp/prose"
head -c 4096 /dev/urandom 2>/dev/null >"$tmp/random" || printf '\000\001\002\377' >"$tmp/random"
printf '\000\001binary\377\376' >"$tmp/binary"
status "binary" 65 --zone "$zone" "$tmp/binary"
printf 'X-Only: a field nobody knows\n\nbody\n' >"$tmp/unknown"
status "no message fields" 65 --zone "$zone" "$tmp/unknown"
printf '  continued: before any field\nFrom: a@b.example\n' >"$tmp/lead"
status "leading continuation line" 65 --zone "$zone" "$tmp/lead"
status "missing file" 66 --zone "$zone" "$tmp/nonexistent.eml"
status "directory" 66 --zone "$zone" "$tmp"
status "bad format" 64 --zone "$zone" --format xml direct.eml
status "trusted-hops 0" 64 --zone "$zone" --trusted-hops 0 direct.eml
status "trusted-hops past the chain" 64 --zone "$zone" --trusted-hops 9 direct.eml
status "receiver not in the chain" 64 --zone "$zone" --receiver nowhere.example direct.eml
status "both hop options" 64 --zone "$zone" --receiver x.example --trusted-hops 1 direct.eml
status "two files" 64 --zone "$zone" direct.eml list.eml
status "bad ip" 64 --zone "$zone" --ip 999.1.1.1 direct.eml
status "unknown option" 64 --bogus direct.eml
status "missing zone file" 66 --zone "$tmp/none.zone" direct.eml
# A random file either parses (exit 0) or is refused cleanly (65).
"$bin" message --zone "$zone" "$tmp/random" >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 65 ]; then ok; else bad "random octets: exit $rc"; fi
# The SPF result does not change the exit status.
if "$bin" message --zone "$zone" contact-form.eml >/dev/null 2>&1; then ok; else bad "fail result exits non-zero"; fi

if "$bin" message --help | grep -q 'Usage: spfkit message' && "$bin" help message >/dev/null && "$bin" --help | grep -q '^  message'; then ok; else bad "help"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
