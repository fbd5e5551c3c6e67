/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lint.c - lib/lint.c: every record rule with a record that triggers
 * it and one that must not, positions and fixes (the replacement quoted
 * exactly, or words), hostile octets as \xHH, the tree rules fed by a
 * walked check's events, and every call with the Nth allocation failing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spfkit.h"
#include "t.h"
#include "t_failer.h"

/* What a lint reported. */
typedef struct seen {
	char codes[4096];
	unsigned n;
	unsigned errors;
	size_t pos, len; /* of the finding with the wanted code */
	char fix[4096];
	char message[512];
	char replacement[1024];
	bool has_replacement;
	char domain[256], other_domain[256];
	const char *want;
} seen;

/* Is code one of spfkit_lint_code()'s? */
static bool known_code(const char *code)
{
	for (size_t i = 0; spfkit_lint_code(i); i++)
		if (strcmp(spfkit_lint_code(i), code) == 0)
			return true;
	return false;
}

static void on_finding(const spfkit_finding *f, void *ud)
{
	seen *s = ud;
	size_t used = strlen(s->codes);
	snprintf(s->codes + used, sizeof s->codes - used, "%s ", f->code);
	s->n++;
	if (f->severity == SPFKIT_SEVERITY_ERROR)
		s->errors++;
	if (s->want && strcmp(f->code, s->want) == 0) {
		s->pos = f->pos;
		s->len = f->len;
		snprintf(s->fix, sizeof s->fix, "%s", f->fix ? f->fix : "");
		snprintf(s->message, sizeof s->message, "%s", f->message);
		s->has_replacement = f->replacement != NULL;
		snprintf(s->replacement, sizeof s->replacement, "%.*s",
			 (int)f->replacement_len,
			 f->replacement ? f->replacement : "");
		snprintf(s->domain, sizeof s->domain, "%s",
			 f->domain ? f->domain : "");
		snprintf(s->other_domain, sizeof s->other_domain, "%s",
			 f->other_domain ? f->other_domain : "");
	}
	T_CHECK(known_code(f->code), "%s: not in spfkit_lint_code()", f->code);
	/* A fix that quotes a replacement quotes it verbatim. */
	if (f->replacement) {
		bool in = f->fix && f->replacement_len < 4096;
		if (in) {
			char rep[4096];
			memcpy(rep, f->replacement, f->replacement_len);
			rep[f->replacement_len] = '\0';
			in = strstr(f->fix, rep) != NULL;
		}
		T_CHECK(in, "%s: the fix does not quote the replacement",
			f->code);
	}
	/* Messages and fixes are one line of printable ASCII. */
	bool printable = f->message[0] != '\0';
	for (const char *p = f->message; *p; p++)
		printable = printable && *p >= 0x20 && *p < 0x7f;
	for (const char *p = f->fix ? f->fix : ""; *p; p++)
		printable = printable && *p >= 0x20 && *p < 0x7f;
	if (!printable)
		T_CHECK(printable, "%s: message or fix not printable", f->code);
}

/* Does the space-separated list hold code? */
static bool has_code(const seen *s, const char *code)
{
	char pat[80];
	snprintf(pat, sizeof pat, "%s ", code);
	for (const char *p = s->codes; (p = strstr(p, pat)); p++)
		if (p == s->codes || p[-1] == ' ')
			return true;
	return false;
}

typedef struct rule {
	const char *code;
	const char *bad;  /* triggers code */
	const char *good; /* must not */
	unsigned flags;
} rule;

