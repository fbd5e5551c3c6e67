#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/daemon/sendmail.py SPFKITD [SENDMAIL_ROOT] - spfkitd's milter
behind a real Sendmail (Debian's sendmail-bin), wired with the README's
INPUT_MAIL_FILTER line exactly as pasted (inet:10025@127.0.0.1).

Everything runs in private namespaces (unshare -mnu: its own loopback, so
port 10025 and 25 are ours; its own host name; /etc/resolv.conf and
/etc/hosts bind-mounted to files naming our NSD on 127.0.0.1:53), with
its config, queue and pid file under a temporary directory: the machine's
resolver and mail system are never touched. NSD, spfkitd and sendmail
are started here and stopped by PID.

sendmail-bin conflicts with postfix (which tests/postfix needs), so it is
not installed: scripts/deps.sh unpacks sendmail-bin and sendmail-cf into
SENDMAIL_ROOT (default $SPFKIT_SENDMAIL_ROOT or /opt/spfkit-sendmail).

Checks: MAIL FROM a domain whose SPF fails gets 550 5.7.23 at MAIL FROM;
a passing message is queued with spfkitd's Received-SPF header first and
the forged Authentication-Results claiming mx.test.example removed (one
of another authserv-id kept). Prints "ok NAME" /
"FAIL NAME: why" and "N passed, N failed"."""
import glob
import os
import re
import signal
import smtplib
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.abspath(sys.argv[1])
SMROOT = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SPFKIT_SENDMAIL_ROOT", "/opt/spfkit-sendmail")
SENDMAIL = os.path.join(SMROOT, "usr/libexec/sendmail/sendmail")
CF = os.path.join(SMROOT, "usr/share/sendmail/cf")
passed = failed = 0


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok sendmail: {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL sendmail: {name}: {why}", flush=True)


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if not os.path.exists(SENDMAIL) or not os.path.isdir(CF):
    check("sendmail unpacked", False, f"no {SENDMAIL} or {CF} (scripts/deps.sh unpacks sendmail-bin there)")
    finish()
if os.environ.get("SPFKIT_SENDMAIL_NS") != "1":
    # Again, inside namespaces of our own.
    env = dict(os.environ, SPFKIT_SENDMAIL_NS="1")
    r = subprocess.run(["unshare", "-mnu", "--", sys.executable, os.path.abspath(__file__), BIN, SMROOT], env=env)
    if r.returncode not in (0, 1):
        check("private namespaces (unshare -mnu)", False, f"exit {r.returncode}")
        finish()
    sys.exit(r.returncode)

# The README's line, as pasted.
readme = open(os.path.join(ROOT, "README.md")).read()
lines = [x for x in readme.splitlines() if x.startswith("INPUT_MAIL_FILTER(`spfkitd'")]
check("the README has one Sendmail INPUT_MAIL_FILTER line", len(lines) == 1, lines)
if len(lines) != 1:
    finish()
snippet = lines[0]
man = open(os.path.join(ROOT, "man", "spfkitd.8")).read()
check("spfkitd(8) gives the same line", snippet in man)
m = re.search(r"S=inet:(\d+)@([0-9.]+)", snippet)
mport, maddr = int(m.group(1)), m.group(2)

tmp = tempfile.mkdtemp(prefix="spfkit-sendmail.")
os.chmod(tmp, 0o755)
procs = []


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def sh(*cmd):
    subprocess.run(cmd, check=True)


try:
    sh("ip", "link", "set", "lo", "up")
    sh("hostname", "mx.test.example")
    with open(os.path.join(tmp, "resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    with open(os.path.join(tmp, "hosts"), "w") as f:
        f.write("127.0.0.1 mx.test.example mx localhost\n")
    sh("mount", "--bind", os.path.join(tmp, "resolv.conf"), "/etc/resolv.conf")
    sh("mount", "--bind", os.path.join(tmp, "hosts"), "/etc/hosts")

    # NSD on 127.0.0.1:53 (ours, in this network namespace).
    nsd = os.path.join(tmp, "nsd")
    os.makedirs(nsd)
    with open(os.path.join(nsd, "root.zone"), "w") as f:
        f.write(". 300 IN SOA ns. hostmaster. 1 3600 600 86400 300\n. 300 IN NS ns.\nns. 300 IN A 127.0.0.1\n"
                'pass.example. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"\npass.example. 300 IN A 127.0.0.1\n'
                'fail.example. 300 IN TXT "v=spf1 ip4:192.0.2.1 -all"\nfail.example. 300 IN A 127.0.0.1\n'
                "test.example. 300 IN MX 10 mx.test.example.\nmx.test.example. 300 IN A 127.0.0.1\n"
                "1.0.0.127.in-addr.arpa. 300 IN PTR mx.test.example.\n")
    with open(os.path.join(nsd, "nsd.conf"), "w") as f:
        f.write(f'server:\n\tip-address: 127.0.0.1\n\tport: 53\n\tdo-ip6: no\n\tusername: ""\n\tchroot: ""\n'
                f'\tzonesdir: "{nsd}"\n\tdatabase: ""\n\tzonelistfile: "{nsd}/zone.list"\n'
                f'\txfrdfile: "{nsd}/xfrd.state"\n\txfrdir: "{nsd}"\n\tpidfile: "{nsd}/nsd.pid"\n'
                f'\tlogfile: "{nsd}/nsd.log"\n\tserver-count: 1\n\tverbosity: 2\n\tlog-only-syslog: no\n'
                f'remote-control:\n\tcontrol-enable: no\nzone:\n\tname: "."\n\tzonefile: "{nsd}/root.zone"\n')
    procs.append(subprocess.Popen(["nsd", "-d", "-c", os.path.join(nsd, "nsd.conf")],
                                  stdout=open(os.path.join(nsd, "out"), "w"), stderr=subprocess.STDOUT))

    conf = os.path.join(tmp, "spfkitd.conf")
    with open(conf, "w") as f:
        f.write(f"milter_listen = inet:{mport}@{maddr}\nnameserver = 127.0.0.1@53\nreceiver = mx.test.example\n"
                "log = stderr\nhelo_check = no\nmailfrom_fail = reject\nheader = received-spf\n"
                "skip_addresses = 192.0.2.255/32\n")
    slog = os.path.join(tmp, "spfkitd.log")
    spf = subprocess.Popen([BIN, "-f", "-c", conf], stdout=open(slog, "w"), stderr=subprocess.STDOUT)
    procs.append(spf)

    # Sendmail: its own config, queue and pid file under tmp; queue only
    # (what it would deliver is read from the queue file).
    q = os.path.join(tmp, "queue")
    os.makedirs(q, mode=0o700)
    mc = os.path.join(tmp, "sendmail.mc")
    with open(mc, "w") as f:
        f.write(f"""divert(-1)
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mx.test.example')dnl
define(`QUEUE_DIR', `{q}')dnl
define(`ALIAS_FILE', `')dnl
define(`confPID_FILE', `{tmp}/sendmail.pid')dnl
define(`STATUS_FILE', `{tmp}/statistics')dnl
define(`HELP_FILE', `')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDELIVERY_MODE', `queueonly')dnl
FEATURE(`no_default_msa')dnl
DAEMON_OPTIONS(`Port=25, Addr=127.0.0.1, Name=MTA')dnl
{snippet}
MAILER(`local')dnl
MAILER(`smtp')dnl
LOCAL_CONFIG
Cw test.example
""")
    cf = os.path.join(tmp, "sendmail.cf")
    with open(cf, "w") as f:
        subprocess.run(["m4", f"-D_CF_DIR_={CF}/", os.path.join(CF, "m4", "cf.m4"), mc], stdout=f, check=True)
    smout = os.path.join(tmp, "sendmail.out")
    sm = subprocess.Popen([SENDMAIL, "-C", cf, "-bD", "-X", os.path.join(tmp, "transcript")],
                          stdout=open(smout, "w"), stderr=subprocess.STDOUT)
    procs.append(sm)

    def connect():
        for _ in range(100):
            if sm.poll() is not None:
                return None
            try:
                return smtplib.SMTP("127.0.0.1", 25, timeout=30)
            except OSError:
                time.sleep(0.1)
        return None

    s = connect()
    check("sendmail answers on its private loopback", s is not None, open(smout).read()[-800:])
    if s is None:
        raise SystemExit
    s.ehlo("client.example")
    code, msg = s.mail("a@fail.example")
    check("fail: rejected at MAIL FROM with 550 5.7.23", code == 550 and msg.startswith(b"5.7.23"), (code, msg))
    s.rset()
    code, msg = s.mail("a@pass.example")
    check("pass: MAIL FROM accepted", code == 250, (code, msg))
    code, msg = s.rcpt("root@test.example")
    check("pass: RCPT accepted", code == 250, (code, msg))
    body = ("From: a@pass.example\r\nTo: root@test.example\r\nSubject: t\r\n"
            "Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=forged@pass.example\r\n"
            "Authentication-Results: other.example; spf=none\r\n"
            "Authentication-Results: (comment) MX.TEST.EXAMPLE; dkim=pass\r\n\r\nhello\r\n")
    code, msg = s.data(body)
    check("pass: message queued", code == 250, (code, msg))
    s.quit()
    qfs = glob.glob(os.path.join(q, "qf*"))
    check("pass: one queue file", len(qfs) == 1, qfs)
    qf = open(qfs[0], errors="replace").read() if qfs else ""
    # Header lines of the queue file; Return-Path (H?P?) is Sendmail's
    # template, added at delivery, not a header of the message.
    heads = [x for x in qf.splitlines() if x.startswith("H") and not x.startswith("H?P?")]
    spf_heads = [x for x in heads if "Received-SPF:" in x]
    check("pass: Received-SPF: pass inserted", len(spf_heads) == 1 and "Received-SPF: pass" in spf_heads[0], heads)
    check("pass: Received-SPF is the first header", heads and "Received-SPF:" in heads[0], heads[:3])
    ar = [x for x in heads if "Authentication-Results:" in x]
    check("pass: the forged Authentication-Results removed, another authserv-id's kept",
          len(ar) == 1 and "other.example" in ar[0], ar)
    dlog = open(slog, errors="replace").read()
    check("spfkitd decided both through its milter",
          "result=fail" in dlog and "result=pass" in dlog, dlog[-600:])
    check("no sanitizer report", "Sanitizer" not in dlog and "runtime error" not in dlog, dlog[-600:])
except SystemExit:
    pass
finally:
    for p in reversed(procs):
        stop(p)
    subprocess.run(["rm", "-rf", tmp])
finish()
