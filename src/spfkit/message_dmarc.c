/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_dmarc.c - the DMARC verdict of `spfkit message` (RFC 9989): the
 * author domain from the header From (§4.4: exactly one From field with
 * one address), its policy by the DNS tree walk (§4.10, a DMARC discovery
 * check of libspfkit over the command's DNS source), SPF alignment of the
 * MAIL FROM result only (§4.4.2; for the null sender the check of
 * postmaster@HELO, never a HELO-only check), DKIM alignment of each
 * signature that passed (§4.4.1), organizational domains by discovering
 * each identifier domain (§4.10.2; cached for the run), then the result
 * and what the policy asks for the message (§4.7, t=y of §4.7 one step
 * milder). Fills a->dmarc; prints nothing.
 */
#include "message.h"

/* The discovery of domain, from the run's cache or a new one. NULL when
 * the cache is full or the library refuses the name; *rc is a negative
 * status for out of memory or driver trouble. */
static msg_org *discover(cli_dns *dns, const spfkit_config *cfg, msg_dmarc *d,
			 const char *domain, int *rc)
{
	for (size_t i = 0; i < d->norgs; i++)
		if (strcmp(d->orgs[i].domain, domain) == 0)
			return &d->orgs[i];
	if (d->norgs >= MSG_ORGS_MAX)
		return NULL;
	spfkit_check *chk = NULL;
	int r = spfkit_check_new(&chk, cfg);
	if (r == SPFKIT_OK)
		r = spfkit_check_set_dmarc(chk, domain, strlen(domain));
	if (r == SPFKIT_OK)
		r = cli_dns_run(dns, chk);
	if (r < 0) {
		spfkit_check_free(chk);
		if (r != SPFKIT_EINVAL && r != SPFKIT_ETOOBIG)
			*rc = r;
		return NULL;
	}
	msg_org *o = &d->orgs[d->norgs++];
	snprintf(o->domain, sizeof o->domain, "%s", domain);
	o->chk = chk;
	o->found = spfkit_check_dmarc(chk);
	return o;
}

/* The organizational domain of domain (§4.10.2), or NULL when its
 * discovery failed (noted in d->org_temperror). */
static const char *org_of(cli_dns *dns, const spfkit_config *cfg, msg_dmarc *d,
			  const char *domain, int *rc)
{
	msg_org *o = discover(dns, cfg, d, domain, rc);
	if (!o || !o->found || o->found->status == SPFKIT_DMARC_TEMPERROR ||
	    !o->found->org_domain) {
		d->org_temperror = true;
		return NULL;
	}
	return o->found->org_domain;
}

/* Does id (with organizational domain id_org, NULL when unknown) align
 * with the author domain in mode? Relaxed alignment needs both
 * organizational domains; without them only the same name aligns. */
static bool aligns(const msg_dmarc *d, char mode, const char *id,
		   const char *id_org)
{
	const char *aorg = d->pol ? d->pol->org_domain : NULL;
	if (!aorg || !id_org)
		return strcmp(d->author, id) == 0;
	return spfkit_dmarc_aligned(mode, d->author, aorg, id, id_org);
}

/* The author domain (RFC 9989 §4.4): one From field, one mailbox, a
 * domain; else why there is none. */
static const char *author_domain(const msgp_msg *m, char *dst, size_t cap)
{
	const msgp_addr *f = &m->from;
	if (!f->present || f->fields == 0)
		return "the message has no From field";
	if (f->fields > 1)
		return "the message has more than one From field: no single "
		       "author domain (RFC 9989 section 4.4)";
	if (f->count != 1)
		return f->count == 0
			   ? "the From field has no mailbox"
			   : "the From field has more than one mailbox: no "
			     "single author domain (RFC 9989 section 4.4)";
	if (!f->ok || !msg_lower_domain(f->domain, dst, cap))
		return "the From address has no usable domain";
	return NULL;
}

/* One step milder (t=y, RFC 9989 §4.7, as pct=0 was in RFC 7489 §6.6.4):
 * reject is quarantined, quarantine is delivered. */
static spfkit_dmarc_disp milder(spfkit_dmarc_disp p)
{
	return p == SPFKIT_DMARC_P_REJECT ? SPFKIT_DMARC_P_QUARANTINE
					  : SPFKIT_DMARC_P_NONE;
}

/* SPF's part: the MAIL FROM check's domain and result (RFC 9989 §4.4.2). */
static void spf_part(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a,
		     int *rc)
{
	msg_dmarc *d = &a->dmarc;
	if (!a->main.done)
		return;
	const char *dom = spfkit_check_domain(a->main.chk);
	if (!dom || !msg_lower_domain(msg_vstr(dom), d->spf_domain,
				      sizeof d->spf_domain))
		return;
	d->spf_known = true;
	d->spf_org = org_of(dns, cfg, d, d->spf_domain, rc);
	d->spf_would_align = aligns(d, d->pol->aspf, d->spf_domain, d->spf_org);
	d->spf_aligned =
	    d->spf_would_align && a->main.result == SPFKIT_RESULT_PASS;
}

/* DKIM's part: each signature's organizational domain and alignment;
 * only a pass aligns (RFC 9989 §4.4.1). */
static void dkim_part(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a,
		      int *rc)
{
	msg_dmarc *d = &a->dmarc;
	for (size_t i = 0; i < a->dkim.n; i++) {
		msg_dkim_sig *s = &a->dkim.sigs[i];
		if (!s->domain_ok)
			continue;
		s->org = org_of(dns, cfg, d, s->domain_lc, rc);
		s->aligned = strcmp(s->result, "pass") == 0 &&
			     aligns(d, d->pol->adkim, s->domain_lc, s->org);
		d->dkim_aligned |= s->aligned;
	}
}

int msg_dmarc_run(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a)
{
	msg_dmarc *d = &a->dmarc;
	int rc = SPFKIT_OK;
	d->result = "none";
	d->disposition = "none";
	d->why_not = author_domain(a->m, d->author, sizeof d->author);
	if (d->why_not)
		return 0;
	msg_org *o = discover(dns, cfg, d, d->author, &rc);
	if (rc < 0)
		goto fail;
	if (!o || !o->found) {
		d->why_not = "the From domain is no domain DMARC can look up";
		return 0;
	}
	d->pol = o->found;
	if (d->pol->status == SPFKIT_DMARC_TEMPERROR) {
		d->result = "temperror";
		return 0;
	}
	spf_part(dns, cfg, a, &rc);
	dkim_part(dns, cfg, a, &rc);
	if (rc < 0)
		goto fail;
	if (d->pol->status == SPFKIT_DMARC_NONE)
		return 0; /* §4.10: no record, DMARC does not apply */
	if (d->spf_aligned || d->dkim_aligned) {
		d->result = "pass";
		return 0;
	}
	/* An identifier that passed but whose organizational domain could
	 * not be found might have aligned: no verdict yet. */
	bool passed = (d->spf_known && a->main.result == SPFKIT_RESULT_PASS);
	for (size_t i = 0; i < a->dkim.n; i++)
		passed |= strcmp(a->dkim.sigs[i].result, "pass") == 0;
	if (d->org_temperror && passed) {
		d->result = "temperror";
		return 0;
	}
	d->result = "fail";
	spfkit_dmarc_disp p = d->pol->policy;
	if (p == SPFKIT_DMARC_P_UNSET)
		p = SPFKIT_DMARC_P_NONE;
	if (d->pol->testing && p != SPFKIT_DMARC_P_NONE) {
		p = milder(p);
		d->testing_lowered = true;
	}
	d->disposition = spfkit_dmarc_disp_name(p);
	return 0;
fail:
	return msg_refuse(a, CLI_EX_SOFTWARE, "DMARC: %s", spfkit_strerror(rc));
}

void msg_dmarc_free(msg_dmarc *d)
{
	for (size_t i = 0; i < d->norgs; i++)
		spfkit_check_free(d->orgs[i].chk);
	d->norgs = 0;
}
