/*
 * mime.c - the MIME layer of msg_mime.h, by hand: Content-Type with its
 * boundary and report-type parameters (RFC 2045 §5.1), the walk over
 * multipart bodies (RFC 2046 §5.1) down to MSGP_MIME_DEPTH levels, and
 * base64 (RFC 2045 §6.8). Quoted-printable and RFC 2047 encoded words are
 * not decoded: what GMime is to bring when it replaces this file.
 */
#include "msg_mime.h"

#include <string.h>

/* RFC 2046 §5.1.1 allows 1 to 70 characters; we take up to this many. */
#define BOUNDARY_MAX 200u

/* A Content-Type (RFC 2045 §5.1): type/subtype and two parameters. */
typedef struct ctype {
	msgp_view type; /* "multipart/report", as written */
	msgp_view boundary;
	msgp_view report_type;
} ctype;

static void parse_ctype(ctx *x, msgp_view v, ctype *ct)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	msgp__cur_cfws(&c);
	size_t s = c.i;
	while (!cur_end(&c) && cur_peek(&c) != ';' && cur_peek(&c) != '(' &&
	       !is_space(cur_peek(&c)))
		c.i++;
	ct->type = view(v.p + s, c.i - s);
	while (!cur_end(&c) && !x->err) {
		if (cur_peek(&c) != ';') {
			c.i++;
			continue;
		}
		c.i++;
		msgp_view key, val;
		msgp__cur_cfws(&c);
		if (!msgp__read_pair(x, &c, &key, &val))
			continue;
		if (msgp_eq(key, "boundary"))
			ct->boundary = val;
		else if (msgp_eq(key, "report-type"))
			ct->report_type = val;
	}
}

static msgp__cte cte_of(msgp_view v)
{
	return msgp_eq(v, "base64") ? MSGP__CTE_BASE64 : MSGP__CTE_NONE;
}

/* The header fields of a MIME part that matter: Content-Type and
 * Content-Transfer-Encoding; *body is what follows its empty line. */
static void part_headers(ctx *x, msgp_view part, ctype *ct, msgp_view *cte,
			 msgp_view *body)
{
	fscan s = {part.p, part.len, 0, 1};
	while (!x->err) {
		msgp_view name, val;
		/* At an empty line or one that is no field the body starts. */
		if (msgp__field_next(x, &s, &name, &val) != FS_FIELD)
			break;
		if (msgp_eq(name, "Content-Type") && !ct->type.p)
			parse_ctype(x, val, ct);
		else if (msgp_eq(name, "Content-Transfer-Encoding"))
			*cte = val;
	}
	*body = view(part.p + s.pos, part.len - s.pos);
}

/* Is line [b, e) of body the delimiter "--boundary" (RFC 2046 §5.1.1:
 * transport padding may follow), and is it the closing one? */
static bool is_delim(msgp_view body, size_t b, size_t e, msgp_view bnd,
		     bool *close)
{
	size_t n = bnd.len;
	if (e - b < n + 2 || body.p[b] != '-' || body.p[b + 1] != '-' ||
	    memcmp(body.p + b + 2, bnd.p, n) != 0)
		return false;
	size_t i = b + 2 + n;
	*close = e - i >= 2 && body.p[i] == '-' && body.p[i + 1] == '-';
	if (*close)
		i += 2;
	for (; i < e; i++)
		if (!is_space((unsigned char)body.p[i]))
			return false;
	return true;
}

/* Records in f what a body of type ct (transfer encoding cte), depth
 * levels down, is, or walks its parts. */
static void walk(ctx *x, const ctype *ct, msgp_view cte, msgp_view body,
		 unsigned depth, msgp__mime *f);

/* Walks one part of a multipart body: its header, then its body. */
static void walk_part(ctx *x, msgp_view part, unsigned depth, msgp__mime *f)
{
	ctype pct = {0};
	msgp_view pcte = {0}, pbody;
	part_headers(x, part, &pct, &pcte, &pbody);
	walk(x, &pct, pcte, pbody, depth, f);
}

