#!/usr/bin/env bash
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
	usr/share/man/man1/spfkit-trace.1 usr/share/man/man1/spfkit-message.1 usr/share/man/man1/spfkit-srs.1 \
	usr/share/man/man8/spfkitd.8 usr/share/man/man5/spfkitd.conf.5; do
	[ -f "$tmp/root/$f" ] && ok || bad "missing /$f"
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
	# Every installed page renders without groff warnings.
	w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] && ok || bad "man page $(basename "$m"): $(echo "$w" | head -n 2)"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
