/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_json.c - `spfkit message --format json`: the analysis as one
 * JSON object on one line (the members are listed in
 * man/spfkit-message.1), written with the shared JSON writer (json.h).
 * Values from the message may hold any octet; the writer keeps the
 * output valid JSON.
 */
#include "message.h"

/* "k": the view's octets as a string, null when absent. */
static void kview(cli_jw *w, const char *k, msgp_view v)
{
	cli_jw_kstrn(w, k, v.p, v.len);
}

static void knull(cli_jw *w, const char *k)
{
	cli_jw_key(w, k);
	cli_jw_null(w);
}

/* "k": an object or array opened, its members to follow. */
static void kobj(cli_jw *w, const char *k)
{
	cli_jw_key(w, k);
	cli_jw_obj(w);
}

static void karr(cli_jw *w, const char *k)
{
	cli_jw_key(w, k);
	cli_jw_arr(w);
}

/* Members keys[i]: v[i] for i < n, in order (views: null when absent). */
static void kviews(cli_jw *w, const char *const *keys, const msgp_view *v,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		kview(w, keys[i], v[i]);
}

/* The number of keys in an array of them, and of the views that go with
 * them: a view too many does not compile. */
#define NKEYS(keys) (sizeof keys / sizeof keys[0])

/* ------------------------------------------------------------ parts */

static void json_addr(cli_jw *w, const char *key, const msgp_addr *ad)
{
	if (!ad->ok) {
		knull(w, key);
		return;
	}
	kobj(w, key);
	kview(w, "address", ad->addr);
	kview(w, "domain", ad->domain);
	kview(w, "display", ad->display);
	cli_jw_kuint(w, "count", ad->count);
	cli_jw_obj_end(w);
}

/* An envelope sender (RFC 5321 §4.1.2 Reverse-path): null when not
 * known, "" for the null sender. */
static void json_reverse_path(cli_jw *w, const char *key, bool known,
			      bool null_sender, msgp_view addr)
{
	if (known)
		kview(w, key, null_sender ? msg_vstr("") : addr);
	else
		knull(w, key);
}

static void json_check(cli_jw *w, const char *key, const msg_check *c)
{
	if (!c->done) {
		knull(w, key);
		return;
	}
	static const char *const keys[] = {
	    "result",    "domain", "identity",    "sender",
	    "mechanism", "where",  "explanation", "problem"};
	const spfkit_check *k = c->chk;
	const msgp_view v[NKEYS(keys)] = {
	    msg_vstr(spfkit_result_name(c->result)),
	    msg_vstr(spfkit_check_domain(k)),
	    msg_vstr(spfkit_check_identity(k)),
	    msg_vstr(spfkit_check_sender(k)),
	    msg_vstr(spfkit_check_mechanism(k)),
	    msg_vstr(spfkit_check_where(k)),
	    msg_vstr(spfkit_check_explanation(k)),
	    msg_vstr(spfkit_check_problem(k))};
	kobj(w, key);
	kviews(w, keys, v, NKEYS(keys));
	cli_jw_kuint(w, "lookups", spfkit_check_lookups(c->chk));
	cli_jw_kuint(w, "void_lookups", spfkit_check_void_lookups(c->chk));
	cli_jw_obj_end(w);
}

/* "input": the kind of bounce, what was read past, and the parser's
 * warnings. */
static void json_input(cli_jw *w, const msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	const msgp_input *in = &top->input;
	kobj(w, "input");
	cli_jw_kstr(w, "bounce", msg_bounce_name(top->bounce));
	cli_jw_kuint(w, "octets", in->octets);
	cli_jw_kuint(w, "fields_skipped",
		     in->fields_skipped +
			 (m != top ? m->input.fields_skipped : 0));
	cli_jw_kuint(w, "header_octets_skipped",
		     in->header_octets_skipped +
			 (m != top ? m->input.header_octets_skipped : 0));
	cli_jw_kuint(w, "body_octets_skipped", in->body_octets_skipped);
	karr(w, "warnings");
	for (size_t i = 0; i < top->nwarnings; i++)
		cli_jw_str(w, top->warnings[i]);
	if (m != top)
		for (size_t i = 0; i < m->nwarnings; i++)
			cli_jw_str(w, m->warnings[i]);
	cli_jw_arr_end(w);
	cli_jw_obj_end(w);
}

