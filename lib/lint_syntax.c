/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lint_syntax.c - advice for text the grammar rejects or receivers ignore:
 * a term with the usual typos (RFC 7208 §4.6.1, §5, §6, §12), a modifier
 * receivers do not know (§6), and a text that is not a v=spf1 record
 * (§4.5). The grammar itself is the evaluator's (spfkit__record_parse());
 * this file only says what the owner probably meant.
 */
#include <string.h>

#include "lint.h"

#define MAX_GLUE_TERM 1024 /* longest term tried for a missing space */

static const char *const mech_words[] = {"all", "include", "a",   "mx",
					 "ptr", "ip4",     "ip6", "exists"};

/* Typing slips: octets that editors, word processors and web pages put
 * where an ASCII space, hyphen or nothing was meant, as UTF-8. */
static const struct slip {
	const char *utf8;
	char plain; /* '\0': left out */
} slips[] = {
    {"\xC2\xA0", ' '},     /* no-break space */
    {"\xE2\x80\x80", ' '}, /* en quad .. hair space */
    {"\xE2\x80\x81", ' '},  {"\xE2\x80\x82", ' '},  {"\xE2\x80\x83", ' '},
    {"\xE2\x80\x84", ' '},  {"\xE2\x80\x85", ' '},  {"\xE2\x80\x86", ' '},
    {"\xE2\x80\x87", ' '},  {"\xE2\x80\x88", ' '},  {"\xE2\x80\x89", ' '},
    {"\xE2\x80\x8A", ' '},  {"\xE2\x80\xAF", ' '}, /* narrow no-break */
    {"\xE2\x81\x9F", ' '},                         /* math space */
    {"\xE3\x80\x80", ' '},                         /* ideographic */
    {"\xE2\x80\x90", '-'}, /* hyphen .. horizontal bar, minus */
    {"\xE2\x80\x91", '-'},  {"\xE2\x80\x92", '-'},  {"\xE2\x80\x93", '-'},
    {"\xE2\x80\x94", '-'},  {"\xE2\x80\x95", '-'},  {"\xE2\x88\x92", '-'},
    {"\xE2\x80\x98", '\0'}, /* typographic quotes */
    {"\xE2\x80\x99", '\0'}, {"\xE2\x80\x9A", '\0'}, {"\xE2\x80\x9B", '\0'},
    {"\xE2\x80\x9C", '\0'}, {"\xE2\x80\x9D", '\0'}, {"\xE2\x80\x9E", '\0'},
    {"\xE2\x80\x9F", '\0'}, {"\xC2\xAB", '\0'},     {"\xC2\xBB", '\0'},
    {"\xE2\x80\x8B", '\0'}, /* zero-width space, joiners, marks */
    {"\xE2\x80\x8C", '\0'}, {"\xE2\x80\x8D", '\0'}, {"\xE2\x80\x8E", '\0'},
    {"\xE2\x80\x8F", '\0'}, {"\xE2\x81\xA0", '\0'}, {"\xC2\xAD", '\0'},
    {"\xEF\xBB\xBF", '\0'}, /* byte-order mark */
};

/* The slip at s (n octets left): its length, or 0. */
static size_t slip_at(const char *s, size_t n, char *plain)
{
	unsigned char c = (unsigned char)s[0];
	if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
		*plain = ' ';
		return 1;
	}
	for (size_t i = 0; i < sizeof slips / sizeof slips[0]; i++) {
		size_t k = strlen(slips[i].utf8);
		if (k <= n && memcmp(s, slips[i].utf8, k) == 0) {
			*plain = slips[i].plain;
			return k;
		}
	}
	return 0;
}

bool spfkit__lint_retype(spfkit__buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			spfkit__buf_addc(out, (char)c);
			i++;
			continue;
		}
		char plain;
		size_t k = slip_at(s + i, n - i, &plain);
		if (!k)
			return false;
		if (plain)
			spfkit__buf_addc(out, plain);
		i += k;
	}
	return true;
}

/* Length of the run of spaces, quotes and slips of a space or a quote at
 * the start of (s, n): what people paste before a record. */
static size_t leading_junk(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		char plain = 'x';
		size_t k = (s[i] == ' ' || s[i] == '"' || s[i] == '\'')
			       ? 1
			       : slip_at(s + i, n - i, &plain);
		if (!k || plain == '-')
			break;
		i += k;
	}
	return i;
}

