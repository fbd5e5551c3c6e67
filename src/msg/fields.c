/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fields.c - the header section of a message (RFC 5322 §2.2): lines
 * that end in CRLF or LF alone, field names, folded values unfolded into
 * the arena, an mbox "From " line before the fields, and where the body
 * starts. The same scanner reads the header of a MIME part (mime.c) and
 * the fields of a delivery-status report (bounce.c).
 */
#include "msg_internal.h"

#include <string.h>

void msgp__line_at(const fscan *s, size_t pos, size_t *e, size_t *next)
{
	const char *nl = memchr(s->p + pos, '\n', s->n - pos);
	size_t end = nl ? (size_t)(nl - s->p) : s->n;
	*next = nl ? end + 1 : s->n;
	if (end > pos && s->p[end - 1] == '\r')
		end--;
	*e = end;
}

/* Is (p, n) a field name (RFC 5322 §3.6.8: printable ASCII but ':')? */
static bool field_name_ok(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 33 || c > 126 || c == ':')
			return false;
	}
	return true;
}

fs_result msgp__fscan_next(fscan *s, msgp_view *name, size_t *vb, size_t *ve,
			   bool *folded)
{
	if (s->pos >= s->n)
		return FS_END;
	size_t e, next;
	msgp__line_at(s, s->pos, &e, &next);
	if (e == s->pos) {
		s->pos = next;
		s->line++;
		return FS_END;
	}
	const char *colon = memchr(s->p + s->pos, ':', e - s->pos);
	if (!colon || is_wsp((unsigned char)s->p[s->pos]))
		return FS_BAD;
	size_t nl = (size_t)(colon - (s->p + s->pos));
	/* RFC 5322 §4.5.8 (obsolete): WSP between the name and the colon. */
	while (nl && is_wsp((unsigned char)s->p[s->pos + nl - 1]))
		nl--;
	if (!field_name_ok(s->p + s->pos, nl))
		return FS_BAD;
	*name = view(s->p + s->pos, nl);
	*vb = (size_t)(colon - s->p) + 1;
	*ve = e;
	*folded = false;
	s->pos = next;
	s->line++;
	/* RFC 5322 §2.2.3: a line that starts with WSP continues the field. */
	while (s->pos < s->n && is_wsp((unsigned char)s->p[s->pos])) {
		msgp__line_at(s, s->pos, &e, &next);
		*ve = e;
		*folded = true;
		s->pos = next;
		s->line++;
	}
	return FS_FIELD;
}

msgp_view msgp__unfold(ctx *x, const char *p, size_t vb, size_t ve, bool folded)
{
	if (!folded)
		return msgp__trim(view(p + vb, ve - vb));
	char *d = msgp__get(x, ve - vb);
	if (!d)
		return view(NULL, 0);
	size_t o = 0;
	for (size_t i = vb; i < ve; i++) {
		if (p[i] == '\n' ||
		    (p[i] == '\r' && i + 1 < ve && p[i + 1] == '\n'))
			continue;
		d[o++] = p[i];
	}
	return msgp__trim(view(d, o));
}

fs_result msgp__field_next(ctx *x, fscan *s, msgp_view *name, msgp_view *value)
{
	size_t vb, ve;
	bool folded;
	fs_result r = msgp__fscan_next(s, name, &vb, &ve, &folded);
	if (r == FS_FIELD)
		*value = msgp__unfold(x, s->p, vb, ve, folded);
	return r;
}

/* Fields that make a text a message; one must be present. */
static bool known_field(msgp_view name)
{
	static const char *const names[] = {"Received",
					    "From",
					    "Return-Path",
					    "Date",
					    "Subject",
					    "Message-ID",
					    "To",
					    "Received-SPF",
					    "Authentication-Results",
					    "MIME-Version",
					    "Content-Type",
					    "Delivered-To",
					    "Sender",
					    "Reply-To",
					    "Cc",
					    "X-Original-To",
					    "In-Reply-To",
					    "References"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (msgp_eq(name, names[i]))
			return true;
	return false;
}

/* Counts a field below the caps (MSGP_HEADER_MAX, MSGP_FIELDS_MAX) as
 * read past: its octets from start to end. */
static void skip_field(msgp_msg *m, size_t start, size_t end)
{
	m->input.fields_skipped++;
	m->input.header_octets_skipped += end - start;
}

void msgp__parse_fields(ctx *x, msgp_msg *m, const char *buf, size_t len)
{
	fscan s = {buf, len, 0, 1};
	size_t cap = 0;
	/* An mbox "From " separator line before the fields. */
	if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
		size_t e, next;
		msgp__line_at(&s, 0, &e, &next);
		s.pos = next;
		s.line++;
	}
	bool known = false, cut = false;
	for (;;) {
		msgp_view name;
		size_t vb, ve, start = s.pos;
		bool folded;
		unsigned line = s.line;
		fs_result r = msgp__fscan_next(&s, &name, &vb, &ve, &folded);
		if (r == FS_END) {
			m->header_len = s.pos;
			break;
		}
		if (r == FS_BAD) {
			if (m->nfields == 0) {
				msgp__fail(x, SPFKIT_EPARSE,
					   s.line == 1
					       ? "line 1 is not a header field "
						 "(\"Name: value\"): not a "
						 "message"
					       : "the first header field is "
						 "malformed: not a message");
				return;
			}
			/* As Postfix does: the body starts here. */
			m->header_ended_early = true;
			m->bad_line = s.line;
			m->header_len = s.pos;
			msgp__warn(m, "a line that is not a header field "
				      "ended the header section early");
			break;
		}
		/* Below the caps, fields are read past: the topmost are the
		 * newest trace fields, the ones that matter (RFC 5321 §4.4). A
		 * field that does not fit ends what is kept. */
		cut = cut || s.pos > MSGP_HEADER_MAX ||
		      m->nfields >= MSGP_FIELDS_MAX;
		if (cut) {
			skip_field(m, start, s.pos);
			continue;
		}
		if (!msgp__grow(x->a, (void **)&m->fields, m->nfields, &cap,
				sizeof *m->fields)) {
			msgp__fail(x, SPFKIT_ENOMEM, "out of memory");
			return;
		}
		msgp_field *f = &m->fields[m->nfields++];
		f->name = name;
		f->value = msgp__unfold(x, buf, vb, ve, folded);
		f->line = line;
		known = known || known_field(name);
		if (x->err)
			return;
	}
	if (m->input.fields_skipped)
		msgp__warn(m, msgp__warn_fields);
	if (m->nfields == 0) {
		msgp__fail(x, SPFKIT_EPARSE,
			   m->input.fields_skipped
			       ? "the first header field is longer than 1 MiB: "
				 "not a message"
			       : "no header fields: not a message");
		return;
	}
	if (!known)
		msgp__fail(x, SPFKIT_EPARSE,
			   "no message header fields (From, Received, Date, "
			   "...): not a message");
	m->body = view(buf + m->header_len, len - m->header_len);
}
