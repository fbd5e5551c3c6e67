/*
 * msgparse.c - parses a saved message or a bounce for `spfkit message`
 * (see msgparse.h): the RFC 5322 header section, the trace fields SPF
 * leaves behind, the author fields, and the original message inside an
 * RFC 3464 DSN or an Exim-style bounce.
 *
 * Everything works on (pointer, length) views of the input and never
 * writes into it. Unfolded values, unquoted strings and normalised
 * addresses are built in an arena the message owns, so views stay valid
 * until msgp_free(). Tokenizers run over a cursor whose position only
 * moves forward and which stops at the end of its view.
 */
#include "msgparse.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Arena blocks: at least this large; a value larger gets its own. */
#define ARENA_BLOCK 16384u
/* Comments nest at most this deep (RFC 5322 §3.2.2 has no limit; we
 * stop counting and treat the rest as comment). */
#define COMMENT_DEPTH 64u

/* ------------------------------------------------------------ memory */

typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
} arena_block;

struct msgp_arena {
	const spfkit_allocator *a; /* &copy */
	spfkit_allocator copy;     /* the caller's, kept for msgp_free() */
	arena_block *head;
	bool failed; /* sticky: an allocation failed */
};

static void *mem_alloc(const spfkit_allocator *a, size_t n)
{
	return a->alloc(a->ud, n ? n : 1);
}

static void mem_free(const spfkit_allocator *a, void *p)
{
	if (p)
		a->free(a->ud, p);
}

static void *def_alloc(void *ud, size_t n)
{
	(void)ud;
	return malloc(n);
}

static void *def_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	return realloc(p, n);
}

static void def_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static const spfkit_allocator default_alloc = {def_alloc, def_realloc, def_free,
					       NULL};

/* n octets from the arena, or NULL (then the arena's failure sticks). */
static char *arena_get(struct msgp_arena *ar, size_t n)
{
	if (ar->failed)
		return NULL;
	arena_block *b = ar->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		if (cap > SIZE_MAX - sizeof *b) {
			ar->failed = true;
			return NULL;
		}
		b = mem_alloc(ar->a, sizeof *b + cap);
		if (!b) {
			ar->failed = true;
			return NULL;
		}
		b->next = ar->head;
		b->used = 0;
		b->cap = cap;
		ar->head = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

static void arena_free(struct msgp_arena *ar)
{
	if (!ar)
		return;
	spfkit_allocator a = ar->copy;
	arena_block *b = ar->head;
	while (b) {
		arena_block *next = b->next;
		mem_free(&a, b);
		b = next;
	}
	mem_free(&a, ar);
}

/* Grows an array of elements of size sz to hold one more. */
static bool grow(const spfkit_allocator *a, void **arr, size_t n, size_t *cap,
		 size_t sz)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / sz)
		return false;
	void *p = a->realloc(a->ud, *arr, ncap * sz);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* ------------------------------------------------------------ views */

static msgp_view view(const char *p, size_t n)
{
	msgp_view v = {p, n};
	if (!p)
		v.len = 0;
	return v;
}

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Whitespace for trimming: WSP, and CR or LF left by odd line ends. */
static bool is_space(unsigned char c)
{
	return is_wsp(c) || c == '\r' || c == '\n';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static msgp_view trim(msgp_view v)
{
	while (v.len && is_space((unsigned char)v.p[0])) {
		v.p++;
		v.len--;
	}
	while (v.len && is_space((unsigned char)v.p[v.len - 1]))
		v.len--;
	if (v.len == 0)
		v.p = v.p ? v.p : NULL;
	return v;
}

bool msgp_eq(msgp_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.p || v.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)v.p[i]) != lower((unsigned char)s[i]))
			return false;
	return true;
}

/* Does v start with s, ASCII case-insensitively? */
static bool starts_with(msgp_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.p || v.len < n)
		return false;
	return msgp_eq(view(v.p, n), s);
}

/* Where s occurs in v (case-insensitive), or SIZE_MAX. */
static size_t find_ci(msgp_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.p || n == 0 || v.len < n)
		return SIZE_MAX;
	for (size_t i = 0; i + n <= v.len; i++)
		if (msgp_eq(view(v.p + i, n), s))
			return i;
	return SIZE_MAX;
}

/* Drops one trailing dot ("mx.example." is "mx.example"). */
static msgp_view drop_dot(msgp_view v)
{
	if (v.len > 1 && v.p[v.len - 1] == '.')
		v.len--;
	return v;
}

/* Drops one pair of surrounding angle brackets. */
static msgp_view drop_angle(msgp_view v)
{
	if (v.len >= 2 && v.p[0] == '<' && v.p[v.len - 1] == '>') {
		v.p++;
		v.len -= 2;
	}
	return v;
}

/* An IPv4 or IPv6 address (with "IPv6:" dropped, as in RFC 5321
 * address literals)? On success *out is the address part of v. */
static bool ip_text(msgp_view v, msgp_view *out)
{
	char buf[64];
	unsigned char bin[16];
	if (starts_with(v, "ipv6:")) {
		v.p += 5;
		v.len -= 5;
	}
	if (v.len == 0 || v.len >= sizeof buf)
		return false;
	memcpy(buf, v.p, v.len);
	buf[v.len] = '\0';
	if (inet_pton(AF_INET, buf, bin) != 1 &&
	    inet_pton(AF_INET6, buf, bin) != 1)
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------------ cursor */

/* A forward-only cursor over a view. */
typedef struct cur {
	const char *p;
	size_t n, i;
} cur;

static bool cur_end(const cur *c)
{
	return c->i >= c->n;
}

static unsigned char cur_peek(const cur *c)
{
	return cur_end(c) ? 0 : (unsigned char)c->p[c->i];
}

/* Skips a comment at the cursor (the cursor is on '('), nested and
 * with quoted-pairs (RFC 5322 §3.2.2); an unclosed one runs to the end.
 * Returns its content. */
static msgp_view cur_comment(cur *c)
{
	size_t depth = 0, start = c->i + 1;
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		c->i++;
		if (ch == '\\' && !cur_end(c)) {
			c->i++;
		} else if (ch == '(') {
			if (depth < COMMENT_DEPTH)
				depth++;
		} else if (ch == ')') {
			if (--depth == 0)
				return view(c->p + start, c->i - 1 - start);
		}
	}
	return view(c->p + start, c->n - start);
}

/* Skips a quoted string at the cursor (on '"'); an unclosed one runs to
 * the end. Returns the span with its quotes. */
static msgp_view cur_quoted(cur *c)
{
	size_t start = c->i;
	c->i++;
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		c->i++;
		if (ch == '\\' && !cur_end(c))
			c->i++;
		else if (ch == '"')
			break;
	}
	return view(c->p + start, c->i - start);
}

