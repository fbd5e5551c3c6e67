/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_diagnose.c - the diagnoses of `spfkit message`: what the SPF
 * result means for this message, in words an administrator can act on.
 * First what the input itself shows (a bounce, forged-looking
 * Authentication-Results, RFC 8601 §5), then one story (forwarding, a
 * contact form sending as its visitors, a mailing list, a sending
 * service's own envelope domain, or the plain result with a hint), then
 * notes (a recorded result that differs, the null sender, a guessed
 * sender). Each is a code and a text in the analysis; nothing is printed.
 */
#include <stdarg.h>

#include "message.h"

/* The organizational domains a story compares, lower-cased; "" when
 * unknown. */
typedef struct orgs {
	char from[MSG_DOMAIN_MAX + 2]; /* the header From's */
	char env[MSG_DOMAIN_MAX + 2];  /* the domain SPF checked */
	char helo[MSG_DOMAIN_MAX + 2];
	char rcpt[MSG_DOMAIN_MAX + 2]; /* the recipient's */
} orgs;

static void add_diag(msg_analysis *a, const char *code, const char *fmt, ...)
    CLI_PRINTF(3, 4);
static void add_diag(msg_analysis *a, const char *code, const char *fmt, ...)
{
	if (a->ndiags >= MSG_DIAG_MAX)
		return;
	msg_diag *d = &a->diags[a->ndiags++];
	d->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof d->text, fmt, ap);
	va_end(ap);
}

/* The domain of an address: after its last '@'. */
static msgp_view addr_domain(msgp_view a)
{
	for (size_t i = a.len; i > 0; i--)
		if (a.p[i - 1] == '@')
			return (msgp_view){a.p + i, a.len - i};
	return msg_vnone();
}

/* A view as a NUL-terminated escaped string for messages and diagnoses
 * (printable ASCII, the rest as \xHH; long values cut). */
static const char *esc(msgp_view v, char *buf, size_t cap)
{
	if (!v.p) {
		buf[0] = '\0';
		return buf;
	}
	cli_escape(buf, cap, v.p, v.len, 200);
	return buf;
}

/* The organizational domain of a name, lower-cased, into buf; "" when
 * unknown. */
static const char *org_of(const psl_ctx_t *psl, msgp_view v, char *buf,
			  size_t cap)
{
	if (!msg_lower_domain(v, buf, cap)) {
		buf[0] = '\0';
		return buf;
	}
	if (psl) {
		const char *o = psl_registrable_domain(psl, buf);
		if (o && o != buf)
			memmove(buf, o, strlen(o) + 1);
	}
	return buf;
}

static const char *result_hint(spfkit_result r)
{
	switch (r) {
	case SPFKIT_RESULT_NONE:
		return "the domain publishes no SPF record: publish one that "
		       "lists its sending servers (v=spf1 ... -all)";
	case SPFKIT_RESULT_NEUTRAL:
		return "the record makes no statement about this server (?all "
		       "or no match): receivers treat it like none";
	case SPFKIT_RESULT_SOFTFAIL:
		return "the record says this server is probably not "
		       "authorised (~all): add it to the record if it sends "
		       "legitimately";
	case SPFKIT_RESULT_FAIL:
		return "the record does not authorise this server: if it "
		       "sends for the domain legitimately, add it to the "
		       "record (ip4:, ip6: or include:)";
	case SPFKIT_RESULT_PERMERROR:
		return "the record is broken (syntax, too many lookups, ...): "
		       "fix it; receivers may treat this as fail";
	case SPFKIT_RESULT_TEMPERROR:
		return "DNS failed during the check: try again; if it "
		       "persists, the domain's name servers have trouble";
	case SPFKIT_RESULT_PASS: break;
	}
	return NULL;
}

/* A field that claims the receiver below its record and disagrees with
 * it: named with its position, and what the receiver itself said. */
static void diagnose_conflict(msg_analysis *a, const msg_conflict *c)
{
	char b1[1024], b2[96];
	const char *rcv =
	    a->receiver.p ? esc(a->receiver, b1, sizeof b1) : "the receiver";
	if (a->recorded)
		snprintf(b2, sizeof b2,
			 "the receiver's own %s field %zu says %s",
			 strcmp(a->recorded_source, "received-spf") == 0
			     ? "Received-SPF"
			     : "Authentication-Results",
			 a->recorded_field + 1, a->recorded);
	else
		snprintf(b2, sizeof b2,
			 "the receiver recorded no SPF result of its own");
	add_diag(a, "forged-receiver-field",
		 "%s field %zu (line %u) claims to be %s's and says SPF %s, "
		 "but %s. A receiver adds its fields above what came with the "
		 "message (RFC 8601 section 5): this one was in the message "
		 "before it arrived, so the sender wrote it. Trust the "
		 "receiver's own field; receivers should remove or rename "
		 "such fields",
		 c->field, c->position, c->at->line, rcv, c->says, b2);
}

