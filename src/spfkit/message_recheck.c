/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_recheck.c - the SPF checks of `spfkit message`, run again with
 * the library over the DNS the options name (dnsrun.h): MAIL FROM (RFC
 * 7208 §2.4, postmaster@HELO for the null sender), the HELO name (§2.3),
 * and, when the check fails, the hops before the receiver's, to tell
 * forwarding apart. Then DMARC's SPF alignment (RFC 7489 §3.1.2) of the
 * header From domain. Results go into the analysis; nothing is printed.
 */
#include "message.h"

/* How far down the Received chain the forwarding check looks. */
#define UPSTREAM_HOPS 3u

/* Runs one check into out. Returns SPFKIT_OK, also when the library
 * refuses the identities (out->done stays false), or a negative status
 * (out of memory, driver trouble). */
static int run_one(cli_dns *dns, const spfkit_config *cfg, msgp_view ip,
		   msgp_view sender, msgp_view helo, spfkit_scope scope,
		   msg_check *out)
{
	char ipbuf[64];
	if (!ip.p || ip.len >= sizeof ipbuf)
		return SPFKIT_OK;
	memcpy(ipbuf, ip.p, ip.len);
	ipbuf[ip.len] = '\0';
	spfkit_check *chk = NULL;
	int rc = spfkit_check_new(&chk, cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_ip(chk, ipbuf);
	if (rc == SPFKIT_EINVAL) {
		/* Validated by the parser; an odd form the library refuses
		 * is no check at all. */
		spfkit_check_free(chk);
		return SPFKIT_OK;
	}
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_sender(chk, sender.p ? sender.p : "",
					     sender.len);
	if (rc == SPFKIT_OK && helo.p)
		rc = spfkit_check_set_helo(chk, helo.p, helo.len);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_scope(chk, scope);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_timestamp(chk, cli_unix_time());
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(dns, chk);
	if (rc < 0) {
		spfkit_check_free(chk);
		if (rc == SPFKIT_ETOOBIG || rc == SPFKIT_EINVAL)
			return SPFKIT_OK; /* an identity the library refuses */
		return rc;
	}
	out->done = true;
	out->chk = chk;
	out->result = spfkit_check_result(chk);
	return SPFKIT_OK;
}

/* Is v a host name worth a HELO check (a dot, no literal)? */
static bool helo_checkable(msgp_view v)
{
	return v.p && v.len > 2 && v.len <= 253 && v.p[0] != '[' &&
	       memchr(v.p, '.', v.len) != NULL;
}

/* Forwarding: did the sender's domain authorise one of the Internet
 * hops just before the receiver's? The first that passes goes into
 * a->up. Returns an spfkit_status. */
static int check_upstream(cli_dns *dns, const spfkit_config *cfg,
			  msg_analysis *a)
{
	const msgp_msg *m = a->m;
	for (size_t k = (size_t)a->hop + 1;
	     k < m->nreceived && k <= (size_t)a->hop + UPSTREAM_HOPS; k++) {
		const msgp_received *h = &m->received[k];
		if (!h->ip.p || msgp_ip_internal(h->ip))
			continue;
		msg_check c = {0};
		int rc = run_one(dns, cfg, h->ip, a->sender, h->helo,
				 SPFKIT_SCOPE_MAILFROM, &c);
		if (rc < 0)
			return rc;
		if (c.done && c.result == SPFKIT_RESULT_PASS) {
			a->up = c;
			a->up_hop = (long)k;
			break;
		}
		spfkit_check_free(c.chk);
	}
	return SPFKIT_OK;
}

/* The checks of msg_run_checks(); returns an spfkit_status. */
static int run_checks(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a)
{
	if (a->why_not)
		return SPFKIT_OK;
	int rc = run_one(dns, cfg, a->ip, a->sender, a->helo,
			 SPFKIT_SCOPE_MAILFROM, &a->main);
	if (rc < 0)
		return rc;
	if (!a->main.done) {
		a->why_not = "the library refused the identities";
		return SPFKIT_OK;
	}
	if (!a->null_sender && helo_checkable(a->helo)) {
		rc = run_one(dns, cfg, a->ip, msg_vnone(), a->helo,
			     SPFKIT_SCOPE_HELO, &a->helo_chk);
		if (rc < 0)
			return rc;
	}
	spfkit_result r = a->main.result;
	if ((r == SPFKIT_RESULT_FAIL || r == SPFKIT_RESULT_SOFTFAIL) &&
	    a->hop >= 0 && !a->null_sender &&
	    strcmp(a->ip_source, "received") == 0) {
		rc = check_upstream(dns, cfg, a);
		if (rc < 0)
			return rc;
	}
	if (!a->recorded)
		a->compared = "nothing-recorded";
	else if (strcmp(a->recorded, spfkit_result_name(r)) == 0)
		a->compared = "same";
	else
		a->compared = "different";
	if (a->bounce_spf)
		a->bounce_compared =
		    strcmp(a->bounce_spf, spfkit_result_name(r)) == 0
			? "same"
			: "different";
	return SPFKIT_OK;
}

int msg_run_checks(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a)
{
	int rc = run_checks(dns, cfg, a);
	if (rc < 0)
		return msg_refuse(a, CLI_EX_SOFTWARE, "check: %s",
				  spfkit_strerror(rc));
	return 0;
}

/* RFC 7489 §3.1.2: the header From domain against the domain SPF
 * checked (MAIL FROM, or HELO for the null sender), strictly and by
 * organizational domain. */
void msg_align(const psl_ctx_t *psl, msg_analysis *a)
{
	if (!a->main.done || !a->m->from.ok)
		return;
	const char *d = spfkit_check_domain(a->main.chk);
	if (!msg_lower_domain(a->m->from.domain, a->from_dom,
			      sizeof a->from_dom) ||
	    !d || !msg_lower_domain(msg_vstr(d), a->spf_dom, sizeof a->spf_dom))
		return;
	a->have_align = true;
	a->spf_dom_source = a->null_sender ? "helo" : "mail-from";
	a->strict = strcmp(a->from_dom, a->spf_dom) == 0;
	a->psl_ok = psl != NULL;
	if (psl) {
		a->from_org = psl_registrable_domain(psl, a->from_dom);
		a->spf_org = psl_registrable_domain(psl, a->spf_dom);
	}
	if (a->from_org && a->spf_org)
		a->relaxed = strcmp(a->from_org, a->spf_org) == 0;
	else
		a->relaxed = a->strict;
	a->spf_pass = a->main.result == SPFKIT_RESULT_PASS;
}
