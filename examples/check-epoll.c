/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check-epoll.c - many SPF checks in flight at once in one thread, driven
 * by an epoll loop, as an MTA or a filter with an event loop of its own
 * (libevent, libuv, epoll) would run them. libspfkit gives the loop a
 * descriptor (spfkit_resolver_fd) and a timeout (spfkit_resolver_timeout),
 * so the loop sleeps until an answer arrives or a query or check is due,
 * and never polls.
 *
 *   cc check-epoll.c $(pkg-config --cflags --libs spfkit) -o check-epoll
 *   printf '203.0.113.5 forms@shop.example\n198.51.100.1 a@example.org\n' |
 *       ./check-epoll 127.0.0.1@5353
 *
 * Reads lines "IP SENDER [HELO]" (at most MAX_CHECKS) from standard input,
 * checks them all at once over the name server given (ADDR[@PORT]; without
 * one, /etc/resolv.conf's), and prints "IP SENDER RESULT" per line in
 * input order. Exits 0 when every line was checked, 2 otherwise.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <spfkit.h>

#define MAX_CHECKS 256

typedef struct job {
	spfkit_check *chk;
	char ip[64], sender[320], helo[256];
	int done; /* 1: result final; -1: failed */
} job;

typedef struct loop {
	spfkit_resolver *res;
	size_t running;
} loop;

/* The monotonic clock the checks' deadlines run on, in milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs a job's check as far as it goes: done, or its queries sent. */
static void advance(loop *lp, job *j)
{
	uint64_t now = now_ms();
	int rc = spfkit_check_run(j->chk, now);
	if (rc == SPFKIT_WANT_DNS)
		rc = spfkit_resolver_send(lp->res, j->chk, now);
	if (rc == SPFKIT_WANT_DNS || rc == SPFKIT_OK)
		return; /* waiting for answers */
	/* SPFKIT_DONE, or an error: either way this job is over. */
	spfkit_resolver_cancel(lp->res, j->chk);
	j->done = rc == SPFKIT_DONE ? 1 : -1;
	lp->running--;
}

/* spfkit_resolver_process() calls this for each check answers reached. */
static void answered(spfkit_check *chk, void *ud)
{
	advance(ud, spfkit_check_userdata(chk));
}

int main(int argc, char **argv)
{
	static job jobs[MAX_CHECKS];
	size_t n = 0;
	char line[1024];
	while (n < MAX_CHECKS && fgets(line, sizeof line, stdin)) {
		job *j = &jobs[n];
		j->helo[0] = '\0';
		if (sscanf(line, "%63s %319s %255s", j->ip, j->sender,
			   j->helo) >= 2)
			n++;
	}
	spfkit_config *cfg = NULL;
	loop lp = {NULL, 0};
	int ep = epoll_create1(0), status = 0;
	if (ep < 0 || spfkit_config_new(&cfg, NULL) < 0 ||
	    spfkit_resolver_new(&lp.res, cfg) < 0 ||
	    (argc > 1 && spfkit_resolver_add_nameserver(lp.res, argv[1]) < 0)) {
		fprintf(stderr, "check-epoll: cannot set up\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		job *j = &jobs[i];
		const char *s = strcmp(j->sender, "<>") == 0 ? "" : j->sender;
		if (spfkit_check_new(&j->chk, cfg) < 0 ||
		    spfkit_check_set_ip(j->chk, j->ip) < 0 ||
		    spfkit_check_set_sender(j->chk, s, strlen(s)) < 0 ||
		    spfkit_check_set_helo(j->chk, j->helo, strlen(j->helo)) <
			0 ||
		    spfkit_check_set_userdata(j->chk, j) < 0) {
			j->done = -1;
			continue;
		}
		lp.running++;
		advance(&lp, j);
	}
	bool watched = false;
	while (lp.running > 0) {
		/* libspfkit's descriptor exists once a query went to DNS
		 * (answers from an attached zone or the cache need none). */
		int fd = spfkit_resolver_fd(lp.res);
		struct epoll_event ev = {.events = EPOLLIN};
		if (!watched && fd >= 0) {
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
				fprintf(stderr,
					"check-epoll: epoll_ctl failed\n");
				return 2;
			}
			watched = true;
		}
		uint64_t now = now_ms();
		int64_t wait = spfkit_resolver_timeout(lp.res, now);
		struct epoll_event got;
		/* -1 would wait for ever: nothing in flight means no answer
		 * will come, so process() is what moves the checks on. */
		if (wait != 0 &&
		    epoll_wait(ep, &got, 1,
			       wait < 0 || wait > 60000 ? 60000 : (int)wait) <
			0)
			break;
		if (spfkit_resolver_process(lp.res, 0, now_ms(), answered,
					    &lp) < 0)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		job *j = &jobs[i];
		if (j->done == 1)
			printf("%s %s %s\n", j->ip, j->sender,
			       spfkit_result_name(spfkit_check_result(j->chk)));
		else
			status = 2;
		spfkit_check_free(j->chk);
	}
	spfkit_resolver_free(lp.res);
	spfkit_config_free(cfg);
	return status;
}
