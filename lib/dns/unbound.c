/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unbound.c - the real DNS driver: answers the evaluator's queries through
 * libunbound's asynchronous API (cache, TCP fallback, DNSSEC validation),
 * many checks in flight, one ub_ctx for the resolver's lifetime so its
 * cache serves every check. Names an attached zone holds are answered from
 * the zone without asking DNS.
 *
 * Every query lives in one of two lists: "flight" (handed to libunbound,
 * waiting) and "ready" (answered, by libunbound, the zone, or a timeout,
 * and not yet handed to its check). Answers reach checks only inside
 * spfkit_resolver_process(), so the caller's callback never runs inside
 * spfkit_resolver_send() or inside libunbound.
 *
 * libunbound runs in the caller's thread, on an event base of ours
 * (dns/evloop.c, unbound-event.h's ub_ctx_create_ub_event() and
 * ub_resolve_event()): its sockets and timers sit in one epoll descriptor
 * (spfkit_resolver_fd()) and run inside spfkit_resolver_process(). Before,
 * a worker thread (ub_ctx_async()) took each query over a pipe and sent
 * its answer back over another: two thread wake-ups a query, which cost
 * more than the loopback round trip to a local resolver (bench/README.md).
 * ub_resolve_event() hands over the reply packet; dns/ubresult.c makes the
 * ub_result the rest of this file reads from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ldns/ldns.h>
#include <unbound.h>

#include <unbound-event.h>

#include "api.h"
#include "dns/evloop.h"
#include "dns/ubresult.h"
#include "dns/zone.h"
#include "internal.h"
#include "list.h"

/* The per-query timeout when none is set (spfkit.h). */
#define RES_DEFAULT_TIMEOUT_MS 5000u

/* DNS class IN (RFC 1035 §3.2.4). */
#define RES_CLASS_IN 1

/* A name of at most 255 octets, every octet escaped as \DDD, and a NUL. */
#define RES_NAME_MAX (255 * 4 + 1)

typedef enum res_mode {
	RES_MODE_UNSET = 0, /* nothing chosen yet: /etc/resolv.conf */
	RES_MODE_FORWARD,   /* --nameserver: forward to these servers */
	RES_MODE_RESOLVCONF,
	RES_MODE_RECURSIVE /* from the root hints built into libunbound */
} res_mode;

/* A cached answer (RFC 1035 §3.2.1 TTL respected): reused for every check
 * while it lasts, so a warm check never crosses libunbound's worker pipe.
 * Failures and bogus answers are never cached. Shared by the queries it
 * answers (refs) and the table (in_table); freed when neither holds it. */
typedef struct res_cached {
	struct res_cached *next; /* hash chain */
	unsigned refs;
	bool in_table;
	uint16_t type;
	uint32_t hash;
	uint64_t expires_ms;
	spfkit_dns_status status;
	spfkit_dnssec dnssec;
	size_t n;
	spfkit_rr *rrs; /* n records, rdata into blob */
	unsigned char *blob;
	/* The records decoded as a check keeps them, or NULL (out of
	 * memory): a warm check copies them instead of decoding again. */
	spfkit__decoded *decoded;
	size_t name_len;
	char name[]; /* lower case, NUL terminated */
} res_cached;

/* At most this many answers are cached; past it the table starts over. */
#define RES_CACHE_MAX 65536u
/* Address records taken per exchange from an MX answer's additional
 * section (mx_glue); a larger set is not taken. */
#define RES_GLUE_MAX 64

typedef struct res_query {
	spfkit_link link; /* in flight, ready, or a spare */
	spfkit_resolver *r;
	spfkit_check *chk;
	unsigned id;
	uint16_t type;
	int async_id;   /* libunbound's id; valid while in flight */
	bool in_flight; /* in r->flight (else in r->ready) */
	uint64_t sent_ms;
	/* The answer, once ready. */
	spfkit_dns_status status;
	spfkit_dns_failure failure; /* TEMPFAIL: why (spfkit.h) */
	spfkit_dnssec dnssec;
	struct ub_result *ub; /* libunbound's answer, or NULL */
	spfkit__zone_answer zans;
	bool has_zans;
	res_cached *cached; /* answered from the cache */
	char *key;          /* lower-case name, to cache libunbound's answer */
	size_t key_len;
} res_query;

struct spfkit_resolver {
	const spfkit_config *cfg;
	const spfkit__alloc *a;
	struct ub_ctx *ctx;
	spfkit__evloop *ev; /* the event base ctx runs on */
	const spfkit_zone *zone;
	res_mode mode;
	char *resolvconf; /* RES_MODE_RESOLVCONF path, or NULL */
	char *root_hints; /* RES_MODE_RECURSIVE from these roots, or NULL */
	bool trust_anchor;
	bool no_cache; /* spfkit_resolver_set_no_cache() */
	bool started;  /* the context was finalised by a first send */
	uint32_t timeout_ms;
	uint64_t sent; /* ub_resolve_async() calls */
	spfkit_list flight, ready;
	res_cached **cache; /* hash table, cache_size buckets (power of 2) */
	size_t cache_size, cache_n;
	uint64_t now_ms;      /* the caller's clock at the last send/process */
	spfkit_check **batch; /* process(): checks to call back */
	size_t batch_cap;
	spfkit_list spare; /* freed queries kept for reuse */
};

/* Queries kept for reuse: a warm check asks a handful, each answered from
 * the cache at once, and an allocation each was a tenth of its time. */
#define RES_SPARE_MAX 256u

/* ------------------------------------------------------------ lists */

/* The query whose link is l, or NULL. */
static res_query *query_of(spfkit_link *l)
{
	return l ? SPFKIT_CONTAINER(l, res_query, link) : NULL;
}

static void list_push(spfkit_list *l, res_query *q)
{
	spfkit_list_push(l, &q->link);
}

static void list_remove(spfkit_list *l, res_query *q)
{
	spfkit_list_remove(l, &q->link);
}

/* ------------------------------------------------------------ cache */

/* The table's hash of (name, type) from spfkit__name_hash(name). */
static uint32_t cache_hash_of(uint32_t name_hash, uint16_t type)
{
	return name_hash ^ ((uint32_t)type * 0x9e3779b1u);
}

static uint32_t cache_hash(const char *name, size_t n, uint16_t type)
{
	return cache_hash_of(spfkit__name_hash(name, n), type);
}

static void cache_unref(spfkit_resolver *r, res_cached *c)
{
	if (c && --c->refs == 0 && !c->in_table) {
		spfkit__decoded_free(r->a, c->decoded);
		spfkit__free(r->a, c->rrs);
		spfkit__free(r->a, c->blob);
		spfkit__free(r->a, c);
	}
}

