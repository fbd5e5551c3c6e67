/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_check.c - a whole check_host() through the public API, against a
 * zone and a DNS "server" that the fuzz input describes.
 *
 * The input is a small program (layout below): a header picks the client
 * IP, the identities and the settings; ops add records to an in-memory
 * zone (TXT with fuzzed text, A/AAAA/MX/PTR/CNAME, raw RDATA of any type,
 * malformed included, TIMEOUT names); after RUN, the rest drives the
 * sans-I/O loop: answer all pending queries from the zone, answer one
 * query directly with fuzzed RDATA and status, answer just one from the
 * zone, move the clock (past the deadline, backwards), or try bogus ids.
 * An allocator that fails the Nth allocation can be switched on.
 *
 * Checked (spfkit.h and DESIGN.md §3, §4): the loop ends within a bound;
 * WANT_DNS always comes with pending queries whose names are usable
 * domains without the trailing dot; past the deadline the next run is
 * DONE; the result and reason are valid and agree with each other; DNS
 * terms and void lookups stay within their limits + 1 (11 and 3 by
 * default) and going over is the reported reason; the number of queries
 * stays within what the limits allow; an explanation only for fail, one
 * printable line; both header fields build and hold only printable ASCII;
 * running again after DONE changes nothing; and, when every answer came
 * from the zone, the outcome equals spfkit_zone_check() on a fresh check,
 * and that of a check with prefetch switched the other way (all but the
 * number of queries); the DNSSEC status is valid, and unknown when every
 * answer came from the zone.
 *
 * Layout (fz_* readers: missing octets read as zero):
 *   ip sel, flags, flags2, sender sel [literal], helo sel [literal],
 *   [record override str16] [receiver str8] [default exp str16]
 *   [5 limit octets] [fail-at u16, sticky u8] [timestamp u32]
 *   [authserv-id str8]    (flags2: 1 authserv-id, 2 prefetch off)
 *   ops until RUN; then driver octets.
 */
#include "fuzz_common.h"
#include "internal.h"
#include "dns/zone.h"

static const char *const names[] = {
    "example.com",      "a.example",        "b.example",     "c.example",
    "mail.example.com", "_spf.example.com", "sub.a.example", "exp.example",
    "e.example",        "example.net",      "x.example.net", "mx.example.org",
};
#define NNAMES (sizeof names / sizeof names[0])

static const char *const ips[] = {
    "192.0.2.3",
    "1.2.3.4",
    "2001:db8::cb01",
    "::ffff:192.0.2.3",
    "0.0.0.0",
    "255.255.255.255",
    "::",
    "::1",
    "2001:db8::1",
    "10.0.0.1",
};
#define NIPS (sizeof ips / sizeof ips[0])

enum {
	F_HELO_SCOPE = 1,
	F_OVERRIDE = 2,
	F_RECEIVER = 4,
	F_DEFAULT_EXP = 8,
	F_LIMITS = 16,
	F_FAIL_ALLOC = 32,
	F_CLOCK_HIGH = 64,
	F_TIMESTAMP = 128,
};
enum { F2_AUTHSERV = 1, F2_NO_PREFETCH = 2 };

enum {
	OP_TXT,
	OP_SPF,
	OP_A,
	OP_AAAA,
	OP_MX,
	OP_PTR,
	OP_CNAME,
	OP_TIMEOUT,
	OP_RAW,
	OP_SELF,
	OP_RUN,
	OP_TYPE99,
	NOPS
};
enum {
	D_ZONE = 0,
	D_DIRECT = 4,
	D_ONE = 5,
	D_CLOCK = 6,
	D_BOGUS = 7,
	NDRIVERS = 8
};

/* Everything one run allocates, so it can be freed in one place. */
typedef struct ctx {
	fz_in in;
	spfkit__ip ip;
	char ipbuf[256];
	char rev[128]; /* the client's PTR query name */
	char lit[256]; /* a literal name */
	uint32_t limits[5];
} ctx;

/* A NUL-terminated copy of a literal (NULs inside cut it short). */
static const char *literal(ctx *c, char *dst, size_t cap)
{
	size_t n;
	const uint8_t *p = fz_str8(&c->in, &n);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return dst;
}

static const char *pick_name(ctx *c)
{
	unsigned sel = fz_u8(&c->in) % 16;
	if (sel < NNAMES)
		return names[sel];
	if (sel < 14)
		return c->rev;
	return literal(c, c->lit, sizeof c->lit);
}

