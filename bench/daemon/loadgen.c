/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loadgen.c - a Postfix-like load on spfkitd: C concurrent policy
 * connections on loopback, each sending one request and waiting for its
 * answer before the next (as Postfix's smtpd does), every request a new
 * message (a new instance, so every one is checked). Verifies every
 * answer, counts any lost, and reports requests/s, latency percentiles
 * and the daemon's resident memory every 100,000 requests.
 *
 *   loadgen HOST PORT CONNECTIONS REQUESTS [SPFKITD_PID]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Latency histogram: 1 us buckets up to 2 s. */
#define HIST_US 2000000u

typedef struct kind {
	const char *ip, *helo, *sender, *want;
} kind;

/* The mix: the domains of bench/daemon/bench.zone. */
static const kind kinds[] = {
    {"192.0.2.10", "mx.pass.example", "user@pass.example",
     "action=PREPEND Received-SPF: pass "},
    {"203.0.113.9", "mx.other.example", "user@fail.example",
     "action=550 5.7.23 "},
    {"203.0.113.9", "mx.other.example", "user@soft.example",
     "action=PREPEND Received-SPF: softfail "},
    {"198.51.100.7", "mx.other.example", "user@deep.example",
     "action=PREPEND Received-SPF: pass "},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

typedef struct conn {
	int fd;
	char out[1024];
	size_t out_len, out_off;
	char in[4096];
	size_t in_len;
	const kind *k;
	struct timespec t0;
	unsigned long seq;
	int id;
} conn;

static unsigned long sent, done, wrong, requests;
static unsigned *hist;
static unsigned long over;

static double secs(struct timespec a, struct timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* The daemon's VmRSS in KiB, or 0. */
static long rss_kib(long pid)
{
	char path[64], line[256];
	long kib = 0;
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* Prepares the next request of c. */
static void next_request(conn *c)
{
	c->k = &kinds[(c->seq + (unsigned long)c->id) % NKINDS];
	int n = snprintf(c->out, sizeof c->out,
			 "request=smtpd_access_policy\nprotocol_state=RCPT\n"
			 "protocol_name=ESMTP\nclient_address=%s\n"
			 "client_name=client.example\nhelo_name=%s\n"
			 "sender=%s\nrecipient=rcpt@test.example\n"
			 "instance=%d.%lu\nqueue_id=\nsize=0\n\n",
			 c->k->ip, c->k->helo, c->k->sender, c->id, c->seq);
	c->out_len = (size_t)n;
	c->out_off = 0;
	c->in_len = 0;
	c->seq++;
	sent++;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
}

static double percentile(double q)
{
	unsigned long total = done, cum = 0, want = (unsigned long)(q * total);
	for (unsigned i = 0; i < HIST_US; i++) {
		cum += hist[i];
		if (cum > want)
			return i / 1000.0;
	}
	return HIST_US / 1000.0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: loadgen HOST PORT CONNECTIONS "
				"REQUESTS [PID]\n");
		return 64;
	}
	const char *host = argv[1];
	int port = (int)strtol(argv[2], NULL, 10);
	int nconn = (int)strtol(argv[3], NULL, 10);
	requests = strtoul(argv[4], NULL, 10);
	long pid = argc > 5 ? strtol(argv[5], NULL, 10) : 0;
	hist = calloc(HIST_US, sizeof *hist);
	conn *cs = calloc((size_t)nconn, sizeof *cs);
	int ep = epoll_create1(0);
	if (!hist || !cs || ep < 0)
		return 1;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, host, &sin.sin_addr);
	for (int i = 0; i < nconn; i++) {
		conn *c = &cs[i];
		c->id = i;
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
			perror("connect");
			return 1;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long rss0 = pid ? rss_kib(pid) : 0;
	printf("start: %d connections, %lu requests, spfkitd RSS %ld KiB\n",
	       nconn, requests, rss0);
	for (int i = 0; i < nconn && sent < requests; i++) {
		next_request(&cs[i]);
		if (write(cs[i].fd, cs[i].out, cs[i].out_len) !=
		    (ssize_t)cs[i].out_len) {
			perror("write");
			return 1;
		}
	}
	struct epoll_event evs[256];
	unsigned long next_report = 100000;
	while (done < sent) {
		int n = epoll_wait(ep, evs, 256, 30000);
		if (n <= 0) {
			fprintf(stderr, "no answer for 30 s: %lu lost\n",
				sent - done);
			break;
		}
		for (int i = 0; i < n; i++) {
			conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->in + c->in_len,
					 sizeof c->in - 1 - c->in_len);
			if (r <= 0) {
				fprintf(stderr, "connection %d closed\n",
					c->id);
				return 1;
			}
			c->in_len += (size_t)r;
			c->in[c->in_len] = '\0';
			if (!strstr(c->in, "\n\n"))
				continue;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double us = secs(c->t0, now) * 1e6;
			if (us < HIST_US)
				hist[(unsigned)us]++;
			else
				over++;
			if (strncmp(c->in, c->k->want, strlen(c->k->want)))
				wrong++;
			done++;
			if (done == next_report) {
				printf("%lu requests: %.0f/s, spfkitd RSS %ld "
				       "KiB\n",
				       done, done / secs(start, now),
				       pid ? rss_kib(pid) : 0);
				fflush(stdout);
				next_report += 100000;
			}
			if (sent < requests) {
				next_request(c);
				if (write(c->fd, c->out, c->out_len) !=
				    (ssize_t)c->out_len) {
					perror("write");
					return 1;
				}
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	double t = secs(start, now);
	printf("done: %lu requests in %.2f s: %.0f requests/s\n", done, t,
	       done / t);
	printf("latency ms: p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f (over 2 s: "
	       "%lu)\n",
	       percentile(0.50), percentile(0.90), percentile(0.99),
	       percentile(0.999), over);
	printf("lost %lu, wrong answers %lu, spfkitd RSS %ld KiB (start %ld "
	       "KiB)\n",
	       sent - done, wrong, pid ? rss_kib(pid) : 0, rss0);
	for (int i = 0; i < nconn; i++)
		close(cs[i].fd);
	free(cs);
	free(hist);
	return (sent - done || wrong) ? 1 : 0;
}
