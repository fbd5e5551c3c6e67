/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dmarc.c - the kinds of check that are not SPF (lib/dmarc.c): a TXT
 * lookup, and DMARC policy discovery by the RFC 9989 §4.10 tree walk,
 * table-driven over zones built in memory and run through the zone
 * driver's own spfkit_zone_check() (the driver is the one SPF checks use,
 * unchanged); then the record's grammar (lib/dmarc_record.c) and
 * alignment.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dmarc.h"
#include "internal.h"
#include "spfkit.h"
#include "t.h"

/* Adds a TXT record of text, split into strings of at most 255 octets. */
static void add_txt(spfkit_zone *z, const char *name, const char *text)
{
	size_t n = strlen(text);
	unsigned char *w = malloc(n + n / 255 + 2);
	size_t len = 0;
	size_t i = 0;
	do {
		size_t k = n - i > 255 ? 255 : n - i;
		w[len++] = (unsigned char)k;
		memcpy(w + len, text + i, k);
		len += k;
		i += k;
	} while (i < n);
	T_EQ_INT(spfkit_zone_add(z, name, SPFKIT_TYPE_TXT, 300, w, len),
		 SPFKIT_OK, name);
	free(w);
}

static void add_a(spfkit_zone *z, const char *name)
{
	static const unsigned char a[4] = {192, 0, 2, 1};
	T_EQ_INT(spfkit_zone_add(z, name, SPFKIT_TYPE_A, 300, a, 4), SPFKIT_OK,
		 name);
}

/* ---------------------------------------------------------------- TXT */

/* Queries a check asked, as the events show them. */
typedef struct qlog {
	char names[16][300];
	uint16_t types[16];
	size_t n, answers, lookups;
} qlog;

static void log_event(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	(void)chk;
	qlog *l = ud;
	if (ev->kind == SPFKIT_EVENT_QUERY && l->n < 16) {
		snprintf(l->names[l->n], sizeof l->names[0], "%s", ev->name);
		l->types[l->n++] = ev->type;
	} else if (ev->kind == SPFKIT_EVENT_ANSWER) {
		l->answers++;
	} else if (ev->kind == SPFKIT_EVENT_LOOKUP) {
		l->lookups++;
	}
}

