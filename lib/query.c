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

/* An event of kind about answered query q: its name, type and answer. */
static spfkit_event answer_event(const query *q, spfkit_event_kind kind)
{
	spfkit_event ev = spfkit__event_of(kind);
	ev.query_id = q->id;
	ev.name = q->name;
	ev.type = q->type;
	ev.status = q->status;
	ev.ttl = q->ttl;
	ev.dnssec = q->dnssec;
	ev.failure = q->failure;
	return ev;
}

/* A LOOKUP event: the current step uses q's answer (once per step). */
static void emit_lookup(spfkit_check *chk, query *q)
{
	if (!chk->ev_cb || q->reported == chk->serial)
		return;
	q->reported = chk->serial;
	spfkit_event ev = answer_event(q, SPFKIT_EVENT_LOOKUP);
	ev.items = q->items;
	ev.nitems = q->nitems;
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
static int fill_decoded(spfkit_check *chk, query *q, const spfkit__decoded *src,
			spfkit_dnssec dnssec, spfkit_dns_failure failure);

/* Looks a new query up in the source the driver lent, if any: true when
 * it was answered from there, here and now. */
static bool from_source(spfkit_check *chk, query *q)
{
	const spfkit__source *src = chk->source;
	spfkit__found found = {.status = SPFKIT_DNS_NOERROR};
	if (!src || !src->find(chk->source_ud, q->name, q->name_len, q->hash,
			       q->type, &found))
		return false;
	int rc = found.decoded && spfkit__decoded_type(found.decoded) == q->type
		     ? fill_decoded(chk, q, found.decoded, found.dnssec,
				    found.failure)
		     : fill(chk, q, found.status, found.rrs, found.n,
			    found.dnssec, found.failure);
	if (found.priv)
		src->release(chk->source_ud, &found);
	/* Out of memory: the query goes out as usual. */
	return rc == SPFKIT_OK;
}

/* What a driver offered beside an answer (spfkit__check_offer). */
typedef struct spfkit__offer {
	struct spfkit__offer *next;
	uint16_t type;
	size_t n;
	spfkit_rr *rrs; /* rdata in the arena too */
	size_t name_len;
	char name[];
} offer;

/* The check's query for (name, type) (h: the name's hash), or NULL. */
static inline query *find_query(const spfkit_check *chk, const char *name,
				size_t n, uint32_t h, uint16_t type)
{
	for (size_t i = 0; i < chk->nqueries; i++) {
		query *q = chk->queries[i];
		if (q->type == type && q->hash == h &&
		    spfkit__ieq(q->name, q->name_len, name, n))
			return q;
	}
	return NULL;
}

/* What was offered to the check for (name, type), or NULL. */
static const offer *find_offer(const spfkit_check *chk, const char *name,
			       size_t n, uint16_t type)
{
	for (const offer *o = chk->offers; o; o = o->next)
		if (o->type == type &&
		    spfkit__ieq(o->name, o->name_len, name, n))
			return o;
	return NULL;
}

int spfkit__check_offer(spfkit_check *chk, const char *name, size_t name_len,
			uint16_t type, const spfkit_rr *rrs, size_t n)
{
	if (!chk || !name || !name_len || (n && !rrs) ||
	    name_len > SIZE_MAX / 2 || n > SPFKIT__MAX_ITEMS)
		return SPFKIT_EINVAL;
	if (name[name_len - 1] == '.')
		name_len--;
	if (find_query(chk, name, name_len,
		       spfkit__ask_name_hash(name, name_len), type) ||
	    find_offer(chk, name, name_len, type))
		return SPFKIT_OK;
	offer *o = spfkit__arena_calloc(chk, sizeof *o + name_len + 1);
	spfkit_rr *copy =
	    n ? spfkit__arena_calloc(chk, n * sizeof *copy) : NULL;
	if (!o || (n && !copy))
		return SPFKIT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		copy[i] = rrs[i];
		unsigned char *data =
		    rrs[i].rdlen ? spfkit__arena_alloc(chk, rrs[i].rdlen)
				 : NULL;
		if (rrs[i].rdlen && (!data || !rrs[i].rdata))
			return data ? SPFKIT_EINVAL : SPFKIT_ENOMEM;
		if (data)
			memcpy(data, rrs[i].rdata, rrs[i].rdlen);
		copy[i].rdata = data;
	}
	o->type = type;
	o->n = n;
	o->rrs = copy;
	memcpy(o->name, name, name_len);
	o->name_len = name_len;
	o->next = chk->offers;
	chk->offers = o;
	return SPFKIT_OK;
}

/* Answers a new query from what was offered for it, if anything: true
 * when answered here and now. */
