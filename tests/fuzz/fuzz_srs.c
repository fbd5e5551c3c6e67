/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_srs.c - the SRS parser and rewriter (lib/srs.c) on hostile
 * addresses and secrets files.
 *
 * Input: one flags octet, two octets of day offset, then the rest is an
 * address (or, with FLAG_SECRETS, the text of a secrets file). Flags: bits
 * 0-1 the separator, bit 2 hash length 6, bit 3 secrets file mode, bit 4
 * fail the Nth allocation (N from bits 5-6).
 *
 * Beyond "no crash, no leak": reverse() refuses exactly what has no SRS
 * prefix as not-srs, and what it gives back is shorter than its input and
 * free of control octets; forward() gives an SRS address of the right tag
 * and separator within RFC 5321's lengths, which reverses at the same time
 * to the sender (SRS0), or to the SRS0 address at the first forwarder
 * (SRS1); "already-srs" means the input reverses; "local-domain" that its
 * domain is the forwarding one; out of memory gives SPFKIT_ENOMEM and
 * otherwise the same answer; a secrets file is taken all or nothing, with
 * a one-line message on failure.
 */
#include "fuzz_common.h"

#define FLAG_SEP     0x03u
#define FLAG_HASH6   0x04u
#define FLAG_SECRETS 0x08u
#define FLAG_OOM     0x10u

#define SECRET_A "spfkit-test-secret-0123456789ab" /* test_srs.c K1 */
#define SECRET_B "fuzz-secret-number-two-abcdefghij"
#define FWD      "fwd.example"
#define T0       1795468378ull
#define DAY      86400ull

static bool has_prefix(const char *s, size_t n, char digit)
{
	return n >= 5 && (s[0] | 0x20) == 's' && (s[1] | 0x20) == 'r' &&
	       (s[2] | 0x20) == 's' && s[3] == digit &&
	       (s[4] == '=' || s[4] == '+' || s[4] == '-');
}

/* The local part: up to the last '@', or everything. */
static size_t local_len(const char *s, size_t n)
{
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == '@')
			return i - 1;
	return n;
}

static bool no_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static spfkit_srs *make(const spfkit_config *cfg, unsigned flags)
{
	static const char seps[] = "=+-=";
	spfkit_srs *srs = NULL;
	if (spfkit_srs_new(&srs, cfg) != SPFKIT_OK)
		return NULL;
	if (spfkit_srs_add_secret(srs, SECRET_A, sizeof SECRET_A - 1) ||
	    spfkit_srs_add_secret(srs, SECRET_B, sizeof SECRET_B - 1) ||
	    spfkit_srs_set_separator(srs, seps[flags & FLAG_SEP]) ||
	    spfkit_srs_set_hash_length(srs, flags & FLAG_HASH6 ? 6 : 4)) {
		spfkit_srs_free(srs);
		return NULL;
	}
	return srs;
}

static void check_reverse(const spfkit_srs *srs, const char *s, size_t n,
			  uint64_t now)
{
	char *out = (char *)1;
	spfkit_srs_reason why = (spfkit_srs_reason)99;
	int rc = spfkit_srs_reverse(srs, s, n, now, &out, &why);
	FZ_ASSERT(rc == SPFKIT_OK, "reverse rc %d", rc);
	FZ_ASSERT(why >= SPFKIT_SRS_OK && why <= SPFKIT_SRS_TOO_LONG,
		  "reason %d", (int)why);
	bool srs_like = has_prefix(s, local_len(s, n), '0') ||
			has_prefix(s, local_len(s, n), '1');
	FZ_ASSERT((why == SPFKIT_SRS_NOT_SRS) == !srs_like,
		  "not-srs %d for prefix %d", why == SPFKIT_SRS_NOT_SRS,
		  srs_like);
	FZ_ASSERT(why != SPFKIT_SRS_LOCAL_DOMAIN && why != SPFKIT_SRS_ALREADY &&
		      why != SPFKIT_SRS_BAD_ADDRESS,
		  "forward reason %d from reverse", (int)why);
	if (why == SPFKIT_SRS_OK) {
		FZ_ASSERT(out != NULL, "no output");
		FZ_ASSERT(strlen(out) <= n && no_control(out),
			  "output too long or with control octets");
		FZ_ASSERT(strchr(out, '@') != NULL, "output without '@'");
	} else {
		FZ_ASSERT(out == NULL, "output on refusal");
	}
	spfkit_free(NULL, out);
}

