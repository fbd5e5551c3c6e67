/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prefetch.c - asking ahead (spfkit_config_set_prefetch): once a record is
 * known, the queries its terms will need are asked at once, and a record
 * fetched ahead for an include has its own targets asked as soon as it
 * arrives, so a cold check takes about a round trip per level of its
 * include tree. An optimisation only (DESIGN.md §3): evaluation still
 * consumes the answers in order and counts as it goes, so results,
 * counters and explanations are the same with it off, and nothing is
 * asked past what the lookup budget allows.
 */
#include <stddef.h>
#include <string.h>

#include "check.h"

typedef spfkit__item item;
typedef spfkit__query query;
typedef spfkit__frame frame;

/* Nothing after an ip4/ip6 term that holds the client is reached, so
 * prefetch asks nothing past one. Whether one does is found out only when
 * prefetch is about to ask: with every target at hand (a warm cache) the
 * address terms are not looked at twice. */
typedef struct pf_gate {
	const frame *f;
	size_t ip_next; /* address terms before it hold no match */
	size_t upto;    /* the term about to be asked for */
	bool closed;    /* one held the client: ask nothing more */
} pf_gate;

/* Open while no address term before the one about to be asked holds the
 * client (only those not looked at yet are). */
static bool gate_open(spfkit_check *chk, pf_gate *g)
{
	if (g->closed)
		return false;
	for (size_t k = g->ip_next; k < g->upto && !chk->walk; k++) {
		const spfkit__term *t = &g->f->rec->terms[k];
		if ((t->mech == SPFKIT__IP4 || t->mech == SPFKIT__IP6) &&
		    spfkit__ip_term_matches(chk, t)) {
			g->closed = true;
			return false;
		}
	}
	if (g->upto > g->ip_next)
		g->ip_next = g->upto;
	return true;
}

/* Asks (name, type) ahead, unless the driver holds it or the gate is
 * closed; a record asked for an include or redirect is marked, so its own
 * targets can be asked ahead once it arrives. */
static void prefetch_ask(spfkit_check *chk, const char *name, size_t n,
			 uint32_t h, uint16_t type, bool record, pf_gate *g)
{
	/* What the driver holds is answered at once when it is reached:
	 * asking it ahead would only do that work for terms never reached. */
	if (chk->source && n && name[n - 1] != '.' &&
	    chk->source->find(chk->source_ud, name, n, h, type, NULL))
		return;
	if (!gate_open(chk, g))
		return;
	bool need = false;
	size_t before = chk->nqueries;
	spfkit__ask_hashed(chk, name, n, h, type, &need, false);
	if (record && chk->nqueries > before)
		chk->queries[chk->nqueries - 1]->ahead = true;
}

/* Asks for the target of term t, when it can be known without DNS. */
static void prefetch_target(spfkit_check *chk, const frame *f,
			    const spfkit__term *t, uint16_t type, pf_gate *g)
{
	const char *spec = f->rec->text + t->spec_pos;
	bool record = t->mech == SPFKIT__INCLUDE || t->mech == SPFKIT__REDIRECT;
	if (t->literal_ok) {
		prefetch_ask(chk, spec, t->target_len, t->target_hash, type,
			     record, g);
		return;
	}
	if (t->spec_len == 0) {
		if (spfkit__domain_ok(f->domain, f->domain_len))
			prefetch_ask(chk, f->domain, f->domain_len, f->hash,
				     type, record, g);
		return;
	}
	if (spfkit__macro_uses_p(spec, t->spec_len))
		return;
	spfkit__buf target;
	char target_local[256];
	spfkit__buf_init_local(&target, chk->a, 1024, target_local,
			       sizeof target_local);
	if (spfkit__expand(chk, f->domain, f->domain_len, spec, t->spec_len,
			   SPFKIT__MACRO_DOMAIN, &target) != S_MATCH)
		target.err = SPFKIT_EINVAL;
	if (target.err == SPFKIT_ENOMEM)
		chk->oom = true;
	else if (!target.err && spfkit__domain_ok(target.data, target.len))
		prefetch_ask(chk, target.data, target.len,
			     spfkit__ask_name_hash(target.data, target.len),
			     type, record, g);
	spfkit__buf_free(&target);
}

