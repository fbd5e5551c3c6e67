/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_eval.c - check_host() end to end through the public API and the
 * zone driver: the limits, the identities, and the hostile inputs that
 * broke other implementations. Each case asserts the RFC 7208 result.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/zone.h"
#include "internal.h"
#include "spfkit.h"
#include "t.h"
#include "zone_yaml.h"

/* One zone for every case, openspf YAML zonedata. */
static const char zone_yaml[] =
    "example.com:\n"
    "  - TXT: \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
    "  - A: 192.0.2.10\n"
    "legit.example:\n"
    "  - TXT: \"v=spf1 +all\"\n"
    /* libspf2 reset its counter per include: 3 includes of 3 a terms each
     * is 12 DNS-querying terms in all, a permerror at the 11th. */
    "tree.example:\n"
    "  - TXT: \"v=spf1 include:i1.tree.example include:i2.tree.example "
    "include:i3.tree.example -all\"\n"
    "i1.tree.example:\n"
    "  - TXT: \"v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example "
    "?all\"\n"
    "i2.tree.example:\n"
    "  - TXT: \"v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example "
    "?all\"\n"
    "i3.tree.example:\n"
    "  - TXT: \"v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example "
    "?all\"\n"
    "h.tree.example:\n"
    "  - A: 198.51.100.1\n"
    /* exactly 10: 2 includes + 8 a terms */
    "ten.example:\n"
    "  - TXT: \"v=spf1 include:j1.ten.example include:j2.ten.example -all\"\n"
    "j1.ten.example:\n"
    "  - TXT: \"v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example "
    "a:h.tree.example ?all\"\n"
    "j2.ten.example:\n"
    "  - TXT: \"v=spf1 a:h.tree.example a:h.tree.example a:h.tree.example "
    "a:h.tree.example ?all\"\n"
    /* walking past errors inside includes (spfkit_check_set_walk) */
    "walk.example:\n"
    "  - TXT: \"v=spf1 include:none.walk.example include:bad.walk.example "
    "a:gone.walk.example ip4:192.0.2.0/24 -all\"\n"
    "bad.walk.example:\n"
    "  - TXT: \"v=spf1 ipv4:192.0.2.1 -all\"\n"
    "loop.example:\n"
    "  - TXT: \"v=spf1 a include:loop.example -all\"\n"
    "  - A: 192.0.2.7\n"
    "nul.example:\n"
    "  - TXT: \"v=spf1 -all\\0 +all\"\n"
    "joined.example:\n"
    "  - TXT: [\"v=spf1 ip4:192.0.2.1\", \"-all\"]\n"
    "empties.example:\n"
    "  - TXT: [\"v=spf1 \", \"\", \"-all\"]\n"
    "ctl.example:\n"
    "  - TXT: \"v=spf1 a:\\x01.example -all\"\n"
    "void.example:\n"
    "  - TXT: \"v=spf1 a:n1.void.example a:n2.void.example a:n3.void.example "
    "-all\"\n"
    "void2.example:\n"
    "  - TXT: \"v=spf1 a:n1.void.example a:n2.void.example -all\"\n"
    "bigd.example:\n"
    "  - TXT: \"v=spf1 exists:%{d2147483648}.x.bigd.example -all\"\n"
    "bigd.example.x.bigd.example:\n"
    "  - A: 127.0.0.2\n"
    "mapped.example:\n"
    "  - TXT: \"v=spf1 ip4:192.0.2.1 -all\"\n"
    "mx.example:\n"
    "  - TXT: \"v=spf1 mx -all\"\n"
    "  - MX: [0, m1.mx.example]\n  - MX: [1, m2.mx.example]\n  - MX: [2, "
    "m3.mx.example]\n"
    "  - MX: [3, m4.mx.example]\n  - MX: [4, m5.mx.example]\n  - MX: [5, "
    "m6.mx.example]\n"
    "  - MX: [6, m7.mx.example]\n  - MX: [7, m8.mx.example]\n  - MX: [8, "
    "m9.mx.example]\n"
    "  - MX: [9, m10.mx.example]\n  - MX: [10, m11.mx.example]\n"
    /* Exchanges without AAAA: each empty AAAA lookup is a void lookup for
     * an IPv6 client, as pyspf and Mail::SPF count. */
    "mx3v4.example:\n"
    "  - TXT: \"v=spf1 mx ~all\"\n"
    "  - MX: [0, h1.mx3v4.example]\n  - MX: [1, h2.mx3v4.example]\n  - MX: [2, "
    "h3.mx3v4.example]\n"
    "mx2v4.example:\n"
    "  - TXT: \"v=spf1 mx ~all\"\n"
    "  - MX: [0, h1.mx3v4.example]\n  - MX: [1, h2.mx3v4.example]\n"
    "h1.mx3v4.example:\n  - A: 192.0.2.31\n"
    "h2.mx3v4.example:\n  - A: 192.0.2.32\n"
    "h3.mx3v4.example:\n  - A: 192.0.2.33\n"
    "helo.example:\n"
    "  - TXT: \"v=spf1 a -all\"\n"
    "  - A: 192.0.2.55\n"
    "slow.example:\n"
    "  - TXT: \"v=spf1 a:dead.example -all\"\n"
    "dead.example:\n"
    "  - TIMEOUT\n"
    "longexp.example:\n"
    "  - TXT: \"v=spf1 -all exp=e.longexp.example\"\n"
    "dr.example:\n"
    "  - TXT: \"v=spf1 -all exp=e.dr.example\"\n"
    "early.example:\n"
    "  - TXT: \"v=spf1 ip4:203.0.113.0/24 include:i1.tree.example "
    "include:i2.tree.example -all\"\n";

/* More of the zone (one string literal has a length limit). */
static const char zone_yaml_prefetch[] =
    /* two include chains side by side: prefetch asks d21 along with d11 */
    "deep.example:\n"
    "  - TXT: \"v=spf1 include:d1.deep.example include:d2.deep.example "
    "-all\"\n"
    "d1.deep.example:\n"
    "  - TXT: \"v=spf1 include:d11.deep.example -all\"\n"
    "d11.deep.example:\n"
    "  - TXT: \"v=spf1 ip4:192.0.2.99 -all\"\n"
    "d2.deep.example:\n"
    "  - TXT: \"v=spf1 include:d21.deep.example -all\"\n"
    "d21.deep.example:\n"
    "  - TXT: \"v=spf1 ip4:203.0.113.1 -all\"\n"
    /* wide: asked ahead, w2-w5's children would pass 11 queries */
    "wide.example:\n"
    "  - TXT: \"v=spf1 include:w1.wide.example include:w2.wide.example "
    "include:w3.wide.example include:w4.wide.example "
    "include:w5.wide.example -all\"\n"
    "w1.wide.example:\n"
    "  - TXT: \"v=spf1 include:x1.w1.wide.example ?all\"\n"
    "x1.w1.wide.example:\n"
    "  - TXT: \"v=spf1 ip4:203.0.113.1 -all\"\n"
    "w2.wide.example:\n"
    "  - TXT: \"v=spf1 include:x1.w2.wide.example include:x2.w2.wide.example "
    "include:x3.w2.wide.example -all\"\n"
    "w3.wide.example:\n"
    "  - TXT: \"v=spf1 include:x1.w3.wide.example include:x2.w3.wide.example "
    "include:x3.w3.wide.example -all\"\n"
    "w4.wide.example:\n"
    "  - TXT: \"v=spf1 include:x1.w4.wide.example -all\"\n"
    "w5.wide.example:\n"
    "  - TXT: \"v=spf1 include:x1.w5.wide.example -all\"\n";

