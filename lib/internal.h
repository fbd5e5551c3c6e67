/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * internal.h - what the modules of libspfkit share and nothing outside sees:
 * allocation through the config's hooks, the bounded buffer, addresses,
 * parsed records and macro expansion. Names are spfkit__*.
 */
#ifndef SPFKIT_INTERNAL_H
#define SPFKIT_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spfkit.h"

/* ---------------------------------------------------------------- memory */

/* The allocator every module uses; the default wraps malloc/free. */
typedef spfkit_allocator spfkit__alloc;
const spfkit__alloc *spfkit__default_alloc(void);
const spfkit__alloc *spfkit__config_alloc(const spfkit_config *cfg);
/* The opening of every constructor: a zeroed handle of size octets from
 * cfg's allocator (the default one for NULL), *a set to that allocator;
 * NULL when out of memory. */
void *spfkit__handle_new(const spfkit_config *cfg, size_t size,
			 const spfkit__alloc **a);
void *spfkit__malloc(const spfkit__alloc *a, size_t n);
void *spfkit__calloc(const spfkit__alloc *a, size_t count, size_t size);
void *spfkit__realloc(const spfkit__alloc *a, void *p, size_t n);
void spfkit__free(const spfkit__alloc *a, void *p);
/* The array v (n elements of size octets in use, room for *cap) with room
 * for element n: v itself while there is room, else grown to twice *cap
 * (first when empty), *cap updated. NULL when out of memory (v is kept as
 * it was). The one way the library grows an array. */
void *spfkit__grow(const spfkit__alloc *a, void *v, size_t n, size_t *cap,
		   size_t size, size_t first);
/* A NUL-terminated copy of (s, n); NULL when out of memory. */
char *spfkit__strndup(const spfkit__alloc *a, const char *s, size_t n);

/* ---------------------------------------------------------------- buffer */

/* A bounded growable byte buffer (Postfix vstring with curl's size cap).
 * The handle stays valid as it grows; data is always NUL terminated once
 * anything was written. The first error sticks: once err is set, appends
 * do nothing, so a caller may append a series and check err once. */
typedef struct spfkit__buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len; exceeding it sets SPFKIT_ETOOBIG */
	int err;    /* SPFKIT_OK, SPFKIT_ENOMEM or SPFKIT_ETOOBIG */
	const spfkit__alloc *a;
	bool local; /* data is the caller's storage (spfkit__buf_init_local) */
} spfkit__buf;

void spfkit__buf_init(spfkit__buf *b, const spfkit__alloc *a, size_t max);
/* As spfkit__buf_init, starting in the caller's storage (cap octets, which
 * must outlive b): short strings on the hot path cost no allocation; a
 * longer one moves to the heap. spfkit__buf_take() always returns heap
 * memory. */
void spfkit__buf_init_local(spfkit__buf *b, const spfkit__alloc *a, size_t max,
			    char *storage, size_t cap);
void spfkit__buf_free(spfkit__buf *b);
void spfkit__buf_reset(spfkit__buf *b); /* len = 0, err kept */
/* spfkit__buf_add() when b may have to grow (or fail). */
int spfkit__buf_add_grow(spfkit__buf *b, const void *p, size_t n);
/* Appends (p, n): SPFKIT_OK, or b's error (which stays set). Inline for
 * the usual append that fits: a check makes a few hundred. */
