/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_record.c - the grammar of a DMARC Policy Record (RFC 9989 §4.7,
 * §4.8) over (pointer, length): is a TXT record DMARC at all, its tags one
 * by one, and what a receiver reads from them. Reading never fails: §4.8
 * says syntax errors in the record fall back to the defaults or are
 * ignored, and unknown tags MUST be ignored (§4.7). Lint (dmarc_lint.c)
 * says what was wrong; discovery (dmarc.c) uses what remains.
 */
#include <string.h>

#include "dmarc.h"

/* RFC 5234 WSP. */
static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Moves [*a, *b) of s inward past WSP at both ends. */
static void trim(const char *s, size_t *a, size_t *b)
{
	while (*a < *b && is_wsp(s[*a]))
		(*a)++;
	while (*b > *a && is_wsp(s[*b - 1]))
		(*b)--;
}

bool spfkit__dmarc_tag_is(const char *s, size_t n, const char *name)
{
	return spfkit__ieq(s, n, name, strlen(name));
}

bool spfkit__dmarc_is_record(const char *s, size_t n)
{
	return spfkit__dmarc_after_version(s, n) != 0;
}

size_t spfkit__dmarc_after_version(const char *s, size_t n)
{
	/* dmarc-version = "v" equals %s"DMARC1": "v" is an ABNF literal (any
	 * case), DMARC1 is case-sensitive (§4.7). */
	size_t i = 0;
	if (!s || n == 0 || (s[0] != 'v' && s[0] != 'V'))
		return 0;
	i = 1;
	while (i < n && is_wsp(s[i]))
		i++;
	if (i >= n || s[i] != '=')
		return 0;
	i++;
	while (i < n && is_wsp(s[i]))
		i++;
	if (n - i < 6 || memcmp(s + i, "DMARC1", 6) != 0)
		return 0;
	i += 6;
	/* Then the end, or dmarc-sep (*WSP ";" *WSP): "v=DMARC1 p=none"
	 * has the version value "DMARC1 p=none", which is not DMARC1. */
	size_t k = i;
	while (k < n && is_wsp(s[k]))
		k++;
	if (k < n && s[k] != ';')
		return 0;
	return i;
}

bool spfkit__dmarc_next_tag(const char *s, size_t n, size_t *cur,
			    spfkit__dmarc_tag *t)
{
	size_t i = *cur;
	for (;;) {
		/* past the separator */
		while (i < n && (is_wsp(s[i]) || s[i] == ';'))
			i++;
		if (i >= n) {
			*cur = n;
			return false;
		}
		size_t start = i;
		while (i < n && s[i] != ';')
			i++;
		size_t end = i;
		trim(s, &start, &end);
		if (end == start)
			continue;
		memset(t, 0, sizeof *t);
		t->pos = start;
		t->len = end - start;
		size_t eq = start;
		while (eq < end && s[eq] != '=')
			eq++;
		size_t ns = start, ne = eq;
		trim(s, &ns, &ne);
		t->npos = ns;
		t->nlen = ne - ns;
		t->name_ok = t->nlen > 0;
		for (size_t k = ns; k < ne; k++)
			if (!spfkit__is_alpha((unsigned char)s[k]))
				t->name_ok = false;
		t->has_eq = eq < end;
		size_t vs = t->has_eq ? eq + 1 : end, ve = end;
		trim(s, &vs, &ve);
		t->vpos = vs;
		t->vlen = ve - vs;
		*cur = i;
		return true;
	}
}

spfkit_dmarc_disp spfkit__dmarc_request(const char *s, size_t n)
{
	if (spfkit__ieq(s, n, "none", 4))
		return SPFKIT_DMARC_P_NONE;
	if (spfkit__ieq(s, n, "quarantine", 10))
		return SPFKIT_DMARC_P_QUARANTINE;
	if (spfkit__ieq(s, n, "reject", 6))
		return SPFKIT_DMARC_P_REJECT;
	return SPFKIT_DMARC_P_UNSET;
}

/* Is c one of the octets a URI may hold as it is (RFC 3986 §2: unreserved,
 * gen-delims and sub-delims; '%' is checked apart)? Commas and '!' MUST be
 * encoded in a dmarc-uri (§4.8). */
static bool uri_char(unsigned char c)
{
	if (spfkit__is_alnum(c))
		return true;
	return c != ',' && c != '!' && strchr("-._~:/?#[]@$&'()*+;=", c) &&
	       c != '\0';
}

static bool is_hex(unsigned char c)
{
	return spfkit__is_digit(c) || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

bool spfkit__dmarc_uri_ok(const char *s, size_t n, bool *obs)
{
	if (obs)
		*obs = false;
	/* obs-dmarc-report-size = "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] */
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '!')
			continue;
		size_t k = i + 1, digits = 0;
		while (k < n && spfkit__is_digit((unsigned char)s[k])) {
			k++;
			digits++;
		}
		if (k < n && strchr("kmgtKMGT", s[k]) && s[k] != '\0')
			k++;
		if (!digits || k != n)
			return false;
		if (obs)
			*obs = true;
		n = i;
		break;
	}
	/* URI = scheme ":" hier-part (RFC 3986 §3): scheme = ALPHA
	 * *( ALPHA / DIGIT / "+" / "-" / "." ), and something after it. */
	size_t i = 0;
	if (n == 0 || !spfkit__is_alpha((unsigned char)s[0]))
		return false;
	while (i < n && (spfkit__is_alnum((unsigned char)s[i]) || s[i] == '+' ||
			 s[i] == '-' || s[i] == '.'))
		i++;
	if (i >= n || s[i] != ':' || i + 1 >= n)
		return false;
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || !is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return false;
			i += 2;
		} else if (!uri_char(c)) {
			return false;
		}
	}
	return true;
}

