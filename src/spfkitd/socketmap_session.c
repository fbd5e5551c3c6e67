/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socketmap_session.c - connections that speak Postfix's socketmap
 * (socketmap.h) for SRS: map "forward" for sender_canonical_maps and
 * "reverse" for recipient_canonical_maps. Lookups need no DNS, so each
 * answer is written at once, in order. A stream that is not netstrings
 * cannot be followed: it is logged and closed, as Postfix closes on a
 * malformed reply.
 */
#include <string.h>

#include "log.h"
#include "server_int.h"
#include "socketmap.h"

/* A view of a NUL-terminated string literal. */
#define LIT(s) ((spfkitd_view){s, sizeof s - 1})

/* Rewrites key with the map "forward" or "reverse" (fwd). Sets the
 * reply's status and value; *out holds a result to free. */
static void srs_lookup(spfkitd_server *s, bool fwd, spfkitd_view key,
		       const char **status, spfkitd_view *value, char **out)
{
	const spfkitd_gen *g = s->cur;
	const char *dir = fwd ? "forward" : "reverse";
	spfkit_srs_reason why;
	int rc = fwd ? srs_forward(g, key, out, &why)
		     : srs_reverse(g, key, out, &why);
	if (rc < 0) {
		*status = "TEMP";
		*value = (spfkitd_view){spfkit_strerror(rc),
					strlen(spfkit_strerror(rc))};
		spfkitd_log(LOG_ERR, "srs: %s: %s", dir, spfkit_strerror(rc));
	} else if (*out) {
		*status = "OK";
		*value = (spfkitd_view){*out, strlen(*out)};
		if (fwd)
			s->m.srs_forwarded++;
		else
			s->m.srs_reversed++;
		srs_log(LOG_INFO, "socketmap", dir, key, *out, why);
	} else if (why == SPFKIT_SRS_TOO_LONG ||
		   (!fwd && srs_refused(rc, why))) {
		/* Left as it is (NOTFOUND), and said so: a bounce to a
		 * refused address is rejected at RCPT by the policy service
		 * (srs_reject_forged). */
		s->m.srs_refused++;
		srs_log(LOG_INFO, "socketmap", dir, key, NULL, why);
	}
}

/* Answers one socketmap request. */
static void socketmap_request(spfkitd_server *s, conn *c, spfkitd_view data)
{
	spfkitd_view name, key;
	const char *status = "NOTFOUND";
	spfkitd_view value = LIT("");
	char *out = NULL;
	s->m.srs_lookups++;
	if (!spfkitd_sm_split(data, &name, &key)) {
		status = "PERM";
		value = LIT("malformed request: NAME KEY");
		s->m.srs_bad_requests++;
	} else if (!s->cur->srs) {
		status = "TEMP";
		value = LIT("no srs_domain configured");
	} else if (spfkitd_view_ieq(name, "forward") ||
		   spfkitd_view_ieq(name, "reverse")) {
		srs_lookup(s, spfkitd_view_ieq(name, "forward"), key, &status,
			   &value, &out);
	} else {
		status = "PERM";
		value = LIT("unknown map name: forward or reverse");
		s->m.srs_bad_requests++;
	}
	char stack[1200];
	size_t n = spfkitd_sm_reply(stack, sizeof stack, status, value);
	if (n > sizeof stack)
		n = spfkitd_sm_reply(stack, sizeof stack, "TEMP",
				     LIT("reply too long"));
	spfkit_free(s->cur->scfg, out);
	out_add(c, stack, n);
}

void process_socketmap(spfkitd_server *s, conn *c)
{
	while (!c->dead && !c->closing && c->out_len - c->out_off < OUT_HIGH) {
		spfkitd_view data;
		size_t total;
		spfkitd_sm_status st = spfkitd_sm_frame(
		    c->in + c->in_off, c->in_len - c->in_off, &data, &total);
		if (st == SPFKITD_SM_MORE)
			break;
		if (st == SPFKITD_SM_BAD) {
			spfkitd_log(LOG_WARNING,
				    "socketmap: not a netstring (or over %u "
				    "bytes): connection closed",
				    SPFKITD_SOCKETMAP_MAX);
			s->m.srs_bad_requests++;
			c->in_off = c->in_len = 0;
			c->closing = true;
			break;
		}
		socketmap_request(s, c, data);
		c->in_off += total;
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->eof && !c->closing)
		conn_input_ended(c, "socketmap: ", "a request", true);
	flush_out(c);
	if (c->closing && c->out_off == c->out_len)
		c->dead = true;
}