/* Skips WSP, CR, LF and comments. */
static void cur_cfws(cur *c)
{
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		if (is_space(ch))
			c->i++;
		else if (ch == '(')
			(void)cur_comment(c);
		else
			break;
	}
}

typedef enum tok_kind { TOK_END, TOK_WORD, TOK_COMMENT, TOK_SEMI } tok_kind;

typedef struct tok {
	tok_kind kind;
	msgp_view v;
} tok;

/* The next token of a structured value: a word (a run up to WSP, '(' or
 * ';', quoted strings and <...> included whole), a comment's content, or
 * ';'. extra names octets that also end a word (e.g. "=" for key=value). */
static tok cur_token(cur *c, const char *extra)
{
	tok t = {TOK_END, {NULL, 0}};
	while (!cur_end(c) && is_space(cur_peek(c)))
		c->i++;
	if (cur_end(c))
		return t;
	unsigned char ch = cur_peek(c);
	if (ch == '(') {
		t.kind = TOK_COMMENT;
		t.v = cur_comment(c);
		return t;
	}
	if (ch == ';') {
		c->i++;
		t.kind = TOK_SEMI;
		t.v = view(c->p + c->i - 1, 1);
		return t;
	}
	size_t start = c->i;
	if (extra && strchr(extra, ch)) {
		c->i++;
		t.kind = TOK_WORD;
		t.v = view(c->p + start, 1);
		return t;
	}
	while (!cur_end(c)) {
		ch = cur_peek(c);
		if (is_space(ch) || ch == '(' || ch == ';' ||
		    (extra && strchr(extra, ch)))
			break;
		if (ch == '"') {
			(void)cur_quoted(c);
		} else if (ch == '<') {
			const char *gt = memchr(c->p + c->i, '>', c->n - c->i);
			c->i = gt ? (size_t)(gt - c->p) + 1 : c->n;
		} else {
			c->i++;
		}
	}
	t.kind = TOK_WORD;
	t.v = view(c->p + start, c->i - start);
	return t;
}

/* ------------------------------------------------------------ context */

typedef struct ctx {
	const spfkit_allocator *a;
	struct msgp_arena *ar;
	int err;   /* sticky status */
	char *msg; /* error message buffer */
	size_t msglen;
} ctx;

/* Records the first error with a static message. */
static void fail(ctx *x, int status, const char *why)
{
	if (x->err)
		return;
	x->err = status;
	if (x->msglen) {
		size_t n = strlen(why);
		if (n >= x->msglen)
			n = x->msglen - 1;
		memcpy(x->msg, why, n);
		x->msg[n] = '\0';
	}
}

static void warn(msgp_msg *m, const char *why)
{
	for (size_t i = 0; i < m->nwarnings; i++)
		if (m->warnings[i] == why)
			return;
	if (m->nwarnings < MSGP_WARNINGS)
		m->warnings[m->nwarnings++] = why;
}

/* A quoted string's content with quoted-pairs resolved (RFC 5322
 * §3.2.4); other views come back as they are. */
static msgp_view unquote(ctx *x, msgp_view v)
{
	if (v.len < 2 || v.p[0] != '"')
		return v;
	size_t end = v.p[v.len - 1] == '"' ? v.len - 1 : v.len;
	if (!memchr(v.p + 1, '\\', end - 1))
		return view(v.p + 1, end - 1);
	char *d = arena_get(x->ar, end);
	if (!d) {
		fail(x, SPFKIT_ENOMEM, "out of memory");
		return view(NULL, 0);
	}
	size_t o = 0;
	for (size_t i = 1; i < end; i++) {
		if (v.p[i] == '\\' && i + 1 < end)
			i++;
		d[o++] = v.p[i];
	}
	return view(d, o);
}

/* ------------------------------------------------------------ lines */

/* Scans header fields over a view. */
typedef struct fscan {
	const char *p;
	size_t n, pos;
	unsigned line;
} fscan;

/* The line at s->pos: content [*b, *e) without CR LF; *next after it. */
static void line_at(const fscan *s, size_t pos, size_t *e, size_t *next)
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

typedef enum fs_result { FS_FIELD, FS_END, FS_BAD } fs_result;

/* The next field: its name and the raw span of its value (from after
 * the colon to the end of its last continuation line). FS_END at an
 * empty line (s->pos then after it) or the end; FS_BAD at a line that is
 * not a field (s->pos stays at it). */
static fs_result fscan_next(fscan *s, msgp_view *name, size_t *vb, size_t *ve,
			    bool *folded)
{
	if (s->pos >= s->n)
		return FS_END;
	size_t e, next;
	line_at(s, s->pos, &e, &next);
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
		line_at(s, s->pos, &e, &next);
		*ve = e;
		*folded = true;
		s->pos = next;
		s->line++;
	}
	return FS_FIELD;
}

/* The unfolded, trimmed value of a raw span: line breaks dropped (the WSP
 * after them stays). A single-line value is a view into the input. */
static msgp_view unfold(ctx *x, const char *p, size_t vb, size_t ve,
			bool folded)
{
	if (!folded)
		return trim(view(p + vb, ve - vb));
	char *d = arena_get(x->ar, ve - vb);
	if (!d) {
		fail(x, SPFKIT_ENOMEM, "out of memory");
		return view(NULL, 0);
	}
	size_t o = 0;
	for (size_t i = vb; i < ve; i++) {
		if (p[i] == '\n' ||
		    (p[i] == '\r' && i + 1 < ve && p[i + 1] == '\n'))
			continue;
		d[o++] = p[i];
	}
	return trim(view(d, o));
}

/* ------------------------------------------------------------ fields */

/* Reads key [CFWS] "=" [CFWS] value at the cursor (RFC 7208 §9.1
 * key-value-pair, RFC 8601 propspec). Stops at ';' (not consumed).
 * Returns false when no pair is there (the cursor moves past one token). */
static bool read_pair(ctx *x, cur *c, msgp_view *key, msgp_view *val)
{
	cur_cfws(c);
	if (cur_end(c) || cur_peek(c) == ';')
		return false;
	tok k = cur_token(c, "=");
	if (k.kind != TOK_WORD)
		return false;
	cur_cfws(c);
	if (cur_peek(c) != '=')
		return false;
	c->i++;
	cur_cfws(c);
	tok v = cur_token(c, NULL);
	*key = k.v;
	*val = v.kind == TOK_WORD ? unquote(x, v.v) : view(NULL, 0);
	return true;
}