static inline int spfkit__buf_add(spfkit__buf *b, const void *p, size_t n)
{
	/* len + n + 1 <= cap and len + n <= max, as the slow path asks */
	if (b->err || n >= b->cap - b->len || b->len + n > b->max)
		return spfkit__buf_add_grow(b, p, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SPFKIT_OK;
}
static inline int spfkit__buf_addc(spfkit__buf *b, char c)
{
	return spfkit__buf_add(b, &c, 1);
}
int spfkit__buf_adds(spfkit__buf *b, const char *s);
int spfkit__buf_addu(spfkit__buf *b, uint64_t v);
/* Takes ownership of data (NUL terminated); the buffer is left empty.
 * Returns NULL when err is set or nothing was ever allocated (then an
 * empty string is allocated). */
char *spfkit__buf_take(spfkit__buf *b);

/* ---------------------------------------------------------------- hashing
 *
 * The library's hash tables are keyed by names and texts a sender chooses
 * (the resolver's answer cache by query name, the record cache by record
 * text): with a fixed hash, names built to collide would put every entry
 * in one chain. So the hash is SipHash-1-3 (Aumasson and Bernstein; the
 * variant Python and Rust hash tables use) under a key drawn once per
 * process from the kernel's random generator (hash.c): without the key,
 * collisions cannot be chosen. */

/* The per-process key (two 64-bit words), drawn on first use. */
extern uint64_t spfkit__hash_key_words[2];
extern atomic_bool spfkit__hash_key_ready; /* set once the key is drawn */
/* Draws the key (getrandom(); once, whichever thread comes first). */
void spfkit__hash_key_init(void);

/* The key, drawn on first use. */
static inline const uint64_t *spfkit__hash_key(void)
{
	if (!atomic_load_explicit(&spfkit__hash_key_ready,
				  memory_order_acquire))
		spfkit__hash_key_init();
	return spfkit__hash_key_words;
}

/* ASCII A-Z to a-z in each of the eight octets of w at once (other octets,
 * 0x80 and up included, stay as they are). */
static inline uint64_t spfkit__lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t low7 = w & ~high; /* no carry between octets below */
	uint64_t ge_a = low7 + ones * (0x80u - 'A');      /* high bit: >= 'A' */
	uint64_t gt_z = low7 + ones * (0x80u - 'Z' - 1u); /* high bit: > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~w & high;
	return w | (upper >> 2); /* 0x80 >> 2 is the case bit 0x20 */
}

#define SPFKIT__ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SPFKIT__SIPROUND(v0, v1, v2, v3)                                       \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = SPFKIT__ROTL(v1, 13);                                     \
		v1 ^= v0;                                                      \
		v0 = SPFKIT__ROTL(v0, 32);                                     \
		v2 += v3;                                                      \
		v3 = SPFKIT__ROTL(v3, 16);                                     \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = SPFKIT__ROTL(v3, 21);                                     \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = SPFKIT__ROTL(v1, 17);                                     \
		v1 ^= v2;                                                      \
		v2 = SPFKIT__ROTL(v2, 32);                                     \
	} while (0)

/* SipHash-c-d of (s, n) under the key k, octets read as little-endian
 * words as the reference does on x86 (any fixed order is as good: only
 * equality matters here); with fold, A-Z hash as a-z. c and d are
 * constants at every call, so the loops unroll. */
static inline uint64_t spfkit__siphash(const uint64_t k[2], const char *s,
				       size_t n, bool fold, int c, int d)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575u;
	uint64_t v1 = k[1] ^ 0x646f72616e646f6du;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261u;
	uint64_t v3 = k[1] ^ 0x7465646279746573u;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t m;
		memcpy(&m, s + i, 8);
		if (fold)
			m = spfkit__lower8(m);
		v3 ^= m;
		for (int r = 0; r < c; r++)
			SPFKIT__SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	uint64_t m = 0;
	if (n > i)
		memcpy(&m, s + i, n - i);
	if (fold)
		m = spfkit__lower8(m);
	m |= (uint64_t)n << 56;
	v3 ^= m;
	for (int r = 0; r < c; r++)
		SPFKIT__SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	for (int r = 0; r < d; r++)
		SPFKIT__SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The hash of a name that ignores ASCII case (names spfkit__ieq() calls
 * equal hash alike): every query a check asks is looked up by it, in the
 * check and, computed once, in the driver's cache (spfkit__source). */
static inline uint32_t spfkit__name_hash(const char *s, size_t n)
{
	return (uint32_t)spfkit__siphash(spfkit__hash_key(), s, n, true, 1, 3);
}

/* The hash of a text (octets as they are): the record cache's. */
static inline uint64_t spfkit__text_hash(const char *s, size_t n)
{
	return spfkit__siphash(spfkit__hash_key(), s, n, false, 1, 3);
}

/* ---------------------------------------------------------------- text */

/* Is every octet of (s, n) a space or visible ASCII (0x20-0x7e)? One
 * reduction with no early exit, so the compiler can do it a vector at a
 * time (a check's route is shown through this on every check). */
