#!/usr/bin/env bash
# Installs the Debian 12 packages spfkit needs to build and test.
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail
pkgs=(build-essential clang-format meson ninja-build pkg-config libldns-dev libyaml-dev
      libunbound-dev libpsl-dev libevent-dev dns-root-data nsd ldnsutils python3-dnslib
      python3-yaml clang libclang-rt-14-dev man-db valgrind gcovr python3 postfix
      libmilter-dev libssl-dev postsrsd libgmime-3.0-dev python3-spf python3-dns iproute2
      debhelper dpkg-dev fakeroot lintian systemd chromium)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
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