/* Is (s, n) a mechanism name? */
static bool is_mech_word(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof mech_words / sizeof mech_words[0]; i++)
		if (spfkit__ieq(s, n, mech_words[i], strlen(mech_words[i])))
			return true;
	return false;
}

int spfkit__lint_parse_term(const spfkit__alloc *a, const char *t, size_t n,
			    spfkit__term *out, spfkit__parse_error *err)
{
	spfkit__buf b;
	spfkit__buf_init(&b, a, n + 16);
	spfkit__buf_adds(&b, "v=spf1 ");
	spfkit__buf_add(&b, t, n);
	if (b.err) {
		spfkit__buf_free(&b);
		return SPFKIT_ENOMEM;
	}
	spfkit__record *rec = NULL;
	int rc = spfkit__record_parse(a, b.data, b.len, &rec, err);
	spfkit__buf_free(&b);
	if (rc == SPFKIT_OK) {
		if (rec->nterms != 1) {
			rc = SPFKIT_EPARSE;
		} else {
			*out = rec->terms[0];
			out->pos -= 7;
			if (out->spec_len)
				out->spec_pos -= 7;
		}
		spfkit__record_free(a, rec);
	} else if (err && rc == SPFKIT_EPARSE) {
		err->pos = err->pos >= 7 ? err->pos - 7 : 0;
	}
	return rc;
}

/* Does (t, n) parse as a term? *oom set when out of memory. */
static bool parses(const spfkit__alloc *a, const char *t, size_t n, bool *oom)
{
	spfkit__term term;
	int rc = spfkit__lint_parse_term(a, t, n, &term, NULL);
	if (rc == SPFKIT_ENOMEM)
		*oom = true;
	return rc == SPFKIT_OK;
}

/* Length of the name at t[i] (ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )). */
static size_t name_at(const char *t, size_t n, size_t i)
{
	size_t k = i;
	if (k < n && spfkit__is_alpha((unsigned char)t[k])) {
		k++;
		while (k < n && (spfkit__is_alnum((unsigned char)t[k]) ||
				 t[k] == '-' || t[k] == '_'))
			k++;
	}
	return k - i;
}

/* Could a term start at t[k]: an optional qualifier, then a mechanism
 * name followed by ':', '/', or the end, or redirect= / exp=? */
static bool term_start(const char *t, size_t n, size_t k)
{
	if (k < n && (t[k] == '+' || t[k] == '-' || t[k] == '~' || t[k] == '?'))
		k++;
	size_t nl = name_at(t, n, k);
	if (!nl)
		return false;
	if (spfkit__ieq(t + k, nl, "redirect", 8) ||
	    spfkit__ieq(t + k, nl, "exp", 3))
		return k + nl < n && t[k + nl] == '=';
	if (!is_mech_word(t + k, nl))
		return false;
	return k + nl == n || t[k + nl] == ':' || t[k + nl] == '/';
}

/* Is (s, n) an IPv4 or IPv6 address, optionally with "/cidr"? */
static int ip_literal(const char *s, size_t n)
{
	size_t end = n;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/') {
			end = i;
			break;
		}
	unsigned char a[16];
	if (spfkit__ip4_parse(s, end, a))
		return 4;
	if (spfkit__ip6_parse(s, end, a))
		return 6;
	return 0;
}

void spfkit__lint_parse_msg(spfkit__buf *b, const spfkit__parse_error *perr,
			    size_t pos, const char *t, size_t n)
{
	const char *at = strstr(perr->msg, " at octet ");
	size_t keep = at ? (size_t)(at - perr->msg) : strlen(perr->msg);
	spfkit__buf_add(b, perr->msg, keep);
	spfkit__buf_adds(b, " at octet ");
	spfkit__buf_addu(b, (uint64_t)pos + 1);
	spfkit__buf_adds(b, ": '");
	spfkit__lint_shown(b, t, n, 60);
	spfkit__buf_adds(b, "'");
}

/* Advice for a term the grammar rejects: a code, a message and a fix for
 * the usual typos (RFC 7208 §4.6.1, §5, §6, §12). With quiet, a term with
 * no better advice than "syntax" is not reported (the words of an exp=
 * text written in place of a name). Returns the code. */