static inline bool spfkit__printable(const char *s, size_t n)
{
	unsigned char bad = 0; /* octet-wide: sixteen octets a vector */
	for (size_t i = 0; i < n; i++)
		bad |= (unsigned char)((unsigned char)((unsigned char)s[i] -
						       0x20u) >= 0x5fu);
	return !bad;
}

/* Lower-case ASCII only; safe for any byte. */
static inline unsigned char spfkit__lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}
static inline bool spfkit__is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static inline bool spfkit__is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}
static inline bool spfkit__is_alnum(unsigned char c)
{
	return spfkit__is_alpha(c) || spfkit__is_digit(c);
}
/* Case-insensitive ASCII comparison of (a, an) and (b, bn). */
bool spfkit__ieq(const char *a, size_t an, const char *b, size_t bn);

/* RFC 7208 §4.3, §7.3: can (s, n) be asked for in DNS? Labels of 1-63
 * octets, at most 253 octets after dropping one trailing dot, no control
 * characters. (The identity's own domain gets the stricter check of §4.3
 * in eval.c.) */
bool spfkit__domain_ok(const char *s, size_t n);

/* ---------------------------------------------------------------- ip */

typedef struct spfkit__ip {
	int family;          /* 4 or 6 */
	unsigned char a[16]; /* 4 or 16 octets, network order */
} spfkit__ip;

/* Parses text into ip. IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4.
 * Returns false for anything else, including trailing bytes. */
bool spfkit__ip_parse(const char *s, size_t n, spfkit__ip *ip);
/* Only dotted-quad IPv4 (ip4: mechanism) / only IPv6 (ip6:). */
bool spfkit__ip4_parse(const char *s, size_t n, unsigned char out[4]);
bool spfkit__ip6_parse(const char *s, size_t n, unsigned char out[16]);
/* Canonical text (inet_ntop style) into b. */
void spfkit__ip_format(const spfkit__ip *ip, spfkit__buf *b);
/* True when the first prefix bits of a and b (both len octets) agree. */
bool spfkit__prefix_match(const unsigned char *a, const unsigned char *b,
			  size_t len, unsigned prefix);
/* %{i} (RFC 7208 §7.3): dotted quad for v4, 32 dot-separated nibbles in
 * forward order for v6. */
void spfkit__ip_macro(const spfkit__ip *ip, spfkit__buf *b);
/* The PTR query name: "4.3.2.1.in-addr.arpa" / reversed nibbles + ".ip6.arpa".
 */
void spfkit__ip_reverse_name(const spfkit__ip *ip, spfkit__buf *b);

/* ---------------------------------------------------------------- record */

typedef enum spfkit__mech {
	SPFKIT__ALL = 0,
	SPFKIT__INCLUDE,
	SPFKIT__A,
	SPFKIT__MX,
	SPFKIT__PTR,
	SPFKIT__IP4,
	SPFKIT__IP6,
	SPFKIT__EXISTS,
	SPFKIT__REDIRECT, /* modifiers stored as terms too */
	SPFKIT__EXP,
	SPFKIT__UNKNOWN_MOD
} spfkit__mech;

typedef struct spfkit__term {
	spfkit__mech mech;
	char qualifier;   /* '+', '-', '~', '?' (explicit or implied '+') */
	size_t pos, len;  /* the term's bytes in the record text */
	size_t spec_pos;  /* domain-spec / macro-string within the text */
	size_t spec_len;  /* 0 when absent (use the current domain) */
	int cidr4, cidr6; /* -1 when absent */
	unsigned char addr[16]; /* ip4 (4 octets) / ip6 network */
	/* The domain-spec holds no macro and is a usable name as it stands:
	 * its target is the spec itself, without a trailing dot (target_len
	 * octets from spec_pos). Worked out once per parse, so cached
	 * records save the expansion on every check. */
	bool literal_ok;
	size_t target_len;
	uint32_t target_hash; /* spfkit__name_hash() of it, when literal_ok */
} spfkit__term;

typedef struct spfkit__record {
	char *text; /* NUL-terminated copy of the record */
	size_t len;
	spfkit__term *terms; /* mechanisms in order, then modifiers */
	size_t nterms;
	int redirect;  /* index into terms, or -1 */
	int exp;       /* index into terms, or -1 */
	unsigned refs; /* holders beyond the first (spfkit_cache) */
} spfkit__record;

