#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - spfkit against pyspf, Mail::SPF and libspf2 on one generated SPF world.
#
# One command on a fresh Debian 12 machine (as root): installs the packages
# (bench/deps.sh), builds spfkit release into build-bench/, generates the
# zones and the query stream (bench/zones/gen.py), starts NSD and the 20 ms
# delay front (bench/dnsdelay.py) on free loopback ports, measures every
# implementation (bench/bench.py), writes bench/README.md, and stops the
# servers by PID. Only loopback DNS is ever asked: every peer runs under
# bench/isolated (a private mount namespace whose /etc/resolv.conf names only
# bench/catcher.py on port 53 of a free loopback address), and every phase
# fails the run unless its queries reached NSD and none the catcher
# (bench/isolation.py).
#
#   run.sh                    the whole bench
#   run.sh --check-isolation  seconds: proves the above catches a peer left to
#                             resolv.conf (bench/check_isolation.py); no build
#
# Environment: LINES_N (stream length, default 10000), COLD_SAMPLE (150),
# MAILSPF_LINES (3000), CONCURRENCY (spfkit --concurrency, 64),
# STREAM_LINES (2000: the one-pass stream), RUNS (5: warm and stream runs,
# medians), ONLY (comma list of implementations), SKIP_DEPS=1, SPFKIT_BIN
# (measure that spfkit instead of building this tree's; README.md is then
# not rewritten).
set -eu

CHECK=0
case "${1:-}" in
--check-isolation) CHECK=1 ;;
"") ;;
*) echo "usage: run.sh [--check-isolation]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "[run] needs root (unshare -m, port 53 on loopback)" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
BUILD="$TOP/build-bench"
RAW="$BUILD/bench-raw"

[ "${SKIP_DEPS:-0}" = 1 ] || "$HERE/deps.sh"

SPFKIT="$BUILD/src/spfkit/spfkit"
if [ -n "${SPFKIT_BIN:-}" ]; then
	# another build's spfkit (a before/after comparison); none is built
	SPFKIT=$SPFKIT_BIN
elif [ "$CHECK" = 1 ]; then
	SPFKIT=/nonexistent
	LINES_N=${LINES_N:-40}
