/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * header.c - Received-SPF (RFC 7208 §9.1) and Authentication-Results
 * (RFC 8601) header fields for a finished check.
 *
 * Every value that reaches a header came from SMTP or DNS, so each goes
 * through two steps: sanitize (printable ASCII stays, anything else and the
 * backslash itself become the four characters "\xHH", so a backslash in the
 * decoded value always starts an escape; cut to a per-value cap with
 * "...") and then encode for its place in the syntax (dot-atom or
 * quoted-string for a key-value pair, quoted-pairs inside a comment, token
 * or quoted-string for RFC 8601 values). The per-value caps keep the whole
 * header below SPFKIT__HEADER_MAX, which a local bounded buffer enforces.
 */
#include <string.h>

#include "header.h"

/* Per-value caps on the sanitized text, in octets, "..." included. Chosen
 * so that even with every character escaped by the encoder (at most twice
 * its length) the header stays below SPFKIT__HEADER_MAX. */
enum {
	CAP_SHORT = 16,  /* identity */
	CAP_IP = 64,     /* client-ip */
	CAP_NAME = 128,  /* receiver, authserv-id */
	CAP_VALUE = 200, /* sender, helo, domain, mechanism */
	CAP_PROBLEM = 300,
	CAP_EXPLAIN = 400
};

static const char hexdig[] = "0123456789ABCDEF";

/* The result token of both headers (RFC 7208 §9.1 "result", RFC 8601
 * §2.7.2): the §2.6 names in lower case. Kept here rather than calling
 * spfkit_result_name() because these strings are header syntax. */
static const char *result_token(spfkit_result r)
{
	static const char *const names[] = {"none",     "neutral",  "pass",
					    "fail",     "softfail", "temperror",
					    "permerror"};
	return names[r];
}

/* Is c a printable ASCII octet that passes through sanitizing? */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/* A value as (pointer, length): the identities may hold NUL. */
typedef struct view {
	const char *s;
	size_t n;
} view;

/* A NUL-terminated string (NULL: empty). */
static view cstr(const char *s)
{
	view v = {s, s ? strlen(s) : 0};
	return v;
}

/* A field with an optional length: len octets, or up to the NUL when
 * len is 0. */
static view field(const char *s, size_t len)
{
	if (!s || len == 0)
		return cstr(s);
	view v = {s, len};
	return v;
}

/* Sanitizes v into out, at most cap octets: plain octets as they are,
 * others as "\xHH"; when the whole would not fit, as many whole units as
 * leave room for "...", then "...". */
static void sanitize(view v, size_t cap, spfkit__buf *out)
{
	const char *s = v.s;
	size_t full = 0, i, n = v.n;
	for (i = 0; i < n; i++)
		full += plain((unsigned char)s[i]) ? 1 : 4;
	size_t room = full <= cap ? full : (cap >= 3 ? cap - 3 : 0);
	size_t used = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t unit = plain(c) ? 1 : 4;
		if (unit > room - used)
			break;
		if (unit == 1) {
			spfkit__buf_addc(out, (char)c);
		} else {
			char esc[4] = {'\\', 'x', hexdig[c >> 4],
				       hexdig[c & 15]};
			spfkit__buf_add(out, esc, sizeof esc);
		}
		used += unit;
	}
	if (full > cap)
		spfkit__buf_add(out, "...", 3);
}

/* RFC 5322 §3.2.3 atext. */
static bool is_atext(unsigned char c)
{
	return spfkit__is_alnum(c) ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 dot-atom-text: 1*atext *("." 1*atext). */
static bool is_dot_atom(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (i == 0 || i + 1 == n || s[i - 1] == '.')
				return false;
		} else if (!is_atext(c)) {
			return false;
		}
	}
	return true;
}

/* RFC 6376 domain-name as RFC 8601 uses it: sub-domain *("." sub-domain),
 * sub-domain = let-dig [ldh-str]. */
