/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_api.c - the calls a library user needs beyond the evaluator: the
 * version macros and spfkit_version_number(), a check's deadline for an
 * event loop, spfkit_resolver_timeout() and the one-call
 * spfkit_resolver_check(). Real DNS is a UDP socket of this test on
 * loopback that never answers, or one the test answers by hand (the
 * driver's own thread, cache and timers): nothing leaves the machine and
 * nothing asks /etc/resolv.conf.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spfkit.h"
#include "t.h"

static void test_version(void)
{
	T_EQ_INT(spfkit_version_number(), SPFKIT_VERSION_NUMBER,
		 "library and header agree");
	char buf[32];
	snprintf(buf, sizeof buf, "%d.%d.%d", SPFKIT_VERSION_MAJOR,
		 SPFKIT_VERSION_MINOR, SPFKIT_VERSION_PATCH);
	const char *want = buf;
	T_EQ_STR(spfkit_version(), want, "version string from the numbers");
	T_EQ_STR(SPFKIT_VERSION, want, "SPFKIT_VERSION from the numbers");
}

/* A check of a@example.org whose record is at hand in z. */
static spfkit_check *new_check(spfkit_config *cfg, const char *sender)
{
	spfkit_check *chk = NULL;
	T_EQ_INT(spfkit_check_new(&chk, cfg), SPFKIT_OK, "check_new");
	spfkit_check_set_ip(chk, "192.0.2.1");
	spfkit_check_set_sender(chk, sender, strlen(sender));
	return chk;
}

static void test_deadline(spfkit_config *cfg)
{
	spfkit_check *chk = new_check(cfg, "a@example.org");
	T_EQ_INT(spfkit_check_deadline(chk), 0, "no deadline before a run");
	T_EQ_INT(spfkit_check_run(chk, 1000), SPFKIT_WANT_DNS, "runs");
	T_EQ_INT(spfkit_check_deadline(chk), 1000 + 20000,
		 "first run + the default 20 s");
	T_EQ_INT(spfkit_check_deadline(NULL), 0, "NULL");
	spfkit_check_free(chk);
}

/* A UDP socket on 127.0.0.1 that receives and never answers: a name
 * server that went silent. */
static int silent_server(int *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_resolver(void)
{
	spfkit_config *cfg = NULL;
	spfkit_zone *z = NULL;
	spfkit_resolver *r = NULL;
	spfkit_config_new(&cfg, NULL);
	/* The deadline well under the query timeout: it is what wakes. */
	spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DEADLINE_MS, 300);
	spfkit_zone_new(&z, cfg);
	static const unsigned char txt[] = "\x0bv=spf1 -all";
	spfkit_zone_add(z, "example.org", SPFKIT_TYPE_TXT, 60, txt,
			sizeof txt - 1);
	int port = 0, fd = silent_server(&port);
	T_CHECK(fd >= 0, "a silent server on loopback");
	char ns[32];
	snprintf(ns, sizeof ns, "127.0.0.1@%d", port);
	T_EQ_INT(spfkit_resolver_new(&r, cfg), SPFKIT_OK, "resolver_new");
	T_EQ_INT(spfkit_resolver_add_nameserver(r, ns), SPFKIT_OK, ns);
	spfkit_resolver_set_zone(r, z);
	spfkit_resolver_set_query_timeout(r, 5000);
	T_EQ_INT(spfkit_resolver_timeout(r, 0), -1, "nothing in flight: -1");
	T_EQ_INT(spfkit_resolver_timeout(NULL, 0), -1, "NULL: -1");

	/* Answers at hand: the one call ends without waiting for DNS. */
	spfkit_check *chk = new_check(cfg, "a@example.org");
	T_EQ_INT(spfkit_resolver_check(r, chk), SPFKIT_OK, "zone check");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL, "its result");
	T_EQ_INT(spfkit_resolver_in_flight(r), 0, "nothing left in flight");
	spfkit_check_free(chk);

	/* A name the zone lacks goes to the silent server: the timeout the
	 * loop is given is the check's deadline, not the query's. */
	chk = new_check(cfg, "a@silent.example");
	T_EQ_INT(spfkit_check_run(chk, 1000), SPFKIT_WANT_DNS, "asks");
	T_EQ_INT(spfkit_resolver_send(r, chk, 1000), SPFKIT_OK, "sends");
	int64_t t = spfkit_resolver_timeout(r, 1000);
	T_CHECK(t == 300, "due at the check's deadline: %lld", (long long)t);
	T_EQ_INT(spfkit_resolver_timeout(r, 1300), 0, "due now");
	T_EQ_INT(spfkit_resolver_timeout(r, 5000), 0, "overdue: 0");
	spfkit_resolver_cancel(r, chk);
	T_EQ_INT(spfkit_resolver_timeout(r, 1000), -1, "cancelled: -1");
	spfkit_check_free(chk);

	/* The one call gives up at the deadline: temperror, nothing left. */
	chk = new_check(cfg, "a@silent.example");
	T_EQ_INT(spfkit_resolver_check(r, chk), SPFKIT_OK, "silent check");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_TEMPERROR,
		 "temperror at the deadline");
	T_EQ_INT(spfkit_check_reason(chk), SPFKIT_REASON_DEADLINE, "reason");
	T_EQ_INT(spfkit_resolver_in_flight(r), 0, "its queries cancelled");
	spfkit_check_free(chk);
	T_EQ_INT(spfkit_resolver_check(NULL, NULL), SPFKIT_EINVAL, "NULL");

	spfkit_resolver_free(r);
	spfkit_zone_free(z);
	spfkit_config_free(cfg);
	if (fd >= 0)
		close(fd);
}

