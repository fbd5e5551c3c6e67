/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c - spfkitd's event loop (server.h), the loop that ties the
 * modules of server_int.h together. One thread polls the listening
 * sockets, every connection, the resolvers' descriptors and a self-pipe
 * for signals; nothing blocks but poll(). Each loop turn hands waiting
 * DNS answers to their checks and works through the connections with
 * input until nothing moves (settle()), ends checks past their deadline
 * and idle connections, closes what is dead, then polls.
 *
 * Connections speak the policy protocol (policy_session.c), the milter
 * protocol (milter_session.c), Postfix's socketmap for SRS
 * (socketmap_session.c) or HTTP for metrics (metrics.c). A reload
 * (SIGHUP) makes a new generation (gen.c).
 */
#define _GNU_SOURCE /* pipe2() */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server_int.h"

/* Poll at least this often while DNS queries are in flight, so the
 * resolver times them out on time. */
#define DNS_TICK_MS 100u
/* Poll at most this long. */
#define POLL_MAX_MS 60000u
/* With more connections than poll() may watch (poll_limit()), how long
 * one share of them is watched before the next. */
#define POLL_TURN_MS 20u

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static volatile sig_atomic_t sig_write_fd = -1;

static void on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;
	if (sig_write_fd >= 0)
		(void)!write(sig_write_fd, &b, 1);
	errno = e;
}

spfkitd_server *spfkitd_server_new(spfkitd_gen *g)
{
	spfkitd_server *s = calloc(1, sizeof *s);
	if (!s) {
		spfkitd_gen_free(g);
		return NULL;
	}
	s->cur = s->gens = g;
	g->refs++;
	s->sigpipe[0] = s->sigpipe[1] = -1;
	s->started_ms = now_ms();
	s->nofile = SIZE_MAX;
	return s;
}

void spfkitd_server_free(spfkitd_server *s)
{
	if (!s)
		return;
	while (s->conns.head)
		conn_free(s, conn_of_lru(s->conns.head));
	listeners_close(s);
	while (s->gens) {
		spfkitd_gen *g = s->gens;
		s->gens = g->next;
		spfkitd_gen_free(g);
	}
	if (s->sigpipe[0] >= 0) {
		close(s->sigpipe[0]);
		close(s->sigpipe[1]);
	}
	sig_write_fd = -1;
	free(s->pfd);
	free(s->pconn);
	free(s);
}

/* Closes idle connections (not those with a request being checked).
 * Returns ms to the next one. */
static uint64_t expire_idle(spfkitd_server *s, uint64_t now)
{
	uint32_t idle = s->cur->conf->idle_timeout_ms;
	for (spfkit_link *l = s->conns.head; l; l = l->next) {
		conn *c = conn_of_lru(l);
		if (c->stdio || c->dead)
			continue;
		uint64_t due = c->last_active + idle;
		if (now < due)
			return due - now;
		if (!c->busy)
			c->dead = true;
	}
	return UINT64_MAX;
}

/* Hands every waiting answer over and works through the connections
 * with input, until nothing moves. */
static void settle(spfkitd_server *s)
{
	bool moved;
	do {
		moved = false;
		for (spfkitd_gen *g = s->gens; g; g = g->next) {
			if (!g->res || spfkit_resolver_in_flight(g->res) == 0 ||
			    !gen_res_first(s, g))
				continue;
			int rc;
			while ((rc = spfkit_resolver_process(
				    g->res, 0, now_ms(), session_on_answer,
				    s)) > 0)
				moved = true;
			if (rc < 0) {
				spfkitd_log(LOG_ERR, "DNS: %s",
					    spfkit_strerror(rc));
				/* Every check of this resolver fails with
				 * it, whichever generation it runs in. */
				for (spfkitd_gen *h = s->gens; h; h = h->next)
					while (h->res == g->res &&
					       h->running.head)
						session_internal_error(
						    s,
						    conn_of_run(
							h->running.head),
						    "DNS driver", rc);
			}
		}
		while (s->work) {
			conn *c = s->work;
			s->work = c->work_next;
			c->queued = false;
			moved = true;
			if (c->dead)
				continue;
			if (c->kind == CONN_HTTP)
				process_http(s, c);
			else if (c->kind == CONN_MILTER)
				process_milter(s, c);
			else if (c->kind == CONN_SOCKETMAP)
				process_socketmap(s, c);
			else
				process_policy(s, c);
		}
	} while (moved);
}

/* Closes every connection marked dead. */
static void reap(spfkitd_server *s)
{
	spfkit_link *l = s->conns.head;
	while (l) {
		spfkit_link *next = l->next;
		conn *c = conn_of_lru(l);
		if (c->dead)
			conn_free(s, c);
		l = next;
	}
	gen_reap(s);
}

