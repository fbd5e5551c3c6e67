/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_analysis.c - the analysis of `spfkit message` (message.h): which
 * Received field is the receiving hop, which Received-SPF and
 * Authentication-Results fields the receiver wrote (RFC 7208 §9.1, RFC
 * 8601 §5: fields further down came with the message and may be forged),
 * and the identities SPF is checked with: client IP, HELO name, envelope
 * sender. It then has the checks run (message_recheck.c) and the
 * diagnoses made (message_diagnose.c). It prints nothing.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "message.h"

int msg_refuse(msg_analysis *a, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof a->error, fmt, ap);
	va_end(ap);
	return status;
}

static unsigned char lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive equality of two views. */
bool msg_veq(msgp_view a, msgp_view b)
{
	if (!a.p || !b.p || a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lc((unsigned char)a.p[i]) != lc((unsigned char)b.p[i]))
			return false;
	return true;
}

/* Does host end with suffix at a label boundary (or equal it)? */
static bool ends_with_host(msgp_view host, msgp_view suffix)
{
	if (!host.p || !suffix.p || suffix.len == 0 || host.len < suffix.len)
		return false;
	msgp_view tail = {host.p + host.len - suffix.len, suffix.len};
	if (!msg_veq(tail, suffix))
		return false;
	return host.len == suffix.len || suffix.p[0] == '.' ||
	       host.p[host.len - suffix.len - 1] == '.';
}

/* Do two host names name the same receiver: equal, or one inside the
 * other's domain when that has at least two labels ("mx.google.com" and
 * "google.com")? */
static bool same_host(msgp_view a, msgp_view b)
{
	if (!a.p || !b.p || a.len == 0 || b.len == 0)
		return false;
	if (msg_veq(a, b))
		return true;
	msgp_view shorter = a.len < b.len ? a : b;
	msgp_view longer = a.len < b.len ? b : a;
	return memchr(shorter.p, '.', shorter.len) &&
	       ends_with_host(longer, shorter);
}

/* Does a receiver= value name a host (policyd-spf writes a recipient
 * address or "<UNKNOWN>" there)? */
static bool host_like(msgp_view v)
{
	return v.p && v.len > 0 && !memchr(v.p, '@', v.len) &&
	       !memchr(v.p, '<', v.len) && memchr(v.p, '.', v.len);
}

/* Copies v, lower-cased and without a trailing dot, into dst (cap
 * octets, NUL terminated); false when it does not fit or holds octets
 * no domain has. */
bool msg_lower_domain(msgp_view v, char *dst, size_t cap)
{
	if (v.len && v.p[v.len - 1] == '.')
		v.len--;
	if (!v.p || v.len == 0 || v.len >= cap)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c <= 0x20 || c == 0x7f || c == '@')
			return false;
		dst[i] = (char)lc(c);
	}
	dst[v.len] = '\0';
	return true;
}

