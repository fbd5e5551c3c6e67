#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/report/check.py KIND FILE [ARGS...] - checks one output of
`spfkit tree --format svg|dot` or `spfkit report` (see run.sh). Prints one
line per failed check ("FAIL: ...") and ends with "N passed, N failed"."""
import re
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def nodes(svg):
    """data-domain -> (classes, data-lookups, texts) of each node group."""
    out = {}
    for g in svg.iter(SVG + "g"):
        cls = g.get("class", "").split()
        if "node" not in cls:
            continue
        texts = [t.text or "" for t in g.iter(SVG + "text")]
        out[g.get("data-domain")] = (cls, g.get("data-lookups"), texts)
    return out


def big_tree(svg):
    """The marks and counts of big.report.example's tree."""
    n = nodes(svg)
    want = ["big.report.example", "t1.report.example", "t2.report.example",
            "r.report.example"]
    check(sorted(n) == sorted(want), "nodes %s, want %s" % (sorted(n), want))
    if sorted(n) != sorted(want):
        return
    lookups = {d: n[d][1] for d in want}
    check(lookups == {"big.report.example": "12", "t1.report.example": "6",
                      "t2.report.example": "11", "r.report.example": "12"},
          "running lookup counts %s" % lookups)
    # t2 holds the 11th term; r comes by the 12th; big's redirect is it.
    for d in ("t2.report.example", "r.report.example", "big.report.example"):
        check("over-limit" in n[d][0], d + " not marked past the limit")
    check("over-limit" not in n["t1.report.example"][0],
          "t1 marked past the limit")
    check("finding-error" in n["t2.report.example"][0],
          "t2's too-many-lookups not marked")
    check("finding-warning" in n["t1.report.example"][0],
          "t1's ptr warning not marked")
    check(not any(c.startswith("finding") for c in n["r.report.example"][0]),
          "r marked with a finding")
    t2 = " | ".join(n["t2.report.example"][2])
    check("lookups 7 \u2192 11 (own 4)" in t2, "t2's counts: " + t2)
    check("past the 10-lookup limit" in t2, "t2's mark text: " + t2)
    check("256 IPv4 addr" in t2, "t2's addresses: " + t2)
    # Left to right: a child's box stands right of its parent's.
    xs = {}
    for g in svg.iter(SVG + "g"):
        if g.get("data-domain") in n:
            xs[g.get("data-domain")] = float(g.find(SVG + "rect").get("x"))
    check(xs["t1.report.example"] > xs["big.report.example"] and
          xs["t1.report.example"] == xs["t2.report.example"],
          "layout is not left to right: %s" % xs)


def hostile(raw):
    """Nothing of the hostile record comes out as markup or raw octets."""
    check(all(b < 0x80 for b in raw), "octets outside ASCII in the output")
    text = raw.decode("ascii", "replace")
    check("<script" not in text.lower(), "a <script> element in the output")
    check("<b>" not in text, "a <b> element from the record")
    check("x&lt;script&gt;boom&lt;/script&gt;.report.example" in text,
          "the include's name is not shown escaped")
    check("&quot;q&#39;\\xC3\\xA9&lt;b&gt;" in text,
          "the record's quote and octets are not shown escaped")


def svg_of_html(text):
    m = re.search(r"<svg .*?</svg>", text, re.S)
    check(m is not None, "no inline SVG in the page")
    return ET.fromstring(m.group(0)) if m else None


def self_contained(text):
    """No fetch: no script, link, image, frame, import or url()."""
    low = text.lower()
    for bad in ("<script", "<link", "<img", "<iframe", "<object", "@import",
                "url(", "src=", "href="):
        check(bad not in low, "the page holds " + bad)
    urls = re.findall(r"https?://[^\s\"'<>]+", text)
    check(urls == ["http://www.w3.org/2000/svg"] * len(urls) and urls,
          "URLs other than the SVG namespace: %s" % urls)
    check('<meta name="viewport" content="width=device-width, '
          'initial-scale=1">' in text, "no viewport meta")
    check("@media (max-width:" in text, "no CSS for small screens")


def dmarc_section(text):
    """big.report.example's DMARC policy: sp=reject of the organizational
    domain's record (big exists), its tags, the removed pct= with its fix."""
    m = re.search(r'<section id="dmarc">(.*?)</section>', text, re.S)
    check(m is not None, "no DMARC section")
    if m is None:
        return
    d = m.group(1)
    check('<strong class="disposition">reject</strong> (sp= of the record '
          'at <code>_dmarc.report.example</code>)' in d,
          "the policy that applies, and where it was found")
    check('<pre class="record">v=DMARC1; p=quarantine; sp=reject; pct=50; '
          'rua=mailto:dmarc@report.example</pre>' in d, "the record")
    for tag, value in (("p", "quarantine"), ("sp", "reject"), ("np", "-"),
                       ("organizational domain", "report.example")):
        check("<tr><th>%s</th><td>%s</td></tr>" % (tag, value) in d,
              "the DMARC tag %s" % tag)
    check(re.search(r'<article class="finding warning">\s*<h3>warning: '
                    r'<code>dmarc-removed-tag</code>', d) is not None,
          "the dmarc-removed-tag finding")
    check("publish v=DMARC1; p=quarantine; sp=reject; "
          "rua=mailto:dmarc@report.example" in d, "its fix")


