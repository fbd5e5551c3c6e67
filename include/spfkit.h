/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spfkit.h - the one public header of libspfkit, a Sender Policy Framework
 * (RFC 7208) library whose evaluator does no I/O.
 *
 * A check is a state machine: create it, give it the client IP and the
 * identities, then call spfkit_check_run() until it returns SPFKIT_DONE.
 * Whenever it returns SPFKIT_WANT_DNS, read the pending queries with
 * spfkit_check_query(), answer each with spfkit_check_answer() (from any
 * DNS source: the in-memory zone below, libunbound, a test), and run again.
 *
 * Conventions: every handle is opaque; destructors accept NULL; a call that
 * fails returns a negative spfkit_status and leaves nothing to clean up.
 * Strings returned by the library are borrowed from the handle they came
 * from unless a comment says "caller frees with spfkit_free()".
 */
#ifndef SPFKIT_H
#define SPFKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SPFKIT_BUILDING) && defined(__GNUC__)
#define SPFKIT_API __attribute__((visibility("default")))
#else
#define SPFKIT_API
#endif

/* The version of this header: MAJOR.MINOR.PATCH. The ABI policy
 * (doc/abi.md): within one MAJOR (the soname, libspfkit.so.0 while MAJOR
 * is 0) functions, enum values, macros and struct fields are only added,
 * never changed or removed; a MINOR adds API, a PATCH changes none. Code
 * built against this header runs with any library of the same MAJOR whose
 * MINOR is at least SPFKIT_VERSION_MINOR (spfkit_version_number() tells,
 * at run time). */
#define SPFKIT_VERSION_MAJOR 0
#define SPFKIT_VERSION_MINOR 2
#define SPFKIT_VERSION_PATCH 0
#define SPFKIT_VERSION       "0.2.0"
/* One number to compare: 0xMMmmpp (0x000200 for 0.2.0). */
#define SPFKIT_VERSION_NUMBER                                                  \
	((SPFKIT_VERSION_MAJOR << 16) | (SPFKIT_VERSION_MINOR << 8) |          \
	 SPFKIT_VERSION_PATCH)

/* ---------------------------------------------------------------- status */

/* API status: 0 is success, errors are negative. Never an SPF result. */
typedef enum spfkit_status {
	SPFKIT_OK = 0,
	SPFKIT_DONE = 1, /* spfkit_check_run(): the result is final */
	SPFKIT_WANT_DNS =
	    2,              /* spfkit_check_run(): answer the pending queries */
	SPFKIT_ENOMEM = -1, /* an allocation failed */
	SPFKIT_EINVAL =
	    -2, /* a bad argument (NULL handle, unparsable IP, ...) */
	SPFKIT_ESTATE = -3, /* the call does not fit the handle's state */
	SPFKIT_ENOENT = -4, /* no such query id, file or name */
	SPFKIT_EPARSE = -5, /* a file or text could not be parsed */
	SPFKIT_EIO = -6,    /* a file could not be read */
	SPFKIT_ETOOBIG = -7 /* an input or output over its size cap */
} spfkit_status;

/* A static English string for a status; never NULL. */
SPFKIT_API const char *spfkit_strerror(int status);

/* The library version string, SPFKIT_VERSION of the built library. */
SPFKIT_API const char *spfkit_version(void);
/* SPFKIT_VERSION_NUMBER of the built library: a program built against a
 * newer header can refuse to run on an older library. */
SPFKIT_API unsigned spfkit_version_number(void);

/* ---------------------------------------------------------------- results */

/* The SPF result of check_host() (RFC 7208 §2.6). */
typedef enum spfkit_result {
	SPFKIT_RESULT_NONE = 0,
	SPFKIT_RESULT_NEUTRAL,
	SPFKIT_RESULT_PASS,
	SPFKIT_RESULT_FAIL,
	SPFKIT_RESULT_SOFTFAIL,
	SPFKIT_RESULT_TEMPERROR,
	SPFKIT_RESULT_PERMERROR
} spfkit_result;

/* "none", "neutral", "pass", ...: the RFC's lower-case name; never NULL. */
SPFKIT_API const char *spfkit_result_name(spfkit_result r);

/* Why the result is what it is. */
typedef enum spfkit_reason {
	SPFKIT_REASON_NONE = 0,         /* no result yet */
	SPFKIT_REASON_MECHANISM,        /* a mechanism matched */
	SPFKIT_REASON_DEFAULT,          /* nothing matched: default neutral */
	SPFKIT_REASON_MALFORMED_DOMAIN, /* the identity's domain is not usable
					   (§4.3) */
	SPFKIT_REASON_NO_RECORD,        /* no v=spf1 record (§4.5) */
	SPFKIT_REASON_MULTIPLE_RECORDS, /* more than one v=spf1 record (§4.5) */
	SPFKIT_REASON_SYNTAX,       /* a record that does not parse (§4.6) */
	SPFKIT_REASON_LOOKUP_LIMIT, /* over 10 DNS-querying terms (§4.6.4) */
	SPFKIT_REASON_VOID_LIMIT,   /* over 2 void lookups (§4.6.4) */
	SPFKIT_REASON_MX_LIMIT,     /* over 10 MX names (§4.6.4) */
	SPFKIT_REASON_INCLUDE_NONE, /* include target without a record (§5.2) */
	SPFKIT_REASON_REDIRECT_NONE, /* redirect target without a record (§6.1)
				      */
	SPFKIT_REASON_BAD_TARGET,    /* a macro expanded to an unusable name */
	SPFKIT_REASON_DNS_ERROR,     /* a DNS failure (§4.4, §5) */
	SPFKIT_REASON_DEADLINE,      /* the check ran past its deadline */
	SPFKIT_REASON_INTERNAL,      /* out of memory or a size cap mid-check */
	SPFKIT_REASON_LOOP /* an include or redirect leads back to a record
			      being evaluated: a check would go round until
			      the lookup limit (§4.6.4), so it ends there
			      with permerror (added in 0.2) */
} spfkit_reason;

/* A short lower-case name for a reason ("mechanism", "lookup-limit", ...). */
SPFKIT_API const char *spfkit_reason_name(spfkit_reason r);

/* Which identity a check is about (RFC 7208 §2.3, §2.4). */
typedef enum spfkit_scope {
	SPFKIT_SCOPE_MAILFROM = 0, /* MAIL FROM; a null sender checks HELO */
	SPFKIT_SCOPE_HELO = 1      /* the HELO/EHLO name */
} spfkit_scope;

/* ---------------------------------------------------------------- memory */

/* Allocation hooks. ud is passed back unchanged. realloc(ud, NULL, n) must
 * act as malloc; free(ud, NULL) must do nothing. */
typedef struct spfkit_allocator {
	void *(*alloc)(void *ud, size_t size);
	void *(*realloc)(void *ud, void *ptr, size_t size);
	void (*free)(void *ud, void *ptr);
	void *ud;
} spfkit_allocator;

/* Frees memory the library handed over with "caller frees with
 * spfkit_free()". Uses the allocator of the config it came from, so pass
 * that config (or NULL when it used the default allocator). */
typedef struct spfkit_config spfkit_config;
SPFKIT_API void spfkit_free(const spfkit_config *cfg, void *ptr);

/* ---------------------------------------------------------------- config */

/* Settings shared by many checks. A config must outlive every check and
 * zone made from it; it is not changed by checks, so one config may serve
 * checks in several threads once it is set up. */

/* Creates a config with RFC defaults. alloc may be NULL (malloc/free);
 * it is copied. On success *out is the caller's, freed with
 * spfkit_config_free(). */
SPFKIT_API int spfkit_config_new(spfkit_config **out,
				 const spfkit_allocator *alloc);
SPFKIT_API void spfkit_config_free(spfkit_config *cfg);

/* The explanation used for fail when the record has no usable exp=
 * (RFC 7208 §6.2). A macro-string (explanation context, so %{c} %{r} %{t}
 * work). Copied. Returns SPFKIT_EPARSE for a bad macro-string. The default
 * is SPFKIT_DEFAULT_EXPLANATION, which names the client with %{c} (§7.3:
 * the address as people write it, "2001:db8::1"), not %{i} (for IPv6 the
 * 32 dotted nibbles a domain-spec needs); before 0.2 it used %{i}. */