/* The zone, continued. */
static const char zone_yaml_rest[] =
    "mxdead.example:\n"
    "  - TXT: \"v=spf1 mx:dead.example -all\"\n"
    "mxhostdead.example:\n"
    "  - TXT: \"v=spf1 mx -all\"\n"
    "  - MX: [0, h1.mx3v4.example]\n  - MX: [5, dead.example]\n"
    "existsdead.example:\n"
    "  - TXT: \"v=spf1 exists:dead.example -all\"\n"
    "expctl.example:\n"
    "  - TXT: \"v=spf1 -all exp=e.expctl.example\"\n"
    "e.expctl.example:\n"
    "  - TXT: \"%{l} is not welcome\"\n"
    "pmac.example:\n"
    "  - TXT: \"v=spf1 -all exp=e.pmac.example\"\n"
    "e.pmac.example:\n"
    "  - TXT: \"you are %{p}\"\n"
    "5.2.0.192.in-addr.arpa:\n"
    "  - PTR: other.example\n  - PTR: mail.pmac.example\n  - PTR: "
    "pmac.example\n"
    "6.2.0.192.in-addr.arpa:\n"
    "  - PTR: other.example\n  - PTR: mail.pmac.example\n"
    "other.example:\n  - A: 192.0.2.5\n  - A: 192.0.2.6\n"
    "mail.pmac.example:\n  - A: 192.0.2.5\n  - A: 192.0.2.6\n"
    "pmac.example:\n  - A: 192.0.2.5\n"
    "e.dr.example:\n"
    "  - TXT: \"%{DR} %{L} %{o}\"\n"
    /* what a result says: the innermost term, loops, DNS failures */
    "g13.example:\n"
    "  - TXT: \"v=spf1 redirect=_spf.g13.example\"\n"
    "_spf.g13.example:\n"
    "  - TXT: \"v=spf1 include:_nb.g13.example include:_nb2.g13.example "
    "~all\"\n"
    "_nb.g13.example:\n"
    "  - TXT: \"v=spf1 ip4:74.125.0.0/16 ~all\"\n"
    "_nb2.g13.example:\n"
    "  - TXT: \"v=spf1 include:_nb3.g13.example ~all\"\n"
    "_nb3.g13.example:\n"
    "  - TXT: \"v=spf1 ip6:2001:4860::/32 -all\"\n"
    "inc13.example:\n"
    "  - TXT: \"v=spf1 include:_nb3.g13.example ?all\"\n"
    "rloop.example:\n"
    "  - TXT: \"v=spf1 ip4:192.0.2.200 redirect=rloop2.example\"\n"
    "rloop2.example:\n"
    "  - TXT: \"v=spf1 redirect=RLOOP.example.\"\n"
    "self13.example:\n"
    "  - TXT: \"v=spf1 ip4:192.0.2.77 -all\"\n"
    "cl.example:\n"
    "  - CNAME: cl2.example\n"
    "cl2.example:\n"
    "  - CNAME: cl.example\n"
    "clref.example:\n"
    "  - TXT: \"v=spf1 a:cl.example -all\"\n"
    /* macros that expand to no domain name (RFC 7208 7.1) */
    "ml13.example:\n"
    "  - TXT: \"v=spf1 exists:%{l}.x.%{d} -all\"\n"
    "ab.x.ml13.example:\n"
    "  - A: 127.0.0.2\n"
    "ma13.example:\n"
    "  - TXT: \"v=spf1 a:%{l}.x.%{d} mx:%{l}.x.%{d} ptr:%{l}.x.%{d} "
    "-all\"\n"
    "mi13.example:\n"
    "  - TXT: \"v=spf1 include:%{l}.x.%{d} -all\"\n"
    "mr13.example:\n"
    "  - TXT: \"v=spf1 redirect=%{l}.x.%{d}\"\n"
    "lit13.example:\n"
    "  - TXT: \"v=spf1 a:foo..bar.example ~all\"\n";

static char zone_path[64];

static spfkit_zone *zone_load(spfkit_config *cfg)
{
	spfkit_zone *z = NULL;
	char err[256];
	T_EQ_INT(spfkit_zone_new(&z, cfg), SPFKIT_OK, "zone_new");
	int rc = zone_file_load(z, cfg, zone_path, err, sizeof err);
	T_CHECK(rc == SPFKIT_OK, "zone load: %s", err);
	/* A 4000-octet explanation literal (CVE-2021-20314 class): split in
	 * 255-octet character-strings as DNS carries it. */
	unsigned char rd[4100];
	size_t n = 0, left = 4000;
	while (left) {
		size_t k = left > 255 ? 255 : left;
		rd[n++] = (unsigned char)k;
		memset(rd + n, 'x', k);
		n += k;
		left -= k;
	}
	T_EQ_INT(spfkit_zone_add(z, "e.longexp.example", SPFKIT_TYPE_TXT, 300,
				 rd, n),
		 SPFKIT_OK, "zone_add long TXT");
	return z;
}

typedef struct eval_case {
	const char *ip;
	const char *sender;
	size_t sender_len; /* 0: strlen */
	const char *helo;
	spfkit_scope scope;
	spfkit_result want;
	spfkit_reason reason;
	int lookups;             /* -1: don't care */
	const char *explanation; /* NULL: don't care */
} eval_case;

