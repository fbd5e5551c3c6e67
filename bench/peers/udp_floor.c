/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp_floor.c - what one DNS round trip to the bench's NSD costs on this
 * machine, with nothing of any SPF implementation around it: the floor
 * under the one-pass stream (bench/bench.py).
 *
 *   udp_floor PORT kept|fresh N < names
 *
 * Asks N TXT queries, one at a time, for the names on standard input (one
 * per line, cycled), to 127.0.0.1@PORT, and prints the mean microseconds
 * per query. "kept": one connected UDP socket for every query (glibc's
 * resolver, which libspf2 uses, keeps its socket). "fresh": the system
 * calls libunbound makes for each query (its random source port, its
 * defence against forged answers): a new non-blocking socket, the
 * path-MTU option, a bind to a random port, connect, send, wait in epoll,
 * receive, close. Each answer's ID must match its query's: a run that
 * loses or mixes answers fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 4096

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A TXT query for name (dotted, no trailing dot) with id into q; its
 * length, 0 when the name does not fit. */
static size_t query(unsigned char *q, size_t cap, const char *name, uint16_t id)
{
	size_t o = 12;
	if (cap < 12 + 256 + 4)
		return 0;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* QDCOUNT */
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n > 63 || o + 1 + n + 5 > 12 + 256)
			return 0;
		q[o++] = (unsigned char)n;
		memcpy(q + o, p, n);
		o += n;
		p += n + (dot != NULL);
	}
	q[o++] = 0;
	q[o++] = 0;
	q[o++] = 16; /* TXT */
	q[o++] = 0;
	q[o++] = 1; /* IN */
	return o;
}

static int fresh_socket(const struct sockaddr_in *to, int ep)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	int fl = fcntl(s, F_GETFL);
	(void)fcntl(s, F_SETFL, fl | O_NONBLOCK);
#ifdef IP_PMTUDISC_OMIT
	int omit = IP_PMTUDISC_OMIT;
	(void)setsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof omit);
#endif
	struct sockaddr_in me = {.sin_family = AF_INET};
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* a random port as libunbound picks one; a taken one is tried again */
	for (int tries = 0; tries < 64; tries++) {
		me.sin_port =
		    htons((uint16_t)(1024 + (unsigned)rand() % 64511));
		if (bind(s, (const struct sockaddr *)&me, sizeof me) == 0)
			break;
	}
	if (connect(s, (const struct sockaddr *)to, sizeof *to) != 0) {
		close(s);
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0) {
		close(s);
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 4 ||
	    (strcmp(argv[2], "kept") && strcmp(argv[2], "fresh"))) {
		fprintf(stderr, "usage: udp_floor PORT kept|fresh N < names\n");
		return 2;
	}
	char *end;
	long port = strtol(argv[1], &end, 10);
	if (*end)
		port = 0;
	bool fresh = strcmp(argv[2], "fresh") == 0;
	long n = strtol(argv[3], &end, 10);
	if (*end)
		n = 0;
	static char *names[MAX_NAMES];
	size_t nn = 0;
	char line[512];
	while (nn < MAX_NAMES && fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\r\n")] = 0;
		if (*line)
			names[nn++] = strdup(line);
	}
	if (nn == 0 || n <= 0 || port <= 0 || port > 65535) {
		fprintf(stderr, "udp_floor: no names, no count or no port\n");
		return 2;
	}
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ep = epoll_create1(0);
	int kept = -1;
	if (ep < 0 || (!fresh && (kept = fresh_socket(&to, ep)) < 0)) {
		perror("udp_floor: socket");
		return 1;
	}
	srand((unsigned)time(NULL));
	unsigned char q[512], a[65536];
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		uint16_t id = (uint16_t)rand();
		size_t ql = query(q, sizeof q, names[(size_t)i % nn], id);
		if (ql == 0) {
			fprintf(stderr, "udp_floor: bad name %s\n",
				names[(size_t)i % nn]);
			return 2;
		}
		int s = fresh ? fresh_socket(&to, ep) : kept;
		if (s < 0 || send(s, q, ql, 0) != (ssize_t)ql) {
			perror("udp_floor: send");
			return 1;
		}
		for (;;) {
			struct epoll_event ev;
			int k = epoll_wait(ep, &ev, 1, 2000);
			if (k == 0) {
				fprintf(stderr,
					"udp_floor: no answer in 2 s\n");
				return 1;
			}
			if (k < 0 && errno == EINTR)
				continue;
			ssize_t got = recv(s, a, sizeof a, 0);
			if (got < 0 && errno == EAGAIN)
				continue;
			if (got < 12 || a[0] != q[0] || a[1] != q[1]) {
				fprintf(stderr, "udp_floor: bad answer\n");
				return 1;
			}
			break;
		}
		if (fresh)
			close(s); /* takes it out of the epoll set */
	}
	double el = now_s() - t0;
	printf("%.2f\n", el / (double)n * 1e6);
	return 0;
}
