/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srs.c - the Sender Rewriting Scheme: forward (SRS0, SRS1) and reverse
 * of envelope senders, byte for byte as libsrs2 does it in postsrsd 1.x,
 * so a site can move between the two with bounces in flight.
 *
 * The hash is HMAC-SHA1 from OpenSSL's libcrypto (DESIGN.md §7: we do
 * not write a well-kept library's work by hand). Everything else is
 * parsing of hostile (pointer, length) views: no NUL termination is
 * relied on and nothing is written into the input.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "internal.h"

/* libsrs2's defaults (srs_init()): postsrsd leaves the age alone and
 * sets the hash length to 4 (-n). */
#define SRS_MAX_AGE_DEFAULT 21u
#define SRS_HASH_DEFAULT    4u
#define SRS_HASH_MIN        4u
/* 26 base64 characters use 156 of HMAC-SHA1's 160 bits. */
#define SRS_HASH_MAX 26u

/* Timestamps: days since the epoch, modulo 2^10, as two base32 digits. */
#define SRS_DAY       86400u
#define SRS_TIME_MASK 1023u

static const char base64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "abcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

typedef struct srs_secret {
	unsigned char key[SPFKIT_SRS_SECRET_MAX];
	size_t len;
} srs_secret;

struct spfkit_srs {
	const spfkit__alloc *a;
	srs_secret secrets[SPFKIT_SRS_SECRETS_MAX];
	size_t nsecrets;
	unsigned max_age;
	unsigned hash_len;
	char sep;
};

/* A view into the caller's bytes. */
typedef struct view {
	const char *p;
	size_t n;
} view;

const char *spfkit_srs_reason_name(spfkit_srs_reason r)
{
	switch (r) {
	case SPFKIT_SRS_OK: return "ok";
	case SPFKIT_SRS_LOCAL_DOMAIN: return "local-domain";
	case SPFKIT_SRS_ALREADY: return "already-srs";
	case SPFKIT_SRS_NOT_SRS: return "not-srs";
	case SPFKIT_SRS_BAD_ADDRESS: return "bad-address";
	case SPFKIT_SRS_MALFORMED: return "malformed";
	case SPFKIT_SRS_BAD_HASH: return "bad-hash";
	case SPFKIT_SRS_EXPIRED: return "expired";
	case SPFKIT_SRS_FUTURE: return "future";
	case SPFKIT_SRS_TOO_LONG: return "too-long";
	}
	return "unknown";
}

const char *spfkit_srs_reason_text(spfkit_srs_reason r)
{
	switch (r) {
	case SPFKIT_SRS_OK: return "rewritten";
	case SPFKIT_SRS_LOCAL_DOMAIN:
		return "the sender is in the forwarding domain already; not "
		       "rewritten";
	case SPFKIT_SRS_ALREADY:
		return "the sender is already a valid SRS address of these "
		       "secrets; not rewritten";
	case SPFKIT_SRS_NOT_SRS:
		return "not an SRS address (the local part does not start "
		       "with SRS0= or SRS1=)";
	case SPFKIT_SRS_BAD_ADDRESS:
		return "not a usable address (no '@', an empty local part or "
		       "domain, a control character, or '=' in the domain)";
	case SPFKIT_SRS_MALFORMED:
		return "an SRS address whose fields do not parse (hash, "
		       "timestamp, domain, local part)";
	case SPFKIT_SRS_BAD_HASH:
		return "the hash matches no secret: forged, or signed with a "
		       "secret not configured";
	case SPFKIT_SRS_EXPIRED:
		return "the timestamp is older than the maximum age: a stale "
		       "bounce";
	case SPFKIT_SRS_FUTURE: return "the timestamp is ahead of the clock";
	case SPFKIT_SRS_TOO_LONG:
		return "too long (RFC 5321: local part 64, address 254 "
		       "octets after rewriting; 1024 octets as given)";
	}
	return "unknown reason";
}

int spfkit_srs_new(spfkit_srs **out, const spfkit_config *cfg)
{
	if (!out)
		return SPFKIT_EINVAL;
	const spfkit__alloc *a;
	spfkit_srs *srs = *out = spfkit__handle_new(cfg, sizeof *srs, &a);
	if (srs)
		*srs = (spfkit_srs){.a = a,
				    .max_age = SRS_MAX_AGE_DEFAULT,
				    .hash_len = SRS_HASH_DEFAULT,
				    .sep = '='};
	return srs ? SPFKIT_OK : SPFKIT_ENOMEM;
}

