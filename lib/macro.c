/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * macro.c - macro-strings (RFC 7208 §7): syntax check, "does it use %{p}",
 * and expansion for domain-specs and explanations.
 *
 * Values are raw octets (8-bit allowed); all output goes through
 * spfkit__buf. The libspf2 CVEs (CVE-2021-20314, -33912, -33913,
 * CVE-2023-42118) were all length arithmetic here, so this file never
 * precomputes an output size: every transformation is a single pass that
 * appends to a bounded sink, digit counts saturate instead of overflowing,
 * and the domain context keeps only a fixed window of its output so the
 * §7.3 left truncation needs no arithmetic on the total length.
 */
#include <string.h>

#include "internal.h"

/* RFC 7208 §7.3: an expanded domain name longer than this is truncated
 * from the left, label by label. One trailing dot is not counted. */
#define DOMAIN_MAX 253
/* What the domain sink must remember: the longest possible result (253
 * octets plus a trailing dot) and one octet more for the fallback below. */
#define DOMAIN_KEEP (DOMAIN_MAX + 2)

/* Letters as bits, for "which macros does this string use". */
#define LETTER_BIT(c) (1u << ((c) - 'a'))

/* One token of a macro-string: a run of bytes copied as they are, or a
 * %{...} expansion. */
typedef struct mtok {
	bool is_macro;
	const char *lit; /* literal: the bytes to copy */
	size_t lit_len;
	unsigned char letter; /* macro: lower-case letter */
	bool url;             /* upper-case letter: URL-escape the result */
	size_t digits;        /* rightmost parts to keep; 0 = all */
	bool reverse;
	const char *delims; /* delimiter characters as written; none = "." */
	size_t ndelims;
} mtok;

static bool is_delim_char(unsigned char c)
{
	switch (c) {
	case '.':
	case '-':
	case '+':
	case ',':
	case '/':
	case '_':
	case '=': return true;
	default: return false;
	}
}

/* RFC 7208 §7.1 macro-literal = %x21-24 / %x26-7E; §6.2 explain-string
 * also allows SP between macro-strings, so explanations may hold spaces. */
static bool is_literal(unsigned char c, spfkit__macro_ctx ctx)
{
	if (c == ' ')
		return ctx == SPFKIT__MACRO_EXPLAIN;
	return c >= 0x21 && c <= 0x7e && c != '%';
}

/* Which letters are valid in ctx: c, r and t only in explanations. */
static bool letter_ok(unsigned char c, spfkit__macro_ctx ctx)
{
	switch (c) {
	case 's':
	case 'l':
	case 'o':
	case 'd':
	case 'i':
	case 'p':
	case 'h':
	case 'v': return true;
	case 'c':
	case 'r':
	case 't': return ctx == SPFKIT__MACRO_EXPLAIN;
	default: return false;
	}
}

/* Reads the token at *pos into t and advances *pos. On a syntax error
 * returns false with *pos at the offending byte: the '%' that starts a bad
 * sequence, or a byte that is no macro-literal. */
