#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's first command: install what is needed, build, and run
# spfkit check on the bundled contact-form example (no network).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
zone=examples/contact-form.zone
run() { echo "\$ spfkit check --zone $zone $*"; build/src/spfkit/spfkit check --zone "$zone" "$@" || true; echo; }
echo "# The web shop's contact form at 203.0.113.5 sends as the visitor:"
run --ip 203.0.113.5 --sender visitor@example.org --helo www.shop.example
echo "# The same form sending as the shop's own address:"
run --ip 203.0.113.5 --sender forms@shop.example --helo www.shop.example