/* Takes c out of the table (unlinking it is the caller's part). */
static void cache_drop(spfkit_resolver *r, res_cached *c)
{
	c->in_table = false;
	r->cache_n--;
	c->refs++;
	cache_unref(r, c);
}

/* Empties the table; answers still held by queries live on. */
static void cache_clear(spfkit_resolver *r)
{
	for (size_t i = 0; i < r->cache_size; i++) {
		res_cached *c = r->cache[i], *next;
		for (; c; c = next) {
			next = c->next;
			cache_drop(r, c);
		}
		r->cache[i] = NULL;
	}
}

/* The fresh cached answer for (name, type), or NULL; a stale one goes.
 * h is cache_hash(name, n, type). */
static res_cached *cache_find_h(spfkit_resolver *r, const char *name, size_t n,
				uint16_t type, uint32_t h)
{
	if (!r->cache_size)
		return NULL;
	res_cached **pp = &r->cache[h & (r->cache_size - 1)];
	while (*pp) {
		res_cached *c = *pp;
		/* Names are mostly asked as cached (lower case): one memcmp
		 * inline, spfkit__ieq() for the rest. */
		if (c->hash == h && c->type == type && c->name_len == n &&
		    (memcmp(c->name, name, n) == 0 ||
		     spfkit__ieq(c->name, c->name_len, name, n))) {
			if (c->expires_ms > r->now_ms)
				return c;
			*pp = c->next;
			cache_drop(r, c);
			return NULL;
		}
		pp = &c->next;
	}
	return NULL;
}

static res_cached *cache_find(spfkit_resolver *r, const char *name, size_t n,
			      uint16_t type)
{
	return r->cache_size
		   ? cache_find_h(r, name, n, type, cache_hash(name, n, type))
		   : NULL;
}

/* Makes room for one more entry; false when out of memory. */
static bool cache_room(spfkit_resolver *r)
{
	if (r->cache_n >= RES_CACHE_MAX)
		cache_clear(r);
	if (r->cache_size && r->cache_n < r->cache_size - r->cache_size / 4)
		return true;
	size_t size = r->cache_size ? r->cache_size * 2 : 256;
	res_cached **t = spfkit__calloc(r->a, size, sizeof *t);
	if (!t)
		return false;
	for (size_t i = 0; i < r->cache_size; i++) {
		res_cached *c = r->cache[i], *next;
		for (; c; c = next) {
			next = c->next;
			c->next = t[c->hash & (size - 1)];
			t[c->hash & (size - 1)] = c;
		}
	}
	spfkit__free(r->a, r->cache);
	r->cache = t;
	r->cache_size = size;
	return true;
}

/* Keeps an answer for (key, type) while ttl lasts: n records, record i
 * data[i] of len[i] octets. A cache that cannot grow just does not keep
 * it. */
static void cache_put(spfkit_resolver *r, const char *key, size_t key_len,
		      uint16_t type, spfkit_dns_status status,
		      spfkit_dnssec dnssec, size_t n,
		      const unsigned char *const *data, const size_t *len,
		      uint32_t ttl)
{
	if (ttl == 0 || r->no_cache || !cache_room(r))
		return;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += len[i];
	res_cached *c = spfkit__calloc(r->a, 1, sizeof *c + key_len + 1);
	if (!c)
		return;
	c->rrs = n ? spfkit__calloc(r->a, n, sizeof *c->rrs) : NULL;
	c->blob = bytes ? spfkit__malloc(r->a, bytes) : NULL;
	if ((n && !c->rrs) || (bytes && !c->blob)) {
		spfkit__free(r->a, c->rrs);
		spfkit__free(r->a, c->blob);
		spfkit__free(r->a, c);
		return;
	}
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		if (len[i])
			memcpy(c->blob + off, data[i], len[i]);
		c->rrs[i].type = type;
		c->rrs[i].ttl = ttl;
		c->rrs[i].rdata = c->blob ? c->blob + off : NULL;
		c->rrs[i].rdlen = len[i];
		off += len[i];
	}
	c->n = n;
	c->type = type;
	c->status = status;
	c->decoded = spfkit__decoded_new(r->a, type, status, c->rrs, n);
	c->dnssec = dnssec;
	c->expires_ms = r->now_ms + (uint64_t)ttl * 1000u;
	memcpy(c->name, key, key_len);
	c->name[key_len] = '\0';
	c->name_len = key_len;
	c->hash = cache_hash(c->name, c->name_len, c->type);
	c->in_table = true;
	size_t b = c->hash & (r->cache_size - 1);
	c->next = r->cache[b];
	r->cache[b] = c;
	r->cache_n++;
}

/* The text of a wire-format name (as the evaluator writes names: lower
 * case, no trailing dot) into out; false when it is not one. */
static bool wire_name_key(const ldns_rdf *rdf, spfkit__buf *out)
{
	size_t used;
	if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME ||
	    !spfkit__rdata_name(ldns_rdf_data(rdf), ldns_rdf_size(rdf), &used,
				out) ||
	    used != ldns_rdf_size(rdf) || out->len == 0)
		return false;
	for (size_t i = 0; i < out->len; i++)
		out->data[i] = (char)spfkit__lower((unsigned char)out->data[i]);
	return true;
}

/* Where mx_glue() hands each address RRset: the name (lower case), its
 * type, the n records' data, and their TTL. */
typedef void (*glue_sink)(spfkit_resolver *r, const res_query *q,
			  const char *name, size_t name_len, uint16_t type,
			  size_t n, const unsigned char *const *data,
			  const size_t *len, uint32_t ttl);

/* RFC 1035 §3.3.9: an MX answer's additional section usually carries the
 * exchanges' addresses, and the evaluator asks for exactly those next
 * (RFC 7208 §5.4). Keeping them saves a round trip and a message per
 * exchange, as pyspf does. Only address records whose owner is an
 * exchange of this very answer are taken, whole RRsets only, and never
 * while validating DNSSEC (additional data is not validated). */