/* A result name as written in a header, mapped to the RFC name. */
const char *msg_norm_result(msgp_view r)
{
	static const char *const names[] = {"pass",     "fail", "softfail",
					    "neutral",  "none", "temperror",
					    "permerror"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (msgp_eq(r, names[i]))
			return names[i];
	if (msgp_eq(r, "hardfail"))
		return "fail";
	if (msgp_eq(r, "error"))
		return "temperror";
	return NULL;
}

/* The index of the field of Received number k, or SIZE_MAX. */
static size_t received_field(const msgp_msg *m, long k)
{
	if (k < 0 || (size_t)k >= m->nreceived)
		return SIZE_MAX;
	return m->received[k].field;
}

/* Is the client of hop r a relay of the receiver's own: its rDNS (or
 * Exim's verified name) in the organizational domain of its 'by'? */
static bool own_relay(const psl_ctx_t *psl, const msgp_received *r)
{
	char x[MSG_DOMAIN_MAX + 2], y[MSG_DOMAIN_MAX + 2];
	if (!psl || !r->rdns.p || !r->by.p)
		return false;
	if (!msg_lower_domain(r->rdns, x, sizeof x) ||
	    !msg_lower_domain(r->by, y, sizeof y))
		return false;
	const char *ox = psl_registrable_domain(psl, x);
	const char *oy = psl_registrable_domain(psl, y);
	return ox && oy && strcmp(ox, oy) == 0;
}

/* Picks the receiving hop. Returns 0 or an exit status. */
static int choose_hop(const msg_opts *o, const psl_ctx_t *psl, msg_analysis *a)
{
	const msgp_msg *m = a->m;
	a->hop = -1;
	if (o->trusted_hops) {
		if (o->trusted_hops > m->nreceived)
			return msg_refuse(
			    a, CLI_EX_USAGE,
			    "--trusted-hops %u: the message has %zu "
			    "Received field%s",
			    o->trusted_hops, m->nreceived,
			    m->nreceived == 1 ? "" : "s");
		a->hop = (long)o->trusted_hops - 1;
		a->hop_how = "trusted-hops";
		return 0;
	}
	if (o->receiver) {
		msgp_view want = msg_vstr(o->receiver);
		for (size_t i = 0; i < m->nreceived; i++) {
			if (ends_with_host(m->received[i].by, want)) {
				a->hop = (long)i;
				a->hop_how = "receiver";
				return 0;
			}
		}
		return msg_refuse(a, CLI_EX_USAGE,
				  "--receiver '%s': no Received field of the "
				  "message is 'by' that host",
				  cli_shown(o->receiver));
	}
	/* The topmost hop from an Internet client; internal ones (a filter
	 * on loopback, a local submission, the receiver's own relays) are
	 * skipped. */
	for (size_t i = 0; i < m->nreceived; i++) {
		const msgp_received *r = &m->received[i];
		const char *why = NULL;
		if (!r->ip.p)
			why = "no client address";
		else if (msgp_ip_internal(r->ip))
			why = "internal address";
		else if (i + 1 < m->nreceived && own_relay(psl, r))
			why = "the receiver's own relay";
		if (!why) {
			a->hop = (long)i;
			a->hop_how = i == 0 ? "topmost" : "topmost-external";
			return 0;
		}
		if (a->nskipped < sizeof a->skipped / sizeof a->skipped[0]) {
			a->skipped_why[a->nskipped] = why;
			a->skipped[a->nskipped++] = i;
		}
	}
	a->nskipped = 0;
	if (m->nreceived > 0) {
		a->hop = 0;
		a->hop_how = "topmost";
	}
	return 0;
}

/* Which Received-SPF and Authentication-Results fields claim the
 * receiver: named by it (receiver=, authserv-id, --authserv-id, a name
 * --receiver ends with), or a Received-SPF that names no receiver but
 * the hop's client IP. */
static void claims(const msg_opts *o, msg_analysis *a)
{
	const msgp_msg *m = a->m;
	msgp_view asid = msg_vstr(o->authserv_id);
	msgp_view rcv = msg_vstr(o->receiver);
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		bool named = host_like(r->receiver);
		bool ip =
		    a->ip.p && r->client_ip.p && msg_veq(r->client_ip, a->ip);
		a->rspf_trust[i].claims =
		    named ? same_host(r->receiver, a->receiver) ||
				(rcv.p && ends_with_host(r->receiver, rcv))
			  : ip;
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		msgp_view id = m->authres[i].authserv_id;
		a->ar_trust[i].claims =
		    id.p && (same_host(id, a->receiver) ||
			     (asid.p && msg_veq(id, asid)) ||
			     (rcv.p && ends_with_host(id, rcv)));
	}
}

/* The fields that are the receiver's record, by RFC 8601 §5: a receiver
 * adds its own above what came with the message. Those above the
 * receiving hop's Received field were written at delivery; when none
 * is, the topmost that claims the receiver and does not lie below an
 * earlier hop. Everything else claiming the receiver came with the
 * message. Marks them trusted. */
static void choose_record(msg_analysis *a)
{
	const msgp_msg *m = a->m;
	size_t hop = a->hop >= 0 ? received_field(m, a->hop) : SIZE_MAX;
	size_t below = received_field(m, a->hop + 1);
	size_t top = SIZE_MAX;
	bool above = false;
	for (size_t i = 0; i < m->nrspf; i++)
		if (a->rspf_trust[i].claims) {
			above |= m->rspf[i].field < hop;
			if (m->rspf[i].field < top)
				top = m->rspf[i].field;
		}
	for (size_t i = 0; i < m->nauthres; i++)
		if (a->ar_trust[i].claims) {
			above |= m->authres[i].field < hop;
			if (m->authres[i].field < top)
				top = m->authres[i].field;
		}
	if (hop == SIZE_MAX || !above) {
		hop = top == SIZE_MAX || (below != SIZE_MAX && top > below)
			  ? 0
			  : top + 1;
	}
	for (size_t i = 0; i < m->nrspf; i++)
		a->rspf_trust[i].trusted =
		    a->rspf_trust[i].claims && m->rspf[i].field < hop;
	for (size_t i = 0; i < m->nauthres; i++)
		a->ar_trust[i].trusted =
		    a->ar_trust[i].claims && m->authres[i].field < hop;
}