static void test_txt(spfkit_config *cfg)
{
	spfkit_zone *z;
	T_EQ_INT(spfkit_zone_new(&z, cfg), SPFKIT_OK, "zone_new");
	/* A DKIM key in two strings: joined with nothing between. */
	char key[400];
	memset(key, 'A', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	memcpy(key, "v=DKIM1; k=rsa; p=", 18);
	add_txt(z, "sel._domainkey.example.com", key);
	add_txt(z, "two.example.com", "first");
	add_txt(z, "two.example.com", "second");
	add_a(z, "a-only.example.com");
	T_EQ_INT(spfkit_zone_add_timeout(z, "slow.example.com"), SPFKIT_OK,
		 "timeout");

	spfkit_check *chk;
	T_EQ_INT(spfkit_check_new(&chk, cfg), SPFKIT_OK, "check_new");

	/* Before it is set up or done, there is nothing to read. */
	spfkit_dns_status st;
	size_t n;
	T_EQ_INT(spfkit_check_txt_status(chk, &st, NULL, &n), SPFKIT_ESTATE,
		 "status of an SPF check");
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, "", 0), SPFKIT_EINVAL,
		 "empty name");
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, "a..b", 4), SPFKIT_EINVAL,
		 "empty label");
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, "a b.example", 11),
		 SPFKIT_EINVAL, "space");
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, "a\0b", 3), SPFKIT_EINVAL,
		 "NUL");
	char longlabel[80];
	memset(longlabel, 'x', 64);
	memcpy(longlabel + 64, ".example", 9);
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, longlabel, strlen(longlabel)),
		 SPFKIT_EINVAL, "label of 64");

	/* The key, through the zone driver's check loop. */
	qlog log;
	memset(&log, 0, sizeof log);
	const char *name = "SEL._domainkey.example.com.";
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, name, strlen(name)),
		 SPFKIT_OK, "set_txt_lookup");
	T_EQ_INT(spfkit_check_set_txt_lookup(chk, name, strlen(name)),
		 SPFKIT_ESTATE, "set twice");
	T_EQ_INT(spfkit_check_set_dmarc(chk, "example.com", 11), SPFKIT_ESTATE,
		 "dmarc after txt");
	T_EQ_INT(spfkit_check_set_ip(chk, "192.0.2.1"), SPFKIT_ESTATE,
		 "an IP for a TXT lookup");
	T_EQ_INT(spfkit_check_set_events(chk, log_event, &log), SPFKIT_OK,
		 "events");
	T_EQ_INT(spfkit_check_txt_status(chk, &st, NULL, &n), SPFKIT_ESTATE,
		 "status before the run");
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "first run");
	unsigned id;
	const char *qn;
	uint16_t qt;
	T_EQ_INT(spfkit_check_query(chk, 0, &id, &qn, &qt), SPFKIT_OK,
		 "pending");
	T_EQ_STR(qn, "SEL._domainkey.example.com", "asked name");
	T_EQ_INT(qt, SPFKIT_TYPE_TXT, "asked type");
	T_EQ_INT(spfkit_zone_check(z, chk, 0), SPFKIT_OK, "zone_check");
	spfkit_dns_failure why = SPFKIT_DNS_FAIL_BOGUS;
	T_EQ_INT(spfkit_check_txt_status(chk, &st, &why, &n), SPFKIT_OK,
		 "status");
	T_EQ_INT(st, SPFKIT_DNS_NOERROR, "NOERROR");
	T_EQ_INT(why, SPFKIT_DNS_FAIL_UNKNOWN, "no failure");
	T_EQ_INT(n, 1, "one record");
	const char *txt = NULL;
	size_t len = 0;
	T_EQ_INT(spfkit_check_txt_record(chk, 0, &txt, &len), SPFKIT_OK,
		 "record 0");
	T_EQ_INT(len, strlen(key), "strings joined");
	T_CHECK(txt && strcmp(txt, key) == 0, "the key's text");
	T_EQ_INT(spfkit_check_txt_record(chk, 1, &txt, &len), SPFKIT_ENOENT,
		 "record 1");
	T_EQ_INT(log.n, 1, "one QUERY event");
	T_EQ_INT(log.answers, 1, "one ANSWER event");
	T_EQ_INT(log.lookups, 1, "one LOOKUP event");
	T_EQ_INT(spfkit_check_queries(chk), 1, "one query");
	T_CHECK(spfkit_check_dmarc(chk) == NULL, "not a discovery");

	/* Reset: an SPF check again, and any kind may follow. */
	T_EQ_INT(spfkit_check_reset(chk), SPFKIT_OK, "reset");
	T_EQ_INT(spfkit_check_txt_status(chk, &st, NULL, &n), SPFKIT_ESTATE,
		 "status after reset");

	static const struct {
		const char *name;
		spfkit_dns_status status;
		spfkit_dns_failure why;
		size_t n;
	} cases[] = {
	    {"two.example.com", SPFKIT_DNS_NOERROR, SPFKIT_DNS_FAIL_UNKNOWN, 2},
	    {"a-only.example.com", SPFKIT_DNS_NOERROR, SPFKIT_DNS_FAIL_UNKNOWN,
	     0},
	    {"gone.example.com", SPFKIT_DNS_NXDOMAIN, SPFKIT_DNS_FAIL_UNKNOWN,
	     0},
	    {"slow.example.com", SPFKIT_DNS_TEMPFAIL, SPFKIT_DNS_FAIL_TIMEOUT,
	     0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		spfkit_check_reset(chk);
		T_EQ_INT(spfkit_check_set_txt_lookup(chk, cases[i].name,
						     strlen(cases[i].name)),
			 SPFKIT_OK, cases[i].name);
		T_EQ_INT(spfkit_zone_check(z, chk, 0), SPFKIT_OK,
			 cases[i].name);
		T_EQ_INT(spfkit_check_txt_status(chk, &st, &why, &n), SPFKIT_OK,
			 cases[i].name);
		T_EQ_INT(st, cases[i].status, cases[i].name);
		T_EQ_INT(why, cases[i].why, cases[i].name);
		T_EQ_INT(n, cases[i].n, cases[i].name);
	}
	spfkit_check_reset(chk);
	spfkit_check_set_txt_lookup(chk, "two.example.com", 15);
	spfkit_zone_check(z, chk, 0);
	const char *t0 = NULL, *t1 = NULL;
	spfkit_check_txt_record(chk, 0, &t0, NULL);
	spfkit_check_txt_record(chk, 1, &t1, NULL);
	T_CHECK(t0 && t1 &&
		    ((!strcmp(t0, "first") && !strcmp(t1, "second")) ||
		     (!strcmp(t0, "second") && !strcmp(t1, "first"))),
		"both records");

	/* The deadline: an answer that never comes is a timeout. */
	spfkit_check_reset(chk);
	spfkit_check_set_txt_lookup(chk, "two.example.com", 15);
	T_EQ_INT(spfkit_check_run(chk, 1000), SPFKIT_WANT_DNS, "asked");
	T_EQ_INT(spfkit_check_run(chk, 1000 + 20000), SPFKIT_DONE, "deadline");
	T_EQ_INT(spfkit_check_txt_status(chk, &st, &why, &n), SPFKIT_OK,
		 "status at the deadline");
	T_EQ_INT(st, SPFKIT_DNS_TEMPFAIL, "TEMPFAIL at the deadline");
	T_EQ_INT(why, SPFKIT_DNS_FAIL_TIMEOUT, "timeout");
	T_EQ_INT(spfkit_check_pending(chk), 0, "nothing pending after");

	/* An SPF check on the same object still works after all that. */
	spfkit_check_reset(chk);
	T_EQ_INT(spfkit_check_set_ip(chk, "192.0.2.1"), SPFKIT_OK, "spf ip");
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "spf: null sender");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_NONE, "spf none");

	spfkit_check_free(chk);
	spfkit_zone_free(z);
}

/* ---------------------------------------------------------------- DMARC */

