/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_internal.h - what the files of the message parser share; not an
 * entry point (msgparse.h is). The parse context with its sticky error and
 * its arena (mem.c), views and the forward-only cursor the tokenizers run
 * over (lex.c), the header field scanner (fields.c), and the parsers each
 * file offers the others: addresses (address.c), trace fields (trace.c),
 * bounces (bounce.c), and the reader of large inputs (reader.c). The
 * MIME layer has its own header, msg_mime.h.
 *
 * Names with linkage start with msgp__ so that they stay out of the way
 * of the program the library is linked into.
 */
#ifndef SPFKIT_MSG_INTERNAL_H
#define SPFKIT_MSG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msgparse.h"

/* Comments nest at most this deep (RFC 5322 §3.2.2 has no limit; we
 * stop counting and treat the rest as comment). */
#define MSGP__COMMENT_DEPTH 64u

/* ------------------------------------------------------------ mem.c */

/* The allocator of msgp_parse(alloc = NULL): malloc. */
extern const spfkit_allocator msgp__default_alloc;

/* n octets (at least one) from a, or NULL. */
void *msgp__mem_alloc(const spfkit_allocator *a, size_t n);
/* Frees p (NULL allowed) through a. */
void msgp__mem_free(const spfkit_allocator *a, void *p);

/* A new arena that allocates through a copy of *a (the caller's may
 * go away), or NULL. */
struct msgp_arena *msgp__arena_new(const spfkit_allocator *a);
/* The arena's copy of the allocator, valid until msgp__arena_free(). */
const spfkit_allocator *msgp__arena_alloc(const struct msgp_arena *ar);
/* Has any allocation from the arena failed? */
bool msgp__arena_failed(const struct msgp_arena *ar);
/* Frees the arena and all it handed out; accepts NULL. */
void msgp__arena_free(struct msgp_arena *ar);

/* Grows an array of elements of size sz to hold one more. */
bool msgp__grow(const spfkit_allocator *a, void **arr, size_t n, size_t *cap,
		size_t sz);

/* A parse: the allocator, the arena, and the first error, which sticks. */
typedef struct ctx {
	const spfkit_allocator *a;
	struct msgp_arena *ar;
	int err;   /* sticky status */
	char *msg; /* error message buffer */
	size_t msglen;
} ctx;

/* Records the first error with a static message. */
void msgp__fail(ctx *x, int status, const char *why);

/* n octets from the arena, or NULL after recording "out of memory". */
char *msgp__get(ctx *x, size_t n);

/* Adds a warning (a static string) to m once; past MSGP_WARNINGS the
 * rest are dropped. */
void msgp__warn(msgp_msg *m, const char *why);

/* The warnings of what was read past (msgparse.h's caps), shared by the
 * parser and the reader so that a message warns once. */
extern const char msgp__warn_fields[];
extern const char msgp__warn_body[];

/* ------------------------------------------------------------ lex.c */

static inline msgp_view view(const char *p, size_t n)
{
	msgp_view v = {p, n};
	if (!p)
		v.len = 0;
	return v;
}

static inline bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Whitespace for trimming: WSP, and CR or LF left by odd line ends. */
static inline bool is_space(unsigned char c)
{
	return is_wsp(c) || c == '\r' || c == '\n';
}

msgp_view msgp__trim(msgp_view v);
/* Does v start with s, ASCII case-insensitively? */
bool msgp__starts_with(msgp_view v, const char *s);
/* Where s occurs in v (case-insensitive), or SIZE_MAX. */
size_t msgp__find_ci(msgp_view v, const char *s);
/* Drops one trailing dot ("mx.example." is "mx.example"). */
msgp_view msgp__drop_dot(msgp_view v);
/* Drops one pair of surrounding angle brackets. */
msgp_view msgp__drop_angle(msgp_view v);
/* An IPv4 or IPv6 address (with "IPv6:" dropped, as in RFC 5321
 * address literals)? On success *out is the address part of v. */
bool msgp__ip_text(msgp_view v, msgp_view *out);
/* A quoted string's content with quoted-pairs resolved (RFC 5322
 * §3.2.4) in the arena; other views come back as they are. */
msgp_view msgp__unquote(ctx *x, msgp_view v);

/* A forward-only cursor over a view: octet i of (p, n). */
typedef struct cur {
	const char *p;
	size_t n, i;
} cur;

static inline bool cur_end(const cur *c)
{
	return c->i >= c->n;
}

static inline unsigned char cur_peek(const cur *c)
{
	return cur_end(c) ? 0 : (unsigned char)c->p[c->i];
}

/* Skips a comment at the cursor (the cursor is on '('), nested and
 * with quoted-pairs (RFC 5322 §3.2.2); an unclosed one runs to the end.
 * Returns its content. */