const char *spfkit__lint_bad_term(spfkit__lint_reporter *r, const char *t,
				  size_t n, size_t pos,
				  const spfkit__parse_error *perr, bool quiet)
{
	const spfkit__alloc *a = r->a;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	const char *code = "syntax", *rfc = "RFC 7208 4.6.1";
	bool oom = false;
	size_t q =
	    (n && (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?'))
		? 1
		: 0;
	size_t nl = name_at(t, n, q);
	const char *name = t + q;
	const char *val = t + q + nl; /* from the separator on */
	size_t vn = n - q - nl;
	char sep = vn ? val[0] : '\0';
	bool octets = false, quote = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x21 || c > 0x7e)
			octets = true;
		if (c == '"')
			quote = true;
	}

	if (octets) {
		code = "bad-octet";
		spfkit__buf_adds(&m.m, "a control or non-ASCII octet in '");
		spfkit__lint_shown(&m.m, t, n, 80);
		bool slip = spfkit__lint_retype(&m.r, t, n);
		if (!slip)
			spfkit__buf_reset(&m.r);
		spfkit__buf_adds(&m.m, slip ? "' (a typographic quote, dash "
					      "or space pasted in?)"
					    : "'");
		spfkit__lint_offer(&m, "retype it in plain ASCII: '", "'",
				   "retype the term in plain ASCII");
	} else if (quote) {
		code = "stray-quote";
		spfkit__buf_adds(&m.m, "a quote character inside '");
		spfkit__lint_shown(&m.m, t, n, 80);
		spfkit__buf_adds(&m.m, "': the zone file's quotes ended up in "
				       "the record");
		for (size_t i = 0; i < n; i++)
			if (t[i] != '"')
				spfkit__buf_addc(&m.r, t[i]);
		spfkit__lint_offer(&m, "write it without the quotes, '",
				   "'; in a zone file, quote each whole "
				   "string once",
				   "remove the quotes from the record "
				   "text; in a zone file, quote each "
				   "whole string once");
	} else if ((spfkit__ieq(name, nl, "ipv4", 4) ||
		    spfkit__ieq(name, nl, "ipv6", 4)) &&
		   (sep == ':' || sep == '=')) {
		bool v4 = name[3] == '4';
		code = v4 ? "ipv4-typo" : "ipv6-typo";
		rfc = "RFC 7208 5.6";
		spfkit__buf_adds(&m.m, v4 ? "'ipv4' is not a mechanism"
					  : "'ipv6' is not a mechanism");
		spfkit__buf_add(&m.r, t, q);
		spfkit__buf_adds(&m.r, v4 ? "ip4:" : "ip6:");
		spfkit__buf_add(&m.r, val + 1, vn - 1);
		spfkit__lint_offer(&m, "", "",
				   v4 ? "write ip4: and the IPv4 address or "
					"network of your servers"
				      : "write ip6: and the IPv6 address or "
					"network of your servers");
	} else if (spfkit__ieq(name, nl, "ip", 2) &&
		   (sep == ':' || sep == '=')) {
		int fam = ip_literal(val + 1, vn - 1);
		code = "ip-typo";
		rfc = "RFC 7208 5.6";
		spfkit__buf_adds(&m.m, "'ip' is not a mechanism");
		spfkit__buf_add(&m.r, t, q);
		spfkit__buf_adds(&m.r, fam == 6 ? "ip6:" : "ip4:");
		spfkit__buf_add(&m.r, val + 1, vn - 1);
		spfkit__lint_offer(&m, "", "",
				   "write ip4: or ip6: and an address or "
				   "network");
	} else if (sep == '=' && is_mech_word(name, nl)) {
		bool inc = spfkit__ieq(name, nl, "include", 7);
		code = inc ? "include-equals" : "mechanism-equals";
		rfc = inc ? "RFC 7208 5.2" : "RFC 7208 4.6.1";
		spfkit__buf_adds(&m.m, "a mechanism takes ':' before its "
				       "argument, not '=': receivers ignore '");
		spfkit__lint_shown(&m.m, t, n, 100);
		spfkit__buf_adds(&m.m, "' as an unknown modifier");
		spfkit__buf_add(&m.r, t, q + nl);
		spfkit__buf_addc(&m.r, ':');
		spfkit__buf_add(&m.r, val + 1, vn - 1);
		spfkit__lint_offer(&m, "", "",
				   "write ':' between the mechanism and its "
				   "domain");
	} else if (sep == ':' && !q &&
		   (spfkit__ieq(name, nl, "redirect", 8) ||
		    spfkit__ieq(name, nl, "exp", 3))) {
		code = "modifier-colon";
		rfc = nl == 3 ? "RFC 7208 6.2" : "RFC 7208 6.1";
		spfkit__buf_adds(&m.m, "a modifier takes '=', not ':'");
		spfkit__buf_add(&m.r, name, nl);
		spfkit__buf_addc(&m.r, '=');
		spfkit__buf_add(&m.r, val + 1, vn - 1);
		spfkit__lint_offer(&m, "", "",
				   "write '=' between the modifier and its "
				   "domain");
	} else if (sep == ':' && vn > 1 &&
		   (spfkit__ieq(name, nl, "a", 1) ||
		    spfkit__ieq(name, nl, "mx", 2) ||
		    spfkit__ieq(name, nl, "include", 7) ||
		    spfkit__ieq(name, nl, "exists", 6)) &&
		   ip_literal(val + 1, vn - 1)) {
		int fam = ip_literal(val + 1, vn - 1);
		code = "ip-as-domain";
		rfc = "RFC 7208 5.6";
		spfkit__buf_adds(&m.m, "an address where a domain name "
				       "belongs: '");
		spfkit__lint_shown(&m.m, name, nl, 20);
		spfkit__buf_adds(&m.m, ":' takes a domain name");
		spfkit__buf_add(&m.r, t, q);
		spfkit__buf_adds(&m.r, fam == 6 ? "ip6:" : "ip4:");
		spfkit__buf_add(&m.r, val + 1, vn - 1);
		spfkit__lint_offer(&m, "", "",
				   "list addresses with ip4: or ip6:");
	} else if (!q && sep == '=' && spfkit__ieq(name, nl, "exp", 3)) {
		code = "exp-not-domain";
		rfc = "RFC 7208 6.2";
		spfkit__buf_adds(&m.m, "exp= takes the name of a TXT record "
				       "that holds the explanation, not the "
				       "text itself");
		spfkit__buf_adds(&m.f, "publish the text as a TXT record, e.g. "
				       "at explain._spf.<your domain>, and "
				       "write exp=explain._spf.<your domain>");
	} else if (spfkit__ieq(name, nl, "all", 3) && vn) {
		code = "all-argument";
		rfc = "RFC 7208 5.1";
		spfkit__buf_adds(&m.m, "'all' takes no argument");
		spfkit__buf_add(&m.r, t, q + nl);
		spfkit__lint_offer(&m, "", "", "write all without an argument");
	} else {
		/* Two terms run together: their TXT strings were joined
		 * without a space (RFC 7208 §3.3). */
		size_t split = 0;
		for (size_t k = 1; !split && n <= MAX_GLUE_TERM && k < n; k++)
			if (term_start(t, n, k) &&
			    parses(a, t + k, n - k, &oom) &&
			    parses(a, t, k, &oom))
				split = k;
		if (split) {
			code = "missing-space";
			rfc = "RFC 7208 3.3";
			spfkit__buf_adds(&m.m, "two terms run together ('");
			spfkit__lint_shown(&m.m, t, split, 100);
			spfkit__buf_adds(&m.m, "' and '");
			spfkit__lint_shown(&m.m, t + split, n - split, 100);
			spfkit__buf_adds(&m.m,
					 "'): TXT strings are joined without "
					 "a space");
			spfkit__buf_add(&m.r, t, split);
			spfkit__buf_addc(&m.r, ' ');
			spfkit__buf_add(&m.r, t + split, n - split);
			spfkit__lint_offer(&m, "",
					   " (end the first string with a "
					   "space)",
					   "end the first string with a "
					   "space");
		} else if (nl && (spfkit__ieq(name, nl, "include", 7) ||
				  spfkit__ieq(name, nl, "a", 1) ||
				  spfkit__ieq(name, nl, "mx", 2) ||
				  spfkit__ieq(name, nl, "exists", 6) ||
				  spfkit__ieq(name, nl, "ptr", 3) ||
				  spfkit__ieq(name, nl, "redirect", 8))) {
			code = "no-domain";
			rfc = "RFC 7208 4.6.1";
			spfkit__buf_adds(&m.m, "'");
			spfkit__lint_shown(&m.m, t, n, 100);
			spfkit__buf_adds(&m.m, "' has no usable domain");
			spfkit__buf_adds(&m.f,
					 "give a fully qualified domain name "
					 "(at least one dot, a top label that "
					 "is not all digits)");
		}
	}
	if (oom)
		r->err = SPFKIT_ENOMEM;
	if (m.m.len == 0 && perr)
		spfkit__lint_parse_msg(&m.m, perr, pos, t, n);
	else if (m.m.len == 0)
		spfkit__buf_adds(&m.m, "syntax error");
	if (quiet && strcmp(code, "syntax") == 0) {
		spfkit__lint_msg_free(&m);
		return code;
	}
	if (strcmp(code, "syntax") == 0 && m.f.len == 0)
		spfkit__buf_adds(&m.f, "see the term grammar of RFC 7208 12; "
				       "receivers give permerror for the whole "
				       "record");
	spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_ERROR, code, rfc, pos, n);
	return code;
}

