#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/daemon/milter.py SPFKITD - spfkitd's milter service, hermetic and
fast: a small MTA-side milter client (protocol version 6, as Postfix and
Sendmail speak it) on loopback against spfkitd with a zone_file. Checks the
negotiation, the MAIL FROM decisions (550 5.7.23, 451 4.7.24, continue),
the header inserted at the end of the message (folded at 78 octets, UTF-8
kept with SMTPUTF8), the removal of forged Authentication-Results headers
(last first, 1-based per name, 1,500 of them as well as 3), skips,
SASL logins, IPv6, several messages per session, the policy service in the
same process, a reload, and then hostile input: bad lengths, unknown
commands, commands out of order, truncated and malformed packets, random
packets; after each the daemon must still answer. Then SRS (srs_milter =
yes): the sender rewritten with SMFIR_CHGFROM only for mail from another
domain that leaves for one, bounces to SRS addresses reversed with
SMFIR_DELRCPT and SMFIR_ADDRCPT, forged and stale ones refused at RCPT
with 550 5.1.1, a sender too long to rewrite refused as configured, and
missing or short secrets refused by -t with a one-line message naming the
file, line and key. Prints "ok NAME" or
"FAIL NAME: why" per check, ends with "N passed, N failed". Processes are
stopped by PID; ports are chosen here."""
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN = sys.argv[1]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ZONE = os.path.join(ROOT, "tests", "daemon", "zone.yml")
TMP = tempfile.mkdtemp(prefix="spfkit-milter.")
passed = failed = 0
procs = []

# libmilter/mfdef.h and mfapi.h
SMFIF_ADDHDRS, SMFIF_CHGHDRS = 0x01, 0x10
SMFIP_NR_HDR, SMFIP_NORCPT = 0x80, 0x08
SMFIF_ADDRCPT, SMFIF_DELRCPT, SMFIF_CHGFROM = 0x04, 0x08, 0x40
ALL_ACTIONS, ALL_PROTOCOL = 0x1FF, 0x1FFFFF


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok " + name, flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


class Milter:
    """The MTA's side of one milter connection."""

    def __init__(self, addr, family=socket.AF_INET):
        self.s = socket.socket(family, socket.SOCK_STREAM)
        self.s.settimeout(15)
        self.s.connect(addr)
        self.buf = b""

    def send(self, cmd, data=b""):
        self.s.sendall(pkt(cmd, data))

    def recv(self):
        """One reply packet (cmd, data), or None at the end."""
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    p = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    return p[:1], p[1:]
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d

    def closed(self):
        """Does the daemon close this connection (without more output)?"""
        try:
            return self.recv() is None
        except (ConnectionResetError, socket.timeout):
            return False

    def negotiate(self, version=6, actions=ALL_ACTIONS, protocol=ALL_PROTOCOL):
        self.send(b"O", struct.pack(">III", version, actions, protocol))
        r = self.recv()
        if r and r[0] == b"O" and len(r[1]) >= 12:
            self.opts = struct.unpack(">III", r[1][:12])
        return r

    def close(self):
        self.s.close()


def connect_info(ip, host=b"client.example", family=b"4"):
    return host + b"\0" + family + struct.pack(">H", 4321) + ip + b"\0"


def message(m, ip=b"192.0.2.1", helo=b"mx.pass.example", sender=b"a@pass.example",
            headers=(), auth=None, connect=True, qid=b"QID1", args=b"SIZE=100\0"):
    """One message through a negotiated connection; returns (MAIL reply,
    [end-of-message packets])."""
    if connect:
        m.send(b"D", b"C" + b"j\0mx.test.example\0")
        m.send(b"C", connect_info(ip))
        assert m.recv() == (b"c", b""), "connect"
        m.send(b"H", helo + b"\0")
        assert m.recv() == (b"c", b""), "helo"
    macros = b"M" + b"i\0" + qid + b"\0"
    if auth:
        macros += b"{auth_authen}\0" + auth + b"\0"
    m.send(b"D", macros)
    m.send(b"M", b"<" + sender + b">\0" + args)
    mail = m.recv()
    if mail != (b"c", b""):
        return mail, []
    nr_hdr = m.opts[2] & SMFIP_NR_HDR
    for name, value in headers:
        m.send(b"L", name + b"\0" + value + b"\0")
        if not nr_hdr:
            assert m.recv() == (b"c", b""), "header"
    m.send(b"E")
    mods = []
    while True:
        r = m.recv()
        if r is None:
            raise RuntimeError("closed at end of message")
        mods.append(r)
        if r[0] in (b"c", b"a", b"r", b"t", b"y", b"d"):
            return mail, mods


