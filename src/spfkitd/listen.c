/*
 * listen.c - spfkitd's sockets (server.h, server_int.h): the listening
 * sockets of listen=, milter_listen=, srs_listen= and metrics_listen=
 * (bound once, at start, before privileges are dropped), accepting on
 * them, and the one connection of --stdio (spawn(8) mode).
 */
#define _GNU_SOURCE /* accept4() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "server_int.h"

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

/* Opens one listening socket on an endpoint. */
static int listen_on(const char *ep, uid_t uid, gid_t gid, char **unix_path,
		     char *err, size_t errlen)
{
	char host[128];
	bool is_unix;
	unsigned port;
	*unix_path = NULL;
	if (!spfkitd_parse_endpoint(ep, &is_unix, host, sizeof host, &port)) {
		snprintf(err, errlen, "listen: '%s' is not an endpoint", ep);
		return -1;
	}
	int fd;
	if (is_unix) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		size_t n = strlen(host);
		if (n >= sizeof sun.sun_path) {
			snprintf(err, errlen, "%s: path too long", ep);
			return -1;
		}
		memcpy(sun.sun_path, host, n + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		if (fd < 0)
			goto sys;
		/* A socket file left by an earlier run is replaced; any
		 * other file is not. */
		struct stat st;
		if (lstat(host, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(host);
		if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
			goto sys_close;
		if (chmod(host, 0666) != 0)
			goto sys_close;
		if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
		    chown(host, uid, gid) != 0)
			goto sys_close;
		*unix_path = strdup(host);
	} else {
		struct sockaddr_storage ss;
		socklen_t sl;
		int family = inet_sockaddr(host, port, &ss, &sl);
		fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		if (fd < 0)
			goto sys;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
			goto sys_close;
	}
	if (listen(fd, 1024) != 0)
		goto sys_close;
	return fd;
sys_close:;
	int e = errno;
	close(fd);
	errno = e;
sys:
	snprintf(err, errlen, "%s: %s", ep, strerror(errno));
	return -1;
}

/* Opens a listening socket on each endpoint of eps for kind. */
static bool add_listeners(spfkitd_server *s, const spfkitd_strlist *eps,
			  conn_kind kind, uid_t uid, gid_t gid, char *err,
			  size_t errlen)
{
	for (size_t i = 0; i < eps->n; i++) {
		const char *ep = eps->v[i];
		listener *ls = realloc(s->ls, (s->nls + 1) * sizeof *ls);
		if (!ls) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
		s->ls = ls;
		char *path;
		int fd = listen_on(ep, uid, gid, &path, err, errlen);
		if (fd < 0)
			return false;
		ls[s->nls++] =
		    (listener){.fd = fd, .kind = kind, .unix_path = path};
		spfkitd_log(LOG_INFO, "listening on %s%s", ep,
			    kind == CONN_HTTP        ? " (metrics)"
			    : kind == CONN_MILTER    ? " (milter)"
			    : kind == CONN_SOCKETMAP ? " (SRS socketmap)"
						     : "");
	}
	return true;
}

bool spfkitd_server_listen(spfkitd_server *s, uid_t uid, gid_t gid, char *err,
			   size_t errlen)
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
	return add_listeners(s, &c->listen, CONN_POLICY, uid, gid, err,
			     errlen) &&
	       add_listeners(s, &c->milter_listen, CONN_MILTER, uid, gid, err,
			     errlen) &&
	       add_listeners(s, &c->srs_listen, CONN_SOCKETMAP, uid, gid, err,
			     errlen) &&
	       add_listeners(s, &http, CONN_HTTP, uid, gid, err, errlen);
}

void listeners_close(spfkitd_server *s)
{
	for (size_t i = 0; i < s->nls; i++) {
		close(s->ls[i].fd);
		if (s->ls[i].unix_path) {
			unlink(s->ls[i].unix_path);
			free(s->ls[i].unix_path);
		}
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
	conn *c = conn_new(s, CONN_POLICY, rfd, wfd);
	if (!c)
		return false;
	c->stdio = true;
	s->stdio_mode = true;
	return true;
}

void accept_all(spfkitd_server *s, listener *l, uint64_t now)
{
	const spfkitd_conf *cf = s->cur->conf;
	for (int i = 0; i < 64; i++) {
		if (l->kind == CONN_POLICY &&
		    s->nclients >= cf->max_connections)
			return;
		int fd =
		    accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				spfkitd_log(LOG_ERR, "accept: %s",
					    strerror(errno));
				s->m.conns_refused++;
			}
			return;
		}
		conn *c = conn_new(s, l->kind, fd, fd);
		if (!c) {
			close(fd);
			s->m.conns_refused++;
			continue;
		}
		c->last_active = now;
		if (l->kind == CONN_POLICY)
			s->m.conns_total++;
	}
}