/* Is any generation's resolver waiting for answers? */
static bool dns_busy(const spfkitd_server *s)
{
	for (const spfkitd_gen *g = s->gens; g; g = g->next)
		if (g->res && spfkit_resolver_in_flight(g->res))
			return true;
	return false;
}

/* Makes room for n pollfds. */
static bool poll_room(spfkitd_server *s, size_t n)
{
	if (n <= s->pcap)
		return true;
	size_t ncap = s->pcap ? s->pcap : 64;
	while (ncap < n)
		ncap *= 2;
	struct pollfd *p = realloc(s->pfd, ncap * sizeof *p);
	if (!p)
		return false;
	s->pfd = p;
	conn **pc = realloc(s->pconn, ncap * sizeof *pc);
	if (!pc)
		return false;
	s->pconn = pc;
	s->pcap = ncap;
	return true;
}

/* Appends one pollfd (of connection c, or NULL). */
static void poll_add(spfkitd_server *s, size_t *n, int fd, short events,
		     conn *c)
{
	s->pfd[*n] = (struct pollfd){.fd = fd, .events = events};
	s->pconn[(*n)++] = c;
}

/* Says once that listener l is full with every connection busy (new
 * connections wait in the listen queue), and once that it has room
 * again. */
static void note_full(spfkitd_server *s, listener *l, bool full)
{
	if (full && !l->full_logged)
		spfkitd_log(LOG_WARNING,
			    "%s: %zu connections (the limit), every one "
			    "waiting for a check: new connections wait",
			    l->ep, listener_cap(s, l));
	l->full_logged = full;
}

/* Fills the pollfds: the signal pipe, the listeners (each while it has
 * room or an idle connection to close for a new one, and not while
 * short of descriptors), the resolvers, then the connections from
 * *cfirst on. Returns how many; 0 when out of memory. */
static size_t poll_fill(spfkitd_server *s, size_t *cfirst, uint64_t now)
{
	size_t ngens = 0;
	for (spfkitd_gen *g = s->gens; g; g = g->next)
		ngens++;
	if (!poll_room(s, 1 + s->nls + 8 + s->conns.n + ngens))
		return 0;
	size_t n = 0;
	poll_add(s, &n, s->sigpipe[0], POLLIN, NULL);
	/* Filled in once the connections are counted below. */
	for (size_t i = 0; i < s->nls; i++) {
		s->ls[i].idle = 0;
		poll_add(s, &n, -1, POLLIN, NULL);
	}
	/* settle() reads every resolver, whichever of these woke us. */
	for (spfkitd_gen *g = s->gens; g; g = g->next) {
		int fd = g->res && spfkit_resolver_in_flight(g->res) &&
				 gen_res_first(s, g)
			     ? spfkit_resolver_fd(g->res)
			     : -1;
		poll_add(s, &n, fd, POLLIN, NULL);
	}
	*cfirst = n;
	for (spfkit_link *l = s->conns.head; l; l = l->next) {
		conn *c = conn_of_lru(l);
		bool want_in = !c->busy && !c->eof && !c->closing && !c->dead &&
			       c->out_len - c->out_off < OUT_HIGH;
		bool want_out = c->out_off < c->out_len && !c->dead;
		/* Only those waiting for something: each entry counts
		 * against the descriptor limit (poll_limit()). */
		if (c->rfd == c->wfd) {
			short ev = (short)((want_in ? POLLIN : 0) |
					   (want_out ? POLLOUT : 0));
			if (ev)
				poll_add(s, &n, c->rfd, ev, c);
		} else {
			/* stdio: input and output apart. */
			if (want_in)
				poll_add(s, &n, c->rfd, POLLIN, c);
			if (want_out)
				poll_add(s, &n, c->wfd, POLLOUT, c);
		}
		if (c->counted && !c->busy && !c->dead)
			s->ls[c->li].idle++;
	}
	bool paused = now < s->accept_pause_until;
	for (size_t i = 0; i < s->nls; i++) {
		listener *l = &s->ls[i];
		bool room =
		    (l->n < listener_cap(s, l) || l->idle > 0) && !l->stalled;
		note_full(s, l, !room);
		s->pfd[1 + i].fd = room && !paused ? l->fd : -1;
	}
	return n;
}

/* The descriptor limit now (poll() refuses more entries). */
static size_t nofile_now(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SIZE_MAX)
		return SIZE_MAX;
	return (size_t)rl.rlim_cur;
}