/* The zone of the discovery cases: each name says what it tests. */
static const struct {
	const char *name, *text;
} dmarc_zone[] = {
    /* an organizational domain with sp and np, and names below it */
    {"_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; np=none; "
			   "adkim=s; rua=mailto:d@example.com"},
    {"_dmarc.own.example.com", "v=DMARC1;p=none"},
    /* a record that is not DMARC beside one that is, and alone */
    {"_dmarc.mixed.example", "google-site-verification=abc"},
    {"_dmarc.mixed.example", "v=DMARC1; p=quarantine"},
    {"_dmarc.notdmarc.example", "v=spf1 -all"},
    {"_dmarc.near.example", "v=DMARC1 p=reject"},
    /* two records at one name: both discarded (§4.10 step 2) */
    {"_dmarc.two.example", "v=DMARC1; p=reject"},
    {"_dmarc.two.example", "v=DMARC1; p=none"},
    /* psd=y: a public suffix domain with organizations below it */
    {"_dmarc.psd.example", "v=DMARC1; p=reject; psd=y"},
    {"_dmarc.org2.psd.example", "v=DMARC1; p=none"},
    /* psd=n stops the walk; without it the shortest record wins */
    {"_dmarc.corp.example", "v=DMARC1; p=reject"},
    {"_dmarc.mail.corp.example", "v=DMARC1; p=quarantine; psd=n"},
    {"_dmarc.other.corp.example", "v=DMARC1; p=none"},
    /* psd=y at the author domain itself */
    {"_dmarc.self.example", "v=DMARC1; p=reject; psd=y"},
    /* a PSD of seven labels below a ten-label name: the org domain of
     * eight labels was skipped by the walk and is asked after it */
    {"_dmarc.pq.r.s.t.u.v.w", "v=DMARC1; p=reject; psd=y"},
    {"_dmarc.l3.pq.r.s.t.u.v.w", "v=DMARC1; p=quarantine"},
    /* values that are not valid (§4.10.1), p absent (§4.7) */
    {"_dmarc.badp.example", "v=DMARC1; p=block; rua=mailto:a@badp.example"},
    {"_dmarc.badp-norua.example", "v=DMARC1; p=block"},
    {"_dmarc.badsp.example", "v=DMARC1; p=reject; sp=maybe; rua=x"},
    {"_dmarc.nop.example", "v=DMARC1; rua=mailto:a@nop.example"},
    {"_dmarc.testing.example", "v=DMARC1; p=reject; t=y; aspf=s"},
    /* a name that exists only as the parent of its _dmarc name */
    {"_dmarc.ent.example.com", "some verification text"},
};

static const char *const dmarc_a[] = {"example.com", "sub.example.com",
				      "own.example.com", "x.mail.corp.example"};

/* One discovery: what it is for and what it must find. queries lists
 * every query in order as TYPE:name. */
typedef struct dmarc_case {
	const char *domain, *org_given;
	spfkit_dmarc_status status;
	const char *policy_domain, *org;
	spfkit_dmarc_disp policy;
	bool exists;
	const char *queries;
} dmarc_case;

#define U  SPFKIT_DMARC_P_UNSET
#define N  SPFKIT_DMARC_P_NONE
#define Q  SPFKIT_DMARC_P_QUARANTINE
#define R  SPFKIT_DMARC_P_REJECT
#define F  SPFKIT_DMARC_FOUND
#define NO SPFKIT_DMARC_NONE
#define TE SPFKIT_DMARC_TEMPERROR