/* Why a field claiming the receiver is not its record. */
static const char *not_record(size_t field, size_t below)
{
	if (below != SIZE_MAX && field > below)
		return "below an earlier hop: it came with the message";
	return "claims the receiver below the receiver's own fields: it "
	       "came with the message (RFC 8601 section 5)";
}

/* Why each trace field is or is not the receiver's. */
static void explain_trust(msg_analysis *a)
{
	const msgp_msg *m = a->m;
	size_t below = received_field(m, a->hop + 1);
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		msg_trust *t = &a->rspf_trust[i];
		bool named = host_like(r->receiver);
		if (t->trusted)
			t->why = named ? "receiver" : "client-ip";
		else if (t->claims)
			t->why = not_record(r->field, below);
		else if (a->hop >= 0 && below != SIZE_MAX && r->field > below)
			t->why = "below an earlier hop: it came with the "
				 "message";
		else
			t->why = named ? "another receiver"
				       : "no receiver named, another client";
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		msg_trust *t = &a->ar_trust[i];
		if (t->trusted)
			t->why = "authserv-id";
		else if (t->claims)
			t->why = below != SIZE_MAX && r->field > below
				     ? "the receiver's authserv-id below an "
				       "earlier hop: it came with the message"
				     : not_record(r->field, below);
		else if (!r->authserv_id.p)
			t->why = "no authserv-id";
		else
			t->why = "authserv-id is not the receiver's";
	}
}

/* A field claiming the receiver that is not its record and says another
 * result than the record: a conflict (the sender's own field). */
static void add_conflict(msg_analysis *a, const char *field, size_t index,
			 size_t fi, const char *says)
{
	if (!says || (a->recorded && strcmp(says, a->recorded) == 0))
		return;
	if (a->nconflicts >= MSG_CONFLICTS_MAX)
		return;
	a->conflicts[a->nconflicts++] =
	    (msg_conflict){field, index, says, &a->m->fields[fi], fi + 1};
}

/* Takes result r of the receiver's field fi (from source, about client
 * ip) as what the receiver recorded, when it is a result. */
static void take_record(msg_analysis *a, msgp_view r, const char *source,
			size_t fi, msgp_view ip)
{
	a->recorded = msg_norm_result(r);
	if (!a->recorded)
		return;
	a->recorded_source = source;
	a->recorded_ip = ip;
	a->recorded_field = fi;
}

/* Which Received-SPF and Authentication-Results fields the receiver
 * wrote (its record), what it recorded, and the fields that claim it
 * and disagree. */
static void judge_trace(const msg_opts *o, msg_analysis *a)
{
	const msgp_msg *m = a->m;
	claims(o, a);
	choose_record(a);
	explain_trust(a);
	/* What the receiver recorded: its Received-SPF, else its
	 * Authentication-Results spf=. */
	a->recorded_field = SIZE_MAX;
	for (size_t i = 0; i < m->nrspf && !a->recorded; i++)
		if (a->rspf_trust[i].trusted)
			take_record(a, m->rspf[i].result, "received-spf",
				    m->rspf[i].field, m->rspf[i].client_ip);
	for (size_t i = 0; i < m->nauthres && !a->recorded; i++)
		if (a->ar_trust[i].trusted)
			take_record(a, m->authres[i].spf,
				    "authentication-results",
				    m->authres[i].field, msg_vnone());
	/* In the order of the header section. */
	size_t ri = 0, ai = 0;
	while (ri < m->nrspf || ai < m->nauthres) {
		bool rs =
		    ai >= m->nauthres ||
		    (ri < m->nrspf && m->rspf[ri].field < m->authres[ai].field);
		if (rs) {
			const msg_trust *t = &a->rspf_trust[ri];
			if (t->claims && !t->trusted)
				add_conflict(
				    a, "Received-SPF", ri, m->rspf[ri].field,
				    msg_norm_result(m->rspf[ri].result));
			ri++;
		} else {
			const msg_trust *t = &a->ar_trust[ai];
			if (t->claims && !t->trusted)
				add_conflict(
				    a, "Authentication-Results", ai,
				    m->authres[ai].field,
				    msg_norm_result(m->authres[ai].spf));
			ai++;
		}
	}
}

/* A bounce: the rejecting server's SPF verdict, from its words, else from
 * its own trace field in the returned headers (judged as the receiver's
 * record: the bounce names it as the remote MTA). */
