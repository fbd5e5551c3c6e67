#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/soak/run.sh BUILD_DIR [SANITIZER_BUILD_DIR] - the fault-injection
# soak of spfkitd (README.md here): soak.py against BUILD_DIR's daemon with
# mailfrom_temperror = defer and = accept, then (if given) the same, smaller,
# against SANITIZER_BUILD_DIR's (LeakSanitizer on: a clean exit at SIGTERM
# with no report). Ends with one "N passed, N failed" line; exit 1 on a
# failure. Knobs (environment): SOAK_REQUESTS (10000), SOAK_ASAN_REQUESTS
# (3000), SOAK_CLIENTS (100), SOAK_SEED (1), SOAK_P_FAULT (0.3),
# SOAK_KINDS (all), SOAK_RSS_BOUND_MIB (32).
set -u
build=${1:?usage: run.sh BUILD_DIR [SANITIZER_BUILD_DIR]}
asan=${2:-}
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
tmp=$(mktemp -d)
# soak.py stops what it starts; this catches what a killed soak.py left.
cleanup() {
	local f pid
	for f in "$tmp"/*/pids; do
		[ -f "$f" ] || continue
		while read -r pid; do
			[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
		done <"$f"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0 fail=0

n=${SOAK_REQUESTS:-10000}
na=${SOAK_ASAN_REQUESTS:-3000}
common=(--clients "${SOAK_CLIENTS:-100}" --seed "${SOAK_SEED:-1}"
	--p-fault "${SOAK_P_FAULT:-0.3}" --rss-bound-mib "${SOAK_RSS_BOUND_MIB:-32}")
[ -n "${SOAK_KINDS:-}" ] && common+=(--kinds "$SOAK_KINDS")

# soak LABEL BIN ARGS...: one soak.py run; its counts join ours.
soak() {
	local label=$1 bin=$2; shift 2
	local dir=$tmp/$label out line p f rc
	mkdir -p "$dir"
	out=$dir/out
	if [ ! -x "$bin" ]; then
		echo "FAIL $label: no $bin"; fail=$((fail + 1)); return
	fi
	$PY tests/soak/soak.py --bin "$bin" --tmp "$dir" --label "$label" \
		"${common[@]}" "$@" >"$out" 2>&1
	rc=$?
	grep -E '^(FAIL|stats )' "$out"
	grep -E '^Traceback' -A 20 "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $label: soak.py exited $rc without a count"; tail -n 20 "$out"
		fail=$((fail + 1)); return
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		# Keep the evidence: the daemon's log and the wrong replies.
		local keep=${SOAK_KEEP:-/tmp/spfkit-soak-failed}/$label
		mkdir -p "$keep" && cp "$dir"/spfkitd.log "$dir"/wrong.txt "$dir"/spfkitd.conf "$keep"/ 2>/dev/null
		echo "($label: daemon log and wrong replies kept in $keep)"
	fi
}

soak plain-defer "$build/src/spfkitd/spfkitd" --requests "$n" --temperror defer
soak plain-accept "$build/src/spfkitd/spfkitd" --requests $((n / 2)) --temperror accept
if [ -n "$asan" ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	case $ASAN_OPTIONS in *detect_leaks=1*) ;; *) ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=1 ;; esac
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	soak asan-defer "$asan/src/spfkitd/spfkitd" --requests "$na" --temperror defer --sanitizer
	soak asan-accept "$asan/src/spfkitd/spfkitd" --requests $((na / 2)) --temperror accept --sanitizer
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