msgp_view msgp__cur_comment(cur *c);
/* Skips a quoted string at the cursor (on '"'); an unclosed one runs to
 * the end. Returns the span with its quotes. */
msgp_view msgp__cur_quoted(cur *c);
/* Skips WSP, CR, LF and comments. */
void msgp__cur_cfws(cur *c);
/* Moves the cursor to the next octet ch outside comments and quoted
 * strings and returns its index, or the end (c->n) when there is none. */
size_t msgp__cur_find(cur *c, unsigned char ch);

typedef enum tok_kind { TOK_END, TOK_WORD, TOK_COMMENT, TOK_SEMI } tok_kind;

typedef struct tok {
	tok_kind kind;
	msgp_view v;
} tok;

/* The next token of a structured value: a word (a run up to WSP, '(' or
 * ';', quoted strings and <...> included whole), a comment's content, or
 * ';'. extra names octets that also end a word (e.g. "=" for key=value). */
tok msgp__cur_token(cur *c, const char *extra);

/* Reads key [CFWS] "=" [CFWS] value at the cursor (RFC 7208 §9.1
 * key-value-pair, RFC 8601 propspec, RFC 2045 §5.1 parameter). Stops at
 * ';' (not consumed). Returns false when no pair is there (the cursor
 * moves past one token). */
bool msgp__read_pair(ctx *x, cur *c, msgp_view *key, msgp_view *val);

/* ------------------------------------------------------------ fields.c */

/* Scans header fields (RFC 5322 §2.2) over a view. */
typedef struct fscan {
	const char *p;
	size_t n, pos;
	unsigned line;
} fscan;

/* The line at pos: its content ends at *e (CR LF not included), the
 * next line starts at *next. */
void msgp__line_at(const fscan *s, size_t pos, size_t *e, size_t *next);

typedef enum fs_result { FS_FIELD, FS_END, FS_BAD } fs_result;

/* The next field: its name and the raw span [*vb, *ve) of its value
 * (from after the colon to the end of its last continuation line). FS_END
 * at an empty line (s->pos then after it) or the end; FS_BAD at a line
 * that is not a field (s->pos stays at it). */
fs_result msgp__fscan_next(fscan *s, msgp_view *name, size_t *vb, size_t *ve,
			   bool *folded);

/* The unfolded, trimmed value of the raw span [vb, ve) of p: line breaks
 * dropped (RFC 5322 §2.2.3; the WSP after them stays). A single-line
 * value is a view into the input. */
msgp_view msgp__unfold(ctx *x, const char *p, size_t vb, size_t ve,
		       bool folded);

/* msgp__fscan_next() with the value unfolded into *value (FS_FIELD
 * only). */
fs_result msgp__field_next(ctx *x, fscan *s, msgp_view *name, msgp_view *value);

/* The header section of (buf, len) into m->fields, and m->body. */
void msgp__parse_fields(ctx *x, msgp_msg *m, const char *buf, size_t len);

/* ------------------------------------------------------------ address.c */

/* Return-Path (RFC 5321 §4.1.2 Reverse-path) into m. */
void msgp__parse_return_path(msgp_view v, msgp_msg *m);
/* An address-list or mailbox-list field (RFC 5322 §3.4) into a. */
void msgp__parse_addr_field(ctx *x, msgp_view v, msgp_addr *a);

/* ------------------------------------------------------------ trace.c */

/* Received (RFC 5321 §4.4). */
void msgp__parse_received(msgp_view v, msgp_received *r);
/* Received-SPF (RFC 7208 §9.1). */
void msgp__parse_rspf(ctx *x, msgp_view v, msgp_rspf *r);
/* Authentication-Results (RFC 8601 §2.2). */
void msgp__parse_authres(ctx *x, msgp_view v, msgp_authres *r);

/* ------------------------------------------------------------ bounce.c */

struct msgp__mime; /* msg_mime.h */

/* Reads m as a bounce, from the MIME parts of its body the MIME layer
 * found (mime): its kind and what it says about the failed delivery into
 * m->bounce and m->dsn. A bounce that carries the original message, or
 * its header section (*headers_only), gives it in *orig, decoded; *orig
 * stays absent otherwise. */
void msgp__read_bounce(ctx *x, msgp_msg *m, const struct msgp__mime *mime,
		       msgp_view *orig, bool *headers_only);

/* Could m's body matter: does its header section look like a bounce's
 * (RFC 3464 §2: the null sender, MAILER-DAEMON, a bounce subject, a
 * delivery-status report)? Only then is its body read. */
bool msgp__body_matters(const msgp_msg *m);

/* The rejecting server's own SPF verdict in d's diagnostic into d->spf
 * and d->spf_text. */
void msgp__bounce_spf(msgp_dsn *d);

#endif /* SPFKIT_MSG_INTERNAL_H */