static const rule rules[] = {
    {"not-spf", "hello world", "v=spf1 -all", 0},
    {"missing-version", "spf1 mx -all", "v=spf1 mx -all", 0},
    {"version-not-first", " v=spf1 mx -all", "v=spf1 mx -all", 0},
    {"version-no-space", "v=spf1mx -all", "v=spf1 mx -all", 0},
    {"version-typo", "v=spf2.0/pra mx -all", "v=spf1 mx -all", 0},
    {"ipv4-typo", "v=spf1 ipv4:192.0.2.0/24 -all",
     "v=spf1 ip4:192.0.2.0/24 -all", 0},
    {"ipv4-typo", "v=spf1 ipv4=192.0.2.0/24 -all",
     "v=spf1 ip4:192.0.2.0/24 -all", 0},
    {"ipv6-typo", "v=spf1 IPv6:2001:db8::/32 -all",
     "v=spf1 ip6:2001:db8::/32 -all", 0},
    {"ip-typo", "v=spf1 ip:192.0.2.1 -all", "v=spf1 ip4:192.0.2.1 -all", 0},
    {"include-equals", "v=spf1 include=_spf.example.com -all",
     "v=spf1 include:_spf.example.com -all", 0},
    {"mechanism-equals", "v=spf1 a=mail.example.com -all",
     "v=spf1 a:mail.example.com -all", 0},
    {"missing-space", "v=spf1 ip4:192.0.2.1include:_spf.example.com -all",
     "v=spf1 ip4:192.0.2.1 include:_spf.example.com -all", 0},
    {"missing-space", "v=spf1 mx~all", "v=spf1 mx ~all", 0},
    {"glued-all", "v=spf1 a:mail.example.com-all",
     "v=spf1 a:mail.example.com -all", 0},
    {"modifier-colon", "v=spf1 redirect:_spf.example.com",
     "v=spf1 redirect=_spf.example.com", 0},
    {"ip-as-domain", "v=spf1 a:192.0.2.1 -all",
     "v=spf1 a:mail.example.com -all", 0},
    {"no-domain", "v=spf1 include:localhost -all",
     "v=spf1 include:_spf.example.com -all", 0},
    {"exp-not-domain", "v=spf1 -all exp=Go away",
     "v=spf1 -all exp=explain.example.com", 0},
    {"all-argument", "v=spf1 -all.", "v=spf1 -all", 0},
    {"stray-quote", "v=spf1 mx -all\"", "v=spf1 mx -all", 0},
    {"bad-octet", "v=spf1 mx\xc2\xa0-all", "v=spf1 mx -all", 0},
    {"syntax", "v=spf1 ip4:192.0.2.0/33 -all", "v=spf1 ip4:192.0.2.0/32 -all",
     0},
    {"duplicate-modifier",
     "v=spf1 redirect=a.example.com redirect=b.example.com",
     "v=spf1 redirect=a.example.com", 0},
    {"ptr", "v=spf1 ptr -all", "v=spf1 a -all", 0},
    {"all-pass", "v=spf1 +all", "v=spf1 -all", 0},
    {"all-pass", "v=spf1 all", "v=spf1 ~all", 0},
    {"all-pass", "v=spf1 +all", "v=spf1 ?all", SPFKIT_LINT_INCLUDED},
    {"all-neutral", "v=spf1 a ?all", "v=spf1 a ?all", 0},
    {"redirect-ignored", "v=spf1 -all redirect=_spf.example.com",
     "v=spf1 redirect=_spf.example.com", 0},
    {"after-all", "v=spf1 -all a", "v=spf1 a -all", 0},
    {"cidr-host-bits", "v=spf1 ip4:192.0.2.1/24 -all",
     "v=spf1 ip4:192.0.2.0/24 -all", 0},
    {"cidr-host-bits", "v=spf1 ip6:2001:db8::1/64 -all",
     "v=spf1 ip6:2001:db8::/64 -all", 0},
    {"huge-range", "v=spf1 ip4:10.0.0.0/8 -all", "v=spf1 ip4:10.0.0.0/16 -all",
     0},
    {"huge-range", "v=spf1 a/8 -all", "v=spf1 a/24 -all", 0},
    {"huge-range", "v=spf1 ip6:2001:db8::/16 -all",
     "v=spf1 ip6:2001:db8::/32 -all", 0},
    {"huge-range", "v=spf1 ip4:10.0.0.0/8 -all",
     "v=spf1 -ip4:10.0.0.0/8 ip4:10.1.0.0/16 -all", 0},
    {"all-range", "v=spf1 ip4:0.0.0.0/0 -all", "v=spf1 ip4:192.0.2.0/24 -all",
     0},
    {"private-range", "v=spf1 ip4:10.20.0.0/16 -all",
     "v=spf1 -ip4:10.20.0.0/16 ip4:192.0.2.0/24 -all", 0},
    {"private-range", "v=spf1 ip4:172.31.255.1 -all",
     "v=spf1 ip4:172.32.0.1 -all", 0},
    {"private-range", "v=spf1 ip4:192.168.0.0/15 -all",
     "v=spf1 ip4:192.170.0.0/16 -all", 0},
    {"private-range", "v=spf1 ip6:fd12:3456::/48 -all",
     "v=spf1 ip6:2001:db8::/48 -all", 0},
    {"private-range", "v=spf1 ip4:100.64.1.0/24 -all",
     "v=spf1 ip4:100.128.1.0/24 -all", 0},
    {"loopback-range", "v=spf1 ip4:127.0.0.1 -all", "v=spf1 ip4:128.0.0.1 -all",
     0},
    {"loopback-range", "v=spf1 ip6:::1 -all", "v=spf1 ip6:::2 -all", 0},
    {"link-local-range", "v=spf1 ip4:169.254.0.0/16 -all",
     "v=spf1 ip4:169.253.0.0/16 -all", 0},
    {"link-local-range", "v=spf1 ip6:fe80::1 -all", "v=spf1 ip6:fec0::1 -all",
     0},
    {"no-all", "v=spf1 a mx", "v=spf1 a mx -all", 0},
    {"local-part-macro", "v=spf1 exists:%{l}._spf.example.com -all",
     "v=spf1 exists:%{i}._spf.example.com -all", 0},
    {"local-part-macro", "v=spf1 include:%{S}.example.com -all",
     "v=spf1 include:%{o}.example.com -all", 0},
    {"unknown-modifier", "v=spf1 -all redirct=x.example.com",
     "v=spf1 -all ra=postmaster rp=100 rr=all", 0},
    {"duplicate-version", "v=spf1 a v=spf1 -all", "v=spf1 a -all", 0},
    {"duplicate-term", "v=spf1 mx mx -all", "v=spf1 mx a -all", 0},
    {"txt-string-long",
     "v=spf1 ip4:198.51.0.0/24 ip4:198.51.1.0/24 ip4:198.51.2.0/24 "
     "ip4:198.51.3.0/24 ip4:198.51.4.0/24 ip4:198.51.5.0/24 "
     "ip4:198.51.6.0/24 ip4:198.51.7.0/24 ip4:198.51.8.0/24 "
     "ip4:198.51.9.0/24 ip4:198.51.10.0/24 ip4:198.51.11.0/24 "
     "ip4:198.51.12.0/24 ip4:198.51.13.0/24 -all",
     "v=spf1 ip4:198.51.0.0/24 -all", SPFKIT_LINT_DRAFT},
};

