/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_macro.c - lib/macro.c: RFC 7208 §7.4 examples, URL escaping, the
 * c/r/t restriction, syntax errors, §7.3 truncation, and the hostile
 * inputs behind libspf2's CVEs, each with its exact expected output.
 */
#include <stdlib.h>

#include "internal.h"
#include "t.h"

#define D SPFKIT__MACRO_DOMAIN
#define X SPFKIT__MACRO_EXPLAIN

/* The environments the tables refer to. */
enum { E4, E6, EURL, ENULL, NENV };
static spfkit__ip ip4, ip6;
static spfkit__macro_env envs[NENV];

/* Sets a view from a string literal, embedded NULs and 8-bit included. */
#define VIEW(ptr, len, lit)                                                    \
	do {                                                                   \
		(ptr) = (lit);                                                 \
		(len) = sizeof(lit) - 1;                                       \
	} while (0)

static void setup(void)
{
	spfkit__ip_parse("192.0.2.3", 9, &ip4);
	spfkit__ip_parse("2001:db8::cb01", 14, &ip6);

	/* RFC 7208 §7.4: sender strong-bad@email.example.com, PTR name
	 * mx.example.org. */
	spfkit__macro_env e = {0};
	VIEW(e.sender, e.sender_len, "strong-bad@email.example.com");
	VIEW(e.local, e.local_len, "strong-bad");
	VIEW(e.sdomain, e.sdomain_len, "email.example.com");
	VIEW(e.domain, e.domain_len, "email.example.com");
	VIEW(e.helo, e.helo_len, "mx.example.org");
	VIEW(e.receiver, e.receiver_len, "receiver.example.net");
	VIEW(e.ptr, e.ptr_len, "mx.example.org");
	e.ip = &ip4;
	e.now = 1234567890;
	envs[E4] = e;
	e.ip = &ip6;
	envs[E6] = e;

	/* Octets that need URL escaping, 8-bit ones included. */
	spfkit__macro_env u = envs[E4];
	VIEW(u.sender, u.sender_len, "a=b/c~d\xc3\xa9@x.example");
	VIEW(u.local, u.local_len, "a=b/c~d\xc3\xa9");
	VIEW(u.sdomain, u.sdomain_len, "x.example");
	VIEW(u.domain, u.domain_len, "\xff.b\x80.c");
	VIEW(u.helo, u.helo_len, "a b%c");
	envs[EURL] = u;

	/* What the evaluator may leave unset. */
	spfkit__macro_env z = envs[E4];
	z.ptr = NULL;
	z.ptr_len = 0;
	z.receiver = NULL;
	z.receiver_len = 0;
	z.helo = NULL;
	z.helo_len = 0;
	z.now = 0;
	envs[ENULL] = z;
}

/* Expands in into a fresh string with the given cap. Returns the status;
 * *got is the caller's (free()) or NULL when nothing came out. */
static int expand(const spfkit__macro_env *env, const char *in, size_t n,
		  spfkit__macro_ctx ctx, size_t cap, char **got, size_t *len)
{
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), cap);
	int rc = spfkit__macro_expand(env, in, n, ctx, &b);
	*len = b.len;
	*got = rc == SPFKIT_OK ? spfkit__buf_take(&b) : NULL;
	spfkit__buf_free(&b);
	return rc;
}