/* Forward, then the promises about its result. */
static void check_forward(const spfkit_srs *srs, const char *s, size_t n,
			  uint64_t now, unsigned flags)
{
	static const char seps[] = "=+-=";
	char *out = (char *)1;
	spfkit_srs_reason why = (spfkit_srs_reason)99;
	int rc = spfkit_srs_forward(srs, s, n, FWD, now, &out, &why);
	FZ_ASSERT(rc == SPFKIT_OK, "forward rc %d", rc);
	size_t ll = local_len(s, n);
	if (why != SPFKIT_SRS_OK) {
		FZ_ASSERT(out == NULL, "output on %d", (int)why);
		char *back = NULL;
		spfkit_srs_reason bwhy;
		if (why == SPFKIT_SRS_ALREADY) {
			spfkit_srs_reverse(srs, s, n, now, &back, &bwhy);
			FZ_ASSERT(bwhy == SPFKIT_SRS_OK,
				  "already-srs does not reverse: %d", bwhy);
			spfkit_free(NULL, back);
		}
		if (why == SPFKIT_SRS_LOCAL_DOMAIN)
			FZ_ASSERT(ll < n && n - ll - 1 == sizeof FWD - 1,
				  "local-domain of another domain");
		return;
	}
	FZ_ASSERT(out != NULL && no_control(out), "bad output");
	size_t on = strlen(out), ol = local_len(out, on);
	FZ_ASSERT(ol <= SPFKIT_SRS_LOCAL_MAX && on <= SPFKIT_SRS_ADDRESS_MAX,
		  "output over RFC 5321 lengths: %zu, %zu", ol, on);
	FZ_ASSERT(on == ol + sizeof FWD && strcmp(out + ol + 1, FWD) == 0,
		  "output not in the forwarding domain");
	bool plain = !has_prefix(s, ll, '0') && !has_prefix(s, ll, '1');
	FZ_ASSERT(memcmp(out, plain ? "SRS0" : "SRS1", 4) == 0 &&
		      out[4] == seps[flags & FLAG_SEP],
		  "tag or separator: %.5s", out);

	/* It reverses, at the same time. */
	char *back = NULL;
	spfkit_srs_reason bwhy;
	rc = spfkit_srs_reverse(srs, out, on, now, &back, &bwhy);
	FZ_ASSERT(rc == SPFKIT_OK && bwhy == SPFKIT_SRS_OK && back,
		  "own forward does not reverse: rc %d reason %d", rc, bwhy);
	size_t bn = strlen(back);
	if (plain) {
		FZ_ASSERT(bn == n && memcmp(back, s, n) == 0,
			  "SRS0 round trip differs");
	} else if (has_prefix(s, ll, '0')) {
		/* "SRS0" + everything after the input's "SRS0". */
		FZ_ASSERT(bn == n && memcmp(back, "SRS0", 4) == 0 &&
			      memcmp(back + 4, s + 4, n - 4) == 0,
			  "SRS1 round trip differs");
	} else {
		FZ_ASSERT(memcmp(back, "SRS0", 4) == 0 && bn < on,
			  "SRS1 of SRS1 round trip");
	}
	/* Forwarding the result again: it is ours already. */
	char *again = NULL;
	spfkit_srs_reason awhy;
	spfkit_srs_forward(srs, out, on, "other.example", now, &again, &awhy);
	FZ_ASSERT(awhy == SPFKIT_SRS_ALREADY && again == NULL,
		  "own address rewritten again: %d", awhy);
	spfkit_free(NULL, back);
	spfkit_free(NULL, out);
}

