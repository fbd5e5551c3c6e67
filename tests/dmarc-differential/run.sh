#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/dmarc-differential/run.sh BUILD_DIR - spfkit's DMARC (RFC 9989)
# against OpenDMARC's libopendmarc (RFC 7489) on the same messages and the
# same DNS (diff.py says what is compared; doc/conformance.md why they
# differ where they do). libopendmarc reads /etc/resolv.conf, so
# everything runs in a private mount namespace (unshare -m) where a
# bind-mounted resolv.conf names the test's own NSD on a loopback address
# chosen here (port 53: resolv.conf cannot carry a port); the machine's
# resolv.conf is never read. Ends with "N passed, N failed".
set -u
build=${1:?usage: run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$root/$build/src/spfkit/spfkit
fail_all() { echo "dmarc-differential: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail_all "no $bin"
[ -r /usr/include/opendmarc/dmarc.h ] || fail_all "libopendmarc-dev is not installed (scripts/deps.sh)"
[ -r /usr/share/publicsuffix/public_suffix_list.dat ] || fail_all "no public suffix list (publicsuffix)"
command -v nsd >/dev/null && command -v nsd-control >/dev/null || fail_all "nsd is not installed (scripts/deps.sh)"
command -v unshare >/dev/null || fail_all "no unshare (util-linux)"
ns=(unshare -m)
[ "$(id -u)" -eq 0 ] || ns=(unshare -r -m)

tmp=$(mktemp -d /tmp/spfkit-dmarcdiff.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Werror -o "$tmp/odmarc" tests/dmarc-differential/odmarc.c -lopendmarc ||
	fail_all "odmarc.c does not build"
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
"${ns[@]}" sh -c 'mount --bind "$1" /etc/resolv.conf && exec /usr/bin/python3 "$2" "$3" "$4" "$5" "$6"' \
	sh "$tmp/resolv.conf" "$root/tests/dmarc-differential/diff.py" "$bin" "$tmp/odmarc" "$tmp" "$addr"
