#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# scripts/deb.sh - builds the Debian packages from the tree and checks them:
# dpkg-buildpackage -b -us -uc (which runs the hermetic tests), lintian with
# no error and no warning, and what each package holds (the library and its
# symbols, the header and section-3 pages, the commands, spfkitd's conffile,
# unit and system user). Ends with "N passed, N failed".
#
#   scripts/deb.sh [OUTDIR]    the .deb files are left in OUTDIR when given
#
# The build happens in a copy of the tree (dpkg-buildpackage writes next to
# the source directory), so the working tree stays clean.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
end() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$t" >/dev/null || { bad "$t is missing (scripts/deps.sh installs it)"; end; }
done
out=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/spfkit"
mkdir -p "$src"
# Tracked files and new ones not ignored: what a release tarball holds.
git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$src" 2>/dev/null ||
	{ bad "copying the tree"; end; }

echo "deb: dpkg-buildpackage -b -us -uc (builds and runs the hermetic tests)" >&2
if (cd "$src" && dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1); then
	ok
else
	bad "dpkg-buildpackage failed; the end of its log:"
	tail -n 40 "$tmp/build.log"
	end
fi
changes=$(ls "$tmp"/spfkit_*.changes 2>/dev/null | head -n 1)
[ -n "$changes" ] && ok || { bad "no .changes file"; end; }

# lintian: no error, no warning (info and pedantic tags are not failures).
lintian --no-tag-display-limit "$changes" >"$tmp/lintian.txt" 2>&1
if grep -qE '^[EW]: ' "$tmp/lintian.txt"; then
	bad "lintian reports errors or warnings:"
	grep -E '^[EW]: ' "$tmp/lintian.txt"
else
	ok
fi

# What each package holds.
has() { # package, path (a glob), what
	local deb
	deb=$(ls "$tmp"/"$1"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		bad "no package $1"
		return
	fi
	# The whole listing first: grep -q ending early would make
	# dpkg-deb's write fail, and the pipeline with it.
	local list
	list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
	grep -qx "$2" <<<"$list" && ok || bad "$1 lacks $2 ($3)"
}
has libspfkit0 '/usr/lib/[^/]*/libspfkit\.so\.0\.[0-9.]*' "the library"
has libspfkit-dev '/usr/include/spfkit\.h' "the header"
has libspfkit-dev '/usr/lib/[^/]*/pkgconfig/spfkit\.pc' "pkg-config"
has libspfkit-dev '/usr/share/man/man3/spfkit_check_new\.3\.gz' "a function's man page"
has libspfkit-dev '/usr/share/doc/libspfkit-dev/examples/check-epoll\.c' "the examples"
has spfkit '/usr/bin/spfkit' "the command"
has spfkit '/usr/share/man/man1/spfkit\.1\.gz' "its man page"
has spfkitd '/usr/sbin/spfkitd' "the daemon"
has spfkitd '/etc/spfkitd\.conf' "its configuration"
has spfkitd '/lib/systemd/system/spfkitd\.service' "the unit, where bookworm's systemd looks"
has spfkitd '/usr/lib/sysusers\.d/spfkitd\.conf' "its system user"
deb=$(ls "$tmp"/spfkitd_*.deb 2>/dev/null | head -n 1)
if [ -n "$deb" ]; then
	conff=$(dpkg-deb -I "$deb" conffiles 2>/dev/null)
	grep -qx /etc/spfkitd.conf <<<"$conff" && ok || bad "/etc/spfkitd.conf is not a conffile"
	# Nothing that needs configuring first is started: the unit is
	# installed but not enabled or started by the maintainer scripts.
	dpkg-deb -e "$deb" "$tmp/ctl"
	if grep -qs 'deb-systemd-invoke.*start\|systemctl.*start' "$tmp"/ctl/postinst; then
		bad "spfkitd's postinst starts the service"
	else
		ok
	fi
	grep -qs 'systemd-sysusers' "$tmp"/ctl/postinst && ok || bad "spfkitd's postinst does not create the system user"
fi
# The symbols file matches (dh_makeshlibs -c4 fails the build otherwise):
# here, that the package has one.
deb=$(ls "$tmp"/libspfkit0_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] && dpkg-deb -I "$deb" symbols >/dev/null 2>&1 && ok || bad "libspfkit0 has no symbols file"

if [ -n "$out" ]; then
	mkdir -p "$out" && cp "$tmp"/*.deb "$out"/ && echo "deb: packages in $out" >&2
fi
end
