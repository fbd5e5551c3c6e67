/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.c - SPF record text to terms: the grammar of RFC 7208 §4.5, §4.6,
 * §5, §6 and §12 (ABNF), and the domain name checks of §4.3 and §7.3.
 *
 * The parser reads the record as (pointer, length) and never writes into
 * it; terms are offsets into a private NUL-terminated copy.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SP ' '

bool spfkit__is_spf_record(const char *s, size_t n)
{
	/* RFC 7208 §4.5: "v=spf1" followed by SP or the end of the record;
	 * ABNF literals compare case-insensitively. */
	if (n < 6 || !spfkit__ieq(s, 6, "v=spf1", 6))
		return false;
	return n == 6 || s[6] == SP;
}

bool spfkit__domain_ok(const char *s, size_t n)
{
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	/* A macro may put any octet into a name and DNS carries it, but
	 * never a control character (NUL among them). One pass with no early
	 * exit, that the compiler does a vector at a time: every target of a
	 * check comes through here. */
	unsigned char bad = 0; /* octet-wide, for octet-wide vector lanes */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bad |= (unsigned char)((c < 0x20u) | (c == 0x7fu));
	}
	if (bad)
		return false;
	/* Labels of 1 to 63 octets (RFC 1035 §2.3.4). */
	for (size_t start = 0;;) {
		const char *dot = memchr(s + start, '.', n - start);
		size_t end = dot ? (size_t)(dot - s) : n;
		if (end == start || end - start > 63)
			return false;
		if (!dot)
			return true;
		start = end + 1;
	}
}

