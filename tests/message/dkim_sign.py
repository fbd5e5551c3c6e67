#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/message/dkim_sign.py - DKIM material for tests/message/run.sh.

  dkim_sign.py key KEYFILE                 a new RSA key (PEM) in KEYFILE;
                                           prints the TXT record's text
  dkim_sign.py sign KEYFILE DOMAIN SELECTOR IN OUT [CHANGE...]
                                           signs IN with dkimpy (RFC 6376,
                                           relaxed/relaxed) and writes OUT
                                           with the DKIM-Signature on top;
                                           then applies each CHANGE, as a
                                           relay would after signing:
                                           footer, subject-tag, on-top:FIELD

The signature is placed below the trace fields the fixture puts above a
line "X-Sign-Here: 1" (which is dropped), so the Received fields the
receivers added after signing stay above it, as on the wire.
"""
import subprocess
import sys

import dkim


def new_key(path):
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", path], check=True,
                   stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    import base64
    print("v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())


def sign(keyfile, domain, selector, src, dst, changes):
    raw = open(src, "rb").read()
    marker = b"X-Sign-Here: 1\n"
    if marker in raw:
        above, signed = raw.split(marker, 1)
    else:
        above, signed = b"", raw
    key = open(keyfile, "rb").read()
    sig = dkim.sign(signed, selector.encode(), domain.encode(), key,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"],
                    linesep=b"\n")
    out = above + sig + signed
    for c in changes:
        head, body = out.split(b"\n\n", 1)
        if c == "footer":
            body += b"--\nThe list footer: unsubscribe at lists.example.net\n"
        elif c == "subject-tag":
            head = head.replace(b"\nSubject: ", b"\nSubject: [list] ", 1)
        elif c.startswith("on-top:"):
            head = c[7:].strip("\"").encode() + b"\n" + head
        else:
            sys.exit("unknown change " + c)
        out = head + b"\n\n" + body
    open(dst, "wb").write(out)


if __name__ == "__main__":
    if sys.argv[1] == "key":
        new_key(sys.argv[2])
    else:
        sign(*sys.argv[2:7], sys.argv[7:])
