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

int main(void)
{
	spfkit_config *cfg;
	if (spfkit_config_new(&cfg, NULL) != SPFKIT_OK)
		return 1;
	test_txt(cfg);
	spfkit_config_free(cfg);
	return t_done();
}