static void mx_glue(spfkit_resolver *r, const res_query *q, glue_sink sink)
{
	const struct ub_result *ub = q->ub;
	if (q->type != SPFKIT_TYPE_MX || q->status != SPFKIT_DNS_NOERROR ||
	    r->trust_anchor || !ub->answer_packet || ub->answer_len <= 0)
		return;
	ldns_pkt *pkt = NULL;
	if (ldns_wire2pkt(&pkt, ub->answer_packet, (size_t)ub->answer_len) !=
	    LDNS_STATUS_OK)
		return;
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	const ldns_rr_list *ar = ldns_pkt_additional(pkt);
	size_t nan = an ? ldns_rr_list_rr_count(an) : 0;
	size_t nar = ar ? ldns_rr_list_rr_count(ar) : 0;
	for (size_t i = 0; i < nan && nar; i++) {
		const ldns_rr *mx = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(mx) != LDNS_RR_TYPE_MX ||
		    ldns_rr_rd_count(mx) < 2)
			continue;
		const ldns_rdf *exch = ldns_rr_rdf(mx, 1);
		spfkit__buf key;
		char key_local[256];
		spfkit__buf_init_local(&key, r->a, 255, key_local,
				       sizeof key_local);
		bool ok = wire_name_key(exch, &key);
		for (int t = 0; ok && t < 2; t++) {
			ldns_rr_type want =
			    t == 0 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
			size_t want_len = t == 0 ? 4 : 16;
			const unsigned char *data[RES_GLUE_MAX];
			size_t len[RES_GLUE_MAX], n = 0;
			uint32_t ttl = UINT32_MAX;
			bool whole = true;
			for (size_t k = 0; k < nar; k++) {
				const ldns_rr *rr = ldns_rr_list_rr(ar, k);
				if (ldns_rr_get_type(rr) != want ||
				    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
				    ldns_dname_compare(ldns_rr_owner(rr),
						       exch) != 0)
					continue;
				const ldns_rdf *a = ldns_rr_rdf(rr, 0);
				if (!a || ldns_rdf_size(a) != want_len ||
				    n == RES_GLUE_MAX) {
					whole = false;
					break;
				}
				data[n] = ldns_rdf_data(a);
				len[n] = want_len;
				if (ldns_rr_ttl(rr) < ttl)
					ttl = ldns_rr_ttl(rr);
				n++;
			}
			uint16_t type =
			    t == 0 ? SPFKIT_TYPE_A : SPFKIT_TYPE_AAAA;
			if (!whole || n == 0)
				continue;
			if (ub->ttl > 0 && ttl > (uint32_t)ub->ttl)
				ttl = (uint32_t)ub->ttl;
			sink(r, q, key.data, key.len, type, n, data, len, ttl);
		}
		spfkit__buf_free(&key);
	}
	ldns_pkt_free(pkt);
}

/* The glue kept while its TTL lasts, for every check (the cache on). */
static void glue_to_cache(spfkit_resolver *r, const res_query *q,
			  const char *name, size_t name_len, uint16_t type,
			  size_t n, const unsigned char *const *data,
			  const size_t *len, uint32_t ttl)
{
	if (!cache_find(r, name, name_len, type))
		cache_put(r, name, name_len, type, SPFKIT_DNS_NOERROR,
			  q->dnssec, n, data, len, ttl);
}

/* The glue for the check that asked the MX alone (no cache: nothing is
 * kept across checks, but a check need not ask what it was just told). */
