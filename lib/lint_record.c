/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lint_record.c - the rules of one record's text, the part of lint that
 * needs no DNS: every term parsed on its own (so every syntax error shows,
 * not only the first), then the rules of well-formed terms (ptr, all,
 * ranges, joined TXT strings, macros that leak the local part) and of the
 * record as a whole (terms after all, redirect= beside all, a missing all,
 * the same DNS-querying term twice).
 */
#include <string.h>

#include "lint.h"

/* Ranges at least this large get a warning (RFC 7208 §5.6 leaves the size
 * to the owner; these authorise a million IPv4 addresses or more). */
#define HUGE_V4_PREFIX 12
#define HUGE_V6_PREFIX 24

/* Networks no mail from the Internet comes from. Listed with a pass
 * qualifier they authorise hosts inside the receiver's own networks
 * (a private LAN, the receiver's own host) to send as the domain.
 * Documentation networks (RFC 5737, RFC 3849) are not here: they route
 * nowhere, so they authorise nobody, and examples and tests use them. */
static const struct special {
	int family, cidr;
	unsigned char net[16];
	const char *code, *what;
} specials[] = {
    {4, 8, {10}, "private-range", "the private network 10.0.0.0/8 (RFC 1918)"},
    {4,
     12,
     {172, 16},
     "private-range",
     "the private network 172.16.0.0/12 (RFC 1918)"},
    {4,
     16,
     {192, 168},
     "private-range",
     "the private network 192.168.0.0/16 (RFC 1918)"},
    {4,
     10,
     {100, 64},
     "private-range",
     "the carrier-grade NAT network 100.64.0.0/10 (RFC 6598)"},
    {6,
     7,
     {0xfc},
     "private-range",
     "the unique local range fc00::/7 (RFC 4193)"},
    {4,
     8,
     {127},
     "loopback-range",
     "the loopback network 127.0.0.0/8 (RFC 1122)"},
    {6,
     128,
     {[15] = 1},
     "loopback-range",
     "the loopback address ::1 (RFC 4291)"},
    {4,
     16,
     {169, 254},
     "link-local-range",
     "the link-local network 169.254.0.0/16 (RFC 3927)"},
    {6,
     10,
     {0xfe, 0x80},
     "link-local-range",
     "the link-local range fe80::/10 (RFC 4291)"},
};

bool spfkit__lint_macro_uses(const char *s, size_t n, const char *letters)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '%' && s[i + 1] == '{') {
			unsigned char c =
			    spfkit__lower((unsigned char)s[i + 2]);
			if (c && strchr(letters, c))
				return true;
		} else if (s[i] == '%' && (s[i + 1] == '%' || s[i + 1] == '_' ||
					   s[i + 1] == '-')) {
			i++;
		}
	return false;
}

/* A finding about term t of text: the term quoted (at most max octets),
 * then message, which closes the quote; fix as given. */
static void term_say(spfkit__lint_reporter *r, spfkit_severity sev,
		     const char *code, const char *rfc, const spfkit__term *t,
		     const char *text, size_t max, const char *message,
		     const char *fix)
{
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	spfkit__buf_adds(&m.m, "'");
	spfkit__lint_shown(&m.m, text + t->pos, t->len, max);
	spfkit__buf_adds(&m.m, message);
	spfkit__buf_adds(&m.f, fix);
	spfkit__lint_emit(r, &m, sev, code, rfc, t->pos, t->len);
}

