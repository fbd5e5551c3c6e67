#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_corpus.py - writes the seed corpora of tests/fuzz/corpus/<target>/.

Seeds come from the openspf RFC 7208 suite (records, macro-strings,
zonedata and test cases) and from the hostile inputs of tests/unit/
(copied here by hand, so the script does not parse C). Each file is named
<kind>-<sha1 prefix>; the directories are emptied and written again, so
run it after changing an input layout in a fuzz_*.c file. Needs python3
and python3-yaml; called by make-corpus.sh.
"""
import hashlib
import ipaddress
import os
import struct
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.environ.get(
    "SPFKIT_SUITE",
    os.path.join(HERE, "..", "rfc7208", "suite", "rfc7208-tests.yml"))
OUT = os.path.join(HERE, "corpus")
PER_TARGET = 48  # at most this many seeds per target


def b(s):
    return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s


class Corpus:
    def __init__(self, target):
        self.target = target
        self.files = {}

    def add(self, kind, data):
        data = b(data)
        h = hashlib.sha1(data).hexdigest()[:12]
        if data not in self.files.values() and len(self.files) < PER_TARGET:
            self.files["%s-%s" % (kind, h)] = data

    def write(self):
        d = os.path.join(OUT, self.target)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        for name, data in sorted(self.files.items()):
            with open(os.path.join(d, name), "wb") as fp:
                fp.write(data)
        return len(self.files), sum(len(v) for v in self.files.values())


def spread(items, n):
    """n items spread evenly over the list (all if there are fewer)."""
    items = list(items)
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


# ------------------------------------------------------------------ suite

docs = [d for d in yaml.safe_load_all(open(SUITE, encoding="utf-8")) if d]


def texts_of(value):
    """The character-strings of a TXT/SPF value: one string or a list."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


suite_records = []
for d in docs:
    for name, recs in (d.get("zonedata") or {}).items():
        for r in recs or []:
            if isinstance(r, dict):
                for t, v in r.items():
                    if t in ("TXT", "SPF") and v != "NONE":
                        s = "".join(texts_of(v))
                        if s not in suite_records:
                            suite_records.append(s)

# ------------------------------------------------------------------ record

HOSTILE_RECORDS = [
    b"v=spf1", b"V=SPF1 -ALL", b"v=spf1   a   mx  -all  ",
    b"v=spf1 a/24//64", b"v=spf1 mx:foo:bar/baz.example.com",
    b"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}",
    b"v=spf1 ra=postmaster rp=10 rr=e:f:s:n -all",
    b"v=spf1 moo.cow-far_out=man:dog/cat -all",
    b"v=spf1 ip4:192.0.2.1/024", b"v=spf1 ip6:2001:db8::/129",
    b"v=spf1 a:example.-com", b"v=spf1 redirect=a.example redirect=b.example",
    b"v=spf1 foo=%{x}", b"v=spf1 a:%{c}.example.com", b"v=spf1 a\tmx",
    b"v=spf1 a:b\xc3\xa9.example", b"v=spf1 -all\x00 +all",
    b"v=spf1 ip4:192.0.2.1-all", b"v=spf1 exists:%{d2147483648}.x.example",
    b"v=spf1 ip6:::ffff:1.2.3.4/128 ip6:1:2:3:4:5:6:7:8 ip6:::",
    b"v=spf1 a:%{l1r-}.%{d}.%{i}%%%_%-.example.com/32//128 -all",
    b"include:x.example -all exp=%{p}.%{v}.example",
]
rec = Corpus("fuzz_record")
for r in HOSTILE_RECORDS:
    rec.add("hostile", r)
    if r.lower().startswith(b"v=spf1 "):
        rec.add("terms", r[7:])  # the target also prefixes "v=spf1 "
for r in spread(suite_records, PER_TARGET - len(rec.files)):
    rec.add("suite", r)

# ------------------------------------------------------------------ macro

MACRO_IPS = {"192.0.2.3": 0, "2001:db8::cb01": 3}
CAP_MAX, CAP_4096, CAP_253 = 14, 12, 7


def macro_input(s, ip=0, cap=CAP_MAX, flags=0, time=2, local="strong-bad",
                sdomain="email.example.com", domain="email.example.com",
                helo="mx.example.org", ptr="mx.example.org",
                receiver="receiver.example.net", reps=None):
    reps = reps or {}
    out = bytes([ip, cap, flags, time])
    for key, v in (("local", local), ("sdomain", sdomain),
                   ("domain", domain), ("helo", helo), ("ptr", ptr),
                   ("receiver", receiver)):
        v = b(v)[:255]
        out += bytes([len(v), reps.get(key, 0)]) + v
    return out + b(s)