static bool is_domain_name(const char *s, size_t n)
{
	size_t label = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (spfkit__is_alnum(c) || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

/* RFC 2045 token: printable ASCII without SPACE and tspecials. */
static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
			return false;
	}
	return true;
}

/* Appends (s, n), sanitized text, as an RFC 5322 quoted-string. */
static void add_quoted(spfkit__buf *out, const char *s, size_t n)
{
	spfkit__buf_addc(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			spfkit__buf_addc(out, '\\');
		spfkit__buf_addc(out, s[i]);
	}
	spfkit__buf_addc(out, '"');
}

/* Appends (s, n), sanitized text, as comment content (RFC 5322 §3.2.2):
 * the octets ctext leaves out become quoted-pairs. */
static void add_ctext(spfkit__buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '(' || s[i] == ')' || s[i] == '\\')
			spfkit__buf_addc(out, '\\');
		spfkit__buf_addc(out, s[i]);
	}
}

/* How a sanitized value is written. */
typedef enum enc {
	ENC_KV,      /* RFC 7208 §9.1 key-value: dot-atom / quoted-string */
	ENC_COMMENT, /* inside "( ... )" */
	ENC_TOKEN,   /* RFC 2045 value: token / quoted-string */
	ENC_PVALUE,  /* RFC 8601 pvalue: [local-part "@"] domain-name / value */
	ENC_QUOTED   /* always a quoted-string */
} enc;

/* Sanitizes s (capped at cap) into tmp and appends it to out, encoded. */
static void add_view(spfkit__buf *out, spfkit__buf *tmp, view s, size_t cap,
		     enc how)
{
	spfkit__buf_reset(tmp);
	sanitize(s, cap, tmp);
	if (tmp->err) {
		/* Cannot happen with tmp's max above every cap; keep the
		 * error visible to the caller anyway. */
		if (!out->err)
			out->err = tmp->err;
		return;
	}
	const char *v = tmp->data ? tmp->data : "";
	size_t n = tmp->len;
	switch (how) {
	case ENC_KV:
		if (is_dot_atom(v, n))
			spfkit__buf_add(out, v, n);
		else
			add_quoted(out, v, n);
		break;
	case ENC_COMMENT: add_ctext(out, v, n); break;
	case ENC_TOKEN:
		if (is_token(v, n))
			spfkit__buf_add(out, v, n);
		else
			add_quoted(out, v, n);
		break;
	case ENC_PVALUE: {
		const char *at = memchr(v, '@', n);
		size_t dn = at ? n - (size_t)(at - v) - 1 : n;
		const char *d = at ? at + 1 : v;
		bool lp_ok = !at || at == v || is_dot_atom(v, (size_t)(at - v));
		if (lp_ok && is_domain_name(d, dn))
			spfkit__buf_add(out, v, n);
		else if (is_token(v, n))
			spfkit__buf_add(out, v, n);
		else
			add_quoted(out, v, n);
		break;
	}
	case ENC_QUOTED: add_quoted(out, v, n); break;
	}
}

/* add_view() of a NUL-terminated string. */
static void add_value(spfkit__buf *out, spfkit__buf *tmp, const char *s,
		      size_t cap, enc how)
{
	add_view(out, tmp, cstr(s), cap, how);
}

static bool present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static view sender_of(const spfkit__header_info *h)
{
	return field(h->sender, h->sender_len);
}

static view helo_of(const spfkit__header_info *h)
{
	return field(h->helo, h->helo_len);
}

/* The sender the comment names: <sender>, or <domain> if there is none. */
static view who(const spfkit__header_info *h)
{
	view s = sender_of(h);
	return s.n ? s : cstr(h->domain);
}

/* The comment text for a result, in the wording pyspf and libspf2 made
 * common practice ("domain of S designates IP as permitted sender"). With
 * with_problem, the problem of none/permerror/temperror is appended. */
