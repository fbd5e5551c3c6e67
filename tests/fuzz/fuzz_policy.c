/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_policy.c - the Postfix policy protocol parser of spfkitd
 * (src/spfkitd/policy.c) on hostile connection bytes. The input is one
 * connection's stream: its first byte picks how the stream is cut into
 * reads (1 to 256 bytes at a time), and the framer and parser run exactly
 * as policy_session.c runs them. Beyond "no crash" it checks what policy.h
 * promises: the framer never claims more than it was given, a request it
 * hands over ends with a blank line and fits the size cap, discarded
 * bytes end in one OVERSIZED, the parser's views lie inside the request,
 * and the same bytes framed in one piece give the same requests.
 */
#include "fuzz_common.h"
#include "policy.h"

#define MAX_REQS 4096

typedef struct seen {
	size_t n;
	size_t start[MAX_REQS], len[MAX_REQS]; /* offsets into the stream */
	int status[MAX_REQS];
} seen;

/* Is the view inside [buf, buf + len)? */
static bool inside(spfkitd_view v, const char *buf, size_t len)
{
	if (!v.ptr)
		return v.len == 0;
	return v.ptr >= buf && (size_t)(v.ptr - buf) <= len &&
	       v.len <= len - (size_t)(v.ptr - buf);
}

static void check_parse(const char *req, size_t n)
{
	spfkitd_policy_req r;
	spfkitd_policy_error e = spfkitd_policy_parse(req, n, &r);
	FZ_ASSERT(spfkitd_policy_strerror(e) != NULL, "no error text");
	if (e != SPFKITD_POLICY_OK) {
		FZ_ASSERT(r.request.ptr == NULL && r.sender.ptr == NULL,
			  "views left after error %d", (int)e);
		return;
	}
	const spfkitd_view *v[] = {
	    &r.request, &r.protocol_state, &r.client_address, &r.helo_name,
	    &r.sender,  &r.recipient,      &r.instance,       &r.sasl_username};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		FZ_ASSERT(inside(*v[i], req, n), "view %zu outside", i);
	FZ_ASSERT(spfkitd_view_eq(r.request, "smtpd_access_policy"),
		  "OK without request=smtpd_access_policy");
	FZ_ASSERT(r.nattrs >= 1 && r.nattrs <= SPFKITD_POLICY_MAX_ATTRS,
		  "nattrs %zu", r.nattrs);
}

/* Frames the stream read by read (chunk octets at a time, 0: all at
 * once), as policy_session.c does, and notes every request and result. */
static void frame_stream(const char *s, size_t n, size_t chunk, seen *out)
{
	char *buf = malloc(n ? n : 1);
	FZ_ASSERT(buf != NULL, "malloc");
	spfkitd_framer f;
	memset(&f, 0, sizeof f);
	size_t have = 0, fed = 0, base = 0; /* base: stream offset of buf */
	out->n = 0;
	bool discarding = false;
	while (fed < n || have) {
		size_t take = chunk && n - fed > chunk ? chunk : n - fed;
		memcpy(buf + have, s + fed, take);
		have += take;
		fed += take;
		for (;;) {
			size_t len = 0;
			spfkitd_frame_status st =
			    spfkitd_policy_frame(&f, buf, have, &len);
			if (st == SPFKITD_FRAME_MORE)
				break;
			FZ_ASSERT(len > 0 && len <= have,
				  "framer took %zu of %zu", len, have);
			if (st == SPFKITD_FRAME_REQUEST) {
				FZ_ASSERT(!discarding, "request while "
						       "discarding");
				FZ_ASSERT(len <= SPFKITD_POLICY_MAX_BYTES + 1,
					  "request of %zu", len);
				FZ_ASSERT(buf[len - 1] == '\n',
					  "request not ending in a newline");
				check_parse(buf, len);
				memset(&f, 0, sizeof f);
			} else if (st == SPFKITD_FRAME_DISCARD) {
				discarding = true;
			} else {
				FZ_ASSERT(st == SPFKITD_FRAME_OVERSIZED,
					  "status %d", (int)st);
				discarding = false;
				memset(&f, 0, sizeof f);
			}
			if (st != SPFKITD_FRAME_DISCARD && out->n < MAX_REQS) {
				out->start[out->n] = base;
				out->len[out->n] = len;
				out->status[out->n] = (int)st;
				out->n++;
			}
			memmove(buf, buf + len, have - len);
			have -= len;
			base += len;
		}
		if (fed == n)
			break; /* the rest is an unterminated request */
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 4 * SPFKITD_POLICY_MAX_BYTES)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	/* The bytes as one request, whatever the framer would say. */
	check_parse(s, n);
	static seen a, b;
	frame_stream(s, n, chunk, &a);
	frame_stream(s, n, 0, &b);
	/* Requests do not depend on how the reads were cut (those that
	 * ended inside an oversized request are only seen as one). */
	FZ_ASSERT(a.n == b.n, "%zu requests in pieces, %zu at once", a.n, b.n);
	for (size_t i = 0; i < a.n; i++)
		FZ_ASSERT(
		    a.status[i] == b.status[i] &&
			(a.status[i] != SPFKITD_FRAME_REQUEST ||
			 (a.start[i] == b.start[i] && a.len[i] == b.len[i])),
		    "request %zu differs", i);
	return 0;
}
