#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/install.sh - the install step as a packager runs it: files land
# where Debian expects them, pkg-config finds the library, a program built
# against the installed header runs a check, and the shared library
# exports spfkit_* names only. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson setup "$tmp/build" --prefix=/usr >/dev/null && ninja -C "$tmp/build" >/dev/null &&
	DESTDIR="$tmp/root" meson install -C "$tmp/build" >/dev/null 2>&1 || { bad "meson install"; echo "$pass passed, $fail failed"; exit 1; }
# The library's own directory (usr/lib/<multiarch>/), not lib/systemd/.
libdir=$(dirname "$(find "$tmp"/root/usr/lib -name 'libspfkit.so.*' -print 2>/dev/null | head -n 1)")/
for f in usr/bin/spfkit usr/sbin/spfkitd usr/include/spfkit.h \
	usr/lib/systemd/system/spfkitd.service usr/lib/sysusers.d/spfkitd.conf usr/share/doc/spfkit/examples/spfkitd.conf \
	usr/share/man/man1/spfkit.1 usr/share/man/man1/spfkit-lint.1 usr/share/man/man1/spfkit-tree.1 \
	usr/share/man/man1/spfkit-trace.1 usr/share/man/man1/spfkit-message.1 usr/share/man/man1/spfkit-srs.1 usr/share/man/man1/spfkit-flatten.1 \
	usr/share/man/man1/spfkit-diff.1 \
	usr/share/man/man1/spfkit-report.1 usr/share/man/man1/spfkit-dmarc.1 \
	usr/share/man/man8/spfkitd.8 usr/share/man/man5/spfkitd.conf.5; do
	[ -f "$tmp/root/$f" ] && ok || bad "missing /$f"
