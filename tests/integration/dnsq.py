#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dnsq.py [--tcp] [--wait SECONDS] PORT NAME [TYPE]

A tiny dig for the integration tests, for loopback only: asks 127.0.0.1 at
PORT (never a configured resolver) and prints "RCODE flags" then one line
per answer record. --wait retries until the server answers (for start-up),
exiting 1 if it never does. --count-file is not here: see faultdns.py.
"""
import socket
import sys
import time

from dnslib import DNSRecord, QTYPE


def ask(port, name, qtype, tcp, timeout=1.0):
    q = DNSRecord.question(name, qtype)
    q.header.rd = 1
    data = q.pack()
    if tcp:
        with socket.create_connection(("127.0.0.1", port), timeout) as s:
            s.sendall(len(data).to_bytes(2, "big") + data)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + int.from_bytes(buf[:2], "big"):
                chunk = s.recv(65535)
                if not chunk:
                    raise OSError("connection closed")
                buf += chunk
            return DNSRecord.parse(buf[2:])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, ("127.0.0.1", port))
        return DNSRecord.parse(s.recvfrom(65535)[0])


def main(argv):
    args = argv[1:]
    tcp = False
    wait = 0.0
    while args and args[0].startswith("--"):
        if args[0] == "--tcp":
            tcp = True
            args = args[1:]
        elif args[0] == "--wait":
            wait = float(args[1])
            args = args[2:]
        else:
            break
    if len(args) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    port, name = int(args[0]), args[1]
    qtype = args[2] if len(args) == 3 else "A"
    end = time.monotonic() + wait
    while True:
        try:
            r = ask(port, name, qtype, tcp, 0.5 if wait else 2.0)
            break
        except (OSError, socket.timeout) as e:
            if time.monotonic() >= end:
                sys.stderr.write("dnsq: no answer from 127.0.0.1@%d: %s\n"
                                 % (port, e))
                return 1
            time.sleep(0.1)
    h = r.header
    flags = [f for f in ("aa", "tc", "rd", "ra") if getattr(h, f)]
    print("%s %s" % (__import__("dnslib").RCODE[h.rcode], " ".join(flags)))
    for rr in r.rr:
        print("%s %s %s" % (rr.rname, QTYPE[rr.rtype], rr.rdata))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
