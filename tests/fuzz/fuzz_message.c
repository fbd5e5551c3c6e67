/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_message.c - msgp_parse() and msgp_reader (src/msg/, the parser of
 * `spfkit message`, GMime underneath for a bounce's MIME parts) on hostile
 * messages and bounces. Beyond "no crash, no leak" it checks what
 * msgparse.h promises: OK or EPARSE (ENOMEM only when an allocation
 * failed) with a one-line printable message on failure; field names of
 * printable ASCII; unfolded values without LF; client IPs that parse as
 * addresses; a bounce's SPF verdict an RFC 7208 result name; every view
 * readable (ASan checks the octets are there); the same result twice; the
 * same fields and values when the input's LF line ends become CRLF; the
 * reader, fed in pieces, gives what the parse of the whole gives; and out
 * of memory at the first allocations of ours gives ENOMEM and nothing
 * else (GMime's allocations go through glib, which aborts instead: they
 * are not ours to fail).
 */
#include <arpa/inet.h>

#include "fuzz_common.h"
#include "msgparse.h"

/* The input's size: no view is much longer (decoding shrinks; GMime
 * writes an original back with at most its delimiters added). */
static size_t in_size;

/* Reads every octet of v (ASan: the memory is there) and checks its
 * length against the input's. */
static unsigned touch(msgp_view v)
{
	unsigned sum = 0;
	FZ_ASSERT(v.p != NULL || v.len == 0, "absent view with a length");
	FZ_ASSERT(v.len <= 2 * in_size + 4096, "view of %zu octets", v.len);
	for (size_t i = 0; i < v.len; i++)
		sum += (unsigned char)v.p[i];
	return sum;
}

static void check_ip(msgp_view v)
{
	char buf[64];
	unsigned char bin[16];
	if (!v.p)
		return;
	FZ_ASSERT(v.len > 0 && v.len < sizeof buf, "ip of %zu octets", v.len);
	memcpy(buf, v.p, v.len);
	buf[v.len] = '\0';
	FZ_ASSERT(inet_pton(AF_INET, buf, bin) == 1 ||
		      inet_pton(AF_INET6, buf, bin) == 1,
		  "ip '%s' does not parse", buf);
}

static void check_addr(const msgp_addr *a)
{
	touch(a->addr);
	touch(a->display);
	touch(a->local);
	touch(a->domain);
	if (a->ok)
		FZ_ASSERT(a->addr.len > 0 && a->domain.len > 0 &&
			      a->local.len > 0 && a->count > 0,
			  "ok address with an empty part");
	FZ_ASSERT(!a->ok || a->present, "ok address not present");
}

static void check_msg(const msgp_msg *m, unsigned depth)
{
	FZ_ASSERT(depth < 3, "originals nest %u deep", depth);
	FZ_ASSERT(m->nfields > 0 && m->nfields <= MSGP_FIELDS_MAX, "%zu fields",
		  m->nfields);
	FZ_ASSERT(m->nreceived + m->nrspf + m->nauthres <= m->nfields,
		  "more trace fields than fields");
	FZ_ASSERT(m->nwarnings <= MSGP_WARNINGS, "warnings");
	for (size_t i = 0; i < m->nfields; i++) {
		msgp_view n = m->fields[i].name, v = m->fields[i].value;
		FZ_ASSERT(n.len > 0, "empty field name");
		for (size_t k = 0; k < n.len; k++) {
			unsigned char c = (unsigned char)n.p[k];
			FZ_ASSERT(c >= 33 && c <= 126 && c != ':',
				  "field name octet 0x%02x", c);
		}
		touch(v);
		FZ_ASSERT(!v.p || !memchr(v.p, '\n', v.len),
			  "LF in an unfolded value");
		if (v.len)
			FZ_ASSERT(v.p[0] != ' ' && v.p[0] != '\t' &&
				      v.p[v.len - 1] != ' ' &&
				      v.p[v.len - 1] != '\t',
				  "value not trimmed");
	}
	for (size_t i = 0; i < m->nreceived; i++) {
		const msgp_received *r = &m->received[i];
		FZ_ASSERT(r->field < m->nfields &&
			      msgp_eq(m->fields[r->field].name, "Received"),
			  "received %zu points at field %zu", i, r->field);
		check_ip(r->ip);
		touch(r->from);
		touch(r->helo);
		touch(r->rdns);
		touch(r->by);
		touch(r->with);
		touch(r->id);
		touch(r->for_addr);
		touch(r->env_from);
		touch(r->date);
	}
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		FZ_ASSERT(r->field < m->nfields, "rspf field");
		touch(r->result);
		touch(r->comment);
		touch(r->receiver);
		touch(r->client_ip);
		touch(r->envelope_from);
		touch(r->helo);
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		FZ_ASSERT(r->field < m->nfields, "authres field");
		touch(r->authserv_id);
		touch(r->spf);
		touch(r->spf_mailfrom);
		touch(r->spf_helo);
		touch(r->dmarc);
		touch(r->dmarc_from);
	}
	check_addr(&m->from);
	check_addr(&m->sender);
	check_addr(&m->reply_to);
	check_addr(&m->to);
	touch(m->return_path);
	FZ_ASSERT(!m->null_sender || m->has_return_path,
		  "null sender without Return-Path");
	touch(m->subject);
	touch(m->body);
	const msgp_dsn *d = &m->dsn;
	touch(d->reporting_mta);
	touch(d->remote_mta);
	touch(d->diagnostic);
	touch(d->sender);
	check_ip(d->ip);
	check_ip(d->remote_ip);
	touch(d->final_recipient);
	touch(d->spf_text);
	if (d->spf) {
		static const char *const results[] = {"pass",      "fail",
						      "softfail",  "neutral",
						      "temperror", "permerror"};
		bool named = false;
		for (size_t i = 0; i < 6; i++)
			named |= strcmp(d->spf, results[i]) == 0;
		FZ_ASSERT(named, "bounce verdict '%s'", d->spf);
		FZ_ASSERT(d->spf_source && d->spf_text.len > 0,
			  "verdict without its words");
	}
	FZ_ASSERT(m->input.fields_skipped == 0 || m->nfields > 0,
		  "fields read past, none kept");
	if (m->bounce == MSGP_BOUNCE_NONE)
		FZ_ASSERT(m->original == NULL, "original without a bounce");
	if (m->original)
		check_msg(m->original, depth + 1);
}

