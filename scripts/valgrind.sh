#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Valgrind memcheck over the unit tests and the RFC 7208 suite runner (a
# plain build, no sanitizers): zero errors, zero leaks, or it fails.
# Ends with "N passed, N failed" (one per program).
set -u
cd "$(dirname "$0")/.."
dir=${1:-build}
suite=${SPFKIT_SUITE:-tests/rfc7208/suite/rfc7208-tests.yml}
pass=0 fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
vg() { # name, command...
	local name=$1; shift
	if valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "FAIL valgrind $name"; grep -E '==[0-9]+==' "$log" | head -n 30
	fi
}
for t in "$dir"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	vg "$(basename "$t")" "$t"
done
vg rfc7208 "$dir/tests/rfc7208_runner" "$suite"
export SPFKIT_PREFETCH=0
vg "rfc7208 (prefetch off)" "$dir/tests/rfc7208_runner" "$suite"
unset SPFKIT_PREFETCH
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