/* What the input shows: a bounce, fields that claim the receiver and
 * disagree with its record, and Authentication-Results that claim a
 * pass the receiver did not write. */
static void diagnose_input(msg_analysis *a)
{
	char b1[1024], b2[1024];
	const msgp_msg *m = a->m;
	if (a->is_bounce) {
		const msgp_dsn *d = &a->top->dsn;
		add_diag(a, "bounce",
			 "this is a bounce; the original message inside it "
			 "is analysed%s%s%s",
			 d->diagnostic.p ? ". The bounce says: " : "",
			 esc(d->diagnostic, b1, sizeof b1),
			 a->m == a->top ? " (the original was not found)" : "");
	}
	for (size_t i = 0; i < a->nconflicts; i++)
		diagnose_conflict(a, &a->conflicts[i]);
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		bool named = false; /* as a conflict, above */
		for (size_t k = 0; k < a->nconflicts; k++)
			named |= a->conflicts[k].field[0] == 'A' &&
				 a->conflicts[k].index == i;
		if (!named && !a->ar_trust[i].trusted && r->authserv_id.p &&
		    msg_norm_result(r->spf) &&
		    strcmp(msg_norm_result(r->spf), "pass") == 0)
			add_diag(a, "untrusted-authentication-results",
				 "Authentication-Results from '%s' claims "
				 "spf=pass but was not written by the "
				 "receiver (%s): %s; it may be forged. "
				 "Receivers should remove such fields "
				 "(RFC 8601 section 5)",
				 esc(r->authserv_id, b1, sizeof b1),
				 esc(a->receiver, b2, sizeof b2),
				 a->ar_trust[i].why);
	}
}

static bool failing(const msg_analysis *a)
{
	return a->main.result == SPFKIT_RESULT_FAIL ||
	       a->main.result == SPFKIT_RESULT_SOFTFAIL;
}

/* Forwarding: the check fails, but an earlier hop passed. */
static bool story_forwarding(msg_analysis *a, const orgs *o)
{
	char b1[1024], b2[1024], b3[1024], b4[256], b5[256];
	if (!failing(a) || !a->up.done)
		return false;
	const msgp_received *up = &a->m->received[a->up_hop];
	const msgp_received *hop = &a->m->received[a->hop];
	add_diag(a, "forwarding",
		 "the message was forwarded: %s passed SPF at an "
		 "earlier hop (%s, received by %s) but the receiver "
		 "got it from %s (%s), which %s does not authorise. "
		 "Plain forwarding keeps the envelope sender, so SPF "
		 "breaks at the next hop. Fix at the forwarder: "
		 "rewrite the envelope sender with SRS (Sender "
		 "Rewriting Scheme), or have the receiver trust the "
		 "forwarder (ARC) or rely on DKIM",
		 esc(a->sender, b1, sizeof b1), esc(up->ip, b2, sizeof b2),
		 esc(up->by, b3, sizeof b3),
		 esc(hop->rdns.p ? hop->rdns : hop->helo, b4, sizeof b4),
		 esc(a->ip, b5, sizeof b5), o->env);
	return true;
}

/* A contact form: From and envelope are the visitor's, the server is
 * the site's own (its HELO domain passes, or it mails its own domain). */
static bool story_contact_form(msg_analysis *a, const orgs *o)
{
	char b1[1024], b2[1024], b3[1024];
	bool helo_pass =
	    a->helo_chk.done && a->helo_chk.result == SPFKIT_RESULT_PASS;
	if (!failing(a) || a->null_sender || !o->from[0] ||
	    strcmp(o->from, o->env) != 0 || !o->helo[0] ||
	    strcmp(o->helo, o->from) == 0 ||
	    !(helo_pass || strcmp(o->helo, o->rcpt) == 0))
		return false;
	add_diag(a, "contact-form",
		 "the message claims to come from %s (header From "
		 "and envelope sender) but was sent by %s's own "
		 "server (HELO %s, %s): SPF of %s %ss there, as it "
		 "should. This is what a web form that sends as its "
		 "visitor looks like. Fix the form: send as an "
		 "address of %s itself (From and envelope sender, "
		 "e.g. forms@%s) and put the visitor's address in "
		 "Reply-To",
		 esc(a->m->from.addr, b1, sizeof b1), o->helo,
		 esc(a->helo, b2, sizeof b2), esc(a->ip, b3, sizeof b3), o->env,
		 spfkit_result_name(a->main.result), o->helo, o->helo);
	return true;
}

