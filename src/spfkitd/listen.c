/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.c - spfkitd's sockets (server.h, server_int.h): the listening
 * sockets of listen=, milter_listen=, srs_listen= and metrics_listen=
 * (bound once, at start, before privileges are dropped; unix sockets
 * through files.c), accepting on them, and the one connection of --stdio
 * (spawn(8) mode). Each listener has its own limit: when it is reached,
 * the longest idle connection of that listener is closed to make room, so
 * clients that connect and say nothing cannot lock mail out. Out of
 * descriptors, accepting pauses for a moment and says so once in a
 * while; connections already open go on.
 */
#define _GNU_SOURCE /* accept4() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "server_int.h"

/* Pending connections the kernel queues per listener. */
#define LISTEN_BACKLOG 1024
/* Connections accepted per listener and loop turn. */
#define ACCEPT_BATCH 64
/* Out of descriptors: accept() rests this long. */
#define ACCEPT_PAUSE_MS 250u
/* Repeated troubles are logged at most this often, with a count. */
#define LOG_EVERY_MS 10000u

static bool set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

int inet_sockaddr(const char *host, unsigned port, struct sockaddr_storage *ss,
		  socklen_t *sl)
{
	memset(ss, 0, sizeof *ss);
	if (!strchr(host, ':')) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &sin->sin_addr);
		*sl = sizeof *sin;
		return AF_INET;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, host, &s6->sin6_addr);
	*sl = sizeof *s6;
	return AF_INET6;
}

/* Opens one listening socket on an endpoint; a unix socket's file is
 * kept in *file. err says "ENDPOINT: why". */
static int listen_on(const char *ep, spfkitd_file *file, char *err,
		     size_t errlen)
{
	char host[128];
	bool is_unix;
	unsigned port;
	*file = SPFKITD_FILE_NONE;
	if (!spfkitd_parse_endpoint(ep, &is_unix, host, sizeof host, &port)) {
		snprintf(err, errlen, "'%s' is not an endpoint", ep);
		return -1;
	}
	if (is_unix)
		return spfkitd_unix_listen(host, LISTEN_BACKLOG, file, err,
					   errlen);
	struct sockaddr_storage ss;
	socklen_t sl;
	int family = inet_sockaddr(host, port, &ss, &sl);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto sys;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		goto sys;
	}
	return fd;
sys:
	snprintf(err, errlen, "%s: %s", ep, strerror(errno));
	return -1;
}

/* Opens a listening socket on each endpoint of eps (the list of key) for
 * kind. Errors are "FILE:LINE: key: ENDPOINT: why". */
static bool add_listeners(spfkitd_server *s, const char *key,
			  const spfkitd_strlist *eps, conn_kind kind, char *err,
			  size_t errlen)
{
	const spfkitd_conf *c = s->cur->conf;
	for (size_t i = 0; i < eps->n; i++) {
		const char *ep = eps->v[i];
		listener *ls = realloc(s->ls, (s->nls + 1) * sizeof *ls);
		if (!ls) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
		s->ls = ls;
		char why[1024];
		spfkitd_file file;
		char *name = strdup(ep);
		int fd = name ? listen_on(ep, &file, why, sizeof why) : -1;
		if (fd < 0) {
			free(name);
			unsigned line = kind == CONN_HTTP
					    ? spfkitd_conf_line(c, key)
					    : spfkitd_strlist_line(eps, i);
			spfkitd_conf_error(c, line, key, err, errlen, "%s",
					   name ? why : "out of memory");
			return false;
		}
		ls[s->nls++] = (listener){
		    .fd = fd, .kind = kind, .ep = name, .file = file};
		spfkitd_log(LOG_INFO, "listening on %s%s", ep,
			    kind == CONN_HTTP        ? " (metrics)"
			    : kind == CONN_MILTER    ? " (milter)"
			    : kind == CONN_SOCKETMAP ? " (SRS socketmap)"
						     : "");
	}
	return true;
}

bool spfkitd_server_listen(spfkitd_server *s, char *err, size_t errlen)
{
	const spfkitd_conf *c = s->cur->conf;
	if (c->listen.n == 0 && c->milter_listen.n == 0 &&
	    c->srs_listen.n == 0) {
		snprintf(err, errlen,
			 "%s: no listen=, milter_listen= or srs_listen= "
			 "endpoint (or run with --stdio)",
			 c->path);
		return false;
	}
	char *mep = c->metrics_listen;
	const spfkitd_strlist http = {.v = &mep, .n = mep ? 1 : 0};
	return add_listeners(s, "listen", &c->listen, CONN_POLICY, err,
			     errlen) &&
	       add_listeners(s, "milter_listen", &c->milter_listen, CONN_MILTER,
			     err, errlen) &&
	       add_listeners(s, "srs_listen", &c->srs_listen, CONN_SOCKETMAP,
			     err, errlen) &&
	       add_listeners(s, "metrics_listen", &http, CONN_HTTP, err,
			     errlen);
}