static void glue_to_check(spfkit_resolver *r, const res_query *q,
			  const char *name, size_t name_len, uint16_t type,
			  size_t n, const unsigned char *const *data,
			  const size_t *len, uint32_t ttl)
{
	spfkit_rr rrs[RES_GLUE_MAX]; /* mx_glue hands no more */
	(void)r;
	if (n > RES_GLUE_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		rrs[i] = (spfkit_rr){.type = type,
				     .ttl = ttl,
				     .rdata = data[i],
				     .rdlen = len[i]};
	/* Out of memory: the check asks for them as usual. */
	(void)spfkit__check_offer(q->chk, name, name_len, type, rrs, n);
}

/* Keeps libunbound's answer to q while its TTL lasts (and, for MX, the
 * exchanges' addresses that came with it). */
static void cache_store(spfkit_resolver *r, const res_query *q)
{
	const struct ub_result *ub = q->ub;
	if (!q->key || !ub || ub->ttl <= 0 ||
	    q->status == SPFKIT_DNS_TEMPFAIL ||
	    q->dnssec == SPFKIT_DNSSEC_BOGUS)
		return;
	size_t n = 0;
	while (ub->havedata && ub->data[n])
		n++;
	enum { STACK = 32 };
	const unsigned char *data_s[STACK];
	size_t len_s[STACK];
	const unsigned char **data = data_s;
	size_t *len = len_s;
	if (n > STACK) {
		data = spfkit__calloc(r->a, n, sizeof *data);
		len = spfkit__calloc(r->a, n, sizeof *len);
	}
	if (data && len) {
		for (size_t i = 0; i < n; i++) {
			data[i] = (const unsigned char *)ub->data[i];
			len[i] = ub->len[i] > 0 ? (size_t)ub->len[i] : 0;
		}
		cache_put(r, q->key, q->key_len, q->type, q->status, q->dnssec,
			  n, data, len, (uint32_t)ub->ttl);
	}
	if (data != data_s)
		spfkit__free(r->a, (void *)data);
	if (len != len_s)
		spfkit__free(r->a, len);
	mx_glue(r, q, glue_to_cache);
}

/* Releases a query's answer and the query; it is in no list. */
static void query_free(spfkit_resolver *r, res_query *q)
{
	cache_unref(r, q->cached);
	spfkit__free(r->a, q->key);
	if (q->ub)
		ub_resolve_free(q->ub);
	if (q->has_zans)
		spfkit__zone_answer_free(r->zone, &q->zans);
	if (r->spare.n < RES_SPARE_MAX) {
		list_push(&r->spare, q);
		return;
	}
	spfkit__free(r->a, q);
}

/* A zeroed query, from the spares when there is one. */
static res_query *query_new(spfkit_resolver *r)
{
	res_query *q = query_of(r->spare.head);
	if (!q)
		return spfkit__calloc(r->a, 1, sizeof *q);
	list_remove(&r->spare, q);
	memset(q, 0, sizeof *q);
	return q;
}

/* Moves a query from the flight list to the ready list. */
static void make_ready(spfkit_resolver *r, res_query *q)
{
	if (q->in_flight) {
		list_remove(&r->flight, q);
		q->in_flight = false;
		list_push(&r->ready, q);
	}
}

/* ------------------------------------------------------------ setup */

int spfkit_resolver_new(spfkit_resolver **out, const spfkit_config *cfg)
{
	if (!out || !cfg)
		return SPFKIT_EINVAL;
	const spfkit__alloc *a;
	spfkit_resolver *r = spfkit__handle_new(cfg, sizeof *r, &a);
	*out = NULL;
	if (!r)
		return SPFKIT_ENOMEM;
	r->cfg = cfg;
	r->a = a;
	r->timeout_ms = RES_DEFAULT_TIMEOUT_MS;
	r->ev = spfkit__ev_new(a);
	r->ctx = r->ev ? ub_ctx_create_ub_event(spfkit__ev_base(r->ev)) : NULL;
	if (!r->ctx) {
		spfkit__ev_free(r->ev);
		spfkit__free(a, r);
		return SPFKIT_ENOMEM;
	}
	/* The library never prints; libunbound writes its errors to
	 * standard error, once per query while they last: out of descriptors
	 * ("can't create socket") that was a line per lookup. What goes wrong
	 * reaches the check as a failed lookup anyway. */
	if (ub_ctx_debugout(r->ctx, NULL) != 0) {
		ub_ctx_delete(r->ctx);
		spfkit__ev_free(r->ev);
		spfkit__free(a, r);
		return SPFKIT_ENOMEM;
	}
	*out = r;
	return SPFKIT_OK;
}

void spfkit_resolver_free(spfkit_resolver *r)
{
	if (!r)
		return;
	res_query *q;
	while ((q = query_of(r->flight.head)) != NULL) {
		list_remove(&r->flight, q);
		(void)ub_cancel(r->ctx, q->async_id);
		query_free(r, q);
	}
	while ((q = query_of(r->ready.head)) != NULL) {
		list_remove(&r->ready, q);
		query_free(r, q);
	}
	while ((q = query_of(r->spare.head)) != NULL) {
		list_remove(&r->spare, q);
		spfkit__free(r->a, q);
	}
	cache_clear(r);
	spfkit__free(r->a, r->cache);
	/* Frees libunbound's events before the loop that holds them. */
	ub_ctx_delete(r->ctx);
	spfkit__ev_free(r->ev);
	spfkit__free(r->a, r->resolvconf);
	spfkit__free(r->a, r->root_hints);
	spfkit__free(r->a, r->batch);
	spfkit__free(r->a, r);
}

/* The first choice of where to ask decides; settings only before the
 * first send. */
static int choose_mode(spfkit_resolver *r, res_mode m)
{
	if (r->started)
		return SPFKIT_ESTATE;
	if (r->mode != RES_MODE_UNSET && r->mode != m)
		return SPFKIT_ESTATE;
	r->mode = m;
	return SPFKIT_OK;
}

int spfkit_resolver_add_nameserver(spfkit_resolver *r, const char *addr)
{
	if (!r || !addr || !addr[0])
		return SPFKIT_EINVAL;
	int rc = choose_mode(r, RES_MODE_FORWARD);
	if (rc < 0)
		return rc;
	/* libunbound's own syntax is ADDR[@PORT], as dig's @server. */
	rc = ub_ctx_set_fwd(r->ctx, addr);
	if (rc == UB_NOMEM)
		return SPFKIT_ENOMEM;
	if (rc != 0)
		return SPFKIT_EINVAL;
	return SPFKIT_OK;
}

int spfkit_resolver_use_resolvconf(spfkit_resolver *r, const char *path)
{
	if (!r)
		return SPFKIT_EINVAL;
	int rc = choose_mode(r, RES_MODE_RESOLVCONF);
	if (rc < 0)
		return rc;
	if (path) {
		char *p = spfkit__strndup(r->a, path, strlen(path));
		if (!p)
			return SPFKIT_ENOMEM;
		spfkit__free(r->a, r->resolvconf);
		r->resolvconf = p;
	}
	return SPFKIT_OK;
}

int spfkit_resolver_set_recursive(spfkit_resolver *r)
{
	if (!r)
		return SPFKIT_EINVAL;
	return choose_mode(r, RES_MODE_RECURSIVE);
}

int spfkit_resolver_set_root_hints(spfkit_resolver *r, const char *path)
{
	if (!r || !path || !path[0])
		return SPFKIT_EINVAL;
	int rc = choose_mode(r, RES_MODE_RECURSIVE);
	if (rc < 0)
		return rc;
	char *p = spfkit__strndup(r->a, path, strlen(path));
	if (!p)
		return SPFKIT_ENOMEM;
	spfkit__free(r->a, r->root_hints);
	r->root_hints = p;
	return SPFKIT_OK;
}

int spfkit_resolver_set_trust_anchor_file(spfkit_resolver *r, const char *path)
{
	if (!r || !path || !path[0])
		return SPFKIT_EINVAL;
	if (r->started)
		return SPFKIT_ESTATE;
	/* libunbound reads the file when the context is finalised; the
	 * first send reports a file it cannot read. */
	int rc = ub_ctx_add_ta_file(r->ctx, path);
	if (rc == UB_NOMEM)
		return SPFKIT_ENOMEM;
	if (rc != 0)
		return SPFKIT_EINVAL;
	r->trust_anchor = true;
	return SPFKIT_OK;
}

int spfkit_resolver_set_no_cache(spfkit_resolver *r)
{
	if (!r)
		return SPFKIT_EINVAL;
	if (r->started)
		return SPFKIT_ESTATE;
	r->no_cache = true;
	return SPFKIT_OK;
}

int spfkit_resolver_set_zone(spfkit_resolver *r, const spfkit_zone *zone)
{
	if (!r)
		return SPFKIT_EINVAL;
	r->zone = zone;
	return SPFKIT_OK;
}

int spfkit_resolver_set_query_timeout(spfkit_resolver *r, uint32_t ms)
{
	if (!r || ms == 0)
		return SPFKIT_EINVAL;
	r->timeout_ms = ms;
	return SPFKIT_OK;
}

/* Maps a libunbound setup error to a status. */
static int ub_status(int rc)
{
	switch (rc) {
	case 0: return SPFKIT_OK;
	case UB_NOMEM: return SPFKIT_ENOMEM;
	case UB_READFILE: return SPFKIT_EIO;
	case UB_SYNTAX: return SPFKIT_EPARSE;
	default: return SPFKIT_EINVAL;
	}
}

/* Applies the chosen source once, before the first query. */
/* The reverse zones libunbound serves locally by default (unbound.conf(5),
 * "local-zone" defaults), made transparent when forwarding. */
static const char *const local_zones[] = {
    "10.in-addr.arpa.",
    "16.172.in-addr.arpa.",
    "17.172.in-addr.arpa.",
    "18.172.in-addr.arpa.",
    "19.172.in-addr.arpa.",
    "20.172.in-addr.arpa.",
    "21.172.in-addr.arpa.",
    "22.172.in-addr.arpa.",
    "23.172.in-addr.arpa.",
    "24.172.in-addr.arpa.",
    "25.172.in-addr.arpa.",
    "26.172.in-addr.arpa.",
    "27.172.in-addr.arpa.",
    "28.172.in-addr.arpa.",
    "29.172.in-addr.arpa.",
    "30.172.in-addr.arpa.",
    "31.172.in-addr.arpa.",
    "168.192.in-addr.arpa.",
    "254.169.in-addr.arpa.",
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.",
    "0.in-addr.arpa.",
    "127.in-addr.arpa.",
    "d.f.ip6.arpa.",
    "8.e.f.ip6.arpa.",
    "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.",
    "b.e.f.ip6.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
    "test.",
    "invalid.",
    "home.arpa.",
};

static int start(spfkit_resolver *r)
{
	if (r->started)
		return SPFKIT_OK;
	int rc = 0;
	switch (r->mode) {
	case RES_MODE_UNSET:
	case RES_MODE_RESOLVCONF:
		rc = ub_ctx_resolvconf(r->ctx, r->resolvconf);
		/* resolv.conf naming 127.0.0.1 (a local cache) is common. */
		if (rc == 0)
			rc = ub_ctx_set_option(r->ctx,
					       "do-not-query-localhost:", "no");
		break;
	case RES_MODE_FORWARD:
		/* Forwarding to a server on loopback is what ADDR means. */
		rc = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no");
		break;
	case RES_MODE_RECURSIVE:
		/* A private root: its servers may well be on loopback. */
		if (r->root_hints)
			rc = ub_ctx_set_option(r->ctx,
					       "root-hints:", r->root_hints);
		if (rc == 0 && r->root_hints)
			rc = ub_ctx_set_option(r->ctx,
					       "do-not-query-localhost:", "no");
		break;
	}
	/* libunbound's own default outgoing-range (ports, so queries in
	 * flight at once) is a few dozen here. Queries to a server that does
	 * not answer hold their port until libunbound gives up, long after our
	 * per-query timeout; with the range full, every other query waits
	 * behind them ("no fds available, udp query waiting") and a few
	 * silent names turn every check into temperror. Room for as many
	 * queries as a busy daemon keeps in flight, within the usual limit of
	 * 1024 descriptors. */
	if (rc == 0)
		rc = ub_ctx_set_option(r->ctx, "outgoing-range:", "768");
	/* The same for TCP (truncated answers, RFC 7766): its default of 10
	 * connections is soon held by servers that accept and never answer. */
	if (rc == 0)
		rc = ub_ctx_set_option(r->ctx, "outgoing-num-tcp:", "128");
	/* After an outage, checks must pass again as soon as the server
	 * answers. libunbound keeps what it learnt of a server (round trip,
	 * timeouts, EDNS) for infra-host-ttl, 900 s by default, and a server
	 * that timed out is backed off and probed less and less often: after
	 * a 60 s outage of the only server, lookups went on failing for about
	 * 50 s more (11 s after a 20 s outage), with the server answering.
	 * Forgotten after 10 s, it is found again within a second (0.2 s
	 * after a 20 s outage in tests/soak/abuse.py); what is lost is a
	 * little timing knowledge, learnt again from the next answers. Not
	 * infra-keep-probing: it did not speed recovery, and more lookups of
	 * good names failed beside names that time out (tests/soak/run.sh). */
	if (rc == 0)
		rc = ub_ctx_set_option(r->ctx, "infra-host-ttl:", "10");
	/* Without a trust anchor the validator module has nothing to do but
	 * costs every query a pass through it (and its set-up). */
	if (rc == 0 && !r->trust_anchor)
		rc = ub_ctx_set_option(r->ctx, "module-config:", "iterator");
	/* No cache: libunbound keeps nothing either. Its caches cannot be
	 * turned off, nor emptied through its API: at size 0 an LRU table
	 * keeps its one most recent entry per slab, and with a TTL of 0 that
	 * entry is stale once the second it came in is over. */
	for (size_t i = 0; rc == 0 && r->no_cache && i < 6; i++) {
		static const char *const opt[6][2] = {
		    {"msg-cache-size:", "0"},
		    {"msg-cache-slabs:", "1"},
		    {"rrset-cache-size:", "0"},
		    {"rrset-cache-slabs:", "1"},
		    {"cache-max-ttl:", "0"},
		    {"cache-max-negative-ttl:", "0"}};
		rc = ub_ctx_set_option(r->ctx, opt[i][0], opt[i][1]);
	}
	/* libunbound answers NXDOMAIN itself for the reverse zones of private
	 * and documentation networks (RFC 6761, RFC 6303). Behind a resolver
	 * of the user's choice, that resolver decides: its %{p} and ptr
	 * answers must not be replaced by ours. */
	for (size_t i = 0; rc == 0 && r->mode != RES_MODE_RECURSIVE &&
			   i < sizeof local_zones / sizeof local_zones[0];
	     i++) {
		char zone[96];
		snprintf(zone, sizeof zone, "%s transparent", local_zones[i]);
		rc = ub_ctx_set_option(r->ctx, "local-zone:", zone);
	}
	if (rc != 0)
		return ub_status(rc);
	r->started = true;
	return SPFKIT_OK;
}

/* ------------------------------------------------------------ queries */

/* Writes name in presentation format into out (RES_NAME_MAX octets):
 * octets special there (RFC 1035 §5.1) or outside letters, digits, '-'
 * and '_' become \DDD, so a hostile macro expansion can only ever be the
 * one name it spells. '.' separates labels (a name from the evaluator
 * holds no dot inside a label). */
static bool present_name(const char *name, char *out)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		unsigned char c = *p;
		if (spfkit__is_alnum(c) || c == '-' || c == '_' || c == '.') {
			if (o + 2 > RES_NAME_MAX)
				return false;
			out[o++] = (char)c;
		} else {
			if (o + 5 > RES_NAME_MAX)
				return false;
			out[o++] = '\\';
			out[o++] = (char)('0' + c / 100);
			out[o++] = (char)('0' + c / 10 % 10);
			out[o++] = (char)('0' + c % 10);
		}
	}
	out[o] = '\0';
	return true;
}