/* A mailing list (List-Id): aligned, passing for the list's own
 * domain, or not passing at all. */
static bool story_list(msg_analysis *a, const orgs *o)
{
	char b1[1024], b2[1024];
	const msgp_msg *m = a->m;
	spfkit_result r = a->main.result;
	if (!m->list_id.p)
		return false;
	if (a->have_align && a->relaxed && r == SPFKIT_RESULT_PASS) {
		add_diag(a, "mailing-list",
			 "a mailing list (%s) sent this with its own "
			 "envelope sender, and the header From is in "
			 "the same organizational domain (%s): the "
			 "list rewrote From (DMARC mitigation) or the "
			 "author is at the list's domain. SPF is "
			 "aligned",
			 esc(m->list_id, b1, sizeof b1), o->env);
	} else if (r == SPFKIT_RESULT_PASS) {
		add_diag(a, "mailing-list",
			 "a mailing list (%s) re-sent this with its "
			 "own envelope sender (%s): SPF authenticates "
			 "the list's domain %s, not the author's %s: "
			 "not aligned, so it cannot give DMARC pass "
			 "for %s. That is normal for lists: "
			 "DMARC then rests on the author's DKIM "
			 "signature surviving the list (no subject "
			 "tags or footers), or the list rewrites From "
			 "to its own address and puts the author in "
			 "Reply-To",
			 esc(m->list_id, b1, sizeof b1),
			 esc(a->sender, b2, sizeof b2), a->spf_dom, o->from,
			 o->from);
	} else {
		add_diag(a, "mailing-list",
			 "a mailing list (%s) sent this, and SPF %ss "
			 "for %s: a list should send with its own "
			 "envelope sender (a bounce address in the "
			 "list's domain, authorised by its SPF)",
			 esc(m->list_id, b1, sizeof b1), spfkit_result_name(r),
			 o->env);
	}
	return true;
}

/* No particular story: a sending service's own envelope domain (Amazon
 * SES and the like: SPF passes, not aligned), a pass, or the result with
 * what to do about it. */
static void story_result(msg_analysis *a, const orgs *o)
{
	spfkit_result r = a->main.result;
	if (r == SPFKIT_RESULT_PASS && a->have_align && !a->relaxed &&
	    !a->null_sender) {
		add_diag(a, "different-envelope-domain",
			 "SPF passes for %s, the envelope (bounce) domain of "
			 "the sending service, but the header From is %s: "
			 "not aligned, so SPF does not count for DMARC. Set "
			 "up a custom MAIL FROM domain in %s with the service "
			 "(e.g. bounce.%s, with the SPF include and MX it "
			 "asks for), or rely on an aligned DKIM signature",
			 a->spf_dom, a->from_dom, o->from, o->from);
	} else if (r == SPFKIT_RESULT_PASS && a->have_align && a->relaxed) {
		add_diag(a, "pass-aligned",
			 "SPF passes for %s and is aligned with the header "
			 "From %s (%s): DMARC's SPF check passes",
			 a->spf_dom, a->from_dom,
			 a->strict ? "strict and relaxed" : "relaxed");
	} else if (r == SPFKIT_RESULT_PASS) {
		add_diag(a, "pass",
			 "SPF passes for %s; alignment with the header From "
			 "is unknown (no usable From address)",
			 o->env[0] ? o->env : "the sender");
	} else {
		const char *dom = spfkit_check_domain(a->main.chk);
		const char *p = spfkit_check_problem(a->main.chk);
		add_diag(a, spfkit_result_name(r), "%s %s%s%s%s: %s",
			 dom ? dom : "the domain", spfkit_result_name(r),
			 p ? " (" : "", p ? p : "", p ? ")" : "",
			 result_hint(r));
	}
}

/* The rejecting server said another SPF result than the re-check gives:
 * why that can be. */