/* RFC 7208 §6.1: a record with 'all' never uses its redirect. */
static bool has_all(const spfkit__record *rec)
{
	for (size_t i = 0; i < rec->nterms; i++)
		if (rec->terms[i].mech == SPFKIT__ALL)
			return true;
	return false;
}

/* Asks at once for what the terms of f's record will need first (§4.6.4
 * budget permitting): the records of includes and the redirect, and the
 * targets of a, mx and exists. Evaluation still consumes the answers in
 * order and counts as it goes, so results do not change; only the round
 * trips do. Targets that need %{p} wait for their turn. */
void spfkit__prefetch(spfkit_check *chk, const frame *f, size_t max_queries)
{
	uint32_t limit = chk->cfg->limits[SPFKIT_LIMIT_DNS_TERMS];
	uint32_t budget = chk->lookups < limit ? limit - chk->lookups : 0;
	/* Nothing after a term that is sure to match is ever reached: 'all',
	 * or an ip4/ip6 that holds the client (the gate). The redirect
	 * neither. */
	bool decided = false;
	pf_gate g = {.f = f};
	for (size_t i = 0; i < f->rec->nterms && budget && !decided &&
			   !g.closed && chk->nqueries < max_queries;
	     i++) {
		const spfkit__term *t = &f->rec->terms[i];
		uint16_t type;
		switch (t->mech) {
		case SPFKIT__ALL: decided = true; continue;
		case SPFKIT__IP4:
		case SPFKIT__IP6: continue; /* looked at by the gate */
		case SPFKIT__INCLUDE: type = SPFKIT_TYPE_TXT; break;
		case SPFKIT__A: type = spfkit__addr_type(chk); break;
		case SPFKIT__MX: type = SPFKIT_TYPE_MX; break;
		case SPFKIT__EXISTS: type = SPFKIT_TYPE_A; break;
		case SPFKIT__PTR: budget--; continue;
		default: continue;
		}
		budget--;
		g.upto = i;
		prefetch_target(chk, f, t, type, &g);
	}
	if (budget && !decided && !g.closed && chk->nqueries < max_queries &&
	    f->rec->redirect >= 0 && !has_all(f->rec)) {
		g.upto = f->rec->nterms;
		prefetch_target(chk, f, &f->rec->terms[f->rec->redirect],
				SPFKIT_TYPE_TXT, &g);
	}
}

/* The single v=spf1 record of a TXT answer, or NULL (none, or several). */
static const item *spf_item(const query *q)
{
	const item *rec = NULL;
	for (size_t i = 0; i < q->nitems; i++)
		if (spfkit__is_spf_record(q->items[i].data, q->items[i].len)) {
			if (rec)
				return NULL;
			rec = &q->items[i];
		}
	return rec;
}

/* Prefetch past the frame being evaluated: a record fetched ahead for an
 * include or redirect not reached yet has its own targets asked as soon
 * as it arrives, so a tree costs about a round trip per level instead of
 * one per include chain in turn. Past 1 + the DNS-term limit queries (the
 * record and ten terms: what a sequential evaluation may ask for them)
 * nothing more is asked ahead. The evaluation itself is untouched. */
void spfkit__prefetch_ahead(spfkit_check *chk)
{
	size_t max = 1u + chk->cfg->limits[SPFKIT_LIMIT_DNS_TERMS];
	for (size_t i = 0; i < chk->nqueries && chk->nqueries < max; i++) {
		query *q = chk->queries[i];
		if (!q->ahead || !q->answered)
			continue;
		q->ahead = false;
		const item *it =
		    q->status == SPFKIT_DNS_NOERROR ? spf_item(q) : NULL;
		if (!it)
			continue;
		spfkit__parse_error perr;
		int rc;
		spfkit__record *rec = spfkit__check_parse_record(
		    chk, q, it->data, it->len, &perr, &rc);
		if (rc == SPFKIT_ENOMEM ||
		    (rec && !spfkit__check_keep_record(chk, rec))) {
			chk->oom = true;
			return;
		}
		if (!rec)
			continue;
		frame f;
		memset(&f, 0, sizeof f);
		f.domain = q->name;
		f.domain_len = q->name_len;
		f.hash = q->hash;
		f.rec = rec;
		spfkit__prefetch(chk, &f, max);
	}
}
