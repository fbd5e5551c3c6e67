/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace.c - the grammars of the trace fields SPF leaves behind: Received
 * (RFC 5321 §4.4, as Postfix, Exim, Sendmail, Gmail and Microsoft write
 * it), Received-SPF (RFC 7208 §9.1) and Authentication-Results (RFC
 * 8601). Each reads an unfolded value into the views of its msgp_ struct;
 * values are hostile, so a malformed one gives what could be read.
 */
#include "msg_internal.h"

#include <string.h>

/* RFC 7208 §9.1: result [comment] key-value-list. */
void msgp__parse_rspf(ctx *x, msgp_view v, msgp_rspf *r)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	tok t = msgp__cur_token(&c, NULL);
	if (t.kind != TOK_WORD)
		return;
	r->result = t.v;
	size_t save = c.i;
	while (!cur_end(&c) && is_space(cur_peek(&c)))
		c.i++;
	if (cur_peek(&c) == '(') {
		r->comment = msgp__trim(msgp__cur_comment(&c));
		/* Gmail and Microsoft write no receiver=, but start the
		 * comment with "host.name:". */
		const char *colon = memchr(r->comment.p, ':', r->comment.len);
		if (colon) {
			msgp_view h =
			    view(r->comment.p, (size_t)(colon - r->comment.p));
			if (h.len && memchr(h.p, '.', h.len) &&
			    !memchr(h.p, ' ', h.len))
				r->receiver = h;
		}
	} else {
		c.i = save;
	}
	while (!cur_end(&c) && !x->err) {
		msgp_view key, val;
		size_t before = c.i;
		if (msgp__read_pair(x, &c, &key, &val)) {
			if (msgp_eq(key, "receiver"))
				r->receiver = val;
			else if (msgp_eq(key, "client-ip"))
				r->client_ip = val;
			else if (msgp_eq(key, "envelope-from"))
				r->envelope_from = msgp__drop_angle(val);
			else if (msgp_eq(key, "helo"))
				r->helo = val;
			else if (msgp_eq(key, "identity"))
				r->identity = val;
			else if (msgp_eq(key, "mechanism"))
				r->mechanism = val;
			else if (msgp_eq(key, "problem"))
				r->problem = val;
		}
		if (cur_peek(&c) == ';')
			c.i++;
		if (c.i == before)
			c.i++;
	}
}

/* RFC 8601 §2.2: authserv-id [version] ( "; none" / 1*( ";" resinfo ) ). */
void msgp__parse_authres(ctx *x, msgp_view v, msgp_authres *r)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	msgp__cur_cfws(&c);
	size_t start = c.i;
	tok t = msgp__cur_token(&c, NULL);
	if (t.kind == TOK_WORD && !memchr(t.v.p, '=', t.v.len)) {
		r->authserv_id = msgp__unquote(x, t.v);
		msgp__cur_cfws(&c);
		/* authres-version */
		while (!cur_end(&c) && cur_peek(&c) >= '0' &&
		       cur_peek(&c) <= '9')
			c.i++;
	} else {
		/* No authserv-id: the field starts with a result. */
		c.i = start;
	}
	while (!cur_end(&c) && !x->err) {
		msgp__cur_cfws(&c);
		if (cur_peek(&c) == ';') {
			c.i++;
			continue;
		}
		/* One resinfo: up to the next ';' outside comments and
		 * quoted strings. */
		cur one = c;
		one.n = msgp__cur_find(&c, ';');
		c.i = one.n;
		msgp_view method, result;
		if (!msgp__read_pair(x, &one, &method, &result))
			continue;
		const char *slash = memchr(method.p, '/', method.len);
		if (slash)
			method.len = (size_t)(slash - method.p);
		bool spf = msgp_eq(method, "spf") && !r->spf.p;
		bool dmarc = msgp_eq(method, "dmarc") && !r->dmarc.p;
		if (spf)
			r->spf = result;
		else if (dmarc)
			r->dmarc = result;
		else if (msgp_eq(method, "dkim") && !r->dkim.p)
			r->dkim = result;
		while (!cur_end(&one) && !x->err) {
			msgp_view key, val;
			size_t before = one.i;
			if (msgp__read_pair(x, &one, &key, &val)) {
				if (spf && msgp_eq(key, "smtp.mailfrom"))
					r->spf_mailfrom = msgp__drop_angle(val);
				else if (spf && msgp_eq(key, "smtp.helo"))
					r->spf_helo = val;
				else if (dmarc && msgp_eq(key, "header.from"))
					r->dmarc_from = val;
			}
			if (one.i == before)
				one.i++;
		}
	}
}

/* The TCP-info comment of a Received from-clause: "rdns [ip]" (Postfix,
 * Sendmail, Gmail), "[ip]:port helo=x" (Exim), "ip" (Microsoft). */
