# SPDX-License-Identifier: BSD-2-Clause
# tests/flatten/nsd.sh - sourced by tests/flatten/run.sh after the zone-file
# cases: the same trees served by NSD on loopback (a port chosen here,
# stopped by PID), flattened over real DNS (--nameserver) and checked for
# drift there. The proof then lays the snippet over libunbound's answers
# (the zone answers its own names first), and the records must be those
# the zone files gave. Uses ok, bad, $bin, $tmp, $Z of run.sh.
INT_TMP=$tmp/int
INT_PY=/usr/bin/python3
mkdir -p "$INT_TMP"
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
if int_serve "$tmp" "$Z"; then
	ok
	for d in google.owner.test mixed.owner.test ses.owner.test sparkpost.owner.test; do
		"$bin" flatten "$d" --nameserver "127.0.0.1@$port" >"$tmp/dns-$d.zone" 2>"$tmp/e"
		rc=$?
		if [ $rc -eq 0 ] && cmp -s "$tmp/dns-$d.zone" "$tmp/$d.zone"; then ok; else
			bad "flatten $d over NSD: exit $rc: $(cat "$tmp/e")"; diff "$tmp/$d.zone" "$tmp/dns-$d.zone" | head -n 5; fi
	done
	"$bin" flatten google.owner.test --nameserver "127.0.0.1@$port" --check "$tmp/google.owner.test.zone" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "--check over NSD: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
	# Drift over real DNS: the drifted range laid over NSD's answers.
	"$bin" flatten google.owner.test --nameserver "127.0.0.1@$port" --zone "$tmp/drift.zone" \
		--check "$tmp/google.owner.test.zone" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	if [ $rc -eq 1 ] && grep -q '^drift: include:_netblocks.goog.test changed' "$tmp/o"; then ok; else
		bad "--check drift over NSD: exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
	nsd_stop
else
	bad "nsd did not start"
fi
