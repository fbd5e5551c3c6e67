/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - configuration plus SPF results to a decision (decide.h).
 * RFC 7208 §8 leaves the handling of each result to the receiver; the
 * configuration says it per result and identity. Whatever it says, a
 * temporary error never rejects (§8.6: it is not the sender's fault):
 * the config parser refuses that, and a must_pass_domains entry defers
 * on temperror instead of rejecting.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "hdrfold.h"

const char *spfkitd_why_name(spfkitd_why w)
{
	switch (w) {
	case SPFKITD_WHY_HELO: return "helo";
	case SPFKITD_WHY_MAILFROM: return "mailfrom";
	case SPFKITD_WHY_MUST_PASS: return "must_pass_domains";
	case SPFKITD_WHY_SKIP_ADDR: return "skip_addresses";
	case SPFKITD_WHY_SKIP_AUTH: return "skip_authenticated";
	case SPFKITD_WHY_NO_CLIENT: return "no_client_address";
	case SPFKITD_WHY_WL_IP: return "whitelist_ip";
	case SPFKITD_WHY_WL_HELO: return "whitelist_helo";
	case SPFKITD_WHY_WL_SENDER: return "whitelist_sender_domain";
	case SPFKITD_WHY_INTERNAL: return "internal_error";
	}
	return "unknown";
}

/* The domain of an address: after its last '@', or empty. */
static spfkitd_view domain_of(spfkitd_view addr)
{
	for (size_t i = addr.len; i > 0; i--)
		if (addr.ptr[i - 1] == '@')
			return (spfkitd_view){addr.ptr + i, addr.len - i};
	return (spfkitd_view){addr.ptr, 0};
}

static bool present(spfkitd_view v)
{
	return v.ptr != NULL && v.len > 0;
}

/* Postfix sends "unknown" when it has no name or address. */
/* A client address that parses (Postfix sends "unknown" when it has
 * none; anything else unparsable is a broken request, not our trouble). */
static bool usable_ip(spfkitd_view v)
{
	char text[64];
	if (!present(v) || v.len >= sizeof text)
		return false;
	memcpy(text, v.ptr, v.len);
	text[v.len] = '\0';
	unsigned char bin[16];
	return inet_pton(AF_INET, text, bin) == 1 ||
	       inet_pton(AF_INET6, text, bin) == 1;
}

spfkitd_pre spfkitd_decide_pre(const spfkitd_conf *c, const spfkitd_msg *m,
			       spfkitd_why *why)
{
	if (!usable_ip(m->ip)) {
		*why = SPFKITD_WHY_NO_CLIENT;
		return SPFKITD_PRE_SKIP;
	}
	if (spfkitd_cidr_match(&c->skip_addresses, m->ip.ptr, m->ip.len)) {
		*why = SPFKITD_WHY_SKIP_ADDR;
		return SPFKITD_PRE_SKIP;
	}
	if (c->skip_authenticated && present(m->sasl_username)) {
		*why = SPFKITD_WHY_SKIP_AUTH;
		return SPFKITD_PRE_SKIP;
	}
	if (spfkitd_cidr_match(&c->whitelist_ip, m->ip.ptr, m->ip.len)) {
		*why = SPFKITD_WHY_WL_IP;
		return SPFKITD_PRE_WHITELIST;
	}
	if (present(m->helo) &&
	    spfkitd_domain_match(&c->whitelist_helo, m->helo.ptr,
				 m->helo.len)) {
		*why = SPFKITD_WHY_WL_HELO;
		return SPFKITD_PRE_WHITELIST;
	}
	spfkitd_view d = domain_of(m->sender);
	if (present(d) &&
	    spfkitd_domain_match(&c->whitelist_sender_domain, d.ptr, d.len)) {
		*why = SPFKITD_WHY_WL_SENDER;
		return SPFKITD_PRE_WHITELIST;
	}
	return SPFKITD_PRE_CHECK;
}

bool spfkitd_want_helo(const spfkitd_conf *c, const spfkitd_msg *m)
{
	return c->helo_check && present(m->helo);
}

bool spfkitd_want_mailfrom(const spfkitd_conf *c, const spfkitd_msg *m)
{
	/* RFC 7208 §2.4: a null sender is checked as postmaster@HELO; with
	 * no HELO either, the check gives none (§4.3: no usable domain). */
	(void)m;
	return c->mailfrom_check;
}

/* Is domain (n bytes) in Reject_Not_Pass_Domains? pyspf's domainmatch():
 * an entry equal to it or below it, case-insensitive. */
static bool not_pass_domain(const spfkitd_conf *c, const char *d, size_t n)
{
	for (size_t i = 0; n && i < c->not_pass_domains.n; i++) {
		const char *e = c->not_pass_domains.v[i];
		size_t en = strlen(e);
		if (en < n)
			continue;
		const char *tail = e + en - n;
		if (strncasecmp(tail, d, n) == 0 &&
		    (en == n || tail[-1] == '.'))
			return true;
	}
	return false;
}

/* The action of result r of an identity (domain d, n bytes) whose
 * configured actions are a: Reject_Not_Pass_Domains makes fail, softfail
 * and neutral reject. */
static spfkitd_action result_action(const spfkitd_conf *c,
				    const spfkitd_action *a, spfkit_result r,
				    const char *d, size_t n)
{
	if ((r == SPFKIT_RESULT_FAIL || r == SPFKIT_RESULT_SOFTFAIL ||
	     r == SPFKIT_RESULT_NEUTRAL) &&
	    not_pass_domain(c, d, n))
		return SPFKITD_REJECT;
	return a[r];
}

/* The configured action of a HELO result for this message. */
static spfkitd_action helo_action(const spfkitd_conf *c, const spfkitd_msg *m,
				  spfkit_result r)
{
	spfkitd_action a =
	    result_action(c, c->helo_action, r, m->helo.ptr, m->helo.len);
	/* HELO_reject = Null: the HELO result decides for the null sender
	 * only (policyd-spf answers "dunno" for it otherwise). */
	if (c->helo_null_only && present(m->sender))
		a = SPFKITD_ACCEPT;
	return a;
}

bool spfkitd_helo_decides(const spfkitd_conf *c, const spfkitd_msg *m,
			  spfkit_result r)
{
	return (unsigned)r < SPFKITD_NRESULTS &&
	       helo_action(c, m, r) != SPFKITD_ACCEPT;
}

/* ------------------------------------------------------------ replies */

/* A bounded output string: appends stop at the capacity. */
typedef struct out {
	char *s;
	size_t n, cap;
} out;

/* Appends n bytes, each outside printable ASCII replaced by '?' so a
 * reply never carries CR, LF or controls. */
static void put(out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->n + 1 < o->cap; i++) {
		unsigned char c = (unsigned char)s[i];
		o->s[o->n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	o->s[o->n] = '\0';
}

static void puts_(out *o, const char *s)
{
	if (s)
		put(o, s, strlen(s));
}

static void putv(out *o, spfkitd_view v)
{
	if (v.ptr)
		put(o, v.ptr, v.len);
}

/* A sentence for %{explanation} when the record gave none. */
static void default_explanation(out *o, spfkitd_why why, spfkit_result r,
				const char *ip, const char *domain)
{
	if (why == SPFKITD_WHY_MUST_PASS) {
		puts_(o, domain);
		puts_(o, " requires SPF pass");
		return;
	}
	switch (r) {
	case SPFKIT_RESULT_PASS:
		puts_(o, ip);
		puts_(o, " is authorised by ");
		puts_(o, domain);
		break;
	case SPFKIT_RESULT_FAIL:
	case SPFKIT_RESULT_SOFTFAIL:
		puts_(o, ip);
		puts_(o, " is not authorised to send mail as ");
		puts_(o, domain);
		break;
	case SPFKIT_RESULT_NEUTRAL:
		puts_(o, domain);
		puts_(o, " makes no assertion about ");
		puts_(o, ip);
		break;
	case SPFKIT_RESULT_NONE:
		puts_(o, domain);
		puts_(o, " has no usable SPF record");
		break;
	case SPFKIT_RESULT_TEMPERROR:
		puts_(o, "temporary DNS error looking up ");
		puts_(o, domain);
		puts_(o, "; try again later");
		break;
	case SPFKIT_RESULT_PERMERROR:
		puts_(o, "the SPF record of ");
		puts_(o, domain);
		puts_(o, " is in error");
		break;
	}
}

/* Expands a reply template (spfkitd_template_check() passed it). */
static void expand(out *o, const char *t, const spfkitd_msg *m,
		   const spfkit_check *chk, spfkitd_why why)
{
	spfkit_result r = spfkit_check_result(chk);
	const char *ip = spfkit_check_ip(chk);
	const char *domain = spfkit_check_domain(chk);
	for (const char *p = t; *p && o->n + 1 < o->cap; p++) {
		if (*p != '%') {
			put(o, p, 1);
			continue;
		}
		if (p[1] == '%') {
			put(o, "%", 1);
			p++;
			continue;
		}
		const char *name = p + 2, *close = strchr(name, '}');
		if (p[1] != '{' || !close)
			break; /* refused by the config parser */
		size_t n = (size_t)(close - name);
		p = close;
#define IS(s) (n == sizeof s - 1 && memcmp(name, s, n) == 0)
		if (IS("result")) {
			puts_(o, spfkit_result_name(r));
		} else if (IS("explanation")) {
			const char *e = spfkit_check_explanation(chk);
			if (!e && why != SPFKITD_WHY_MUST_PASS)
				e = spfkit_check_problem(chk);
			if (e && why != SPFKITD_WHY_MUST_PASS)
				puts_(o, e);
			else
				default_explanation(o, why, r, ip, domain);
		} else if (IS("sender")) {
			puts_(o, spfkit_check_sender(chk));
		} else if (IS("ip")) {
			puts_(o, ip);
		} else if (IS("helo")) {
			putv(o, m->helo);
		} else if (IS("domain")) {
			puts_(o, domain);
		} else if (IS("identity")) {
			puts_(o, spfkit_check_identity(chk));
		} else if (IS("client_name")) {
			putv(o, m->client_name);
		} else if (IS("recipient")) {
			putv(o, m->recipient);
		} else if (IS("problem")) {
			puts_(o, spfkit_check_problem(chk));
		} else if (IS("mechanism")) {
			puts_(o, spfkit_check_mechanism(chk));
		} else if (IS("queue_id")) {
			putv(o, m->queue_id);
		}
#undef IS
	}
}

/* ------------------------------------------------------------ decisions */

/* HELO_pass_restriction and Mail_From_pass_restriction (policyd-spf): a
 * pass answers with a Postfix restriction class, the MAIL FROM's first;
 * a HELO pass does so even when MAIL FROM would reject (as policyd-spf
 * documents), and the null sender only knows its HELO's. Not in the
 * test mode, where policyd-spf answers DUNNO. */
static void pass_restriction(const spfkitd_conf *c, const spfkitd_msg *m,
			     const spfkit_check *helo,
			     const spfkit_check *mailfrom, spfkitd_decision *d)
{
	const char *r = NULL;
	if (c->helo_pass_restriction && helo &&
	    spfkit_check_result(helo) == SPFKIT_RESULT_PASS)
		r = c->helo_pass_restriction;
	if (c->mailfrom_pass_restriction && mailfrom && present(m->sender) &&
	    spfkit_check_result(mailfrom) == SPFKIT_RESULT_PASS)
		r = c->mailfrom_pass_restriction;
	if (r && !(c->test_only >> SPFKIT_RESULT_PASS & 1u))
		snprintf(d->restriction, sizeof d->restriction, "%s", r);
}

int spfkitd_decide(const spfkitd_conf *c, const spfkit_config *scfg,
		   const spfkitd_msg *m, const spfkit_check *helo,
		   const spfkit_check *mailfrom, spfkitd_decision *d)
{
	*d = (spfkitd_decision){.checked = true, .scfg = scfg};
	const spfkit_check *by = NULL;
	spfkitd_action a = SPFKITD_ACCEPT;
	if (helo) {
		spfkit_result r = spfkit_check_result(helo);
		a = (unsigned)r < SPFKITD_NRESULTS ? helo_action(c, m, r)
						   : SPFKITD_ACCEPT;
		by = helo;
		d->why = SPFKITD_WHY_HELO;
	}
	if (mailfrom && a == SPFKITD_ACCEPT) {
		spfkit_result r = spfkit_check_result(mailfrom);
		spfkitd_view sd = domain_of(m->sender);
		a = (unsigned)r < SPFKITD_NRESULTS
			? result_action(c, c->mailfrom_action, r, sd.ptr,
					sd.len)
			: SPFKITD_ACCEPT;
		by = mailfrom;
		d->why = SPFKITD_WHY_MAILFROM;
		const char *dom = spfkit_check_domain(mailfrom);
		if (r != SPFKIT_RESULT_PASS && dom &&
		    spfkitd_domain_match(&c->must_pass_domains, dom,
					 strlen(dom))) {
			/* §8.6: no rejection for a temporary error. */
			a = r == SPFKIT_RESULT_TEMPERROR ? SPFKITD_DEFER
							 : SPFKITD_REJECT;
			d->why = SPFKITD_WHY_MUST_PASS;
		}
	}
	if (!by) {
		spfkitd_decide_internal(c, d);
		return SPFKIT_OK;
	}
	d->result = spfkit_check_result(by);
	d->identity = by == helo ? "helo" : "mailfrom";
	d->verdict = a;
	pass_restriction(c, m, helo, mailfrom, d);
	/* test_only: the result's action is logged, the message accepted. */
	d->action = (unsigned)d->result < SPFKITD_NRESULTS &&
			    (c->test_only >> d->result & 1u)
			? SPFKITD_ACCEPT
			: a;

	bool perm = d->result == SPFKIT_RESULT_PERMERROR;
	bool temp = d->result == SPFKIT_RESULT_TEMPERROR;
	out o = {d->text, 0, sizeof d->text};
	d->text[0] = '\0';
	if (a == SPFKITD_REJECT) {
		/* RFC 7372 §3.2: X.7.23 validation failed, X.7.24 error. */
		d->code = c->reject_code;
		snprintf(d->ext, sizeof d->ext, "5.7.%d", perm ? 24 : 23);
		d->plain_code = !c->enhanced_codes;
		expand(&o, c->reject_reason, m, by, d->why);
	} else if (spfkitd_action_defers(a)) {
		d->code = c->defer_code;
		snprintf(d->ext, sizeof d->ext, "4.7.%d",
			 perm || temp ? 24 : 23);
		d->plain_code = !c->enhanced_codes;
		expand(&o, c->defer_reason, m, by, d->why);
	}
	if (d->action != SPFKITD_ACCEPT || c->header == SPFKITD_HEADER_NONE)
		return SPFKIT_OK;
	/* The header is about the MAIL FROM identity when it was checked
	 * (RFC 7208 §9.1), else about HELO. */
	const spfkit_check *hc = mailfrom ? mailfrom : helo;
	int rc = spfkit_check_header(hc,
				     c->header == SPFKITD_HEADER_AUTHRES
					 ? SPFKIT_HEADER_AUTHENTICATION_RESULTS
					 : SPFKIT_HEADER_RECEIVED_SPF,
				     c->authserv_id, &d->header);
	if (rc < 0) {
		d->header = NULL;
		return rc;
	}
	return SPFKIT_OK;
}

void spfkitd_decide_skip(const spfkitd_conf *c, spfkitd_why why,
			 spfkitd_decision *d)
{
	(void)c;
	*d = (spfkitd_decision){.action = SPFKITD_ACCEPT,
				.verdict = SPFKITD_ACCEPT,
				.why = why,
				.identity = "-"};
}

void spfkitd_decide_internal(const spfkitd_conf *c, spfkitd_decision *d)
{
	*d = (spfkitd_decision){.action = c->internal_error_action,
				.verdict = c->internal_error_action,
				.why = SPFKITD_WHY_INTERNAL,
				.identity = "-"};
	if (d->action == SPFKITD_DEFER) {
		d->code = c->defer_code;
		snprintf(d->ext, sizeof d->ext, "4.3.0");
		snprintf(d->text, sizeof d->text,
			 "SPF check not possible: internal error; try again "
			 "later");
	} else {
		d->action = d->verdict = SPFKITD_ACCEPT;
	}
}

void spfkitd_decision_free(spfkitd_decision *d)
{
	if (d && d->header) {
		spfkit_free(d->scfg, d->header);
		d->header = NULL;
	}
}

size_t spfkitd_decision_policy_reply(const spfkitd_decision *d, char *buf,
				     size_t cap)
{
	int n;
	if (d->restriction[0]) { /* access(5): a restriction class */
		n = snprintf(buf, cap, "action=%s\n\n", d->restriction);
		return n < 0 ? 0 : (size_t)n;
	}
	switch (d->action) {
	case SPFKITD_DEFER_IF_PERMIT:
		/* access(5): Postfix adds its own 450 and enhanced code; a
		 * later restriction that rejects wins. */
		n = snprintf(buf, cap, "action=DEFER_IF_PERMIT %s\n\n",
			     d->text);
		break;
	case SPFKITD_REJECT:
	case SPFKITD_DEFER:
		/* access(5): "NNN text" with the enhanced code first. */
		/* SPF_Enhanced_Status_Codes = No: Postfix adds its own. */
		n = snprintf(buf, cap, "action=%u %s%s%s\n\n", d->code,
			     d->plain_code ? "" : d->ext,
			     d->plain_code ? "" : " ", d->text);
		break;
	case SPFKITD_ACCEPT:
	default:
		/* DUNNO, never OK: later restrictions still apply. */
		if (d->header && strlen(d->header) > SPFKITD_LINE_MUST) {
			/* PREPEND takes one line: kept within RFC 5322's
			 * limit by leaving out what only explains. */
			char *h = strdup(d->header);
			if (h)
				spfkitd_header_fit(h, SPFKITD_LINE_MUST);
			n = snprintf(buf, cap, "action=PREPEND %s\n\n",
				     h ? h : d->header);
			free(h);
		} else if (d->header) {
			n = snprintf(buf, cap, "action=PREPEND %s\n\n",
				     d->header);
		} else {
			n = snprintf(buf, cap, "action=DUNNO\n\n");
		}
		break;
	}
	return n < 0 ? 0 : (size_t)n;
}
