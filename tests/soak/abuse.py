#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/soak/abuse.py --bin SPFKITD --tmp DIR [options] - spfkitd under
every abuse at once, on loopback, for a bounded time (about a minute).

While honest clients (policy over TCP and a unix socket, and a milter)
send requests for fresh names all along, and must always get the right
answer, these happen, overlapping:

  idle holders     connections opened and left silent on every listener,
                   opened again when closed
  slow senders     requests written one octet every 100 ms
  connect floods   bursts of connections closed at once or left empty
  reloads          SIGHUP every few seconds
  a DNS outage     the relay in front of NSD drops every query, then
                   relays again: checks must recover within seconds
  descriptors      the daemon's descriptor limit lowered under it for a
                   few seconds (prlimit)

Checks: every honest request gets one reply, and it is the right one:
pass or fail as the record says, or temperror deferred (451 4.7.24) only
when DNS could not be had (during the outage and a few seconds after,
while descriptors ran out); never a reject for a DNS fault; checks pass
again within --recover-s of the server answering; memory flat (RSS
growth from warm-up to end under --rss-bound-mib, plain build); the log
does not flood (lines other than decisions under --log-bound); SIGTERM
exits 0 with no sanitizer report. Prints "ok NAME" / "FAIL NAME: why",
a "stats {json}" line, and "N passed, N failed"."""
import argparse
import asyncio
import json
import os
import random
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--tmp", required=True)
ap.add_argument("--label", default="abuse")
ap.add_argument("--outage-at", type=float, default=12)
ap.add_argument("--outage-s", type=float, default=20)
ap.add_argument("--fds-at", type=float, default=38)
ap.add_argument("--fds-s", type=float, default=4)
ap.add_argument("--duration", type=float, default=55)
ap.add_argument("--recover-s", type=float, default=6)
ap.add_argument("--rss-bound-mib", type=float, default=16)
ap.add_argument("--log-bound", type=int, default=150)
ap.add_argument("--sanitizer", action="store_true")
ap.add_argument("--seed", type=int, default=1)
A = ap.parse_args()
os.makedirs(A.tmp, exist_ok=True)
rnd = random.Random(A.seed)
passed = failed = 0
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok {A.label}: {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {A.label}: {name}: {why}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


dport, fport, port, mport, hport = free_port(), free_port(), free_port(), free_port(), free_port()
usock = os.path.join(A.tmp, "policy.sock")
# NSD serves the root zone: every NAME.ok.example has the SPF record
# "v=spf1 ip4:192.0.2.0/24 -all" (a wildcard, so each check asks for a
# name never asked before), every other name is NXDOMAIN. Without its
# response rate limiting: the wildcard's answers count as one (200 a second
# by default), and the honest clients ask for more.
nsdir = os.path.join(A.tmp, "nsd")
os.makedirs(nsdir, exist_ok=True)
with open(os.path.join(nsdir, "root.zone"), "w") as f:
    f.write(". 300 IN SOA ns. hostmaster. 1 3600 600 86400 300\n"
            ". 300 IN NS ns.\nns. 300 IN A 127.0.0.1\n"
            '*.ok.example. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"\n')
with open(os.path.join(nsdir, "nsd.conf"), "w") as f:
    f.write(f"""server:
\tip-address: 127.0.0.1@{dport}
\tport: {dport}
\tdo-ip6: no
\tusername: ""
\tchroot: ""
\tzonesdir: "{nsdir}"
\tdatabase: ""
\tzonelistfile: "{nsdir}/zone.list"
\txfrdfile: "{nsdir}/xfrd.state"
\txfrdir: "{nsdir}"
\tpidfile: "{nsdir}/nsd.pid"
\tlogfile: "{nsdir}/nsd.log"
\tserver-count: 1
\tverbosity: 1
\thide-version: yes
\tidentity: ""
\trrl-ratelimit: 0
remote-control:
\tcontrol-enable: no
zone:
\tname: "."
\tzonefile: "{nsdir}/root.zone"
""")
dns = subprocess.Popen(["nsd", "-d", "-c", os.path.join(nsdir, "nsd.conf")],
                       stdout=open(os.path.join(nsdir, "nsd.out"), "w"), stderr=subprocess.STDOUT)
with open(os.path.join(A.tmp, "pids"), "w") as f:
    f.write(f"{dns.pid}\n")


def dns_query(name):
    """One TXT query to NSD over UDP: the reply's answer count, or None."""
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0" + struct.pack(">HH", 16, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(0.5)
        try:
            u.sendto(q, ("127.0.0.1", dport))
            r = u.recv(4096)
        except OSError:
            return None
    return struct.unpack(">H", r[6:8])[0] if len(r) >= 12 and r[:2] == q[:2] else None