/* RFC 7208 §9.1: result [comment] key-value-list. */
static void parse_rspf(ctx *x, msgp_view v, msgp_rspf *r)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	tok t = cur_token(&c, NULL);
	if (t.kind != TOK_WORD)
		return;
	r->result = t.v;
	size_t save = c.i;
	while (!cur_end(&c) && is_space(cur_peek(&c)))
		c.i++;
	if (cur_peek(&c) == '(') {
		r->comment = trim(cur_comment(&c));
		/* Gmail and Microsoft write no receiver=, but start the
		 * comment with "host.name:". */
		const char *colon = memchr(r->comment.p, ':', r->comment.len);
		if (colon) {
			msgp_view h =
			    view(r->comment.p, (size_t)(colon - r->comment.p));
			if (h.len && memchr(h.p, '.', h.len) &&
			    !memchr(h.p, ' ', h.len))
				r->receiver = h;
		}
	} else {
		c.i = save;
	}
	while (!cur_end(&c) && !x->err) {
		msgp_view key, val;
		size_t before = c.i;
		if (read_pair(x, &c, &key, &val)) {
			if (msgp_eq(key, "receiver"))
				r->receiver = val;
			else if (msgp_eq(key, "client-ip"))
				r->client_ip = val;
			else if (msgp_eq(key, "envelope-from"))
				r->envelope_from = drop_angle(val);
			else if (msgp_eq(key, "helo"))
				r->helo = val;
			else if (msgp_eq(key, "identity"))
				r->identity = val;
			else if (msgp_eq(key, "mechanism"))
				r->mechanism = val;
			else if (msgp_eq(key, "problem"))
				r->problem = val;
		}
		if (cur_peek(&c) == ';')
			c.i++;
		if (c.i == before)
			c.i++;
	}
}

/* The end of the resinfo starting at i: the next ';' outside comments
 * and quoted strings. */
static size_t resinfo_end(const cur *c0)
{
	cur c = *c0;
	while (!cur_end(&c)) {
		unsigned char ch = cur_peek(&c);
		if (ch == ';')
			return c.i;
		if (ch == '(')
			(void)cur_comment(&c);
		else if (ch == '"')
			(void)cur_quoted(&c);
		else
			c.i++;
	}
	return c.n;
}

/* RFC 8601 §2.2: authserv-id [version] ( "; none" / 1*( ";" resinfo ) ). */
static void parse_authres(ctx *x, msgp_view v, msgp_authres *r)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	cur_cfws(&c);
	size_t start = c.i;
	tok t = cur_token(&c, NULL);
	if (t.kind == TOK_WORD && !memchr(t.v.p, '=', t.v.len)) {
		r->authserv_id = unquote(x, t.v);
		cur_cfws(&c);
		/* authres-version */
		while (!cur_end(&c) && cur_peek(&c) >= '0' &&
		       cur_peek(&c) <= '9')
			c.i++;
	} else {
		/* No authserv-id: the field starts with a result. */
		c.i = start;
	}
	while (!cur_end(&c) && !x->err) {
		cur_cfws(&c);
		if (cur_peek(&c) == ';') {
			c.i++;
			continue;
		}
		cur one = c;
		one.n = resinfo_end(&c);
		c.i = one.n;
		msgp_view method, result;
		if (!read_pair(x, &one, &method, &result))
			continue;
		const char *slash = memchr(method.p, '/', method.len);
		if (slash)
			method.len = (size_t)(slash - method.p);
		bool spf = msgp_eq(method, "spf") && !r->spf.p;
		bool dmarc = msgp_eq(method, "dmarc") && !r->dmarc.p;
		if (spf)
			r->spf = result;
		else if (dmarc)
			r->dmarc = result;
		else if (msgp_eq(method, "dkim") && !r->dkim.p)
			r->dkim = result;
		while (!cur_end(&one) && !x->err) {
			msgp_view key, val;
			size_t before = one.i;
			if (read_pair(x, &one, &key, &val)) {
				if (spf && msgp_eq(key, "smtp.mailfrom"))
					r->spf_mailfrom = drop_angle(val);
				else if (spf && msgp_eq(key, "smtp.helo"))
					r->spf_helo = val;
				else if (dmarc && msgp_eq(key, "header.from"))
					r->dmarc_from = val;
			}
			if (one.i == before)
				one.i++;
		}
	}
}

/* The TCP-info comment of a Received from-clause: "rdns [ip]" (Postfix,
 * Sendmail, Gmail), "[ip]:port helo=x" (Exim), "ip" (Microsoft). */
static bool parse_tcpinfo(msgp_view v, msgp_received *r, bool first)
{
	cur c = {v.p, v.len, 0};
	bool named = false;
	for (;;) {
		tok t = cur_token(&c, NULL);
		if (t.kind == TOK_END)
			break;
		if (t.kind != TOK_WORD)
			continue;
		msgp_view w = t.v, ip;
		if (w.p[0] == '[') {
			/* An unclosed literal is no address. */
			const char *rb = memchr(w.p, ']', w.len);
			msgp_view lit =
			    view(w.p + 1, rb ? (size_t)(rb - w.p) - 1 : 0);
			if (rb && !r->ip.p && ip_text(lit, &ip))
				r->ip = ip;
		} else if (starts_with(w, "helo=")) {
			r->helo = drop_dot(view(w.p + 5, w.len - 5));
		} else if (starts_with(w, "port=") ||
			   starts_with(w, "ident=") || w.p[0] == '(' ||
			   w.p[0] == '<') {
			continue;
		} else if (ip_text(w, &ip)) {
			if (!r->ip.p)
				r->ip = ip;
		} else if (first && !r->rdns.p && !memchr(w.p, '=', w.len)) {
			const char *at = memchr(w.p, '@', w.len);
			if (at)
				w = view(at + 1,
					 w.len - (size_t)(at - w.p) - 1);
			if (w.len && !msgp_eq(w, "unknown"))
				r->rdns = drop_dot(w);
			named = true;
		}
	}
	return named;
}

typedef enum clause {
	CL_NONE,
	CL_FROM,
	CL_BY,
	CL_VIA,
	CL_WITH,
	CL_ID,
	CL_FOR,
	CL_OTHER
} clause;

