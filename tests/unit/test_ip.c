/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ip.c - lib/ip.c: parsing (strict and hostile), canonical text
 * (RFC 5952), prefix matching, %{i} values and reverse-lookup names.
 */
#include <stdlib.h>

#include "internal.h"
#include "t.h"

/* A string literal as (pointer, length), embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

/* Formats ip with f into a fresh string; caller frees. */
static char *fmt(void (*f)(const spfkit__ip *, spfkit__buf *),
		 const spfkit__ip *ip)
{
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 4096);
	f(ip, &b);
	return spfkit__buf_take(&b);
}

/* spfkit__ip_parse: family 0 means "must not parse"; canon is the
 * expected spfkit__ip_format() text. */
static const struct {
	const char *s;
	size_t n;
	int family;
	const char *canon;
} parse_cases[] = {
    {S("192.0.2.1"), 4, "192.0.2.1"},
    {S("0.0.0.0"), 4, "0.0.0.0"},
    {S("255.255.255.255"), 4, "255.255.255.255"},
    {S("10.0.0.255"), 4, "10.0.0.255"},
    {S(""), 0, NULL},
    {S("1.2.3"), 0, NULL},
    {S("1.2.3.4.5"), 0, NULL},
    {S("256.1.1.1"), 0, NULL},
    {S("1.2.3.256"), 0, NULL},
    {S("1.2.3.1000"), 0, NULL},
    {S("1234.1.1.1"), 0, NULL},
    {S("01.2.3.4"), 0, NULL},
    {S("1.2.3.00"), 0, NULL},
    {S("+1.2.3.4"), 0, NULL},
    {S("1.2.3.-4"), 0, NULL},
    {S("1..2.3"), 0, NULL},
    {S(".1.2.3.4"), 0, NULL},
    {S("1.2.3.4."), 0, NULL},
    {S(" 1.2.3.4"), 0, NULL},
    {S("1.2.3.4 "), 0, NULL},
    {S("1.2.3.4\0junk"), 0, NULL},
    {S("1.2.3.4\0"), 0, NULL},
    {S("0x1.2.3.4"), 0, NULL},
    {S("1.2.3.a"), 0, NULL},
    {S("::"), 6, "::"},
    {S("::1"), 6, "::1"},
    {S("1::"), 6, "1::"},
    {S("2001:db8::cb01"), 6, "2001:db8::cb01"},
    {S("2001:DB8::CB01"), 6, "2001:db8::cb01"},
    {S("2001:0db8:0000:0000:0000:0000:0000:0001"), 6, "2001:db8::1"},
    {S("1:2:3:4:5:6:7:8"), 6, "1:2:3:4:5:6:7:8"},
    {S("1:2:3:4:5:6:7::"), 6, "1:2:3:4:5:6:7:0"},
    {S("::2:3:4:5:6:7:8"), 6, "0:2:3:4:5:6:7:8"},
    {S("::1.2.3.4"), 6, "::102:304"},
    {S("64:ff9b::192.0.2.33"), 6, "64:ff9b::c000:221"},
    {S("1:2:3:4:5:6:1.2.3.4"), 6, "1:2:3:4:5:6:102:304"},
    {S("::ffff:192.0.2.1"), 4, "192.0.2.1"},
    {S("::FFFF:192.0.2.1"), 4, "192.0.2.1"},
    {S("0:0:0:0:0:ffff:c000:0201"), 4, "192.0.2.1"},
    {S("::ffff:c000:201"), 4, "192.0.2.1"},
    {S(":::"), 0, NULL},
    {S(":"), 0, NULL},
    {S("1::2::3"), 0, NULL},
    {S("::1::"), 0, NULL},
    {S(":1::2"), 0, NULL},
    {S("1::2:"), 0, NULL},
    {S("1:2:3:4:5:6:7"), 0, NULL},
    {S("1:2:3:4:5:6:7:8:9"), 0, NULL},
    {S("1:2:3:4:5:6:7:8::"), 0, NULL},
    {S("::1:2:3:4:5:6:7:8"), 0, NULL},
    {S("1:2:3:4:5:6:7::8"), 0, NULL},
    {S("12345::"), 0, NULL},
    {S("g::1"), 0, NULL},
    {S("::1%eth0"), 0, NULL},
    {S("[::1]"), 0, NULL},
    {S("::1\0"), 0, NULL},
    {S("::1\0junk"), 0, NULL},
    {S("1:2:3:4:5:6:7:1.2.3.4"), 0, NULL},
    {S("1:2:3:4:5:6::1.2.3.4"), 0, NULL},
    {S("::1.2.3.4:5"), 0, NULL},
    {S("::1.2.3"), 0, NULL},
    {S("::256.1.1.1"), 0, NULL},
    {S("::ffff:01.2.3.4"), 0, NULL},
    {S("::1a.2.3.4"), 0, NULL},
    {S("1.2.3.4::"), 0, NULL},
    {S(" ::1"), 0, NULL},
};

