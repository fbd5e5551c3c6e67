/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bounce.c - reading a bounce: is the message one (RFC 3464 §2), what
 * kind (a DSN, another MIME bounce with the original attached, or a text
 * that quotes it, as Exim and Microsoft write them), what it says about
 * the failed delivery (the delivery-status fields of RFC 3464 §2.2 and
 * §2.3, or the SMTP reply lines of the text), and where the original is.
 * The MIME structure comes from the MIME layer (msg_mime.h); the
 * original itself is parsed by msgparse.c.
 */
#include "msg_mime.h"

#include <string.h>

/* Octets an IP address in a diagnostic text is made of. */
#define IP_CHARS "0123456789abcdefABCDEF:."

/* "dns; mx.example" or "rfc822; a@b": the part after the type. */
static msgp_view after_type(msgp_view v)
{
	const char *semi = memchr(v.p, ';', v.len);
	if (semi)
		v = view(semi + 1, v.len - (size_t)(semi - v.p) - 1);
	return msgp__trim(v);
}

/* The length of the run of IP_CHARS at i in d. */
static size_t ip_run(msgp_view d, size_t i)
{
	size_t e = i;
	while (e < d.len && d.p[e] && strchr(IP_CHARS, d.p[e]))
		e++;
	return e - i;
}

/* The client IP a diagnostic names: after "ip=" first, else the first
 * address that is not the remote MTA's own nor an internal one. */
static msgp_view diag_ip(msgp_view d, msgp_view remote_ip)
{
	msgp_view ip;
	size_t k = msgp__find_ci(d, "ip=");
	if (k != SIZE_MAX &&
	    msgp__ip_text(view(d.p + k + 3, ip_run(d, k + 3)), &ip))
		return ip;
	for (size_t i = 0; i < d.len;) {
		size_t n = ip_run(d, i);
		if (n == 0) {
			i++;
			continue;
		}
		msgp_view w = view(d.p + i, n);
		/* Trailing dots end sentences. */
		while (w.len && w.p[w.len - 1] == '.')
			w.len--;
		bool sep = memchr(w.p, '.', w.len) || memchr(w.p, ':', w.len);
		bool own = remote_ip.p && w.len == remote_ip.len &&
			   memcmp(w.p, remote_ip.p, w.len) == 0;
		if (sep && msgp__ip_text(w, &ip) && !own &&
		    !msgp_ip_internal(ip))
			return ip;
		i += n;
	}
	return view(NULL, 0);
}

