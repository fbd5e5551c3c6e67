#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/postfix/client.py SMTP_PORT MBOX [TAG [MODE]] - SMTP sessions against
the private Postfix of run.sh. Each session first says XCLIENT so Postfix
(and through it spfkitd) sees the client address of the story, then EHLO
with the story's HELO name, MAIL, RCPT and DATA. Checks the SMTP replies
(550 5.7.23 for fail, 451 4.7.24 for temperror) and, for mail that got
through, the headers of the delivered copies (subjects start with TAG, so
runs against several listeners share one mailbox). MODE is "policy" (the
default: spfkitd decides at RCPT through check_policy_service), "milter"
(spfkitd as a milter: it decides at MAIL FROM and removes forged
Authentication-Results claiming mx.test.example) or "milter-ar" (the same
with Authentication-Results as its header). Ends with "N passed, N failed"."""
import mailbox
import smtplib
import sys
import time

port, mbox_path = int(sys.argv[1]), sys.argv[2]
tag = sys.argv[3] if len(sys.argv) > 3 else ""
mode = sys.argv[4] if len(sys.argv) > 4 else "policy"
milter = mode.startswith("milter")
authres = mode == "milter-ar"
FORGED = ("Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=a@fail.example\r\n"
          "Authentication-Results: other.example; spf=pass smtp.mailfrom=a@pass.example\r\n")
passed = failed = 0


def check(name, cond, why=""):
    global passed, failed
    name = f"{tag}: {name}" if tag else name
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


def session(addr, helo, sender, rcpts, subject, extra=""):
    """One message; returns (mail reply, [rcpt replies], data reply)."""
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
    try:
        s.ehlo("client.test")
        code, msg = s.docmd("XCLIENT", f"ADDR={addr} NAME=[UNAVAILABLE]")
        if code != 220:
            raise RuntimeError(f"XCLIENT: {code} {msg!r}")
        s.ehlo(helo)
        mail = s.mail(sender)
        rr = [s.rcpt(r) for r in rcpts]
        data = None
        if any(c == 250 for c, _ in rr):
            body = (f"{extra}From: <{sender or 'mailer-daemon@x.example'}>\r\nTo: <{rcpts[0]}>\r\n"
                    f"Subject: {tag}{subject}\r\n\r\nspfkit test {subject}\r\n")
            data = s.data(body)
        s.quit()
        return mail, rr, data
    finally:
        s.close()


def decided(mail, rr):
    """The reply that carries spfkitd's decision: MAIL's for the milter,
    the first RCPT's for the policy service."""
    return mail if milter else rr[0]


# --- replies at MAIL (milter) or RCPT (policy) time
mail, rr, data = session("192.0.2.1", "mx.pass.example", "a@pass.example", ["bob@test.example"], "pass")
check("pass: MAIL and RCPT accepted", mail[0] == 250 and rr[0][0] == 250, (mail, rr))
check("pass: DATA accepted", data and data[0] == 250, data)

mail, rr, _ = session("203.0.113.9", "x.example", "a@fail.example", ["bob@test.example"], "fail")
r = decided(mail, rr)
check("fail: 550 5.7.23", r[0] == 550 and r[1].startswith(b"5.7.23"), (mail, rr))
check("fail: the reply explains", b"SPF fail" in r[1], r)

mail, rr, data = session("203.0.113.9", "x.example", "a@soft.example", ["bob@test.example"], "softfail")
check("softfail: accepted", rr[0][0] == 250 and data and data[0] == 250, (rr, data))

mail, rr, _ = session("203.0.113.9", "x.example", "a@slow.example", ["bob@test.example"], "temperror")
r = decided(mail, rr)
check("temperror: 451 4.7.24", r[0] == 451 and r[1].startswith(b"4.7.24"), (mail, rr))

mail, rr, _ = session("203.0.113.9", "helofail.example", "a@pass.example", ["bob@test.example"], "helofail")
r = decided(mail, rr)
check("HELO fail: 550 5.7.23", r[0] == 550 and r[1].startswith(b"5.7.23"), (mail, rr))

_, rr, data = session("10.9.9.9", "x.example", "a@fail.example", ["bob@test.example"], "skipped")
check("skip_addresses: accepted", rr[0][0] == 250 and data and data[0] == 250, (rr, data))