static bool mtok_next(const char *s, size_t n, size_t *pos,
		      spfkit__macro_ctx ctx, mtok *t)
{
	size_t p = *pos;
	memset(t, 0, sizeof *t);

	if (s[p] != '%') {
		/* A run of literals up to the next '%': checked in one pass
		 * with no early exit (a vector at a time), then walked octet
		 * by octet only when it holds one that is no literal, to stop
		 * there. Explanations are long runs of text. */
		const char *pct = memchr(s + p, '%', n - p);
		size_t end = pct ? (size_t)(pct - s) : n;
		unsigned char space = ctx == SPFKIT__MACRO_EXPLAIN ? ' ' : '!';
		unsigned char bad = 0; /* octet-wide: octet-wide lanes */
		for (size_t k = p; k < end; k++) {
			unsigned char c = (unsigned char)s[k];
			bad |= (unsigned char)(((unsigned char)(c - 0x21u) >=
						0x5eu) &
					       (c != space));
		}
		size_t i = end;
		if (bad)
			for (i = p;
			     i < end && is_literal((unsigned char)s[i], ctx);
			     i++)
				;
		if (i == p)
			return false;
		t->lit = s + p;
		t->lit_len = i - p;
		*pos = i;
		return true;
	}
	if (n - p < 2)
		return false; /* a lone trailing '%' */
	switch (s[p + 1]) {
	case '%':
		t->lit = "%";
		t->lit_len = 1;
		*pos = p + 2;
		return true;
	case '_':
		t->lit = " ";
		t->lit_len = 1;
		*pos = p + 2;
		return true;
	case '-':
		t->lit = "%20";
		t->lit_len = 3;
		*pos = p + 2;
		return true;
	case '{': break;
	default: return false;
	}

	size_t i = p + 2;
	if (i >= n)
		return false;
	unsigned char c = (unsigned char)s[i];
	unsigned char lc = spfkit__lower(c);
	if (!letter_ok(lc, ctx))
		return false;
	t->is_macro = true;
	t->letter = lc;
	t->url = c != lc;
	i++;

	/* transformers = *DIGIT [ "r" ]; the count saturates so that
	 * %{d2147483648} means "all parts" instead of wrapping (CVE-2021-33913
	 * class). "Any nonzero" is decided on the saturated value, which is
	 * zero only when every digit was. */
	bool saw_digit = false;
	size_t v = 0;
	while (i < n && spfkit__is_digit((unsigned char)s[i])) {
		size_t d = (size_t)(s[i] - '0');
		v = (v > (SIZE_MAX - d) / 10) ? SIZE_MAX : v * 10 + d;
		saw_digit = true;
		i++;
	}
	/* RFC 7208 §7.1: "If a DIGIT is specified, the value MUST be
	 * nonzero." */
	if (saw_digit && v == 0)
		return false;
	t->digits = v;
	if (i < n && spfkit__lower((unsigned char)s[i]) == 'r') {
		t->reverse = true;
		i++;
	}
	t->delims = s + i;
	while (i < n && is_delim_char((unsigned char)s[i]))
		i++;
	t->ndelims = (size_t)(s + i - t->delims);
	if (i >= n || s[i] != '}')
		return false;
	*pos = i + 1;
	return true;
}

/* Walks the whole string: SPFKIT_OK or SPFKIT_EPARSE with *errpos set.
 * *used collects LETTER_BIT of every macro letter seen before any error. */
static int scan(const char *s, size_t n, spfkit__macro_ctx ctx, size_t *errpos,
		unsigned *used)
{
	size_t pos = 0;
	mtok t;
	*used = 0;
	while (pos < n) {
		if (!mtok_next(s, n, &pos, ctx, &t)) {
			if (errpos)
				*errpos = pos;
			return SPFKIT_EPARSE;
		}
		if (t.is_macro)
			*used |= LETTER_BIT(t.letter);
	}
	return SPFKIT_OK;
}

int spfkit__macro_check(const char *s, size_t n, spfkit__macro_ctx ctx,
			size_t *errpos)
{
	unsigned used;
	return scan(s, n, ctx, errpos, &used);
}

/* Scanned as an explanation, the most permissive context; a syntax error
 * stops the scan, and what was seen before it counts. */
bool spfkit__macro_uses_p(const char *s, size_t n)
{
	if (!memchr(s, '%', n))
		return false; /* no macro at all: the common case, cheaply */
	unsigned used;
	scan(s, n, SPFKIT__MACRO_EXPLAIN, NULL, &used);
	return (used & LETTER_BIT('p')) != 0;
}

/* ---------------------------------------------------------------- sink */

/* Where expanded octets go. An explanation appends straight to out. A
 * domain keeps only the last octets in win (the §7.3 result is a suffix of
 * at most DOMAIN_KEEP octets), so expansion memory stays fixed however
 * long the unexpanded text would be; out gets the result in sink_finish. */
typedef struct sink {
	spfkit__buf *out;
	bool domain;
	bool cut;    /* octets were dropped before win[0] */
	char before; /* the octet just before win[0] when cut */
	size_t wlen;
	char win[1024];
} sink;

static void sink_add(sink *k, const char *p, size_t n)
{
	if (!k->domain) {
		spfkit__buf_add(k->out, p, n);
		return;
	}
	while (n > 0) {
		if (k->wlen == sizeof k->win) {
			size_t drop = sizeof k->win - DOMAIN_KEEP;
			k->before = k->win[drop - 1];
			memmove(k->win, k->win + drop, DOMAIN_KEEP);
			k->wlen = DOMAIN_KEEP;
			k->cut = true;
		}
		size_t room = sizeof k->win - k->wlen;
		size_t m = n < room ? n : room;
		memcpy(k->win + k->wlen, p, m);
		k->wlen += m;
		p += m;
		n -= m;
	}
}