/* Rules on the size of an authorised range (RFC 7208 §5.6). */
static void range_rules(spfkit__lint_reporter *r, const spfkit__term *t,
			const char *text, int family, int prefix)
{
	int huge = family == 4 ? HUGE_V4_PREFIX : HUGE_V6_PREFIX;
	if (t->qualifier != '+' || prefix > huge)
		return;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	spfkit__buf_adds(&m.m, "'");
	spfkit__lint_shown(&m.m, text + t->pos, t->len, 100);
	if (prefix == 0) {
		spfkit__buf_adds(&m.m, family == 4
					   ? "' authorises every IPv4 address"
					   : "' authorises every IPv6 address");
		spfkit__buf_adds(&m.f, "list your own servers' networks");
		spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_ERROR, "all-range",
				  "RFC 7208 5.6", t->pos, t->len);
		return;
	}
	if (family == 4) {
		spfkit__buf_adds(&m.m, "' authorises ");
		spfkit__buf_addu(&m.m, (uint64_t)1 << (32 - prefix));
		spfkit__buf_adds(&m.m, " IPv4 addresses");
	} else {
		spfkit__buf_adds(&m.m, "' authorises an IPv6 /");
		spfkit__buf_addu(&m.m, (uint64_t)prefix);
		spfkit__buf_adds(&m.m, " (a whole provider's space)");
	}
	if (t->mech == SPFKIT__A || t->mech == SPFKIT__MX)
		spfkit__buf_adds(&m.m, " around each address");
	spfkit__buf_adds(&m.f, "narrow the prefix to the networks your mail "
			       "servers are in");
	spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING, "huge-range",
			  "RFC 7208 5.6", t->pos, t->len);
}

/* A pass-qualified ip4/ip6 network (net, cidr) within, or around, a
 * network of specials[]: a warning for each. Wider ranges around them
 * are huge-range's or all-range's. */
static void special_rules(spfkit__lint_reporter *r, const spfkit__term *t,
			  const char *text, int family,
			  const unsigned char *net, int cidr)
{
	int huge = family == 4 ? HUGE_V4_PREFIX : HUGE_V6_PREFIX;
	if (t->qualifier != '+')
		return;
	for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
		const struct special *sp = &specials[i];
		int common = cidr < sp->cidr ? cidr : sp->cidr;
		if (sp->family != family || (cidr < sp->cidr && cidr <= huge) ||
		    !spfkit__prefix_match(net, sp->net, family == 4 ? 4 : 16,
					  (unsigned)common))
			continue;
		spfkit__lint_msg m;
		spfkit__lint_msg_init(r, &m);
		spfkit__buf_adds(&m.m, "'");
		spfkit__lint_shown(&m.m, text + t->pos, t->len, 100);
		spfkit__buf_adds(&m.m, cidr >= sp->cidr ? "' is within "
							: "' takes in ");
		spfkit__buf_adds(&m.m, sp->what);
		spfkit__buf_adds(&m.m, ": no mail from the Internet comes from "
				       "there, but a host with such an address "
				       "in a receiver's own network would pass "
				       "as this domain");
		spfkit__buf_adds(&m.f, "remove it, and list the public "
				       "addresses your mail leaves from");
		spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING, sp->code,
				  "RFC 7208 5.6", t->pos, t->len);
	}
}

