/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * query.c - a check's query table: every DNS query the evaluator asks
 * (name, type, id), the answers drivers hand back, decoded once into the
 * check's arena (RFC 7208 §4.4: already classified as data, NODATA,
 * NXDOMAIN or a temporary failure), and the hooks DNS drivers use: which
 * queries were sent, and a source of answers at hand that the check looks
 * up itself while it runs (internal.h).
 */
#include <stddef.h>
#include <string.h>

#include "check.h"

typedef spfkit__item item;
typedef spfkit__query query;

/* A LOOKUP event: the current step uses q's answer (once per step). */
static void emit_lookup(spfkit_check *chk, query *q)
{
	if (!chk->ev_cb || q->reported == chk->serial)
		return;
	q->reported = chk->serial;
	spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_LOOKUP);
	ev.query_id = q->id;
	ev.name = q->name;
	ev.type = q->type;
	ev.status = q->status;
	ev.items = q->items;
	ev.nitems = q->nitems;
	ev.ttl = q->ttl;
	ev.dnssec = q->dnssec;
	ev.failure = q->failure;
	spfkit__emit(chk, &ev);
}

/* Ranks DNSSEC statuses from weakest to strongest. */
static int dnssec_rank(spfkit_dnssec s)
{
	switch (s) {
	case SPFKIT_DNSSEC_BOGUS: return 0;
	case SPFKIT_DNSSEC_INSECURE: return 2;
	case SPFKIT_DNSSEC_SECURE: return 3;
	default: return 1;
	}
}

/* An answer was used: the check is as secure as its weakest answer. */
static void note_dnssec(spfkit_check *chk, spfkit_dnssec s)
{
	int r = dnssec_rank(s);
	if (chk->dnssec_rank < 0 || r < chk->dnssec_rank)
		chk->dnssec_rank = r;
}

static int fill(spfkit_check *chk, query *q, spfkit_dns_status status,
		const spfkit_rr *rrs, size_t n, spfkit_dnssec dnssec,
		spfkit_dns_failure failure);

/* Looks a new query up in the source the driver lent, if any: true when
 * it was answered from there, here and now. */
static bool from_source(spfkit_check *chk, query *q)
{
	const spfkit__source *src = chk->source;
	spfkit__found found = {.status = SPFKIT_DNS_NOERROR};
	if (!src || !src->find(chk->source_ud, q->name, q->name_len, q->hash,
			       q->type, &found))
		return false;
	int rc = fill(chk, q, found.status, found.rrs, found.n, found.dnssec,
		      found.failure);
	if (found.priv)
		src->release(chk->source_ud, &found);
	/* Out of memory: the query goes out as usual. */
	return rc == SPFKIT_OK;
}

spfkit__query *spfkit__ask(spfkit_check *chk, const char *name, size_t n,
			   uint16_t type, bool *need, bool report)
{
	return spfkit__ask_hashed(chk, name, n, spfkit__ask_name_hash(name, n),
				  type, need, report);
}

spfkit__query *spfkit__ask_hashed(spfkit_check *chk, const char *name, size_t n,
				  uint32_t h, uint16_t type, bool *need,
				  bool report)
{
	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < chk->nqueries; i++) {
		query *q = chk->queries[i];
		if (q->type == type && q->hash == h &&
		    spfkit__ieq(q->name, q->name_len, name, n)) {
			if (!q->answered) {
				*need = true;
				return NULL;
			}
			note_dnssec(chk, q->dnssec);
			if (report)
				emit_lookup(chk, q);
			return q;
		}
	}
	if (chk->no_dns)
		return NULL; /* *need stays false: the caller goes without */
	query **nq = spfkit__grow(chk->a, chk->queries, chk->nqueries,
				  &chk->cap_queries, sizeof *nq, 8);
	if (!nq) {
		chk->oom = true;
		return NULL;
	}
	chk->queries = nq;
	query *q = n < SIZE_MAX - sizeof *q - 1
		       ? spfkit__arena_calloc(chk, sizeof *q + n + 1)
		       : NULL;
	if (!q) {
		chk->oom = true;
		return NULL;
	}
	memcpy(q->name, name, n);
	q->name[n] = '\0';
	q->name_len = n;
	q->hash = h;
	q->type = type;
	q->id = ++chk->next_id;
	chk->queries[chk->nqueries++] = q;
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_QUERY);
		ev.query_id = q->id;
		ev.name = q->name;
		ev.type = type;
		spfkit__emit(chk, &ev);
	}
	if (from_source(chk, q)) {
		note_dnssec(chk, q->dnssec);
		if (report)
			emit_lookup(chk, q);
		return q;
	}
	*need = true;
	return NULL;
}

