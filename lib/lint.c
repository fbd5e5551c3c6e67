/*
 * lint.c - static analysis of SPF records and of walked checks: problems
 * with a severity, the RFC section, the position and a concrete fix.
 *
 * Two rules keep lint honest. The grammar is the evaluator's own: a term
 * is a syntax error exactly when spfkit__record_parse() says so (lint only
 * adds the advice). And every count -- DNS-querying terms, void lookups,
 * MX names, loops -- is read from the evaluator's events of a walked check
 * (spfkit_check_set_walk), never counted a second time here.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Caps on what a hostile tree can make the linter hold or say. */
#define MAX_BLOCKS       100000 /* ip4/ip6 terms kept for overlaps */
#define MAX_PER_CODE     50     /* findings of one code before a summary */
#define MAX_GLUE_TERM    1024   /* longest term tried for a missing space */
#define MAX_TXT_KEPT     16     /* TXT strings kept for near-miss advice */
#define MAX_TXT_KEPT_LEN 512
#define MSG_MAX          4096

/* Ranges at least this large get a warning (RFC 7208 §5.6 leaves the size
 * to the owner; these authorise a million IPv4 addresses or more). */
#define HUGE_V4_PREFIX 12
#define HUGE_V6_PREFIX 24

/* RFC 7208 §3.4: keep the answer within the 512 octets of a UDP message. */
#define UDP_ANSWER_MAX 512

static const char *const severity_names[] = {"info", "warning", "error"};

const char *spfkit_severity_name(spfkit_severity s)
{
	return (unsigned)s < 3 ? severity_names[s] : "unknown";
}

/* ---------------------------------------------------------------- report */

/* Where findings go and the context they are reported in. */
typedef struct reporter {
	const spfkit__alloc *a;
	spfkit_finding_cb cb;
	void *ud;
	unsigned counts[3];
	int err;
	/* per-code counts, to stop a hostile tree flooding the caller */
	const char *codes[64];
	unsigned code_counts[64];
	size_t ncodes;
	/* context of the record being linted */
	const char *domain;
	const char *where;
	unsigned depth;
	const char *record;
	size_t record_len;
} reporter;

/* A finding being written: message and fix. */
typedef struct msg {
	spfkit__buf m, f;
} msg;

static void msg_init(const reporter *r, msg *m)
{
	spfkit__buf_init(&m->m, r->a, MSG_MAX);
	spfkit__buf_init(&m->f, r->a, MSG_MAX);
}

/* Appends (s, n) shown as printable ASCII ('?' for anything else), at
 * most max octets, then "...". */
static void add_shown(spfkit__buf *b, const char *s, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		spfkit__buf_addc(b, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
	}
	if (n > max)
		spfkit__buf_adds(b, "...");
}

/* How many findings of code were reported; bumps the count. */
static unsigned code_seen(reporter *r, const char *code)
{
	for (size_t i = 0; i < r->ncodes; i++)
		if (strcmp(r->codes[i], code) == 0)
			return r->code_counts[i]++;
	if (r->ncodes < sizeof r->codes / sizeof r->codes[0]) {
		r->codes[r->ncodes] = code;
		r->code_counts[r->ncodes++] = 1;
	}
	return 0;
}

/* Reports the finding written in m (and frees m). */
static void emit(reporter *r, msg *m, spfkit_severity sev, const char *code,
		 const char *rfc, size_t pos, size_t len)
{
	if (m->m.err == SPFKIT_ENOMEM || m->f.err == SPFKIT_ENOMEM)
		r->err = SPFKIT_ENOMEM;
	if (!r->err && code_seen(r, code) < MAX_PER_CODE) {
		spfkit_finding f;
		memset(&f, 0, sizeof f);
		f.severity = sev;
		f.code = code;
		f.rfc = rfc;
		f.domain = r->domain;
		f.where = r->where;
		f.depth = r->depth;
		f.record = r->record;
		f.record_len = r->record ? r->record_len : 0;
		if (r->record && pos <= r->record_len &&
		    len <= r->record_len - pos) {
			f.pos = pos;
			f.len = len;
		}
		f.message = m->m.data ? m->m.data : "";
		f.fix = m->f.len ? m->f.data : NULL;
		r->counts[sev]++;
		if (r->cb)
			r->cb(&f, r->ud);
	}
	spfkit__buf_free(&m->m);
	spfkit__buf_free(&m->f);
}

/* A finding with a plain message and fix. */
static void say(reporter *r, spfkit_severity sev, const char *code,
		const char *rfc, size_t pos, size_t len, const char *message,
		const char *fix)
{
	msg m;
	msg_init(r, &m);
	spfkit__buf_adds(&m.m, message);
	if (fix)
		spfkit__buf_adds(&m.f, fix);
	emit(r, &m, sev, code, rfc, pos, len);
}

/* Makes room for element n of the array v (capacity *cap; first when
 * empty, then doubling): the array, perhaps moved, or NULL with *err set
 * to SPFKIT_ENOMEM (v is then unchanged). */
static void *grow(const spfkit__alloc *a, int *err, void *v, size_t n,
		  size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return v;
	size_t nc = *cap ? *cap * 2 : first;
	void *nv = spfkit__realloc(a, v, nc * size);
	if (nv)
		*cap = nc;
	else
		*err = SPFKIT_ENOMEM;
	return nv;
}

/* ---------------------------------------------------------------- terms */

static const char *const mech_words[] = {"all", "include", "a",   "mx",
					 "ptr", "ip4",     "ip6", "exists"};

/* Is (s, n) a mechanism name? */
static bool is_mech_word(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof mech_words / sizeof mech_words[0]; i++)
		if (spfkit__ieq(s, n, mech_words[i], strlen(mech_words[i])))
			return true;
	return false;
}

/* Parses one term t on its own with the evaluator's grammar. Returns
 * SPFKIT_OK with *out (offsets relative to t), SPFKIT_EPARSE with err, or
 * SPFKIT_ENOMEM. */
