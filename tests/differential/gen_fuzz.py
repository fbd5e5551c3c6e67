#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""gen_fuzz.py OUTDIR [--cases N] [--seed S] - a random SPF world for the
differential fuzzer (tests/differential/run.sh): records, zones and
senders, deterministic for a seed.

Writes into OUTDIR:
  root.zone   one master file for "." (NSD serves it on loopback), every
              name below fz.example. plus the reverse names of the address
              pool
  stream.tsv  IP<TAB>SENDER<TAB>HELO, one check a line
  meta.tsv    per sender domain: the SPF record texts published there (for
              the reports of compare.py)

The world is built to reach the corners of RFC 7208 rather than to look
like real traffic: every mechanism and modifier with and without
domain-specs, CIDR lengths and macros (every letter, digits, r, custom
delimiters), syntax errors of the usual kinds, include and redirect
chains with loops and missing targets, several records, no record,
records split into strings, CNAMEs (chains, loops, dangling), MX sets
over the limit and with empty hosts, PTR names validated or not,
void lookups past the limit, wildcards, and senders whose local parts
make macros expand to no domain name. Addresses come from a small pool
(RFC 5737, RFC 3849) so that terms match often.
"""
import argparse
import ipaddress
import os
import random

BASE = "fz.example"
POOL4 = [f"192.0.2.{i}" for i in range(1, 30)] + [f"198.51.100.{i}" for i in range(1, 10)]
POOL6 = [f"2001:db8::{i:x}" for i in range(1, 12)]
LOCALS = ["info", "a", "a.b", "sales", "x-y", "a..b", ".lead", "trail.", "U" * 70,
          "postmaster", "%41", "a+tag", "b_c", "1", "a b", "\u00e9t\u00e9", "a/b", "x=y"]
MACROS = ["%{d}", "%{o}", "%{l}", "%{s}", "%{i}", "%{ir}", "%{d2}", "%{d1r}", "%{l1r-}",
          "%{h}", "%{v}", "%{L}", "%{O}", "%{l2}", "%{o1}", "%{ir}.%{v}", "%{p}", "%{d0}",
          "%{i1}", "%{s2r+}", "%_", "%%", "%-"]


def esc(text):
    """A character-string's text for a master file: octets outside
    printable ASCII, the quote and the backslash as \\DDD (RFC 1035 5.1)."""
    return "".join(chr(b) if 0x20 <= b < 0x7f and b not in (0x22, 0x5c) else "\\%03d" % b
                   for b in text.encode("utf-8"))


class World:
    def __init__(self, rng, ndom):
        self.rng = rng
        self.rr = []        # (name, type, rdata)
        self.records = {}   # domain -> [record texts]
        self.doms = [f"d{i}.{BASE}" for i in range(ndom)]
        self.hosts = [f"h{i}.{BASE}" for i in range(40)]
        self.nx = [f"nx{i}.{BASE}" for i in range(10)]   # never published

    def add(self, name, rtype, rdata):
        self.rr.append((name, rtype, rdata))

    def txt(self, name, text, split=False):
        if split and len(text) > 10:
            k = self.rng.randrange(1, len(text))
            chunks = [text[:k], text[k:]]
        else:
            chunks = [text[i:i + 250] for i in range(0, len(text), 250)] or [""]
        self.add(name, "TXT", " ".join('"%s"' % esc(c) for c in chunks))

    # -- names a term may point at
    def target(self):
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice(self.doms)
        if r < 0.7:
            return self.rng.choice(self.hosts)
        if r < 0.8:
            return self.rng.choice(self.nx)
        if r < 0.95:
            return self.macro_spec()
        return self.rng.choice(["foo..bar." + BASE, BASE, "x." + "y" * 64 + "." + BASE,
                                "%{z}." + BASE, "a:b", "-bad-." + BASE])

    def macro_spec(self):
        parts = [self.rng.choice(MACROS) for _ in range(self.rng.randrange(1, 3))]
        tail = self.rng.choice(["_ex." + BASE, "%{d}", "_u.%{d}", BASE, "%{o}"])
        return ".".join(parts + [tail])

    def cidr(self, v6=False):
        r = self.rng.random()
        if r < 0.6:
            return ""
        if v6 or r < 0.7:
            return "//" + str(self.rng.choice([0, 48, 64, 112, 128, 129]))
        c = "/" + str(self.rng.choice([0, 8, 16, 24, 28, 30, 32, 33]))
        if self.rng.random() < 0.3:
            c += "//" + str(self.rng.choice([32, 64, 128]))
        return c

    def term(self):
        q = self.rng.choice(["", "", "", "+", "-", "~", "?"])
        kind = self.rng.choice(["ip4", "ip4", "ip6", "a", "a", "mx", "mx", "ptr", "exists",
                                "exists", "include", "include", "all", "bad"])
        if kind == "ip4":
            ip = self.rng.choice(POOL4)
            return f"{q}ip4:{ip}" + self.rng.choice(["", "/24", "/32", "/30", "/0", "/33", "/8"])
        if kind == "ip6":
            ip = self.rng.choice(POOL6 + ["::ffff:192.0.2.1", "2001:db8::"])
            return f"{q}ip6:{ip}" + self.rng.choice(["", "/64", "/128", "/32", "/129", "/0"])
        if kind in ("a", "mx"):
            spec = "" if self.rng.random() < 0.4 else ":" + self.target()
            return f"{q}{kind}{spec}{self.cidr()}"
        if kind == "ptr":
            return f"{q}ptr" + ("" if self.rng.random() < 0.5 else ":" + self.target())
        if kind == "exists":
            return f"{q}exists:" + self.target()
        if kind == "include":
            return f"{q}include:" + self.target()
        if kind == "all":
            return f"{q}all"
        return self.rng.choice(["ipv4:192.0.2.1", "a:", "include:", "mx:/24", "ip4:192.0.2",
                                "exists", "ptr:%{x}.x", "a:%{d", "foo", "+-all", "all:x",
                                "ip4:192.0.2.1/", "a//", "redirect", "exp=", "=bar"])

    def record(self, me):
        terms = [self.term() for _ in range(self.rng.randrange(0, 7))]
        r = self.rng.random()
        if r < 0.35:
            terms.append(self.rng.choice(["-all", "~all", "?all", "all", "+all"]))
        elif r < 0.55:
            tgt = self.rng.choice(self.doms + self.nx + [me]) if self.rng.random() < 0.9 \
                else self.macro_spec()
            terms.append("redirect=" + tgt)
        if self.rng.random() < 0.12:
            terms.append("exp=" + self.rng.choice([f"why.{me}", "why.%{d}", f"nx0.{BASE}",
                                                   f"two.why.{BASE}", "%{l}.why." + BASE]))
        if self.rng.random() < 0.06:
            terms.append(self.rng.choice(["foo=bar", "moo.cow=%{d}", "redirect=" + me,
                                          "exp=" + me, "x-y=%{z}"]))
        if self.rng.random() < 0.1:
            self.rng.shuffle(terms)
        head = self.rng.choice(["v=spf1"] * 20 + ["V=SPF1", "v=spf1  ", "v=spf10", "spf1"])
        rec = " ".join([head] + terms).rstrip() if terms else head
        r = self.rng.random()
        if r < 0.02:
            rec = rec.replace(" ", "\t", 1)       # a TAB is no separator
        elif r < 0.04:
            rec += " "                              # trailing space
        elif r < 0.05:
            rec += " exp=why.%{d} x\u00e9=1"        # 8-bit octets
        return rec

    def build(self):
        rng = self.rng
        self.corner_lines = self.corners()
        for h in self.hosts:
            r = rng.random()
            if r < 0.7:
                for _ in range(rng.randrange(1, 3)):
                    self.add(h, "A", rng.choice(POOL4))
            if rng.random() < 0.3:
                self.add(h, "AAAA", rng.choice(POOL6))
            if r > 0.93:
                # the writer keeps a CNAME owner's CNAME alone
                self.add(h, "CNAME", rng.choice(self.hosts + self.nx) + ".")
            if rng.random() < 0.3:
                self.txt(h, self.record(h))
        # _ex / _u names for exists and macros
        for ip in POOL4:
            if rng.random() < 0.4:
                self.add(f"{ip}._ex.{BASE}", "A", "127.0.0.2")
        for loc in ["info", "sales", "a"]:
            self.add(f"{loc}._u.{BASE}", "A", "127.0.0.2")
        # wildcards
        self.add(f"*.wild.{BASE}", "TXT", '"v=spf1 a:%{d} -all"')
        self.add(f"*.wild.{BASE}", "A", POOL4[0])
        # explanations
        self.txt(f"why.{BASE}", "%{i} may not send for %{d} (%{l})")
        self.txt(f"two.why.{BASE}", "one")
        self.txt(f"two.why.{BASE}", "two")
        for ip in POOL4 + POOL6:
            r = rng.random()
            rev = ipaddress.ip_address(ip).reverse_pointer
            if r < 0.5:
                for _ in range(rng.randrange(1, 4)):
                    self.add(rev, "PTR", rng.choice(self.hosts + self.doms + self.nx) + ".")
            elif r < 0.55:
                for k in range(12):
                    self.add(rev, "PTR", f"p{k}.{BASE}.")
        for d in self.doms:
            r = rng.random()
            if r < 0.08:
                continue  # NXDOMAIN
            if r < 0.14:
                self.txt(d, "not spf at all")
            elif r < 0.18:
                self.add(d, "CNAME", rng.choice(self.doms + self.hosts + self.nx) + ".")
                continue
            elif r < 0.2:
                # type 99 alone: no TXT record, so no SPF record (RFC 7208 3.1)
                self.add(d, "SPF", '"v=spf1 +all"')
            else:
                n = 2 if rng.random() < 0.05 else 1
                for _ in range(n):
                    rec = self.record(d)
                    self.records.setdefault(d, []).append(rec)
                    self.txt(d, rec, split=rng.random() < 0.1)
            if rng.random() < 0.5:
                self.add(d, "A", rng.choice(POOL4))
            if rng.random() < 0.2:
                self.add(d, "AAAA", rng.choice(POOL6))
            if rng.random() < 0.5:
                k = rng.choice([0, 1, 2, 3, 11, 12])
                for i in range(k):
                    self.add(d, "MX", f"{i} {rng.choice(self.hosts + self.nx)}.")
                if rng.random() < 0.05:
                    self.add(d, "MX", "0 .")
            if rng.random() < 0.1:
                self.txt(f"why.{d}", rng.choice(["%{i} is not %{d}", "go away %{s}",
                                                  "%{c} at %{t} by %{r}", "bad %{z"]))

    def corners(self):
        """Fixed cases, in every world, that reach each point where spfkit
        and pyspf are known to read RFC 7208 differently (and item 8 of
        the issue, where they agree), so a short run covers them all."""
        c = "corner." + BASE
        self.txt(f"self.{c}", f"v=spf1 ip4:192.0.2.1 include:self.{c} -all")
        self.txt(f"d0.{c}", f"v=spf1 -ip4:192.0.2.99 a:%{{d0}}.{BASE} -all")
        self.txt(f"ptr.{c}", f"v=spf1 ptr:ptr.{c} -all")
        for k in range(3):
            self.add("20.100.51.198.in-addr.arpa", "PTR", f"nx{k}.{c}.")
        self.txt(f"cname.{c}", f"v=spf1 a:cn1.{c} a:cn2.{c} -all")
        self.add(f"cn1.{c}", "CNAME", f"nx1.{c}.")
        self.add(f"cn2.{c}", "CNAME", f"nx2.{c}.")
        self.add(f"loop.{c}", "CNAME", f"loop.{c}.")
        self.txt(f"macro.{c}", "v=spf1 exists:%{l}._u." + BASE + " -all")
        return [f"192.0.2.1\ta@self.{c}\th1.{BASE}",
                f"192.0.2.2\ta@d0.{c}\th1.{BASE}",
                f"198.51.100.20\ta@ptr.{c}\th1.{BASE}",
                f"192.0.2.2\ta@cname.{c}\th1.{BASE}",
                f"192.0.2.2\ta@loop.{c}\th1.{BASE}",
                f"192.0.2.2\ta@macro.{c}.\th1.{BASE}",
                f"192.0.2.2\tinfo@macro.{c}\th1.{BASE}",
                f"192.0.2.2\ta..b@macro.{c}\th1.{BASE}"]

    def stream(self, n):
        rng = self.rng
        out = list(self.corner_lines)
        for _ in range(n):
            r = rng.random()
            ip = rng.choice(POOL4) if r < 0.7 else rng.choice(POOL6) if r < 0.85 else \
                rng.choice(["203.0.113.77", "::ffff:192.0.2.1", "2001:db8:ffff::1"])
            dom = rng.choice(self.doms + self.doms + self.hosts + [f"a.wild.{BASE}"])
            if rng.random() < 0.03:
                dom = rng.choice(["localhost", "[192.0.2.1]", "192.0.2.1", dom + ".",
                                  "-x." + BASE, "x_y." + BASE, "example", ""])
            loc = rng.choice(LOCALS)
            s = rng.random()
            sender = f"{loc}@{dom}" if s < 0.85 else dom if s < 0.9 else ""
            helo = rng.choice(self.hosts + self.doms + ["", "192.0.2.1", "localhost"])
            if sender == "" and helo == "":
                helo = rng.choice(self.hosts)
            out.append(f"{ip}\t{sender}\t{helo}")
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--domains", type=int, default=0, help="default: cases / 3")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    w = World(random.Random(a.seed), a.domains or max(20, a.cases // 3))
    w.build()
    os.makedirs(a.outdir, exist_ok=True)
    # One record set per name and type as an authoritative server sees it:
    # a CNAME owner holds nothing else (RFC 1034 3.6.2).
    cname = {n for n, t, _ in w.rr if t == "CNAME"}
    seen = set()
    with open(os.path.join(a.outdir, "root.zone"), "w", encoding="utf-8") as f:
        f.write("$ORIGIN .\n$TTL 300\n")
        f.write(". IN SOA ns.fz-root. hostmaster.fz-root. 1 3600 600 86400 300\n")
        f.write(". IN NS ns.fz-root.\nns.fz-root. IN A 127.0.0.1\n")
        for name, t, rdata in w.rr:
            if name in cname and t != "CNAME":
                continue
            if t == "CNAME":
                if name in seen:
                    continue
                seen.add(name)
            f.write(f"{name}. IN {t} {rdata}\n")
    with open(os.path.join(a.outdir, "stream.tsv"), "w", encoding="utf-8") as f:
        f.write("".join(l + "\n" for l in w.stream(a.cases)))
    with open(os.path.join(a.outdir, "meta.tsv"), "w", encoding="utf-8") as f:
        for d, recs in sorted(w.records.items()):
            for r in recs:
                f.write(f"{d}\t{r}\n")


if __name__ == "__main__":
    main()