size_t spfkit_check_pending(const spfkit_check *chk)
{
	size_t n = 0;
	if (chk)
		for (size_t i = 0; i < chk->nqueries; i++)
			n += !chk->queries[i]->answered;
	return n;
}

int spfkit_check_query(const spfkit_check *chk, size_t i, unsigned *id,
		       const char **name, uint16_t *type)
{
	if (!chk)
		return SPFKIT_EINVAL;
	for (size_t k = 0; k < chk->nqueries; k++) {
		const query *q = chk->queries[k];
		if (q->answered)
			continue;
		if (i-- == 0) {
			if (id)
				*id = q->id;
			if (name)
				*name = q->name;
			if (type)
				*type = q->type;
			return SPFKIT_OK;
		}
	}
	return SPFKIT_ENOENT;
}

bool spfkit__check_unsent(const spfkit_check *chk, size_t *cursor, unsigned *id,
			  const char **name, uint16_t *type)
{
	for (size_t k = *cursor; k < chk->nqueries; k++) {
		const query *q = chk->queries[k];
		if (q->answered || q->sent)
			continue;
		*cursor = k;
		*id = q->id;
		*name = q->name;
		*type = q->type;
		return true;
	}
	*cursor = chk->nqueries;
	return false;
}

void spfkit__check_mark_sent(spfkit_check *chk, size_t cursor, bool sent)
{
	if (cursor < chk->nqueries)
		chk->queries[cursor]->sent = sent;
}

void spfkit__check_set_source(spfkit_check *chk, const spfkit__source *src,
			      void *ud)
{
	chk->source = src;
	chk->source_ud = src ? ud : NULL;
}

void *spfkit__check_source(const spfkit_check *chk)
{
	return chk->source_ud;
}

void spfkit__check_unsend(spfkit_check *chk)
{
	for (size_t k = 0; k < chk->nqueries; k++)
		chk->queries[k]->sent = false;
}

/* Does MX exchange a (preference pa) come before b (pb)? Preference
 * first (RFC 5321 §5.1), then the name, case aside. */
static bool mx_before(uint16_t pa, const item *a, uint16_t pb, const item *b)
{
	if (pa != pb)
		return pa < pb;
	size_t n = a->len < b->len ? a->len : b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = spfkit__lower((unsigned char)a->data[i]);
		unsigned char y = spfkit__lower((unsigned char)b->data[i]);
		if (x != y)
			return x < y;
	}
	return a->len < b->len;
}

/* Puts an MX answer's exchanges in a fixed order, so which address lookup
 * is the void one over the limit (RFC 7208 §4.6.4), and so the result
 * text, never depends on the order a resolver happened to send. */
static void sort_mx(item *items, uint16_t *prefs, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		item it = items[i];
		uint16_t p = prefs[i];
		size_t k = i;
		while (k > 0 &&
		       mx_before(p, &it, prefs[k - 1], &items[k - 1])) {
			items[k] = items[k - 1];
			prefs[k] = prefs[k - 1];
			k--;
		}
		items[k] = it;
		prefs[k] = p;
	}
}

/* Decodes one record of the asked type into an item; false to skip it. */
static bool decode_rr(const query *q, const spfkit_rr *rr, spfkit__buf *b)
{
	if (rr->type != q->type || (!rr->rdata && rr->rdlen))
		return false;
	switch (q->type) {
	case SPFKIT_TYPE_A:
		return rr->rdlen == 4 && !spfkit__buf_add(b, rr->rdata, 4);
	case SPFKIT_TYPE_AAAA:
		return rr->rdlen == 16 && !spfkit__buf_add(b, rr->rdata, 16);
	case SPFKIT_TYPE_MX: {
		size_t used;
		return rr->rdlen >= 3 &&
		       spfkit__rdata_name(rr->rdata + 2, rr->rdlen - 2, &used,
					  b) &&
		       used == rr->rdlen - 2;
	}
	case SPFKIT_TYPE_PTR: {
		size_t used;
		return spfkit__rdata_name(rr->rdata, rr->rdlen, &used, b) &&
		       used == rr->rdlen;
	}
	case SPFKIT_TYPE_TXT: return spfkit__rdata_txt(rr->rdata, rr->rdlen, b);
	default: return false;
	}
}