def main():
    kind, path = sys.argv[1], sys.argv[2]
    raw = open(path, "rb").read()
    text = raw.decode("ascii", "replace")
    if kind == "svg-big":
        check(text.startswith("<?xml"), "no XML declaration")
        big_tree(ET.fromstring(raw))
    elif kind == "svg-evil":
        ET.fromstring(raw)
        hostile(raw)
    elif kind == "svg-norec":
        n = nodes(ET.fromstring(raw))
        m = n.get("missing.report.example", ([], None, []))
        check("no-record" in m[0], "missing.report.example not no-record")
        check("no SPF record" in " ".join(m[2]), "no 'no SPF record' text")
        for g in ET.fromstring(raw).iter(SVG + "g"):
            if g.get("data-domain") == "missing.report.example":
                check(g.find(SVG + "rect").get("stroke") == "#b00020",
                      "missing.report.example's border is not red")
    elif kind == "dot-big":
        check("rankdir=LR;" in text, "no rankdir=LR")
        line = {d: l for l in text.splitlines()
                for d in ("t1", "t2", "big", "r")
                if re.match(r'\s*n\d+ \[label="%s\.report' % d, l)}
        check('xlabel="past the 10-lookup limit"' in line.get("t2", ""),
              "t2 not marked past the limit: " + line.get("t2", ""))
        check("color=red" in line.get("t2", ""), "t2's error not marked")
        check("color=orange" in line.get("t1", ""), "t1's warning not marked")
        check("xlabel" not in line.get("t1", "x"), "t1 marked past the limit")
    elif kind == "html-big":
        self_contained(text)
        svg = svg_of_html(text)
        if svg is not None:
            big_tree(svg)
        check("<h2>Findings</h2>" in text, "no findings section")
        for code in ("too-many-lookups", "ptr"):
            check("<code>%s</code>" % code in text, "finding %s missing" % code)
        check(text.count('<p class="fix"><strong>Fix:</strong>') >= 2,
              "fixes missing")
        check("In all: 513 IPv4 addresses, 1 IPv6 prefix." in text,
              "address totals")
        # big's two /25s merged into one block; t2's a answers inside its /24.
        check(re.search(r"<td data-label=\"Record\">big\.report\.example</td>"
                        r"<td data-label=\"Own IPv4 ranges\"><code>"
                        r"192\.0\.2\.0/24</code>", text) is not None,
              "big's own ranges are not 192.0.2.0/24")
        check(re.search(r"include t2\.report\.example</td><td data-label=\""
                        r"Own IPv4 ranges\"><code>198\.51\.100\.0/24</code>"
                        r"</td><td class=\"n\" data-label=\"Own IPv4 "
                        r"addresses\">256<", text) is not None,
              "t2's own ranges")
        check("12 of 10 DNS-querying terms" in text, "summary counts")
        dmarc_section(text)
    elif kind == "html-evil":
        self_contained(text)
        svg_of_html(text)
        hostile(raw)
        check('<pre class="record">v=DMARC1; p=none; rua=mailto:&lt;b&gt;'
              'x&lt;/b&gt;@report.example</pre>' in text,
              "the hostile DMARC record is not text")
        check("<code>bad-octet</code>" in text, "the bad-octet finding")
        check("<mark>a:&quot;q&#39;\\xC3\\xA9&lt;b&gt;.report.example</mark>"
              in text, "the offending term not marked")
    elif kind == "dom-big":
        # Chromium's DOM after parsing: the tree's nodes and the findings.
        for d in ("big", "t1", "t2", "r"):
            check(re.search(r'<g class="node[^"]*" data-domain="%s\.report\.'
                            r'example"' % d, text) is not None,
                  "no SVG node for %s in the DOM" % d)
        check(text.count("<svg") == 1 and "</svg>" in text, "no svg element")
        check('<article class="finding error">' in text and
              "too-many-lookups" in text, "the error finding")
        check('<article class="finding warning">' in text, "the warning")
        # The DMARC section as the browser parsed it.
        dmarc_section(text)
    elif kind == "dom-evil":
        check("<script" not in text.lower(), "a script element in the DOM")
        check("x&lt;script&gt;boom&lt;/script&gt;.report.example" in text,
              "the hostile name is not text in the DOM")
        check("<b>" not in text, "a <b> element in the DOM")
    else:
        check(False, "unknown kind " + kind)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