/* RFC 5321 §4.4 Stamp: from, by, via, with, id, for clauses; ';' date. */
static void parse_received(msgp_view v, msgp_received *r)
{
	if (!v.p)
		return; /* after a failed allocation */
	/* The date follows the last ';' outside comments. */
	cur c = {v.p, v.len, 0};
	size_t semi = SIZE_MAX;
	while (!cur_end(&c)) {
		unsigned char ch = cur_peek(&c);
		if (ch == '(')
			(void)cur_comment(&c);
		else if (ch == '"')
			(void)cur_quoted(&c);
		else {
			if (ch == ';')
				semi = c.i;
			c.i++;
		}
	}
	size_t end = v.len;
	if (semi != SIZE_MAX) {
		r->date = trim(view(v.p + semi + 1, v.len - semi - 1));
		end = semi;
	}
	c = (cur){v.p, end, 0};
	clause cl = CL_NONE;
	unsigned from_comments = 0;
	bool named = false;
	const char *with_end = NULL;
	static const struct {
		const char *kw;
		clause cl;
	} kws[] = {{"from", CL_FROM}, {"by", CL_BY}, {"via", CL_VIA},
		   {"with", CL_WITH}, {"id", CL_ID}, {"for", CL_FOR}};
	for (;;) {
		tok t = cur_token(&c, NULL);
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_SEMI)
			continue;
		if (t.kind == TOK_COMMENT) {
			msgp_view cm = trim(t.v);
			if (starts_with(cm, "envelope-from")) {
				r->env_from = drop_angle(
				    trim(view(cm.p + 13, cm.len - 13)));
			} else if (find_ci(cm, "from userid") != SIZE_MAX) {
				r->local = true;
			} else if (cl == CL_FROM && !r->ip.p) {
				named |=
				    parse_tcpinfo(cm, r, from_comments == 0);
				from_comments++;
			}
			continue;
		}
		bool kw = false;
		for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
			if (msgp_eq(t.v, kws[i].kw)) {
				cl = kws[i].cl;
				kw = true;
				break;
			}
		}
		if (kw)
			continue;
		switch (cl) {
		case CL_FROM:
			if (!r->from.p)
				r->from = t.v;
			break;
		case CL_BY:
			if (!r->by.p)
				r->by = drop_dot(t.v);
			break;
		case CL_WITH:
			/* Microsoft: "with Microsoft SMTP Server". */
			if (!r->with.p) {
				r->with = t.v;
				with_end =
				    msgp_eq(t.v, "Microsoft") ? t.v.p : NULL;
			} else if (with_end && t.v.p >= r->with.p &&
				   (msgp_eq(t.v, "SMTP") ||
				    msgp_eq(t.v, "Server"))) {
				r->with.len =
				    (size_t)(t.v.p - r->with.p) + t.v.len;
			}
			if (msgp_eq(t.v, "local"))
				r->local = true;
			break;
		case CL_ID:
			if (!r->id.p)
				r->id = t.v;
			break;
		case CL_FOR:
			if (!r->for_addr.p)
				r->for_addr = drop_angle(t.v);
			break;
		default: break;
		}
	}
	msgp_view ip;
	if (!r->ip.p && r->from.len > 2 && r->from.p[0] == '[' &&
	    r->from.p[r->from.len - 1] == ']' &&
	    ip_text(view(r->from.p + 1, r->from.len - 2), &ip))
		r->ip = ip;
	if (!r->helo.p)
		r->helo = drop_dot(r->from);
	/* Exim: "from rdns.name ([ip] helo=x)": the name is verified rDNS. */
	if (!named && r->from.p && r->from.p[0] != '[' && r->ip.p)
		r->rdns = drop_dot(r->from);
}

/* RFC 5321 §4.1.2 Reverse-path in Return-Path: "<>", "<addr>", or (as
 * some write it) a bare address. */
static void parse_return_path(ctx *x, msgp_view v, msgp_msg *m)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	cur_cfws(&c);
	msgp_view rest = trim(view(v.p + c.i, v.len - c.i));
	if (rest.len && rest.p[0] == '<') {
		const char *gt = memchr(rest.p, '>', rest.len);
		rest = view(rest.p + 1,
			    gt ? (size_t)(gt - rest.p) - 1 : rest.len - 1);
		rest = trim(rest);
		/* RFC 5321 §4.1.2 source route "@a,@b:addr". */
		if (rest.len && rest.p[0] == '@') {
			const char *colon = memchr(rest.p, ':', rest.len);
			if (colon)
				rest = view(colon + 1,
					    rest.len -
						(size_t)(colon - rest.p) - 1);
		}
	} else {
		/* Up to the first WSP or comment. */
		size_t k = 0;
		while (k < rest.len && !is_space((unsigned char)rest.p[k]) &&
		       rest.p[k] != '(')
			k++;
		rest.len = k;
	}
	(void)x;
	m->return_path = rest.len ? rest : view(NULL, 0);
	m->null_sender = rest.len == 0;
	m->has_return_path = true;
}

/* An address without comments and without WSP outside quoted strings. */
static msgp_view clean_addr(ctx *x, msgp_view v)
{
	char *d = arena_get(x->ar, v.len);
	if (!d) {
		fail(x, SPFKIT_ENOMEM, "out of memory");
		return view(NULL, 0);
	}
	size_t o = 0;
	cur c = {v.p, v.len, 0};
	while (!cur_end(&c)) {
		unsigned char ch = cur_peek(&c);
		if (ch == '(') {
			(void)cur_comment(&c);
		} else if (ch == '"') {
			msgp_view q = cur_quoted(&c);
			memcpy(d + o, q.p, q.len);
			o += q.len;
		} else {
			if (!is_space(ch))
				d[o++] = (char)ch;
			c.i++;
		}
	}
	return view(d, o);
}

/* One mailbox (RFC 5322 §3.4): [display-name] <addr-spec>, or
 * addr-spec. Fills a when it holds an '@'. */
static void parse_mailbox(ctx *x, msgp_view v, msgp_addr *a)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	size_t lt = SIZE_MAX;
	while (!cur_end(&c)) {
		unsigned char ch = cur_peek(&c);
		if (ch == '(')
			(void)cur_comment(&c);
		else if (ch == '"')
			(void)cur_quoted(&c);
		else if (ch == '<') {
			lt = c.i;
			break;
		} else
			c.i++;
	}
	msgp_view spec = v, disp = view(NULL, 0);
	if (lt != SIZE_MAX) {
		const char *gt = memchr(v.p + lt, '>', v.len - lt);
		size_t e = gt ? (size_t)(gt - v.p) : v.len;
		spec = view(v.p + lt + 1, e - lt - 1);
		disp = trim(view(v.p, lt));
		/* Obsolete route: "@a,@b:local@domain". */
		spec = trim(spec);
		if (spec.len && spec.p[0] == '@') {
			const char *colon = memchr(spec.p, ':', spec.len);
			if (colon)
				spec = view(colon + 1,
					    spec.len -
						(size_t)(colon - spec.p) - 1);
		}
	}
	msgp_view addr = clean_addr(x, spec);
	/* The domain follows the last '@' outside quoted strings. */
	size_t at = SIZE_MAX;
	bool q = false;
	for (size_t i = 0; i < addr.len; i++) {
		if (addr.p[i] == '\\' && q)
			i++;
		else if (addr.p[i] == '"')
			q = !q;
		else if (addr.p[i] == '@' && !q)
			at = i;
	}
	if (at == SIZE_MAX || at == 0 || at + 1 >= addr.len)
		return;
	a->ok = true;
	a->addr = addr;
	a->local = view(addr.p, at);
	a->domain = drop_dot(view(addr.p + at + 1, addr.len - at - 1));
	if (disp.len)
		a->display = unquote(x, disp);
}