/* Threads of this process (/proc/self/task). */
static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Receives one query on fd (waiting up to wait_ms; -1: forever) and, when
 * answer is set, answers it with the TXT record "v=spf1 -all" (RFC 1035
 * §4.1). Returns whether a query came. */
static bool serve_one(int fd, int wait_ms, bool answer)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) != 1)
		return false;
	unsigned char q[512], out[600];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	ssize_t n =
	    recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
	if (n < 12)
		return false;
	size_t off = 12;
	while (off < (size_t)n && q[off])
		off += q[off] + 1u;
	off += 5; /* the root label, QTYPE, QCLASS */
	if (!answer || off > (size_t)n)
		return true;
	static const unsigned char rr[] = {
	    0xc0, 0x0c, 0,   16,  0,   1,   0,   0,   1,   44,  0,   12,
	    11,   'v',  '=', 's', 'p', 'f', '1', ' ', '-', 'a', 'l', 'l'};
	memcpy(out, q, off);
	out[2] |= 0x80;         /* QR */
	out[3] = 0x80;          /* RA, RCODE 0 */
	out[6] = 0, out[7] = 1; /* ANCOUNT */
	memset(out + 8, 0, 4);  /* no NS, no additional */
	memcpy(out + off, rr, sizeof rr);
	(void)sendto(fd, out, off + sizeof rr, 0, (struct sockaddr *)&from,
		     flen);
	return true;
}

/* The test's server on loopback (silent_server()), its descriptor, and
 * its address as --nameserver takes it in ns. */
static int served_ns(char *ns, size_t cap)
{
	int port = 0, fd = silent_server(&port);
	T_CHECK(fd >= 0, "a server on loopback");
	snprintf(ns, cap, "127.0.0.1@%d", port);
	return fd;
}

/* A resolver whose one server is ns. */
static spfkit_resolver *resolver_for(spfkit_config *cfg, const char *ns)
{
	spfkit_resolver *r = NULL;
	spfkit_resolver_new(&r, cfg);
	spfkit_resolver_add_nameserver(r, ns);
	return r;
}

/* Runs chk over r, the test being the server on fd (answer: answers;
 * else drops the first query and answers the rest), waiting only on
 * spfkit_resolver_fd() and the server, for spfkit_resolver_timeout(), as
 * an event loop does. Returns the queries the server got. */
