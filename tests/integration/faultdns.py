#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""faultdns.py --port PORT [--mode faults|silent|zone] [--suite FILE --doc N]
              [--table FILE.json] [--count-file FILE]

A small DNS server of the integration tests' own, on 127.0.0.1 (UDP and
TCP), for answers a real server does not give. Behaviour per query name:

  --mode faults (default): the names of FAULTS below (and of --table, a
      JSON object of the same shape), all under fault.example; a name not
      in the table is NXDOMAIN.
  --mode silent: never answers anything (but the control names).
  --mode zone: serves document N of the openspf suite as the in-memory
      zone driver reads it, with TIMEOUT meaning what it says: the types
      listed before TIMEOUT answer, every other query is dropped.

Control names (answered in every mode, never counted):
  count.control. TXT           the number of queries received so far
  NAME.count.control. TXT      the number of queries received for NAME
  reset.control. TXT           sets the counts to 0

On SIGTERM or SIGINT it writes the total count to --count-file (if given)
and exits 0.

Also imported by tests/soak/randomdns.py, which reuses Server (the
behaviours below, chosen per query from its own zone) and serve().
"""
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

from dnslib import (AAAA, CNAME, DNSHeader, DNSRecord, MX, PTR, QTYPE, RCODE,
                    RR, TXT, A, DNSLabel, SOA)

TTL = 300

# The fault table: name -> behaviour. "records" are (type, value) pairs;
# TXT values are lists of character-strings. Behaviours:
#   answer      the records (NODATA when none of the asked type)
#   servfail    rcode SERVFAIL            refused   rcode REFUSED
#   nxdomain    rcode NXDOMAIN            silent    no reply at all
#   trunc       over UDP: TC=1, empty; over TCP: the records
#   trunc-tcp   TC=1 over UDP and over TCP (never a usable answer)
#   tcp-close   TC=1 over UDP; TCP connections are closed at once
#   garbage     random octets, UDP and TCP
#   short       a 5-octet reply            wrongid   the answer, wrong ID
#   wrongq      the answer under another question name
#   wrongtype   an A record (192.0.2.99) whatever type is asked
#   wrongname   the records under the owner other.fault.example
#   badrdata    an A answer whose RDATA is 3 octets
#   badtxt      a TXT answer whose character-string overruns its RDATA
#   delay:MS    the records after MS milliseconds
#   cname:T     a CNAME to T (and T's records when T is in the table)
OK_SPF = [["v=spf1 ip4:192.0.2.1 -all"]]


def split250(text):
    return [text[i:i + 250] for i in range(0, len(text), 250)]


def spf(text):
    return [("TXT", [text])]


FAULTS = {
    "servfail.fault.example": {"do": "servfail"},
    "refused.fault.example": {"do": "refused"},
    "nxdomain.fault.example": {"do": "nxdomain"},
    "nodata.fault.example": {"do": "answer", "records": [("A", "192.0.2.1")]},
    "silent.fault.example": {"do": "silent"},
    "trunc.fault.example": {"do": "trunc",
                            "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "trunc-tcp.fault.example": {"do": "trunc-tcp",
                                "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "tcp-close.fault.example": {"do": "tcp-close",
                                "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "garbage.fault.example": {"do": "garbage"},
    "short.fault.example": {"do": "short"},
    "wrongid.fault.example": {"do": "wrongid",
                              "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "wrongq.fault.example": {"do": "wrongq",
                             "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "wrongtype.fault.example": {"do": "wrongtype"},
    "wrongname.fault.example": {"do": "wrongname",
                                "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "badrdata.fault.example": {"do": "badrdata"},
    "badtxt.fault.example": {"do": "badtxt"},
    "delay-short.fault.example": {"do": "delay:500",
                                  "records": spf("v=spf1 ip4:192.0.2.1 -all")
                                  + [("A", "192.0.2.1")]},
    "delay-long.fault.example": {"do": "delay:10000",
                                 "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    # Over 512 octets: UDP only with EDNS room for it, else TC and TCP.
    "big.fault.example": {"do": "answer", "records": [("TXT", split250(
        "v=spf1 " + " ".join("ip4:198.51.100.%d" % i for i in range(1, 40))
        + " " + " ".join("ip4:203.0.113.%d" % i for i in range(1, 40))
        + " ip4:192.0.2.1 -all"))]},
    # One record in many small character-strings, joined without spaces.
    "many.fault.example": {"do": "answer", "records": [("TXT", [
        "v=spf1", " ", "ip4:", "192.", "0.", "2.", "1", " ", "-", "all"])]},
    "cname.fault.example": {"do": "cname:target.fault.example"},
    "target.fault.example": {"do": "answer",
                             "records": spf("v=spf1 ip4:192.0.2.1 -all")},
    "cnameloop.fault.example": {"do": "cname:cnameloop.fault.example"},
    # Records whose terms reach the faulty names.
    "include-servfail.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 include:servfail.fault.example -all")},
    "mx-servfail.fault.example": {
        "do": "answer", "records": spf("v=spf1 mx:servfail.fault.example -all")},
    "a-delay.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 a:delay-short.fault.example -all")},
    "exists-silent.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 exists:silent.fault.example ~all")},
    "exp-servfail.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 -all exp=servfail.fault.example")},
    "a-wrongtype.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 a:wrongtype.fault.example -all")},
    "a-badrdata.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 a:badrdata.fault.example -all")},
    "a-garbage.fault.example": {
        "do": "answer",
        "records": spf("v=spf1 ?a:garbage.fault.example -all")},
    # A second domain: the batch cache test counts queries for it.
    "cache.fault.example": {"do": "answer",
                            "records": spf("v=spf1 ip4:192.0.2.0/24 -all")},
}


def make_rr(name, t, v, ttl=TTL):
    if t == "A":
        rd = A(v)
    elif t == "AAAA":
        rd = AAAA(v)
    elif t == "MX":
        rd = MX(v[1] if v[1] else ".", int(v[0]))
    elif t == "PTR":
        rd = PTR(v)
    elif t == "CNAME":
        rd = CNAME(v)
    elif t in ("TXT", "SPF"):
        rd = TXT([s if isinstance(s, bytes) else s.encode("utf-8")
                  for s in v])
    else:
        raise ValueError(t)
    return RR(name, getattr(QTYPE, t), rdata=rd, ttl=ttl)


# ---------------------------------------------------------------- zone mode

class SuiteZone:
    """One suite document's zonedata, read as lib/dns/zone.c reads it."""

    def __init__(self, path, index):
        import yaml
        with open(path, "rb") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        zd = docs[index].get("zonedata") or {}
        self.nodes = {}   # lower name -> {"rr": [(t, v)], "timeout", "notxt"}
        self.below = set()
        for name, recs in zd.items():
            key = self.key(name)
            nd = self.nodes.setdefault(
                key, {"rr": [], "timeout": False, "notxt": False})
            parts = key.split(".")
            for i in range(1, len(parts)):
                self.below.add(".".join(parts[i:]))
            for r in recs or []:
                if r == "TIMEOUT":
                    nd["timeout"] = True
                    break
                (t, v), = r.items()
                t = t.upper()
                if v == "NONE":
                    if t == "TXT":
                        nd["notxt"] = True
                    continue
                if t in ("TXT", "SPF") and not isinstance(v, list):
                    v = [v]
                if t in ("TXT", "SPF"):
                    # 255-octet pieces, as the C loader splits them.
                    out = []
                    for s in v:
                        b = str(s).encode("utf-8")
                        out += [b[i:i + 255] for i in range(0, len(b), 255)] \
                            or [b""]
                    v = out or [b""]
                nd["rr"].append((t, v))

    @staticmethod
    def key(name):
        if isinstance(name, bytes):
            name = name.decode("utf-8", "surrogateescape")
        return str(name).rstrip(".").lower()

    def lookup(self, qname, qtype):
        """(rcode, [RR]) or None for "never answer"."""
        rrs = []
        name = qname
        for _ in range(9):
            nd = self.nodes.get(self.key(name))
            if nd is None:
                if self.key(name) in self.below or not rrs:
                    rc = RCODE.NOERROR if self.key(name) in self.below \
                        else RCODE.NXDOMAIN
                    return rc, rrs
                return RCODE.NXDOMAIN, rrs
            have = [(t, v) for t, v in nd["rr"] if t == qtype]
            if have:
                return RCODE.NOERROR, rrs + [make_rr(name, t, v)
                                             for t, v in have]
            if nd["timeout"]:
                return None
            if qtype == "TXT" and not nd["notxt"]:
                spfs = [v for t, v in nd["rr"] if t == "SPF"]
                if spfs:
                    return RCODE.NOERROR, rrs + [make_rr(name, "TXT", v)
                                                 for v in spfs]
            cn = [v for t, v in nd["rr"] if t == "CNAME"]
            if cn and qtype != "CNAME":
                rrs.append(make_rr(name, "CNAME", cn[0]))
                name = cn[0]
                continue
            return RCODE.NOERROR, rrs
        return RCODE.SERVFAIL, []