def headers_of(mods):
    """The insertions and removals in mods, decoded."""
    out = []
    for cmd, data in mods:
        if cmd in (b"i", b"m"):
            idx = struct.unpack(">I", data[:4])[0]
            name, value = data[4:].split(b"\0")[:2]
            out.append((cmd.decode(), idx, name.decode(), value.decode()))
        elif cmd == b"h":
            name, value = data.split(b"\0")[:2]
            out.append(("h", 0, name.decode(), value.decode()))
    return out


def start(conf_text, name):
    conf = os.path.join(TMP, name + ".conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    log = open(os.path.join(TMP, name + ".log"), "w")
    p = subprocess.Popen([BIN, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    return p, conf


def wait_port(port, unix=None):
    for _ in range(200):
        try:
            if unix:
                s = socket.socket(socket.AF_UNIX)
                s.connect(unix)
            else:
                s = socket.create_connection(("127.0.0.1", port), 1)
            s.close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def log_text(name):
    with open(os.path.join(TMP, name + ".log"), errors="replace") as f:
        return f.read()


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def srs_message(m, sender, rcpts, ip=b"127.0.0.1", qid=b"S1"):
    """One message with recipients through a negotiated connection (from a
    skipped address: SPF says nothing); returns ([RCPT replies],
    [end-of-message packets]) or the MAIL reply when it was refused."""
    m.send(b"C", connect_info(ip))
    assert m.recv() == (b"c", b""), "connect"
    m.send(b"H", b"mx.origin.example\0")
    assert m.recv() == (b"c", b""), "helo"
    m.send(b"D", b"M" + b"i\0" + qid + b"\0")
    m.send(b"M", b"<" + sender + b">\0")
    mail = m.recv()
    if mail != (b"c", b""):
        return mail, []
    rr = []
    for r in rcpts:
        m.send(b"R", b"<" + r + b">\0")
        rr.append(m.recv())
    if not any(x == (b"c", b"") for x in rr):
        m.send(b"A")
        return rr, []
    m.send(b"E")
    mods = []
    while True:
        x = m.recv()
        if x is None:
            raise RuntimeError("closed at end of message")
        mods.append(x)
        if x[0] in (b"c", b"a", b"r", b"t", b"y", b"d"):
            return rr, mods


def srs_tests():
    secrets = os.path.join(TMP, "srs.secrets")
    with open(secrets, "w") as f:
        f.write("# test secret, generated by milter.py\nmilter-test-secret-0123456789\n")
    mport = free_port()
    p, _ = start(f"""zone_file = {ZONE}
receiver = mx.fwd.example
log = stderr
milter_listen = inet:127.0.0.1:{mport}
srs_domain = fwd.example
srs_secrets = {secrets}
srs_local_domains = local.example
srs_milter = yes
srs_too_long = reject
""", "srs")
    if not wait_port(mport):
        check("srs daemon started", False, log_text("srs")[-2000:])
        return
    addr = ("127.0.0.1", mport)
    m = Milter(addr)
    m.negotiate()
    want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_ADDRCPT | SMFIF_DELRCPT
    check("srs: negotiates change-from, add and delete recipient, RCPT",
          m.opts[1] == want and not (m.opts[2] & SMFIP_NORCPT), (hex(m.opts[1]), hex(m.opts[2])))
    rr, mods = srs_message(m, b"a@origin.example", [b"bob@fwd.example", b"someone@remote.example"])
    chg = [d for c, d in mods if c == b"e"]
    check("srs: forwarded out: SMFIR_CHGFROM <SRS0=...=origin.example=a@fwd.example>",
          rr == [(b"c", b"")] * 2 and len(chg) == 1 and chg[0].startswith(b"<SRS0=")
          and chg[0].endswith(b"=origin.example=a@fwd.example>\0") and mods[-1] == (b"c", b""), (rr, mods))
    srs = chg[0][1:-2] if chg else b"SRS0=xxxx=AA=origin.example=a@fwd.example"
    rr, mods = srs_message(m, b"a@origin.example", [b"bob@fwd.example", b"c@local.example"], qid=b"S2")
    check("srs: delivered locally only: sender unchanged",
          rr == [(b"c", b"")] * 2 and not [c for c, _ in mods if c == b"e"], mods)
    rr, mods = srs_message(m, b"c@local.example", [b"someone@remote.example"], qid=b"S3")
    check("srs: local sender forwarded out: unchanged", not [c for c, _ in mods if c == b"e"], mods)
    rr, mods = srs_message(m, b"", [srs], qid=b"S4")
    edits = [(c, d) for c, d in mods if c in (b"-", b"+", b"e")]
    check("srs: bounce to the SRS address: recipient swapped for the original",
          rr == [(b"c", b"")] and edits == [(b"-", b"<" + srs + b">\0"), (b"+", b"<a@origin.example>\0")],
          (rr, mods))
    forged = srs[:5] + (b"AAAA" if srs[5:9].upper() != b"AAAA" else b"BBBB") + srs[9:]
    rr, mods = srs_message(m, b"", [forged], qid=b"S5")
    check("srs: forged SRS recipient: 550 5.1.1 bad-hash at RCPT",
          rr and rr[0][0] == b"y" and rr[0][1].startswith(b"550 5.1.1 ") and b"bad-hash" in rr[0][1], rr)
    stale = subprocess.run([os.path.join(os.path.dirname(BIN), "..", "spfkit", "spfkit"), "srs", "forward",
                            "a@origin.example", "--domain", "fwd.example", "--secrets", secrets,
                            "--time", str(int(time.time()) - 60 * 86400)], capture_output=True).stdout.strip()
    rr, mods = srs_message(m, b"", [stale, b"x@local.example"], qid=b"S6")
    check("srs: stale SRS recipient: 550 5.1.1 expired, the other recipient served",
          stale.startswith(b"SRS0=") and rr[0][0] == b"y" and b"expired" in rr[0][1]
          and rr[1] == (b"c", b"") and not [c for c, _ in mods if c in (b"-", b"+")], (stale, rr, mods))
    long_sender = b"x" * 60 + b"@origin.example"
    rr, mods = srs_message(m, long_sender, [b"someone@remote.example"], qid=b"S7")
    check("srs: sender too long to rewrite: 550 5.1.7 (srs_too_long = reject)",
          mods and mods[-1][0] == b"y" and mods[-1][1].startswith(b"550 5.1.7 "), mods)
    m.close()
    m = Milter(addr)
    m.negotiate(actions=SMFIF_ADDHDRS)
    rr, mods = srs_message(m, b"a@origin.example", [b"someone@remote.example"], qid=b"S8")
    check("srs: MTA without change-from: nothing changed, message continues",
          not [c for c, _ in mods if c == b"e"] and mods[-1] == (b"c", b""), mods)
    m.close()
    rc = stop(p)
    log = log_text("srs")
    check("srs: exit 0, log says forward, reverse and refusals",
          rc == 0 and "srs forward address=<a@origin.example> result=<SRS0=" in log
          and "refused=bad-hash" in log and "refused=expired" in log and "refused=too-long" in log
          and "Sanitizer" not in log and "runtime error" not in log, log[-3000:])

    # -t: secrets missing or too short stop the daemon with one line
    def conf_t(extra):
        path = os.path.join(TMP, "srs-t.conf")
        with open(path, "w") as f:
            f.write(f"zone_file = {ZONE}\nsrs_domain = fwd.example\n{extra}")
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    short = os.path.join(TMP, "short.secrets")
    with open(short, "w") as f:
        f.write("tooshort\n")
    for name, extra, pat in (
            # Every refusal names the file, the line and the key.
            ("no srs_secrets", "", "srs-t.conf:2: srs_domain: needs srs_secrets"),
            ("missing file", f"srs_secrets = {TMP}/nope\n", f"srs-t.conf:3: srs_secrets: {TMP}/nope: No such file"),
            ("short secret", f"srs_secrets = {short}\n",
             f"srs-t.conf:3: srs_secrets: {short}: line 1: the secret is too short"),
            ("empty file", f"srs_secrets = {os.devnull}\n", "srs-t.conf:3: srs_secrets: /dev/null: ")):
        rc, out = conf_t(extra)
        check(f"srs -t refuses: {name}", rc == 1 and pat in out and out.count("\n") == 1, out)
    rc, out = conf_t(f"srs_secrets = {short}\nsrs_listen = inet:127.0.0.1:{free_port()}\n")
    path = os.path.join(TMP, "srs-t.conf")
    r = subprocess.run([BIN, "-f", "-c", path], capture_output=True, text=True, timeout=20)
    check("srs: the daemon does not start with a short secret", r.returncode != 0 and "too short" in r.stderr,
          (r.returncode, r.stderr))


def main():
    mport, pport, hport = free_port(), free_port(), free_port()
    usock = os.path.join(TMP, "milter.sock")
    p, conf = start(f"""zone_file = {ZONE}
receiver = mx.test.example
log = stderr
helo_check = yes
mailfrom_softfail = accept
mailfrom_temperror = defer
skip_addresses = 127.0.0.0/8
listen = inet:127.0.0.1:{pport}
milter_listen = inet:{mport}@127.0.0.1, unix:{usock}
metrics_listen = inet:127.0.0.1:{hport}
""", "main")
    if not wait_port(mport) or not wait_port(0, usock):
        check("daemon started", False, log_text("main")[-2000:])
        return
    addr = ("127.0.0.1", mport)

    # --- negotiation
    m = Milter(addr)
    r = m.negotiate()
    check("negotiation: version 6", r and r[0] == b"O" and m.opts[0] == 6, r)
    check("negotiation: add and change headers only",
          m.opts[1] == SMFIF_ADDHDRS | SMFIF_CHGHDRS, hex(m.opts[1]))
    check("negotiation: no reply per header, no body", m.opts[2] & SMFIP_NR_HDR and m.opts[2] & 0x10,
          hex(m.opts[2]))

    # --- decisions at MAIL FROM, headers at the end
    mail, mods = message(m)
    h = headers_of(mods)
    check("pass: MAIL continues", mail == (b"c", b""), mail)
    check("pass: Received-SPF inserted at index 0",
          len(h) == 1 and h[0][:3] == ("i", 0, "Received-SPF") and h[0][3].startswith("pass ")
          and "client-ip=192.0.2.1;" in h[0][3] and 'envelope-from="a@pass.example"' in h[0][3], h)
    check("pass: ends with continue", mods and mods[-1] == (b"c", b""), mods)

    forged = [(b"Received", b"from x by y"),
              (b"Authentication-Results", b"mx.test.example; spf=pass smtp.mailfrom=a@pass.example"),
              (b"authentication-results", b"other.example; spf=fail"),
              (b"Authentication-Results", b" (comment (nested)) MX.Test.Example 1; dkim=pass"),
              (b"Authentication-Results", b"\"mx.test.example\";\r\n\tspf=pass"),
              (b"Authentication-Results", b"mx.test.example.evil.example; spf=pass"),
              (b"Subject", b"hello")]
    mail, mods = message(m, connect=False, headers=forged, qid=b"QID2")
    h = headers_of(mods)
    check("forged A-R: removed last first, 1-based per name, then ours inserted",
          [(x[0], x[1], x[2], x[3]) for x in h[:3]] ==
          [("m", 4, "Authentication-Results", ""), ("m", 3, "Authentication-Results", ""),
           ("m", 1, "Authentication-Results", "")]
          and len(h) == 4 and h[3][:3] == ("i", 0, "Received-SPF"), h)

    # However many forged ones a message brings, all go (there was a cap
    # of 1,000), and only those.
    many, want = [], []
    for i in range(1, 1501):
        many.append((b"Authentication-Results", b"mx.test.example; spf=pass"))
        want.append(2 * i - 1)
        many.append((b"Authentication-Results", b"other.example; spf=pass"))
    mail, mods = message(m, connect=False, headers=many, qid=b"QIDMANY")
    h = headers_of(mods)
    gone = [x[1] for x in h if x[0] == "m"]
    check("1,500 forged A-R: every one removed, last first, the others kept",
          gone == want[::-1] and h[-1][:3] == ("i", 0, "Received-SPF"), (len(gone), gone[:3], gone[-3:]))

    # RFC 5322 §2.1.1: a long legal HELO and sender made a header line of
    # over 1,000 octets; it is folded at 78 (at white space outside
    # quoted strings; unfolding gives the one line back).
    lhelo = b".".join([b"h" * 63, b"e" * 63, b"l" * 63, b"o" * 61])
    lsender = b"l" * 64 + b"@" + b".".join([b"d" * 63, b"o" * 63, b"m" * 53, b"example"])
    mail, mods = message(m, helo=lhelo, sender=lsender, qid=b"QIDLONG")
    h = headers_of(mods)
    v = h[-1][3] if h else ""
    lines = ("Received-SPF: " + v).split("\n")

    def unbreakable(line):
        """Does line have no white space outside a quoted string but its
        first octet (a run that cannot be folded)?"""
        q = False
        for ch in line[1:]:
            if ch == '"':
                q = not q
            elif ch == " " and not q:
                return False
        return True
    check("long HELO and sender: the header is folded at 78 octets",
          h and h[-1][2] == "Received-SPF" and len(lines) > 3
          and all(len(x) <= 78 or unbreakable(x) for x in lines)
          and all(x.startswith(" ") for x in lines[1:]) and len("".join(lines)) > 998,
          [(len(x), x[:30], x[-30:]) for x in lines])
    check("long HELO and sender: unfolded it says the same",
          lhelo.decode()[:150] in "".join(lines) and lsender.decode()[:150] in "".join(lines), v[:200])

    # RFC 6532: with SMTPUTF8 the header carries the UTF-8 sender as it is;
    # without, the library's escapes stay.
    usender = "jörg@pass.example".encode()
    mail, mods = message(m, connect=False, sender=usender, qid=b"QIDU8", args=b"SIZE=100\0SMTPUTF8\0")
    h = headers_of(mods)
    check("SMTPUTF8: UTF-8 kept in the header", h and 'envelope-from="jörg@pass.example"' in h[-1][3], h)
    mail, mods = message(m, connect=False, sender=usender, qid=b"QIDA")
    h = headers_of(mods)
    check("without SMTPUTF8: escaped as ASCII", h and 'envelope-from="j\\\\xC3\\\\xB6rg@pass.example"' in h[-1][3], h)

    mail, mods = message(m, connect=False, ip=b"203.0.113.9", sender=b"a@fail.example")
    check("fail (second message of the session): 550 5.7.23",
          mail[0] == b"y" and mail[1].startswith(b"550 5.7.23 SPF fail") and mail[1].endswith(b"\0"), mail)
    m.send(b"A")  # the MTA aborts the refused transaction
    m.close()

    m = Milter(addr)
    m.negotiate()
    mail, mods = message(m, ip=b"203.0.113.9", helo=b"x.example", sender=b"a@fail.example")
    check("fail: 550 5.7.23", mail[0] == b"y" and mail[1].startswith(b"550 5.7.23 "), mail)
    m.send(b"A")
    mail, mods = message(m, connect=False, sender=b"a@slow.example")
    check("temperror (DNS timeout): 451 4.7.24, never a rejection",
          mail[0] == b"y" and mail[1].startswith(b"451 4.7.24 "), mail)
    m.send(b"A")
    mail, mods = message(m, connect=False, sender=b"a@soft.example")
    h = headers_of(mods)
    check("softfail: accepted with Received-SPF: softfail",
          mail == (b"c", b"") and len(h) == 1 and h[0][3].startswith("softfail "), (mail, h))
    m.send(b"K")  # QUIT_NC: a new SMTP session on the same connection
    mail, mods = message(m, ip=b"127.0.0.1", helo=b"localhost", sender=b"a@fail.example", headers=forged)
    check("skip_addresses: accepted, no header, A-R of our relays kept",
          mail == (b"c", b"") and headers_of(mods) == [], (mail, mods))
    mail, mods = message(m, ip=b"203.0.113.9", helo=b"x.example", sender=b"a@fail.example",
                         headers=forged, auth=b"alice")
    h = headers_of(mods)
    check("SASL login ({auth_authen}): accepted unchecked, forged A-R still removed",
          mail == (b"c", b"") and [x[1] for x in h] == [4, 3, 1] and all(x[0] == "m" for x in h), (mail, h))
    mail, mods = message(m, connect=False, ip=b"203.0.113.9", sender=b"a@fail.example")
    check("the login does not carry over to the next message",
          mail[0] == b"y" and mail[1].startswith(b"550 "), mail)
    m.send(b"A")
    m.send(b"C", connect_info(b"IPv6:2001:db8::25", family=b"6"))
    m.recv()
    m.send(b"H", b"mx.v6.example\0")
    m.recv()
    mail, mods = message(m, connect=False, sender=b"a@v6.example")
    h = headers_of(mods)
    check("IPv6 client (Sendmail's IPv6: prefix): pass",
          mail == (b"c", b"") and h and "2001:db8::25" in h[0][3] and h[0][3].startswith("pass "), (mail, h))
    m.send(b"Q")
    check("QUIT: the daemon closes", m.closed())
    m.close()

    # --- unix socket, protocol version 2 MTA (no insheader: addheader)
    m = Milter(usock, socket.AF_UNIX)
    r = m.negotiate(version=2, actions=0x3F, protocol=0x7F)
    check("unix socket, version 2: negotiated down",
          r and r[0] == b"O" and m.opts[0] == 2 and not (m.opts[2] & SMFIP_NR_HDR), r)
    mail, mods = message(m)
    h = headers_of(mods)
    check("version 2: header appended (SMFIR_ADDHEADER)", len(h) == 1 and h[0][0] == "h", h)
    m.close()

    # --- an MTA that allows no header changes
    m = Milter(addr)
    m.negotiate(actions=0)
    mail, mods = message(m, headers=forged)
    check("no actions allowed: decision still made, nothing modified",
          mail == (b"c", b"") and headers_of(mods) == [] and mods[-1] == (b"c", b""), mods)
    m.close()

    # --- the policy service in the same process
    ps = socket.create_connection(("127.0.0.1", pport), 5)
    ps.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=203.0.113.9\n"
               b"helo_name=x.example\nsender=a@fail.example\ninstance=p1\n\n")
    ans = ps.recv(4096)
    ps.close()
    check("policy service alongside the milter", ans.startswith(b"action=550 5.7.23 "), ans)

    # --- a milter connection across a reload
    m = Milter(addr)
    m.negotiate()
    mail, _ = message(m)
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    mail2, mods = message(m, ip=b"203.0.113.9", sender=b"a@fail.example")
    check("reload: the milter connection survives and is served",
          mail == (b"c", b"") and mail2[0] == b"y" and "reloaded" in log_text("main"), (mail2, log_text("main")[-500:]))
    m.close()

    # --- hostile input: each on its own connection, then a good message
    def fresh_ok(name):
        try:
            g = Milter(addr)
            g.negotiate()
            mail, mods = message(g)
            g.close()
            check(name + ": the daemon still answers", mail == (b"c", b"") and mods[-1] == (b"c", b""))
        except Exception as e:  # noqa: BLE001
            check(name + ": the daemon still answers", False, repr(e))

    def hostile(name, raw, negotiate=True, expect_closed=True):
        m = Milter(addr)
        if negotiate:
            m.negotiate()
        m.s.sendall(raw)
        if expect_closed:
            check(name + ": connection closed", m.closed())
        m.close()
        fresh_ok(name)

    hostile("length 0", struct.pack(">I", 0) + b"junk")
    hostile("length over 64 KiB", struct.pack(">I", 0x7FFFFFFF) + b"M")
    hostile("length 65537", struct.pack(">I", 65537) + b"L")
    hostile("unknown command", pkt(b"Z", b"\0\0"))
    hostile("command before negotiation", pkt(b"C", connect_info(b"192.0.2.1")), negotiate=False)
    hostile("short negotiation", pkt(b"O", b"\0\0\0\6"), negotiate=False)
    hostile("version 1 MTA", pkt(b"O", struct.pack(">III", 1, 0, 0)), negotiate=False)
    m = Milter(addr)
    m.negotiate()
    m.s.sendall(pkt(b"C", connect_info(b"192.0.2.1"))[:9])
    m.s.shutdown(socket.SHUT_WR)
    check("truncated packet then EOF: closed", m.closed())
    m.close()
    fresh_ok("truncated packet")

    m = Milter(addr)
    m.negotiate()
    m.send(b"C", b"no-nul-anywhere")
    r1 = m.recv()
    m.send(b"H", b"no-nul")
    r2 = m.recv()
    m.send(b"D", b"M")
    m.send(b"M", b"<a@fail.example>")  # no NUL: malformed
    r3 = m.recv()
    m.send(b"M", b"<a@fail.example>\0")
    r4 = m.recv()
    m.send(b"L", b"Authentication-Results")  # malformed header
    m.send(b"E")
    r5 = m.recv()
    check("malformed payloads are answered, the session goes on",
          (r1, r2, r3, r5) == ((b"c", b""),) * 4 and r4 == (b"c", b""), (r1, r2, r3, r4, r5))
    check("malformed connect: no client address, so not checked", r4 == (b"c", b""))
    m.close()

    m = Milter(addr)
    m.negotiate()
    big = b"x" * (65535 - len(b"X-Big\0\0"))
    m.send(b"C", connect_info(b"192.0.2.1"))
    m.recv()
    m.send(b"H", b"mx.pass.example\0")
    m.recv()
    m.send(b"M", b"<a@pass.example>\0")
    r = m.recv()
    m.send(b"L", b"X-Big\0" + big + b"\0")
    m.send(b"B", b"body" * 100)
    r2 = m.recv()
    m.send(b"E")
    mods = []
    while True:
        x = m.recv()
        mods.append(x)
        if x is None or x[0] == b"c":
            break
    check("a header at the 64 KiB limit and an unasked body chunk are served",
          r == (b"c", b"") and r2 == (b"c", b"") and mods[-1] == (b"c", b""), (r, r2, mods[-1:]))
    m.close()

    # One byte per write.
    m = Milter(addr)
    stream = (pkt(b"O", struct.pack(">III", 6, ALL_ACTIONS, ALL_PROTOCOL)) +
              pkt(b"C", connect_info(b"203.0.113.9")) + pkt(b"H", b"x.example\0") +
              pkt(b"M", b"<a@fail.example>\0"))
    for i in range(len(stream)):
        m.s.send(stream[i:i + 1])
    got = [m.recv() for _ in range(4)]
    check("one byte per write", got[0][0] == b"O" and got[1] == (b"c", b"") and got[2] == (b"c", b"")
          and got[3][0] == b"y", got)
    m.close()

    # Random packets (seeded): well framed, any command byte, any payload.
    rnd = random.Random(7208)
    cmds = b"ABCDEHKLMNOQRTUZ\0\xff"
    for i in range(60):
        m = Milter(addr)
        m.negotiate()
        try:
            for _ in range(rnd.randint(1, 12)):
                c = bytes([rnd.choice(cmds)])
                data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40)))
                if rnd.random() < 0.3:
                    data = data.replace(b"\0", b"") + b"\0" + data
                m.send(c, data)
            m.s.settimeout(0.05)
            try:
                while m.s.recv(65536):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        m.close()
    fresh_ok("random packets")

    # --- many connections at once
    results = []

    def worker(i):
        try:
            g = Milter(addr)
            g.negotiate()
            fail = i % 2 == 1
            mail, mods = message(g, ip=b"203.0.113.9" if fail else b"192.0.2.1",
                                 sender=b"a@fail.example" if fail else b"a@pass.example",
                                 qid=b"Q%d" % i)
            ok = mail[0] == b"y" if fail else (mail == (b"c", b"") and len(headers_of(mods)) == 1)
            results.append(ok)
            g.close()
        except Exception:  # noqa: BLE001
            results.append(False)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check("64 concurrent milter connections", results.count(True) == 64, results.count(True))

    # --- metrics
    hs = socket.create_connection(("127.0.0.1", hport), 5)
    hs.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    body = b""
    while True:
        d = hs.recv(65536)
        if not d:
            break
        body += d
    hs.close()
    text = body.decode(errors="replace")
    removed = [ln for ln in text.splitlines() if ln.startswith("spfkitd_milter_authres_removed_total ")]
    check("metrics: milter counters", removed and int(removed[0].split()[1]) >= 6
          and "spfkitd_milter_errors_total" in text, removed)

    rc = stop(p)
    log = log_text("main")
    check("SIGTERM: exit 0", rc == 0, rc)
    check("log: protocol errors logged", "milter: protocol error (unknown command" in log
          and "milter: malformed connect" in log)
    check("log: decisions say via=milter", "via=milter" in log)
    check("log: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log,
          [ln for ln in log.splitlines() if "Sanitizer" in ln or "runtime error" in ln][:5])

    # --- Authentication-Results as our header; '%' in a reply
    mport2 = free_port()
    p2, _ = start(f"""zone_file = {ZONE}
receiver = mx.test.example
log = stderr
header = authentication-results
authserv_id = mx.test.example
reject_reason = SPF %{{result}} (100%% sure)
milter_listen = inet:127.0.0.1:{mport2}
""", "authres")
    if not wait_port(mport2):
        check("authres daemon started", False, log_text("authres")[-2000:])
        return
    m = Milter(("127.0.0.1", mport2))
    m.negotiate()
    mail, mods = message(m, headers=forged)
    h = headers_of(mods)
    check("authres: forged removed, ours inserted once",
          [x[1] for x in h if x[0] == "m"] == [4, 3, 1]
          and [x for x in h if x[0] == "i"] and len([x for x in h if x[0] == "i"]) == 1
          and h[-1][2] == "Authentication-Results" and h[-1][3].startswith("mx.test.example;")
          and "spf=pass" in h[-1][3], h)
    mail, _ = message(m, connect=False, ip=b"203.0.113.9", sender=b"a@fail.example")
    check("'%' in a reply is doubled for the MTA", mail[0] == b"y" and b"(100%% sure)" in mail[1], mail)
    m.close()
    check("authres daemon: exit 0", stop(p2) == 0)

    # --- milter_listen forms in -t
    def conf_t(line):
        path = os.path.join(TMP, "t.conf")
        with open(path, "w") as f:
            f.write(f"zone_file = {ZONE}\n{line}\n")
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    for line in ("milter_listen = inet:10025@localhost", "milter_listen = inet6:10025@::1",
                 "milter_listen = local:/run/spfkitd/milter.sock", "milter_listen = inet:127.0.0.1:10025",
                 "milter_listen = inet:10025"):
        rc, out = conf_t(line)
        check(f"-t {line}", rc == 0, out)
    for line in ("milter_listen = inet:port@127.0.0.1", "milter_listen = inet:10025@mail.example",
                 "milter_listen = tcp:10025"):
        rc, out = conf_t(line)
        check(f"-t refuses {line}", rc == 1 and "milter_listen" in out and ":2:" in out, out)


try:
    main()
    srs_tests()
except Exception as e:  # noqa: BLE001
    import traceback
    traceback.print_exc()
    check("milter.py ran to the end", False, repr(e))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", TMP])
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
