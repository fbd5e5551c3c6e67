#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/daemon/abuse.py SPFKITD TMPDIR - spfkitd against a hostile local
client and a hostile machine, each on loopback, quickly:

  idle holders   max_connections connections held open and silent on the
                 policy, milter and metrics listeners: a new client of
                 each is still served (the longest idle one is closed)
  descriptors    the daemon's descriptor limit lowered under it (prlimit):
                 no busy loop, no log flood, open connections served,
                 new ones once the limit is back; lowered below the
                 connections open, each is still served
  files          a pid file that is a symbolic link (to a file that must
                 survive), a pid file held by a running daemon, a pid
                 file and a unix socket in a directory others may write
  reload         SIGHUP with the same DNS settings keeps the DNS cache (the
                 name server sees no new query) and the counters
  secrets        (as root) a secrets file only root can read is warned
                 about by -t when user= could not read it on a reload;
                 one it can read reloads as that user

Prints "ok NAME" per check passed, "FAIL NAME: why" per check failed;
exits 1 on a failure. Ports chosen here, processes stopped by PID."""
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

BIN, TMP = sys.argv[1], sys.argv[2]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INTEG = os.path.join(ROOT, "tests", "integration")
os.makedirs(TMP, exist_ok=True)
os.chmod(TMP, 0o755)  # user= (nobody) reads the configurations here
# and the zone, which a reload as nobody reads again: a copy, since the
# checkout may be closed to nobody (a clone in a mktemp -d directory).
ZONE = os.path.join(TMP, "zone.yml")
shutil.copyfile(os.path.join(ROOT, "tests", "daemon", "zone.yml"), ZONE)
os.chmod(ZONE, 0o644)
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


def start(conf_text, name, args=("-f",)):
    conf = os.path.join(TMP, name + ".conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    log = open(os.path.join(TMP, name + ".log"), "w")
    p = subprocess.Popen([BIN, *args, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
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


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def ask(port, data, timeout=10):
    """One policy request on a new connection: the reply, or what went
    wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            return s.recv(65536)
    except OSError as e:
        return repr(e).encode()


