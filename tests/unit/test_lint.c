/*
 * test_lint.c - lib/lint.c: every record rule with a record that triggers
 * it and one that must not, positions and fixes, the tree rules fed by a
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
	char fix[512];
	const char *want;
} seen;

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
    "x IN A 192.0.2.3\n";

static char zone_path[64];

/* Walks sender's domain with a linter attached. */
static int walk(const spfkit_config *cfg, const spfkit_zone *z,
		const char *sender, seen *s, unsigned *lookups)
{
	memset(s, 0, sizeof *s);
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
		bool failed = fl.failed;
		T_CHECK(rc1 == SPFKIT_OK || rc1 == SPFKIT_ENOMEM,
			"alloc %ld: lint rc %d", n, rc1);
		T_CHECK(rc2 == SPFKIT_OK || rc2 == SPFKIT_ENOMEM,
			"alloc %ld: walk rc %d", n, rc2);
		T_CHECK(rc3 == SPFKIT_OK || rc3 == SPFKIT_ENOMEM,
			"alloc %ld: walk rc %d", n, rc3);
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
	test_positions(cfg);
	test_tree(cfg, z);
	test_alloc();
	spfkit_zone_free(z);
	spfkit_config_free(cfg);
	remove(zone_path);
	remove(dir);
	return t_done();
}