static void check_secrets(const char *s, size_t n)
{
	spfkit_srs *srs = NULL;
	if (spfkit_srs_new(&srs, NULL) != SPFKIT_OK)
		return;
	char err[128];
	memset(err, 'x', sizeof err);
	int rc = spfkit_srs_add_secrets(srs, s, n, err, sizeof err);
	size_t c = spfkit_srs_secret_count(srs);
	if (rc == SPFKIT_OK) {
		FZ_ASSERT(c >= 1 && c <= SPFKIT_SRS_SECRETS_MAX, "count %zu",
			  c);
	} else {
		FZ_ASSERT(rc == SPFKIT_ENOENT || rc == SPFKIT_EINVAL ||
			      rc == SPFKIT_ETOOBIG,
			  "rc %d", rc);
		FZ_ASSERT(c == 0, "secrets kept on failure: %zu", c);
		FZ_ASSERT(memchr(err, '\0', sizeof err) && err[0] &&
			      fz_printable(err),
			  "message");
	}
	spfkit_srs_free(srs);
}

/* With the Nth allocation failing: ENOMEM, or the answer without it. */
static void check_oom(const char *s, size_t n, uint64_t now, unsigned flags)
{
	spfkit_srs *ref = make(NULL, flags);
	if (!ref)
		return;
	char *want_f = NULL, *want_r = NULL;
	spfkit_srs_reason wf, wr;
	spfkit_srs_forward(ref, s, n, FWD, now, &want_f, &wf);
	spfkit_srs_reverse(ref, s, n, now, &want_r, &wr);
	for (unsigned long k = 1; k <= 3; k++) {
		fz_alloc_state st = {0, k + ((flags >> 5) & 3u), false, false};
		spfkit_allocator fa = fz_allocator(&st);
		spfkit_config *cfg = NULL;
		st.fail_at = 0;
		if (spfkit_config_new(&cfg, &fa) != SPFKIT_OK)
			break;
		st.count = 0;
		st.fail_at = k + ((flags >> 5) & 3u);
		spfkit_srs *srs = make(cfg, flags);
		if (!srs) {
			FZ_ASSERT(st.failed, "make failed without OOM");
			spfkit_config_free(cfg);
			continue;
		}
		char *o = NULL;
		spfkit_srs_reason why;
		int rc = spfkit_srs_forward(srs, s, n, FWD, now, &o, &why);
		if (rc == SPFKIT_ENOMEM)
			FZ_ASSERT(st.failed && !o, "forward ENOMEM");
		else
			FZ_ASSERT(rc == SPFKIT_OK && why == wf &&
				      (!o) == (!want_f) &&
				      (!o || strcmp(o, want_f) == 0),
				  "forward differs under OOM");
		spfkit_free(cfg, o);
		o = NULL;
		rc = spfkit_srs_reverse(srs, s, n, now, &o, &why);
		if (rc == SPFKIT_ENOMEM)
			FZ_ASSERT(st.failed && !o, "reverse ENOMEM");
		else
			FZ_ASSERT(rc == SPFKIT_OK && why == wr &&
				      (!o) == (!want_r) &&
				      (!o || strcmp(o, want_r) == 0),
				  "reverse differs under OOM");
		spfkit_free(cfg, o);
		spfkit_srs_free(srs);
		spfkit_config_free(cfg);
	}
	spfkit_free(NULL, want_f);
	spfkit_free(NULL, want_r);
	spfkit_srs_free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = {data, size};
	unsigned flags = fz_u8(&in);
	int16_t days = (int16_t)fz_u16(&in);
	size_t n;
	const char *s = (const char *)fz_rest(&in, &n);
	uint64_t now = T0 + (uint64_t)(int64_t)days * DAY;

	if (flags & FLAG_SECRETS) {
		check_secrets(s, n);
		return 0;
	}
	spfkit_srs *srs = make(NULL, flags);
	if (!srs)
		return 0;
	check_reverse(srs, s, n, now);
	check_forward(srs, s, n, now, flags);
	spfkit_srs_free(srs);
	if (flags & FLAG_OOM)
		check_oom(s, n, now, flags);
	return 0;
}