static const struct {
	int env;
	spfkit__macro_ctx ctx;
	const char *in;
	int rc;
	const char *want;
} cases[] = {
    /* RFC 7208 §7.4, one macro at a time. */
    {E4, D, "%{s}", 0, "strong-bad@email.example.com"},
    {E4, D, "%{o}", 0, "email.example.com"},
    {E4, D, "%{d}", 0, "email.example.com"},
    {E4, D, "%{d4}", 0, "email.example.com"},
    {E4, D, "%{d3}", 0, "email.example.com"},
    {E4, D, "%{d2}", 0, "example.com"},
    {E4, D, "%{d1}", 0, "com"},
    {E4, D, "%{dr}", 0, "com.example.email"},
    {E4, D, "%{d2r}", 0, "example.email"},
    {E4, D, "%{l}", 0, "strong-bad"},
    {E4, D, "%{l-}", 0, "strong.bad"},
    {E4, D, "%{lr}", 0, "strong-bad"},
    {E4, D, "%{lr-}", 0, "bad.strong"},
    {E4, D, "%{l1r-}", 0, "strong"},
    /* RFC 7208 §7.4 macro-strings. */
    {E4, D, "%{ir}.%{v}._spf.%{d2}", 0, "3.2.0.192.in-addr._spf.example.com"},
    {E4, D, "%{lr-}.lp._spf.%{d2}", 0, "bad.strong.lp._spf.example.com"},
    {E4, D, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", 0,
     "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
    {E4, D, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", 0,
     "3.2.0.192.in-addr.strong.lp._spf.example.com"},
    {E4, D, "%{d2}.trusted-domains.example.net", 0,
     "example.com.trusted-domains.example.net"},
    {E6, D, "%{ir}.%{v}._spf.%{d2}", 0,
     "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2."
     "ip6._spf.example.com"},
    /* The other letters. */
    {E4, D, "%{i}", 0, "192.0.2.3"},
    {E6, D, "%{i}", 0,
     "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1"},
    {E6, D, "%{i8}", 0, "0.0.0.0.C.B.0.1"},
    {E4, D, "%{v}", 0, "in-addr"},
    {E6, D, "%{v}", 0, "ip6"},
    {E4, D, "%{h}", 0, "mx.example.org"},
    {E4, D, "%{p}", 0, "mx.example.org"},
    {E4, D, "%{p2}", 0, "example.org"},
    {ENULL, D, "%{p}", 0, "unknown"},
    {ENULL, D, "%{h}.x", 0, ".x"},
    {E4, X, "%{c}", 0, "192.0.2.3"},
    {E6, X, "%{c}", 0, "2001:db8::cb01"},
    {E4, X, "%{r}", 0, "receiver.example.net"},
    {ENULL, X, "%{r}", 0, "unknown"},
    {E4, X, "%{t}", 0, "1234567890"},
    {ENULL, X, "%{t}", 0, "0"},
    {E4, X, "%{t1}", 0, "1234567890"},
    /* Case: letters and the "r" transformer are case-insensitive; an
     * upper-case letter URL-escapes. */
    {E4, D, "%{D}", 0, "email.example.com"},
    {E4, D, "%{dR}", 0, "com.example.email"},
    {E4, D, "%{S}", 0, "strong-bad%40email.example.com"},
    {EURL, D, "%{L}", 0, "a%3Db%2Fc~d%C3%A9"},
    {EURL, D, "%{l}", 0, "a=b/c~d\xc3\xa9"},
    {EURL, D, "%{Lr=}", 0, "b%2Fc~d%C3%A9.a"},
    {EURL, D, "%{L1/}", 0, "c~d%C3%A9"},
    {EURL, D, "%{S}", 0, "a%3Db%2Fc~d%C3%A9%40x.example"},
    {EURL, D, "%{DR}", 0, "c.b%80.%FF"},
    {EURL, D, "%{dr}", 0, "c.b\x80.\xff"},
    {EURL, X, "%{H}", 0, "a%20b%25c"},
    {E6, X, "%{C}", 0, "2001%3Adb8%3A%3Acb01"},
    /* Delimiters, digits. */
    {E4, D, "%{d-}", 0, "email.example.com"},
    {E4, D, "%{s@}", SPFKIT_EPARSE, NULL}, /* '@' is no delimiter */
    {E4, D, "%{s=}", 0, "strong-bad@email.example.com"},
    {E4, D, "%{s-.}", 0, "strong.bad@email.example.com"},
    {E4, D, "%{s2-}", 0, "strong.bad@email.example.com"},
    {E4, D, "%{s1-}", 0, "bad@email.example.com"},
    {E4, D, "%{s1r-.}", 0, "strong"},
    {E4, D, "%{d2r-.+,/_=}", 0, "example.email"},
    {E4, D, "%{d01}", 0, "com"},
    {E4, D, "%{d2147483648}", 0, "email.example.com"},
    {E4, D, "%{d4294967296}", 0, "email.example.com"},
    {E4, D, "%{d99999999999999999999999999999999}", 0, "email.example.com"},
    {E4, D, "%{d2147483648r}", 0, "com.example.email"},
    /* Escapes and literals. */
    {E4, D, "", 0, ""},
    {E4, D, "%%", 0, "%"},
    {E4, D, "%_", 0, " "},
    {E4, D, "%-", 0, "%20"},
    {E4, D, "a%%b%_c%-d", 0, "a%b c%20d"},
    {E4, D, "%%{d}", 0, "%{d}"},
    {E4, X, "See me.", 0, "See me."},
    {E4, X, "%{i} is not one of %{d}'s designated mail servers.", 0,
     "192.0.2.3 is not one of email.example.com's designated mail "
     "servers."},
    {E4, X, "!\"#$&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", 0,
     "!\"#$&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"},
    /* Syntax errors. */
    {E4, D, "See me.", SPFKIT_EPARSE, NULL},
    {E4, D, "%{c}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{C}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{r}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{t}", SPFKIT_EPARSE, NULL},
    {E4, D, "%", SPFKIT_EPARSE, NULL},
    {E4, D, "abc%", SPFKIT_EPARSE, NULL},
    {E4, D, "%{", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d2", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d2r-", SPFKIT_EPARSE, NULL},
    {E4, D, "%{}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{x}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{ d}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d }", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d0}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d00}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{dr2}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d-r}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{drr}", SPFKIT_EPARSE, NULL},
    {E4, D, "%{d-2}", SPFKIT_EPARSE, NULL},
    {E4, D, "%a", SPFKIT_EPARSE, NULL},
    {E4, D, "%D", SPFKIT_EPARSE, NULL},
    {E4, D, "%20", SPFKIT_EPARSE, NULL},
    {E4, X, "%", SPFKIT_EPARSE, NULL},
    {E4, X, "a\tb", SPFKIT_EPARSE, NULL},
    {E4, X, "caf\xc3\xa9", SPFKIT_EPARSE, NULL},
    {E4, X, "a\x7f", SPFKIT_EPARSE, NULL},
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got;
		size_t len;
		int want_rc = cases[i].rc;
		int rc =
		    expand(&envs[cases[i].env], cases[i].in,
			   strlen(cases[i].in), cases[i].ctx, 4096, &got, &len);
		T_CHECK(rc == want_rc, "#%zu \"%s\": rc %d, want %d", i,
			cases[i].in, rc, want_rc);
		if (cases[i].want)
			T_EQ_STR(got, cases[i].want, cases[i].in);
		free(got);
	}
}