typedef struct spfkit__parse_error {
	size_t pos;    /* octet offset of the offending term */
	size_t len;    /* its length */
	char msg[160]; /* one line */
} spfkit__parse_error;

/* Is (s, n) an SPF record by its version (§4.5): "v=spf1" then SP or end,
 * case-insensitive. */
bool spfkit__is_spf_record(const char *s, size_t n);

/* Parses a whole record (starting "v=spf1") per RFC 7208 §4.6 and §12.
 * SPFKIT_OK and *out (free with spfkit__record_free), SPFKIT_EPARSE and
 * err filled, or SPFKIT_ENOMEM. */
int spfkit__record_parse(const spfkit__alloc *a, const char *s, size_t n,
			 spfkit__record **out, spfkit__parse_error *err);
/* Drops one holder of r (see refs); the last one frees it. */
void spfkit__record_free(const spfkit__alloc *a, spfkit__record *r);

/* ---------------------------------------------------------------- drivers */

/* For DNS drivers, so a send costs what it sends: the first pending query
 * of chk at index *cursor or later that was not handed to a driver yet
 * (false: none); spfkit__check_mark_sent() records the hand-over (or,
 * with sent false, undoes it), spfkit__check_unsend() forgets every
 * hand-over (the driver dropped the check's queries). */
bool spfkit__check_unsent(const spfkit_check *chk, size_t *cursor, unsigned *id,
			  const char **name, uint16_t *type);
void spfkit__check_mark_sent(spfkit_check *chk, size_t cursor, bool sent);
void spfkit__check_unsend(spfkit_check *chk);

/* Answers at hand: a driver that keeps answers in memory (a cache, a
 * zone) lends the check a source, and the check looks a query up there
 * the moment it asks it, inside spfkit_check_run(), instead of waiting
 * for the driver's loop to send it and hand the answer back (a warm check
 * asks a handful). The check pulls; the driver never calls into the
 * check, so nothing re-enters a running check and the core still does no
 * I/O: find() only reads the driver's memory.
 *
 * find() returns true when the driver holds (name, type), with name_hash
 * spfkit__name_hash(name, name_len) computed once for both sides. With
 * out NULL it only tells (prefetch skips what is held: it is answered at
 * once when reached); with out it fills *out, whose rrs stay valid until
 * the check copied them; when out->priv is not NULL the check then calls
 * release() once (a cache entry that stays put needs none). */
typedef struct spfkit__decoded spfkit__decoded;
typedef struct spfkit__found {
	spfkit_dns_status status;
	spfkit_dns_failure failure; /* TEMPFAIL: why, or UNKNOWN */
	spfkit_dnssec dnssec;
	const spfkit_rr *rrs;
	size_t n;
	/* The same answer decoded already (spfkit__decoded_new), or NULL:
	 * the check copies it instead of decoding rrs again. */
	const spfkit__decoded *decoded;
	void *priv; /* the driver's: not NULL asks for release() */
} spfkit__found;

typedef struct spfkit__source {
	bool (*find)(void *ud, const char *name, size_t name_len,
		     uint32_t name_hash, uint16_t type, spfkit__found *out);
	void (*release)(void *ud, spfkit__found *found);
} spfkit__source;

/* An answer decoded once as a check keeps it (its records of the asked
 * type as text or address octets), for a driver that hands the same
 * answer to many checks (a cache): each copies it instead of decoding the
 * wire RDATA again. The decoded form of (status, rrs, n) asked as type,
 * from a; NULL when out of memory, for a temporary failure or for what
 * no driver may give (spfkit_check_answer_dnssec()'s rules). Free with
 * spfkit__decoded_free() and the same a (NULL is fine). */
spfkit__decoded *spfkit__decoded_new(const spfkit__alloc *a, uint16_t type,
				     spfkit_dns_status status,
				     const spfkit_rr *rrs, size_t n);
/* The type d was decoded as. */
uint16_t spfkit__decoded_type(const spfkit__decoded *d);
void spfkit__decoded_free(const spfkit__alloc *a, spfkit__decoded *d);

