/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.h - the insides of a check (struct spfkit_check), shared by the
 * four files of the evaluator and the other kinds of check, nothing else:
 *   eval.c      check_host() (RFC 7208 §4-§6): frames, terms, exp
 *   query.c     the query table: asking, answers decoded, drivers' hooks
 *   prefetch.c  asking ahead what the terms will need (an optimisation)
 *   check.c     the check's life: memory, inputs, events and results
 *   dmarc.c     the other kinds: a TXT lookup, DMARC policy discovery
 *               (RFC 9989 §4.10), asking through the same query table
 * Type names are spfkit__*; the short enum constants (FK_, FS_, S_) are
 * seen only by these four files.
 */
#ifndef SPFKIT_CHECK_H
#define SPFKIT_CHECK_H

#include <stddef.h>
#include <string.h>

#include "api.h"

/* Caps on what hostile DNS answers can make us hold. */
#define SPFKIT__MAX_ITEMS 1000  /* records kept per answer */
#define SPFKIT__MAX_INPUT 65536 /* sender, HELO and record override octets */
#define SPFKIT__MAX_TXT   65536 /* one TXT record, all strings joined */

/* A decoded record of an answer; the public event type, so events can
 * point at a query's records without copying them. */
typedef spfkit_event_item spfkit__item;

typedef struct spfkit__query {
	unsigned id;
	uint16_t type;
	bool answered;
	spfkit_dns_status status;
	spfkit_dns_failure failure; /* TEMPFAIL: why, when the driver said */
	size_t name_len;
	spfkit__item *items; /* in the arena, as their data */
	size_t nitems;
	size_t total; /* records of the asked type, counted past
			 SPFKIT__MAX_ITEMS */
	spfkit_dnssec dnssec;
	uint32_t ttl;      /* smallest TTL of the records kept */
	uint32_t hash;     /* spfkit__name_hash(name), to find it quickly */
	bool sent;         /* handed to a DNS driver (spfkit__check_unsent) */
	bool ahead;        /* an include or redirect record asked by prefetch
			    * whose own targets are not asked yet */
	unsigned reported; /* the event serial its last LOOKUP went out in */
	char name[];       /* NUL terminated, without a trailing dot */
} spfkit__query;

/* The check's arena: queries, answers and frame names live as long as the
 * check, so they are carved from chunks freed together with it instead of
 * one allocation each (a warm check made some thirty). */
typedef struct spfkit__chunk {
	struct spfkit__chunk *next;
	size_t used, cap;
	max_align_t data[];
} spfkit__chunk;
#define CHUNK_FIRST 4096u

/* Under AddressSanitizer every arena allocation gets a chunk of its own,
 * exactly its size, so an overrun of one query's data into the next is
 * still caught (the hostile-input paths are what ASan is run for). */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_EXACT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_EXACT 1
#endif
#endif
#ifndef ARENA_EXACT
#define ARENA_EXACT 0
#endif

typedef enum frame_kind { FK_TOP, FK_INCLUDE, FK_REDIRECT } frame_kind;
typedef enum frame_state { FS_FETCH, FS_TERMS, FS_AFTER } frame_state;

typedef struct spfkit__frame {
	frame_kind kind;
	frame_state state;
	const char *domain; /* owned by the check's string list */
	size_t domain_len;
	uint32_t hash; /* spfkit__ask_name_hash(domain, domain_len) */
	const spfkit__record *rec; /* owned by the check's record list */
	size_t ti;
	/* Progress within the current term; cleared when it is left. */
	bool announced, counted, voided, child_done;
	spfkit_result child_result;
	spfkit_reason child_reason;
} spfkit__frame;

/* What a step of term evaluation comes to. */
typedef enum spfkit__step {
	S_NOMATCH = 0,
	S_MATCH,
	S_NEED,   /* an answer is missing: return to the caller */
	S_PUSHED, /* a frame was pushed: run it */
	S_ENDED   /* the check ended (error result) */
} spfkit__step;

struct spfkit_check {
	const spfkit_config *cfg;
	const spfkit__alloc *a;

	/* inputs */
	spfkit__ip ip;
	bool ip_set;
	char *sender_in;
	size_t sender_in_len;
	char *helo;
	size_t helo_len;
	char *override;
	size_t override_len;
	bool has_override;
	spfkit_scope scope;

	uint64_t timestamp; /* %{t}, seconds since the epoch */
	void *userdata;
	spfkit_cache *cache; /* parsed records, shared with other checks */
	const spfkit__source *source; /* a driver's answers at hand, or NULL */
	void *source_ud;