void spfkit_srs_free(spfkit_srs *srs)
{
	if (!srs)
		return;
	OPENSSL_cleanse(srs->secrets, sizeof srs->secrets);
	spfkit__free(srs->a, srs);
}

int spfkit_srs_add_secret(spfkit_srs *srs, const void *secret, size_t len)
{
	if (!srs || !secret)
		return SPFKIT_EINVAL;
	if (len < SPFKIT_SRS_SECRET_MIN || len > SPFKIT_SRS_SECRET_MAX ||
	    memchr(secret, '\0', len))
		return SPFKIT_EINVAL;
	if (srs->nsecrets >= SPFKIT_SRS_SECRETS_MAX)
		return SPFKIT_ETOOBIG;
	srs_secret *s = &srs->secrets[srs->nsecrets++];
	memcpy(s->key, secret, len);
	s->len = len;
	return SPFKIT_OK;
}

/* Writes "line N: " and then msg into err, truncated to errlen. */
static void secret_error(char *err, size_t errlen, unsigned long line,
			 const char *msg)
{
	if (!err || errlen == 0)
		return;
	spfkit__buf b;
	char tmp[256];
	spfkit__buf_init_local(&b, spfkit__default_alloc(), sizeof tmp - 1, tmp,
			       sizeof tmp);
	if (line) {
		spfkit__buf_adds(&b, "line ");
		spfkit__buf_addu(&b, line);
		spfkit__buf_adds(&b, ": ");
	}
	spfkit__buf_adds(&b, msg);
	/* A message over the cap is cut; what fits is still in tmp. */
	size_t n = b.len < errlen - 1 ? b.len : errlen - 1;
	memcpy(err, b.data, n);
	err[n] = '\0';
	spfkit__buf_free(&b);
}

/* Takes back the secrets added after the first keep ones. */
static void drop_secrets(spfkit_srs *srs, size_t keep)
{
	OPENSSL_cleanse(&srs->secrets[keep],
			(srs->nsecrets - keep) * sizeof srs->secrets[0]);
	srs->nsecrets = keep;
}

int spfkit_srs_add_secrets(spfkit_srs *srs, const char *text, size_t len,
			   char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!srs || (!text && len))
		return SPFKIT_EINVAL;
	size_t keep = srs->nsecrets;
	unsigned long line = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		line++;
		/* postsrsd cuts a secret at CR as at LF. */
		while (n > 0 && s[n - 1] == '\r')
			n--;
		if (n == 0 || s[0] == '#')
			continue;
		const char *why = NULL;
		int rc = SPFKIT_EINVAL;
		for (size_t i = 0; i < n && !why; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7f)
				why = "the secret holds a control character";
		}
		if (!why && n < SPFKIT_SRS_SECRET_MIN)
			why = "the secret is too short (at least 16 octets; "
			      "generate one with: head -c 24 /dev/urandom | "
			      "base64)";
		else if (!why && n > SPFKIT_SRS_SECRET_MAX)
			why = "the secret is too long (at most 64 octets: "
			      "libsrs2 cannot use longer ones reliably)";
		if (!why) {
			rc = spfkit_srs_add_secret(srs, s, n);
			if (rc == SPFKIT_ETOOBIG)
				why = "too many secrets (at most 32)";
			else if (rc != SPFKIT_OK)
				why = "the secret is not usable";
		}
		if (why) {
			drop_secrets(srs, keep);
			secret_error(err, errlen, line, why);
			return rc == SPFKIT_OK ? SPFKIT_EINVAL : rc;
		}
	}
	if (srs->nsecrets == keep) {
		secret_error(err, errlen, 0,
			     "no secret (every line is empty "
			     "or a comment)");
		return SPFKIT_ENOENT;
	}
	return SPFKIT_OK;
}

size_t spfkit_srs_secret_count(const spfkit_srs *srs)
{
	return srs ? srs->nsecrets : 0;
}

int spfkit_srs_set_max_age(spfkit_srs *srs, unsigned days)
{
	if (!srs || days < 1 || days >= SRS_TIME_MASK)
		return SPFKIT_EINVAL;
	srs->max_age = days;
	return SPFKIT_OK;
}

/* Is c one of the separators libsrs2 allows after SRS0/SRS1? */
static bool is_sep(char c)
{
	return c == '=' || c == '+' || c == '-';
}

int spfkit_srs_set_separator(spfkit_srs *srs, char sep)
{
	if (!srs || !is_sep(sep))
		return SPFKIT_EINVAL;
	srs->sep = sep;
	return SPFKIT_OK;
}

