/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc.c - the kinds of check that are not SPF: a lookup of the TXT
 * records at one name (a DKIM key, RFC 6376 §3.6.2) and DMARC policy
 * discovery (RFC 9989 §4.10: the DNS Tree Walk, §4.10.1: the policy that
 * applies, §4.10.2: the organizational domain). They ask through the
 * check's query table (query.c), so every DNS driver serves them as it
 * serves an SPF check, and like the evaluator they do no I/O: each run goes
 * as far as the answers allow and returns SPFKIT_WANT_DNS for the rest.
 * The record's grammar is in dmarc_record.c, its lint in dmarc_lint.c.
 */
#include <string.h>

#include "check.h"
#include "dmarc.h"

/* "_dmarc." and a name of at most 253 octets. */
#define PREFIX     "_dmarc."
#define PREFIX_LEN 7
#define NAME_MAX   253

/* One _dmarc name the discovery asked about. */
typedef struct walk_step {
	const char *target; /* the domain under "_dmarc." (in the arena) */
	size_t target_len;
	unsigned labels;
	const spfkit__query *q; /* its answered query */
	size_t ndmarc;          /* DMARC records there (§4.10 step 2) */
	const char *record;     /* the one DMARC record, or NULL */
	size_t record_len;
	spfkit__dmarc_rec rec;
} walk_step;

typedef struct spfkit__kind_state spfkit__kind_state;
struct spfkit__kind_state {
	/* a TXT lookup */
	char *name;
	size_t name_len;
	const spfkit__query *q;

	/* a DMARC discovery */
	char *domain; /* lower case, no trailing dot */
	size_t len;
	unsigned labels;
	char *org; /* RFC 7489 mode: the organizational domain given */
	size_t org_len;
	unsigned next_labels; /* the next walk target's labels; 0: none */
	unsigned tried;       /* targets asked for or skipped (too long) */
	bool walked;          /* no more _dmarc names to ask */
	walk_step steps[SPFKIT__DMARC_MAX_WALK + 1];
	size_t nsteps; /* the walk's, then the org domain's below a PSD */
	size_t nwalk;  /* the walk's */
	bool over;     /* the discovery is over (pol is final) */
	spfkit_dmarc_policy pol;
};

/* ---------------------------------------------------------------- names */

/* Can (s, n) be asked for as one DNS name: labels of 1-63 octets, 253 in
 * all after one trailing dot is dropped, no control octet, space or DEL?
 * *out_n is n without that dot. */
static bool txt_name_ok(const char *s, size_t n, size_t *out_n)
{
	if (!s)
		return false;
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f)
			return false;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	*out_n = n;
	return label > 0;
}

/* Is (s, n) a domain a discovery can start from: labels of letters,
 * digits, '-' and '_' (RFC 5322 dot-atoms as mail uses them, A-labels
 * for IDNs), and a name DNS can hold? */