static const eval_case cases[] = {
    {"192.0.2.7", "a@example.com", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 0, NULL},
    {"198.51.100.7", "a@example.com", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0, NULL},
    {"192.0.2.7", "a@tree.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_LOOKUP_LIMIT, 11, NULL},
    {"192.0.2.7", "a@ten.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 10, NULL},
    {"192.0.2.7", "a@nul.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_SYNTAX, 0, NULL},
    {"192.0.2.1", "a@joined.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_SYNTAX, 0, NULL},
    {"192.0.2.1", "a@empties.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0, NULL},
    {"192.0.2.1", "a@ctl.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_SYNTAX, 0, NULL},
    {"192.0.2.1", "a@void.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_VOID_LIMIT, 3, NULL},
    {"192.0.2.1", "a@void2.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 2, NULL},
    {"192.0.2.1", "a@bigd.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 1, NULL},
    {"::ffff:192.0.2.1", "a@mapped.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 0, NULL},
    {"192.0.2.1", "a@mx.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_MX_LIMIT, 1, NULL},
    {"192.0.2.1", "a@slow.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_TEMPERROR, SPFKIT_REASON_DNS_ERROR, 1, NULL},
    {"2001:db8::1", "a@mx3v4.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PERMERROR, SPFKIT_REASON_VOID_LIMIT, 1, NULL},
    {"2001:db8::1", "a@mx2v4.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_SOFTFAIL, SPFKIT_REASON_MECHANISM, 1, NULL},
    {"192.0.2.33", "a@mx3v4.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 1, NULL},
    /* DNS failures in mx and exists are temperror (RFC 7208 §5). */
    {"192.0.2.1", "a@mxdead.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_TEMPERROR, SPFKIT_REASON_DNS_ERROR, 1, NULL},
    {"192.0.2.1", "a@mxhostdead.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_TEMPERROR, SPFKIT_REASON_DNS_ERROR, 1, NULL},
    {"192.0.2.1", "a@existsdead.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_TEMPERROR, SPFKIT_REASON_DNS_ERROR, 1, NULL},
    /* Control octets a macro puts into an explanation are shown as '?'. */
    {"192.0.2.1", "a\x01\x7f@expctl.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0, "a?? is not welcome"},
    /* %{p} (§7.3): the domain itself if validated, else a subdomain. */
    {"192.0.2.5", "a@pmac.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0, "you are pmac.example"},
    {"192.0.2.6", "a@pmac.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0,
     "you are mail.pmac.example"},
    /* No '@': the whole sender is the domain; a trailing dot is dropped. */
    {"192.0.2.7", "example.com", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 0, NULL},
    {"192.0.2.7", "a@example.com.", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 0, NULL},
    /* Malformed identities give none (RFC 7208 §4.3). */
    {"192.0.2.1", "a@legit.example(.attacker.example)", 0, NULL,
     SPFKIT_SCOPE_MAILFROM, SPFKIT_RESULT_NONE, SPFKIT_REASON_MALFORMED_DOMAIN,
     0, NULL},
    {"192.0.2.1", "a@exam\0ple.com", 14, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_NONE, SPFKIT_REASON_MALFORMED_DOMAIN, 0, NULL},
    {"192.0.2.1", "a@[192.0.2.1]", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_NONE, SPFKIT_REASON_MALFORMED_DOMAIN, 0, NULL},
    {"192.0.2.1", "a@nothere.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_NONE, SPFKIT_REASON_NO_RECORD, 0, NULL},
    /* Control characters in the local part are data, not syntax. */
    {"192.0.2.7", "a\x01\r\nb@example.com", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 0, NULL},
    /* The null sender and --scope helo check the HELO name. */
    {"192.0.2.55", "", 0, "helo.example", SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 1, NULL},
    {"192.0.2.55", "<>", 0, "helo.example", SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_PASS, SPFKIT_REASON_MECHANISM, 1, NULL},
    {"192.0.2.56", "a@example.com", 0, "helo.example", SPFKIT_SCOPE_HELO,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 1, NULL},
    {"192.0.2.56", "", 0, "localhost", SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_NONE, SPFKIT_REASON_MALFORMED_DOMAIN, 0, NULL},
    /* Explanations: a long literal falls back to the default; %{DR} and
     * %{L} escape 8-bit octets. */
    {"192.0.2.1", "a@longexp.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0, "DEFAULT"},
    {"192.0.2.1", "j\xe9r\xf4me@dr.example", 0, NULL, SPFKIT_SCOPE_MAILFROM,
     SPFKIT_RESULT_FAIL, SPFKIT_REASON_MECHANISM, 0,
     "example.dr j%E9r%F4me dr.example"},
};

/* A driver's answers at hand (spfkit__check_set_source): the check looks
 * its queries up in the zone while it runs. use_source runs the cases so;
 * the counters check that every answer lent is released once. */
static bool use_source;
static unsigned source_finds, source_lent, source_released;

static bool zone_find(void *ud, const char *name, size_t name_len,
		      uint32_t name_hash, uint16_t type, spfkit__found *out)
{
	(void)name_len, (void)name_hash;
	source_finds++;
	if (!out)
		return true; /* the zone holds every answer */
	spfkit__zone_answer zans;
	if (spfkit__zone_lookup(ud, name, type, &zans) != SPFKIT_OK)
		return false;
	/* The whole answer is lent, so release() must come for each. */
	spfkit__zone_answer *lent = malloc(sizeof *lent);
	if (!lent) {
		spfkit__zone_answer_free(ud, &zans);
		return false;
	}
	*lent = zans;
	out->status = zans.status;
	out->failure = zans.failure;
	out->dnssec = SPFKIT_DNSSEC_UNKNOWN;
	out->rrs = zans.rrs;
	out->n = zans.n;
	out->priv = lent;
	source_lent++;
	return true;
}

static void zone_release(void *ud, spfkit__found *found)
{
	spfkit__zone_answer_free(ud, found->priv);
	free(found->priv);
	source_released++;
}

static const spfkit__source zone_source = {zone_find, zone_release};

/* Runs a check to the end against the zone. */
static spfkit_check *run(spfkit_config *cfg, spfkit_zone *z, const eval_case *c)
{
	spfkit_check *chk = NULL;
	T_EQ_INT(spfkit_check_new(&chk, cfg), SPFKIT_OK, "check_new");
	T_EQ_INT(spfkit_check_set_ip(chk, c->ip), SPFKIT_OK, c->ip);
	size_t sl = c->sender_len ? c->sender_len : strlen(c->sender);
	T_EQ_INT(spfkit_check_set_sender(chk, c->sender, sl), SPFKIT_OK,
		 "set_sender");
	if (c->helo)
		spfkit_check_set_helo(chk, c->helo, strlen(c->helo));
	spfkit_check_set_scope(chk, c->scope);
	if (use_source)
		spfkit__check_set_source(chk, &zone_source, z);
	T_EQ_INT(spfkit_zone_check(z, chk, 1000), SPFKIT_OK, "zone_check");
	return chk;
}

/* With every answer at hand a check ends in its first run. */
static void test_source(spfkit_config *cfg, spfkit_zone *z)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.7");
	spfkit_check_set_sender(chk, "a@ten.example", 13);
	spfkit__check_set_source(chk, &zone_source, z);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE,
		 "ten.example answered inline: done in one run");
	T_EQ_INT(source_lent, source_released, "every answer lent released");
	T_EQ_INT(spfkit_check_lookups(chk), 10, "ten.example lookups");
	/* A reset forgets the source: the next check asks as usual. */
	spfkit_check_reset(chk);
	spfkit_check_set_ip(chk, "192.0.2.7");
	spfkit_check_set_sender(chk, "a@ten.example", 13);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS,
		 "after a reset the check asks");

	/* Prefetch leaves alone what the source holds: wide.example asks
	 * only what it reaches (top, w1, x1.w1), not w2-w5. */
	spfkit_config_set_prefetch(cfg, 1);
	spfkit_check_reset(chk);
	spfkit_check_set_ip(chk, "203.0.113.1");
	spfkit_check_set_sender(chk, "a@wide.example", 14);
	spfkit__check_set_source(chk, &zone_source, z);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "wide.example inline");
	T_EQ_INT(spfkit_check_queries(chk), 3, "nothing prefetched");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS, "wide.example");
	spfkit_config_set_prefetch(cfg, 0);
	spfkit_check_free(chk);
}

static void test_cases(spfkit_config *cfg, spfkit_zone *z)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const eval_case *c = &cases[i];
		spfkit_check *chk = run(cfg, z, c);
		T_CHECK(
		    spfkit_check_result(chk) == c->want,
		    "case %zu (%s from %s): got %s (%s), want %s", i, c->sender,
		    c->ip, spfkit_result_name(spfkit_check_result(chk)),
		    spfkit_check_problem(chk) ? spfkit_check_problem(chk) : "-",
		    spfkit_result_name(c->want));
		T_CHECK(spfkit_check_reason(chk) == c->reason,
			"case %zu: reason %s, want %s", i,
			spfkit_reason_name(spfkit_check_reason(chk)),
			spfkit_reason_name(c->reason));
		if (c->lookups >= 0)
			T_CHECK((int)spfkit_check_lookups(chk) == c->lookups,
				"case %zu: lookups %u, want %d", i,
				spfkit_check_lookups(chk), c->lookups);
		if (c->explanation)
			T_EQ_STR(spfkit_check_explanation(chk), c->explanation,
				 c->sender);
		spfkit_check_free(chk);
	}
}

/* With prefetch a cold check needs (include depth + 1) rounds of DNS;
 * without, one per lookup. Counted in rounds of spfkit_check_run. */
static unsigned rounds(spfkit_config *cfg, spfkit_zone *z, const char *sender,
		       unsigned *queries)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "203.0.113.1");
	spfkit_check_set_sender(chk, sender, strlen(sender));
	unsigned n = 0;
	while (spfkit_check_run(chk, 0) == SPFKIT_WANT_DNS && n < 100) {
		spfkit_zone_answer(z, chk);
		n++;
	}
	*queries = spfkit_check_queries(chk);
	spfkit_check_free(chk);
	return n;
}

static void test_prefetch_rounds(spfkit_config *cfg, spfkit_zone *z)
{
	unsigned q_on, q_off;
	spfkit_config_set_prefetch(cfg, 1);
	unsigned on = rounds(cfg, z, "a@ten.example", &q_on);
	spfkit_config_set_prefetch(cfg, 0);
	unsigned off = rounds(cfg, z, "a@ten.example", &q_off);
	/* ten.example: TXT, then both includes' TXT and all a targets. */
	T_EQ_INT(on, 3, "rounds with prefetch (depth 1 + 1, + the a answers)");
	T_CHECK(off > on, "rounds without prefetch: %u, with: %u", off, on);
	T_EQ_INT(q_on, q_off, "same queries asked either way for this tree");
	/* Nothing after an ip4 that holds the client is prefetched. */
	spfkit_config_set_prefetch(cfg, 1);
	on = rounds(cfg, z, "a@early.example", &q_on);
	T_EQ_INT(q_on, 1, "no prefetch past a matching ip4");
	T_EQ_INT(on, 1, "one round for early.example");

	/* Two chains of depth 2: the second chain's record is asked ahead,
	 * with the first's, while the first is evaluated. */
	on = rounds(cfg, z, "a@deep.example", &q_on);
	spfkit_config_set_prefetch(cfg, 0);
	off = rounds(cfg, z, "a@deep.example", &q_off);
	T_EQ_INT(on, 3, "rounds with prefetch for deep.example (depth 2 + 1)");
	T_EQ_INT(off, 5, "rounds without prefetch for deep.example");
	T_EQ_INT(q_on, q_off, "deep.example asks the same five either way");

	/* Asking ahead stops at 11 queries (the record and ten terms): the
	 * first include matches in w1's child, so only what the frames
	 * reached asked for goes past that. */
	spfkit_config_set_prefetch(cfg, 1);
	on = rounds(cfg, z, "a@wide.example", &q_on);
	spfkit_config_set_prefetch(cfg, 0);
	off = rounds(cfg, z, "a@wide.example", &q_off);
	T_EQ_INT(q_off, 3, "wide.example without prefetch: top, w1, x1.w1");
	T_CHECK(q_on <= 11, "wide.example with prefetch asked %u (max 11)",
		q_on);
	T_EQ_INT(on, 3, "rounds with prefetch for wide.example");
	spfkit_config_set_prefetch(cfg, 1);
}

/* The deadline: a check that waits for DNS past it ends in temperror and
 * asks for nothing more. */
static void test_deadline(spfkit_config *cfg, spfkit_zone *z)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "a@example.com", 13);
	T_EQ_INT(spfkit_check_run(chk, 5000), SPFKIT_WANT_DNS,
		 "first run wants DNS");
	T_EQ_INT(spfkit_check_pending(chk), 1, "one query pending");
	T_EQ_INT(spfkit_check_run(chk, 5000 + 20000), SPFKIT_DONE,
		 "deadline ends it");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_TEMPERROR,
		 "deadline temperror");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_DEADLINE,
		 "deadline reason");
	T_EQ_INT(spfkit_check_pending(chk), 0,
		 "nothing pending after the deadline");
	spfkit_check_free(chk);
	(void)z;
}

/* --record replaces the domain's own record; includes still resolve. */
static void test_override(spfkit_config *cfg, spfkit_zone *z)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "198.51.100.9");
	spfkit_check_set_sender(chk, "a@example.com", 13);
	const char *draft =
	    "v=spf1 ip4:198.51.100.0/24 include:legit.example -all";
	T_EQ_INT(spfkit_check_set_record(chk, draft, strlen(draft)), SPFKIT_OK,
		 "set_record");
	spfkit_zone_check(z, chk, 0);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS, "draft passes");
	T_EQ_STR(spfkit_check_mechanism(chk), "ip4:198.51.100.0/24",
		 "draft mechanism");
	spfkit_check_free(chk);
}

/* 64 KiB identities are accepted and give none (labels over 63 octets);
 * one octet more is refused at the API. */
static void test_huge(spfkit_config *cfg, spfkit_zone *z)
{
	size_t n = 65536;
	char *big = malloc(n + 1);
	memset(big, 'a', n + 1);
	big[10] = '@';
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	T_EQ_INT(spfkit_check_set_sender(chk, big, n + 1), SPFKIT_ETOOBIG,
		 "sender over 64 KiB");
	T_EQ_INT(spfkit_check_set_sender(chk, big, n), SPFKIT_OK,
		 "64 KiB sender");
	T_EQ_INT(spfkit_check_set_helo(chk, big, n), SPFKIT_OK, "64 KiB HELO");
	spfkit_zone_check(z, chk, 0);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_NONE,
		 "64 KiB sender: none");
	char *hdr = NULL;
	T_EQ_INT(
	    spfkit_check_header(chk, SPFKIT_HEADER_RECEIVED_SPF, NULL, &hdr),
	    SPFKIT_OK, "header for a 64 KiB sender");
	T_CHECK(hdr && strlen(hdr) <= 4096, "header capped");
	spfkit_free(cfg, hdr);
	spfkit_check_free(chk);

	chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_helo(chk, big, n);
	spfkit_check_set_scope(chk, SPFKIT_SCOPE_HELO);
	spfkit_zone_check(z, chk, 0);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_NONE,
		 "64 KiB HELO: none");
	spfkit_check_free(chk);
	free(big);
}

/* A driver of the test's own: DNSSEC statuses, malformed RDATA, answers
 * to queries the check dropped. */
static void test_manual_driver(spfkit_config *cfg)
{
	static const unsigned char txt[] = "\x17v=spf1 a:h.example -all";
	static const unsigned char a_bad[] = {192, 0, 2};
	static const unsigned char a_ok[] = {192, 0, 2, 1};
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "a@d.example", 11);
	int v = 7;
	T_EQ_INT(spfkit_check_set_userdata(chk, &v), SPFKIT_OK, "userdata");
	T_CHECK(spfkit_check_userdata(chk) == &v, "userdata kept");
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "wants the record");
	unsigned id;
	const char *name;
	uint16_t type;
	T_EQ_INT(spfkit_check_query(chk, 0, &id, &name, &type), SPFKIT_OK,
		 "query 0");
	T_EQ_INT(spfkit_check_query(chk, 1, &id, &name, &type), SPFKIT_ENOENT,
		 "no query 1");
	T_EQ_INT(type, SPFKIT_TYPE_TXT, "TXT first");
	spfkit_rr rr = {SPFKIT_TYPE_TXT, 60, txt, sizeof txt - 1};
	T_EQ_INT(spfkit_check_answer(chk, id, (spfkit_dns_status)9, &rr, 1),
		 SPFKIT_EINVAL, "bad status");
	T_EQ_INT(spfkit_check_answer_dnssec(chk, id, SPFKIT_DNS_NOERROR, &rr, 1,
					    SPFKIT_DNSSEC_SECURE),
		 SPFKIT_OK, "secure TXT");
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "wants h.example");
	spfkit_check_query(chk, 0, &id, &name, &type);
	T_EQ_STR(name, "h.example", "a target");
	/* A 3-octet A record is ignored; the 4-octet one matches. */
	spfkit_rr rrs[2] = {{SPFKIT_TYPE_A, 60, a_bad, 3},
			    {SPFKIT_TYPE_A, 60, a_ok, 4}};
	T_EQ_INT(spfkit_check_answer_dnssec(chk, id, SPFKIT_DNS_NOERROR, rrs, 2,
					    SPFKIT_DNSSEC_INSECURE),
		 SPFKIT_OK, "insecure A");
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "done");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS,
		 "pass through a");
	T_EQ_INT(spfkit_check_dnssec(chk), SPFKIT_DNSSEC_INSECURE,
		 "weakest status");
	T_EQ_STR(spfkit_dnssec_name(spfkit_check_dnssec(chk)), "insecure",
		 "dnssec name");
	T_EQ_INT(spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, NULL, 0),
		 SPFKIT_ENOENT, "answer after the end");
	spfkit_check_free(chk);

	/* A bogus answer that is used makes the whole check bogus. */
	chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "a@d.example", 11);
	spfkit_check_run(chk, 0);
	spfkit_check_query(chk, 0, &id, NULL, NULL);
	spfkit_check_answer_dnssec(chk, id, SPFKIT_DNS_NOERROR, &rr, 1,
				   SPFKIT_DNSSEC_BOGUS);
	spfkit_check_run(chk, 0);
	spfkit_check_query(chk, 0, &id, NULL, NULL);
	spfkit_check_answer_dnssec(chk, id, SPFKIT_DNS_NOERROR, rrs + 1, 1,
				   SPFKIT_DNSSEC_SECURE);
	spfkit_check_run(chk, 0);
	T_EQ_INT(spfkit_check_dnssec(chk), SPFKIT_DNSSEC_BOGUS, "bogus wins");
	spfkit_check_free(chk);
}