/* Dotted text to an uncompressed wire name: empty labels dropped, labels
 * cut at 63 octets, the name stopped before 255 octets. */
static size_t to_wire(const char *s, unsigned char *w)
{
	size_t o = 0;
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);
		size_t k = l > 63 ? 63 : l;
		if (k && o + 1 + k + 1 <= 255) {
			w[o++] = (unsigned char)k;
			memcpy(w + o, s, k);
			o += k;
		}
		s += l + (d ? 1 : 0);
	}
	w[o++] = 0;
	return o;
}

/* TXT RDATA of text in character-strings of at most chunk octets. */
static void add_txt(spfkit_zone *z, const char *name, uint16_t type,
		    const char *pre, const uint8_t *p, size_t n, size_t chunk)
{
	size_t pl = strlen(pre), total = pl + n;
	unsigned char *rd = malloc(total + total / chunk + 2);
	unsigned char *txt = malloc(total + 1);
	if (!rd || !txt)
		abort();
	memcpy(txt, pre, pl);
	if (n)
		memcpy(txt + pl, p, n);
	size_t o = 0, i = 0;
	do {
		size_t k = total - i > chunk ? chunk : total - i;
		rd[o++] = (unsigned char)k;
		memcpy(rd + o, txt + i, k);
		o += k;
		i += k;
	} while (i < total);
	spfkit_zone_add(z, name, type, 300, rd, o);
	free(rd);
	free(txt);
}

static uint16_t pick_type(ctx *c)
{
	static const uint16_t t[] = {SPFKIT_TYPE_A,   SPFKIT_TYPE_AAAA,
				     SPFKIT_TYPE_MX,  SPFKIT_TYPE_PTR,
				     SPFKIT_TYPE_TXT, SPFKIT_TYPE_CNAME,
				     SPFKIT__TYPE_SPF};
	unsigned sel = fz_u8(&c->in) % 8;
	return sel < 7 ? t[sel] : fz_u16(&c->in);
}

/* Runs the ops that fill the zone, up to RUN or the end of the input. */
static void build_zone(ctx *c, spfkit_zone *z)
{
	unsigned char w[300];
	while (!fz_empty(&c->in)) {
		unsigned op = fz_u8(&c->in) % NOPS;
		const char *name;
		size_t n;
		const uint8_t *p;
		switch (op) {
		case OP_TXT:
		case OP_SPF:
		case OP_TYPE99: {
			name = pick_name(c);
			size_t chunk = 1 + fz_u8(&c->in) % 255;
			p = fz_str16(&c->in, &n);
			add_txt(z, name,
				op == OP_TYPE99 ? SPFKIT__TYPE_SPF
						: SPFKIT_TYPE_TXT,
				op == OP_SPF ? "v=spf1 " : "", p, n, chunk);
			break;
		}
		case OP_A:
		case OP_AAAA: {
			name = pick_name(c);
			size_t want = op == OP_A ? 4 : 16;
			p = fz_take(&c->in, want, &n);
			memset(w, 0, want);
			memcpy(w, p, n);
			spfkit_zone_add(z, name,
					op == OP_A ? SPFKIT_TYPE_A
						   : SPFKIT_TYPE_AAAA,
					300, w, want);
			break;
		}
		case OP_MX: {
			name = pick_name(c);
			char owner[256];
			snprintf(owner, sizeof owner, "%s", name);
			uint16_t pref = fz_u16(&c->in);
			w[0] = (unsigned char)(pref >> 8);
			w[1] = (unsigned char)pref;
			size_t k = to_wire(pick_name(c), w + 2);
			spfkit_zone_add(z, owner, SPFKIT_TYPE_MX, 300, w,
					k + 2);
			break;
		}
		case OP_PTR:
		case OP_CNAME: {
			name = pick_name(c);
			/* pick_name may reuse c->lit: copy the owner first. */
			char owner[256];
			snprintf(owner, sizeof owner, "%s", name);
			size_t k = to_wire(pick_name(c), w);
			spfkit_zone_add(z, owner,
					op == OP_PTR ? SPFKIT_TYPE_PTR
						     : SPFKIT_TYPE_CNAME,
					300, w, k);
			break;
		}
		case OP_TIMEOUT:
			spfkit_zone_add_timeout(z, pick_name(c));
			break;
		case OP_RAW: {
			name = pick_name(c);
			char owner[256];
			snprintf(owner, sizeof owner, "%s", name);
			uint16_t type = pick_type(c);
			p = fz_str16(&c->in, &n);
			spfkit_zone_add(z, owner, type, 300, p, n);
			break;
		}
		case OP_SELF:
			name = pick_name(c);
			spfkit_zone_add(z, name,
					c->ip.family == 4 ? SPFKIT_TYPE_A
							  : SPFKIT_TYPE_AAAA,
					300, c->ip.a,
					c->ip.family == 4 ? 4 : 16);
			break;
		default: /* OP_RUN */ return;
		}
	}
}