static void add_comment(spfkit__buf *out, spfkit__buf *tmp,
			const spfkit__header_info *h, bool with_problem)
{
	view s = who(h);
	switch (h->result) {
	case SPFKIT_RESULT_PASS:
	case SPFKIT_RESULT_FAIL:
	case SPFKIT_RESULT_SOFTFAIL:
		spfkit__buf_adds(out, h->result == SPFKIT_RESULT_SOFTFAIL
					  ? "transitioning domain of "
					  : "domain of ");
		add_view(out, tmp, s, CAP_VALUE, ENC_COMMENT);
		spfkit__buf_adds(out, h->result == SPFKIT_RESULT_PASS
					  ? " designates "
					  : " does not designate ");
		add_value(out, tmp, h->ip, CAP_IP, ENC_COMMENT);
		spfkit__buf_adds(out, " as permitted sender");
		break;
	case SPFKIT_RESULT_NEUTRAL:
		add_value(out, tmp, h->ip, CAP_IP, ENC_COMMENT);
		spfkit__buf_adds(out, " is neither permitted nor denied by "
				      "domain of ");
		add_view(out, tmp, s, CAP_VALUE, ENC_COMMENT);
		break;
	case SPFKIT_RESULT_NONE:
		spfkit__buf_adds(out, "domain of ");
		add_view(out, tmp, s, CAP_VALUE, ENC_COMMENT);
		spfkit__buf_adds(out,
				 " does not designate permitted sender hosts");
		break;
	case SPFKIT_RESULT_TEMPERROR:
		spfkit__buf_adds(out,
				 "temporary error in processing domain of ");
		add_view(out, tmp, s, CAP_VALUE, ENC_COMMENT);
		break;
	case SPFKIT_RESULT_PERMERROR:
		spfkit__buf_adds(out,
				 "permanent error in processing domain of ");
		add_view(out, tmp, s, CAP_VALUE, ENC_COMMENT);
		break;
	}
	if (with_problem && present(h->problem) &&
	    (h->result == SPFKIT_RESULT_NONE ||
	     h->result == SPFKIT_RESULT_TEMPERROR ||
	     h->result == SPFKIT_RESULT_PERMERROR)) {
		spfkit__buf_adds(out, ": ");
		add_value(out, tmp, h->problem, CAP_PROBLEM, ENC_COMMENT);
	}
}

/* Appends "; key=value" (or "key=value" first) per RFC 7208 §9.1. */
static void add_kv(spfkit__buf *out, spfkit__buf *tmp, bool *first,
		   const char *key, view value, size_t cap)
{
	spfkit__buf_adds(out, *first ? " " : "; ");
	*first = false;
	spfkit__buf_adds(out, key);
	spfkit__buf_addc(out, '=');
	add_view(out, tmp, value, cap, ENC_KV);
}

/* RFC 7208 §9.1: result, comment, then key-value pairs. */
static void received_spf(spfkit__buf *out, spfkit__buf *tmp,
			 const spfkit__header_info *h)
{
	bool first = true;
	spfkit__buf_adds(out, "Received-SPF: ");
	spfkit__buf_adds(out, result_token(h->result));
	spfkit__buf_adds(out, " (");
	if (present(h->receiver)) {
		add_value(out, tmp, h->receiver, CAP_NAME, ENC_COMMENT);
		spfkit__buf_adds(out, ": ");
	}
	add_comment(out, tmp, h, false);
	spfkit__buf_addc(out, ')');

	add_kv(out, tmp, &first, "client-ip", cstr(h->ip), CAP_IP);
	/* §9.1: envelope-from is the envelope sender mailbox, which a HELO
	 * check's <sender> (postmaster@HELO) is not. */
	view env =
	    h->envelope ? field(h->envelope, h->envelope_len) : sender_of(h);
	if (env.n)
		add_kv(out, tmp, &first, "envelope-from", env, CAP_VALUE);
	if (helo_of(h).n)
		add_kv(out, tmp, &first, "helo", helo_of(h), CAP_VALUE);
	if (present(h->receiver))
		add_kv(out, tmp, &first, "receiver", cstr(h->receiver),
		       CAP_NAME);
	add_kv(out, tmp, &first, "identity",
	       cstr(present(h->identity) ? h->identity : "mailfrom"),
	       CAP_SHORT);
	/* §9.1: "if no mechanisms matched, substitute the word default";
	 * of the results, only neutral can come from the default. */
	if (present(h->mechanism))
		add_kv(out, tmp, &first, "mechanism", cstr(h->mechanism),
		       CAP_VALUE);
	else if (h->result == SPFKIT_RESULT_NEUTRAL)
		add_kv(out, tmp, &first, "mechanism", cstr("default"),
		       CAP_SHORT);
	if (present(h->problem))
		add_kv(out, tmp, &first, "problem", cstr(h->problem),
		       CAP_PROBLEM);
}