/* RFC 3464 §2.2, §2.3: the per-message and first per-recipient fields. */
static void parse_status(ctx *x, msgp_view body, msgp_dsn *d)
{
	/* typed: "type; value" (§2.1.2 and the like), the type dropped. */
	const struct {
		const char *name;
		msgp_view *dst;
		bool typed;
	} fields[] = {{"Reporting-MTA", &d->reporting_mta, true},
		      {"Remote-MTA", &d->remote_mta, true},
		      {"Final-Recipient", &d->final_recipient, true},
		      {"Action", &d->action, false},
		      {"Status", &d->status, false},
		      {"Diagnostic-Code", &d->diagnostic, true},
		      {"X-Postfix-Sender", &d->sender, true}};
	fscan s = {body.p, body.len, 0, 1};
	while (s.pos < s.n && !x->err) {
		msgp_view name, v;
		fs_result r = msgp__field_next(x, &s, &name, &v);
		if (r == FS_END)
			continue;
		if (r == FS_BAD) {
			size_t e, next;
			msgp__line_at(&s, s.pos, &e, &next);
			s.pos = next;
			continue;
		}
		if (x->err)
			break;
		for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
			if (!msgp_eq(name, fields[i].name))
				continue;
			if (!fields[i].dst->p)
				*fields[i].dst =
				    fields[i].typed ? after_type(v) : v;
			break;
		}
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
		msgp__line_at(&s, s.pos, &e, &next);
		msgp_view line = msgp__trim(view(text.p + s.pos, e - s.pos));
		for (size_t i = 0; i < sizeof markers / sizeof markers[0];
		     i++) {
			if (!msgp__starts_with(line, markers[i]))
				continue;
			*pre = view(text.p, s.pos);
			size_t p = next;
			while (p < text.len) {
				size_t e2, n2;
				msgp__line_at(&s, p, &e2, &n2);
				if (msgp__trim(view(text.p + p, e2 - p)).len)
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

/* Is line an SMTP reply line with a 4xx or 5xx code (RFC 5321 §4.2)? */
static bool smtp_error_line(msgp_view line)
{
	return line.len >= 4 && (line.p[0] == '4' || line.p[0] == '5') &&
	       line.p[1] >= '0' && line.p[1] <= '9' && line.p[2] >= '0' &&
	       line.p[2] <= '9' && (line.p[3] == ' ' || line.p[3] == '-');
}

/* Lines after which a bounce text lists the failed recipients, one a
 * line: Exim, Sendmail, Microsoft. */
static const char *const rcpt_markers[] = {
    "The following address(es) failed:",
    "----- The following addresses had permanent fatal errors -----",
    "Delivery has failed to these recipients or groups:",
};

/* A recipient line under a marker: one address, angle brackets
 * dropped; absent when the line is something else. */
static msgp_view rcpt_line(msgp_view line)
{
	msgp_view a = msgp__drop_angle(line);
	for (size_t i = 0; i < a.len; i++)
		if (is_space((unsigned char)a.p[i]))
			return view(NULL, 0);
	if (a.len < 3 || !memchr(a.p, '@', a.len))
		return view(NULL, 0);
	return a;
}

/* Is line one of the recipient markers? */
static bool rcpt_marker(msgp_view line)
{
	for (size_t i = 0; i < sizeof rcpt_markers / sizeof rcpt_markers[0];
	     i++)
		if (msgp__find_ci(line, rcpt_markers[i]) != SIZE_MAX)
			return true;
	return false;
}

/* The SMTP reply lines ("550 5.7.1 ...") of a bounce text, the remote
 * host ("host mx.example [192.0.2.1]"), "MAIL FROM:<addr>" and the first
 * failed recipient. */
static void scan_bounce_text(msgp_view pre, msgp_dsn *d)
{
	fscan s = {pre.p, pre.len, 0, 1};
	size_t first = SIZE_MAX, last = 0;
	bool want_rcpt = false;
	while (s.pos < s.n) {
		size_t e, next;
		msgp__line_at(&s, s.pos, &e, &next);
		msgp_view line = msgp__trim(view(pre.p + s.pos, e - s.pos));
		if (want_rcpt && line.len) {
			if (!d->final_recipient.p)
				d->final_recipient = rcpt_line(line);
			want_rcpt = false;
		}
		if (rcpt_marker(line)) {
			want_rcpt = true;
		} else if (smtp_error_line(line)) {
			if (first == SIZE_MAX)
				first = (size_t)(line.p - pre.p);
			last = (size_t)(line.p - pre.p) + line.len;
		} else if (msgp__starts_with(line, "host ") &&
			   !d->remote_mta.p) {
			cur c = {line.p + 5, line.len - 5, 0};
			tok t = msgp__cur_token(&c, NULL);
			if (t.kind == TOK_WORD)
				d->remote_mta = t.v;
			t = msgp__cur_token(&c, NULL);
			msgp_view ip;
			if (t.kind == TOK_WORD && t.v.len > 2 &&
			    t.v.p[0] == '[' && t.v.p[t.v.len - 1] == ']' &&
			    msgp__ip_text(view(t.v.p + 1, t.v.len - 2), &ip))
				d->remote_ip = ip;
		}
		size_t k = msgp__find_ci(line, "MAIL FROM:<");
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
		if (msgp__starts_with(m->subject, subjects[i]))
			return true;
	return false;
}

/* A MIME bounce: the status report, the original or its headers, and
 * the words of its text part where the report lacks them. */
static void read_mime_bounce(ctx *x, msgp_msg *m, const msgp__mime *mime,
			     msgp_view *orig, bool *headers_only)
{
	m->bounce = mime->dsn ? MSGP_BOUNCE_DSN : MSGP_BOUNCE_MIME;
	if (mime->status.p)
		parse_status(x, mime->status, &m->dsn);
	if (mime->original.p) {
		*orig = mime->original;
	} else if (mime->headers.p) {
		*orig = mime->headers;
		*headers_only = true;
	}
	if (mime->text.p) {
		msgp_dsn t = {0};
		scan_bounce_text(mime->text, &t);
		if (!m->dsn.diagnostic.p)
			m->dsn.diagnostic = t.diagnostic;
		if (!m->dsn.remote_mta.p)
			m->dsn.remote_mta = t.remote_mta;
		m->dsn.remote_ip = t.remote_ip;
		if (!m->dsn.sender.p)
			m->dsn.sender = t.sender;
		if (!m->dsn.final_recipient.p)
			m->dsn.final_recipient = t.final_recipient;
	}
}

bool msgp__body_matters(const msgp_msg *m)
{
	return bounce_like(m) || msgp__mime_is_dsn(m);
}

/* ------------------------------------------------------------ SPF verdict */

/* How far after a mention of SPF its result is looked for, and before
 * it ("... failed the SPF check"). */
#define SPF_AFTER  120u
#define SPF_BEFORE 40u

/* RFC 7208 §8 results and the words rejecting servers write for them.
 * At one position the first that matches wins, so the longer words come
 * first ("softfail" before "fail", "did not pass" before "pass"). */
static const struct {
	const char *word;
	const char *result;
} spf_words[] = {
    {"softfail", "softfail"},
    {"soft fail", "softfail"},
    {"soft-fail", "softfail"},
    {"permerror", "permerror"},
    {"perm error", "permerror"},
    {"permanent error", "permerror"},
    {"temperror", "temperror"},
    {"temp error", "temperror"},
    {"temporary error", "temperror"},
    {"neutral", "neutral"},
    {"hardfail", "fail"},
    {"fail", "fail"},
    {"did not pass", "fail"},
    {"not allowed", "fail"},
    {"not permitted", "fail"},
    {"not authorized", "fail"},
    {"not authorised", "fail"},
    {"does not designate", "fail"},
    {"violation", "fail"},
    {"pass", "pass"},
};

static bool alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* A mention of SPF at i in d: "SPF" as a word (not in "open-spf.org"
 * or "SPFBL"), or "Sender Policy Framework"; its length, or 0. */
static size_t spf_mention(msgp_view d, size_t i)
{
	if (i > 0) {
		unsigned char b = (unsigned char)d.p[i - 1];
		if (alnum(b) || b == '-' || b == '.' || b == '/' || b == '_')
			return 0;
	}
	msgp_view rest = view(d.p + i, d.len - i);
	if (msgp__starts_with(rest, "Sender Policy Framework"))
		return 23;
	if (msgp__starts_with(rest, "spf") &&
	    (rest.len == 3 || !alnum((unsigned char)rest.p[3])))
		return 3;
	return 0;
}

/* The first result word in d[b, e): its table index, *at its offset. */
static size_t spf_word(msgp_view d, size_t b, size_t e, size_t *at)
{
	for (size_t i = b; i < e; i++) {
		if (i > 0 && alnum((unsigned char)d.p[i - 1]))
			continue;
		for (size_t k = 0; k < sizeof spf_words / sizeof spf_words[0];
		     k++) {
			if (msgp__starts_with(view(d.p + i, e - i),
					      spf_words[k].word)) {
				*at = i;
				return k;
			}
		}
	}
	return SIZE_MAX;
}

/* The enhanced status code of an SMTP reply line ("550 5.7.23 ..."), or
 * the Status field (RFC 3463). */
static msgp_view status_code(const msgp_dsn *d)
{
	msgp_view v = d->diagnostic;
	if (v.len > 4 && smtp_error_line(v)) {
		cur c = {v.p + 4, v.len - 4, 0};
		tok t = msgp__cur_token(&c, NULL);
		if (t.kind == TOK_WORD && t.v.len >= 5 && t.v.p[1] == '.')
			return t.v;
	}
	return d->status;
}

void msgp__bounce_spf(msgp_dsn *d)
{
	msgp_view t = d->diagnostic;
	for (size_t i = 0; t.p && i < t.len; i++) {
		size_t n = spf_mention(t, i);
		if (n == 0)
			continue;
		size_t at, e = t.len - i > SPF_AFTER ? i + SPF_AFTER : t.len;
		size_t k = spf_word(t, i + n, e, &at);
		if (k != SIZE_MAX) {
			d->spf = spf_words[k].result;
			d->spf_source = "diagnostic";
			d->spf_text =
			    view(t.p + i, at + strlen(spf_words[k].word) - i);
			return;
		}
		k = spf_word(t, i > SPF_BEFORE ? i - SPF_BEFORE : 0, i, &at);
		if (k != SIZE_MAX) {
			d->spf = spf_words[k].result;
			d->spf_source = "diagnostic";
			d->spf_text = view(t.p + at, i + n - at);
			return;
		}
	}
	/* RFC 7372 §3.2: X.7.23 "SPF validation failed", X.7.24 "SPF
	 * validation error" (temporary with 4, permanent with 5). */
	msgp_view sc = status_code(d);
	if (msgp_eq(sc, "5.7.23") || msgp_eq(sc, "4.7.23"))
		d->spf = "fail";
	else if (msgp_eq(sc, "5.7.24"))
		d->spf = "permerror";
	else if (msgp_eq(sc, "4.7.24"))
		d->spf = "temperror";
	if (d->spf) {
		d->spf_source = "status";
		d->spf_text = sc;
	}
}

/* Exim's X-Failed-Recipients: the first address of the list. */
static msgp_view failed_recipient(const msgp_msg *m)
{
	const msgp_field *f = msgp_find(m, "X-Failed-Recipients");
	if (!f || !f->value.p)
		return view(NULL, 0);
	const char *comma = memchr(f->value.p, ',', f->value.len);
	msgp_view v = view(f->value.p,
			   comma ? (size_t)(comma - f->value.p) : f->value.len);
	return rcpt_line(msgp__trim(v));
}

void msgp__read_bounce(ctx *x, msgp_msg *m, const msgp__mime *mime,
		       msgp_view *orig, bool *headers_only)
{
	bool like = bounce_like(m);
	if (mime->dsn || (mime->multipart && like &&
			  (mime->original.p || mime->headers.p))) {
		read_mime_bounce(x, m, mime, orig, headers_only);
	} else {
		/* A text that quotes the original after a marker line. */
		msgp_view o, pre;
		if (!like || !mime->text.p ||
		    !find_marker(mime->text, &o, &pre))
			return;
		m->bounce = MSGP_BOUNCE_QUOTED;
		scan_bounce_text(pre, &m->dsn);
		*orig = o;
	}
	msgp_view xf = failed_recipient(m);
	if (xf.p && (!m->dsn.final_recipient.p || !mime->dsn))
		m->dsn.final_recipient = xf;
	if (m->dsn.diagnostic.p)
		m->dsn.ip = diag_ip(m->dsn.diagnostic, m->dsn.remote_ip);
	msgp__bounce_spf(&m->dsn);
}
