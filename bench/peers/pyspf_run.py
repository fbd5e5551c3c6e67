#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pyspf_run.py - bench/ peer: Debian's python3-spf (pyspf 2.0.14) over a stream of checks.

Reads IP<TAB>SENDER<TAB>HELO lines on stdin, evaluates all of them in this one
process and prints one result name per line, in order.

  pyspf_run.py PORT warm   two passes over the stream sharing one DNS cache
                           (pyspf's own per-query cache dict, shared across
                           queries); prints pass 2's results; stderr gets
                           "elapsed SECONDS" for pass 2 alone
  pyspf_run.py PORT cold   one pass, a fresh query object (empty cache) per
                           check; prints "RESULT<TAB>MILLISECONDS" per line

DNS: pyspf picks its DNS library at import: dnspython (python3-dnspython)
when it can import it, else pydns (python3-dns, module DNS). Each reads
/etc/resolv.conf, and each takes its server and port in its own place, so
the runner points whichever one spf.py chose at 127.0.0.1:PORT, and says
which on stderr ("backend dnspython" or "backend pydns"). Setting pydns's
port while pyspf asks through dnspython sent the whole stream to the
machine's resolver once; bench/run.sh now also runs every peer under
bench/isolated and counts what reaches NSD (bench/isolation.py), so such a
slip fails the run instead.
"""
import sys
import time

import spf

port = int(sys.argv[1])
mode = sys.argv[2]
if spf.DNSLookup is getattr(spf, "DNSLookup_dnspython", None):
    import dns.resolver

    # spf.py calls dns.resolver.query(), which asks the default resolver
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = port
    res.timeout = 10
    res.lifetime = 20
    dns.resolver.default_resolver = res
    backend = "dnspython"
else:
    import DNS

    DNS.defaults["server"] = ["127.0.0.1"]
    DNS.defaults["port"] = port
    DNS.defaults["timeout"] = 10
    backend = "pydns"
print(f"backend {backend}", file=sys.stderr)

lines = [l.rstrip("\n").split("\t") for l in sys.stdin]


def one(fields, cache=None):
    ip, sender = fields[0], fields[1]
    helo = fields[2] if len(fields) > 2 else ""
    if sender in ("", "<>"):
        sender = "postmaster@" + helo
    try:
        q = spf.query(ip, sender, helo, timeout=20)
        if cache is not None:
            q.cache = cache
        return q.check()[0]
    except Exception as e:  # a crash is reported, not hidden
        return "error:" + type(e).__name__


out = sys.stdout
if mode == "warm":
    cache = {}
    for f in lines:
        one(f, cache)
    t0 = time.perf_counter()
    res = [one(f, cache) for f in lines]
    el = time.perf_counter() - t0
    out.write("".join(r + "\n" for r in res))
    print(f"elapsed {el:.6f}", file=sys.stderr)
else:
    for f in lines:
        t0 = time.perf_counter()
        r = one(f)
        out.write(f"{r}\t{(time.perf_counter() - t0) * 1000:.3f}\n")
        out.flush()
