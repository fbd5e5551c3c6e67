#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pyspf_run.py [--patch NAME,...] - the differential tests' peer:
Debian's python3-spf over a stream of checks, asking DNS the way it does
by itself.

Reads IP<TAB>SENDER<TAB>HELO lines on stdin and prints, per line,
RESULT<TAB>TEXT (pyspf's explanation or error message, one line), in
order, each check with a fresh query object (no cache between checks).

--patch applies the named readings below to pyspf first. Each is one
documented point (doc/conformance.md, the anchor of the same name) where
spfkit reads RFC 7208 otherwise than pyspf does, written as the smallest
change to pyspf that makes it read it spfkit's way. compare.py reruns
the checks the two disagree on with them: a disagreement that a set of
these readings removes is explained by them; any other is a failure.

DNS: nothing is set here. pyspf uses dnspython when it is installed, else
pydns (python3-dns); both read /etc/resolv.conf, which run.sh has
bind-mounted in a private mount and network namespace to name the test's
own server. The first line on stderr says which library and servers are
in use ("dns=pydns servers=127.0.0.1 port=53"), and the test fails when
they are not the test's.
"""
import argparse
import re
import sys

import spf

PATCHES = {}


def patch(name):
    def reg(fn):
        PATCHES[name] = fn
        return fn
    return reg


@patch("zero-digit")
def _zero_digit(active):
    """RFC 7208 7.1: a DIGIT transformer MUST be nonzero; pyspf takes
    %{d0} as all the parts. A syntax error anywhere is permerror (4.6)."""
    orig = spf.query.expand
    rx = re.compile(r"%\{[A-Za-z]0+(?![0-9])")

    def expand(self, s, stripdot=True):
        if rx.search(s):
            raise spf.PermError("zero DIGIT transformer (RFC 7208 7.1)", s)
        return orig(self, s, stripdot)
    spf.query.expand = expand


@patch("include-self")
def _include_self(active):
    """pyspf refuses include:<its own domain> when it parses a record
    ("trivial recursion"); RFC 7208 4.6.4 stops a loop only when its terms
    are evaluated, so a record that matches before it is fine (spfkit
    ends an include that comes back, when it is reached)."""
    orig = spf.query.validate_mechanism

    def validate(self, mech):
        try:
            return orig(self, mech)
        except spf.PermError as e:
            if e.msg != "include has trivial recursion":
                raise
            q = mech[0] if mech[:1] in ("+", "-", "~", "?") else "+"
            arg = self.expand_domain(mech.split(":", 1)[1])
            return (mech, "include", arg, self.cidrmax, spf.RESULTS[q])
    spf.query.validate_mechanism = validate


@patch("ptr-void")
def _ptr_void(active):
    """The address lookups that validate PTR names (ptr, %{p}) are no void
    lookups, nor is %{p}'s PTR query: the client's reverse zone decides
    them, and it must not be able to make a check permerror (4.6.4)."""
    orig_vp, orig_getp = spf.query.validated_ptrs, spf.query.getp

    def validated_ptrs(self):
        self._ptr_fwd = getattr(self, "_ptr_fwd", 0) + 1
        try:
            return orig_vp(self)
        finally:
            self._ptr_fwd -= 1

    def getp(self):
        self._no_void = getattr(self, "_no_void", 0) + 1
        try:
            return orig_getp(self)
        finally:
            self._no_void -= 1
    spf.query.validated_ptrs, spf.query.getp = validated_ptrs, getp


@patch("trailing-dot")
def _trailing_dot(active):
    """A sender domain written as a fully qualified name with its final
    dot ("a@example.com.") is that domain (RFC 7208 4.3 calls malformed a
    zero-length label "not at the end"); pyspf finds an empty label and
    gives none."""
    orig = spf.query.__init__

    def init(self, *args, **kw):
        orig(self, *args, **kw)
        if self.d.endswith(".") and not self.d.endswith(".."):
            self.d = self.d[:-1]
    spf.query.__init__ = init


@patch("cname-void")
def _cname_void(active):
    """A CNAME that leads to nothing is one lookup (the resolver follows
    it): one void lookup, not one for the alias and one for the target."""


@patch("cname-loop")
def _cname_loop(active):
    """A CNAME loop is a DNS error (RFC 1034 3.6.2; a resolver answers
    SERVFAIL): temperror (RFC 7208 4.4, 5), where pyspf sees no data."""


def install_dns(active):
    """One wrapper of pyspf's dns() for the patches that change it."""
    orig = spf.query.dns

    def dns(self, name, qtype, cnames=None, ignore_void=False):
        if "cname-void" in active and cnames is not None:
            ignore_void = True
        if getattr(self, "_no_void", 0) or (
                getattr(self, "_ptr_fwd", 0) and qtype in ("A", "AAAA")):
            ignore_void = True
        r = orig(self, name, qtype, cnames, ignore_void)
        if "cname-loop" in active and not r and cnames is None and \
                not getattr(self, "_ptr_fwd", 0) and not getattr(self, "_no_void", 0):
            n, seen = str(name).lower().rstrip("."), set()
            while (n, "CNAME") in self.cache:
                if n in seen:
                    raise spf.TempError("CNAME loop at " + n)
                seen.add(n)
                n = str(self.cache[(n, "CNAME")][0]).lower().rstrip(".")
        return r
    spf.query.dns = dns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patch", default="")
    ap.add_argument("--list", action="store_true", help="print the patch names")
    a = ap.parse_args()
    if a.list:
        print("\n".join(PATCHES))
        return
    active = [p for p in a.patch.split(",") if p]
    for p in active:
        PATCHES[p](active)
    if active:
        install_dns(active)

    if spf.DNSLookup.__name__.endswith("dnspython"):
        import dns.resolver
        r = dns.resolver.get_default_resolver()
        print(f"dns=dnspython servers={','.join(r.nameservers)} port={r.port}",
              file=sys.stderr)
    else:
        import DNS
        print(f"dns=pydns servers={','.join(DNS.defaults['server'])} "
              f"port={DNS.defaults['port']}", file=sys.stderr)
    sys.stderr.flush()

    out = sys.stdout
    for line in sys.stdin:
        f = line.rstrip("\n").split("\t")
        ip, sender = f[0], f[1] if len(f) > 1 else ""
        helo = f[2] if len(f) > 2 else ""
        if sender in ("", "<>"):
            # RFC 7208 2.4: the null sender is postmaster@HELO (pyspf's
            # own command line does the same).
            sender = "postmaster@" + helo
        try:
            res, _, text = spf.query(ip, sender, helo, timeout=20).check()
        except Exception as e:  # a crash is reported, not hidden
            res, text = "error", f"{type(e).__name__}: {e}"
        text = " ".join(str(text).split())
        out.write(f"{res}\t{text}\n")
    out.flush()


if __name__ == "__main__":
    main()
