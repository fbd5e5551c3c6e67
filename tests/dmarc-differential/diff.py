#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/dmarc-differential/diff.py SPFKIT ODMARC TMP ADDR - spfkit against
OpenDMARC (libopendmarc, RFC 7489) on the same messages and the same DNS.

Runs inside run.sh's mount namespace, where /etc/resolv.conf names ADDR:
an NSD started here on ADDR port 53 serves one root zone with every record
(DMARC records, SPF records and the DKIM key made here). The messages are
tests/message's DMARC fixtures, signed here (tests/message/dkim_sign.py).

For each message, `spfkit message --nameserver ADDR` gives its verdict;
odmarc (odmarc.c) is handed the same identities and results (the From
domain, the MAIL FROM domain and SPF result, each DKIM d= and result) and
looks the policy up itself. Alignment and the policy are compared. For
each domain, `spfkit dmarc --discovery psl` (RFC 7489's way) is compared
with the record OpenDMARC found. Where RFC 9989 changed the rules (t=y, np=,
the tree walk and psd=), the difference is asserted as doc/conformance.md
explains it: a case that stops differing fails too. NSD's statistics must
show OpenDMARC's queries arriving, else the test fails. Ends with "N
passed, N failed".
"""
import json
import os
import re
import socket
import subprocess
import sys

SPFKIT, ODMARC, TMP, ADDR = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
MSG = os.path.join(HERE, "..", "message")
PSL = "/usr/share/publicsuffix/public_suffix_list.dat"
PY = "/usr/bin/python3"
passed = failed = 0


def ok():
    global passed
    passed += 1


def bad(why):
    global failed
    failed += 1
    print("FAIL: " + why)


def zone(key):
    parts = " ".join('"%s"' % key[i:i + 200] for i in range(0, len(key), 200))
    keys = "".join("sel1._domainkey.%s. IN TXT %s\n" % (d, parts) for d in (
        "author.example", "news.author.example", "mail.strict.example",
        "nodmarc.example", "esp.example", "b.example.com"))
    return """$ORIGIN .
$TTL 300
. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
. IN NS ns.test.
ns.test. IN A 127.0.0.1
_dmarc.author.example. IN TXT "v=DMARC1; p=reject"
author.example. IN TXT "v=spf1 ip4:198.51.100.60 -all"
news.author.example. IN TXT "v=spf1 ip4:198.51.100.61 -all"
mail.author.example. IN A 198.51.100.60
mail.author.example. IN TXT "v=spf1 a -all"
www.shop.example. IN A 203.0.113.5
www.shop.example. IN TXT "v=spf1 a -all"
lists.example.net. IN A 192.0.2.50
lists.example.net. IN TXT "v=spf1 a -all"
mx.alumni.example. IN A 192.0.2.10
alumni.example. IN TXT "v=spf1 ip4:192.0.2.10 -all"
_dmarc.strict.example. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s"
strict.example. IN TXT "v=spf1 -all"
mail.strict.example. IN TXT "v=spf1 ip4:198.51.100.70 -all"
_dmarc.testing.example. IN TXT "v=DMARC1; p=reject; t=y"
testing.example. IN TXT "v=spf1 ip4:198.51.100.75 -all"
nodmarc.example. IN TXT "v=spf1 ip4:198.51.100.80 -all"
bounce.esp.example. IN TXT "v=spf1 ip4:192.0.2.128/25 -all"
_dmarc.example.net. IN TXT "v=DMARC1; p=none; np=reject"
example.net. IN TXT "v=spf1 -all"
_dmarc.example.com. IN TXT "v=DMARC1; p=none"
example.com. IN TXT "v=spf1 -all"
_dmarc.dept.example.com. IN TXT "v=DMARC1; p=reject; psd=n"
dept.example.com. IN TXT "v=spf1 -all"
a.dept.example.com. IN TXT "v=spf1 ip4:198.51.100.99 -all"
_dmarc.example.org. IN TXT "v=DMARC1; p=quarantine; sp=reject; adkim=s"
news.example.org. IN TXT "v=spf1 -all"
""" + keys


def start_nsd():
    d = os.path.join(TMP, "nsd")
    os.makedirs(d, exist_ok=True)
    key = subprocess.run([PY, os.path.join(MSG, "dkim_sign.py"), "key",
                          os.path.join(TMP, "k.pem")], check=True,
                         capture_output=True, text=True).stdout.strip()
    with open(os.path.join(d, "root.zone"), "w") as f:
        f.write(zone(key))
    conf = os.path.join(d, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
	ip-address: {ADDR}
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "{d}"
	database: ""
	zonelistfile: "{d}/zone.list"
	xfrdfile: "{d}/xfrd.state"
	xfrdir: "{d}"
	pidfile: "{d}/nsd.pid"
	logfile: "{d}/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: yes
	control-interface: {d}/nsd.ctl
zone:
	name: "."
	zonefile: "{d}/root.zone"
""")
    p = subprocess.Popen(["nsd", "-d", "-c", conf],
                         stdout=open(os.path.join(d, "nsd.out"), "w"),
                         stderr=subprocess.STDOUT)
    # A TXT query for author.example: NSD answers once it has loaded.
    q = bytes.fromhex("12340100000100000000000006617574686f72076578616d706c650000100001")
    for _ in range(300):  # up to 30 s on a loaded machine
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(0.1)
            s.sendto(q, (ADDR, 53))
            s.recv(4096)
            return p, conf
        except OSError:
            if p.poll() is not None:
                break
        finally:
            s.close()
    p.kill()
    print("nsd did not start: " + open(os.path.join(d, "nsd.out")).read())
    print("0 passed, 1 failed")
    sys.exit(1)


