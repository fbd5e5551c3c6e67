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

/* The SMTP reply lines ("550 5.7.1 ...") of a bounce text, the remote
 * host ("host mx.example [192.0.2.1]") and "MAIL FROM:<addr>". */
static void scan_bounce_text(msgp_view pre, msgp_dsn *d)
{
	fscan s = {pre.p, pre.len, 0, 1};
	size_t first = SIZE_MAX, last = 0;
	while (s.pos < s.n) {
		size_t e, next;
		msgp__line_at(&s, s.pos, &e, &next);
		msgp_view line = msgp__trim(view(pre.p + s.pos, e - s.pos));
		if (smtp_error_line(line)) {
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
			     msgp__part *orig, bool *headers_only)
{
	m->bounce = mime->dsn ? MSGP_BOUNCE_DSN : MSGP_BOUNCE_MIME;
	/* A base64 delivery-status part is read as it stands. */
	if (mime->status.body.p)
		parse_status(x, mime->status.body, &m->dsn);
	if (mime->original.body.p) {
		*orig = mime->original;
	} else if (mime->headers.body.p) {
		*orig = mime->headers;
		*headers_only = true;
	}
	if (mime->text.body.p) {
		msgp_dsn t = {0};
		scan_bounce_text(mime->text.body, &t);
		if (!m->dsn.diagnostic.p)
			m->dsn.diagnostic = t.diagnostic;
		if (!m->dsn.remote_mta.p)
			m->dsn.remote_mta = t.remote_mta;
		m->dsn.remote_ip = t.remote_ip;
		if (!m->dsn.sender.p)
			m->dsn.sender = t.sender;
	}
}

void msgp__read_bounce(ctx *x, msgp_msg *m, const msgp__mime *mime,
		       msgp__part *orig, bool *headers_only)
{
	bool like = bounce_like(m);
	if (mime->dsn || (mime->multipart && like &&
			  (mime->original.body.p || mime->headers.body.p))) {
		read_mime_bounce(x, m, mime, orig, headers_only);
	} else {
		/* A text that quotes the original after a marker line. */
		if (!like || !mime->text.body.p)
			return;
		msgp_view text = msgp__mime_decode(x, mime->text), o, pre;
		if (!find_marker(text, &o, &pre))
			return;
		m->bounce = MSGP_BOUNCE_QUOTED;
		scan_bounce_text(pre, &m->dsn);
		*orig = (msgp__part){o, MSGP__CTE_NONE};
	}
	if (m->dsn.diagnostic.p)
		m->dsn.ip = diag_ip(m->dsn.diagnostic, m->dsn.remote_ip);
}