static int parse_one(const spfkit__alloc *a, const char *t, size_t n,
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
	int rc = parse_one(a, t, n, &term, NULL);
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

/* The parser's message for a term parsed on its own, with the octet
 * position of the term in the record (pos) instead. */
static void add_parse_msg(spfkit__buf *b, const spfkit__parse_error *perr,
			  size_t pos, const char *t, size_t n)
{
	const char *at = strstr(perr->msg, " at octet ");
	size_t keep = at ? (size_t)(at - perr->msg) : strlen(perr->msg);
	spfkit__buf_add(b, perr->msg, keep);
	spfkit__buf_adds(b, " at octet ");
	spfkit__buf_addu(b, (uint64_t)pos + 1);
	spfkit__buf_adds(b, ": '");
	add_shown(b, t, n, 60);
	spfkit__buf_adds(b, "'");
}

/* Advice for a term the grammar rejects: a code, a message and a fix for
 * the usual typos (RFC 7208 §4.6.1, §5, §6, §12). With quiet, a term with
 * no better advice than "syntax" is not reported (the words of an exp=
 * text written in place of a name). Returns the code. */
static const char *bad_term(reporter *r, const char *t, size_t n, size_t pos,
			    const spfkit__parse_error *perr, bool quiet)
{
	const spfkit__alloc *a = r->a;
	msg m;
	msg_init(r, &m);
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
		add_shown(&m.m, t, n, 80);
		spfkit__buf_adds(&m.m, "' (a typographic quote or a "
				       "non-breaking space pasted in?)");
		spfkit__buf_adds(&m.f, "retype the term in plain ASCII");
	} else if (quote) {
		code = "stray-quote";
		spfkit__buf_adds(&m.m, "a quote character inside '");
		add_shown(&m.m, t, n, 80);
		spfkit__buf_adds(&m.m, "': the zone file's quotes ended up in "
				       "the record");
		spfkit__buf_adds(&m.f, "remove the quotes from the record "
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
		spfkit__buf_add(&m.f, t, q);
		spfkit__buf_adds(&m.f, v4 ? "ip4:" : "ip6:");
		add_shown(&m.f, val + 1, vn - 1, 200);
	} else if (spfkit__ieq(name, nl, "ip", 2) &&
		   (sep == ':' || sep == '=')) {
		int fam = ip_literal(val + 1, vn - 1);
		code = "ip-typo";
		rfc = "RFC 7208 5.6";
		spfkit__buf_adds(&m.m, "'ip' is not a mechanism");
		spfkit__buf_add(&m.f, t, q);
		spfkit__buf_adds(&m.f, fam == 6 ? "ip6:" : "ip4:");
		add_shown(&m.f, val + 1, vn - 1, 200);
	} else if (sep == '=' && is_mech_word(name, nl)) {
		bool inc = spfkit__ieq(name, nl, "include", 7);
		code = inc ? "include-equals" : "mechanism-equals";
		rfc = inc ? "RFC 7208 5.2" : "RFC 7208 4.6.1";
		spfkit__buf_adds(&m.m, "a mechanism takes ':' before its "
				       "argument, not '=': receivers ignore '");
		add_shown(&m.m, t, n, 100);
		spfkit__buf_adds(&m.m, "' as an unknown modifier");
		add_shown(&m.f, t, q + nl, 200);
		spfkit__buf_addc(&m.f, ':');
		add_shown(&m.f, val + 1, vn - 1, 200);
	} else if (sep == ':' && !q &&
		   (spfkit__ieq(name, nl, "redirect", 8) ||
		    spfkit__ieq(name, nl, "exp", 3))) {
		code = "modifier-colon";
		rfc = nl == 3 ? "RFC 7208 6.2" : "RFC 7208 6.1";
		spfkit__buf_adds(&m.m, "a modifier takes '=', not ':'");
		add_shown(&m.f, name, nl, 20);
		spfkit__buf_addc(&m.f, '=');
		add_shown(&m.f, val + 1, vn - 1, 200);
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
		add_shown(&m.m, name, nl, 20);
		spfkit__buf_adds(&m.m, ":' takes a domain name");
		spfkit__buf_add(&m.f, t, q);
		spfkit__buf_adds(&m.f, fam == 6 ? "ip6:" : "ip4:");
		add_shown(&m.f, val + 1, vn - 1, 200);
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
		spfkit__buf_add(&m.f, t, q + nl);
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
			add_shown(&m.m, t, split, 100);
			spfkit__buf_adds(&m.m, "' and '");
			add_shown(&m.m, t + split, n - split, 100);
			spfkit__buf_adds(&m.m,
					 "'): TXT strings are joined without "
					 "a space");
			add_shown(&m.f, t, split, 200);
			spfkit__buf_addc(&m.f, ' ');
			add_shown(&m.f, t + split, n - split, 200);
			spfkit__buf_adds(&m.f, " (end the first string with "
					       "a space)");
		} else if (nl && (spfkit__ieq(name, nl, "include", 7) ||
				  spfkit__ieq(name, nl, "a", 1) ||
				  spfkit__ieq(name, nl, "mx", 2) ||
				  spfkit__ieq(name, nl, "exists", 6) ||
				  spfkit__ieq(name, nl, "ptr", 3) ||
				  spfkit__ieq(name, nl, "redirect", 8))) {
			code = "no-domain";
			rfc = "RFC 7208 4.6.1";
			spfkit__buf_adds(&m.m, "'");
			add_shown(&m.m, t, n, 100);
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
		add_parse_msg(&m.m, perr, pos, t, n);
	else if (m.m.len == 0)
		spfkit__buf_adds(&m.m, "syntax error");
	if (quiet && strcmp(code, "syntax") == 0) {
		spfkit__buf_free(&m.m);
		spfkit__buf_free(&m.f);
		return code;
	}
	if (strcmp(code, "syntax") == 0 && m.f.len == 0)
		spfkit__buf_adds(&m.f, "see the term grammar of RFC 7208 12; "
				       "receivers give permerror for the whole "
				       "record");
	emit(r, &m, SPFKIT_SEVERITY_ERROR, code, rfc, pos, n);
	return code;
}

/* Does the domain-spec (s, n) use a macro that puts the sender's local
 * part into a DNS name (%{l}, %{s}; RFC 7208 §11.6)? */
static bool spec_leaks_local(const char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '%' && s[i + 1] == '{') {
			unsigned char c =
			    spfkit__lower((unsigned char)s[i + 2]);
			if (c == 'l' || c == 's')
				return true;
		} else if (s[i] == '%' && (s[i + 1] == '%' || s[i + 1] == '_' ||
					   s[i + 1] == '-')) {
			i++;
		}
	return false;
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

/* Writes the network of a prefix, addr (4 or 16 octets by family) with
 * the bits past cidr cleared, to net; true when any of them was set. */
static bool network(int family, const unsigned char *addr, int cidr,
		    unsigned char *net)
{
	bool host = false;
	size_t len = family == 4 ? 4 : 16;
	for (size_t i = 0; i < len; i++) {
		int bits = cidr - (int)(i * 8);
		unsigned char mask = bits >= 8 ? 0xff
				     : bits <= 0
					 ? 0
					 : (unsigned char)(0xff << (8 - bits));
		net[i] = addr[i] & mask;
		if (addr[i] & (unsigned char)~mask)
			host = true;
	}
	return host;
}

/* Rules on the size of an authorised range (RFC 7208 §5.6). */
static void range_rules(reporter *r, const spfkit__term *t, const char *text,
			int family, int prefix)
{
	int huge = family == 4 ? HUGE_V4_PREFIX : HUGE_V6_PREFIX;
	if (t->qualifier != '+' || prefix > huge)
		return;
	msg m;
	msg_init(r, &m);
	spfkit__buf_adds(&m.m, "'");
	add_shown(&m.m, text + t->pos, t->len, 100);
	if (prefix == 0) {
		spfkit__buf_adds(&m.m, family == 4
					   ? "' authorises every IPv4 address"
					   : "' authorises every IPv6 address");
		spfkit__buf_adds(&m.f, "list your own servers' networks");
		emit(r, &m, SPFKIT_SEVERITY_ERROR, "all-range", "RFC 7208 5.6",
		     t->pos, t->len);
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
	emit(r, &m, SPFKIT_SEVERITY_WARNING, "huge-range", "RFC 7208 5.6",
	     t->pos, t->len);
}

/* Advice for a modifier receivers do not know (RFC 7208 §6): a second
 * version tag, a mechanism written with '=', or a near miss of redirect=
 * or exp=; the reporting modifiers of RFC 6652 are fine. */
static void unknown_modifier(reporter *r, const spfkit__term *t,
			     const char *text)
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
		bad_term(r, tt, t->len, t->pos, NULL, false);
		return;
	}
	msg m;
	msg_init(r, &m);
	if (spfkit__ieq(tt, nl, "v", 1)) {
		spfkit__buf_adds(&m.m, "a second version tag '");
		add_shown(&m.m, tt, t->len, 40);
		spfkit__buf_adds(&m.m, "': two records pasted into one?");
		spfkit__buf_adds(&m.f, "remove the second 'v=spf1' and merge "
				       "the terms once");
		emit(r, &m, SPFKIT_SEVERITY_WARNING, "duplicate-version",
		     "RFC 7208 4.5", t->pos, t->len);
		return;
	}
	bool redir = distance(tt, nl, "redirect", 8) <= 2 ||
		     spfkit__ieq(tt, nl, "redir", 5);
	bool exp = spfkit__ieq(tt, nl, "explanation", 11) ||
		   spfkit__ieq(tt, nl, "explain", 7) ||
		   (nl > 1 && distance(tt, nl, "exp", 3) <= 1);
	spfkit__buf_adds(&m.m, "unknown modifier '");
	add_shown(&m.m, tt, nl, 40);
	spfkit__buf_adds(&m.m, "=' is ignored by receivers");
	if (redir || exp) {
		spfkit__buf_adds(&m.f, redir ? "redirect=" : "exp=");
		add_shown(&m.f, tt + nl + 1, t->len - nl - 1, 200);
	}
	emit(r, &m,
	     redir || exp ? SPFKIT_SEVERITY_WARNING : SPFKIT_SEVERITY_INFO,
	     "unknown-modifier", "RFC 7208 6", t->pos, t->len);
}

/* Rules for one well-formed term t of the record text. */
static void term_rules(reporter *r, const spfkit__term *t, const char *text,
		       unsigned flags)
{
	const char *tt = text + t->pos;
	switch (t->mech) {
	case SPFKIT__PTR:
		say(r, SPFKIT_SEVERITY_WARNING, "ptr", "RFC 7208 5.5", t->pos,
		    t->len,
		    "'ptr' is deprecated: slow, unreliable, and a burden on "
		    "the reverse DNS of the client's network",
		    "list the servers with ip4:/ip6: (or a:/mx:) instead");
		break;
	case SPFKIT__ALL:
		if (t->qualifier == '+') {
			msg m;
			msg_init(r, &m);
			spfkit__buf_adds(&m.m, "'");
			add_shown(&m.m, tt, t->len, 20);
			spfkit__buf_adds(&m.m,
					 "' lets every host on the Internet "
					 "send as this domain");
			spfkit__buf_adds(&m.f, "end with -all (or ~all while "
					       "testing)");
			emit(r, &m, SPFKIT_SEVERITY_ERROR, "all-pass",
			     "RFC 7208 5.1", t->pos, t->len);
		} else if (t->qualifier == '?' &&
			   !(flags & SPFKIT_LINT_INCLUDED)) {
			say(r, SPFKIT_SEVERITY_WARNING, "all-neutral",
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
		if (network(fam, t->addr, cidr, net.a)) {
			msg m;
			msg_init(r, &m);
			spfkit__buf_adds(&m.m, "'");
			add_shown(&m.m, tt, t->len, 100);
			spfkit__buf_adds(&m.m, "' has host bits set after the "
					       "/");
			spfkit__buf_addu(&m.m, (uint64_t)cidr);
			spfkit__buf_adds(&m.m, "; receivers use the network");
			spfkit__buf_add(&m.f, tt,
					t->qualifier != '+' || tt[0] == '+');
			spfkit__buf_adds(&m.f, fam == 4 ? "ip4:" : "ip6:");
			spfkit__ip_format(&net, &m.f);
			spfkit__buf_addc(&m.f, '/');
			spfkit__buf_addu(&m.f, (uint64_t)cidr);
			emit(r, &m, SPFKIT_SEVERITY_WARNING, "cidr-host-bits",
			     "RFC 7208 5.6", t->pos, t->len);
		}
		range_rules(r, t, text, fam, cidr);
		break;
	}
	case SPFKIT__A:
	case SPFKIT__MX:
		if (t->cidr4 >= 0)
			range_rules(r, t, text, 4, t->cidr4);
		if (t->cidr6 >= 0)
			range_rules(r, t, text, 6, t->cidr6);
		break;
	case SPFKIT__UNKNOWN_MOD: unknown_modifier(r, t, text); break;
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
			msg m;
			msg_init(r, &m);
			spfkit__buf_adds(&m.m, "'");
			add_shown(&m.m, tt, t->len, 100);
			spfkit__buf_adds(&m.m, "' ends in '");
			add_shown(&m.m, end, 4, 4);
			spfkit__buf_adds(&m.m, "': two TXT strings joined "
					       "without a space? Then the "
					       "record has no 'all'");
			add_shown(&m.f, tt, (size_t)(end - tt), 200);
			spfkit__buf_addc(&m.f, ' ');
			add_shown(&m.f, end, 4, 4);
			emit(r, &m, SPFKIT_SEVERITY_WARNING, "glued-all",
			     "RFC 7208 3.3", t->pos, t->len);
		}
	}
	if (t->spec_len && t->mech != SPFKIT__UNKNOWN_MOD &&
	    spec_leaks_local(text + t->spec_pos, t->spec_len)) {
		msg m;
		msg_init(r, &m);
		spfkit__buf_adds(&m.m, "'");
		add_shown(&m.m, tt, t->len, 100);
		spfkit__buf_adds(&m.m, "' puts the sender's local part "
				       "(%{l} or %{s}) into DNS queries, "
				       "where resolvers and logs see it");
		spfkit__buf_adds(&m.f, "use %{o}, %{d} or %{i} instead, or "
				       "accept the exposure knowingly");
		emit(r, &m, SPFKIT_SEVERITY_WARNING, "local-part-macro",
		     "RFC 7208 11.6", t->pos, t->len);
	}
}

/* Advice for a text that is not a v=spf1 record (RFC 7208 §4.5): the
 * near misses owners publish. Returns true when one was reported. */
static bool near_miss(reporter *r, spfkit_severity sev, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '"' || s[i] == '\''))
		i++;
	const char *p = s + i;
	size_t pn = n - i;
	msg m;
	msg_init(r, &m);
	const char *code = NULL;
	if (i > 0 && spfkit__is_spf_record(p, pn)) {
		code = "version-not-first";
		spfkit__buf_adds(&m.m, "the record does not start with "
				       "'v=spf1' (spaces or quotes before "
				       "it), so receivers do not see it");
		spfkit__buf_adds(&m.f, "remove what comes before 'v=spf1'");
	} else if (pn >= 6 && spfkit__ieq(p, 6, "v=spf1", 6)) {
		code = "version-no-space";
		spfkit__buf_adds(&m.m, "'v=spf1' runs into the next term: "
				       "receivers do not see a record");
		spfkit__buf_adds(&m.f, "put a space after v=spf1: 'v=spf1 ");
		add_shown(&m.f, p + 6, pn - 6, 60);
		spfkit__buf_adds(&m.f, "'");
	} else if (pn >= 4 && spfkit__ieq(p, 4, "spf1", 4) &&
		   (pn == 4 || p[4] == ' ')) {
		code = "missing-version";
		spfkit__buf_adds(&m.m, "the record starts with 'spf1' "
				       "without 'v=': receivers do not see it");
		spfkit__buf_adds(&m.f, "start it with 'v=spf1'");
	} else if (pn >= 5 && (spfkit__ieq(p, 5, "v=spf", 5) ||
			       spfkit__ieq(p, 5, "v-spf", 5) ||
			       spfkit__ieq(p, 5, "v:spf", 5))) {
		code = "version-typo";
		spfkit__buf_adds(&m.m, "'");
		add_shown(&m.m, p, pn < 12 ? pn : 12, 12);
		spfkit__buf_adds(&m.m, "' is not the version tag 'v=spf1' "
				       "(v=spf2.0 is Sender ID, which no "
				       "receiver uses for SPF)");
		spfkit__buf_adds(&m.f, "start the record with 'v=spf1 '");
	}
	if (!code) {
		spfkit__buf_free(&m.m);
		spfkit__buf_free(&m.f);
		return false;
	}
	emit(r, &m, sev, code, "RFC 7208 4.5", 0, 0);
	return true;
}