int spfkit_srs_set_hash_length(spfkit_srs *srs, unsigned len)
{
	if (!srs || len < SRS_HASH_MIN || len > SRS_HASH_MAX)
		return SPFKIT_EINVAL;
	srs->hash_len = len;
	return SPFKIT_OK;
}

/* ------------------------------------------------------------ hashing */

/* The hash of parts under secret s: base64 of HMAC-SHA1 over the parts
 * concatenated and ASCII lower-cased (libsrs2 folds with tolower() in the
 * C locale), first len characters into out. The parts come from one
 * address of at most SPFKIT_SRS_INPUT_MAX octets plus a timestamp. */
static bool make_hash(const srs_secret *s, const view *parts, size_t nparts,
		      unsigned len, char *out)
{
	unsigned char data[SPFKIT_SRS_INPUT_MAX + 8];
	size_t n = 0;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n > sizeof data - n)
			return false;
		for (size_t k = 0; k < parts[i].n; k++)
			data[n++] = spfkit__lower((unsigned char)parts[i].p[k]);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!HMAC(EVP_sha1(), s->key, (int)s->len, data, n, md, &mdlen) ||
	    mdlen < 20)
		return false;
	/* Six bits at a time from the top, as base64 (RFC 4648 §4). */
	for (unsigned i = 0; i < len; i++) {
		unsigned bit = 6 * i;
		unsigned v = ((unsigned)md[bit / 8] << 8) | md[bit / 8 + 1];
		out[i] = base64[(v >> (10 - bit % 8)) & 63];
	}
	return true;
}

/* Does hash (a view) match the hash of parts under any secret? libsrs2
 * compares case-insensitively and only hashes of the configured length
 * can match. *fail is set when libcrypto failed. */
