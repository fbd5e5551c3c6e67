/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_macro.c - macro-strings (RFC 7208 §7): spfkit__macro_check(),
 * spfkit__macro_uses_p() and spfkit__macro_expand() in both contexts, with
 * hostile values (8-bit, NUL, long) and output caps of every size. This is
 * where libspf2's CVEs were, so the target checks the documented results
 * exactly rather than "did not crash":
 *   - expand gives SPFKIT_EPARSE exactly when check does, and then leaves
 *     out unchanged; otherwise OK, or out's ETOOBIG / ENOMEM;
 *   - a valid domain-spec is a valid explanation, and expands in the
 *     explanation context to the untruncated text (no c, r, t, SP in it);
 *   - the domain result is the §7.3 left truncation of that text, computed
 *     here over the whole text (the library keeps a window): the longest
 *     suffix that starts a label and fits 253 octets (a trailing dot not
 *     counted), else the last 254 octets (+ dot), which spfkit__domain_ok()
 *     rejects; so never more than 255 octets;
 *   - under a cap: OK exactly when the result fits, and what was written is
 *     a prefix of the full result (appended after what out held);
 *   - a failed allocation gives SPFKIT_ENOMEM;
 *   - uses_p tells whether the value of %{p} shows in the expansion.
 *
 * Input layout: ip selector, cap selector, flags, time selector; then six
 * values (local part, sender domain, current domain, HELO, PTR name,
 * receiver), each [len][repeat][len octets] standing for the octets
 * repeated 1 + repeat times (at most 4096 octets); the rest of the input
 * is the macro-string.
 */
#include "fuzz_common.h"
#include "internal.h"

#define VALUE_MAX  4096
#define REF_CAP    (1u << 20) /* untruncated reference expansions */
#define DOMAIN_MAX 253

static const char *const ips[] = {
    "192.0.2.3",        "0.0.0.0", "255.255.255.255",
    "2001:db8::cb01",   "::",      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "::ffff:192.0.2.1", "fe80::1", "1.2.3.4",
};
static const size_t caps[] = {0,   1,   2,   7,    16,   63,    64,      253,
			      254, 255, 256, 1000, 4096, 65536, SIZE_MAX};
static const uint64_t times[] = {0, 1, 1234567890, UINT32_MAX, UINT64_MAX};

/* A value: the octets repeated, copied into storage that lives for the
 * run. NULL view when flagged absent. */
static char *value(fz_in *in, size_t *len)
{
	size_t n;
	const uint8_t *p = fz_str8(in, &n);
	size_t rep = 1 + (size_t)fz_u8(in);
	size_t total = n * rep > VALUE_MAX ? VALUE_MAX : n * rep;
	char *v = malloc(total + 1);
	if (!v)
		abort();
	for (size_t i = 0; i < total; i++)
		v[i] = (char)p[i % n];
	*len = total;
	return v;
}

/* Expands s into a fresh buffer holding pre first; returns the status and
 * leaves the buffer to the caller. */
static int run(const spfkit__macro_env *env, const char *s, size_t n,
	       spfkit__macro_ctx ctx, size_t cap, const char *pre,
	       size_t pre_len, const spfkit__alloc *a, spfkit__buf *b)
{
	spfkit__buf_init(b, a, cap);
	if (pre_len)
		spfkit__buf_add(b, pre, pre_len);
	return spfkit__macro_expand(env, s, n, ctx, b);
}

/* §7.3 over the whole text, as test_macro.c's reference does. */
static void truncate_ref(const char *s, size_t n, size_t *off, size_t *len)
{
	size_t limit = DOMAIN_MAX + (n > 0 && s[n - 1] == '.');
	if (n <= limit) {
		*off = 0;
		*len = n;
		return;
	}
	for (size_t i = n - limit; i < n; i++) {
		if (s[i - 1] == '.') {
			*off = i;
			*len = n - i;
			return;
		}
	}
	*off = n - (limit + 1);
	*len = limit + 1;
}