static int run_served(spfkit_resolver *r, spfkit_check *chk, int fd,
		      bool drop_first, int *nthreads)
{
	int got = 0;
	uint64_t now = 1000;
	for (int round = 0; round < 50; round++) {
		int rc = spfkit_check_run(chk, now);
		if (rc != SPFKIT_WANT_DNS)
			break;
		spfkit_resolver_send(r, chk, now);
		int64_t t = spfkit_resolver_timeout(r, now);
		struct pollfd p[2] = {
		    {.fd = fd, .events = POLLIN},
		    {.fd = spfkit_resolver_fd(r), .events = POLLIN}};
		if (t > 0 && poll(p, p[1].fd >= 0 ? 2 : 1, (int)t) == 0)
			now += (uint64_t)t; /* nothing came: time is up */
		if (p[0].revents && serve_one(fd, 0, !(drop_first && got == 0)))
			got++;
		if (nthreads && *nthreads == 0 && got)
			*nthreads = threads();
		spfkit_resolver_process(r, 0, now, NULL, NULL);
	}
	spfkit_resolver_cancel(r, chk);
	return got;
}

/* The driver's own thread, cache, spfkit_resolver_set_no_cache(), and
 * libunbound's retransmission reaching a caller that only polls
 * spfkit_resolver_fd(). */
static void test_resolver_served(void)
{
	spfkit_config *cfg = NULL;
	spfkit_config_new(&cfg, NULL);
	char ns[32];
	int fd = served_ns(ns, sizeof ns);

	/* Answers are kept: the second check asks nothing. libunbound
	 * works in this thread (no worker thread of its own). */
	spfkit_resolver *r = resolver_for(cfg, ns);
	spfkit_check *chk = new_check(cfg, "a@served.example");
	int nthreads = 0;
	T_EQ_INT(run_served(r, chk, fd, false, &nthreads), 1, "one query");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL, "answered");
	T_EQ_INT(nthreads, 1, "one thread while a query was out");
	spfkit_check_free(chk);
	chk = new_check(cfg, "b@served.example");
	T_EQ_INT(run_served(r, chk, fd, false, NULL), 0, "cached: none");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL, "cached");
	spfkit_check_free(chk);
	T_EQ_INT(spfkit_resolver_set_no_cache(r), SPFKIT_ESTATE,
		 "no_cache after the first send");
	T_EQ_INT(spfkit_resolver_set_no_cache(NULL), SPFKIT_EINVAL, "NULL");
	spfkit_resolver_free(r);

	/* No cache: every check's query reaches the server, through one
	 * resolver. */
	r = resolver_for(cfg, ns);
	T_EQ_INT(spfkit_resolver_set_no_cache(r), SPFKIT_OK, "no_cache");
	for (int i = 0; i < 3; i++) {
		chk = new_check(cfg, "c@served.example");
		T_EQ_INT(run_served(r, chk, fd, false, NULL), 1,
			 "no cache: the server is asked again");
		T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL,
			 "no cache: answered");
		spfkit_check_free(chk);
	}
	spfkit_resolver_free(r);

	/* The first query is lost: libunbound's retransmission (its timer)
	 * must wake a caller that polls only spfkit_resolver_fd(); else the
	 * query times out and the check is temperror. */
	r = resolver_for(cfg, ns);
	chk = new_check(cfg, "d@served.example");
	T_EQ_INT(run_served(r, chk, fd, true, NULL), 2, "asked again");
	T_EQ_INT(spfkit_check_result(chk), SPFKIT_RESULT_FAIL,
		 "the retry's answer");
	spfkit_check_free(chk);
	spfkit_resolver_free(r);
	spfkit_config_free(cfg);
	if (fd >= 0)
		close(fd);
}

/* ---------------------------------------------------------------------
 * The resolver's cache keeps every answer decoded as a check keeps it,
 * and a warm check copies that instead of the wire RDATA: a server on
 * loopback answers by name and type (TTL 300), and what the checks see
 * from the cache must be what they saw from the wire, for the right name
 * and type: a TXT record of two strings joined, an MX set in its fixed
 * order, TXT and MX at one name kept apart, two names never swapped. */