#define SPFKIT_DEFAULT_EXPLANATION                                             \
	"%{c} is not one of %{d}'s designated mail servers. See "              \
	"https://www.rfc-editor.org/rfc/rfc7208#section-2.6.4"
SPFKIT_API int spfkit_config_set_default_explanation(spfkit_config *cfg,
						     const char *macro_string);

/* The receiving host's name, %{r} (RFC 7208 §7.3) and the Received-SPF
 * receiver= key. Copied. Default "unknown". */
SPFKIT_API int spfkit_config_set_receiver(spfkit_config *cfg, const char *name);

/* Limits (RFC 7208 §4.6.4). Values of 0 are refused with SPFKIT_EINVAL. */
typedef enum spfkit_limit {
	SPFKIT_LIMIT_DNS_TERMS = 0, /* default 10 */
	SPFKIT_LIMIT_VOID_LOOKUPS,  /* default 2 */
	SPFKIT_LIMIT_MX_NAMES,      /* default 10 */
	SPFKIT_LIMIT_PTR_NAMES,     /* default 10 */
	SPFKIT_LIMIT_DEADLINE_MS    /* default 20000 (§4.6.4: at least 20 s) */
} spfkit_limit;
SPFKIT_API int spfkit_config_set_limit(spfkit_config *cfg, spfkit_limit which,
				       uint32_t value);

/* Prefetch (on by default): once a record is known, ask at once for what
 * its terms will need (include and redirect records, a, mx and exists
 * targets), at most as many terms as the lookup budget still allows, so a
 * cold check takes about (depth of the include tree + 1) round trips.
 * Results, counters and explanations are identical either way. */
SPFKIT_API int spfkit_config_set_prefetch(spfkit_config *cfg, int on);

/* ---------------------------------------------------------------- checks */

typedef struct spfkit_check spfkit_check;

/* Creates a check. cfg is borrowed until spfkit_check_free(). *out is the
 * caller's, freed with spfkit_check_free(). */
SPFKIT_API int spfkit_check_new(spfkit_check **out, const spfkit_config *cfg);
SPFKIT_API void spfkit_check_free(spfkit_check *chk);

/* Returns chk to the state spfkit_check_new() left it in, with the same
 * config: inputs, cache, events, userdata and results are gone (strings
 * borrowed from it die here), but the memory it grew is kept, so a caller
 * running many checks one after another allocates almost nothing. A
 * driver must have dropped its queries (spfkit_resolver_cancel()) first.
 * SPFKIT_EINVAL for NULL. */
SPFKIT_API int spfkit_check_reset(spfkit_check *chk);

/* The client address in text form (IPv4 dotted quad or IPv6; an
 * IPv4-mapped IPv6 address is treated as IPv4). SPFKIT_EINVAL if it does
 * not parse. Must be set before the first spfkit_check_run(). */
SPFKIT_API int spfkit_check_set_ip(spfkit_check *chk, const char *ip);

/* The identities, as (pointer, length): the bytes may hold anything,
 * including NUL; they are copied. sender is the MAIL FROM address without
 * angle brackets ("" or "<>" is the null sender); helo is the HELO name.
 * SPFKIT_ETOOBIG past 64 KiB. */
SPFKIT_API int spfkit_check_set_sender(spfkit_check *chk, const char *sender,
				       size_t len);
SPFKIT_API int spfkit_check_set_helo(spfkit_check *chk, const char *helo,
				     size_t len);
SPFKIT_API int spfkit_check_set_scope(spfkit_check *chk, spfkit_scope scope);

/* A pointer of the caller's, kept with the check and never used by the
 * library (an event loop finds its own state from a check with it). */
SPFKIT_API int spfkit_check_set_userdata(spfkit_check *chk, void *ud);
SPFKIT_API void *spfkit_check_userdata(const spfkit_check *chk);

/* Uses this record text instead of asking DNS for the checked domain's own
 * record (includes and redirects are still looked up): a draft tested
 * before it is published. Copied. */
SPFKIT_API int spfkit_check_set_record(spfkit_check *chk, const char *record,
				       size_t len);

/* The time for %{t} in explanations (RFC 7208 §7.3), in seconds since the
 * epoch; the library reads no clock. Default 0. */
SPFKIT_API int spfkit_check_set_timestamp(spfkit_check *chk,
					  uint64_t unix_seconds);

/* Runs the check as far as it can go. now_ms is a monotonic clock in
 * milliseconds supplied by the caller (the library reads no clock); the
 * deadline counts from the first call. Returns SPFKIT_DONE when the result
 * is final, SPFKIT_WANT_DNS when queries are pending, or a negative status
 * (SPFKIT_ESTATE if the IP was never set). Out of memory mid-check ends the
 * check with temperror and reason internal, and still returns SPFKIT_DONE. */
SPFKIT_API int spfkit_check_run(spfkit_check *chk, uint64_t now_ms);

/* DNS record types the evaluator asks for. */
#define SPFKIT_TYPE_A     1
#define SPFKIT_TYPE_PTR   12
#define SPFKIT_TYPE_MX    15
#define SPFKIT_TYPE_TXT   16
#define SPFKIT_TYPE_AAAA  28
#define SPFKIT_TYPE_CNAME 5

/* Number of queries waiting for an answer. */
SPFKIT_API size_t spfkit_check_pending(const spfkit_check *chk);

/* The i-th pending query (0 <= i < spfkit_check_pending()). *id identifies
 * it in spfkit_check_answer(); *name (a NUL-terminated domain without the
 * trailing dot) is borrowed until that query is answered or the check is
 * freed; *type is one of SPFKIT_TYPE_*. */
SPFKIT_API int spfkit_check_query(const spfkit_check *chk, size_t i,
				  unsigned *id, const char **name,
				  uint16_t *type);

/* How a DNS query ended, already classified (RFC 7208 §4.4, §4.6.4). */
typedef enum spfkit_dns_status {
	SPFKIT_DNS_NOERROR = 0, /* data, or NODATA when no record matches */
	SPFKIT_DNS_NXDOMAIN,    /* the name does not exist */
	SPFKIT_DNS_TEMPFAIL     /* SERVFAIL, timeout, malformed answer, ... */
} spfkit_dns_status;

/* One resource record of an answer, in DNS wire format: A 4 octets, AAAA 16,
 * MX a 16-bit preference then an uncompressed name, PTR an uncompressed
 * name, TXT one or more <length><octets> character-strings. Records whose
 * type or format does not fit the query are ignored, as a resolver would. */
typedef struct spfkit_rr {
	uint16_t type;
	uint32_t ttl;
	const unsigned char *rdata;
	size_t rdlen;
} spfkit_rr;

/* Answers pending query id with status and n records (all borrowed for the
 * duration of the call only). SPFKIT_ENOENT if id is not pending (never
 * asked, already answered, or dropped because the check ended). */
SPFKIT_API int spfkit_check_answer(spfkit_check *chk, unsigned id,
				   spfkit_dns_status status,
				   const spfkit_rr *rrs, size_t n);

/* DNSSEC status of an answer, as a validating resolver reports it. */
typedef enum spfkit_dnssec {
	SPFKIT_DNSSEC_UNKNOWN = 0, /* not validated (zone files, no anchor) */
	SPFKIT_DNSSEC_INSECURE,    /* validated: the zone is not signed */
	SPFKIT_DNSSEC_SECURE,      /* validated: signed and correct */
	SPFKIT_DNSSEC_BOGUS        /* validation failed (give TEMPFAIL) */
} spfkit_dnssec;
/* "unknown", "insecure", "secure", "bogus"; never NULL. */
SPFKIT_API const char *spfkit_dnssec_name(spfkit_dnssec s);

/* As spfkit_check_answer(), with the answer's DNSSEC status. */
SPFKIT_API int spfkit_check_answer_dnssec(spfkit_check *chk, unsigned id,
					  spfkit_dns_status status,
					  const spfkit_rr *rrs, size_t n,
					  spfkit_dnssec dnssec);