/* Lints text, collecting findings; want names the code whose position
 * and fix are kept. */
static int lint(const spfkit_config *cfg, const char *text, unsigned flags,
		const char *want, seen *s)
{
	memset(s, 0, sizeof *s);
	s->want = want;
	return spfkit_lint_record(cfg, text, strlen(text), flags, on_finding,
				  s);
}

static void test_rules(const spfkit_config *cfg)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		const rule *r = &rules[i];
		seen s;
		T_EQ_INT(lint(cfg, r->bad, r->flags, r->code, &s), SPFKIT_OK,
			 r->bad);
		T_CHECK(has_code(&s, r->code), "'%s' should give %s, gave %s",
			r->bad, r->code, s.codes);
		unsigned flags = r->flags;
		/* ?all is the usual end of an included record. */
		if (strcmp(r->code, "all-neutral") == 0)
			flags |= SPFKIT_LINT_INCLUDED;
		T_EQ_INT(lint(cfg, r->good, flags, NULL, &s), SPFKIT_OK,
			 r->good);
		T_CHECK(!has_code(&s, r->code),
			"'%s' should not give %s, gave %s", r->good, r->code,
			s.codes);
	}
	/* Records that are fine give nothing at all. */
	static const char *const clean[] = {
	    "v=spf1 -all",
	    "v=spf1 mx a:mail.example.com ip4:192.0.2.0/24 "
	    "ip6:2001:db8::/32 include:_spf.example.net ~all",
	    "v=spf1 redirect=_spf.example.com",
	    "V=SPF1 MX -ALL",
	    "v=spf1 exists:%{i}.%{v}._spf.example.com -all "
	    "exp=explain.example.com",
	    "v=spf1 ip4:192.0.2.0/24 ra=postmaster rp=100 rr=all -all",
	};
	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		seen s;
		lint(cfg, clean[i], 0, NULL, &s);
		T_CHECK(s.n == 0, "'%s' gave %s", clean[i], s.codes);
	}
}