/* What a driver offers beside an answer (spfkit__check_offer: an MX
 * answer's exchange addresses) answers the check's later ask at once, for
 * that check only: other types and names are still asked, a reset drops
 * it, and an answer already asked for is not replaced. */
static void test_offer(spfkit_config *cfg)
{
	static const unsigned char txt[] =
	    "\x23v=spf1 a:h.example a:g.example -all";
	static const unsigned char a_h[] = {192, 0, 2, 1};
	static const unsigned char a_x[] = {198, 51, 100, 1};
	spfkit_rr rec = {SPFKIT_TYPE_TXT, 60, txt, sizeof txt - 1};
	spfkit_rr ah = {SPFKIT_TYPE_A, 60, a_h, 4};
	spfkit_rr ax = {SPFKIT_TYPE_A, 60, a_x, 4};
	unsigned id;
	const char *name;
	uint16_t type;
	for (int round = 0; round < 2; round++) {
		/* round 1: the same check after a reset, nothing offered */
		spfkit_check *chk = NULL;
		spfkit_check_new(&chk, cfg);
		if (round == 0) {
			T_EQ_INT(spfkit__check_offer(chk, "H.Example.", 10,
						     SPFKIT_TYPE_A, &ah, 1),
				 SPFKIT_OK, "offer h.example A");
			T_EQ_INT(spfkit__check_offer(chk, "h.example", 9,
						     SPFKIT_TYPE_AAAA, &ax, 1),
				 SPFKIT_OK, "offer h.example AAAA");
			T_EQ_INT(spfkit__check_offer(chk, "", 0, SPFKIT_TYPE_A,
						     &ah, 1),
				 SPFKIT_EINVAL, "no name");
			spfkit_check_reset(chk);
		}
		spfkit_check_set_ip(chk, "192.0.2.1");
		spfkit_check_set_sender(chk, "a@d.example", 11);
		if (round == 0)
			T_EQ_INT(spfkit__check_offer(chk, "h.example", 9,
						     SPFKIT_TYPE_A, &ah, 1),
				 SPFKIT_OK, "offer after the reset");
		T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS,
			 "wants the record");
		spfkit_check_query(chk, 0, &id, &name, &type);
		spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, &rec, 1);
		int rc = spfkit_check_run(chk, 0);
		if (round == 0) {
			T_EQ_INT(rc, SPFKIT_DONE, "offered: no A query");
			T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS,
				 "pass through the offered A");
		} else {
			T_EQ_INT(rc, SPFKIT_WANT_DNS, "reset: A asked");
			T_EQ_INT(spfkit_check_query(chk, 0, &id, &name, &type),
				 SPFKIT_OK, "the A query");
			T_EQ_STR(name, "h.example", "the A query's name");
		}
		spfkit_check_free(chk);
	}

	/* Offered for another name than the term's: asked all the same; and
	 * an offer for a query already out does not answer it. */
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "198.51.100.1");
	spfkit_check_set_sender(chk, "a@d.example", 11);
	spfkit_check_run(chk, 0);
	spfkit_check_query(chk, 0, &id, &name, &type);
	spfkit__check_offer(chk, "g.example", 9, SPFKIT_TYPE_A, &ax, 1);
	spfkit__check_offer(chk, "d.example", 9, SPFKIT_TYPE_TXT, &rec, 1);
	T_EQ_INT(spfkit_check_pending(chk), 1, "the record's query stays out");
	spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, &rec, 1);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS,
		 "h.example asked (g.example's was offered)");
	spfkit_check_query(chk, 0, &id, &name, &type);
	T_EQ_STR(name, "h.example", "h.example asked");
	spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, &ah, 1);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "g.example offered");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS,
		 "pass through g.example's offered A");
	spfkit_check_free(chk);
}

