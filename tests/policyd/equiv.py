#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""equiv.py SPFKITD TMPDIR ADDR - Debian's policyd-spf and spfkitd, side by
side, with the same policyd-spf.conf(5) files over the same Postfix policy
request stream against the same DNS (run.sh starts it inside a private
mount namespace whose /etc/resolv.conf names ADDR, so both read it there).

DNS: NSD on 127.0.0.1@PORT serves zone.py's root zone (and an unloaded
zone, so SERVFAIL); a small UDP front on ADDR:53 (resolv.conf cannot name
a port) forwards to it, but answers names under tc.test. with TC set and
has no TCP listener, which both pyspf and libunbound take as a temporary
error. NSD's own statistics (nsd-control over a unix socket) must show
each policyd-spf run's queries arriving, else the run fails: nothing may
reach the machine's resolver.

Each reply is reduced to what Postfix acts on: the verb (DUNNO, PREPEND,
DEFER_IF_PERMIT or the SMTP code), the enhanced status code, and for
PREPEND the header's name and the SPF result in it. They must agree, or
match one of the DIFFERENCES below, each with its reason (doc/policyd-spf.md
lists them too). Ends with "N passed, N failed".
"""
import os
import re
import socket
import subprocess
import sys
import threading

import dnslib

SPFKITD, TMP, ADDR = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def ok():
    global passed
    passed += 1


def bad(msg):
    global failed
    failed += 1
    print("FAIL: " + msg)


# ------------------------------------------------------------------ DNS

ZONE = """$ORIGIN .
$TTL 300
. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
. IN NS ns.test.
ns.test. IN A 127.0.0.1
; MAIL FROM domains: 192.0.2.0/24 is authorised everywhere
pass.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
soft.test. IN TXT "v=spf1 ip4:192.0.2.0/24 ~all"
neutral.test. IN TXT "v=spf1 ip4:192.0.2.0/24 ?all"
none.test. IN A 192.0.2.1
perm.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
perm.test. IN TXT "v=spf1 -all"
void.test. IN TXT "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test ip4:192.0.2.0/24 -all"
nomail.test. IN TXT "v=spf1 -all"
tc.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
sub.forwarder.test. IN TXT "v=spf1 ip4:192.0.2.0/24 ?all"
forwarder.test. IN TXT "v=spf1 ip4:192.0.2.0/24 ~all"
; HELO names
h-pass.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
h-fail.test. IN TXT "v=spf1 -all"
h-soft.test. IN TXT "v=spf1 ~all"
h-neutral.test. IN TXT "v=spf1 ?all"
h-none.test. IN A 192.0.2.1
h-perm.test. IN TXT "v=spf1 -all"
h-perm.test. IN TXT "v=spf1 ~all"
h-tc.tc.test. IN TXT "v=spf1 -all"
relay.test. IN A 203.0.113.9
relay.test. IN TXT "v=spf1 -all"
9.113.0.203.in-addr.arpa. IN PTR relay.test.
"""


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nsd():
    d = os.path.join(TMP, "nsd")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "root.zone"), "w") as f:
        f.write(ZONE)
    port = free_port()
    conf = os.path.join(d, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
	ip-address: 127.0.0.1@{port}
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
zone:
	name: "servfail.test."
	zonefile: "{d}/never-loaded.zone"
""")
    p = subprocess.Popen(["nsd", "-d", "-c", conf],
                         stdout=open(os.path.join(d, "nsd.out"), "w"),
                         stderr=subprocess.STDOUT)
    q = dnslib.DNSRecord.question("pass.test", "TXT").pack()
    for _ in range(300):  # up to 30 s on a loaded machine
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.1)
            s.sendto(q, ("127.0.0.1", port))
            s.recv(4096)
            s.close()
            return p, port, conf
        except OSError:
            s.close()
            if p.poll() is not None:
                break
    p.kill()
    log = os.path.join(d, "nsd.log")
    print("nsd did not start: " + open(os.path.join(d, "nsd.out")).read() +
          (open(log).read() if os.path.exists(log) else ""))
    print("0 passed, 1 failed")
    sys.exit(1)


def nsd_queries(conf):
    out = subprocess.run(["nsd-control", "-c", conf, "stats_noreset"],
                         capture_output=True, text=True).stdout
    m = re.search(r"^num\.queries=(\d+)", out, re.M)
    return int(m.group(1)) if m else -1


