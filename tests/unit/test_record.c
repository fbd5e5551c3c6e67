/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_record.c - the record grammar (RFC 7208 §4.5, §4.6, §12): what
 * parses, into which terms, and what is a permerror, with the position.
 */
#include <string.h>

#include "internal.h"
#include "t.h"

typedef struct rec_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int rc;     /* SPFKIT_OK or SPFKIT_EPARSE */
	size_t nterms;
	const char *first; /* first term's mechanism as text form, or NULL */
	int cidr4, cidr6;  /* of the first term */
	size_t errpos;     /* octet offset of the bad term when rc != OK */
} rec_case;

static const char *mech_name(spfkit__mech m)
{
	static const char *const names[] = {"all",
					    "include",
					    "a",
					    "mx",
					    "ptr",
					    "ip4",
					    "ip6",
					    "exists",
					    "redirect",
					    "exp",
					    "unknown-modifier"};
	return names[m];
}

static const rec_case cases[] = {
    {"v=spf1", 0, SPFKIT_OK, 0, NULL, -1, -1, 0},
    {"v=spf1 ", 0, SPFKIT_OK, 0, NULL, -1, -1, 0},
    {"V=SPF1 -ALL", 0, SPFKIT_OK, 1, "all", -1, -1, 0},
    {"v=spf1 -all", 0, SPFKIT_OK, 1, "all", -1, -1, 0},
    {"v=spf1   a   mx  -all  ", 0, SPFKIT_OK, 3, "a", -1, -1, 0},
    {"v=spf1 a/24", 0, SPFKIT_OK, 1, "a", 24, -1, 0},
    {"v=spf1 a//64", 0, SPFKIT_OK, 1, "a", -1, 64, 0},
    {"v=spf1 a/24//64", 0, SPFKIT_OK, 1, "a", 24, 64, 0},
    {"v=spf1 mx:example.com/0//0", 0, SPFKIT_OK, 1, "mx", 0, 0, 0},
    {"v=spf1 mx:foo:bar/baz.example.com", 0, SPFKIT_OK, 1, "mx", -1, -1, 0},
    {"v=spf1 ip4:192.0.2.0/24", 0, SPFKIT_OK, 1, "ip4", 24, -1, 0},
    {"v=spf1 ip6:2001:db8::/32", 0, SPFKIT_OK, 1, "ip6", -1, 32, 0},
    {"v=spf1 include:_spf.example.net", 0, SPFKIT_OK, 1, "include", -1, -1, 0},
    {"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}", 0, SPFKIT_OK, 1, "exists", -1,
     -1, 0},
    {"v=spf1 ptr", 0, SPFKIT_OK, 1, "ptr", -1, -1, 0},
    {"v=spf1 ptr:example.com", 0, SPFKIT_OK, 1, "ptr", -1, -1, 0},
    {"v=spf1 redirect=_spf.example.com", 0, SPFKIT_OK, 1, "redirect", -1, -1,
     0},
    {"v=spf1 -all exp=explain.%{d}", 0, SPFKIT_OK, 2, "all", -1, -1, 0},
    /* RFC 6652 reporting modifiers and unknown modifiers are accepted. */
    {"v=spf1 ra=postmaster rp=10 rr=e:f:s:n -all", 0, SPFKIT_OK, 4,
     "unknown-modifier", -1, -1, 0},
    {"v=spf1 moo.cow-far_out=man:dog/cat -all", 0, SPFKIT_OK, 2,
     "unknown-modifier", -1, -1, 0},
    {"v=spf1 a:example.com.", 0, SPFKIT_OK, 1, "a", -1, -1, 0},
    /* Not records at all. */
    {"v=spf10", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 0},
    {"spf1 -all", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 0},
    {"", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 0},
    /* Syntax errors, with the position of the bad term. */
    {"v=spf1 ipv4:192.0.2.1 -all", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip4:192.0.2.1/33", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip4:192.0.2.1/024", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip4:192.0.2", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip6:2001:db8::/129", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip6:192.0.2.1", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a/33", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a//129", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 include=example.com", 0, SPFKIT_OK, 1, "unknown-modifier", -1, -1,
     0},
    {"v=spf1 include:", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 include", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 exists:", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a:", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a:example", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a:example.123", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a:example.-com", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 all:foo", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 -all/24", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 +redirect=example.com", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 redirect=a.example redirect=b.example", 0, SPFKIT_EPARSE, 0, NULL,
     -1, -1, 26},
    {"v=spf1 exp=a.example exp=b.example", 0, SPFKIT_EPARSE, 0, NULL, -1, -1,
     21},
    {"v=spf1 redirect=", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 exp=", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 foo=%{x}", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a:%{c}.example.com", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 =foo", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 -", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip:192.0.2.1", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 a\tmx", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 ip4:192.0.2.1\n include:x.example", 0, SPFKIT_EPARSE, 0, NULL, -1,
     -1, 7},
    /* Non-ASCII, NUL and controls are errors, never silently cut. */
    {"v=spf1 a:b\xc3\xa9.example", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    {"v=spf1 -all\0 +all", 17, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
    /* TXT strings joined without a space (RFC 7208 §3.3). */
    {"v=spf1 ip4:192.0.2.1-all", 0, SPFKIT_EPARSE, 0, NULL, -1, -1, 7},
};

static void test_cases(void)
{
	const spfkit__alloc *a = spfkit__default_alloc();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const rec_case *c = &cases[i];
		size_t n = c->len ? c->len : strlen(c->text);
		spfkit__record *r = NULL;
		spfkit__parse_error err;
		int rc = spfkit__record_parse(a, c->text, n, &r, &err);
		T_CHECK(rc == c->rc, "'%s': rc %d, want %d (%s)", c->text, rc,
			c->rc, rc ? err.msg : "");
		if (rc == SPFKIT_OK && r) {
			T_EQ_INT(r->nterms, c->nterms, c->text);
			if (c->first && r->nterms) {
				T_EQ_STR(mech_name(r->terms[0].mech), c->first,
					 c->text);
				T_EQ_INT(r->terms[0].cidr4, c->cidr4, c->text);
				T_EQ_INT(r->terms[0].cidr6, c->cidr6, c->text);
			}
		} else if (rc == SPFKIT_EPARSE && c->errpos) {
			T_EQ_INT(err.pos, c->errpos, c->text);
			T_CHECK(strlen(err.msg) > 0 && !strchr(err.msg, '\n'),
				"'%s': one-line message", c->text);
		}
		spfkit__record_free(a, r);
	}
}

static void test_details(void)
{
	const spfkit__alloc *a = spfkit__default_alloc();
	spfkit__record *r = NULL;
	const char *txt = "v=spf1 ~mx:mail.example.com/28 ?ip4:192.0.2.7 "
			  "redirect=_spf.example.net exp=why.example.net";
	T_EQ_INT(spfkit__record_parse(a, txt, strlen(txt), &r, NULL), SPFKIT_OK,
		 "details parse");
	if (!r)
		return;
	T_EQ_INT(r->terms[0].qualifier, '~', "qualifier ~");
	T_EQ_INT(r->terms[1].qualifier, '?', "qualifier ?");
	T_CHECK(r->terms[0].spec_len == 16 &&
		    memcmp(r->text + r->terms[0].spec_pos, "mail.example.com",
			   16) == 0,
		"mx domain-spec without the CIDR");
	T_CHECK(memcmp(r->terms[1].addr, "\xc0\x00\x02\x07", 4) == 0,
		"ip4 address");
	T_EQ_INT(r->redirect, 2, "redirect index");
	T_EQ_INT(r->exp, 3, "exp index");
	spfkit__record_free(a, r);

	/* The version match of §4.5. */
	T_CHECK(spfkit__is_spf_record("v=spf1", 6), "bare version");
	T_CHECK(spfkit__is_spf_record("v=spf1 a", 8), "version and term");
	T_CHECK(!spfkit__is_spf_record("v=spf1a", 7), "v=spf1a");
	T_CHECK(!spfkit__is_spf_record("v=spf", 5), "short");
	T_CHECK(!spfkit__is_spf_record(" v=spf1", 7), "leading space");
}

static void test_domain_ok(void)
{
	static const struct {
		const char *s;
		bool ok;
	} d[] = {
	    {"example.com", true},
	    {"example.com.", true},
	    {"a", true},
	    {"", false},
	    {".", false},
	    {"a..b", false},
	    {".a.b", false},
	    {"Macro Error.example.com", true},
	    {"a\tb.example", false},
	    {"a\x7f.example", false},
	    {"a..", false},
	    {"a.b..", false},
	    /* a control octet past the first 16 (a vector's tail) */
	    {"mail.example.org.tail\x1f.example", false},
	    {"abcdefghijklmnopqrstuvwxyz0123456789.example\x01", false},
	    {"abcdefghijklmnopqrstuvwxyz0123456789.example.", true},
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
		T_CHECK(spfkit__domain_ok(d[i].s, strlen(d[i].s)) == d[i].ok,
			"domain_ok('%s') want %d", d[i].s, d[i].ok);
	char big[300];
	memset(big, 'a', sizeof big);
	for (size_t i = 63; i < sizeof big; i += 64)
		big[i] = '.';
	T_CHECK(spfkit__domain_ok(big, 253), "253 octets");
	T_CHECK(!spfkit__domain_ok(big, 254), "254 octets");
	T_CHECK(!spfkit__domain_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				   "aaaaaaaaaaaaaaaaaaaaa.b",
				   66),
		"64-octet label");
	T_CHECK(!spfkit__domain_ok("b.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				   "aaaaaaaaaaaaaaaaaaaaaaa",
				   66),
		"64-octet last label");
	T_CHECK(!spfkit__domain_ok("a\0b.example", 11), "a NUL inside");
	T_CHECK(spfkit__domain_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				  "aaaaaaaaaaaaaaaaaaa.b",
				  65),
		"63-octet label");
}

int main(void)
{
	test_cases();
	test_details();
	test_domain_ok();
	return t_done();
}
