#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""dnsdelay.py - a delaying DNS front for bench/: forwards to NSD, delays every answer.

Listens on 127.0.0.1:PORT (UDP and TCP), forwards each DNS message unchanged
to the upstream server (NSD on loopback) and sends the answer back DELAY ms
after the query arrived, so every round trip costs what a nearby resolver's
would. It counts the DNS messages it receives (UDP datagrams and TCP
messages), which the harness reads with a control query:

  TXT _count.dnsdelay.   -> "udp=N tcp=M" (not counted)
  TXT _reset.dnsdelay.   -> zeroes the counters, answers the old values

Usage: dnsdelay.py --listen PORT --upstream PORT [--delay-ms 20] [--pidfile F]
Loopback only: it binds 127.0.0.1 and forwards to 127.0.0.1.
"""
import argparse
import asyncio
import os
import signal
import struct
import sys

from dnslib import DNSRecord, QTYPE, RR, TXT

HOST = "127.0.0.1"


class Counters:
    udp = 0
    tcp = 0


def control(data):
    """Answers a control query, or returns None for ordinary DNS."""
    try:
        q = DNSRecord.parse(data)
    except Exception:
        return None
    name = str(q.q.qname).lower()
    if name not in ("_count.dnsdelay.", "_reset.dnsdelay."):
        return None
    r = q.reply()
    r.add_answer(RR(q.q.qname, QTYPE.TXT, rdata=TXT(f"udp={Counters.udp} tcp={Counters.tcp}"), ttl=0))
    if name == "_reset.dnsdelay.":
        Counters.udp = Counters.tcp = 0
    return r.pack()


class Upstream(asyncio.DatagramProtocol):
    """One UDP socket to NSD; message IDs are rewritten so clients never collide."""

    def __init__(self):
        self.pending = {}
        self.next_id = 0
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def send(self, data, fut):
        for _ in range(65536):
            self.next_id = (self.next_id + 1) & 0xFFFF
            if self.next_id not in self.pending:
                break
        qid = self.next_id
        self.pending[qid] = fut
        self.transport.sendto(struct.pack("!H", qid) + data[2:])
        return qid

    def datagram_received(self, data, addr):
        if len(data) < 2:
            return
        fut = self.pending.pop(struct.unpack("!H", data[:2])[0], None)
        if fut is not None and not fut.done():
            fut.set_result(data)


class Front(asyncio.DatagramProtocol):
    def __init__(self, up, delay):
        self.up, self.delay = up, delay

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        ctl = control(data)
        if ctl is not None:
            self.transport.sendto(ctl, addr)
            return
        Counters.udp += 1
        asyncio.get_running_loop().create_task(self.relay(data, addr))

    async def relay(self, data, addr):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        fut = loop.create_future()
        qid = self.up.send(data, fut)
        try:
            ans = await asyncio.wait_for(fut, 5.0)
        except asyncio.TimeoutError:
            self.up.pending.pop(qid, None)
            return
        wait = self.delay - (loop.time() - t0)
        if wait > 0:
            await asyncio.sleep(wait)
        self.transport.sendto(data[:2] + ans[2:], addr)


async def tcp_client(reader, writer, upstream_port, delay):
    loop = asyncio.get_running_loop()
    try:
        while True:
            hdr = await reader.readexactly(2)
            data = await reader.readexactly(struct.unpack("!H", hdr)[0])
            t0 = loop.time()
            ctl = control(data)
            if ctl is None:
                Counters.tcp += 1
                ur, uw = await asyncio.open_connection(HOST, upstream_port)
                uw.write(hdr + data)
                await uw.drain()
                ans = await ur.readexactly(struct.unpack("!H", await ur.readexactly(2))[0])
                uw.close()
                wait = delay - (loop.time() - t0)
                if wait > 0:
                    await asyncio.sleep(wait)
            else:
                ans = ctl
            writer.write(struct.pack("!H", len(ans)) + ans)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=20.0)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    delay = a.delay_ms / 1000.0
    loop = asyncio.get_running_loop()
    _, up = await loop.create_datagram_endpoint(Upstream, remote_addr=(HOST, a.upstream))
    await loop.create_datagram_endpoint(lambda: Front(up, delay), local_addr=(HOST, a.listen))
    srv = await asyncio.start_server(lambda r, w: tcp_client(r, w, a.upstream, delay), HOST, a.listen)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    await stop
    srv.close()
    print(f"dnsdelay: udp={Counters.udp} tcp={Counters.tcp}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