/* A fix that quotes a correction: the replacement of the finding code of
 * record (NULL: none, the fix is words). */
typedef struct fixcase {
	const char *record, *code, *replacement;
} fixcase;

static const fixcase fixcases[] = {
    /* Issue 13: a TAB after v=spf1 became '?', the neutral qualifier. */
    {"v=spf1\tip4:192.0.2.0/24 -all", "version-no-space",
     "v=spf1 ip4:192.0.2.0/24 -all"},
    {"v=spf1\xc2\xa0mx -all", "version-no-space", "v=spf1 mx -all"},
    {"v=spf1\xe2\x80\x8bmx -all", "version-no-space", "v=spf1 mx -all"},
    {"v=spf1mx -all", "version-no-space", "v=spf1 mx -all"},
    {"v=spf1\x01mx -all", "version-no-space", NULL},
    {"v=spf1 mx\tmx:b.example -all", "bad-octet", "mx mx:b.example"},
    {"v=spf1 mx \xe2\x80\x94"
     "all",
     "bad-octet", "-all"},
    {"v=spf1 mx \xe2\x80\x9cinclude:a.example\xe2\x80\x9d -all", "bad-octet",
     "include:a.example"},
    {"v=spf1 mx\x01-all", "bad-octet", NULL},
    {"v=spf1 mx\xff-all", "bad-octet", NULL},
    {"\xe2\x80\x9cv=spf1 mx -all\xe2\x80\x9d", "version-not-first",
     "v=spf1 mx -all"},
    {"\"v=spf1 mx -all\"", "version-not-first", "v=spf1 mx -all"},
    {"  v=spf1 a -all  ", "version-not-first", "v=spf1 a -all"},
    {"spf1 mx -all", "missing-version", "v=spf1 mx -all"},
    {"v-spf1 mx -all", "version-typo", "v=spf1 mx -all"},
    {"v=spf mx -all", "version-typo", "v=spf1 mx -all"},
    {"v=spf2.0/pra mx -all", "version-typo", NULL},
    {"v=spf1 mx -all\"", "stray-quote", "-all"},
    {"v=spf1 ipv4:mail.example -all", "ipv4-typo", NULL},
    {"v=spf1 ip:garbage -all", "ip-typo", NULL},
    {"v=spf1 a:mail.example.com-all", "glued-all", "a:mail.example.com -all"},
    {"v=spf1 mx~all", "missing-space", "mx ~all"},
    {"v=spf1 redirect=a.example redirct=b.example", "unknown-modifier", NULL},
    {"v=spf1 -all redirct=b.example", "unknown-modifier", "redirect=b.example"},
    {"v=spf1 -all exp:explain.example", "modifier-colon",
     "exp=explain.example"},
    {"v=spf1 -all exp=a.example exp:explain.example", "modifier-colon", NULL},
};