static bool same(const spfkit__buf *b, const char *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = {data, size};
	const spfkit__alloc *a = spfkit__default_alloc();
	spfkit__ip ip;
	const char *ipt = ips[fz_u8(&in) % (sizeof ips / sizeof ips[0])];
	if (!spfkit__ip_parse(ipt, strlen(ipt), &ip))
		abort();
	size_t cap = caps[fz_u8(&in) % (sizeof caps / sizeof caps[0])];
	uint8_t flags = fz_u8(&in);
	uint64_t now = times[fz_u8(&in) % (sizeof times / sizeof times[0])];

	size_t llen, dlen, cdlen, hlen, plen, rlen;
	char *local = value(&in, &llen);
	char *sdom = value(&in, &dlen);
	char *dom = value(&in, &cdlen);
	char *helo = value(&in, &hlen);
	char *ptr = value(&in, &plen);
	char *recv = value(&in, &rlen);
	size_t n;
	const char *s = (const char *)fz_rest(&in, &n);

	/* <sender> is local "@" domain, as the evaluator builds it. */
	char *sender = malloc(llen + 1 + dlen + 1);
	if (!sender)
		abort();
	memcpy(sender, local, llen);
	sender[llen] = '@';
	memcpy(sender + llen + 1, sdom, dlen);

	spfkit__macro_env env;
	memset(&env, 0, sizeof env);
	env.sender = sender;
	env.sender_len = llen + 1 + dlen;
	env.local = sender;
	env.local_len = llen;
	env.sdomain = sender + llen + 1;
	env.sdomain_len = dlen;
	env.domain = dom;
	env.domain_len = cdlen;
	env.helo = (flags & 1) ? NULL : helo;
	env.helo_len = hlen;
	env.ptr = (flags & 2) ? NULL : ptr;
	env.ptr_len = plen;
	env.receiver = (flags & 4) ? NULL : recv;
	env.receiver_len = rlen;
	env.ip = &ip;
	env.now = now;
	const char *pre = (flags & 8) ? "prefix:" : "";
	size_t pre_len = strlen(pre);

	/* Syntax. */
	size_t eposd = SIZE_MAX, eposx = SIZE_MAX;
	int ckd = spfkit__macro_check(s, n, SPFKIT__MACRO_DOMAIN, &eposd);
	int ckx = spfkit__macro_check(s, n, SPFKIT__MACRO_EXPLAIN, &eposx);
	FZ_ASSERT(ckd == SPFKIT_OK || (ckd == SPFKIT_EPARSE && eposd < n),
		  "domain check %d at %zu", ckd, eposd);
	FZ_ASSERT(ckx == SPFKIT_OK || (ckx == SPFKIT_EPARSE && eposx < n),
		  "explain check %d at %zu", ckx, eposx);
	FZ_ASSERT(ckd != SPFKIT_OK || ckx == SPFKIT_OK,
		  "valid domain-spec, invalid explanation");
	if (ckd && ckx)
		FZ_ASSERT(eposd <= eposx, "domain error after explain error");

	/* The untruncated explanation-context expansion: the reference. */
	spfkit__buf full;
	int rcx =
	    run(&env, s, n, SPFKIT__MACRO_EXPLAIN, REF_CAP, "", 0, a, &full);
	if (ckx) {
		FZ_ASSERT(rcx == SPFKIT_EPARSE && full.len == 0,
			  "explain expand %d on a syntax error", rcx);
	} else {
		FZ_ASSERT(rcx == SPFKIT_OK || rcx == SPFKIT_ETOOBIG,
			  "explain expand %d", rcx);
		FZ_ASSERT(full.len <= REF_CAP, "over the reference cap");
	}
	bool have_full = ckx == SPFKIT_OK && rcx == SPFKIT_OK;

	/* The domain result without a cap. */
	spfkit__buf dres;
	int rcd =
	    run(&env, s, n, SPFKIT__MACRO_DOMAIN, SIZE_MAX, "", 0, a, &dres);
	if (ckd) {
		FZ_ASSERT(rcd == SPFKIT_EPARSE && dres.len == 0,
			  "domain expand %d on a syntax error", rcd);
	} else {
		FZ_ASSERT(rcd == SPFKIT_OK, "domain expand %d", rcd);
		FZ_ASSERT(dres.len <= DOMAIN_MAX + 2,
			  "domain result %zu octets", dres.len);
		size_t lim =
		    DOMAIN_MAX + (dres.len && dres.data[dres.len - 1] == '.');
		if (dres.len > lim) {
			/* No label fits: the fallback, which no check accepts.
			 */
			FZ_ASSERT(dres.len == lim + 1, "fallback length %zu",
				  dres.len);
			FZ_ASSERT(memchr(dres.data, '.', lim) == NULL,
				  "fallback holds a label boundary");
			FZ_ASSERT(!spfkit__domain_ok(dres.data, dres.len),
				  "fallback passes domain_ok");
		}
		if (have_full) {
			size_t off, len;
			const char *fd = full.data ? full.data : "";
			truncate_ref(fd, full.len, &off, &len);
			FZ_ASSERT(
			    same(&dres, fd + off, len),
			    "domain result (%zu octets) is not the §7.3 "
			    "truncation of the %zu-octet text (%zu at %zu)",
			    dres.len, full.len, len, off);
		}
	}

	/* Under the selected cap, after an optional prefix. */
	for (int ctx = 0; ctx < 2; ctx++) {
		spfkit__buf b;
		int rc = run(&env, s, n, (spfkit__macro_ctx)ctx, cap, pre,
			     pre_len, a, &b);
		const spfkit__buf *ref = ctx == 0 ? &dres : &full;
		bool ref_ok = ctx == 0 ? (ckd == SPFKIT_OK) : have_full;
		int ck = ctx == 0 ? ckd : ckx;
		if (pre_len > cap) {
			FZ_ASSERT(rc == SPFKIT_ETOOBIG, "prefix over cap: %d",
				  rc);
		} else if (ck) {
			FZ_ASSERT(rc == SPFKIT_EPARSE && b.len == pre_len,
				  "syntax error changed out (%d)", rc);
		} else {
			FZ_ASSERT(rc == SPFKIT_OK || rc == SPFKIT_ETOOBIG,
				  "ctx %d cap %zu: %d", ctx, cap, rc);
			FZ_ASSERT(b.len <= cap,
				  "ctx %d: %zu octets over cap %zu", ctx, b.len,
				  cap);
			FZ_ASSERT(b.len >= pre_len &&
				      (pre_len == 0 ||
				       memcmp(b.data, pre, pre_len) == 0),
				  "prefix lost");
			if (ref_ok) {
				bool fits = ref->len <= cap - pre_len;
				FZ_ASSERT((rc == SPFKIT_OK) == fits,
					  "ctx %d: rc %d, result %zu, room %zu",
					  ctx, rc, ref->len, cap - pre_len);
				size_t got = b.len - pre_len;
				FZ_ASSERT(got <= ref->len &&
					      (got == 0 ||
					       memcmp(b.data + pre_len,
						      ref->data, got) == 0),
					  "ctx %d: output is no prefix of the "
					  "result",
					  ctx);
				if (rc == SPFKIT_OK)
					FZ_ASSERT(got == ref->len,
						  "short output");
			}
		}
		spfkit__buf_free(&b);
	}

	/* Out of memory: the first few allocations, one at a time. */
	for (unsigned long k = 1; ckx == SPFKIT_OK && k <= 3; k++) {
		fz_alloc_state st = {0, k, false, false};
		spfkit_allocator fa = fz_allocator(&st);
		spfkit__buf b;
		int rc = run(&env, s, n, SPFKIT__MACRO_EXPLAIN, REF_CAP, "", 0,
			     &fa, &b);
		if (st.failed)
			FZ_ASSERT(rc == SPFKIT_ENOMEM,
				  "allocation %lu failed, "
				  "rc %d",
				  k, rc);
		spfkit__buf_free(&b);
	}

	/* %{p}: two one-octet PTR values differ in the output exactly when
	 * the string uses p. */
	bool up = spfkit__macro_uses_p(s, n);
	if (have_full && full.len < 65536) {
		spfkit__macro_env e1 = env, e2 = env;
		e1.ptr = "\x01";
		e1.ptr_len = 1;
		e2.ptr = "\x02";
		e2.ptr_len = 1;
		spfkit__buf b1, b2;
		int r1 = run(&e1, s, n, SPFKIT__MACRO_EXPLAIN, REF_CAP, "", 0,
			     a, &b1);
		int r2 = run(&e2, s, n, SPFKIT__MACRO_EXPLAIN, REF_CAP, "", 0,
			     a, &b2);
		if (r1 == SPFKIT_OK && r2 == SPFKIT_OK)
			FZ_ASSERT(same(&b1, b2.data, b2.len) == !up,
				  "uses_p %d disagrees with the expansion", up);
		spfkit__buf_free(&b1);
		spfkit__buf_free(&b2);
	}
	spfkit__buf_free(&full);
	spfkit__buf_free(&dres);
	free(sender);
	free(local);
	free(sdom);
	free(dom);
	free(helo);
	free(ptr);
	free(recv);
	return 0;
}
