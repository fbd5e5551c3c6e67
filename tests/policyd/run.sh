#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/policyd/run.sh BUILD_DIR - spfkitd as a drop-in for Debian's
# policyd-spf (postfix-policyd-spf-python): equiv.py runs both with the
# same policyd-spf.conf(5) files over the same request stream against the
# same DNS and compares their actions. policyd-spf reads /etc/resolv.conf,
# so everything runs in a private mount namespace (unshare -m) where a
# bind-mounted resolv.conf names the test's own server on a loopback
# address chosen here (port 53: resolv.conf cannot carry a port); the
# machine's resolv.conf is never read. Ends with "N passed, N failed".
set -u
build=${1:?usage: run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$root/$build/src/spfkitd/spfkitd
fail_all() { echo "policyd: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail_all "no $bin"
[ -x /usr/bin/policyd-spf ] || fail_all "policyd-spf is not installed (scripts/deps.sh: postfix-policyd-spf-python)"
command -v nsd >/dev/null && command -v nsd-control >/dev/null || fail_all "nsd is not installed (scripts/deps.sh)"
command -v unshare >/dev/null || fail_all "no unshare (util-linux)"
# A mount namespace of one's own needs CAP_SYS_ADMIN: root, or a user
# namespace mapping us to root.
ns=(unshare -m)
[ "$(id -u)" -eq 0 ] || ns=(unshare -r -m)

tmp=$(mktemp -d /tmp/spfkit-policyd.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# A loopback address nobody serves port 53 on (127.0.0.0/8 is all ours).
addr=
for _ in 1 2 3 4 5 6 7 8; do
	a=127.53.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	if /usr/bin/python3 -c "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],53))" "$a" 2>/dev/null; then
		addr=$a
		break
	fi
done
[ -n "$addr" ] || fail_all "no free loopback address for port 53"
printf 'nameserver %s\n' "$addr" >"$tmp/resolv.conf"
"${ns[@]}" sh -c 'mount --bind "$1" /etc/resolv.conf && exec /usr/bin/python3 "$2" "$3" "$4" "$5"' \
	sh "$tmp/resolv.conf" "$root/tests/policyd/equiv.py" "$bin" "$tmp" "$addr"
