#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""shared.py - the measuring half of bench/shared.sh (which starts NSD and unbound).

Every figure is per check, one check at a time (concurrency 1), the median
over RUNS runs of each run's figure; unbound's cache is warmed first, so a
query spfkit sends costs one loopback round trip to a resolver holding the
answer (unbound's own counters show it: cache misses stay at zero).

  spfkit, cache off  spfkit check --batch --no-cache --timing: a fresh
                     resolver per line; elapsed_ms (from the check's start,
                     resolver set-up included) and wall time / lines
  spfkit, cache on   the same process for the whole stream: repeats are
                     answered from spfkit's own cache
  spfkitd            one policy request at a time over one connection, each
                     timed around its round trip in this harness: pass 1
                     (spfkitd's cache empty), pass 2 (warm), and a request
                     it answers without a check (client in skip_addresses):
                     the protocol's and this harness's own cost
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time


def ub_stats(conf):
    out = subprocess.run(["unbound-control", "-c", conf, "stats_noreset"],
                         capture_output=True, text=True, check=True).stdout
    kv = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
    return int(kv["total.num.queries"]), int(kv["total.num.cachemiss"])


def spfkit_run(a, lines, cache):
    argv = [a.spfkit, "check", "--batch", "--format", "json", "--timing", "--concurrency", "1",
            "--nameserver", f"127.0.0.1@{a.unbound_port}"] + ([] if cache else ["--no-cache"])
    q0, m0 = ub_stats(a.unbound_conf)
    t0 = time.perf_counter()
    p = subprocess.run(argv, input="".join(lines), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    q1, m1 = ub_stats(a.unbound_conf)
    out = p.stdout.splitlines()
    if len(out) != len(lines):
        sys.exit(f"[shared] spfkit: exit {p.returncode}, {len(out)} lines: {p.stderr[-400:]}")
    ms = [float(json.loads(l)["elapsed_ms"]) for l in out]
    return dict(median=statistics.median(ms), mean=statistics.mean(ms),
                wall=wall * 1000 / len(lines), queries=(q1 - q0) / len(lines), misses=m1 - m0)


def policy_msg(ip, sender, helo, n):
    attrs = dict(request="smtpd_access_policy", protocol_state="RCPT", protocol_name="ESMTP",
                 client_address=ip, client_name="unknown", helo_name=helo, sender=sender,
                 recipient="postmaster@receiver.example", queue_id=f"Q{n}", instance=f"i{n}")
    return ("".join(f"{k}={v}\n" for k, v in attrs.items()) + "\n").encode()


def timed_requests(sock, msgs):
    ms = []
    for m in msgs:
        t0 = time.perf_counter()
        sock.sendall(m)
        buf = b""
        while not buf.endswith(b"\n\n"):
            chunk = sock.recv(65536)
            if not chunk:
                sys.exit("[shared] spfkitd closed the connection")
            buf += chunk
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


def spfkitd_run(a, lines, run):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(a.tmp, f"spfkitd{run}.conf")
    with open(conf, "w") as f:
        f.write(f"nameserver = 127.0.0.1@{a.unbound_port}\nlisten = inet:127.0.0.1:{port}\n"
                f"log = stderr\nhelo_check = no\nreceiver = mx.receiver.example\n")
    log = open(os.path.join(a.tmp, f"spfkitd{run}.log"), "w")
    d = subprocess.Popen([a.spfkitd, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("[shared] spfkitd did not come up")
        fields = [l.rstrip("\n").split("\t") for l in lines]
        msgs = [policy_msg(f[0], f[1], f[2] if len(f) > 2 else "", n) for n, f in enumerate(fields)]
        base = [policy_msg("127.0.0.1", f[1], "localhost", n) for n, f in enumerate(fields)]
        q0, _ = ub_stats(a.unbound_conf)
        cold = timed_requests(sock, msgs)
        q1, _ = ub_stats(a.unbound_conf)
        warm = timed_requests(sock, [m.replace(b"instance=i", b"instance=w") for m in msgs])
        skip = timed_requests(sock, base)
        sock.close()
    finally:
        d.terminate()
        d.wait(10)
    return dict(cold=statistics.median(cold), cold_mean=statistics.mean(cold),
                warm=statistics.median(warm), skip=statistics.median(skip),
                queries=(q1 - q0) / len(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spfkit", required=True)
    ap.add_argument("--spfkitd", required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--unbound-port", type=int, required=True)
    ap.add_argument("--unbound-conf", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tmp", required=True)
    a = ap.parse_args()
    lines = open(a.stream).read().splitlines(keepends=True)

    # unbound's cache first: everything spfkit will ask, asked once
    subprocess.run([a.spfkit, "check", "--batch", "--concurrency", "64",
                    "--nameserver", f"127.0.0.1@{a.unbound_port}"],
                   input="".join(lines), capture_output=True, text=True, check=True)
    runs = {"off": [], "on": [], "d": []}
    for r in range(a.runs):
        print(f"[shared] run {r + 1} of {a.runs} ...", file=sys.stderr, flush=True)
        runs["off"].append(spfkit_run(a, lines, cache=False))
        runs["on"].append(spfkit_run(a, lines, cache=True))
        runs["d"].append(spfkitd_run(a, lines, r))
    med = lambda k, f: statistics.median(x[f] for x in runs[k])
    misses = sum(x["misses"] for x in runs["off"] + runs["on"])
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')}: {len(lines)} checks "
          f"(bench/zones/gen.py's stream), one at a time, median of {a.runs} runs; unbound "
          f"1.17 warmed first ({misses} cache misses during the timed runs).\n")
    print("| path | median ms / check | mean ms / check | wall ms / check | unbound queries / check |")
    print("|---|---|---|---|---|")
    print(f"| spfkit check, cache off (one resolver that keeps no answer) | {med('off', 'median'):.3f} "
          f"| {med('off', 'mean'):.3f} | {med('off', 'wall'):.3f} | {med('off', 'queries'):.2f} |")
    print(f"| spfkit check, cache on (one process) | {med('on', 'median'):.3f} "
          f"| {med('on', 'mean'):.3f} | {med('on', 'wall'):.3f} | {med('on', 'queries'):.2f} |")
    print(f"| spfkitd, its cache empty (pass 1) | {med('d', 'cold'):.3f} | {med('d', 'cold_mean'):.3f} "
          f"| | {med('d', 'queries'):.2f} |")
    print(f"| spfkitd, warm (pass 2) | {med('d', 'warm'):.3f} | | | 0 |")
    print(f"| spfkitd, no check (skipped client: protocol + harness) | {med('d', 'skip'):.3f} | | | 0 |")


if __name__ == "__main__":
    main()