/* An address-list or mailbox-list (RFC 5322 §3.4): mailboxes separated
 * by ',', groups "name: a, b;". The first mailbox goes into a. */
static void parse_addr_field(ctx *x, msgp_view v, msgp_addr *a)
{
	if (!v.p)
		return; /* after a failed allocation */
	a->fields++;
	if (a->present)
		return;
	a->present = true;
	cur c = {v.p, v.len, 0};
	size_t start = 0;
	bool angle = false, seen_at = false;
	for (;;) {
		bool end = cur_end(&c);
		unsigned char ch = end ? ',' : cur_peek(&c);
		if (!end && ch == '(') {
			(void)cur_comment(&c);
			continue;
		}
		if (!end && ch == '"') {
			(void)cur_quoted(&c);
			continue;
		}
		if (ch == '<')
			angle = true;
		else if (ch == '>')
			angle = false;
		else if (ch == '@')
			seen_at = true;
		if (!angle && ch == ':' && !seen_at) {
			/* A group's display name ends here. */
			start = c.i + 1;
		} else if ((!angle || end) && (ch == ',' || ch == ';')) {
			msgp_view one = trim(view(v.p + start, c.i - start));
			if (one.len) {
				msgp_addr tmp = {0};
				parse_mailbox(x, one, &tmp);
				if (tmp.ok) {
					a->count++;
					if (!a->ok) {
						tmp.present = a->present;
						tmp.fields = a->fields;
						tmp.count = a->count;
						*a = tmp;
					}
				}
			}
			start = c.i + 1;
			seen_at = false;
		}
		if (end)
			break;
		c.i++;
	}
}

/* ------------------------------------------------------------ MIME */

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
	cur_cfws(&c);
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
		cur_cfws(&c);
		if (!read_pair(x, &c, &key, &val))
			continue;
		if (msgp_eq(key, "boundary"))
			ct->boundary = val;
		else if (msgp_eq(key, "report-type"))
			ct->report_type = val;
	}
}

/* The header fields of a MIME part that matter: Content-Type and
 * Content-Transfer-Encoding; *body is what follows its empty line. */
static void part_headers(ctx *x, msgp_view part, ctype *ct, msgp_view *cte,
			 msgp_view *body)
{
	fscan s = {part.p, part.len, 0, 1};
	while (!x->err) {
		msgp_view name;
		size_t vb, ve;
		bool folded;
		fs_result r = fscan_next(&s, &name, &vb, &ve, &folded);
		if (r == FS_END)
			break;
		if (r == FS_BAD)
			break; /* the body starts at this line */
		msgp_view val = unfold(x, part.p, vb, ve, folded);
		if (msgp_eq(name, "Content-Type") && !ct->type.p)
			parse_ctype(x, val, ct);
		else if (msgp_eq(name, "Content-Transfer-Encoding"))
			*cte = val;
	}
	*body = view(part.p + s.pos, part.len - s.pos);
}

/* What a walk over the MIME tree found. */
typedef struct found {
	msgp_view original; /* message/rfc822 or message/global */
	msgp_view headers;  /* text/rfc822-headers */
	msgp_view status;   /* message/delivery-status */
	msgp_view text;     /* the first text/plain part */
	bool original_b64, headers_b64;
} found;

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

static void walk(ctx *x, const ctype *ct, msgp_view cte, msgp_view body,
		 unsigned depth, found *f);

/* Walks the parts of a multipart body. */
static void walk_multipart(ctx *x, msgp_view bnd, msgp_view body,
			   unsigned depth, found *f)
{
	/* RFC 2046 §5.1.1: 1 to 70 characters. */
	if (bnd.len == 0 || bnd.len > 200)
		return;
	fscan s = {body.p, body.len, 0, 1};
	size_t part_start = SIZE_MAX;
	while (s.pos < s.n && !x->err) {
		size_t e, next;
		bool close;
		line_at(&s, s.pos, &e, &next);
		if (is_delim(body, s.pos, e, bnd, &close)) {
			if (part_start != SIZE_MAX) {
				/* The line break before the delimiter is
				 * part of it. */
				size_t pe = s.pos;
				if (pe > part_start && body.p[pe - 1] == '\n')
					pe--;
				if (pe > part_start && body.p[pe - 1] == '\r')
					pe--;
				msgp_view part =
				    view(body.p + part_start, pe - part_start);
				ctype pct = {0};
				msgp_view pcte = {0}, pbody;
				part_headers(x, part, &pct, &pcte, &pbody);
				walk(x, &pct, pcte, pbody, depth + 1, f);
			}
			if (close)
				return;
			part_start = next;
		}
		s.pos = next;
	}
	if (part_start != SIZE_MAX && part_start < body.len) {
		/* No closing delimiter: the last part runs to the end. */
		msgp_view part =
		    view(body.p + part_start, body.len - part_start);
		ctype pct = {0};
		msgp_view pcte = {0}, pbody;
		part_headers(x, part, &pct, &pcte, &pbody);
		walk(x, &pct, pcte, pbody, depth + 1, f);
	}
}

static void walk(ctx *x, const ctype *ct, msgp_view cte, msgp_view body,
		 unsigned depth, found *f)
{
	if (depth > MSGP_MIME_DEPTH || x->err)
		return;
	bool b64 = msgp_eq(cte, "base64");
	if (starts_with(ct->type, "multipart/")) {
		walk_multipart(x, ct->boundary, body, depth, f);
	} else if ((msgp_eq(ct->type, "message/rfc822") ||
		    msgp_eq(ct->type, "message/global")) &&
		   !f->original.p) {
		f->original = body;
		f->original_b64 = b64;
	} else if ((msgp_eq(ct->type, "text/rfc822-headers") ||
		    msgp_eq(ct->type, "message/global-headers")) &&
		   !f->headers.p) {
		f->headers = body;
		f->headers_b64 = b64;
	} else if ((msgp_eq(ct->type, "message/delivery-status") ||
		    msgp_eq(ct->type, "message/global-delivery-status")) &&
		   !f->status.p) {
		f->status = body;
	} else if ((!ct->type.p || msgp_eq(ct->type, "text/plain")) &&
		   !f->text.p && !b64) {
		f->text = body;
	}
}

