/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reader.c - msgp_reader (msgparse.h): a message of any size, fed in
 * pieces as it is read, brought down to what msgp_parse() looks at. It
 * holds the header section's topmost fields up to MSGP_HEADER_MAX octets
 * and MSGP_FIELDS_MAX fields (the rule of fields.c, so the parse of what
 * is held gives the fields a parse of the whole would), the line that
 * ends the section, and, when that section looks like a bounce's
 * (msgp__body_matters), the first MSGP_BODY_MAX octets of the body. The
 * rest is read past and counted in msgp_msg.input. Memory is bounded by
 * the two caps, whatever the input's size.
 *
 * It runs octet by octet over the header section, a small state machine
 * that knows RFC 5322 §2.2 lines as fields.c does: an empty line ends the
 * section, a line that starts with WSP continues a field (§2.2.3), a line
 * that is no "name:" ends it early, and an mbox "From " line may come
 * first.
 */
#include "msg_internal.h"

#include <string.h>

/* Where the reader is in a line of the header section. */
typedef enum lstate {
	L_FIRST,    /* in the first line (a field, or an mbox "From " line) */
	L_BOL,      /* at the start of a line */
	L_BOL_CR,   /* after a CR that started a line */
	L_NAME,     /* in a field name */
	L_NAME_WSP, /* in WSP after a name (RFC 5322 §4.5.8, obsolete) */
	L_REST      /* in the value, up to the end of the line */
} lstate;

struct msgp_reader {
	spfkit_allocator a;
	char *buf; /* what is held */
	size_t len, cap;
	size_t octets;         /* fed so far */
	size_t fields_skipped; /* header fields read past */
	size_t header_skipped; /* their octets */
	size_t body_skipped;   /* body octets not held */
	size_t nfields;        /* header fields held */
	size_t field_start;    /* where the field being held starts */
	size_t body_start;     /* where the body held starts */
	lstate ls;
	bool in_body;      /* past the header section */
	bool in_field;     /* a field is there to be continued */
	bool holding;      /* the current header field is held */
	bool cutting;      /* past the header caps */
	bool body_matters; /* the section looks like a bounce's */
	bool body_cut;     /* ... and its body is longer than the cap */
	bool early;        /* a line that is no field ended the section */
	bool early_octet;  /* ... and the octet that showed it is to come */
	bool spent;        /* parsed */
	int err;           /* sticky: SPFKIT_ENOMEM */
};

int msgp_reader_new(const spfkit_allocator *alloc, msgp_reader **out)
{
	const spfkit_allocator *a = alloc ? alloc : &msgp__default_alloc;
	*out = NULL;
	msgp_reader *r = msgp__mem_alloc(a, sizeof *r);
	if (!r)
		return SPFKIT_ENOMEM;
	*r = (msgp_reader){.a = *a, .ls = L_FIRST, .holding = true};
	*out = r;
	return SPFKIT_OK;
}

void msgp_reader_free(msgp_reader *r)
{
	if (!r)
		return;
	spfkit_allocator a = r->a;
	msgp__mem_free(&a, r->buf);
	msgp__mem_free(&a, r);
}

/* Holds n more octets; grows the buffer by doubling, never past what the
 * caps allow (the header section, the line that ends it, the body). */
