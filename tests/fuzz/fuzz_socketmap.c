/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_socketmap.c - the socketmap netstrings of spfkitd
 * (src/spfkitd/socketmap.c) on hostile connection bytes. The input is one
 * connection's stream: its first byte picks how the stream is cut into
 * reads (1 to 256 bytes at a time), and the framer runs as socketmap_session.c
 * runs it. Beyond "no crash" it checks what socketmap.h promises: the framer
 * never claims more than it was given, a request is "LEN:DATA," with LEN
 * the data's length and within the cap, the split's views lie inside the
 * data, a verdict does not depend on how the reads were cut, and a reply
 * built from any data frames back to the same bytes.
 */
#include "fuzz_common.h"
#include "socketmap.h"

#define MAX_REQS 4096

typedef struct seen {
	size_t n;
	size_t start[MAX_REQS], len[MAX_REQS];
	bool bad; /* the stream ended in a BAD verdict */
} seen;

/* Is v inside d? */
static bool inside(spfkitd_view v, spfkitd_view d)
{
	return v.ptr >= d.ptr && (size_t)(v.ptr - d.ptr) <= d.len &&
	       v.len <= d.len - (size_t)(v.ptr - d.ptr);
}

/* Checks one request's data: split, and a reply made of it. */
static void check_data(spfkitd_view d)
{
	spfkitd_view name, key;
	if (spfkitd_sm_split(d, &name, &key)) {
		FZ_ASSERT(inside(name, d) && inside(key, d), "split outside");
		FZ_ASSERT(name.len > 0 && key.len > 0, "empty name or key");
		FZ_ASSERT(name.len + 1 + key.len == d.len, "split lost bytes");
		FZ_ASSERT(memchr(name.ptr, ' ', name.len) == NULL,
			  "space in the name");
	}
	/* A reply holding the data as its value frames back (when under
	 * the request cap, which replies do not have). */
	static char out[SPFKITD_SOCKETMAP_MAX + 64];
	size_t n = spfkitd_sm_reply(out, sizeof out, "OK", d);
	FZ_ASSERT(n <= sizeof out, "reply of %zu", n);
	spfkitd_view back;
	size_t total = 0;
	spfkitd_sm_status st = spfkitd_sm_frame(out, n, &back, &total);
	if (d.len + 3 <= SPFKITD_SOCKETMAP_MAX) {
		FZ_ASSERT(st == SPFKITD_SM_REQUEST && total == n,
			  "reply does not frame");
		FZ_ASSERT(back.len == d.len + 3 &&
			      memcmp(back.ptr, "OK ", 3) == 0 &&
			      memcmp(back.ptr + 3, d.ptr, d.len) == 0,
			  "reply data differs");
	}
	/* Too small a buffer: the length needed, nothing claimed. */
	char tiny[4];
	FZ_ASSERT(spfkitd_sm_reply(tiny, sizeof tiny, "NOTFOUND",
				   (spfkitd_view){"", 0}) == 12,
		  "NOTFOUND length");
}

/* Frames the stream read by read (chunk octets at a time, 0: all at
 * once), as socketmap_session.c does. */
static void frame_stream(const char *s, size_t n, size_t chunk, seen *out)
{
	char *buf = malloc(n ? n : 1);
	FZ_ASSERT(buf != NULL, "malloc");
	size_t have = 0, fed = 0, base = 0;
	out->n = 0;
	out->bad = false;
	while (fed < n && !out->bad) {
		size_t take = chunk && n - fed > chunk ? chunk : n - fed;
		memcpy(buf + have, s + fed, take);
		have += take;
		fed += take;
		for (;;) {
			spfkitd_view d = {NULL, 0};
			size_t total = 0;
			spfkitd_sm_status st =
			    spfkitd_sm_frame(buf, have, &d, &total);
			if (st == SPFKITD_SM_MORE) {
				FZ_ASSERT(have <= SPFKITD_SOCKETMAP_MAX +
						      SPFKITD_SOCKETMAP_DIGITS +
						      2,
					  "MORE after %zu octets", have);
				break;
			}
			if (st == SPFKITD_SM_BAD) {
				out->bad = true;
				break;
			}
			FZ_ASSERT(total > 0 && total <= have,
				  "framer took %zu of %zu", total, have);
			FZ_ASSERT(d.len <= SPFKITD_SOCKETMAP_MAX, "data %zu",
				  d.len);
			FZ_ASSERT(d.ptr > buf &&
				      d.ptr + d.len + 1 == buf + total,
				  "data not where it should be");
			FZ_ASSERT(buf[total - 1] == ',' && d.ptr[-1] == ':',
				  "not LEN:DATA,");
			check_data(d);
			if (out->n < MAX_REQS) {
				out->start[out->n] = base;
				out->len[out->n] = total;
				out->n++;
			}
			memmove(buf, buf + total, have - total);
			have -= total;
			base += total;
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 4 * SPFKITD_SOCKETMAP_MAX)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	check_data((spfkitd_view){s, n});
	static seen a, b;
	frame_stream(s, n, chunk, &a);
	frame_stream(s, n, 0, &b);
	FZ_ASSERT(a.n == b.n && a.bad == b.bad,
		  "%zu requests (bad %d) in pieces, %zu (bad %d) at once", a.n,
		  a.bad, b.n, b.bad);
	for (size_t i = 0; i < a.n; i++)
		FZ_ASSERT(a.start[i] == b.start[i] && a.len[i] == b.len[i],
			  "request %zu differs", i);
	return 0;
}