int spfkit_check_answer(spfkit_check *chk, unsigned id,
			spfkit_dns_status status, const spfkit_rr *rrs,
			size_t n)
{
	return spfkit_check_answer_dnssec(chk, id, status, rrs, n,
					  SPFKIT_DNSSEC_UNKNOWN);
}

/* Is (status, rrs, n) an answer a driver may give? */
static bool answer_ok(spfkit_dns_status status, const spfkit_rr *rrs, size_t n)
{
	return (rrs || !n) &&
	       (status == SPFKIT_DNS_NOERROR || status == SPFKIT_DNS_NXDOMAIN ||
		status == SPFKIT_DNS_TEMPFAIL);
}

int spfkit_check_answer_dnssec(spfkit_check *chk, unsigned id,
			       spfkit_dns_status status, const spfkit_rr *rrs,
			       size_t n, spfkit_dnssec dnssec)
{
	if (!chk || !answer_ok(status, rrs, n))
		return SPFKIT_EINVAL;
	query *q = NULL;
	for (size_t i = 0; i < chk->nqueries; i++)
		if (chk->queries[i]->id == id) {
			/* ids are unique; the newest queries come last */
			if (!chk->queries[i]->answered)
				q = chk->queries[i];
			break;
		}
	if (!q)
		return SPFKIT_ENOENT;
	return fill(chk, q, status, rrs, n, dnssec, SPFKIT_DNS_FAIL_UNKNOWN);
}

const char *spfkit_dns_failure_name(spfkit_dns_failure f)
{
	switch (f) {
	case SPFKIT_DNS_FAIL_SERVFAIL: return "SERVFAIL";
	case SPFKIT_DNS_FAIL_REFUSED: return "REFUSED";
	case SPFKIT_DNS_FAIL_TIMEOUT: return "timeout";
	case SPFKIT_DNS_FAIL_BAD_ANSWER: return "bad answer";
	case SPFKIT_DNS_FAIL_BOGUS: return "DNSSEC bogus";
	default: return "unknown";
	}
}

int spfkit_check_answer_failure(spfkit_check *chk, unsigned id,
				spfkit_dns_failure why)
{
	if (!chk || (unsigned)why > (unsigned)SPFKIT_DNS_FAIL_BOGUS)
		return SPFKIT_EINVAL;
	for (size_t i = 0; i < chk->nqueries; i++)
		if (chk->queries[i]->id == id)
			return chk->queries[i]->answered
				   ? SPFKIT_ENOENT
				   : fill(chk, chk->queries[i],
					  SPFKIT_DNS_TEMPFAIL, NULL, 0,
					  why == SPFKIT_DNS_FAIL_BOGUS
					      ? SPFKIT_DNSSEC_BOGUS
					      : SPFKIT_DNSSEC_UNKNOWN,
					  why);
	return SPFKIT_ENOENT;
}

/* Decodes the answer of unanswered query q into the arena (n records,
 * borrowed for the call) and marks q answered, with an ANSWER event;
 * failure says why a TEMPFAIL failed. */