/* Decodes base64 (RFC 2045 §6.8) into the arena, skipping what is not
 * in the alphabet. */
static msgp_view base64(ctx *x, msgp_view v)
{
	char *d = arena_get(x->ar, v.len / 4 * 3 + 3);
	if (!d) {
		fail(x, SPFKIT_ENOMEM, "out of memory");
		return view(NULL, 0);
	}
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

/* ------------------------------------------------------------ bounces */

/* "dns; mx.example" or "rfc822; a@b": the part after the type. */
static msgp_view after_type(msgp_view v)
{
	const char *semi = memchr(v.p, ';', v.len);
	if (semi)
		v = view(semi + 1, v.len - (size_t)(semi - v.p) - 1);
	return trim(v);
}

/* Is address literal text v private, loopback, link-local or the like,
 * so not the address of an Internet client? */
static bool ip_internal(msgp_view v)
{
	char buf[64];
	unsigned char b[16];
	if (v.len == 0 || v.len >= sizeof buf)
		return true;
	memcpy(buf, v.p, v.len);
	buf[v.len] = '\0';
	if (inet_pton(AF_INET, buf, b) == 1) {
		return b[0] == 10 || b[0] == 127 || b[0] == 0 ||
		       (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) ||
		       (b[0] == 169 && b[1] == 254) ||
		       (b[0] == 100 && (b[1] & 0xc0) == 64);
	}
	if (inet_pton(AF_INET6, buf, b) == 1) {
		static const unsigned char loop[16] = {[15] = 1};
		static const unsigned char any[16] = {0};
		static const unsigned char mapped[12] = {
		    [10] = 0xff, [11] = 0xff};
		if (memcmp(b, mapped, 12) == 0) {
			char v4[20];
			if (!inet_ntop(AF_INET, b + 12, v4, sizeof v4))
				return true;
			return ip_internal(view(v4, strlen(v4)));
		}
		return memcmp(b, loop, 16) == 0 || memcmp(b, any, 16) == 0 ||
		       (b[0] & 0xfe) == 0xfc ||
		       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
	}
	return true;
}

bool msgp_ip_internal(msgp_view ip)
{
	return ip_internal(ip);
}

/* The client IP a diagnostic names: after "ip=" first, else the first
 * address that is not the remote MTA's own nor an internal one. */
static msgp_view diag_ip(msgp_view d, msgp_view remote_ip)
{
	msgp_view ip;
	size_t k = find_ci(d, "ip=");
	if (k != SIZE_MAX) {
		size_t s = k + 3, e = s;
		while (e < d.len && d.p[e] &&
		       strchr("0123456789abcdefABCDEF:.", d.p[e]))
			e++;
		if (ip_text(view(d.p + s, e - s), &ip))
			return ip;
	}
	for (size_t i = 0; i < d.len;) {
		size_t e = i;
		while (e < d.len && d.p[e] &&
		       strchr("0123456789abcdefABCDEF:.", d.p[e]))
			e++;
		if (e > i) {
			msgp_view w = view(d.p + i, e - i);
			/* Trailing dots end sentences. */
			while (w.len && w.p[w.len - 1] == '.')
				w.len--;
			bool sep =
			    memchr(w.p, '.', w.len) || memchr(w.p, ':', w.len);
			bool own = remote_ip.p && w.len == remote_ip.len &&
				   memcmp(w.p, remote_ip.p, w.len) == 0;
			if (sep && ip_text(w, &ip) && !own && !ip_internal(ip))
				return ip;
			i = e;
		} else {
			i++;
		}
	}
	return view(NULL, 0);
}

/* RFC 3464 §2.2, §2.3: the per-message and first per-recipient fields. */
static void parse_status(ctx *x, msgp_view body, msgp_dsn *d)
{
	fscan s = {body.p, body.len, 0, 1};
	while (s.pos < s.n && !x->err) {
		msgp_view name;
		size_t vb, ve;
		bool folded;
		fs_result r = fscan_next(&s, &name, &vb, &ve, &folded);
		if (r == FS_END)
			continue;
		if (r == FS_BAD) {
			size_t e, next;
			line_at(&s, s.pos, &e, &next);
			s.pos = next;
			continue;
		}
		msgp_view v = unfold(x, body.p, vb, ve, folded);
		if (x->err)
			break;
		msgp_view *dst = NULL;
		if (msgp_eq(name, "Reporting-MTA"))
			dst = &d->reporting_mta;
		else if (msgp_eq(name, "Remote-MTA"))
			dst = &d->remote_mta;
		else if (msgp_eq(name, "Final-Recipient"))
			dst = &d->final_recipient;
		else if (msgp_eq(name, "Action"))
			dst = &d->action;
		else if (msgp_eq(name, "Status"))
			dst = &d->status;
		else if (msgp_eq(name, "Diagnostic-Code"))
			dst = &d->diagnostic;
		else if (msgp_eq(name, "X-Postfix-Sender"))
			dst = &d->sender;
		if (dst && !dst->p)
			*dst =
			    msgp_eq(name, "Action") || msgp_eq(name, "Status")
				? v
				: after_type(v);
	}
}

/* Lines that introduce the original message in the text of a bounce. */
static const char *const markers[] = {
    "------ This is a copy of the message, including all the headers.",
    "------ This is a copy of the message's headers.",
    "--- Below this line is a copy of the message.",
    "Original message headers:",
    "----- Original message -----",
    "------- Original Message -------",
};

/* Finds a marker line in text; *orig is what follows it (blank lines
 * skipped), *pre what precedes it. */
static bool find_marker(msgp_view text, msgp_view *orig, msgp_view *pre)
{
	fscan s = {text.p, text.len, 0, 1};
	while (s.pos < s.n) {
		size_t e, next;
		line_at(&s, s.pos, &e, &next);
		msgp_view line = trim(view(text.p + s.pos, e - s.pos));
		for (size_t i = 0; i < sizeof markers / sizeof markers[0];
		     i++) {
			if (!starts_with(line, markers[i]))
				continue;
			*pre = view(text.p, s.pos);
			size_t p = next;
			while (p < text.len) {
				size_t e2, n2;
				line_at(&s, p, &e2, &n2);
				if (trim(view(text.p + p, e2 - p)).len)
					break;
				p = n2;
			}
			*orig = view(text.p + p, text.len - p);
			return true;
		}
		s.pos = next;
	}
	return false;
}

/* The SMTP reply lines ("550 5.7.1 ...") of a bounce text, the remote
 * host ("host mx.example [192.0.2.1]") and "MAIL FROM:<addr>". */
static void scan_bounce_text(msgp_view pre, msgp_dsn *d)
{
	fscan s = {pre.p, pre.len, 0, 1};
	size_t first = SIZE_MAX, last = 0;
	while (s.pos < s.n) {
		size_t e, next;
		line_at(&s, s.pos, &e, &next);
		msgp_view line = trim(view(pre.p + s.pos, e - s.pos));
		if (line.len >= 4 && (line.p[0] == '4' || line.p[0] == '5') &&
		    line.p[1] >= '0' && line.p[1] <= '9' && line.p[2] >= '0' &&
		    line.p[2] <= '9' &&
		    (line.p[3] == ' ' || line.p[3] == '-')) {
			if (first == SIZE_MAX)
				first = (size_t)(line.p - pre.p);
			last = (size_t)(line.p - pre.p) + line.len;
		} else if (starts_with(line, "host ") && !d->remote_mta.p) {
			cur c = {line.p + 5, line.len - 5, 0};
			tok t = cur_token(&c, NULL);
			if (t.kind == TOK_WORD)
				d->remote_mta = t.v;
			t = cur_token(&c, NULL);
			msgp_view ip;
			if (t.kind == TOK_WORD && t.v.len > 2 &&
			    t.v.p[0] == '[' && t.v.p[t.v.len - 1] == ']' &&
			    ip_text(view(t.v.p + 1, t.v.len - 2), &ip))
				d->remote_ip = ip;
		}
		size_t k = find_ci(line, "MAIL FROM:<");
		if (k != SIZE_MAX && !d->sender.p) {
			msgp_view rest =
			    view(line.p + k + 11, line.len - k - 11);
			const char *gt = memchr(rest.p, '>', rest.len);
			if (gt && gt > rest.p)
				d->sender = view(rest.p, (size_t)(gt - rest.p));
		}
		s.pos = next;
	}
	if (first != SIZE_MAX)
		d->diagnostic = view(pre.p + first, last - first);
}

/* Does the message look like a bounce (RFC 3464 §2: sent with the null
 * sender, from MAILER-DAEMON or postmaster, or with a bounce subject)? */
static bool bounce_like(const msgp_msg *m)
{
	static const char *const subjects[] = {"Undeliver",
					       "Delivery Status Notification",
					       "Mail delivery failed",
					       "Returned mail",
					       "Delivery Failure",
					       "failure notice",
					       "Mail System Error",
					       "Non remis",
					       "Unzustellbar"};
	if (m->null_sender)
		return true;
	if (m->from.ok && (msgp_eq(m->from.local, "mailer-daemon") ||
			   msgp_eq(m->from.local, "postmaster") ||
			   msgp_eq(m->from.local, "mail-daemon")))
		return true;
	for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++)
		if (starts_with(m->subject, subjects[i]))
			return true;
	return false;
}

