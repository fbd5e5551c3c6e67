/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.c - a check's life: creating, resetting and freeing it, its
 * memory (one arena freed with it), its inputs, the records it holds,
 * the events it hands to the caller, and the results read once it is
 * done. check_host() itself is in eval.c.
 */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "header.h"

typedef spfkit__chunk chunk;
typedef spfkit__query query;
typedef spfkit__frame frame;

/* ---------------------------------------------------------------- memory */

/* n octets (not zeroed) that live until spfkit_check_free(), or NULL. */
void *spfkit__arena_grow(spfkit_check *chk, size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	n = spfkit__arena_round(n);
	chunk *c = chk->arena;
	size_t cap = c ? c->cap * 2 : CHUNK_FIRST;
	if (cap > 65536)
		cap = 65536;
	if (cap < n || ARENA_EXACT)
		cap = n; /* a big answer gets a chunk of its own */
	c = spfkit__malloc(chk->a, sizeof *c + cap);
	if (!c)
		return NULL;
	c->cap = cap;
	c->used = n;
	c->next = chk->arena;
	chk->arena = c;
	return c->data;
}

bool spfkit__check_keep_record(spfkit_check *chk, spfkit__record *r)
{
	spfkit__record **rs = spfkit__grow(chk->a, chk->records, chk->nrecords,
					   &chk->cap_records, sizeof *rs, 8);
	if (!rs) {
		spfkit__record_free(chk->a, r);
		return false;
	}
	chk->records = rs;
	chk->records[chk->nrecords++] = r;
	return true;
}

/* ---------------------------------------------------------------- events */

/* Hands ev to the caller's callback, with the current frame and the
 * running totals filled in. */
void spfkit__emit(spfkit_check *chk, spfkit_event *ev)
{
	if (!chk->ev_cb)
		return;
	ev->via = "top";
	ev->domain = chk->domain ? chk->domain : "";
	if (chk->nframes) {
		const frame *f = &chk->frames[chk->nframes - 1];
		ev->depth = (unsigned)(chk->nframes - 1);
		ev->via = f->kind == FK_INCLUDE    ? "include"
			  : f->kind == FK_REDIRECT ? "redirect"
						   : "top";
		ev->domain = f->domain;
	}
	ev->lookups = chk->lookups;
	ev->void_lookups = chk->voids;
	chk->ev_cb(chk, ev, chk->ev_ud);
}

/* The parsed record for (text, len): from the cache, or parsed (and put
 * in the cache). NULL for a syntax error; *rc is SPFKIT_ENOMEM when out
 * of memory. */
spfkit__record *spfkit__check_parse_record(spfkit_check *chk,
					   const spfkit__query *q,
					   const char *text, size_t len,
					   spfkit__parse_error *perr, int *rc)
{
	uint64_t hint = q ? q->hash : SPFKIT__CACHE_NO_HINT;
	spfkit__record *rec =
	    chk->cache ? spfkit__cache_get(chk->cache, text, len, hint) : NULL;
	*rc = SPFKIT_OK;
	if (!rec) {
		*rc = spfkit__record_parse(chk->a, text, len, &rec, perr);
		if (*rc == SPFKIT_OK && chk->cache)
			spfkit__cache_put(chk->cache, rec, hint);
	}
	return *rc == SPFKIT_OK ? rec : NULL;
}

/* ---------------------------------------------------------------- API */

int spfkit_check_new(spfkit_check **out, const spfkit_config *cfg)
{
	if (!out || !cfg)
		return SPFKIT_EINVAL;
	const spfkit__alloc *a;
	spfkit_check *chk = *out = spfkit__handle_new(cfg, sizeof *chk, &a);
	if (chk)
		*chk = (spfkit_check){.cfg = cfg, .a = a, .dnssec_rank = -1};
	return chk ? SPFKIT_OK : SPFKIT_ENOMEM;
}

/* Lets go of the records the check holds (its strings are all in the
 * arena). */
static void release_owned(spfkit_check *chk)
{
	for (size_t i = 0; i < chk->nrecords; i++)
		spfkit__record_free(chk->a, chk->records[i]);
}

int spfkit_check_reset(spfkit_check *chk)
{
	if (!chk)
		return SPFKIT_EINVAL;
	release_owned(chk);
	/* The newest chunk is the biggest: it stays, emptied (under ASan
	 * every allocation keeps a chunk of its own, so none is kept). */
	chunk *keep = ARENA_EXACT ? NULL : chk->arena;
	for (chunk *c = chk->arena, *next; c; c = next) {
		next = c->next;
		if (c != keep)
			spfkit__free(chk->a, c);
	}
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
	}
	spfkit_check old = *chk;
	memset(chk, 0, sizeof *chk);
	chk->cfg = old.cfg;
	chk->a = old.a;
	chk->dnssec_rank = -1;
	chk->arena = keep;
	chk->queries = old.queries;
	chk->cap_queries = old.cap_queries;
	chk->frames = old.frames;
	chk->cap_frames = old.cap_frames;
	chk->records = old.records;
	chk->cap_records = old.cap_records;
	chk->route = old.route;
	chk->route_cap = old.route_cap;
	return SPFKIT_OK;
}

