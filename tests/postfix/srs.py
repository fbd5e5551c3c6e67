#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/postfix/srs.py SMTP_PORT SINK_PORT SPFKIT DNS_PORT SECRETS [TAG [MODE]] - the SRS
story of issue 7 against the private Postfix of run.sh, whose listener on
SMTP_PORT hands mail to a cleanup service with
sender_canonical_maps = socketmap:...:forward and recipient_canonical_maps =
socketmap:...:reverse (spfkitd's srs_listen, srs_domain = test.example).
A tiny SMTP sink on SINK_PORT plays the remote MTA that Postfix relays
remote.example and origin.example to (relayhost), and records each
envelope. Checks:
  1. a message from a@origin.example to the alias fwd@test.example (texthash
     virtual_alias_maps: someone@remote.example) leaves with an SRS0 envelope
     sender in test.example;
  2. that sender passes SPF from 127.0.0.1 (spfkit check against NSD and
     tests/postfix/zone.db), where the original sender would fail;
  3. a bounce (null sender) to the SRS address is delivered back to
     a@origin.example;
  4. a bounce to a forged SRS address (bad hash) and to a stale one are
     rejected at RCPT with 550 5.1.1 by the policy service (the stale one
     is made by `spfkit srs forward --time` 60 days ago with the daemon's
     SECRETS file); nothing reaches the sink for them;
  5. a sender in srs_local_domains is left alone.
MODE "milter": the listener has spfkitd as a milter with srs_milter = yes
instead of the socketmap (milters see recipients before aliases, so the
message goes to someone@remote.example directly, from 127.0.0.2, which
mynetworks lets relay): the sender is changed with SMFIR_CHGFROM, the
bounce's recipient with SMFIR_DELRCPT/ADDRCPT, forged ones refused at
RCPT by the milter.
Ends with "N passed, N failed"."""
import json
import smtplib
import socket
import subprocess
import sys
import threading
import time

port, sink_port, spfkit, dns_port, secrets = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:6]
tag = sys.argv[6] if len(sys.argv) > 6 else "srs-"
milter = len(sys.argv) > 7 and sys.argv[7] == "milter"
CLIENT = "127.0.0.2" if milter else "10.9.9.9"
TO = "someone@remote.example" if milter else "fwd@test.example"
passed = failed = 0
envelopes = []  # (mail from, [rcpts], data) as the sink saw them
lock = threading.Lock()


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {tag}{name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {tag}{name}: {why}", flush=True)


def addr_of(arg):
    """The address of 'FROM:<a@b> SIZE=1' or 'TO:<a@b>'."""
    a = arg.split(":", 1)[1].strip()
    if a.startswith("<"):
        a = a[1:a.index(">")]
    return a


def sink_session(conn):
    f = conn.makefile("rb")
    w = lambda s: conn.sendall(s.encode() + b"\r\n")  # noqa: E731
    w("220 sink.remote.example ESMTP sink")
    mail, rcpts = None, []
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode(errors="replace").rstrip("\r\n")
        verb = cmd[:4].upper()
        if verb in ("EHLO", "HELO"):
            w("250 sink.remote.example")
        elif verb == "MAIL":
            mail, rcpts = addr_of(cmd), []
            w("250 2.1.0 ok")
        elif verb == "RCPT":
            rcpts.append(addr_of(cmd))
            w("250 2.1.5 ok")
        elif verb == "DATA":
            w("354 go on")
            body = b""
            while True:
                ln = f.readline()
                if not ln or ln in (b".\r\n", b".\n"):
                    break
                body += ln
            with lock:
                envelopes.append((mail, rcpts, body.decode(errors="replace")))
            w("250 2.0.0 queued")
        elif verb == "QUIT":
            w("221 bye")
            return
        else:  # RSET, NOOP, ...
            w("250 ok")


def sink():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", sink_port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=lambda: (sink_session(c), c.close()), daemon=True).start()


def session(sender, rcpt, subject):
    """One message through the SRS listener; returns (rcpt reply, data reply)."""
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
    try:
        s.ehlo("client.test")
        code, msg = s.docmd("XCLIENT", f"ADDR={CLIENT} NAME=[UNAVAILABLE]")
        if code != 220:
            raise RuntimeError(f"XCLIENT: {code} {msg!r}")
        s.ehlo("mx.origin.example")
        s.mail(sender)
        r = s.rcpt(rcpt)
        data = None
        if r[0] == 250:
            data = s.data(f"From: <{sender or 'MAILER-DAEMON@mx.remote.example'}>\r\nTo: <{rcpt}>\r\n"
                          f"Subject: {tag}{subject}\r\n\r\nspfkit SRS test {subject}\r\n")
        s.quit()
        return r, data
    finally:
        s.close()


def wait_for(pred, secs=20):
    for _ in range(int(secs * 10)):
        with lock:
            hit = [e for e in envelopes if pred(e)]
        if hit:
            return hit[0]
        time.sleep(0.1)
    return None


threading.Thread(target=sink, daemon=True).start()
time.sleep(0.2)

# 1. forwarded through the alias: the envelope sender is rewritten
r, data = session("a@origin.example", TO, "forwarded")
check("to the alias (milter: to the remote address): accepted", r[0] == 250 and data and data[0] == 250, (r, data))
env = wait_for(lambda e: f"Subject: {tag}forwarded" in e[2])
srs = env[0] if env else ""
check("forwarded to the remote MTA", env is not None and env[1] == ["someone@remote.example"], env)
check("envelope sender is SRS0 at test.example",
      srs.startswith("SRS0=") and srs.endswith("@test.example") and "=origin.example=a@" in srs, srs)

# 2. SPF at the next hop: the forwarder's domain authorises 127.0.0.1
def spf(sender):
    p = subprocess.run([spfkit, "check", "--ip", "127.0.0.1", "--sender", sender, "--helo", "mx.test.example",
                        "--nameserver", f"127.0.0.1@{dns_port}", "--timeout", "5"],
                       capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


rc, out = spf(srs or "none@nowhere.invalid")
check("spfkit check: the SRS sender passes SPF from 127.0.0.1", rc == 0 and out.startswith("pass"), (rc, out))
rc, out = spf("a@origin.example")
check("spfkit check: the original sender would fail from 127.0.0.1", rc == 1 and out.startswith("fail"),
      (rc, out))

# 3. a bounce to the SRS address goes back to the original sender
r, data = session("", srs or "x@test.example", "bounce")
check("bounce to the SRS address: accepted", r[0] == 250 and data and data[0] == 250, (r, data))
env = wait_for(lambda e: f"Subject: {tag}bounce" in e[2])
check("bounce delivered back to a@origin.example with the null sender",
      env is not None and env[0] == "" and env[1] == ["a@origin.example"], env)

# 4. forged and stale SRS addresses: rejected at RCPT
if srs:
    parts = srs.split("=")
    forged = "=".join([parts[0], "AAAA" if parts[1].upper() != "AAAA" else "BBBB"] + parts[2:])
    r, _ = session("", forged, "forged")
    check("forged SRS bounce (bad hash): 550 5.1.1", r[0] == 550 and r[1].startswith(b"5.1.1")
          and b"bad-hash" in r[1], r)
    p = subprocess.run([spfkit, "srs", "forward", "a@origin.example", "--domain", "test.example",
                        "--secrets", secrets, "--time", str(int(time.time()) - 60 * 86400)],
                       capture_output=True, text=True)
    stale = p.stdout.strip()
    r, _ = session("", stale, "stale")
    check("stale SRS bounce (60 days old): 550 5.1.1 expired",
          stale.startswith("SRS0=") and r[0] == 550 and r[1].startswith(b"5.1.1") and b"expired" in r[1],
          (stale, p.stderr, r))
else:
    check("forged SRS bounce (bad hash): 550 5.1.1", False, "no SRS address")
time.sleep(0.5)
with lock:
    leaked = [e for e in envelopes if f"Subject: {tag}forged" in e[2] or f"Subject: {tag}stale" in e[2]]
check("nothing of the refused bounces reached the remote MTA", leaked == [], leaked)

# a local sender is left alone (srs_local_domains)
r, data = session("c@local.example", TO, "local-sender")
env = wait_for(lambda e: f"Subject: {tag}local-sender" in e[2])
check("sender in srs_local_domains: not rewritten", env is not None and env[0] == "c@local.example", env)

print(json.dumps([e[:2] for e in envelopes]), file=sys.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