static void diagnose_bounce_spf(msg_analysis *a)
{
	char b1[512], b2[256], b3[256], b4[256];
	const msgp_dsn *d = &a->top->dsn;
	bool other_ip = d->ip.p && a->ip.p && !msg_veq(d->ip, a->ip);
	char why[768];
	if (other_ip)
		snprintf(why, sizeof why,
			 "The bounce names %s as the client, but %s (%s) was "
			 "checked here: check the address the server saw "
			 "(--ip)",
			 esc(d->ip, b3, sizeof b3), esc(a->ip, b4, sizeof b4),
			 a->ip_source ? a->ip_source : "?");
	else
		snprintf(why, sizeof why,
			 "Both checked %s. That can happen: the server "
			 "checked at a different time (the record, or the "
			 "DNS of an include, changed since), it saw a "
			 "different client address than the one the bounce "
			 "names, or it failed on a DNS error it reported as "
			 "a failure",
			 esc(a->ip, b3, sizeof b3));
	add_diag(a, "bounce-spf-differs",
		 "the rejecting server%s%s said SPF %s (\"%s\", from its %s), "
		 "the check now gives %s. %s",
		 d->remote_mta.p ? " " : "", esc(d->remote_mta, b2, sizeof b2),
		 a->bounce_spf, esc(a->bounce_spf_text, b1, sizeof b1),
		 a->bounce_spf_source, spfkit_result_name(a->main.result), why);
}

/* Notes after the story: the receiver recorded another result, the
 * null sender, a guessed envelope sender. */
static void diagnose_notes(msg_analysis *a)
{
	char b1[1024];
	bool bounce_said =
	    a->bounce_compared && strcmp(a->bounce_compared, "different") == 0;
	if (bounce_said)
		diagnose_bounce_spf(a);
	/* A bounce's verdict read from the receiver's record says it once. */
	bool same_source = bounce_said && a->recorded &&
			   a->bounce_spf_source == a->recorded_source;
	if (a->compared && strcmp(a->compared, "different") == 0 &&
	    !same_source) {
		bool ip_differs =
		    a->recorded_ip.p && !msg_veq(a->recorded_ip, a->ip);
		add_diag(a, "recorded-differs",
			 "the receiver recorded %s, the check now gives %s. "
			 "%s",
			 a->recorded, spfkit_result_name(a->main.result),
			 ip_differs
			     ? "The receiver checked another client address "
			       "than this hop's: choose the hop with "
			       "--trusted-hops or --receiver."
			     : "That can be legitimate: DNS changed since "
			       "delivery (the record was edited, an included "
			       "provider's network changed) or a DNS failure "
			       "at the time. The recorded result is the one "
			       "that counted.");
	}
	if (a->null_sender)
		add_diag(a, "null-sender",
			 "the envelope sender is empty (a bounce or an "
			 "automatic reply): SPF checks the HELO name %s "
			 "instead (RFC 7208 section 2.4)",
			 esc(a->helo, b1, sizeof b1));
	if (a->sender_source &&
	    strcmp(a->sender_source, "header from (a guess)") == 0)
		add_diag(a, "guessed-sender",
			 "the envelope sender is not recorded: the header "
			 "From address was checked instead (a guess; give "
			 "--sender)");
}

/* ------------------------------------------------------------ DMARC */

static bool has_diag(const msg_analysis *a, const char *code)
{
	for (size_t i = 0; i < a->ndiags; i++)
		if (strcmp(a->diags[i].code, code) == 0)
			return true;
	return false;
}

/* The first DKIM signature whose result is want and whose aligned flag
 * is aligned, or NULL. */
static const msg_dkim_sig *find_sig(const msg_analysis *a, const char *want,
				    bool aligned)
{
	for (size_t i = 0; i < a->dkim.n; i++) {
		const msg_dkim_sig *s = &a->dkim.sigs[i];
		if (strcmp(s->result, want) == 0 && s->aligned == aligned)
			return s;
	}
	return NULL;
}

/* A signature of the author's own organization (its d= the author
 * domain, or in its organizational domain) that failed: what a relay that
 * changes the message leaves behind. */
static const msg_dkim_sig *broken_author_sig(const msg_analysis *a)
{
	const msg_dmarc *d = &a->dmarc;
	const char *aorg = d->pol ? d->pol->org_domain : NULL;
	for (size_t i = 0; i < a->dkim.n; i++) {
		const msg_dkim_sig *s = &a->dkim.sigs[i];
		if (!s->domain_ok || strcmp(s->result, "fail") != 0)
			continue;
		if (strcmp(s->domain_lc, d->author) == 0 ||
		    (aorg && s->org && strcmp(s->org, aorg) == 0))
			return s;
	}
	return NULL;
}