/* A fail whose exp= lookup outlives the deadline keeps its result and
 * gets the default explanation. */
static void test_exp_deadline(spfkit_config *cfg, spfkit_zone *z)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "j@dr.example", 12);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "record");
	spfkit_zone_answer(z, chk);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "exp lookup");
	T_EQ_INT(spfkit_check_run(chk, 30000), SPFKIT_DONE,
		 "deadline during exp");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL, "still fail");
	T_EQ_STR(spfkit_check_explanation(chk), "DEFAULT",
		 "default explanation");
	spfkit_check_free(chk);
}

static void test_api_misuse(spfkit_config *cfg)
{
	T_EQ_INT(spfkit_check_set_sender(NULL, "a", 1), SPFKIT_EINVAL,
		 "NULL check sender");
	T_EQ_INT(spfkit_check_set_helo(NULL, "a", 1), SPFKIT_EINVAL,
		 "NULL check helo");
	T_EQ_INT(spfkit_check_set_record(NULL, "v=spf1", 6), SPFKIT_EINVAL,
		 "NULL check record");
	T_EQ_INT(spfkit_check_set_timestamp(NULL, 1), SPFKIT_EINVAL,
		 "NULL check timestamp");
	T_EQ_INT(spfkit_check_set_userdata(NULL, NULL), SPFKIT_EINVAL,
		 "NULL check userdata");
	T_EQ_INT(spfkit_check_set_ip(NULL, "192.0.2.1"), SPFKIT_EINVAL,
		 "NULL check ip");
	T_EQ_INT(spfkit_check_run(NULL, 0), SPFKIT_EINVAL, "NULL run");
	T_EQ_INT(spfkit_check_query(NULL, 0, NULL, NULL, NULL), SPFKIT_EINVAL,
		 "NULL query");
	T_EQ_INT(spfkit_check_answer(NULL, 1, SPFKIT_DNS_NOERROR, NULL, 0),
		 SPFKIT_EINVAL, "NULL answer");
	T_EQ_INT(
	    spfkit_check_header(NULL, SPFKIT_HEADER_RECEIVED_SPF, NULL, NULL),
	    SPFKIT_EINVAL, "NULL header");
	T_EQ_INT(spfkit_check_result(NULL), SPFKIT_RESULT_NONE, "NULL result");
	T_CHECK(spfkit_check_explanation(NULL) == NULL &&
		    spfkit_check_mechanism(NULL) == NULL &&
		    spfkit_check_where(NULL) == NULL &&
		    spfkit_check_problem(NULL) == NULL,
		"NULL accessors");
	T_EQ_INT(spfkit_check_pending(NULL), 0, "NULL pending");
	T_EQ_STR(spfkit_strerror(SPFKIT_ETOOBIG), "too big", "strerror");
	T_EQ_STR(spfkit_strerror(-99), "unknown status", "strerror unknown");
	T_EQ_STR(spfkit_reason_name(SPFKIT_REASON_MX_LIMIT), "mx-limit",
		 "reason name");
	T_EQ_STR(spfkit_result_name((spfkit_result)99), "unknown",
		 "result name unknown");
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_ESTATE, "run without an IP");
	T_EQ_INT(spfkit_check_set_ip(chk, "192.0.2.300"), SPFKIT_EINVAL,
		 "bad IP");
	T_EQ_INT(spfkit_check_set_ip(chk, "192.0.2.1"), SPFKIT_OK, "good IP");
	T_EQ_INT(spfkit_check_answer(chk, 99, SPFKIT_DNS_NOERROR, NULL, 0),
		 SPFKIT_ENOENT, "answer to no query");
	T_EQ_INT(spfkit_check_set_scope(chk, (spfkit_scope)7), SPFKIT_EINVAL,
		 "bad scope");
	spfkit_check_free(chk);
	spfkit_check_free(NULL);
	T_EQ_INT(spfkit_check_new(NULL, cfg), SPFKIT_EINVAL, "NULL out");
	T_EQ_INT(spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DNS_TERMS, 0),
		 SPFKIT_EINVAL, "limit 0");
	T_EQ_INT(spfkit_config_set_default_explanation(cfg, "%{x}"),
		 SPFKIT_EPARSE, "bad default exp");
}

/* What the events of one check were: counts by kind, and the texts of
 * the TERM and PROBLEM events in order. */
typedef struct ev_log {
	unsigned n[SPFKIT_EVENT_RESULT + 1];
	unsigned counted, matched, max_depth;
	char terms[2048], problems[2048];
	spfkit_result result;
} ev_log;

static void log_event(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	(void)chk;
	ev_log *l = ud;
	l->n[ev->kind]++;
	if (ev->depth > l->max_depth)
		l->max_depth = ev->depth;
	char *dst = NULL;
	if (ev->kind == SPFKIT_EVENT_TERM) {
		l->counted += ev->counted != 0;
		dst = l->terms;
	} else if (ev->kind == SPFKIT_EVENT_PROBLEM) {
		dst = l->problems;
	} else if (ev->kind == SPFKIT_EVENT_TERM_END) {
		l->matched += ev->matched != 0;
	} else if (ev->kind == SPFKIT_EVENT_RESULT) {
		l->result = ev->result;
	}
	if (dst) {
		size_t used = strlen(dst);
		snprintf(dst + used, 2048 - used, "%s%.*s", used ? "|" : "",
			 (int)ev->text_len, ev->text);
	}
}

static spfkit_check *run_logged(spfkit_config *cfg, spfkit_zone *z,
				const char *ip, const char *sender, bool walk,
				ev_log *l)
{
	memset(l, 0, sizeof *l);
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, ip);
	spfkit_check_set_sender(chk, sender, strlen(sender));
	T_EQ_INT(spfkit_check_set_walk(chk, walk), SPFKIT_OK, "set_walk");
	T_EQ_INT(spfkit_check_set_events(chk, log_event, l), SPFKIT_OK,
		 "set_events");
	T_EQ_INT(spfkit_zone_check(z, chk, 1000), SPFKIT_OK, sender);
	T_EQ_INT(l->n[SPFKIT_EVENT_RESULT], 1, "one RESULT event");
	T_EQ_INT(l->result, spfkit_check_result(chk), "RESULT event result");
	T_EQ_INT(l->counted, spfkit_check_lookups(chk), "counted TERMs");
	T_EQ_INT(l->n[SPFKIT_EVENT_VOID], spfkit_check_void_lookups(chk),
		 "VOID events");
	T_EQ_INT(l->n[SPFKIT_EVENT_QUERY], spfkit_check_queries(chk),
		 "QUERY events");
	return chk;
}