/* Answers pending query i from the zone through the lookup layer. */
static int answer_one(const spfkit_zone *z, spfkit_check *chk, size_t i)
{
	unsigned id;
	const char *name;
	uint16_t type;
	if (spfkit_check_query(chk, i, &id, &name, &type) != SPFKIT_OK)
		return SPFKIT_ENOENT;
	spfkit__zone_answer ans;
	int rc = spfkit__zone_lookup(z, name, type, &ans);
	if (rc != SPFKIT_OK)
		return rc;
	/* As spfkit_zone_answer() does: a failure says why. */
	rc = ans.status == SPFKIT_DNS_TEMPFAIL
		 ? spfkit_check_answer_failure(chk, id, ans.failure)
		 : spfkit_check_answer(chk, id, ans.status, ans.rrs, ans.n);
	spfkit__zone_answer_free(z, &ans);
	return rc;
}

/* When memory runs out, a driver can still say "timeout" without
 * allocating: every pending query gets TEMPFAIL. */
static void answer_tempfail(spfkit_check *chk)
{
	unsigned id;
	while (spfkit_check_query(chk, 0, &id, NULL, NULL) == SPFKIT_OK) {
		int rc =
		    spfkit_check_answer(chk, id, SPFKIT_DNS_TEMPFAIL, NULL, 0);
		FZ_ASSERT(rc == SPFKIT_OK,
			  "TEMPFAIL answer without records: %d", rc);
	}
}