/* Appends a one-line message into err. */
static int parse_fail(spfkit__parse_error *err, size_t pos, size_t len,
		      const char *what, const char *term, size_t term_len)
{
	if (!err)
		return SPFKIT_EPARSE;
	err->pos = pos;
	err->len = len;
	/* Show at most 60 octets of the term, visible ASCII only. */
	char shown[64];
	size_t k = 0;
	for (size_t i = 0; i < term_len && k < 60; i++) {
		unsigned char c = (unsigned char)term[i];
		shown[k++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	shown[k] = '\0';
	snprintf(err->msg, sizeof err->msg, "%s at octet %zu: '%s%s'", what,
		 pos + 1, shown, term_len > 60 ? "..." : "");
	return SPFKIT_EPARSE;
}

/* Parses a CIDR length "/N" with no leading zero, value <= max. */
static bool parse_cidr(const char *s, size_t n, unsigned max, int *out)
{
	if (n < 2 || s[0] != '/' || n > 4)
		return false;
	if (s[1] == '0' && n > 2)
		return false;
	unsigned v = 0;
	for (size_t i = 1; i < n; i++) {
		if (!spfkit__is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (int)v;
	return true;
}

/* Length of a trailing "/digits" run ending at n, or 0. */
static size_t trailing_slash_num(const char *s, size_t n)
{
	size_t i = n;
	while (i > 0 && spfkit__is_digit((unsigned char)s[i - 1]))
		i--;
	if (i == n || i == 0 || s[i - 1] != '/')
		return 0;
	return n - (i - 1);
}

/* RFC 7208 §7.1 domain-end: the domain-spec ends in a macro-expand or in
 * "." toplabel [ "." ]. */
static bool domain_end_ok(const char *s, size_t n)
{
	if (n >= 2 && s[n - 1] == '}') {
		/* Ends in a macro-expand: find its "%{" (macro_check already
		 * validated the string, so a '}' closes one). */
		for (size_t i = n - 1; i-- > 0;)
			if (s[i] == '{')
				return i > 0 && s[i - 1] == '%';
		return false;
	}
	size_t end = n;
	if (end && s[end - 1] == '.')
		end--;
	size_t start = end;
	while (start > 0 && s[start - 1] != '.')
		start--;
	if (start == 0 || start == end)
		return false; /* no "." before the toplabel, or empty label */
	/* toplabel = ( *alphanum ALPHA *alphanum ) /
	 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
	bool alpha = false, hyphen = false;
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)s[i];
		if (spfkit__is_alpha(c))
			alpha = true;
		else if (c == '-')
			hyphen = true;
		else if (!spfkit__is_digit(c))
			return false;
	}
	if (hyphen)
		return s[start] != '-' && s[end - 1] != '-';
	return alpha;
}

/* Validates a domain-spec (macro-string plus domain-end). */
static bool domain_spec_ok(const char *s, size_t n)
{
	size_t errpos;
	if (n == 0)
		return false;
	if (spfkit__macro_check(s, n, SPFKIT__MACRO_DOMAIN, &errpos))
		return false;
	return domain_end_ok(s, n);
}

/* The ":domain-spec" that ends a term (rest, rn octets, at offset at of
 * the record) into term; else the parse error what about the term (t, n
 * octets at pos). */
static int take_spec(spfkit__term *term, const char *rest, size_t rn, size_t at,
		     spfkit__parse_error *err, size_t pos, const char *t,
		     size_t n, const char *what)
{
	if (rn == 0 || rest[0] != ':' || !domain_spec_ok(rest + 1, rn - 1))
		return parse_fail(err, pos, n, what, t, n);
	term->spec_pos = at + 1;
	term->spec_len = rn - 1;
	return SPFKIT_OK;
}

typedef struct mech_name {
	const char *name;
	size_t len;
	spfkit__mech mech;
} mech_name;

static const mech_name mechs[] = {
    {"all", 3, SPFKIT__ALL}, {"include", 7, SPFKIT__INCLUDE},
    {"a", 1, SPFKIT__A},     {"mx", 2, SPFKIT__MX},
    {"ptr", 3, SPFKIT__PTR}, {"ip4", 3, SPFKIT__IP4},
    {"ip6", 3, SPFKIT__IP6}, {"exists", 6, SPFKIT__EXISTS},
};

/* Parses one term t (length n, at offset pos in the record) into *term. */
static int parse_term(const char *t, size_t n, size_t pos, spfkit__term *term,
		      spfkit__parse_error *err)
{
	memset(term, 0, sizeof *term);
	term->pos = pos;
	term->len = n;
	term->cidr4 = term->cidr6 = -1;
	term->qualifier = '+';

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x21 || c > 0x7e)
			return parse_fail(err, pos, n,
					  c >= 0x80
					      ? "non-ASCII octet in term"
					      : "control character in term",
					  t, n);
	}

	size_t i = 0;
	bool qualified = false;
	if (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?') {
		term->qualifier = t[0];
		qualified = true;
		i = 1;
	}
	/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	size_t name_start = i;
	if (i < n && spfkit__is_alpha((unsigned char)t[i])) {
		i++;
		while (i < n && (spfkit__is_alnum((unsigned char)t[i]) ||
				 t[i] == '-' || t[i] == '_' || t[i] == '.'))
			i++;
	}
	size_t name_len = i - name_start;
	const char *name = t + name_start;
	if (name_len == 0)
		return parse_fail(err, pos, n,
				  "term does not start with a name", t, n);

	if (i < n && t[i] == '=') {
		/* modifier = redirect / explanation / unknown-modifier */
		if (qualified)
			return parse_fail(err, pos, n,
					  "a modifier cannot have a qualifier",
					  t, n);
		const char *v = t + i + 1;
		size_t vn = n - i - 1;
		term->spec_pos = pos + i + 1;
		term->spec_len = vn;
		if (spfkit__ieq(name, name_len, "redirect", 8)) {
			term->mech = SPFKIT__REDIRECT;
			if (!domain_spec_ok(v, vn))
				return parse_fail(err, pos, n,
						  "redirect= needs a domain", t,
						  n);
		} else if (spfkit__ieq(name, name_len, "exp", 3)) {
			term->mech = SPFKIT__EXP;
			if (!domain_spec_ok(v, vn))
				return parse_fail(err, pos, n,
						  "exp= needs a domain", t, n);
		} else {
			/* RFC 7208 §6: unknown modifiers (RFC 6652 ra= rp= rr=
			 * among them) are ignored, but must still be well
			 * formed. */
			size_t errpos;
			term->mech = SPFKIT__UNKNOWN_MOD;
			if (spfkit__macro_check(v, vn, SPFKIT__MACRO_DOMAIN,
						&errpos))
				return parse_fail(err, pos, n,
						  "bad macro in modifier value",
						  t, n);
		}
		return SPFKIT_OK;
	}

	const mech_name *m = NULL;
	for (size_t k = 0; k < sizeof mechs / sizeof mechs[0]; k++)
		if (spfkit__ieq(name, name_len, mechs[k].name, mechs[k].len))
			m = &mechs[k];
	if (!m) {
		int rc = parse_fail(err, pos, n, "unknown mechanism", t, n);
		/* The typos owners make most; lint gives the full advice. */
		static const struct {
			const char *typo, *fix;
		} typos[] = {{"ipv4", "ip4:"},
			     {"ipv6", "ip6:"},
			     {"ip", "ip4:"},
			     {"inc", "include:"},
			     {"includes", "include:"}};
		for (size_t k = 0; err && k < sizeof typos / sizeof typos[0];
		     k++)
			if (spfkit__ieq(name, name_len, typos[k].typo,
					strlen(typos[k].typo))) {
				size_t used = strlen(err->msg);
				snprintf(err->msg + used,
					 sizeof err->msg - used,
					 " (did you mean '%s'?)", typos[k].fix);
			}
		return rc;
	}
	term->mech = m->mech;

	const char *rest = t + i;
	size_t rn = n - i;
	switch (m->mech) {
	case SPFKIT__ALL:
		if (rn)
			return parse_fail(err, pos, n,
					  "'all' takes no argument", t, n);
		return SPFKIT_OK;
	case SPFKIT__INCLUDE:
	case SPFKIT__EXISTS:
		return take_spec(term, rest, rn, pos + i, err, pos, t, n,
				 m->mech == SPFKIT__INCLUDE
				     ? "include: needs a domain"
				     : "exists: needs a domain");
	case SPFKIT__PTR:
		if (rn == 0)
			return SPFKIT_OK;
		return take_spec(term, rest, rn, pos + i, err, pos, t, n,
				 "bad domain in ptr:");
	case SPFKIT__A:
	case SPFKIT__MX: {
		/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length
		 * ] taken from the right end: the domain-spec itself may hold
		 * '/' (a macro-literal). */
		size_t end = rn;
		size_t k = trailing_slash_num(rest, end);
		if (k && end - k > 0 && rest[end - k - 1] == '/') {
			if (!parse_cidr(rest + end - k, k, 128, &term->cidr6))
				return parse_fail(err, pos, n,
						  "bad IPv6 CIDR length", t, n);
			end -= k + 1;
			k = trailing_slash_num(rest, end);
		}
		if (k) {
			if (!parse_cidr(rest + end - k, k, 32, &term->cidr4))
				return parse_fail(err, pos, n,
						  "bad IPv4 CIDR length", t, n);
			end -= k;
		}
		if (end == 0)
			return SPFKIT_OK;
		return take_spec(term, rest, end, pos + i, err, pos, t, n,
				 m->mech == SPFKIT__A ? "bad domain in a:"
						      : "bad domain in mx:");
	}
	case SPFKIT__IP4:
	case SPFKIT__IP6: {
		bool v4 = m->mech == SPFKIT__IP4;
		if (rn < 2 || rest[0] != ':')
			return parse_fail(err, pos, n,
					  v4 ? "ip4: needs an address"
					     : "ip6: needs an address",
					  t, n);
		const char *a = rest + 1;
		size_t an = rn - 1;
		size_t slash = an;
		for (size_t k = 0; k < an; k++)
			if (a[k] == '/') {
				slash = k;
				break;
			}
		int *cidr = v4 ? &term->cidr4 : &term->cidr6;
		if (slash < an &&
		    !parse_cidr(a + slash, an - slash, v4 ? 32 : 128, cidr))
			return parse_fail(err, pos, n, "bad CIDR length", t, n);
		bool ok = v4 ? spfkit__ip4_parse(a, slash, term->addr)
			     : spfkit__ip6_parse(a, slash, term->addr);
		if (!ok)
			return parse_fail(
			    err, pos, n,
			    v4 ? "bad IPv4 address" : "bad IPv6 address", t, n);
		return SPFKIT_OK;
	}
	default: return parse_fail(err, pos, n, "unknown mechanism", t, n);
	}
}

int spfkit__record_parse(const spfkit__alloc *a, const char *s, size_t n,
			 spfkit__record **out, spfkit__parse_error *err)
{
	*out = NULL;
	if (err) {
		err->pos = err->len = 0;
		err->msg[0] = '\0';
	}
	if (!spfkit__is_spf_record(s, n))
		return parse_fail(err, 0, n, "not an SPF record", s, n);

	spfkit__record *r = spfkit__calloc(a, 1, sizeof *r);
	if (!r)
		return SPFKIT_ENOMEM;
	r->redirect = r->exp = -1;
	r->text = spfkit__strndup(a, s, n);
	size_t count = 0;
	for (size_t i = 6; i < n;) {
		while (i < n && s[i] == SP)
			i++;
		if (i >= n)
			break;
		count++;
		while (i < n && s[i] != SP)
			i++;
	}
	r->terms = spfkit__calloc(a, count ? count : 1, sizeof *r->terms);
	if (!r->text || !r->terms) {
		spfkit__record_free(a, r);
		return SPFKIT_ENOMEM;
	}
	r->len = n;

	int rc = SPFKIT_OK;
	for (size_t i = 6; i < n;) {
		while (i < n && s[i] == SP)
			i++;
		if (i >= n)
			break;
		size_t start = i;
		while (i < n && s[i] != SP)
			i++;
		spfkit__term *t = &r->terms[r->nterms];
		rc = parse_term(s + start, i - start, start, t, err);
		if (rc)
			break;
		if (t->spec_len && t->spec_len <= 253 &&
		    !memchr(s + t->spec_pos, '%', t->spec_len) &&
		    spfkit__domain_ok(s + t->spec_pos, t->spec_len)) {
			bool dot = s[t->spec_pos + t->spec_len - 1] == '.';
			t->literal_ok = t->spec_len > (size_t)dot;
			t->target_len = t->spec_len - dot;
			t->target_hash =
			    spfkit__name_hash(s + t->spec_pos, t->target_len);
		}
		if (t->mech == SPFKIT__REDIRECT || t->mech == SPFKIT__EXP) {
			int *slot = t->mech == SPFKIT__REDIRECT ? &r->redirect
								: &r->exp;
			if (*slot >= 0) {
				rc =
				    parse_fail(err, start, i - start,
					       t->mech == SPFKIT__REDIRECT
						   ? "second redirect= modifier"
						   : "second exp= modifier",
					       s + start, i - start);
				break;
			}
			*slot = (int)r->nterms;
		}
		r->nterms++;
	}
	if (rc) {
		spfkit__record_free(a, r);
		return rc;
	}
	*out = r;
	return SPFKIT_OK;
}

void spfkit__record_free(const spfkit__alloc *a, spfkit__record *r)
{
	if (!r)
		return;
	if (r->refs) {
		r->refs--; /* another holder (a cache, a check) keeps it */
		return;
	}
	spfkit__free(a, r->text);
	spfkit__free(a, r->terms);
	spfkit__free(a, r);
}
