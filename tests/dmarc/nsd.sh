# SPDX-License-Identifier: BSD-2-Clause
# tests/dmarc/nsd.sh - sourced by tests/dmarc/run.sh after the zone-file
# cases: dmarc.zone served by NSD on loopback (a port chosen here, stopped
# by PID) and asked through the libunbound driver (--nameserver): the same
# walks, queries and policies as over the zone file. Then a server that
# never answers: temperror. Uses ok, bad, $bin, $tmp, $D of run.sh.
INT_TMP=$tmp/int
INT_PY=/usr/bin/python3
mkdir -p "$INT_TMP"
# shellcheck source=../integration/lib.sh
. tests/integration/lib.sh
if int_serve "$tmp" "$D/dmarc.zone"; then
	for d in org.test sub.org.test nx.org.test a.b.c.d.e.f.g.h.i.j.mail.org.test \
		x.org1.psd.test x.mail.corp.test y.other.corp.test two.test mixed.test; do
		"$bin" dmarc "$d" --zone "$D/dmarc.zone" >"$tmp/files" 2>&1
		want=$?
		"$bin" dmarc "$d" --nameserver "127.0.0.1@$port" >"$tmp/dns" 2>"$tmp/e"
		rc=$?
		if [ $rc -eq $want ] && cmp -s "$tmp/files" "$tmp/dns"; then ok; else
			bad "dmarc $d over NSD: exit $rc (want $want): $(cat "$tmp/e")"
			diff "$tmp/files" "$tmp/dns" | head -n 8
		fi
	done
	nsd_stop
else
	bad "nsd did not start"
fi
# Nobody listens on this port: every query times out.
quiet=$(free_port)
"$bin" dmarc org.test --nameserver "127.0.0.1@$quiet" --timeout 1 >"$tmp/dns" 2>"$tmp/e"
rc=$?
if [ $rc -eq 2 ] && grep -q '^DMARC policy for org.test: temperror' "$tmp/dns"; then ok; else
	bad "a server that never answers: exit $rc: $(cat "$tmp/dns" "$tmp/e")"; fi