void spfkit_check_free(spfkit_check *chk)
{
	if (!chk)
		return;
	const spfkit__alloc *a = chk->a;
	for (chunk *c = chk->arena, *next; c; c = next) {
		next = c->next;
		spfkit__free(a, c);
	}
	release_owned(chk);
	spfkit__free(a, chk->queries);
	spfkit__free(a, chk->records);
	spfkit__free(a, chk->frames);
	spfkit__free(a, chk->route);
	spfkit__free(a, chk);
}

int spfkit_check_set_ip(spfkit_check *chk, const char *ip)
{
	if (!chk || !ip)
		return SPFKIT_EINVAL;
	if (chk->started || chk->kind)
		return SPFKIT_ESTATE;
	spfkit__ip parsed;
	if (!spfkit__ip_parse(ip, strlen(ip), &parsed))
		return SPFKIT_EINVAL;
	chk->ip = parsed;
	chk->ip_set = true;
	return SPFKIT_OK;
}

/* Replaces an input copy; the old one is kept when the copy fails. */
static int set_input(spfkit_check *chk, char **slot, size_t *slot_len,
		     const char *s, size_t n)
{
	if (!chk || (!s && n))
		return SPFKIT_EINVAL;
	if (chk->started)
		return SPFKIT_ESTATE;
	if (n > SPFKIT__MAX_INPUT)
		return SPFKIT_ETOOBIG;
	/* In the arena: setting an input again before the run leaves the
	 * old copy there until the check is freed or reset. */
	char *p = spfkit__arena_strndup(chk, s ? s : "", n);
	if (!p)
		return SPFKIT_ENOMEM;
	*slot = p;
	*slot_len = n;
	return SPFKIT_OK;
}

int spfkit_check_set_sender(spfkit_check *chk, const char *sender, size_t len)
{
	return chk ? set_input(chk, &chk->sender_in, &chk->sender_in_len,
			       sender, len)
		   : SPFKIT_EINVAL;
}

int spfkit_check_set_helo(spfkit_check *chk, const char *helo, size_t len)
{
	return chk ? set_input(chk, &chk->helo, &chk->helo_len, helo, len)
		   : SPFKIT_EINVAL;
}

int spfkit_check_set_record(spfkit_check *chk, const char *record, size_t len)
{
	if (!chk)
		return SPFKIT_EINVAL;
	int rc =
	    set_input(chk, &chk->override, &chk->override_len, record, len);
	if (rc == SPFKIT_OK)
		chk->has_override = true;
	return rc;
}

int spfkit_check_set_events(spfkit_check *chk, spfkit_event_cb cb, void *ud)
{
	if (!chk)
		return SPFKIT_EINVAL;
	if (chk->started)
		return SPFKIT_ESTATE;
	chk->ev_cb = cb;
	chk->ev_ud = cb ? ud : NULL;
	return SPFKIT_OK;
}

int spfkit_check_set_cache(spfkit_check *chk, spfkit_cache *cache)
{
	if (!chk || (cache && spfkit__cache_config(cache) != chk->cfg))
		return SPFKIT_EINVAL;
	if (chk->started)
		return SPFKIT_ESTATE;
	chk->cache = cache;
	return SPFKIT_OK;
}

int spfkit_check_set_walk(spfkit_check *chk, int on)
{
	if (!chk)
		return SPFKIT_EINVAL;
	if (chk->started)
		return SPFKIT_ESTATE;
	chk->walk = on != 0;
	return SPFKIT_OK;
}

int spfkit_check_set_userdata(spfkit_check *chk, void *ud)
{
	if (!chk)
		return SPFKIT_EINVAL;
	chk->userdata = ud;
	return SPFKIT_OK;
}

void *spfkit_check_userdata(const spfkit_check *chk)
{
	return chk ? chk->userdata : NULL;
}

int spfkit_check_set_timestamp(spfkit_check *chk, uint64_t unix_seconds)
{
	if (!chk)
		return SPFKIT_EINVAL;
	chk->timestamp = unix_seconds;
	return SPFKIT_OK;
}

int spfkit_check_set_scope(spfkit_check *chk, spfkit_scope scope)
{
	if (!chk ||
	    (scope != SPFKIT_SCOPE_MAILFROM && scope != SPFKIT_SCOPE_HELO))
		return SPFKIT_EINVAL;
	if (chk->started)
		return SPFKIT_ESTATE;
	chk->scope = scope;
	return SPFKIT_OK;
}

/* ---------------------------------------------------------------- results */