static void bounce_verdict(msg_analysis *a)
{
	const msgp_dsn *d = &a->top->dsn;
	if (!a->is_bounce)
		return;
	if (d->spf) {
		a->bounce_spf = d->spf;
		a->bounce_spf_source = d->spf_source;
		a->bounce_spf_text = d->spf_text;
	} else if (a->recorded && a->receiver_source &&
		   strcmp(a->receiver_source, "bounce remote-mta") == 0) {
		a->bounce_spf = a->recorded;
		a->bounce_spf_source = a->recorded_source;
		a->bounce_spf_text = a->m->fields[a->recorded_field].value;
	}
}

/* The receiver, client IP and HELO: options first, then the chosen hop,
 * then what a bounce tells. */
static void pick_identities(const msg_opts *o, msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	const msgp_received *hop = a->hop >= 0 ? &m->received[a->hop] : NULL;
	const msgp_dsn *d = &top->dsn;

	/* The receiver. */
	if (a->is_bounce && d->remote_mta.p) {
		a->receiver = d->remote_mta;
		a->receiver_source = "bounce remote-mta";
	} else if (hop && hop->by.p) {
		a->receiver = hop->by;
		a->receiver_source = "received";
	}
	if (o->receiver && !a->receiver.p) {
		a->receiver = msg_vstr(o->receiver);
		a->receiver_source = "option";
	}

	/* The client IP. */
	if (o->id.ip) {
		a->ip = msg_vstr(o->id.ip);
		a->ip_source = "option";
	} else if (a->is_bounce && d->ip.p) {
		a->ip = d->ip;
		a->ip_source = "bounce diagnostic";
	} else if (a->is_bounce && d->remote_mta.p) {
		a->why_not = "the bounce names the remote receiver but not "
			     "the address of the server that talked to it; "
			     "give --ip (the sending server's address)";
	} else if (hop && hop->ip.p) {
		a->ip = hop->ip;
		a->ip_source = "received";
	} else if (!hop) {
		a->why_not = "no Received field with a client address; give "
			     "--ip";
	} else {
		a->why_not = "the chosen Received field records no client "
			     "address; give --ip or --trusted-hops";
	}

	/* The HELO name. */
	if (o->id.helo) {
		a->helo = msg_vstr(o->id.helo);
		a->helo_source = "option";
	} else if (a->is_bounce && (d->ip.p || o->id.ip)) {
		/* The server that sent the original: the bounce's reporter,
		 * or the host that took the original in. */
		if (d->reporting_mta.p) {
			a->helo = d->reporting_mta;
			a->helo_source = "bounce reporting-mta";
		} else if (m->nreceived && m->received[0].by.p) {
			a->helo = m->received[0].by;
			a->helo_source = "original's top received by";
		} else if (top->from.ok) {
			a->helo = top->from.domain;
			a->helo_source = "bounce from";
		}
	} else if (hop && hop->helo.p) {
		a->helo = hop->helo;
		a->helo_source = "received";
	}
}

/* The envelope sender: --sender, Return-Path, then the receiver's
 * Received-SPF, Exim's envelope-from, what a bounce tells, and at last
 * the header From (a guess). Runs after judge_trace(). */
static void pick_sender(const msg_opts *o, msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	const msgp_received *hop = a->hop >= 0 ? &m->received[a->hop] : NULL;
	const msgp_dsn *d = &top->dsn;
	const msgp_msg *rp_msg = m->has_return_path ? m : NULL;
	if (!rp_msg && !a->is_bounce && top->has_return_path)
		rp_msg = top;
	if (o->id.sender) {
		msgp_view s = msg_vstr(o->id.sender);
		if (s.len >= 2 && s.p[0] == '<' && s.p[s.len - 1] == '>') {
			s.p++;
			s.len -= 2;
		}
		a->sender = s;
		a->sender_source = "option";
	} else if (rp_msg) {
		a->sender = rp_msg->return_path;
		a->sender_source = "return-path";
	} else {
		for (size_t i = 0; i < m->nrspf && !a->sender_source; i++) {
			if (m->rspf[i].envelope_from.p &&
			    a->rspf_trust[i].trusted) {
				a->sender = m->rspf[i].envelope_from;
				a->sender_source = "received-spf";
			}
		}
		if (!a->sender_source && hop && hop->env_from.p) {
			a->sender = hop->env_from;
			a->sender_source = "received envelope-from";
		}
		if (!a->sender_source && a->is_bounce && d->sender.p) {
			a->sender = d->sender;
			a->sender_source = "bounce";
		}
		if (!a->sender_source && a->is_bounce && top->delivered_to.p) {
			a->sender = top->delivered_to;
			a->sender_source = "bounce recipient";
		}
		if (!a->sender_source && a->is_bounce && top->to.ok) {
			a->sender = top->to.addr;
			a->sender_source = "bounce recipient";
		}
		if (!a->sender_source && m->from.ok) {
			a->sender = m->from.addr;
			a->sender_source = "header from (a guess)";
		}
	}
	a->sender_known = a->sender_source != NULL;
	a->null_sender = a->sender_known && a->sender.len == 0;
	if (!a->why_not && !a->sender_known)
		a->why_not = "no envelope sender (Return-Path) and nothing to "
			     "guess it from; give --sender";
	if (!a->why_not && a->null_sender && !a->helo.p)
		a->why_not = "the null sender is checked as postmaster@HELO, "
			     "and no HELO name is known; give --helo";
}