static bool hash_ok(const spfkit_srs *srs, view hash, const view *parts,
		    size_t nparts, bool *fail)
{
	char want[SRS_HASH_MAX];
	if (hash.n != srs->hash_len)
		return false;
	for (size_t i = 0; i < srs->nsecrets; i++) {
		if (!make_hash(&srs->secrets[i], parts, nparts, srs->hash_len,
			       want)) {
			*fail = true;
			return false;
		}
		if (spfkit__ieq(hash.p, hash.n, want, srs->hash_len))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ parsing */

/* Is local (the part before the last '@') "SRS<digit><separator>..."
 * case-insensitively? */
static bool srs_prefix(view local, char digit)
{
	return local.n >= 5 &&
	       spfkit__lower((unsigned char)local.p[0]) == 's' &&
	       spfkit__lower((unsigned char)local.p[1]) == 'r' &&
	       spfkit__lower((unsigned char)local.p[2]) == 's' &&
	       local.p[3] == digit && is_sep(local.p[4]);
}

/* Splits (p, n) at its last '@': false when there is none. */
static bool split_at(const char *p, size_t n, view *local, view *domain)
{
	for (size_t i = n; i > 0; i--) {
		if (p[i - 1] == '@') {
			local->p = p;
			local->n = i - 1;
			domain->p = p + i;
			domain->n = n - i;
			return true;
		}
	}
	return false;
}

/* Takes the field up to the next '=' off *rest: false when there is no
 * '='. */
static bool next_field(view *rest, view *field)
{
	const char *eq = rest->n ? memchr(rest->p, '=', rest->n) : NULL;
	if (!eq)
		return false;
	field->p = rest->p;
	field->n = (size_t)(eq - rest->p);
	rest->p = eq + 1;
	rest->n -= field->n + 1;
	return true;
}

static bool has_control(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* The day number of a two-character base32 stamp (case-insensitive), or
 * -1. */
static int stamp_value(view st)
{
	if (st.n != 2)
		return -1;
	int v = 0;
	for (size_t i = 0; i < 2; i++) {
		unsigned char c = (unsigned char)st.p[i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 32);
		const char *d = c ? memchr(base32, c, 32) : NULL;
		if (!d)
			return -1;
		v = (v << 5) | (int)(d - base32);
	}
	return v;
}

/* libsrs2 accepts a stamp up to max_age days old (modulo 1024). A stamp
 * it refuses is "future" when it is nearer ahead of today than beyond the
 * age, else "expired": a guess, both are refused alike. */
static spfkit_srs_reason stamp_check(const spfkit_srs *srs, int then,
				     uint64_t now)
{
	unsigned today = (unsigned)((now / SRS_DAY) & SRS_TIME_MASK);
	unsigned age = (today - (unsigned)then) & SRS_TIME_MASK;
	if (age <= srs->max_age)
		return SPFKIT_SRS_OK;
	unsigned ahead = SRS_TIME_MASK + 1 - age;
	return ahead < age - srs->max_age ? SPFKIT_SRS_FUTURE
					  : SPFKIT_SRS_EXPIRED;
}

/* The reverse of (addr, n) into out (when not NULL); the reason. *fail is
 * set when libcrypto failed. */
static spfkit_srs_reason reverse_into(const spfkit_srs *srs, const char *addr,
				      size_t n, uint64_t now, spfkit__buf *out,
				      bool *fail)
{
	view local = {addr, n}, domain;
	/* libsrs2 reverses a bare local part too: the domain is not used. */
	split_at(addr, n, &local, &domain);
	bool one = srs_prefix(local, '1');
	if (!one && !srs_prefix(local, '0'))
		return SPFKIT_SRS_NOT_SRS;
	if (n > SPFKIT_SRS_INPUT_MAX)
		return SPFKIT_SRS_TOO_LONG;
	if (has_control(addr, n))
		return SPFKIT_SRS_MALFORMED;
	view rest = {local.p + 5, local.n - 5};
	view hash, stamp = {NULL, 0}, host, user;
	if (!next_field(&rest, &hash))
		return SPFKIT_SRS_MALFORMED;
	if (!one && !next_field(&rest, &stamp))
		return SPFKIT_SRS_MALFORMED;
	if (!next_field(&rest, &host))
		return SPFKIT_SRS_MALFORMED;
	user = rest;
	if (host.n == 0 || user.n == 0)
		return SPFKIT_SRS_MALFORMED;
	int then = 0;
	if (!one && (then = stamp_value(stamp)) < 0)
		return SPFKIT_SRS_MALFORMED;
	/* The hash first, so "expired" means a genuine but old address. */
	view parts[3] = {stamp, host, user};
	bool ok = one ? hash_ok(srs, hash, parts + 1, 2, fail)
		      : hash_ok(srs, hash, parts, 3, fail);
	if (!ok)
		return SPFKIT_SRS_BAD_HASH;
	if (!one) {
		spfkit_srs_reason r = stamp_check(srs, then, now);
		if (r != SPFKIT_SRS_OK)
			return r;
	}
	if (out) {
		/* SRS1: the SRS0 address at the first forwarder; user
		 * starts with that address's separator. */
		if (one)
			spfkit__buf_adds(out, "SRS0");
		spfkit__buf_add(out, user.p, user.n);
		spfkit__buf_addc(out, '@');
		spfkit__buf_add(out, host.p, host.n);
	}
	return SPFKIT_SRS_OK;
}

/* Hands the buffer's text to *out, or gives the error. */
static int finish(spfkit__buf *b, char **out)
{
	if (b->err) {
		int rc = b->err;
		spfkit__buf_free(b);
		return rc;
	}
	*out = spfkit__buf_take(b);
	return *out ? SPFKIT_OK : SPFKIT_ENOMEM;
}

int spfkit_srs_reverse(const spfkit_srs *srs, const char *addr, size_t len,
		       uint64_t now_unix, char **out, spfkit_srs_reason *why)
{
	if (out)
		*out = NULL;
	if (why)
		*why = SPFKIT_SRS_NOT_SRS;
	if (!srs || (!addr && len) || !out || !why)
		return SPFKIT_EINVAL;
	if (srs->nsecrets == 0)
		return SPFKIT_ESTATE;
	spfkit__buf b;
	spfkit__buf_init(&b, srs->a, SPFKIT_SRS_INPUT_MAX);
	bool fail = false;
	spfkit_srs_reason r = reverse_into(srs, addr, len, now_unix, &b, &fail);
	if (fail) {
		spfkit__buf_free(&b);
		return SPFKIT_ENOMEM;
	}
	if (r != SPFKIT_SRS_OK) {
		spfkit__buf_free(&b);
		*why = r;
		return SPFKIT_OK;
	}
	int rc = finish(&b, out);
	if (rc == SPFKIT_OK)
		*why = SPFKIT_SRS_OK;
	return rc;
}

/* The forwarding domain without one trailing dot, if usable: a host name
 * of at most 253 octets that could not confuse a reverse. */
static bool forward_domain(const char *domain, view *d)
{
	size_t n = strnlen(domain, SPFKIT_SRS_ADDRESS_MAX + 2);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || !spfkit__domain_ok(domain, n) ||
	    memchr(domain, '@', n) || memchr(domain, '=', n) ||
	    memchr(domain, ' ', n))
		return false;
	d->p = domain;
	d->n = n;
	return true;
}

int spfkit_srs_forward(const spfkit_srs *srs, const char *addr, size_t len,
		       const char *domain, uint64_t now_unix, char **out,
		       spfkit_srs_reason *why)
{
	if (out)
		*out = NULL;
	if (why)
		*why = SPFKIT_SRS_BAD_ADDRESS;
	view fwd;
	if (!srs || (!addr && len) || !domain || !out || !why ||
	    !forward_domain(domain, &fwd))
		return SPFKIT_EINVAL;
	if (srs->nsecrets == 0)
		return SPFKIT_ESTATE;
	if (len > SPFKIT_SRS_INPUT_MAX) {
		*why = SPFKIT_SRS_TOO_LONG;
		return SPFKIT_OK;
	}
	view local, host;
	if (!split_at(addr, len, &local, &host) || local.n == 0 ||
	    host.n == 0 || has_control(addr, len) ||
	    memchr(host.p, '=', host.n))
		return SPFKIT_OK; /* bad-address */

	/* postsrsd: an address that reverses is left alone. */
	bool fail = false;
	spfkit_srs_reason r =
	    reverse_into(srs, addr, len, now_unix, NULL, &fail);
	if (fail)
		return SPFKIT_ENOMEM;
	if (r == SPFKIT_SRS_OK) {
		*why = SPFKIT_SRS_ALREADY;
		return SPFKIT_OK;
	}
	if (spfkit__ieq(host.p, host.n, fwd.p, fwd.n)) {
		*why = SPFKIT_SRS_LOCAL_DOMAIN;
		return SPFKIT_OK;
	}

	char hash[SRS_HASH_MAX];
	char stamp[2];
	view h, u; /* the hashed domain and user fields */
	const char *tag = "SRS1";
	if (srs_prefix(local, '1')) {
		/* libsrs2: the old hash is dropped unchecked, the first
		 * forwarder's domain and the rest are kept. */
		view rest = {local.p + 5, local.n - 5}, old;
		if (!next_field(&rest, &old) || !next_field(&rest, &h) ||
		    h.n == 0 || rest.n == 0) {
			*why = SPFKIT_SRS_MALFORMED;
			return SPFKIT_OK;
		}
		u = rest;
	} else if (srs_prefix(local, '0')) {
		/* libsrs2: everything after "SRS0", separator included. */
		h = host;
		u.p = local.p + 4;
		u.n = local.n - 4;
	} else {
		tag = "SRS0";
		uint64_t day = now_unix / SRS_DAY;
		stamp[0] = base32[(day >> 5) & 31];
		stamp[1] = base32[day & 31];
		h = host;
		u = local;
	}
	bool srs0 = tag[3] == '0';
	view parts[3] = {{stamp, 2}, h, u};
	if (!make_hash(&srs->secrets[0], srs0 ? parts : parts + 1, srs0 ? 3 : 2,
		       srs->hash_len, hash))
		return SPFKIT_ENOMEM;

	/* tag, separator, hash, '=', [stamp, '='], domain, '=', user */
	size_t lp = 5 + srs->hash_len + 1 + (srs0 ? 3 : 0) + h.n + 1 + u.n;
	if (lp > SPFKIT_SRS_LOCAL_MAX ||
	    lp + 1 + fwd.n > SPFKIT_SRS_ADDRESS_MAX) {
		*why = SPFKIT_SRS_TOO_LONG;
		return SPFKIT_OK;
	}
	spfkit__buf b;
	spfkit__buf_init(&b, srs->a, SPFKIT_SRS_ADDRESS_MAX);
	spfkit__buf_adds(&b, tag);
	spfkit__buf_addc(&b, srs->sep);
	spfkit__buf_add(&b, hash, srs->hash_len);
	spfkit__buf_addc(&b, '=');
	if (srs0) {
		spfkit__buf_add(&b, stamp, 2);
		spfkit__buf_addc(&b, '=');
	}
	spfkit__buf_add(&b, h.p, h.n);
	spfkit__buf_addc(&b, '=');
	spfkit__buf_add(&b, u.p, u.n);
	spfkit__buf_addc(&b, '@');
	spfkit__buf_add(&b, fwd.p, fwd.n);
	int rc = finish(&b, out);
	if (rc == SPFKIT_OK)
		*why = SPFKIT_SRS_OK;
	return rc;
}