/* The events trace, tree and lint are built on, and walking. */
static void test_events(spfkit_config *cfg, spfkit_zone *z)
{
	ev_log l;
	/* A check stops at the 11th term, and says so once. */
	spfkit_check *chk =
	    run_logged(cfg, z, "203.0.113.1", "a@tree.example", false, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PERMERROR,
		 "tree.example");
	T_EQ_INT(l.counted, 11, "11 counted terms");
	T_EQ_INT(l.n[SPFKIT_EVENT_PROBLEM], 1, "one problem");
	T_CHECK(strstr(l.problems, "the 11th is a:h.tree.example") != NULL,
		"problem text: %s", l.problems);
	T_EQ_INT(l.n[SPFKIT_EVENT_FRAME], 4, "frames reached");
	spfkit_check_free(chk);

	/* Walking the same tree from the address its a terms hold: no a
	 * matches, all 12 terms are reached, the limit is reported once
	 * and the walk ends at -all. */
	chk = run_logged(cfg, z, "198.51.100.1", "a@tree.example", true, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL, "walk result");
	T_EQ_INT(spfkit_check_lookups(chk), 12, "walk counts every term");
	T_EQ_INT(l.n[SPFKIT_EVENT_PROBLEM], 1, "limit reported once");
	T_EQ_INT(l.n[SPFKIT_EVENT_FRAME], 4, "walk frames");
	T_EQ_INT(l.n[SPFKIT_EVENT_FRAME_END], 4, "walk frame ends");
	T_EQ_INT(l.n[SPFKIT_EVENT_TERM], 16, "walk terms: 3 + 3 x 4 + 1");
	T_EQ_INT(l.matched, 4, "only the three ?all and -all matched");
	T_EQ_INT(l.max_depth, 1, "depth");
	spfkit_check_free(chk);
	/* Without walking the first a matches and the include passes. */
	chk = run_logged(cfg, z, "198.51.100.1", "a@tree.example", false, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS, "no walk");
	T_EQ_INT(l.matched, 2, "a, then the include");
	T_EQ_STR(spfkit_check_mechanism(chk), "include:i1.tree.example",
		 "the top record's deciding term");
	T_EQ_STR(spfkit_check_where(chk),
		 "tree.example > include i1.tree.example",
		 "where the match was");
	spfkit_check_free(chk);

	/* A check ends at the first broken include; a walk reports each
	 * problem and goes on to the end. */
	chk = run_logged(cfg, z, "192.0.2.1", "a@walk.example", false, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PERMERROR,
		 "walk.example checked");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_INCLUDE_NONE,
		 "walk.example reason");
	T_EQ_STR(spfkit_check_where(chk),
		 "walk.example > include none.walk.example", "where it broke");
	spfkit_check_free(chk);
	chk = run_logged(cfg, z, "192.0.2.1", "a@walk.example", true, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL,
		 "walk.example walked");
	T_EQ_INT(l.n[SPFKIT_EVENT_PROBLEM], 2, "two problems");
	T_CHECK(strstr(l.problems, "include target has no v=spf1 record") &&
		    strstr(l.problems, "syntax error in the record of "
				       "bad.walk.example"),
		"problems: %s", l.problems);
	T_EQ_INT(spfkit_check_void_lookups(chk), 1, "gone.walk.example");
	T_EQ_INT(l.n[SPFKIT_EVENT_FRAME_END], 3, "every frame ends");
	T_EQ_STR(l.terms,
		 "include:none.walk.example|include:bad.walk.example|"
		 "a:gone.walk.example|ip4:192.0.2.0/24|-all",
		 "terms in order");
	spfkit_check_free(chk);

	/* A loop: a check ends when the include comes back (it would go
	 * round to the limit); a walk names it and goes on. */
	chk = run_logged(cfg, z, "203.0.113.1", "a@loop.example", false, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PERMERROR,
		 "loop checked");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_LOOP, "loop reason");
	T_EQ_STR(spfkit_check_problem(chk),
		 "a loop: include:loop.example in the record of loop.example "
		 "leads back to loop.example, whose record is already being "
		 "evaluated; a check would go round until the limit of 10 "
		 "DNS-querying terms (RFC 7208 4.6.4)",
		 "loop problem");
	T_EQ_INT(spfkit_check_lookups(chk), 2, "the a and the include");
	T_EQ_STR(spfkit_reason_name(SPFKIT_REASON_LOOP), "loop", "loop name");
	spfkit_check_free(chk);
	chk = run_logged(cfg, z, "203.0.113.1", "a@loop.example", true, &l);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL, "loop walked");
	T_CHECK(strstr(l.problems, "a loop") != NULL, "loop problem: %s",
		l.problems);
	T_EQ_INT(spfkit_check_lookups(chk), 2, "a and the include");
	T_EQ_STR(spfkit_check_where(chk), "loop.example", "where -all is");
	spfkit_check_free(chk);

	/* Events and walking are set before the first run. */
	chk = run_logged(cfg, z, "203.0.113.1", "a@example.com", false, &l);
	T_EQ_INT(spfkit_check_set_walk(chk, 1), SPFKIT_ESTATE, "walk late");
	T_EQ_INT(spfkit_check_set_events(chk, NULL, NULL), SPFKIT_ESTATE,
		 "events late");
	spfkit_check_free(chk);
}

/* One check of sender from ip over the zone (helo and scope as given). */
static spfkit_check *check_of(spfkit_config *cfg, spfkit_zone *z,
			      const char *ip, const char *sender,
			      const char *helo, const char *record)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, ip);
	spfkit_check_set_sender(chk, sender, strlen(sender));
	if (helo)
		spfkit_check_set_helo(chk, helo, strlen(helo));
	if (record)
		spfkit_check_set_record(chk, record, strlen(record));
	T_EQ_INT(spfkit_zone_check(z, chk, 1000), SPFKIT_OK, sender);
	return chk;
}

/* The failure kind of the last LOOKUP event with a TEMPFAIL. */
static void log_failure(const spfkit_check *chk, const spfkit_event *ev,
			void *ud)
{
	(void)chk;
	if ((ev->kind == SPFKIT_EVENT_LOOKUP ||
	     ev->kind == SPFKIT_EVENT_ANSWER) &&
	    ev->status == SPFKIT_DNS_TEMPFAIL)
		*(spfkit_dns_failure *)ud = ev->failure;
}

/* What a result says beyond its name (issue 13): the innermost term that
 * matched and how it was reached, loops by redirect, the kind of a DNS
 * failure, the default explanation for an IPv6 client. */
