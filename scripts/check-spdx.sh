#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# scripts/check-spdx.sh - every source file of the project names its
# licence in an SPDX line within its first five lines (LICENSE: BSD-2-Clause;
# the openspf suite in tests/rfc7208/suite/ keeps its own licence, and test
# data, corpora and fixtures carry none). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0 fail=0
while IFS= read -r -d '' f; do
	case "$f" in
	tests/rfc7208/suite/* | */corpus/* | */regressions/*) continue ;;
	esac
	[ -L "$f" ] && continue # a link: its target is checked
	if head -n 5 "$f" | grep -q 'SPDX-License-Identifier: BSD-2-Clause'; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $f has no 'SPDX-License-Identifier: BSD-2-Clause' line near its top"
	fi
done < <(git ls-files -z -co --exclude-standard -- '*.c' '*.h' '*.py' '*.sh' '*.pl' \
	'meson.build' '*/meson.build' 'meson_options.txt' '.ci/run' 'debian/rules' \
	'*.map' '*.service' '*.sysusers' 'man/*.[1358]')
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