/* Rules for one well-formed term t of the record text. */
static void term_rules(spfkit__lint_reporter *r, const spfkit__term *t,
		       const char *text, unsigned flags)
{
	const char *tt = text + t->pos;
	switch (t->mech) {
	case SPFKIT__PTR:
		spfkit__lint_say(
		    r, SPFKIT_SEVERITY_WARNING, "ptr", "RFC 7208 5.5", t->pos,
		    t->len,
		    "'ptr' is deprecated: slow, unreliable, and a burden on "
		    "the reverse DNS of the client's network",
		    "list the servers with ip4:/ip6: (or a:/mx:) instead");
		break;
	case SPFKIT__ALL:
		if (t->qualifier == '+') {
			term_say(r, SPFKIT_SEVERITY_ERROR, "all-pass",
				 "RFC 7208 5.1", t, text, 20,
				 "' lets every host on the Internet send as "
				 "this domain",
				 "end with -all (or ~all while testing)");
		} else if (t->qualifier == '?' &&
			   !(flags & SPFKIT_LINT_INCLUDED)) {
			spfkit__lint_say(
			    r, SPFKIT_SEVERITY_WARNING, "all-neutral",
			    "RFC 7208 5.1", t->pos, t->len,
			    "'?all' asserts nothing about other hosts: "
			    "forgeries get neutral, as with no SPF at all",
			    "end with -all (or ~all while testing)");
		}
		break;
	case SPFKIT__IP4:
	case SPFKIT__IP6: {
		int fam = t->mech == SPFKIT__IP4 ? 4 : 6;
		int cidr = fam == 4 ? (t->cidr4 < 0 ? 32 : t->cidr4)
				    : (t->cidr6 < 0 ? 128 : t->cidr6);
		spfkit__ip net;
		memset(&net, 0, sizeof net);
		net.family = fam;
		if (spfkit__lint_network(fam, t->addr, cidr, net.a)) {
			spfkit__lint_msg m;
			spfkit__lint_msg_init(r, &m);
			spfkit__buf_adds(&m.m, "'");
			spfkit__lint_shown(&m.m, tt, t->len, 100);
			spfkit__buf_adds(&m.m, "' has host bits set after the "
					       "/");
			spfkit__buf_addu(&m.m, (uint64_t)cidr);
			spfkit__buf_adds(&m.m, "; receivers use the network");
			spfkit__buf_add(&m.r, tt,
					t->qualifier != '+' || tt[0] == '+');
			spfkit__buf_adds(&m.r, fam == 4 ? "ip4:" : "ip6:");
			spfkit__ip_format(&net, &m.r);
			spfkit__buf_addc(&m.r, '/');
			spfkit__buf_addu(&m.r, (uint64_t)cidr);
			spfkit__lint_offer(&m, "", "",
					   "clear the bits after the prefix");
			spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING,
					  "cidr-host-bits", "RFC 7208 5.6",
					  t->pos, t->len);
		}
		range_rules(r, t, text, fam, cidr);
		special_rules(r, t, text, fam, net.a, cidr);
		break;
	}
	case SPFKIT__A:
	case SPFKIT__MX:
		if (t->cidr4 >= 0)
			range_rules(r, t, text, 4, t->cidr4);
		if (t->cidr6 >= 0)
			range_rules(r, t, text, 6, t->cidr6);
		break;
	case SPFKIT__UNKNOWN_MOD:
		spfkit__lint_unknown_modifier(r, t, text);
		break;
	default: break;
	}
	/* "a:mail.example" "-all" joined: a valid name ending in "-all",
	 * so the record parses and 'all' is lost (RFC 7208 §3.3). */
	if (t->spec_len > 4 && t->mech != SPFKIT__UNKNOWN_MOD &&
	    t->mech != SPFKIT__EXP) {
		const char *end = text + t->spec_pos + t->spec_len - 4;
		if ((end[0] == '-' || end[0] == '~' || end[0] == '?' ||
		     end[0] == '+') &&
		    spfkit__ieq(end + 1, 3, "all", 3) && end[-1] != '.') {
			spfkit__lint_msg m;
			spfkit__lint_msg_init(r, &m);
			spfkit__buf_adds(&m.m, "'");
			spfkit__lint_shown(&m.m, tt, t->len, 100);
			spfkit__buf_adds(&m.m, "' ends in '");
			spfkit__lint_shown(&m.m, end, 4, 4);
			spfkit__buf_adds(&m.m, "': two TXT strings joined "
					       "without a space? Then the "
					       "record has no 'all'");
			spfkit__buf_add(&m.r, tt, (size_t)(end - tt));
			spfkit__buf_addc(&m.r, ' ');
			spfkit__buf_add(&m.r, end, 4);
			spfkit__lint_offer(&m, "", "",
					   "put a space before the all");
			spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING,
					  "glued-all", "RFC 7208 3.3", t->pos,
					  t->len);
		}
	}
	/* RFC 7208 §11.6: %{l} and %{s} put the local part into DNS. */
	if (t->spec_len && t->mech != SPFKIT__UNKNOWN_MOD &&
	    spfkit__lint_macro_uses(text + t->spec_pos, t->spec_len, "ls"))
		term_say(r, SPFKIT_SEVERITY_WARNING, "local-part-macro",
			 "RFC 7208 11.6", t, text, 100,
			 "' puts the sender's local part (%{l} or %{s}) into "
			 "DNS queries, where resolvers and logs see it",
			 "use %{o}, %{d} or %{i} instead, or accept the "
			 "exposure knowingly");
}

/* RFC 7208 §3.3: a draft typed as one string is published as strings of
 * at most 255 octets each (RFC 1035 §3.3); receivers join them without a
 * space, so any cut is right, and a cut after a space reads best. */
