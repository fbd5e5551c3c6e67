#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""catcher.py - the bench's stand-in for the machine's resolver: refuses and counts.

bench/isolated runs every peer with a private /etc/resolv.conf that names
only this server (ADDR, port 53: resolv.conf cannot carry a port). A peer
whose own server setting took effect never asks it; a peer that fell back to
resolv.conf (pyspf on dnspython while the runner set pydns's port, a library
that ignores its port option) lands here instead of on the machine's
resolver, gets REFUSED at once (no timeouts) and is counted, so the harness
can fail the run (bench/isolation.py). Counter, read and zeroed with:

  TXT _count.catcher.  -> "n=N" (not counted)
  TXT _reset.catcher.  -> "n=N", then zero

Usage: catcher.py --listen ADDR [--port 53] [--pidfile F]
"""
import argparse
import asyncio
import os
import signal
import struct
import sys

from dnslib import DNSRecord, QTYPE, RCODE, RR, TXT


class Count:
    n = 0


def answer(data):
    """REFUSED for anything but the two control names; None when unparseable."""
    try:
        q = DNSRecord.parse(data)
    except Exception:
        Count.n += 1
        return None
    r = q.reply()
    name = str(q.q.qname).lower()
    if name in ("_count.catcher.", "_reset.catcher."):
        r.add_answer(RR(q.q.qname, QTYPE.TXT, rdata=TXT(f"n={Count.n}"), ttl=0))
        if name == "_reset.catcher.":
            Count.n = 0
    else:
        Count.n += 1
        r.header.rcode = RCODE.REFUSED
    return r.pack()


class Udp(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        ans = answer(data)
        if ans is not None:
            self.transport.sendto(ans, addr)


async def tcp_client(reader, writer):
    try:
        while True:
            hdr = await reader.readexactly(2)
            ans = answer(await reader.readexactly(struct.unpack("!H", hdr)[0]))
            if ans is None:
                break
            writer.write(struct.pack("!H", len(ans)) + ans)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="a loopback address")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    if not a.listen.startswith("127."):
        sys.exit("catcher.py: loopback addresses only")
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Udp, local_addr=(a.listen, a.port))
    srv = await asyncio.start_server(tcp_client, a.listen, a.port)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    await stop
    srv.close()
    print(f"catcher: n={Count.n}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
