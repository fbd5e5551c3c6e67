/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ubresult.c - the libunbound driver's reading of a reply packet
 * (lib/dns/ubresult.c): the records of the asked type at the end of the
 * CNAME chain and their TTL, the negative TTL of RFC 2308 §5 from the
 * authority section, the packet's RCODE, and what a malformed reply
 * gives. Packets are written by ldns from presentation-format records,
 * table-driven.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ldns/ldns.h>
#include <unbound.h>

#include "dns/ubresult.h"
#include "t.h"

typedef struct rcase {
	const char *what;
	const char *qname;
	uint16_t qtype;
	ldns_pkt_rcode rcode;
	const char *answer[4];
	const char *authority[3];
	const char *additional[3];
	int want_n;        /* records of qtype handed over */
	int want_ttl;      /* res->ttl */
	int want_rcode;    /* res->rcode */
	const char *want0; /* the first record's rdata, as wire octets */
	size_t want0_len;
} rcase;

static const rcase cases[] = {
    {"one TXT: its TTL",
     "a.example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_NOERROR,
     {"a.example. 77 IN TXT \"v=spf1 -all\""},
     {"example. 300 IN NS ns.example."},
     {"ns.example. 300 IN A 192.0.2.53"},
     1,
     77,
     0,
     "\x0bv=spf1 -all",
     12},
    {"two TXT: the smaller TTL",
     "a.example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_NOERROR,
     {"a.example. 500 IN TXT \"x\"", "a.example. 40 IN TXT \"y\""},
     {NULL},
     {NULL},
     2,
     40,
     0,
     "\x01x",
     2},
    {"CNAME chain: the target's records only",
     "a.example.",
     LDNS_RR_TYPE_A,
     LDNS_RCODE_NOERROR,
     {"a.example. 900 IN CNAME b.example.",
      "b.example. 900 IN CNAME c.example.", "c.example. 60 IN A 192.0.2.7",
      "x.example. 5 IN A 192.0.2.8"},
     {NULL},
     {NULL},
     1,
     60,
     0,
     "\xc0\x00\x02\x07",
     4},
    {"other type at the name: none handed over, negative TTL from SOA",
     "a.example.",
     LDNS_RR_TYPE_MX,
     LDNS_RCODE_NOERROR,
     {NULL},
     {"example. 300 IN SOA ns.example. h.example. 1 3600 600 86400 120"},
     {NULL},
     0,
     120,
     0,
     NULL,
     0},
    {"NXDOMAIN: min(SOA TTL, MINIMUM) (RFC 2308 §5)",
     "gone.example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_NXDOMAIN,
     {NULL},
     {"example. 45 IN SOA ns.example. h.example. 1 3600 600 86400 120"},
     {NULL},
     0,
     45,
     3,
     NULL,
     0},
    {"NXDOMAIN after a CNAME: its TTL counts too",
     "a.example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_NXDOMAIN,
     {"a.example. 30 IN CNAME gone.example."},
     {"example. 300 IN SOA ns.example. h.example. 1 3600 600 86400 120"},
     {NULL},
     0,
     30,
     3,
     NULL,
     0},
    {"negative without SOA: no TTL to keep it by",
     "gone.example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_NXDOMAIN,
     {NULL},
     {NULL},
     {NULL},
     0,
     0,
     3,
     NULL,
     0},
    {"SERVFAIL: the packet's RCODE",
     "a.example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_SERVFAIL,
     {NULL},
     {NULL},
     {NULL},
     0,
     0,
     2,
     NULL,
     0},
    {"name case differs: still the asked name",
     "A.Example.",
     LDNS_RR_TYPE_TXT,
     LDNS_RCODE_NOERROR,
     {"a.example. 10 IN TXT \"z\""},
     {NULL},
     {NULL},
     1,
     10,
     0,
     "\x01z",
     2},
};

