#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/daemon/sockets.py SPFKITD TMPDIR - spfkitd as a server on loopback:
many concurrent clients over TCP and a unix socket (requests split into
pieces, pipelined), metrics and --status, SIGHUP reloads (a bad file keeps
the old configuration; connections survive), temperror through a real
resolver whose name server never answers, SIGTERM. Prints "ok NAME" per
check passed and "FAIL NAME: why" per check failed; exits 1 on a failure.
Everything on 127.0.0.1, ports chosen here, processes stopped by PID."""
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time

BIN, TMP = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ZONE = os.path.join(ROOT, "tests", "daemon", "zone.yml")
os.makedirs(TMP, exist_ok=True)
failed = 0
procs = []


def ok(name):
    print("ok " + name, flush=True)


def bad(name, why):
    global failed
    failed += 1
    print(f"FAIL {name}: {why}", flush=True)


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        bad(name, why)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def req(ip="192.0.2.1", helo="mx.pass.example", sender="a@pass.example", inst="i1"):
    return (f"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            f"client_address={ip}\nclient_name=c.example\nhelo_name={helo}\n"
            f"sender={sender}\nrecipient=r@test.example\ninstance={inst}\n\n").encode()


# (request maker, expected reply prefix) by kind
KINDS = {
    "pass": (lambda i: req(inst=i), b"action=PREPEND Received-SPF: pass "),
    "fail": (lambda i: req(ip="203.0.113.9", helo="x.example", sender="a@fail.example", inst=i),
             b"action=550 5.7.23 "),
    "softfail": (lambda i: req(ip="203.0.113.9", helo="x.example", sender="a@soft.example", inst=i),
                 b"action=PREPEND Received-SPF: softfail "),
    "temperror": (lambda i: req(ip="203.0.113.9", helo="x.example", sender="a@slow.example", inst=i),
                  b"action=451 4.7.24 "),
    "skip": (lambda i: req(ip="127.0.0.1", helo="localhost", sender="a@fail.example", inst=i),
             b"action=DUNNO\n\n"),
}


def start(conf_text, name):
    conf = os.path.join(TMP, name + ".conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    log = open(os.path.join(TMP, name + ".log"), "w")
    p = subprocess.Popen([BIN, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    return p, conf


def wait_port(port, p):
    for _ in range(200):
        if p.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def log_text(name):
    with open(os.path.join(TMP, name + ".log"), errors="replace") as f:
        return f.read()


def wait_log(name, text, count=1):
    for _ in range(200):
        if log_text(name).count(text) >= count:
            return True
        time.sleep(0.05)
    return False


async def read_reply(reader):
    return await reader.readuntil(b"\n\n")


async def client(host_or_path, port, n, seed, results):
    rnd = random.Random(seed)
    if port:
        reader, writer = await asyncio.open_connection(host_or_path, port)
    else:
        reader, writer = await asyncio.open_unix_connection(host_or_path)
    kinds = ["pass", "fail", "softfail", "temperror", "skip"]
    i = 0
    while i < n:
        batch = 1 if rnd.random() < 0.7 else 3  # sometimes pipelined
        sent = []
        data = b""
        for _ in range(min(batch, n - i)):
            k = rnd.choice(kinds)
            data += KINDS[k][0](f"c{seed}-{i}")
            sent.append(k)
            i += 1
        # Sent in random pieces: the server sees partial requests.
        pos = 0
        while pos < len(data):
            step = rnd.choice([1, 7, 50, 1000, len(data)])
            writer.write(data[pos:pos + step])
            await writer.drain()
            pos += step
        for k in sent:
            reply = await read_reply(reader)
            results.append(reply.startswith(KINDS[k][1]))
    writer.close()
    await writer.wait_closed()


async def many(port, unix_path, nclients, nreq):
    results = []
    tasks = [client("127.0.0.1", port, nreq, s, results) for s in range(nclients)]
    tasks += [client(unix_path, 0, nreq, 1000 + s, results) for s in range(10)]
    await asyncio.gather(*tasks)
    return results


def one(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        buf = b""
        while buf.count(b"\n\n") < data.count(b"\n\n") and len(buf) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf


def http_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def main():
    port, mport = free_port(), free_port()
    sock = os.path.join(TMP, "policy.sock")
    base = (f"zone_file = {ZONE}\nreceiver = mx.test.example\nlog = stderr\n"
            f"listen = inet:127.0.0.1:{port}\nlisten = unix:{sock}\n"
            f"metrics_listen = inet:127.0.0.1:{mport}\nmax_connections = 500\n")
    p, conf = start(base, "main")
    if not wait_port(port, p):
        bad("start", log_text("main"))
        return
    ok("start")
    check("unix socket created", os.path.exists(sock))

    nclients, nreq = 100, 40
    results = asyncio.run(many(port, sock, nclients, nreq))
    total = (nclients + 10) * nreq
    check("concurrent clients: every reply", len(results) == total, f"{len(results)} of {total}")
    check("concurrent clients: every reply right", all(results),
          f"{results.count(False)} wrong")

    m = http_get(mport, "/metrics")
    check("metrics: HTTP 200", m.startswith("HTTP/1.0 200"), m[:200])
    check("metrics: requests counted", metric(m, "spfkitd_requests_total") == total,
          str(metric(m, "spfkitd_requests_total")))
    acts = sum(metric(m, f'spfkitd_actions_total{{action="{a}"}}') or 0
               for a in ("accept", "reject", "defer"))
    check("metrics: one action per request", acts == total, str(acts))
    check("metrics: histogram count", metric(m, "spfkitd_decision_seconds_count") == total)
    check("metrics: results by identity",
          (metric(m, 'spfkitd_results_total{identity="mailfrom",result="pass"}') or 0) > 0)
    check("metrics: 404 elsewhere", http_get(mport, "/nope").startswith("HTTP/1.0 404"))
    st = subprocess.run([BIN, "--status", "-c", conf], capture_output=True, text=True)
    check("--status", st.returncode == 0 and f"{total} requests" in st.stdout, st.stdout + st.stderr)

    # A connection survives a bad request and an oversized one.
    r = one(port, b"junk\n\n" + b"request=smtpd_access_policy\nx=" + b"y" * 100000 + b"\n\n"
            + req(inst="after"))
    check("bad and oversized requests on a socket", r.startswith(b"action=DUNNO\n\naction=DUNNO\n\naction=PREPEND"), r[:100])

    # A client gone in the middle of a request does no harm.
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"request=smtpd_access_policy\nprotocol_")
    s.close()
    check("half a request, then close", one(port, req(inst="z")).startswith(b"action=PREPEND"))

    # SIGHUP with a broken file: the old configuration stays.
    with open(conf, "w") as f:
        f.write(base + "frobnicate = 1\n")
    p.send_signal(signal.SIGHUP)
    check("reload: bad file logged", wait_log("main", "reload failed"), log_text("main")[-500:])
    check("reload: bad file keeps serving", one(port, KINDS["softfail"][0]("r1")).startswith(KINDS["softfail"][1]))
    # A connection opened before a reload keeps working after it.
    keep = socket.create_connection(("127.0.0.1", port), timeout=30)
    with open(conf, "w") as f:
        f.write(base + "mailfrom_softfail = reject\n")
    p.send_signal(signal.SIGHUP)
    check("reload: good file", wait_log("main", "reloaded"))
    check("reload: new settings apply",
          one(port, KINDS["softfail"][0]("r2")).startswith(b"action=550 5.7.23 SPF softfail"))
    keep.sendall(req(inst="k"))
    check("reload: connection kept", keep.recv(65536).startswith(b"action=PREPEND"))
    keep.close()

    rc = stop(p)
    check("SIGTERM: exit 0", rc == 0, str(rc))
    check("SIGTERM: unix socket removed", not os.path.exists(sock))
    check("no sanitizer report", "Sanitizer" not in log_text("main") and "runtime error" not in log_text("main"))

    # A name server that never answers: temperror after the query timeout,
    # deferred, never rejected; a reload while the checks wait.
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))
    dport = dead.getsockname()[1]
    port2 = free_port()
    conf2 = (f"nameserver = 127.0.0.1@{dport}\nquery_timeout = 300ms\ndeadline = 3s\n"
             f"log = stderr\nlisten = inet:127.0.0.1:{port2}\nhelo_check = no\n"
             f"max_connections = 20\n")
    p2, conf2_path = start(conf2, "dns")
    if not wait_port(port2, p2):
        bad("start with nameserver", log_text("dns"))
        return
    conns = []
    for i in range(20):
        c = socket.create_connection(("127.0.0.1", port2), timeout=30)
        c.sendall(req(ip="203.0.113.9", sender=f"a@dead{i}.example", inst=f"d{i}"))
        conns.append(c)
    # The listener is full of connections waiting for checks: none of
    # them is closed for a newcomer, which waits its turn.
    late = socket.create_connection(("127.0.0.1", port2), timeout=30)
    late.sendall(req(ip="203.0.113.9", sender="a@dead-late.example", inst="late"))
    p2.send_signal(signal.SIGHUP)
    replies = []
    for c in conns:
        try:
            replies.append(c.recv(65536))
        except ConnectionError as e:
            replies.append(repr(e).encode())
    for c in conns:
        c.close()
    check("dead name server: temperror deferred (451 4.7.24)",
          all(r.startswith(b"action=451 4.7.24 SPF temperror") for r in replies), replies[:2])
    check("max_connections: busy connections are not closed for a newcomer, who is served after",
          late.recv(65536).startswith(b"action=451 4.7.24"))
    late.close()
    check("dead name server: reload during checks", wait_log("dns", "reloaded"))
    check("dead name server: SIGTERM", stop(p2) == 0)
    dead.close()

    # Limits: max_connections per listener. A full listener closes its
    # longest idle connection to serve a new one (idle clients cannot lock
    # mail out); then idle_timeout, and user= (as root).
    port3, mport3 = free_port(), free_port()
    sock3 = os.path.join(TMP, "limits.sock")
    conf3 = (f"zone_file = {ZONE}\nlog = stderr\nlisten = inet:127.0.0.1:{port3}\n"
             f"listen = unix:{sock3}\nmax_connections = 2\nidle_timeout = 3s\n"
             f"metrics_listen = inet:127.0.0.1:{mport3}\n")
    if os.geteuid() == 0:
        conf3 += "user = nobody\n"
    p3, _ = start(conf3, "limits")
    if not wait_port(port3, p3):
        bad("start with limits", log_text("limits"))
        return
    # wait_port's own probe connection must be gone before counting.
    time.sleep(0.2)
    a = socket.create_connection(("127.0.0.1", port3), timeout=30)
    a.sendall(req(inst="a"))
    a.recv(65536)
    b = socket.create_connection(("127.0.0.1", port3), timeout=30)
    b.sendall(req(inst="b"))
    b.recv(65536)
    c = socket.create_connection(("127.0.0.1", port3), timeout=10)
    c.sendall(req(inst="c"))
    try:
        got = c.recv(65536)
    except socket.timeout:
        got = b"(no answer within 10 s)"
    check("max_connections: a new client is served at once", got.startswith(b"action=PREPEND"), got[:60])
    a.settimeout(10)
    try:
        gone = a.recv(65536)
    except (socket.timeout, ConnectionError) as e:
        gone = repr(e).encode()
    check("max_connections: the longest idle connection was closed for it", gone == b"", gone[:60])
    check("max_connections: logged", wait_log("limits", "closed the longest idle one"), log_text("limits")[-500:])
    b.sendall(req(inst="b2"))
    check("max_connections: the other idle one still serves", b.recv(65536).startswith(b"action=PREPEND"))
    # The unix listener has a limit of its own: unaffected by the TCP one.
    u = socket.socket(socket.AF_UNIX)
    u.settimeout(10)
    u.connect(sock3)
    u.sendall(req(inst="u"))
    check("max_connections: per listener (unix served apart)", u.recv(65536).startswith(b"action=PREPEND"))
    u.close()
    m = http_get(mport3, "/metrics")
    check("metrics: connections closed to make room", metric(m, "spfkitd_connections_evicted_total") == 1,
          str(metric(m, "spfkitd_connections_evicted_total")))
    # b and c now go quiet: the daemon closes them.
    b.settimeout(30)
    c.settimeout(30)
    check("idle_timeout: idle connections closed", b.recv(65536) == b"" and c.recv(65536) == b"")
    a.close()
    b.close()
    c.close()
    mode = os.stat(sock3).st_mode & 0o777
    check("unix socket: mode 0666 from its creation", mode == 0o666, oct(mode))
    if os.geteuid() == 0:
        with open(f"/proc/{p3.pid}/status") as f:
            uid = [line.split()[1] for line in f if line.startswith("Uid:")][0]
        nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
        check("user=: privileges dropped", uid == nobody, uid)
    check("limits: SIGTERM", stop(p3) == 0)


try:
    main()
finally:
    for p in procs:
        stop(p)
sys.exit(1 if failed else 0)