/* One RR the rich server holds: owner, type and RDATA. */
typedef struct rich_rr {
	const char *name;
	uint16_t type;
	const char *rdata;
	size_t rdlen;
} rich_rr;

#define RR_OF(n, t, lit)                                                       \
	{                                                                      \
		n, t, lit, sizeof(lit) - 1                                     \
	}
static const rich_rr rich_zone[] = {
    RR_OF("a.served.example", 16, "\x0bv=spf1 -all"),
    /* two character-strings: "v=spf1 " "+all" */
    RR_OF("b.served.example", 16, "\x07v=spf1 \x04+all"),
    RR_OF("m.served.example", 16, "\x0ev=spf1 mx -all"),
    /* out of order: preference 20 first, then two of 10 by name z..x */
    RR_OF("m.served.example", 15,
	  "\x00\x14\x01z\x01m\x06served\x07"
	  "example\x00"),
    RR_OF("m.served.example", 15,
	  "\x00\x0a\x01y\x01m\x06served\x07"
	  "example\x00"),
    RR_OF("m.served.example", 15,
	  "\x00\x0a\x01x\x01m\x06served\x07"
	  "example\x00"),
    RR_OF("x.m.served.example", 1, "\xc0\x00\x02\x01"),
};

/* Answers one query waiting on fd from rich_zone (NOERROR, the RRs of
 * that name and type, possibly none). Returns whether one came. */
static bool serve_rich(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 0) != 1)
		return false;
	unsigned char q[512], out[1024];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	ssize_t n =
	    recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
	if (n < 12)
		return false;
	char name[256];
	size_t off = 12, nl = 0;
	while (off < (size_t)n && q[off] && nl + q[off] + 1 < sizeof name) {
		if (nl)
			name[nl++] = '.';
		for (size_t i = 0; i < q[off] && off + 1 + i < (size_t)n; i++)
			name[nl++] = (char)tolower(q[off + 1 + i]);
		off += q[off] + 1u;
	}
	name[nl] = '\0';
	off += 5; /* the root label, QTYPE, QCLASS */
	if (off > (size_t)n)
		return true;
	uint16_t qtype = (uint16_t)(q[off - 4] << 8 | q[off - 3]);
	memcpy(out, q, off);
	out[2] |= 0x80;        /* QR */
	out[3] = 0x80;         /* RA, RCODE 0 */
	memset(out + 6, 0, 6); /* no answer yet, no NS, no additional */
	size_t o = off, an = 0;
	for (size_t k = 0; k < sizeof rich_zone / sizeof rich_zone[0]; k++) {
		const rich_rr *rr = &rich_zone[k];
		if (rr->type != qtype || strcmp(rr->name, name) != 0)
			continue;
		unsigned char h[12] = {0xc0, 0x0c, 0, (unsigned char)rr->type,
				       0,    1,    0, 0,
				       1,    44,   0, (unsigned char)rr->rdlen};
		memcpy(out + o, h, sizeof h);
		memcpy(out + o + sizeof h, rr->rdata, rr->rdlen);
		o += sizeof h + rr->rdlen;
		an++;
	}
	out[7] = (unsigned char)an;
	(void)sendto(fd, out, o, 0, (struct sockaddr *)&from, flen);
	return true;
}

/* What a check saw: its LOOKUP events' answers, as "TYPE name: item|item"
 * lines, in order. */
typedef struct seen {
	char text[2048];
	size_t len;
} seen;