/* The record-level and per-term rules of one record text. */
static void lint_text(reporter *r, const char *s, size_t n, unsigned flags)
{
	const spfkit__alloc *a = r->a;
	if ((flags & SPFKIT_LINT_DRAFT) && n > 255) {
		msg m;
		msg_init(r, &m);
		spfkit__buf_adds(&m.m, "the record is ");
		spfkit__buf_addu(&m.m, n);
		spfkit__buf_adds(&m.m, " octets: one TXT string holds at most "
				       "255");
		/* Split after a space so no term is cut. */
		size_t cut = 255;
		for (size_t k = 255; k > 6; k--)
			if (s[k - 1] == ' ') {
				cut = k;
				break;
			}
		spfkit__buf_adds(&m.f, "publish it as several strings of at "
				       "most 255 octets, e.g. \"");
		add_shown(&m.f, s, cut, 255);
		spfkit__buf_adds(&m.f, "\" \"");
		add_shown(&m.f, s + cut, n - cut, 2000);
		spfkit__buf_adds(&m.f, "\" (receivers join them without a "
				       "space)");
		emit(r, &m, SPFKIT_SEVERITY_WARNING, "txt-string-long",
		     "RFC 7208 3.3", 0, n);
	}
	if (!spfkit__is_spf_record(s, n)) {
		if (!near_miss(r, SPFKIT_SEVERITY_ERROR, s, n))
			say(r, SPFKIT_SEVERITY_ERROR, "not-spf", "RFC 7208 4.5",
			    0, 0,
			    "the text is not an SPF record: it must "
			    "start with 'v=spf1' and a space",
			    "start the record with 'v=spf1 '");
		return;
	}
	spfkit__record *rec = NULL;
	spfkit__parse_error perr;
	int rc = spfkit__record_parse(a, s, n, &rec, &perr);
	if (rc == SPFKIT_ENOMEM) {
		r->err = rc;
		return;
	}
	/* Every term on its own: all syntax errors, not only the first,
	 * and the terms that are fine for the other rules. */
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
		int trc = parse_one(a, s + start, i - start, &t, &e);
		if (trc == SPFKIT_ENOMEM) {
			r->err = trc;
			break;
		}
		if (trc) {
			const char *code = bad_term(r, s + start, i - start,
						    start, &e, exp_text);
			if (strcmp(code, "exp-not-domain") == 0)
				exp_text = true;
			continue;
		}
		t.pos += start;
		if (t.spec_len)
			t.spec_pos += start;
		spfkit__term *nt =
		    grow(a, &r->err, terms, nterms, &cap, sizeof *nt, 16);
		if (!nt)
			break;
		terms = nt;
		terms[nterms++] = t;
	}
	/* A record-level syntax error no single term shows: a second
	 * redirect= or exp=. */
	if (rc == SPFKIT_EPARSE && !r->err) {
		bool shown = false;
		for (size_t i = 0; i < nterms; i++)
			if (terms[i].pos == perr.pos)
				shown = true;
		if (shown)
			say(r, SPFKIT_SEVERITY_ERROR, "duplicate-modifier",
			    "RFC 7208 6", perr.pos, perr.len, perr.msg,
			    "keep one redirect= and at most one exp=");
	}
	spfkit__record_free(a, rec);

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
		/* The same DNS-querying term twice costs a lookup and
		 * authorises nothing more. */
		bool dns = t->mech == SPFKIT__INCLUDE || t->mech == SPFKIT__A ||
			   t->mech == SPFKIT__MX || t->mech == SPFKIT__PTR ||
			   t->mech == SPFKIT__EXISTS;
		for (size_t k = 0; dns && k < i; k++)
			if (terms[k].mech == t->mech &&
			    spfkit__ieq(s + terms[k].pos, terms[k].len,
					s + t->pos, t->len)) {
				msg m;
				msg_init(r, &m);
				spfkit__buf_adds(&m.m, "'");
				add_shown(&m.m, s + t->pos, t->len, 100);
				spfkit__buf_adds(&m.m,
						 "' appears twice: the second "
						 "costs a DNS lookup and never "
						 "matches");
				spfkit__buf_adds(&m.f, "remove the second one");
				emit(r, &m, SPFKIT_SEVERITY_WARNING,
				     "duplicate-term", "RFC 7208 4.6.4", t->pos,
				     t->len);
				break;
			}
	}
	if (after_n && !r->err) {
		msg m;
		msg_init(r, &m);
		spfkit__buf_addu(&m.m, after_n);
		spfkit__buf_adds(&m.m, after_n == 1 ? " term after '"
						    : " terms after '");
		add_shown(&m.m, s + all->pos, all->len, 10);
		spfkit__buf_adds(&m.m, "' can never match: evaluation stops "
				       "at 'all'");
		spfkit__buf_adds(&m.f, "move them before '");
		add_shown(&m.f, s + all->pos, all->len, 10);
		spfkit__buf_adds(&m.f, "', or remove them");
		emit(r, &m, SPFKIT_SEVERITY_WARNING, "after-all",
		     "RFC 7208 5.1", after_pos, after_end - after_pos);
	}
	if (all && redirect && !r->err)
		say(r, SPFKIT_SEVERITY_WARNING, "redirect-ignored",
		    "RFC 7208 6.1", redirect->pos, redirect->len,
		    "redirect= is ignored because the record has 'all'",
		    "remove the redirect=, or remove 'all' to let the "
		    "redirect decide");
	if (!all && !redirect && !(flags & SPFKIT_LINT_INCLUDED) && !r->err &&
	    rc == SPFKIT_OK)
		say(r, SPFKIT_SEVERITY_WARNING, "no-all", "RFC 7208 4.7", 0, 0,
		    "no 'all' and no redirect=: a host the record does not "
		    "list gets neutral, as if there were no SPF",
		    "end the record with -all (or ~all while testing)");
	spfkit__free(a, terms);
}