	/* state */
	bool started; /* the first run has set the identity up */
	bool ended;   /* an error or none ended the evaluation */
	bool no_dns;  /* the deadline passed: ask nothing more */
	bool done;    /* the result (and explanation) is final */
	bool oom;
	uint64_t start_ms;
	const char *domain; /* the checked domain (first frame's) */
	const char *identity;
	char *ip_text;
	char *sender; /* effective <sender>, %{s} */
	size_t sender_len;
	const char *local; /* views into sender */
	size_t local_len;
	const char *sdomain;
	size_t sdomain_len;

	spfkit__query **queries;
	size_t nqueries, cap_queries;
	unsigned next_id;
	/* records a driver handed over beside an answer, taken when a term
	 * asks for them (spfkit__check_offer); in the arena */
	struct spfkit__offer *offers;

	spfkit__frame *frames;
	size_t nframes, cap_frames;
	bool
	    framed; /* a frame was pushed (frames[0] is the checked domain's) */

	spfkit__record **records;
	size_t nrecords, cap_records;
	spfkit__chunk *arena; /* most recent chunk first */

	unsigned lookups, voids;
	int dnssec_rank; /* weakest DNSSEC status used so far; -1: none */

	/* %{p} (§7.3): the validated names once known */
	bool p_known;
	const char *p_names[16];
	size_t p_lens[16];
	size_t np;

	/* the record and domain whose term decided the result (for exp=) */
	const spfkit__record *decider_rec;
	const char *decider_domain;
	size_t decider_domain_len;

	/* events (trace, tree, lint) and walking */
	spfkit_event_cb ev_cb;
	void *ev_ud;
	unsigned serial; /* bumped per frame, term and explanation */
	bool walk;
	bool walk_over_terms, walk_over_voids; /* limit reported once */
	bool explaining;

	/* where the decision stood: the frames' route, copied at the match
	 * and formatted once when the check is done (spfkit_check_where) */
	struct route_step {
		frame_kind kind;
		const char *domain; /* owned by the check's string list */
		size_t len;
	} * route;
	size_t route_n, route_cap;
	bool route_set;

	/* result: mechanism is the deciding term of the checked domain's
	 * record (an include's own term for a pass through it), matched the
	 * innermost term that matched, via the route to it as terms */
	spfkit_result result;
	spfkit_reason reason;
	char *mechanism, *matched, *via, *where, *problem, *explanation;

	/* Another kind of check than SPF (spfkit_check_set_txt_lookup,
	 * spfkit_check_set_dmarc): its state lives in the arena and dmarc.c
	 * runs it. An SPF check never looks here: spfkit_check_run() only
	 * asks when no IP was set, which an SPF check cannot run without. */
	unsigned char kind; /* SPFKIT__KIND_* */
	struct spfkit__kind_state *ks;
};

/* The kinds of check. */
#define SPFKIT__KIND_SPF   0
#define SPFKIT__KIND_TXT   1
#define SPFKIT__KIND_DMARC 2

/* ---------------------------------------------------------------- check.c */

/* The arena's slow path: a new chunk holding n octets first. */
void *spfkit__arena_grow(spfkit_check *chk, size_t n);

/* n rounded up to the arena's alignment (exact under ASan). */
static inline size_t spfkit__arena_round(size_t n)
{
	const size_t align = sizeof(max_align_t);
	return ARENA_EXACT ? n : (n + align - 1) / align * align;
}

/* n octets (not zeroed) / n zeroed octets / a NUL-terminated copy of
 * (s, n), living until spfkit_check_free() or spfkit_check_reset(); NULL
 * when out of memory. Inline: a warm check takes a few dozen, and the
 * room is nearly always there in the newest chunk. */
static inline void *spfkit__arena_alloc(spfkit_check *chk, size_t n)
{
	spfkit__chunk *c = chk->arena;
	if (!ARENA_EXACT && c && n <= SIZE_MAX / 2) {
		size_t m = spfkit__arena_round(n);
		if (c->cap - c->used >= m) {
			void *p = (char *)c->data + c->used;
			c->used += m;
			return p;
		}
	}
	return spfkit__arena_grow(chk, n);
}

static inline void *spfkit__arena_calloc(spfkit_check *chk, size_t n)
{
	void *p = spfkit__arena_alloc(chk, n);
	if (p)
		memset(p, 0, n);
	return p;
}