def http_get(port, path, timeout=10):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf.decode(errors="replace")
    except OSError as e:
        return repr(e)


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def milter_pass(port, timeout=10):
    """A whole milter message (negotiate, connect, HELO, MAIL, end): the
    MAIL FROM reply and whether our header came, or what went wrong."""
    def pkt(cmd, data=b""):
        return struct.pack(">I", len(data) + 1) + cmd + data
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(pkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
            buf = b""

            def recv():
                nonlocal buf
                while True:
                    if len(buf) >= 4:
                        n = struct.unpack(">I", buf[:4])[0]
                        if len(buf) >= 4 + n:
                            p = buf[4:4 + n]
                            buf = buf[4 + n:]
                            return p[:1], p[1:]
                    d = s.recv(65536)
                    if not d:
                        raise OSError("closed")
                    buf += d
            recv()
            s.sendall(pkt(b"C", b"client.example\x004" + struct.pack(">H", 25) + b"192.0.2.1\0"))
            recv()
            s.sendall(pkt(b"H", b"mx.pass.example\0"))
            recv()
            s.sendall(pkt(b"M", b"<a@pass.example>\0"))
            mail = recv()
            s.sendall(pkt(b"E"))
            mods = []
            while True:
                r = recv()
                mods.append(r)
                if r[0] in (b"c", b"a", b"r", b"t", b"y"):
                    break
            return mail == (b"c", b"") and any(c == b"i" for c, _ in mods)
    except OSError as e:
        return repr(e)


def idle_holders():
    """A full listener of silent connections does not lock anyone out."""
    port, mport, hport = free_port(), free_port(), free_port()
    p, _ = start(f"zone_file = {ZONE}\nreceiver = mx.test.example\nlog = stderr\n"
                 f"listen = inet:127.0.0.1:{port}\nmilter_listen = inet:127.0.0.1:{mport}\n"
                 f"metrics_listen = inet:127.0.0.1:{hport}\nmax_connections = 20\n"
                 f"metrics_max_connections = 3\nuser = nobody\n", "idle")
    if not wait_port(port, p) or not wait_port(mport, p) or not wait_port(hport, p):
        bad("idle holders: start", log_text("idle")[-1000:])
        return
    time.sleep(0.2)  # the probes are gone
    held = []
    for _ in range(20):
        held.append(socket.create_connection(("127.0.0.1", port)))
        held.append(socket.create_connection(("127.0.0.1", mport)))
    for _ in range(3):
        held.append(socket.create_connection(("127.0.0.1", hport)))
    time.sleep(0.3)
    r = ask(port, req(inst="new"), timeout=5)
    check("idle holders: a new policy client is served", r.startswith(b"action=PREPEND Received-SPF: pass"), r[:80])
    r = milter_pass(mport, timeout=5)
    check("idle holders: a new milter client is served", r is True, r)
    m = http_get(hport, "/metrics", timeout=5)
    check("idle holders: metrics connections are capped and served", m.startswith("HTTP/1.0 200"), m[:80])
    # The holders closed were the idle ones, one per newcomer.
    check("idle holders: one idle connection closed per newcomer",
          metric(m, "spfkitd_connections_evicted_total") == 3, str(metric(m, "spfkitd_connections_evicted_total")))
    # Each listener closed one of its own holders for its newcomer (who
    # has left since): 19 + 19 still open, each up to its own limit.
    check("idle holders: policy and milter each up to their own limit",
          metric(m, "spfkitd_connections") == 38, str(metric(m, "spfkitd_connections")))
    log = log_text("idle")
    check("idle holders: logged once, with a count", log.count("closed the longest idle one") == 1, log[-800:])
    for s in held:
        s.close()
    check("idle holders: SIGTERM", stop(p) == 0)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descriptors():
    """Out of descriptors: it waits, says so now and then, and serves
    what it has."""
    port, hport = free_port(), free_port()
    p, _ = start(f"zone_file = {ZONE}\nreceiver = mx.test.example\nlog = stderr\n"
                 f"listen = inet:127.0.0.1:{port}\nmetrics_listen = inet:127.0.0.1:{hport}\n", "fds")
    if not wait_port(port, p):
        bad("descriptors: start", log_text("fds")[-1000:])
        return
    time.sleep(0.2)
    kept = socket.create_connection(("127.0.0.1", port), timeout=10)
    kept.sendall(req(inst="before"))
    kept.recv(65536)
    time.sleep(0.2)
    nfds = len(os.listdir(f"/proc/{p.pid}/fd"))
    soft, hard = resource.prlimit(p.pid, resource.RLIMIT_NOFILE)
    # No descriptor left for a new connection.
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (nfds, hard))
    flood = []
    for _ in range(200):
        try:
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    cpu0 = cpu_seconds(p.pid)
    time.sleep(3)
    cpu = cpu_seconds(p.pid) - cpu0
    # A loop that retried accept() would use the 3 s whole (and log each
    # time: a million lines in 5 s).
    check("descriptors: no busy loop (CPU over 3 s)", cpu < 1.0, f"{cpu:.2f} s")
    log = log_text("fds")
    n = log.count("accept:")
    check("descriptors: logged once per interval, with a count", 1 <= n <= 2 and "new connections wait" in log,
          f"{n} lines; {log[-600:]}")
    kept.sendall(req(inst="during"))
    kept.settimeout(10)
    try:
        r = kept.recv(65536)
    except OSError as e:
        r = repr(e).encode()
    check("descriptors: an open connection is still served", r.startswith(b"action=PREPEND"), r[:80])
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (soft, hard))
    got = 0
    for i, s in enumerate(flood[:20]):
        s.settimeout(10)
        try:
            s.sendall(req(inst=f"after{i}"))
            if s.recv(65536).startswith(b"action=PREPEND"):
                got += 1
        except OSError:
            pass
    check("descriptors: waiting clients served once the limit is back", got == min(20, len(flood)),
          f"{got} of {min(20, len(flood))}")
    m = http_get(hport, "/metrics")
    check("descriptors: counted in /metrics", (metric(m, "spfkitd_accept_paused_total") or 0) >= 1,
          str(metric(m, "spfkitd_accept_paused_total")))
    for s in flood:
        s.close()
    kept.close()
    check("descriptors: SIGTERM", stop(p) == 0)