MACROS = [
    "%{s}", "%{o}", "%{d}", "%{d4}", "%{d2}", "%{d1}", "%{dr}", "%{d2r}",
    "%{l}", "%{l-}", "%{lr-}", "%{l1r-}", "%{ir}.%{v}._spf.%{d2}",
    "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "%{d2}.trusted-domains.example.net",
    "%{i}", "%{i8}", "%{p}", "%{p2}", "%{h}.x", "%{c}", "%{r}", "%{t}",
    "%{D}", "%{S}", "%{L1/}", "%{d2r-.+,/_=}", "%{d01}", "%{d2147483648}",
    "%{d99999999999999999999999999999999}", "%{d2147483648r}",
    "a%%b%_c%-d", "%%{d}", "%{i} is not one of %{d}'s designated mail "
    "servers.", "%{d}%", "%{dr2}", "%{d-r}", "%{ d}", "%20", "a\tb",
    "caf\xc3\xa9",
]
mac = Corpus("fuzz_macro")
for i, m in enumerate(MACROS):
    mac.add("rfc", macro_input(m, ip=3 if i % 5 == 0 else 0,
                               cap=[CAP_MAX, CAP_4096, CAP_253][i % 3],
                               flags=i % 16))
# §7.3 truncation and the CVE shapes: long, repeated and 8-bit values.
mac.add("trunc", macro_input("%{d}", domain="abcdefghi.", reps={"domain": 29}))
mac.add("trunc", macro_input("%{d}.", domain="a.", reps={"domain": 255}))
mac.add("trunc", macro_input("x.%{d}", domain="a", reps={"domain": 255}))
mac.add("trunc", macro_input("%{dr}", domain="a" * 63 + ".",
                             reps={"domain": 40}))
mac.add("cve", macro_input("%{L}", local=bytes(range(1, 256)),
                           reps={"local": 15}))
mac.add("cve", macro_input("%{Lr}" * 50, local=b"\xff.\xfe", cap=CAP_4096))
mac.add("cve", macro_input("%{l2147483648r}", local=b".\x80" * 100,
                           reps={"local": 20}))
mac.add("cve", macro_input("%{L}.example.com", local=bytes(range(1, 256)),
                           reps={"local": 255}))
for r in suite_records:
    if "%" in r and len(mac.files) < PER_TARGET:
        for term in r.split(" "):
            if "%" in term:
                spec = term.split(":", 1)[-1].split("=", 1)[-1]
                mac.add("suite", macro_input(spec))

# ------------------------------------------------------------------ rdata


def wire(name):
    out = b""
    for label in b(name).split(b"."):
        if label:
            out += bytes([len(label)]) + label
    return out + b"\x00"


rd = Corpus("fuzz_rdata")
for data in [
        wire("example.com"), b"\x00", b"\xc0\x0c", b"\x40" + b"a" * 64 + b"\x00",
        b"\x3f" + b"a" * 63 + b"\x00", b"\x05short", b"\x07example",
        wire(".".join(["a" * 63] * 3 + ["a" * 61])),  # 255 octets: fits
        b"\x06v=spf1", b"\x05hello\x03two\x02st", b"\x0aoverrun",
        b"\x0bv=spf1 -all\x0a include:x", b"\xc0\x00\x02\x01",
        b"\xc0\x00\x02\x02", bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]),
        b"\x00\x0a" + wire("mail.example.com"), b"\x00\x00\x00",
        b"\xff\xff" + wire("a.example.com") + b"junk",
        wire("mail.example.com"), wire("a.b.c.d.example.com"),
        wire("www.example.org"), b"\x01\x00\x07example\x03com\x00",
        b"\x03a.b\x07example\x03com\x00", b"", b"\x00" * 16,
        b"\xff" + b"x" * 255, b"\x00\x0a\x04mail\x07example\x03com",
]:
    rd.add("wire", data)

# ------------------------------------------------------------------ zones

