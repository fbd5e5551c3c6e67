# SPDX-License-Identifier: BSD-2-Clause
# tests/diff/nsd.sh - sourced by tests/diff/run.sh after the zone-file
# cases: published.zone served by NSD on loopback (a port chosen here,
# stopped by PID), and a draft zone laid over its answers (--nameserver
# plus --zone DRAFT): the same differences as over the zone files. Uses
# ok, bad, $bin, $tmp, $P, $D of run.sh.
INT_TMP=$tmp/int
INT_PY=/usr/bin/python3
mkdir -p "$INT_TMP"
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
if int_serve "$tmp" "$P"; then
	for c in addinc rmrange many; do
		"$bin" diff "$c.owner.test" --zone "$P" --zone "$D/draft-$c.zone" >"$tmp/files" 2>&1
		"$bin" diff "$c.owner.test" --nameserver "127.0.0.1@$port" --zone "$D/draft-$c.zone" >"$tmp/dns" 2>"$tmp/e"
		rc=$?
		if [ $rc -eq 1 ] && cmp -s "$tmp/files" "$tmp/dns"; then ok; else
			bad "diff $c over NSD: exit $rc: $(cat "$tmp/e")"; diff "$tmp/files" "$tmp/dns" | head -n 5; fi
	done
	"$bin" diff same.owner.test --nameserver "127.0.0.1@$port" --zone "$D/draft-same.zone" >"$tmp/dns" 2>"$tmp/e"
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^no change$' "$tmp/dns"; then ok; else
		bad "identical draft over NSD: exit $rc: $(cat "$tmp/dns" "$tmp/e")"; fi
	nsd_stop
else
	bad "nsd did not start"
fi