/* A bounce: DKIM verifies the original inside it, from the octets the
 * bounce holds of it (a bounce's own signatures are not the original's).
 * Returns an spfkit_status. */
static int verify_original(cli_dns *dns, const spfkit_config *cfg,
			   msg_analysis *a)
{
	const msgp_msg *m = a->m;
	if (m == a->top || !m->raw.p) {
		a->dkim.why_not = "the original was not found in the bounce";
		return SPFKIT_OK;
	}
	if (m->headers_only) {
		a->dkim.why_not = "the bounce holds only the original's header "
				  "section: its DKIM signatures cannot be "
				  "verified";
		return SPFKIT_OK;
	}
	msg_dkim *od = NULL;
	int rc = msg_dkim_new(&od);
	if (rc < 0)
		return rc;
	msg_dkim_feed(od, m->raw.p, m->raw.len);
	rc = msg_dkim_finish(od, dns, cfg, &a->dkim);
	msg_dkim_free(od);
	return rc;
}

/* The analysis with the public suffix list psl. */
static int analyse(const msg_opts *o, const psl_ctx_t *psl, spfkit_config *cfg,
		   cli_dns *dns, msg_dkim *dkim, msg_analysis *a)
{
	int status = choose_hop(o, psl, a);
	if (status)
		return status;
	a->rspf_trust = calloc(a->m->nrspf + 1, sizeof *a->rspf_trust);
	a->ar_trust = calloc(a->m->nauthres + 1, sizeof *a->ar_trust);
	if (!a->rspf_trust || !a->ar_trust)
		return msg_refuse(a, CLI_EX_SOFTWARE, "%s",
				  spfkit_strerror(SPFKIT_ENOMEM));
	/* The receiver judges the trace fields, whose Received-SPF may name
	 * the envelope sender. */
	pick_identities(o, a);
	judge_trace(o, a);
	bounce_verdict(a);
	pick_sender(o, a);
	if (a->receiver.p && a->receiver.len < 254) {
		/* %{r} in explanations (RFC 7208 §7.3); a name the library
		 * refuses leaves its default. */
		char r[256];
		memcpy(r, a->receiver.p, a->receiver.len);
		r[a->receiver.len] = '\0';
		(void)spfkit_config_set_receiver(cfg, r);
	}
	status = msg_run_checks(dns, cfg, a);
	if (status)
		return status;
	msg_align(psl, a);
	int rc = a->is_bounce ? verify_original(dns, cfg, a)
			      : msg_dkim_finish(dkim, dns, cfg, &a->dkim);
	if (rc < 0)
		return msg_refuse(a, CLI_EX_SOFTWARE, "DKIM: %s",
				  spfkit_strerror(rc));
	status = msg_dmarc_run(dns, cfg, a);
	if (status)
		return status;
	msg_diagnose(psl, a);
	return 0;
}

int msg_analyse(const msg_opts *o, const msgp_msg *top, spfkit_config *cfg,
		cli_dns *dns, msg_dkim *dkim, msg_analysis *a)
{
	*a = (msg_analysis){.top = top,
			    .m = top,
			    .hop = -1,
			    .up_hop = -1,
			    .dns_name = cli_dns_name(dns)};
	a->is_bounce = top->bounce != MSGP_BOUNCE_NONE;
	if (a->is_bounce && top->original)
		a->m = top->original;
	/* The newest list on the system, else the one libpsl was built
	 * with. Organizational domains point into the analysis' own
	 * buffers, so the list can go when the analysis is done. */
	psl_ctx_t *psl = psl_latest(NULL);
	bool own_psl = psl != NULL;
	int status =
	    analyse(o, own_psl ? psl : psl_builtin(), cfg, dns, dkim, a);
	if (own_psl)
		psl_free(psl);
	return status;
}

void msg_analysis_free(msg_analysis *a)
{
	spfkit_check_free(a->main.chk);
	spfkit_check_free(a->helo_chk.chk);
	spfkit_check_free(a->up.chk);
	free(a->rspf_trust);
	free(a->ar_trust);
	msg_dmarc_free(&a->dmarc);
}