static const dmarc_case dmarc_cases[] = {
    /* §4.10.1: the author domain's own record, p; the walk goes on to
     * the root for the organizational domain (§4.10.2) */
    {"example.com", NULL, F, "example.com", "example.com", R, true,
     "TXT:_dmarc.example.com TXT:_dmarc.com"},
    {"EXAMPLE.com.", NULL, F, "example.com", "example.com", R, true,
     "TXT:_dmarc.example.com TXT:_dmarc.com"},
    /* an existing subdomain: sp */
    {"sub.example.com", NULL, F, "example.com", "example.com", Q, true,
     "TXT:_dmarc.sub.example.com TXT:_dmarc.example.com TXT:_dmarc.com "
     "A:sub.example.com"},
    /* a subdomain that does not exist: np (RFC 9989 §3.2.13) */
    {"nx.example.com", NULL, F, "example.com", "example.com", N, false,
     "TXT:_dmarc.nx.example.com TXT:_dmarc.example.com TXT:_dmarc.com "
     "A:nx.example.com"},
    /* a NOERROR answer under the name shows it exists: no A query */
    {"ent.example.com", NULL, F, "example.com", "example.com", Q, true,
     "TXT:_dmarc.ent.example.com TXT:_dmarc.example.com TXT:_dmarc.com"},
    /* its own record: p=none, though the org domain says reject */
    {"own.example.com", NULL, F, "own.example.com", "example.com", N, true,
     "TXT:_dmarc.own.example.com TXT:_dmarc.example.com TXT:_dmarc.com"},
    /* more than eight labels: the full name, then the last seven, then
     * one label fewer each time: eight queries (§4.10 example) */
    {"a.b.c.d.e.f.g.h.i.j.mail.example.com", NULL, F, "example.com",
     "example.com", N, false,
     "TXT:_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com "
     "TXT:_dmarc.g.h.i.j.mail.example.com TXT:_dmarc.h.i.j.mail.example.com "
     "TXT:_dmarc.i.j.mail.example.com TXT:_dmarc.j.mail.example.com "
     "TXT:_dmarc.mail.example.com TXT:_dmarc.example.com TXT:_dmarc.com "
     "A:a.b.c.d.e.f.g.h.i.j.mail.example.com"},
    /* exactly eight labels: every parent, eight queries */
    {"c.d.e.f.g.h.example.com", NULL, F, "example.com", "example.com", N, false,
     "TXT:_dmarc.c.d.e.f.g.h.example.com TXT:_dmarc.d.e.f.g.h.example.com "
     "TXT:_dmarc.e.f.g.h.example.com TXT:_dmarc.f.g.h.example.com "
     "TXT:_dmarc.g.h.example.com TXT:_dmarc.h.example.com "
     "TXT:_dmarc.example.com TXT:_dmarc.com A:c.d.e.f.g.h.example.com"},
    /* psd=y: the org domain is one label below; its own record comes
     * first, the PSD's only when it has none (§4.10.1) */
    {"x.org1.psd.example", NULL, F, "psd.example", "org1.psd.example", R, false,
     "TXT:_dmarc.x.org1.psd.example TXT:_dmarc.org1.psd.example "
     "TXT:_dmarc.psd.example A:x.org1.psd.example"},
    {"a.org2.psd.example", NULL, F, "org2.psd.example", "org2.psd.example", N,
     false,
     "TXT:_dmarc.a.org2.psd.example TXT:_dmarc.org2.psd.example "
     "TXT:_dmarc.psd.example A:a.org2.psd.example"},
    /* psd=y at the author domain: its own p, and it is its own org */
    {"self.example", NULL, F, "self.example", "self.example", R, true,
     "TXT:_dmarc.self.example"},
    /* psd=n: that name is the org domain, the walk stops there */
    {"x.mail.corp.example", NULL, F, "mail.corp.example", "mail.corp.example",
     Q, true,
     "TXT:_dmarc.x.mail.corp.example TXT:_dmarc.mail.corp.example "
     "A:x.mail.corp.example"},
    /* without psd: the record at the fewest labels is the org domain's,
     * and its record applies (§4.10.2 rule 3) */
    {"y.other.corp.example", NULL, F, "corp.example", "corp.example", R, false,
     "TXT:_dmarc.y.other.corp.example TXT:_dmarc.other.corp.example "
     "TXT:_dmarc.corp.example TXT:_dmarc.example A:y.other.corp.example"},
    /* the skipped org domain below a seven-label PSD is asked */
    {"l1.l2.l3.pq.r.s.t.u.v.w", NULL, F, "l3.pq.r.s.t.u.v.w",
     "l3.pq.r.s.t.u.v.w", Q, false,
     "TXT:_dmarc.l1.l2.l3.pq.r.s.t.u.v.w TXT:_dmarc.pq.r.s.t.u.v.w "
     "TXT:_dmarc.l3.pq.r.s.t.u.v.w A:l1.l2.l3.pq.r.s.t.u.v.w"},
    /* records that are not DMARC are ignored; two are none */
    {"mixed.example", NULL, F, "mixed.example", "mixed.example", Q, true,
     "TXT:_dmarc.mixed.example TXT:_dmarc.example"},
    {"notdmarc.example", NULL, NO, NULL, "notdmarc.example", U, true,
     "TXT:_dmarc.notdmarc.example TXT:_dmarc.example"},
    {"near.example", NULL, NO, NULL, "near.example", U, true,
     "TXT:_dmarc.near.example TXT:_dmarc.example"},
    {"two.example", NULL, NO, NULL, "two.example", U, true,
     "TXT:_dmarc.two.example TXT:_dmarc.example"},
    {"nothing.example", NULL, NO, NULL, "nothing.example", U, false,
     "TXT:_dmarc.nothing.example TXT:_dmarc.example"},
    /* DNS failures, at the author domain and higher up */
    {"slow.example", NULL, TE, NULL, NULL, U, false, "TXT:_dmarc.slow.example"},
    {"a.slowparent.example", NULL, TE, NULL, NULL, U, false,
     "TXT:_dmarc.a.slowparent.example TXT:_dmarc.slowparent.example"},
    /* §4.10.1: a p= that is not valid is p=none with a usable rua=,
     * else no DMARC; an sp= likewise; p absent is none (§4.7) */
    {"badp.example", NULL, F, "badp.example", "badp.example", N, true,
     "TXT:_dmarc.badp.example TXT:_dmarc.example"},
    {"badp-norua.example", NULL, NO, NULL, "badp-norua.example", U, true,
     "TXT:_dmarc.badp-norua.example TXT:_dmarc.example"},
    {"badsp.example", NULL, NO, NULL, "badsp.example", U, true,
     "TXT:_dmarc.badsp.example TXT:_dmarc.example"},
    {"nop.example", NULL, F, "nop.example", "nop.example", N, true,
     "TXT:_dmarc.nop.example TXT:_dmarc.example"},
    /* RFC 7489 §6.6.3 with the org domain given: two queries at most */
    {"sub.example.com", "example.com", F, "example.com", "example.com", Q, true,
     "TXT:_dmarc.sub.example.com TXT:_dmarc.example.com "
     "A:sub.example.com"},
    {"example.com", "example.com", F, "example.com", "example.com", R, true,
     "TXT:_dmarc.example.com"},
    {"x.org1.psd.example", "org1.psd.example", NO, NULL, "org1.psd.example", U,
     false, "TXT:_dmarc.x.org1.psd.example TXT:_dmarc.org1.psd.example"},
};

static spfkit_zone *dmarc_zone_new(spfkit_config *cfg)
{
	spfkit_zone *z;
	if (spfkit_zone_new(&z, cfg) != SPFKIT_OK)
		return NULL;
	for (size_t i = 0; i < sizeof dmarc_zone / sizeof dmarc_zone[0]; i++)
		add_txt(z, dmarc_zone[i].name, dmarc_zone[i].text);
	for (size_t i = 0; i < sizeof dmarc_a / sizeof dmarc_a[0]; i++)
		add_a(z, dmarc_a[i]);
	spfkit_zone_add_timeout(z, "_dmarc.slow.example");
	spfkit_zone_add_timeout(z, "_dmarc.slowparent.example");
	return z;
}

