#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_isolation.py - self-test of the bench's DNS isolation (bench/run.sh --check-isolation).

Runs in seconds against the servers run.sh started (NSD with the generated
world, bench/catcher.py on CATCHER:53 named by the private resolv.conf):

  1. bench/isolated really gives a process a resolv.conf naming only the
     catcher (else the cases below would reach the machine's resolver, and
     are not run);
  2. each peer runner as the bench runs it (pyspf on pydns, and on
     dnspython when it can be imported, Mail::SPF, libspf2) passes the
     accounting of bench/isolation.py: its queries reach NSD, none the
     catcher;
  3. each peer left to its library's defaults (pyspf, pyspf on dnspython
     with only pydns's port set as the old runner did, Mail::SPF, libspf2's
     spfquery) reads resolv.conf, lands on the catcher, and the accounting
     rejects the phase: without the namespace or the accounting these fail.

Ends with "N passed, N failed".
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from isolation import Accounting, IsolationError, minimum  # noqa: E402

PY = "/usr/bin/python3"
passed = failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")


# The peers' libraries with no resolver setting of their own, as a user
# would first write them: one result name per stdin line.
PYSPF_DEFAULT = r'''
import sys, spf
for l in sys.stdin:
    ip, s, h = l.rstrip("\n").split("\t")[:3]
    print(spf.check2(i=ip, s=s, h=h, timeout=5)[0])
'''
# The runner as it was before issue 16: pydns's port set, pyspf on dnspython.
PYSPF_OLD_RUNNER = r'''
import sys, DNS, spf
DNS.defaults["server"] = ["127.0.0.1"]; DNS.defaults["port"] = int(sys.argv[1])
for l in sys.stdin:
    ip, s, h = l.rstrip("\n").split("\t")[:3]
    print(spf.check2(i=ip, s=s, h=h, timeout=5)[0])
'''
MAILSPF_DEFAULT = r'''
use Mail::SPF; my $s = Mail::SPF::Server->new;
while (<STDIN>) { chomp; my ($i, $f, $h) = split /\t/;
  print $s->process(Mail::SPF::Request->new(scope => "mfrom", identity => $f,
    ip_address => $i, helo_identity => $h))->code, "\n"; }
'''


def run(argv, text, env=None):
    return subprocess.run(argv, input=text, capture_output=True, text=True, timeout=120,
                          env=env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zones", required=True)
    ap.add_argument("--nsd-port", type=int, required=True)
    ap.add_argument("--nsd-conf", required=True)
    ap.add_argument("--catcher", required=True)
    ap.add_argument("--resolv", required=True)
    ap.add_argument("--libspf2-run", required=True)
    ap.add_argument("--lines", type=int, default=12)
    ap.add_argument("--dnspython-path", default=os.environ.get("DNSPYTHON_PATH", ""),
                    help="a directory holding dnspython, if not installed")
    a = ap.parse_args()

    iso = [os.path.join(HERE, "isolated"), a.resolv]
    acc = Accounting(a.nsd_conf, a.catcher)
    world = {l.split("\t")[0] for l in open(os.path.join(a.zones, "depth.tsv"))
             if not l.startswith("#")}
    lines = [l for l in open(os.path.join(a.zones, "stream.tsv"))
             if l.split("\t")[1].rsplit("@", 1)[-1].lower() in world][:a.lines]
    text = "".join(lines)
    port = str(a.nsd_port)

    # pyspf asks through dnspython when it can import it (installed), else
    # pydns; DNSPYTHON_PATH adds the dnspython case where it is not
    # installed. The case without it runs with whichever pyspf takes.
    def backend(env):
        probe = run([PY, "-c", "import spf; print(spf.DNSLookup.__name__)"], "", env)
        return {"DNSLookup_dnspython": "dnspython",
                "DNSLookup_pydns": "pydns"}.get(probe.stdout.strip(), "?")

    default = backend(None)
    env_dnspy = None
    if default != "dnspython" and a.dnspython_path:
        env_dnspy = dict(os.environ, PYTHONPATH=a.dnspython_path)
        if backend(env_dnspy) != "dnspython":
            env_dnspy = None
    if default != "dnspython" and not env_dnspy:
        print("note: dnspython not importable (set DNSPYTHON_PATH): its cases are left out")
    if default == "dnspython":
        print("note: dnspython is installed, so pyspf takes it: the pydns case is left out")

    # 1. the namespace
    p = run(iso + ["cat", "/etc/resolv.conf"], "")
    ns = [l.split()[1] for l in p.stdout.splitlines() if l.startswith("nameserver")]
    isolated = p.returncode == 0 and ns == [a.catcher]
    ok(isolated, f"isolated: resolv.conf names only the catcher {a.catcher} (saw {ns})")
    host = open("/etc/resolv.conf").read()
    ok(f"nameserver {a.catcher}" not in host, "the machine's own resolv.conf is untouched")

    # 2. the runners as the bench runs them: accepted
    right = [(f"pyspf runner ({default})", [PY, os.path.join(HERE, "peers", "pyspf_run.py")], None),
             ("Mail::SPF runner", ["perl", os.path.join(HERE, "peers", "mailspf_run.pl")], None),
             ("libspf2 runner", [a.libspf2_run], None)]
    if env_dnspy:
        right.insert(1, ("pyspf runner (dnspython)",
                         [PY, os.path.join(HERE, "peers", "pyspf_run.py")], env_dnspy))
    for name, argv, env in right:
        try:
            with acc.phase(name, minimum(lines, world, cached=True)):
                p = run(iso + argv + [port, "warm"], text, env)
            res = p.stdout.split()
            good = p.returncode == 0 and len(res) == len(lines) and any(
                r in ("pass", "fail", "softfail", "neutral") for r in res)
            ok(good, f"{name}: {len(res)} results, NSD saw {acc.last[0]} queries, "
                     f"catcher {acc.last[1]} (exit {p.returncode})")
            if name.startswith("pyspf"):
                want = "dnspython" if env else default
                ok(f"backend {want}" in p.stderr, f"{name}: reports backend {want}")
        except IsolationError as e:
            ok(False, f"{name}: {e}")

    # 3. the libraries left to resolv.conf: caught
    wrong = [("pyspf, no resolver setting", [PY, "-c", PYSPF_DEFAULT], None),
             ("Mail::SPF, Net::DNS's default resolver", ["perl", "-e", MAILSPF_DEFAULT], None),
             ("libspf2's spfquery", None, None)]
    if env_dnspy or default == "dnspython":
        wrong.insert(1, ("pyspf on dnspython, only pydns's port set (the old runner)",
                         [PY, "-c", PYSPF_OLD_RUNNER, port], env_dnspy))
    for name, argv, env in wrong:
        if not isolated:
            ok(False, f"{name}: not run, the namespace does not hold")
            continue
        caught = None
        try:
            with acc.phase(name, minimum(lines, world, cached=True)):
                if argv:
                    run(iso + argv, text, env)
                else:
                    for l in lines:
                        ip, s, h = l.rstrip("\n").split("\t")[:3]
                        run(iso + ["spfquery", "--ip", ip, "--sender", s, "--helo", h], "")
        except IsolationError as e:
            caught = str(e)
        ok(caught is not None and acc.last[1] > 0 and acc.last[0] == 0,
           f"{name}: caught ({acc.last[1]} messages at the catcher, {acc.last[0]} at NSD): "
           f"{caught}")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