/* Same fields, same values, same bounce. */
static void check_same(const msgp_msg *a, const msgp_msg *b, const char *why)
{
	FZ_ASSERT(a->nfields == b->nfields, "%s: %zu fields, then %zu", why,
		  a->nfields, b->nfields);
	for (size_t i = 0; i < a->nfields; i++) {
		msgp_view x = a->fields[i].value, y = b->fields[i].value;
		FZ_ASSERT(x.len == y.len &&
			      (x.len == 0 || memcmp(x.p, y.p, x.len) == 0),
			  "%s: field %zu differs", why, i);
	}
	FZ_ASSERT(a->bounce == b->bounce, "%s: bounce kind", why);
	FZ_ASSERT(a->header_ended_early == b->header_ended_early &&
		      a->nwarnings == b->nwarnings,
		  "%s: early end or warnings", why);
	FZ_ASSERT((a->original == NULL) == (b->original == NULL),
		  "%s: original", why);
	FZ_ASSERT(a->nreceived == b->nreceived, "%s: received", why);
	for (size_t i = 0; i < a->nreceived; i++)
		FZ_ASSERT(a->received[i].ip.len == b->received[i].ip.len,
			  "%s: received ip %zu", why, i);
}

/* The input fed to a reader in pieces of step octets (alloc may fail). */
static int read_in(const char *s, size_t size, size_t step,
		   const spfkit_allocator *a, msgp_msg **out)
{
	msgp_reader *r = NULL;
	*out = NULL;
	int rc = msgp_reader_new(a, &r);
	for (size_t i = 0; rc == SPFKIT_OK && i < size; i += step)
		rc = msgp_reader_feed(r, s + i,
				      size - i < step ? size - i : step);
	if (rc == SPFKIT_OK)
		rc = msgp_reader_parse(r, out, NULL, 0);
	msgp_reader_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	msgp_msg *m = NULL;
	char err[256];
	in_size = size;
	memset(err, 0x5a, sizeof err);
	int rc = msgp_parse(s, size, NULL, &m, err, sizeof err);
	/* The reader, in pieces of 1 to 13 octets, gives the same. */
	msgp_msg *mr = NULL;
	int rcr = read_in(s, size, size % 13 + 1, NULL, &mr);
	FZ_ASSERT(rcr == rc, "reader: rc %d, parse: rc %d", rcr, rc);
	if (mr) {
		check_msg(mr, 0);
		FZ_ASSERT(mr->input.octets == size, "reader octets");
		if (m)
			check_same(m, mr, "reader");
		msgp_free(mr);
	}
	FZ_ASSERT(rc == SPFKIT_OK || rc == SPFKIT_EPARSE, "rc %d", rc);
	if (rc < 0) {
		FZ_ASSERT(m == NULL, "message on error");
		FZ_ASSERT(memchr(err, '\0', sizeof err) != NULL,
			  "error not terminated");
		FZ_ASSERT(err[0] && fz_printable(err), "error '%s'", err);
		return 0;
	}
	check_msg(m, 0);
	FZ_ASSERT(m->input.octets == size, "octets");

	/* Deterministic. */
	msgp_msg *again = NULL;
	FZ_ASSERT(msgp_parse(s, size, NULL, &again, NULL, 0) == SPFKIT_OK,
		  "second parse failed");
	check_same(m, again, "again");
	msgp_free(again);

	/* LF to CRLF changes nothing (inputs without CR, small enough). */
	if (size < 65536 && !memchr(s, '\r', size)) {
		char *c = malloc(size * 2 + 1);
		size_t n = 0;
		if (c) {
			for (size_t i = 0; i < size; i++) {
				if (s[i] == '\n')
					c[n++] = '\r';
				c[n++] = s[i];
			}
			msgp_msg *mc = NULL;
			int rc2 = msgp_parse(c, n, NULL, &mc, NULL, 0);
			FZ_ASSERT(rc2 == SPFKIT_OK, "CRLF version: rc %d", rc2);
			check_same(m, mc, "crlf");
			msgp_free(mc);
			free(c);
		}
	}

	/* Out of memory at each of the first allocations. */
	for (unsigned long k = 1; k <= 4; k++) {
		fz_alloc_state st = {0, k, size % 2 == 1, false};
		spfkit_allocator fa = fz_allocator(&st);
		msgp_msg *mo = NULL;
		int rc3 = msgp_parse(s, size, &fa, &mo, err, sizeof err);
		if (st.failed)
			FZ_ASSERT(rc3 == SPFKIT_ENOMEM && mo == NULL,
				  "allocation %lu failed, rc %d", k, rc3);
		else
			FZ_ASSERT(rc3 == SPFKIT_OK, "rc %d", rc3);
		msgp_free(mo);
		st = (fz_alloc_state){0, k, size % 2 == 0, false};
		fa = fz_allocator(&st);
		rc3 = read_in(s, size, 7, &fa, &mo);
		if (st.failed)
			FZ_ASSERT(rc3 == SPFKIT_ENOMEM && mo == NULL,
				  "reader: allocation %lu failed, rc %d", k,
				  rc3);
		else
			FZ_ASSERT(rc3 == SPFKIT_OK, "reader: rc %d", rc3);
		msgp_free(mo);
	}
	msgp_free(m);
	return 0;
}