EVAL_YAML = """\
example.com:
  - TXT: "v=spf1 ip4:192.0.2.0/24 -all"
  - A: 192.0.2.10
tree.example:
  - TXT: "v=spf1 include:i1.tree.example include:i2.tree.example -all"
i1.tree.example:
  - TXT: "v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example ?all"
i2.tree.example:
  - TXT: "v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example ?all"
h.tree.example:
  - A: 198.51.100.1
nul.example:
  - TXT: "v=spf1 -all\\0 +all"
joined.example:
  - TXT: ["v=spf1 ip4:192.0.2.1", "-all"]
empties.example:
  - TXT: ["v=spf1 ", "", "-all"]
ctl.example:
  - TXT: "v=spf1 a:\\x01.example -all"
void.example:
  - TXT: "v=spf1 a:n1.void.example a:n2.void.example a:n3.void.example -all"
bigd.example:
  - TXT: "v=spf1 exists:%{d2147483648}.x.bigd.example -all"
mx.example:
  - TXT: "v=spf1 mx -all"
  - MX: [0, m1.mx.example]
  - MX: [1, m2.mx.example]
  - MX: [10, m11.mx.example]
slow.example:
  - TXT: "v=spf1 a:dead.example -all"
dead.example:
  - TIMEOUT
dr.example:
  - TXT: "v=spf1 -all exp=e.dr.example"
e.dr.example:
  - TXT: "%{DR} %{L} %{o}"
"""

HOSTILE_YAML = [
    EVAL_YAML,
    "description: first\ntests:\n  one:\n    host: 192.0.2.1\nzonedata:\n"
    "  example.com:\n    - SPF: v=spf1 -all\n    - A: 192.0.2.1\n"
    "    - AAAA: \"2001:db8::1\"\n    - MX: [10, mail.Example.com.]\n"
    "    - MX: [0, \"\"]\n  Multi.Example.com.:\n"
    "    - TXT: [\"v=spf1 \", \"ip4:192.0.2.0/24\", \" -all\"]\n"
    "  esc.example.com:\n    - TXT: \"a\\x0ab\\x00c\"\n"
    "  timeout.example.com:\n    - TIMEOUT\n"
    "  4.3.2.1.in-addr.arpa:\n    - PTR: host.example.com\n"
    "  alias.example.com:\n    - CNAME: \"EXAMPLE.com.\"\n"
    "  null.example.com:\n    - SPF: [ ]\n  nothing.example.com:\n"
    "  spftimeout.example.com:\n    - TXT: v=spf1 -all\n    - TIMEOUT\n"
    "    - A: 192.0.2.9\n  txttimeout.example.com:\n    - SPF: v=spf1 -all\n"
    "    - TXT: NONE\n    - TIMEOUT\n---\ndescription: no zone data\n"
    "tests: {}\n---\nzonedata:\n  second.example.com:\n    - TXT: v=spf1 ?all\n",
    "zonedata:\n  partial.example:\n    - A: 192.0.2.1\n  broken.example:\n"
    "    - TXT: \"unterminated\n",
    "partial.example:\n  - A: 192.0.2.1\n bad: [\n",
    "partial.example:\n  - MX: [70000, mail.example]\n  - PTR: a..b\n",
    "partial.example:\n  A: 192.0.2.1\n",
    "partial.example:\n  - A: 192.0.2.1\n  - SLOW\n  - NS: ns.example\n",
    "partial.example:\n  - TXT: \"\xff\"\n",
    "just a string\n",
    "partial.example:\n  - A: \"1.2.3.4\\nx\"\n",
    "a: &x\n  - TXT: v=spf1 -all\nb: *x\nc: [*x, *x]\n",
    "? [complex, key]\n: - A: 192.0.2.1\n\"\\0nul.example\":\n  - A: 192.0.2.1\n",
    "cname1.example:\n  - CNAME: cname2.example\ncname2.example:\n"
    "  - CNAME: cname1.example\nchain.example:\n  - CNAME: cname1.example\n",
    "%YAML 1.1\n---\n!!map {example.com: [{TXT: !!str v=spf1 +all}]}\n...\n",
]