static void answer_direct(ctx *c, spfkit_check *chk)
{
	size_t np = spfkit_check_pending(chk);
	unsigned id;
	FZ_ASSERT(spfkit_check_query(chk, fz_u8(&c->in) % np, &id, NULL,
				     NULL) == SPFKIT_OK,
		  "query i < pending");
	unsigned st = fz_u8(&c->in) % 4;
	size_t nrr = fz_u8(&c->in) % 4;
	spfkit_rr rrs[3];
	for (size_t i = 0; i < nrr; i++) {
		rrs[i].type = pick_type(c);
		rrs[i].ttl = 300;
		rrs[i].rdata = fz_str16(&c->in, &rrs[i].rdlen);
	}
	spfkit_dnssec sec = (spfkit_dnssec)(fz_u8(&c->in) % 4);
	int rc = spfkit_check_answer_dnssec(
	    chk, id, st == 3 ? (spfkit_dns_status)7 : (spfkit_dns_status)st,
	    nrr ? rrs : NULL, nrr, sec);
	if (st == 3)
		FZ_ASSERT(rc == SPFKIT_EINVAL, "bad status accepted: %d", rc);
	else
		FZ_ASSERT(rc == SPFKIT_OK || rc == SPFKIT_ENOMEM, "answer %d",
			  rc);
}

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The reasons each result may come with (spfkit.h's enum comments). */
static bool reason_fits(spfkit_result r, spfkit_reason why)
{
	switch (r) {
	case SPFKIT_RESULT_PASS:
	case SPFKIT_RESULT_FAIL:
	case SPFKIT_RESULT_SOFTFAIL: return why == SPFKIT_REASON_MECHANISM;
	case SPFKIT_RESULT_NEUTRAL:
		return why == SPFKIT_REASON_MECHANISM ||
		       why == SPFKIT_REASON_DEFAULT;
	case SPFKIT_RESULT_NONE:
		return why == SPFKIT_REASON_MALFORMED_DOMAIN ||
		       why == SPFKIT_REASON_NO_RECORD;
	case SPFKIT_RESULT_TEMPERROR:
		return why == SPFKIT_REASON_DNS_ERROR ||
		       why == SPFKIT_REASON_DEADLINE ||
		       why == SPFKIT_REASON_INTERNAL;
	case SPFKIT_RESULT_PERMERROR:
		return why == SPFKIT_REASON_MULTIPLE_RECORDS ||
		       why == SPFKIT_REASON_SYNTAX ||
		       why == SPFKIT_REASON_LOOKUP_LIMIT ||
		       why == SPFKIT_REASON_VOID_LIMIT ||
		       why == SPFKIT_REASON_MX_LIMIT ||
		       why == SPFKIT_REASON_INCLUDE_NONE ||
		       why == SPFKIT_REASON_REDIRECT_NONE ||
		       why == SPFKIT_REASON_BAD_TARGET ||
		       why == SPFKIT_REASON_LOOP;
	default: return false;
	}
}

static void check_headers(const spfkit_config *cfg, const spfkit_check *chk,
			  const char *authserv, bool oom_possible)
{
	static const char *const prefix[] = {"Received-SPF: ",
					     "Authentication-Results: "};
	for (int k = 0; k < 2; k++) {
		char *h = (char *)1;
		int rc =
		    spfkit_check_header(chk, (spfkit_header)k, authserv, &h);
		if (k == 1 && authserv[0] == '\0') {
			/* RFC 8601 §2.5: an authserv-id is required. */
			FZ_ASSERT(rc == SPFKIT_EINVAL && h == NULL,
				  "empty authserv-id: %d", rc);
			continue;
		}
		if (rc == SPFKIT_ENOMEM && oom_possible) {
			FZ_ASSERT(h == NULL, "*out set on failure");
			continue;
		}
		FZ_ASSERT(rc == SPFKIT_OK && h != NULL, "header %d: %d", k, rc);
		FZ_ASSERT(strncmp(h, prefix[k], strlen(prefix[k])) == 0,
			  "header %d starts \"%.30s\"", k, h);
		FZ_ASSERT(fz_printable(h),
			  "header %d: control or 8-bit octet "
			  "in \"%s\"",
			  k, h);
		FZ_ASSERT(strlen(h) <= 4096, "header %d: %zu octets", k,
			  strlen(h));
		spfkit_free(cfg, h);
	}
	char *h = (char *)1;
	FZ_ASSERT(spfkit_check_header(chk, SPFKIT_HEADER_AUTHENTICATION_RESULTS,
				      NULL, &h) == SPFKIT_EINVAL &&
		      h == NULL,
		  "Authentication-Results without authserv-id");
}

/* The settings a config is made from, so the oracle can make a second
 * one that differs only in prefetch. */
typedef struct settings {
	bool has_receiver;
	char receiver[256];
	char *defexp;
	uint32_t limits[5];
} settings;

static spfkit_config *make_config(const settings *st, const spfkit_allocator *a,
				  bool prefetch)
{
	spfkit_config *cfg = NULL;
	if (spfkit_config_new(&cfg, a))
		abort();
	if (st->has_receiver)
		FZ_ASSERT(spfkit_config_set_receiver(cfg, st->receiver) ==
			      (strlen(st->receiver) > 253 ? SPFKIT_EINVAL
							  : SPFKIT_OK),
			  "receiver");
	if (st->defexp) {
		int rc = spfkit_config_set_default_explanation(cfg, st->defexp);
		FZ_ASSERT(rc == SPFKIT_OK || rc == SPFKIT_EPARSE,
			  "default exp %d", rc);
	}
	for (int i = 0; i < 5; i++)
		FZ_ASSERT(spfkit_config_set_limit(cfg, (spfkit_limit)i,
						  st->limits[i]) == SPFKIT_OK,
			  "limit %d", i);
	FZ_ASSERT(spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DNS_TERMS, 0) ==
		      SPFKIT_EINVAL,
		  "limit 0 accepted");
	FZ_ASSERT(spfkit_config_set_prefetch(cfg, prefetch) == SPFKIT_OK,
		  "prefetch");
	return cfg;
}