/* libunbound's callback (inside spfkit__ev_run(), or inside
 * ub_resolve_event() when libunbound holds the answer): keep the answer
 * for delivery by spfkit_resolver_process(). */
static void ub_done(void *mydata, int rcode, void *packet, int len, int sec,
		    char *why_bogus, int ratelimited)
{
	(void)why_bogus;
	(void)ratelimited;
	res_query *q = mydata;
	spfkit_resolver *r = q->r;
	struct ub_result *result =
	    spfkit__ub_result(packet, len, rcode, q->type, sec);
	int err = result ? 0 : UB_NOMEM;
	q->ub = result;
	q->status = SPFKIT_DNS_TEMPFAIL;
	q->dnssec = SPFKIT_DNSSEC_UNKNOWN;
	/* libunbound's own failure (out of memory, no socket): what a
	 * resolver that cannot work answers. */
	q->failure = SPFKIT_DNS_FAIL_SERVFAIL;
	if (err == 0 && result) {
		if (result->bogus) {
			q->dnssec = SPFKIT_DNSSEC_BOGUS;
			q->failure = SPFKIT_DNS_FAIL_BOGUS;
		} else {
			if (result->secure)
				q->dnssec = SPFKIT_DNSSEC_SECURE;
			else if (r->trust_anchor)
				q->dnssec = SPFKIT_DNSSEC_INSECURE;
			if (result->rcode == 0)
				q->status = SPFKIT_DNS_NOERROR;
			else if (result->nxdomain || result->rcode == 3)
				q->status = SPFKIT_DNS_NXDOMAIN;
			/* SERVFAIL, REFUSED, ... stay TEMPFAIL, named by
			 * their RCODE (RFC 1035 §4.1.1). libunbound turns
			 * what the servers it asked said (REFUSED, no
			 * answer, nonsense) into SERVFAIL of its own; what
			 * it passes on is named as it is. */
			if (q->status != SPFKIT_DNS_TEMPFAIL)
				q->failure = SPFKIT_DNS_FAIL_UNKNOWN;
			else if (result->rcode != 2)
				q->failure = result->rcode == 5
						 ? SPFKIT_DNS_FAIL_REFUSED
						 : SPFKIT_DNS_FAIL_BAD_ANSWER;
			if (q->status == SPFKIT_DNS_TEMPFAIL)
				q->dnssec = SPFKIT_DNSSEC_UNKNOWN;
		}
	}
	cache_store(r, q);
	make_ready(r, q);
}