/* Edit distance of two short names, capped at 3. */
static unsigned distance(const char *a, size_t an, const char *b, size_t bn)
{
	if (an > 20 || bn > 20)
		return 3;
	unsigned d[21][21];
	for (size_t i = 0; i <= an; i++)
		d[i][0] = (unsigned)i;
	for (size_t k = 0; k <= bn; k++)
		d[0][k] = (unsigned)k;
	for (size_t i = 1; i <= an; i++)
		for (size_t k = 1; k <= bn; k++) {
			unsigned c =
			    spfkit__lower((unsigned char)a[i - 1]) ==
				    spfkit__lower((unsigned char)b[k - 1])
				? 0
				: 1;
			unsigned v = d[i - 1][k - 1] + c;
			if (d[i - 1][k] + 1 < v)
				v = d[i - 1][k] + 1;
			if (d[i][k - 1] + 1 < v)
				v = d[i][k - 1] + 1;
			d[i][k] = v;
		}
	return d[an][bn] < 3 ? d[an][bn] : 3;
}

/* Advice for a modifier receivers do not know (RFC 7208 §6): a second
 * version tag, a mechanism written with '=', or a near miss of redirect=
 * or exp=; the reporting modifiers of RFC 6652 are fine. */
void spfkit__lint_unknown_modifier(spfkit__lint_reporter *r,
				   const spfkit__term *t, const char *text)
{
	const char *tt = text + t->pos;
	size_t nl = name_at(tt, t->len, 0);
	/* RFC 6652 ra= rp= rr=: reporting, recognised. */
	if (spfkit__ieq(tt, nl, "ra", 2) || spfkit__ieq(tt, nl, "rp", 2) ||
	    spfkit__ieq(tt, nl, "rr", 2))
		return;
	/* "include=x", "ipv4=x": well formed, so receivers ignore them as
	 * unknown modifiers -- the servers are not listed. */
	if (is_mech_word(tt, nl) || spfkit__ieq(tt, nl, "ipv4", 4) ||
	    spfkit__ieq(tt, nl, "ipv6", 4) || spfkit__ieq(tt, nl, "ip", 2)) {
		spfkit__lint_bad_term(r, tt, t->len, t->pos, NULL, false);
		return;
	}
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	if (spfkit__ieq(tt, nl, "v", 1)) {
		spfkit__buf_adds(&m.m, "a second version tag '");
		spfkit__lint_shown(&m.m, tt, t->len, 40);
		spfkit__buf_adds(&m.m, "': two records pasted into one?");
		spfkit__buf_adds(&m.f, "remove the second 'v=spf1' and merge "
				       "the terms once");
		spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING,
				  "duplicate-version", "RFC 7208 4.5", t->pos,
				  t->len);
		return;
	}
	bool redir = distance(tt, nl, "redirect", 8) <= 2 ||
		     spfkit__ieq(tt, nl, "redir", 5);
	bool exp = spfkit__ieq(tt, nl, "explanation", 11) ||
		   spfkit__ieq(tt, nl, "explain", 7) ||
		   (nl > 1 && distance(tt, nl, "exp", 3) <= 1);
	spfkit__buf_adds(&m.m, "unknown modifier '");
	spfkit__lint_shown(&m.m, tt, nl, 40);
	spfkit__buf_adds(&m.m, "=' is ignored by receivers");
	if (redir || exp) {
		spfkit__buf_adds(&m.r, redir ? "redirect=" : "exp=");
		spfkit__buf_add(&m.r, tt + nl + 1, t->len - nl - 1);
		spfkit__lint_offer(&m, "", "",
				   redir ? "write redirect=" : "write exp=");
	}
	spfkit__lint_emit(r, &m,
			  redir || exp ? SPFKIT_SEVERITY_WARNING
				       : SPFKIT_SEVERITY_INFO,
			  "unknown-modifier", "RFC 7208 6", t->pos, t->len);
}

