#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fails when a C file of the project is not in the .clang-format style
# (DESIGN.md §10). Fix with: clang-format -i FILE.
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed"; echo "0 passed, 1 failed"; exit 1; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find lib src include tests bench -name '*.[ch]'); do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (clang-format -i $f)"; bad=$((bad + 1))
	fi
done
if [ "$bad" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
