#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# shared.sh - what spfkit adds per check in front of a shared caching
# resolver (issue 16's shared tier): Debian's unbound, a private instance
# with its own config, forwarding to NSD serving bench/zones/gen.py's world,
# all on loopback; spfkit asks unbound only (--nameserver / nameserver =).
#
# Measures (bench/shared.py), unbound's cache warmed first so every miss of
# spfkit's costs one loopback round trip to a resolver that has the answer:
#   spfkit check --batch --concurrency 1, --no-cache (one resolver keeping no
#     answer) and with its cache (one process, the stream);
#   spfkitd, one policy request at a time over one connection: its cache
#     empty (first pass), then warm (second pass), against a request it
#     answers without a check (the protocol's own cost).
# Medians of RUNS runs. Prints a markdown table; never part of a test.
#
# Environment: LINES_N (stream lines checked, default 2000), RUNS (5),
# SKIP_BUILD=1 (use build-bench/ as it is). Needs nsd, unbound, python3-dnslib.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
BUILD="$TOP/build-bench"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$TOP" --buildtype=release >/dev/null
	ninja -C "$BUILD" >"$BUILD.log" 2>&1 || { echo "[shared] spfkit did not build (see $BUILD.log)" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/spfkit-shared-bench.XXXXXX)
NSD_PID=""
UB_PID=""
cleanup() {
	[ -n "$UB_PID" ] && kill "$UB_PID" 2>/dev/null || true
	[ -n "$NSD_PID" ] && kill "$NSD_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$PY" "$HERE/zones/gen.py" "$WORK/zones" --lines "${LINES_N:-2000}"
set -- $("$PY" - <<'PYEOF'
import socket
ports = []
while len(ports) < 2:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        u.close(); t.close()
    ports.append(p)
print(*ports)
PYEOF
)
NSD_PORT=$1
UB_PORT=$2

cat >"$WORK/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$NSD_PORT
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$WORK/zones"
    pidfile: "$WORK/nsd.pid"
    xfrdfile: "$WORK/xfrd.state"
    zonelistfile: "$WORK/zone.list"
    database: ""
    server-count: 1
    verbosity: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    logfile: "$WORK/nsd.log"
remote-control:
    control-enable: no
zone:
    name: "."
    zonefile: "root.zone"
CONF
# The shared resolver as a receiver would run it: a cache, forwarding to
# NSD here as it would recurse to the world's servers there.
cat >"$WORK/unbound.conf" <<CONF
server:
    interface: 127.0.0.1
    port: $UB_PORT
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    logfile: "$WORK/unbound.log"
    use-syslog: no
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    # a benchmark's burst from one address is not an attack
    ip-ratelimit: 0
    ratelimit: 0
remote-control:
    control-enable: yes
    control-interface: "$WORK/unbound.ctl"
    control-use-cert: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$NSD_PORT
CONF
unbound-checkconf "$WORK/unbound.conf" >/dev/null
nsd -d -c "$WORK/nsd.conf" &
NSD_PID=$!
unbound -d -c "$WORK/unbound.conf" &
UB_PID=$!
i=0
until "$PY" "$HERE/dnsctl.py" "$NSD_PORT" _spf.mailgrid.com TXT 2>/dev/null | grep -q v=spf1 &&
	"$PY" "$HERE/dnsctl.py" "$UB_PORT" _spf.mailgrid.com TXT 2>/dev/null | grep -q v=spf1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "[shared] NSD or unbound did not come up" >&2; cat "$WORK/nsd.log" "$WORK/unbound.log" >&2; exit 1; }
	sleep 0.2
done
echo "[shared] NSD on 127.0.0.1:$NSD_PORT (pid $NSD_PID), unbound on 127.0.0.1:$UB_PORT (pid $UB_PID)" >&2

"$PY" "$HERE/shared.py" --spfkit "$BUILD/src/spfkit/spfkit" --spfkitd "$BUILD/src/spfkitd/spfkitd" \
	--stream "$WORK/zones/stream.tsv" --unbound-port "$UB_PORT" \
	--unbound-conf "$WORK/unbound.conf" --runs "${RUNS:-5}" --tmp "$WORK"