/* "bounce": what the bounce says, or null. */
static void json_bounce(cli_jw *w, const msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	if (!a->is_bounce) {
		knull(w, "bounce");
		return;
	}
	static const char *const keys[] = {
	    "reporting_mta", "remote_mta", "final_recipient", "action",
	    "status",        "diagnostic", "sender",          "client_ip"};
	const msgp_dsn *d = &top->dsn;
	const msgp_view v[NKEYS(keys)] = {
	    d->reporting_mta, d->remote_mta, d->final_recipient, d->action,
	    d->status,        d->diagnostic, d->sender,          d->ip};
	kobj(w, "bounce");
	cli_jw_kstr(w, "kind", msg_bounce_name(top->bounce));
	kviews(w, keys, v, NKEYS(keys));
	if (a->bounce_spf) {
		kobj(w, "spf");
		cli_jw_kstr(w, "result", a->bounce_spf);
		cli_jw_kstr(w, "source", a->bounce_spf_source);
		kview(w, "text", a->bounce_spf_text);
		cli_jw_obj_end(w);
	} else {
		knull(w, "spf");
	}
	cli_jw_kstr(w, "original",
		    m == top          ? NULL
		    : m->headers_only ? "headers"
				      : "message");
	cli_jw_obj_end(w);
}

/* "message": the author fields and Return-Path. */
static void json_message(cli_jw *w, const msgp_msg *m)
{
	kobj(w, "message");
	json_addr(w, "from", &m->from);
	json_addr(w, "reply_to", &m->reply_to);
	json_addr(w, "sender", &m->sender);
	json_addr(w, "to", &m->to);
	kview(w, "subject", m->subject);
	kview(w, "message_id", m->message_id);
	kview(w, "list_id", m->list_id);
	json_reverse_path(w, "return_path", m->has_return_path, m->null_sender,
			  m->return_path);
	cli_jw_obj_end(w);
}