/* Why a query failed (SPFKIT_DNS_TEMPFAIL), as far as the DNS source can
 * tell; for people (problem texts, trace, lint), never for the result,
 * which is temperror whatever the kind (RFC 7208 §4.4, §5). Added in 0.2:
 * an answer given with spfkit_check_answer() has kind UNKNOWN. */
typedef enum spfkit_dns_failure {
	SPFKIT_DNS_FAIL_UNKNOWN = 0, /* no failure, or the source did not say */
	SPFKIT_DNS_FAIL_SERVFAIL, /* RCODE 2. A resolver (libunbound among them)
				     also answers SERVFAIL when it could not
				     reach or use the domain's servers, when
				     they refused it, or when they answered
				     nonsense */
	SPFKIT_DNS_FAIL_REFUSED,  /* RCODE 5: the server would not answer */
	SPFKIT_DNS_FAIL_TIMEOUT,  /* no answer in time */
	SPFKIT_DNS_FAIL_BAD_ANSWER, /* an answer that could not be used:
				       another RCODE (FORMERR, NOTIMP, ...),
				       a CNAME loop or over-long chain, a
				       name the resolver would not ask */
	SPFKIT_DNS_FAIL_BOGUS       /* DNSSEC validation failed */
} spfkit_dns_failure;

/* "SERVFAIL", "REFUSED", "timeout", "bad answer", "DNSSEC bogus" or
 * "unknown"; static, never NULL. */
SPFKIT_API const char *spfkit_dns_failure_name(spfkit_dns_failure f);

/* Answers pending query id as failed (SPFKIT_DNS_TEMPFAIL) for the reason
 * why, which problem texts and events then name; SPFKIT_DNS_FAIL_BOGUS
 * also makes the answer's DNSSEC status bogus. Returns as
 * spfkit_check_answer(); SPFKIT_EINVAL for an unknown why. */
SPFKIT_API int spfkit_check_answer_failure(spfkit_check *chk, unsigned id,
					   spfkit_dns_failure why);

/* ---------------------------------------------------------------- cache */

/* A cache of parsed SPF records, keyed by the exact record text, for the
 * checks of one thread: a busy receiver sees the same few thousand
 * records over and over, and parsing is most of a warm check's work. It
 * never changes a result (parsing is a pure function of the text); it
 * holds no DNS data (that is the DNS driver's cache, with its TTLs).
 * Not thread-safe: one cache per thread. */
typedef struct spfkit_cache spfkit_cache;

/* Creates a cache holding at most max_records records (0: 4096); the
 * least recently used is dropped first. cfg is borrowed until
 * spfkit_cache_free(). *out is the caller's. */
SPFKIT_API int spfkit_cache_new(spfkit_cache **out, const spfkit_config *cfg,
				size_t max_records);
/* Frees the cache; after every check that uses it was freed. */
SPFKIT_API void spfkit_cache_free(spfkit_cache *cache);
/* Records parsed, and records found in the cache, in all. */
SPFKIT_API uint64_t spfkit_cache_misses(const spfkit_cache *cache);
SPFKIT_API uint64_t spfkit_cache_hits(const spfkit_cache *cache);

/* Parses records through cache (borrowed until spfkit_check_free(); made
 * from the same config as the check, else SPFKIT_EINVAL). Before the
 * first run. */
SPFKIT_API int spfkit_check_set_cache(spfkit_check *chk, spfkit_cache *cache);

/* ---------------------------------------------------------------- events */

/* What the evaluator does, step by step. trace, tree and lint are built
 * from these events: their counts and matches are the evaluator's own,
 * never a second implementation's. */
typedef enum spfkit_event_kind {
	SPFKIT_EVENT_QUERY = 0, /* a DNS query is asked: query_id, name, type */
	SPFKIT_EVENT_ANSWER,    /* an answer was handed over: query_id, name,
				   type, status, nitems, ttl, rdata_octets */
	SPFKIT_EVENT_FRAME,     /* a record is to be evaluated: depth, via,
				   domain (the checked domain, an include or a
				   redirect target) */
	SPFKIT_EVENT_RECORD,    /* the frame's record text is known: text, ttl
				   (a record given with spfkit_check_set_record
				   has ttl 0) */
	SPFKIT_EVENT_TERM,      /* a term is reached: text, mechanism,
				   qualifier, counted, lookups after counting;
				   ip4/ip6 also family, addr, cidr */
	SPFKIT_EVENT_LOOKUP,    /* the current term (or record fetch, or exp)
				   uses an answer: query_id, name, type,
				   status, items, ttl, dnssec */
	SPFKIT_EVENT_VOID,      /* a void lookup was counted: name */
	SPFKIT_EVENT_TERM_END,  /* the term is left: matched */
	SPFKIT_EVENT_FRAME_END, /* the frame's result: result, reason */
	SPFKIT_EVENT_PROBLEM,   /* an error or none cause: result, reason,
				   text; ends the check unless walking */
	SPFKIT_EVENT_RESULT     /* the final result: result, reason, text
				   (the explanation for fail, else NULL) */
} spfkit_event_kind;

/* One decoded record of an answer: A 4 octets, AAAA 16, MX and PTR the
 * name, TXT the strings joined. */
typedef struct spfkit_event_item {
	char *data;
	size_t len;
} spfkit_event_item;

/* An event. Everything it points to is borrowed for the duration of the
 * callback only. Fields not listed for a kind are zero or NULL. */
typedef struct spfkit_event {
	spfkit_event_kind kind;
	unsigned depth;     /* frame depth: 0 is the checked domain's record */
	const char *via;    /* "top", "include" or "redirect": how the current
			       frame was reached */
	const char *domain; /* the current frame's domain */
	const char *text;   /* record, term, problem or explanation text */
	size_t text_len;
	const char *mechanism; /* TERM: "all", "include", "a", "mx", "ptr",
				  "ip4", "ip6", "exists" or "redirect" */
	char qualifier;        /* TERM: '+', '-', '~' or '?' */
	int counted; /* TERM: counts toward the limit of 10 (§4.6.4) */
	int matched; /* TERM_END: the term matched */
	int family;  /* TERM ip4/ip6: 4 or 6 */
	const unsigned char *addr; /* TERM ip4/ip6: the network (4 or 16) */
	int cidr;         /* TERM ip4/ip6: prefix length (32/128 if absent) */
	int cidr4, cidr6; /* TERM a/mx: dual-cidr-length, -1 if absent */
	unsigned query_id;
	const char *name; /* QUERY, ANSWER, LOOKUP, VOID: the queried name */
	uint16_t type;
	spfkit_dns_status status;
	uint32_t ttl; /* ANSWER, LOOKUP, RECORD: the smallest TTL, 0 if none */
	size_t rdata_octets; /* ANSWER: rdata octets of all records */
	const spfkit_event_item *items; /* LOOKUP */
	size_t nitems;                  /* ANSWER, LOOKUP */
	spfkit_result result;
	spfkit_reason reason;
	spfkit_dnssec dnssec;           /* ANSWER, LOOKUP */
	unsigned lookups, void_lookups; /* the check's totals after the event */
	/* Added in 0.2, at the end so events of older programs keep their
	 * layout (only the library makes events; a program that feeds its own
	 * to spfkit_linter_event() must zero the whole struct). */
	spfkit_dns_failure failure; /* ANSWER, LOOKUP of a TEMPFAIL: why */
} spfkit_event;

/* Called for every event, in the caller's thread, from inside
 * spfkit_check_run() and spfkit_check_answer(). It must not call anything
 * that changes chk. */
typedef void (*spfkit_event_cb)(const spfkit_check *chk, const spfkit_event *ev,
				void *ud);

/* Sets (or with NULL clears) the event callback. Before the first run. */
SPFKIT_API int spfkit_check_set_events(spfkit_check *chk, spfkit_event_cb cb,
				       void *ud);

/* Walking (for tree and lint): evaluates as for a client that no ip4, ip6,
 * a, mx, ptr or exists term holds, so every term a receiver could reach is
 * reached; all, include and redirect work as always. Errors inside an
 * include or redirect (no record, syntax, DNS failure, a bad target, more
 * than 10 MX names) are reported as PROBLEM events and end only that
 * frame or term, and the limits on terms and void lookups are reported
 * once when crossed but do not stop the walk, so the whole tree is seen.
 * Counters still count exactly as in a check. Before the first run. */