/* The outcome of a finished check, for comparing two of them. */
static void same_outcome(const spfkit_check *a, const spfkit_check *b,
			 bool same_queries, const char *what)
{
	FZ_ASSERT(spfkit_check_result(a) == spfkit_check_result(b) &&
		      spfkit_check_reason(a) == spfkit_check_reason(b),
		  "%s: %s/%s, loop: %s/%s", what,
		  spfkit_result_name(spfkit_check_result(b)),
		  spfkit_reason_name(spfkit_check_reason(b)),
		  spfkit_result_name(spfkit_check_result(a)),
		  spfkit_reason_name(spfkit_check_reason(a)));
	FZ_ASSERT(spfkit_check_lookups(a) == spfkit_check_lookups(b) &&
		      spfkit_check_void_lookups(a) ==
			  spfkit_check_void_lookups(b),
		  "%s: counters %u/%u, loop %u/%u", what,
		  spfkit_check_lookups(b), spfkit_check_void_lookups(b),
		  spfkit_check_lookups(a), spfkit_check_void_lookups(a));
	if (same_queries)
		FZ_ASSERT(spfkit_check_queries(a) == spfkit_check_queries(b),
			  "%s: %u queries, loop %u", what,
			  spfkit_check_queries(b), spfkit_check_queries(a));
	FZ_ASSERT(
	    str_eq(spfkit_check_explanation(a), spfkit_check_explanation(b)),
	    "%s: explanation \"%s\", loop \"%s\"", what,
	    spfkit_check_explanation(b), spfkit_check_explanation(a));
	FZ_ASSERT(str_eq(spfkit_check_mechanism(a), spfkit_check_mechanism(b)),
		  "%s: mechanism \"%s\", loop \"%s\"", what,
		  spfkit_check_mechanism(b), spfkit_check_mechanism(a));
	FZ_ASSERT(str_eq(spfkit_check_where(a), spfkit_check_where(b)),
		  "%s: where \"%s\", loop \"%s\"", what, spfkit_check_where(b),
		  spfkit_check_where(a));
	FZ_ASSERT(str_eq(spfkit_check_problem(a), spfkit_check_problem(b)),
		  "%s: problem \"%s\", loop \"%s\"", what,
		  spfkit_check_problem(b), spfkit_check_problem(a));
}

/* Sets up a check with the header's identities; false when it cannot be
 * (out of memory before the allocator is armed does not happen). */
