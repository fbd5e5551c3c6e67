/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msgparse.c - msgp_parse() (see msgparse.h): a saved message or a bounce
 * for `spfkit message`. It puts the layers together: the header section
 * (fields.c), the fields `spfkit message` reads (trace fields in trace.c,
 * addresses in address.c, RFC 2047 words through mime.c), and for a
 * message that looks like a bounce its MIME parts (mime.c, GMime), what
 * it says (bounce.c) and the original inside it, parsed the same way. A
 * message of any size is read; what is held is capped (msgparse.h), and
 * reader.c brings a stream down to what the parser would look at.
 *
 * Everything works on (pointer, length) views of the input and never
 * writes into it. Unfolded values, unquoted strings and normalised
 * addresses are built in an arena the message owns (mem.c), so views stay
 * valid until msgp_free(). Tokenizers run over a cursor whose position
 * only moves forward and which stops at the end of its view (lex.c).
 */
#include "msg_mime.h"

static int parse_msg(ctx *x, const char *buf, size_t len, unsigned depth,
		     bool headers_only, msgp_msg **out);

static void msg_free_arrays(msgp_msg *m)
{
	const spfkit_allocator *a = m->alloc;
	msgp__mem_free(a, m->fields);
	msgp__mem_free(a, m->received);
	msgp__mem_free(a, m->rspf);
	msgp__mem_free(a, m->authres);
}

void msgp_free(msgp_msg *m)
{
	if (!m)
		return;
	msgp_free(m->original);
	msg_free_arrays(m);
	msgp__mem_free(m->alloc, m->owned);
	/* The arena (shared with the original, owned by the top message)
	 * holds the allocator: free it last. */
	struct msgp_arena *ar = m->arena;
	spfkit_allocator a = *m->alloc;
	msgp__mem_free(&a, m);
	msgp__arena_free(ar);
}

/* One more element of an array of the message, or NULL after recording
 * "out of memory". */
static void *more(ctx *x, void **arr, size_t *n, size_t *cap, size_t sz)
{
	if (!msgp__grow(x->a, arr, *n, cap, sz)) {
		msgp__fail(x, SPFKIT_ENOMEM, "out of memory");
		return NULL;
	}
	return (char *)*arr + (*n)++ * sz;
}

/* The fields spfkit message reads, each parsed. */
static void parse_known(ctx *x, msgp_msg *m)
{
	size_t rcap = 0, scap = 0, acap = 0;
	for (size_t i = 0; i < m->nfields && !x->err; i++) {
		msgp_view n = m->fields[i].name, v = m->fields[i].value;
		if (msgp_eq(n, "Received")) {
			msgp_received *r =
			    more(x, (void **)&m->received, &m->nreceived, &rcap,
				 sizeof *m->received);
			if (!r)
				return;
			*r = (msgp_received){.field = i};
			msgp__parse_received(v, r);
		} else if (msgp_eq(n, "Received-SPF")) {
			msgp_rspf *r = more(x, (void **)&m->rspf, &m->nrspf,
					    &scap, sizeof *m->rspf);
			if (!r)
				return;
			*r = (msgp_rspf){.field = i};
			msgp__parse_rspf(x, v, r);
		} else if (msgp_eq(n, "Authentication-Results")) {
			msgp_authres *r =
			    more(x, (void **)&m->authres, &m->nauthres, &acap,
				 sizeof *m->authres);
			if (!r)
				return;
			*r = (msgp_authres){.field = i};
			msgp__parse_authres(x, v, r);
		} else if (msgp_eq(n, "Return-Path")) {
			if (m->nreturn_path++ == 0)
				msgp__parse_return_path(v, m);
		} else if (msgp_eq(n, "From")) {
			msgp__parse_addr_field(x, v, &m->from);
		} else if (msgp_eq(n, "Sender")) {
			msgp__parse_addr_field(x, v, &m->sender);
		} else if (msgp_eq(n, "Reply-To")) {
			msgp__parse_addr_field(x, v, &m->reply_to);
		} else if (msgp_eq(n, "To")) {
			msgp__parse_addr_field(x, v, &m->to);
		} else if (msgp_eq(n, "Subject") && !m->subject.p) {
			m->subject = msgp__mime_words(x, v);
		} else if (msgp_eq(n, "Message-ID") && !m->message_id.p) {
			m->message_id = v;
		} else if (msgp_eq(n, "List-Id") && !m->list_id.p) {
			m->list_id = v;
		} else if ((msgp_eq(n, "Delivered-To") ||
			    msgp_eq(n, "X-Original-To")) &&
			   !m->delivered_to.p) {
			m->delivered_to = msgp__drop_angle(v);
		}
	}
	if (m->from.fields > 1)
		msgp__warn(m, "more than one From field (RFC 5322 §3.6 allows "
			      "one)");
	if (m->nreturn_path > 1)
		msgp__warn(m, "more than one Return-Path field; the topmost "
			      "is used");
	if (m->from.present && !m->from.ok)
		msgp__warn(m, "the From field holds no usable address");
}

