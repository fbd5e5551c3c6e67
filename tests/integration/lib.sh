# SPDX-License-Identifier: BSD-2-Clause
# tests/integration/lib.sh - sourced by run.sh: loopback servers started
# on ports chosen here and stopped by PID. Every server started is listed
# in $INT_PIDS; int_stop_all (run from the caller's EXIT trap) stops them.
# Needs: $INT_TMP (a private temporary directory), $INT_PY (python3 with
# dnslib and yaml: /usr/bin/python3 on Debian).

INT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INT_PIDS=()

# free_port: prints a port free on 127.0.0.1 for both UDP and TCP now.
free_port() {
	"$INT_PY" - <<'PY'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); continue
    t.close(); u.close()
    print(port)
    break
PY
}

# stop_pid PID: TERM, then KILL after 3 s; waits for it.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

int_stop_all() {
	local pid
	for pid in "${INT_PIDS[@]}"; do
		[ -n "$pid" ] && stop_pid "$pid"
	done
	INT_PIDS=()
}

# forget_pid PID: drops a stopped server from the list.
forget_pid() {
	local i
	for i in "${!INT_PIDS[@]}"; do
		[ "${INT_PIDS[$i]}" = "$1" ] && unset 'INT_PIDS[i]'
	done
}

# Writes to OUT a root zone NSD can serve (SOA, NS, the server's own A)
# holding the records of each master FILE (their $TTL lines dropped: one
# at the top applies to all).
int_root_zone() { # OUT FILE...
	local out=$1
	shift
	{
		echo '$TTL 3600'
		echo '. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60'
		echo '. IN NS ns.test.'
		echo 'ns.test. IN A 127.0.0.1'
		grep -hv '^\$TTL' "$@"
	} >"$out"
}

# int_serve DIR FILE...: the records of each master FILE in a root zone
# served by NSD on 127.0.0.1 at a free port, which it sets in $port, its
# files in DIR; every server started is stopped and DIR removed at exit.
# Returns 1 when NSD does not answer (nsd_start).
int_serve() { # DIR FILE...
	local dir=$1
	shift
	# shellcheck disable=SC2064 # DIR as it is now
	trap "int_stop_all; rm -rf '$dir'" EXIT
	int_root_zone "$dir/root.zone" "$@"
	port=$(free_port)
	nsd_start "$dir/nsd" "$dir/root.zone" "$port"
}

# nsd_start DIR ZONEFILE PORT: NSD in the foreground (-d) in the
# background, serving ZONEFILE as the root zone on 127.0.0.1@PORT, with
# every file it writes in DIR. Sets NSD_PID; returns 1 if it does not
# answer within 10 s (its log is printed).
nsd_start() {
	local dir=$1 zone=$2 port=$3
	mkdir -p "$dir"
	cat >"$dir/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$port
	port: $port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$dir"
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	server-count: 1
	verbosity: 1
	# Response rate limiting would drop a test's bursts from loopback.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	hide-version: yes
	identity: ""
	refuse-any: yes
remote-control:
	control-enable: no
zone:
	name: "."
	zonefile: "$zone"
CONF
	nsd-checkconf "$dir/nsd.conf" || return 1
	nsd -d -c "$dir/nsd.conf" >>"$dir/nsd.out" 2>&1 &
	NSD_PID=$!
	INT_PIDS+=("$NSD_PID")
	echo "$NSD_PID" >"$dir/run.pid"
	if ! "$INT_PY" "$INT_DIR/dnsq.py" --wait 10 "$port" . SOA >/dev/null; then
		echo "nsd did not answer on 127.0.0.1@$port:" >&2
		cat "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null
		return 1
	fi
}

nsd_stop() {
	stop_pid "$NSD_PID"
	forget_pid "$NSD_PID"
	NSD_PID=
}

# fault_start DIR PORT ARGS...: faultdns.py on 127.0.0.1@PORT. Sets
# FAULT_PID; waits until it answers its control name.
fault_start() {
	local dir=$1 port=$2; shift 2
	mkdir -p "$dir"
	"$INT_PY" "$INT_DIR/faultdns.py" --port "$port" "$@" >>"$dir/faultdns.out" 2>&1 &
	FAULT_PID=$!
	INT_PIDS+=("$FAULT_PID")
	if ! "$INT_PY" "$INT_DIR/dnsq.py" --wait 10 "$port" count.control. TXT >/dev/null; then
		echo "faultdns did not answer on 127.0.0.1@$port:" >&2
		cat "$dir/faultdns.out" >&2
		return 1
	fi
}

fault_stop() {
	stop_pid "$FAULT_PID"
	forget_pid "$FAULT_PID"
	FAULT_PID=
}

# fault_count PORT: queries the server received (the control name's own
# queries excluded).
fault_count() {
	"$INT_PY" "$INT_DIR/dnsq.py" "$1" count.control. TXT | sed -n 's/.* TXT "\(.*\)"/\1/p'
}
