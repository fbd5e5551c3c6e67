/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tree_build.c - the tree of `spfkit tree` built from the events of a
 * walked check (every term is reached), so each number is the
 * evaluator's own: a node's own terms are the TERM events with `counted`
 * while it was the current frame, and the running totals are the
 * counters the events carry. Addresses a node authorises are its
 * pass-qualified ip4/ip6 terms and a/mx answers, and what its includes
 * and redirect pass on; IPv4 ranges are merged so overlaps count once.
 *
 * A walk goes on past errors a check stops at; every PROBLEM event is one
 * (an error result ends a check, RFC 7208 §4.6.4, §5.2, §6.1). Up to the
 * first, a check for a client no term lists does exactly what the walk
 * did, so each record's result for that client is read off the events.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tree.h"

static bool push_ptr(tree *t, const walk_ev ***v, size_t *n, size_t *cap,
		     const walk_ev *e)
{
	if (!cli_grow(v, cap, *n, sizeof **v, &t->oom))
		return false;
	(*v)[(*n)++] = e;
	return true;
}

static bool add_range(tree *t, ranges *r, uint32_t lo, uint32_t hi)
{
	if (!cli_grow(&r->v, &r->cap, r->n, sizeof *r->v, &t->oom))
		return false;
	r->v[r->n].lo = lo;
	r->v[r->n].hi = hi;
	r->n++;
	return true;
}

/* The IPv4 range of addr/prefix. */
static void prefix_range(const unsigned char *a, int prefix, uint32_t *lo,
			 uint32_t *hi)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		     (uint32_t)a[2] << 8 | a[3];
	uint32_t mask = prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
	if (prefix >= 32)
		mask = 0xffffffffu;
	*lo = v & mask;
	*hi = *lo | ~mask;
}

static int range_cmp(const void *pa, const void *pb)
{
	const range4 *a = pa, *b = pb;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

/* Sorts and merges r; returns how many addresses it covers. */
static uint64_t merge(ranges *r)
{
	if (r->n == 0)
		return 0;
	qsort(r->v, r->n, sizeof *r->v, range_cmp);
	size_t k = 0;
	for (size_t i = 1; i < r->n; i++) {
		if ((uint64_t)r->v[i].lo <= (uint64_t)r->v[k].hi + 1) {
			if (r->v[i].hi > r->v[k].hi)
				r->v[k].hi = r->v[i].hi;
		} else {
			r->v[++k] = r->v[i];
		}
	}
	r->n = k + 1;
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n; i++)
		sum += (uint64_t)r->v[i].hi - r->v[i].lo + 1;
	return sum;
}

static node *new_node(tree *t)
{
	if (!cli_grow(&t->nodes, &t->cap, t->n, sizeof *t->nodes, &t->oom))
		return NULL;
	node *n = calloc(1, sizeof *n);
	if (!n) {
		t->oom = true;
		return NULL;
	}
	t->nodes[t->n++] = n;
	return n;
}

/* The term of n being evaluated (the last one, until its TERM_END; the
 * redirect has none). */
static tterm *open_term(node *n)
{
	if (!n || n->nterms == 0)
		return NULL;
	tterm *tt = &n->terms[n->nterms - 1];
	return tt->end ? NULL : tt;
}

/* Addresses a term authorises on its own: an ip4/ip6 network, or the
 * A/AAAA answers of a and mx with their prefix lengths. */