SPFKIT_API int spfkit_check_set_walk(spfkit_check *chk, int on);

/* ---------------------------------------------------------------- results */

/* All of these are valid once spfkit_check_run() returned SPFKIT_DONE;
 * strings are borrowed until spfkit_check_free() and never NULL unless a
 * comment says so. */
SPFKIT_API spfkit_result spfkit_check_result(const spfkit_check *chk);
SPFKIT_API spfkit_reason spfkit_check_reason(const spfkit_check *chk);
/* "mailfrom" or "helo": the identity that was checked. A null sender is
 * the "mailfrom" identity postmaster@<HELO> (RFC 7208 §2.4). */
SPFKIT_API const char *spfkit_check_identity(const spfkit_check *chk);
/* The <sender> that was checked ("postmaster@helo.example" for HELO). */
SPFKIT_API const char *spfkit_check_sender(const spfkit_check *chk);
/* The domain check_host() started with (the identity's domain). */
SPFKIT_API const char *spfkit_check_domain(const spfkit_check *chk);
/* The client IP in canonical text form. */
SPFKIT_API const char *spfkit_check_ip(const spfkit_check *chk);
/* The explanation (fail only, RFC 7208 §6.2), or NULL. */
SPFKIT_API const char *spfkit_check_explanation(const spfkit_check *chk);
/* The term of the checked domain's record (or of a redirect target) that
 * decided the result ("-all", "include:_spf.example.net"), or NULL when
 * none did. For a pass through an include this is the include term, as
 * Received-SPF's mechanism= key has it (RFC 7208 §9.1); the term that
 * matched inside is spfkit_check_matched_term(). */
SPFKIT_API const char *spfkit_check_mechanism(const spfkit_check *chk);
/* The innermost term that matched: for a pass through includes, the term
 * of the included record that held the client ("ip4:74.125.0.0/16" where
 * spfkit_check_mechanism() says "include:_spf.google.com"); otherwise the
 * same term as spfkit_check_mechanism(). NULL when no term decided.
 * Added in 0.2. */
SPFKIT_API const char *spfkit_check_matched_term(const spfkit_check *chk);
/* How the record of spfkit_check_matched_term() was reached, as the terms
 * that led there with their targets expanded: "include:_spf.google.com >
 * include:_netblocks.google.com", "redirect=_spf.example.net"; "" when the
 * term is in the checked domain's own record; NULL when no term decided.
 * Octets outside visible ASCII are shown as '?'. Added in 0.2. */
SPFKIT_API const char *spfkit_check_matched_via(const spfkit_check *chk);
/* Where the evaluation stood when it decided: the route from the checked
 * domain to the record whose own term matched (or that had the problem),
 * through includes and redirects, as "a.example > include b.example".
 * For a pass through an include, spfkit_check_mechanism() is the include
 * term and this names the record inside it that matched. NULL when not
 * applicable. */
SPFKIT_API const char *spfkit_check_where(const spfkit_check *chk);
/* A one-line human description of a permerror, temperror or none cause,
 * with the position in the record for syntax errors; NULL otherwise. */
SPFKIT_API const char *spfkit_check_problem(const spfkit_check *chk);
/* The weakest DNSSEC status among the answers the result used (bogus <
 * unknown < insecure < secure); unknown when no answer was used. */
SPFKIT_API spfkit_dnssec spfkit_check_dnssec(const spfkit_check *chk);
/* When the check's deadline passes, on the clock of spfkit_check_run()'s
 * now_ms (its first run plus SPFKIT_LIMIT_DEADLINE_MS); 0 before the
 * first run. An event loop runs the check again at that time at the
 * latest, so a check whose answers never come ends with temperror. */
SPFKIT_API uint64_t spfkit_check_deadline(const spfkit_check *chk);
/* DNS-querying terms and void lookups counted (RFC 7208 §4.6.4). */
SPFKIT_API unsigned spfkit_check_lookups(const spfkit_check *chk);
SPFKIT_API unsigned spfkit_check_void_lookups(const spfkit_check *chk);
/* DNS queries the check asked for in all. */
SPFKIT_API unsigned spfkit_check_queries(const spfkit_check *chk);

/* Header fields (name and value, one line, no CRLF). authserv_id is the
 * Authentication-Results authserv-id (RFC 8601 §2.5), required for it;
 * ignored for Received-SPF. The value never holds CR, LF or other control
 * characters: input that would put them there is escaped. *out is NUL
 * terminated; caller frees with spfkit_free(cfg, *out). */
typedef enum spfkit_header {
	SPFKIT_HEADER_RECEIVED_SPF = 0,      /* RFC 7208 §9.1 */
	SPFKIT_HEADER_AUTHENTICATION_RESULTS /* RFC 8601 */
} spfkit_header;
SPFKIT_API int spfkit_check_header(const spfkit_check *chk, spfkit_header kind,
				   const char *authserv_id, char **out);

/* ---------------------------------------------------------------- zone */

/* An in-memory DNS zone: the driver for tests, drafts and offline use. It
 * answers as an authoritative server loaded with the same records would,
 * through a resolver: names not in the zone are NXDOMAIN; a name without
 * records of the asked type, or with records only below it, is NODATA;
 * a name that does not exist is answered from a wildcard "*.<closest
 * encloser>" when there is one (RFC 4592); CNAMEs are followed (loops
 * give TEMPFAIL); identical records are one record (RFC 2181 §5). */
typedef struct spfkit_zone spfkit_zone;

/* cfg (for its allocator) is borrowed until spfkit_zone_free(). */
SPFKIT_API int spfkit_zone_new(spfkit_zone **out, const spfkit_config *cfg);
SPFKIT_API void spfkit_zone_free(spfkit_zone *zone);

/* Loads an RFC 1035 master file (through ldns), laid over what the zone
 * holds (spfkit_zone_overlay: the file's records of a name and type
 * replace those loaded before). An SPF (type 99) record there is one of
 * its own type, never answered for TXT (before 0.2 it stood in for TXT as
 * in YAML zonedata). On failure a one-line message naming the file and
 * line is written to err (if errlen > 0; a TXT string over 255 octets is
 * named as such) and the zone is unchanged. openspf YAML zonedata (.yml, .yaml)
 * is read by the spfkit command and the tests, not by the library (which does
 * not link libyaml): such a name gets SPFKIT_EINVAL and a message saying so.
 * (Before 0.2 the library read YAML too.) */
SPFKIT_API int spfkit_zone_load_file(spfkit_zone *zone, const char *path,
				     char *err, size_t errlen);

/* Adds one record in wire form (see spfkit_rr). name is copied; a trailing
 * dot is ignored; names compare case-insensitively. */
SPFKIT_API int spfkit_zone_add(spfkit_zone *zone, const char *name,
			       uint16_t type, uint32_t ttl,
			       const unsigned char *rdata, size_t rdlen);
/* Marks a name as timing out: every query for it gets TEMPFAIL. */
SPFKIT_API int spfkit_zone_add_timeout(spfkit_zone *zone, const char *name);

/* Marks a name (a trailing dot ignored) so the zone answers as a test
 * suite's DNS would; marks add up. For mock DNS, and for readers of other
 * zone formats (openspf YAML zonedata, which needs all four):
 * EXISTS        the name exists even without records: NODATA, never
 *               NXDOMAIN (its ancestors too, as empty non-terminals);
 * TIMEOUT       every query for it gets TEMPFAIL (spfkit_zone_add_timeout);
 * TIMEOUT_OTHERS  the types it holds records of answer; every other type,
 *               CNAME chasing and SPF standing in for TXT get TEMPFAIL;
 * NO_SPF_AS_TXT SPF (type 99) records never stand in for TXT there (by
 *               default they do at a name without TXT records, the rule
 *               of the openspf suite). */