/* RFC 5952 §4 recommendations (and its §5 mapped form), as
 * spfkit__ip6_parse + spfkit__ip_format with family 6. */
static const struct {
	const char *in;
	const char *want;
} rfc5952_cases[] = {
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* §4.2.3 first run */
    {"2001:0db8::0001", "2001:db8::1"},               /* §4.1 no zeros */
    {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},        /* §4.2.1 longest */
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* §4.2.2 one 0 */
    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* §4.2.3 longest */
    {"2001:DB8::AbCd", "2001:db8::abcd"},             /* §4.3 lower case */
    {"0:0:0:0:0:0:0:0", "::"},
    {"0:0:0:0:0:0:0:1", "::1"},
    {"1:0:0:0:0:0:0:0", "1::"},
    {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},
    {"fe80::0:0:1", "fe80::1"},
    {"::ffff:192.0.2.1", "::ffff:192.0.2.1"}, /* §5 mixed */
    {"ffff::", "ffff::"},
    {"0:ffff::", "0:ffff::"},
};

/* %{i} and the PTR query name. */
static const struct {
	const char *ip;
	const char *macro;
	const char *rev;
} name_cases[] = {
    {"192.0.2.3", "192.0.2.3", "3.2.0.192.in-addr.arpa"},
    {"0.0.0.0", "0.0.0.0", "0.0.0.0.in-addr.arpa"},
    {"::ffff:10.1.2.3", "10.1.2.3", "3.2.1.10.in-addr.arpa"},
    {"2001:db8::cb01",
     "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1",
     "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
     "ip6.arpa"},
    {"::1", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1",
     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
     "ip6.arpa"},
    {"FFFF:ABCD::",
     "F.F.F.F.A.B.C.D.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",
     "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.f.f.f.f."
     "ip6.arpa"},
};

static const struct {
	const char *a, *b;
	unsigned prefix;
	bool want;
} prefix_cases[] = {
    {"192.0.2.1", "192.0.2.200", 24, true},
    {"192.0.2.1", "192.0.3.1", 24, false},
    {"192.0.2.1", "192.0.3.1", 23, true},
    {"192.0.2.1", "192.0.2.1", 32, true},
    {"192.0.2.1", "192.0.2.2", 32, false},
    {"192.0.2.1", "192.0.2.2", 31, false},
    {"192.0.2.2", "192.0.2.3", 31, true},
    {"10.0.0.1", "192.0.2.1", 0, true},
    {"10.0.0.1", "11.0.0.1", 8, false},
    {"10.0.0.1", "11.0.0.1", 7, true},
    {"128.0.0.0", "0.0.0.0", 1, false},
    {"127.0.0.0", "0.0.0.0", 1, true},
    {"192.0.2.1", "192.0.2.1", 33, true},   /* clamped to 32 */
    {"192.0.2.1", "192.0.2.2", 999, false}, /* clamped to 32 */
    {"2001:db8::1", "2001:db8::ffff", 64, true},
    {"2001:db8::1", "2001:db9::1", 32, false},
    {"2001:db8::1", "2001:db9::1", 31, true},
    {"2001:db8::1", "2001:db8::1", 128, true},
    {"2001:db8::1", "2001:db8::3", 127, false},
    {"2001:db8::2", "2001:db8::3", 127, true},
    {"2001:db8::1", "::", 0, true},
    {"2001:db8::1", "2001:db8::1", 129, true},
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0];
	     i++) {
		spfkit__ip ip;
		memset(&ip, 0xaa, sizeof ip);
		bool ok =
		    spfkit__ip_parse(parse_cases[i].s, parse_cases[i].n, &ip);
		T_CHECK(ok == (parse_cases[i].family != 0),
			"parse #%zu \"%s\": got %s", i, parse_cases[i].s,
			ok ? "ok" : "rejected");
		if (!ok || parse_cases[i].family == 0)
			continue;
		T_EQ_INT(ip.family, parse_cases[i].family, parse_cases[i].s);
		char *text = fmt(spfkit__ip_format, &ip);
		T_EQ_STR(text, parse_cases[i].canon, parse_cases[i].s);
		free(text);
	}
	T_CHECK(!spfkit__ip_parse(NULL, 0, &(spfkit__ip){0}), "NULL input");
}