static void term_addresses(tree *t, node *n, tterm *tt)
{
	const spfkit_event *e = &tt->term->ev;
	if (e->qualifier != '+')
		return;
	if (e->family == 4 && e->addr) {
		uint32_t lo, hi;
		prefix_range(e->addr, e->cidr, &lo, &hi);
		tt->v4 = (uint64_t)hi - lo + 1;
		add_range(t, &n->own4, lo, hi);
		return;
	}
	if (e->family == 6) {
		tt->v6 = 1;
		n->own6++;
		return;
	}
	if (!e->mechanism ||
	    (strcmp(e->mechanism, "a") != 0 && strcmp(e->mechanism, "mx") != 0))
		return;
	ranges mine;
	memset(&mine, 0, sizeof mine);
	for (size_t i = 0; i < tt->nev; i++) {
		const spfkit_event *l = &tt->ev[i]->ev;
		if (l->kind != SPFKIT_EVENT_LOOKUP)
			continue;
		for (size_t k = 0; k < l->nitems && l->items; k++) {
			const spfkit_event_item *it = &l->items[k];
			if (l->type == SPFKIT_TYPE_A && it->len == 4) {
				uint32_t lo, hi;
				prefix_range((const unsigned char *)it->data,
					     e->cidr4 < 0 ? 32 : e->cidr4, &lo,
					     &hi);
				add_range(t, &mine, lo, hi);
				add_range(t, &n->own4, lo, hi);
			} else if (l->type == SPFKIT_TYPE_AAAA &&
				   it->len == 16) {
				tt->v6++;
				n->own6++;
			}
		}
	}
	tt->v4 = merge(&mine);
	free(mine.v);
}

/* Builds the tree from the log: frames nest through the term (include,
 * redirect) that pushed them. */
static void build(tree *t, const walk_log *log)
{
	node *stack[512];
	size_t depth = 0;
	for (size_t i = 0; i < log->n && !t->oom; i++) {
		const walk_ev *w = &log->v[i];
		node *cur = depth ? stack[depth - 1] : NULL;
		tterm *tt = open_term(cur);
		switch (w->ev.kind) {
		case SPFKIT_EVENT_FRAME: {
			node *n = new_node(t);
			if (!n)
				return;
			n->frame = w;
			n->parent = cur;
			if (!t->root)
				t->root = n;
			if (tt && !tt->child)
				tt->child = n;
			if (depth < sizeof stack / sizeof stack[0])
				stack[depth++] = n;
			break;
		}
		case SPFKIT_EVENT_RECORD:
			if (cur)
				cur->record = w;
			break;
		case SPFKIT_EVENT_TERM:
			if (!cur)
				break;
			if (!cli_grow(&cur->terms, &cur->cap_terms, cur->nterms,
				      sizeof *cur->terms, &t->oom))
				return;
			memset(&cur->terms[cur->nterms], 0, sizeof(tterm));
			cur->terms[cur->nterms++].term = w;
			if (w->ev.counted)
				cur->own_lookups++;
			break;
		case SPFKIT_EVENT_LOOKUP:
		case SPFKIT_EVENT_VOID:
		case SPFKIT_EVENT_PROBLEM:
			if (w->ev.kind == SPFKIT_EVENT_VOID && cur)
				cur->own_voids++;
			if (tt)
				push_ptr(t, &tt->ev, &tt->nev, &tt->cap_ev, w);
			else if (cur)
				push_ptr(t, &cur->ev, &cur->nev, &cur->cap_ev,
					 w);
			else if (w->ev.kind == SPFKIT_EVENT_PROBLEM)
				push_ptr(t, &t->loose, &t->nloose,
					 &t->cap_loose, w);
			if (w->ev.kind == SPFKIT_EVENT_PROBLEM &&
			    cli_grow(&t->problems, &t->cap_problems,
				     t->nproblems, sizeof *t->problems,
				     &t->oom))
				t->problems[t->nproblems++] = (tproblem){
				    w, cur,
				    tt ? (size_t)(tt - cur->terms) + 1 : 0};
			break;
		case SPFKIT_EVENT_TERM_END:
			if (tt) {
				tt->end = w;
				term_addresses(t, cur, tt);
			}
			break;
		case SPFKIT_EVENT_FRAME_END:
			if (cur) {
				cur->end = w;
				/* The redirect has no TERM_END. */
				if (tt)
					term_addresses(t, cur, tt);
				depth--;
			}
			break;
		case SPFKIT_EVENT_RESULT: t->result = w; break;
		default: break;
		}
	}
}