#define SPFKIT_ZONE_EXISTS         1u
#define SPFKIT_ZONE_TIMEOUT        2u
#define SPFKIT_ZONE_TIMEOUT_OTHERS 4u
#define SPFKIT_ZONE_NO_SPF_AS_TXT  8u
SPFKIT_API int spfkit_zone_mark(spfkit_zone *zone, const char *name,
				unsigned marks);

/* Moves every record and mark of src into dst, all or nothing: on
 * SPFKIT_ENOMEM dst answers as before (src is unchanged); on success src
 * is left empty. For loading into a scratch zone first, so a file that
 * fails half-way leaves dst untouched. Both zones must have been made
 * from configs with the same allocator. */
SPFKIT_API int spfkit_zone_merge(spfkit_zone *dst, spfkit_zone *src);

/* As spfkit_zone_merge(), except that a name's records in src replace
 * dst's records of that name and type (other types and names stay): a
 * later zone file laid over an earlier one, e.g. a draft over the
 * published zone. Marks add up. Added in 0.2. */
SPFKIT_API int spfkit_zone_overlay(spfkit_zone *dst, spfkit_zone *src);

/* Answers every pending query of chk from the zone. Returns SPFKIT_OK or
 * a negative status from spfkit_check_answer(). */
SPFKIT_API int spfkit_zone_answer(const spfkit_zone *zone, spfkit_check *chk);

/* Runs chk to completion against the zone, with now_ms as the clock. */
SPFKIT_API int spfkit_zone_check(const spfkit_zone *zone, spfkit_check *chk,
				 uint64_t now_ms);

/* ---------------------------------------------------------------- real DNS */

/* A DNS driver over libunbound: asynchronous in the caller's thread, many
 * checks in flight, libunbound's cache (answers are reused while their TTL
 * lasts), TCP fallback for truncated answers, DNSSEC validation when a trust
 * anchor is set. Names held by an attached zone are answered from it
 * first; every other name goes to DNS. */
typedef struct spfkit_resolver spfkit_resolver;

/* cfg is borrowed until spfkit_resolver_free(). Nothing is read or sent
 * before the first check is sent. */
SPFKIT_API int spfkit_resolver_new(spfkit_resolver **out,
				   const spfkit_config *cfg);
/* Cancels every outstanding query; the checks are left as they are. */
SPFKIT_API void spfkit_resolver_free(spfkit_resolver *r);

/* Where to ask (the first call of either kind decides; default: the
 * resolvers of /etc/resolv.conf). ADDR[@PORT] forwards to a server, as
 * `dig @server` does, loopback included; repeatable. */
SPFKIT_API int spfkit_resolver_add_nameserver(spfkit_resolver *r,
					      const char *addr);
SPFKIT_API int spfkit_resolver_use_resolvconf(spfkit_resolver *r,
					      const char *path);
/* Resolves from the root servers itself, with no resolver at all. */
SPFKIT_API int spfkit_resolver_set_recursive(spfkit_resolver *r);
/* Resolves from the root servers named in path (NS and A/AAAA records in
 * master-file format, like named.root) instead of the built-in ones:
 * recursive, for a private root (labs, tests). Servers on loopback
 * addresses are asked too; they are on port 53, as any root's. */
SPFKIT_API int spfkit_resolver_set_root_hints(spfkit_resolver *r,
					      const char *path);
/* DNSSEC: validate with the trust anchor in this file (for example
 * /usr/share/dns/root.key). */
SPFKIT_API int spfkit_resolver_set_trust_anchor_file(spfkit_resolver *r,
						     const char *path);
/* Keeps no answer past its query, nor does libunbound: every lookup asks
 * the server (default: answers are reused while their TTL lasts). For
 * measuring, or behind a local caching resolver. Before the first send. */
SPFKIT_API int spfkit_resolver_set_no_cache(spfkit_resolver *r);
/* Answers for names in zone come from it (borrowed until the resolver is
 * freed). */
SPFKIT_API int spfkit_resolver_set_zone(spfkit_resolver *r,
					const spfkit_zone *zone);
/* A query unanswered after ms milliseconds is a TEMPFAIL (default 5000). */
SPFKIT_API int spfkit_resolver_set_query_timeout(spfkit_resolver *r,
						 uint32_t ms);

/* Sends those pending queries of chk that were not sent yet. chk is
 * borrowed until it has no query in flight or spfkit_resolver_cancel().
 * From the first send until spfkit_resolver_cancel() or
 * spfkit_check_reset(), queries r can answer from memory (its cache, its
 * zone) are also answered while chk runs, without a round through
 * spfkit_resolver_process(); r must outlive those runs. A send before the
 * first run (nothing pending yet) does only that. */
SPFKIT_API int spfkit_resolver_send(spfkit_resolver *r, spfkit_check *chk,
				    uint64_t now_ms);
/* Drops every query in flight for chk (before freeing it early). */
SPFKIT_API void spfkit_resolver_cancel(spfkit_resolver *r, spfkit_check *chk);

/* Called when answers for chk were handed to it (once per check per
 * spfkit_resolver_process() call, however many answers it got); the
 * caller then runs chk (spfkit_check_run) and sends again. The callback
 * may call spfkit_resolver_send() and spfkit_resolver_cancel(), and may
 * free chk after cancelling it; it must not call
 * spfkit_resolver_process() or free any other check. */
typedef void (*spfkit_resolver_cb)(spfkit_check *chk, void *ud);

/* Waits at most timeout_ms for answers (0: do not block; it does not
 * block either while zone answers are waiting, nor past the next query's
 * timeout), hands each to its check and calls cb for that check; queries
 * sent more than the query timeout before now_ms are cancelled and
 * answered TEMPFAIL. An answer for a query its check no longer wants (the
 * check ended) is dropped. Returns the number of answers delivered or a
 * negative status. libunbound works in a background thread of its own;
 * answers and callbacks come only in this call, in the caller's thread. */
SPFKIT_API int spfkit_resolver_process(spfkit_resolver *r, uint32_t timeout_ms,
				       uint64_t now_ms, spfkit_resolver_cb cb,
				       void *ud);
/* A file descriptor that turns readable when answers are waiting, for an
 * event loop; -1 before the first send. */
SPFKIT_API int spfkit_resolver_fd(const spfkit_resolver *r);
/* Queries in flight. */
SPFKIT_API size_t spfkit_resolver_in_flight(const spfkit_resolver *r);
/* Queries handed to libunbound in all (zone answers excluded; libunbound
 * may answer some from its cache without sending a message). */
SPFKIT_API uint64_t spfkit_resolver_queries_sent(const spfkit_resolver *r);

/* For an event loop (epoll, libevent, libuv): how many milliseconds from
 * now_ms until spfkit_resolver_process() must be called even if
 * spfkit_resolver_fd() stays quiet, because a query in flight times out
 * or a check waiting for one reaches its deadline then; 0 when that is
 * already due (answers from a zone are waiting, say), -1 when nothing is
 * in flight. With it a loop needs no polling:
 *     epoll_wait(ep, ev, n, spfkit_resolver_timeout(r, now_ms())); */
SPFKIT_API int64_t spfkit_resolver_timeout(const spfkit_resolver *r,
					   uint64_t now_ms);

/* The simple case in one call: runs chk to its result over r, sending
 * its queries, waiting for the answers and running it again, in the
 * calling thread, and returns when it is done: SPFKIT_OK (read the result
 * with spfkit_check_result() and friends) or a negative status (out of
 * memory, a resolver that cannot start); every query of chk is cancelled
 * before it returns either way. The check's own deadline
 * (SPFKIT_LIMIT_DEADLINE_MS, 20 s by default) bounds the wait: past it
 * the result is temperror. The clock is CLOCK_MONOTONIC, read here (the
 * evaluator itself still reads none). chk must be set up and not run
 * yet, or run only through this call. r should serve nothing else
 * meanwhile: answers for other checks in flight are handed to them, but
 * no callback tells their owner. */
SPFKIT_API int spfkit_resolver_check(spfkit_resolver *r, spfkit_check *chk);

/* ---------------------------------------------------------------- lint */