/* The wire form of a reply built from c, in a malloc()ed buffer. */
static uint8_t *build(const rcase *c, size_t *len)
{
	ldns_pkt *p =
	    ldns_pkt_query_new(ldns_dname_new_frm_str(c->qname),
			       (ldns_rr_type)c->qtype, LDNS_RR_CLASS_IN, 0);
	if (!p)
		return NULL;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)c->rcode);
	const char *const *secs[3] = {c->answer, c->authority, c->additional};
	const ldns_pkt_section sec[3] = {LDNS_SECTION_ANSWER,
					 LDNS_SECTION_AUTHORITY,
					 LDNS_SECTION_ADDITIONAL};
	for (int s = 0; s < 3; s++)
		for (int i = 0; i < 4 && (s == 0 || i < 3) && secs[s][i]; i++) {
			ldns_rr *rr = NULL;
			if (ldns_rr_new_frm_str(&rr, secs[s][i], 0, NULL,
						NULL) != LDNS_STATUS_OK) {
				fprintf(stderr, "bad test record %s\n",
					secs[s][i]);
				exit(2);
			}
			ldns_pkt_push_rr(p, sec[s], rr);
		}
	uint8_t *wire = NULL;
	if (ldns_pkt2wire(&wire, p, len) != LDNS_STATUS_OK)
		wire = NULL;
	ldns_pkt_free(p);
	return wire;
}

static void table(void)
{
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const rcase *c = &cases[k];
		size_t len = 0;
		uint8_t *wire = build(c, &len);
		T_CHECK(wire != NULL, "%s: built", c->what);
		if (!wire)
			continue;
		struct ub_result *r =
		    spfkit__ub_result(wire, (int)len, 0, c->qtype, 0);
		T_CHECK(r != NULL, "%s: a result", c->what);
		if (r) {
			int n = 0;
			while (r->havedata && r->data[n])
				n++;
			T_EQ_INT(n, c->want_n, c->what);
			T_EQ_INT(r->havedata != 0, c->want_n > 0, c->what);
			T_EQ_INT(r->ttl, c->want_ttl, c->what);
			T_EQ_INT(r->rcode, c->want_rcode, c->what);
			T_EQ_INT(r->nxdomain != 0, c->want_rcode == 3, c->what);
			T_CHECK(r->answer_packet && r->answer_len == (int)len &&
				    memcmp(r->answer_packet, wire, len) == 0,
				"%s: the packet kept", c->what);
			if (c->want0 && n > 0)
				T_CHECK(r->len[0] == (int)c->want0_len &&
					    memcmp(r->data[0], c->want0,
						   c->want0_len) == 0,
					"%s: first record's rdata", c->what);
			ub_resolve_free(r);
		}
		free(wire);
	}
}

/* A reply cut short anywhere in what is read (header, question, answer)
 * gives no data and no packet, never a read past its end; cut in the
 * additional section (never read) it still gives the answer. */
static void truncated(void)
{
	const rcase *c = &cases[0]; /* answer, authority and additional */
	size_t len = 0;
	uint8_t *wire = build(c, &len);
	T_CHECK(wire != NULL, "truncation: built");
	if (!wire)
		return;
	/* The end of the answer section, as ldns reads it (names may be
	 * compressed). */
	size_t aend = LDNS_HEADER_SIZE;
	ldns_rr *rr = NULL;
	if (ldns_wire2rr(&rr, wire, len, &aend, LDNS_SECTION_QUESTION) ==
	    LDNS_STATUS_OK) {
		ldns_rr_free(rr);
		rr = NULL;
		if (ldns_wire2rr(&rr, wire, len, &aend, LDNS_SECTION_ANSWER) ==
		    LDNS_STATUS_OK)
			ldns_rr_free(rr);
	}
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *w = malloc(cut ? cut : 1);
		if (!w)
			break;
		memcpy(w, wire, cut);
		struct ub_result *r =
		    spfkit__ub_result(w, (int)cut, 0, c->qtype, 0);
		T_CHECK(r != NULL, "cut at %zu: a result", cut);
		if (r) {
			if (cut < aend)
				T_CHECK(!r->havedata && !r->answer_packet,
					"cut at %zu (answer ends at %zu): "
					"no data, no packet",
					cut, aend);
			else
				T_CHECK(r->havedata && r->data[0] &&
					    !r->data[1] && r->ttl == 77,
					"cut at %zu (after the answer): the "
					"answer",
					cut);
			ub_resolve_free(r);
		}
		free(w);
	}
	free(wire);
}

/* No packet (libunbound's own failure): the callback's rcode alone. */
static void no_packet(void)
{
	struct ub_result *r =
	    spfkit__ub_result(NULL, 0, 2, LDNS_RR_TYPE_TXT, 0);
	T_CHECK(r && r->rcode == 2 && !r->havedata && !r->answer_packet,
		"no packet: SERVFAIL from the callback, nothing else");
	if (r)
		ub_resolve_free(r);
}

int main(void)
{
	table();
	truncated();
	no_packet();
	return t_done();
}
