/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libspf2_run.c - bench/ peer: Debian's libspf2 1.2.10 over a stream of checks.
 *
 * Reads IP<TAB>SENDER<TAB>HELO lines on stdin, evaluates all of them in this
 * one process and prints one result name per line, in order.
 *
 *   libspf2_run PORT warm  one SPF_server_new(SPF_DNS_CACHE, 0) (libspf2's
 *                          resolver with its own cache on, its fastest set-up)
 *                          for two passes; prints pass 2's results; stderr
 *                          gets "elapsed SECONDS" for pass 2 alone
 *   libspf2_run PORT cold  a fresh server (empty cache) per check; prints
 *                          RESULT<TAB>MILLISECONDS per line
 *   libspf2_run PORT stream        one SPF_server_new(SPF_DNS_CACHE, 0),
 *                          one pass (its cache fills as it goes); prints the
 *                          results; stderr gets "elapsed SECONDS"
 *   libspf2_run PORT stream-nocache  the same with SPF_DNS_RESOLV (no cache:
 *                          every lookup asks the server)
 *
 * DNS: libspf2's resolver layer calls glibc's res_ninit()/res_nquery(), which
 * read /etc/resolv.conf and cannot take a port. This program defines
 * __res_ninit (the symbol libspf2 imports): it calls glibc's, then points the
 * state at 127.0.0.1:PORT only. bench/run.sh also runs it under
 * `unshare -m` with a private resolv.conf naming 127.0.0.1 bind-mounted over
 * /etc/resolv.conf, so nothing could reach the machine's resolver even if
 * the override were bypassed.
 *
 * Build: cc -O2 -o libspf2_run libspf2_run.c -lspf2 -ldl
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spf2/spf.h>

static unsigned short dns_port;
static unsigned long ninit_calls;

#undef res_ninit
int __res_ninit(res_state st);

/* Interposes glibc's res_ninit for libspf2: loopback, our port, no search. */
int __res_ninit(res_state st)
{
	static int (*real)(res_state);
	if (real == NULL)
		real = (int (*)(res_state))dlsym(RTLD_NEXT, "__res_ninit");
	int r = real(st);
	memset(&st->nsaddr_list[0], 0, sizeof st->nsaddr_list[0]);
	st->nsaddr_list[0].sin_family = AF_INET;
	st->nsaddr_list[0].sin_port = htons(dns_port);
	st->nsaddr_list[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	st->nscount = 1;
	st->options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	st->retrans = 5;
	st->retry = 2;
	ninit_calls++;
	return r;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct line {
	char *ip, *sender, *helo;
} line;

/* Runs one check; returns libspf2's result name. */
static const char *one(SPF_server_t *srv, const line *l)
{
	SPF_request_t *req = SPF_request_new(srv);
	SPF_response_t *resp = NULL;
	const char *name;
	if (req == NULL)
		return "error:alloc";
	if ((strchr(l->ip, ':')
		 ? SPF_request_set_ipv6_str(req, l->ip)
		 : SPF_request_set_ipv4_str(req, l->ip)) != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return "error:ip";
	}
	SPF_request_set_helo_dom(req, l->helo);
	SPF_request_set_env_from(req, l->sender);
	SPF_request_query_mailfrom(req, &resp);
	name = resp ? SPF_strresult(SPF_response_result(resp))
		    : "error:noresponse";
	SPF_response_free(resp);
	SPF_request_free(req);
	return name;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: libspf2_run PORT "
				"warm|cold|stream|stream-nocache < stream\n");
		return 64;
	}
	char *end;
	long port = strtol(argv[1], &end, 10);
	if (*end || port <= 0 || port > 65535) {
		fprintf(stderr, "libspf2_run: bad port '%s'\n", argv[1]);
		return 64;
	}
	dns_port = (unsigned short)port;
	int warm = strcmp(argv[2], "warm") == 0;
	int stream = strcmp(argv[2], "stream") == 0;
	int nocache = strcmp(argv[2], "stream-nocache") == 0;
	size_t n = 0, cap = 1024;
	line *ls = malloc(cap * sizeof *ls);
	char *buf = NULL;
	size_t bcap = 0;
	ssize_t len;
	while ((len = getline(&buf, &bcap, stdin)) > 0) {
		buf[strcspn(buf, "\r\n")] = '\0';
		char *ip = strdup(buf), *s = strchr(ip, '\t'), *h = NULL;
		if (s) {
			*s++ = '\0';
			h = strchr(s, '\t');
			if (h)
				*h++ = '\0';
		}
		if (n == cap)
			ls = realloc(ls, (cap *= 2) * sizeof *ls);
		line *l = &ls[n++];
		l->ip = ip;
		l->helo = h ? h : "";
		if (s == NULL || *s == '\0' || strcmp(s, "<>") == 0) {
			size_t m = strlen(l->helo) + 12;
			l->sender = malloc(m);
			snprintf(l->sender, m, "postmaster@%s", l->helo);
		} else {
			l->sender = s;
		}
	}
	free(buf);
	if (stream || nocache || warm) {
		SPF_server_t *srv =
		    SPF_server_new(nocache ? SPF_DNS_RESOLV : SPF_DNS_CACHE, 0);
		const char **res = malloc((n ? n : 1) * sizeof *res);
		/* warm: a first pass fills the cache, the second is timed */
		for (size_t i = 0; warm && i < n; i++)
			one(srv, &ls[i]);
		double t0 = now();
		for (size_t i = 0; i < n; i++)
			res[i] = one(srv, &ls[i]);
		double el = now() - t0;
		for (size_t i = 0; i < n; i++)
			printf("%s\n", res[i]);
		fprintf(stderr, "elapsed %.6f\n", el);
		SPF_server_free(srv);
	} else {
		for (size_t i = 0; i < n; i++) {
			double t0 = now();
			SPF_server_t *srv = SPF_server_new(SPF_DNS_CACHE, 0);
			const char *r = one(srv, &ls[i]);
			SPF_server_free(srv);
			printf("%s\t%.3f\n", r, (now() - t0) * 1000.0);
			fflush(stdout);
		}
	}
	if (ninit_calls == 0)
		fprintf(stderr,
			"libspf2_run: warning: res_ninit override never ran\n");
	return 0;
}