/* Replacements are exact, or absent when no text is safe to paste. */
static void test_fixes(const spfkit_config *cfg)
{
	for (size_t i = 0; i < sizeof fixcases / sizeof fixcases[0]; i++) {
		const fixcase *c = &fixcases[i];
		seen s;
		lint(cfg, c->record, 0, c->code, &s);
		T_CHECK(has_code(&s, c->code), "'%s': no %s (%s)", c->record,
			c->code, s.codes);
		if (c->replacement)
			T_EQ_STR(s.replacement, c->replacement, c->record);
		else
			T_CHECK(!s.has_replacement && s.fix[0],
				"'%s': replacement '%s', want words", c->record,
				s.replacement);
		T_CHECK(!strchr(s.fix, '?') || strstr(c->record, "?"),
			"'%s': fix '%s'", c->record, s.fix);
	}
	/* Hostile octets in messages are \xHH, never '?'. */
	seen s;
	lint(cfg, "v=spf1\tip4:192.0.2.0/24 -all", 0, "version-no-space", &s);
	T_CHECK(strstr(s.message, "'\\x09'") != NULL, "message: %s", s.message);
	T_EQ_STR(s.fix,
		 "put a space after v=spf1: 'v=spf1 ip4:192.0.2.0/24 "
		 "-all'",
		 "the fix quotes the corrected record");
	lint(cfg, "v=spf1 a\\b\x7f -all", 0, "bad-octet", &s);
	T_CHECK(strstr(s.message, "a\\x5Cb\\x7F") != NULL, "message: %s",
		s.message);
	/* A long term is quoted whole. */
	char rec[700], want[700];
	snprintf(rec, sizeof rec, "v=spf1 include=%0*d.example -all", 500, 7);
	snprintf(want, sizeof want, "include:%0*d.example", 500, 7);
	lint(cfg, rec, 0, "include-equals", &s);
	T_CHECK(strcmp(s.replacement, want) == 0, "long term: '%s'",
		s.replacement);
	T_CHECK(strstr(s.fix, "...") == NULL, "long fix cut");
	/* A draft over 255 octets: strings of at most 255. */
	char big[1200] = "v=spf1";
	for (int k = 0; k < 60; k++)
		snprintf(big + strlen(big), sizeof big - strlen(big),
			 " ip4:198.51.%d.0/24", k);
	snprintf(big + strlen(big), sizeof big - strlen(big), " -all");
	lint(cfg, big, SPFKIT_LINT_DRAFT, "txt-string-long", &s);
	T_CHECK(has_code(&s, "txt-string-long"), "long: %s", s.codes);
	char joined[1200];
	size_t jn = 0, nstr = 0;
	bool short_enough = true;
	for (const char *p = strchr(s.fix, '"'); p; p = strchr(p + 1, '"')) {
		const char *e = strchr(p + 1, '"');
		if (!e)
			break;
		size_t n = (size_t)(e - p - 1);
		short_enough = short_enough && n <= 255;
		if (jn + n < sizeof joined) {
			memcpy(joined + jn, p + 1, n);
			jn += n;
		}
		nstr++;
		p = e;
	}
	joined[jn] = '\0';
	T_CHECK(nstr == 5 && short_enough, "long: %zu strings", nstr);
	T_CHECK(strcmp(joined, big) == 0, "the strings join to '%s'", joined);
}

/* Positions point at the term; fixes are what to write instead. */
static void test_positions(const spfkit_config *cfg)
{
	seen s;
	lint(cfg, "v=spf1 mx ipv4:192.0.2.0/24 -all", 0, "ipv4-typo", &s);
	T_EQ_INT(s.pos, 10, "ipv4 position");
	T_EQ_INT(s.len, 17, "ipv4 length");
	T_EQ_STR(s.fix, "ip4:192.0.2.0/24", "ipv4 fix");
	lint(cfg, "v=spf1 ~ipv4:192.0.2.0/24 -all", 0, "ipv4-typo", &s);
	T_EQ_STR(s.fix, "~ip4:192.0.2.0/24", "qualifier kept");
	lint(cfg, "v=spf1 ip:2001:db8::1 -all", 0, "ip-typo", &s);
	T_EQ_STR(s.fix, "ip6:2001:db8::1", "ip: with IPv6");
	lint(cfg, "v=spf1 -ip4:192.0.2.77/26 -all", 0, "cidr-host-bits", &s);
	T_EQ_STR(s.fix, "-ip4:192.0.2.64/26", "host bits fix");
	lint(cfg, "v=spf1 include=a.example.com -all", 0, "include-equals", &s);
	T_EQ_STR(s.fix, "include:a.example.com", "include= fix");
	lint(cfg, "v=spf1 a:192.0.2.1 -all", 0, "ip-as-domain", &s);
	T_EQ_STR(s.fix, "ip4:192.0.2.1", "a:IP fix");
	lint(cfg, "v=spf1 -all. mx", 0, "all-argument", &s);
	T_EQ_STR(s.fix, "-all", "all fix");
	T_EQ_INT(s.pos, 7, "all position");
	/* Every syntax error of a record, not only the first. */
	lint(cfg, "v=spf1 ipv4:192.0.2.1 ipv6:2001:db8::1 foo -all", 0, NULL,
	     &s);
	T_EQ_INT(s.errors, 3, "three syntax errors");
	/* The words of an exp= text are one finding. */
	lint(cfg, "v=spf1 -all exp=You may not send mail", 0, NULL, &s);
	T_EQ_INT(s.n, 1, "exp text: one finding");
	/* Hostile bytes never reach messages (on_finding checks). */
	lint(cfg, "v=spf1 a:\x01\x7f\xff.example -all", 0, NULL, &s);
	T_CHECK(s.errors >= 1, "control octets: %s", s.codes);
	T_EQ_INT(spfkit_lint_record(cfg, NULL, 3, 0, on_finding, &s),
		 SPFKIT_EINVAL, "NULL text");
	T_EQ_INT(spfkit_lint_record(NULL, "v=spf1", 6, 0, on_finding, &s),
		 SPFKIT_EINVAL, "NULL config");
	T_EQ_STR(spfkit_severity_name(SPFKIT_SEVERITY_WARNING), "warning",
		 "severity name");
}

