#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""randomdns.py --port PORT --seed N --p-fault F [--delay-ms MS]
                [--slow-ms MS] [--stats FILE]

The soak test's DNS server on 127.0.0.1 (UDP and TCP): the world of
soakzone.py (names under clean.example always answered right, names under
faulty.example given a fault with probability F, chosen per (seed, name,
type)), served with the behaviours of tests/integration/faultdns.py:
servfail, refused, silent, delay (DELAY_MS, past the daemon's deadline),
slow (SLOW_MS, within its query timeout), trunc (TC over UDP, the answer
over TCP), trunc-tcp, tcp-close, garbage, short, wrongid, wrongtype.
Names outside the world are NXDOMAIN. faultdns's control names work
(count.control. TXT and so on).

On SIGTERM it writes to --stats a JSON object: queries in total, by
fault kind ("ok" for a right answer) and by type, then exits 0.
"""
import argparse
import json
import os
import sys
import threading

sys.dont_write_bytecode = True  # nothing written into the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import faultdns  # noqa: E402
from soakzone import KINDS, World  # noqa: E402


class RandomServer(faultdns.Server):
    def __init__(self, port, world):
        super().__init__(port, "faults", {}, None, None)
        self.world = world
        self.local = threading.local()
        self.kinds = {}
        self.types = {}

    def fault(self, q, qtype, tcp, send):
        name = str(q.q.qname).rstrip(".").lower()
        kind = self.world.fault(name, qtype)
        recs = self.world.records(name)
        with self.lock:
            k = kind or "ok"
            self.kinds[k] = self.kinds.get(k, 0) + 1
            self.types[qtype] = self.types.get(qtype, 0) + 1
        if kind is None:
            ent = None if recs is None else {"do": "answer", "records": recs}
        else:
            ent = {"do": self.world.behaviour(kind), "records": recs or []}
        self.local.ent = ent
        super().fault(q, qtype, tcp, send)

    def lookup_table(self, name):
        return getattr(self.local, "ent", None)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--p-fault", type=float, default=0.3)
    ap.add_argument("--delay-ms", type=int, default=3000)
    ap.add_argument("--slow-ms", type=int, default=400)
    ap.add_argument("--kinds", help="fault kinds to use, comma-separated "
                    "(default: all of soakzone.KINDS)")
    ap.add_argument("--stats")
    a = ap.parse_args(argv[1:])
    kinds = a.kinds.split(",") if a.kinds else None
    if kinds and not set(kinds) <= set(KINDS):
        ap.error("--kinds: unknown %s" % ",".join(set(kinds) - set(KINDS)))
    srv = RandomServer(a.port, World(a.seed, a.p_fault, a.delay_ms,
                                     a.slow_ms, kinds))

    def on_stop():
        if a.stats:
            with srv.lock:
                data = {"total": srv.total, "kinds": dict(srv.kinds),
                        "types": dict(srv.types)}
            with open(a.stats + ".tmp", "w") as f:
                json.dump(data, f, sort_keys=True)
            os.replace(a.stats + ".tmp", a.stats)
    faultdns.serve(srv, a.port, on_stop)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