/* Starts one query: from the zone when it holds the name, else through
 * libunbound. */
static int send_one(spfkit_resolver *r, spfkit_check *chk, unsigned id,
		    const char *name, uint16_t type, uint64_t now_ms)
{
	res_query *q = query_new(r);
	if (!q)
		return SPFKIT_ENOMEM;
	q->r = r;
	q->chk = chk;
	q->id = id;
	q->type = type;
	q->sent_ms = now_ms;
	q->status = SPFKIT_DNS_TEMPFAIL; /* failure: UNKNOWN (zeroed) */
	q->dnssec = SPFKIT_DNSSEC_UNKNOWN;

	if (r->zone) {
		int rc = spfkit__zone_lookup(r->zone, name, type, &q->zans);
		if (rc == SPFKIT_ENOMEM) {
			spfkit__free(r->a, q);
			return rc;
		}
		/* NXDOMAIN from the zone means "not ours": ask DNS. */
		if (rc == SPFKIT_OK && q->zans.status != SPFKIT_DNS_NXDOMAIN) {
			q->has_zans = true;
			q->status = q->zans.status;
			q->failure = q->zans.failure;
			list_push(&r->ready, q);
			return SPFKIT_OK;
		}
		if (rc == SPFKIT_OK)
			spfkit__zone_answer_free(r->zone, &q->zans);
		memset(&q->zans, 0, sizeof q->zans);
	}

	size_t name_len = strlen(name);
	q->cached = cache_find(r, name, name_len, type);
	if (q->cached) {
		q->cached->refs++;
		q->status = q->cached->status;
		list_push(&r->ready, q);
		return SPFKIT_OK;
	}
	q->key = spfkit__strndup(r->a, name, name_len);
	if (!q->key) {
		spfkit__free(r->a, q);
		return SPFKIT_ENOMEM;
	}
	for (size_t i = 0; i < name_len; i++)
		q->key[i] = (char)spfkit__lower((unsigned char)q->key[i]);
	q->key_len = name_len;

	char pres[RES_NAME_MAX];
	if (!present_name(name, pres)) {
		/* Longer than any name: the evaluator never asks this. */
		q->failure = SPFKIT_DNS_FAIL_BAD_ANSWER;
		list_push(&r->ready, q);
		return SPFKIT_OK;
	}
	int rc = start(r);
	if (rc < 0) {
		spfkit__free(r->a, q);
		return rc;
	}
	q->in_flight = true;
	list_push(&r->flight, q);
	rc = ub_resolve_event(r->ctx, pres, type, RES_CLASS_IN, q, ub_done,
			      &q->async_id);
	if (rc != 0 && q->in_flight) {
		/* Not handed over: no callback will come. A name libunbound
		 * will not parse is a failed lookup, not our trouble. */
		list_remove(&r->flight, q);
		q->in_flight = false;
		if (rc == UB_NOMEM) {
			spfkit__free(r->a, q);
			return SPFKIT_ENOMEM;
		}
		if (rc == UB_SYNTAX) {
			q->failure = SPFKIT_DNS_FAIL_BAD_ANSWER;
			list_push(&r->ready, q);
			return SPFKIT_OK;
		}
		spfkit__free(r->a, q);
		return ub_status(rc);
	}
	r->sent++;
	return SPFKIT_OK;
}

/* source_find() in the attached zone: 1 when the zone answers (name,
 * type), with *out filled when out is not NULL; 0 when the name is not
 * the zone's (ask DNS); -1 when the lookup failed. Apart, so that the
 * cache's look-up (every warm query) keeps a small frame. */
__attribute__((noinline)) static int zone_find(spfkit_resolver *r,
					       const char *name, uint16_t type,
					       spfkit__found *out)
{
	spfkit__zone_answer zans;
	if (spfkit__zone_lookup(r->zone, name, type, &zans) != SPFKIT_OK)
		return -1;
	/* NXDOMAIN from the zone means "not ours": ask DNS. */
	if (zans.status == SPFKIT_DNS_NXDOMAIN) {
		spfkit__zone_answer_free(r->zone, &zans);
		return 0;
	}
	if (!out) {
		spfkit__zone_answer_free(r->zone, &zans);
		return 1;
	}
	out->status = zans.status;
	out->failure = zans.failure;
	out->dnssec = SPFKIT_DNSSEC_UNKNOWN;
	out->rrs = zans.rrs;
	out->n = zans.n;
	out->priv = zans.owned;
	return 1;
}

/* spfkit__source: what the zone or the cache holds is looked up by the
 * check itself while it runs (the order of send_one: the zone, then the
 * cache); with out NULL, only whether it is held. A zone answer lent
 * keeps what it owns in priv until source_release(); a cache entry lives
 * until the next send or process. */