/* What the policy asks, as words: "asks receivers to reject it". */
static const char *asks(const msg_dmarc *d, char *buf, size_t cap)
{
	const char *p = d->pol ? spfkit_dmarc_disp_name(d->pol->policy) : NULL;
	if (strcmp(d->disposition, "none") == 0)
		snprintf(buf, cap,
			 "%s publishes p=%s: receivers only report the "
			 "failure, the message is delivered",
			 d->pol->policy_domain, p ? p : "none");
	else
		snprintf(buf, cap,
			 "%s publishes p=%s%s, which asks receivers to %s "
			 "it",
			 d->pol->policy_domain, p ? p : "none",
			 d->testing_lowered ? " with t=y (testing: one step "
					      "milder)"
					    : "",
			 strcmp(d->disposition, "reject") == 0 ? "reject"
							       : "quarantine");
	return buf;
}

/* Why nothing aligned: SPF's and DKIM's part in a few words. */
static const char *no_alignment(const msg_analysis *a, char *buf, size_t cap)
{
	const msg_dmarc *d = &a->dmarc;
	const char *spf = !d->spf_known ? "SPF was not checked"
			  : a->main.result != SPFKIT_RESULT_PASS
			      ? "SPF did not pass"
			      : "SPF passed for a domain that does not align";
	const char *dkim = a->dkim.total == 0 ? "the message has no DKIM "
						"signature"
			   : find_sig(a, "pass", false)
			       ? "DKIM passed only for domains that do not "
				 "align"
			       : "no DKIM signature passed";
	snprintf(buf, cap, "%s (%s), and %s", spf,
		 d->spf_domain[0] ? d->spf_domain : "-", dkim);
	return buf;
}

/* The contact form of story_contact_form(), as DMARC judges it. */
static bool dmarc_contact_form(msg_analysis *a, const char *why,
			       const char *ask)
{
	const msg_dmarc *d = &a->dmarc;
	if (!has_diag(a, "contact-form"))
		return false;
	add_diag(a, "contact-form-dmarc",
		 "DMARC fails for %s: %s. %s. A form that sends as its "
		 "visitor can never pass DMARC for the visitor's domain. "
		 "The fix: send From an address of the site's own domain "
		 "(which its SPF and DKIM cover) and put the visitor's "
		 "address in Reply-To",
		 d->author, why, ask);
	return true;
}

/* A mailing list that changed the message after the author signed. */
static bool dmarc_list(msg_analysis *a, const char *ask)
{
	char b1[1024];
	const msg_dmarc *d = &a->dmarc;
	const msg_dkim_sig *s = broken_author_sig(a);
	if (!a->m->list_id.p || !s)
		return false;
	bool tag = a->m->subject.p && a->m->subject.len > 0 &&
		   a->m->subject.p[0] == '[';
	bool body = strstr(s->reason, "body") != NULL;
	add_diag(a, "mailing-list-broke-dkim",
		 "a mailing list (%s) changed the message after %s signed "
		 "it (%s%s%s): the signature d=%s fails (%s), and SPF "
		 "passes at most for the list's own domain, which does not "
		 "align. Nothing aligned: DMARC fails for %s, and %s. Fix "
		 "at the list: leave subject and body as they are, or "
		 "rewrite From to the list's address and keep the author "
		 "in Reply-To (DMARC mitigation); receivers may trust the "
		 "list's ARC seal",
		 esc(a->m->list_id, b1, sizeof b1), d->author,
		 body ? "a footer added to the body" : "",
		 body && tag ? ", " : "",
		 tag ? "a subject tag" : (!body ? "signed header fields" : ""),
		 s->domain, s->reason, d->author, ask);
	return true;
}

/* A sending service whose envelope domain is its own: DMARC rests on
 * DKIM with the author's domain. */