done
# Every page of the tree, whatever the list above forgets.
for m in man/*.[158]; do
	sec=${m##*.}
	[ -f "$tmp/root/usr/share/man/man$sec/${m#man/}" ] && ok || bad "man page ${m#man/} not installed"
done
[ -f "$libdir/libspfkit.so.0" ] && [ -L "$libdir/libspfkit.so" ] && ok || bad "libspfkit.so{,.0} not installed"
[ -f "$libdir/pkgconfig/spfkit.pc" ] && ok || bad "spfkit.pc not installed"

cat >"$tmp/demo.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <spfkit.h>
int main(void)
{
	spfkit_config *cfg; spfkit_zone *z; spfkit_check *chk;
	static const unsigned char txt[] = "\x0bv=spf1 -all";
	if (spfkit_config_new(&cfg, NULL) || spfkit_zone_new(&z, cfg) ||
	    spfkit_zone_add(z, "example.org", SPFKIT_TYPE_TXT, 60, txt, sizeof txt - 1) ||
	    spfkit_check_new(&chk, cfg) || spfkit_check_set_ip(chk, "192.0.2.1") ||
	    spfkit_check_set_sender(chk, "a@example.org", 13) || spfkit_zone_check(z, chk, 0))
		return 2;
	printf("%s\n", spfkit_result_name(spfkit_check_result(chk)));
	spfkit_check_free(chk); spfkit_zone_free(z); spfkit_config_free(cfg);
	return 0;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
if flags=$(pkg-config --cflags --libs spfkit) && cc -std=c11 -Wall -Werror "$tmp/demo.c" $flags -o "$tmp/demo" &&
	[ "$(LD_LIBRARY_PATH="$libdir" "$tmp/demo")" = fail ]; then ok; else bad "program built with pkg-config"; fi

# Hidden visibility: nothing but the public API is exported.
others=$(nm -D --defined-only "$libdir/libspfkit.so.0" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^spfkit_' | grep -v '^_' || true)
[ -z "$others" ] && ok || bad "exported non-API symbols: $(echo $others | head -c 200)"
nm -D --defined-only "$libdir/libspfkit.so.0" | grep -q ' spfkit__' && bad "internal spfkit__ symbols exported" || ok

# Every exported function has a man3 page of its name (the page, or a link
# to it) that resolves to a real page listing it under NAME, and is listed
# by exactly one page: `man spfkit_check_new` works for each, and whatis
# finds it. No link names a function the library does not export.
man3="$tmp/root/usr/share/man/man3"
man_names() { # the names a page's NAME section lists
	awk '/^\.SH/ {n = ($2 == "NAME"); next} n' "$1" | tr '\n' ' ' | sed 's/\\-.*//' | grep -o 'spfkit_[a-z0-9_]*'
}
funcs=$(nm -D --defined-only "$libdir/libspfkit.so.0" | awk '{sub(/@.*/, "", $3); print $3}' | grep '^spfkit_' | sort -u)
listed=$(for p in "$man3"/*.3; do [ -L "$p" ] || man_names "$p"; done)
nfuncs=$(echo "$funcs" | wc -w) ndecl=$(grep -c '^SPFKIT_API ' "$tmp/root/usr/include/spfkit.h")
[ -f "$man3/spfkit.3" ] && [ "$nfuncs" -gt 0 ] && [ "$nfuncs" -eq "$ndecl" ] && ok ||
	bad "man3/spfkit.3, or $nfuncs exported spfkit_ functions for $ndecl declared in spfkit.h"
for f in $funcs; do
	p="$man3/$f.3"
	n=$(echo "$listed" | grep -cx "$f")
	if [ ! -f "$p" ]; then
		bad "man3/$f.3 is missing or dangling"
	elif ! man_names "$(readlink -f "$p")" | grep -qx "$f"; then
		bad "man3/$f.3 opens $(basename "$(readlink -f "$p")"), which does not list $f under NAME"
	elif [ "$n" -ne 1 ]; then
		bad "$f is listed under NAME by $n pages, not one"
	else ok; fi
done
for p in "$man3"/*.3; do
	[ -L "$p" ] || continue
	echo "$funcs" | grep -qx "$(basename "$p" .3)" || bad "man3 link $(basename "$p") names no exported function"
done

# The example programs, as a library user builds them from the installed
# package, run against NSD on loopback serving the bundled example zone:
# one check in one call, and many at once in an epoll loop.
for ex in check-blocking check-epoll; do
	if cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "examples/$ex.c" $flags -o "$tmp/$ex"; then ok; else bad "example $ex does not build"; fi
done
INT_TMP="$tmp/int" INT_PY=/usr/bin/python3
mkdir -p "$INT_TMP"
. tests/integration/lib.sh
trap 'int_stop_all; rm -rf "$tmp"' EXIT
{ printf '. 3600 IN SOA ns. host. 1 3600 600 86400 300\n. 3600 IN NS ns.\nns. 3600 IN A 127.0.0.1\n'
  cat examples/contact-form.zone; } >"$INT_TMP/root.zone"
port=$(free_port)
if nsd_start "$INT_TMP/nsd" "$INT_TMP/root.zone" "$port"; then
	export LD_LIBRARY_PATH="$libdir"
	out=$("$tmp/check-blocking" 203.0.113.5 visitor@example.org www.shop.example "127.0.0.1@$port"); rc=$?
	[ $rc -eq 1 ] && [ "$(echo "$out" | head -n 1)" = fail ] && echo "$out" | grep -q '^explanation: 203.0.113.5 may not send as example.org' &&
		echo "$out" | grep -q '^Received-SPF: fail' && ok || bad "check-blocking fail case: exit $rc: $out"
	out=$("$tmp/check-blocking" 203.0.113.5 forms@shop.example www.shop.example "127.0.0.1@$port"); rc=$?
	[ $rc -eq 0 ] && [ "$(echo "$out" | head -n 1)" = pass ] && ok || bad "check-blocking pass case: exit $rc: $out"
	lines=$'203.0.113.5 forms@shop.example www.shop.example\n203.0.113.5 visitor@example.org\n2001:db8:113::9 forms@shop.example\n198.51.100.25 news@example.org\n192.0.2.77 a@nothing.example\n203.0.113.5 <> www.shop.example'
	got=$(printf '%s\n' "$lines" | "$tmp/check-epoll" "127.0.0.1@$port"); rc=$?
	want=$(printf '%s\n' "$lines" | while read -r ip s h; do
		r=$("$tmp/build/src/spfkit/spfkit" check --zone examples/contact-form.zone --ip "$ip" --sender "$s" ${h:+--helo "$h"} --format json |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])')
		echo "$ip $s $r"; done)
	[ $rc -eq 0 ] && [ "$got" = "$want" ] && ok || bad "check-epoll: exit $rc, got [$got] want [$want]"
	unset LD_LIBRARY_PATH
	nsd_stop
else
	bad "NSD for the examples did not start"
fi

# The unit (issue 17): it names the installed daemon, systemd accepts it
# (its binary and man pages from the install), it is confined (exposure
# 2.5 or better), and its user comes from the sysusers.d file.
unit=$tmp/root/usr/lib/systemd/system/spfkitd.service
grep -q '^ExecStart=/usr/sbin/spfkitd -f ' "$unit" && ok || bad "spfkitd.service: ExecStart is not /usr/sbin/spfkitd"
sed "s|/usr/sbin/spfkitd|$tmp/root/usr/sbin/spfkitd|g" "$unit" >"$tmp/spfkitd.service"
if command -v systemd-analyze >/dev/null; then
	v=$(cd "$tmp" && MANPATH="$tmp/root/usr/share/man" systemd-analyze verify "$tmp/spfkitd.service" 2>&1) && [ -z "$v" ] && ok ||
		bad "systemd-analyze verify spfkitd.service: $v"
	score=$(systemd-analyze security --offline=yes "$tmp/spfkitd.service" 2>&1 | sed -n 's/.*Overall exposure level for spfkitd.service: \([0-9.]*\).*/\1/p')
	systemd-analyze security --offline=yes --threshold=25 "$tmp/spfkitd.service" >/dev/null 2>&1 && ok ||
		bad "spfkitd.service exposure ${score:-unknown} (2.5 or better wanted)"
	echo "spfkitd.service exposure: $score"
fi
user=$(sed -n 's/^User=//p' "$unit")
[ "$user" = spfkitd ] && grep -qE "^u $user " "$tmp/root/usr/lib/sysusers.d/spfkitd.conf" && ok ||
	bad "the unit's user ($user) is not made by sysusers.d/spfkitd.conf"
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$tmp/sysroot/etc"
	(cd "$tmp" && systemd-sysusers --root "$tmp/sysroot" --dry-run - <"$tmp/root/usr/lib/sysusers.d/spfkitd.conf" 2>&1) |
		grep -q "Creating user 'spfkitd'" && ok || bad "systemd-sysusers does not make spfkitd from sysusers.d/spfkitd.conf"
fi
# The example configuration is safe as shipped: -t takes it (as nobody, the
# spfkitd user does not exist here) with no warning (loopback only).
sed 's/^user = spfkitd$/user = nobody/' "$tmp/root/usr/share/doc/spfkit/examples/spfkitd.conf" >"$tmp/example.conf"
chmod 0755 "$tmp"; chmod 0644 "$tmp/example.conf"
w=$(LD_LIBRARY_PATH="$libdir" "$tmp/root/usr/sbin/spfkitd" -t -c "$tmp/example.conf" 2>&1) && ! echo "$w" | grep -qi warn && ok ||
	bad "spfkitd -t on the example configuration: $w"
# -Dsystemdsystemunitdir=no -Dsysusersdir=no: neither is installed.
if meson configure "$tmp/build" -Dsystemdsystemunitdir=no -Dsysusersdir=no >/dev/null &&
	DESTDIR="$tmp/root2" meson install -C "$tmp/build" >/dev/null 2>&1 &&
	[ -f "$tmp/root2/usr/sbin/spfkitd" ] && ! find "$tmp/root2" -name 'spfkitd.service' -o -name sysusers.d | grep -q .; then
	ok
else
	bad "-Dsystemdsystemunitdir=no -Dsysusersdir=no still installed the unit or sysusers file"
fi

for m in "$tmp"/root/usr/share/man/man*/*; do
	# Every installed page renders without groff warnings (a man3 link is
	# its page again: checked above that it resolves to one).
	[ -L "$m" ] && continue
	w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] && ok || bad "man page $(basename "$m"): $(echo "$w" | head -n 2)"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