static bool source_find(void *ud, const char *name, size_t name_len,
			uint32_t name_hash, uint16_t type, spfkit__found *out)
{
	spfkit_resolver *r = ud;
	if (r->zone) {
		int z = zone_find(r, name, type, out);
		if (z != 0)
			return z > 0;
	}
	res_cached *c = r->cache_size
			    ? cache_find_h(r, name, name_len, type,
					   cache_hash_of(name_hash, type))
			    : NULL;
	if (!c)
		return false;
	if (out) {
		out->status = c->status;
		out->failure = SPFKIT_DNS_FAIL_UNKNOWN; /* never a failure */
		out->dnssec = c->dnssec;
		out->rrs = c->rrs;
		out->n = c->n;
		out->decoded = c->decoded;
		out->priv = NULL;
	}
	return true;
}

/* Lets go of what source_find() lent: a zone answer's own copy (the
 * check asks only when there is one). */
static void source_release(void *ud, spfkit__found *found)
{
	spfkit_resolver *r = ud;
	spfkit__zone_answer zans = {.owned = found->priv};
	spfkit__zone_answer_free(r->zone, &zans);
}

static const spfkit__source res_source = {source_find, source_release};

int spfkit_resolver_send(spfkit_resolver *r, spfkit_check *chk, uint64_t now_ms)
{
	if (!r || !chk)
		return SPFKIT_EINVAL;
	r->now_ms = now_ms;
	/* From now on the check's next queries are answered from memory as
	 * it asks them, when they can be. */
	spfkit__check_set_source(chk, &res_source, r);
	uint64_t sent = r->sent;
	unsigned id;
	const char *name;
	uint16_t type;
	for (size_t k = 0; spfkit__check_unsent(chk, &k, &id, &name, &type);
	     k++) {
		int rc = send_one(r, chk, id, name, type, now_ms);
		if (rc < 0) {
			if (r->sent != sent)
				spfkit__ev_settle(r->ev);
			return rc;
		}
		spfkit__check_mark_sent(chk, k, true);
	}
	/* Only what went to libunbound has timers to settle: a warm send
	 * (every answer from memory) costs no clock read. */
	if (r->sent != sent)
		spfkit__ev_settle(r->ev);
	return SPFKIT_OK;
}

void spfkit_resolver_cancel(spfkit_resolver *r, spfkit_check *chk)
{
	if (!r || !chk)
		return;
	spfkit__check_unsend(chk);
	if (spfkit__check_source(chk) == r)
		spfkit__check_set_source(chk, NULL, NULL);
	res_query *q, *next;
	for (q = query_of(r->flight.head); q; q = next) {
		next = query_of(q->link.next);
		if (q->chk != chk)
			continue;
		list_remove(&r->flight, q);
		(void)ub_cancel(r->ctx, q->async_id);
		query_free(r, q);
	}
	for (q = query_of(r->ready.head); q; q = next) {
		next = query_of(q->link.next);
		if (q->chk != chk)
			continue;
		list_remove(&r->ready, q);
		query_free(r, q);
	}
}

/* ------------------------------------------------------------ answers */

/* Hands a ready query's answer to its check. Returns true when the check
 * took it. */
static bool deliver(spfkit_resolver *r, res_query *q)
{
	spfkit_rr stack[16] = {{0}};
	spfkit_rr *rrs = NULL;
	size_t n = 0;
	int rc;
	if (q->status == SPFKIT_DNS_TEMPFAIL) {
		/* Named: the zone's, libunbound's or our timer's reason. */
		rc = spfkit_check_answer_failure(q->chk, q->id, q->failure);
		return rc == SPFKIT_OK;
	}
	if (q->has_zans) {
		rc = spfkit_check_answer_dnssec(q->chk, q->id, q->zans.status,
						q->zans.rrs, q->zans.n,
						SPFKIT_DNSSEC_UNKNOWN);
		return rc == SPFKIT_OK;
	}
	if (q->cached) {
		rc = spfkit_check_answer_dnssec(
		    q->chk, q->id, q->cached->status, q->cached->rrs,
		    q->cached->n, q->cached->dnssec);
		return rc == SPFKIT_OK;
	}
	spfkit_dns_status status = q->status;
	if (status == SPFKIT_DNS_NOERROR && q->ub && q->ub->havedata) {
		while (q->ub->data[n])
			n++;
		rrs = n <= sizeof stack / sizeof stack[0]
			  ? stack
			  : spfkit__calloc(r->a, n, sizeof *rrs);
		if (!rrs) {
			/* Out of memory is a failed lookup for the check. */
			status = SPFKIT_DNS_TEMPFAIL;
			n = 0;
		}
		for (size_t i = 0; rrs && i < n; i++) {
			rrs[i].type = q->type;
			rrs[i].ttl = q->ub->ttl > 0 ? (uint32_t)q->ub->ttl : 0;
			rrs[i].rdata = (const unsigned char *)q->ub->data[i];
			rrs[i].rdlen =
			    q->ub->len[i] > 0 ? (size_t)q->ub->len[i] : 0;
		}
	}
	/* Without a cache the exchanges' addresses that came with an MX
	 * answer are still the check's own (with it, cache_store kept
	 * them for every check). */
	if (r->no_cache && status == SPFKIT_DNS_NOERROR &&
	    q->type == SPFKIT_TYPE_MX)
		mx_glue(r, q, glue_to_check);
	rc = spfkit_check_answer_dnssec(q->chk, q->id, status, rrs, n,
					q->dnssec);
	if (rrs && rrs != stack)
		spfkit__free(r->a, rrs);
	/* SPFKIT_ENOENT: the check ended and dropped this query. */
	return rc == SPFKIT_OK;
}

/* Milliseconds until the first query in flight times out (0: one has;
 * UINT32_MAX: none is in flight). */
static uint32_t next_due(const spfkit_resolver *r, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	for (const spfkit_link *l = r->flight.head; l; l = l->next) {
		const res_query *q = SPFKIT_CONTAINER(l, res_query, link);
		uint64_t due = q->sent_ms + r->timeout_ms;
		if (due <= now_ms)
			return 0;
		if (due - now_ms < next)
			next = due - now_ms;
	}
	return next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
}

/* Answers TEMPFAIL for queries in flight past the timeout. Returns the
 * milliseconds until the next one expires (UINT32_MAX: none). */
