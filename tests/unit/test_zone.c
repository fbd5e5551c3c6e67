/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_zone.c - the in-memory zone driver: the lookup layer (NXDOMAIN,
 * NODATA, empty non-terminals, case, CNAME chains and loops, TIMEOUT, the
 * SPF-as-TXT rule), wire RDATA from YAML zonedata and RFC 1035 master
 * files, and loads that fail cleanly and leave the zone as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/zone.h"
#include "t.h"
#include "zone_yaml.h"

/* A byte string with its length, NULs allowed. */
typedef struct bytes {
	const char *p;
	size_t n;
} bytes;
#define B(s)                                                                   \
	{                                                                      \
		(s), sizeof(s) - 1                                             \
	}
#define NONE                                                                   \
	{                                                                      \
		NULL, 0                                                        \
	}

enum {
	NOERR = SPFKIT_DNS_NOERROR,
	NXD = SPFKIT_DNS_NXDOMAIN,
	TEMP = SPFKIT_DNS_TEMPFAIL
};

/* One query and what the zone must say. */
typedef struct lcase {
	const char *name;
	uint16_t type;
	int status;
	size_t n;        /* records in the answer */
	bytes first;     /* rdata of the first record, when given */
	unsigned cnames; /* CNAMEs followed */
	uint32_t ttl;    /* TTL of the first record, 0 to skip */
} lcase;

static void run_lookups(const spfkit_zone *z, const lcase *cases, size_t n,
			const char *table)
{
	for (size_t i = 0; i < n; i++) {
		const lcase *c = &cases[i];
		char what[200];
		snprintf(what, sizeof what, "%s: %s/%u", table, c->name,
			 (unsigned)c->type);
		spfkit__zone_answer ans;
		int rc = spfkit__zone_lookup(z, c->name, c->type, &ans);
		T_EQ_INT(rc, SPFKIT_OK, what);
		T_EQ_INT(ans.status, c->status, what);
		T_EQ_INT(ans.n, c->n, what);
		T_EQ_INT(ans.cnames, c->cnames, what);
		for (size_t k = 0; k < ans.n; k++)
			T_EQ_INT(ans.rrs[k].type, c->type, what);
		if (c->first.p && ans.n > 0) {
			T_CHECK(ans.rrs[0].rdlen == c->first.n &&
				    memcmp(ans.rrs[0].rdata, c->first.p,
					   c->first.n) == 0,
				"%s: rdata differs (%zu octets, want %zu)",
				what, ans.rrs[0].rdlen, c->first.n);
		}
		if (c->ttl && ans.n > 0)
			T_EQ_INT(ans.rrs[0].ttl, c->ttl, what);
		spfkit__zone_answer_free(z, &ans);
	}
}

static void add(spfkit_zone *z, const char *name, uint16_t type, bytes rd)
{
	int rc = spfkit_zone_add(z, name, type, 300,
				 (const unsigned char *)rd.p, rd.n);
	T_CHECK(rc == SPFKIT_OK, "add %s/%u: %d", name, (unsigned)type, rc);
}

/* ---------------------------------------------------------------- lookup */