def front(port, sock):
    """The UDP front on ADDR:53: forwards to NSD, truncates tc.test."""
    while True:
        try:
            data, peer = sock.recvfrom(4096)
        except OSError:
            return
        try:
            q = dnslib.DNSRecord.parse(data)
            name = str(q.q.qname).lower()
        except Exception:
            continue
        if name.endswith("tc.test."):
            r = q.reply()
            r.header.tc = 1
            sock.sendto(r.pack(), peer)
            continue
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(2)
        try:
            up.sendto(data, ("127.0.0.1", port))
            sock.sendto(up.recv(65535), peer)
        except OSError:
            pass
        up.close()


# ------------------------------------------------------------------ requests

def request(n, ip, helo, sender, rcpt="user@rcpt.example", instance=None):
    return {"client_address": ip, "helo_name": helo, "sender": sender,
            "recipient": rcpt, "instance": instance or "i%d" % n}


def stream():
    good, badip = "192.0.2.5", "198.51.100.5"
    reqs = []
    # MAIL FROM results, the HELO having no record.
    for d in ("pass", "soft", "neutral", "none", "perm", "void", "nomail",
              "tc", "x.servfail", "nx"):
        for ip in (good, badip):
            reqs.append((ip, "h-none.test", "someone@%s.test" % d))
    # HELO results, with a sender without a record and the null sender.
    for h in ("h-pass", "h-fail", "h-soft", "h-neutral", "h-none", "h-perm",
              "h-tc.tc", "h-x.servfail"):
        for sender in ("someone@none.test", ""):
            reqs.append((badip, h + ".test", sender))
    # A HELO that passes: alone, for the null sender, over a MAIL FROM
    # fail.
    for sender in ("someone@none.test", "", "someone@nomail.test"):
        reqs.append((good, "h-pass.test", sender))
    # HELO and MAIL FROM both deciding.
    reqs.append((badip, "h-soft.test", "someone@soft.test"))
    reqs.append((badip, "h-fail.test", "someone@pass.test"))
    reqs.append((good, "h-fail.test", "someone@pass.test"))
    # Not checked: local, whitelisted relay (IP, HELO, PTR, domain).
    reqs.append(("127.0.0.1", "localhost", "someone@pass.test"))
    reqs.append(("::1", "localhost", "someone@pass.test"))
    reqs.append(("203.0.113.9", "relay.test", "someone@pass.test"))
    reqs.append(("203.0.113.9", "relay.test", ""))
    # Reject_Not_Pass_Domains: listed domain, a subdomain of one.
    reqs.append((badip, "h-none.test", "someone@sub.forwarder.test"))
    reqs.append((badip, "h-none.test", "someone@forwarder.test"))
    out = [request(i, *r) for i, r in enumerate(reqs)]
    # Second recipients of messages (the same instance, right after).
    for i in (1, 3, 20, 21):
        out.insert(i + 1, dict(out[i], recipient="other@rcpt.example"))
    return out


def wire(reqs):
    text = ""
    for r in reqs:
        text += "request=smtpd_access_policy\nprotocol_state=RCPT\n"
        text += "protocol_name=ESMTP\nclient_name=unknown\n"
        text += "queue_id=\n"
        for k, v in r.items():
            text += "%s=%s\n" % (k, v)
        text += "\n"
    return text.encode()


def replies(out):
    return [b.strip() for b in out.decode("utf-8", "replace").split("\n\n")
            if b.strip()]


def reduce(reply):
    """What Postfix acts on, in one comparable word string."""
    if not reply.startswith("action="):
        return "?" + reply[:40]
    a = reply[len("action="):]
    verb = a.split(" ", 1)[0].upper()
    if verb == "PREPEND":
        hdr = a.split(" ", 2)[1].rstrip(":")
        m = re.search(r"^Received-SPF: (\w+)", a[8:], re.I) or \
            re.search(r"spf=(\w+)", a, re.I) or \
            re.search(r"\bnone\b", a, re.I)
        res = (m.group(1) if m and m.groups() else "none" if m else "-")
        return "PREPEND %s %s" % (hdr, res.lower())
    if verb in ("DUNNO", "OK"):
        return "DUNNO"
    if verb == "DEFER_IF_PERMIT":
        return "DEFER_IF_PERMIT"
    if re.match(r"^[45]\d\d$", verb):
        m = re.match(r"^\d{3}( [245]\.\d{1,3}\.\d{1,3})?", a)
        return m.group(0)
    return verb