/* spfkit__macro_check: status and the offset of the bad sequence. */
static void test_check(void)
{
	static const struct {
		const char *in;
		size_t n;
		spfkit__macro_ctx ctx;
		int rc;
		size_t errpos;
	} checks[] = {
	    {"%{d}", 4, D, SPFKIT_OK, 0},
	    {"%", 1, D, SPFKIT_EPARSE, 0},
	    {"ab%", 3, D, SPFKIT_EPARSE, 2},
	    {"%{", 2, D, SPFKIT_EPARSE, 0},
	    {"a%{x}", 5, D, SPFKIT_EPARSE, 1},
	    {"%{d0}", 5, D, SPFKIT_EPARSE, 0},
	    {"x%a", 3, D, SPFKIT_EPARSE, 1},
	    {"%{d}.%{c}", 9, D, SPFKIT_EPARSE, 5},
	    {"%{d}.%{c}", 9, X, SPFKIT_OK, 0},
	    {"%{T}", 4, X, SPFKIT_OK, 0},
	    {"a b", 3, D, SPFKIT_EPARSE, 1},
	    {"a b", 3, X, SPFKIT_OK, 0},
	    {"%{d-}", 5, D, SPFKIT_OK, 0},
	    {"%{dr2}", 6, D, SPFKIT_EPARSE, 0},
	    {"\x80", 1, X, SPFKIT_EPARSE, 0},
	    {"abc\x01", 4, X, SPFKIT_EPARSE, 3},
	    {"%%%", 3, D, SPFKIT_EPARSE, 2},
	    {"%{d}%{", 6, D, SPFKIT_EPARSE, 4},
	    {"ab\0cd", 5, X, SPFKIT_EPARSE, 2},
	    {"%{d}\0", 5, D, SPFKIT_EPARSE, 4},
	    /* n bounds the view: the bytes after it are never read. */
	    {"%{d}%", 4, D, SPFKIT_OK, 0},
	    {"", 0, D, SPFKIT_OK, 0},
	    /* long literal runs: the bad octet past a vector's width, a
	     * space (a literal in explanations only), DEL, a '%' ending it */
	    {"abcdefghijklmnopqrstuvwxyz\x7f.example", 34, X, SPFKIT_EPARSE,
	     26},
	    {"abcdefghijklmnopqrstuvwxyz example", 34, D, SPFKIT_EPARSE, 26},
	    {"abcdefghijklmnopqrstuvwxyz example", 34, X, SPFKIT_OK, 0},
	    {"abcdefghijklmnopqrstuvwxyz%{d}.\x01x", 33, D, SPFKIT_EPARSE, 31},
	    {"abcdefghijklmnopqrstuvwxyz%{d}\xff", 31, X, SPFKIT_EPARSE, 30},
	};
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		size_t pos = 12345;
		int rc = spfkit__macro_check(checks[i].in, checks[i].n,
					     checks[i].ctx, &pos);
		T_CHECK(rc == checks[i].rc, "check #%zu: rc %d", i, rc);
		if (checks[i].rc != SPFKIT_OK)
			T_CHECK(pos == checks[i].errpos,
				"check #%zu: errpos %zu, want %zu", i, pos,
				checks[i].errpos);
	}
}