static void test_telling(spfkit_config *cfg, spfkit_zone *z)
{
	/* A pass through redirect and include: mechanism stays the term of
	 * the record the redirect reached (Received-SPF's mechanism=); the
	 * matched term is the innermost one, with its route as terms. */
	spfkit_check *chk =
	    check_of(cfg, z, "74.125.1.1", "a@g13.example", NULL, NULL);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS, "g13 pass");
	T_EQ_STR(spfkit_check_mechanism(chk), "include:_nb.g13.example",
		 "g13 mechanism");
	T_EQ_STR(spfkit_check_matched_term(chk), "ip4:74.125.0.0/16",
		 "g13 matched term");
	T_EQ_STR(spfkit_check_matched_via(chk),
		 "redirect=_spf.g13.example > include:_nb.g13.example",
		 "g13 via");
	spfkit_check_free(chk);
	/* Two includes deep. */
	chk = check_of(cfg, z, "2001:4860::1", "a@g13.example", NULL, NULL);
	T_EQ_STR(spfkit_check_mechanism(chk), "include:_nb2.g13.example",
		 "nb3 mechanism");
	T_EQ_STR(spfkit_check_matched_term(chk), "ip6:2001:4860::/32",
		 "nb3 matched term");
	T_EQ_STR(spfkit_check_matched_via(chk),
		 "redirect=_spf.g13.example > include:_nb2.g13.example > "
		 "include:_nb3.g13.example",
		 "nb3 via");
	spfkit_check_free(chk);
	/* A fail inside an include is no match there: the term that
	 * decides is the checked domain's own, reached directly. */
	chk = check_of(cfg, z, "192.0.2.1", "a@inc13.example", NULL, NULL);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_NEUTRAL, "inc13");
	T_EQ_STR(spfkit_check_matched_term(chk), "?all", "inc13 matched");
	T_EQ_STR(spfkit_check_matched_via(chk), "", "inc13 via");
	spfkit_check_free(chk);
	/* Nothing matched: no term at all. */
	chk = check_of(cfg, z, "192.0.2.1", "a@g13.example", NULL,
		       "v=spf1 include:_nb.g13.example");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_DEFAULT, "default");
	T_CHECK(spfkit_check_matched_term(chk) == NULL &&
		    spfkit_check_matched_via(chk) == NULL,
		"no matched term for the default");
	spfkit_check_free(chk);

	/* A macro that expands to no domain name: the lookup finds nothing
	 * (no match; a, mx and exists ask nothing, so no void lookup), so
	 * the sender's local part cannot turn the domain's fail into a
	 * permerror; ptr still makes its own lookup, the client's PTR
	 * query (here void); an include or redirect of such a name has no
	 * record: permerror, as for any name without one. */
	static const struct {
		const char *sender;
		spfkit_result want;
		unsigned lookups, voids, queries;
	} bad_names[] = {
	    {"ab@ml13.example", SPFKIT_RESULT_PASS, 1, 0, 2},
	    {"a..b@ml13.example", SPFKIT_RESULT_FAIL, 1, 0, 1},
	    {".ab@ml13.example", SPFKIT_RESULT_FAIL, 1, 0, 1},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "@ml13.example",
	     SPFKIT_RESULT_FAIL, 1, 0, 1},
	    {"a..b@ma13.example", SPFKIT_RESULT_FAIL, 3, 1, 2},
	    {"a..b@mi13.example", SPFKIT_RESULT_PERMERROR, 1, 0, 1},
	    {"a..b@mr13.example", SPFKIT_RESULT_PERMERROR, 1, 0, 1},
	    {"x@lit13.example", SPFKIT_RESULT_SOFTFAIL, 1, 0, 1},
	};
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		chk = check_of(cfg, z, "192.0.2.1", bad_names[i].sender, NULL,
			       NULL);
		T_EQ_INT(spfkit_check_result(chk), bad_names[i].want,
			 bad_names[i].sender);
		T_EQ_INT(spfkit_check_void_lookups(chk), bad_names[i].voids,
			 "void lookups");
		T_EQ_INT(spfkit_check_lookups(chk), bad_names[i].lookups,
			 "terms counted");
		T_EQ_INT(spfkit_check_queries(chk), bad_names[i].queries,
			 "queries asked");
		if (bad_names[i].want == SPFKIT_RESULT_PERMERROR)
			T_EQ_INT(spfkit_check_reason(chk),
				 SPFKIT_REASON_BAD_TARGET, "bad target");
		spfkit_check_free(chk);
	}
	/* Walking still reports the term, for lint. */
	ev_log wl;
	chk = run_logged(cfg, z, "192.0.2.1", "a..b@ml13.example", true, &wl);
	T_CHECK(strstr(wl.problems, "a macro expanded to an unusable domain "
				    "name (a check finds nothing there): "
				    "a..b.x.ml13.example") != NULL,
		"walked bad name: %s", wl.problems);
	spfkit_check_free(chk);

	/* A HELO check's Received-SPF names the message's real envelope
	 * sender (RFC 7208 §9.1), not the postmaster@HELO it checked. */
	chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.55");
	spfkit_check_set_sender(chk, "<a@example.com>", 15);
	spfkit_check_set_helo(chk, "helo.example", 12);
	spfkit_check_set_scope(chk, SPFKIT_SCOPE_HELO);
	spfkit_zone_check(z, chk, 1000);
	char *hdr = NULL;
	T_EQ_INT(
	    spfkit_check_header(chk, SPFKIT_HEADER_RECEIVED_SPF, NULL, &hdr),
	    SPFKIT_OK, "helo header");
	T_CHECK(hdr && strstr(hdr, "identity=helo") &&
		    strstr(hdr, "envelope-from=\"a@example.com\"; "
				"helo=helo.example;"),
		"helo header: %s", hdr ? hdr : "(null)");
	spfkit_free(cfg, hdr);
	spfkit_check_free(chk);

	/* A redirect loop is a loop too, a trailing dot and case aside. */
	chk = check_of(cfg, z, "192.0.2.1", "a@rloop.example", NULL, NULL);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PERMERROR, "rloop");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_LOOP, "rloop reason");
	T_EQ_STR(spfkit_check_where(chk),
		 "rloop.example > redirect "
		 "rloop2.example",
		 "rloop where");
	T_CHECK(spfkit_check_problem(chk) &&
		    strstr(spfkit_check_problem(chk),
			   "a loop: redirect=RLOOP.example in the record of "
			   "rloop2.example leads back to rloop.example,"),
		"rloop problem: %s", spfkit_check_problem(chk));
	spfkit_check_free(chk);
	/* A draft that includes its own domain's published record is no
	 * loop. */
	chk = check_of(cfg, z, "192.0.2.77", "a@self13.example", NULL,
		       "v=spf1 include:self13.example -all");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PASS,
		 "draft including its published record");
	T_EQ_STR(spfkit_check_matched_via(chk), "include:self13.example",
		 "self13 via");
	spfkit_check_free(chk);

	/* DNS failures are named: a TIMEOUT mark, a CNAME loop, and what a
	 * driver says with spfkit_check_answer_failure(). */
	spfkit_dns_failure seen = SPFKIT_DNS_FAIL_UNKNOWN;
	chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "a@slow.example", 14);
	spfkit_check_set_events(chk, log_failure, &seen);
	spfkit_zone_check(z, chk, 1000);
	T_EQ_STR(spfkit_check_problem(chk),
		 "DNS failure (timeout) for A dead.example", "timeout named");
	T_EQ_INT(seen, SPFKIT_DNS_FAIL_TIMEOUT, "timeout in the event");
	spfkit_check_free(chk);
	chk = check_of(cfg, z, "192.0.2.1", "a@clref.example", NULL, NULL);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_TEMPERROR, "cl");
	T_EQ_STR(spfkit_check_problem(chk),
		 "DNS failure (bad answer) for A cl.example",
		 "CNAME loop named");
	spfkit_check_free(chk);
	static const spfkit_dns_failure kinds[] = {
	    SPFKIT_DNS_FAIL_REFUSED, SPFKIT_DNS_FAIL_SERVFAIL,
	    SPFKIT_DNS_FAIL_BOGUS, SPFKIT_DNS_FAIL_UNKNOWN};
	static const char *const texts[] = {
	    "DNS failure (REFUSED) for TXT d.example",
	    "DNS failure (SERVFAIL) for TXT d.example",
	    "DNS failure (DNSSEC validation failed: bogus) for TXT d.example",
	    "DNS failure (SERVFAIL or timeout) for TXT d.example"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		unsigned id;
		spfkit_check_new(&chk, cfg);
		spfkit_check_set_ip(chk, "192.0.2.1");
		spfkit_check_set_sender(chk, "a@d.example", 11);
		spfkit_check_run(chk, 0);
		spfkit_check_query(chk, 0, &id, NULL, NULL);
		T_EQ_INT(spfkit_check_answer_failure(chk, id,
						     (spfkit_dns_failure)77),
			 SPFKIT_EINVAL, "unknown failure kind");
		T_EQ_INT(spfkit_check_answer_failure(chk, id, kinds[i]),
			 SPFKIT_OK, "answer_failure");
		T_EQ_INT(spfkit_check_answer_failure(chk, id, kinds[i]),
			 SPFKIT_ENOENT, "answered already");
		T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "done");
		T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_TEMPERROR,
			 texts[i]);
		T_EQ_STR(spfkit_check_problem(chk), texts[i], "kind named");
		T_EQ_INT(spfkit_check_dnssec(chk),
			 kinds[i] == SPFKIT_DNS_FAIL_BOGUS
			     ? SPFKIT_DNSSEC_BOGUS
			     : SPFKIT_DNSSEC_UNKNOWN,
			 "bogus is bogus");
		spfkit_check_free(chk);
	}
	T_EQ_STR(spfkit_dns_failure_name(SPFKIT_DNS_FAIL_TIMEOUT), "timeout",
		 "failure name");
	T_EQ_STR(spfkit_dns_failure_name((spfkit_dns_failure)77), "unknown",
		 "unknown failure name");

	/* The default explanation names an IPv6 client as people write it
	 * (%{c}), not as 32 dotted nibbles (%{i}). */
	spfkit_config *c6 = NULL;
	spfkit_config_new(&c6, NULL);
	chk = check_of(c6, z, "2001:db8::1", "a@example.com", NULL,
		       "v=spf1 -all");
	T_EQ_STR(spfkit_check_explanation(chk),
		 "2001:db8::1 is not one of example.com's designated mail "
		 "servers. See https://www.rfc-editor.org/rfc/rfc7208"
		 "#section-2.6.4",
		 "IPv6 default explanation");
	spfkit_check_free(chk);
	chk =
	    check_of(c6, z, "192.0.2.9", "a@example.com", NULL, "v=spf1 -all");
	T_CHECK(
	    strncmp(spfkit_check_explanation(chk), "192.0.2.9 is not", 16) == 0,
	    "IPv4 default explanation: %s", spfkit_check_explanation(chk));
	spfkit_check_free(chk);
	spfkit_config_free(c6);
}

/* What DNS drivers use to send each query once (spfkit__check_unsent),
 * and an answer of more records than are kept (MAX_ITEMS). */
static void test_driver_hooks(spfkit_config *cfg)
{
	static const unsigned char txt[] = "\x0ev=spf1 mx -all";
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "a@d.example", 11);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "wants TXT");
	size_t k = 0;
	unsigned id, id2;
	const char *name;
	uint16_t type;
	T_CHECK(spfkit__check_unsent(chk, &k, &id, &name, &type),
		"one unsent query");
	T_EQ_STR(name, "d.example", "its name");
	spfkit__check_mark_sent(chk, k, true);
	size_t k2 = k + 1;
	T_CHECK(!spfkit__check_unsent(chk, &k2, &id2, &name, &type),
		"nothing else to send");
	k2 = 0;
	T_CHECK(!spfkit__check_unsent(chk, &k2, &id2, &name, &type),
		"sent is remembered");
	spfkit__check_unsend(chk);
	k2 = 0;
	T_CHECK(spfkit__check_unsent(chk, &k2, &id2, &name, &type) && id2 == id,
		"unsend forgets");
	spfkit__check_mark_sent(chk, k2, true);
	spfkit__check_mark_sent(chk, k2, false);
	spfkit__check_mark_sent(chk, 999, true); /* out of range: nothing */
	k2 = 0;
	T_CHECK(spfkit__check_unsent(chk, &k2, &id2, &name, &type),
		"marked unsent again");
	spfkit_rr rr = {SPFKIT_TYPE_TXT, 60, txt, sizeof txt - 1};
	spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, &rr, 1);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_WANT_DNS, "wants MX");
	spfkit_check_query(chk, 0, &id, &name, &type);
	T_EQ_INT(type, SPFKIT_TYPE_MX, "MX");
	/* 1200 MX records: 1000 are kept, all are counted, so the limit of
	 * 10 names is seen as crossed (RFC 7208 4.6.4). */
	enum { NMX = 1200 };
	static unsigned char rdata[NMX][16];
	static spfkit_rr mx[NMX];
	for (int i = 0; i < NMX; i++) {
		rdata[i][0] = 0;
		rdata[i][1] = (unsigned char)i;
		static const unsigned char host[14] = {2,   'm', 'x', 1,   'd',
						       7,   'e', 'x', 'a', 'm',
						       'p', 'l', 'e', 0};
		memcpy(&rdata[i][2], host, sizeof host);
		mx[i] = (spfkit_rr){SPFKIT_TYPE_MX, 60, rdata[i], 16};
	}
	T_EQ_INT(spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, mx, NMX),
		 SPFKIT_OK, "1200 MX");
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "done");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_MX_LIMIT,
		 "over 10 MX names");
	spfkit_check_free(chk);

	/* Walking past a redirect whose target is no usable name ends the
	 * walk there with the problem reported. */
	chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, "a@d.example", 11);
	const char *rec = "v=spf1 redirect=%{l}..example";
	spfkit_check_set_record(chk, rec, strlen(rec));
	spfkit_check_set_walk(chk, 1);
	T_EQ_INT(spfkit_check_run(chk, 0), SPFKIT_DONE, "walk done");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_PERMERROR,
		 "bad redirect target");
	spfkit_check_free(chk);
}