bool spfkit__dmarc_fo_ok(const char *s, size_t n)
{
	/* One or more of 0, 1, d, s separated by ':', each at most once, 0
	 * and 1 not both (§4.7 fo, §4.8 dmarc-fo). */
	bool seen[4] = {false, false, false, false};
	size_t i = 0;
	if (n == 0)
		return false;
	for (;;) {
		if (i >= n)
			return false;
		int k;
		switch (s[i]) {
		case '0': k = 0; break;
		case '1': k = 1; break;
		case 'd':
		case 'D': k = 2; break;
		case 's':
		case 'S': k = 3; break;
		default: return false;
		}
		if (seen[k])
			return false;
		seen[k] = true;
		i++;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
	}
	return !(seen[0] && seen[1]);
}

/* One of the letters of set (lower case), any case, alone; else 0. */
static char one_of(const char *s, size_t n, const char *set)
{
	if (n != 1)
		return 0;
	char c = (char)spfkit__lower((unsigned char)s[0]);
	return strchr(set, c) && c ? c : 0;
}

bool spfkit__dmarc_next_uri(const char *s, size_t n, size_t *cur, size_t *pos,
			    size_t *len)
{
	size_t i = *cur;
	if (i > n)
		return false;
	size_t k = i;
	while (k < n && s[k] != ',')
		k++;
	trim(s, &i, &k);
	*pos = i;
	*len = k - i;
	while (k < n && s[k] != ',')
		k++;
	*cur = k + 1;
	return true;
}

/* Does a urilist hold at least one syntactically valid URI? */
static bool urilist_ok(const char *s, size_t n)
{
	size_t cur = 0, pos, len;
	while (spfkit__dmarc_next_uri(s, n, &cur, &pos, &len))
		if (spfkit__dmarc_uri_ok(s + pos, len, NULL))
			return true;
	return false;
}

void spfkit__dmarc_parse(const char *s, size_t n, spfkit__dmarc_rec *r)
{
	memset(r, 0, sizeof *r);
	r->adkim = r->aspf = 'r';
	r->psd = 'u';
	/* The first of a repeated tag counts (a receiver that stops at the
	 * first is as common as one that takes the last; lint warns). */
	bool seen_p = false, seen_sp = false, seen_np = false,
	     seen_adkim = false, seen_aspf = false, seen_psd = false,
	     seen_t = false, seen_rua = false;
	size_t cur = spfkit__dmarc_after_version(s, n);
	spfkit__dmarc_tag t;
	while (cur && spfkit__dmarc_next_tag(s, n, &cur, &t)) {
		if (!t.has_eq || !t.name_ok)
			continue;
		const char *name = s + t.npos, *v = s + t.vpos;
		size_t nl = t.nlen, vl = t.vlen;
		if (!seen_p && spfkit__dmarc_tag_is(name, nl, "p")) {
			seen_p = true;
			r->p = spfkit__dmarc_request(v, vl);
			r->p_bad = r->p == SPFKIT_DMARC_P_UNSET;
		} else if (!seen_sp && spfkit__dmarc_tag_is(name, nl, "sp")) {
			seen_sp = true;
			r->sp = spfkit__dmarc_request(v, vl);
			r->sp_bad = r->sp == SPFKIT_DMARC_P_UNSET;
		} else if (!seen_np && spfkit__dmarc_tag_is(name, nl, "np")) {
			seen_np = true;
			r->np = spfkit__dmarc_request(v, vl);
			r->np_bad = r->np == SPFKIT_DMARC_P_UNSET;
		} else if (!seen_adkim &&
			   spfkit__dmarc_tag_is(name, nl, "adkim")) {
			seen_adkim = true;
			char c = one_of(v, vl, "rs");
			r->adkim = c ? c : 'r';
		} else if (!seen_aspf &&
			   spfkit__dmarc_tag_is(name, nl, "aspf")) {
			seen_aspf = true;
			char c = one_of(v, vl, "rs");
			r->aspf = c ? c : 'r';
		} else if (!seen_psd && spfkit__dmarc_tag_is(name, nl, "psd")) {
			seen_psd = true;
			char c = one_of(v, vl, "ynu");
			r->psd = c ? c : 'u';
		} else if (!seen_t && spfkit__dmarc_tag_is(name, nl, "t")) {
			seen_t = true;
			r->testing = one_of(v, vl, "yn") == 'y';
		} else if (!seen_rua && spfkit__dmarc_tag_is(name, nl, "rua")) {
			seen_rua = true;
			r->rua_ok = urilist_ok(v, vl);
		}
	}
}

const char *spfkit_dmarc_disp_name(spfkit_dmarc_disp d)
{
	switch (d) {
	case SPFKIT_DMARC_P_NONE: return "none";
	case SPFKIT_DMARC_P_QUARANTINE: return "quarantine";
	case SPFKIT_DMARC_P_REJECT: return "reject";
	default: return NULL;
	}
}

const char *spfkit_dmarc_status_name(spfkit_dmarc_status s)
{
	switch (s) {
	case SPFKIT_DMARC_FOUND: return "found";
	case SPFKIT_DMARC_NONE: return "none";
	default: return "temperror";
	}
}