/* "received": every Received field, top first. */
static void json_received(cli_jw *w, const msgp_msg *m)
{
	static const char *const keys[] = {
	    "from", "helo", "rdns",          "ip",  "by", "with",
	    "id",   "for",  "envelope_from", "date"};
	karr(w, "received");
	for (size_t i = 0; i < m->nreceived; i++) {
		const msgp_received *r = &m->received[i];
		const msgp_view v[NKEYS(keys)] = {
		    r->from, r->helo, r->rdns,     r->ip,       r->by,
		    r->with, r->id,   r->for_addr, r->env_from, r->date};
		cli_jw_obj(w);
		cli_jw_kuint(w, "index", i + 1);
		kviews(w, keys, v, NKEYS(keys));
		cli_jw_kbool(w, "internal",
			     !r->ip.p || msgp_ip_internal(r->ip));
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
}

/* "hop" and "envelope": the receiving hop and the identities. */
static void json_envelope(cli_jw *w, const msg_analysis *a)
{
	kobj(w, "hop");
	if (a->hop >= 0)
		cli_jw_kuint(w, "index", (uint64_t)a->hop + 1);
	else
		knull(w, "index");
	cli_jw_kstr(w, "how", a->hop_how);
	karr(w, "skipped");
	for (size_t i = 0; i < a->nskipped; i++) {
		cli_jw_obj(w);
		cli_jw_kuint(w, "index", a->skipped[i] + 1);
		cli_jw_kstr(w, "why", a->skipped_why[i]);
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
	cli_jw_obj_end(w);

	kobj(w, "envelope");
	kview(w, "ip", a->ip);
	cli_jw_kstr(w, "ip_source", a->ip_source);
	kview(w, "helo", a->helo);
	cli_jw_kstr(w, "helo_source", a->helo_source);
	json_reverse_path(w, "mail_from", a->sender_known, a->null_sender,
			  a->sender);
	cli_jw_kstr(w, "mail_from_source", a->sender_source);
	cli_jw_kbool(w, "null_sender", a->null_sender);
	kview(w, "receiver", a->receiver);
	cli_jw_kstr(w, "receiver_source", a->receiver_source);
	cli_jw_obj_end(w);
}

/* The members of a Received-SPF (RFC 7208 §9.1) and of an
 * Authentication-Results field (RFC 8601), in order. */
#define TRACE_MEMBERS 7u
static const char *const rspf_keys[TRACE_MEMBERS] = {
    "result", "receiver", "client_ip", "envelope_from",
    "helo",   "identity", "comment"};
static const char *const authres_keys[TRACE_MEMBERS] = {
    "authserv_id", "spf",   "smtp_mailfrom", "smtp_helo",
    "dkim",        "dmarc", "header_from"};

/* The views of trace field i of m, one per key. */
typedef void trace_views(const msgp_msg *m, size_t i,
			 msgp_view v[TRACE_MEMBERS]);

static void rspf_views(const msgp_msg *m, size_t i, msgp_view v[TRACE_MEMBERS])
{
	const msgp_rspf *r = &m->rspf[i];
	const msgp_view x[TRACE_MEMBERS] = {
	    r->result, r->receiver, r->client_ip, r->envelope_from,
	    r->helo,   r->identity, r->comment};
	memcpy(v, x, sizeof x);
}

static void authres_views(const msgp_msg *m, size_t i,
			  msgp_view v[TRACE_MEMBERS])
{
	const msgp_authres *r = &m->authres[i];
	const msgp_view x[TRACE_MEMBERS] = {
	    r->authserv_id, r->spf,   r->spf_mailfrom, r->spf_helo,
	    r->dkim,        r->dmarc, r->dmarc_from};
	memcpy(v, x, sizeof x);
}

/* The index in m->fields of trace field i, one per kind. */
static size_t rspf_field(const msgp_msg *m, size_t i)
{
	return m->rspf[i].field;
}

static size_t authres_field(const msgp_msg *m, size_t i)
{
	return m->authres[i].field;
}

/* An array of n trace fields: per field its members (keys, values from
 * views), where it stands, then whether the receiver wrote it
 * (trust[i]). */
static void json_trace_fields(cli_jw *w, const char *key, const msgp_msg *m,
			      size_t n, const char *const keys[TRACE_MEMBERS],
			      trace_views *views,
			      size_t (*field)(const msgp_msg *, size_t),
			      const msg_trust *trust)
{
	karr(w, key);
	for (size_t i = 0; i < n; i++) {
		size_t fi = field(m, i);
		msgp_view v[TRACE_MEMBERS];
		views(m, i, v);
		cli_jw_obj(w);
		kviews(w, keys, v, TRACE_MEMBERS);
		cli_jw_kuint(w, "position", fi + 1);
		cli_jw_kuint(w, "line", m->fields[fi].line);
		cli_jw_kbool(w, "claims_receiver", trust[i].claims);
		cli_jw_kbool(w, "trusted", trust[i].trusted);
		cli_jw_kstr(w, "why", trust[i].why);
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
}

/* "receiver_said": Received-SPF and Authentication-Results, judged. */
static void json_receiver_said(cli_jw *w, const msg_analysis *a)
{
	const msgp_msg *m = a->m;
	kobj(w, "receiver_said");
	json_trace_fields(w, "received_spf", m, m->nrspf, rspf_keys, rspf_views,
			  rspf_field, a->rspf_trust);
	json_trace_fields(w, "authentication_results", m, m->nauthres,
			  authres_keys, authres_views, authres_field,
			  a->ar_trust);
	cli_jw_kstr(w, "recorded", a->recorded);
	cli_jw_kstr(w, "recorded_source", a->recorded_source);
	cli_jw_kbool(w, "conflict", a->nconflicts > 0);
	karr(w, "conflicts");
	for (size_t i = 0; i < a->nconflicts; i++) {
		const msg_conflict *c = &a->conflicts[i];
		cli_jw_obj(w);
		cli_jw_kstr(w, "field", c->field);
		cli_jw_kuint(w, "position", c->position);
		cli_jw_kuint(w, "line", c->at->line);
		cli_jw_kstr(w, "says", c->says);
		cli_jw_kstr(w, "receiver_says", a->recorded);
		if (a->recorded) {
			cli_jw_kstr(
			    w, "receiver_field",
			    strcmp(a->recorded_source, "received-spf") == 0
				? "Received-SPF"
				: "Authentication-Results");
			cli_jw_kuint(w, "receiver_position",
				     a->recorded_field + 1);
		} else {
			knull(w, "receiver_field");
			knull(w, "receiver_position");
		}
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
	cli_jw_obj_end(w);
}

/* "recheck": the checks run again. */
static void json_recheck(cli_jw *w, const msg_analysis *a)
{
	kobj(w, "recheck");
	cli_jw_kbool(w, "done", a->main.done);
	cli_jw_kstr(w, "why_not", a->main.done ? NULL : a->why_not);
	cli_jw_kstr(w, "dns", a->dns_name);
	json_check(w, "mail_from", &a->main);
	json_check(w, "helo", &a->helo_chk);
	if (a->up.done) {
		kobj(w, "upstream");
		cli_jw_kuint(w, "hop", (uint64_t)a->up_hop + 1);
		kview(w, "ip", a->m->received[a->up_hop].ip);
		cli_jw_kstr(w, "result", spfkit_result_name(a->up.result));
		cli_jw_obj_end(w);
	} else {
		knull(w, "upstream");
	}
	cli_jw_kstr(w, "compared", a->compared);
	cli_jw_kstr(w, "bounce_compared", a->bounce_compared);
	cli_jw_obj_end(w);
}

/* "dkim" of "dmarc": every signature verified. */
static void json_dkim(cli_jw *w, const msg_analysis *a)
{
	karr(w, "dkim");
	for (size_t i = 0; i < a->dkim.n; i++) {
		const msg_dkim_sig *s = &a->dkim.sigs[i];
		cli_jw_obj(w);
		cli_jw_kstr(w, "domain", s->domain);
		cli_jw_kstr(w, "selector", s->selector);
		cli_jw_kstr(w, "result", s->result);
		cli_jw_kstr(w, "reason", s->reason[0] ? s->reason : NULL);
		cli_jw_kbool(w, "aligned", s->aligned);
		cli_jw_kstr(w, "organizational_domain", s->org);
		cli_jw_kbool(w, "testing", s->testing);
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
	cli_jw_kuint(w, "dkim_signatures", a->dkim.total);
	cli_jw_kstr(w, "dkim_why_not", a->dkim.why_not);
}

/* "dmarc": the verdict (RFC 9989). */
static void json_dmarc(cli_jw *w, const msg_analysis *a)
{
	const msg_dmarc *d = &a->dmarc;
	const spfkit_dmarc_policy *p = d->pol;
	bool found = p && p->status == SPFKIT_DMARC_FOUND;
	kobj(w, "dmarc");
	cli_jw_kstr(w, "result", d->result);
	cli_jw_kstr(w, "why_not", d->why_not);
	cli_jw_kstr(w, "author_domain", d->author[0] ? d->author : NULL);
	cli_jw_kstr(w, "organizational_domain", p ? p->org_domain : NULL);
	cli_jw_kstr(w, "policy_domain", found ? p->policy_domain : NULL);
	cli_jw_kstr(w, "record", found ? p->record : NULL);
	cli_jw_kstr(w, "policy",
		    found ? spfkit_dmarc_disp_name(p->policy) : NULL);
	cli_jw_kstr(w, "disposition", d->disposition);
	cli_jw_kbool(w, "testing", found && p->testing);
	cli_jw_kbool(w, "testing_lowered", d->testing_lowered);
	const char ad[2] = {found ? p->adkim : 0, 0};
	const char as[2] = {found ? p->aspf : 0, 0};
	cli_jw_kstr(w, "adkim", found ? ad : NULL);
	cli_jw_kstr(w, "aspf", found ? as : NULL);
	cli_jw_kbool(w, "spf_aligned", d->spf_aligned);
	if (d->spf_known) {
		kobj(w, "spf");
		cli_jw_kstr(w, "domain", d->spf_domain);
		cli_jw_kstr(w, "source", a->null_sender ? "helo" : "mail-from");
		cli_jw_kstr(w, "result", spfkit_result_name(a->main.result));
		cli_jw_kstr(w, "organizational_domain", d->spf_org);
		cli_jw_kbool(w, "aligned", d->spf_aligned);
		cli_jw_obj_end(w);
	} else {
		knull(w, "spf");
	}
	cli_jw_kbool(w, "dkim_aligned", d->dkim_aligned);
	json_dkim(w, a);
	cli_jw_obj_end(w);
}

/* "alignment" (or null) and "diagnosis". */
static void json_verdict(cli_jw *w, const msg_analysis *a)
{
	static const char *const keys[] = {"from_domain", "spf_domain",
					   "spf_domain_source", "from_org",
					   "spf_org"};
	if (a->have_align) {
		const msgp_view v[NKEYS(keys)] = {
		    msg_vstr(a->from_dom), msg_vstr(a->spf_dom),
		    msg_vstr(a->spf_dom_source), msg_vstr(a->from_org),
		    msg_vstr(a->spf_org)};
		kobj(w, "alignment");
		kviews(w, keys, v, NKEYS(keys));
		cli_jw_kbool(w, "strict", a->strict);
		cli_jw_kbool(w, "relaxed", a->relaxed);
		cli_jw_kbool(w, "spf_pass", a->spf_pass);
		cli_jw_kstr(w, "dmarc_spf",
			    a->spf_pass && a->relaxed ? "pass" : "fail");
		cli_jw_kbool(w, "public_suffix_list", a->psl_ok);
		cli_jw_obj_end(w);
	} else {
		knull(w, "alignment");
	}
	json_dmarc(w, a);

	karr(w, "diagnosis");
	for (size_t i = 0; i < a->ndiags; i++) {
		cli_jw_obj(w);
		cli_jw_kstr(w, "code", a->diags[i].code);
		cli_jw_kstr(w, "text", a->diags[i].text);
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
}

void msg_out_json(FILE *f, const msg_analysis *a)
{
	cli_jw w;
	cli_jw_line(&w, f);
	json_input(&w, a);
	json_bounce(&w, a);
	json_message(&w, a->m);
	json_received(&w, a->m);
	json_envelope(&w, a);
	json_receiver_said(&w, a);
	json_recheck(&w, a);
	json_verdict(&w, a);
	cli_jw_line_end(&w);
}