/* The queries of the log as "TYPE:name ...". */
static void joined(const qlog *l, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		int k = snprintf(out + len, cap - len, "%s%s:%s", i ? " " : "",
				 l->types[i] == SPFKIT_TYPE_A ? "A" : "TXT",
				 l->names[i]);
		if (k < 0 || (size_t)k >= cap - len)
			return;
		len += (size_t)k;
	}
}

static void test_discovery(spfkit_config *cfg)
{
	spfkit_zone *z = dmarc_zone_new(cfg);
	T_CHECK(z != NULL, "zone");
	spfkit_check *chk;
	T_EQ_INT(spfkit_check_new(&chk, cfg), SPFKIT_OK, "check_new");
	for (size_t i = 0; i < sizeof dmarc_cases / sizeof dmarc_cases[0];
	     i++) {
		const dmarc_case *c = &dmarc_cases[i];
		const char *what = c->domain;
		qlog log;
		memset(&log, 0, sizeof log);
		spfkit_check_reset(chk);
		int rc = c->org_given ? spfkit_check_set_dmarc_org(
					    chk, c->domain, strlen(c->domain),
					    c->org_given, strlen(c->org_given))
				      : spfkit_check_set_dmarc(
					    chk, c->domain, strlen(c->domain));
		T_EQ_INT(rc, SPFKIT_OK, what);
		spfkit_check_set_events(chk, log_event, &log);
		T_CHECK(spfkit_check_dmarc(chk) == NULL, "%s: not yet", what);
		T_EQ_INT(spfkit_zone_check(z, chk, 0), SPFKIT_OK, what);
		const spfkit_dmarc_policy *pol = spfkit_check_dmarc(chk);
		T_CHECK(pol != NULL, "%s: a policy", what);
		if (!pol)
			continue;
		T_EQ_INT(pol->status, c->status, what);
		T_EQ_STR(pol->policy_domain, c->policy_domain, what);
		T_EQ_STR(pol->org_domain, c->org, what);
		T_EQ_INT(pol->policy, c->policy, what);
		T_EQ_INT(pol->domain_exists, c->exists, what);
		char qbuf[2048];
		const char *q = qbuf;
		joined(&log, qbuf, sizeof qbuf);
		T_EQ_STR(q, c->queries, what);
		T_EQ_INT(pol->queries, log.n, what);
		/* RFC 9989 §4.10: never more than eight _dmarc names. */
		size_t txt = 0;
		for (size_t k = 0; k < log.n; k++)
			txt += log.types[k] == SPFKIT_TYPE_TXT;
		T_CHECK(txt <= 8, "%s: %zu _dmarc queries", what, txt);
		/* The steps are the TXT queries, in order. */
		size_t k = 0;
		const char *sn;
		while (spfkit_check_dmarc_step(chk, k, &sn, NULL, NULL, NULL) ==
		       SPFKIT_OK) {
			T_EQ_STR(sn, log.names[k], what);
			k++;
		}
		T_EQ_INT(k, txt, what);
		T_EQ_STR(pol->domain,
			 c->domain[0] == 'E' ? "example.com" : c->domain, what);
	}

	/* The tags as published, with their defaults. */
	spfkit_check_reset(chk);
	spfkit_check_set_dmarc(chk, "sub.example.com", 15);
	spfkit_zone_check(z, chk, 0);
	const spfkit_dmarc_policy *pol = spfkit_check_dmarc(chk);
	T_CHECK(pol && pol->p == R && pol->sp == Q && pol->np == N &&
		    pol->adkim == 's' && pol->aspf == 'r' && !pol->testing &&
		    pol->psd == 'u',
		"the tags of example.com");
	const char *want_rec = "v=DMARC1; p=reject; sp=quarantine; np=none; "
			       "adkim=s; rua=mailto:d@example.com";
	const char *got_rec = pol ? pol->record : "";
	T_EQ_STR(got_rec, want_rec, "the record");
	spfkit_check_reset(chk);
	spfkit_check_set_dmarc(chk, "testing.example", 15);
	spfkit_zone_check(z, chk, 0);
	pol = spfkit_check_dmarc(chk);
	T_CHECK(pol && pol->testing && pol->aspf == 's' && pol->adkim == 'r' &&
		    pol->sp == U && pol->np == U,
		"t=y aspf=s");
	/* Several records: the step says how many. */
	spfkit_check_reset(chk);
	spfkit_check_set_dmarc(chk, "two.example", 11);
	spfkit_zone_check(z, chk, 0);
	size_t nrec = 0;
	const char *rec = "x";
	spfkit_dns_status st = SPFKIT_DNS_TEMPFAIL;
	T_EQ_INT(spfkit_check_dmarc_step(chk, 0, NULL, &st, &nrec, &rec),
		 SPFKIT_OK, "step 0");
	T_EQ_INT(nrec, 2, "two records");
	T_CHECK(rec == NULL, "no record of two");
	T_EQ_INT(st, SPFKIT_DNS_NOERROR, "NOERROR");
	T_EQ_INT(spfkit_check_dmarc_step(chk, 5, NULL, NULL, NULL, NULL),
		 SPFKIT_ENOENT, "past the last step");

	/* Not a domain. */
	static const char *const bad[] = {"",
					  ".",
					  "a..b",
					  "[192.0.2.1]",
					  "ex ample.com",
					  "ex\xc3\xa4mple.com"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		spfkit_check_reset(chk);
		T_EQ_INT(spfkit_check_set_dmarc(chk, bad[i], strlen(bad[i])),
			 SPFKIT_EINVAL, bad[i]);
	}
	spfkit_check_reset(chk);
	T_EQ_INT(spfkit_check_set_dmarc_org(chk, "a.example.com", 13,
					    "xample.com", 10),
		 SPFKIT_EINVAL, "org not a parent");
	T_EQ_INT(spfkit_check_set_dmarc_org(chk, "a.example.com", 13,
					    "b.example.com", 13),
		 SPFKIT_EINVAL, "org not the domain");
	T_EQ_INT(spfkit_check_set_ip(chk, "192.0.2.1"), SPFKIT_OK, "ip");
	T_EQ_INT(spfkit_check_set_dmarc(chk, "example.com", 11), SPFKIT_ESTATE,
		 "dmarc after an ip");

	/* The deadline ends a walk waiting for an answer: temperror. */
	spfkit_check_reset(chk);
	spfkit_check_set_dmarc(chk, "sub.example.com", 15);
	T_EQ_INT(spfkit_check_run(chk, 5), SPFKIT_WANT_DNS, "asked");
	T_EQ_INT(spfkit_zone_answer(z, chk), SPFKIT_OK, "one answer");
	T_EQ_INT(spfkit_check_run(chk, 6), SPFKIT_WANT_DNS, "asked again");
	T_EQ_INT(spfkit_check_run(chk, 5 + 20000), SPFKIT_DONE, "deadline");
	pol = spfkit_check_dmarc(chk);
	T_CHECK(pol && pol->status == TE && pol->org_domain == NULL &&
		    pol->queries == 2,
		"temperror at the deadline");
	T_EQ_INT(spfkit_check_pending(chk), 0, "nothing pending");

	/* Answers by hand, one query at a time, in the walk's order. */
	spfkit_check_reset(chk);
	spfkit_check_set_dmarc(chk, "a.b.example.com", 15);
	static const char *const order[] = {"_dmarc.a.b.example.com",
					    "_dmarc.b.example.com",
					    "_dmarc.example.com"};
	for (size_t i = 0; i < 3; i++) {
		T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, order[i]);
		T_EQ_INT(spfkit_check_pending(chk), 1, "one at a time");
		unsigned id;
		const char *qn;
		spfkit_check_query(chk, 0, &id, &qn, NULL);
		T_EQ_STR(qn, order[i], "the walk's order");
		T_EQ_INT(spfkit_zone_answer(z, chk), SPFKIT_OK, order[i]);
	}
	T_EQ_INT(spfkit_zone_check(z, chk, 0), SPFKIT_OK, "the rest");
	pol = spfkit_check_dmarc(chk);
	T_CHECK(pol && pol->status == F && pol->policy == N,
		"a.b.example.com: np");
	spfkit_check_free(chk);
	spfkit_zone_free(z);
}

