#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fails when C sources call a function DESIGN.md §5 bans.
cd "$(dirname "$0")/.."
hits=$(grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strncpy|strtok|atoi|gets)[[:space:]]*\(' \
	--include='*.c' --include='*.h' common lib src include tests bench 2>/dev/null | grep -vE '^\S+:[0-9]+:\s*(//|/?\*)')
if [ -n "$hits" ]; then
	echo "banned calls (DESIGN.md §5):"; echo "$hits"
	echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
