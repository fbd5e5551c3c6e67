# SPDX-License-Identifier: BSD-2-Clause
"""soakzone.py - the DNS world of the soak test, shared by randomdns.py
(which serves it) and soak.py (which predicts every check's result from
it). Nothing here does I/O.

Names: every sender domain is rN.clean.example or rN.faulty.example (N a
request counter, so each request asks names nobody asked before and no
cache can hide a fault); its zone is made up on demand from (seed, name):
one of six record shapes (ip4 lists, an include chain two deep, a and mx,
exists with a macro, redirect, a mix with a shared provider) with
addresses derived from the name. provider.clean.example is one shared
include (cached after its first use, as a big provider is).

Faults: a query for a name under faulty.example gets, with probability
p_fault, one of KINDS, chosen from a hash of (seed, qname, qtype). The
choice does not depend on how often the name was asked: libunbound retries
a failed query and a retry that got the right answer would mask the fault;
this way a faulted (name, type) never had a correct answer to cache. Names
under clean.example are always answered correctly.
"""
import hashlib
import ipaddress

# Fault kind -> (faultdns.py behaviour, what the check sees). "TEMP": a
# temporary DNS failure (the check must end in temperror when it needs the
# answer); "DATA": the right answer, late or over TCP; "NODATA": no record
# of the type asked (a void lookup).
KINDS = {
    "servfail": ("servfail", "TEMP"),
    "refused": ("refused", "TEMP"),
    "silent": ("silent", "TEMP"),
    "delay": (None, "TEMP"),        # delay:DELAY_MS, past the deadline
    "trunc-tcp": ("trunc-tcp", "TEMP"),
    "tcp-close": ("tcp-close", "TEMP"),
    "garbage": ("garbage", "TEMP"),
    "short": ("short", "TEMP"),
    "wrongid": ("wrongid", "TEMP"),
    "trunc": ("trunc", "DATA"),     # TC over UDP, the answer over TCP
    "slow": (None, "DATA"),         # delay:SLOW_MS, within query_timeout
    "wrongtype": ("wrongtype", "NODATA"),
}
KIND_NAMES = sorted(KINDS)

CLEAN = ".clean.example"
FAULTY = ".faulty.example"
PROVIDER = "provider.clean.example"


def hnum(*parts):
    """A 64-bit number from the parts (stable across runs and processes)."""
    d = hashlib.blake2b("|".join(str(p) for p in parts).encode(),
                        digest_size=8).digest()
    return int.from_bytes(d, "big")


def frac(*parts):
    return hnum(*parts) / 2.0 ** 64


