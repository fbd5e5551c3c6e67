#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Installs what bench/run.sh needs on Debian 12 (as root, non-interactive):
# NSD (authoritative DNS on loopback), the three peers, and spfkit's build deps.
set -e
PKGS="nsd python3 python3-spf python3-dns python3-dnslib libmail-spf-perl libnet-dns-perl
      libspf2-dev libspf2-2 spfquery build-essential meson ninja-build pkg-config
      libunbound-dev libldns-dev libyaml-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
