#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The fuzz part of the test command: builds the libFuzzer targets in
# build-fuzz (clang, ASan + UBSan, configured here when missing), then for
# each target runs the regression inputs of tests/fuzz/regressions/<target>/
# and a short fuzzing run over its seed corpus (SPFKIT_FUZZ_SECONDS, 10 by
# default; new corpus entries go to a temporary directory, never into the
# repository). One line per target, then "N passed, N failed" with one
# check per target. A crash's input is kept under .fuzz-work/smoke/.
set -uo pipefail
cd "$(dirname "$0")/../.."

targets=(fuzz_record fuzz_macro fuzz_check fuzz_rdata fuzz_zone_yaml
         fuzz_zone_master fuzz_message fuzz_policy fuzz_milter fuzz_srs
         fuzz_socketmap fuzz_dmarc)
secs=${SPFKIT_FUZZ_SECONDS:-10}
build=${SPFKIT_FUZZ_BUILD:-build-fuzz}
n=${#targets[@]}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz smoke: clang is not installed (scripts/deps.sh installs it); skipped"
	echo "0 passed, 0 failed"
	exit 0
fi

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

fail_build() {
	echo "FAIL fuzz build: $1"
	tail -n 30 "$log/build.out"
	echo "0 passed, $n failed"
	exit 1
}

if [ ! -f "$build/build.ninja" ] || ! grep -q 'fuzz_record' "$build/build.ninja"; then
	wipe=()
	[ -f "$build/build.ninja" ] && wipe=(--wipe)
	CC=clang meson setup "${wipe[@]}" "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
		>"$log/build.out" 2>&1 || fail_build "meson setup $build"
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >"$log/build.out" 2>&1 ||
	fail_build "ninja -C $build"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
keep=.fuzz-work/smoke
passed=0 failed=0
for t in "${targets[@]}"; do
	exe="$build/tests/fuzz/$t"
	seeds="tests/fuzz/corpus/$t"
	regs=(tests/fuzz/regressions/"$t"/*)
	[ -e "${regs[0]}" ] || regs=()
	work="$log/$t"
	mkdir -p "$work/corpus" "$work/art"
	why=""
	# Each regression input on its own: libFuzzer stops at the first crash.
	for r in "${regs[@]}"; do
		if ! "$exe" -timeout=10 -rss_limit_mb=2048 "$r" >"$work/reg.out" 2>&1; then
			why="regression $r"
			cp "$work/reg.out" "$work/out"
			break
		fi
	done
	runs=""
	if [ -z "$why" ]; then
		if "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$work/art/" \
			"$work/corpus" "$seeds" >"$work/out" 2>&1; then
			runs=$(grep -E '^stat::number_of_executed_units' "$work/out" | awk '{print $2}')
		else
			why="fuzzing found a crash"
		fi
	fi
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "ok   $t (${#regs[@]} regressions, $(ls "$seeds" | wc -l) seeds, ${secs}s, ${runs:-?} runs)"
	else
		failed=$((failed + 1))
		mkdir -p "$keep/$t"
		cp -f "$work"/art/* "$keep/$t/" 2>/dev/null
		cp -f "$work/out" "$keep/$t/output.txt"
		echo "FAIL $t: $why (inputs and output kept in $keep/$t/)"
		grep -E 'invariant failed|ERROR: |runtime error|SUMMARY' "$work/out" | head -n 5
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