# ---------------------------------------------------------------- server

class Server:
    def __init__(self, port, mode, table, zone, count_file):
        self.port = port
        self.mode = mode
        self.table = table
        self.zone = zone
        self.count_file = count_file
        self.lock = threading.Lock()
        self.total = 0
        self.per_name = {}

    # Counting and control names.
    def control(self, q):
        name = str(q.q.qname).rstrip(".").lower()
        if not name.endswith("control"):
            return None
        r = q.reply()
        r.header.aa = 1
        with self.lock:
            if name == "count.control":
                val = self.total
            elif name.endswith(".count.control"):
                val = self.per_name.get(name[:-len(".count.control")], 0)
            elif name == "reset.control":
                self.total = 0
                self.per_name.clear()
                val = 0
            else:
                return None
        r.add_answer(RR(q.q.qname, QTYPE.TXT, rdata=TXT(str(val)), ttl=0))
        return r.pack()

    def count(self, q):
        name = str(q.q.qname).rstrip(".").lower()
        with self.lock:
            self.total += 1
            self.per_name[name] = self.per_name.get(name, 0) + 1

    def respond(self, data, tcp, send):
        """Works out the reply to data; calls send(bytes) (maybe later,
        maybe never)."""
        try:
            q = DNSRecord.parse(data)
        except Exception:
            return
        if not q.questions:
            return
        c = self.control(q)
        if c is not None:
            send(c)
            return
        self.count(q)
        if self.mode == "silent":
            return
        qtype = QTYPE.get(q.q.qtype, str(q.q.qtype))
        if self.mode == "zone":
            res = self.zone.lookup(str(q.q.qname), qtype)
            if res is None:
                return
            r = q.reply()
            r.header.aa = 1
            r.header.ra = 0
            r.header.rcode = res[0]
            for rr in res[1]:
                r.add_answer(rr)
            send(self.fit(r, q, tcp))
            return
        self.fault(q, qtype, tcp, send)

    @staticmethod
    def fit(r, q, tcp):
        """The packed reply, or a TC reply when it does not fit UDP."""
        out = r.pack()
        if tcp:
            return out
        room = 512
        for ar in q.ar:
            if ar.rtype == QTYPE.OPT:
                room = max(512, ar.rclass)
        if len(out) > room:
            t = q.reply()
            t.header.aa = 1
            t.header.tc = 1
            return t.pack()
        return out

    def lookup_table(self, name):
        return self.table.get(name.rstrip(".").lower())

    def fault(self, q, qtype, tcp, send):
        qname = str(q.q.qname)
        ent = self.lookup_table(qname)
        r = q.reply()
        r.header.aa = 1
        r.header.ra = 0
        if ent is None:
            r.header.rcode = RCODE.NXDOMAIN
            send(r.pack())
            return
        do = ent["do"]
        records = ent.get("records", [])

        def answer_with(recs, name=qname):
            for t, v in recs:
                if t == qtype:
                    r.add_answer(make_rr(name, t, v))

        if do == "servfail":
            r.header.rcode = RCODE.SERVFAIL
            send(r.pack())
        elif do == "refused":
            r.header.rcode = RCODE.REFUSED
            send(r.pack())
        elif do == "nxdomain":
            r.header.rcode = RCODE.NXDOMAIN
            send(r.pack())
        elif do == "silent":
            return
        elif do in ("trunc", "trunc-tcp", "tcp-close"):
            if tcp and do == "tcp-close":
                raise ConnectionAbortedError
            if not tcp or do == "trunc-tcp":
                r.header.tc = 1
                send(r.pack())
                return
            answer_with(records)
            send(r.pack())
        elif do == "garbage":
            send(os.urandom(40))
        elif do == "short":
            send(data_prefix(q.pack(), 5))
        elif do == "wrongid":
            answer_with(records)
            r.header.id = (q.header.id + 1) & 0xffff
            send(r.pack())
        elif do == "wrongq":
            w = DNSRecord(DNSHeader(id=q.header.id, qr=1, aa=1, rd=1))
            w.add_question(__import__("dnslib").DNSQuestion(
                "other.fault.example", q.q.qtype))
            for t, v in records:
                if t == qtype:
                    w.add_answer(make_rr("other.fault.example", t, v))
            send(w.pack())
        elif do == "wrongtype":
            r.add_answer(make_rr(qname, "A", "192.0.2.99"))
            if qtype == "A":
                r.rr = [make_rr(qname, "TXT", ["v=spf1 +all"])]
            send(r.pack())
        elif do == "wrongname":
            answer_with(records, "other.fault.example")
            send(r.pack())
        elif do == "badrdata":
            if qtype == "A":
                send(raw_answer(q, 1, b"\xc0\x00\x02"))
            else:
                send(r.pack())
        elif do == "badtxt":
            if qtype == "TXT":
                send(raw_answer(q, 16, b"\x40v=spf1 +all"))
            else:
                send(r.pack())
        elif do.startswith("delay:"):
            ms = int(do.split(":", 1)[1])
            answer_with(records)
            pkt = self.fit(r, q, tcp)
            threading.Timer(ms / 1000.0, send, (pkt,)).start()
        elif do.startswith("cname:"):
            target = do.split(":", 1)[1]
            r.add_answer(make_rr(qname, "CNAME", target))
            t = self.lookup_table(target)
            if t and t["do"] == "answer" and target != qname.rstrip("."):
                for tt, v in t.get("records", []):
                    if tt == qtype:
                        r.add_answer(make_rr(target, tt, v))
            send(r.pack())
        else:  # answer
            answer_with(records)
            send(self.fit(r, q, tcp))

    # Transport.
    def serve_udp(self, sock):
        while True:
            try:
                data, peer = sock.recvfrom(65535)
            except OSError:
                return

            def send(pkt, peer=peer):
                try:
                    sock.sendto(pkt, peer)
                except OSError:
                    pass
            try:
                self.respond(data, False, send)
            except Exception as e:  # a bug of ours: say so, keep serving
                sys.stderr.write("faultdns: %r\n" % (e,))

    def serve_tcp_conn(self, conn):
        lock = threading.Lock()

        def send(pkt):
            with lock:
                try:
                    conn.sendall(struct.pack("!H", len(pkt)) + pkt)
                except OSError:
                    pass
        try:
            conn.settimeout(30)
            buf = b""
            while True:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack(
                        "!H", buf[:2])[0]:
                    chunk = conn.recv(65535)
                    if not chunk:
                        return
                    buf += chunk
                n = struct.unpack("!H", buf[:2])[0]
                data, buf = buf[2:2 + n], buf[2 + n:]
                try:
                    self.respond(data, True, send)
                except ConnectionAbortedError:
                    return
        except OSError:
            return
        finally:
            # Let delayed replies go out before closing.
            threading.Timer(12, conn.close).start()

    def serve_tcp(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve_tcp_conn, args=(conn,),
                             daemon=True).start()