/* Parses the original inside a bounce (a whole message or its header
 * section) into m->original; one that does not parse is a warning. */
static void parse_original(ctx *x, msgp_msg *m, msgp_view v, bool headers_only)
{
	if (x->err || v.len == 0)
		return;
	ctx sub = {x->a, x->ar, 0, NULL, 0};
	msgp_msg *o = NULL;
	int rc = parse_msg(&sub, v.p, v.len, 1, headers_only, &o);
	if (rc == SPFKIT_ENOMEM) {
		msgp__fail(x, SPFKIT_ENOMEM, "out of memory");
		return;
	}
	if (rc < 0) {
		msgp__warn(m, "the original message inside the bounce does "
			      "not parse");
		return;
	}
	o->raw = v;
	m->original = o;
}

/* A message whose header section looks like a bounce's: its first
 * MSGP_BODY_MAX octets, its kind, what it says, and the original inside
 * it. Another message's body does not matter and is not read. */
static void parse_bounce(ctx *x, msgp_msg *m)
{
	if (!msgp__body_matters(m))
		return;
	if (m->body.len > MSGP_BODY_MAX) {
		m->input.body_octets_skipped += m->body.len - MSGP_BODY_MAX;
		m->body.len = MSGP_BODY_MAX;
		msgp__warn(m, msgp__warn_body);
	}
	msgp__mime mime;
	msgp__mime_scan(x, m, &mime);
	if (x->err)
		return;
	msgp_view orig = view(NULL, 0);
	bool headers_only = false;
	msgp__read_bounce(x, m, &mime, &orig, &headers_only);
	if (orig.p)
		parse_original(x, m, orig, headers_only);
}

static int parse_msg(ctx *x, const char *buf, size_t len, unsigned depth,
		     bool headers_only, msgp_msg **out)
{
	*out = NULL;
	msgp_msg *m = msgp__mem_alloc(x->a, sizeof *m);
	if (!m) {
		msgp__fail(x, SPFKIT_ENOMEM, "out of memory");
		return x->err;
	}
	*m = (msgp_msg){.alloc = x->a, .headers_only = headers_only};
	msgp__parse_fields(x, m, buf, len);
	if (!x->err)
		parse_known(x, m);
	if (!x->err && depth == 0)
		parse_bounce(x, m);
	if (x->err) {
		msgp_free(m);
		return x->err;
	}
	*out = m;
	return SPFKIT_OK;
}

int msgp_parse(const char *buf, size_t len, const spfkit_allocator *alloc,
	       msgp_msg **out, char *err, size_t errlen)
{
	ctx x = {alloc ? alloc : &msgp__default_alloc, NULL, 0, err, errlen};
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!buf && len)
		len = 0;
	if (len == 0) {
		msgp__fail(&x, SPFKIT_EPARSE,
			   "the input is empty: not a message");
		return x.err;
	}
	struct msgp_arena *ar = msgp__arena_new(x.a);
	if (!ar) {
		msgp__fail(&x, SPFKIT_ENOMEM, "out of memory");
		return x.err;
	}
	x.a = msgp__arena_alloc(ar);
	x.ar = ar;
	msgp_msg *m = NULL;
	int rc = parse_msg(&x, buf, len, 0, false, &m);
	if (rc == SPFKIT_OK && msgp__arena_failed(ar))
		rc = SPFKIT_ENOMEM;
	if (rc < 0) {
		msgp_free(m);
		msgp__arena_free(ar);
		if (!x.err)
			msgp__fail(&x, rc, "out of memory");
		return rc;
	}
	m->arena = ar;
	m->input.octets = len;
	*out = m;
	return SPFKIT_OK;
}

const msgp_field *msgp_find(const msgp_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nfields; i++)
		if (msgp_eq(m->fields[i].name, name))
			return &m->fields[i];
	return NULL;
}
