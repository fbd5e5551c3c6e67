#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/flatten/snippet.py - what tests/flatten/run.sh asks of a snippet and
of spfkit check's answers, independently of spfkit's own code:

  sizes SNIPPET          every TXT record: strings of at most 255 octets,
                         RDATA at most 450 octets; prints the record count
  points DOMAIN FILE...  IP<TAB>postmaster@DOMAIN lines for every ip4/ip6
                         block and A/AAAA address in the files: first,
                         last, first-1, last+1, and sample addresses
  results JSONL          the "ip result" of each line of check --batch
"""
import ipaddress
import json
import re
import sys


def txt_records(path):
    """(name, [strings]) of every TXT line of a master file."""
    out = []
    for line in open(path, encoding="latin-1"):
        if line.startswith(";") or " TXT " not in line and "\tTXT " not in line:
            continue
        name = line.split()[0]
        rest = line.split("TXT", 1)[1]
        strings = []
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', rest):
            s = re.sub(r"\\(\d{3})", lambda x: chr(int(x.group(1))), m.group(1))
            s = re.sub(r"\\(.)", r"\1", s)
            strings.append(s)
        out.append((name, strings))
    return out


def sizes(path):
    recs = txt_records(path)
    bad = 0
    for name, strings in recs:
        rdata = sum(len(s) + 1 for s in strings)
        if any(len(s) > 255 for s in strings) or rdata > 450:
            print("too big: %s (%d octets of RDATA)" % (name, rdata))
            bad += 1
    print(len(recs))
    return 1 if bad else 0


SAMPLES = ["0.0.0.0", "1.1.1.1", "8.8.8.8", "192.0.2.77", "203.0.113.250",
           "255.255.255.255", "::1", "2001:db8:ffff::1", "fe80::1"]


def points(domain, files):
    addrs = set(ipaddress.ip_address(a) for a in SAMPLES)
    for path in files:
        text = open(path, encoding="latin-1").read()
        # Terms of the records as published: strings joined (RFC 7208 §3.3).
        joined = " ".join("".join(st) for _, st in txt_records(path))
        for m in re.finditer(r"ip([46]):([0-9A-Fa-f:.]+)(?:/(\d+))?", joined):
            fam, a, plen = m.groups()
            net = ipaddress.ip_network(
                "%s/%s" % (a, plen or (32 if fam == "4" else 128)), strict=False)
            first, last = net.network_address, net.broadcast_address
            addrs.update([first, last])
            top = 2 ** (32 if fam == "4" else 128) - 1
            if int(first) > 0:
                addrs.add(first - 1)
            if int(last) < top:
                addrs.add(last + 1)
        for m in re.finditer(r"\s(A|AAAA)\s+([0-9A-Fa-f:.]+)\s*$", text, re.M):
            a = ipaddress.ip_address(m.group(2))
            addrs.update([a, a - 1, a + 1])
    for a in sorted(addrs, key=lambda x: (x.version, int(x))):
        print("%s\tpostmaster@%s" % (a, domain))
    return 0


def results(path):
    for line in open(path):
        j = json.loads(line)
        print(j.get("ip"), j.get("result"))
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sizes":
        sys.exit(sizes(sys.argv[2]))
    if cmd == "points":
        sys.exit(points(sys.argv[2], sys.argv[3:]))
    if cmd == "results":
        sys.exit(results(sys.argv[2]))
    sys.exit("unknown command")