_, rr, data = session("192.0.2.1", "mx.pass.example", "a@pass.example",
                      ["bob@test.example", "carol@test.example"], "two-rcpts")
check("two recipients: both accepted", [c for c, _ in rr] == [250, 250], rr)

_, rr, data = session("192.0.2.1", "mx.pass.example", "", ["bob@test.example"], "null-sender")
check("null sender: checked as postmaster@HELO, accepted", rr[0][0] == 250, rr)

if milter:
    _, rr, data = session("192.0.2.1", "mx.pass.example", "a@pass.example", ["bob@test.example"],
                          "forged", extra=FORGED)
    check("forged Authentication-Results: accepted", rr[0][0] == 250 and data and data[0] == 250,
          (rr, data))

# --- the delivered copies
want = {"pass": 1, "softfail": 1, "skipped": 1, "two-rcpts": 2, "null-sender": 1}
if milter:
    want["forged"] = 1
msgs = {}
for _ in range(900):  # up to 90 s: a loaded machine delivers slowly
    msgs = {}
    try:
        for m in mailbox.mbox(mbox_path):
            subj = str(m["Subject"])
            if subj.startswith(tag):
                msgs.setdefault(subj[len(tag):], []).append(m)
    except (FileNotFoundError, mailbox.Error):
        pass
    if all(len(msgs.get(k, [])) >= n for k, n in want.items()):
        break
    time.sleep(0.1)
for k, n in want.items():
    check(f"delivered: {k}", len(msgs.get(k, [])) == n, f"{len(msgs.get(k, []))} copies")


def spf_headers(m):
    """spfkitd's headers: Received-SPF, or Authentication-Results with
    our authserv-id in milter-ar mode (the rest of the value, so both
    kinds start with the result)."""
    if not authres:
        return [str(v) for v in (m.get_all("Received-SPF") or [])]
    out = []
    for v in m.get_all("Authentication-Results") or []:
        v = " ".join(str(v).split())
        if v.startswith("mx.test.example;"):
            r = v.split("spf=", 1)[1] if "spf=" in v else v
            out.append(r)
    return out


h = spf_headers(msgs.get("pass", [{}])[0]) if msgs.get("pass") else []
check("pass: one header of ours", len(h) == 1, h)
if authres:
    check("pass: Authentication-Results: mx.test.example; spf=pass smtp.mailfrom",
          h and h[0].startswith("pass") and "smtp.mailfrom=a@pass.example" in h[0], h)
else:
    check("pass: Received-SPF: pass with the client and identity",
          h and h[0].startswith("pass ") and "client-ip=192.0.2.1;" in h[0]
          and 'envelope-from="a@pass.example"' in h[0] and "receiver=mx.test.example" in h[0], h)
h = spf_headers(msgs["softfail"][0]) if msgs.get("softfail") else []
check("softfail: Received-SPF: softfail", len(h) == 1 and h[0].startswith("softfail "), h)
h = spf_headers(msgs["skipped"][0]) if msgs.get("skipped") else ["missing"]
check("skipped: no Received-SPF", h == [], h)
copies = msgs.get("two-rcpts", [])
check("two recipients: one check, one header per copy",
      len(copies) == 2 and all(len(spf_headers(m)) == 1 for m in copies),
      [spf_headers(m) for m in copies])
h = spf_headers(msgs["null-sender"][0]) if msgs.get("null-sender") else []
check("null sender: header names postmaster@HELO",
      len(h) == 1 and "postmaster@mx.pass.example" in h[0], h)
if milter and msgs.get("forged"):
    m = msgs["forged"][0]
    ars = [" ".join(str(v).split()) for v in (m.get_all("Authentication-Results") or [])]
    check("forged: the Authentication-Results claiming mx.test.example is gone",
          not any("a@fail.example" in v for v in ars), ars)
    check("forged: another authserv-id's Authentication-Results is kept",
          sum(v.startswith("other.example;") for v in ars) == 1, ars)
    h = spf_headers(m)
    check("forged: our own header is there, once", len(h) == 1 and h[0].startswith("pass"), (h, ars))
    if authres:
        check("forged: ours is the first Authentication-Results",
              ars and ars[0].startswith("mx.test.example;") and "spf=pass" in ars[0], ars)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