static void test_uses_p(void)
{
	static const struct {
		const char *in;
		bool want;
	} ps[] = {
	    {"%{p}", true},        {"%{P}", true},
	    {"%{pr}", true},       {"%{d}.%{p2r.}", true},
	    {"%%{p}", false},      {"%{d}", false},
	    {"p", false},          {"%{p", false},
	    {"%{ir}.%{v}", false}, {"", false},
	    {"%{c} %{P}", true},
	};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
		T_CHECK(spfkit__macro_uses_p(ps[i].in, strlen(ps[i].in)) ==
			    ps[i].want,
			"uses_p \"%s\"", ps[i].in);
}

/* Appends: what out held stays, a syntax error writes nothing, and the
 * §7.3 truncation concerns only this expansion. */
static void test_append(void)
{
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 4096);
	spfkit__buf_adds(&b, "pre:");
	T_EQ_INT(spfkit__macro_expand(&envs[E4], "%{d1}", 5, D, &b), SPFKIT_OK,
		 "append rc");
	const char *want = "pre:com";
	T_EQ_STR(b.data, want, "append");
	T_EQ_INT(spfkit__macro_expand(&envs[E4], "%{d}%", 5, X, &b),
		 SPFKIT_EPARSE, "append error rc");
	T_EQ_STR(b.data, want, "error leaves out unchanged");
	spfkit__buf_free(&b);

	/* Domain expansion over a cap smaller than its result. */
	char *got;
	size_t len;
	T_EQ_INT(expand(&envs[E4], "%{d}", 4, D, 10, &got, &len),
		 SPFKIT_ETOOBIG, "domain over cap");
	free(got);

	/* An IP macro without an IP is a caller error. */
	spfkit__macro_env noip = envs[E4];
	noip.ip = NULL;
	T_EQ_INT(expand(&noip, "%{i}", 4, D, 100, &got, &len), SPFKIT_EINVAL,
		 "no ip");
	free(got);
	T_EQ_INT(expand(&noip, "%{d}", 4, D, 100, &got, &len), SPFKIT_OK,
		 "no ip, not needed");
	free(got);
}

/* The §7.3 reference: the longest suffix that starts a label and is at
 * most 253 octets, one trailing dot not counted; when there is none, the
 * last 254 octets (plus the trailing dot). Written over the whole string,
 * unlike the library's fixed window. */