static void test_lookup(void)
{
	spfkit_zone *z = NULL;
	T_EQ_INT(spfkit_zone_new(&z, NULL), SPFKIT_OK, "zone_new");
	if (!z)
		return;
	bytes txt = B("\x05hello");
	add(z, "A.b.Example.", SPFKIT_TYPE_TXT, txt);
	add(z, "a.b.example", SPFKIT_TYPE_TXT, (bytes)B("\x03two\x02st"));
	add(z, "alias.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x01"
		     "A\x01"
		     "B\x07"
		     "EXAMPLE\x00"));
	add(z, "alias2.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x05"
		     "alias\x07"
		     "example\x00"));
	add(z, "dangling.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x07"
		     "nothere\x07"
		     "example\x00"));
	add(z, "loop1.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x05"
		     "loop2\x07"
		     "example\x00"));
	add(z, "loop2.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x05"
		     "LOOP1\x07"
		     "example\x00"));
	add(z, "self.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x04"
		     "self\x07"
		     "example\x00"));
	add(z, "bad.example", SPFKIT_TYPE_CNAME, (bytes)B("\x09short"));
	add(z, "spf.example", SPFKIT__TYPE_SPF, (bytes)B("\x06v=spf1"));
	add(z, "both.example", SPFKIT__TYPE_SPF, (bytes)B("\x01s"));
	add(z, "both.example", SPFKIT_TYPE_TXT, (bytes)B("\x01t"));
	add(z, "addr.example", SPFKIT_TYPE_A, (bytes)B("\xc0\x00\x02\x01"));
	add(z, "to-slow.example", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x04slow\x07"
		     "example\x00"));
	T_EQ_INT(spfkit_zone_add_timeout(z, "SLOW.example."), SPFKIT_OK,
		 "add_timeout");
	/* A chain of 8 CNAMEs works, 9 is too long. */
	for (int i = 1; i <= 9; i++) {
		char name[32], target[32];
		snprintf(name, sizeof name, "c%d.example", i);
		snprintf(target, sizeof target, "c%d", i + 1);
		unsigned char rd[64];
		size_t tl = strlen(target);
		rd[0] = (unsigned char)tl;
		memcpy(rd + 1, target, tl);
		memcpy(rd + 1 + tl,
		       "\x07"
		       "example",
		       9);
		/* length, label, "\7example" and the root's zero octet */
		T_EQ_INT(spfkit_zone_add(z, name, SPFKIT_TYPE_CNAME, 1, rd,
					 1 + tl + 9),
			 SPFKIT_OK, name);
	}
	add(z, "c10.example", SPFKIT_TYPE_TXT, txt);

	static const lcase cases[] = {
	    {"a.b.example", SPFKIT_TYPE_TXT, NOERR, 2, B("\x05hello"), 0, 300},
	    {"A.B.EXAMPLE", SPFKIT_TYPE_TXT, NOERR, 2, B("\x05hello"), 0, 0},
	    {"a.b.example.", SPFKIT_TYPE_TXT, NOERR, 2, NONE, 0, 0},
	    {"a.b.example", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	    {"b.example", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"EXAMPLE", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	    {"c.example", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    {"x.a.b.example", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    {"b.example.com", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    {"", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    {"alias.example", SPFKIT_TYPE_TXT, NOERR, 2, B("\x05hello"), 1, 0},
	    {"alias.example", SPFKIT_TYPE_A, NOERR, 0, NONE, 1, 0},
	    {"alias.example", SPFKIT_TYPE_CNAME, NOERR, 1, NONE, 0, 0},
	    {"alias2.example", SPFKIT_TYPE_TXT, NOERR, 2, NONE, 2, 0},
	    {"dangling.example", SPFKIT_TYPE_TXT, NXD, 0, NONE, 1, 0},
	    {"loop1.example", SPFKIT_TYPE_TXT, TEMP, 0, NONE, 8, 0},
	    {"self.example", SPFKIT_TYPE_A, TEMP, 0, NONE, 8, 0},
	    {"bad.example", SPFKIT_TYPE_A, TEMP, 0, NONE, 0, 0},
	    {"c2.example", SPFKIT_TYPE_TXT, NOERR, 1, NONE, 8, 0},
	    {"c1.example", SPFKIT_TYPE_TXT, TEMP, 0, NONE, 8, 0},
	    {"slow.example", SPFKIT_TYPE_TXT, TEMP, 0, NONE, 0, 0},
	    {"Slow.Example", SPFKIT_TYPE_A, TEMP, 0, NONE, 0, 0},
	    {"to-slow.example", SPFKIT_TYPE_A, TEMP, 0, NONE, 1, 0},
	    {"spf.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x06v=spf1"), 0, 0},
	    {"spf.example", SPFKIT__TYPE_SPF, NOERR, 1, B("\x06v=spf1"), 0, 0},
	    {"spf.example", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	    {"both.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x01t"), 0, 0},
	    {"addr.example", SPFKIT_TYPE_A, NOERR, 1, B("\xc0\x00\x02\x01"), 0,
	     300},
	};
	run_lookups(z, cases, sizeof cases / sizeof cases[0], "lookup");

	/* Records of a type come back in the order they were added. */
	spfkit__zone_answer ans;
	T_EQ_INT(spfkit__zone_lookup(z, "a.b.example", SPFKIT_TYPE_TXT, &ans),
		 SPFKIT_OK, "order");
	T_CHECK(ans.n == 2 && ans.rrs[1].rdlen == 7 &&
		    memcmp(ans.rrs[1].rdata, "\x03two\x02st", 7) == 0,
		"second TXT record kept in order");
	spfkit__zone_answer_free(z, &ans);

	/* Bad arguments. */
	T_EQ_INT(spfkit__zone_lookup(z, NULL, 1, &ans), SPFKIT_EINVAL,
		 "lookup NULL name");
	T_EQ_INT(spfkit_zone_add(NULL, "x", 1, 1, NULL, 0), SPFKIT_EINVAL,
		 "add NULL zone");
	T_EQ_INT(spfkit_zone_add(z, NULL, 1, 1, NULL, 0), SPFKIT_EINVAL,
		 "add NULL name");
	T_EQ_INT(spfkit_zone_add(z, "x", 1, 1, NULL, 4), SPFKIT_EINVAL,
		 "add NULL rdata");
	static unsigned char huge[65536];
	T_EQ_INT(spfkit_zone_add(z, "x", 16, 1, huge, sizeof huge),
		 SPFKIT_ETOOBIG, "add over 65535 octets");
	T_EQ_INT(spfkit_zone_add_timeout(z, NULL), SPFKIT_EINVAL,
		 "timeout NULL");
	T_EQ_INT(spfkit_zone_new(NULL, NULL), SPFKIT_EINVAL, "zone_new NULL");
	T_EQ_INT(spfkit_zone_answer(NULL, NULL), SPFKIT_EINVAL, "answer NULL");
	T_EQ_INT(spfkit_zone_check(z, NULL, 0), SPFKIT_EINVAL, "check NULL");

	/* An empty rdata is kept as a record (the suite's "SPF: [ ]"). */
	T_EQ_INT(
	    spfkit_zone_add(z, "empty.example", SPFKIT_TYPE_TXT, 1, NULL, 0),
	    SPFKIT_OK, "add empty rdata");
	T_EQ_INT(spfkit__zone_lookup(z, "empty.example", SPFKIT_TYPE_TXT, &ans),
		 SPFKIT_OK, "empty");
	T_CHECK(ans.n == 1 && ans.rrs[0].rdlen == 0 && ans.rrs[0].rdata,
		"empty rdata: one record, non-NULL pointer");
	spfkit__zone_answer_free(z, &ans);
	spfkit_zone_free(z);
	spfkit_zone_free(NULL);
}

/* Tens of thousands of names stay fast and all findable. */
/* spfkit_zone_mark and spfkit_zone_merge, the public calls a reader of
 * another zone format (the programs' YAML reader) is built on. */
static void test_marks(void)
{
	spfkit_zone *z = NULL, *src = NULL;
	if (spfkit_zone_new(&z, NULL) || spfkit_zone_new(&src, NULL)) {
		T_CHECK(0, "zone_new");
		return;
	}
	T_EQ_INT(spfkit_zone_mark(z, "x.example", 16), SPFKIT_EINVAL,
		 "unknown mark");
	T_EQ_INT(spfkit_zone_mark(NULL, "x.example", 1), SPFKIT_EINVAL,
		 "NULL zone");
	T_EQ_INT(spfkit_zone_mark(z, "e.deep.example.", SPFKIT_ZONE_EXISTS),
		 SPFKIT_OK, "exists");
	add(z, "held.example", SPFKIT_TYPE_A, (bytes)B("\xc0\x00\x02\x01"));
	T_EQ_INT(
	    spfkit_zone_mark(z, "held.example", SPFKIT_ZONE_TIMEOUT_OTHERS),
	    SPFKIT_OK, "timeout others");
	add(z, "spf.example", SPFKIT__TYPE_SPF, (bytes)B("\x06v=spf1"));
	add(z, "nospf.example", SPFKIT__TYPE_SPF, (bytes)B("\x06v=spf1"));
	T_EQ_INT(
	    spfkit_zone_mark(z, "nospf.example", SPFKIT_ZONE_NO_SPF_AS_TXT),
	    SPFKIT_OK, "no spf as txt");
	T_EQ_INT(spfkit_zone_mark(z, "t.example", SPFKIT_ZONE_TIMEOUT),
		 SPFKIT_OK, "timeout");
	static const lcase marked[] = {
	    {"e.deep.example", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	    {"deep.example", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"other.deep.example", SPFKIT_TYPE_A, NXD, 0, NONE, 0, 0},
	    {"held.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	    {"held.example", SPFKIT_TYPE_MX, TEMP, 0, NONE, 0, 0},
	    {"spf.example", SPFKIT_TYPE_TXT, NOERR, 1, NONE, 0, 0},
	    {"nospf.example", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"t.example", SPFKIT_TYPE_A, TEMP, 0, NONE, 0, 0},
	};
	run_lookups(z, marked, sizeof marked / sizeof marked[0], "marks");

	add(src, "held.example", SPFKIT_TYPE_A, (bytes)B("\xc0\x00\x02\x02"));
	add(src, "new.example", SPFKIT_TYPE_A, (bytes)B("\xc0\x00\x02\x03"));
	T_EQ_INT(spfkit_zone_mark(src, "nx.example", SPFKIT_ZONE_EXISTS),
		 SPFKIT_OK, "mark in src");
	T_EQ_INT(spfkit_zone_merge(z, src), SPFKIT_OK, "merge");
	T_EQ_INT(spfkit__zone_count_records(src), 0, "src emptied");
	static const lcase merged[] = {
	    {"held.example", SPFKIT_TYPE_A, NOERR, 2, NONE, 0, 0},
	    {"new.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	    {"nx.example", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	};
	run_lookups(z, merged, sizeof merged / sizeof merged[0],
		    "merged marks");
	T_EQ_INT(spfkit_zone_merge(z, NULL), SPFKIT_EINVAL, "merge NULL");
	spfkit_zone_free(src);
	spfkit_zone_free(z);
}

static void test_big(void)
{
	spfkit_zone *z = NULL;
	if (spfkit_zone_new(&z, NULL) != SPFKIT_OK)
		return;
	enum { N = 50000 };
	int bad = 0;
	for (int i = 0; i < N && !bad; i++) {
		char name[64];
		snprintf(name, sizeof name, "h%d.d%d.example", i, i % 100);
		unsigned char a[4] = {10, (unsigned char)(i >> 16),
				      (unsigned char)(i >> 8),
				      (unsigned char)i};
		bad = spfkit_zone_add(z, name, SPFKIT_TYPE_A, 60, a, 4) != 0;
	}
	T_CHECK(!bad, "50000 adds");
	T_EQ_INT(spfkit__zone_count_names(z), N, "names");
	T_EQ_INT(spfkit__zone_count_records(z), N, "records");
	int wrong = 0;
	for (int i = 0; i < N; i += 7) {
		char name[64];
		snprintf(name, sizeof name, "H%d.D%d.EXAMPLE", i, i % 100);
		spfkit__zone_answer ans;
		if (spfkit__zone_lookup(z, name, SPFKIT_TYPE_A, &ans) ||
		    ans.n != 1 || ans.rrs[0].rdata[3] != (unsigned char)i)
			wrong++;
		spfkit__zone_answer_free(z, &ans);
	}
	T_EQ_INT(wrong, 0, "big zone lookups");
	static const lcase cases[] = {
	    {"d7.example", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	    {"d100.example", SPFKIT_TYPE_A, NXD, 0, NONE, 0, 0},
	};
	run_lookups(z, cases, 2, "big");
	spfkit_zone_free(z);
}

/* ---------------------------------------------------------------- files */

static char tmpdir[64];

static const char *write_file(const char *base, const char *text)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", tmpdir, base);
	FILE *fp = fopen(path, "w");
	T_CHECK(fp != NULL, "create %s", path);
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
	return path;
}

static void remove_file(const char *base)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", tmpdir, base);
	unlink(path);
}

/* A load that must fail: status, the message starts with the path and
 * holds want, it is one line, and the zone did not change. */
typedef struct bad_file {
	const char *base;
	const char *text;
	int status;
	const char *want; /* "path" + want must be a prefix of the message */
	const char *also; /* a substring of the message, or NULL */
} bad_file;

static void run_bad_files(spfkit_zone *z, const bad_file *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const bad_file *c = &cases[i];
		size_t names = spfkit__zone_count_names(z);
		size_t records = spfkit__zone_count_records(z);
		const char *path = write_file(c->base, c->text);
		char want[256], err[256];
		snprintf(want, sizeof want, "%s%s", path, c->want);
		int rc = zone_file_load(z, NULL, path, err, sizeof err);
		T_CHECK(rc == c->status, "%s: status %d, want %d (%s)", c->base,
			rc, c->status, err);
		T_CHECK(strncmp(err, want, strlen(want)) == 0,
			"%s: message \"%s\" should start \"%s\"", c->base, err,
			want);
		T_CHECK(!c->also || strstr(err, c->also),
			"%s: message \"%s\" should hold \"%s\"", c->base, err,
			c->also);
		T_CHECK(strchr(err, '\n') == NULL, "%s: one line", c->base);
		T_EQ_INT(spfkit__zone_count_names(z), names, c->base);
		T_EQ_INT(spfkit__zone_count_records(z), records, c->base);
		spfkit__zone_answer ans;
		spfkit__zone_lookup(z, "partial.example", SPFKIT_TYPE_A, &ans);
		T_EQ_INT(ans.status, NXD, "nothing of a failed load is kept");
		spfkit__zone_answer_free(z, &ans);
		remove_file(c->base);
	}
}

static const char master[] =
    "$ORIGIN example.org.\n"
    "$TTL 300\n"
    "; a comment\n"
    "\n"
    "@        IN TXT \"v=spf1 include:_spf.example.org -all\" \"second\"\n"
    "_spf     60 IN TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"\n"
    "www      A 192.0.2.10\n"
    "         AAAA 2001:db8::10\n"
    "@        MX 10 Mail.Example.ORG.\n"
    "mail     A 192.0.2.25\n"
    "alias    CNAME www\n"
    "old      SPF \"v=spf1 -all\"\n"
    "multi    TXT ( \"a\"\n"
    "                \"b\" )\n"
    "10.2.0.192.in-addr.arpa. PTR www.example.org.\n"
    "x        TYPE65000 \\# 2 abcd\n"
    "deep.ent 120 TXT \"x\" ; trailing comment\n"
    "$ORIGIN other.example.\n"
    "@        SOA ns hostmaster 1 2 3 4 5\n"
    "rel      A 192.0.2.99\n";

#define LONG30 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG300                                                                \
	LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30 LONG30

static void test_master(spfkit_zone *z)
{
	const char *path = write_file("zone.db", master);
	char err[256] = "untouched";
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	const char *msg = err;
	T_EQ_STR(msg, "", "no message on success");
	static const lcase cases[] = {
	    {"example.org", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x24v=spf1 include:_spf.example.org -all\x06second"), 0, 300},
	    {"_spf.example.org", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x1cv=spf1 ip4:192.0.2.0/24 ~all"), 0, 60},
	    {"WWW.example.org", SPFKIT_TYPE_A, NOERR, 1, B("\xc0\x00\x02\x0a"),
	     0, 300},
	    {"www.example.org", SPFKIT_TYPE_AAAA, NOERR, 1,
	     B("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x10"), 0, 0},
	    {"example.org", SPFKIT_TYPE_MX, NOERR, 1,
	     B("\x00\x0a\x04Mail\x07"
	       "Example\x03ORG\x00"),
	     0, 0},
	    {"alias.example.org", SPFKIT_TYPE_A, NOERR, 1,
	     B("\xc0\x00\x02\x0a"), 1, 0},
	    {"alias.example.org", SPFKIT_TYPE_CNAME, NOERR, 1,
	     B("\x03www\x07"
	       "example\x03org\x00"),
	     0, 0},
	    /* In a master file an SPF record is of its own type: no TXT
	     * answer comes from it (an authoritative server gives none). */
	    {"old.example.org", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"old.example.org", SPFKIT__TYPE_SPF, NOERR, 1,
	     B("\x0bv=spf1 -all"), 0, 0},
	    {"multi.example.org", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x01"
	       "a\x01"
	       "b"),
	     0, 0},
	    {"10.2.0.192.in-addr.arpa", SPFKIT_TYPE_PTR, NOERR, 1,
	     B("\x03www\x07"
	       "example\x03org\x00"),
	     0, 0},
	    {"x.example.org", 65000, NOERR, 1, B("\xab\xcd"), 0, 0},
	    {"x.example.org", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"ent.example.org", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"deep.ent.example.org", SPFKIT_TYPE_TXT, NOERR, 1, B("\x01x"), 0,
	     120},
	    {"rel.other.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	    {"nope.example.org", SPFKIT_TYPE_A, NXD, 0, NONE, 0, 0},
	};
	run_lookups(z, cases, sizeof cases / sizeof cases[0], "master");
	remove_file("zone.db");

	/* Without $ORIGIN names hang off the root. */
	path = write_file("noorigin.db", "rel A 192.0.2.1\n"
					 "abs.example. TXT \"y\"");
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	static const lcase rel[] = {
	    {"rel", SPFKIT_TYPE_A, NOERR, 1, B("\xc0\x00\x02\x01"), 0, 3600},
	    {"abs.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x01y"), 0, 0},
	};
	run_lookups(z, rel, 2, "no origin");
	remove_file("noorigin.db");

	static const bad_file bad[] = {
	    {"syntax.db",
	     "partial.example. A 192.0.2.1\n"
	     "; comment\n"
	     "\n"
	     "broken.example. A 999.1.1.1\n"
	     "later.example. A 192.0.2.2\n",
	     SPFKIT_EPARSE, ":4: ", "rdata"},
	    {"lastline.db",
	     "partial.example. A 192.0.2.1\n"
	     "broken.example. A 192.0.2",
	     SPFKIT_EPARSE, ":2: ", NULL},
	    {"type.db",
	     "partial.example. A 192.0.2.1\n"
	     "  ; indented comment\n"
	     "x.example. BOGUSTYPE foo\n",
	     SPFKIT_EPARSE, ":3: ", NULL},
	    {"include.db",
	     "partial.example. A 192.0.2.1\n"
	     "$INCLUDE other.db\n",
	     SPFKIT_EPARSE, ":2: $INCLUDE is not supported", NULL},
	    /* RFC 1035 3.3: named as such, with the line, not "rdata". */
	    {"longtxt.db",
	     "partial.example. A 192.0.2.1\n"
	     "\n"
	     "long.example. TXT \"" LONG30 LONG30 LONG30 LONG30 LONG30 LONG30
		 LONG30 LONG30 "yyyyyyyyyyyyyyy\\034\"\n",
	     SPFKIT_EPARSE,
	     ":3: a TXT string of 256 octets: a character-string holds at "
	     "most 255 (RFC 1035 3.3); split it into several quoted strings",
	     NULL},
	    {"longparen.db",
	     "partial.example. A 192.0.2.1\n"
	     "long.example. TXT ( \"short\"\n"
	     "   \"" LONG300 "\" )\n",
	     SPFKIT_EPARSE, ":2: a TXT string of 300 octets", NULL},
	};
	run_bad_files(z, bad, sizeof bad / sizeof bad[0]);

	char missing[128];
	snprintf(missing, sizeof missing, "%s/missing.db", tmpdir);
	T_EQ_INT(zone_file_load(z, NULL, missing, err, sizeof err),
		 SPFKIT_ENOENT, "missing file");
	T_CHECK(strncmp(err, missing, strlen(missing)) == 0,
		"missing file message \"%s\"", err);
	T_EQ_INT(zone_file_load(z, NULL, NULL, err, sizeof err), SPFKIT_EINVAL,
		 "NULL path");
	T_EQ_INT(zone_file_load(z, NULL, missing, NULL, 0), SPFKIT_ENOENT,
		 "no err buffer");
	/* The library itself reads master files only: YAML zonedata is the
	 * programs' (src/support), so libspfkit never loads libyaml. */
	const char *yml =
	    write_file("lib.yml", "lib.example:\n  - A: 192.0.2.1\n");
	T_EQ_INT(spfkit_zone_load_file(z, yml, err, sizeof err), SPFKIT_EINVAL,
		 "the library refuses YAML zonedata");
	T_CHECK(strstr(err, "YAML zonedata is read by the spfkit command"),
		"library YAML message \"%s\"", err);
	T_EQ_INT(zone_file_load(z, NULL, yml, err, sizeof err), SPFKIT_OK,
		 "the programs' loader reads it");
	remove_file("lib.yml");
}

/* Several files as an authoritative server loaded with them answers:
 * identical records are one (RFC 2181 §5), and a later file's records of
 * a name and type replace the earlier ones (a draft laid over the
 * published zone), both for master files and YAML zonedata. */
static void test_layers(void)
{
	spfkit_zone *z = NULL;
	char err[256];
	T_EQ_INT(spfkit_zone_new(&z, NULL), SPFKIT_OK, "zone_new");
	const char *path = write_file(
	    "published.db", "$ORIGIN shop.example.\n"
			    "@    TXT \"v=spf1 mx -all\"\n"
			    "@    TXT \"google-site-verification=abc\"\n"
			    "@    MX 10 mx.shop.example.\n"
			    "@    MX 10 MX.Shop.Example.\n"
			    "mx   A 192.0.2.25\n"
			    "mx   A 192.0.2.25\n"
			    "www  A 192.0.2.80\n");
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	static const lcase published[] = {
	    {"shop.example", SPFKIT_TYPE_TXT, NOERR, 2, NONE, 0, 0},
	    {"shop.example", SPFKIT_TYPE_MX, NOERR, 1, NONE, 0, 0},
	    {"mx.shop.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	};
	run_lookups(z, published, 3, "duplicates are one");
	path = write_file("draft.db",
			  "$ORIGIN shop.example.\n"
			  "@    TXT \"v=spf1 mx ip4:198.51.100.0/24 -all\"\n"
			  "mx   A 192.0.2.25\n"
			  "new  A 192.0.2.99\n");
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	static const lcase laid[] = {
	    {"shop.example", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x22v=spf1 mx ip4:198.51.100.0/24 -all"), 0, 0},
	    {"shop.example", SPFKIT_TYPE_MX, NOERR, 1, NONE, 0, 0},
	    {"mx.shop.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	    {"www.shop.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	    {"new.shop.example", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
	};
	run_lookups(z, laid, 5, "a draft laid over");
	T_EQ_INT(spfkit__zone_count_records(z), 5, "records after the draft");
	/* YAML over a master file likewise; its SPF records stand in. */
	path = write_file("over.yml", "shop.example:\n"
				      "  - TXT: v=spf1 -all\n"
				      "yaml.example:\n"
				      "  - SPF: v=spf1 +all\n");
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	static const lcase yml[] = {
	    {"shop.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x0bv=spf1 -all"), 0,
	     0},
	    {"yaml.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x0bv=spf1 +all"), 0,
	     0},
	};
	run_lookups(z, yml, 2, "YAML laid over");
	remove_file("published.db");
	remove_file("draft.db");
	remove_file("over.yml");
	/* spfkit_zone_merge() adds up (identical records still one). */
	spfkit_zone *a = NULL, *b = NULL;
	spfkit_zone_new(&a, NULL);
	spfkit_zone_new(&b, NULL);
	add(a, "m.example", SPFKIT_TYPE_TXT, (bytes)B("\x01a"));
	add(a, "m.example", SPFKIT_TYPE_TXT, (bytes)B("\x01a"));
	add(b, "m.example", SPFKIT_TYPE_TXT, (bytes)B("\x01b"));
	add(b, "m.example", SPFKIT_TYPE_TXT, (bytes)B("\x01a"));
	T_EQ_INT(spfkit__zone_count_records(a), 1, "one of two identical");
	T_EQ_INT(spfkit_zone_merge(a, b), SPFKIT_OK, "merge");
	static const lcase merged[] = {
	    {"m.example", SPFKIT_TYPE_TXT, NOERR, 2, B("\x01a"), 0, 0}};
	run_lookups(a, merged, 1, "merge adds up");
	add(b, "m.example", SPFKIT_TYPE_TXT, (bytes)B("\x01c"));
	T_EQ_INT(spfkit_zone_overlay(a, b), SPFKIT_OK, "overlay");
	static const lcase over[] = {
	    {"m.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x01c"), 0, 0}};
	run_lookups(a, over, 1, "overlay replaces");
	T_EQ_INT(spfkit_zone_overlay(NULL, b), SPFKIT_EINVAL, "overlay NULL");
	spfkit_zone_free(a);
	spfkit_zone_free(b);
	spfkit_zone_free(z);
}

/* RFC 4592: a wildcard answers for names that do not exist below its
 * closest encloser, and for no name that exists (an empty non-terminal
 * included) or lies under one. */
static void test_wildcards(void)
{
	spfkit_zone *z = NULL;
	T_EQ_INT(spfkit_zone_new(&z, NULL), SPFKIT_OK, "zone_new");
	add(z, "*.in-addr.example.com", SPFKIT_TYPE_TXT,
	    (bytes)B("\x0bv=spf1 -all"));
	add(z, "*.in-addr.example.com", SPFKIT_TYPE_A,
	    (bytes)B("\x7f\x00\x00\x02"));
	add(z, "host.in-addr.example.com", SPFKIT_TYPE_A,
	    (bytes)B("\xc0\x00\x02\x01"));
	add(z, "a.ent.in-addr.example.com", SPFKIT_TYPE_A,
	    (bytes)B("\xc0\x00\x02\x02"));
	add(z, "*.example.net", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x04"
		     "host\x07in-addr\x07"
		     "example\x03"
		     "com\x00"));
	add(z, "*", SPFKIT_TYPE_MX, (bytes)B("\x00\x00\x00"));
	static const lcase cases[] = {
	    {"1.2.3.4.in-addr.example.com", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x0bv=spf1 -all"), 0, 0},
	    {"x.in-addr.example.com", SPFKIT_TYPE_A, NOERR, 1,
	     B("\x7f\x00\x00\x02"), 0, 0},
	    {"x.in-addr.example.com", SPFKIT_TYPE_MX, NOERR, 0, NONE, 0, 0},
	    /* a name that exists is not the wildcard's */
	    {"host.in-addr.example.com", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"host.in-addr.example.com", SPFKIT_TYPE_A, NOERR, 1,
	     B("\xc0\x00\x02\x01"), 0, 0},
	    /* nor an empty non-terminal, nor a name under one */
	    {"ent.in-addr.example.com", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"b.ent.in-addr.example.com", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    /* nor a name under an existing one */
	    {"x.host.in-addr.example.com", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    /* the wildcard's owner itself, and its parent */
	    {"*.in-addr.example.com", SPFKIT_TYPE_TXT, NOERR, 1, NONE, 0, 0},
	    {"in-addr.example.com", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    /* a wildcard CNAME is followed */
	    {"mail.example.net", SPFKIT_TYPE_A, NOERR, 1, B("\xc0\x00\x02\x01"),
	     1, 0},
	    /* the root's wildcard: names of top-level domains that do
	     * not exist, nothing under one that does */
	    {"nothing", SPFKIT_TYPE_MX, NOERR, 1, NONE, 0, 0},
	    {"nothing.example.com", SPFKIT_TYPE_MX, NXD, 0, NONE, 0, 0},
	};
	run_lookups(z, cases, sizeof cases / sizeof cases[0], "wildcards");
	spfkit_zone_free(z);
}

/* ---------------------------------------------------------------- YAML */

static void test_yaml(spfkit_zone *z)
{
	/* Two suite-style documents, one without zonedata, and long text. */
	char longtxt[301];
	memset(longtxt, 'x', 300);
	longtxt[300] = '\0';
	char text[8192];
	int tn = snprintf(
	    text, sizeof text,
	    "description: first\n"
	    "tests:\n"
	    "  one:\n"
	    "    host: 192.0.2.1\n"
	    "zonedata:\n"
	    "  example.com:\n"
	    "    - SPF: v=spf1 -all\n"
	    "    - A: 192.0.2.1\n"
	    "    - AAAA: \"2001:db8::1\"\n"
	    "    - MX: [10, mail.Example.com.]\n"
	    "    - MX: [0, \"\"]\n"
	    "  Multi.Example.com.:\n"
	    "    - TXT: [\"v=spf1 \", \"ip4:192.0.2.0/24\", \" -all\"]\n"
	    "  long.example.com:\n"
	    "    - TXT: \"%s\"\n"
	    "  longlist.example.com:\n"
	    "    - TXT: [\"%s\", \"y\"]\n"
	    "  esc.example.com:\n"
	    "    - TXT: \"a\\x0ab\\x00c\"\n"
	    "  timeout.example.com:\n"
	    "    - TIMEOUT\n"
	    "  4.3.2.1.in-addr.arpa:\n"
	    "    - PTR: host.example.com\n"
	    "  alias.example.com:\n"
	    "    - CNAME: \"EXAMPLE.com.\"\n"
	    "  both.example.com:\n"
	    "    - SPF: \"v=spf1 +all\"\n"
	    "    - TXT: \"v=spf1 -all\"\n"
	    "  null.example.com:\n"
	    "    - SPF: [ ]\n"
	    "  emptytxt.example.com:\n"
	    "    - TXT: ''\n"
	    "  nothing.example.com:\n"
	    "  spftimeout.example.com:\n"
	    "    - TXT: v=spf1 -all\n"
	    "    - TIMEOUT\n"
	    "    - A: 192.0.2.9\n"
	    "  txttimeout.example.com:\n"
	    "    - SPF: v=spf1 -all\n"
	    "    - TXT: NONE\n"
	    "    - TIMEOUT\n"
	    "  spfonly.example.com:\n"
	    "    - SPF: v=spf1 -all\n"
	    "    - TXT: NONE\n"
	    "  cnametimeout.example.com:\n"
	    "    - CNAME: example.com\n"
	    "    - TIMEOUT\n"
	    "  below.listed.example.com:\n"
	    "    - TIMEOUT\n"
	    "---\n"
	    "description: no zone data here\n"
	    "tests: {}\n"
	    "---\n"
	    "description: second\n"
	    "zonedata:\n"
	    "  second.example.com:\n"
	    "    - TXT: v=spf1 ?all\n"
	    "  example.com:\n"
	    "    - A: 192.0.2.2\n",
	    longtxt, longtxt);
	T_CHECK(tn > 0 && (size_t)tn < sizeof text, "YAML text fits");
	const char *path = write_file("zone.yml", text);
	char err[256];
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	remove_file("zone.yml");

	char longwire[310];
	longwire[0] = (char)255;
	memset(longwire + 1, 'x', 255);
	longwire[256] = 45;
	memset(longwire + 257, 'x', 45);
	const lcase longcase[] = {
	    {"long.example.com",
	     SPFKIT_TYPE_TXT,
	     NOERR,
	     1,
	     {longwire, 302},
	     0,
	     ZONE_YAML_TTL},
	    {"longlist.example.com", SPFKIT_TYPE_TXT, NOERR, 1, NONE, 0, 0},
	};
	run_lookups(z, longcase, 2, "long text");
	spfkit__zone_answer ans;
	spfkit__zone_lookup(z, "longlist.example.com", SPFKIT_TYPE_TXT, &ans);
	T_CHECK(ans.n == 1 && ans.rrs[0].rdlen == 304 &&
		    memcmp(ans.rrs[0].rdata + 302, "\x01y", 2) == 0,
		"list items are split separately and keep their order");
	spfkit__zone_answer_free(z, &ans);

	static const lcase cases[] = {
	    {"example.com", SPFKIT_TYPE_TXT, NOERR, 1, B("\x0bv=spf1 -all"), 0,
	     0},
	    {"example.com", SPFKIT_TYPE_A, NOERR, 2, B("\xc0\x00\x02\x01"), 0,
	     0},
	    {"example.com", SPFKIT_TYPE_AAAA, NOERR, 1,
	     B("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"), 0, 0},
	    {"example.com", SPFKIT_TYPE_MX, NOERR, 2,
	     B("\x00\x0a\x04mail\x07"
	       "Example\x03"
	       "com\x00"),
	     0, 0},
	    {"multi.example.com", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x07v=spf1 \x10ip4:192.0.2.0/24\x05 -all"), 0, 0},
	    {"esc.example.com", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x05"
	       "a\nb\0c"),
	     0, 0},
	    {"timeout.example.com", SPFKIT_TYPE_TXT, TEMP, 0, NONE, 0, 0},
	    {"4.3.2.1.in-addr.arpa", SPFKIT_TYPE_PTR, NOERR, 1,
	     B("\x04host\x07"
	       "example\x03"
	       "com\x00"),
	     0, 0},
	    {"alias.example.com", SPFKIT_TYPE_A, NOERR, 2, NONE, 1, 0},
	    {"both.example.com", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x0bv=spf1 -all"), 0, 0},
	    {"null.example.com", SPFKIT_TYPE_TXT, NOERR, 1, B(""), 0, 0},
	    {"emptytxt.example.com", SPFKIT_TYPE_TXT, NOERR, 1, B("\x00"), 0,
	     0},
	    /* A listed name exists even without records. */
	    {"nothing.example.com", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"nowhere.example.com", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	    /* TIMEOUT after records: the listed types answer, the rest
	     * (and whatever follows TIMEOUT) time out. */
	    {"spftimeout.example.com", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x0bv=spf1 -all"), 0, 0},
	    {"spftimeout.example.com", SPFKIT__TYPE_SPF, TEMP, 0, NONE, 0, 0},
	    {"spftimeout.example.com", SPFKIT_TYPE_A, TEMP, 0, NONE, 0, 0},
	    {"txttimeout.example.com", SPFKIT_TYPE_TXT, TEMP, 0, NONE, 0, 0},
	    {"txttimeout.example.com", SPFKIT__TYPE_SPF, NOERR, 1, NONE, 0, 0},
	    {"cnametimeout.example.com", SPFKIT_TYPE_A, TEMP, 0, NONE, 0, 0},
	    {"cnametimeout.example.com", SPFKIT_TYPE_CNAME, NOERR, 1, NONE, 0,
	     0},
	    {"below.listed.example.com", SPFKIT_TYPE_A, TEMP, 0, NONE, 0, 0},
	    {"listed.example.com", SPFKIT_TYPE_A, NOERR, 0, NONE, 0, 0},
	    /* "TXT: NONE": no TXT record, and SPF does not stand in. */
	    {"spfonly.example.com", SPFKIT_TYPE_TXT, NOERR, 0, NONE, 0, 0},
	    {"spfonly.example.com", SPFKIT__TYPE_SPF, NOERR, 1, NONE, 0, 0},
	    {"second.example.com", SPFKIT_TYPE_TXT, NOERR, 1,
	     B("\x0bv=spf1 ?all"), 0, 0},
	    {"in-addr.arpa", SPFKIT_TYPE_PTR, NOERR, 0, NONE, 0, 0},
	};
	run_lookups(z, cases, sizeof cases / sizeof cases[0], "yaml");

	spfkit__zone_lookup(z, "example.com", SPFKIT_TYPE_MX, &ans);
	T_CHECK(ans.n == 2 && ans.rrs[1].rdlen == 3 &&
		    memcmp(ans.rrs[1].rdata, "\0\0\0", 3) == 0,
		"MX [0, \"\"] is the root name");
	spfkit__zone_answer_free(z, &ans);

	/* A bare mapping of names is zonedata too; .yaml works as well. */
	path = write_file("bare.yaml", "bare.example.net:\n  - A: 192.0.2.7\n");
	T_EQ_INT(zone_file_load(z, NULL, path, err, sizeof err), SPFKIT_OK,
		 err);
	remove_file("bare.yaml");
	static const lcase bare[] = {
	    {"bare.example.net", SPFKIT_TYPE_A, NOERR, 1, B("\xc0\x00\x02\x07"),
	     0, 0},
	};
	run_lookups(z, bare, 1, "bare");

	static const bad_file bad[] = {
	    {"syntax.yml",
	     "zonedata:\n"
	     "  partial.example:\n"
	     "    - A: 192.0.2.1\n"
	     "  broken.example:\n"
	     "    - TXT: \"unterminated\n",
	     SPFKIT_EPARSE, ":", "quoted scalar"},
	    {"indent.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     " bad: [\n",
	     SPFKIT_EPARSE, ":", NULL},
	    {"badaddr.yml",
	     "zonedata:\n"
	     "  partial.example:\n"
	     "    - A: 192.0.2.1\n"
	     "  broken.example:\n"
	     "    - A: 999.1.1.1\n",
	     SPFKIT_EPARSE, ":5: bad A address \"999.1.1.1\"",
	     "broken.example"},
	    {"badtype.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     "  - NS: ns.example\n",
	     SPFKIT_EPARSE, ":3: unknown record type \"NS\"", NULL},
	    {"badmx.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     "  - MX: [70000, mail.example]\n",
	     SPFKIT_EPARSE, ":3: bad MX", NULL},
	    {"badname.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     "  - PTR: a..b\n",
	     SPFKIT_EPARSE, ":3: bad PTR name", NULL},
	    {"notlist.yml",
	     "partial.example:\n"
	     "  A: 192.0.2.1\n",
	     SPFKIT_EPARSE, ":2: the records of partial.example must be a list",
	     NULL},
	    {"word.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     "  - SLOW\n",
	     SPFKIT_EPARSE, ":3: unknown record \"SLOW\"", NULL},
	    {"seconddoc.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     "---\n"
	     "other.example:\n"
	     "  - AAAA: nope\n",
	     SPFKIT_EPARSE, ":5: bad AAAA address \"nope\"", NULL},
	    {"utf8.yml",
	     "partial.example:\n"
	     "  - A: 192.0.2.1\n"
	     "  - TXT: \"\xff\"\n",
	     SPFKIT_EPARSE, ":3: invalid leading UTF-8 octet", NULL},
	    {"scalar.yml", "just a string\n", SPFKIT_EPARSE,
	     ":1: the document must be a mapping", NULL},
	    {"control.yml",
	     "partial.example:\n"
	     "  - A: \"1.2.3.4\\nx\"\n",
	     SPFKIT_EPARSE, ":2: bad A address \"1.2.3.4?x\"", NULL},
	};
	run_bad_files(z, bad, sizeof bad / sizeof bad[0]);
}

/* The node loader the suite runner uses, straight from a string. */
static void test_yaml_node(void)
{
	static const char doc_text[] = "description: node\n"
				       "zonedata:\n"
				       "  n.example:\n"
				       "    - TXT: v=spf1 -all\n"
				       "  bad.example:\n"
				       "    - TXT: ok\n";
	static const char bad_text[] = "zonedata:\n"
				       "  partial.example:\n"
				       "    - TXT: ok\n"
				       "    - MX: 10\n";
	const char *texts[] = {doc_text, bad_text};
	int want[] = {SPFKIT_OK, SPFKIT_EPARSE};
	spfkit_zone *z = NULL;
	if (spfkit_zone_new(&z, NULL) != SPFKIT_OK)
		return;
	for (int i = 0; i < 2; i++) {
		yaml_parser_t parser;
		yaml_document_t doc;
		yaml_parser_initialize(&parser);
		yaml_parser_set_input_string(
		    &parser, (const unsigned char *)texts[i], strlen(texts[i]));
		T_CHECK(yaml_parser_load(&parser, &doc), "parse doc %d", i);
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		yaml_node_t *zd = NULL;
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);
			if (strcmp((char *)k->data.scalar.value, "zonedata") ==
			    0)
				zd = yaml_document_get_node(&doc, p->value);
		}
		char err[200] = "x";
		int rc =
		    zone_yaml_load_node(z, NULL, &doc, zd, err, sizeof err);
		T_EQ_INT(rc, want[i], "load node");
		const char *msg = err;
		if (i == 0)
			T_EQ_STR(msg, "", "no message");
		else
			T_EQ_STR(msg,
				 "4: bad MX value (want [preference, host]) "
				 "\"10\" for partial.example",
				 "node error message");
		yaml_document_delete(&doc);
		yaml_parser_delete(&parser);
	}
	static const lcase cases[] = {
	    {"n.example", SPFKIT_TYPE_TXT, NOERR, 1, B("\x0bv=spf1 -all"), 0,
	     0},
	    {"partial.example", SPFKIT_TYPE_TXT, NXD, 0, NONE, 0, 0},
	};
	run_lookups(z, cases, 2, "node");
	T_EQ_INT(zone_yaml_load_node(z, NULL, NULL, NULL, NULL, 0),
		 SPFKIT_EINVAL, "node NULL");
	spfkit_zone_free(z);
}

/* ---------------------------------------------------------------- check */

/* The zone driving whole checks through the public API. */
typedef struct ccase {
	const char *ip, *sender;
	spfkit_result want;
} ccase;

static void test_check(void)
{
	spfkit_config *cfg = NULL;
	spfkit_zone *z = NULL;
	if (spfkit_config_new(&cfg, NULL) != SPFKIT_OK ||
	    spfkit_zone_new(&z, cfg) != SPFKIT_OK) {
		T_CHECK(0, "config and zone");
		spfkit_config_free(cfg);
		return;
	}
	add(z, "example.com", SPFKIT_TYPE_TXT,
	    (bytes)B("\x1bv=spf1 ip4:192.0.2.1 a -all"));
	add(z, "example.com", SPFKIT_TYPE_A, (bytes)B("\xc0\x00\x02\x05"));
	add(z, "alias.example.com", SPFKIT_TYPE_CNAME,
	    (bytes)B("\x07"
		     "example\x03"
		     "com\x00"));
	add(z, "inc.example.com", SPFKIT_TYPE_TXT,
	    (bytes)B("\x1bv=spf1 include:slow.example"));
	spfkit_zone_add_timeout(z, "slow.example");
	static const ccase cases[] = {
	    {"192.0.2.1", "a@example.com", SPFKIT_RESULT_PASS},
	    {"192.0.2.5", "a@EXAMPLE.com", SPFKIT_RESULT_PASS},
	    {"192.0.2.9", "a@example.com", SPFKIT_RESULT_FAIL},
	    {"192.0.2.1", "a@alias.example.com", SPFKIT_RESULT_PASS},
	    {"192.0.2.1", "a@nowhere.example.com", SPFKIT_RESULT_NONE},
	    {"192.0.2.1", "a@com", SPFKIT_RESULT_NONE},
	    {"192.0.2.1", "a@slow.example", SPFKIT_RESULT_TEMPERROR},
	    {"192.0.2.1", "a@inc.example.com", SPFKIT_RESULT_TEMPERROR},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const ccase *c = &cases[i];
		spfkit_check *chk = NULL;
		int rc = spfkit_check_new(&chk, cfg);
		if (rc == SPFKIT_OK)
			rc = spfkit_check_set_ip(chk, c->ip);
		if (rc == SPFKIT_OK)
			rc = spfkit_check_set_sender(chk, c->sender,
						     strlen(c->sender));
		T_EQ_INT(spfkit_zone_answer(z, chk), SPFKIT_OK,
			 "nothing pending yet");
		if (rc == SPFKIT_OK)
			rc = spfkit_zone_check(z, chk, 0);
		T_EQ_INT(rc, SPFKIT_OK, c->sender);
		if (rc == SPFKIT_OK)
			T_EQ_STR(spfkit_result_name(spfkit_check_result(chk)),
				 spfkit_result_name(c->want), c->sender);
		spfkit_check_free(chk);
	}
	spfkit_zone_free(z);
	spfkit_config_free(cfg);
}

int main(void)
{
	test_check();
	test_lookup();
	test_big();
	test_marks();
	test_yaml_node();

	snprintf(tmpdir, sizeof tmpdir, "/tmp/spfkit-zone-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		T_CHECK(0, "mkdtemp");
		return t_done();
	}
	spfkit_zone *z = NULL;
	T_EQ_INT(spfkit_zone_new(&z, NULL), SPFKIT_OK, "zone_new");
	test_layers();
	test_wildcards();
	if (z) {
		test_master(z);
		test_yaml(z);
		/* Both kinds of file merged into one zone. */
		static const lcase merged[] = {
		    {"www.example.org", SPFKIT_TYPE_A, NOERR, 1, NONE, 0, 0},
		    {"example.com", SPFKIT_TYPE_A, NOERR, 2, NONE, 0, 0},
		};
		run_lookups(z, merged, 2, "merged");
		spfkit_zone_free(z);
	}
	T_CHECK(rmdir(tmpdir) == 0, "temporary directory left empty");
	return t_done();
}