static const char zone_text[] =
    "$ORIGIN lint.example.\n"
    "ok IN TXT \"v=spf1 ip4:192.0.2.0/24 include:inc.lint.example -all\"\n"
    "inc IN TXT \"v=spf1 ip4:198.51.100.0/24 ?all\"\n"
    "broken IN TXT \"v=spf1 include:none.lint.example "
    "include:dup.lint.example a:gone.lint.example a:gone2.lint.example "
    "a:gone3.lint.example -all\"\n"
    "dup IN TXT \"v=spf1 ip4:198.51.100.0/25 include:inc.lint.example "
    "?all\"\n"
    "none IN A 192.0.2.1\n"
    "many IN TXT \"v=spf1 include:t1.lint.example include:t1.lint.example "
    "include:t1.lint.example -all\"\n"
    "t1 IN TXT \"v=spf1 a:x.lint.example a:x.lint.example a:x.lint.example "
    "?all\"\n"
    "x IN A 192.0.2.3\n"
    "expnone IN TXT \"v=spf1 -all exp=e.expnone.lint.example\"\n"
    "expmulti IN TXT \"v=spf1 -all exp=e.expmulti.lint.example\"\n"
    "e.expmulti IN TXT \"one\"\n"
    "e.expmulti IN TXT \"two\"\n"
    "expmacro IN TXT \"v=spf1 -all exp=e.expmacro.lint.example\"\n"
    "e.expmacro IN TXT \"no %{q} here\"\n"
    "expok IN TXT \"v=spf1 redirect=expok2.lint.example "
    "exp=e.expnone.lint.example\"\n"
    "expok2 IN TXT \"v=spf1 -all exp=e.expok2.lint.example\"\n"
    "e.expok2 IN TXT \"%{i} may not send for %{d}\"\n"
    "design IN TXT \"v=spf1 exists:%{i}.a.lint.example "
    "exists:%{i}.b.lint.example ptr a:gone.lint.example -all\"\n"
    "gone IN TXT \"not an address\"\n";

static char zone_path[64];

/* Walks sender's domain with a linter attached; want names the code
 * whose finding is kept in s. */
static int walk_keep(const spfkit_config *cfg, const spfkit_zone *z,
		     const char *sender, const char *want, seen *s,
		     unsigned *lookups)
{
	memset(s, 0, sizeof *s);
	s->want = want;
	spfkit_linter *l = NULL;
	int rc = spfkit_linter_new(&l, cfg, 0, on_finding, s);
	if (rc)
		return rc;
	spfkit_check *chk = NULL;
	rc = spfkit_check_new(&chk, cfg);
	if (!rc)
		rc = spfkit_check_set_ip(chk, "192.0.2.200");
	if (!rc)
		rc = spfkit_check_set_sender(chk, sender, strlen(sender));
	if (!rc)
		rc = spfkit_check_set_walk(chk, 1);
	if (!rc)
		rc = spfkit_check_set_events(chk, spfkit_linter_event_cb, l);
	if (!rc)
		rc = spfkit_zone_check(z, chk, 0);
	if (!rc)
		rc = spfkit_linter_finish(l);
	if (lookups)
		*lookups = spfkit_check_lookups(chk);
	if (!rc)
		T_EQ_INT(spfkit_linter_count(l, SPFKIT_SEVERITY_ERROR),
			 s->errors, "linter error count");
	spfkit_check_free(chk);
	spfkit_linter_free(l);
	return rc;
}

/* Walks sender's domain with a linter attached. */
static int walk(const spfkit_config *cfg, const spfkit_zone *z,
		const char *sender, seen *s, unsigned *lookups)
{
	return walk_keep(cfg, z, sender, NULL, s, lookups);
}