for _ in range(40):
    if dns_query("up.ok.example") == 1:
        break
    time.sleep(0.25)
else:
    print("FAIL nsd did not answer: " + open(os.path.join(nsdir, "nsd.out")).read()[-500:])
    dns.kill()
    sys.exit(1)


# The daemon asks NSD through a UDP relay on fport, which the outage
# silences: queries are read and dropped, as a server that is down behind
# a firewall (hung, SIGSTOP, it would still take them into its socket and
# answer the ones it kept when it came back, reviving libunbound's view of
# it at once: no test of the backoff after an outage).
relay_state = {"silent": False, "relayed": 0, "dropped": 0}


def relay():
    down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    down.bind(("127.0.0.1", fport))
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.connect(("127.0.0.1", dport))
    asked = {}  # DNS id -> who asked
    while True:
        ready, _, _ = select.select([down, up], [], [])
        if down in ready:
            data, peer = down.recvfrom(4096)
            if relay_state["silent"] or len(data) < 12:
                relay_state["dropped"] += 1
            else:
                asked[data[:2]] = peer
                up.send(data)
                relay_state["relayed"] += 1
        if up in ready:
            try:
                data = up.recv(4096)
            except OSError:
                continue
            peer = asked.pop(data[:2], None)
            if peer and not relay_state["silent"]:
                down.sendto(data, peer)


threading.Thread(target=relay, daemon=True).start()


def dns_outage(on):
    relay_state["silent"] = on


conf = os.path.join(A.tmp, "spfkitd.conf")
with open(conf, "w") as f:
    f.write(f"""nameserver = 127.0.0.1@{fport}
query_timeout = 1s
deadline = 4s
helo_check = no
receiver = mx.test.example
log = stderr
mailfrom_temperror = defer
listen = inet:127.0.0.1:{port}
listen = unix:{usock}
milter_listen = inet:127.0.0.1:{mport}
metrics_listen = inet:127.0.0.1:{hport}
max_connections = 60
metrics_max_connections = 4
idle_timeout = 60s
""")
logpath = os.path.join(A.tmp, "spfkitd.log")
d = subprocess.Popen([A.bin, "-f", "-c", conf], stdout=open(logpath, "w"), stderr=subprocess.STDOUT)
with open(os.path.join(A.tmp, "pids"), "a") as f:
    f.write(f"{d.pid}\n")

events = {}  # name -> (start, end) in now() seconds
results = []  # (t_sent, t_reply, kind, expected, reply)
stats = {"retries": 0, "holders_reopened": 0, "slow_done": 0, "flood": 0}
counter = [0]


def fresh_name():
    counter[0] += 1
    return f"r{counter[0]}.ok.example"


def policy_request(i):
    """A request for a fresh name: pass or fail as the address says."""
    name = fresh_name()
    if i % 3 == 0:
        ip, want = "203.0.113.9", "fail"
    else:
        ip, want = f"192.0.2.{i % 250 + 1}", "pass"
    data = (f"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            f"client_address={ip}\nclient_name=c.example\nhelo_name=mx.example\n"
            f"sender=s{i}@{name}\nrecipient=r@test.example\ninstance={name}\n\n").encode()
    return data, want