static void truncate_ref(const char *s, size_t n, size_t *off, size_t *len)
{
	size_t limit = 253 + (n > 0 && s[n - 1] == '.');
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

/* Fills dst with n octets repeating pattern. */
static void fill(char *dst, size_t n, const char *pattern)
{
	size_t pl = strlen(pattern);
	for (size_t i = 0; i < n; i++)
		dst[i] = pattern[i % pl];
}

/* RFC 7208 §7.3 left truncation of domain expansions at 253 octets. */
static void test_truncation(void)
{
#define L63 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxy"
	static const struct {
		const char *pattern; /* the domain is this, repeated */
		size_t n;            /* ... to this length */
		const char *in;      /* the macro-string */
		size_t want_len;     /* 0: check against truncate_ref only */
	} tr[] = {
	    /* 30 labels of 9 + 29 dots = 299: keep 25 labels = 249. */
	    {"abcdefghi.", 299, "%{d}", 249},
	    {"abcdefghi.", 249, "%{d}", 249},
	    /* 253 exactly stays; a trailing dot is not counted. */
	    {"abcdefghi.", 253, "%{d}", 253},
	    {"abcdefghi.", 253, "%{d}.", 254},
	    {"abcdefghi.", 254, "%{d}", 244}, /* ends "abcd": cut a label */
	    {"abcdefghi.", 300, "%{d}", 0},
	    {"a.", 300, "%{d}", 0},
	    {"a.", 5000, "%{d}", 0},
	    {"a.", 5000, "%{d}.", 0},
	    {"a.", 5000, "%{d}x", 0},
	    {"abcdefg.", 3000, "%{d}.%{d}.%{d}", 0},
	    {L63 ".", 70000, "x.%{d}.example.com", 0},
	    {L63 ".", 70000, "%{dr}", 0},
	    {"ab.", 2000, "%{D}", 0},
	    /* No label boundary: a single label longer than 253 comes out
	     * as its last 254 octets, which any domain check rejects. */
	    {"a", 300, "%{d}", 254},
	    {"a", 3000, "%{d}", 254},
	    {"a", 3000, "%{d}.", 255},
	    {"a", 3000, "x.%{d}", 254},
	};
	for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
		char *dom = malloc(tr[i].n);
		fill(dom, tr[i].n, tr[i].pattern);
		spfkit__macro_env e = envs[E4];
		e.domain = dom;
		e.domain_len = tr[i].n;

		/* The untruncated expansion, from explanation context. */
		char *full, *got;
		size_t flen, glen;
		int rc1 = expand(&e, tr[i].in, strlen(tr[i].in), X, SIZE_MAX,
				 &full, &flen);
		int rc2 = expand(&e, tr[i].in, strlen(tr[i].in), D, 4096, &got,
				 &glen);
		T_CHECK(rc1 == SPFKIT_OK && rc2 == SPFKIT_OK,
			"truncation #%zu: rc %d %d", i, rc1, rc2);
		if (rc1 == SPFKIT_OK && rc2 == SPFKIT_OK) {
			size_t off, rlen;
			truncate_ref(full, flen, &off, &rlen);
			T_CHECK(glen == rlen &&
				    memcmp(got, full + off, rlen) == 0,
				"truncation #%zu: len %zu, want %zu", i, glen,
				rlen);
			if (tr[i].want_len)
				T_EQ_INT(glen, tr[i].want_len, "length");
			/* Within the limit: the result starts a label. */
			size_t lim = 253 + (glen > 0 && got[glen - 1] == '.');
			if (glen <= lim)
				T_CHECK(off == 0 || full[off - 1] == '.',
					"truncation #%zu: label boundary", i);
		}
		free(full);
		free(got);
		free(dom);
	}
}

/* Builds the %{L}-style URL escaping of (p, n) by the book. */
static char *url_ref(const char *p, size_t n, size_t *len)
{
	char *r = malloc(3 * n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			r[k++] = (char)c;
		} else {
			snprintf(r + k, 4, "%%%02X", c);
			k += 3;
		}
	}
	r[k] = '\0';
	*len = k;
	return r;
}

/* The libspf2 CVE shapes (CVE-2021-20314, -33912, -33913, CVE-2023-42118):
 * long 8-bit inputs, URL escaping growth, many reversals, huge digit
 * counts and long literals, each with its exact output. */