/* Walks sender's domain: code is reported, and its finding kept in s. */
static void walk_want(const spfkit_config *cfg, const spfkit_zone *z,
		      const char *sender, const char *code, seen *s)
{
	T_EQ_INT(walk_keep(cfg, z, sender, code, s, NULL), SPFKIT_OK, sender);
	T_CHECK(has_code(s, code), "%s: no %s (%s)", sender, code, s->codes);
}

static void test_tree(const spfkit_config *cfg, const spfkit_zone *z)
{
	seen s;
	unsigned lookups = 0;
	T_EQ_INT(walk(cfg, z, "a@ok.lint.example", &s, &lookups), SPFKIT_OK,
		 "walk ok");
	T_CHECK(s.n == 0, "ok.lint.example: %s", s.codes);
	T_EQ_INT(walk(cfg, z, "a@broken.lint.example", &s, &lookups), SPFKIT_OK,
		 "walk broken");
	T_CHECK(has_code(&s, "include-no-record"), "broken: %s", s.codes);
	T_CHECK(has_code(&s, "void-lookup"), "broken: %s", s.codes);
	T_CHECK(has_code(&s, "too-many-void-lookups"), "broken: %s", s.codes);
	T_CHECK(has_code(&s, "overlapping-netblock"), "broken: %s", s.codes);
	T_CHECK(!has_code(&s, "too-many-lookups"), "broken: %s", s.codes);
	T_EQ_INT(lookups, 6, "broken lookups");
	T_EQ_INT(walk(cfg, z, "a@many.lint.example", &s, &lookups), SPFKIT_OK,
		 "walk many");
	T_EQ_INT(lookups, 12, "the worst path: 3 includes and 9 a");
	T_CHECK(has_code(&s, "too-many-lookups"), "many: %s", s.codes);
	T_CHECK(has_code(&s, "duplicate-include"), "many: %s", s.codes);
	T_CHECK(has_code(&s, "duplicate-term"), "many: %s", s.codes);
	T_EQ_INT(walk(cfg, z, "a@nothing.lint.example", &s, NULL), SPFKIT_OK,
		 "walk nothing");
	T_CHECK(has_code(&s, "no-record"), "nothing: %s", s.codes);

	/* An include without a record is the includer's to fix. */
	walk_want(cfg, z, "a@broken.lint.example", "include-no-record", &s);
	T_EQ_STR(s.domain, "broken.lint.example", "include-no-record domain");
	walk_want(cfg, z, "a@broken.lint.example", "overlapping-netblock", &s);
	T_EQ_STR(s.domain, "dup.lint.example", "netblock: the narrower");
	T_EQ_STR(s.other_domain, "inc.lint.example", "netblock: the wider");
	walk_want(cfg, z, "a@many.lint.example", "duplicate-include", &s);
	T_EQ_STR(s.domain, "many.lint.example", "duplicate-include domain");
	walk_want(cfg, z, "a@many.lint.example", "too-many-lookups", &s);
	T_EQ_STR(s.domain, "many.lint.example", "a limit is the tree's");

	/* exp= (RFC 7208 6.2): only the deciding record's. */
	walk(cfg, z, "a@expnone.lint.example", &s, NULL);
	T_CHECK(has_code(&s, "exp-no-target"), "expnone: %s", s.codes);
	walk(cfg, z, "a@expmulti.lint.example", &s, NULL);
	T_CHECK(has_code(&s, "exp-multiple"), "expmulti: %s", s.codes);
	walk(cfg, z, "a@expmacro.lint.example", &s, NULL);
	T_CHECK(has_code(&s, "exp-bad-macro"), "expmacro: %s", s.codes);
	walk(cfg, z, "a@expok.lint.example", &s, NULL);
	T_CHECK(s.n == 0, "expok (the redirecting exp= is not used): %s",
		s.codes);

	/* Void lookups by cause: exists:%{i} and ptr by design, a:gone
	 * stale (it has TXT but no A). */
	walk_want(cfg, z, "a@design.lint.example", "too-many-void-lookups", &s);
	T_CHECK(strstr(s.message, "3 are by design") != NULL, "design: %s",
		s.message);
	T_CHECK(strstr(s.fix, "'a:gone.lint.example' in design.lint.example") !=
		    NULL,
		"design fix: %s", s.fix);
	T_CHECK(!has_code(&s, "void-lookup") ||
		    strstr(s.codes, "void-lookup void-lookup") == NULL,
		"design: one stale void-lookup: %s", s.codes);
	T_EQ_INT(spfkit_linter_event(NULL, NULL), SPFKIT_EINVAL, "NULL linter");
	spfkit_linter_free(NULL);
}