def classify(reply):
    if reply.startswith(b"action=PREPEND Received-SPF: pass "):
        return "pass"
    if reply.startswith(b"action=550 5.7.23 "):
        return "fail"
    if reply.startswith(b"action=451 4.7.24 SPF temperror"):
        return "temperror"
    return "other:" + reply[:60].decode(errors="replace")


async def honest_policy(cid, unix, until):
    i = cid * 100000
    r = w = None
    while now() < until:
        data, want = policy_request(i)
        i += 1
        t = now()
        for _ in range(20):  # a connection closed under us: again, as Postfix
            try:
                if w is None:
                    if unix:
                        r, w = await asyncio.open_unix_connection(usock)
                    else:
                        r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(data)
                await w.drain()
                reply = await asyncio.wait_for(r.readuntil(b"\n\n"), 30)
                break
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                stats["retries"] += 1
                if w is not None:
                    w.close()
                r = w = None
                await asyncio.sleep(0.05)
            except asyncio.TimeoutError:
                reply = b"(no reply in 30 s)"
                break
        else:
            reply = b"(no connection)"
        results.append((t, now(), "policy", want, classify(reply)))
        await asyncio.sleep(rnd.uniform(0.01, 0.05))
    if w is not None:
        w.close()


def mpkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


async def honest_milter(until):
    """One milter session after another; MAIL FROM decides."""
    i = 900000
    while now() < until:
        data_unused, want = policy_request(i)
        name = fresh_name()
        ip = b"203.0.113.9" if i % 3 == 0 else b"192.0.2.7"
        want = "fail" if i % 3 == 0 else "pass"
        i += 1
        t = now()
        got = None
        for _ in range(20):
            try:
                r, w = await asyncio.open_connection("127.0.0.1", mport)
                buf = b""

                async def recv():
                    nonlocal buf
                    while True:
                        if len(buf) >= 4:
                            n = struct.unpack(">I", buf[:4])[0]
                            if len(buf) >= 4 + n:
                                p = buf[4:4 + n]
                                buf = buf[4 + n:]
                                return p[:1], p[1:]
                        chunk = await asyncio.wait_for(r.read(65536), 30)
                        if not chunk:
                            raise ConnectionResetError("closed")
                        buf += chunk
                w.write(mpkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
                await recv()
                w.write(mpkt(b"C", b"c.example\x004" + struct.pack(">H", 25) + ip + b"\0"))
                await recv()
                w.write(mpkt(b"H", b"mx.example\0"))
                await recv()
                w.write(mpkt(b"M", b"<s@" + name.encode() + b">\0"))
                cmd, data = await recv()
                w.write(mpkt(b"Q"))
                w.close()
                if cmd == b"c":
                    got = "pass"
                elif data.startswith(b"550 5.7.23 "):
                    got = "fail"
                elif data.startswith(b"451 4.7.24 "):
                    got = "temperror"
                else:
                    got = "other:" + (cmd + data[:40]).decode(errors="replace")
                break
            except (OSError, asyncio.TimeoutError):
                stats["retries"] += 1
                await asyncio.sleep(0.05)
        results.append((t, now(), "milter", want, got or "(no reply)"))
        await asyncio.sleep(0.1)


async def holder(target, until):
    """Connects and says nothing; again when the daemon closes it."""
    while now() < until:
        try:
            if target == "unix":
                r, w = await asyncio.open_unix_connection(usock)
            else:
                r, w = await asyncio.open_connection("127.0.0.1", target)
            try:
                await asyncio.wait_for(r.read(1), until - now())
            except asyncio.TimeoutError:
                pass
            w.close()
            stats["holders_reopened"] += 1
            await asyncio.sleep(0.1)
        except OSError:
            await asyncio.sleep(0.2)


async def slow_sender(until):
    """Writes a request an octet at a time; the answer, if it comes, must
    be right."""
    i = 800000
    while now() < until:
        data, want = policy_request(i)
        i += 1
        t = now()
        try:
            r, w = await asyncio.open_unix_connection(usock)
            for k in range(len(data)):
                w.write(data[k:k + 1])
                await w.drain()
                await asyncio.sleep(0.1)
            reply = await asyncio.wait_for(r.readuntil(b"\n\n"), 30)
            w.close()
            stats["slow_done"] += 1
            results.append((t, now(), "slow", want, classify(reply)))
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            await asyncio.sleep(0.1)  # closed as the longest idle: fine


async def flood(until):
    """Bursts of connections: some closed at once, some left empty."""
    while now() < until:
        socks = []
        for _ in range(30):
            try:
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", rnd.choice([port, mport, hport])))
                socks.append(s)
                stats["flood"] += 1
            except OSError:
                break
        await asyncio.sleep(0.3)
        for s in socks:
            s.close()
        await asyncio.sleep(0.2)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:  # it is gone: "ran throughout" says so
        pass
    return 0


async def conductor(until):
    """The outage, the descriptor squeeze and the reloads, on time."""
    try:
        await conduct(until)
    except ProcessLookupError:
        pass  # the daemon is gone: "ran throughout" says so


async def conduct(until):
    marks = {}
    reload_every, next_reload = 4.0, 6.0
    while now() < until and d.poll() is None:
        t = now()
        if "outage" not in marks and t >= A.outage_at:
            dns_outage(True)
            marks["outage"] = t
        if "outage" in marks and "back" not in marks and t >= A.outage_at + A.outage_s:
            dns_outage(False)
            marks["back"] = t
            events["outage"] = (marks["outage"], t)
        if "fds" not in marks and t >= A.fds_at:
            soft, hard = resource.prlimit(d.pid, resource.RLIMIT_NOFILE)
            marks["fds_limits"] = (soft, hard)
            # Below the descriptors it holds: no new one, not even where
            # a connection closed (its number is past the limit).
            resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (12, hard))
            marks["fds"] = t
        if "fds" in marks and "fds_back" not in marks and t >= A.fds_at + A.fds_s:
            resource.prlimit(d.pid, resource.RLIMIT_NOFILE, marks["fds_limits"])
            marks["fds_back"] = t
            events["fds"] = (marks["fds"], t)
        if t >= next_reload and t < until - 5:
            d.send_signal(signal.SIGHUP)
            stats["reloads"] = stats.get("reloads", 0) + 1
            next_reload = t + reload_every
        await asyncio.sleep(0.1)


