#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/shared-resolver/shared.py SPFKITD TMPDIR - two spfkitd behind one Unbound.

The shared tier of issue 16: a receiver with several MX hosts runs one
caching resolver they all ask. Here, all on 127.0.0.1 on ports chosen now:

  NSD       authoritative for a root zone holding the test domains, with
            nsd-control on a unix socket: its query count is the measure;
  unbound   Debian's daemon with this test's own config (not the system
            service): a cache forwarding "." to NSD, unbound-control on a
            unix socket;
  spfkitd   two instances (mx1, mx2), each `nameserver = 127.0.0.1@UNBOUND`,
            each its own libunbound context and cache, as two hosts have.

The same Postfix policy requests go to instance 1, then to instance 2.
Instance 1's checks reach NSD (through unbound); instance 2's ask unbound
(its own cache is empty) and reach NSD no more: zero new queries at NSD,
zero cache misses at unbound, and the same answers. Prints "ok ..." or
"FAIL ...: why" per check and "N passed, N failed"; exits 1 on a failure.
Every process started here is stopped by PID.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

from dnslib import DNSRecord

BIN, TMP = sys.argv[1], sys.argv[2]
PY = "/usr/bin/python3"
os.makedirs(TMP, exist_ok=True)
passed = failed = 0
procs = []


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {why}", flush=True)


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP now."""
    for _ in range(50):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise SystemExit("no free port")


# The test domains: an include tree, mx and a, exists, redirect, softfail,
# no record, a name that does not exist, a void lookup. TTLs long enough to
# outlive the test.
ZONE = """$TTL 3600
.                      SOA ns.root. hm.root. 1 3600 600 86400 3600
.                      NS  ns.root.
ns.root.               A   127.0.0.1
pass1.example.         TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.prov.example -all"
_spf.prov.example.     TXT "v=spf1 include:_n1.prov.example include:_n2.prov.example ?all"
_n1.prov.example.      TXT "v=spf1 ip4:198.51.100.0/24 ?all"
_n2.prov.example.      TXT "v=spf1 ip6:2001:db8::/32 ?all"
mxhost.example.        TXT "v=spf1 mx a -all"
mxhost.example.        MX  10 mail.mxhost.example.
mxhost.example.        A   203.0.113.6
mail.mxhost.example.   A   203.0.113.5
exists.example.        TXT "v=spf1 exists:%{i}._e.exists.example -all"
203.0.113.7._e.exists.example. A 127.0.0.2
redir.example.         TXT "v=spf1 redirect=pass1.example"
soft.example.          TXT "v=spf1 ~all"
none.example.          A   192.0.2.200
void.example.          TXT "v=spf1 a:nothere.void.example -all"
helo.client.example.   A   192.0.2.250
"""

# (client address, sender, the reply instance 1 must give)
REQUESTS = [
    ("192.0.2.10", "a@pass1.example", r'^PREPEND Received-SPF: pass .*mechanism="ip4:192'),
    ("198.51.100.7", "b@pass1.example", r'^PREPEND Received-SPF: pass .*"include:_spf.prov'),
    ("203.0.113.99", "c@pass1.example", r"^550 5\.7\.23 "),
    ("203.0.113.5", "a@mxhost.example", r"^PREPEND Received-SPF: pass .*mechanism=mx$"),
    ("203.0.113.6", "b@mxhost.example", r"^PREPEND Received-SPF: pass .*mechanism=a$"),
    ("203.0.113.7", "a@exists.example", r'^PREPEND Received-SPF: pass .*"exists:'),
    ("203.0.113.8", "b@exists.example", r"^550 5\.7\.23 "),
    ("192.0.2.11", "a@redir.example", r"^PREPEND Received-SPF: pass "),
    ("192.0.2.12", "a@soft.example", r"^PREPEND Received-SPF: softfail "),
    ("192.0.2.13", "a@none.example", r"^PREPEND Received-SPF: none .*no v=spf1 record"),
    ("192.0.2.14", "a@nowhere.example", r"^PREPEND Received-SPF: none .*does not exist"),
    ("192.0.2.15", "a@void.example", r"^550 5\.7\.23 "),
]


def start(name, argv, log):
    p = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    procs.append((name, p))
    return p


def stop_all():
    for _, p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def answers(port, name="_probe.example", qtype="A"):
    try:
        DNSRecord.parse(DNSRecord.question(name, qtype).send("127.0.0.1", port, timeout=1))
        return True
    except (OSError, Exception):
        return False


def wait_for(what, cond, proc, log):
    for _ in range(100):
        if proc.poll() is not None:
            break
        if cond():
            return
        time.sleep(0.1)
    raise SystemExit(f"FAIL {what} did not come up:\n" + open(log).read()[-2000:])


def counter(argv, key):
    out = subprocess.run(argv, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith(key + "="):
            return int(float(line.split("=", 1)[1]))
    raise SystemExit(f"FAIL no {key} from {' '.join(argv)}: {out.stdout[-300:]}{out.stderr[-300:]}")


def policy(port, ip, sender, n):
    """One Postfix policy delegation request (SMTPD_POLICY_README); the action."""
    attrs = dict(request="smtpd_access_policy", protocol_state="RCPT",
                 protocol_name="ESMTP", client_address=ip, client_name="unknown",
                 helo_name="helo.client.example", sender=sender,
                 recipient="postmaster@receiver.example", queue_id=f"Q{n}", instance=f"i{n}")
    msg = "".join(f"{k}={v}\n" for k, v in attrs.items()) + "\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(msg.encode())
        buf = b""
        while not buf.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    line = buf.decode(errors="replace").split("\n")[0]
    return line[len("action="):] if line.startswith("action=") else "?" + line


def main():
    nsd_port, ub_port = free_port(), free_port()
    with open(os.path.join(TMP, "root.zone"), "w") as f:
        f.write(ZONE)
    nsd_conf = os.path.join(TMP, "nsd.conf")
    with open(nsd_conf, "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1@{nsd_port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{TMP}"
    database: ""
    zonelistfile: "{TMP}/zone.list"
    xfrdfile: "{TMP}/xfrd.state"
    pidfile: "{TMP}/nsd.pid"
    logfile: "{TMP}/nsd.log"
    server-count: 1
    verbosity: 1
    rrl-ratelimit: 0
remote-control:
    control-enable: yes
    control-interface: "{TMP}/nsd.ctl"
zone:
    name: "."
    zonefile: "root.zone"
""")
    ub_conf = os.path.join(TMP, "unbound.conf")
    with open(ub_conf, "w") as f:
        f.write(f"""server:
    interface: 127.0.0.1
    port: {ub_port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{TMP}"
    pidfile: "{TMP}/unbound.pid"
    logfile: "{TMP}/unbound.log"
    use-syslog: no
    verbosity: 1
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    # NSD on loopback is the only upstream
    do-not-query-localhost: no
    # no trust anchor: the validator would only mark answers insecure
    module-config: "iterator"
remote-control:
    control-enable: yes
    control-interface: "{TMP}/unbound.ctl"
    control-use-cert: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{nsd_port}
""")
    chk = subprocess.run(["unbound-checkconf", ub_conf], capture_output=True, text=True)
    if chk.returncode != 0:
        raise SystemExit(f"FAIL unbound-checkconf: {chk.stdout}{chk.stderr}")
    nsd_ctl = ["nsd-control", "-c", nsd_conf, "stats_noreset"]
    ub_ctl = ["unbound-control", "-c", ub_conf, "stats_noreset"]

    p = start("nsd", ["nsd", "-d", "-c", nsd_conf], os.path.join(TMP, "nsd.out"))
    wait_for("nsd", lambda: answers(nsd_port) and subprocess.run(
        nsd_ctl, capture_output=True).returncode == 0, p, os.path.join(TMP, "nsd.out"))
    p = start("unbound", ["unbound", "-d", "-c", ub_conf], os.path.join(TMP, "unbound.out"))
    wait_for("unbound", lambda: answers(ub_port) and subprocess.run(
        ub_ctl, capture_output=True).returncode == 0, p, os.path.join(TMP, "unbound.log"))

    ports = []
    for i in (1, 2):
        port = free_port()
        conf = os.path.join(TMP, f"spfkitd{i}.conf")
        with open(conf, "w") as f:
            f.write(f"""# MX host {i}: its own process and cache, the shared resolver behind it
nameserver = 127.0.0.1@{ub_port}
listen = inet:127.0.0.1:{port}
receiver = mx{i}.receiver.example
log = stderr
""")
        log = os.path.join(TMP, f"spfkitd{i}.log")
        p = start(f"spfkitd{i}", [BIN, "-f", "-c", conf], log)

        def up(port=port):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(f"spfkitd {i}", up, p, log)
        ports.append(port)

    replies = {}
    seen = {}
    for i, port in enumerate(ports, 1):
        n0, q0 = counter(nsd_ctl, "num.queries"), counter(ub_ctl, "total.num.queries")
        m0 = counter(ub_ctl, "total.num.cachemiss")
        replies[i] = [policy(port, ip, s, n) for n, (ip, s, _) in enumerate(REQUESTS)]
        seen[i] = (counter(nsd_ctl, "num.queries") - n0,
                   counter(ub_ctl, "total.num.queries") - q0,
                   counter(ub_ctl, "total.num.cachemiss") - m0)
        print(f"     instance {i}: NSD {seen[i][0]} queries, unbound {seen[i][1]} "
              f"({seen[i][2]} cache misses)", flush=True)

    for (ip, s, want), got in zip(REQUESTS, replies[1]):
        check(f"instance 1: {ip} {s}", re.search(want, got), f"got {got!r}, want /{want}/")
    # instance 1 asked for every name once, through unbound to NSD
    check("instance 1's checks reached NSD through unbound",
          seen[1][0] >= len({s.split("@")[1] for _, s, _ in REQUESTS}) and seen[1][2] > 0,
          f"NSD {seen[1][0]}, unbound misses {seen[1][2]}")
    # instance 2's own cache was empty: it asked the shared resolver ...
    check("instance 2 asked the shared resolver", seen[2][1] >= len(REQUESTS),
          f"unbound saw {seen[2][1]} queries for {len(REQUESTS)} checks")
    # ... which answered all of it from its cache
    check("instance 2's checks reached NSD no more", seen[2][0] == 0,
          f"NSD saw {seen[2][0]} new queries")
    check("instance 2's queries were all unbound cache hits", seen[2][2] == 0,
          f"{seen[2][2]} cache misses")
    for (ip, s, _), a, b in zip(REQUESTS, replies[1], replies[2]):
        check(f"instance 2 answers as instance 1: {ip} {s}",
              b == a.replace("mx1.receiver.example", "mx2.receiver.example"),
              f"{b!r} vs {a!r}")


try:
    main()
finally:
    stop_all()
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