/* ------------------------------------------------ allocation failures */

static void test_alloc(void)
{
	unsigned runs = 0;
	for (long n = 0; n < 100000; n++) {
		failer fl = {-1, 0, false};
		spfkit_allocator a = {f_alloc, f_realloc, f_free, &fl};
		spfkit_config *cfg = NULL;
		if (spfkit_config_new(&cfg, &a) != SPFKIT_OK)
			break;
		spfkit_zone *z = NULL;
		char err[256];
		if (spfkit_zone_new(&z, cfg) != SPFKIT_OK ||
		    spfkit_zone_load_file(z, zone_path, err, sizeof err)) {
			spfkit_zone_free(z);
			spfkit_config_free(cfg);
			break;
		}
		fl.countdown = n;
		seen s;
		int rc1 = lint(cfg,
			       "v=spf1 ipv4:192.0.2.1 ip4:192.0.2.1/24 ptr "
			       "mx~all a:x.example-all exp=a b",
			       SPFKIT_LINT_DRAFT, NULL, &s);
		int rc2 = walk(cfg, z, "a@broken.lint.example", &s, NULL);
		int rc3 = walk(cfg, z, "a@many.lint.example", &s, NULL);
		int rc4 = walk(cfg, z, "a@design.lint.example", &s, NULL);
		int rc5 = walk(cfg, z, "a@expmulti.lint.example", &s, NULL);
		int rc6 = lint(cfg,
			       "\xe2\x80\x9cv=spf1\tmx ip4:10.0.0.1 "
			       "ipv4:192.0.2.1 -all\xe2\x80\x9d",
			       0, NULL, &s);
		int rc7 = lint(cfg, "v=spf1 mx\xc2\xa0-all a:b.example-all", 0,
			       NULL, &s);
		bool failed = fl.failed;
		T_CHECK(rc1 == SPFKIT_OK || rc1 == SPFKIT_ENOMEM,
			"alloc %ld: lint rc %d", n, rc1);
		T_CHECK(rc2 == SPFKIT_OK || rc2 == SPFKIT_ENOMEM,
			"alloc %ld: walk rc %d", n, rc2);
		T_CHECK(rc3 == SPFKIT_OK || rc3 == SPFKIT_ENOMEM,
			"alloc %ld: walk rc %d", n, rc3);
		int rcs[] = {rc4, rc5, rc6, rc7};
		for (size_t k = 0; k < sizeof rcs / sizeof rcs[0]; k++)
			T_CHECK(rcs[k] == SPFKIT_OK || rcs[k] == SPFKIT_ENOMEM,
				"alloc %ld: rc %d", n, rcs[k]);
		spfkit_zone_free(z);
		spfkit_config_free(cfg);
		T_EQ_INT(fl.live, 0, "nothing leaks");
		runs++;
		if (!failed)
			break;
	}
	T_CHECK(runs > 10, "allocation failure runs: %u", runs);
}

int main(void)
{
	char dir[] = "/tmp/spfkit-lint-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	snprintf(zone_path, sizeof zone_path, "%s/lint.zone", dir);
	FILE *f = fopen(zone_path, "w");
	if (!f)
		return 1;
	fwrite(zone_text, 1, sizeof zone_text - 1, f);
	fclose(f);

	spfkit_config *cfg = NULL;
	spfkit_config_new(&cfg, NULL);
	spfkit_zone *z = NULL;
	spfkit_zone_new(&z, cfg);
	char err[256] = "";
	T_EQ_INT(spfkit_zone_load_file(z, zone_path, err, sizeof err),
		 SPFKIT_OK, err);
	test_rules(cfg);
	test_fixes(cfg);
	test_positions(cfg);
	test_tree(cfg, z);
	test_alloc();
	spfkit_zone_free(z);
	spfkit_config_free(cfg);
	remove(zone_path);
	remove(dir);
	return t_done();
}
