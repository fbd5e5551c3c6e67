#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# repro-silent-upstream.sh [SPFKIT] - bug 1 of README.md, without the
# daemon: 200 checks through libunbound forwarding to randomdns.py, odd
# lines under faulty.example (never answered: --kinds silent, p=1), even
# lines under clean.example (always answered right). Expected: every clean
# line a definite result (pass); seen: most of them temperror, because
# libunbound's per-server timeout backoff (NLnetLabs/unbound#1074) treats
# the whole server as down. Knobs: CONC (32), TIMEOUT (2).
set -u
here=$(cd "$(dirname "$0")" && pwd)
spfkit=${1:-$here/../../build/src/spfkit/spfkit}
tmp=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 "$here/randomdns.py" --port "$port" --seed 1 --p-fault 1 --kinds "${KINDS:-silent}" &
dns=$!
trap 'kill $dns; rm -rf "$tmp"' EXIT
sleep 0.5
/usr/bin/python3 - "$here" >"$tmp/lines" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
from soakzone import World
w = World(1, 1.0)
for i in range(1, 201):
    d = "r%d.%s.example" % (i, "clean" if i % 2 == 0 else "faulty")
    print("%s\tu@%s" % (w.authorized(d)[0], d))
PY
"$spfkit" check --batch --concurrency "${CONC:-32}" --nameserver "127.0.0.1@$port" \
	--timeout "${TIMEOUT:-2}" <"$tmp/lines" >"$tmp/out"
echo "clean (want 100 pass):"; grep 'clean\.example' "$tmp/out" | awk '{print $3}' | sort | uniq -c
echo "faulty (want 100 temperror):"; grep 'faulty\.example' "$tmp/out" | awk '{print $3}' | sort | uniq -c
