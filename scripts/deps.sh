#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian 12 packages spfkit needs to build and test.
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail
pkgs=(build-essential clang-format meson ninja-build pkg-config libldns-dev libyaml-dev
      libunbound-dev libpsl-dev libevent-dev dns-root-data nsd ldnsutils python3-dnslib
      python3-yaml clang libclang-rt-14-dev man-db valgrind gcovr python3 postfix
      libmilter-dev libssl-dev postsrsd libgmime-3.0-dev iproute2 unbound
      python3-spf python3-dns libmail-spf-perl libnet-dns-perl libspf2-dev spfquery
      debhelper dpkg-dev fakeroot lintian systemd
      postfix-policyd-spf-python chromium
      libopendkim-dev libopendmarc-dev python3-dkim opendkim-tools publicsuffix strace
      m4 libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2 libwrap0)
# Sendmail for tests/daemon/sendmail.py: sendmail-bin conflicts with postfix
# (tests/postfix), so it is unpacked, not installed, into SENDMAIL_ROOT
# (its libraries are above; the test runs it privately, never as a
# system service).
SENDMAIL_ROOT=${SPFKIT_SENDMAIL_ROOT:-/opt/spfkit-sendmail}
unpack_sendmail() {
	[ -x "$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail" ] && [ -d "$SENDMAIL_ROOT/usr/share/sendmail/cf" ] && return 0
	local d
	d=$(mktemp -d) && chmod 755 "$d" || return 1
	echo "spfkit: unpacking sendmail-bin and sendmail-cf into $SENDMAIL_ROOT" >&2
	local rc=0
	(cd "$d" && $SUDO apt-get download -qq sendmail-bin sendmail-cf 2>/dev/null) &&
		$SUDO mkdir -p "$SENDMAIL_ROOT" &&
		$SUDO dpkg-deb -x "$d"/sendmail-bin_*.deb "$SENDMAIL_ROOT" &&
		$SUDO dpkg-deb -x "$d"/sendmail-cf_*.deb "$SENDMAIL_ROOT" || rc=1
	$SUDO rm -rf "$d"
	return $rc
}
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
[ ${#missing[@]} -eq 0 ] && { unpack_sendmail; exit; }
echo "spfkit: installing ${missing[*]}" >&2
# Postfix installs unconfigured: tests/postfix runs private instances.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# The servers among these (nsd, postfix, postsrsd) are only run by the
# tests, privately on loopback: keep their packages from starting system
# daemons while they install (policy-rc.d, as Debian's container images
# have), unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# spfkit scripts/deps.sh: no service starts during this install\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && own_policy=yes
	trap '[ "$own_policy" = yes ] && $SUDO rm -f "$policy"' EXIT
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# postsrsd is only a peer for tests/srs (private instances on loopback):
# its package enables a system daemon, and starts it where services may
# start. Stop it and keep it from starting at boot.
if [[ " ${missing[*]} " == *" postsrsd "* ]]; then
	$SUDO service postsrsd stop >/dev/null 2>&1 || true
	if command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable postsrsd >/dev/null 2>&1 || true
	fi
	$SUDO update-rc.d postsrsd disable >/dev/null 2>&1 || true
fi
# unbound likewise: tests/shared-resolver runs private instances with
# their own config; the system resolver stays as it was.
if [[ " ${missing[*]} " == *" unbound "* ]]; then
	$SUDO service unbound stop >/dev/null 2>&1 || true
	if command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable unbound unbound-resolvconf >/dev/null 2>&1 || true
	fi
	$SUDO update-rc.d unbound disable >/dev/null 2>&1 || true
fi
unpack_sendmail