def nsd_queries(conf):
    out = subprocess.run(["nsd-control", "-c", conf, "stats_noreset"],
                         capture_output=True, text=True).stdout
    m = re.search(r"^num\.queries=(\d+)", out, re.M)
    return int(m.group(1)) if m else -1


def sign(name, src, dom, *changes):
    out = os.path.join(TMP, name + ".eml")
    subprocess.run([PY, os.path.join(MSG, "dkim_sign.py"), "sign",
                    os.path.join(TMP, "k.pem"), dom, "sel1",
                    os.path.join(MSG, "dmarc", src + ".in"), out] +
                   list(changes), check=True)
    return out


def spfkit_message(path):
    r = subprocess.run([SPFKIT, "message", "--nameserver", ADDR,
                        "--format", "json", path],
                       capture_output=True, text=True)
    return json.loads(r.stdout)["dmarc"] if r.returncode == 0 else None


def odmarc(from_domain, spf=None, dkim=()):
    args = [ODMARC, PSL, from_domain]
    if spf:
        args.append("spf=%s:%s%s" % spf)
    args += ["dkim=%s:%s" % d for d in dkim]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return dict(kv.split("=", 1) for kv in out.split())


def spfkit_dmarc(domain, how):
    r = subprocess.run([SPFKIT, "dmarc", "--nameserver", ADDR, "--format",
                        "json", "--discovery", how, domain],
                       capture_output=True, text=True)
    return json.loads(r.stdout)


# spfkit's verdict in OpenDMARC's words: the policy to enforce.
def as_opendmarc(x):
    if x["result"] == "none":
        return "absent"
    if x["result"] == "pass":
        return "pass"
    return x["disposition"]


def compare_message(name, path, differs=None):
    """differs: None when both must agree, else a function of (x, o)
    that holds for the difference RFC 9989 makes."""
    x = spfkit_message(path)
    if x is None:
        bad(name + ": spfkit message failed")
        return
    spf = None
    if x["spf"]:
        spf = (x["spf"]["domain"], x["spf"]["result"],
               ":helo" if x["spf"]["source"] == "helo" else "")
    dkim = [(k["domain"], k["result"]) for k in x["dkim"]]
    o = odmarc(x["author_domain"], spf, dkim)
    # Without a record OpenDMARC works out no alignment: only the policy
    # (absent) is compared then.
    same = as_opendmarc(x) == o.get("policy") and (
        o.get("policy") == "absent" or
        (x["spf_aligned"] == (o.get("spf_aligned") == "1") and
         x["dkim_aligned"] == (o.get("dkim_aligned") == "1")))
    if differs is None:
        if same:
            ok()
        else:
            bad("%s: spfkit %s (spf_aligned %s, dkim_aligned %s), "
                "OpenDMARC %s" % (name, as_opendmarc(x), x["spf_aligned"],
                                  x["dkim_aligned"], o))
    elif not same and differs(x, o):
        ok()
    else:
        bad("%s: the documented difference is not there: spfkit %s, "
            "OpenDMARC %s" % (name, x, o))