static void long_string(spfkit__lint_reporter *r, const char *s, size_t n)
{
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	spfkit__buf_adds(&m.m, "the record is ");
	spfkit__buf_addu(&m.m, n);
	spfkit__buf_adds(&m.m, " octets: one TXT string holds at most 255");
	/* The strings as a zone file quotes them, when no octet needs an
	 * escape there. */
	bool plain = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			plain = false;
	}
	if (plain) {
		spfkit__buf_adds(&m.f, "publish it as strings of at most 255 "
				       "octets: ");
		for (size_t at = 0; at < n;) {
			size_t cut = n - at;
			if (cut > 255) {
				cut = 255;
				for (size_t k = 255; k > 1; k--)
					if (s[at + k - 1] == ' ') {
						cut = k;
						break;
					}
			}
			spfkit__buf_adds(&m.f, at ? " \"" : "\"");
			spfkit__buf_add(&m.f, s + at, cut);
			spfkit__buf_addc(&m.f, '"');
			at += cut;
		}
		spfkit__buf_adds(&m.f, " (receivers join them without a "
				       "space)");
	}
	if (!plain || m.f.err == SPFKIT_ETOOBIG) {
		spfkit__buf_free(&m.f);
		spfkit__buf_init(&m.f, r->a, 512);
		spfkit__buf_adds(&m.f, "publish it as several quoted strings "
				       "of at most 255 octets; receivers join "
				       "them without a space");
	}
	spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING, "txt-string-long",
			  "RFC 7208 3.3", 0, n);
}

/* Parses every term of the record (s, n) on its own, so that every syntax
 * error is reported, not only the first. Returns the well-formed terms,
 * with positions in s, in *out (the caller frees it) and their number. */
static size_t parse_terms(spfkit__lint_reporter *r, const char *s, size_t n,
			  spfkit__term **out)
{
	spfkit__term *terms = NULL;
	size_t nterms = 0, cap = 0;
	bool exp_text = false;
	for (size_t i = 6; i < n && !r->err;) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		size_t start = i;
		while (i < n && s[i] != ' ')
			i++;
		spfkit__term t;
		spfkit__parse_error e;
		int trc =
		    spfkit__lint_parse_term(r->a, s + start, i - start, &t, &e);
		if (trc == SPFKIT_ENOMEM) {
			r->err = trc;
			break;
		}
		if (trc) {
			const char *code = spfkit__lint_bad_term(
			    r, s + start, i - start, start, &e, exp_text);
			if (strcmp(code, "exp-not-domain") == 0)
				exp_text = true;
			continue;
		}
		t.pos += start;
		if (t.spec_len)
			t.spec_pos += start;
		spfkit__term *nt = spfkit__lint_grow(
		    r->a, &r->err, terms, nterms, &cap, sizeof *nt, 16);
		if (!nt)
			break;
		terms = nt;
		terms[nterms++] = t;
	}
	*out = terms;
	return nterms;
}

/* The same DNS-querying term as an earlier one costs a lookup and
 * authorises nothing more (RFC 7208 §4.6.4): reports terms[i] if so. */
static void duplicate_term(spfkit__lint_reporter *r, const char *s,
			   const spfkit__term *terms, size_t i)
{
	const spfkit__term *t = &terms[i];
	bool dns = t->mech == SPFKIT__INCLUDE || t->mech == SPFKIT__A ||
		   t->mech == SPFKIT__MX || t->mech == SPFKIT__PTR ||
		   t->mech == SPFKIT__EXISTS;
	for (size_t k = 0; dns && k < i; k++)
		if (terms[k].mech == t->mech &&
		    spfkit__ieq(s + terms[k].pos, terms[k].len, s + t->pos,
				t->len)) {
			term_say(r, SPFKIT_SEVERITY_WARNING, "duplicate-term",
				 "RFC 7208 4.6.4", t, s, 100,
				 "' appears twice: the second costs a DNS "
				 "lookup and never matches",
				 "remove the second one");
			return;
		}
}

/* The rules of each well-formed term, in order, and of the record as a
 * whole: terms after all (§5.1), redirect= beside all (§6.1), neither
 * all nor redirect= (§4.7; only when the whole record parsed). */
