#!/bin/sh
# run.sh - spfkit against pyspf, Mail::SPF and libspf2 on one generated SPF world.
#
# One command on a fresh Debian 12 machine (as root): installs the packages
# (bench/deps.sh), builds spfkit release into build-bench/, generates the
# zones and the query stream (bench/zones/gen.py), starts NSD and the 20 ms
# delay front (bench/dnsdelay.py) on free loopback ports, measures every
# implementation (bench/bench.py), writes bench/README.md, and stops the
# servers by PID. Only loopback DNS is ever asked.
#
# Environment: LINES_N (stream length, default 10000), COLD_SAMPLE (150),
# MAILSPF_LINES (3000), CONCURRENCY (spfkit --concurrency, 64),
# ONLY (comma list of implementations), SKIP_DEPS=1.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
BUILD="$TOP/build-bench"
RAW="$BUILD/bench-raw"

[ "${SKIP_DEPS:-0}" = 1 ] || "$HERE/deps.sh"

SPFKIT="$BUILD/src/spfkit/spfkit"
if ! { [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$TOP" --buildtype=release >/dev/null; } ||
	! ninja -C "$BUILD" >"$BUILD.log" 2>&1; then
	echo "[run] spfkit did not build (see $BUILD.log): spfkit left out" >&2
	SPFKIT=/nonexistent
fi

WORK=$(mktemp -d /tmp/spfkit-bench.XXXXXX)
NSD_PID=""
DELAY_PID=""
cleanup() {
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
remote-control:
    control-enable: no
zone:
    name: "."
    zonefile: "root.zone"
EOF
nsd -d -c "$WORK/nsd.conf" &
NSD_PID=$!
"$PY" "$HERE/dnsdelay.py" --listen "$DELAY_PORT" --upstream "$NSD_PORT" --delay-ms 20 &
DELAY_PID=$!
i=0
until "$PY" "$HERE/dnsctl.py" "$NSD_PORT" _spf.mailgrid.com TXT 2>/dev/null | grep -q v=spf1 &&
	"$PY" "$HERE/dnsctl.py" "$DELAY_PORT" _count.dnsdelay TXT >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "[run] NSD or the delay front did not come up" >&2; cat "$WORK/nsd.log" >&2; exit 1; }
	sleep 0.2
done
echo "[run] NSD on 127.0.0.1:$NSD_PORT (pid $NSD_PID), 20 ms front on 127.0.0.1:$DELAY_PORT (pid $DELAY_PID)" >&2

# libspf2: our runner points glibc's resolver state at loopback itself (see
# peers/libspf2_run.c); belt and braces, it also runs in a private mount
# namespace whose /etc/resolv.conf names only 127.0.0.1.
cc -O2 -o "$WORK/libspf2_run" "$HERE/peers/libspf2_run.c" -lspf2 -ldl
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' >"$WORK/resolv.conf"
cat >"$WORK/libspf2_wrapped" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "$WORK/resolv.conf" /etc/resolv.conf && exec "$WORK/libspf2_run" "\$@"' sh "\$@"
EOF
chmod +x "$WORK/libspf2_wrapped"
LIBSPF2="$WORK/libspf2_wrapped"
if ! echo | "$LIBSPF2" "$NSD_PORT" warm >/dev/null 2>&1; then
	echo "[run] unshare -m not available: libspf2 runs with the in-process override only" >&2
	LIBSPF2="$WORK/libspf2_run"
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
	$SPFKIT_ARG --libspf2-run "$LIBSPF2" --concurrency "${CONCURRENCY:-64}" \
	--cold-sample "${COLD_SAMPLE:-150}" --mailspf-lines "${MAILSPF_LINES:-3000}" \
	--only "${ONLY:-}" --out "$RAW/results.md" --raw "$RAW"

{
	sed -n '1,/^<!-- results -->$/p' "$HERE/README.in"
	cat "$RAW/results.md"
	sed -n '/^<!-- end results -->$/,$p' "$HERE/README.in"
} >"$HERE/README.md"
echo "[run] wrote $HERE/README.md; raw outputs in $RAW" >&2