def descriptors_below():
    """The limit lowered below the descriptors already open: poll() would
    refuse so many entries (EINVAL) on every turn; the connections take
    turns instead and each is served."""
    port = free_port()
    p, _ = start(f"zone_file = {ZONE}\nreceiver = mx.test.example\nlog = stderr\n"
                 f"listen = inet:127.0.0.1:{port}\n", "fdsbelow")
    if not wait_port(port, p):
        bad("descriptors below: start", log_text("fdsbelow")[-1000:])
        return
    held = []
    for i in range(40):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req(inst=f"open{i}"))
        s.recv(65536)
        held.append(s)
    nfds = len(os.listdir(f"/proc/{p.pid}/fd"))
    soft, hard = resource.prlimit(p.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (nfds - 30, hard))
    got = 0
    for i, s in enumerate(held):
        try:
            s.sendall(req(inst=f"below{i}"))
            if s.recv(65536).startswith(b"action=PREPEND"):
                got += 1
        except OSError:
            pass
    check("descriptors below: every open connection served", got == len(held), f"{got} of {len(held)}; "
          + log_text("fdsbelow")[-400:])
    if p.poll() is not None:
        bad("descriptors below: still running", log_text("fdsbelow")[-400:])
        return
    cpu1 = cpu_seconds(p.pid)
    time.sleep(2)
    cpu = cpu_seconds(p.pid) - cpu1
    check("descriptors below: no busy loop (CPU over 2 s idle)", cpu < 0.7, f"{cpu:.2f} s")
    check("descriptors below: no poll error", "poll:" not in log_text("fdsbelow"), log_text("fdsbelow")[-400:])
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (soft, hard))
    check("descriptors below: a new client once the limit is back",
          ask(port, req(inst="after")).startswith(b"action=PREPEND"))
    for s in held:
        s.close()
    check("descriptors below: SIGTERM", stop(p) == 0)