/* ------------------------------------------------------------ messages */

static int parse_msg(ctx *x, const char *buf, size_t len, unsigned depth,
		     bool headers_only, msgp_msg **out);

static void msg_free_arrays(msgp_msg *m)
{
	const spfkit_allocator *a = m->alloc;
	mem_free(a, m->fields);
	mem_free(a, m->received);
	mem_free(a, m->rspf);
	mem_free(a, m->authres);
}

void msgp_free(msgp_msg *m)
{
	if (!m)
		return;
	msgp_free(m->original);
	msg_free_arrays(m);
	/* The arena (shared with the original, owned by the top message)
	 * holds the allocator: free it last. */
	struct msgp_arena *ar = m->arena;
	spfkit_allocator a = *m->alloc;
	mem_free(&a, m);
	arena_free(ar);
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

/* The header section: fields, unfolded. */
static void parse_fields(ctx *x, msgp_msg *m, const char *buf, size_t len)
{
	fscan s = {buf, len, 0, 1};
	size_t cap = 0;
	/* An mbox "From " separator line before the fields. */
	if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
		size_t e, next;
		line_at(&s, 0, &e, &next);
		s.pos = next;
		s.line++;
	}
	bool known = false;
	for (;;) {
		msgp_view name;
		size_t vb, ve;
		bool folded;
		unsigned line = s.line;
		fs_result r = fscan_next(&s, &name, &vb, &ve, &folded);
		if (s.pos > MSGP_HEADER_MAX) {
			fail(x, SPFKIT_ETOOBIG,
			     "the header section is longer than 1 MiB");
			return;
		}
		if (r == FS_END) {
			m->header_len = s.pos;
			break;
		}
		if (r == FS_BAD) {
			if (m->nfields == 0) {
				fail(x, SPFKIT_EPARSE,
				     s.line == 1
					 ? "line 1 is not a header field "
					   "(\"Name: value\"): not a message"
					 : "the first header field is "
					   "malformed: not a message");
				return;
			}
			/* As Postfix does: the body starts here. */
			m->header_ended_early = true;
			m->bad_line = s.line;
			m->header_len = s.pos;
			warn(m, "a line that is not a header field ended the "
				"header section early");
			break;
		}
		if (m->nfields >= MSGP_FIELDS_MAX) {
			fail(x, SPFKIT_ETOOBIG, "more than 4096 header fields");
			return;
		}
		if (!grow(x->a, (void **)&m->fields, m->nfields, &cap,
			  sizeof *m->fields)) {
			fail(x, SPFKIT_ENOMEM, "out of memory");
			return;
		}
		msgp_field *f = &m->fields[m->nfields++];
		f->name = name;
		f->value = unfold(x, buf, vb, ve, folded);
		f->line = line;
		known = known || known_field(name);
		if (x->err)
			return;
	}
	if (m->nfields == 0) {
		fail(x, SPFKIT_EPARSE, "no header fields: not a message");
		return;
	}
	if (!known)
		fail(x, SPFKIT_EPARSE,
		     "no message header fields (From, Received, Date, ...): "
		     "not a message");
	m->body = view(buf + m->header_len, len - m->header_len);
}