# ------------------------------------------------------------------ configurations

CONFIGS = {
    # Debian's stock file, byte for byte.
    "stock": open("/etc/postfix-policyd-spf-python/policyd-spf.conf").read()
    if os.path.exists("/etc/postfix-policyd-spf-python/policyd-spf.conf")
    else None,
    "strict": """debugLevel = 1
TestOnly = 1
HELO_reject = SPF_Not_Pass
Mail_From_reject = Softfail
PermError_reject = True
TempError_Defer = True
Whitelist = 203.0.113.0/24
Void_Limit = 5
Lookup_Time = 10
HELO_pass_restriction = helo_passed_spf
Mail_From_pass_restriction = mfrom_passed_spf
Reason_Message = SPF says {spf}: message {rejectdefer}
""",
    "ar": """debugLevel = 0
Header_Type = AR
Authserv_Id = mx.test
Hide_Receiver = Yes
SPF_Enhanced_Status_Codes = No
HELO_reject = Null
Mail_From_reject = Fail
TempError_Defer = True
Reject_Not_Pass_Domains = soft.test,neutral.test,sub.forwarder.test
skip_addresses = 127.0.0.0/8
""",
    "lenient": """debugLevel = 1
TestOnly = 0
HELO_reject = False
Mail_From_reject = SPF_Not_Pass
PermError_reject = True
TempError_Defer = True
Header_Type = None
""",
    "test-mode": """debugLevel = 1
TestOnly = 0
Mail_From_reject = Softfail
TempError_Defer = True
""",
    "helo-off": """debugLevel = 1
HELO_reject = No_Check
Mail_From_reject = SPF_Not_Pass
PermError_reject = True
HELO_Whitelist = relay.test
Domain_Whitelist = relay.test
Domain_Whitelist_PTR = relay.test
No_Mail = True
""",
}


# Known differences: (name, predicate(config, request, policyd, spfkitd),
# reason). A difference no rule explains fails the test.
def _skip(conf, r):
    ip = r["client_address"]
    return ip in ("127.0.0.1", "::1") or (
        conf == "strict" and ip.startswith("203.0.113."))


DIFFERENCES = [
    ("trace header for unchecked clients",
     lambda c, r, p, s: _skip(c, r) and p.startswith("PREPEND X-Comment")
     and s == "DUNNO",
     "policyd-spf prepends an X-Comment trace header for skip_addresses and "
     "Whitelist clients; spfkitd adds nothing to mail it did not check"),
    ("trace header for unchecked clients (AR)",
     lambda c, r, p, s: _skip(c, r) and
     p.startswith("PREPEND Authentication-Results") and s == "DUNNO",
     "the same, in Authentication-Results form"),
    ("SERVFAIL",
     lambda c, r, p, s: "servfail" in r["helo_name"] + r["sender"] and
     ("none" in p or p == "DUNNO") and ("temperror" in s or s in
                                        ("DEFER_IF_PERMIT", "DUNNO")),
     "pyspf over python3-dns takes a SERVFAIL answer as no data (result "
     "none); spfkitd takes it as a temporary error (RFC 7208 section 4.4), "
     "so TempError_Defer defers it"),
    ("test mode keeps the header",
     lambda c, r, p, s: c == "test-mode" and p == "DUNNO" and
     s.startswith("PREPEND"),
     "with TestOnly = 0 policyd-spf answers DUNNO instead of rejecting or "
     "deferring, without a header; spfkitd accepts and adds the header, as "
     "policyd-spf.conf(5) describes the test mode"),
    ("HELO header when MAIL FROM has no record",
     lambda c, r, p, s: p.startswith("PREPEND") and s.startswith("PREPEND")
     and s.endswith(" none") and
     r["sender"].endswith(("@none.test", "@nx.test")),
     "when the MAIL FROM result is none policyd-spf's header carries the "
     "HELO result; spfkitd's is about MAIL FROM (RFC 7208 section 9.1)"),
    ("HELO and domain whitelists not evaluated",
     lambda c, r, p, s: c == "helo-off" and
     r["client_address"] == "203.0.113.9" and p.startswith("PREPEND X-Comment"),
     "HELO_Whitelist, Domain_Whitelist and Domain_Whitelist_PTR are warned "
     "about and ignored: spfkitd checks the message"),
    ("null sender unchecked with HELO_reject = No_Check",
     lambda c, r, p, s: c == "helo-off" and r["sender"] == "" and
     p == "DUNNO",
     "with HELO_reject = No_Check policyd-spf checks nothing for the null "
     "sender; spfkitd checks postmaster@HELO as its MAIL FROM identity "
     "(RFC 7208 section 2.4), as Mail_From_reject asks"),
    ("No_Mail not evaluated",
     lambda c, r, p, s: c == "helo-off" and p.startswith("PREPEND") and
     re.match(r"^5\d\d", s) is not None,
     "No_Mail = True is warned about and ignored: spfkitd rejects every "
     "fail, policyd-spf only those of \"v=spf1 -all\""),
]