/* RFC 8601 §2.2: authserv-id; spf=result (comment) [reason] property. */
static void authentication_results(spfkit__buf *out, spfkit__buf *tmp,
				   const spfkit__header_info *h,
				   const char *authserv_id)
{
	bool helo = present(h->identity) && strcmp(h->identity, "helo") == 0;
	spfkit__buf_adds(out, "Authentication-Results: ");
	add_value(out, tmp, authserv_id, CAP_NAME, ENC_TOKEN);
	spfkit__buf_adds(out, "; spf=");
	spfkit__buf_adds(out, result_token(h->result));
	spfkit__buf_adds(out, " (");
	add_comment(out, tmp, h, true);
	spfkit__buf_addc(out, ')');
	/* §2.3 reasonspec: the domain's own explanation of a fail (§6.2). */
	if (h->result == SPFKIT_RESULT_FAIL && present(h->explanation)) {
		spfkit__buf_adds(out, " reason=");
		add_value(out, tmp, h->explanation, CAP_EXPLAIN, ENC_QUOTED);
	}
	/* §2.7.2: smtp.mailfrom carries the full address; smtp.helo the
	 * name. */
	if (helo) {
		spfkit__buf_adds(out, " smtp.helo=");
		add_view(out, tmp, helo_of(h).n ? helo_of(h) : cstr(h->domain),
			 CAP_VALUE, ENC_PVALUE);
	} else {
		spfkit__buf_adds(out, " smtp.mailfrom=");
		add_view(out, tmp, who(h), CAP_VALUE, ENC_PVALUE);
	}
}

int spfkit__header_format(const spfkit__header_info *h, spfkit_header kind,
			  const char *authserv_id, spfkit__buf *out)
{
	if (!h || !out)
		return SPFKIT_EINVAL;
	if (kind != SPFKIT_HEADER_RECEIVED_SPF &&
	    kind != SPFKIT_HEADER_AUTHENTICATION_RESULTS)
		return SPFKIT_EINVAL;
	if (kind == SPFKIT_HEADER_AUTHENTICATION_RESULTS &&
	    !present(authserv_id))
		return SPFKIT_EINVAL;
	if ((unsigned)h->result > (unsigned)SPFKIT_RESULT_PERMERROR)
		return SPFKIT_EINVAL;
	if (out->err)
		return out->err;

	spfkit__buf line, tmp;
	spfkit__buf_init(&line, out->a, SPFKIT__HEADER_MAX);
	spfkit__buf_init(&tmp, out->a, CAP_EXPLAIN + 1);
	if (kind == SPFKIT_HEADER_RECEIVED_SPF)
		received_spf(&line, &tmp, h);
	else
		authentication_results(&line, &tmp, h, authserv_id);
	int rc = line.err;
	if (rc == SPFKIT_OK)
		rc = spfkit__buf_add(out, line.data, line.len);
	spfkit__buf_free(&tmp);
	spfkit__buf_free(&line);
	return rc;
}
