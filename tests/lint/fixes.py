#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""fixes.py SPFKIT RUNS.jsonl - every finding of every `spfkit lint` run of
tests/lint/run.sh, held to what issue 13 asks of lint's output:

  octets   no message or fix shows an octet as '?': a '?' that is not a
           qualifier of the record or the end of a question stands for an
           octet, and a record with octets outside printable ASCII that a
           message quotes shows them as \\xHH.
  fixes    a finding with a "replacement" (the exact corrected text for
           its position, or for the whole record) is safe to paste: the
           replacement is printable ASCII, its fix quotes it verbatim, the
           corrected record is what "corrected_record" says, and linting
           the corrected record as the same domain's record (the library
           parses it) no longer reports the code there, and reports no
           syntax error the original did not have.
  split    a fix that shows a record as several quoted TXT strings
           (txt-string-long) quotes strings of at most 255 octets that
           join to exactly the record.

Each line of RUNS.jsonl is {"args": [...], "out": LINT-JSON}. Ends with
"N passed, N failed".
"""
import collections
import json
import re
import subprocess
import sys

SYNTAX_CODES = {"syntax", "bad-octet", "stray-quote", "modifier-colon",
                "ip-as-domain", "exp-not-domain", "all-argument",
                "missing-space", "no-domain", "duplicate-modifier",
                "ipv4-typo", "ipv6-typo", "ip-typo", "include-equals",
                "mechanism-equals", "not-spf", "missing-version",
                "version-not-first", "version-no-space", "version-typo"}

passed = failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def printable(s):
    return all(0x20 <= ord(c) < 0x7f for c in s)


def octet_marks(text, record):
    """The '?' of text that stand for an octet: not a qualifier the record
    holds, not the end of a question."""
    rest = re.sub(r"\?(?=[\s)'\"]|$)", "", text)
    if "?" not in rest:
        return False
    return not (record and "?" in record)


def zone_args(args):
    """The DNS options of a run (to re-lint with the same zone)."""
    out, i = [], 0
    while i < len(args):
        if args[i] in ("--zone", "--nameserver", "--sender", "--helo",
                       "--ip", "--scope"):
            if args[i] in ("--zone", "--nameserver", "--ip"):
                out += args[i:i + 2]
            i += 2
        else:
            i += 1
    return out


def relint(binary, domain, record, args):
    p = subprocess.run([binary, "lint", "--format", "json", domain,
                        "--record", record] + zone_args(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        return json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        return None


def main():
    binary, runs = sys.argv[1], sys.argv[2]
    seen = set()
    nfix = nsplit = 0
    for line in open(runs, encoding="utf-8"):
        run = json.loads(line)
        args, out = run["args"], run["out"]
        for f in out["findings"]:
            key = (f["code"], f["record"], f["position"], f["message"],
                   f["fix"])
            if key in seen:
                continue
            seen.add(key)
            label = "%s %s" % (" ".join(args), f["code"])
            rec = f["record"]
            for part in ("message", "fix"):
                text = f[part] or ""
                ok(printable(text), "%s: %s not printable ASCII: %r"
                   % (label, part, text))
                ok(not octet_marks(text, rec),
                   "%s: a '?' stands for an octet in the %s: %r"
                   % (label, part, text))
            if rec and not printable(rec) and f["term"] is not None \
                    and f["term"] in (f["message"] or ""):
                ok(False, "%s: the message quotes hostile octets raw"
                   % label)
            strings = re.findall(r'"((?:[^"\\]|\\.)*)"', f["fix"] or "")
            if f["code"] == "txt-string-long" and strings and rec:
                nsplit += 1
                ok("".join(strings) == rec and
                   all(len(s) <= 255 for s in strings),
                   "%s: the strings %r do not join to the record"
                   % (label, strings))
            rep = f.get("replacement")
            if rep is None:
                ok(f.get("corrected_record") is None,
                   "%s: a corrected record without a replacement" % label)
                continue
            nfix += 1
            ok(printable(rep), "%s: replacement not printable: %r"
               % (label, rep))
            ok(rep in (f["fix"] or ""),
               "%s: the fix %r does not quote the replacement %r"
               % (label, f["fix"], rep))
            if f["position"]:
                p = f["position"] - 1
                want = rec[:p] + rep + rec[p + f["length"]:]
            else:
                want = rep
            corrected = f.get("corrected_record")
            ok(corrected == want, "%s: corrected_record %r, want %r"
               % (label, corrected, want))
            if not corrected or not f["domain"]:
                continue
            again = relint(binary, f["domain"], corrected, args)
            if again is None:
                ok(False, "%s: re-lint of %r gave no JSON"
                   % (label, corrected))
                continue
            mine = [g for g in again["findings"]
                    if g["record"] == corrected and g["depth"] == 0]
            ok(not any(g["code"] == f["code"] for g in mine),
               "%s: still reported after the fix %r: %s"
               % (label, corrected, [g["message"] for g in mine
                                     if g["code"] == f["code"]]))
            before = collections.Counter(
                g["code"] for g in out["findings"]
                if g["record"] == rec and g["code"] in SYNTAX_CODES)
            if f["code"] in SYNTAX_CODES:
                before[f["code"]] -= 1
            after = collections.Counter(
                g["code"] for g in mine if g["code"] in SYNTAX_CODES)
            new = after - before
            ok(not new, "%s: the fix %r brings new errors %s"
               % (label, corrected, dict(new)))
    print("%d findings, %d with a replacement, %d split records" %
          (len(seen), nfix, nsplit))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