int spfkit_lint_record(const spfkit_config *cfg, const char *text, size_t len,
		       unsigned flags, spfkit_finding_cb cb, void *ud)
{
	if (!cfg || (!text && len))
		return SPFKIT_EINVAL;
	reporter r;
	memset(&r, 0, sizeof r);
	r.a = spfkit__config_alloc(cfg);
	r.cb = cb;
	r.ud = ud;
	r.record = text ? text : "";
	r.record_len = len;
	lint_text(&r, text ? text : "", len, flags);
	return r.err;
}

/* ---------------------------------------------------------------- tree */

/* A frame of the walked check, as the events show it. */
typedef struct lframe {
	char *domain;
	bool include;  /* reached through include (else top or redirect) */
	bool terminal; /* its result is the check's result */
	bool repeat;   /* the domain was linted before: no second report */
	char *record;  /* copy of the record text, once known */
	size_t record_len;
	size_t cursor; /* where the next mechanism is looked for */
	/* the term being evaluated */
	bool in_term;
	size_t tpos, tlen;
	char mech[12];
	char qualifier;
	bool term_macro;
	/* the TXT strings of the record lookup, for near-miss advice */
	char *txt[MAX_TXT_KEPT];
	size_t txt_len[MAX_TXT_KEPT];
	size_t ntxt;
} lframe;

