#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/shared-resolver/run.sh BUILD_DIR - two spfkitd behind one private
# Unbound in front of NSD, all on loopback (shared.py says what is shown).
# Ends with "N passed, N failed"; exit 1 on a failure.
set -u
build=${1:?usage: run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/spfkit-shared.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 tests/shared-resolver/shared.py "$build/src/spfkitd/spfkitd" "$tmp"