/* ---------------------------------------------------------------- record */

static void test_record(void)
{
	static const struct {
		const char *text;
		bool is;
	} is[] = {
	    {"v=DMARC1", true},
	    {"v=DMARC1;", true},
	    {"v = DMARC1 ; p=none", true},
	    {"V=DMARC1; p=none", true},
	    {"v=DMARC1\t;p=none", true},
	    {"v=dmarc1; p=none", false},
	    {"v=DMARC1 p=none", false},
	    {"v=DMARC10; p=none", false},
	    {" v=DMARC1; p=none", false},
	    {"p=none; v=DMARC1", false},
	    {"v=DMARC", false},
	    {"", false},
	};
	for (size_t i = 0; i < sizeof is / sizeof is[0]; i++)
		T_EQ_INT(
		    spfkit__dmarc_is_record(is[i].text, strlen(is[i].text)),
		    is[i].is, is[i].text);

	spfkit__dmarc_rec r;
	const char *t = "v=DMARC1; P = Reject ; sp=none; np=quarantine; "
			"adkim=S; aspf=x; psd=n; t=y; pct=50; foo=bar; "
			"p=none; rua=bad, mailto:a@b.example";
	spfkit__dmarc_parse(t, strlen(t), &r);
	T_CHECK(r.p == R && !r.p_bad && r.sp == N && r.np == Q &&
		    r.adkim == 's' && r.aspf == 'r' && r.psd == 'n' &&
		    r.testing && r.rua_ok,
		"a record read");
	t = "v=DMARC1; p=; sp=x; rua=mailto:a@b!10m";
	spfkit__dmarc_parse(t, strlen(t), &r);
	T_CHECK(r.p == U && r.p_bad && r.sp_bad && r.rua_ok,
		"values not valid");

	static const struct {
		const char *uri;
		bool ok, obs;
	} uris[] = {
	    {"mailto:dmarc@example.com", true, false},
	    {"mailto:dmarc@example.com!10m", true, true},
	    {"mailto:dmarc@example.com!10", true, true},
	    {"https://example.com/report?x=1", true, false},
	    {"mailto:a%2Cb@example.com", true, false},
	    {"dmarc@example.com", false, false},
	    {"mailto:", false, false},
	    {"mailto:a b@example.com", false, false},
	    {"mailto:a@example.com!", false, false},
	    {"mailto:a@example.com!10x", false, false},
	    {"mailto:a%2@example.com", false, false},
	    {"1mailto:a@example.com", false, false},
	};
	for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
		bool obs = !uris[i].obs;
		T_EQ_INT(spfkit__dmarc_uri_ok(uris[i].uri, strlen(uris[i].uri),
					      &obs),
			 uris[i].ok, uris[i].uri);
		if (uris[i].ok)
			T_EQ_INT(obs, uris[i].obs, uris[i].uri);
	}
	static const struct {
		const char *fo;
		bool ok;
	} fos[] = {{"0", true},    {"1", true},    {"d", true},
		   {"s", true},    {"0:d", true},  {"d:s:1", true},
		   {"0:1", false}, {"d:d", false}, {"", false},
		   {"0:", false},  {"2", false},   {"0,d", false}};
	for (size_t i = 0; i < sizeof fos / sizeof fos[0]; i++)
		T_EQ_INT(spfkit__dmarc_fo_ok(fos[i].fo, strlen(fos[i].fo)),
			 fos[i].ok, fos[i].fo);
	T_EQ_STR(spfkit_dmarc_disp_name(R), "reject", "reject");
	T_EQ_STR(spfkit_dmarc_disp_name(Q), "quarantine", "quarantine");
	T_EQ_STR(spfkit_dmarc_disp_name(N), "none", "none");
	T_CHECK(spfkit_dmarc_disp_name(U) == NULL, "unset");
	T_EQ_STR(spfkit_dmarc_status_name(TE), "temperror", "temperror");
}

