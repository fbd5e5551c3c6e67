#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/daemon/run.sh [BUILD_DIR] [CONNECTIONS] [REQUESTS] - spfkitd under
# a Postfix-like load: NSD on loopback serves bench.zone, spfkitd asks it
# (nameserver=, so the libunbound path with its cache), loadgen.c keeps
# CONNECTIONS policy connections busy for REQUESTS requests, each a new
# message (two checks: HELO and MAIL FROM). Prints requests/s, latency
# percentiles, lost and wrong answers, and spfkitd's RSS every 100,000
# requests. Everything stopped by PID.
set -u
cd "$(dirname "$0")/../.."
build=${1:-build-d}
nconn=${2:-200}
nreq=${3:-1000000}
bin=$build/src/spfkitd/spfkitd
[ -x "$bin" ] || { echo "no $bin (meson setup $build && ninja -C $build)"; exit 1; }
INT_TMP=$(mktemp -d)
INT_PY=/usr/bin/python3
. tests/integration/lib.sh
spfkitd_pid=""
trap '[ -n "$spfkitd_pid" ] && stop_pid "$spfkitd_pid"; int_stop_all; rm -rf "$INT_TMP"' EXIT

cc -O2 -Wall -Wextra -o "$INT_TMP/loadgen" bench/daemon/loadgen.c || exit 1
dns_port=$(free_port)
nsd_start "$INT_TMP/nsd" "$(pwd)/bench/daemon/bench.zone" "$dns_port" || exit 1
policy_port=$(free_port)
cat >"$INT_TMP/spfkitd.conf" <<CONF
listen = inet:127.0.0.1:$policy_port
nameserver = 127.0.0.1@$dns_port
log = stderr
receiver = mx.bench.example
max_connections = 1000
CONF
"$bin" -f -c "$INT_TMP/spfkitd.conf" 2>"$INT_TMP/spfkitd.log" &
spfkitd_pid=$!
for _ in $(seq 100); do
	"$INT_PY" -c "import socket; socket.create_connection(('127.0.0.1',$policy_port),1).close()" 2>/dev/null && break
	sleep 0.1
done
echo "spfkitd $("$bin" --version | cut -d' ' -f2), $(nproc) CPUs, $(uname -r)"
# Warm the cache, then the measured run.
"$INT_TMP/loadgen" 127.0.0.1 "$policy_port" 20 2000 >/dev/null || { echo "warm-up failed"; tail "$INT_TMP/spfkitd.log"; exit 1; }
"$INT_TMP/loadgen" 127.0.0.1 "$policy_port" "$nconn" "$nreq" "$spfkitd_pid"
rc=$?
echo "log lines (one per decision): $(grep -c ' decision ' "$INT_TMP/spfkitd.log")"
exit "$rc"