class World:
    def __init__(self, seed, p_fault, delay_ms=3000, slow_ms=400, kinds=None):
        self.seed = seed
        self.p_fault = p_fault
        self.kinds = sorted(kinds) if kinds else KIND_NAMES
        self.delay_ms = delay_ms
        self.slow_ms = slow_ms

    # ------------------------------------------------------------ zone

    def addr(self, d, k):
        """Address k of domain d: 10.x.y.z (never a skipped address)."""
        v = hnum(self.seed, "addr", d, k)
        return "10.%d.%d.%d" % ((v >> 16) & 255, (v >> 8) & 255,
                                1 + (v & 127))

    def net(self, d, k):
        v = hnum(self.seed, "net", d, k)
        return "10.%d.%d.0/24" % ((v >> 8) & 255, v & 255)

    def shape(self, d):
        return hnum(self.seed, "shape", d) % 6

    def all_term(self, d):
        """-all, ~all or ?all; never -all for a faulty domain, so that no
        answer can make its MAIL FROM check fail (and be rejected)."""
        opts = ["-all", "~all", "?all"] if d.endswith(CLEAN) else \
            ["~all", "?all"]
        return opts[hnum(self.seed, "all", d) % len(opts)]

    @staticmethod
    def base(name):
        """(the sender domain rN.X.example a name belongs to, or None)."""
        name = name.rstrip(".").lower()
        for suf in (CLEAN, FAULTY):
            if name.endswith(suf):
                labels = name[:-len(suf)].split(".")
                if labels and labels[-1].startswith("r") and \
                        labels[-1][1:].isdigit():
                    return labels[-1] + suf
        return None

    def zone(self, d):
        """{name: [(type, value)]} for sender domain d (faultdns shapes:
        TXT values are lists of strings, MX values (pref, host))."""
        s = self.shape(d)
        al = self.all_term(d)
        a = [self.addr(d, k) for k in range(7)]
        n1 = self.net(d, 1)
        z = {}

        def add(name, t, v):
            z.setdefault(name, []).append((t, v))
        if s == 0:
            add(d, "TXT", ["v=spf1 ip4:%s ip4:%s ip6:2001:db8:%x::/48 %s"
                           % (n1, a[2], hnum(d) & 0xffff, al)])
        elif s == 1:
            add(d, "TXT", ["v=spf1 include:_spf.%s %s" % (d, al)])
            add("_spf." + d, "TXT", ["v=spf1 ip4:%s include:_net.%s -all"
                                     % (n1, d)])
            add("_net." + d, "TXT", ["v=spf1 ip4:%s ip4:%s -all"
                                     % (a[2], a[3])])
        elif s == 2:
            add(d, "TXT", ["v=spf1 a mx %s" % al])
            add(d, "A", a[3])
            add(d, "MX", (10, "mx1." + d))
            add(d, "MX", (20, "mx2." + d))
            add("mx1." + d, "A", a[4])
            add("mx2." + d, "A", a[5])
        elif s == 3:
            add(d, "TXT", ["v=spf1 exists:%%{i}._e.%s %s" % (d, al)])
            add("%s._e.%s" % (a[6], d), "A", "127.0.0.2")
        elif s == 4:
            add(d, "TXT", ["v=spf1 ip4:%s redirect=_spf.%s" % (a[2], d)])
            add("_spf." + d, "TXT", ["v=spf1 ip4:%s include:_net.%s %s"
                                     % (n1, d, al)])
            add("_net." + d, "TXT", ["v=spf1 ip4:%s -all" % a[3]])
        else:
            add(d, "TXT", ["v=spf1 ip4:%s a:mail.%s mx include:%s "
                           "include:_spf.%s %s" % (a[1], d, PROVIDER, d, al)])
            add("mail." + d, "A", a[3])
            add(d, "MX", (10, "mx1." + d))
            add("mx1." + d, "A", a[4])
            add("_spf." + d, "TXT", ["v=spf1 include:_net.%s -all" % d])
            add("_net." + d, "TXT", ["v=spf1 ip4:%s -all" % a[2]])
        # Other TXT records beside SPF, as real domains have them.
        if hnum(self.seed, "verif", d) % 3 == 0:
            add(d, "TXT", ["site-verification=%016x" % hnum(d, "v")])
        # The HELO name: an address, no SPF record.
        add("mx." + d, "A", a[0])
        return z

    def authorized(self, d):
        """Addresses the domain's record lets through (somewhere)."""
        s = self.shape(d)
        a = [self.addr(d, k) for k in range(7)]
        host = str(ipaddress.ip_network(self.net(d, 1))[
            1 + hnum(d, "h") % 250])
        return {0: [host, a[2]], 1: [host, a[2], a[3]], 2: [a[3], a[4], a[5]],
                3: [a[6]], 4: [a[2], host, a[3]],
                5: [a[1], a[3], a[4], a[2], "192.0.2.77",
                    "198.51.100.20"]}[s]

    SHARED = {
        PROVIDER: [("TXT", ["v=spf1 ip4:192.0.2.0/24 include:_net.%s ~all"
                            % PROVIDER])],
        "_net." + PROVIDER: [("TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])],
    }

    def records(self, name):
        """The records of name, or None when it does not exist."""
        name = name.rstrip(".").lower()
        if name in self.SHARED:
            return self.SHARED[name]
        d = self.base(name)
        if d is None:
            return None
        return self.zone(d).get(name)

    def fault(self, name, qtype):
        """The fault kind for a query, or None for a correct answer."""
        name = name.rstrip(".").lower()
        if not name.endswith(FAULTY) or self.base(name) is None:
            return None
        if frac(self.seed, "p", name, qtype) >= self.p_fault:
            return None
        return self.kinds[hnum(self.seed, "k", name, qtype) % len(self.kinds)]

    def behaviour(self, kind):
        if kind == "delay":
            return "delay:%d" % self.delay_ms
        if kind == "slow":
            return "delay:%d" % self.slow_ms
        return KINDS[kind][0]

    # ------------------------------------------------------------ evaluator

    def lookup(self, name, qtype, trace):
        """("TEMP"|"NX"|"DATA", values) as the check sees it."""
        k = self.fault(name, qtype)
        trace.append((name, qtype, k))
        if k is not None:
            seen = KINDS[k][1]
            if seen == "TEMP":
                return "TEMP", []
            if seen == "NODATA":
                return "DATA", []
        recs = self.records(name)
        if recs is None:
            return "NX", []
        return "DATA", [v for t, v in recs if t == qtype]

    def check(self, ip, domain):
        """RFC 7208 check_host() over this world, as lib/eval.c does it
        (left to right, void lookups as §4.6.4, every MX exchange looked
        up before any is compared). Returns (result, trace): trace lists
        the (name, type, fault kind) of every lookup the result needed."""
        trace = []
        st = {"voids": 0}
        r = self._check(ipaddress.ip_address(ip), domain, st, trace, 0)
        return r, trace

    def _void(self, st):
        st["voids"] += 1
        return st["voids"] > 2

    def _check(self, ip, d, st, trace, depth):
        if depth > 10:
            return "permerror"
        status, txts = self.lookup(d, "TXT", trace)
        if status == "TEMP":
            return "temperror"
        recs = ["".join(t) for t in txts]
        spf = [r for r in recs if r.lower() == "v=spf1" or
               r.lower().startswith("v=spf1 ")]
        if not spf:
            return "none"
        if len(spf) > 1:
            return "permerror"
        redirect = None
        qual = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
        for term in spf[0].split()[1:]:
            if term.startswith("redirect="):
                redirect = term[len("redirect="):]
                continue
            q = "+"
            if term[0] in qual:
                q, term = term[0], term[1:]
            mech, _, arg = term.partition(":")
            m = False
            if mech == "all":
                m = True
            elif mech == "ip4":
                m = ip.version == 4 and ip in ipaddress.ip_network(arg, False)
            elif mech == "ip6":
                m = ip.version == 6 and ip in ipaddress.ip_network(arg, False)
            elif mech == "a":
                s, vals = self.lookup(arg or d, "A", trace)
                if s == "TEMP":
                    return "temperror"
                if not vals and self._void(st):
                    return "permerror"
                m = str(ip) in vals
            elif mech == "mx":
                s, mxs = self.lookup(arg or d, "MX", trace)
                if s == "TEMP":
                    return "temperror"
                if not mxs and self._void(st):
                    return "permerror"
                got = [self.lookup(h, "A", trace) for _, h in mxs]
                if any(s == "TEMP" for s, _ in got):
                    return "temperror"
                for s, vals in got:
                    if not vals and self._void(st):
                        return "permerror"
                m = any(str(ip) in vals for _, vals in got)
            elif mech == "exists":
                s, vals = self.lookup(arg.replace("%{i}", str(ip)), "A",
                                      trace)
                if s == "TEMP":
                    return "temperror"
                if not vals and self._void(st):
                    return "permerror"
                m = bool(vals)
            elif mech == "include":
                r = self._check(ip, arg, st, trace, depth + 1)
                if r == "temperror":
                    return "temperror"
                if r in ("permerror", "none"):
                    return "permerror"
                m = r == "pass"
            else:
                return "permerror"
            if m:
                return qual[q]
        if redirect:
            r = self._check(ip, redirect, st, trace, depth + 1)
            return "permerror" if r == "none" else r
        return "neutral"