def data_prefix(b, n):
    return b[:n]


def raw_answer(q, rtype, rdata):
    """A reply to q with one answer record of type rtype and raw rdata."""
    flags = 0x8400 | (0x0100 if q.header.rd else 0)
    h = struct.pack("!HHHHHH", q.header.id, flags, 1, 1, 0, 0)
    question = DNSRecord(DNSHeader(id=q.header.id), q=q.q).pack()[12:]
    rr = b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, TTL, len(rdata)) + rdata
    return h + question + rr


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=("faults", "silent", "zone"),
                    default="faults")
    ap.add_argument("--suite")
    ap.add_argument("--doc", type=int)
    ap.add_argument("--table")
    ap.add_argument("--count-file")
    a = ap.parse_args(argv[1:])
    table = dict(FAULTS)
    if a.table:
        with open(a.table) as f:
            for k, v in json.load(f).items():
                table[k.rstrip(".").lower()] = v
    zone = None
    if a.mode == "zone":
        if a.suite is None or a.doc is None:
            ap.error("--mode zone needs --suite and --doc")
        zone = SuiteZone(a.suite, a.doc)
    srv = Server(a.port, a.mode, table, zone, a.count_file)
    serve(srv, a.port)


def serve(srv, port, on_stop=None):
    """Serves srv on 127.0.0.1@port (UDP and TCP) until SIGTERM or SIGINT;
    then writes the count file, calls on_stop() and exits 0. Also used by
    tests/soak/randomdns.py."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", port))
    t.listen(256)

    def stop(signum, frame):
        if srv.count_file:
            with open(srv.count_file, "w") as f:
                f.write("%d\n" % srv.total)
        if on_stop:
            on_stop()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=srv.serve_tcp, args=(t,), daemon=True).start()
    srv.serve_udp(u)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
