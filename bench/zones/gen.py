#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""gen.py - one deterministic (seeded) SPF world for bench/: zones and a query stream.

Writes, into OUTDIR:
  root.zone    one NSD master file for "." holding every name (no delegation),
               served by NSD on a loopback port
  stream.tsv   the query stream: IP<TAB>SENDER<TAB>HELO, repeated domains as
               real traffic has them (Zipf-like popularity)
  depth.tsv    per sender domain: include depth (nesting of include/redirect),
               the minimum number of sequential DNS round trips a perfect
               resolver needs to evaluate the whole record, and its kind

The world: provider trees three or four includes deep in the style of
_spf.google.com and spf.protection.outlook.com (include chains with many
ip4/ip6 blocks), long ip4 lists, a/mx/ptr/exists with macros, broken records
(syntax errors, two records, include to NXDOMAIN, more than 10 lookups, void
lookups), domains without SPF, PTR records for some IPs. All names are
fictional and live only in this private root zone.

Usage: gen.py OUTDIR [--lines N] [--domains N] [--seed S]
"""
import argparse
import ipaddress
import os
import random

TTL = 3600


class World:
    def __init__(self, rng):
        self.rng = rng
        self.rr = []          # (name, type, rdata-text)
        self.spf = {}         # name -> list of SPF record strings (as published)
        self.kids = {}        # name -> [names it includes/redirects to] (static)
        self.rounds_extra = {}  # name -> extra sequential rounds of its own terms (a/mx/ptr/exists)
        self.allowed = {}     # name -> IPs that match a term (for traffic)
        self.kind = {}
        self.used_nets = set()

    # -- addresses
    def net4(self, prefix):
        while True:
            a = self.rng.randrange(11, 223)
            if a in (127, 10, 100, 169, 172, 192, 198, 203):
                continue
            b, c = self.rng.randrange(256), self.rng.randrange(256)
            net = ipaddress.ip_network(f"{a}.{b}.{c}.0/{prefix}", strict=False)
            if net not in self.used_nets:
                self.used_nets.add(net)
                return net

    def net6(self):
        return ipaddress.ip_network(
            "2001:%x:%x::/48" % (self.rng.randrange(0x4000, 0xffff), self.rng.randrange(0x10000)))

    def host_in(self, net):
        n = net.num_addresses
        return str(net[self.rng.randrange(1, n - 1) if n > 2 else 0])

    # -- records
    def add(self, name, rtype, rdata):
        self.rr.append((name, rtype, rdata))

    def txt(self, name, text):
        chunks = [text[i:i + 250] for i in range(0, len(text), 250)] or [""]
        self.add(name, "TXT", " ".join('"%s"' % c for c in chunks))

    def publish(self, name, record, kids=(), extra=0, allowed=(), kind=""):
        self.spf.setdefault(name, []).append(record)
        self.txt(name, record)
        self.kids[name] = list(kids)
        self.rounds_extra[name] = extra
        self.allowed.setdefault(name, []).extend(allowed)
        if kind:
            self.kind[name] = kind

    def a(self, name, ip):
        self.add(name, "AAAA" if ":" in ip else "A", ip)

    def ptr(self, ip, name):
        self.add(ipaddress.ip_address(ip).reverse_pointer, "PTR", name + ".")

    # -- depth: include nesting, and sequential DNS rounds (TXT of each level + own terms)
    def include_depth(self, name, seen=()):
        if name in seen:
            return 0
        return max([1 + self.include_depth(k, seen + (name,)) for k in self.kids.get(name, [])
                    if k in self.spf] or [0])

    def rounds(self, name, seen=()):
        if name in seen or name not in self.spf:
            return 1
        own = 1 + self.rounds_extra.get(name, 0)
        sub = [1 + self.rounds(k, seen + (name,)) for k in self.kids.get(name, [])]
        return max([own] + sub)


def ip4_terms(w, nets):
    return " ".join(f"ip4:{n}" for n in nets)


def build(w, ndomains):
    rng = w.rng
    providers = {}  # top name -> allowed IP list

    def leaf(name, n4, n6=0):
        nets = [w.net4(rng.choice([16, 18, 19, 20, 21, 22, 24, 24, 24, 28])) for _ in range(n4)]
        nets6 = [w.net6() for _ in range(n6)]
        terms = ip4_terms(w, nets) + ("" if not nets6 else " " + " ".join(f"ip6:{n}" for n in nets6))
        w.publish(name, f"v=spf1 {terms} ~all",
                  allowed=[w.host_in(n) for n in nets] + [w.host_in(n) for n in nets6])
        return w.allowed[name]

    # Google style: _spf.X -> _netblocks{,2,3}.X (depth 1 inside the provider)
    # plus a fourth-level chain: _netblocks3 -> _netblocks3a
    def google_like(dom):
        top = f"_spf.{dom}"
        leaf(f"_netblocks.{dom}", 12, 2)
        leaf(f"_netblocks2.{dom}", 6, 6)
        leaf(f"_nb3a.{dom}", 8)
        w.publish(f"_netblocks3.{dom}", f"v=spf1 ip4:{w.net4(22)} include:_nb3a.{dom} ~all",
                  kids=[f"_nb3a.{dom}"])
        kids = [f"_netblocks.{dom}", f"_netblocks2.{dom}", f"_netblocks3.{dom}"]
        w.publish(top, "v=spf1 " + " ".join("include:" + k for k in kids) + " ~all", kids=kids)
        providers[top] = sum((w.allowed[k] for k in kids + [f"_nb3a.{dom}"]), [])

    # Outlook style: spf.protection.X -> long ip4/ip6 list + include:spfd.protection.X
    def outlook_like(dom):
        top = f"spf.protection.{dom}"
        leaf(f"spfd.protection.{dom}", 3)
        nets = [w.net4(rng.choice([15, 16, 18, 20])) for _ in range(14)]
        nets6 = [w.net6() for _ in range(4)]
        w.publish(top, "v=spf1 " + ip4_terms(w, nets) + " " + " ".join(f"ip6:{n}" for n in nets6)
                  + f" include:spfd.protection.{dom} -all",
                  kids=[f"spfd.protection.{dom}"])
        providers[top] = [w.host_in(n) for n in nets] + [w.host_in(n) for n in nets6] \
            + w.allowed[f"spfd.protection.{dom}"]

    # Deep reseller chain: spf.X -> spf-a.X -> spf-b.X -> spf-c.X (four levels)
    def deep_chain(dom, levels=4):
        names = [f"spf.{dom}"] + [f"spf-{c}.{dom}" for c in "abcdef"[:levels - 1]]
        allowed = []
        for i in range(len(names) - 1, -1, -1):
            nets = [w.net4(rng.choice([20, 22, 24])) for _ in range(rng.randrange(3, 9))]
            nxt = f" include:{names[i + 1]}" if i + 1 < len(names) else ""
            w.publish(names[i], f"v=spf1 {ip4_terms(w, nets)}{nxt} ~all",
                      kids=[names[i + 1]] if nxt else [])
            allowed += [w.host_in(n) for n in nets]
        providers[names[0]] = allowed

    # ESP with a/mx of its own (extra rounds) and an exists macro
    def esp_like(dom):
        top = f"_spf.{dom}"
        mx_hosts = [f"mx{i}.{dom}" for i in range(1, 4)]
        ips = []
        for i, h in enumerate(mx_hosts):
            ip = w.host_in(w.net4(24))
            w.a(h, ip)
            w.add(dom, "MX", f"{10 * (i + 1)} {h}.")
            ips.append(ip)
        outip = w.host_in(w.net4(24))
        w.a(f"out.{dom}", outip)
        ex_ip = [w.host_in(w.net4(24)) for _ in range(20)]
        for ip in ex_ip:
            w.a(f"{ip}._ex.{dom}", "127.0.0.2")
        w.publish(top, f"v=spf1 mx:{dom} a:out.{dom} exists:%{{i}}._ex.{dom} ~all",
                  extra=2, allowed=ips + [outip] + ex_ip)
        providers[top] = w.allowed[top]

    for d in ["mailgrid.com", "postcloud.net"]:
        google_like(d)
    for d in ["outpost-mail.com", "exchangehost.net"]:
        outlook_like(d)
    for d in ["resellmail.net", "bulkrelay.io"]:
        deep_chain(d, 4)
    deep_chain("smallhost.org", 3)
    for d in ["sendwave.com", "mailjetty.net"]:
        esp_like(d)
    prov = sorted(providers)

    # generic providers referenced by name; 3 providers that form the >10 lookup trap
    for i in range(12):
        w.publish(f"_spf{i}.lookupsink.net", f"v=spf1 a:h{i}.lookupsink.net mx -all", extra=2)

    words = ("acme bolt cedar delta ember fjord garnet harbor iris juniper kestrel lumen maple "
             "nimbus onyx pioneer quartz raven summit tundra umber vertex willow xenon yarrow "
             "zephyr atlas beacon comet drift echo falcon glade").split()
    tlds = ["com", "com", "com", "net", "org", "io", "de", "co.uk", "fr", "nl"]
    senders = []
    seen = set()
    while len(senders) < ndomains:
        d = f"{rng.choice(words)}{rng.choice(words)}{rng.randrange(100)}.{rng.choice(tlds)}"
        if d not in seen:
            seen.add(d)
            senders.append(d)

    kinds = [("provider1", 22), ("provider2", 14), ("provider3", 4), ("iplist", 8), ("longlist", 4),
             ("amx", 8), ("exists", 4), ("ptr", 3), ("redirect", 5), ("macro_l", 2),
             ("neutral", 3), ("plusall", 1), ("none", 6), ("nxdomain", 2), ("syntax", 2),
             ("two", 2), ("incl_nx", 2), ("toomany", 2), ("void", 2), ("cname", 2),
             ("exp", 2), ("ip6", 2), ("softonly", 3)]
    bag = [k for k, n in kinds for _ in range(n)]
    for d in senders:
        k = rng.choice(bag)
        allq = rng.choice(["-all", "-all", "~all", "~all", "?all"])
        w.kind[d] = k
        if k.startswith("provider"):
            n = int(k[-1])
            ps = rng.sample(prov, n)
            extra_ip = [w.net4(28) for _ in range(rng.randrange(0, 3))]
            rec = "v=spf1 " + " ".join([f"ip4:{x}" for x in extra_ip] + ["include:" + p for p in ps]) + " " + allq
            w.publish(d, rec, kids=ps, allowed=[w.host_in(x) for x in extra_ip] +
                      sum((providers[p] for p in ps), []), kind=k)
        elif k in ("iplist", "longlist"):
            nets = [w.net4(rng.choice([24, 26, 27, 28, 29, 32])) for _ in range(rng.randrange(3, 8) if k == "iplist" else rng.randrange(30, 55))]
            w.publish(d, f"v=spf1 {ip4_terms(w, nets)} {allq}", allowed=[w.host_in(n) for n in nets], kind=k)
        elif k == "amx":
            ip1, ip2 = w.host_in(w.net4(24)), w.host_in(w.net4(24))
            w.a(d, ip1)
            w.add(d, "MX", f"10 mail.{d}.")
            w.a(f"mail.{d}", ip2)
            ps = rng.sample(prov, 1)
            w.publish(d, f"v=spf1 a mx include:{ps[0]} {allq}", kids=ps, extra=2,
                      allowed=[ip1, ip2] + providers[ps[0]], kind=k)
        elif k == "exists":
            ips = [w.host_in(w.net4(24)) for _ in range(8)]
            for ip in ips:
                w.a(f"{ip}._spf.{d}", "127.0.0.2")
            w.publish(d, "v=spf1 exists:%{i}._spf.%{d} " + allq, extra=1, allowed=ips, kind=k)
        elif k == "ptr":
            ips = [w.host_in(w.net4(24)) for _ in range(4)]
            for j, ip in enumerate(ips):
                w.ptr(ip, f"smtp{j}.{d}")
                w.a(f"smtp{j}.{d}", ip)
            # one PTR pointing at a name whose A does not match (validation fails)
            bad = w.host_in(w.net4(24))
            w.ptr(bad, f"fake.{d}")
            w.a(f"fake.{d}", w.host_in(w.net4(24)))
            w.publish(d, f"v=spf1 ptr {allq}", extra=2, allowed=ips + [bad], kind=k)
        elif k == "redirect":
            nets = [w.net4(24) for _ in range(3)]
            w.publish(f"_spf.{d}", f"v=spf1 {ip4_terms(w, nets)} include:{rng.choice(prov)} {allq}")
            tgt = w.spf[f"_spf.{d}"][0].split("include:")[1].split()[0]
            w.kids[f"_spf.{d}"] = [tgt]
            w.allowed[f"_spf.{d}"] = [w.host_in(n) for n in nets] + providers[tgt]
            w.publish(d, f"v=spf1 redirect=_spf.{d}", kids=[f"_spf.{d}"],
                      allowed=w.allowed[f"_spf.{d}"], kind=k)
        elif k == "macro_l":
            w.a(f"sales._u.{d}", "127.0.0.2")
            w.a(f"info._u.{d}", "127.0.0.2")
            w.publish(d, "v=spf1 exists:%{l}._u.%{d} -all", extra=1, allowed=[], kind=k)
        elif k == "neutral":
            nets = [w.net4(24)]
            w.publish(d, f"v=spf1 ip4:{nets[0]} ?all", allowed=[w.host_in(nets[0])], kind=k)
        elif k == "plusall":
            w.publish(d, "v=spf1 +all", kind=k)
        elif k == "none":
            w.txt(d, "google-site-verification=" + "".join(rng.choice("abcdef0123456789") for _ in range(32)))
            w.add(d, "MX", f"10 mx.{d}.")
            w.a(f"mx.{d}", w.host_in(w.net4(24)))
        elif k == "nxdomain":
            pass  # no records at all
        elif k == "syntax":
            bad = rng.choice([f"v=spf1 ip4:{w.net4(24).network_address}/33 -all",
                              "v=spf1 include: -all", f"v=spf1 a:{d}/40 -all",
                              f"v=spf1 ip4:{w.host_in(w.net4(24))} foo=bar=baz -all",
                              "v=spf1 mx:%{z}.example -all"])
            w.publish(d, bad, kind=k)
        elif k == "two":
            n1, n2 = w.net4(24), w.net4(24)
            w.publish(d, f"v=spf1 ip4:{n1} -all", allowed=[w.host_in(n1)], kind=k)
            w.publish(d, f"v=spf1 ip4:{n2} ~all", allowed=[w.host_in(n2)], kind=k)
        elif k == "incl_nx":
            n1 = w.net4(24)
            w.publish(d, f"v=spf1 ip4:{n1} include:spf.gone-{rng.randrange(999)}.invalid -all",
                      kids=[], allowed=[w.host_in(n1)], kind=k)
        elif k == "toomany":
            ks = [f"_spf{i}.lookupsink.net" for i in rng.sample(range(12), 6)]
            w.publish(d, "v=spf1 " + " ".join("include:" + x for x in ks) + " -all", kids=ks, kind=k)
        elif k == "void":
            n1 = w.net4(24)
            w.publish(d, f"v=spf1 a:nx1.{d} a:nx2.{d} mx:nx3.{d} ip4:{n1} -all", extra=1,
                      allowed=[w.host_in(n1)], kind=k)
        elif k == "cname":
            tgt = rng.choice([p for p in prov if p.startswith("_spf.") or p.startswith("spf.protection")])
            w.add(f"spf.{d}", "CNAME", tgt + ".")
            w.publish(d, f"v=spf1 include:spf.{d} {allq}", kids=[tgt], extra=0,
                      allowed=providers[tgt], kind=k)
        elif k == "exp":
            n1 = w.net4(24)
            w.txt(f"why.{d}", "%{i} is not one of %{d}'s designated mail servers")
            w.publish(d, f"v=spf1 ip4:{n1} exp=why.{d} -all", allowed=[w.host_in(n1)], kind=k)
        elif k == "ip6":
            n6 = [w.net6() for _ in range(3)]
            w.publish(d, "v=spf1 " + " ".join(f"ip6:{n}" for n in n6) + f" include:{prov[0]} -all",
                      kids=[prov[0]], allowed=[w.host_in(n) for n in n6] + providers[prov[0]], kind=k)
        elif k == "softonly":
            w.publish(d, "v=spf1 ~all", kind=k)
        w.kind[d] = k
    # HELO names: the sender domains' mail hosts; A records for some
    return senders, providers


def write(w, outdir, senders, nlines):
    rng = w.rng
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "root.zone"), "w") as f:
        f.write(f"$ORIGIN .\n$TTL {TTL}\n")
        f.write(". IN SOA ns.bench-root. hostmaster.bench-root. 1 3600 600 86400 300\n")
        f.write(". IN NS ns.bench-root.\nns.bench-root. IN A 127.0.0.1\n")
        for name, t, rdata in w.rr:
            f.write(f"{name}. IN {t} {rdata}\n")
    with open(os.path.join(outdir, "depth.tsv"), "w") as f:
        f.write("#domain\tinclude_depth\tdns_rounds\tkind\n")
        for d in senders:
            f.write(f"{d}\t{w.include_depth(d)}\t{w.rounds(d)}\t{w.kind.get(d, '')}\n")
    # Zipf-like popularity: a few domains carry most of the traffic
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(senders))]
    order = senders[:]
    rng.shuffle(order)
    locals_ = ["info", "noreply", "sales", "bounce", "newsletter", "billing", "support", "alice", "bob"]
    with open(os.path.join(outdir, "stream.tsv"), "w") as f:
        for _ in range(nlines):
            d = rng.choices(order, weights)[0]
            allowed = w.allowed.get(d, [])
            r = rng.random()
            if allowed and r < 0.55:
                ip = rng.choice(allowed)
            elif r < 0.95:
                ip = f"{rng.choice([198, 203, 45, 89, 185])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            else:
                ip = "2a0%x:%x::%x" % (rng.randrange(10), rng.randrange(0x10000), rng.randrange(1, 0xffff))
            local = rng.choice(locals_) if rng.random() < 0.8 else "u%05d" % rng.randrange(100000)
            sender = f"{local}@{d}"
            helo = rng.choice([f"mail.{d}", f"mx{rng.randrange(1, 4)}.{d}", f"smtp-out.{d}",
                               f"host-{ip.replace('.', '-').replace(':', '-')}.isp.example"])
            f.write(f"{ip}\t{sender}\t{helo}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--domains", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7208)
    a = ap.parse_args()
    w = World(random.Random(a.seed))
    senders, _ = build(w, a.domains)
    write(w, a.outdir, senders, a.lines)


if __name__ == "__main__":
    main()