elif ! { [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$TOP" --buildtype=release >/dev/null; } ||
	! ninja -C "$BUILD" >"$BUILD.log" 2>&1; then
	echo "[run] spfkit did not build (see $BUILD.log): spfkit left out" >&2
	SPFKIT=/nonexistent
fi

WORK=$(mktemp -d /tmp/spfkit-bench.XXXXXX)
NSD_PID=""
DELAY_PID=""
CATCH_PID=""
cleanup() {
	[ -n "$CATCH_PID" ] && kill "$CATCH_PID" 2>/dev/null || true
	[ -n "$DELAY_PID" ] && kill "$DELAY_PID" 2>/dev/null || true
	[ -n "$NSD_PID" ] && kill "$NSD_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "[run] generating zones and stream in $WORK" >&2
"$PY" "$HERE/zones/gen.py" "$WORK/zones" --lines "${LINES_N:-10000}"

# Two free loopback ports (free for both UDP and TCP).
set -- $("$PY" - <<'EOF'
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
EOF
)
NSD_PORT=$1
DELAY_PORT=$2

# The catcher's address: port 53 (resolv.conf cannot name another) on a
# loopback address nothing else holds, so that no other server answers there.
CATCHER=$("$PY" - <<'EOF'
import random, socket
rng = random.Random()
for _ in range(200):
    addr = f"127.53.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    t = socket.socket(); u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind((addr, 53)); u.bind((addr, 53))
    except OSError:
        continue
    finally:
        t.close(); u.close()
    print(addr)
    break
EOF
)
[ -n "$CATCHER" ] || { echo "[run] no free loopback address for port 53" >&2; exit 1; }

cat >"$WORK/nsd.conf" <<EOF
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
    # NSD's response rate limiting would drop a benchmark's burst of queries
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    logfile: "$WORK/nsd.log"
# nsd-control's query counts are the bench's proof that each phase asked NSD
remote-control:
    control-enable: yes
    control-interface: "$WORK/nsd.ctl"
zone:
    name: "."
    zonefile: "root.zone"
EOF
nsd -d -c "$WORK/nsd.conf" &
NSD_PID=$!
"$PY" "$HERE/dnsdelay.py" --listen "$DELAY_PORT" --upstream "$NSD_PORT" --delay-ms 20 &
DELAY_PID=$!
"$PY" "$HERE/catcher.py" --listen "$CATCHER" &
CATCH_PID=$!
i=0
until "$PY" "$HERE/dnsctl.py" "$NSD_PORT" _spf.mailgrid.com TXT 2>/dev/null | grep -q v=spf1 &&
	"$PY" "$HERE/dnsctl.py" "$DELAY_PORT" _count.dnsdelay TXT >/dev/null 2>&1 &&
	nsd-control -c "$WORK/nsd.conf" stats_noreset >/dev/null 2>&1 &&
	"$PY" -c 'import sys; from dnslib import DNSRecord as R
R.question("_count.catcher", "TXT").send(sys.argv[1], 53, timeout=1)' "$CATCHER" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "[run] NSD, the delay front or the catcher did not come up" >&2; cat "$WORK/nsd.log" >&2; exit 1; }
	sleep 0.2
done
echo "[run] NSD on 127.0.0.1:$NSD_PORT (pid $NSD_PID), 20 ms front on 127.0.0.1:$DELAY_PORT (pid $DELAY_PID), catcher on $CATCHER:53 (pid $CATCH_PID)" >&2

# Every peer sets its own server (127.0.0.1 and a port) and runs under
# bench/isolated with this resolv.conf, so what falls back to resolv.conf
# reaches the catcher, never the machine's resolver.
printf 'nameserver %s\noptions attempts:1 timeout:1\n' "$CATCHER" >"$WORK/resolv.conf"
if ! "$HERE/isolated" "$WORK/resolv.conf" grep -qx "nameserver $CATCHER" /etc/resolv.conf; then
	echo "[run] bench/isolated cannot give a peer its own resolv.conf (unshare -m, mount --bind): no peer may run" >&2
	exit 1
fi
# libspf2: the runner also points glibc's resolver state at 127.0.0.1:PORT
# itself (see peers/libspf2_run.c).
cc -O2 -o "$WORK/libspf2_run" "$HERE/peers/libspf2_run.c" -lspf2 -ldl
LIBSPF2="$WORK/libspf2_run"
# the round trip alone, for the stream's floor
cc -O2 -o "$WORK/udp_floor" "$HERE/peers/udp_floor.c"

if [ "$CHECK" = 1 ]; then
	# pyspf's other DNS library, for the runner's dnspython case: unpacked
	# beside the build (not installed: that would switch every pyspf on the
	# machine to it), when neither installed nor named by DNSPYTHON_PATH.
	if [ -z "${DNSPYTHON_PATH:-}" ] && ! "$PY" -c 'import dns.resolver' 2>/dev/null; then
		d="$BUILD/dnspython"
		if [ ! -d "$d/usr/lib/python3/dist-packages/dns" ]; then
			mkdir -p "$d"
			(cd "$d" && apt-get download -qq python3-dnspython >/dev/null 2>&1 &&
				dpkg-deb -x python3-dnspython_*.deb .) || true
		fi
		if [ -d "$d/usr/lib/python3/dist-packages/dns" ]; then
			DNSPYTHON_PATH="$d/usr/lib/python3/dist-packages"
			export DNSPYTHON_PATH
		fi
	fi
	rc=0
	"$PY" "$HERE/check_isolation.py" --zones "$WORK/zones" --nsd-port "$NSD_PORT" \
		--nsd-conf "$WORK/nsd.conf" --catcher "$CATCHER" --resolv "$WORK/resolv.conf" \
		--libspf2-run "$LIBSPF2" || rc=$?
	exit $rc
fi

SPFKIT_ARG="--spfkit $SPFKIT"
if ! "$SPFKIT" check --help 2>/dev/null | grep -q -- --nameserver; then
	echo "[run] this spfkit has no --nameserver yet: spfkit left out" >&2
	SPFKIT_ARG=""
fi

mkdir -p "$RAW"
cp "$WORK/zones/depth.tsv" "$RAW/"
# shellcheck disable=SC2086
"$PY" "$HERE/bench.py" --zones "$WORK/zones" --nsd-port "$NSD_PORT" --delay-port "$DELAY_PORT" \
	$SPFKIT_ARG --libspf2-run "$LIBSPF2" --udp-floor "$WORK/udp_floor" --isolate "$HERE/isolated $WORK/resolv.conf" \
	--nsd-conf "$WORK/nsd.conf" --catcher "$CATCHER" --concurrency "${CONCURRENCY:-64}" \
	--cold-sample "${COLD_SAMPLE:-150}" --mailspf-lines "${MAILSPF_LINES:-3000}" \
	--stream-lines "${STREAM_LINES:-2000}" --runs "${RUNS:-5}" \
	--only "${ONLY:-}" --out "$RAW/results.md" --raw "$RAW"

if [ -n "${SPFKIT_BIN:-}" ]; then
	echo "[run] SPFKIT_BIN: results in $RAW/results.md only" >&2
	exit 0
fi
{
	sed -n '1,/^<!-- results -->$/p' "$HERE/README.in"
	cat "$RAW/results.md"
	sed -n '/^<!-- end results -->$/,$p' "$HERE/README.in"
} >"$HERE/README.md"
echo "[run] wrote $HERE/README.md; raw outputs in $RAW" >&2