/* Walks the parts of a multipart body. */
static void walk_multipart(ctx *x, msgp_view bnd, msgp_view body,
			   unsigned depth, msgp__mime *f)
{
	if (bnd.len == 0 || bnd.len > BOUNDARY_MAX)
		return;
	fscan s = {body.p, body.len, 0, 1};
	size_t part_start = SIZE_MAX;
	while (s.pos < s.n && !x->err) {
		size_t e, next;
		bool close;
		msgp__line_at(&s, s.pos, &e, &next);
		if (is_delim(body, s.pos, e, bnd, &close)) {
			if (part_start != SIZE_MAX) {
				/* The line break before the delimiter is
				 * part of it. */
				size_t pe = s.pos;
				if (pe > part_start && body.p[pe - 1] == '\n')
					pe--;
				if (pe > part_start && body.p[pe - 1] == '\r')
					pe--;
				walk_part(
				    x,
				    view(body.p + part_start, pe - part_start),
				    depth + 1, f);
			}
			if (close)
				return;
			part_start = next;
		}
		s.pos = next;
	}
	/* No closing delimiter: the last part runs to the end. */
	if (part_start != SIZE_MAX && part_start < body.len)
		walk_part(x, view(body.p + part_start, body.len - part_start),
			  depth + 1, f);
}

static void walk(ctx *x, const ctype *ct, msgp_view cte, msgp_view body,
		 unsigned depth, msgp__mime *f)
{
	if (depth > MSGP_MIME_DEPTH || x->err)
		return;
	msgp__part p = {body, cte_of(cte)};
	if (msgp__starts_with(ct->type, "multipart/")) {
		walk_multipart(x, ct->boundary, body, depth, f);
	} else if ((msgp_eq(ct->type, "message/rfc822") ||
		    msgp_eq(ct->type, "message/global")) &&
		   !f->original.body.p) {
		f->original = p;
	} else if ((msgp_eq(ct->type, "text/rfc822-headers") ||
		    msgp_eq(ct->type, "message/global-headers")) &&
		   !f->headers.body.p) {
		f->headers = p;
	} else if ((msgp_eq(ct->type, "message/delivery-status") ||
		    msgp_eq(ct->type, "message/global-delivery-status")) &&
		   !f->status.body.p) {
		f->status = p;
	} else if ((!ct->type.p || msgp_eq(ct->type, "text/plain")) &&
		   !f->text.body.p && p.cte != MSGP__CTE_BASE64) {
		f->text = p;
	}
}

void msgp__mime_scan(ctx *x, const msgp_msg *m, msgp__mime *out)
{
	*out = (msgp__mime){0};
	const msgp_field *f = msgp_find(m, "Content-Type");
	const msgp_field *fe = msgp_find(m, "Content-Transfer-Encoding");
	ctype ct = {0};
	msgp_view cte = fe ? fe->value : view(NULL, 0);
	if (f)
		parse_ctype(x, f->value, &ct);
	out->multipart = msgp__starts_with(ct.type, "multipart/");
	if (!out->multipart) {
		out->text = (msgp__part){m->body, cte_of(cte)};
		return;
	}
	out->dsn = msgp_eq(ct.type, "multipart/report") &&
		   msgp_eq(ct.report_type, "delivery-status");
	walk(x, &ct, cte, m->body, 0, out);
}

/* Decodes base64 (RFC 2045 §6.8) into the arena, skipping what is not
 * in the alphabet. */
static msgp_view base64(ctx *x, msgp_view v)
{
	char *d = msgp__get(x, v.len / 4 * 3 + 3);
	if (!d)
		return view(NULL, 0);
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		int val;
		if (c >= 'A' && c <= 'Z')
			val = c - 'A';
		else if (c >= 'a' && c <= 'z')
			val = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			val = c - '0' + 52;
		else if (c == '+')
			val = 62;
		else if (c == '/')
			val = 63;
		else if (c == '=')
			break;
		else
			continue;
		acc = (acc << 6) | (uint32_t)val;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return view(d, o);
}

msgp_view msgp__mime_decode(ctx *x, msgp__part p)
{
	return p.cte == MSGP__CTE_BASE64 ? base64(x, p.body) : p.body;
}