/* ---------------------------------------------------------------- align */

static void test_aligned(void)
{
	static const struct {
		char mode;
		const char *a, *ao, *i, *io;
		bool aligned;
	} cases[] = {
	    /* RFC 9989 §4.4 Table 1 */
	    {'r', "news.example.com", "example.com", "foo.example.com",
	     "example.com", true},
	    {'s', "news.example.com", "example.com", "foo.example.com",
	     "example.com", false},
	    {'s', "news.example.com", "example.com", "News.Example.com.",
	     "example.com", true},
	    {'r', "news.example.com", "example.com", "foo.example.net",
	     "example.net", false},
	    {'r', "a.example", "a.example", "b.example", "b.example", false},
	    {'r', "a.example", NULL, "A.EXAMPLE", NULL, true},
	    {'r', "a.example", NULL, "b.a.example", NULL, false},
	    {'r', "x.example.", "example.", "y.example", "EXAMPLE", true},
	    {'x', "a.example", "a.example", "a.example", "a.example", false},
	    {'r', "", "", "", "", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		T_EQ_INT(spfkit_dmarc_aligned(cases[i].mode, cases[i].a,
					      cases[i].ao, cases[i].i,
					      cases[i].io),
			 cases[i].aligned, cases[i].i);
	T_CHECK(!spfkit_dmarc_aligned('r', NULL, NULL, "a", "a"), "NULL");
}

/* ---------------------------------------------------------------- lint */

/* Findings as "code code ...", and the last replacement and fix. */
typedef struct flog {
	char codes[1024];
	char rep[512];
	char fix[512];
	size_t n;
	size_t pos, len;
} flog;

static void log_finding(const spfkit_finding *f, void *ud)
{
	flog *l = ud;
	size_t used = strlen(l->codes);
	snprintf(l->codes + used, sizeof l->codes - used, "%s%s",
		 used ? " " : "", f->code);
	if (f->replacement)
		snprintf(l->rep, sizeof l->rep, "%.*s", (int)f->replacement_len,
			 f->replacement);
	snprintf(l->fix, sizeof l->fix, "%s", f->fix ? f->fix : "");
	T_CHECK(f->message && f->message[0], "%s: a message", f->code);
	T_CHECK(f->rfc && !strncmp(f->rfc, "RFC ", 4), "%s: an RFC", f->code);
	bool known = false;
	for (size_t i = 0; spfkit_dmarc_lint_code(i); i++)
		known |= !strcmp(spfkit_dmarc_lint_code(i), f->code);
	T_CHECK(known, "%s: a listed code", f->code);
	if (f->replacement && f->len)
		T_CHECK(f->record && f->pos + f->len <= f->record_len,
			"%s: in the record", f->code);
	l->pos = f->pos;
	l->len = f->len;
	l->n++;
}

static void test_lint(spfkit_config *cfg)
{
	static const struct {
		const char *record, *codes, *rep;
	} cases[] = {
	    {"v=DMARC1; p=reject; rua=mailto:d@example.com", "", NULL},
	    {"v=DMARC1; p=none; rua=mailto:d@example.com", "dmarc-monitoring",
	     NULL},
	    {"v=DMARC1; p=rejct; rua=mailto:d@example.com", "dmarc-bad-value",
	     "p=reject"},
	    {"v=DMARC1; p=reject; adkim=strict; rua=mailto:d@example.com",
	     "dmarc-bad-value", "adkim=s"},
	    {"v=DMARC1; p=reject; pct=50; rua=mailto:d@example.com",
	     "dmarc-removed-tag",
	     "v=DMARC1; p=reject; rua=mailto:d@example.com"},
	    {"v=DMARC1; p=reject; rua=mailto:d@example.com; rf=afrf; ri=86400",
	     "dmarc-removed-tag dmarc-removed-tag",
	     "v=DMARC1; p=reject; rua=mailto:d@example.com; rf=afrf"},
	    {"v=DMARC1; p=reject; foo=bar; rua=mailto:d@example.com",
	     "dmarc-unknown-tag", NULL},
	    {"v=DMARC1; p=reject; p=none; rua=mailto:d@example.com",
	     "dmarc-duplicate-tag",
	     "v=DMARC1; p=reject; rua=mailto:d@example.com"},
	    {"v=DMARC1; p=reject; rua=d@example.com",
	     "dmarc-bad-uri "
	     "dmarc-bad-uri",
	     NULL},
	    {"v=DMARC1; p=reject; rua=mailto:d@example.com!10m",
	     "dmarc-uri-size", NULL},
	    {"v=DMARC1; rua=mailto:d@example.com",
	     "dmarc-no-policy "
	     "dmarc-monitoring",
	     "v=DMARC1; p=none; rua=mailto:d@example.com"},
	    {"v=DMARC1; p=reject; fo=1; rua=mailto:d@example.com",
	     "dmarc-fo-ignored", NULL},
	    {"v=DMARC1; p=reject; fo=0:1; ruf=mailto:f@example.com; "
	     "rua=mailto:d@example.com",
	     "dmarc-bad-value", NULL},
	    {"v=DMARC1; p=reject; t=y; rua=mailto:d@example.com",
	     "dmarc-testing", NULL},
	    {"v=DMARC1; p=reject", "dmarc-no-rua", NULL},
	    {"v=DMARC1; p=reject; rua; rua=mailto:d@example.com",
	     "dmarc-syntax", NULL},
	    {"v=dmarc1; p=reject", "dmarc-not-dmarc", "v=DMARC1; p=reject"},
	    {"v=DMARC1 p=reject", "dmarc-not-dmarc", "v=DMARC1; p=reject"},
	    {"\"v=DMARC1; p=reject\"", "dmarc-not-dmarc", "v=DMARC1; p=reject"},
	    {"p=reject; v=DMARC1", "dmarc-not-dmarc", "v=DMARC1; p=reject"},
	    {"v=spf1 -all", "dmarc-not-dmarc", NULL},
	    /* hostile octets stay quoted, never a crash */
	    {"v=DMARC1; p=\x01\xff; rua=mailto:a@b.example", "dmarc-bad-value",
	     NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		flog l;
		memset(&l, 0, sizeof l);
		const char *t = cases[i].record;
		T_EQ_INT(spfkit_dmarc_lint_record(cfg, "example.com", t,
						  strlen(t), log_finding, &l),
			 SPFKIT_OK, t);
		const char *got = l.codes;
		T_EQ_STR(got, cases[i].codes, t);
		if (cases[i].rep) {
			const char *rep = l.rep;
			T_EQ_STR(rep, cases[i].rep, t);
		}
	}
	/* A replacement of one tag replaces exactly its octets. */
	flog l;
	memset(&l, 0, sizeof l);
	const char *t = "v=DMARC1; p=Quarntine; rua=mailto:d@example.com";
	spfkit_dmarc_lint_record(cfg, NULL, t, strlen(t), log_finding, &l);
	T_EQ_INT(l.pos, 10, "tag position");
	T_EQ_INT(l.len, 11, "tag length");
	const char *fix = l.fix;
	T_EQ_STR(fix, "write p=quarantine", "the fix quotes it");
	T_EQ_INT(spfkit_dmarc_lint_record(NULL, NULL, "", 0, NULL, NULL),
		 SPFKIT_EINVAL, "no config");
	/* A flood of one code is capped. */
	char big[8000];
	size_t len = 0;
	len += (size_t)snprintf(big, sizeof big, "v=DMARC1; p=reject");
	while (len + 8 < sizeof big)
		len += (size_t)snprintf(big + len, sizeof big - len, "; x=1");
	memset(&l, 0, sizeof l);
	spfkit_dmarc_lint_record(cfg, NULL, big, len, log_finding, &l);
	T_CHECK(l.n <= 52, "capped: %zu findings", l.n);

	/* What a discovery saw: several records, a near miss, no record,
	 * a DNS failure, sp= where it is ignored. */
	spfkit_zone *z = dmarc_zone_new(cfg);
	add_txt(z, "_dmarc.sp.example.com", "v=DMARC1; p=none; sp=reject");
	static const struct {
		const char *domain, *codes;
	} walks[] = {
	    {"two.example", "dmarc-multiple-records"},
	    {"near.example", "dmarc-not-dmarc dmarc-no-record"},
	    {"nothing.example", "dmarc-no-record"},
	    {"slow.example", "dmarc-dns-error"},
	    {"mixed.example", "dmarc-no-rua"},
	    {"sp.example.com",
	     "dmarc-monitoring dmarc-no-rua dmarc-sp-ignored"},
	};
	spfkit_check *chk;
	spfkit_check_new(&chk, cfg);
	T_EQ_INT(spfkit_check_dmarc_lint(chk, log_finding, &l), SPFKIT_ESTATE,
		 "lint before a discovery");
	for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++) {
		spfkit_check_reset(chk);
		spfkit_check_set_dmarc(chk, walks[i].domain,
				       strlen(walks[i].domain));
		spfkit_zone_check(z, chk, 0);
		memset(&l, 0, sizeof l);
		/* the org domain's record (example.com) is linted too when
		 * the walk meets it: only the first codes are compared */
		T_EQ_INT(spfkit_check_dmarc_lint(chk, log_finding, &l),
			 SPFKIT_OK, walks[i].domain);
		const char *got = l.codes;
		T_CHECK(!strncmp(got, walks[i].codes, strlen(walks[i].codes)),
			"%s: got \"%s\", want \"%s\"", walks[i].domain, got,
			walks[i].codes);
	}
	spfkit_check_free(chk);
	spfkit_zone_free(z);
}

int main(void)
{
	spfkit_config *cfg;
	if (spfkit_config_new(&cfg, NULL) != SPFKIT_OK)
		return 1;
	test_txt(cfg);
	test_discovery(cfg);
	test_record();
	test_aligned();
	test_lint(cfg);
	spfkit_config_free(cfg);
	return t_done();
}