static bool from_offer(spfkit_check *chk, query *q)
{
	const offer *o = find_offer(chk, q->name, q->name_len, q->type);
	return o && fill(chk, q, SPFKIT_DNS_NOERROR, o->rrs, o->n,
			 SPFKIT_DNSSEC_UNKNOWN,
			 SPFKIT_DNS_FAIL_UNKNOWN) == SPFKIT_OK;
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
	query *had = find_query(chk, name, n, h, type);
	if (had) {
		if (!had->answered) {
			*need = true;
			return NULL;
		}
		note_dnssec(chk, had->dnssec);
		if (report)
			emit_lookup(chk, had);
		return had;
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
	if ((chk->offers && from_offer(chk, q)) || from_source(chk, q)) {
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
static bool decode_rr(uint16_t type, const spfkit_rr *rr, spfkit__buf *b)
{
	if (rr->type != type || (!rr->rdata && rr->rdlen))
		return false;
	switch (type) {
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

/* An answer decoded: the records kept as text (names, TXT strings joined)
 * or address octets, each NUL terminated, their data one after the other
 * in data. A check decodes into its arena; a driver's cache keeps one
 * on the heap (spfkit__decoded_new) that checks copy. */
struct spfkit__decoded {
	uint16_t type; /* the type asked */
	spfkit_dns_status status;
	item *items;
	size_t nitems;
	size_t
	    total; /* records of the asked type, past SPFKIT__MAX_ITEMS too */
	size_t octets; /* RDATA octets of those records (ANSWER event) */
	uint32_t ttl;  /* smallest TTL of the records counted */
	char *data;    /* the kept items' data */
	size_t data_len;
	void *mem[4]; /* the heap form's allocations */
	size_t nmem;
};

/* n octets for decode(): in chk's arena, or (chk NULL) from a, kept in
 * d->mem to be freed with it. */
static void *dec_alloc(spfkit_check *chk, const spfkit__alloc *a,
		       spfkit__decoded *d, size_t n)
{
	if (chk)
		return spfkit__arena_alloc(chk, n);
	void *p = d->nmem < sizeof d->mem / sizeof d->mem[0]
		      ? spfkit__malloc(a, n)
		      : NULL;
	if (p)
		d->mem[d->nmem++] = p;
	return p;
}

static void *dec_calloc(spfkit_check *chk, const spfkit__alloc *a,
			spfkit__decoded *d, size_t n)
{
	void *p = dec_alloc(chk, a, d, n);
	if (p)
		memset(p, 0, n);
	return p;
}

/* Decodes (status, rrs, n), asked as type, into *d: its memory from chk's
 * arena, or with chk NULL from a (d->mem). SPFKIT_ENOMEM when out of
 * memory (what was allocated stays in the arena or d->mem). */
static int decode(spfkit_check *chk, const spfkit__alloc *a, uint16_t type,
		  spfkit_dns_status status, const spfkit_rr *rrs, size_t n,
		  spfkit__decoded *d)
{
	if (chk)
		a = chk->a;
	d->type = type;
	d->status = status;
	if (status != SPFKIT_DNS_NOERROR || !n)
		return SPFKIT_OK;
	size_t keep = n < SPFKIT__MAX_ITEMS ? n : SPFKIT__MAX_ITEMS;
	item *items = dec_calloc(chk, a, d, keep * sizeof *items);
	/* MX preferences of the kept items */
	uint16_t *prefs = type == SPFKIT_TYPE_MX && items
			      ? dec_calloc(chk, a, d, keep * sizeof *prefs)
			      : NULL;
	if (!items || (type == SPFKIT_TYPE_MX && !prefs))
		return SPFKIT_ENOMEM;
	/* The kept items' data go one after the other (each NUL terminated)
	 * into one block: decoded data is never longer than its RDATA
	 * (names lose a length octet, TXT strings theirs), so a block of the
	 * RDATA's size holds them all and they are decoded in place. */
	spfkit__buf all;
	size_t bound = 1;
	for (size_t i = 0; i < n; i++)
		bound += rrs[i].rdlen + 1;
	char *block = dec_alloc(chk, a, d, bound);
	if (!block)
		return SPFKIT_ENOMEM;
	spfkit__buf_init_local(&all, a, bound, block, bound);
	/* Records past SPFKIT__MAX_ITEMS are only counted (an MX set over the
	 * limit must still be seen as over it): decoded here and dropped. */
	spfkit__buf scratch;
	char scratch_local[512];
	spfkit__buf_init_local(&scratch, a, SPFKIT__MAX_TXT, scratch_local,
			       sizeof scratch_local);
	size_t nitems = 0, total = 0, octets = 0;
	uint32_t ttl = 0;
	for (size_t i = 0; i < n; i++) {
		size_t before = all.len;
		bool ok;
		if (nitems < keep) {
			ok = decode_rr(type, &rrs[i], &all) &&
			     !spfkit__buf_addc(&all, '\0');
		} else {
			spfkit__buf_reset(&scratch);
			ok = decode_rr(type, &rrs[i], &scratch);
			if (scratch.err == SPFKIT_ENOMEM)
				all.err = SPFKIT_ENOMEM;
			scratch.err = SPFKIT_OK;
		}
		if (all.err == SPFKIT_ENOMEM) {
			spfkit__buf_free(&all);
			spfkit__buf_free(&scratch);
			return SPFKIT_ENOMEM;
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
	char *data = NULL;
	if (nitems) {
		/* In place unless the bound was wrong (then the buffer went to
		 * the heap, and the data come back). */
		data = all.data;
		if (data != block) {
			data = dec_alloc(chk, a, d, all.len);
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
	d->items = nitems ? items : NULL;
	d->nitems = nitems;
	d->total = total;
	d->octets = octets;
	d->ttl = ttl;
	d->data = data;
	d->data_len = nitems ? all.len : 0;
	spfkit__buf_free(&all);
	spfkit__buf_free(&scratch);
	return SPFKIT_OK;
}

spfkit__decoded *spfkit__decoded_new(const spfkit__alloc *a, uint16_t type,
				     spfkit_dns_status status,
				     const spfkit_rr *rrs, size_t n)
{
	if (status == SPFKIT_DNS_TEMPFAIL || !answer_ok(status, rrs, n))
		return NULL;
	spfkit__decoded *d = spfkit__calloc(a, 1, sizeof *d);
	if (d && decode(NULL, a, type, status, rrs, n, d) != SPFKIT_OK) {
		spfkit__decoded_free(a, d);
		d = NULL;
	}
	return d;
}

uint16_t spfkit__decoded_type(const spfkit__decoded *d)
{
	return d->type;
}

void spfkit__decoded_free(const spfkit__alloc *a, spfkit__decoded *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nmem; i++)
		spfkit__free(a, d->mem[i]);
	spfkit__free(a, d);
}

/* Marks unanswered query q answered with d (its memory the check's), with
 * an ANSWER event; failure says why a TEMPFAIL failed. */
static int answered(spfkit_check *chk, query *q, const spfkit__decoded *d,
		    spfkit_dnssec dnssec, spfkit_dns_failure failure)
{
	q->answered = true;
	q->status = d->status;
	q->failure = d->status == SPFKIT_DNS_TEMPFAIL ? failure
						      : SPFKIT_DNS_FAIL_UNKNOWN;
	q->dnssec = dnssec;
	q->items = d->items;
	q->nitems = d->nitems;
	q->total = d->total;
	q->ttl = d->ttl;
	if (chk->ev_cb) {
		spfkit_event ev = answer_event(q, SPFKIT_EVENT_ANSWER);
		ev.nitems = d->total; /* every record, past those kept */
		ev.rdata_octets = d->octets;
		spfkit__emit(chk, &ev);
	}
	return SPFKIT_OK;
}

/* Decodes the answer of unanswered query q into the arena (n records,
 * borrowed for the call) and marks q answered; failure says why a
 * TEMPFAIL failed. */
static int fill(spfkit_check *chk, query *q, spfkit_dns_status status,
		const spfkit_rr *rrs, size_t n, spfkit_dnssec dnssec,
		spfkit_dns_failure failure)
{
	if (!answer_ok(status, rrs, n))
		return SPFKIT_EINVAL;
	spfkit__decoded d = {0};
	int rc = decode(chk, NULL, q->type, status, rrs, n, &d);
	return rc ? rc : answered(chk, q, &d, dnssec, failure);
}

/* As fill(), from an answer decoded already (a driver's copy, asked as
 * q's type): its records are copied into the arena, not decoded again. */
static int fill_decoded(spfkit_check *chk, query *q, const spfkit__decoded *src,
			spfkit_dnssec dnssec, spfkit_dns_failure failure)
{
	spfkit__decoded d = *src;
	if (src->nitems) {
		d.items =
		    spfkit__arena_alloc(chk, src->nitems * sizeof *d.items);
		d.data = spfkit__arena_alloc(chk, src->data_len);
		if (!d.items || !d.data)
			return SPFKIT_ENOMEM;
		memcpy(d.data, src->data, src->data_len);
		for (size_t k = 0; k < src->nitems; k++) {
			d.items[k].data =
			    d.data + (src->items[k].data - src->data);
			d.items[k].len = src->items[k].len;
		}
	}
	return answered(chk, q, &d, dnssec, failure);
}