static void hold(msgp_reader *r, const char *p, size_t n)
{
	if (r->err || n == 0)
		return;
	if (r->cap - r->len < n) {
		size_t want = r->len + n, ncap = r->cap ? r->cap : 4096;
		while (ncap < want)
			ncap *= 2;
		size_t most = MSGP_HEADER_MAX + MSGP_BODY_MAX + 4096;
		if (ncap > most && want <= most)
			ncap = most;
		char *b = r->a.realloc(r->a.ud, r->buf, ncap);
		if (!b) {
			r->err = SPFKIT_ENOMEM;
			return;
		}
		r->buf = b;
		r->cap = ncap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

/* The field being held does not fit under the caps: from here on, fields
 * are read past (fields.c's rule: the first that does not fit ends what
 * is kept). */
static void cut_field(msgp_reader *r)
{
	r->cutting = true;
	r->holding = false;
	r->fields_skipped++;
	r->header_skipped += r->len - r->field_start;
	r->len = r->field_start;
	if (r->nfields)
		r->nfields--;
}

/* Octets of the header section that belong to the current field. While
 * a field is held, what is held stays within MSGP_HEADER_MAX. */
static void field_octets(msgp_reader *r, const char *p, size_t n)
{
	if (r->holding) {
		if (n <= MSGP_HEADER_MAX - r->len) {
			hold(r, p, n);
			return;
		}
		cut_field(r);
	}
	r->header_skipped += n;
}

/* A new line that is no continuation starts a field. */
static void field_start(msgp_reader *r)
{
	if (!r->cutting && r->nfields >= MSGP_FIELDS_MAX)
		r->cutting = true;
	r->holding = !r->cutting;
	r->in_field = true;
	if (r->holding) {
		r->field_start = r->len;
		r->nfields++;
	} else {
		r->fields_skipped++;
	}
}

/* Body octets: held up to the cap when they matter, else counted. */
static void body_octets(msgp_reader *r, const char *p, size_t n)
{
	size_t held = r->len - r->body_start;
	size_t room = held < MSGP_BODY_MAX ? MSGP_BODY_MAX - held : 0;
	/* A body that does not matter is not held, but for what was read
	 * of a line that ended the header section early and the octet that
	 * made it so: the parse then sees it, and warns, as it would the
	 * whole input. */
	if (!r->body_matters)
		room = r->early && r->early_octet ? 1 : 0;
	r->early_octet = false;
	size_t k = n < room ? n : room;
	hold(r, p, k);
	if (n > k) {
		r->body_skipped += n - k;
		r->body_cut = r->body_matters;
	}
}

/* The header section ends; the body starts at buf offset body (the line
 * that ended the section early, or after the empty line). Decides, from
 * the header section held, whether the body matters. */
static void header_end(msgp_reader *r, size_t body)
{
	r->in_body = true;
	msgp_msg *m = NULL;
	int rc = r->err ? r->err : msgp_parse(r->buf, body, &r->a, &m, NULL, 0);
	if (rc == SPFKIT_ENOMEM)
		r->err = SPFKIT_ENOMEM;
	r->body_matters = rc == SPFKIT_OK && msgp__body_matters(m);
	msgp_free(m);
	/* What of the body was held already (a line that ended the section
	 * early) goes through the body's rule. */
	size_t seen = r->len - body;
	r->len = r->body_start = body;
	if (seen && r->body_matters)
		body_octets(r, r->buf + body, seen);
	else if (seen && !r->err)
		r->len += seen; /* held already, as the header's */
}

/* A line that is no "name:" field ends the header section early (as
 * fields.c does); what was held of it is the body's start. A line that
 * was read past loses what was read of it. */
static void bad_line(msgp_reader *r)
{
	r->early = r->early_octet = true;
	if (r->holding) {
		r->nfields--;
		header_end(r, r->field_start);
	} else {
		r->fields_skipped--;
		header_end(r, r->len);
	}
}

/* Is c a field name octet (RFC 5322 §3.6.8: printable ASCII but ':')? */
static bool name_octet(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* The first line: held whole under the cap. At its end: an empty line
 * ends the section, an mbox "From " line is no field (fields.c skips
 * it), anything else is the first field. */
static void first_octet(msgp_reader *r, const char *p)
{
	if (r->len < MSGP_HEADER_MAX)
		hold(r, p, 1);
	else
		r->header_skipped++;
	if (*p != '\n')
		return;
	bool mbox = r->len >= 5 && memcmp(r->buf, "From ", 5) == 0;
	if (r->len == 1 || (r->len == 2 && r->buf[0] == '\r')) {
		header_end(r, r->len);
		return;
	}
	r->nfields = mbox ? 0 : 1;
	r->field_start = 0;
	r->holding = r->in_field = !mbox;
	r->ls = L_BOL;
}

/* One octet of the header section after the first line. Returns false
 * when the octet turned its line into the body's first (the caller hands
 * it to the body). */
static bool header_octet(msgp_reader *r, const char *p)
{
	unsigned char c = (unsigned char)*p;
	switch (r->ls) {
	case L_FIRST: first_octet(r, p); return true;
	case L_BOL:
		if (c == '\n' || c == '\r') {
			r->ls = c == '\r' ? L_BOL_CR : L_BOL;
			if (c == '\n') {
				hold(r, p, 1);
				header_end(r, r->len);
			}
			return true;
		}
		if (is_wsp(c) && r->in_field) {
			/* RFC 5322 §2.2.3: the field goes on. */
			field_octets(r, p, 1);
			r->ls = L_REST;
			return true;
		}
		field_start(r);
		r->ls = L_NAME;
		if (is_wsp(c)) {
			/* After an mbox line: no field to continue. */
			bad_line(r);
			return false;
		}
		break;
	case L_BOL_CR:
		if (c == '\n') {
			hold(r, "\r\n", 2);
			header_end(r, r->len);
			return true;
		}
		/* A CR that starts a line is no name octet. */
		field_start(r);
		field_octets(r, "\r", 1);
		bad_line(r);
		return false;
	case L_NAME: break;
	case L_NAME_WSP:
		if (c != ':' && !is_wsp(c)) {
			bad_line(r);
			return false;
		}
		break;
	case L_REST:
		field_octets(r, p, 1);
		if (c == '\n')
			r->ls = L_BOL;
		return true;
	}
	/* In a field name (RFC 5322 §3.6.8), or the WSP after it. */
	if (c == ':')
		r->ls = L_REST;
	else if (is_wsp(c))
		r->ls = L_NAME_WSP;
	else if (!name_octet(c)) {
		bad_line(r);
		return false;
	}
	field_octets(r, p, 1);
	return true;
}

int msgp_reader_feed(msgp_reader *r, const char *p, size_t n)
{
	r->octets += n;
	size_t i = 0;
	while (i < n && !r->in_body) {
		if (r->ls == L_REST) {
			/* The rest of a value line at once. */
			const char *nl = memchr(p + i, '\n', n - i);
			size_t k = nl ? (size_t)(nl - (p + i)) : n - i;
			field_octets(r, p + i, k);
			i += k;
			if (!nl)
				break;
		}
		if (header_octet(r, p + i))
			i++;
	}
	if (i < n)
		body_octets(r, p + i, n - i);
	return r->err;
}

int msgp_reader_parse(msgp_reader *r, msgp_msg **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	int rc = r->spent ? SPFKIT_EINVAL : r->err;
	r->spent = true;
	if (rc < 0) {
		if (errlen) {
			const char *why = rc == SPFKIT_ENOMEM
					      ? "out of memory"
					      : "the reader was used";
			size_t k =
			    strlen(why) < errlen ? strlen(why) : errlen - 1;
			memcpy(err, why, k);
			err[k] = '\0';
		}
		return rc;
	}
	msgp_msg *m = NULL;
	rc = msgp_parse(r->buf, r->len, &r->a, &m, err, errlen);
	if (rc < 0)
		return rc;
	m->input.octets = r->octets;
	m->input.fields_skipped += r->fields_skipped;
	m->input.header_octets_skipped += r->header_skipped;
	m->input.body_octets_skipped += r->body_skipped;
	if (r->fields_skipped)
		msgp__warn(m, msgp__warn_fields);
	if (r->body_cut)
		msgp__warn(m, msgp__warn_body);
	m->owned = r->buf;
	r->buf = NULL;
	r->len = r->cap = 0;
	*out = m;
	return SPFKIT_OK;
}