size_t spfkitd_server_fds_wanted(const spfkitd_server *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nls; i++)
		n += listener_cap(s, &s->ls[i]);
	return n;
}

void listeners_close(spfkitd_server *s)
{
	for (size_t i = 0; i < s->nls; i++) {
		close(s->ls[i].fd);
		spfkitd_file_remove(&s->ls[i].file);
		free(s->ls[i].ep);
	}
	free(s->ls);
	s->ls = NULL;
	s->nls = 0;
}

bool spfkitd_server_add_stdio(spfkitd_server *s, int rfd, int wfd)
{
	/* Non-blocking only where it means something (a socket from
	 * spawn(8), a pipe); a file or terminal is left as it is. */
	int fds[2] = {rfd, wfd};
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (fstat(fds[i], &st) == 0 &&
		    (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)))
			set_nonblock(fds[i]);
	}
	conn *c = conn_new(s, CONN_POLICY, rfd, wfd, -1);
	if (!c)
		return false;
	c->stdio = true;
	s->stdio_mode = true;
	return true;
}

size_t listener_cap(const spfkitd_server *s, const listener *l)
{
	const spfkitd_conf *cf = s->cur->conf;
	return l->kind == CONN_HTTP ? cf->metrics_max_connections
				    : cf->max_connections;
}

/* The least recently active connection of listener li with nothing in
 * progress: no check running, and no request waiting to be read (one
 * just accepted whose bytes are still in the kernel is not idle). NULL
 * when there is none. */
static conn *longest_idle(spfkitd_server *s, size_t li)
{
	for (spfkit_link *l = s->conns.head; l; l = l->next) {
		conn *c = conn_of_lru(l);
		if (c->li != (int)li || !c->counted || c->busy || c->dead)
			continue;
		char b;
		if (recv(c->rfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			continue;
		return c;
	}
	return NULL;
}

/* A full listener makes room: its longest idle connection is closed
 * (Postfix opens a new one when it next needs one). Logged at most once
 * per LOG_EVERY_MS with how many. False when every connection is busy. */
static bool make_room(spfkitd_server *s, size_t li, uint64_t now)
{
	conn *c = longest_idle(s, li);
	if (!c)
		return false;
	uint64_t idle_ms = now > c->last_active ? now - c->last_active : 0;
	conn_close_now(s, c);
	s->m.conns_evicted++;
	s->evict_n++;
	if (now >= s->evict_log_next) {
		spfkitd_log(LOG_WARNING,
			    "%s: %zu connections (the limit): closed the "
			    "longest idle one (idle %llu ms) to serve a new "
			    "one; %llu closed so in the last %u s",
			    s->ls[li].ep, listener_cap(s, &s->ls[li]),
			    (unsigned long long)idle_ms,
			    (unsigned long long)s->evict_n,
			    LOG_EVERY_MS / 1000);
		s->evict_n = 0;
		s->evict_log_next = now + LOG_EVERY_MS;
	}
	return true;
}

/* accept() found no descriptor (or no memory): accepting pauses for
 * ACCEPT_PAUSE_MS, connections already open go on, and it is logged at
 * most once per LOG_EVERY_MS with how often it happened. */
static void short_of_descriptors(spfkitd_server *s, int e, uint64_t now)
{
	s->accept_pause_until = now + ACCEPT_PAUSE_MS;
	s->m.accept_paused++;
	s->fd_short_n++;
	if (now >= s->fd_log_next) {
		struct rlimit rl = {0};
		getrlimit(RLIMIT_NOFILE, &rl);
		spfkitd_log(LOG_ERR,
			    "accept: %s (descriptor limit %llu): new "
			    "connections wait; %llu times in the last %u s",
			    strerror(e), (unsigned long long)rl.rlim_cur,
			    (unsigned long long)s->fd_short_n,
			    LOG_EVERY_MS / 1000);
		s->fd_short_n = 0;
		s->fd_log_next = now + LOG_EVERY_MS;
	}
}

void accept_all(spfkitd_server *s, size_t li, uint64_t now)
{
	listener *l = &s->ls[li];
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		/* Full: room is made for a connection known to wait, the one
		 * poll() saw; the next turn's poll() tells of more. With no
		 * idle connection, the listener rests until one is. */
		if (l->n >= listener_cap(s, l)) {
			if (i > 0)
				return;
			if (!make_room(s, li, now)) {
				l->stalled = true;
				return;
			}
		}
		int fd =
		    accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EINTR || e == ECONNABORTED)
				continue;
			if (e == EMFILE || e == ENFILE || e == ENOBUFS ||
			    e == ENOMEM) {
				s->m.conns_refused++;
				short_of_descriptors(s, e, now);
			}
			return;
		}
		conn *c = conn_new(s, l->kind, fd, fd, (int)li);
		if (!c) {
			close(fd);
			s->m.conns_refused++;
			continue;
		}
		c->last_active = now;
		s->m.conns_total++;
	}
}
