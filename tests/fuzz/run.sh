#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Longer fuzzing campaigns: run.sh TARGET SECONDS, or run.sh all SECONDS
# (each target in turn), or run.sh totals. The work corpus of a target
# grows in .fuzz-work/<target>/corpus (git-ignored), seeded from
# tests/fuzz/corpus/<target>; crashes land in .fuzz-work/<target>/artifacts/.
# Every run appends a line to .fuzz-work/record.tsv (date, target, CPU
# seconds, executions, result, jobs); "run.sh totals" sums it per target for the table in
# tests/fuzz/README.md. SPFKIT_FUZZ_JOBS=N runs N libFuzzer jobs at once.
set -uo pipefail
cd "$(dirname "$0")/../.."

targets=(fuzz_record fuzz_macro fuzz_check fuzz_rdata fuzz_zone_yaml
         fuzz_zone_master fuzz_message fuzz_policy fuzz_milter fuzz_srs
         fuzz_socketmap fuzz_dmarc)
build=${SPFKIT_FUZZ_BUILD:-build-fuzz}
record=.fuzz-work/record.tsv

usage() {
	echo "usage: tests/fuzz/run.sh TARGET|all SECONDS | totals" >&2
	echo "targets: ${targets[*]}" >&2
	exit 2
}

totals() {
	[ -f "$record" ] || { echo "no runs recorded yet ($record)"; return; }
	printf '%-18s %10s %14s %s\n' target seconds executions findings
	awk -F'\t' '{ s[$2] += $3; x[$2] += $4; if ($5 != "clean") c[$2]++ }
		END { for (t in s) printf "%-18s %10d %14d %d\n", t, s[t], x[t], c[t] }' \
		"$record" | sort
}

[ $# -ge 1 ] || usage
if [ "$1" = totals ]; then totals; exit 0; fi
[ $# -eq 2 ] || usage
case $2 in '' | *[!0-9]*) usage ;; esac
if [ "$1" = all ]; then
	list=("${targets[@]}")
else
	list=("$1")
	[[ " ${targets[*]} " == *" $1 "* ]] || usage
fi

# Build (configure on first use), as smoke.sh does.
if [ ! -f "$build/build.ninja" ] || ! grep -q 'fuzz_record' "$build/build.ninja"; then
	CC=clang meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" || exit 1
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" || exit 1

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
jobs=${SPFKIT_FUZZ_JOBS:-1}
status=0
for t in "${list[@]}"; do
	w=.fuzz-work/$t
	mkdir -p "$w/corpus" "$w/artifacts"
	logf="$w/log-$(date +%Y%m%d-%H%M%S).txt"
	extra=()
	[ "$jobs" -gt 1 ] && extra=(-jobs="$jobs" -workers="$jobs")
	echo "== $t for $2 s (log $logf)"
	start=$SECONDS
	"$build/tests/fuzz/$t" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$w/artifacts/" "${extra[@]}" \
		"$w/corpus" "tests/fuzz/corpus/$t" >"$logf" 2>&1
	rc=$?
	elapsed=$((SECONDS - start))
	[ "$jobs" -gt 1 ] && cat fuzz-*.log >>"$logf" 2>/dev/null && rm -f fuzz-*.log
	execs=$(grep -E '^stat::number_of_executed_units' "$logf" | awk '{s += $2} END {print s + 0}')
	result=clean
	if [ "$rc" -ne 0 ]; then
		result=finding
		status=1
		echo "   FINDING: see $logf and $w/artifacts/"
		grep -E 'invariant failed|ERROR: |runtime error|SUMMARY' "$logf" | head -n 5
		echo "   make it a regression: copy the (minimized: $build/tests/fuzz/$t" \
			"-minimize_crash=1 -runs=10000 FILE) input to tests/fuzz/regressions/$t/"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" \
		"$((elapsed * jobs))" "$execs" "$result" "$jobs" >>"$record"
	echo "   $result, $execs executions"
done
totals
exit $status