/* An ip4/ip6 term, for duplicates and overlaps across the tree. */
typedef struct block {
	int family;
	unsigned char addr[16]; /* host bits cleared */
	int cidr;
	char qualifier;
	char *where; /* owned: route, then the term */
	char *term;
	size_t order;
} block;

/* A set of names, compared ignoring ASCII case. */
typedef struct names {
	char **v;
	size_t n, cap;
} names;

/* A limit crossed: reported at the end with the final totals. */
typedef struct crossing {
	bool crossed;
	char *where;
	char *domain;
	char *text;
	unsigned depth;
} crossing;

struct spfkit_linter {
	const spfkit_config *cfg;
	const spfkit__alloc *a;
	unsigned flags;
	reporter r;
	bool finished;
	lframe *frames;
	size_t nframes, cap_frames;
	names seen; /* domains whose records were linted */
	names big;  /* names whose answer size was reported */
	block *blocks;
	size_t nblocks, cap_blocks;
	unsigned lookups, voids;
	crossing terms, void_limit;
};

int spfkit_linter_new(spfkit_linter **out, const spfkit_config *cfg,
		      unsigned flags, spfkit_finding_cb cb, void *ud)
{
	if (!out || !cfg)
		return SPFKIT_EINVAL;
	*out = NULL;
	const spfkit__alloc *a = spfkit__config_alloc(cfg);
	spfkit_linter *l = spfkit__calloc(a, 1, sizeof *l);
	if (!l)
		return SPFKIT_ENOMEM;
	l->cfg = cfg;
	l->a = a;
	l->flags = flags;
	l->r.a = a;
	l->r.cb = cb;
	l->r.ud = ud;
	*out = l;
	return SPFKIT_OK;
}

static void frame_clear(const spfkit__alloc *a, lframe *f)
{
	spfkit__free(a, f->domain);
	spfkit__free(a, f->record);
	for (size_t i = 0; i < f->ntxt; i++)
		spfkit__free(a, f->txt[i]);
	memset(f, 0, sizeof *f);
}

static void names_free(const spfkit__alloc *a, names *s)
{
	for (size_t i = 0; i < s->n; i++)
		spfkit__free(a, s->v[i]);
	spfkit__free(a, s->v);
}

static void crossing_clear(const spfkit__alloc *a, crossing *c)
{
	spfkit__free(a, c->where);
	spfkit__free(a, c->domain);
	spfkit__free(a, c->text);
	memset(c, 0, sizeof *c);
}

void spfkit_linter_free(spfkit_linter *l)
{
	if (!l)
		return;
	const spfkit__alloc *a = l->a;
	for (size_t i = 0; i < l->nframes; i++)
		frame_clear(a, &l->frames[i]);
	spfkit__free(a, l->frames);
	names_free(a, &l->seen);
	names_free(a, &l->big);
	for (size_t i = 0; i < l->nblocks; i++) {
		spfkit__free(a, l->blocks[i].where);
		spfkit__free(a, l->blocks[i].term);
	}
	spfkit__free(a, l->blocks);
	crossing_clear(a, &l->terms);
	crossing_clear(a, &l->void_limit);
	spfkit__free(a, l);
}

unsigned spfkit_linter_count(const spfkit_linter *l, spfkit_severity s)
{
	return l && (unsigned)s < 3 ? l->r.counts[s] : 0;
}

/* Is name in the set? Adds it when not; false and ENOMEM set when it
 * cannot. */
static bool in_names(spfkit_linter *l, names *s, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < s->n; i++)
		if (spfkit__ieq(s->v[i], strlen(s->v[i]), name, nl))
			return true;
	char **nv = grow(l->a, &l->r.err, s->v, s->n, &s->cap, sizeof *nv, 16);
	if (!nv)
		return false;
	s->v = nv;
	char *copy = spfkit__strndup(l->a, name, nl);
	if (!copy) {
		l->r.err = SPFKIT_ENOMEM;
		return false;
	}
	s->v[s->n++] = copy;
	return false;
}

/* The route to the current frame: "a.example > include b.example". */
static void add_route(const spfkit_linter *l, spfkit__buf *b)
{
	for (size_t i = 0; i < l->nframes; i++) {
		const lframe *f = &l->frames[i];
		if (i > 0)
			spfkit__buf_adds(b, f->include ? " > include "
						       : " > redirect ");
		spfkit__buf_adds(b, f->domain);
	}
}

/* The route to the current frame as a string the caller frees; NULL
 * when out of memory. */
static char *route_copy(const spfkit_linter *l)
{
	spfkit__buf w;
	spfkit__buf_init(&w, l->a, 16384);
	add_route(l, &w);
	char *s = spfkit__buf_take(&w);
	spfkit__buf_free(&w);
	return s;
}

/* Sets the reporter's context to the current frame; *route is the route
 * string the caller frees. */
static void set_context(spfkit_linter *l, spfkit__buf *route)
{
	spfkit__buf_init(route, l->a, 16384);
	add_route(l, route);
	if (route->err == SPFKIT_ENOMEM)
		l->r.err = SPFKIT_ENOMEM;
	l->r.where = route->data ? route->data : "";
	if (l->nframes) {
		const lframe *f = &l->frames[l->nframes - 1];
		l->r.domain = f->domain;
		l->r.depth = (unsigned)(l->nframes - 1);
		l->r.record = f->record;
		l->r.record_len = f->record_len;
	} else {
		l->r.domain = NULL;
		l->r.depth = 0;
		l->r.record = NULL;
		l->r.record_len = 0;
	}
}

static void clear_context(spfkit_linter *l, spfkit__buf *route)
{
	spfkit__buf_free(route);
	l->r.where = NULL;
	l->r.domain = NULL;
	l->r.record = NULL;
	l->r.record_len = 0;
}

/* Reports m in the context of the current frame: at (pos, len) of its
 * record, or (not of_record) about the frame as a whole. */
static void frame_emit(spfkit_linter *l, msg *m, spfkit_severity sev,
		       const char *code, const char *rfc, bool of_record,
		       size_t pos, size_t len)
{
	spfkit__buf route;
	set_context(l, &route);
	if (!of_record)
		l->r.record = NULL;
	emit(&l->r, m, sev, code, rfc, pos, len);
	clear_context(l, &route);
}

static lframe *top(spfkit_linter *l)
{
	return l->nframes ? &l->frames[l->nframes - 1] : NULL;
}

static void on_frame(spfkit_linter *l, const spfkit_event *ev)
{
	lframe *nf = grow(l->a, &l->r.err, l->frames, l->nframes,
			  &l->cap_frames, sizeof *nf, 8);
	if (!nf)
		return;
	l->frames = nf;
	const lframe *parent = top(l);
	lframe *f = &l->frames[l->nframes];
	memset(f, 0, sizeof *f);
	f->domain = spfkit__strndup(l->a, ev->domain ? ev->domain : "",
				    ev->domain ? strlen(ev->domain) : 0);
	if (!f->domain) {
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	l->nframes++;
	f->include = ev->via && strcmp(ev->via, "include") == 0;
	f->terminal = !parent || (!f->include && parent->terminal);
	f->repeat = in_names(l, &l->seen, f->domain);
	if (f->repeat && f->include) {
		msg m;
		msg_init(&l->r, &m);
		add_shown(&m.m, f->domain, strlen(f->domain), 253);
		spfkit__buf_adds(&m.m, " is reached more than once: each time "
				       "costs DNS-querying terms again");
		spfkit__buf_adds(&m.f, "include it once");
		frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, "duplicate-include",
			   "RFC 7208 4.6.4", false, 0, 0);
	}
}