/* Does a check stop at this problem? Every problem ends a check, except
 * a macro that expands to no usable name in a, mx, ptr or exists: the
 * term finds nothing and the check goes on (doc/conformance.md), while
 * the walk still reports it. */
static bool stops_check(const tproblem *p)
{
	if (p->ev->ev.reason != SPFKIT_REASON_BAD_TARGET || !p->n || !p->term)
		return true;
	const char *m = p->n->terms[p->term - 1].term->ev.mechanism;
	return !m || strcmp(m, "include") == 0 || strcmp(m, "redirect") == 0;
}

/* Each node's result for a client no term lists (see node). Events are
 * in the log's order, so positions compare by address. */
static void results(tree *t)
{
	const walk_ev *first = NULL;
	for (size_t i = 0; i < t->nproblems && !first; i++)
		if (stops_check(&t->problems[i]))
			first = t->problems[i].ev;
	for (size_t i = 0; i < t->n; i++) {
		node *n = t->nodes[i];
		n->reached = !first || n->frame < first;
		if (!n->reached)
			continue;
		const walk_ev *from =
		    first && (!n->end || n->end > first) ? first : n->end;
		n->has_result = from != NULL;
		if (from) {
			n->result = from->ev.result;
			n->reason = from->ev.reason;
		}
	}
}

/* Post-order: each node's subtree addresses (IPv4 merged, so overlaps
 * count once; IPv6 prefixes counted). */
static void totals(tree *t, node *n, unsigned depth)
{
	n->own4n = merge(&n->own4);
	for (size_t i = 0; i < n->own4.n; i++)
		add_range(t, &n->all4, n->own4.v[i].lo, n->own4.v[i].hi);
	n->all6 = n->own6;
	for (size_t i = 0; i < n->nterms && depth < 512; i++) {
		node *c = n->terms[i].child;
		/* Only what the child passes is authorised here: an include
		 * or redirect passes on its pass-qualified terms. */
		if (!c)
			continue;
		totals(t, c, depth + 1);
		for (size_t k = 0; k < c->all4.n; k++)
			add_range(t, &n->all4, c->all4.v[k].lo,
				  c->all4.v[k].hi);
		n->all6 += c->all6;
	}
	merge(&n->all4);
}

uint64_t tree_covered(const ranges *r)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n; i++)
		sum += (uint64_t)r->v[i].hi - r->v[i].lo + 1;
	return sum;
}

void tree_free(tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		node *n = t->nodes[i];
		for (size_t k = 0; k < n->nterms; k++)
			free(n->terms[k].ev);
		free(n->terms);
		free(n->ev);
		free(n->own4.v);
		free(n->all4.v);
		free(n);
	}
	free(t->nodes);
	free(t->loose);
	free(t->problems);
}

char *tree_route(const node *n)
{
	size_t len = 0;
	for (const node *p = n; p; p = p->parent) {
		const spfkit_event *e = &p->frame->ev;
		len += strlen(e->domain ? e->domain : "") + 12;
	}
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	/* Written from the end: n's domain last. */
	size_t at = len;
	s[at] = '\0';
	for (const node *p = n; p; p = p->parent) {
		const spfkit_event *e = &p->frame->ev;
		const char *d = e->domain ? e->domain : "";
		size_t dn = strlen(d);
		at -= dn;
		memcpy(s + at, d, dn);
		if (p->parent) {
			const char *via =
			    e->via && strcmp(e->via, "redirect") == 0
				? " > redirect "
				: " > include ";
			at -= strlen(via);
			memcpy(s + at, via, strlen(via));
		}
	}
	memmove(s, s + at, len - at + 1);
	return s;
}

void tree_build(tree *t, const walk_log *log)
{
	memset(t, 0, sizeof *t);
	build(t, log);
	results(t);
	if (t->root)
		totals(t, t->root, 0);
}