/* Static analysis for domain owners (spfkit lint): problems of a record
 * and of the whole tree of includes and redirects, each with a severity,
 * the RFC section, where it stands and a concrete fix. The grammar is the
 * evaluator's own, and every count comes from the evaluator's events
 * (spfkit_check_set_events) of a walked check (spfkit_check_set_walk),
 * never from a second implementation. Nothing here does I/O. */

typedef enum spfkit_severity {
	SPFKIT_SEVERITY_INFO = 0, /* worth knowing; nothing is wrong */
	SPFKIT_SEVERITY_WARNING,  /* works, but risky or wasteful */
	SPFKIT_SEVERITY_ERROR     /* receivers give permerror, none or worse */
} spfkit_severity;

/* "info", "warning" or "error"; never NULL. */
SPFKIT_API const char *spfkit_severity_name(spfkit_severity s);

/* One finding. Everything it points to is borrowed for the duration of
 * the callback only. message and fix are one line of printable ASCII, in
 * which hostile octets (and the backslash) of what they quote appear as
 * \xHH; a fix that quotes a corrected term or record quotes it exactly
 * (see replacement). domain, where, record, other_domain and other_where
 * are DNS text (hostile: escape before showing). */
typedef struct spfkit_finding {
	spfkit_severity severity;
	const char *code;   /* stable lower-case name, e.g. "ipv4-typo" */
	const char *rfc;    /* the section, e.g. "RFC 7208 4.6.4"; or NULL */
	const char *domain; /* whose record; NULL for a record linted alone */
	const char *where;  /* the route from the checked domain, as
			       "a.example > include b.example"; or NULL */
	unsigned depth;     /* 0: the checked domain's own record */
	const char *record; /* the record text pos and len point into, or
			       NULL when the finding is not about a record */
	size_t record_len;
	size_t pos, len;     /* the offending octets of record (len 0: the
				record as a whole) */
	const char *message; /* what is wrong */
	const char *fix;     /* what to do about it, or NULL */
	/* Added in 0.2 (a callback built with an older header never reads
	 * past fix). */
	const char *replacement; /* text to paste, when fix quotes a
				    correction: the exact octets that replace
				    (pos, len) of record -- the whole record
				    when len is 0 -- printable ASCII, checked
				    to parse; NULL when the fix is words */
	size_t replacement_len;
	const char *other_domain; /* a finding about two places (a netblock
				     repeated, or within another): the other
				     record's domain and route; else NULL */
	const char *other_where;
} spfkit_finding;

/* Called once per finding, in the caller's thread. */
typedef void (*spfkit_finding_cb)(const spfkit_finding *f, void *ud);

/* The codes findings can have: the i-th (from 0), or NULL past the last.
 * Static strings. For tools that filter findings by code. */
SPFKIT_API const char *spfkit_lint_code(size_t i);

/* Flags for spfkit_lint_record() and spfkit_linter_new().
 * INCLUDED: the record is an include target: it needs no terminating all,
 * and ?all is usual there.
 * DRAFT: the (checked domain's) record is text as typed, one TXT string:
 * over 255 octets it must be split to be published (RFC 7208 3.3). */
#define SPFKIT_LINT_INCLUDED 1u
#define SPFKIT_LINT_DRAFT    2u

/* Lints one record text (len octets, any bytes) on its own: syntax with
 * the position and a suggestion for the usual typos, and every rule that
 * needs no DNS. cb is called for each finding before the call returns.
 * Returns SPFKIT_OK (findings or not) or SPFKIT_ENOMEM / SPFKIT_EINVAL;
 * on failure some findings may already have been reported. */
SPFKIT_API int spfkit_lint_record(const spfkit_config *cfg, const char *text,
				  size_t len, unsigned flags,
				  spfkit_finding_cb cb, void *ud);

/* The tree-wide linter: feed it every event of a check (walked, so every
 * term is reached) and it reports the per-record findings of every
 * record reached plus those only the tree shows: the lookup and void
 * lookup limits (with the evaluator's counts), missing include and
 * redirect targets, several records, MX names, loops, DNS failures,
 * answer sizes, duplicate and overlapping netblocks. */
typedef struct spfkit_linter spfkit_linter;

/* cfg (its allocator and limits) is borrowed until spfkit_linter_free();
 * flags as above (SPFKIT_LINT_DRAFT: the check was given its record with
 * spfkit_check_set_record). *out is freed with spfkit_linter_free(). */
SPFKIT_API int spfkit_linter_new(spfkit_linter **out, const spfkit_config *cfg,
				 unsigned flags, spfkit_finding_cb cb,
				 void *ud);
SPFKIT_API void spfkit_linter_free(spfkit_linter *l);

/* Feeds one event (in the order the check emitted them; ev is only read
 * during the call). Findings may be reported from inside. Returns
 * SPFKIT_OK, or SPFKIT_ENOMEM, which sticks: later events are ignored. */
SPFKIT_API int spfkit_linter_event(spfkit_linter *l, const spfkit_event *ev);

/* An spfkit_event_cb that feeds the linter given as ud (errors stick and
 * show in spfkit_linter_finish()). */
SPFKIT_API void spfkit_linter_event_cb(const spfkit_check *chk,
				       const spfkit_event *ev, void *ud);

/* After the last event: reports the findings of the whole tree (limits
 * with the final totals, netblocks). Once. Returns SPFKIT_OK or the
 * sticky error. */
SPFKIT_API int spfkit_linter_finish(spfkit_linter *l);

/* Findings of severity s reported so far. */
SPFKIT_API unsigned spfkit_linter_count(const spfkit_linter *l,
					spfkit_severity s);

/* ---------------------------------------------------------------- dmarc */

/* DMARC policy discovery (RFC 9989) and other TXT lookups, as kinds of
 * check (added in 0.2). A check turned into a DMARC discovery or a TXT
 * lookup asks its queries through the same table as an SPF check, so
 * every driver serves it unchanged: spfkit_zone_check(),
 * spfkit_zone_answer(), spfkit_resolver_send()/_process()/_check(), or the
 * caller's own loop over spfkit_check_query() and spfkit_check_answer().
 * Its queries are reported as any check's (SPFKIT_EVENT_QUERY, _ANSWER and
 * _LOOKUP events, or spfkit_check_query() while pending); the deadline
 * (SPFKIT_LIMIT_DEADLINE_MS) holds as for SPF. No IP, sender or HELO is
 * set on such a check (spfkit_check_set_ip() gives SPFKIT_ESTATE), and
 * the SPF result calls (spfkit_check_result(), ...) say nothing of it. */

/* Turns a new or reset check into DMARC policy discovery (RFC 9989 §4.10,
 * §4.10.1, §4.10.2) for domain (len octets: the RFC5322.From domain, or
 * any domain whose organizational domain is wanted; a trailing dot is
 * ignored, case does not matter), instead of an SPF check.
 * spfkit_check_run() then asks TXT queries for _dmarc.<name> (at most 8,
 * in the order of §4.10) like any check, and returns SPFKIT_DONE when the
 * walk is over; read the outcome with spfkit_check_dmarc(). Whether the
 * domain exists (for np=) may take one more query, of type A for the
 * domain itself, counted in spfkit_dmarc_policy.queries but not in the 8.
 * SPFKIT_EINVAL for a name that is not a domain (labels of letters,
 * digits, '-' and '_', 1-63 octets each, 253 in all); SPFKIT_ESTATE when
 * the check was set up or run already. */
SPFKIT_API int spfkit_check_set_dmarc(spfkit_check *chk, const char *domain,
				      size_t len);

/* As spfkit_check_set_dmarc(), the RFC 7489 §6.6.3 way: the caller names
 * the organizational domain (from a public suffix list, say; org_domain,
 * org_len octets: domain itself or one of its parents, else
 * SPFKIT_EINVAL). Two queries at most, _dmarc.<domain> then
 * _dmarc.<org_domain>; psd= plays no part. For comparisons with receivers
 * that still work as RFC 7489 said. */
SPFKIT_API int spfkit_check_set_dmarc_org(spfkit_check *chk, const char *domain,
					  size_t len, const char *org_domain,
					  size_t org_len);