/* RFC 7208 §7.3: "if the expanded domain name exceeds 253 characters ...
 * the left side is truncated to fit, by removing successive domain labels
 * (and their following dots)". The result is the longest suffix that
 * starts a label and fits; one trailing dot is not counted. If even the
 * last label alone is too long there is no such suffix: we then hand over
 * its last DOMAIN_MAX + 1 octets (plus the trailing dot, if any), which is
 * still over the limit and a label over 63 octets, so the caller's
 * spfkit__domain_ok() rejects it just as it would the whole label. */
static void sink_finish(sink *k)
{
	const char *w = k->win;
	size_t n = k->wlen;
	size_t limit = DOMAIN_MAX + ((n > 0 && w[n - 1] == '.') ? 1 : 0);

	if (!k->cut && n <= limit) {
		spfkit__buf_add(k->out, w, n);
		return;
	}
	/* n > limit here: a kept window always holds DOMAIN_KEEP octets. */
	for (size_t i = n - limit; i < n; i++) {
		bool starts_label =
		    i == 0 ? (!k->cut || k->before == '.') : w[i - 1] == '.';
		if (starts_label) {
			spfkit__buf_add(k->out, w + i, n - i);
			return;
		}
	}
	spfkit__buf_add(k->out, w + n - (limit + 1), limit + 1);
}

/* RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool is_unreserved(unsigned char c)
{
	return spfkit__is_alnum(c) || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Appends (p, n), URL-escaped when url (RFC 7208 §7.3: every octet that is
 * not unreserved becomes %XX, upper-case hex). Runs of unreserved octets go
 * out in one piece. */
static void emit(sink *k, const char *p, size_t n, bool url)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!url) {
		sink_add(k, p, n);
		return;
	}
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (is_unreserved(c))
			continue;
		sink_add(k, p + run, i - run);
		char esc[3] = {'%', hex[c >> 4], hex[c & 0xf]};
		sink_add(k, esc, sizeof esc);
		run = i + 1;
	}
	sink_add(k, p + run, n - run);
}

/* RFC 7208 §7.3 transformers: split v on the delimiters, reverse if asked,
 * keep the rightmost t->digits parts (all when 0 or more than there are),
 * join with '.'. Done in place over v in O(len) whatever the part count:
 * no part table, no size computed ahead. */
static void emit_value(sink *k, const char *v, size_t len, const mtok *t)
{
	bool delim[256] = {false};
	if (t->ndelims == 0)
		delim['.'] = true;
	for (size_t i = 0; i < t->ndelims; i++)
		delim[(unsigned char)t->delims[i]] = true;

	size_t parts = 1;
	for (size_t i = 0; i < len; i++)
		if (delim[(unsigned char)v[i]])
			parts++;
	size_t keep = parts;
	if (t->digits != 0 && t->digits < parts)
		keep = t->digits;

	if (!t->reverse) {
		/* Skip the leftmost parts - keep parts, then copy the rest with
		 * each delimiter turned into '.'. */
		size_t skip = parts - keep, i = 0;
		while (skip > 0) {
			if (delim[(unsigned char)v[i]])
				skip--;
			i++;
		}
		size_t from = i;
		for (; i < len; i++) {
			if (!delim[(unsigned char)v[i]])
				continue;
			emit(k, v + from, i - from, t->url);
			sink_add(k, ".", 1);
			from = i + 1;
		}
		emit(k, v + from, len - from, t->url);
		return;
	}

	/* Reversed, the rightmost keep parts are the original parts
	 * keep-1 ... 0: find where part keep-1 ends, then walk back. */
	size_t end = 0, seen = 0;
	for (; end < len; end++)
		if (delim[(unsigned char)v[end]] && ++seen == keep)
			break;
	size_t j = end;
	for (;;) {
		size_t q = j;
		while (q > 0 && !delim[(unsigned char)v[q - 1]])
			q--;
		emit(k, v + q, j - q, t->url);
		if (q == 0)
			break;
		sink_add(k, ".", 1);
		j = q - 1;
	}
}

/* Values computed from the environment before expansion starts. */
typedef struct derived {
	spfkit__buf i, c;
	char t[24];
} derived;

/* A view of (p, len) that tolerates NULL, or dflt when p is NULL. */
static void view(const char *p, size_t len, const char *dflt, const char **vp,
		 size_t *vlen)
{
	if (p == NULL) {
		*vp = dflt;
		*vlen = strlen(dflt);
	} else {
		*vp = p;
		*vlen = len;
	}
}