/* The parsed-record cache changes no result; a record dropped from a
 * full cache lives on in the check that holds it. */
static void test_cache(spfkit_config *cfg, spfkit_zone *z)
{
	spfkit_cache *cache = NULL;
	T_EQ_INT(spfkit_cache_new(&cache, cfg, 2), SPFKIT_OK, "cache_new");
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			const eval_case *c = &cases[i];
			spfkit_check *chk = NULL;
			spfkit_check_new(&chk, cfg);
			T_EQ_INT(spfkit_check_set_cache(chk, cache), SPFKIT_OK,
				 "set_cache");
			spfkit_check_set_ip(chk, c->ip);
			size_t sl =
			    c->sender_len ? c->sender_len : strlen(c->sender);
			spfkit_check_set_sender(chk, c->sender, sl);
			if (c->helo)
				spfkit_check_set_helo(chk, c->helo,
						      strlen(c->helo));
			spfkit_check_set_scope(chk, c->scope);
			spfkit_zone_check(z, chk, 1000);
			T_CHECK(spfkit_check_result(chk) == c->want &&
				    spfkit_check_reason(chk) == c->reason,
				"cached case %zu (%s): got %s", i, c->sender,
				spfkit_result_name(spfkit_check_result(chk)));
			if (c->explanation)
				T_EQ_STR(spfkit_check_explanation(chk),
					 c->explanation, c->sender);
			spfkit_check_free(chk);
		}
	}
	T_CHECK(spfkit_cache_hits(cache) > 0, "hits: %llu",
		(unsigned long long)spfkit_cache_hits(cache));
	/* A tree of 4 records through a cache of 2: records are evicted
	 * while the check still uses them. */
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_cache(chk, cache);
	spfkit_check_set_ip(chk, "198.51.100.9");
	spfkit_check_set_sender(chk, "a@ten.example", 13);
	spfkit_zone_check(z, chk, 1000);
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL,
		 "ten.example through a small cache");
	spfkit_cache_free(cache);
	spfkit_check_free(chk); /* after the cache: its records are its own */

	spfkit_config *other = NULL;
	spfkit_config_new(&other, NULL);
	spfkit_cache_new(&cache, other, 0);
	spfkit_check_new(&chk, cfg);
	T_EQ_INT(spfkit_check_set_cache(chk, cache), SPFKIT_EINVAL,
		 "a cache of another config");
	T_EQ_INT(spfkit_check_set_cache(chk, NULL), SPFKIT_OK, "no cache");
	spfkit_check_free(chk);
	spfkit_cache_free(cache);
	spfkit_config_free(other);
	T_EQ_INT(spfkit_cache_new(NULL, cfg, 0), SPFKIT_EINVAL, "NULL out");
}

/* A one-TXT-record zone for test_cache_changed(). */
static spfkit_zone *txt_zone(spfkit_config *cfg, const char *name,
			     const char *txt)
{
	spfkit_zone *z = NULL;
	T_EQ_INT(spfkit_zone_new(&z, cfg), SPFKIT_OK, "zone_new");
	unsigned char rd[256];
	size_t n = strlen(txt);
	rd[0] = (unsigned char)n;
	memcpy(rd + 1, txt, n);
	T_EQ_INT(spfkit_zone_add(z, name, SPFKIT_TYPE_TXT, 300, rd, n + 1),
		 SPFKIT_OK, "zone_add");
	return z;
}

/* One sender domain checked against ip through cache and zone z. */
static spfkit_result cached_check(spfkit_config *cfg, spfkit_cache *cache,
				  spfkit_zone *z, const char *sender)
{
	spfkit_check *chk = NULL;
	spfkit_check_new(&chk, cfg);
	spfkit_check_set_cache(chk, cache);
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, sender, strlen(sender));
	spfkit_zone_check(z, chk, 1000);
	spfkit_result r = spfkit_check_result(chk);
	spfkit_check_free(chk);
	return r;
}

/* The cache finds a name's record by the name first (cache.c's hints): a
 * name whose record changed gets its new record, and a hint whose entry
 * was evicted (a cache of one) is not followed. */
static void test_cache_changed(spfkit_config *cfg)
{
	spfkit_zone *deny = txt_zone(cfg, "moving.example", "v=spf1 -all");
	spfkit_zone *allow = txt_zone(cfg, "moving.example", "v=spf1 +all");
	spfkit_zone *other =
	    txt_zone(cfg, "other.example", "v=spf1 ip4:192.0.2.0/24 -all");
	spfkit_cache *cache = NULL;
	T_EQ_INT(spfkit_cache_new(&cache, cfg, 1), SPFKIT_OK, "cache_new");
	for (int round = 0; round < 2; round++) {
		T_EQ_INT(cached_check(cfg, cache, deny, "a@moving.example"),
			 SPFKIT_RESULT_FAIL, "moving.example, -all");
		T_EQ_INT(cached_check(cfg, cache, deny, "a@moving.example"),
			 SPFKIT_RESULT_FAIL, "moving.example, -all again");
		T_EQ_INT(cached_check(cfg, cache, allow, "a@moving.example"),
			 SPFKIT_RESULT_PASS, "moving.example, now +all");
		T_EQ_INT(cached_check(cfg, cache, other, "a@other.example"),
			 SPFKIT_RESULT_PASS, "other.example evicts it");
		T_EQ_INT(cached_check(cfg, cache, allow, "a@moving.example"),
			 SPFKIT_RESULT_PASS, "moving.example, +all after");
	}
	T_CHECK(spfkit_cache_hits(cache) > 0, "hits: %llu",
		(unsigned long long)spfkit_cache_hits(cache));
	spfkit_cache_free(cache);
	spfkit_zone_free(deny);
	spfkit_zone_free(allow);
	spfkit_zone_free(other);
}

int main(void)
{
	char dir[] = "/tmp/spfkit-eval-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	snprintf(zone_path, sizeof zone_path, "%s/zone.yml", dir);
	FILE *f = fopen(zone_path, "w");
	fwrite(zone_yaml, 1, sizeof zone_yaml - 1, f);
	fwrite(zone_yaml_prefetch, 1, sizeof zone_yaml_prefetch - 1, f);
	fwrite(zone_yaml_rest, 1, sizeof zone_yaml_rest - 1, f);
	fclose(f);

	spfkit_config *cfg = NULL;
	spfkit_config_new(&cfg, NULL);
	spfkit_config_set_default_explanation(cfg, "DEFAULT");
	spfkit_zone *z = zone_load(cfg);
	test_cases(cfg, z);
	/* The same results, counters and explanations without prefetch. */
	spfkit_config_set_prefetch(cfg, 0);
	test_cases(cfg, z);
	/* And with answers given while the check runs, prefetch off and on. */
	use_source = true;
	test_cases(cfg, z);
	spfkit_config_set_prefetch(cfg, 1);
	test_cases(cfg, z);
	spfkit_config_set_prefetch(cfg, 0);
	use_source = false;
	T_CHECK(source_lent > 0 && source_lent == source_released,
		"the source lent %u answers and got %u back", source_lent,
		source_released);
	test_source(cfg, z);
	test_prefetch_rounds(cfg, z);
	test_deadline(cfg, z);
	test_override(cfg, z);
	test_huge(cfg, z);
	test_api_misuse(cfg);
	test_manual_driver(cfg);
	test_offer(cfg);
	test_exp_deadline(cfg, z);
	test_events(cfg, z);
	spfkit_config_set_prefetch(cfg, 1);
	test_events(cfg, z);
	test_telling(cfg, z);
	spfkit_config_set_prefetch(cfg, 0);
	test_telling(cfg, z);
	spfkit_config_set_prefetch(cfg, 1);
	test_cache(cfg, z);
	test_cache_changed(cfg);
	test_driver_hooks(cfg);
	spfkit_zone_free(z);
	spfkit_config_free(cfg);
	unlink(zone_path);
	rmdir(dir);
	return t_done();
}