spfkit_result spfkit_check_result(const spfkit_check *chk)
{
	return chk && chk->done ? chk->result : SPFKIT_RESULT_NONE;
}

spfkit_reason spfkit_check_reason(const spfkit_check *chk)
{
	return chk && chk->done ? chk->reason : SPFKIT_REASON_NONE;
}

const char *spfkit_check_identity(const spfkit_check *chk)
{
	return chk && chk->identity ? chk->identity : "mailfrom";
}

const char *spfkit_check_sender(const spfkit_check *chk)
{
	return chk && chk->sender ? chk->sender : "";
}

const char *spfkit_check_domain(const spfkit_check *chk)
{
	return chk && chk->domain ? chk->domain : "";
}

const char *spfkit_check_ip(const spfkit_check *chk)
{
	return chk && chk->ip_text ? chk->ip_text : "";
}

const char *spfkit_check_explanation(const spfkit_check *chk)
{
	return chk && chk->done && chk->result == SPFKIT_RESULT_FAIL
		   ? chk->explanation
		   : NULL;
}

const char *spfkit_check_mechanism(const spfkit_check *chk)
{
	return chk && chk->done && chk->reason == SPFKIT_REASON_MECHANISM
		   ? chk->mechanism
		   : NULL;
}

const char *spfkit_check_matched_term(const spfkit_check *chk)
{
	return chk && chk->done && chk->reason == SPFKIT_REASON_MECHANISM
		   ? chk->matched
		   : NULL;
}

const char *spfkit_check_matched_via(const spfkit_check *chk)
{
	return chk && chk->done && chk->reason == SPFKIT_REASON_MECHANISM &&
		       chk->matched
		   ? (chk->via ? chk->via : "")
		   : NULL;
}

const char *spfkit_check_where(const spfkit_check *chk)
{
	return chk && chk->done ? chk->where : NULL;
}

const char *spfkit_check_problem(const spfkit_check *chk)
{
	return chk && chk->done ? chk->problem : NULL;
}

spfkit_dnssec spfkit_check_dnssec(const spfkit_check *chk)
{
	static const spfkit_dnssec by_rank[] = {
	    SPFKIT_DNSSEC_BOGUS, SPFKIT_DNSSEC_UNKNOWN, SPFKIT_DNSSEC_INSECURE,
	    SPFKIT_DNSSEC_SECURE};
	return chk && chk->dnssec_rank >= 0 ? by_rank[chk->dnssec_rank]
					    : SPFKIT_DNSSEC_UNKNOWN;
}

uint64_t spfkit_check_deadline(const spfkit_check *chk)
{
	return chk && chk->started
		   ? chk->start_ms + chk->cfg->limits[SPFKIT_LIMIT_DEADLINE_MS]
		   : 0;
}

unsigned spfkit_check_lookups(const spfkit_check *chk)
{
	return chk ? chk->lookups : 0;
}

unsigned spfkit_check_void_lookups(const spfkit_check *chk)
{
	return chk ? chk->voids : 0;
}

unsigned spfkit_check_queries(const spfkit_check *chk)
{
	return chk ? chk->next_id : 0;
}

int spfkit_check_header(const spfkit_check *chk, spfkit_header kind,
			const char *authserv_id, char **out)
{
	if (!chk || !out)
		return SPFKIT_EINVAL;
	*out = NULL;
	if (!chk->done)
		return SPFKIT_ESTATE;
	spfkit__header_info h;
	memset(&h, 0, sizeof h);
	h.result = chk->result;
	h.identity = spfkit_check_identity(chk);
	h.ip = spfkit_check_ip(chk);
	h.sender = spfkit_check_sender(chk);
	h.helo = chk->helo;
	h.helo_len = chk->helo_len;
	h.sender_len = chk->sender_len;
	h.domain = spfkit_check_domain(chk);
	h.receiver = chk->cfg->receiver;
	h.mechanism = spfkit_check_mechanism(chk);
	h.problem = spfkit_check_problem(chk);
	h.explanation = spfkit_check_explanation(chk);
	/* A HELO check of a message with a MAIL FROM: envelope-from is that
	 * address, not the postmaster@HELO that was checked. */
	const char *env = chk->sender_in;
	size_t env_len = chk->sender_in_len;
	if (env_len >= 2 && env[0] == '<' && env[env_len - 1] == '>') {
		env++;
		env_len -= 2;
	}
	if (chk->scope == SPFKIT_SCOPE_HELO && env && env_len) {
		h.envelope = env;
		h.envelope_len = env_len;
	}
	spfkit__buf b;
	spfkit__buf_init(&b, chk->a, 8192);
	int rc = spfkit__header_format(&h, kind, authserv_id, &b);
	if (rc == SPFKIT_OK) {
		*out = spfkit__buf_take(&b);
		if (!*out)
			rc = SPFKIT_ENOMEM;
	}
	spfkit__buf_free(&b);
	return rc;
}