static void on_record(spfkit_linter *l, const spfkit_event *ev)
{
	lframe *f = top(l);
	if (!f || f->record)
		return;
	f->record =
	    spfkit__strndup(l->a, ev->text ? ev->text : "", ev->text_len);
	if (!f->record) {
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	f->record_len = ev->text_len;
	f->cursor = 6;
	if (f->repeat)
		return;
	unsigned flags = 0;
	if (!f->terminal)
		flags |= SPFKIT_LINT_INCLUDED;
	if (l->nframes == 1 && (l->flags & SPFKIT_LINT_DRAFT))
		flags |= SPFKIT_LINT_DRAFT;
	spfkit__buf route;
	set_context(l, &route);
	lint_text(&l->r, f->record, f->record_len, flags);
	clear_context(l, &route);
}

/* Finds the term text (t, n) in the frame's record, from the cursor on
 * (mechanisms come in order), else from the start (redirect=). */
static void locate_term(lframe *f, const char *t, size_t n)
{
	f->tpos = 0;
	f->tlen = 0;
	if (!f->record || !t)
		return;
	for (int pass = 0; pass < 2; pass++) {
		size_t from = pass == 0 ? f->cursor : 6;
		for (size_t i = from; i + n <= f->record_len; i++) {
			if (f->record[i - 1] != ' ')
				continue;
			if (memcmp(f->record + i, t, n) == 0 &&
			    (i + n == f->record_len ||
			     f->record[i + n] == ' ')) {
				f->tpos = i;
				f->tlen = n;
				if (pass == 0)
					f->cursor = i + n;
				return;
			}
		}
	}
}

static void on_term(spfkit_linter *l, const spfkit_event *ev)
{
	lframe *f = top(l);
	if (!f)
		return;
	f->in_term = true;
	f->qualifier = ev->qualifier;
	size_t ml = ev->mechanism ? strlen(ev->mechanism) : 0;
	if (ml >= sizeof f->mech)
		ml = sizeof f->mech - 1;
	memcpy(f->mech, ev->mechanism ? ev->mechanism : "", ml);
	f->mech[ml] = '\0';
	f->term_macro = ev->text && memchr(ev->text, '%', ev->text_len);
	locate_term(f, ev->text, ev->text_len);
	/* A record reached again repeats its netblocks: said once as
	 * duplicate-include. */
	if (!ev->family || !ev->addr || f->repeat || l->nblocks >= MAX_BLOCKS)
		return;
	block *nb = grow(l->a, &l->r.err, l->blocks, l->nblocks, &l->cap_blocks,
			 sizeof *nb, 32);
	if (!nb)
		return;
	l->blocks = nb;
	block *b = &l->blocks[l->nblocks];
	memset(b, 0, sizeof *b);
	b->family = ev->family;
	b->cidr = ev->cidr;
	b->qualifier = ev->qualifier;
	network(ev->family, ev->addr, ev->cidr, b->addr);
	b->where = route_copy(l);
	b->term = spfkit__strndup(l->a, ev->text ? ev->text : "", ev->text_len);
	b->order = l->nblocks;
	l->nblocks++;
	if (!b->where || !b->term)
		l->r.err = SPFKIT_ENOMEM;
}

static void on_lookup(spfkit_linter *l, const spfkit_event *ev)
{
	lframe *f = top(l);
	if (!f)
		return;
	/* The record lookup of the frame: keep its strings for advice when
	 * none of them is a record. */
	if (!f->record && ev->type == SPFKIT_TYPE_TXT && !f->in_term) {
		for (size_t i = 0; i < f->ntxt; i++)
			spfkit__free(l->a, f->txt[i]);
		f->ntxt = 0;
		for (size_t i = 0; i < ev->nitems && f->ntxt < MAX_TXT_KEPT;
		     i++) {
			size_t n = ev->items[i].len < MAX_TXT_KEPT_LEN
				       ? ev->items[i].len
				       : MAX_TXT_KEPT_LEN;
			char *c = spfkit__strndup(l->a, ev->items[i].data, n);
			if (!c) {
				l->r.err = SPFKIT_ENOMEM;
				return;
			}
			f->txt[f->ntxt] = c;
			f->txt_len[f->ntxt++] = n;
		}
		return;
	}
	/* RFC 7505 null MX: names no host, so mx finds nothing. */
	if (f->in_term && strcmp(f->mech, "mx") == 0 &&
	    ev->type == SPFKIT_TYPE_MX && ev->nitems == 1 &&
	    ev->items[0].len == 0) {
		msg m;
		msg_init(&l->r, &m);
		spfkit__buf_adds(&m.m, "'mx' finds a null MX (RFC 7505) at ");
		add_shown(&m.m, ev->name, strlen(ev->name), 253);
		spfkit__buf_adds(&m.m, ": it authorises no host but costs a "
				       "lookup");
		spfkit__buf_adds(&m.f, "remove the mx term");
		frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, "mx-none",
			   "RFC 7208 5.4", true, f->tpos, f->tlen);
	}
}

static void on_void(spfkit_linter *l, const spfkit_event *ev)
{
	lframe *f = top(l);
	if (!f || !f->in_term)
		return;
	bool mx = strcmp(f->mech, "mx") == 0;
	/* exists and ptr are void by design for most clients, and a macro
	 * makes a name per client. */
	if (strcmp(f->mech, "exists") == 0 || strcmp(f->mech, "ptr") == 0 ||
	    f->term_macro)
		return;
	msg m;
	msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "'");
	add_shown(&m.m, f->record ? f->record + f->tpos : "", f->tlen, 100);
	spfkit__buf_adds(&m.m, "': ");
	spfkit__buf_adds(&m.m, ev->type == SPFKIT_TYPE_MX     ? "MX "
			       : ev->type == SPFKIT_TYPE_AAAA ? "AAAA "
							      : "A ");
	add_shown(&m.m, ev->name, strlen(ev->name), 253);
	spfkit__buf_adds(&m.m, ev->status == SPFKIT_DNS_NXDOMAIN
				   ? " does not exist"
				   : " has no records");
	spfkit__buf_adds(&m.m, " (void lookup ");
	spfkit__buf_addu(&m.m, ev->void_lookups);
	spfkit__buf_adds(&m.m, " of ");
	spfkit__buf_addu(&m.m, l->cfg->limits[SPFKIT_LIMIT_VOID_LOOKUPS]);
	spfkit__buf_adds(&m.m, " allowed)");
	const char *code = "void-lookup";
	if (mx && ev->type == SPFKIT_TYPE_MX) {
		code = "mx-none";
		spfkit__buf_adds(&m.f, "publish MX records or remove the mx "
				       "term");
	} else {
		spfkit__buf_adds(&m.f, "remove the term or publish the "
				       "name's addresses");
	}
	frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, code,
		   mx && ev->type == SPFKIT_TYPE_MX ? "RFC 7208 5.4"
						    : "RFC 7208 4.6.4",
		   true, f->tpos, f->tlen);
}

