#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's second command: every test, in a normal build and under
# AddressSanitizer + UndefinedBehaviorSanitizer, plus a short run of each
# fuzz target. Ends with "N passed, N failed" (checks across all programs).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
suite=${SPFKIT_SUITE:-tests/rfc7208/suite/rfc7208-tests.yml}
[ -f "$suite" ] || { echo "test.sh: the RFC 7208 suite is not at $suite (set SPFKIT_SUITE)" >&2; exit 1; }
export SPFKIT_SUITE="$(realpath "$suite")"
passed=0 failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# Runs one test program, adds its closing counts to the totals.
count() { # name, command...
	local name=$1; shift
	local out="$log/$(echo "$name" | tr '/ ' '__').out"
	"$@" >"$out" 2>&1
	local rc=$?
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: exited $rc without a count"; tail -n 20 "$out"
		failed=$((failed + 1)); return
	fi
	local p f
	p=$(echo "$line" | cut -d' ' -f1); f=$(echo "$line" | cut -d' ' -f3)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then echo "FAIL $name ($line, exit $rc)"; grep -E 'FAIL|ERROR|Sanitizer|runtime error' "$out" | head -n 40; else echo "ok   $name ($line)"; fi
}

build() { # dir, meson options...
	local dir=$1; shift
	if [ ! -d "$dir" ]; then meson setup "$dir" -Dwerror=true "$@" >/dev/null || return 1; fi
	ninja -C "$dir" >"$log/ninja.out" 2>&1 || { cat "$log/ninja.out"; return 1; }
}

run_all() { # build dir, label
	local dir=$1 label=$2
	for t in "$dir"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		count "$label unit/$(basename "$t")" "$t"
	done
	count "$label rfc7208" "$dir/tests/rfc7208_runner" "$SPFKIT_SUITE"
	count "$label rfc7208 (prefetch off)" env SPFKIT_PREFETCH=0 "$dir/tests/rfc7208_runner" "$SPFKIT_SUITE"
	count "$label cli" tests/cli/run.sh "$dir/src/spfkit/spfkit"
	count "$label lint/tree/trace" tests/lint/run.sh "$dir/src/spfkit/spfkit"
	count "$label report (chromium)" tests/report/run.sh "$dir/src/spfkit/spfkit"
	count "$label message" tests/message/run.sh "$dir/src/spfkit/spfkit"
	count "$label flatten" tests/flatten/run.sh "$dir/src/spfkit/spfkit"
	count "$label diff" tests/diff/run.sh "$dir/src/spfkit/spfkit"
	count "$label dmarc" tests/dmarc/run.sh "$dir/src/spfkit/spfkit"
	count "$label daemon" tests/daemon/run.sh "$dir"
	count "$label daemon milter" /usr/bin/python3 tests/daemon/milter.py "$dir/src/spfkitd/spfkitd"
	count "$label daemon sendmail" /usr/bin/python3 tests/daemon/sendmail.py "$dir/src/spfkitd/spfkitd"
}

if build build; then run_all build plain; else echo "FAIL build"; failed=$((failed + 1)); fi
count "install" tests/install.sh
count "debian packages" scripts/deb.sh

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build build-asan -Db_sanitize=address,undefined -Dc_args=-fno-sanitize-recover=all -Db_lundef=false; then
	run_all build-asan asan
else
	echo "FAIL build-asan"; failed=$((failed + 1))
fi

# Real servers on loopback: NSD with the suite's zones, a fault-injecting
# DNS server, libunbound in between (the sanitizer build for the faults).
if [ -x build/src/spfkit/spfkit ] && [ -x build-asan/src/spfkit/spfkit ]; then
	count "integration (NSD, faults)" tests/integration/run.sh build build-asan
	count "soak (spfkitd, DNS faults)" tests/soak/run.sh build build-asan
	# spfkit against pyspf over generated worlds through NSD, in a
	# private network namespace (tests/differential/run.sh --long: more).
	count "differential (pyspf)" tests/differential/run.sh build
	count "soak abuse (spfkitd, all at once)" /usr/bin/python3 tests/soak/abuse.py \
		--bin build/src/spfkitd/spfkitd --tmp "$log/abuse"
fi

# spfkitd behind a real Postfix (private instance on loopback).
if [ -x build/src/spfkitd/spfkitd ]; then
	count "postfix (spfkitd)" tests/postfix/run.sh build
fi

# Two spfkitd behind one private Unbound in front of NSD (loopback): the
# second's checks reach NSD no more.
if [ -x build/src/spfkitd/spfkitd ]; then
	count "shared resolver (unbound, 2 spfkitd)" tests/shared-resolver/run.sh build
fi

# spfkitd against Debian's policyd-spf: the same policyd-spf.conf files,
# requests and DNS (NSD), in a private mount namespace.
if [ -x build/src/spfkitd/spfkitd ] && [ -x build-asan/src/spfkitd/spfkitd ]; then
	count "policyd-spf equivalence" tests/policyd/run.sh build
	count "policyd-spf equivalence (asan)" tests/policyd/run.sh build-asan
fi

# spfkit's DMARC (RFC 9989) against OpenDMARC's libopendmarc (RFC 7489):
# the same messages and DNS (NSD), in a private mount namespace.
count "dmarc differential (opendmarc)" tests/dmarc-differential/run.sh build
count "dmarc differential (opendmarc, asan)" tests/dmarc-differential/run.sh build-asan

# SRS against postsrsd with the same secrets (private instances on loopback).
count "srs (postsrsd)" tests/srs/run.sh build

# bench/ keeps every peer SPF library off the machine's resolver (private
# resolv.conf, queries counted at NSD): a peer left to resolv.conf is caught.
count "bench isolation" env SKIP_DEPS=1 bench/run.sh --check-isolation

if [ -x tests/fuzz/smoke.sh ]; then
	count "fuzz smoke" tests/fuzz/smoke.sh
fi

count "valgrind memcheck" scripts/valgrind.sh build
count "banned functions" scripts/check-banned.sh
count "format" scripts/check-format.sh
count "licence lines (SPDX)" scripts/check-spdx.sh

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
