/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime.c - the MIME layer of msg_mime.h, through GMime (libgmime-3.0):
 * Content-Type and its parameters (RFC 2045 §5.1), the walk over
 * multipart bodies (RFC 2046 §5.1) and the message/rfc822, text/rfc822-
 * headers and delivery-status parts of a bounce (RFC 3464, RFC 6522),
 * base64 and quoted-printable bodies (RFC 2045 §6.7, §6.8) and RFC 2047
 * encoded words. What a well-kept library does we do not write by hand;
 * the header section and the trace fields stay ours (fields.c, trace.c).
 *
 * GMime sees only what matters: the top message's Content-Type and
 * Content-Transfer-Encoding fields followed by its body, which the caller
 * has capped at MSGP_BODY_MAX octets. What it hands back (decoded parts,
 * an original written out as it stood) is copied into the parse's arena,
 * so the views live until msgp_free() and GMime's objects go at once.
 *
 * GMime allocates through glib, which aborts when memory runs out; the
 * arena copies go through the caller's allocator and fail with ENOMEM.
 */
#include "msg_mime.h"

#include <gmime/gmime.h>
#include <string.h>

/* GMime's tables (charsets, content types) are set up once per process;
 * g_mime_init() itself is not safe to call from two threads at once. */
static void mime_init(void)
{
	static gsize done;
	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

/* Copies len octets at p into the arena: a present view, also when it is
 * empty, or absent after an error in x. */
static msgp_view keep(ctx *x, const void *p, size_t len)
{
	char *d = msgp__get(x, len ? len : 1);
	if (!d)
		return view(NULL, 0);
	if (len)
		memcpy(d, p, len);
	return view(d, len);
}

/* What was written to a memory stream, kept in the arena; the stream is
 * released. */
static msgp_view keep_stream(ctx *x, GMimeStream *ms)
{
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	msgp_view v = keep(x, ba->data, ba->len);
	g_object_unref(ms);
	return v;
}

/* The content type of a field value, or NULL (caller unrefs). */
static GMimeContentType *ctype_of(const msgp_field *f)
{
	if (!f || !f->value.p)
		return NULL;
	char *s = g_strndup(f->value.p, f->value.len);
	GMimeContentType *ct = g_mime_content_type_parse(NULL, s);
	g_free(s);
	return ct;
}

bool msgp__mime_is_dsn(const msgp_msg *m)
{
	mime_init();
	GMimeContentType *ct = ctype_of(msgp_find(m, "Content-Type"));
	if (!ct)
		return false;
	const char *rt = g_mime_content_type_get_parameter(ct, "report-type");
	bool dsn = g_mime_content_type_is_type(ct, "multipart", "report") &&
		   rt && g_ascii_strcasecmp(rt, "delivery-status") == 0;
	g_object_unref(ct);
	return dsn;
}

/* A leaf part's content decoded from its transfer encoding. */
static msgp_view decoded(ctx *x, GMimeObject *o)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
	if (!w)
		return keep(x, "", 0);
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, ms);
	return keep_stream(x, ms);
}

/* The message inside a message/rfc822 part as it stood: GMime writes its
 * header fields back with their raw names and values, in their order. */
static msgp_view written(ctx *x, GMimeMessagePart *mp)
{
	GMimeMessage *msg = g_mime_message_part_get_message(mp);
	if (!msg)
		return keep(x, "", 0);
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, ms);
	return keep_stream(x, ms);
}

static bool is(GMimeContentType *ct, const char *type, const char *subtype)
{
	return ct && g_mime_content_type_is_type(ct, type, subtype);
}

/* Records in f what part o, depth levels down, is, or walks its parts.
 * A message/rfc822 part is not entered: the original is parsed by
 * msgparse.c, and a bounce inside it is not this bounce. */
static void walk(ctx *x, GMimeObject *o, unsigned depth, msgp__mime *f)
{
	if (depth > MSGP_MIME_DEPTH || x->err || !o)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && !x->err; i++)
			walk(x, g_mime_multipart_get_part(mp, i), depth + 1, f);
		return;
	}
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	bool message =
	    is(ct, "message", "rfc822") || is(ct, "message", "global");
	if (GMIME_IS_MESSAGE_PART(o)) {
		if (message && !f->original.p)
			f->original = written(x, GMIME_MESSAGE_PART(o));
		return;
	}
	if (!GMIME_IS_PART(o))
		return;
	/* GMime leaves a message/rfc822 part in base64 or quoted-printable
	 * (RFC 2046 §5.2.1 forbids both, bounces do it) as a leaf. */
	if (message && !f->original.p)
		f->original = decoded(x, o);
	else if ((is(ct, "text", "rfc822-headers") ||
		  is(ct, "message", "global-headers")) &&
		 !f->headers.p)
		f->headers = decoded(x, o);
	else if ((is(ct, "message", "delivery-status") ||
		  is(ct, "message", "global-delivery-status")) &&
		 !f->status.p)
		f->status = decoded(x, o);
	else if (is(ct, "text", "plain") && !f->text.p)
		f->text = decoded(x, o);
}

/* The top message's MIME fields and body as a stream GMime parses as
 * one entity. */
static GMimeStream *entity(const msgp_msg *m, msgp_view body)
{
	static const char *const names[] = {"Content-Type",
					    "Content-Transfer-Encoding"};
	GMimeStream *st = g_mime_stream_mem_new();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const msgp_field *f = msgp_find(m, names[i]);
		if (!f || !f->value.p)
			continue;
		g_mime_stream_write_string(st, names[i]);
		g_mime_stream_write(st, ": ", 2);
		g_mime_stream_write(st, f->value.p, f->value.len);
		g_mime_stream_write(st, "\n", 1);
	}
	g_mime_stream_write(st, "\n", 1);
	if (body.len)
		g_mime_stream_write(st, body.p, body.len);
	g_mime_stream_reset(st);
	return st;
}

void msgp__mime_scan(ctx *x, const msgp_msg *m, msgp__mime *out)
{
	*out = (msgp__mime){0};
	mime_init();
	msgp_view body = m->body;
	if (body.len > MSGP_BODY_MAX)
		body.len = MSGP_BODY_MAX;
	GMimeStream *st = entity(m, body);
	GMimeParser *parser = g_mime_parser_new_with_stream(st);
	g_object_unref(st);
	GMimeObject *top = g_mime_parser_construct_part(parser, NULL);
	g_object_unref(parser);
	if (!top)
		return;
	out->multipart = GMIME_IS_MULTIPART(top);
	if (out->multipart) {
		out->dsn = msgp__mime_is_dsn(m);
		walk(x, top, 0, out);
	} else if (GMIME_IS_PART(top)) {
		/* A single part: its words, whatever its type says. */
		out->text = decoded(x, top);
	} else {
		out->text = keep(x, body.p, body.len);
	}
	g_object_unref(top);
}

msgp_view msgp__mime_words(ctx *x, msgp_view v)
{
	if (!v.p || msgp__find_ci(v, "=?") == SIZE_MAX)
		return v;
	mime_init();
	/* A NUL in the value ends what GMime sees of it. */
	char *in = g_strndup(v.p, v.len);
	char *out = g_mime_utils_header_decode_text(NULL, in);
	g_free(in);
	if (!out)
		return v;
	msgp_view d = keep(x, out, strlen(out));
	g_free(out);
	return d;
}