def files():
    """The pid file and sockets: never through a link, never in a
    directory others may write."""
    run = os.path.join(TMP, "run")
    os.makedirs(run, mode=0o755, exist_ok=True)
    os.chmod(run, 0o755)
    victim = os.path.join(TMP, "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    pid = os.path.join(run, "spfkitd.pid")
    os.symlink(victim, pid)
    port = free_port()
    base = f"zone_file = {ZONE}\nlog = stderr\nlisten = inet:127.0.0.1:{port}\n"
    p, _ = start(base + f"pid_file = {pid}\n", "pidlink")
    try:
        rc = p.wait(20)
    except subprocess.TimeoutExpired:
        rc = None
        stop(p)
    check("pid file: a symbolic link is refused, not followed",
          rc not in (0, None) and "is a symbolic link" in log_text("pidlink")
          and "pid_file" in log_text("pidlink"), (rc, log_text("pidlink")[-400:]))
    check("pid file: the link's target is untouched", open(victim).read() == "precious\n", open(victim).read())
    os.unlink(pid)

    p, _ = start(base + f"pid_file = {pid}\n", "pidok")
    if not wait_port(port, p):
        bad("pid file: start", log_text("pidok")[-400:])
        return
    for _ in range(100):
        if os.path.exists(pid) and os.path.getsize(pid):
            break
        time.sleep(0.05)
    st = os.lstat(pid)
    check("pid file: a regular file, mode 0644, with the pid",
          (st.st_mode & 0o7777) == 0o644 and open(pid).read() == f"{p.pid}\n", (oct(st.st_mode), open(pid).read()))
    p2, _ = start(f"zone_file = {ZONE}\nlog = stderr\nlisten = inet:127.0.0.1:{free_port()}\npid_file = {pid}\n",
                  "pid2")
    try:
        rc2 = p2.wait(20)
    except subprocess.TimeoutExpired:
        rc2 = None
        stop(p2)
    check("pid file: a second daemon with it stops (locked)",
          rc2 not in (0, None) and "locked by a running spfkitd" in log_text("pid2"), (rc2, log_text("pid2")[-300:]))
    check("pid file: SIGTERM", stop(p) == 0)
    check("pid file: removed at exit", not os.path.lexists(pid))

    pub = os.path.join(TMP, "public")
    os.makedirs(pub, exist_ok=True)
    os.chmod(pub, 0o1777)
    for what, extra in (("pid file", f"pid_file = {pub}/spfkitd.pid\n"),
                        ("unix socket", f"listen = unix:{pub}/policy.sock\n")):
        p, _ = start(base + extra, "pub")
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            rc = None
            stop(p)
        log = log_text("pub")
        check(f"{what}: a directory others may write is refused",
              rc not in (0, None) and "writable by others" in log and not os.listdir(pub), (rc, log[-400:]))

    sock = os.path.join(run, "policy.sock")
    os.symlink(victim, sock)
    p, _ = start(base + f"listen = unix:{sock}\n", "socklink")
    try:
        rc = p.wait(20)
    except subprocess.TimeoutExpired:
        rc = None
        stop(p)
    check("unix socket: something else in its place is left alone",
          rc not in (0, None) and "exists and is not a socket" in log_text("socklink")
          and os.path.islink(sock) and open(victim).read() == "precious\n", (rc, log_text("socklink")[-300:]))
    os.unlink(sock)


def reload_keeps_cache():
    """A reload that changes no DNS setting keeps the answers."""
    dport, port, hport = free_port(), free_port(), free_port()
    dns = subprocess.Popen(["/usr/bin/python3", os.path.join(INTEG, "faultdns.py"), "--port", str(dport)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(dns)

    def count():
        r = subprocess.run(["/usr/bin/python3", os.path.join(INTEG, "dnsq.py"), str(dport), "count.control.", "TXT"],
                           capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if "TXT" in line:
                return int(line.rsplit('"', 2)[1])
        return None
    subprocess.run(["/usr/bin/python3", os.path.join(INTEG, "dnsq.py"), "--wait", "10", str(dport),
                    "count.control.", "TXT"], capture_output=True)
    conf = (f"nameserver = 127.0.0.1@{dport}\nlog = stderr\nhelo_check = no\nreceiver = mx.test.example\n"
            f"listen = inet:127.0.0.1:{port}\nmetrics_listen = inet:127.0.0.1:{hport}\n")
    p, path = start(conf, "reload")
    if not wait_port(port, p):
        bad("reload: start", log_text("reload")[-400:])
        stop(dns)
        return
    r1 = ask(port, req(sender="a@cache.fault.example", inst="r1"))
    c1 = count()
    with open(path, "a") as f:
        f.write("mailfrom_softfail = reject\n")  # not a DNS setting
    p.send_signal(signal.SIGHUP)
    check("reload: done", wait_log("reload", "reloaded"), log_text("reload")[-300:])
    r2 = ask(port, req(sender="a@cache.fault.example", inst="r2"))
    c2 = count()
    check("reload: checks pass before and after", r1.startswith(b"action=PREPEND Received-SPF: pass")
          and r2.startswith(b"action=PREPEND Received-SPF: pass"), (r1[:60], r2[:60]))
    check("reload: the DNS cache is kept (no new query)", c1 and c2 == c1, (c1, c2))
    m = http_get(hport, "/metrics")
    check("reload: the counters are kept", metric(m, "spfkitd_requests_total") == 2
          and metric(m, "spfkitd_reloads_total") == 1 and (metric(m, "spfkitd_dns_queries_sent_total") or 0) >= 1,
          [metric(m, k) for k in ("spfkitd_requests_total", "spfkitd_reloads_total",
                                  "spfkitd_dns_queries_sent_total")])
    check("reload: SIGTERM", stop(p) == 0)
    stop(dns)


def secrets():
    """What a reload reads again must be readable by user=."""
    if os.geteuid() != 0:
        ok("secrets: (not root: skipped)")
        return
    sec = os.path.join(TMP, "srs.secrets")
    with open(sec, "w") as f:
        f.write("abuse-test-secret-0123456789\n")
    os.chmod(sec, 0o600)
    port = free_port()
    conf = (f"zone_file = {ZONE}\nlog = stderr\nuser = nobody\nlisten = inet:127.0.0.1:{port}\n"
            f"srs_domain = fwd.example\nsrs_secrets = {sec}\n")
    path = os.path.join(TMP, "secrets.conf")
    with open(path, "w") as f:
        f.write(conf)
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    check("secrets: -t warns of a file user= cannot read on a reload",
          r.returncode == 0 and "secrets.conf:6: srs_secrets: " + sec + ": not readable by user nobody" in r.stderr,
          r.stderr)
    os.chown(sec, 0, int(subprocess.run(["id", "-g", "nobody"], capture_output=True, text=True).stdout))
    os.chmod(sec, 0o640)
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    check("secrets: readable by the group of user=: no warning", r.returncode == 0 and "warning" not in r.stderr,
          r.stderr)
    p, _ = start(conf, "secrets")
    if not wait_port(port, p):
        bad("secrets: start", log_text("secrets")[-400:])
        return
    p.send_signal(signal.SIGHUP)
    check("secrets: a reload as nobody reads them", wait_log("secrets", "reloaded")
          and "reload failed" not in log_text("secrets"), log_text("secrets")[-400:])
    check("secrets: SIGTERM", stop(p) == 0)


try:
    idle_holders()
    descriptors()
    descriptors_below()
    files()
    reload_keeps_cache()
    secrets()
    for name in ("idle", "fds", "fdsbelow", "pidok", "reload", "secrets"):
        try:
            text = log_text(name)
        except OSError:
            continue
        check(f"{name}: no sanitizer report", "Sanitizer" not in text and "runtime error" not in text, text[-500:])
finally:
    for p in procs:
        stop(p)
sys.exit(1 if failed else 0)