async def main():
    # Up, then a warm-up with honest clients only.
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    end = A.duration
    honest = [honest_policy(c, c % 4 == 3, end) for c in range(12)] + [honest_milter(end)]
    warm = asyncio.gather(*honest)
    await asyncio.sleep(5)
    stats["rss_warm_kib"] = rss_kib(d.pid)
    abuse_end = end - 6
    # More holders than max_connections on TCP and the milter (which then
    # turn over), fewer on the unix socket (where the slow senders go).
    abusers = ([holder(port, abuse_end) for _ in range(70)] + [holder("unix", abuse_end) for _ in range(40)]
               + [holder(mport, abuse_end) for _ in range(70)] + [holder(hport, abuse_end) for _ in range(6)]
               + [slow_sender(abuse_end) for _ in range(8)] + [flood(abuse_end), conductor(abuse_end)])
    await asyncio.gather(*abusers)
    await warm
    stats["rss_end_kib"] = rss_kib(d.pid)


try:
    asyncio.run(main())
except BaseException:
    for proc in (d, dns):
        proc.kill()
        proc.wait()
    raise

# The windows in which a DNS failure was to be expected: the outage and
# the recovery allowed after it, the descriptor squeeze and the deadline
# after it.
deadline = 4.0
out0, out1 = events.get("outage", (1e9, 1e9))
fd0, fd1 = events.get("fds", (1e9, 1e9))


def excused(t0, t1):
    return (t1 >= out0 and t0 <= out1 + A.recover_s) or (t1 >= fd0 and t0 <= fd1 + deadline + 1)