/* Lends chk the source src (static, borrowed) with its ud, which must
 * outlive the check's runs while set; NULL src takes it back
 * (spfkit_check_reset() does too). */
void spfkit__check_set_source(spfkit_check *chk, const spfkit__source *src,
			      void *ud);
/* The ud of the check's source, or NULL. */
void *spfkit__check_source(const spfkit_check *chk);

/* Hands chk the n records of (name, type) that came with another answer
 * (an MX answer's exchange addresses, RFC 1035 §3.3.9), for this check
 * alone: a later ask for them is answered here, as from a source, and
 * counted then. An answer the check already has or asked for stays as
 * it is. Copied into the check's arena, gone at its reset. */
int spfkit__check_offer(spfkit_check *chk, const char *name, size_t name_len,
			uint16_t type, const spfkit_rr *rrs, size_t n);

/* ---------------------------------------------------------------- cache */

/* No hint for spfkit__cache_get() and spfkit__cache_put(). */
#define SPFKIT__CACHE_NO_HINT UINT64_MAX

/* The cached parse of (text, n) with a holder added for the caller (free
 * with spfkit__record_free), or NULL. hint, the spfkit__name_hash() of the
 * name the record was published at (or SPFKIT__CACHE_NO_HINT), finds the
 * record that name had last time without hashing the whole text. */
spfkit__record *spfkit__cache_get(spfkit_cache *c, const char *text, size_t n,
				  uint64_t hint);
/* Adds r to the cache (which becomes one more holder), found by hint
 * next time; nothing happens when out of memory. */
void spfkit__cache_put(spfkit_cache *c, spfkit__record *r, uint64_t hint);
const spfkit_config *spfkit__cache_config(const spfkit_cache *c);

/* ---------------------------------------------------------------- macro */

/* Where a macro-string is expanded: domain-spec (no c, r, t; result is a
 * domain name, left-truncated to 253 octets per §7.3) or explanation. */
typedef enum spfkit__macro_ctx {
	SPFKIT__MACRO_DOMAIN = 0,
	SPFKIT__MACRO_EXPLAIN = 1
} spfkit__macro_ctx;

/* The values macros expand to (RFC 7208 §7.3). Views, borrowed. */
typedef struct spfkit__macro_env {
	const char *sender;
	size_t sender_len; /* s */
	const char *local;
	size_t local_len; /* l */
	const char *sdomain;
	size_t sdomain_len; /* o */
	const char *domain;
	size_t domain_len; /* d: current domain */
	const char *helo;
	size_t helo_len; /* h */
	const char *receiver;
	size_t receiver_len; /* r */
	const char *ptr;
	size_t ptr_len;       /* p: validated name or "unknown" */
	const spfkit__ip *ip; /* i, c, v */
	uint64_t now;         /* t: seconds since the epoch */
} spfkit__macro_env;

/* Syntax check of a macro-string (§7.1). SPFKIT_OK, or SPFKIT_EPARSE with
 * *errpos the offset of the bad '%' sequence. In domain context the letters
 * c, r and t are errors. */
int spfkit__macro_check(const char *s, size_t n, spfkit__macro_ctx ctx,
			size_t *errpos);
/* Does (s, n) use %{p} (so the evaluator must validate the client name
 * first)? */
bool spfkit__macro_uses_p(const char *s, size_t n);
/* Expands (s, n) into out (appending). Returns SPFKIT_OK, SPFKIT_EPARSE for a
 * syntax error, or out's sticky error. Domain context applies the 253-octet
 * left truncation to the whole expansion. */
int spfkit__macro_expand(const spfkit__macro_env *env, const char *s, size_t n,
			 spfkit__macro_ctx ctx, spfkit__buf *out);

/* ---------------------------------------------------------------- dns */

/* Decoders for the wire RDATA drivers hand over (hostile input). Names are
 * written as dotted text without a trailing dot; false when malformed. */
bool spfkit__rdata_name(const unsigned char *p, size_t n, size_t *used,
			spfkit__buf *out);
/* TXT: appends the concatenation of all character-strings (§3.3). */
bool spfkit__rdata_txt(const unsigned char *p, size_t n, spfkit__buf *out);

#endif /* SPFKIT_INTERNAL_H */
