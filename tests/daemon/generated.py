#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/daemon/generated.py DIR - writes the golden cases whose input is
too large or too binary to keep as a file (NUL bytes, controls, requests
over the 64 KiB cap) into DIR as NAME.in; their expected output is
cases/NAME.out like every other case."""
import os
import sys


def req(ip="192.0.2.1", helo="mx.pass.example", sender="a@pass.example", inst="i1", extra=""):
    return ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            f"client_address={ip}\nclient_name=mx.pass.example\nhelo_name={helo}\n"
            f"sender={sender}\nrecipient=b@test.example\ninstance={inst}\n{extra}\n")


def padded(total):
    """A good request of exactly total bytes."""
    r = req(inst="pad")
    fill = total - len(r) - len("pad=\n")
    return r[:-1] + "pad=" + "z" * fill + "\n\n"


cases = {
    "nul-byte": "request=smtpd_access_policy\nsender=a@pass\x00.example\n\n" + req(inst="after"),
    "oversized": "request=smtpd_access_policy\nsender=" + "x" * 70000 + "\n\n" + req(inst="after"),
    "oversized-one-line": "request=smtpd_access_policy\n" + "y" * 200000 + "\n\n" + req(inst="after"),
    "oversized-many-lines": "request=smtpd_access_policy\n" + "a=b\n" * 30000 + "\n" + req(inst="after"),
    "size-at-cap": padded(65536),
    "size-over-cap": padded(65537) + req(inst="after"),
    "header-injection": req(ip="203.0.113.9", helo="x\x01.example",
                            sender="a\x7f\x1b[31m\"b@soft.example", inst="inj"),
    "high-bytes": req(ip="203.0.113.9", helo="x.example", sender="\xe9l\xe8ve@soft.example"),
}
out = sys.argv[1]
for name, text in cases.items():
    with open(os.path.join(out, name + ".in"), "wb") as f:
        f.write(text.encode("latin-1"))
