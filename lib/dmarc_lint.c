/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc_lint.c - findings for DMARC Policy Records (RFC 9989 §4.7, §4.8,
 * §4.10) with the finding structure of SPF lint (spfkit_finding: a
 * severity, a stable code, the RFC section, the offending octets, a fix,
 * and the exact text to paste when the fix quotes one). A record alone
 * (spfkit_dmarc_lint_record) or what a finished discovery saw
 * (spfkit_check_dmarc_lint): several records at one name, TXT records at
 * _dmarc that almost are DMARC, no record, DNS failures. Replacements are
 * checked before they are offered: a corrected tag must read as valid, a
 * corrected record must be a DMARC record.
 */
#include <string.h>

#include "check.h"
#include "dmarc.h"
#include "lint.h"

#define MAX_PER_CODE                                                           \
	50           /* findings of one code (a record of 64 KiB can           \
			hold thousands of tags) */
#define MSG_MAX 4096 /* octets of a message or fix */
#define REP_MAX 65536

/* Every code a DMARC finding can have (spfkit_dmarc_lint_code). */
static const char *const codes[] = {
    "dmarc-no-record",   "dmarc-multiple-records", "dmarc-not-dmarc",
    "dmarc-syntax",      "dmarc-bad-value",        "dmarc-no-policy",
    "dmarc-removed-tag", "dmarc-unknown-tag",      "dmarc-duplicate-tag",
    "dmarc-bad-uri",     "dmarc-uri-size",         "dmarc-fo-ignored",
    "dmarc-sp-ignored",  "dmarc-monitoring",       "dmarc-testing",
    "dmarc-no-rua",      "dmarc-dns-error",        "dmarc-more-findings"};

const char *spfkit_dmarc_lint_code(size_t i)
{
	return i < sizeof codes / sizeof codes[0] ? codes[i] : NULL;
}

/* Where findings go, and the record they are about. */
typedef struct reporter {
	const spfkit__alloc *a;
	spfkit_finding_cb cb;
	void *ud;
	int err;
	unsigned counts[sizeof codes / sizeof codes[0]];
	const char *domain;
	const char *record;
	size_t record_len;
} reporter;

/* A finding being written: message, fix, and text to paste (rep: the
 * octets replacing (pos, len), or the whole record when len is 0). */
typedef struct msg {
	spfkit__buf m, f, rep;
	bool offered;
} msg;

static void msg_init(const reporter *r, msg *m)
{
	memset(m, 0, sizeof *m);
	spfkit__buf_init(&m->m, r->a, MSG_MAX);
	spfkit__buf_init(&m->f, r->a, MSG_MAX);
	spfkit__buf_init(&m->rep, r->a, REP_MAX);
}

static void msg_free(msg *m)
{
	spfkit__buf_free(&m->m);
	spfkit__buf_free(&m->f);
	spfkit__buf_free(&m->rep);
}

