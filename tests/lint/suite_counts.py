#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""suite_counts.py SPFKIT SUITE.yml - tree, trace and lint count what the
evaluator counts, for every case of the openspf RFC 7208 suite (hermetic:
each document's zonedata is given to --zone as a .yml file).

For every case (IP, MAIL FROM, HELO) it runs `spfkit check --format json`
(the evaluator), `spfkit trace`, `spfkit tree` and `spfkit lint` with the
same identity and IP, and asserts:

  trace   lookups, void_lookups and result equal check's, and equal the
          evaluator's own events: the TERM events with counted=true and
          the VOID events of the trace.
  tree    a walk (every term reached). Its totals equal the sum over its
          nodes of own_lookups / own_void_lookups (every counted term and
          void lookup sits in exactly one node). When the check was
          complete -- no ip4, ip6, a, mx, ptr or exists term matched and
          the result is no error -- the check reached exactly the terms
          the walk reaches, so the totals are equal. Otherwise the check
          stopped early and the walk went on: the walk's totals are at
          least the check's (a loop, which a check goes round until the
          limit and a walk cuts at the first repeat, is reported instead).
          The tree's top result is the check's (it is the evaluator's
          result for the same client); and when no address term matched
          in the check, the tree's root result (what a client no term
          lists gets) is the check's result too, errors included: the
          check reached exactly what the walk reached before its first
          problem.
  lint    lookups and void_lookups equal tree's; too-many-lookups is
          reported exactly when the walk counts more than 10, and
          too-many-void-lookups exactly when it counts more than 2; every
          record the evaluator found a syntax error in has a lint error,
          and lint reports a syntax error only in records the evaluator
          rejected (no false alarms on the suite's valid records).

Ends with "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ADDRESS_TERMS = {"ip4", "ip6", "a", "mx", "ptr", "exists"}
SYNTAX_CODES = {"syntax", "bad-octet", "stray-quote", "modifier-colon",
                "ip-as-domain", "exp-not-domain", "all-argument",
                "missing-space", "no-domain", "duplicate-modifier"}

passed = failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    try:
        return json.loads(p.stdout.decode("utf-8")), p
    except ValueError:
        return None, p


def nodes(tree):
    if not tree:
        return
    yield tree
    for t in tree["terms"]:
        if t["child"]:
            yield from nodes(t["child"])


def problems(tree):
    for n in nodes(tree):
        for e in n["events"]:
            if "problem" in e:
                yield n, e
        for t in n["terms"]:
            for e in t["events"]:
                if "problem" in e:
                    yield n, e


def unlisted(trace):
    """Did the check end without an address term matching?"""
    mech = {}
    for e in trace["events"]:
        if e["event"] == "term":
            mech[e["depth"]] = e["mechanism"]
        elif e["event"] == "term_end" and e["matched"]:
            if mech.get(e["depth"]) in ADDRESS_TERMS:
                return False
    return True


def complete(trace):
    """Did the check reach its result without an address term matching?"""
    if trace["result"] in ("permerror", "temperror"):
        return False
    mech = {}
    for e in trace["events"]:
        if e["event"] == "term":
            mech[e["depth"]] = e["mechanism"]
        elif e["event"] == "term_end" and e["matched"]:
            if mech.get(e["depth"]) in ADDRESS_TERMS:
                return False
    return True


def main():
    binary, suite = sys.argv[1], sys.argv[2]
    raw = open(suite, "rb").read()
    docs = re.split(rb"(?m)^---[ \t]*\r?\n", raw)
    tmp = tempfile.mkdtemp(prefix="spfkit-suite-counts-")
    ncases = 0
    stats = {"complete": 0, "early": 0, "unlisted": 0}
    try:
        for di, text in enumerate(docs):
            doc = yaml.safe_load(text)
            if not isinstance(doc, dict) or "tests" not in doc:
                continue
            path = os.path.join(tmp, "doc%02d.yml" % di)
            with open(path, "wb") as f:
                f.write(text)
            for name, tc in doc["tests"].items():
                ncases += 1
                ident = ["--ip", str(tc["host"]),
                         "--sender", str(tc.get("mailfrom", ""))]
                if tc.get("helo") is not None:
                    ident += ["--helo", str(tc["helo"])]
                zone = ["--zone", path]
                label = "%s (document %d)" % (name, di)
                check, cp = run(binary, ["check"] + zone + ident +
                                ["--format", "json"])
                if check is None:
                    ok(False, "%s: check gave no JSON: %s" %
                       (label, cp.stderr.decode("utf-8", "replace")))
                    continue
                trace, tp = run(binary, ["trace"] + zone + ident +
                                ["--format", "json"])
                tree, rp = run(binary, ["tree"] + zone + ident +
                               ["--format", "json"])
                lint, lp = run(binary, ["lint"] + zone + ident +
                               ["--format", "json"])
                if trace is None or tree is None or lint is None:
                    ok(False, "%s: trace/tree/lint gave no JSON: %s %s %s"
                       % (label, tp.stderr, rp.stderr, lp.stderr))
                    continue
                cl, cv = check["lookups"], check["void_lookups"]
                # trace is the evaluator: same counters, same result.
                ok(trace["lookups"] == cl and trace["void_lookups"] == cv,
                   "%s: trace counts %d/%d, check %d/%d" %
                   (label, trace["lookups"], trace["void_lookups"], cl, cv))
                ok(trace["result"] == check["result"],
                   "%s: trace result %s, check %s" %
                   (label, trace["result"], check["result"]))
                counted = sum(1 for e in trace["events"]
                              if e["event"] == "term" and e["counted"])
                voids = sum(1 for e in trace["events"]
                            if e["event"] == "void")
                ok(counted == cl and voids == cv,
                   "%s: trace events count %d/%d, check %d/%d" %
                   (label, counted, voids, cl, cv))
                ok(tp.returncode == cp.returncode,
                   "%s: trace exit %d, check %d" %
                   (label, tp.returncode, cp.returncode))
                # tree: a walk; every count sits in one node.
                wl, wv = tree["lookups"], tree["void_lookups"]
                own = sum(n["own_lookups"] for n in nodes(tree["tree"]))
                ownv = sum(n["own_void_lookups"] for n in nodes(tree["tree"]))
                ok(own == wl and ownv == wv,
                   "%s: tree nodes sum to %d/%d, totals %d/%d" %
                   (label, own, ownv, wl, wv))
                # tree: its result is the check's; its root is what an
                # unlisted client gets.
                ok(tree.get("result") == check["result"],
                   "%s: tree result %s, check %s" %
                   (label, tree.get("result"), check["result"]))
                if unlisted(trace) and tree["tree"]:
                    stats["unlisted"] += 1
                    ok(tree["tree"]["result"] == check["result"],
                       "%s: no address term matched; tree root %s, check "
                       "%s" % (label, tree["tree"]["result"],
                               check["result"]))
                loop = any("a loop" in e["problem"]
                           for _, e in problems(tree["tree"]))
                if complete(trace):
                    stats["complete"] += 1
                    ok(wl == cl and wv == cv,
                       "%s: complete check %d/%d, tree %d/%d" %
                       (label, cl, cv, wl, wv))
                else:
                    stats["early"] += 1
                    ok((wl >= cl and wv >= cv) or loop,
                       "%s: check %d/%d stopped early, tree %d/%d" %
                       (label, cl, cv, wl, wv))
                # lint: the walk's counts and limits; syntax as the
                # evaluator sees it.
                ok(lint["lookups"] == wl and lint["void_lookups"] == wv,
                   "%s: lint %d/%d, tree %d/%d" %
                   (label, lint["lookups"], lint["void_lookups"], wl, wv))
                codes = [f["code"] for f in lint["findings"]]
                ok(("too-many-lookups" in codes) == (wl > 10),
                   "%s: too-many-lookups with %d terms" % (label, wl))
                ok(("too-many-void-lookups" in codes) == (wv > 2),
                   "%s: too-many-void-lookups with %d" % (label, wv))
                bad = set()
                for n, e in problems(tree["tree"]):
                    if e["reason"] == "syntax" and n["record"] is not None:
                        bad.add(n["record"])
                flagged = set(f["record"] for f in lint["findings"]
                              if f["severity"] == "error" and f["record"])
                ok(bad <= flagged,
                   "%s: evaluator syntax errors %r, lint flagged %r" %
                   (label, bad, flagged))
                wrong = [f for f in lint["findings"]
                         if f["code"] in SYNTAX_CODES and f["record"]
                         and f["record"] not in bad]
                ok(not wrong, "%s: lint syntax alarms on records the "
                   "evaluator accepts: %r" % (label, wrong))
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    ok(ncases == 203, "cases read: %d, want 203" % ncases)
    print("%d cases: %d complete checks (tree totals equal), %d stopped "
          "early (tree totals at least); %d with no address term matched "
          "(tree root result equal)" % (ncases, stats["complete"],
                                        stats["early"], stats["unlisted"]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