MASTER_FILES = [
    "$ORIGIN example.org.\n$TTL 300\n; a comment\n\n"
    "@        IN TXT \"v=spf1 include:_spf.example.org -all\" \"second\"\n"
    "_spf     60 IN TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"\n"
    "www      A 192.0.2.10\n         AAAA 2001:db8::10\n"
    "@        MX 10 Mail.Example.ORG.\nmail     A 192.0.2.25\n"
    "alias    CNAME www\nold      SPF \"v=spf1 -all\"\n"
    "multi    TXT ( \"a\"\n                \"b\" )\n"
    "10.2.0.192.in-addr.arpa. PTR www.example.org.\n"
    "x        TYPE65000 \\# 2 abcd\n"
    "deep.ent 120 TXT \"x\" ; trailing comment\n"
    "$ORIGIN other.example.\n@        SOA ns hostmaster 1 2 3 4 5\n"
    "rel      A 192.0.2.99\n",
    "partial.example. A 192.0.2.1\nbroken.example. A 192.0.2\n",
    "partial.example. A 192.0.2.1\n  ; indented comment\n"
    "x.example. BOGUSTYPE foo\n",
    "partial.example. A 192.0.2.1\n$INCLUDE other.db\n",
    "example.com. TXT \"v=spf1 \\\"quoted\\\" \\059 \\255\\000\"\n"
    "example.com. TXT \"\" \"\" \"\"\n",
    "a.example. CNAME b.example.\nb.example. CNAME a.example.\n"
    "c.example. CNAME a.example.\n",
    "$TTL 1h\n$ORIGIN .\nexample. 1d IN TXT v=spf1 -all\n"
    "*.example. TXT \"v=spf1 +all\"\n",
]


def master_name(n):
    out = ""
    for ch in b(n):
        c = chr(ch)
        if c.isalnum() or c in "-_.*":
            out += c
        else:
            out += "\\%03d" % ch
    return out.rstrip(".") + "."


def master_text(s):
    data = b(s)
    parts = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    out = []
    for p in parts:
        q = ""
        for ch in p:
            c = chr(ch)
            if c in "\"\\":
                q += "\\" + c
            elif 0x20 <= ch < 0x7f:
                q += c
            else:
                q += "\\%03d" % ch
        out.append('"%s"' % q)
    return " ".join(out)


def to_master(zd):
    lines = []
    for name, recs in zd.items():
        for r in recs or []:
            if not isinstance(r, dict):
                continue  # TIMEOUT has no master file form
            for t, v in r.items():
                if v == "NONE":
                    continue
                if t in ("TXT", "SPF"):
                    vals = " ".join(master_text(x) for x in texts_of(v))
                    lines.append("%s 3600 IN %s %s" % (master_name(name), t,
                                                      vals))
                elif t == "MX":
                    lines.append("%s IN MX %d %s" % (master_name(name), v[0],
                                                      master_name(v[1])))
                elif t in ("PTR", "CNAME"):
                    lines.append("%s IN %s %s" % (master_name(name), t,
                                                   master_name(v)))
                elif t in ("A", "AAAA"):
                    lines.append("%s IN %s %s" % (master_name(name), t, v))
    return "\n".join(lines) + "\n"


zy = Corpus("fuzz_zone_yaml")
zm = Corpus("fuzz_zone_master")
for y in HOSTILE_YAML:
    zy.add("hostile", y)
for m in MASTER_FILES:
    zm.add("hostile", m)
zm.add("eval", to_master(yaml.safe_load(EVAL_YAML)))
for d in docs:
    zd = d.get("zonedata") or {}
    dump = yaml.safe_dump({"zonedata": zd}, allow_unicode=True)
    zy.add("suite", dump)
    zy.add("bare", yaml.safe_dump(zd, allow_unicode=True, default_style='"'))
    zm.add("suite", to_master(zd))

# ------------------------------------------------------------------ check

NAME_LITERAL = 14
OP = dict(TXT=0, SPF=1, A=2, AAAA=3, MX=4, PTR=5, CNAME=6, TIMEOUT=7, RAW=8,
          SELF=9, RUN=10, TYPE99=11)
RAW_TYPE = dict(A=0, AAAA=1, MX=2, PTR=3, TXT=4, CNAME=5, SPF=6)
F_OVERRIDE, F_LIMITS, F_FAIL_ALLOC = 2, 16, 32
F2_NO_PREFETCH = 2
SECURE = 2  # spfkit_dnssec


def str8(s):
    s = b(s)[:255]
    return bytes([len(s)]) + s


def str16(s):
    s = b(s)[:65535]
    return struct.pack(">H", len(s)) + s


def lit_name(n):
    return bytes([NAME_LITERAL]) + str8(n)


def txt_rdata(strings):
    out = b""
    for s in strings:
        s = b(s)
        while True:
            out += bytes([min(len(s), 255)]) + s[:255]
            s = s[255:]
            if not s:
                break
    return out