/* RFC 7208 §3.4: an answer (header, question, every TXT record of the
 * name, not only SPF) estimated from the ANSWER event. */
static void on_answer(spfkit_linter *l, const spfkit_event *ev)
{
	if (ev->type != SPFKIT_TYPE_TXT || ev->status != SPFKIT_DNS_NOERROR ||
	    !ev->name)
		return;
	size_t qname = strlen(ev->name) + 2;
	size_t size = 12 + qname + 4 + ev->nitems * (2 + 10) + ev->rdata_octets;
	if (size <= UDP_ANSWER_MAX)
		return;
	if (in_names(l, &l->big, ev->name) || l->r.err)
		return;
	msg m;
	msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "the TXT answer for ");
	add_shown(&m.m, ev->name, strlen(ev->name), 253);
	spfkit__buf_adds(&m.m, " is about ");
	spfkit__buf_addu(&m.m, size);
	spfkit__buf_adds(&m.m, " octets (");
	spfkit__buf_addu(&m.m, ev->nitems);
	spfkit__buf_adds(&m.m, " TXT records): over 512 it is truncated "
			       "over UDP and needs TCP, which some "
			       "receivers fail");
	spfkit__buf_adds(&m.f, "shorten the record (move parts to an "
			       "include) or move other TXT records off this "
			       "name");
	frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, "answer-large",
		   "RFC 7208 3.4", false, 0, 0);
}

/* Keeps the first crossing of a limit for the end. */
static void note_crossing(spfkit_linter *l, crossing *c, const spfkit_event *ev)
{
	if (c->crossed)
		return;
	c->crossed = true;
	c->where = route_copy(l);
	const lframe *f = top(l);
	c->domain = spfkit__strndup(l->a, f ? f->domain : "",
				    f ? strlen(f->domain) : 0);
	c->text = spfkit__strndup(l->a, ev->text ? ev->text : "",
				  ev->text ? ev->text_len : 0);
	c->depth = l->nframes ? (unsigned)(l->nframes - 1) : 0;
	if (!c->where || !c->domain || !c->text)
		l->r.err = SPFKIT_ENOMEM;
}

static void on_problem(spfkit_linter *l, const spfkit_event *ev)
{
	lframe *f = top(l);
	const char *text = ev->text ? ev->text : "";
	size_t tn = ev->text ? ev->text_len : 0;
	const char *code = NULL, *rfc = NULL, *fix = NULL;
	spfkit_severity sev = SPFKIT_SEVERITY_ERROR;
	bool whole = true; /* about the frame, not its current term */
	switch (ev->reason) {
	case SPFKIT_REASON_SYNTAX: return; /* the record rules said it */
	case SPFKIT_REASON_LOOKUP_LIMIT:
		if (tn >= 6 && memcmp(text, "a loop", 6) == 0) {
			code = "loop";
			rfc = "RFC 7208 4.6.4";
			fix = "remove the include or redirect that leads back";
			whole = false;
		} else if (tn >= 8 && memcmp(text, "the walk", 8) == 0) {
			code = "walk-stopped";
			rfc = "RFC 7208 4.6.4";
			fix = "flatten the tree: far too many DNS-querying "
			      "terms";
		} else {
			note_crossing(l, &l->terms, ev);
			return;
		}
		break;
	case SPFKIT_REASON_VOID_LIMIT:
		note_crossing(l, &l->void_limit, ev);
		return;
	case SPFKIT_REASON_NO_RECORD:
		code = "no-record";
		rfc = "RFC 7208 4.5";
		fix = "publish a TXT record starting with 'v=spf1 ', e.g. "
		      "'v=spf1 mx -all'";
		break;
	case SPFKIT_REASON_MALFORMED_DOMAIN:
		code = "bad-domain";
		rfc = "RFC 7208 4.3";
		fix = "check a fully qualified domain name";
		break;
	case SPFKIT_REASON_MULTIPLE_RECORDS:
		code = "multiple-records";
		rfc = "RFC 7208 4.5";
		fix = "merge them into one v=spf1 record and delete the "
		      "others";
		break;
	case SPFKIT_REASON_INCLUDE_NONE:
		code = "include-no-record";
		rfc = "RFC 7208 5.2";
		fix = "remove the include, or fix the name (receivers give "
		      "permerror)";
		break;
	case SPFKIT_REASON_REDIRECT_NONE:
		code = "redirect-no-record";
		rfc = "RFC 7208 6.1";
		fix = "point redirect= at a name with a v=spf1 record";
		break;
	case SPFKIT_REASON_MX_LIMIT:
		code = "mx-too-many";
		rfc = "RFC 7208 4.6.4";
		fix = "list the servers with ip4:/ip6: instead; mx may "
		      "name at most 10 hosts";
		whole = false;
		break;
	case SPFKIT_REASON_BAD_TARGET:
		code = "bad-target";
		rfc = "RFC 7208 7.3";
		fix = "make the term's domain (after macro expansion) a "
		      "usable domain name";
		whole = false;
		break;
	case SPFKIT_REASON_DNS_ERROR:
		code = "dns-error";
		rfc = "RFC 7208 2.6.6";
		fix = "fix the name servers (receivers give temperror and "
		      "may defer mail)";
		whole = false;
		break;
	case SPFKIT_REASON_DEADLINE:
		code = "deadline";
		rfc = "RFC 7208 4.6.4";
		fix = "fix the slow name servers";
		break;
	default:
		code = "internal";
		rfc = NULL;
		fix = NULL;
		break;
	}
	spfkit__buf route;
	set_context(l, &route);
	msg m;
	msg_init(&l->r, &m);
	add_shown(&m.m, text, tn, 600);
	if (fix)
		spfkit__buf_adds(&m.f, fix);
	size_t pos = 0, len = 0;
	if (!whole && f && f->in_term) {
		pos = f->tpos;
		len = f->tlen;
	}
	if (whole)
		l->r.record = NULL;
	emit(&l->r, &m, sev, code, rfc, pos, len);
	/* A name with TXT but no record: say which near miss it was. */
	if (f && (ev->reason == SPFKIT_REASON_NO_RECORD ||
		  ev->reason == SPFKIT_REASON_INCLUDE_NONE ||
		  ev->reason == SPFKIT_REASON_REDIRECT_NONE))
		for (size_t i = 0; i < f->ntxt && !l->r.err; i++) {
			l->r.record = f->txt[i];
			l->r.record_len = f->txt_len[i];
			near_miss(&l->r, SPFKIT_SEVERITY_ERROR, f->txt[i],
				  f->txt_len[i]);
		}
	clear_context(l, &route);
}

int spfkit_linter_event(spfkit_linter *l, const spfkit_event *ev)
{
	if (!l || !ev)
		return SPFKIT_EINVAL;
	if (l->r.err || l->finished)
		return l->r.err;
	l->lookups = ev->lookups;
	l->voids = ev->void_lookups;
	switch (ev->kind) {
	case SPFKIT_EVENT_FRAME: on_frame(l, ev); break;
	case SPFKIT_EVENT_RECORD: on_record(l, ev); break;
	case SPFKIT_EVENT_TERM: on_term(l, ev); break;
	case SPFKIT_EVENT_LOOKUP: on_lookup(l, ev); break;
	case SPFKIT_EVENT_VOID: on_void(l, ev); break;
	case SPFKIT_EVENT_ANSWER: on_answer(l, ev); break;
	case SPFKIT_EVENT_PROBLEM: on_problem(l, ev); break;
	case SPFKIT_EVENT_TERM_END:
		if (top(l))
			top(l)->in_term = false;
		break;
	case SPFKIT_EVENT_FRAME_END:
		if (l->nframes)
			frame_clear(l->a, &l->frames[--l->nframes]);
		break;
	default: break;
	}
	return l->r.err;
}

