/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_api.c - the calls a library user needs beyond the evaluator: the
 * version macros and spfkit_version_number(), a check's deadline for an
 * event loop, spfkit_resolver_timeout() and the one-call
 * spfkit_resolver_check(). Real DNS is a UDP socket of this test on
 * loopback that never answers: nothing leaves the machine and nothing
 * asks /etc/resolv.conf.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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

int main(void)
{
	spfkit_config *cfg = NULL;
	spfkit_config_new(&cfg, NULL);
	test_version();
	test_deadline(cfg);
	test_resolver();
	spfkit_config_free(cfg);
	return t_done();
}