static bool dmarc_esp(msg_analysis *a, const char *ask)
{
	const msg_dmarc *d = &a->dmarc;
	if (!has_diag(a, "different-envelope-domain"))
		return false;
	const msg_dkim_sig *own = find_sig(a, "pass", false);
	if (own)
		add_diag(a, "esp-dkim-not-aligned",
			 "DMARC rests on DKIM here: the service's envelope "
			 "domain %s is its own, so SPF cannot align, and it "
			 "signs with its own domain only (d=%s), which does "
			 "not align with %s either: DMARC fails, and %s. "
			 "Have the service sign with %s (a key it gives you, "
			 "published at SELECTOR._domainkey.%s, often a "
			 "CNAME)",
			 d->spf_domain, own->domain, d->author, ask, d->author,
			 d->author);
	else
		add_diag(a, "esp-no-dkim",
			 "DMARC rests on DKIM here: the service's envelope "
			 "domain %s is its own, so SPF cannot align, and no "
			 "DKIM signature passed: DMARC fails for %s, and %s. "
			 "Have the service sign with %s",
			 d->spf_domain, d->author, ask, d->author);
	return true;
}

/* DMARC passed: say which identifier carried it, and why a forward did
 * not break it. */
static void dmarc_pass(msg_analysis *a)
{
	const msg_dmarc *d = &a->dmarc;
	const msg_dkim_sig *s = find_sig(a, "pass", true);
	if (has_diag(a, "forwarding") && s && !d->spf_aligned) {
		add_diag(a, "forward-dkim-survived",
			 "DMARC still passes for %s: SPF broke at the "
			 "forwarder, which kept the envelope sender, but the "
			 "author's DKIM signature (d=%s) survived the forward "
			 "unchanged, and DMARC needs only one aligned pass "
			 "(RFC 9989 section 4.4). DKIM is bound to the "
			 "message, not to the path it took",
			 d->author, s->domain);
		return;
	}
	add_diag(a, "dmarc-pass", "DMARC passes for %s: %s%s%s%s", d->author,
		 d->spf_aligned ? "SPF passed for the aligned domain " : "",
		 d->spf_aligned ? d->spf_domain : "",
		 d->spf_aligned && s ? " and " : "",
		 s ? "a DKIM signature of an aligned domain passed" : "");
}

/* The DMARC verdict as a story (RFC 9989): the contact form, a list that
 * broke DKIM, a service's own domains, a forward DKIM survived, or the
 * plain result. */
static void diagnose_dmarc(msg_analysis *a)
{
	char why[768], ask[512];
	const msg_dmarc *d = &a->dmarc;
	if (d->why_not) {
		add_diag(a, "dmarc-no-author", "DMARC cannot be applied: %s",
			 d->why_not);
		return;
	}
	if (strcmp(d->result, "temperror") == 0) {
		add_diag(a, "dmarc-temperror",
			 "DMARC could not be evaluated for %s: a DNS lookup "
			 "of its policy (or of an identifier's organizational "
			 "domain) failed. Receivers defer or deliver; try "
			 "again later",
			 d->author);
		return;
	}
	if (strcmp(d->result, "pass") == 0) {
		dmarc_pass(a);
		return;
	}
	if (strcmp(d->result, "fail") != 0)
		return; /* none: no record, nothing to judge by */
	no_alignment(a, why, sizeof why);
	asks(d, ask, sizeof ask);
	if (dmarc_contact_form(a, why, ask) || dmarc_list(a, ask) ||
	    dmarc_esp(a, ask))
		return;
	add_diag(a, "dmarc-fail", "DMARC fails for %s: %s. %s", d->author, why,
		 ask);
}

void msg_diagnose(const psl_ctx_t *psl, msg_analysis *a)
{
	const msgp_msg *m = a->m;
	diagnose_input(a);
	if (!a->main.done) {
		add_diag(a, "not-checked", "SPF could not be checked again: %s",
			 a->why_not ? a->why_not : "unknown");
		diagnose_dmarc(a);
		return;
	}
	orgs o;
	org_of(psl, m->from.domain, o.from, sizeof o.from);
	org_of(psl, msg_vstr(spfkit_check_domain(a->main.chk)), o.env,
	       sizeof o.env);
	org_of(psl, a->helo, o.helo, sizeof o.helo);
	msgp_view rcpt = m->to.ok ? m->to.domain : msg_vnone();
	if (!rcpt.p && a->hop >= 0 && m->received[a->hop].for_addr.p)
		rcpt = addr_domain(m->received[a->hop].for_addr);
	org_of(psl, rcpt, o.rcpt, sizeof o.rcpt);
	if (!story_forwarding(a, &o) && !story_contact_form(a, &o) &&
	    !story_list(a, &o))
		story_result(a, &o);
	diagnose_dmarc(a);
	diagnose_notes(a);
}
