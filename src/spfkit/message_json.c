/*
 * message_json.c - `spfkit message --format json`: the analysis as one
 * JSON object on one line (the members are listed in
 * man/spfkit-message.1). Values from the message may hold any octet;
 * cli_json_string() keeps the output valid JSON.
 *
 * The small writer (jw_*) is this command's own and lives only here, so
 * that the shared JSON writer can take its place in this one file.
 */
#include "message.h"

/* ------------------------------------------------------------ writer */

/* A small JSON writer: commas between members come by themselves. */
typedef struct jw {
	FILE *f;
	bool first[32];
	unsigned depth;
} jw;

static void jw_sep(jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		putc(',', w->f);
	w->first[w->depth] = false;
}

static void jw_key(jw *w, const char *key)
{
	jw_sep(w);
	if (key) {
		cli_json_string(w->f, key, strlen(key));
		putc(':', w->f);
	}
}

static void jw_open(jw *w, const char *key, char c)
{
	jw_key(w, key);
	putc(c, w->f);
	if (w->depth + 1 < sizeof w->first)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(jw *w, char c)
{
	putc(c, w->f);
	if (w->depth)
		w->depth--;
}

static void jw_view(jw *w, const char *key, msgp_view v)
{
	jw_key(w, key);
	if (v.p)
		cli_json_string(w->f, v.p, v.len);
	else
		fputs("null", w->f);
}

static void jw_str(jw *w, const char *key, const char *s)
{
	jw_view(w, key, msg_vstr(s));
}

static void jw_bool(jw *w, const char *key, bool b)
{
	jw_key(w, key);
	fputs(b ? "true" : "false", w->f);
}

static void jw_num(jw *w, const char *key, unsigned long n)
{
	jw_key(w, key);
	fprintf(w->f, "%lu", n);
}

static void jw_null(jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

/* Members keys[i]: v[i] for i < n, in order (views: null when absent). */
static void jw_views(jw *w, const char *const *keys, const msgp_view *v,
		     size_t n)
{
	for (size_t i = 0; i < n; i++)
		jw_view(w, keys[i], v[i]);
}

/* The number of keys in an array of them, and of the views that go with
 * them: a view too many does not compile. */
#define NKEYS(keys) (sizeof keys / sizeof keys[0])

/* ------------------------------------------------------------ parts */

static void jw_addr(jw *w, const char *key, const msgp_addr *ad)
{
	if (!ad->ok) {
		jw_null(w, key);
		return;
	}
	jw_open(w, key, '{');
	jw_view(w, "address", ad->addr);
	jw_view(w, "domain", ad->domain);
	jw_view(w, "display", ad->display);
	jw_num(w, "count", ad->count);
	jw_close(w, '}');
}

/* An envelope sender (RFC 5321 §4.1.2 Reverse-path): null when not
 * known, "" for the null sender. */
static void jw_reverse_path(jw *w, const char *key, bool known,
			    bool null_sender, msgp_view addr)
{
	if (known)
		jw_view(w, key, null_sender ? msg_vstr("") : addr);
	else
		jw_null(w, key);
}

static void jw_check(jw *w, const char *key, const msg_check *c)
{
	if (!c->done) {
		jw_null(w, key);
		return;
	}
	jw_open(w, key, '{');
	jw_str(w, "result", spfkit_result_name(c->result));
	jw_str(w, "domain", spfkit_check_domain(c->chk));
	jw_str(w, "identity", spfkit_check_identity(c->chk));
	jw_str(w, "sender", spfkit_check_sender(c->chk));
	jw_str(w, "mechanism", spfkit_check_mechanism(c->chk));
	jw_str(w, "where", spfkit_check_where(c->chk));
	jw_str(w, "explanation", spfkit_check_explanation(c->chk));
	jw_str(w, "problem", spfkit_check_problem(c->chk));
	jw_num(w, "lookups", spfkit_check_lookups(c->chk));
	jw_num(w, "void_lookups", spfkit_check_void_lookups(c->chk));
	jw_close(w, '}');
}

/* "input": the kind of bounce and the parser's warnings. */
static void json_input(jw *w, const msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	jw_open(w, "input", '{');
	jw_str(w, "bounce", msg_bounce_name(top->bounce));
	jw_open(w, "warnings", '[');
	for (size_t i = 0; i < top->nwarnings; i++)
		jw_str(w, NULL, top->warnings[i]);
	if (m != top)
		for (size_t i = 0; i < m->nwarnings; i++)
			jw_str(w, NULL, m->warnings[i]);
	jw_close(w, ']');
	jw_close(w, '}');
}

/* "bounce": what the bounce says, or null. */
static void json_bounce(jw *w, const msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	if (!a->is_bounce) {
		jw_null(w, "bounce");
		return;
	}
	static const char *const keys[] = {
	    "reporting_mta", "remote_mta", "final_recipient", "action",
	    "status",        "diagnostic", "sender",          "client_ip"};
	const msgp_dsn *d = &top->dsn;
	const msgp_view v[NKEYS(keys)] = {
	    d->reporting_mta, d->remote_mta, d->final_recipient, d->action,
	    d->status,        d->diagnostic, d->sender,          d->ip};
	jw_open(w, "bounce", '{');
	jw_str(w, "kind", msg_bounce_name(top->bounce));
	jw_views(w, keys, v, NKEYS(keys));
	jw_str(w, "original",
	       m == top          ? NULL
	       : m->headers_only ? "headers"
				 : "message");
	jw_close(w, '}');
}

/* "message": the author fields and Return-Path. */
static void json_message(jw *w, const msgp_msg *m)
{
	jw_open(w, "message", '{');
	jw_addr(w, "from", &m->from);
	jw_addr(w, "reply_to", &m->reply_to);
	jw_addr(w, "sender", &m->sender);
	jw_addr(w, "to", &m->to);
	jw_view(w, "subject", m->subject);
	jw_view(w, "message_id", m->message_id);
	jw_view(w, "list_id", m->list_id);
	jw_reverse_path(w, "return_path", m->has_return_path, m->null_sender,
			m->return_path);
	jw_close(w, '}');
}

/* "received": every Received field, top first. */
static void json_received(jw *w, const msgp_msg *m)
{
	static const char *const keys[] = {
	    "from", "helo", "rdns",          "ip",  "by", "with",
	    "id",   "for",  "envelope_from", "date"};
	jw_open(w, "received", '[');
	for (size_t i = 0; i < m->nreceived; i++) {
		const msgp_received *r = &m->received[i];
		const msgp_view v[NKEYS(keys)] = {
		    r->from, r->helo, r->rdns,     r->ip,       r->by,
		    r->with, r->id,   r->for_addr, r->env_from, r->date};
		jw_open(w, NULL, '{');
		jw_num(w, "index", i + 1);
		jw_views(w, keys, v, NKEYS(keys));
		jw_bool(w, "internal", !r->ip.p || msgp_ip_internal(r->ip));
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* "hop" and "envelope": the receiving hop and the identities. */
static void json_envelope(jw *w, const msg_analysis *a)
{
	jw_open(w, "hop", '{');
	if (a->hop >= 0)
		jw_num(w, "index", (unsigned long)a->hop + 1);
	else
		jw_null(w, "index");
	jw_str(w, "how", a->hop_how);
	jw_open(w, "skipped", '[');
	for (size_t i = 0; i < a->nskipped; i++) {
		jw_open(w, NULL, '{');
		jw_num(w, "index", a->skipped[i] + 1);
		jw_str(w, "why", a->skipped_why[i]);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');

	jw_open(w, "envelope", '{');
	jw_view(w, "ip", a->ip);
	jw_str(w, "ip_source", a->ip_source);
	jw_view(w, "helo", a->helo);
	jw_str(w, "helo_source", a->helo_source);
	jw_reverse_path(w, "mail_from", a->sender_known, a->null_sender,
			a->sender);
	jw_str(w, "mail_from_source", a->sender_source);
	jw_bool(w, "null_sender", a->null_sender);
	jw_view(w, "receiver", a->receiver);
	jw_str(w, "receiver_source", a->receiver_source);
	jw_close(w, '}');
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

/* An array of n trace fields: per field its members (keys, values from
 * views), then whether the receiver wrote it (trust[i]). */
static void json_trace_fields(jw *w, const char *key, const msgp_msg *m,
			      size_t n, const char *const keys[TRACE_MEMBERS],
			      trace_views *views, const msg_trust *trust)
{
	jw_open(w, key, '[');
	for (size_t i = 0; i < n; i++) {
		msgp_view v[TRACE_MEMBERS];
		views(m, i, v);
		jw_open(w, NULL, '{');
		jw_views(w, keys, v, TRACE_MEMBERS);
		jw_bool(w, "trusted", trust[i].trusted);
		jw_str(w, "why", trust[i].why);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* "receiver_said": Received-SPF and Authentication-Results, judged. */
static void json_receiver_said(jw *w, const msg_analysis *a)
{
	const msgp_msg *m = a->m;
	jw_open(w, "receiver_said", '{');
	json_trace_fields(w, "received_spf", m, m->nrspf, rspf_keys, rspf_views,
			  a->rspf_trust);
	json_trace_fields(w, "authentication_results", m, m->nauthres,
			  authres_keys, authres_views, a->ar_trust);
	jw_str(w, "recorded", a->recorded);
	jw_str(w, "recorded_source", a->recorded_source);
	jw_close(w, '}');
}

/* "recheck": the checks run again. */
static void json_recheck(jw *w, const msg_analysis *a)
{
	jw_open(w, "recheck", '{');
	jw_bool(w, "done", a->main.done);
	jw_str(w, "why_not", a->main.done ? NULL : a->why_not);
	jw_str(w, "dns", a->dns_name);
	jw_check(w, "mail_from", &a->main);
	jw_check(w, "helo", &a->helo_chk);
	if (a->up.done) {
		jw_open(w, "upstream", '{');
		jw_num(w, "hop", (unsigned long)a->up_hop + 1);
		jw_view(w, "ip", a->m->received[a->up_hop].ip);
		jw_str(w, "result", spfkit_result_name(a->up.result));
		jw_close(w, '}');
	} else {
		jw_null(w, "upstream");
	}
	jw_str(w, "compared", a->compared);
	jw_close(w, '}');
}

/* "alignment" (or null) and "diagnosis". */
static void json_verdict(jw *w, const msg_analysis *a)
{
	if (a->have_align) {
		jw_open(w, "alignment", '{');
		jw_str(w, "from_domain", a->from_dom);
		jw_str(w, "spf_domain", a->spf_dom);
		jw_str(w, "spf_domain_source", a->spf_dom_source);
		jw_str(w, "from_org", a->from_org);
		jw_str(w, "spf_org", a->spf_org);
		jw_bool(w, "strict", a->strict);
		jw_bool(w, "relaxed", a->relaxed);
		jw_bool(w, "spf_pass", a->spf_pass);
		jw_str(w, "dmarc_spf",
		       a->spf_pass && a->relaxed ? "pass" : "fail");
		jw_bool(w, "public_suffix_list", a->psl_ok);
		jw_close(w, '}');
	} else {
		jw_null(w, "alignment");
	}

	jw_open(w, "diagnosis", '[');
	for (size_t i = 0; i < a->ndiags; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "code", a->diags[i].code);
		jw_str(w, "text", a->diags[i].text);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

void msg_out_json(FILE *f, const msg_analysis *a)
{
	jw w = {.f = f};
	jw_open(&w, NULL, '{');
	json_input(&w, a);
	json_bounce(&w, a);
	json_message(&w, a->m);
	json_received(&w, a->m);
	json_envelope(&w, a);
	json_receiver_said(&w, a);
	json_recheck(&w, a);
	json_verdict(&w, a);
	jw_close(&w, '}');
	putc('\n', f);
}
