#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Line and branch coverage of lib/ from the unit tests and the RFC 7208
# suite (both prefetch settings): a gcov build in build-cov, gcovr report.
# Usage: scripts/coverage.sh [--html DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
command -v gcovr >/dev/null || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcovr >/dev/null; }
suite=${SPFKIT_SUITE:-tests/rfc7208/suite/rfc7208-tests.yml}
[ -d build-cov ] || meson setup build-cov -Db_coverage=true --buildtype=debug >/dev/null
ninja -C build-cov >/dev/null
find build-cov -name '*.gcda' -delete
for t in build-cov/tests/test_*; do [ -f "$t" ] && [ -x "$t" ] && "$t" >/dev/null; done
build-cov/tests/rfc7208_runner "$suite" >/dev/null
SPFKIT_PREFETCH=0 build-cov/tests/rfc7208_runner "$suite" >/dev/null
build-cov/src/spfkit/spfkit check --zone examples/contact-form.zone --ip 203.0.113.5 --sender visitor@example.org >/dev/null || true
echo "lines:"
gcovr --root . --filter 'lib/' --object-directory build-cov 2>/dev/null
echo; echo "branches:"
gcovr --root . --filter 'lib/' --object-directory build-cov --branches 2>/dev/null
if [ "${1:-}" = "--html" ]; then
	mkdir -p "$2"
	gcovr --root . --filter 'lib/' --object-directory build-cov --html-details "$2/index.html"
	echo "html report in $2/index.html"
fi