/* The unexpanded value of a macro letter (RFC 7208 §7.3). */
static void letter_value(const spfkit__macro_env *env, unsigned char letter,
			 derived *dv, const char **vp, size_t *vlen)
{
	switch (letter) {
	case 's': view(env->sender, env->sender_len, "", vp, vlen); return;
	case 'l': view(env->local, env->local_len, "", vp, vlen); return;
	case 'o': view(env->sdomain, env->sdomain_len, "", vp, vlen); return;
	case 'd': view(env->domain, env->domain_len, "", vp, vlen); return;
	case 'h': view(env->helo, env->helo_len, "", vp, vlen); return;
	case 'p':
		/* The evaluator validates the client name (§5.5) and passes
		 * it; without one the value is "unknown" (§7.3). */
		view(env->ptr, env->ptr_len, "unknown", vp, vlen);
		return;
	case 'r':
		view(env->receiver, env->receiver_len, "unknown", vp, vlen);
		return;
	case 'v':
		*vp = env->ip->family == 6 ? "ip6" : "in-addr";
		*vlen = strlen(*vp);
		return;
	case 'i':
		*vp = dv->i.data ? dv->i.data : "";
		*vlen = dv->i.len;
		return;
	case 'c':
		*vp = dv->c.data ? dv->c.data : "";
		*vlen = dv->c.len;
		return;
	case 't': {
		/* Decimal seconds; written here, not through a buffer. */
		size_t k = sizeof dv->t;
		uint64_t x = env->now;
		do {
			dv->t[--k] = (char)('0' + x % 10);
			x /= 10;
		} while (x > 0);
		*vp = dv->t + k;
		*vlen = sizeof dv->t - k;
		return;
	}
	default:
		*vp = "";
		*vlen = 0;
		return;
	}
}

/* The whole string is checked before anything is written, so a syntax
 * error leaves out unchanged. env->ip is required when i, c or v is used
 * (SPFKIT_EINVAL otherwise). An explanation stops at out's first error. */
int spfkit__macro_expand(const spfkit__macro_env *env, const char *s, size_t n,
			 spfkit__macro_ctx ctx, spfkit__buf *out)
{
	if (out->err)
		return out->err;
	/* Most domain-specs are plain names: no '%', nothing to truncate
	 * (§7.3), only macro-literal octets (%x21-24 / %x26-7E). */
	if (ctx == SPFKIT__MACRO_DOMAIN && n <= DOMAIN_MAX &&
	    !memchr(s, '%', n)) {
		size_t i = 0;
		while (i < n && (unsigned char)s[i] > 0x20 &&
		       (unsigned char)s[i] < 0x7f)
			i++;
		if (i == n)
			return spfkit__buf_add(out, s, n);
	}
	unsigned used;
	if (scan(s, n, ctx, NULL, &used) != SPFKIT_OK)
		return SPFKIT_EPARSE;
	const unsigned needs_ip =
	    LETTER_BIT('i') | LETTER_BIT('c') | LETTER_BIT('v');
	if (env == NULL || ((used & needs_ip) && env->ip == NULL))
		return SPFKIT_EINVAL;

	sink k;
	k.out = out;
	k.domain = ctx == SPFKIT__MACRO_DOMAIN;
	k.cut = false;
	k.before = 0;
	k.wlen = 0;

	/* %{i} and %{c} are made first, so running out of memory for them
	 * writes nothing to out. At most 63 and 45 octets: small fixed caps,
	 * never out's. */
	derived dv;
	spfkit__buf_init(&dv.i, out->a, 64);
	spfkit__buf_init(&dv.c, out->a, 64);
	if (used & LETTER_BIT('i'))
		spfkit__ip_macro(env->ip, &dv.i);
	if (used & LETTER_BIT('c'))
		spfkit__ip_format(env->ip, &dv.c);
	int rc = dv.i.err ? dv.i.err : dv.c.err;

	size_t pos = 0;
	mtok t;
	while (rc == SPFKIT_OK && pos < n && !out->err) {
		(void)mtok_next(s, n, &pos, ctx, &t); /* checked by scan() */
		if (!t.is_macro) {
			sink_add(&k, t.lit, t.lit_len);
			continue;
		}
		const char *v;
		size_t vlen;
		letter_value(env, t.letter, &dv, &v, &vlen);
		emit_value(&k, v, vlen, &t);
	}
	if (rc == SPFKIT_OK && k.domain)
		sink_finish(&k);
	if (rc == SPFKIT_OK)
		rc = out->err;
	spfkit__buf_free(&dv.i);
	spfkit__buf_free(&dv.c);
	return rc;
}