static int fill(spfkit_check *chk, query *q, spfkit_dns_status status,
		const spfkit_rr *rrs, size_t n, spfkit_dnssec dnssec,
		spfkit_dns_failure failure)
{
	if (!answer_ok(status, rrs, n))
		return SPFKIT_EINVAL;
	size_t keep = n < SPFKIT__MAX_ITEMS ? n : SPFKIT__MAX_ITEMS;
	item *items = NULL;
	uint16_t *prefs = NULL; /* MX preferences of the kept items */
	if (status == SPFKIT_DNS_NOERROR && keep) {
		items = spfkit__arena_calloc(chk, keep * sizeof *items);
		if (q->type == SPFKIT_TYPE_MX && items)
			prefs = spfkit__arena_calloc(chk, keep * sizeof *prefs);
		if (!items || (q->type == SPFKIT_TYPE_MX && !prefs))
			return SPFKIT_ENOMEM;
	}
	/* The kept items' data go one after the other (each NUL terminated)
	 * into one arena block: decoded data is never longer than its RDATA
	 * (names lose a length octet, TXT strings theirs), so a block of the
	 * RDATA's size holds them all and they are decoded in place. */
	spfkit__buf all;
	size_t bound = 1;
	for (size_t i = 0; status == SPFKIT_DNS_NOERROR && keep && i < n; i++)
		bound += rrs[i].rdlen + 1;
	char *block = keep ? spfkit__arena_alloc(chk, bound) : NULL;
	if (keep && !block)
		return SPFKIT_ENOMEM;
	spfkit__buf_init_local(&all, chk->a, bound, block, block ? bound : 0);
	/* Records past SPFKIT__MAX_ITEMS are only counted (an MX set over the
	 * limit must still be seen as over it): decoded here and dropped. */
	spfkit__buf scratch;
	char scratch_local[512];
	spfkit__buf_init_local(&scratch, chk->a, SPFKIT__MAX_TXT, scratch_local,
			       sizeof scratch_local);
	size_t nitems = 0, total = 0, octets = 0;
	uint32_t ttl = 0;
	for (size_t i = 0; status == SPFKIT_DNS_NOERROR && i < n; i++) {
		size_t before = all.len;
		bool ok;
		if (nitems < keep) {
			ok = decode_rr(q, &rrs[i], &all) &&
			     !spfkit__buf_addc(&all, '\0');
		} else {
			spfkit__buf_reset(&scratch);
			ok = decode_rr(q, &rrs[i], &scratch);
			if (scratch.err == SPFKIT_ENOMEM)
				all.err = SPFKIT_ENOMEM;
			scratch.err = SPFKIT_OK;
		}
		if (all.err == SPFKIT_ENOMEM) {
			spfkit__buf_free(&all);
			spfkit__buf_free(&scratch);
			return SPFKIT_ENOMEM; /* items stay in the arena */
		}
		if (!ok) {
			all.err = SPFKIT_OK; /* a record over a cap: skipped */
			all.len = before;
			if (all.data)
				all.data[before] = '\0';
			continue;
		}
		if (total == 0 || rrs[i].ttl < ttl)
			ttl = rrs[i].ttl;
		octets += rrs[i].rdlen;
		total++;
		if (nitems < keep) {
			items[nitems].len = all.len - before - 1;
			/* an offset until the block is made */
			items[nitems].data = (char *)(uintptr_t)before;
			if (prefs)
				prefs[nitems] =
				    (uint16_t)(rrs[i].rdata[0] << 8 |
					       rrs[i].rdata[1]);
			nitems++;
		}
	}
	if (nitems) {
		/* In place unless the bound was wrong (then the buffer went to
		 * the heap, and the data come back into the arena). */
		char *data = all.data;
		if (data != block) {
			data = spfkit__arena_alloc(chk, all.len);
			if (!data) {
				spfkit__buf_free(&all);
				spfkit__buf_free(&scratch);
				return SPFKIT_ENOMEM;
			}
			memcpy(data, all.data, all.len);
		}
		for (size_t k = 0; k < nitems; k++)
			items[k].data = data + (uintptr_t)items[k].data;
		if (prefs)
			sort_mx(items, prefs, nitems);
	}
	spfkit__buf_free(&all);
	spfkit__buf_free(&scratch);
	q->answered = true;
	q->status = status;
	q->failure =
	    status == SPFKIT_DNS_TEMPFAIL ? failure : SPFKIT_DNS_FAIL_UNKNOWN;
	q->dnssec = dnssec;
	q->items = items;
	q->nitems = nitems;
	q->total = total;
	q->ttl = ttl;
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_ANSWER);
		ev.query_id = q->id;
		ev.name = q->name;
		ev.type = q->type;
		ev.status = status;
		ev.nitems = total;
		ev.ttl = ttl;
		ev.rdata_octets = octets;
		ev.dnssec = dnssec;
		ev.failure = q->failure;
		spfkit__emit(chk, &ev);
	}
	return SPFKIT_OK;
}