static inline char *spfkit__arena_strndup(spfkit_check *chk, const char *s,
					  size_t n)
{
	char *p = n < SIZE_MAX ? spfkit__arena_alloc(chk, n + 1) : NULL;
	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Keeps one holder of r for the check's life; false (r released) when
 * out of memory. */
bool spfkit__check_keep_record(spfkit_check *chk, spfkit__record *r);
/* The parsed record for (text, len), the v=spf1 item of q's answer (q
 * NULL: of none): from the cache, or parsed (and put in the cache). NULL
 * for a syntax error (perr filled); *rc is SPFKIT_ENOMEM when out of
 * memory. */
spfkit__record *spfkit__check_parse_record(spfkit_check *chk,
					   const spfkit__query *q,
					   const char *text, size_t len,
					   spfkit__parse_error *perr, int *rc);

/* An event of kind k with every other field zero. */
static inline spfkit_event spfkit__event_of(spfkit_event_kind k)
{
	spfkit_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = k;
	return ev;
}
/* Hands ev to the caller's callback (if any), with the current frame and
 * the running totals filled in. */
void spfkit__emit(spfkit_check *chk, spfkit_event *ev);

/* ---------------------------------------------------------------- query.c */

/* The query for (name, n octets, type): answered (and a LOOKUP event when
 * report), or asked now and NULL with *need set; NULL with *need unset
 * when the deadline passed (the caller goes without) or out of memory
 * (chk->oom). A source lent by the driver is looked up at once. */
spfkit__query *spfkit__ask(spfkit_check *chk, const char *name, size_t n,
			   uint16_t type, bool *need, bool report);
/* spfkit__ask() with h, spfkit__ask_name_hash(name, n), worked out before
 * (a cached record's literal targets have theirs: the SipHash of a name
 * is a good part of a warm check's work). */
spfkit__query *spfkit__ask_hashed(spfkit_check *chk, const char *name, size_t n,
				  uint32_t h, uint16_t type, bool *need,
				  bool report);
/* The hash spfkit__ask() finds (name, n) by: a trailing dot is no part of
 * the name. */
static inline uint32_t spfkit__ask_name_hash(const char *name, size_t n)
{
	if (n && name[n - 1] == '.')
		n--;
	return spfkit__name_hash(name, n);
}

/* ---------------------------------------------------------------- eval.c */

/* Expands the macro-string (s, n) for <domain> (d, dn) into out (§7):
 * S_MATCH, S_NOMATCH on a macro error, S_NEED while %{p} waits for DNS,
 * S_ENDED when the check ended (out of memory). */
spfkit__step spfkit__expand(spfkit_check *chk, const char *d, size_t dn,
			    const char *s, size_t n, spfkit__macro_ctx ctx,
			    spfkit__buf *out);

/* ---------------------------------------------------------------- dmarc.c */

/* spfkit_check_run() for a check of another kind than SPF (chk->kind). */
int spfkit__kind_run(spfkit_check *chk, uint64_t now_ms);

/* ------------------------------------------------------------ prefetch.c */

/* Asks at once for what the terms of f's record will need first, never
 * past max_queries queries in all (spfkit_config_set_prefetch). */
void spfkit__prefetch(spfkit_check *chk, const spfkit__frame *f,
		      size_t max_queries);
/* Asks for the targets of records fetched ahead as soon as they arrive. */
void spfkit__prefetch_ahead(spfkit_check *chk);

/* ---------------------------------------------------------------- shared */

/* The address type of the client's family (A or AAAA). */
static inline uint16_t spfkit__addr_type(const spfkit_check *chk)
{
	return chk->ip.family == 4 ? SPFKIT_TYPE_A : SPFKIT_TYPE_AAAA;
}

/* Does an ip4 or ip6 term hold the client (§5.6)? Needs no DNS. */
static inline bool spfkit__ip_term_matches(const spfkit_check *chk,
					   const spfkit__term *t)
{
	if (t->mech == SPFKIT__IP4) {
		if (chk->ip.family != 4)
			return false;
		/* Inline, one word: a record's long ip4 list is tried term by
		 * term, and the call was most of the cost of each. */
		const unsigned char *a = chk->ip.a, *b = t->addr;
		uint32_t x = ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
			      (uint32_t)a[2] << 8 | a[3]) ^
			     ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			      (uint32_t)b[2] << 8 | b[3]);
		unsigned prefix = t->cidr4 < 0 ? 32u : (unsigned)t->cidr4;
		return prefix == 0 ||
		       (prefix >= 32 ? x : x >> (32 - prefix)) == 0;
	}
	return t->mech == SPFKIT__IP6 && chk->ip.family == 6 &&
	       spfkit__prefix_match(chk->ip.a, t->addr, 16,
				    t->cidr6 < 0 ? 128u : (unsigned)t->cidr6);
}

#endif /* SPFKIT_CHECK_H */
