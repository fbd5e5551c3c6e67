/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - parsed SPF records kept by their text (spfkit_cache): a hash
 * table with chaining and a least-recently-used list, for one thread.
 * Entries hold a reference to their record (spfkit__record.refs), so a
 * record dropped from the cache lives on in the checks still using it.
 * The text's hash is keyed (internal.h): records are chosen by senders.
 * A second table, indexed by the (keyed) hash of the name a record was
 * published at, points at the entry that name's record was last time: a
 * warm check finds its records by a compare of their text instead of a
 * SipHash over it (records of a few hundred octets: most of a warm
 * check's lookups of its cache). A slot holds one entry; a miss there is
 * only the ordinary lookup.
 */
#include <string.h>

#include "api.h"
#include "list.h"

#define DEFAULT_MAX 4096

typedef struct entry {
	struct entry *chain; /* next in the bucket */
	spfkit_link lru;     /* the cache's list: the head is used least */
	uint64_t hash;
	size_t hint_slot; /* its slot in hints, or NO_SLOT */
	spfkit__record *rec;
} entry;

#define NO_SLOT SIZE_MAX

struct spfkit_cache {
	const spfkit_config *cfg;
	const spfkit__alloc *a;
	entry **buckets;
	entry **hints;   /* by hash of the publishing name, nbuckets of them */
	size_t nbuckets; /* a power of two, at least 2 x max */
	size_t max;
	spfkit_list lru; /* every entry, least recently used first */
	uint64_t hits, misses;
};

/* Drops the least recently used entry. */
static void evict(spfkit_cache *c)
{
	if (!c->lru.head)
		return;
	entry *e = SPFKIT_CONTAINER(c->lru.head, entry, lru);
	spfkit_list_remove(&c->lru, &e->lru);
	entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	if (e->hint_slot != NO_SLOT)
		c->hints[e->hint_slot] = NULL;
	spfkit__record_free(c->a, e->rec);
	spfkit__free(c->a, e);
}

int spfkit_cache_new(spfkit_cache **out, const spfkit_config *cfg,
		     size_t max_records)
{
	if (!out || !cfg)
		return SPFKIT_EINVAL;
	*out = NULL;
	size_t max = max_records ? max_records : DEFAULT_MAX;
	if (max > ((size_t)1 << 24))
		return SPFKIT_EINVAL;
	const spfkit__alloc *a;
	spfkit_cache *c = spfkit__handle_new(cfg, sizeof *c, &a);
	if (!c)
		return SPFKIT_ENOMEM;
	size_t nb = 16;
	while (nb < 2 * max)
		nb *= 2;
	c->buckets = spfkit__calloc(a, nb, sizeof *c->buckets);
	c->hints = spfkit__calloc(a, nb, sizeof *c->hints);
	if (!c->buckets || !c->hints) {
		spfkit__free(a, c->buckets);
		spfkit__free(a, c->hints);
		spfkit__free(a, c);
		return SPFKIT_ENOMEM;
	}
	c->cfg = cfg;
	c->a = a;
	c->nbuckets = nb;
	c->max = max;
	*out = c;
	return SPFKIT_OK;
}

void spfkit_cache_free(spfkit_cache *c)
{
	if (!c)
		return;
	while (c->lru.n)
		evict(c);
	spfkit__free(c->a, c->buckets);
	spfkit__free(c->a, c->hints);
	spfkit__free(c->a, c);
}

uint64_t spfkit_cache_hits(const spfkit_cache *c)
{
	return c ? c->hits : 0;
}

uint64_t spfkit_cache_misses(const spfkit_cache *c)
{
	return c ? c->misses : 0;
}

const spfkit_config *spfkit__cache_config(const spfkit_cache *c)
{
	return c->cfg;
}

/* Points hint's slot at e (an entry has one slot at most). */
static void set_hint(spfkit_cache *c, entry *e, uint64_t hint)
{
	if (hint == SPFKIT__CACHE_NO_HINT)
		return;
	size_t slot = (size_t)hint & (c->nbuckets - 1);
	entry *old = c->hints[slot];
	if (old == e)
		return;
	if (old)
		old->hint_slot = NO_SLOT;
	if (e->hint_slot != NO_SLOT)
		c->hints[e->hint_slot] = NULL;
	c->hints[slot] = e;
	e->hint_slot = slot;
}

/* A hit on e: a holder for the caller. */
static spfkit__record *hit(spfkit_cache *c, entry *e)
{
	spfkit_list_touch(&c->lru, &e->lru);
	c->hits++;
	e->rec->refs++;
	return e->rec;
}

spfkit__record *spfkit__cache_get(spfkit_cache *c, const char *text, size_t n,
				  uint64_t hint)
{
	if (hint != SPFKIT__CACHE_NO_HINT) {
		entry *e = c->hints[(size_t)hint & (c->nbuckets - 1)];
		if (e && e->rec->len == n && memcmp(e->rec->text, text, n) == 0)
			return hit(c, e);
	}
	uint64_t h = spfkit__text_hash(text, n);
	for (entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain)
		if (e->hash == h && e->rec->len == n &&
		    memcmp(e->rec->text, text, n) == 0) {
			set_hint(c, e, hint);
			return hit(c, e);
		}
	c->misses++;
	return NULL;
}

void spfkit__cache_put(spfkit_cache *c, spfkit__record *r, uint64_t hint)
{
	entry *e = spfkit__calloc(c->a, 1, sizeof *e);
	if (!e)
		return;
	if (c->lru.n >= c->max)
		evict(c);
	e->hash = spfkit__text_hash(r->text, r->len);
	e->hint_slot = NO_SLOT;
	e->rec = r;
	r->refs++;
	size_t b = e->hash & (c->nbuckets - 1);
	e->chain = c->buckets[b];
	c->buckets[b] = e;
	spfkit_list_push(&c->lru, &e->lru);
	set_hint(c, e, hint);
}