/* Appends (s, n) quoted as messages quote (hostile octets as \xHH). */
static void quote(spfkit__buf *b, const char *s, size_t n)
{
	spfkit__buf_addc(b, '\'');
	spfkit__lint_shown(b, s, n, 100);
	spfkit__buf_addc(b, '\'');
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Is the tag-spec (s, n) valid as it stands for a known tag? */
static bool tag_valid(const char *s, size_t n)
{
	size_t cur = 0;
	spfkit__dmarc_tag t;
	if (!spfkit__dmarc_next_tag(s, n, &cur, &t) || !t.has_eq ||
	    !t.name_ok || t.pos != 0 || t.len != n)
		return false;
	const char *name = s + t.npos, *v = s + t.vpos;
	size_t nl = t.nlen, vl = t.vlen;
	if (spfkit__dmarc_tag_is(name, nl, "p") ||
	    spfkit__dmarc_tag_is(name, nl, "sp") ||
	    spfkit__dmarc_tag_is(name, nl, "np"))
		return spfkit__dmarc_request(v, vl) != SPFKIT_DMARC_P_UNSET;
	if (spfkit__dmarc_tag_is(name, nl, "rua") ||
	    spfkit__dmarc_tag_is(name, nl, "ruf"))
		return spfkit__dmarc_uri_ok(v, vl, NULL);
	return vl > 0;
}

/* Is the offered replacement exact and safe to paste: printable ASCII,
 * and a valid tag (len > 0) or a DMARC record (the whole record)? */
static bool replacement_ok(const reporter *r, const spfkit__buf *rep,
			   size_t len)
{
	if (rep->err || rep->len == 0 || !r->record)
		return false;
	for (size_t i = 0; i < rep->len; i++) {
		unsigned char c = (unsigned char)rep->data[i];
		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	return len ? tag_valid(rep->data, rep->len)
		   : spfkit__dmarc_is_record(rep->data, rep->len);
}

/* Reports m at (pos, len) of the record (0, 0: the record as a whole),
 * with its replacement when offered and exact, then frees m. */
static void emit(reporter *r, msg *m, spfkit_severity sev, const char *code,
		 const char *rfc, size_t pos, size_t len)
{
	if (m->m.err == SPFKIT_ENOMEM || m->f.err == SPFKIT_ENOMEM ||
	    m->rep.err == SPFKIT_ENOMEM)
		r->err = SPFKIT_ENOMEM;
	size_t k = 0;
	while (codes[k] && strcmp(codes[k], code) != 0)
		k++;
	if (r->err || r->counts[k]++ >= MAX_PER_CODE) {
		msg_free(m);
		return;
	}
	spfkit_finding f;
	memset(&f, 0, sizeof f);
	f.severity = sev;
	f.code = code;
	f.rfc = rfc;
	f.domain = r->domain;
	f.record = r->record;
	f.record_len = r->record ? r->record_len : 0;
	if (r->record && pos <= r->record_len && len <= r->record_len - pos) {
		f.pos = pos;
		f.len = len;
	}
	if (m->offered && replacement_ok(r, &m->rep, f.len)) {
		f.replacement = m->rep.data;
		f.replacement_len = m->rep.len;
	}
	f.message = m->m.data ? m->m.data : "";
	f.fix = m->f.len ? m->f.data : NULL;
	if (r->cb)
		r->cb(&f, r->ud);
	msg_free(m);
}

/* A finding with a plain message and fix (fix may be NULL). */
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

/* Offers rep as the replacement: the fix becomes before + the text when
 * it is exact, else the words. */
static void offer(const reporter *r, msg *m, size_t len, const char *before,
		  const char *words)
{
	m->offered = true;
	if (replacement_ok(r, &m->rep, len)) {
		spfkit__buf_adds(&m->f, before);
		spfkit__buf_add(&m->f, m->rep.data, m->rep.len);
	} else {
		spfkit__buf_adds(&m->f, words);
	}
}

/* The record with the octets (pos, len) replaced by (s, n), into b; the
 * separator before a removed tag goes with it. */
static void record_with(spfkit__buf *b, const char *rec, size_t rn, size_t pos,
			size_t len, const char *s, size_t n)
{
	size_t start = pos, end = pos + len;
	if (n == 0) {
		/* drop "; tag" (the separator before it, and its WSP) */
		while (start > 0 && is_wsp(rec[start - 1]))
			start--;
		if (start > 0 && rec[start - 1] == ';')
			start--;
		while (start > 0 && is_wsp(rec[start - 1]))
			start--;
	}
	spfkit__buf_add(b, rec, start);
	spfkit__buf_add(b, s, n);
	spfkit__buf_add(b, rec + end, rn - end);
}

/* ---------------------------------------------------------------- tags */

/* A value for the tag name that a typo most likely meant, or NULL. */
static const char *meant(const char *name, size_t nl, const char *v, size_t vl)
{
	if (vl == 0)
		return NULL;
	char c = (char)spfkit__lower((unsigned char)v[0]);
	if (spfkit__dmarc_tag_is(name, nl, "p") ||
	    spfkit__dmarc_tag_is(name, nl, "sp") ||
	    spfkit__dmarc_tag_is(name, nl, "np"))
		return c == 'n'   ? "none"
		       : c == 'q' ? "quarantine"
		       : c == 'r' ? "reject"
				  : NULL;
	if (spfkit__dmarc_tag_is(name, nl, "adkim") ||
	    spfkit__dmarc_tag_is(name, nl, "aspf"))
		return c == 'r' ? "r" : c == 's' ? "s" : NULL;
	if (spfkit__dmarc_tag_is(name, nl, "psd"))
		return c == 'y' ? "y" : c == 'n' ? "n" : c == 'u' ? "u" : NULL;
	if (spfkit__dmarc_tag_is(name, nl, "t"))
		return c == 'y' || c == 't'   ? "y"
		       : c == 'n' || c == 'f' ? "n"
					      : NULL;
	return NULL;
}

/* A value of a known tag that is not valid (§4.8 Table 2). */
static void bad_value(reporter *r, const char *s, const spfkit__dmarc_tag *t,
		      bool rua_ok)
{
	const char *name = s + t->npos, *v = s + t->vpos;
	size_t nl = t->nlen, vl = t->vlen;
	bool policy = spfkit__dmarc_tag_is(name, nl, "p") ||
		      spfkit__dmarc_tag_is(name, nl, "sp") ||
		      spfkit__dmarc_tag_is(name, nl, "np");
	msg m;
	msg_init(r, &m);
	quote(&m.m, s + t->pos, t->len);
	spfkit__buf_adds(&m.m, " is not a valid value");
	if (policy)
		spfkit__buf_adds(&m.m, rua_ok
					   ? ": receivers act as if the record "
					     "said p=none (RFC 9989 4.10.1)"
					   : ": with no usable rua= either, "
					     "receivers apply no DMARC to this "
					     "domain (RFC 9989 4.10.1)");
	else
		spfkit__buf_adds(&m.m, ": receivers use the default");
	const char *fixed = meant(name, nl, v, vl);
	if (fixed) {
		spfkit__buf_add(&m.rep, name, nl);
		spfkit__buf_addc(&m.rep, '=');
		spfkit__buf_adds(&m.rep, fixed);
	}
	const char *words =
	    policy ? "use none, quarantine or reject"
	    : spfkit__dmarc_tag_is(name, nl, "adkim") ||
		    spfkit__dmarc_tag_is(name, nl, "aspf")
		? "use r (relaxed) or s (strict)"
	    : spfkit__dmarc_tag_is(name, nl, "psd") ? "use y, n or u"
	    : spfkit__dmarc_tag_is(name, nl, "t")   ? "use y or n"
	    : spfkit__dmarc_tag_is(name, nl, "fo")
		? "use 0 or 1, and d and s, separated by ':' (fo=1:d)"
		: "see RFC 9989 4.7";
	offer(r, &m, t->len, "write ", words);
	emit(r, &m, policy ? SPFKIT_SEVERITY_ERROR : SPFKIT_SEVERITY_WARNING,
	     "dmarc-bad-value", "RFC 9989 4.8", t->pos, t->len);
}

/* Each URI of rua= or ruf= (§4.7, §4.8 dmarc-urilist). */
static void uri_list(reporter *r, const char *s, const spfkit__dmarc_tag *t)
{
	const char *v = s + t->vpos;
	size_t vl = t->vlen, good = 0, bad = 0;
	for (size_t i = 0; i <= vl;) {
		size_t k = i;
		while (k < vl && v[k] != ',')
			k++;
		size_t a = i, b = k;
		while (a < b && is_wsp(v[a]))
			a++;
		while (b > a && is_wsp(v[b - 1]))
			b--;
		bool obs = false;
		size_t pos = t->vpos + a, len = b - a;
		if (spfkit__dmarc_uri_ok(v + a, b - a, &obs) &&
		    (b - a < 7 || !spfkit__ieq(v + a, 7, "mailto:", 7) ||
		     memchr(v + a, '@', b - a))) {
			good++;
			if (obs) {
				msg m;
				msg_init(r, &m);
				quote(&m.m, v + a, b - a);
				spfkit__buf_adds(&m.m,
						 " has a size limit ('!...'), "
						 "obsolete syntax receivers "
						 "ignore");
				size_t e = 0;
				while (v[a + e] != '!')
					e++;
				spfkit__buf_adds(&m.f, "write ");
				spfkit__lint_shown(&m.f, v + a, e, 200);
				emit(r, &m, SPFKIT_SEVERITY_INFO,
				     "dmarc-uri-size", "RFC 9989 4.8", pos,
				     len);
			}
		} else if (len) {
			bad++;
			msg m;
			msg_init(r, &m);
			quote(&m.m, v + a, b - a);
			spfkit__buf_adds(&m.m, " is not a valid reporting URI");
			if (memchr(v + a, '@', b - a) &&
			    !memchr(v + a, ':', b - a)) {
				spfkit__buf_adds(&m.f, "write mailto:");
				spfkit__lint_shown(&m.f, v + a, b - a, 200);
			} else {
				spfkit__buf_adds(
				    &m.f, "write mailto:ADDRESS (commas and "
					  "'!' inside a URI as %2C and %21)");
			}
			emit(r, &m, SPFKIT_SEVERITY_WARNING, "dmarc-bad-uri",
			     "RFC 9989 4.7", pos, len);
		}
		i = k + 1;
	}
	if (!good && bad)
		say(r, SPFKIT_SEVERITY_WARNING, "dmarc-bad-uri", "RFC 9989 4.7",
		    t->pos, t->len,
		    "no URI of this list is usable: no reports will be sent",
		    NULL);
}

/* A tag RFC 9989 removed (Appendix C: pct, rf, ri). */
static void removed(reporter *r, const char *s, size_t n,
		    const spfkit__dmarc_tag *t)
{
	msg m;
	msg_init(r, &m);
	quote(&m.m, s + t->pos, t->len);
	spfkit__buf_adds(&m.m, " was removed by RFC 9989; receivers ignore it");
	bool pct = spfkit__dmarc_tag_is(s + t->npos, t->nlen, "pct");
	if (pct)
		spfkit__buf_adds(&m.m, " (t=y asks for a softer policy while "
				       "testing)");
	record_with(&m.rep, s, n, t->pos, t->len, "", 0);
	offer(r, &m, 0, "publish ", "remove it");
	/* The replacement is the whole record: (0, 0). */
	emit(r, &m, pct ? SPFKIT_SEVERITY_WARNING : SPFKIT_SEVERITY_INFO,
	     "dmarc-removed-tag", "RFC 9989 C", 0, 0);
}

/* Every rule of one record text that needs nothing else. */
static void lint_text(reporter *r, const char *s, size_t n);

/* Is the text almost a DMARC record? Writes the record it should be. */
static bool near_miss(const char *s, size_t n, spfkit__buf *fixed)
{
	size_t a = 0, b = n;
	while (a < b && (is_wsp(s[a]) || s[a] == '"'))
		a++;
	while (b > a && (is_wsp(s[b - 1]) || s[b - 1] == '"'))
		b--;
	/* "v" *WSP "=" *WSP "dmarc1" in any case */
	size_t i = a;
	if (i < b && (s[i] == 'v' || s[i] == 'V')) {
		i++;
		while (i < b && is_wsp(s[i]))
			i++;
		if (i < b && s[i] == '=') {
			i++;
			while (i < b && is_wsp(s[i]))
				i++;
			if (b - i >= 6 && spfkit__ieq(s + i, 6, "DMARC1", 6)) {
				i += 6;
				while (i < b && (is_wsp(s[i]) || s[i] == ';' ||
						 s[i] == ','))
					i++;
				spfkit__buf_adds(fixed, "v=DMARC1");
				if (i < b) {
					spfkit__buf_adds(fixed, "; ");
					spfkit__buf_add(fixed, s + i, b - i);
				}
				return true;
			}
		}
		i = a;
	}
	/* v=DMARC1 later in the record: moved to the front. */
	for (size_t k = a; k + 8 <= b; k++) {
		if (!spfkit__ieq(s + k, 8, "v=DMARC1", 8) ||
		    (k > a && s[k - 1] != ';' && !is_wsp(s[k - 1])))
			continue;
		size_t e = k + 8;
		spfkit__buf_adds(fixed, "v=DMARC1; ");
		spfkit__buf_add(fixed, s + a, k - a);
		while (e < b && (is_wsp(s[e]) || s[e] == ';'))
			e++;
		spfkit__buf_add(fixed, s + e, b - e);
		/* trailing "; " of the part before */
		while (fixed->len && (is_wsp(fixed->data[fixed->len - 1]) ||
				      fixed->data[fixed->len - 1] == ';'))
			fixed->len--;
		return true;
	}
	return false;
}

/* A TXT record at a _dmarc name that is not a DMARC record: a finding
 * only when it almost is one. */
static void not_dmarc(reporter *r, const char *s, size_t n)
{
	msg m;
	msg_init(r, &m);
	if (!near_miss(s, n, &m.rep)) {
		msg_free(&m);
		return;
	}
	spfkit__buf_adds(&m.m, "this TXT record is not a DMARC record, so "
			       "receivers ignore it: a record starts "
			       "exactly 'v=DMARC1' and a ';' before the "
			       "next tag (RFC 9989 4.7, 4.8)");
	offer(r, &m, 0, "publish ", "start the record with v=DMARC1;");
	emit(r, &m, SPFKIT_SEVERITY_ERROR, "dmarc-not-dmarc", "RFC 9989 4.7", 0,
	     0);
}

/* The tags of a record: syntax, values, repeats, removed and unknown. */
static void lint_tags(reporter *r, const char *s, size_t n,
		      const spfkit__dmarc_rec *rec, bool *has_p, bool *has_ruf,
		      const spfkit__dmarc_tag **fo_tag, spfkit__dmarc_tag *fo)
{
	static const char *const known[] = {"v",     "p",    "sp", "np",
					    "adkim", "aspf", "t",  "psd",
					    "rua",   "ruf",  "fo"};
	size_t cur = spfkit__dmarc_after_version(s, n);
	spfkit__dmarc_tag t;
	/* names seen, for repeats (the first counts, §4.7 reading) */
	bool seen[sizeof known / sizeof known[0]] = {true};
	while (!r->err && spfkit__dmarc_next_tag(s, n, &cur, &t)) {
		const char *name = s + t.npos;
		if (!t.has_eq || !t.name_ok) {
			msg m;
			msg_init(r, &m);
			quote(&m.m, s + t.pos, t.len);
			spfkit__buf_adds(
			    &m.m, t.has_eq
				      ? " is not a tag: a tag name is "
					"letters only; receivers ignore it"
				      : " has no '=': receivers ignore it");
			spfkit__buf_adds(&m.f, "write tag=value, tags "
					       "separated by ';'");
			emit(r, &m, SPFKIT_SEVERITY_WARNING, "dmarc-syntax",
			     "RFC 9989 4.8", t.pos, t.len);
			continue;
		}
		size_t k = 0;
		while (k < sizeof known / sizeof known[0] &&
		       !spfkit__dmarc_tag_is(name, t.nlen, known[k]))
			k++;
		if (k == sizeof known / sizeof known[0]) {
			if (spfkit__dmarc_tag_is(name, t.nlen, "pct") ||
			    spfkit__dmarc_tag_is(name, t.nlen, "rf") ||
			    spfkit__dmarc_tag_is(name, t.nlen, "ri")) {
				removed(r, s, n, &t);
			} else {
				msg m;
				msg_init(r, &m);
				quote(&m.m, s + t.pos, t.len);
				spfkit__buf_adds(&m.m, " is not a DMARC tag: "
						       "receivers ignore it");
				emit(r, &m, SPFKIT_SEVERITY_INFO,
				     "dmarc-unknown-tag", "RFC 9989 4.7", t.pos,
				     t.len);
			}
			continue;
		}
		if (seen[k]) {
			msg m;
			msg_init(r, &m);
			quote(&m.m, s + t.pos, t.len);
			spfkit__buf_adds(&m.m, " repeats a tag: receivers "
					       "may read either, or drop the "
					       "record (RFC 6376 3.2)");
			record_with(&m.rep, s, n, t.pos, t.len, "", 0);
			offer(r, &m, 0, "publish ", "keep one of them");
			emit(r, &m, SPFKIT_SEVERITY_WARNING,
			     "dmarc-duplicate-tag", "RFC 9989 4.7", 0, 0);
			continue;
		}
		seen[k] = true;
		const char *v = s + t.vpos;
		size_t vl = t.vlen;
		switch (k) {
		case 1:
		case 2:
		case 3:
			if (k == 1)
				*has_p = true;
			if (spfkit__dmarc_request(v, vl) ==
			    SPFKIT_DMARC_P_UNSET)
				bad_value(r, s, &t, rec->rua_ok);
			break;
		case 4:
		case 5:
			if (!(vl == 1 && strchr("rsRS", v[0])))
				bad_value(r, s, &t, rec->rua_ok);
			break;
		case 6:
			if (!(vl == 1 && strchr("ynYN", v[0])))
				bad_value(r, s, &t, rec->rua_ok);
			break;
		case 7:
			if (!(vl == 1 && strchr("ynuYNU", v[0])))
				bad_value(r, s, &t, rec->rua_ok);
			break;
		case 8:
		case 9:
			if (k == 9)
				*has_ruf = true;
			uri_list(r, s, &t);
			break;
		default:
			*fo = t;
			*fo_tag = fo;
			if (!spfkit__dmarc_fo_ok(v, vl))
				bad_value(r, s, &t, rec->rua_ok);
			break;
		}
	}
}

static void lint_text(reporter *r, const char *s, size_t n)
{
	if (!spfkit__dmarc_is_record(s, n)) {
		size_t before = r->counts[2];
		not_dmarc(r, s, n);
		if (r->counts[2] == before && !r->err)
			say(r, SPFKIT_SEVERITY_ERROR, "dmarc-not-dmarc",
			    "RFC 9989 4.7", 0, 0,
			    "not a DMARC record: it does not start with "
			    "v=DMARC1;",
			    NULL);
		return;
	}
	spfkit__dmarc_rec rec;
	spfkit__dmarc_parse(s, n, &rec);
	bool has_p = false, has_ruf = false, has_rua = false;
	const spfkit__dmarc_tag *fo_tag = NULL;
	spfkit__dmarc_tag fo;
	lint_tags(r, s, n, &rec, &has_p, &has_ruf, &fo_tag, &fo);
	size_t cur = spfkit__dmarc_after_version(s, n);
	spfkit__dmarc_tag t;
	while (spfkit__dmarc_next_tag(s, n, &cur, &t))
		if (t.has_eq && spfkit__dmarc_tag_is(s + t.npos, t.nlen, "rua"))
			has_rua = true;
	if (r->err)
		return;
	if (!has_p) {
		/* §4.7: p is RECOMMENDED; without it the record is read as
		 * p=none. */
		msg m;
		msg_init(r, &m);
		spfkit__buf_adds(&m.m, "no p= tag: receivers read the record "
				       "as p=none");
		size_t at = spfkit__dmarc_after_version(s, n);
		spfkit__buf_add(&m.rep, s, at);
		spfkit__buf_adds(&m.rep, "; p=none");
		spfkit__buf_add(&m.rep, s + at, n - at);
		offer(r, &m, 0, "say so (or quarantine, reject): ",
		      "add p=none, p=quarantine or p=reject");
		emit(r, &m, SPFKIT_SEVERITY_WARNING, "dmarc-no-policy",
		     "RFC 9989 4.7", 0, 0);
	}
	if (fo_tag && !has_ruf)
		say(r, SPFKIT_SEVERITY_INFO, "dmarc-fo-ignored", "RFC 9989 4.7",
		    fo_tag->pos, fo_tag->len,
		    "fo= is ignored without ruf= (no failure reports are asked "
		    "for)",
		    NULL);
	if (rec.p == SPFKIT_DMARC_P_NONE || (!has_p && !rec.p_bad))
		say(r, SPFKIT_SEVERITY_INFO, "dmarc-monitoring",
		    "RFC 9989 3.2.12", 0, 0,
		    "p=none: monitoring only, receivers are asked to do "
		    "nothing with mail that fails DMARC",
		    "once the aggregate reports show every source passing, "
		    "move to p=quarantine, then p=reject");
	if (rec.testing)
		say(r, SPFKIT_SEVERITY_INFO, "dmarc-testing", "RFC 9989 4.7", 0,
		    0,
		    "t=y: receivers are asked to apply one level less than the "
		    "policy says (quarantine for reject, none for quarantine)",
		    "remove t=y when the test is over");
	if (!has_rua)
		say(r, SPFKIT_SEVERITY_INFO, "dmarc-no-rua", "RFC 9989 4.7", 0,
		    0, "no rua=: receivers send no aggregate reports",
		    "add rua=mailto:ADDRESS to learn who sends mail as the "
		    "domain");
}

int spfkit_dmarc_lint_record(const spfkit_config *cfg, const char *domain,
			     const char *text, size_t len, spfkit_finding_cb cb,
			     void *ud)
{
	if (!cfg || (!text && len))
		return SPFKIT_EINVAL;
	reporter r;
	memset(&r, 0, sizeof r);
	r.a = spfkit__config_alloc(cfg);
	r.cb = cb;
	r.ud = ud;
	r.domain = domain;
	r.record = text ? text : "";
	r.record_len = len;
	lint_text(&r, r.record, len);
	return r.err;
}

/* ---------------------------------------------------------------- walk */

int spfkit_check_dmarc_lint(const spfkit_check *chk, spfkit_finding_cb cb,
			    void *ud)
{
	const spfkit_dmarc_policy *pol = spfkit_check_dmarc(chk);
	if (!pol)
		return chk ? SPFKIT_ESTATE : SPFKIT_EINVAL;
	reporter r;
	memset(&r, 0, sizeof r);
	r.a = spfkit__config_alloc(chk->cfg);
	r.cb = cb;
	r.ud = ud;
	spfkit__buf b;
	spfkit__buf_init(&b, r.a, MSG_MAX);
	size_t records = 0;
	const char *name, *record;
	spfkit_dns_status st;
	size_t nrec;
	for (size_t i = 0;
	     !r.err && spfkit_check_dmarc_step(chk, i, &name, &st, &nrec,
					       &record) == SPFKIT_OK;
	     i++) {
		const char *target = name + 7; /* after "_dmarc." */
		r.domain = target;
		r.record = NULL;
		r.record_len = 0;
		if (nrec > 1) {
			spfkit__buf_reset(&b);
			spfkit__buf_addu(&b, nrec);
			spfkit__buf_adds(&b, " DMARC records at ");
			spfkit__lint_shown(&b, name, strlen(name), 300);
			spfkit__buf_adds(&b, ": receivers discard them all, as "
					     "if there were none");
			say(&r, SPFKIT_SEVERITY_ERROR, "dmarc-multiple-records",
			    "RFC 9989 4.10", 0, 0, b.data ? b.data : "",
			    "publish exactly one v=DMARC1 record there");
		}
		records += nrec;
		/* Every TXT record of the name: the near misses, and the
		 * record there is (§4.7 sp: ignored below an org domain). */
		const spfkit__query *q = NULL;
		for (size_t k = 0; k < chk->nqueries; k++)
			if (chk->queries[k]->type == SPFKIT_TYPE_TXT &&
			    strcmp(chk->queries[k]->name, name) == 0)
				q = chk->queries[k];
		for (size_t k = 0; q && q->status == SPFKIT_DNS_NOERROR &&
				   k < q->nitems && !r.err;
		     k++) {
			const spfkit__item *it = &q->items[k];
			r.record = it->data;
			r.record_len = it->len;
			if (!spfkit__dmarc_is_record(it->data, it->len)) {
				not_dmarc(&r, it->data, it->len);
				continue;
			}
			if (nrec != 1)
				continue;
			lint_text(&r, it->data, it->len);
			spfkit__dmarc_rec rec;
			spfkit__dmarc_parse(it->data, it->len, &rec);
			if ((rec.sp || rec.sp_bad) && pol->org_domain &&
			    strcmp(target, pol->org_domain) != 0 &&
			    rec.psd != 'y')
				say(&r, SPFKIT_SEVERITY_INFO,
				    "dmarc-sp-ignored", "RFC 9989 4.7", 0, 0,
				    "sp= is only read at an organizational "
				    "domain or a public suffix domain; this "
				    "name is neither, so receivers ignore it",
				    "set the policy of subdomains in the "
				    "organizational domain's record");
		}
	}
	r.record = NULL;
	r.record_len = 0;
	r.domain = pol->domain;
	if (!r.err && pol->status == SPFKIT_DMARC_TEMPERROR) {
		spfkit__buf_reset(&b);
		spfkit__buf_adds(&b, "a DNS query failed, so the policy of ");
		spfkit__lint_shown(&b, pol->domain, strlen(pol->domain), 300);
		spfkit__buf_adds(&b, " is not known: receivers decide "
				     "(often a temporary failure)");
		for (size_t k = 0; k < chk->nqueries; k++) {
			const spfkit__query *q = chk->queries[k];
			if (q->status == SPFKIT_DNS_TEMPFAIL) {
				spfkit__buf_adds(&b, "; ");
				spfkit__lint_shown(&b, q->name, strlen(q->name),
						   300);
				spfkit__buf_adds(&b, ": ");
				spfkit__buf_adds(
				    &b, spfkit_dns_failure_name(q->failure));
				break;
			}
		}
		say(&r, SPFKIT_SEVERITY_ERROR, "dmarc-dns-error",
		    "RFC 9989 4.10.1", 0, 0, b.data ? b.data : "",
		    "check that the domain's name servers answer TXT "
		    "queries for _dmarc names");
	} else if (!r.err && pol->status == SPFKIT_DMARC_NONE && !records) {
		spfkit__buf_reset(&b);
		spfkit__buf_adds(&b, "no DMARC record for ");
		spfkit__lint_shown(&b, pol->domain, strlen(pol->domain), 300);
		spfkit__buf_adds(&b, " nor any parent: DMARC does not apply "
				     "to its mail");
		say(&r, SPFKIT_SEVERITY_WARNING, "dmarc-no-record",
		    "RFC 9989 4.10.1", 0, 0, b.data ? b.data : "",
		    "publish a TXT record at _dmarc.<organizational domain>, "
		    "starting with v=DMARC1; p=none; rua=mailto:ADDRESS");
	}
	if (b.err == SPFKIT_ENOMEM)
		r.err = SPFKIT_ENOMEM;
	spfkit__buf_free(&b);
	return r.err;
}