/* The single-family parsers: ip4 only takes dotted quads, ip6 only IPv6
 * and keeps a mapped address as its 16 raw octets. */
static void test_family_parsers(void)
{
	static const struct {
		const char *s;
		size_t n;
		bool v4ok, v6ok;
	} cases[] = {
	    {S("192.0.2.1"), true, false},
	    {S("::1"), false, true},
	    {S("::ffff:192.0.2.1"), false, true},
	    {S("192.0.2.1\0"), false, false},
	    {S(""), false, false},
	    {S("1.2.3.4/24"), false, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char a4[4], a16[16];
		T_CHECK(spfkit__ip4_parse(cases[i].s, cases[i].n, a4) ==
			    cases[i].v4ok,
			"ip4_parse #%zu \"%s\"", i, cases[i].s);
		T_CHECK(spfkit__ip6_parse(cases[i].s, cases[i].n, a16) ==
			    cases[i].v6ok,
			"ip6_parse #%zu \"%s\"", i, cases[i].s);
	}

	unsigned char a[16];
	static const unsigned char mapped[16] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	T_CHECK(spfkit__ip6_parse(S("::ffff:192.0.2.1"), a) &&
		    memcmp(a, mapped, 16) == 0,
		"ip6_parse keeps the mapped address");
	static const unsigned char v4[4] = {192, 0, 2, 1};
	T_CHECK(spfkit__ip4_parse(S("192.0.2.1"), a) && memcmp(a, v4, 4) == 0,
		"ip4_parse octets");
	/* A prefix of a longer buffer: the length is what counts. */
	T_CHECK(spfkit__ip4_parse("192.0.2.10", 9, a) && memcmp(a, v4, 4) == 0,
		"ip4_parse stops at n");
	T_CHECK(spfkit__ip6_parse("::1:2", 3, a) && a[15] == 1,
		"ip6_parse stops at n");
}

static void test_rfc5952(void)
{
	for (size_t i = 0; i < sizeof rfc5952_cases / sizeof rfc5952_cases[0];
	     i++) {
		spfkit__ip ip = {.family = 6};
		bool ok = spfkit__ip6_parse(rfc5952_cases[i].in,
					    strlen(rfc5952_cases[i].in), ip.a);
		T_CHECK(ok, "ip6_parse \"%s\"", rfc5952_cases[i].in);
		char *text = fmt(spfkit__ip_format, &ip);
		T_EQ_STR(text, rfc5952_cases[i].want, rfc5952_cases[i].in);
		free(text);
	}
}

static void test_names(void)
{
	for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
		spfkit__ip ip;
		T_CHECK(spfkit__ip_parse(name_cases[i].ip,
					 strlen(name_cases[i].ip), &ip),
			"parse %s", name_cases[i].ip);
		char *m = fmt(spfkit__ip_macro, &ip);
		char *r = fmt(spfkit__ip_reverse_name, &ip);
		T_EQ_STR(m, name_cases[i].macro, name_cases[i].ip);
		T_EQ_STR(r, name_cases[i].rev, name_cases[i].ip);
		free(m);
		free(r);
	}
}

static void test_prefix(void)
{
	for (size_t i = 0; i < sizeof prefix_cases / sizeof prefix_cases[0];
	     i++) {
		spfkit__ip a, b;
		T_CHECK(spfkit__ip_parse(prefix_cases[i].a,
					 strlen(prefix_cases[i].a), &a) &&
			    spfkit__ip_parse(prefix_cases[i].b,
					     strlen(prefix_cases[i].b), &b) &&
			    a.family == b.family,
			"prefix #%zu parse", i);
		size_t len = a.family == 6 ? 16 : 4;
		T_CHECK(spfkit__prefix_match(a.a, b.a, len,
					     prefix_cases[i].prefix) ==
			    prefix_cases[i].want,
			"prefix #%zu %s vs %s /%u", i, prefix_cases[i].a,
			prefix_cases[i].b, prefix_cases[i].prefix);
	}
}

/* Formatting through a buffer whose cap is too small sets ETOOBIG. */
static void test_format_cap(void)
{
	spfkit__ip ip;
	T_CHECK(spfkit__ip_parse(S("2001:db8::cb01"), &ip), "parse");
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 10);
	spfkit__ip_reverse_name(&ip, &b);
	T_EQ_INT(b.err, SPFKIT_ETOOBIG, "reverse name over cap");
	spfkit__buf_free(&b);
}

int main(void)
{
	test_parse();
	test_family_parsers();
	test_rfc5952();
	test_names();
	test_prefix();
	test_format_cap();
	return t_done();
}