def zone_ops(zd):
    out = b""
    for name, recs in (zd or {}).items():
        for r in recs or []:
            if r == "TIMEOUT":
                out += bytes([OP["TIMEOUT"]]) + lit_name(name)
                continue
            if not isinstance(r, dict):
                continue
            for t, v in r.items():
                if v == "NONE":
                    continue
                if t in ("TXT", "SPF"):
                    strs = texts_of(v)
                    if len(strs) == 1 and len(b(strs[0])) <= 65535:
                        out += bytes([OP["TXT" if t == "TXT" else "TYPE99"]])
                        out += lit_name(name) + bytes([254]) + str16(strs[0])
                    else:
                        out += bytes([OP["RAW"]]) + lit_name(name)
                        out += bytes([RAW_TYPE[t]]) + str16(txt_rdata(strs))
                elif t in ("A", "AAAA"):
                    try:
                        a = ipaddress.ip_address(str(v)).packed
                    except ValueError:
                        continue
                    out += bytes([OP[t]]) + lit_name(name) + a
                elif t == "MX":
                    out += bytes([OP["MX"]]) + lit_name(name)
                    out += struct.pack(">H", int(v[0]) & 0xffff)
                    out += lit_name(str(v[1]))
                elif t in ("PTR", "CNAME"):
                    out += bytes([OP[t]]) + lit_name(name) + lit_name(str(v))
    return out


def check_input(ip, sender, helo, zd, flags=0, extra=b"", driver=b"",
                flags2=0):
    out = bytes([15]) + str8(ip) + bytes([flags, flags2])
    out += bytes([14]) + str16(sender) + bytes([14]) + str16(helo)
    out += extra + zone_ops(zd) + bytes([OP["RUN"]]) + driver
    return out


chk = Corpus("fuzz_check")
per_doc = max(1, (PER_TARGET - 8) // len(docs))
for n, d in enumerate(docs):
    tests = list((d.get("tests") or {}).items())
    for k, (tname, t) in enumerate(spread(tests, per_doc)):
        chk.add("suite", check_input(str(t.get("host", "1.2.3.4")),
                                     str(t.get("mailfrom", "")),
                                     str(t.get("helo", "")),
                                     d.get("zonedata"),
                                     flags2=F2_NO_PREFETCH * ((n + k) % 2)))
ez = yaml.safe_load(EVAL_YAML)
chk.add("eval", check_input("192.0.2.7", "a@tree.example", "h.example", ez))
chk.add("eval", check_input("192.0.2.7", "a@mx.example", "h.example", ez))
chk.add("eval", check_input("198.51.100.7", "x@dr.example", "h.example", ez))
chk.add("eval", check_input("192.0.2.7", "a@void.example", "h.example", ez))
# Driver octets: answer one query at a time, answer directly, the clock.
chk.add("driver", check_input("192.0.2.7", "a@slow.example", "h.example", ez,
                              driver=bytes([5, 0, 5, 1, 6, 2, 0])))
chk.add("driver", check_input("192.0.2.7", "a@mx.example", "h.example", ez,
                              driver=bytes([4, 0, 0, 2, 2]) + str16(
                                  b"\x00\x05" + wire("m1.mx.example")) +
                              bytes([2]) + str16(b"\x00\x00\x00") +
                              bytes([SECURE])))
# Settings: a record override with limits, allocation failures.
chk.add("settings", check_input(
    "2001:db8::1", "<>", "mx.example", ez, flags=F_OVERRIDE | F_LIMITS,
    extra=str16("v=spf1 mx a:h.tree.example include:tree.example ?all") +
    bytes([3, 1, 2, 2, 1])))
chk.add("oom", check_input("198.51.100.7", "x@dr.example", "h.example", ez,
                           flags=F_FAIL_ALLOC,
                           extra=struct.pack(">H", 40) + b"\x00"))
chk.add("oom", check_input("192.0.2.7", "a@tree.example", "h.example", ez,
                           flags=F_FAIL_ALLOC,
                           extra=struct.pack(">H", 25) + b"\x01"))

total = 0
for c in (rec, mac, chk, rd, zy, zm):
    n, size = c.write()
    total += size
    print("%-18s %3d files %7d octets" % (c.target, n, size))
print("%-18s     %13d octets" % ("total", total))
if total > 500 * 1024:
    sys.exit("corpus over 500 KB")