/* Turns a new or reset check into a lookup of the TXT records at one name
 * (a DKIM key at selector._domainkey.domain, RFC 6376 §3.6.2): one query,
 * no evaluation. name (len octets, a trailing dot ignored) is copied; its
 * labels are 1-63 octets, 253 in all, without control octets, spaces or
 * DEL, else SPFKIT_EINVAL. SPFKIT_ESTATE when the check was set up or run
 * already. */
SPFKIT_API int spfkit_check_set_txt_lookup(spfkit_check *chk, const char *name,
					   size_t len);
/* After SPFKIT_DONE of a TXT lookup: how the query ended (*status; *why
 * says why a TEMPFAIL failed: SPFKIT_DNS_FAIL_TIMEOUT when the deadline
 * passed) and how many TXT records it gave (*n; any pointer may be NULL).
 * SPFKIT_ESTATE for another kind of check or before it is done,
 * SPFKIT_ENOMEM when the lookup ran out of memory. */
SPFKIT_API int spfkit_check_txt_status(const spfkit_check *chk,
				       spfkit_dns_status *status,
				       spfkit_dns_failure *why, size_t *n);
/* The i-th TXT record (0 <= i < n): its character-strings concatenated
 * (RFC 7208 §3.3 / RFC 6376 §3.6.2.2 both join them with nothing
 * between), *len octets (any bytes; also NUL terminated), borrowed until
 * the check is reset or freed. SPFKIT_ENOENT past the last. */
SPFKIT_API int spfkit_check_txt_record(const spfkit_check *chk, size_t i,
				       const char **txt, size_t *len);

/* How a DMARC discovery ended. */
typedef enum spfkit_dmarc_status {
	SPFKIT_DMARC_FOUND = 0, /* a policy record applies */
	SPFKIT_DMARC_NONE,      /* no DMARC record: DMARC does not apply */
	SPFKIT_DMARC_TEMPERROR  /* a DNS failure (or the deadline, or memory
				   running out) stopped the walk */
} spfkit_dmarc_status;

/* A Domain Owner Assessment Policy (RFC 9989 §4.7 p=, sp=, np=). */
typedef enum spfkit_dmarc_disp {
	SPFKIT_DMARC_P_UNSET = 0, /* the tag is absent (or not valid) */
	SPFKIT_DMARC_P_NONE,
	SPFKIT_DMARC_P_QUARANTINE,
	SPFKIT_DMARC_P_REJECT
} spfkit_dmarc_disp;

/* What a DMARC discovery found; strings are borrowed from the check until
 * it is reset or freed; domains are lower-case, without the trailing dot. */
typedef struct spfkit_dmarc_policy {
	spfkit_dmarc_status status;
	const char *domain;          /* the domain the discovery was for */
	const char *record;          /* the record that applies, or NULL */
	const char *policy_domain;   /* where that record was found, or NULL */
	const char *org_domain;      /* the organizational domain (§4.10.2):
					never NULL after FOUND or NONE */
	spfkit_dmarc_disp policy;    /* what applies to `domain`: p, or sp for
					an existing subdomain of the policy
					domain, or np for a non-existent one
					(falling back as §4.7 says); UNSET when
					status != FOUND */
	spfkit_dmarc_disp p, sp, np; /* as published (UNSET when absent) */
	char adkim, aspf;            /* 'r' or 's' (default 'r') */
	bool testing;                /* t=y */
	char psd;                    /* 'y', 'n' or 'u' (absent) */
	bool domain_exists; /* whether `domain` exists in DNS (for np): a
			       record or a NOERROR answer under it shows it,
			       else the A query above asks; false when
			       nothing showed it and no policy needed it */
	size_t queries;     /* DNS queries the walk made */
} spfkit_dmarc_policy;

/* The result of a DMARC discovery after SPFKIT_DONE; NULL for any other
 * check or before it is done. */
SPFKIT_API const spfkit_dmarc_policy *
spfkit_check_dmarc(const spfkit_check *chk);

/* The i-th name a DMARC discovery asked about, in the order asked (0 is
 * _dmarc.<domain>): the queried name (with "_dmarc."), how its query ended,
 * how many DMARC records (v=DMARC1 first) it held, other TXT records not
 * counted (several are all discarded, §4.10), and the record when there
 * was exactly one, else NULL. Any output pointer may be NULL; strings are
 * borrowed as spfkit_check_dmarc()'s. SPFKIT_ENOENT past the last step,
 * SPFKIT_ESTATE for another kind of check or before it is done. */
SPFKIT_API int spfkit_check_dmarc_step(const spfkit_check *chk, size_t i,
				       const char **name,
				       spfkit_dns_status *status,
				       size_t *nrecords, const char **record);

/* Identifier alignment (RFC 9989 §4.4): whether id_domain aligns with the
 * author domain, given each one's organizational domain (found by a
 * discovery of each) and the mode ('r' relaxed: same organizational
 * domain; 's' strict: the same name). Case-insensitive; a trailing dot is
 * ignored. Pure: no DNS. False for NULL or empty names, or another mode. */
SPFKIT_API bool spfkit_dmarc_aligned(char mode, const char *author_domain,
				     const char *author_org,
				     const char *id_domain, const char *id_org);

/* "none", "quarantine", "reject" or NULL for UNSET; static. */
SPFKIT_API const char *spfkit_dmarc_disp_name(spfkit_dmarc_disp d);
/* "found", "none" or "temperror"; static, never NULL. */
SPFKIT_API const char *spfkit_dmarc_status_name(spfkit_dmarc_status s);

/* Lints one DMARC record text (len octets, any bytes) on its own, with the
 * finding structure of SPF lint (spfkit_finding: severity, stable code,
 * RFC section, position, message, fix, and the exact replacement when the
 * fix quotes one, checked to parse as DMARC): the version, syntax, tag
 * values, removed tags (pct, rf, ri: RFC 9989 Appendix C), unknown tags,
 * reporting URIs, sp= on a record where it is ignored. domain (may be
 * NULL) is reported as the findings' domain. Returns SPFKIT_OK (findings
 * or not), SPFKIT_EINVAL or SPFKIT_ENOMEM. */
SPFKIT_API int spfkit_dmarc_lint_record(const spfkit_config *cfg,
					const char *domain, const char *text,
					size_t len, spfkit_finding_cb cb,
					void *ud);
/* Lints what a finished DMARC discovery saw: the record that applies (as
 * spfkit_dmarc_lint_record()), several records at one name, a TXT record
 * at _dmarc that is almost DMARC, no record at all, DNS failures. Returns
 * as spfkit_dmarc_lint_record(); SPFKIT_ESTATE before a discovery is
 * done. */
SPFKIT_API int spfkit_check_dmarc_lint(const spfkit_check *chk,
				       spfkit_finding_cb cb, void *ud);
/* The codes DMARC findings can have: the i-th (from 0), or NULL past the
 * last. Static strings, all starting "dmarc-". */
SPFKIT_API const char *spfkit_dmarc_lint_code(size_t i);

/* ---------------------------------------------------------------- srs */

/* The Sender Rewriting Scheme (Shevek's SRS paper, as libsrs2 and postsrsd
 * 1.x implement it): a forwarder rewrites the envelope sender into its own
 * domain, so the next receiver checks SPF against the forwarder, and only
 * genuine bounces, with a hash made with the forwarder's secret and a
 * recent timestamp, are turned back into the original address.
 *
 *   plain:  user@orig.example
 *   SRS0:   SRS0=HHHH=TT=orig.example=user@fwd.example
 *   SRS1:   SRS1=HHHH=fwd1.example==HHHH=TT=orig.example=user@fwd2.example
 *
 * HHHH is the base64 of HMAC-SHA1(secret, the fields lower-cased), cut to
 * the hash length (4); TT is the day number modulo 1024 in base32. The
 * character after SRS0/SRS1 is the separator ('=', '+' or '-'); the other
 * field separators are always '='. Hashes compare case-insensitively (some
 * MTAs lower-case local parts). Addresses are split at their last '@'.
 * Addresses this produces are accepted by postsrsd with the same secret,
 * and the other way round. Nothing here does I/O or reads the clock: the
 * caller passes the time. A set-up handle may serve several threads. */
typedef struct spfkit_srs spfkit_srs;