void spfkit_linter_event_cb(const spfkit_check *chk, const spfkit_event *ev,
			    void *ud)
{
	(void)chk;
	spfkit_linter_event(ud, ev);
}

/* Orders blocks by family, network, then prefix length (widest first). */
static int block_cmp(const void *pa, const void *pb)
{
	const block *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	if (c)
		return c;
	if (a->cidr != b->cidr)
		return a->cidr < b->cidr ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Reports b as a duplicate of, or inside, the wider block w. */
static void overlap(spfkit_linter *l, const block *w, const block *b)
{
	bool dup = w->cidr == b->cidr;
	/* Report at the later of the two in evaluation order. */
	const block *first = w, *second = b;
	if (dup && w->order > b->order) {
		first = b;
		second = w;
	}
	l->r.where = second->where;
	l->r.domain = NULL;
	l->r.record = NULL;
	msg m;
	msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "'");
	add_shown(&m.m, second->term, strlen(second->term), 100);
	spfkit__buf_adds(&m.m, "' in ");
	add_shown(&m.m, second->where, strlen(second->where), 300);
	spfkit__buf_adds(&m.m, dup ? " duplicates '" : " lies within '");
	add_shown(&m.m, first->term, strlen(first->term), 100);
	spfkit__buf_adds(&m.m, "' in ");
	add_shown(&m.m, first->where, strlen(first->where), 300);
	spfkit__buf_adds(&m.f, "remove the narrower or repeated one");
	emit(&l->r, &m, SPFKIT_SEVERITY_WARNING,
	     dup ? "duplicate-netblock" : "overlapping-netblock",
	     "RFC 7208 5.6", 0, 0);
	l->r.where = NULL;
}

/* Duplicate and overlapping netblocks with the same qualifier across the
 * whole tree: sorted, a prefix contains exactly the prefixes that follow
 * it while they match it, so a stack sweep finds each block's widest
 * container in O(n log n). */
static void netblocks(spfkit_linter *l)
{
	if (l->nblocks < 2)
		return;
	qsort(l->blocks, l->nblocks, sizeof *l->blocks, block_cmp);
	/* One sweep per qualifier: the stack holds indices of blocks. */
	static const char quals[] = {'+', '-', '~', '?'};
	size_t *stack = spfkit__calloc(l->a, l->nblocks, sizeof *stack);
	if (!stack) {
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	for (size_t qi = 0; qi < sizeof quals && !l->r.err; qi++) {
		size_t depth = 0;
		for (size_t i = 0; i < l->nblocks && !l->r.err; i++) {
			const block *b = &l->blocks[i];
			if (b->qualifier != quals[qi])
				continue;
			while (depth) {
				const block *w = &l->blocks[stack[depth - 1]];
				if (w->family == b->family &&
				    spfkit__prefix_match(w->addr, b->addr,
							 w->family == 4 ? 4
									: 16,
							 (unsigned)w->cidr))
					break;
				depth--;
			}
			if (depth)
				overlap(l, &l->blocks[stack[depth - 1]], b);
			stack[depth++] = i;
		}
	}
	spfkit__free(l->a, stack);
}

/* Reports a limit that was crossed, with the walk's final total. */
static void limit_finding(spfkit_linter *l, crossing *c, bool terms)
{
	if (!c->crossed)
		return;
	l->r.where = c->where;
	l->r.domain = c->domain;
	l->r.depth = c->depth;
	l->r.record = NULL;
	msg m;
	msg_init(&l->r, &m);
	uint32_t limit = l->cfg->limits[terms ? SPFKIT_LIMIT_DNS_TERMS
					      : SPFKIT_LIMIT_VOID_LOOKUPS];
	spfkit__buf_addu(&m.m, terms ? l->lookups : l->voids);
	spfkit__buf_adds(&m.m, terms ? " DNS-querying terms when every term "
				       "is reached (limit "
				     : " void lookups when every term is "
				       "reached (limit ");
	spfkit__buf_addu(&m.m, limit);
	spfkit__buf_adds(&m.m, "): receivers give permerror at number ");
	spfkit__buf_addu(&m.m, (uint64_t)limit + 1);
	spfkit__buf_adds(&m.m, ", in ");
	add_shown(&m.m, c->where, strlen(c->where), 300);
	spfkit__buf_adds(&m.m, " (");
	add_shown(&m.m, c->text, strlen(c->text), 300);
	spfkit__buf_adds(&m.m, ")");
	spfkit__buf_adds(&m.f, terms
				   ? "replace includes and a/mx with ip4:/ip6: "
				     "networks, or drop includes you no longer "
				     "use"
				   : "remove terms whose names do not exist or "
				     "have no addresses");
	emit(&l->r, &m, SPFKIT_SEVERITY_ERROR,
	     terms ? "too-many-lookups" : "too-many-void-lookups",
	     "RFC 7208 4.6.4", 0, 0);
	l->r.where = NULL;
	l->r.domain = NULL;
}

/* Every slot of the lookup limit used: the next include breaks the
 * record (RFC 7208 §4.6.4). */
static void at_limit(spfkit_linter *l)
{
	uint32_t limit = l->cfg->limits[SPFKIT_LIMIT_DNS_TERMS];
	if (l->lookups != limit)
		return;
	msg m;
	msg_init(&l->r, &m);
	spfkit__buf_addu(&m.m, l->lookups);
	spfkit__buf_adds(&m.m, " of ");
	spfkit__buf_addu(&m.m, limit);
	spfkit__buf_adds(&m.m, " DNS-querying terms used: one more (or one "
			       "more in an include) gives permerror");
	spfkit__buf_adds(&m.f, "make room by replacing a/mx with ip4:/ip6:");
	emit(&l->r, &m, SPFKIT_SEVERITY_INFO, "lookups-at-limit",
	     "RFC 7208 4.6.4", 0, 0);
}

int spfkit_linter_finish(spfkit_linter *l)
{
	if (!l)
		return SPFKIT_EINVAL;
	if (l->finished || l->r.err)
		return l->r.err;
	l->finished = true;
	limit_finding(l, &l->terms, true);
	if (!l->r.err)
		limit_finding(l, &l->void_limit, false);
	if (!l->r.err)
		netblocks(l);
	if (!l->r.err)
		at_limit(l);
	/* Findings of a code past the cap: say how many were left out. */
	for (size_t i = 0; i < l->r.ncodes && !l->r.err; i++) {
		unsigned n = l->r.code_counts[i];
		if (n <= MAX_PER_CODE)
			continue;
		msg m;
		msg_init(&l->r, &m);
		spfkit__buf_addu(&m.m, n - MAX_PER_CODE);
		spfkit__buf_adds(&m.m, " more findings of ");
		spfkit__buf_adds(&m.m, l->r.codes[i]);
		spfkit__buf_adds(&m.m, " were left out");
		emit(&l->r, &m, SPFKIT_SEVERITY_INFO, "more-findings", NULL, 0,
		     0);
	}
	return l->r.err;
}