def compare_discovery(domain, differs=None):
    """spfkit dmarc --discovery psl against the record OpenDMARC found."""
    s = spfkit_dmarc(domain, "psl")
    o = odmarc(domain)
    letter = {"reject": "r", "quarantine": "q", "none": "n", None: "-"}
    same = ((s["policy_domain"] or "-") == o.get("policy_domain") and
            letter[s["p"]] == o.get("p") and letter[s["sp"]] == o.get("sp")
            if s["status"] == "found" else o.get("query") in
            ("no-record", "nxdomain"))
    if s["status"] == "found":
        same = same and s["adkim"] == o.get("adkim", "-").replace("-", "r") \
            and s["aspf"] == o.get("aspf", "-").replace("-", "r")
    if (differs is None) == same:
        ok()
    else:
        bad("discovery %s: spfkit psl %s, OpenDMARC %s" % (domain, s, o))
    return s


def main():
    nsd, conf = start_nsd()
    try:
        before = nsd_queries(conf)
        # The same verdict: RFC 7489 and RFC 9989 agree.
        compare_message("good", sign("good", "good", "author.example"))
        compare_message("list", sign("list", "list", "author.example",
                                     "subject-tag", "footer"))
        compare_message("esp", sign("esp", "esp", "esp.example"))
        compare_message("esp-author", sign("esp-author", "esp",
                                           "author.example"))
        compare_message("relaxed", sign("relaxed", "relaxed",
                                        "news.author.example"))
        compare_message("strict", sign("strict", "strict",
                                       "mail.strict.example"))
        compare_message("forward", sign("forward", "forward",
                                        "author.example"))
        compare_message("nodmarc", sign("nodmarc", "nodmarc",
                                        "nodmarc.example"))
        compare_message("contact-form",
                        os.path.join(MSG, "dmarc", "contact-form.eml"))
        compare_message("null-sender",
                        os.path.join(MSG, "dmarc", "null-sender.eml"))
        # RFC 9989 §4.7 t=y: one step milder; RFC 7489 has no t=.
        compare_message("testing", os.path.join(MSG, "dmarc",
                                                "testing.eml"),
                        lambda x, o: x["disposition"] == "quarantine" and
                        o["policy"] == "reject")
        after = nsd_queries(conf)
        if after > before >= 0:
            ok()
        else:
            bad("NSD saw no queries from OpenDMARC (%d, %d)" % (before, after))
        # RFC 9989 §4.7 np=: a From domain that does not exist.
        with open(os.path.join(TMP, "np.eml"), "w") as f:
            f.write(open(os.path.join(MSG, "dmarc", "testing.eml")).read()
                    .replace("testing.example", "ghost.example.net"))
        compare_message("np", os.path.join(TMP, "np.eml"),
                        lambda x, o: x["policy"] == "reject" and
                        x["disposition"] == "reject" and
                        o["policy"] == "none")
        # RFC 9989 §4.10.2: psd=n makes dept.example.com an
        # organizational domain; the public suffix list says example.com.
        with open(os.path.join(TMP, "psdn.in"), "w") as f:
            f.write(open(os.path.join(MSG, "dmarc", "good.in")).read()
                    .replace("alice@author.example", "alice@a.dept.example.com")
                    .replace("198.51.100.60", "198.51.100.99"))
        path = os.path.join(TMP, "psdn.eml")
        subprocess.run([PY, os.path.join(MSG, "dkim_sign.py"), "sign",
                        os.path.join(TMP, "k.pem"), "b.example.com", "sel1",
                        os.path.join(TMP, "psdn.in"), path], check=True)
        compare_message("psd=n", path,
                        lambda x, o: x["policy_domain"] == "dept.example.com"
                        and not x["dkim_aligned"] and x["spf_aligned"] and
                        o["policy_domain"] == "example.com" and
                        o["dkim_aligned"] == "1")
        # PSL-mode discovery is RFC 7489's, and finds what OpenDMARC finds.
        for d in ("author.example", "strict.example", "testing.example",
                  "nodmarc.example", "news.example.org", "ghost.example.net",
                  "a.dept.example.com", "x.y.a.dept.example.com"):
            compare_discovery(d)
        # A TLD the list does not name: the PSL's own algorithm takes the
        # implicit rule "*" (libpsl: author.example), OpenDMARC's reading
        # of the list finds no suffix and looks no further.
        s = compare_discovery("news.author.example", differs=True)
        if s["policy_domain"] != "author.example":
            bad("news.author.example: spfkit psl found %s" % s["policy_domain"])
        # The tree walk differs from it where psd=n says so.
        t = spfkit_dmarc("a.dept.example.com", "treewalk")
        p = spfkit_dmarc("a.dept.example.com", "psl")
        if (t["policy_domain"], t["organizational_domain"], p["policy_domain"]) == \
                ("dept.example.com", "dept.example.com", "example.com"):
            ok()
        else:
            bad("tree walk against PSL for a.dept.example.com: %s / %s" % (t, p))
    finally:
        nsd.terminate()
        nsd.wait()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