static void test_hostile(void)
{
	enum { BIG = 65536 };
	char *local = malloc(BIG);
	/* Every octet value, dots included, so %{L} grows about 3x. */
	for (size_t i = 0; i < BIG; i++)
		local[i] = (char)(unsigned char)(i * 7 + 1);
	size_t want_len;
	char *want = url_ref(local, BIG, &want_len);

	spfkit__macro_env e = envs[E4];
	e.local = local;
	e.local_len = BIG;

	char *got;
	size_t len;
	/* The cap one octet short of the output: ETOOBIG, never more. */
	T_EQ_INT(expand(&e, "%{L}", 4, X, want_len - 1, &got, &len),
		 SPFKIT_ETOOBIG, "%{L} 64 KiB over cap");
	T_CHECK(len <= want_len - 1, "%%{L} stayed within its cap");
	free(got);
	T_EQ_INT(expand(&e, "%{L}", 4, X, want_len, &got, &len), SPFKIT_OK,
		 "%{L} 64 KiB at cap");
	T_EQ_INT(len, want_len, "%{L} 64 KiB length");
	T_CHECK(got && memcmp(got, want, want_len) == 0, "%%{L} 64 KiB bytes");
	free(got);
	free(want);

	/* %{lr} over 32768 one-octet parts: every part reversed. */
	for (size_t i = 0; i < BIG; i++)
		local[i] = (i % 2) ? '.' : (char)(unsigned char)(0x80 + i % 64);
	T_EQ_INT(expand(&e, "%{Lr}", 5, X, SIZE_MAX, &got, &len), SPFKIT_OK,
		 "%{Lr} many parts");
	/* Parts reversed: the last part is empty (trailing '.'), then the
	 * 8-bit octets from the end, each escaped, joined by '.'. */
	bool same = got != NULL && len == 1 + (BIG / 2) * 3 + (BIG / 2 - 1);
	for (size_t p = 0; same && p < BIG / 2; p++) {
		size_t src = BIG - 2 - 2 * p; /* the p-th part from the end */
		char esc[4];
		snprintf(esc, sizeof esc, "%%%02X", (unsigned char)local[src]);
		same = got[0] == '.' && memcmp(got + 1 + 4 * p, esc, 3) == 0 &&
		       (p == BIG / 2 - 1 || got[1 + 4 * p + 3] == '.');
	}
	T_CHECK(same, "%%{Lr} many parts: exact output (len %zu)", len);
	free(got);

	/* %{l2147483648r} and %{l1r}: huge and tiny counts over many parts. */
	T_EQ_INT(expand(&e, "%{l1r}", 6, X, SIZE_MAX, &got, &len), SPFKIT_OK,
		 "%{l1r}");
	T_CHECK(len == 1 && got && got[0] == local[0], "%%{l1r} is part 0");
	free(got);
	char *all;
	size_t alen;
	T_EQ_INT(expand(&e, "%{lr}", 5, X, SIZE_MAX, &all, &alen), SPFKIT_OK,
		 "%{lr}");
	T_EQ_INT(expand(&e, "%{l2147483648r}", 15, X, SIZE_MAX, &got, &len),
		 SPFKIT_OK, "%{l2147483648r}");
	T_CHECK(len == alen && all && got && memcmp(got, all, len) == 0,
		"%%{l2147483648r} == %%{lr}");
	free(got);
	free(all);

	/* The same 64 KiB in domain context: truncated, not refused. */
	T_EQ_INT(expand(&e, "%{L}.example.com", 16, D, 4096, &got, &len),
		 SPFKIT_OK, "%{L} domain");
	T_CHECK(len <= 253 && len > 200, "%%{L} domain truncated to %zu", len);
	free(got);

	/* A 4000-octet explanation literal, spaces included. */
	enum { LIT = 4000 };
	char *lit = malloc(LIT);
	fill(lit, LIT, "See http://example.com/why?id=1 ");
	T_EQ_INT(expand(&e, lit, LIT, X, 8192, &got, &len), SPFKIT_OK,
		 "4000-octet literal");
	T_CHECK(len == LIT && got && memcmp(got, lit, LIT) == 0,
		"4000-octet literal copied exactly");
	free(got);
	T_EQ_INT(expand(&e, lit, LIT, X, LIT - 1, &got, &len), SPFKIT_ETOOBIG,
		 "4000-octet literal over cap");
	free(got);
	free(lit);

	/* Many expansions in one string: 10000 x %{Lr} of a 6-octet value
	 * that escapes to 18. */
	enum { REP = 10000 };
	char *many = malloc(REP * 5);
	fill(many, REP * 5, "%{Lr}");
	e.local = "\xff.\xfe";
	e.local_len = 3;
	T_EQ_INT(expand(&e, many, REP * 5, X, SIZE_MAX, &got, &len), SPFKIT_OK,
		 "10000 x %{Lr}");
	same = got != NULL && len == (size_t)REP * 7;
	for (size_t i = 0; same && i < REP; i++)
		same = memcmp(got + 7 * i, "%FE.%FF", 7) == 0;
	T_CHECK(same, "10000 x %%{Lr}: exact output");
	free(got);
	T_EQ_INT(expand(&e, many, REP * 5, X, 1000, &got, &len), SPFKIT_ETOOBIG,
		 "10000 x %{Lr} over cap");
	T_CHECK(len <= 1000, "stayed within cap");
	free(got);
	free(many);
	free(local);
}

int main(void)
{
	setup();
	test_table();
	test_check();
	test_uses_p();
	test_append();
	test_truncation();
	test_hostile();
	return t_done();
}