/* The fields spfkit message reads, each parsed. */
static void parse_known(ctx *x, msgp_msg *m)
{
	size_t rcap = 0, scap = 0, acap = 0;
	for (size_t i = 0; i < m->nfields && !x->err; i++) {
		msgp_view n = m->fields[i].name, v = m->fields[i].value;
		if (msgp_eq(n, "Received")) {
			if (!grow(x->a, (void **)&m->received, m->nreceived,
				  &rcap, sizeof *m->received))
				goto nomem;
			msgp_received *r = &m->received[m->nreceived++];
			*r = (msgp_received){.field = i};
			parse_received(v, r);
		} else if (msgp_eq(n, "Received-SPF")) {
			if (!grow(x->a, (void **)&m->rspf, m->nrspf, &scap,
				  sizeof *m->rspf))
				goto nomem;
			msgp_rspf *r = &m->rspf[m->nrspf++];
			*r = (msgp_rspf){.field = i};
			parse_rspf(x, v, r);
		} else if (msgp_eq(n, "Authentication-Results")) {
			if (!grow(x->a, (void **)&m->authres, m->nauthres,
				  &acap, sizeof *m->authres))
				goto nomem;
			msgp_authres *r = &m->authres[m->nauthres++];
			*r = (msgp_authres){.field = i};
			parse_authres(x, v, r);
		} else if (msgp_eq(n, "Return-Path")) {
			if (m->nreturn_path++ == 0)
				parse_return_path(x, v, m);
		} else if (msgp_eq(n, "From")) {
			parse_addr_field(x, v, &m->from);
		} else if (msgp_eq(n, "Sender")) {
			parse_addr_field(x, v, &m->sender);
		} else if (msgp_eq(n, "Reply-To")) {
			parse_addr_field(x, v, &m->reply_to);
		} else if (msgp_eq(n, "To")) {
			parse_addr_field(x, v, &m->to);
		} else if (msgp_eq(n, "Subject") && !m->subject.p) {
			m->subject = v;
		} else if (msgp_eq(n, "Message-ID") && !m->message_id.p) {
			m->message_id = v;
		} else if (msgp_eq(n, "List-Id") && !m->list_id.p) {
			m->list_id = v;
		} else if ((msgp_eq(n, "Delivered-To") ||
			    msgp_eq(n, "X-Original-To")) &&
			   !m->delivered_to.p) {
			m->delivered_to = drop_angle(v);
		}
	}
	if (m->from.fields > 1)
		warn(m, "more than one From field (RFC 5322 §3.6 allows one)");
	if (m->nreturn_path > 1)
		warn(m, "more than one Return-Path field; the topmost is used");
	if (m->from.present && !m->from.ok)
		warn(m, "the From field holds no usable address");
	return;
nomem:
	fail(x, SPFKIT_ENOMEM, "out of memory");
}

/* Parses the original at v (a whole message or its header section). */
static void parse_original(ctx *x, msgp_msg *m, msgp_view v, bool b64,
			   bool headers_only)
{
	if (b64)
		v = base64(x, v);
	if (x->err || v.len == 0)
		return;
	ctx sub = {x->a, x->ar, 0, NULL, 0};
	msgp_msg *o = NULL;
	int rc = parse_msg(&sub, v.p, v.len, 1, headers_only, &o);
	if (rc == SPFKIT_ENOMEM) {
		fail(x, SPFKIT_ENOMEM, "out of memory");
		return;
	}
	if (rc < 0) {
		warn(m, "the original message inside the bounce does not "
			"parse");
		return;
	}
	m->original = o;
}

/* Finds the original message of a bounce. */
static void parse_bounce(ctx *x, msgp_msg *m)
{
	const msgp_field *f = msgp_find(m, "Content-Type");
	ctype ct = {0};
	msgp_view cte = {0};
	const msgp_field *fe = msgp_find(m, "Content-Transfer-Encoding");
	if (fe)
		cte = fe->value;
	if (f)
		parse_ctype(x, f->value, &ct);
	bool like = bounce_like(m);
	found fd = {0};
	if (starts_with(ct.type, "multipart/")) {
		walk(x, &ct, cte, m->body, 0, &fd);
		if (x->err)
			return;
		bool dsn = msgp_eq(ct.type, "multipart/report") &&
			   msgp_eq(ct.report_type, "delivery-status");
		if (dsn || (like && (fd.original.p || fd.headers.p))) {
			m->bounce = dsn ? MSGP_BOUNCE_DSN : MSGP_BOUNCE_MIME;
			if (fd.status.p)
				parse_status(x, fd.status, &m->dsn);
			if (fd.original.p)
				parse_original(x, m, fd.original,
					       fd.original_b64, false);
			else if (fd.headers.p)
				parse_original(x, m, fd.headers, fd.headers_b64,
					       true);
			if (fd.text.p) {
				msgp_dsn t = {0};
				scan_bounce_text(fd.text, &t);
				if (!m->dsn.diagnostic.p)
					m->dsn.diagnostic = t.diagnostic;
				if (!m->dsn.remote_mta.p)
					m->dsn.remote_mta = t.remote_mta;
				m->dsn.remote_ip = t.remote_ip;
				if (!m->dsn.sender.p)
					m->dsn.sender = t.sender;
			}
			goto done;
		}
	}
	if (!like)
		return;
	msgp_view text = fd.text.p ? fd.text : m->body;
	if (starts_with(ct.type, "multipart/") && !fd.text.p)
		return;
	if (!starts_with(ct.type, "multipart/") && msgp_eq(cte, "base64"))
		text = base64(x, text);
	msgp_view orig, pre;
	if (!find_marker(text, &orig, &pre))
		return;
	m->bounce = MSGP_BOUNCE_QUOTED;
	scan_bounce_text(pre, &m->dsn);
	parse_original(x, m, orig, false, false);
done:
	if (m->dsn.diagnostic.p)
		m->dsn.ip = diag_ip(m->dsn.diagnostic, m->dsn.remote_ip);
}

static int parse_msg(ctx *x, const char *buf, size_t len, unsigned depth,
		     bool headers_only, msgp_msg **out)
{
	*out = NULL;
	msgp_msg *m = mem_alloc(x->a, sizeof *m);
	if (!m) {
		fail(x, SPFKIT_ENOMEM, "out of memory");
		return x->err;
	}
	*m = (msgp_msg){.alloc = x->a, .headers_only = headers_only};
	parse_fields(x, m, buf, len);
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
	ctx x = {alloc ? alloc : &default_alloc, NULL, 0, err, errlen};
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!buf && len)
		len = 0;
	if (len > MSGP_MESSAGE_MAX) {
		fail(&x, SPFKIT_ETOOBIG, "the message is larger than 10 MiB");
		return x.err;
	}
	if (len == 0) {
		fail(&x, SPFKIT_EPARSE, "the input is empty: not a message");
		return x.err;
	}
	struct msgp_arena *ar = mem_alloc(x.a, sizeof *ar);
	if (!ar) {
		fail(&x, SPFKIT_ENOMEM, "out of memory");
		return x.err;
	}
	*ar = (struct msgp_arena){.copy = *x.a};
	ar->a = &ar->copy;
	x.a = ar->a;
	x.ar = ar;
	msgp_msg *m = NULL;
	int rc = parse_msg(&x, buf, len, 0, false, &m);
	if (rc == SPFKIT_OK && ar->failed)
		rc = SPFKIT_ENOMEM;
	if (rc < 0) {
		msgp_free(m);
		arena_free(ar);
		if (!x.err)
			fail(&x, rc, "out of memory");
		return rc;
	}
	m->arena = ar;
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