static spfkit_check *new_check(const spfkit_config *cfg, const char *ip,
			       const uint8_t *sender, size_t sender_len,
			       const uint8_t *helo, size_t helo_len,
			       bool helo_scope, const uint8_t *rec,
			       size_t rec_len, bool override, bool stamp,
			       uint32_t ts)
{
	spfkit_check *chk = NULL;
	if (spfkit_check_new(&chk, cfg) != SPFKIT_OK)
		abort();
	FZ_ASSERT(spfkit_check_set_ip(chk, ip) == SPFKIT_OK, "ip %s", ip);
	FZ_ASSERT(spfkit_check_set_sender(chk, (const char *)sender,
					  sender_len) == SPFKIT_OK,
		  "sender");
	FZ_ASSERT(spfkit_check_set_helo(chk, (const char *)helo, helo_len) ==
		      SPFKIT_OK,
		  "helo");
	if (helo_scope)
		spfkit_check_set_scope(chk, SPFKIT_SCOPE_HELO);
	if (override)
		FZ_ASSERT(spfkit_check_set_record(chk, (const char *)rec,
						  rec_len) == SPFKIT_OK,
			  "override");
	if (stamp)
		spfkit_check_set_timestamp(chk, ts);
	return chk;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ctx c;
	memset(&c, 0, sizeof c);
	c.in.p = data;
	c.in.n = size;

	/* The header. */
	unsigned ipsel = fz_u8(&c.in) % 16;
	const char *ip =
	    ipsel < NIPS ? ips[ipsel] : literal(&c, c.ipbuf, sizeof c.ipbuf);
	if (!spfkit__ip_parse(ip, strlen(ip), &c.ip)) {
		ip = ips[0];
		spfkit__ip_parse(ip, strlen(ip), &c.ip);
	}
	uint8_t flags = fz_u8(&c.in), flags2 = fz_u8(&c.in);
	spfkit__buf rb;
	spfkit__buf_init(&rb, spfkit__default_alloc(), sizeof c.rev - 1);
	spfkit__ip_reverse_name(&c.ip, &rb);
	FZ_ASSERT(rb.err == SPFKIT_OK, "reverse name");
	memcpy(c.rev, rb.data, rb.len + 1);
	spfkit__buf_free(&rb);

	char sender_buf[300];
	const uint8_t *sender;
	size_t sender_len;
	unsigned ssel = fz_u8(&c.in) % 16;
	if (ssel < NNAMES) {
		snprintf(sender_buf, sizeof sender_buf, "user@%s", names[ssel]);
		sender = (const uint8_t *)sender_buf;
		sender_len = strlen(sender_buf);
	} else if (ssel == 12 || ssel == 13) {
		sender = (const uint8_t *)(ssel == 12 ? "" : "<>");
		sender_len = ssel == 12 ? 0 : 2;
	} else {
		sender = fz_str16(&c.in, &sender_len);
	}
	const uint8_t *helo;
	size_t helo_len;
	unsigned hsel = fz_u8(&c.in) % 16;
	if (hsel < NNAMES) {
		helo = (const uint8_t *)names[hsel];
		helo_len = strlen(names[hsel]);
	} else if (hsel == 12 || hsel == 13) {
		helo = (const uint8_t *)(hsel == 12 ? "" : "[192.0.2.3]");
		helo_len = hsel == 12 ? 0 : 11;
	} else {
		helo = fz_str16(&c.in, &helo_len);
	}
	const uint8_t *rec = NULL;
	size_t rec_len = 0;
	if (flags & F_OVERRIDE)
		rec = fz_str16(&c.in, &rec_len);
	settings set = {false, "", NULL, {10, 2, 10, 10, 20000}};
	set.has_receiver = flags & F_RECEIVER;
	if (set.has_receiver)
		literal(&c, set.receiver, sizeof set.receiver);
	if (flags & F_DEFAULT_EXP) {
		size_t n;
		const uint8_t *p = fz_str16(&c.in, &n);
		set.defexp = malloc(n + 1);
		if (!set.defexp)
			abort();
		memcpy(set.defexp, p, n);
		set.defexp[n] = '\0';
	}
	uint32_t *limits = set.limits;
	if (flags & F_LIMITS)
		for (int i = 0; i < 5; i++) {
			uint8_t v = fz_u8(&c.in);
			if (v)
				limits[i] =
				    i == 4 ? (uint32_t)v * 1000u : 1u + v % 20u;
		}
	fz_alloc_state st = {0, 0, false, false};
	unsigned long fail_at = 0;
	bool sticky = false;
	if (flags & F_FAIL_ALLOC) {
		fail_at = 1 + fz_u16(&c.in) % 2000;
		sticky = fz_u8(&c.in) & 1;
	}
	uint32_t ts = (flags & F_TIMESTAMP) ? fz_u32(&c.in) : 0;
	char authserv[256] = "mx.example";
	if (flags2 & F2_AUTHSERV)
		literal(&c, authserv, sizeof authserv);

	/* Config and zone, with the counting allocator (not armed yet). */
	bool prefetch = !(flags2 & F2_NO_PREFETCH);
	spfkit_allocator fa = fz_allocator(&st);
	spfkit_config *cfg = make_config(&set, &fa, prefetch);
	spfkit_zone *zone = NULL;
	if (spfkit_zone_new(&zone, cfg))
		abort();
	build_zone(&c, zone);

	spfkit_check *chk = new_check(
	    cfg, ip, sender, sender_len, helo, helo_len, flags & F_HELO_SCOPE,
	    rec, rec_len, flags & F_OVERRIDE, flags & F_TIMESTAMP, ts);
	FZ_ASSERT(spfkit_check_set_userdata(chk, &c) == SPFKIT_OK, "userdata");

	/* The loop. */
	uint64_t now = (flags & F_CLOCK_HIGH) ? UINT64_MAX - 30000 : 1000;
	const uint64_t t0 = now;
	const uint64_t deadline = limits[4];
	bool pure = !(flags & F_FAIL_ALLOC);
	st.count = 0;
	st.fail_at = fail_at;
	st.sticky = sticky;
	size_t iter = 0;
	int rc;
	for (;;) {
		FZ_ASSERT(++iter <= size + 10000, "the loop does not end");
		rc = spfkit_check_run(chk, now);
		FZ_ASSERT(rc == SPFKIT_DONE || rc == SPFKIT_WANT_DNS, "run %d",
			  rc);
		if (now >= t0 && now - t0 >= deadline)
			FZ_ASSERT(rc == SPFKIT_DONE, "past the deadline, still "
						     "running");
		if (rc == SPFKIT_DONE)
			break;
		size_t np = spfkit_check_pending(chk);
		FZ_ASSERT(np > 0, "WANT_DNS with nothing pending");
		for (size_t i = 0; i < np; i++) {
			const char *qn = NULL;
			uint16_t qt = 0;
			unsigned qid = 0;
			FZ_ASSERT(spfkit_check_query(chk, i, &qid, &qn, &qt) ==
				      SPFKIT_OK,
				  "query %zu of %zu", i, np);
			size_t ql = strlen(qn);
			FZ_ASSERT(spfkit__domain_ok(qn, ql) &&
				      qn[ql - 1] != '.',
				  "query name \"%s\"", qn);
			FZ_ASSERT(
			    qt == SPFKIT_TYPE_A || qt == SPFKIT_TYPE_AAAA ||
				qt == SPFKIT_TYPE_MX || qt == SPFKIT_TYPE_PTR ||
				qt == SPFKIT_TYPE_TXT,
			    "query type %u", qt);
		}
		FZ_ASSERT(spfkit_check_query(chk, np, NULL, NULL, NULL) ==
			      SPFKIT_ENOENT,
			  "query past the pending ones");
		unsigned d = fz_empty(&c.in) ? D_ZONE : fz_u8(&c.in) % NDRIVERS;
		if (d == D_DIRECT) {
			pure = false;
			answer_direct(&c, chk);
		} else if (d == D_ONE) {
			int r1 = answer_one(zone, chk, fz_u8(&c.in) % np);
			FZ_ASSERT(r1 == SPFKIT_OK || r1 == SPFKIT_ENOMEM,
				  "answer one %d", r1);
		} else if (d == D_CLOCK) {
			pure = false;
			static const uint64_t steps[] = {1, 19999, 20000, 20001,
							 (uint64_t)1 << 40};
			unsigned s = fz_u8(&c.in) % 7;
			if (s < 5)
				now += steps[s];
			else if (s == 5)
				now += deadline;
			else
				now -= 5000;
		} else {
			if (d == D_BOGUS) {
				FZ_ASSERT(spfkit_check_answer(
					      chk, 0, SPFKIT_DNS_NOERROR, NULL,
					      0) == SPFKIT_ENOENT,
					  "id 0");
				FZ_ASSERT(spfkit_check_answer(
					      chk,
					      spfkit_check_queries(chk) + 1,
					      SPFKIT_DNS_NOERROR, NULL,
					      0) == SPFKIT_ENOENT,
					  "id past the last");
			}
			int r2 = spfkit_zone_answer(zone, chk);
			if (r2 == SPFKIT_ENOMEM)
				answer_tempfail(chk);
			else
				FZ_ASSERT(r2 == SPFKIT_OK, "zone answer %d",
					  r2);
		}
	}

	/* The result. */
	bool oom = st.failed;
	spfkit_result r = spfkit_check_result(chk);
	spfkit_reason why = spfkit_check_reason(chk);
	FZ_ASSERT(r >= SPFKIT_RESULT_NONE && r <= SPFKIT_RESULT_PERMERROR,
		  "result %d", r);
	FZ_ASSERT(why > SPFKIT_REASON_NONE && why <= SPFKIT_REASON_LOOP,
		  "reason %d", why);
	FZ_ASSERT(reason_fits(r, why), "result %s with reason %s",
		  spfkit_result_name(r), spfkit_reason_name(why));
	if (why == SPFKIT_REASON_INTERNAL)
		FZ_ASSERT(oom, "internal without a failed allocation");
	unsigned lookups = spfkit_check_lookups(chk);
	unsigned voids = spfkit_check_void_lookups(chk);
	FZ_ASSERT(lookups <= limits[0] + 1, "%u DNS terms, limit %u", lookups,
		  limits[0]);
	FZ_ASSERT(voids <= limits[1] + 1, "%u void lookups, limit %u", voids,
		  limits[1]);
	if (lookups > limits[0])
		FZ_ASSERT(why == SPFKIT_REASON_LOOKUP_LIMIT ||
			      why == SPFKIT_REASON_INTERNAL,
			  "over the term limit, reason %s",
			  spfkit_reason_name(why));
	if (voids > limits[1])
		FZ_ASSERT(why == SPFKIT_REASON_VOID_LIMIT ||
			      why == SPFKIT_REASON_INTERNAL,
			  "over the void limit, reason %s",
			  spfkit_reason_name(why));
	unsigned long names_per = limits[2] > limits[3] ? limits[2] : limits[3];
	unsigned long qmax = 2 + limits[0] * (1 + names_per) + 1 + limits[3];
	/* Prefetch asks, per record, for at most the terms the budget still
	 * allows, and every record past the first cost a term. */
	if (prefetch)
		qmax += (unsigned long)limits[0] * (limits[0] + 1) / 2;
	FZ_ASSERT(spfkit_check_queries(chk) <= qmax, "%u queries, bound %lu",
		  spfkit_check_queries(chk), qmax);
	const char *expl = spfkit_check_explanation(chk);
	if (r != SPFKIT_RESULT_FAIL)
		FZ_ASSERT(expl == NULL, "explanation for %s",
			  spfkit_result_name(r));
	else if (!oom)
		FZ_ASSERT(expl != NULL, "fail without an explanation");
	if (expl)
		FZ_ASSERT(fz_printable(expl) && strlen(expl) <= 2048,
			  "explanation \"%s\"", expl);
	if (why == SPFKIT_REASON_MECHANISM && !oom)
		FZ_ASSERT(spfkit_check_mechanism(chk) != NULL, "no mechanism");
	if (why != SPFKIT_REASON_MECHANISM)
		FZ_ASSERT(spfkit_check_mechanism(chk) == NULL, "mechanism set");
	/* One-line texts: no control characters (8-bit octets of a name
	 * may pass); the mechanism is a term, printable ASCII. */
	const char *prob = spfkit_check_problem(chk);
	if (prob)
		FZ_ASSERT(strlen(prob) < 4096 && fz_one_line(prob),
			  "problem \"%s\"", prob);
	const char *where = spfkit_check_where(chk);
	if (where)
		FZ_ASSERT(fz_one_line(where), "where \"%s\"", where);
	const char *mech = spfkit_check_mechanism(chk);
	if (mech)
		FZ_ASSERT(fz_printable(mech) && mech[0] != '\0',
			  "mechanism \"%s\"", mech);
	FZ_ASSERT(spfkit_result_name(r) && spfkit_reason_name(why) &&
		      spfkit_check_identity(chk) && spfkit_check_sender(chk) &&
		      spfkit_check_domain(chk) && spfkit_check_ip(chk),
		  "NULL string");
	spfkit_dnssec sec = spfkit_check_dnssec(chk);
	FZ_ASSERT(sec >= SPFKIT_DNSSEC_UNKNOWN && sec <= SPFKIT_DNSSEC_BOGUS &&
		      spfkit_dnssec_name(sec) != NULL,
		  "dnssec %d", sec);
	if (pure)
		FZ_ASSERT(sec == SPFKIT_DNSSEC_UNKNOWN, "dnssec %s from a zone",
			  spfkit_dnssec_name(sec));
	FZ_ASSERT(spfkit_check_userdata(chk) == &c, "userdata");
	check_headers(cfg, chk, authserv, fail_at != 0);

	/* Done is done. */
	FZ_ASSERT(spfkit_check_run(chk, now + 1) == SPFKIT_DONE &&
		      spfkit_check_result(chk) == r &&
		      spfkit_check_reason(chk) == why,
		  "run after DONE");
	st.fail_at = 0;

	/* Answers from the zone alone: the library's own loop agrees, and
	 * so does a check with prefetch switched the other way (spfkit.h:
	 * "results, counters and explanations are identical either way";
	 * only the number of queries may differ). With prefetch on, what is
	 * asked ahead depends on which answers arrived while the check
	 * waited (this loop answers one query at a time, the zone all at
	 * once), so the number of queries is compared with it off only. */
	if (pure) {
		spfkit_check *c2 =
		    new_check(cfg, ip, sender, sender_len, helo, helo_len,
			      flags & F_HELO_SCOPE, rec, rec_len,
			      flags & F_OVERRIDE, flags & F_TIMESTAMP, ts);
		FZ_ASSERT(spfkit_zone_check(zone, c2, t0) == SPFKIT_OK,
			  "zone_check");
		same_outcome(chk, c2, !prefetch, "zone_check");
		spfkit_check_free(c2);

		spfkit_config *other = make_config(&set, NULL, !prefetch);
		spfkit_check *c3 =
		    new_check(other, ip, sender, sender_len, helo, helo_len,
			      flags & F_HELO_SCOPE, rec, rec_len,
			      flags & F_OVERRIDE, flags & F_TIMESTAMP, ts);
		FZ_ASSERT(spfkit_zone_check(zone, c3, t0) == SPFKIT_OK,
			  "zone_check");
		same_outcome(chk, c3, false,
			     prefetch ? "prefetch off" : "prefetch on");
		spfkit_check_free(c3);
		spfkit_config_free(other);
	}

	spfkit_check_free(chk);
	spfkit_zone_free(zone);
	spfkit_config_free(cfg);
	free(set.defexp);
	return 0;
}