/* Reverses pfd and pconn from a to b (exclusive). */
static void poll_reverse(spfkitd_server *s, size_t a, size_t b)
{
	while (a + 1 < b) {
		b--;
		struct pollfd p = s->pfd[a];
		s->pfd[a] = s->pfd[b];
		s->pfd[b] = p;
		conn *c = s->pconn[a];
		s->pconn[a] = s->pconn[b];
		s->pconn[b] = c;
		a++;
	}
}

/* Keeps the n pollfds within the descriptor limit, which poll() enforces
 * (lowered under a running daemon, it would fail EINVAL on every turn):
 * the connections then take turns, the fixed entries before cfirst
 * always stay, and *wait is cut short so a connection left out this turn
 * does not wait on the others. Returns how many to poll. */
static size_t poll_limit(spfkitd_server *s, size_t cfirst, size_t n,
			 uint64_t *wait)
{
	if (n <= s->nofile)
		return n;
	s->nofile = nofile_now();
	if (n <= s->nofile)
		return n;
	size_t keep = s->nofile > cfirst ? s->nofile - cfirst : 0;
	size_t nc = n - cfirst;
	if (*wait > POLL_TURN_MS)
		*wait = POLL_TURN_MS;
	if (keep == 0)
		return s->nofile ? s->nofile : 1;
	/* Rotate the connections' entries so a different share comes first
	 * on each turn. */
	size_t k = s->poll_turn % nc;
	poll_reverse(s, cfirst, cfirst + k);
	poll_reverse(s, cfirst + k, n);
	poll_reverse(s, cfirst, n);
	s->poll_turn += keep;
	return cfirst + keep;
}

/* Signals that arrived: SIGHUP reloads, the others stop the loop. */
static void on_signals(spfkitd_server *s, const char *config_path)
{
	unsigned char sig[16];
	ssize_t k;
	while ((k = read(s->sigpipe[0], sig, sizeof sig)) > 0)
		for (ssize_t i = 0; i < k; i++) {
			if (sig[i] == SIGHUP)
				gen_reload(s, config_path);
			else
				s->stop = true;
		}
}

/* What poll() said about the connections' pollfds, from cfirst to n. */
static void on_conn_events(spfkitd_server *s, size_t cfirst, size_t n,
			   uint64_t now)
{
	for (size_t i = cfirst; i < n; i++) {
		conn *c = s->pconn[i];
		short re = s->pfd[i].revents;
		if (!re || c->dead)
			continue;
		if ((re & POLLNVAL)) {
			c->dead = true;
			continue;
		}
		if ((s->pfd[i].events & POLLOUT) &&
		    (re & (POLLOUT | POLLERR | POLLHUP))) {
			flush_out(c);
			if (c->out_off == c->out_len)
				work_push(s, c);
		}
		if ((s->pfd[i].events & POLLIN) &&
		    (re & (POLLIN | POLLHUP | POLLERR)))
			read_conn(s, c, now);
	}
}

int spfkitd_server_run(spfkitd_server *s, const char *config_path)
{
	if (pipe2(s->sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		spfkitd_log(LOG_ERR, "pipe: %s", strerror(errno));
		return 1;
	}
	sig_write_fd = s->sigpipe[1];
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!s->stop) {
		settle(s);
		uint64_t now = now_ms();
		uint64_t wait = session_expire(s, now);
		uint64_t idle = expire_idle(s, now);
		if (idle < wait)
			wait = idle;
		if (now < s->accept_pause_until &&
		    s->accept_pause_until - now < wait)
			wait = s->accept_pause_until - now;
		reap(s);
		if (s->stop)
			break;
		if (dns_busy(s) && wait > DNS_TICK_MS)
			wait = DNS_TICK_MS;
		if (s->work)
			wait = 0;
		if (wait > POLL_MAX_MS)
			wait = POLL_MAX_MS;

		size_t cfirst;
		size_t n = poll_fill(s, &cfirst, now);
		if (n == 0) {
			spfkitd_log(LOG_ERR, "out of memory");
			return 1;
		}
		n = poll_limit(s, cfirst, n, &wait);
		int prc = poll(s->pfd, n, (int)wait);
		if (prc < 0 && errno == EINVAL &&
		    n > (s->nofile = nofile_now()))
			continue; /* the limit went down: fewer next turn */
		if (prc < 0 && errno != EINTR) {
			spfkitd_log(LOG_ERR, "poll: %s", strerror(errno));
			return 1;
		}
		now = now_ms();
		if (prc <= 0)
			continue;
		if (s->pfd[0].revents)
			on_signals(s, config_path);
		for (size_t i = 0; i < s->nls; i++)
			if (s->pfd[1 + i].revents)
				accept_all(s, i, now);
		on_conn_events(s, cfirst, n, now);
	}
	if (!s->stdio_mode)
		spfkitd_log(LOG_INFO, "stopping");
	return 0;
}
