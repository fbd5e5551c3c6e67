#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dnsctl.py - asks a loopback DNS server one question (the harness's dig).

Usage: dnsctl.py PORT NAME [TYPE] [--tcp]
  dnsctl.py 5300 _count.dnsdelay TXT   -> udp=N tcp=M   (dnsdelay.py's counters)
Prints the answer's rdata, one per line, or the rcode when there is none.
"""
import sys

from dnslib import DNSRecord

args = [a for a in sys.argv[1:] if not a.startswith("--")]
port, name = int(args[0]), args[1]
qtype = args[2] if len(args) > 2 else "A"
q = DNSRecord.question(name, qtype)
ans = DNSRecord.parse(q.send("127.0.0.1", port, tcp="--tcp" in sys.argv, timeout=5))
if not ans.rr:
    print(ans.header.rcode and {3: "NXDOMAIN", 2: "SERVFAIL"}.get(ans.header.rcode, ans.header.rcode) or "NODATA")
for rr in ans.rr:
    r = rr.rdata
    print("".join(s.decode() for s in r.data) if hasattr(r, "data") and isinstance(r.data, list) else r)