static void seen_cb(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	(void)chk;
	seen *s = ud;
	if (ev->kind != SPFKIT_EVENT_LOOKUP)
		return;
	int k = snprintf(s->text + s->len, sizeof s->text - s->len,
			 "%u %s:", (unsigned)ev->type, ev->name);
	if (k > 0 && (size_t)k < sizeof s->text - s->len)
		s->len += (size_t)k;
	for (size_t i = 0; i < ev->nitems; i++) {
		const spfkit_event_item *it = &ev->items[i];
		for (size_t c = 0; c < it->len && s->len + 4 < sizeof s->text;
		     c++) {
			unsigned char u = (unsigned char)it->data[c];
			s->text[s->len++] =
			    u >= 0x20 && u < 0x7f ? (char)u : '#';
		}
		if (s->len + 2 < sizeof s->text)
			s->text[s->len++] = '|';
	}
	if (s->len + 1 < sizeof s->text)
		s->text[s->len++] = '\n';
	s->text[s->len] = '\0';
}

/* Runs a check of sender from 192.0.2.1 over r, the test serving every
 * query from rich_zone; returns its result, with what it saw in *sn and
 * the queries the server got in *asked. */
static spfkit_result rich_check(spfkit_config *cfg, spfkit_resolver *r, int fd,
				const char *sender, seen *sn, int *asked)
{
	spfkit_check *chk = new_check(cfg, sender);
	memset(sn, 0, sizeof *sn);
	spfkit_check_set_events(chk, seen_cb, sn);
	*asked = 0;
	uint64_t now = 1000;
	for (int round = 0; round < 200; round++) {
		if (spfkit_check_run(chk, now) != SPFKIT_WANT_DNS)
			break;
		spfkit_resolver_send(r, chk, now);
		struct pollfd p[2] = {
		    {.fd = fd, .events = POLLIN},
		    {.fd = spfkit_resolver_fd(r), .events = POLLIN}};
		(void)poll(p, p[1].fd >= 0 ? 2 : 1, 100);
		while (serve_rich(fd))
			(*asked)++;
		spfkit_resolver_process(r, 0, now, NULL, NULL);
	}
	spfkit_resolver_cancel(r, chk);
	spfkit_result res = spfkit_check_result(chk);
	spfkit_check_free(chk);
	return res;
}

static void test_resolver_decoded(void)
{
	spfkit_config *cfg = NULL;
	spfkit_config_new(&cfg, NULL);
	char ns[32];
	int fd = served_ns(ns, sizeof ns);
	spfkit_resolver *r = resolver_for(cfg, ns);

	static const struct {
		const char *sender;
		spfkit_result want;
		const char
		    *saw; /* the LOOKUP answers, from the wire and cache */
	} cases[] = {
	    {"u@a.served.example", SPFKIT_RESULT_FAIL,
	     "16 a.served.example:v=spf1 -all|\n"},
	    {"u@b.served.example", SPFKIT_RESULT_PASS,
	     "16 b.served.example:v=spf1 +all|\n"},
	    {"u@m.served.example", SPFKIT_RESULT_PASS,
	     "16 m.served.example:v=spf1 mx -all|\n"
	     "15 m.served.example:x.m.served.example|y.m.served.example|"
	     "z.m.served.example|\n"
	     "1 x.m.served.example:####|\n"
	     "1 y.m.served.example:\n"
	     "1 z.m.served.example:\n"},
	};
	seen sn;
	int asked = 0;
	/* Cold, then warm twice, the names interleaved: the warm checks ask
	 * nothing and see exactly what the cold ones saw. */
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			spfkit_result got = rich_check(
			    cfg, r, fd, cases[i].sender, &sn, &asked);
			T_CHECK(got == cases[i].want, "pass %d %s: result %d",
				pass, cases[i].sender, (int)got);
			T_CHECK(strcmp(sn.text, cases[i].saw) == 0,
				"pass %d %s: saw\n%s", pass, cases[i].sender,
				sn.text);
			if (pass > 0)
				T_EQ_INT(asked, 0, "warm: nothing asked");
			else
				T_CHECK(asked > 0, "cold: %s asked",
					cases[i].sender);
		}
	spfkit_resolver_free(r);
	spfkit_config_free(cfg);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	spfkit_config *cfg = NULL;
	spfkit_config_new(&cfg, NULL);
	test_version();
	test_deadline(cfg);
	test_resolver();
	test_resolver_served();
	test_resolver_decoded();
	spfkit_config_free(cfg);
	return t_done();
}
