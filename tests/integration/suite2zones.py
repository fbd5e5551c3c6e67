#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""suite2zones.py SUITE.yml OUTDIR [--runner RFC7208_RUNNER]

Turns every document of the openspf RFC 7208 suite into an NSD root zone
("." holding every name of its zonedata, so no delegation is needed) read
the way lib/dns/zone.c reads the YAML (the suite's own driver rules):

  - every listed name exists (NODATA, never NXDOMAIN): a name left without
    records gets a placeholder of private type 65280;
  - SPF records are also served as TXT when the name has no TXT of its own
    and no "TXT: NONE";
  - "TYPE: NONE" adds nothing; TIMEOUT ends the list (what follows is
    ignored); an authoritative server cannot time out, so cases touching
    TIMEOUT names are not run against NSD (see below);
  - an "SPF: [a, b]" or "TXT: [a, b]" list is several character-strings of
    one RR; a string over 255 octets is split into 255-octet pieces;
  - MX [pref, ""] is MX pref "." (the root);
  - "SPF: [ ]" (an RR without character-strings, which NSD refuses) is
    served as one empty string: neither is a v=spf1 record.

Names and texts are the UTF-8 bytes libyaml hands the C loader, written
with \\DDD escapes for anything but letters, digits, '-' and '_'.

Writes OUTDIR/NN/root.zone, OUTDIR/NN/cases (the case names of document NN
to run against NSD, one per line), OUTDIR/NN/timeout-cases (the others) and
OUTDIR/NN/description. A case is a timeout case when the in-memory runner
(--runner, the hermetic rfc7208_runner) traces a TEMPFAIL answer for it,
which the zone driver gives only for TIMEOUT names (and CNAME loops);
without --runner, cases of documents with TIMEOUT names whose listed
results include temperror are taken, which misses exp-dns-error.
"""
import os
import subprocess
import sys

import yaml

TTL = 3600
PLACEHOLDER = "TYPE65280 \\# 0"
SOA = (". 3600 IN SOA ns.spfkit-test.invalid. hostmaster.spfkit-test.invalid. "
       "1 3600 600 86400 60")
NS = ". 3600 IN NS ns.spfkit-test.invalid."


def esc_label(b):
    out = []
    for c in b:
        if (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c in b"-_":
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return "".join(out)


def zname(name):
    """A YAML name as an absolute master-file name, or None if unusable."""
    if isinstance(name, bytes):
        b = name
    else:
        b = str(name).encode("utf-8")
    if b.endswith(b"."):
        b = b[:-1]
    if not b:
        return "."
    labels = b.split(b".")
    if any(len(l) == 0 or len(l) > 63 for l in labels):
        return None
    if len(b) + 2 > 255:
        return None
    return ".".join(esc_label(l) for l in labels) + "."


def charstrings(texts):
    """Character-strings of one TXT RR, as master-file quoted strings."""
    parts = []
    for t in texts:
        b = str(t).encode("utf-8")
        pieces = [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
        for p in pieces:
            s = []
            for c in p:
                if 0x20 <= c <= 0x7e and c not in b'"\\;':
                    s.append(chr(c))
                else:
                    s.append("\\%03d" % c)
            parts.append('"' + "".join(s) + '"')
    return " ".join(parts)


def convert(doc):
    """Returns (zone text, warnings, timeout names)."""
    lines = [SOA, NS]
    warnings = []
    timeouts = []
    for name, recs in (doc.get("zonedata") or {}).items():
        owner = zname(name)
        if owner is None:
            warnings.append("unusable name %r" % (name,))
            continue
        recs = recs or []
        rrs = []
        txt_none = False
        has_txt = False
        spf = []
        for r in recs:
            if r == "TIMEOUT":
                timeouts.append(name)
                break
            if not isinstance(r, dict) or len(r) != 1:
                warnings.append("odd record %r for %r" % (r, name))
                continue
            (t, v), = r.items()
            t = t.upper()
            if v == "NONE":
                if t == "TXT":
                    txt_none = True
                continue
            if t in ("A", "AAAA"):
                rrs.append("%s %d IN %s %s" % (owner, TTL, t, v))
            elif t == "MX":
                pref, host = v
                h = zname(host) if host != "" else "."
                rrs.append("%s %d IN MX %d %s" % (owner, TTL, int(pref), h))
            elif t in ("PTR", "CNAME"):
                rrs.append("%s %d IN %s %s" % (owner, TTL, t, zname(v)))
            elif t in ("TXT", "SPF"):
                texts = v if isinstance(v, list) else [v]
                # "SPF: [ ]" is an RR without character-strings, which
                # NSD refuses ("bad unknown RDATA"): one empty string
                # instead, equally not a v=spf1 record.
                cs = charstrings(texts) or '""'
                rrs.append("%s %d IN %s %s" % (owner, TTL, t, cs))
                if t == "TXT":
                    has_txt = True
                else:
                    spf.append(cs)
            else:
                warnings.append("unknown type %s for %r" % (t, name))
        if spf and not has_txt and not txt_none:
            for cs in spf:
                rrs.append("%s %d IN TXT %s" % (owner, TTL, cs))
        if not rrs:
            rrs.append("%s %d IN %s" % (owner, TTL, PLACEHOLDER))
        lines.extend(rrs)
    # The same name may be listed twice with different case: NSD merges.
    return "\n".join(lines) + "\n", warnings, timeouts


def traced_tempfail(runner, suite, case):
    p = subprocess.run([runner, suite, case], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    return b"-> TEMPFAIL" in p.stdout


def main(argv):
    args = [a for a in argv[1:]]
    runner = None
    if "--runner" in args:
        i = args.index("--runner")
        runner = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    suite, outdir = args
    with open(suite, "rb") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    total = ntimeout = 0
    for i, doc in enumerate(docs):
        d = os.path.join(outdir, "%02d" % i)
        os.makedirs(d, exist_ok=True)
        zone, warnings, timeouts = convert(doc)
        for w in warnings:
            sys.stderr.write("suite2zones: document %d: %s\n" % (i, w))
        with open(os.path.join(d, "root.zone"), "w", encoding="ascii") as f:
            f.write(zone)
        with open(os.path.join(d, "description"), "w") as f:
            f.write(" ".join(str(doc.get("description", "")).split()) + "\n")
        run, slow = [], []
        for case, tc in (doc.get("tests") or {}).items():
            want = tc.get("result")
            want = want if isinstance(want, list) else [want]
            if runner:
                t = traced_tempfail(runner, suite, case)
            else:
                t = bool(timeouts) and "temperror" in want
            (slow if t else run).append(case)
        with open(os.path.join(d, "cases"), "w") as f:
            f.write("".join(c + "\n" for c in run))
        with open(os.path.join(d, "timeout-cases"), "w") as f:
            f.write("".join(c + "\n" for c in slow))
        total += len(run) + len(slow)
        ntimeout += len(slow)
    print("%d documents, %d cases, %d timeout cases" % (len(docs), total,
                                                       ntimeout))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