/* Secrets are octet strings of SPFKIT_SRS_SECRET_MIN to _MAX octets and no
 * NUL. Shorter ones are refused: an attacker who sees a few rewritten
 * addresses can test guesses offline. Longer ones are refused because
 * libsrs2 (postsrsd 1.x) derives its key from a longer secret in a way
 * that reads uninitialized memory, so postsrsd could not check our hashes
 * nor we theirs. postsrsd's Debian package generates 32 octets. */
#define SPFKIT_SRS_SECRET_MIN  16
#define SPFKIT_SRS_SECRET_MAX  64
#define SPFKIT_SRS_SECRETS_MAX 32 /* secrets per handle */
/* RFC 5321 §4.5.3.1: a forward whose result would be longer is refused. */
#define SPFKIT_SRS_LOCAL_MAX   64
#define SPFKIT_SRS_ADDRESS_MAX 254
/* Input longer than this is refused as too long (postsrsd's buffers hold
 * 1023 octets). */
#define SPFKIT_SRS_INPUT_MAX 1024

/* What a forward or reverse did, or why it did not (never an API error). */
typedef enum spfkit_srs_reason {
	SPFKIT_SRS_OK = 0,       /* rewritten: *out holds the address */
	SPFKIT_SRS_LOCAL_DOMAIN, /* forward: the sender's domain is the
				    forwarding domain; leave it as it is */
	SPFKIT_SRS_ALREADY,      /* forward: already a valid SRS address of
				    these secrets; leave it as it is */
	SPFKIT_SRS_NOT_SRS,      /* reverse: no SRS0/SRS1 local part */
	SPFKIT_SRS_BAD_ADDRESS,  /* forward: no '@', an empty local part or
				    domain, a control octet, or '=' in the
				    domain (it could not be reversed) */
	SPFKIT_SRS_MALFORMED,    /* an SRS local part whose fields do not
				    parse (hash, timestamp, domain, user) */
	SPFKIT_SRS_BAD_HASH,     /* the hash matches no secret: forged, or
				    signed with a secret not configured */
	SPFKIT_SRS_EXPIRED,      /* SRS0 timestamp older than the maximum age */
	SPFKIT_SRS_FUTURE,       /* SRS0 timestamp ahead of the clock */
	SPFKIT_SRS_TOO_LONG      /* forward: the result would exceed
				    SPFKIT_SRS_LOCAL_MAX or _ADDRESS_MAX;
				    either: input over SPFKIT_SRS_INPUT_MAX */
} spfkit_srs_reason;

/* A stable lower-case name ("ok", "local-domain", "already-srs",
 * "not-srs", "bad-address", "malformed", "bad-hash", "expired", "future",
 * "too-long") and a one-line English sentence; static, never NULL. */
SPFKIT_API const char *spfkit_srs_reason_name(spfkit_srs_reason r);
SPFKIT_API const char *spfkit_srs_reason_text(spfkit_srs_reason r);

/* Creates a handle without secrets; separator '=', maximum age 21 days,
 * hash length 4 (the defaults of libsrs2 and postsrsd). cfg (its
 * allocator; may be NULL for malloc/free) is borrowed until
 * spfkit_srs_free(). On success *out is the caller's. */
SPFKIT_API int spfkit_srs_new(spfkit_srs **out, const spfkit_config *cfg);
/* Wipes the secrets and frees the handle; NULL is fine. */
SPFKIT_API void spfkit_srs_free(spfkit_srs *srs);

/* Adds a secret (len octets, copied). The first one added signs; every
 * one verifies, in order (rotation: put the new secret first and keep the
 * old ones for as long as bounces may come back, the maximum age).
 * SPFKIT_EINVAL for a secret shorter than SPFKIT_SRS_SECRET_MIN, longer
 * than SPFKIT_SRS_SECRET_MAX or holding a NUL; SPFKIT_ETOOBIG past
 * SPFKIT_SRS_SECRETS_MAX secrets. */
SPFKIT_API int spfkit_srs_add_secret(spfkit_srs *srs, const void *secret,
				     size_t len);
/* Adds the secrets of a secrets file's text (len octets; postsrsd's
 * format): one secret per line, the first signs; a line ends at LF with
 * any CRs before it dropped; empty lines and lines starting with '#' are
 * skipped (postsrsd would take a '#' line as a secret; the secrets it
 * generates never start with one); nothing else is trimmed, spaces count,
 * as in postsrsd. All or nothing: on failure no secret was added and a
 * one-line message naming the line is written to err (errlen > 0).
 * SPFKIT_ENOENT when the text holds no secret, SPFKIT_EINVAL for a line
 * add_secret refuses or one with a control octet, SPFKIT_ETOOBIG for too
 * many secrets. */
SPFKIT_API int spfkit_srs_add_secrets(spfkit_srs *srs, const char *text,
				      size_t len, char *err, size_t errlen);
/* Secrets added so far. */
SPFKIT_API size_t spfkit_srs_secret_count(const spfkit_srs *srs);

/* An SRS0 address is valid for days (1 to 1022) days after the day it was
 * made (default 21). Timestamps count days modulo 1024, so an older one
 * comes round again after 1024 days, as in libsrs2. SPFKIT_EINVAL out of
 * range. */
SPFKIT_API int spfkit_srs_set_max_age(spfkit_srs *srs, unsigned days);
/* The separator forward writes after SRS0/SRS1: '=' (default), '+' or
 * '-' (reverse accepts all three whatever this is). SPFKIT_EINVAL for
 * anything else. */
SPFKIT_API int spfkit_srs_set_separator(spfkit_srs *srs, char sep);
/* Hash characters written and required (4 to 26, default 4; postsrsd
 * -n). A hash of another length never verifies, as in libsrs2. */
SPFKIT_API int spfkit_srs_set_hash_length(spfkit_srs *srs, unsigned len);

/* Rewrites the envelope sender (addr, len octets, any bytes) into domain
 * (NUL terminated, a host name; one trailing dot is dropped) at now_unix
 * (seconds since the epoch), as postsrsd does:
 *  - a valid SRS address of these secrets: SPFKIT_SRS_ALREADY;
 *  - a sender in domain (case-insensitive): SPFKIT_SRS_LOCAL_DOMAIN;
 *  - SRS0 local part: SRS1=HASH=its-domain=<after "SRS0">@domain;
 *  - SRS1 local part: SRS1=HASH=<its first domain>=<rest>@domain, with
 *    the hash made anew (a malformed one: SPFKIT_SRS_MALFORMED);
 *  - anything else: SRS0=HASH=TT=its-domain=its-local-part@domain.
 * Returns SPFKIT_OK with *why set: SPFKIT_SRS_OK and *out the new address
 * (NUL terminated; caller frees with spfkit_free(cfg, *out)), or another
 * reason and *out NULL. Errors: SPFKIT_EINVAL (NULL argument, unusable
 * domain), SPFKIT_ESTATE (no secret), SPFKIT_ENOMEM (out of memory, or
 * libcrypto failed). */
SPFKIT_API int spfkit_srs_forward(const spfkit_srs *srs, const char *addr,
				  size_t len, const char *domain,
				  uint64_t now_unix, char **out,
				  spfkit_srs_reason *why);

/* Turns an SRS address (addr, len octets, any bytes; the domain after the
 * last '@' is not looked at, as in libsrs2) back: SRS0 into the original
 * sender after checking its hash and timestamp against now_unix; SRS1
 * into the SRS0 address at the first forwarder (its hash checked; the
 * SRS0 one is that forwarder's business). Prefix and hash are
 * case-insensitive. Returns as spfkit_srs_forward(): SPFKIT_OK with *why
 * SPFKIT_SRS_OK and *out (caller frees with spfkit_free(cfg, *out)), or a
 * refusal in *why and *out NULL; SPFKIT_EINVAL, SPFKIT_ESTATE,
 * SPFKIT_ENOMEM. */
SPFKIT_API int spfkit_srs_reverse(const spfkit_srs *srs, const char *addr,
				  size_t len, uint64_t now_unix, char **out,
				  spfkit_srs_reason *why);

#ifdef __cplusplus
}
#endif
#endif /* SPFKIT_H */