static bool parse_tcpinfo(msgp_view v, msgp_received *r, bool first)
{
	cur c = {v.p, v.len, 0};
	bool named = false;
	for (;;) {
		tok t = msgp__cur_token(&c, NULL);
		if (t.kind == TOK_END)
			break;
		if (t.kind != TOK_WORD)
			continue;
		msgp_view w = t.v, ip;
		if (w.p[0] == '[') {
			/* An unclosed literal is no address. */
			const char *rb = memchr(w.p, ']', w.len);
			msgp_view lit =
			    view(w.p + 1, rb ? (size_t)(rb - w.p) - 1 : 0);
			if (rb && !r->ip.p && msgp__ip_text(lit, &ip))
				r->ip = ip;
		} else if (msgp__starts_with(w, "helo=")) {
			r->helo = msgp__drop_dot(view(w.p + 5, w.len - 5));
		} else if (msgp__starts_with(w, "port=") ||
			   msgp__starts_with(w, "ident=") || w.p[0] == '(' ||
			   w.p[0] == '<') {
			continue;
		} else if (msgp__ip_text(w, &ip)) {
			if (!r->ip.p)
				r->ip = ip;
		} else if (first && !r->rdns.p && !memchr(w.p, '=', w.len)) {
			const char *at = memchr(w.p, '@', w.len);
			if (at)
				w = view(at + 1,
					 w.len - (size_t)(at - w.p) - 1);
			if (w.len && !msgp_eq(w, "unknown"))
				r->rdns = msgp__drop_dot(w);
			named = true;
		}
	}
	return named;
}

typedef enum clause {
	CL_NONE,
	CL_FROM,
	CL_BY,
	CL_VIA,
	CL_WITH,
	CL_ID,
	CL_FOR,
	CL_OTHER
} clause;

/* Keeps the first value a clause gives. */
static void keep_first(msgp_view *dst, msgp_view v)
{
	if (!dst->p)
		*dst = v;
}

/* A word of clause cl into r. with_end tracks Microsoft's "with
 * Microsoft SMTP Server", three words. */
static void clause_word(clause cl, msgp_view w, msgp_received *r,
			const char **with_end)
{
	switch (cl) {
	case CL_FROM: keep_first(&r->from, w); break;
	case CL_BY: keep_first(&r->by, msgp__drop_dot(w)); break;
	case CL_ID: keep_first(&r->id, w); break;
	case CL_FOR: keep_first(&r->for_addr, msgp__drop_angle(w)); break;
	case CL_WITH:
		if (!r->with.p) {
			r->with = w;
			*with_end = msgp_eq(w, "Microsoft") ? w.p : NULL;
		} else if (*with_end && w.p >= r->with.p &&
			   (msgp_eq(w, "SMTP") || msgp_eq(w, "Server"))) {
			r->with.len = (size_t)(w.p - r->with.p) + w.len;
		}
		if (msgp_eq(w, "local"))
			r->local = true;
		break;
	default: break;
	}
}

/* RFC 5321 §4.4 Stamp: from, by, via, with, id, for clauses; ';' date. */
void msgp__parse_received(msgp_view v, msgp_received *r)
{
	if (!v.p)
		return; /* after a failed allocation */
	/* The date follows the last ';' outside comments. */
	cur c = {v.p, v.len, 0};
	size_t semi = SIZE_MAX;
	for (size_t k; (k = msgp__cur_find(&c, ';')) < c.n; c.i++)
		semi = k;
	size_t end = v.len;
	if (semi != SIZE_MAX) {
		r->date = msgp__trim(view(v.p + semi + 1, v.len - semi - 1));
		end = semi;
	}
	c = (cur){v.p, end, 0};
	clause cl = CL_NONE;
	unsigned from_comments = 0;
	bool named = false;
	const char *with_end = NULL;
	static const struct {
		const char *kw;
		clause cl;
	} kws[] = {{"from", CL_FROM}, {"by", CL_BY}, {"via", CL_VIA},
		   {"with", CL_WITH}, {"id", CL_ID}, {"for", CL_FOR}};
	for (;;) {
		tok t = msgp__cur_token(&c, NULL);
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_SEMI)
			continue;
		if (t.kind == TOK_COMMENT) {
			msgp_view cm = msgp__trim(t.v);
			if (msgp__starts_with(cm, "envelope-from")) {
				r->env_from = msgp__drop_angle(
				    msgp__trim(view(cm.p + 13, cm.len - 13)));
			} else if (msgp__find_ci(cm, "from userid") !=
				   SIZE_MAX) {
				r->local = true;
			} else if (cl == CL_FROM && !r->ip.p) {
				named |=
				    parse_tcpinfo(cm, r, from_comments == 0);
				from_comments++;
			}
			continue;
		}
		bool kw = false;
		for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
			if (msgp_eq(t.v, kws[i].kw)) {
				cl = kws[i].cl;
				kw = true;
				break;
			}
		}
		if (!kw)
			clause_word(cl, t.v, r, &with_end);
	}
	msgp_view ip;
	if (!r->ip.p && r->from.len > 2 && r->from.p[0] == '[' &&
	    r->from.p[r->from.len - 1] == ']' &&
	    msgp__ip_text(view(r->from.p + 1, r->from.len - 2), &ip))
		r->ip = ip;
	if (!r->helo.p)
		r->helo = msgp__drop_dot(r->from);
	/* Exim: "from rdns.name ([ip] helo=x)": the name is verified rDNS. */
	if (!named && r->from.p && r->from.p[0] != '[' && r->ip.p)
		r->rdns = msgp__drop_dot(r->from);
}