static void record_rules(spfkit__lint_reporter *r, const char *s,
			 const spfkit__term *terms, size_t nterms,
			 unsigned flags, bool parsed)
{
	const spfkit__term *all = NULL, *redirect = NULL;
	size_t after_pos = 0, after_end = 0, after_n = 0;
	for (size_t i = 0; i < nterms && !r->err; i++) {
		const spfkit__term *t = &terms[i];
		if (t->mech == SPFKIT__REDIRECT && !redirect)
			redirect = t;
		if (t->mech <= SPFKIT__EXISTS && all) {
			if (!after_n)
				after_pos = t->pos;
			after_end = t->pos + t->len;
			after_n++;
		}
		if (t->mech == SPFKIT__ALL && !all)
			all = t;
		term_rules(r, t, s, flags);
		duplicate_term(r, s, terms, i);
	}
	if (after_n && !r->err) {
		spfkit__lint_msg m;
		spfkit__lint_msg_init(r, &m);
		spfkit__buf_addu(&m.m, after_n);
		spfkit__buf_adds(&m.m, after_n == 1 ? " term after '"
						    : " terms after '");
		spfkit__lint_shown(&m.m, s + all->pos, all->len, 10);
		spfkit__buf_adds(&m.m, "' can never match: evaluation stops "
				       "at 'all'");
		spfkit__buf_adds(&m.f, "move them before '");
		spfkit__lint_shown(&m.f, s + all->pos, all->len, 10);
		spfkit__buf_adds(&m.f, "', or remove them");
		spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_WARNING, "after-all",
				  "RFC 7208 5.1", after_pos,
				  after_end - after_pos);
	}
	if (all && redirect && !r->err)
		spfkit__lint_say(
		    r, SPFKIT_SEVERITY_WARNING, "redirect-ignored",
		    "RFC 7208 6.1", redirect->pos, redirect->len,
		    "redirect= is ignored because the record has 'all'",
		    "remove the redirect=, or remove 'all' to let the "
		    "redirect decide");
	if (!all && !redirect && !(flags & SPFKIT_LINT_INCLUDED) && !r->err &&
	    parsed)
		spfkit__lint_say(
		    r, SPFKIT_SEVERITY_WARNING, "no-all", "RFC 7208 4.7", 0, 0,
		    "no 'all' and no redirect=: a host the record does not "
		    "list gets neutral, as if there were no SPF",
		    "end the record with -all (or ~all while testing)");
}

void spfkit__lint_text(spfkit__lint_reporter *r, const char *s, size_t n,
		       unsigned flags)
{
	if ((flags & SPFKIT_LINT_DRAFT) && n > 255)
		long_string(r, s, n);
	if (!spfkit__is_spf_record(s, n)) {
		if (!spfkit__lint_near_miss(r, SPFKIT_SEVERITY_ERROR, s, n))
			spfkit__lint_say(
			    r, SPFKIT_SEVERITY_ERROR, "not-spf", "RFC 7208 4.5",
			    0, 0,
			    "the text is not an SPF record: it must "
			    "start with 'v=spf1' and a space",
			    "start the record with 'v=spf1 '");
		return;
	}
	spfkit__record *rec = NULL;
	spfkit__parse_error perr;
	int rc = spfkit__record_parse(r->a, s, n, &rec, &perr);
	if (rc == SPFKIT_ENOMEM) {
		r->err = rc;
		return;
	}
	spfkit__term *terms = NULL;
	size_t nterms = parse_terms(r, s, n, &terms);
	/* A record-level syntax error no single term shows: a second
	 * redirect= or exp=. */
	if (rc == SPFKIT_EPARSE && !r->err) {
		bool shown = false;
		for (size_t i = 0; i < nterms; i++)
			if (terms[i].pos == perr.pos)
				shown = true;
		if (shown && perr.pos <= n && perr.len <= n - perr.pos) {
			spfkit__lint_msg m;
			spfkit__lint_msg_init(r, &m);
			spfkit__lint_parse_msg(&m.m, &perr, perr.pos,
					       s + perr.pos, perr.len);
			spfkit__buf_adds(&m.f, "keep one redirect= and at most "
					       "one exp=");
			spfkit__lint_emit(r, &m, SPFKIT_SEVERITY_ERROR,
					  "duplicate-modifier", "RFC 7208 6",
					  perr.pos, perr.len);
		}
	}
	spfkit__record_free(r->a, rec);
	record_rules(r, s, terms, nterms, flags, rc == SPFKIT_OK);
	spfkit__free(r->a, terms);
}