/* Writes to m->r the record (s, n) would be with its leading junk (pre
 * octets) and the same junk at its end left out, head written in place
 * of its first skip octets, and the typing slips put right; nothing when
 * an octet has no plain counterpart. */
static void corrected(spfkit__lint_msg *m, const char *s, size_t n, size_t pre,
		      const char *head, size_t skip)
{
	size_t end = n;
	/* The quote after a quoted record, the spaces after it: junk units
	 * are 1 to 3 octets. */
	for (bool more = pre > 0; more && end > pre;) {
		more = false;
		for (size_t k = 1; k <= 3 && k <= end - pre && !more; k++)
			if (leading_junk(s + end - k, k) == k) {
				end -= k;
				more = true;
			}
	}
	spfkit__buf_adds(&m->r, head);
	if (pre + skip > end ||
	    !spfkit__lint_retype(&m->r, s + pre + skip, end - pre - skip))
		spfkit__buf_reset(&m->r);
}

/* Advice for a text that is not a v=spf1 record (RFC 7208 §4.5): the
 * near misses owners publish, with the record they meant when it is
 * clear. Returns true when one was reported. */
bool spfkit__lint_near_miss(spfkit__lint_reporter *r, spfkit_severity sev,
			    const char *s, size_t n)
{
	size_t i = leading_junk(s, n);
	const char *p = s + i;
	size_t pn = n - i;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	const char *code = NULL;
	char plain = 'x';
	size_t k = pn > 6 ? slip_at(p + 6, pn - 6, &plain) : 0;
	if (i > 0 && spfkit__is_spf_record(p, pn)) {
		code = "version-not-first";
		spfkit__buf_adds(&m.m, "the record does not start with "
				       "'v=spf1' (");
		spfkit__lint_shown(&m.m, s, i, 12);
		spfkit__buf_adds(&m.m, " before it), so receivers do not see "
				       "it");
		corrected(&m, s, n, i, "", 0);
		spfkit__lint_offer(&m, "publish it as '", "'",
				   "remove what comes before 'v=spf1'");
	} else if (pn >= 6 && spfkit__ieq(p, 6, "v=spf1", 6)) {
		code = "version-no-space";
		spfkit__buf_adds(&m.m, "'v=spf1' is followed by '");
		spfkit__lint_shown(&m.m, p + 6, k ? k : 1, 4);
		spfkit__buf_adds(&m.m, "', not a space: receivers do not see "
				       "a record");
		/* A TAB or a no-break space is the space, mistyped. */
		corrected(&m, s, n, i, "v=spf1 ",
			  6 + (k && (plain == ' ' || !plain) ? k : 0));
		spfkit__lint_offer(&m, "put a space after v=spf1: '", "'",
				   "put a space after v=spf1");
	} else if (pn >= 4 && spfkit__ieq(p, 4, "spf1", 4) &&
		   (pn == 4 || p[4] == ' ')) {
		code = "missing-version";
		spfkit__buf_adds(&m.m, "the record starts with 'spf1' "
				       "without 'v=': receivers do not see it");
		corrected(&m, s, n, i, "v=spf1", 4);
		spfkit__lint_offer(&m, "start it with 'v=': '", "'",
				   "start it with 'v=spf1'");
	} else if (pn >= 5 && (spfkit__ieq(p, 5, "v=spf", 5) ||
			       spfkit__ieq(p, 5, "v-spf", 5) ||
			       spfkit__ieq(p, 5, "v:spf", 5))) {
		code = "version-typo";
		spfkit__buf_adds(&m.m, "'");
		spfkit__lint_shown(&m.m, p, pn < 12 ? pn : 12, 12);
		spfkit__buf_adds(&m.m, "' is not the version tag 'v=spf1' "
				       "(v=spf2.0 is Sender ID, which no "
				       "receiver uses for SPF)");
		/* "v-spf1 " and "v=spf " are slips; v=spf2.0 is not. */
		size_t tag = pn >= 6 && p[5] == '1' ? 6 : 5;
		if (tag <= pn && (tag == pn || p[tag] == ' ') &&
		    (tag == 6 || p[1] == '='))
			corrected(&m, s, n, i, "v=spf1", tag);
		spfkit__lint_offer(&m, "start it with 'v=spf1': '", "'",
				   "start the record with 'v=spf1 '");
	}
	if (!code) {
		spfkit__lint_msg_free(&m);
		return false;
	}
	spfkit__lint_emit(r, &m, sev, code, "RFC 7208 4.5", 0, 0);
	return true;
}
