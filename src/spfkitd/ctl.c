/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl.c - the client side of spfkitd --status and --metrics (server.h):
 * one HTTP/1.0 GET to the metrics_listen endpoint of a running daemon,
 * the body to standard output. Blocking, as a command is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server_int.h"

/* Largest answer read. */
#define FETCH_MAX (4u << 20)

/* A connected socket to an endpoint's host and port (or unix path); -1
 * with errno set. */
static int connect_to(bool is_unix, const char *host, unsigned port)
{
	int fd;
	if (is_unix) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		memcpy(sun.sun_path, host, strlen(host) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
			close(fd);
			fd = -1;
		}
	} else {
		struct sockaddr_storage ss;
		socklen_t sl;
		int family = inet_sockaddr(host, port, &ss, &sl);
		fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) != 0) {
			close(fd);
			fd = -1;
		}
	}
	return fd;
}

int spfkitd_fetch(const char *endpoint, const char *path)
{
	char host[128];
	bool is_unix;
	unsigned port;
	if (!spfkitd_parse_endpoint(endpoint, &is_unix, host, sizeof host,
				    &port)) {
		fprintf(stderr, "spfkitd: '%s' is not an endpoint\n", endpoint);
		return 1;
	}
	int fd = connect_to(is_unix, host, port);
	if (fd < 0) {
		fprintf(stderr, "spfkitd: cannot connect to %s: %s\n", endpoint,
			strerror(errno));
		return 1;
	}
	char req[128];
	int k = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
	if (write(fd, req, (size_t)k) != k) {
		fprintf(stderr, "spfkitd: %s: %s\n", endpoint, strerror(errno));
		close(fd);
		return 1;
	}
	textbuf t = {0};
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0 && t.n < FETCH_MAX)
		tprintf(&t, "%.*s", (int)r, buf);
	close(fd);
	const char *body = t.s ? strstr(t.s, "\r\n\r\n") : NULL;
	if (!body || strncmp(t.s, "HTTP/1.0 200", 12) != 0) {
		fprintf(stderr, "spfkitd: %s: no good answer\n", endpoint);
		free(t.s);
		return 1;
	}
	fputs(body + 4, stdout);
	free(t.s);
	return 0;
}