def run(argv, text):
    p = subprocess.run(argv, input=text, capture_output=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def main():
    nsd, port, conf = start_nsd()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ADDR, 53))
    threading.Thread(target=front, args=(port, sock), daemon=True).start()
    seen = {}
    try:
        with open("/etc/resolv.conf") as f:
            if ("nameserver " + ADDR) not in f.read():
                bad("/etc/resolv.conf does not name %s: not in the test's "
                    "namespace" % ADDR)
                return
        reqs = stream()
        text = wire(reqs)
        for name, body in CONFIGS.items():
            if body is None:
                bad("%s: /etc/postfix-policyd-spf-python/policyd-spf.conf "
                    "missing (scripts/deps.sh installs it)" % name)
                continue
            path = os.path.join(TMP, name + ".conf")
            with open(path, "w") as f:
                f.write(body)
            # spfkitd takes the file as it is: -t must say so.
            rc, out, err = run([SPFKITD, "-t", "-c", path], b"")
            if rc == 0 and b"read as a policyd-spf.conf(5) file" in out:
                ok()
            else:
                bad("%s: spfkitd -t exit %d: %s %s" % (name, rc, out, err))
            before = nsd_queries(conf)
            rc, pout, perr = run(["/usr/bin/policyd-spf", path], text)
            after = nsd_queries(conf)
            if rc != 0:
                bad("%s: policyd-spf exit %d: %s" % (name, rc, perr[-400:]))
                continue
            if before < 0 or after <= before:
                bad("%s: NSD saw no query from policyd-spf (%d -> %d)" %
                    (name, before, after))
                continue
            ok()
            rc, sout, serr = run([SPFKITD, "--stdio", "-c", path], text)
            if rc != 0 or b"Sanitizer" in serr or b"runtime error" in serr:
                bad("%s: spfkitd exit %d: %s" % (name, rc, serr[-400:]))
                continue
            pr, sr = replies(pout), replies(sout)
            if len(pr) != len(reqs) or len(sr) != len(reqs):
                bad("%s: %d requests, policyd-spf %d replies, spfkitd %d" %
                    (name, len(reqs), len(pr), len(sr)))
                continue
            agree = 0
            for r, p, s in zip(reqs, pr, sr):
                a, b = reduce(p), reduce(s)
                if a == b:
                    if os.environ.get("EQUIV_SHOW"):  # to read, not checked
                        print("  same %s %s <%s> %s" % (
                            name, r["helo_name"], r["sender"], a))
                    agree += 1
                    ok()
                    continue
                why = next((d for d in DIFFERENCES if d[1](name, r, a, b)),
                           None)
                desc = "%s ip=%s helo=%s sender=<%s>" % (
                    name, r["client_address"], r["helo_name"], r["sender"])
                if why:
                    ok()
                    seen.setdefault(why[0], []).append(
                        "%s: policyd-spf %s, spfkitd %s" % (desc, a, b))
                else:
                    bad("%s: policyd-spf %s, spfkitd %s\n  policyd-spf: %s"
                        "\n  spfkitd:     %s" % (desc, a, b, p[:200],
                                                s[:200]))
            print("%-9s %d requests, %d agree" % (name, len(reqs), agree))
    finally:
        sock.close()
        nsd.terminate()
        nsd.wait()
    for d in DIFFERENCES:
        if d[0] in seen:
            print("difference: %s (%d): %s" % (d[0], len(seen[d[0]]), d[2]))
            for line in seen[d[0]]:
                print("    " + line)


main()
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
