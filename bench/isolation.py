# SPDX-License-Identifier: BSD-2-Clause
"""isolation.py - proof that a bench phase's DNS went where the bench sent it.

Every peer runs under bench/isolated (a private /etc/resolv.conf naming only
bench/catcher.py). Around each phase the harness reads two counters:

  NSD's num.queries (nsd-control stats_noreset over a unix socket): every
      query of the world reaches NSD, straight or through dnsdelay.py; a
      phase must add at least its minimum (one TXT query per distinct world
      domain it checks with a cache, per check without one);
  the catcher's count: any query there came from a peer that fell back to
      resolv.conf instead of the server it was given; it must stay zero.

Either failing raises IsolationError, and bench.py exits non-zero with the
message: a figure measured against the wrong server is worse than none.
"""
import contextlib
import subprocess

from dnslib import DNSRecord


class IsolationError(Exception):
    pass


class Accounting:
    def __init__(self, nsd_conf, catcher_addr, catcher_port=53):
        self.nsd_conf, self.addr, self.port = nsd_conf, catcher_addr, catcher_port
        self.last = (0, 0)  # (NSD queries, caught messages) of the last phase

    def nsd_queries(self):
        out = subprocess.run(["nsd-control", "-c", self.nsd_conf, "stats_noreset"],
                             capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if line.startswith("num.queries="):
                return int(line.split("=", 1)[1])
        raise IsolationError(f"nsd-control gave no num.queries (exit {out.returncode}): "
                             f"{(out.stderr or out.stdout).strip()[:300]}")

    def caught(self):
        q = DNSRecord.question("_count.catcher", "TXT")
        ans = DNSRecord.parse(q.send(self.addr, self.port, timeout=5))
        txt = "".join(s.decode() for s in ans.rr[0].rdata.data)
        return int(txt.split("=", 1)[1])

    @contextlib.contextmanager
    def phase(self, what, minimum):
        """Raises IsolationError after the block unless NSD saw >= minimum
        queries and the catcher none."""
        n0, c0 = self.nsd_queries(), self.caught()
        yield
        n, c = self.nsd_queries() - n0, self.caught() - c0
        self.last = (n, c)
        if c > 0:
            raise IsolationError(
                f"{what}: {c} DNS messages went to resolv.conf's server ({self.addr}), not to the "
                f"bench's: its resolver setting did not apply (the namespace kept them off the "
                f"machine's resolver)")
        if n < minimum:
            raise IsolationError(
                f"{what}: NSD answered {n} queries, fewer than the {minimum} this phase needs: "
                f"its queries did not reach the bench's server")


def minimum(lines, world, cached):
    """Queries NSD must see for these stream lines: one per distinct world
    domain when the implementation caches, one per check when it does not."""
    doms = [l.split("\t")[1].rsplit("@", 1)[-1].lower() for l in lines if "\t" in l]
    doms = [d for d in doms if d in world]
    return len(set(doms)) if cached else len(doms)
