#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""compare.py --name NAME --doc CONFORMANCE --spfkit BIN --nameserver ADDR
              STREAM SPFKIT_JSON PYSPF ZONE

Compares spfkit's results (check --batch --format json, a line per input
line) with pyspf's (pyspf_run.py: RESULT<TAB>TEXT) line by line. A line
where they agree passes. Where they differ:

  1. a temporary failure that names a timeout on either side is checked
     again by both (a loaded machine can lose a datagram); agreeing now,
     the line passes as "retried";
  2. pyspf checks the line again with every documented reading of
     pyspf_run.py --patch, each the smallest change to pyspf that reads
     RFC 7208 as spfkit does at one point where the two differ, each
     explained in doc/conformance.md under an anchor of its name
     ('<a id="NAME"></a>', checked here). If they then agree, the line
     passes, counted under the fewest readings that make them agree;
  3. anything else fails, printed with both results and texts and the
     records of the checked domain (from ZONE).

Prints a summary per reading and ends with "N passed, N failed".
"""
import argparse
import json
import re
import subprocess
import sys


def load_zone(path):
    """name -> list of (type, rdata) from the generated master file."""
    z = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        p = line.rstrip("\n").split(None, 3)
        if len(p) == 4 and p[1] == "IN":
            z.setdefault(p[0].rstrip(".").lower(), []).append((p[2], p[3]))
    return z


class Line:
    def __init__(self, no, inp, sk, py):
        self.no = no
        f = inp.rstrip("\n").split("\t")
        self.ip, self.sender = f[0], f[1] if len(f) > 1 else ""
        self.helo = f[2] if len(f) > 2 else ""
        self.sk = sk                      # spfkit's JSON object
        self.py, _, self.pytext = py.rstrip("\n").partition("\t")
        self.skr = sk.get("result") or "error"
        self.problem = sk.get("problem") or ""
        self.reason = sk.get("reason") or ""


def run_pyspf(runner, lines, patches):
    """pyspf's results for the input lines, with the named readings."""
    p = subprocess.run([sys.executable, runner, "--patch", ",".join(patches)],
                       input="".join(lines), capture_output=True, text=True,
                       errors="surrogateescape")
    out = p.stdout.splitlines()
    return [l.partition("\t")[0] for l in out] if len(out) == len(lines) else None


def run_spfkit(spfkit, nameserver, lines):
    """spfkit's results for the input lines."""
    p = subprocess.run([spfkit, "check", "--batch", "--format", "json",
                        "--nameserver", nameserver], input="".join(lines),
                       capture_output=True, text=True, errors="surrogateescape")
    out = p.stdout.splitlines()
    if len(out) != len(lines):
        return None
    return [json.loads(l).get("result") or "error" for l in out]


def transient(ln):
    """Does either side say a query timed out?"""
    return (ln.py == "temperror" and re.search(r"Timeout|max query lookup time", ln.pytext)) or \
        (ln.skr == "temperror" and ("(timeout)" in ln.problem or ln.reason == "deadline"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="world")
    ap.add_argument("--doc", required=True)
    ap.add_argument("--spfkit", required=True)
    ap.add_argument("--nameserver", required=True)
    ap.add_argument("--runner", required=True, help="pyspf_run.py")
    ap.add_argument("stream")
    ap.add_argument("spfkit_out")
    ap.add_argument("pyspf_out")
    ap.add_argument("zone")
    a = ap.parse_args()
    doc = open(a.doc, encoding="utf-8").read()
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', doc))
    zone = load_zone(a.zone)
    stream = open(a.stream, encoding="utf-8", errors="surrogateescape").readlines()
    sk = [json.loads(l) for l in open(a.spfkit_out, encoding="utf-8", errors="replace")]
    py = open(a.pyspf_out, encoding="utf-8", errors="replace").readlines()
    if not (len(stream) == len(sk) == len(py)):
        print(f"FAIL {a.name}: {len(stream)} lines in, spfkit wrote {len(sk)}, pyspf {len(py)}")
        print("0 passed, 1 failed")
        return 1
    readings = subprocess.run([sys.executable, a.runner, "--list"], capture_output=True,
                              text=True).stdout.split()
    failed = 0
    for r in readings:
        if r not in anchors:
            print(f"FAIL {a.name}: reading {r} has no section in {a.doc}")
            failed += 1
    lines = [Line(i + 1, inp, s, p) for i, (inp, s, p) in enumerate(zip(stream, sk, py))]
    differ = [ln for ln in lines if ln.skr != ln.py]
    counts = {}

    # 1. timeouts: once more, both
    again = [ln for ln in differ if transient(ln)]
    if again:
        ins = [stream[ln.no - 1] for ln in again]
        pr, sr = run_pyspf(a.runner, ins, []), run_spfkit(a.spfkit, a.nameserver, ins)
        for k, ln in enumerate(again):
            if pr and sr and pr[k] == sr[k]:
                counts["retried"] = counts.get("retried", 0) + 1
                differ.remove(ln)

    # 2. the documented readings: all, then the fewest that do it
    explained = []
    if differ:
        res = run_pyspf(a.runner, [stream[ln.no - 1] for ln in differ], readings) or []
        explained = [ln for ln, r in zip(differ, res) if r == ln.skr]
    single = {}
    for r in readings:
        todo = [ln for ln in explained if ln.no not in single]
        if not todo:
            break
        res = run_pyspf(a.runner, [stream[ln.no - 1] for ln in todo], [r]) or []
        for ln, got in zip(todo, res):
            if got == ln.skr:
                single[ln.no] = r
    for ln in explained:
        why = single.get(ln.no)
        if not why:
            need = list(readings)
            for r in readings:
                trial = [x for x in need if x != r]
                got = run_pyspf(a.runner, [stream[ln.no - 1]], trial)
                if got and got[0] == ln.skr:
                    need = trial
            why = "+".join(need)
        counts[why] = counts.get(why, 0) + 1
        differ.remove(ln)

    # 3. the rest fails
    for ln in differ[:40]:
        dom = ln.sk.get("domain") or ""
        print(f"FAIL {a.name} line {ln.no}: {ln.ip} {ln.sender!r} helo {ln.helo!r}: "
              f"spfkit {ln.skr} ({ln.reason}: {ln.problem or ln.sk.get('mechanism')}), "
              f"pyspf {ln.py} ({ln.pytext})")
        for t, v in zone.get(dom.lower(), []):
            print(f"    {dom} {t} {v}")
    failed += len(differ)
    passed = len(lines) - len(differ)
    agree = len(lines) - sum(1 for ln in lines if ln.skr != ln.py)
    print(f"{a.name}: {agree} of {len(lines)} agree; explained: "
          + (", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "none"))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
