#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/daemon/socketmap.py SPFKITD TMPDIR - spfkitd's SRS socketmap
(srs_listen, Postfix's socketmap_table(5) protocol) and the policy
service's refusal of forged SRS recipients, on loopback: forward and
reverse lookups with every kind of answer (OK, NOTFOUND, PERM), requests
pipelined and split into single bytes, malformed netstrings (the
connection closes, the daemon goes on), a unix socket, addresses made by
`spfkit srs` reversed by the daemon, 550 5.1.1 at RCPT for forged and
stale SRS addresses, and SIGHUP reloads of the secrets file (a short
secret keeps the old configuration; a rotated file still reverses old
addresses). Prints "ok NAME" per check passed and "FAIL NAME: why" per
check failed; exits 1 on a failure. Ports chosen here, the daemon stopped
by PID."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

BIN, TMP = sys.argv[1], sys.argv[2]
SPFKIT = os.path.join(os.path.dirname(BIN), "..", "spfkit", "spfkit")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ZONE = os.path.join(ROOT, "tests", "daemon", "zone.yml")
os.makedirs(TMP, exist_ok=True)
failed = 0
SECRET1 = "socketmap-test-secret-one-0123"
SECRET2 = "socketmap-test-secret-two-4567"


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok " + name, flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def ns(text):
    b = text.encode() if isinstance(text, str) else text
    return str(len(b)).encode() + b":" + b + b","


class Map:
    def __init__(self, addr, family=socket.AF_INET):
        self.s = socket.socket(family, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(addr)
        self.buf = b""

    def reply(self):
        """One reply netstring's data, or None when the daemon closed."""
        while True:
            if b":" in self.buf:
                n, rest = self.buf.split(b":", 1)
                n = int(n)
                if len(rest) > n:
                    assert rest[n:n + 1] == b",", self.buf
                    self.buf = rest[n + 1:]
                    return rest[:n].decode()
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d

    def ask(self, name, key):
        self.s.sendall(ns(f"{name} {key}"))
        return self.reply()

    def closed(self):
        try:
            return self.reply() is None
        except (ConnectionResetError, socket.timeout):
            return False


def write_secrets(*lines):
    path = os.path.join(TMP, "srs.secrets")
    with open(path + ".new", "w") as f:
        f.write("".join(ln + "\n" for ln in lines))
    os.rename(path + ".new", path)
    return path


def policy(port, rcpt, state="RCPT", sender="", inst="i1"):
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.sendall(f"request=smtpd_access_policy\nprotocol_state={state}\nclient_address=127.0.0.1\n"
              f"helo_name=mx.origin.example\nsender={sender}\nrecipient={rcpt}\ninstance={inst}\n\n".encode())
    a = b""
    while not a.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d:
            break
        a += d
    s.close()
    return a.decode()


def main():
    secrets = write_secrets("# rotation: the first signs", SECRET1)
    sport, pport = free_port(), free_port()
    usock = os.path.join(TMP, "srs.sock")
    conf = os.path.join(TMP, "srs.conf")
    with open(conf, "w") as f:
        f.write(f"""zone_file = {ZONE}
log = stderr
listen = inet:127.0.0.1:{pport}
srs_listen = inet:127.0.0.1:{sport}, unix:{usock}
srs_domain = fwd.example
srs_secrets = {secrets}
srs_local_domains = local.example, other-local.example
""")
    logf = open(os.path.join(TMP, "srs.log"), "w")
    p = subprocess.Popen([BIN, "-f", "-c", conf], stdout=logf, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", sport), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        run(p, sport, pport, usock, secrets)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        logf.close()
    log = open(os.path.join(TMP, "srs.log"), errors="replace").read()
    check("SIGTERM: exit 0", rc == 0, rc)
    check("log: no sanitizer report", "Sanitizer" not in log and "runtime error" not in log, log[-2000:])
    check("log: rewrites and refusals logged",
          "srs forward address=<a@origin.example> result=<SRS0=" in log and "refused=bad-hash" in log
          and "refused=too-long" in log and "socketmap: not a netstring" in log, log[-2000:])


def run(p, sport, pport, usock, secrets):
    m = Map(("127.0.0.1", sport))
    r = m.ask("forward", "a@origin.example")
    check("forward: remote sender -> OK SRS0 at srs_domain",
          r and r.startswith("OK SRS0=") and r.endswith("=origin.example=a@fwd.example"), r)
    srs = r[3:] if r and r.startswith("OK ") else "SRS0=xxxx=AA=origin.example=a@fwd.example"
    for key, why in (("c@local.example", "srs_local_domains"), ("c@sub.other-local.example", "below a local domain"),
                     ("c@FWD.example", "srs_domain is local"), ("postmaster", "bare local name"),
                     ("@origin.example", "Postfix's @domain lookup"), (srs, "already ours")):
        r = m.ask("forward", key)
        check(f"forward: {why} -> NOTFOUND", r == "NOTFOUND ", r)
    r = m.ask("forward", "SRS0=HHHH=TT=orig.example=u@fwd1.example")
    check("forward: another forwarder's SRS0 -> SRS1", r and r.startswith("OK SRS1=")
          and "=fwd1.example==HHHH=TT=orig.example=u@fwd.example" in r, r)
    srs1 = r[3:] if r and r.startswith("OK ") else ""
    r = m.ask("forward", "x" * 60 + "@origin.example")
    check("forward: too long after rewriting -> NOTFOUND (left alone, logged)", r == "NOTFOUND ", r)
    r = m.ask("reverse", srs)
    check("reverse: our SRS0 -> OK the original", r == "OK a@origin.example", r)
    r = m.ask("REVERSE", srs.upper().replace("@FWD.EXAMPLE", "@fwd.example."))
    check("reverse: case-insensitive map name, prefix and hash; trailing dot", r == "OK A@ORIGIN.EXAMPLE", r)
    r = m.ask("reverse", srs1)
    check("reverse: SRS1 -> the first forwarder's SRS0", r == "OK SRS0=HHHH=TT=orig.example=u@fwd1.example", r)
    forged = srs[:5] + ("AAAA" if srs[5:9].upper() != "AAAA" else "BBBB") + srs[9:]
    for key, why in (("bob@fwd.example", "not SRS"), (forged, "forged (bad hash)"),
                     (srs.replace("@fwd.example", "@elsewhere.example"), "SRS of another domain"),
                     ("SRS0=broken@fwd.example", "malformed")):
        r = m.ask("reverse", key)
        check(f"reverse: {why} -> NOTFOUND", r == "NOTFOUND ", r)
    r = m.ask("nosuchmap", "a@origin.example")
    check("unknown map name -> PERM", r and r.startswith("PERM "), r)
    m.s.sendall(ns("forward"))
    r = m.reply()
    check("no key -> PERM, the connection goes on", r and r.startswith("PERM ") and
          m.ask("reverse", srs) == "OK a@origin.example", r)
    # Pipelined, then one byte per write.
    m.s.sendall(ns("reverse " + srs) + ns("forward c@local.example") + ns("forward b@origin.example"))
    got = [m.reply() for _ in range(3)]
    check("pipelined requests: answers in order",
          got[0] == "OK a@origin.example" and got[1] == "NOTFOUND " and got[2].startswith("OK SRS0="), got)
    for b in ns("reverse " + srs):
        m.s.send(bytes([b]))
    check("one byte per write", m.reply() == "OK a@origin.example")
    m.s.close()
    # Hostile netstrings: closed, and the daemon goes on.
    for raw, name in ((b"abc:def,", "no length"), (b"05:hello,", "leading zero"),
                      (b"99999:x", "over the cap"), (b"5:hello;", "no comma"), (b"123456", "six digits")):
        h = Map(("127.0.0.1", sport))
        h.s.sendall(raw)
        check(f"malformed netstring ({name}): closed", h.closed())
        h.s.close()
    u = Map(usock, socket.AF_UNIX)
    check("unix socket, after the malformed ones", u.ask("reverse", srs) == "OK a@origin.example")
    u.s.close()
    # Addresses made by `spfkit srs` with the same secrets.
    cli = subprocess.run([SPFKIT, "srs", "forward", "z@cli.example", "--domain", "fwd.example",
                          "--secrets", secrets], capture_output=True, text=True).stdout.strip()
    m = Map(("127.0.0.1", sport))
    check("reverse of `spfkit srs forward`", m.ask("reverse", cli) == "OK z@cli.example", cli)
    stale = subprocess.run([SPFKIT, "srs", "forward", "z@cli.example", "--domain", "fwd.example", "--secrets",
                            secrets, "--time", str(int(time.time()) - 60 * 86400)],
                           capture_output=True, text=True).stdout.strip()
    check("reverse: stale (60 days) -> NOTFOUND", m.ask("reverse", stale) == "NOTFOUND ", stale)

    # The policy service refuses bounces to forged and stale SRS addresses.
    a = policy(pport, forged)
    check("policy: RCPT to a forged SRS address -> 550 5.1.1 bad-hash",
          a.startswith("action=550 5.1.1 ") and "(bad-hash)" in a, a)
    a = policy(pport, stale, inst="i2")
    check("policy: RCPT to a stale SRS address -> 550 5.1.1 expired", a.startswith("action=550 5.1.1 ")
          and "(expired)" in a, a)
    a = policy(pport, srs, inst="i3")
    check("policy: RCPT to a good SRS address -> the usual decision", not a.startswith("action=550"), a)
    a = policy(pport, forged, state="MAIL", inst="i4")
    check("policy: MAIL state is not about recipients", not a.startswith("action=550"), a)

    # Reloads: a short secret keeps the old configuration.
    write_secrets("short")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    log = open(os.path.join(TMP, "srs.log"), errors="replace").read()
    check("reload with a short secret: old configuration kept, logged",
          re.search(r"reload failed, old configuration kept: \S+srs\.conf:\d+: srs_secrets: ", log)
          and "too short" in log, log[-1000:])
    check("... and the old secret still serves", m.ask("reverse", srs) == "OK a@origin.example")
    write_secrets(SECRET2, SECRET1)
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    m.s.close()
    m = Map(("127.0.0.1", sport))
    r = m.ask("forward", "a@origin.example")
    check("rotation: the new first secret signs", r and r.startswith("OK SRS0=") and r[3:] != srs, (r, srs))
    check("rotation: addresses of the old secret still reverse", m.ask("reverse", srs) == "OK a@origin.example")
    m.s.close()


try:
    main()
except Exception as e:  # noqa: BLE001
    import traceback
    traceback.print_exc()
    check("socketmap.py ran to the end", False, repr(e))
sys.exit(1 if failed else 0)