static bool dmarc_domain_ok(const char *s, size_t n, size_t *out_n)
{
	if (!txt_name_ok(s, n, out_n))
		return false;
	for (size_t i = 0; i < *out_n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!spfkit__is_alnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

static unsigned count_labels(const char *s, size_t n)
{
	unsigned k = n ? 1 : 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '.';
	return k;
}

/* The last k labels of (s, n) (k >= 1, at most the labels there are). */
static const char *suffix(const char *s, size_t n, unsigned k, size_t *len)
{
	unsigned seen = 0;
	for (size_t i = n; i-- > 0;)
		if (s[i] == '.' && ++seen == k) {
			*len = n - i - 1;
			return s + i + 1;
		}
	*len = n;
	return s;
}

/* Turns a new or reset chk into a check of kind about the name (s, n),
 * copied into the arena (lower-cased when lower) as *copy. */
static int set_kind(spfkit_check *chk, unsigned char kind, const char *s,
		    size_t n, bool lower, char **copy)
{
	if (chk->started || chk->kind || chk->ip_set)
		return SPFKIT_ESTATE;
	char *p = spfkit__arena_strndup(chk, s, n);
	spfkit__kind_state *ks =
	    p ? spfkit__arena_calloc(chk, sizeof *ks) : NULL;
	if (!ks)
		return SPFKIT_ENOMEM;
	for (size_t i = 0; lower && i < n; i++)
		p[i] = (char)spfkit__lower((unsigned char)p[i]);
	chk->ks = ks;
	chk->kind = kind;
	chk->domain = *copy = p;
	return SPFKIT_OK;
}

/* ---------------------------------------------------------------- TXT */

int spfkit_check_set_txt_lookup(spfkit_check *chk, const char *name, size_t len)
{
	size_t n;
	if (!chk || !txt_name_ok(name, len, &n))
		return SPFKIT_EINVAL;
	char *copy;
	int rc = set_kind(chk, SPFKIT__KIND_TXT, name, n, false, &copy);
	if (rc == SPFKIT_OK) {
		chk->ks->name = copy;
		chk->ks->name_len = n;
	}
	return rc;
}

/* A TXT lookup: the one query, reported as any check's. */
static bool txt_run(spfkit_check *chk)
{
	spfkit__kind_state *ks = chk->ks;
	bool need = false;
	ks->q = spfkit__ask(chk, ks->name, ks->name_len, SPFKIT_TYPE_TXT, &need,
			    true);
	return ks->q || !need;
}

int spfkit_check_txt_status(const spfkit_check *chk, spfkit_dns_status *status,
			    spfkit_dns_failure *why, size_t *n)
{
	if (!chk || chk->kind != SPFKIT__KIND_TXT || !chk->done)
		return SPFKIT_ESTATE;
	const spfkit__query *q = chk->ks->q;
	if (!q && chk->oom)
		return SPFKIT_ENOMEM;
	/* No answer at the end: the deadline passed before it came. */
	if (status)
		*status = q ? q->status : SPFKIT_DNS_TEMPFAIL;
	if (why)
		*why = q ? q->failure : SPFKIT_DNS_FAIL_TIMEOUT;
	if (n)
		*n = q && q->status == SPFKIT_DNS_NOERROR ? q->nitems : 0;
	return SPFKIT_OK;
}

int spfkit_check_txt_record(const spfkit_check *chk, size_t i, const char **txt,
			    size_t *len)
{
	size_t n;
	int rc = spfkit_check_txt_status(chk, NULL, NULL, &n);
	if (rc != SPFKIT_OK)
		return rc;
	if (i >= n)
		return SPFKIT_ENOENT;
	const spfkit__item *it = &chk->ks->q->items[i];
	if (txt)
		*txt = it->data;
	if (len)
		*len = it->len;
	return SPFKIT_OK;
}

/* ---------------------------------------------------------------- DMARC */

int spfkit_check_set_dmarc(spfkit_check *chk, const char *domain, size_t len)
{
	return spfkit_check_set_dmarc_org(chk, domain, len, NULL, 0);
}

int spfkit_check_set_dmarc_org(spfkit_check *chk, const char *domain,
			       size_t len, const char *org_domain,
			       size_t org_len)
{
	size_t n, on = 0;
	if (!chk || !dmarc_domain_ok(domain, len, &n) ||
	    (org_domain && !dmarc_domain_ok(org_domain, org_len, &on)))
		return SPFKIT_EINVAL;
	/* The organizational domain is the domain or one of its parents. */
	if (org_domain &&
	    !(on == n ? spfkit__ieq(domain, n, org_domain, on)
		      : on < n && domain[n - on - 1] == '.' &&
			    spfkit__ieq(domain + n - on, on, org_domain, on)))
		return SPFKIT_EINVAL;
	char *d;
	int rc = set_kind(chk, SPFKIT__KIND_DMARC, domain, n, true, &d);
	if (rc != SPFKIT_OK)
		return rc;
	spfkit__kind_state *ks = chk->ks;
	ks->domain = d;
	ks->len = n;
	ks->labels = count_labels(d, n);
	ks->next_labels = ks->labels;
	if (org_domain) {
		ks->org = d + (n - on);
		ks->org_len = on;
	}
	return SPFKIT_OK;
}

/* The step whose target is (t, tn), or NULL. */
static const walk_step *step_at(const spfkit__kind_state *ks, const char *t,
				size_t tn)
{
	for (size_t i = 0; i < ks->nsteps; i++)
		if (ks->steps[i].target_len == tn &&
		    memcmp(ks->steps[i].target, t, tn) == 0)
			return &ks->steps[i];
	return NULL;
}

/* Does the step hold one DMARC record (§4.10 step 2: none, or several,
 * are no record)? */
static bool has_record(const walk_step *s)
{
	return s && s->record;
}

/* The next name of the walk, or false when the walk is over. */
static bool next_target(spfkit__kind_state *ks, const char **t, size_t *tn,
			unsigned *labels)
{
	const walk_step *last = ks->nsteps ? &ks->steps[ks->nsteps - 1] : NULL;
	if (ks->org) {
		/* RFC 7489 §6.6.3: the domain, then its organizational
		 * domain when the first gave no record. */
		if (ks->tried == 0) {
			*t = ks->domain;
			*tn = ks->len;
		} else if (ks->tried == 1 && !has_record(last) &&
			   ks->org_len != ks->len) {
			*t = ks->org;
			*tn = ks->org_len;
		} else {
			return false;
		}
		*labels = count_labels(*t, *tn);
		return true;
	}
	/* RFC 9989 §4.10 steps 2 and 6: a single record with psd=y or
	 * psd=n ends the walk. */
	if (has_record(last) && last->rec.psd != 'u')
		return false;
	if (ks->next_labels == 0 || ks->nsteps >= SPFKIT__DMARC_MAX_WALK)
		return false;
	*labels = ks->next_labels;
	*t = suffix(ks->domain, ks->len, ks->next_labels, tn);
	return true;
}

/* Counts the DMARC records of an answer and keeps the one, if one. */
static void read_answer(walk_step *s)
{
	const spfkit__query *q = s->q;
	if (q->status != SPFKIT_DNS_NOERROR)
		return;
	for (size_t i = 0; i < q->nitems; i++) {
		const spfkit__item *it = &q->items[i];
		/* §4.10 step 2: records that do not start with v=DMARC1 are
		 * discarded; several that do are all discarded. */
		if (!spfkit__dmarc_is_record(it->data, it->len))
			continue;
		if (s->ndmarc++ == 0) {
			s->record = it->data;
			s->record_len = it->len;
		}
	}
	if (s->ndmarc != 1)
		s->record = NULL;
	else
		spfkit__dmarc_parse(s->record, s->record_len, &s->rec);
}

/* Ends the discovery with status. */
static void conclude(spfkit_check *chk, spfkit_dmarc_status status)
{
	spfkit__kind_state *ks = chk->ks;
	ks->pol.status = status;
	ks->over = true;
}

/* Asks the walk's queries one after the other (§4.10: each depends on the
 * one before, which may end the walk). false while one is pending. */
static bool walk(spfkit_check *chk)
{
	spfkit__kind_state *ks = chk->ks;
	char name[PREFIX_LEN + NAME_MAX + 1];
	while (!ks->walked) {
		const char *t;
		size_t tn;
		unsigned labels;
		if (!next_target(ks, &t, &tn, &labels)) {
			ks->walked = true;
			ks->nwalk = ks->nsteps;
			break;
		}
		/* §4.10 step 4: past eight labels, the next target keeps the
		 * last seven; then one label fewer each time (step 7). */
		ks->next_labels = labels > 8 ? 7 : labels - 1;
		if (ks->next_labels > 7)
			ks->next_labels = 7;
		if (PREFIX_LEN + tn > NAME_MAX) {
			ks->tried++;
			continue; /* no _dmarc name can be that long */
		}
		memcpy(name, PREFIX, PREFIX_LEN);
		memcpy(name + PREFIX_LEN, t, tn);
		bool need = false;
		const spfkit__query *q = spfkit__ask(
		    chk, name, PREFIX_LEN + tn, SPFKIT_TYPE_TXT, &need, true);
		if (!q) {
			if (need) {
				/* asked: come back at the same target */
				ks->next_labels = labels;
				return false;
			}
			conclude(chk, SPFKIT_DMARC_TEMPERROR);
			return true;
		}
		ks->tried++;
		walk_step *s = &ks->steps[ks->nsteps++];
		memset(s, 0, sizeof *s);
		s->target = t;
		s->target_len = tn;
		s->labels = labels;
		s->q = q;
		if (q->status == SPFKIT_DNS_TEMPFAIL) {
			/* A failure anywhere could hide the record that
			 * decides (§4.10.1 leaves DNS errors to the receiver:
			 * temperror lets it choose). */
			conclude(chk, SPFKIT_DMARC_TEMPERROR);
			return true;
		}
		read_answer(s);
	}
	return true;
}

/* The organizational domain of a finished tree walk (§4.10.2); *psd_step
 * the record with psd=y it was found below, if so. */
static const char *org_domain(const spfkit__kind_state *ks, size_t *on,
			      const walk_step **psd_step)
{
	*psd_step = NULL;
	if (ks->org) {
		*on = ks->org_len;
		return ks->org;
	}
	/* The walk stops at the first record with a psd tag, so only the
	 * last (shortest) record found can have one. */
	const walk_step *last = NULL;
	for (size_t i = 0; i < ks->nwalk; i++)
		if (has_record(&ks->steps[i]))
			last = &ks->steps[i];
	if (!last) {
		/* "If this process does not determine the Organizational
		 * Domain, then the initial target domain is [it]." */
		*on = ks->len;
		return ks->domain;
	}
	if (last->rec.psd == 'y' && last->target_len != ks->len) {
		/* Rule 2: one label below the public suffix domain. */
		*psd_step = last;
		return suffix(ks->domain, ks->len, last->labels + 1, on);
	}
	/* Rule 1 (psd=n) and rule 3 (the fewest labels): that name. */
	*on = last->target_len;
	return last->target;
}

/* The policy of record r that applies to the domain (§4.7 np/sp/p,
 * §4.10.1): p for the domain's own record, else sp for an existing
 * subdomain, np for one that does not exist, each falling back. */
static spfkit_dmarc_disp applying(const spfkit__dmarc_rec *r, bool own,
				  bool exists)
{
	spfkit_dmarc_disp p = r->p ? r->p : SPFKIT_DMARC_P_NONE;
	if (own)
		return p;
	spfkit_dmarc_disp sp = r->sp ? r->sp : p;
	return exists ? sp : (r->np ? r->np : sp);
}

/* After the walk: the organizational domain, the record that applies and
 * its policy. false while a query (the org domain's own record below a
 * PSD, or whether the domain exists) is pending. */
static bool decide(spfkit_check *chk)
{
	spfkit__kind_state *ks = chk->ks;
	spfkit_dmarc_policy *pol = &ks->pol;
	size_t on;
	const walk_step *psd;
	const char *org = org_domain(ks, &on, &psd);
	char name[PREFIX_LEN + NAME_MAX + 1];
	bool need = false;
	/* §4.10.1: the record at the organizational domain comes before
	 * the PSD's; the walk skipped it when it shortened a long name
	 * (a PSD of seven labels below an author domain of nine or more). */
	if (psd && !step_at(ks, org, on) && PREFIX_LEN + on <= NAME_MAX &&
	    ks->nsteps < SPFKIT__DMARC_MAX_WALK + 1) {
		memcpy(name, PREFIX, PREFIX_LEN);
		memcpy(name + PREFIX_LEN, org, on);
		const spfkit__query *q = spfkit__ask(
		    chk, name, PREFIX_LEN + on, SPFKIT_TYPE_TXT, &need, true);
		if (!q) {
			if (!need)
				conclude(chk, SPFKIT_DMARC_TEMPERROR);
			return !need;
		}
		walk_step *s = &ks->steps[ks->nsteps++];
		memset(s, 0, sizeof *s);
		s->target = org;
		s->target_len = on;
		s->labels = count_labels(org, on);
		s->q = q;
		if (q->status == SPFKIT_DNS_TEMPFAIL) {
			conclude(chk, SPFKIT_DMARC_TEMPERROR);
			return true;
		}
		read_answer(s);
	}
	pol->org_domain = org;
	pol->domain = ks->domain;
	/* §4.10.1: the author domain's own record, else the organizational
	 * domain's, else the public suffix domain's. */
	const walk_step *own =
	    ks->nsteps ? step_at(ks, ks->domain, ks->len) : NULL;
	const walk_step *at = has_record(own) ? own : NULL;
	if (!at && has_record(step_at(ks, org, on)))
		at = step_at(ks, org, on);
	if (!at && psd)
		at = psd;
	pol->domain_exists = own && own->q->status == SPFKIT_DNS_NOERROR;
	if (!at) {
		conclude(chk, SPFKIT_DMARC_NONE);
		return true;
	}
	const spfkit__dmarc_rec *r = &at->rec;
	bool is_own = at == own;
	/* RFC 8020, RFC 9989 §3.2.13: a name exists unless a query for it
	 * is NXDOMAIN; an answer under it that is not NXDOMAIN shows it
	 * exists. Asked only when a record of another name applies. */
	bool exists = true;
	if (!is_own && !pol->domain_exists) {
		const spfkit__query *q = spfkit__ask(
		    chk, ks->domain, ks->len, SPFKIT_TYPE_A, &need, true);
		if (!q && need)
			return false;
		bool matters = r->np && r->np != applying(r, false, true);
		if (!q || q->status == SPFKIT_DNS_TEMPFAIL) {
			if (matters) {
				conclude(chk, SPFKIT_DMARC_TEMPERROR);
				return true;
			}
		} else {
			exists = q->status == SPFKIT_DNS_NOERROR;
			pol->domain_exists = exists;
		}
	}
	pol->record = at->record;
	pol->policy_domain = at->target;
	pol->p = r->p;
	pol->sp = r->sp;
	pol->np = r->np;
	pol->adkim = r->adkim;
	pol->aspf = r->aspf;
	pol->testing = r->testing;
	pol->psd = r->psd;
	if (r->p_bad || r->sp_bad || r->np_bad) {
		/* §4.10.1: a p=, sp= or np= that is not valid: with a
		 * usable rua= as if the record said p=none, else no DMARC. */
		if (!r->rua_ok) {
			pol->record = NULL;
			pol->policy_domain = NULL;
			conclude(chk, SPFKIT_DMARC_NONE);
			return true;
		}
		pol->policy = SPFKIT_DMARC_P_NONE;
	} else {
		pol->policy = applying(r, is_own, exists);
	}
	conclude(chk, SPFKIT_DMARC_FOUND);
	return true;
}

/* Runs a discovery as far as the answers allow: true when it is over. */
static bool dmarc_run(spfkit_check *chk)
{
	spfkit__kind_state *ks = chk->ks;
	if (!ks->over && walk(chk) && !ks->over)
		decide(chk);
	return ks->over;
}

/* Fills what a discovery that ended early still reports. */
static void dmarc_finish(spfkit_check *chk, bool cut)
{
	spfkit__kind_state *ks = chk->ks;
	spfkit_dmarc_policy *pol = &ks->pol;
	if (cut || chk->oom)
		conclude(chk, SPFKIT_DMARC_TEMPERROR);
	pol->domain = ks->domain;
	if (pol->status == SPFKIT_DMARC_TEMPERROR) {
		pol->record = pol->policy_domain = pol->org_domain = NULL;
		pol->policy = pol->p = pol->sp = pol->np = SPFKIT_DMARC_P_UNSET;
	}
	if (pol->status != SPFKIT_DMARC_FOUND)
		pol->policy = SPFKIT_DMARC_P_UNSET;
	if (!pol->adkim)
		pol->adkim = pol->aspf = 'r';
	if (!pol->psd)
		pol->psd = 'u';
	pol->queries = chk->next_id;
}

int spfkit__kind_run(spfkit_check *chk, uint64_t now_ms)
{
	if (!chk->started) {
		chk->started = true;
		chk->start_ms = now_ms;
		chk->serial = 1; /* each query's LOOKUP event once */
	}
	bool cut = now_ms >= chk->start_ms &&
		   now_ms - chk->start_ms >=
		       chk->cfg->limits[SPFKIT_LIMIT_DEADLINE_MS];
	if (cut)
		chk->no_dns = true;
	bool over =
	    chk->kind == SPFKIT__KIND_TXT ? txt_run(chk) : dmarc_run(chk);
	if (!over && !cut && !chk->oom && spfkit_check_pending(chk))
		return SPFKIT_WANT_DNS;
	if (chk->kind == SPFKIT__KIND_DMARC)
		dmarc_finish(chk, !over);
	/* What is still pending is dropped: a late answer gets ENOENT. */
	for (size_t i = 0; i < chk->nqueries; i++)
		chk->queries[i]->answered = true;
	chk->done = true;
	return SPFKIT_DONE;
}

const spfkit_dmarc_policy *spfkit_check_dmarc(const spfkit_check *chk)
{
	return chk && chk->kind == SPFKIT__KIND_DMARC && chk->done
		   ? &chk->ks->pol
		   : NULL;
}

int spfkit_check_dmarc_step(const spfkit_check *chk, size_t i,
			    const char **name, spfkit_dns_status *status,
			    size_t *nrecords, const char **record)
{
	if (!spfkit_check_dmarc(chk))
		return SPFKIT_ESTATE;
	const spfkit__kind_state *ks = chk->ks;
	if (i >= ks->nsteps)
		return SPFKIT_ENOENT;
	const walk_step *s = &ks->steps[i];
	if (name)
		*name = s->q->name;
	if (status)
		*status = s->q->status;
	if (nrecords)
		*nrecords = s->ndmarc;
	if (record)
		*record = s->record;
	return SPFKIT_OK;
}

/* (s, strlen) without one trailing dot. */
static size_t name_len(const char *s)
{
	size_t n = strlen(s);
	return n && s[n - 1] == '.' ? n - 1 : n;
}

bool spfkit_dmarc_aligned(char mode, const char *author_domain,
			  const char *author_org, const char *id_domain,
			  const char *id_org)
{
	if (!author_domain || !id_domain || (mode != 'r' && mode != 's'))
		return false;
	size_t an = name_len(author_domain), in = name_len(id_domain);
	if (an == 0 || in == 0)
		return false;
	/* §3.2.10.2: strict is the same name (RFC 4343: any case); the same
	 * name has the same organizational domain, so it is relaxed too. */
	if (spfkit__ieq(author_domain, an, id_domain, in))
		return true;
	if (mode == 's' || !author_org || !id_org)
		return false;
	/* §3.2.10.1: relaxed is the same organizational domain. */
	size_t ao = name_len(author_org), io = name_len(id_org);
	return ao && io && spfkit__ieq(author_org, ao, id_org, io);
}