wrong, temp_ok, temp_bad, rejects_fault = [], 0, [], 0
for t0, t1, kind, want, got in results:
    if got == want:
        continue
    if got == "temperror":
        if excused(t0, t1):
            temp_ok += 1
        else:
            temp_bad.append((round(t0, 2), round(t1, 2), kind, want))
        continue
    if got == "fail" and want == "pass":
        rejects_fault += 1
    wrong.append((round(t0, 2), round(t1, 2), kind, want, got))
during = [r for r in results if out0 + deadline < r[0] and r[1] < out1]
first_pass = min((r[1] for r in results if r[0] >= out1 and r[4] == r[3] == "pass"), default=None)
recovered = None if first_pass is None else first_pass - out1
log = open(logpath, errors="replace").read().splitlines()
other = [x for x in log if " decision " not in x]
stats.update(requests=len(results), right=sum(1 for r in results if r[4] == r[3]), temperror_excused=temp_ok,
             during_outage=len(during), recovered_s=recovered, log_lines=len(log), log_other_lines=len(other),
             evicted=None, accept_paused=None, seconds=round(now(), 1),
             dns_relayed=relay_state["relayed"], dns_dropped=relay_state["dropped"])

try:
    with socket.create_connection(("127.0.0.1", hport), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        m = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            m += c
    for line in m.decode().splitlines():
        if line.startswith("spfkitd_connections_evicted_total "):
            stats["evicted"] = float(line.split()[1])
        if line.startswith("spfkitd_accept_paused_total "):
            stats["accept_paused"] = float(line.split()[1])
        if line.startswith("spfkitd_reloads_total "):
            stats["reloads_counted"] = float(line.split()[1])
        if line.startswith("spfkitd_reload_failures_total "):
            stats["reload_failures"] = float(line.split()[1])
except OSError as e:
    stats["metrics_error"] = repr(e)

check("the daemon ran throughout", d.poll() is None, d.poll())
check("every honest request answered rightly (or temperror while DNS could not be had)",
      not wrong and not temp_bad, (wrong[:5], temp_bad[:5]))
check("no reject for a DNS fault", rejects_fault == 0, rejects_fault)
check("during the outage: deferred, never rejected",
      during and all(r[4] in ("temperror", "fail") and (r[4] != "fail" or r[3] == "fail") for r in during)
      and any(r[4] == "temperror" for r in during), [r[3:] for r in during[:5]])
check(f"checks pass again within {A.recover_s} s of the server answering",
      recovered is not None and recovered <= A.recover_s, recovered)
check("the connection floods, idle holders and slow senders were served or closed, honest clients went on",
      stats["flood"] > 0 and stats["holders_reopened"] > 0 and (stats.get("evicted") or 0) > 0,
      stats)
check("descriptors ran out and accepting paused", (stats.get("accept_paused") or 0) >= 1, stats.get("accept_paused"))
# A reload while descriptors ran out cannot open the file: it fails and
# the old configuration stays (counted apart).
check("reloads were made and counted", stats.get("reloads", 0) >= 3
      and (stats.get("reloads_counted") or 0) + (stats.get("reload_failures") or 0) == stats.get("reloads"),
      (stats.get("reloads"), stats.get("reloads_counted"), stats.get("reload_failures")))
check("no log flood", len(other) <= A.log_bound, f"{len(other)} lines: {other[:5]} ... {other[-5:]}")
growth = (stats["rss_end_kib"] - stats["rss_warm_kib"]) / 1024
if not A.sanitizer:
    check(f"memory flat (RSS growth under {A.rss_bound_mib} MiB)", growth < A.rss_bound_mib,
          f"{growth:.1f} MiB")
d.send_signal(signal.SIGTERM)
try:
    rc = d.wait(30)
except subprocess.TimeoutExpired:
    d.kill()
    rc = d.wait()
dns.send_signal(signal.SIGTERM)
try:
    dns.wait(10)
except subprocess.TimeoutExpired:
    dns.kill()
text = open(logpath, errors="replace").read()
check("SIGTERM: exit 0, no sanitizer report",
      rc == 0 and "Sanitizer" not in text and "runtime error" not in text, (rc, text[-1500:]))
print("stats " + json.dumps(stats), flush=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