static uint32_t expire(spfkit_resolver *r, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;
	res_query *q, *nq;
	for (q = query_of(r->flight.head); q; q = nq) {
		nq = query_of(q->link.next);
		uint64_t due = q->sent_ms + r->timeout_ms;
		if (now_ms >= due) {
			(void)ub_cancel(r->ctx, q->async_id);
			q->status = SPFKIT_DNS_TEMPFAIL;
			q->failure = SPFKIT_DNS_FAIL_TIMEOUT;
			q->dnssec = SPFKIT_DNSSEC_UNKNOWN;
			make_ready(r, q);
		} else if (due - now_ms < next) {
			next = due - now_ms;
		}
	}
	return next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
}

/* Waits up to wait_ms for libunbound's sockets and timers and runs what
 * is ready (answers' callbacks move them to the ready list). Also with
 * nothing of ours in flight while libunbound has work of its own
 * (queries we cancelled, connections it keeps), without waiting: a
 * caller polling spfkit_resolver_fd() would otherwise find it readable
 * forever. */
static int pump(spfkit_resolver *r, uint32_t wait_ms)
{
	if (!r->started)
		return SPFKIT_OK;
	if (r->flight.n == 0) {
		if (!spfkit__ev_busy(r->ev))
			return SPFKIT_OK;
		wait_ms = 0;
	}
	return spfkit__ev_run(r->ev, wait_ms) ? SPFKIT_OK : SPFKIT_EIO;
}

/* Orders check pointers so each is called back once. */
static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (spfkit_check *const *)a;
	uintptr_t y = (uintptr_t) * (spfkit_check *const *)b;
	return x < y ? -1 : x > y;
}

/* Sorts b[0..n): by insertion when short (qsort allocates and costs a
 * few thousand instructions even for two), by qsort otherwise. */
static void sort_checks(spfkit_check **b, size_t n)
{
	if (n > 32) {
		qsort(b, n, sizeof *b, cmp_ptr);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		spfkit_check *v = b[i];
		size_t j = i;
		for (; j > 0 && (uintptr_t)b[j - 1] > (uintptr_t)v; j--)
			b[j] = b[j - 1];
		b[j] = v;
	}
}

int spfkit_resolver_process(spfkit_resolver *r, uint32_t timeout_ms,
			    uint64_t now_ms, spfkit_resolver_cb cb, void *ud)
{
	if (!r)
		return SPFKIT_EINVAL;
	r->now_ms = now_ms;
	/* One wait (one system call): for nothing when answers are ready,
	 * never past the next query's timeout (the caller comes back with a
	 * new clock). What arrived is read before anything is timed out: a
	 * caller that was busy elsewhere must not lose answers waiting on
	 * their sockets. */
	uint32_t wait = 0;
	if (r->ready.n == 0 && r->flight.n > 0 && timeout_ms > 0) {
		uint32_t next = next_due(r, now_ms);
		wait = next < timeout_ms ? next : timeout_ms;
	}
	int rc = pump(r, wait);
	if (rc < 0)
		return rc;
	(void)expire(r, now_ms);

	/* Hand every ready answer over, then call back each check once, so
	 * a check that got several answers at once runs once. */
	size_t nready = r->ready.n;
	if (nready == 0)
		return 0;
	if (nready > r->batch_cap) {
		spfkit_check **b =
		    spfkit__realloc(r->a, r->batch, nready * sizeof *b);
		if (!b)
			return SPFKIT_ENOMEM;
		r->batch = b;
		r->batch_cap = nready;
	}
	size_t nb = 0;
	int delivered = 0;
	res_query *q;
	while ((q = query_of(r->ready.head)) != NULL) {
		list_remove(&r->ready, q);
		if (deliver(r, q)) {
			delivered++;
			/* A check's answers mostly come in a row. */
			if (nb == 0 || r->batch[nb - 1] != q->chk)
				r->batch[nb++] = q->chk;
		}
		query_free(r, q);
	}
	sort_checks(r->batch, nb);
	for (size_t i = 0; i < nb; i++) {
		if (i > 0 && r->batch[i] == r->batch[i - 1])
			continue;
		if (cb)
			cb(r->batch[i], ud);
	}
	return delivered;
}

int spfkit_resolver_fd(const spfkit_resolver *r)
{
	if (!r || !r->started)
		return -1;
	return spfkit__ev_fd(r->ev);
}

size_t spfkit_resolver_in_flight(const spfkit_resolver *r)
{
	return r ? r->flight.n + r->ready.n : 0;
}

uint64_t spfkit_resolver_queries_sent(const spfkit_resolver *r)
{
	return r ? r->sent : 0;
}

int64_t spfkit_resolver_timeout(const spfkit_resolver *r, uint64_t now_ms)
{
	if (!r || (r->flight.n == 0 && r->ready.n == 0))
		return -1;
	if (r->ready.n)
		return 0; /* answers wait to be handed over */
	uint64_t due = UINT64_MAX;
	for (const spfkit_link *l = r->flight.head; l; l = l->next) {
		const res_query *q = SPFKIT_CONTAINER(l, res_query, link);
		uint64_t t = q->sent_ms + r->timeout_ms;
		uint64_t d = spfkit_check_deadline(q->chk);
		if (d && d < t)
			t = d;
		if (t < due)
			due = t;
	}
	if (due <= now_ms)
		return 0;
	return due - now_ms > INT64_MAX ? INT64_MAX : (int64_t)(due - now_ms);
}

/* CLOCK_MONOTONIC in milliseconds, for spfkit_resolver_check() alone. */
static uint64_t mono_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int spfkit_resolver_check(spfkit_resolver *r, spfkit_check *chk)
{
	if (!r || !chk)
		return SPFKIT_EINVAL;
	int rc;
	for (;;) {
		uint64_t now = mono_ms();
		rc = spfkit_check_run(chk, now);
		if (rc == SPFKIT_DONE) {
			rc = SPFKIT_OK;
			break;
		}
		if (rc != SPFKIT_WANT_DNS || spfkit_check_pending(chk) == 0) {
			/* An error, or a check that asks nothing would spin. */
			rc = rc < 0 ? rc : SPFKIT_ESTATE;
			break;
		}
		rc = spfkit_resolver_send(r, chk, now);
		if (rc < 0)
			break;
		/* Wake for the first answer, a query's timeout or the
		 * check's deadline, and at least once a second. */
		int64_t wait = spfkit_resolver_timeout(r, now);
		if (wait < 0 || wait > 1000)
			wait = 1000;
		rc =
		    spfkit_resolver_process(r, (uint32_t)wait, now, NULL, NULL);
		if (rc < 0)
			break;
	}
	/* Prefetched queries it no longer needs may still be in flight. */
	spfkit_resolver_cancel(r, chk);
	return rc;
}
