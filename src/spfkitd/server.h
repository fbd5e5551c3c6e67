/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h - spfkitd's event loop: one thread, poll(), non-blocking
 * sockets, many policy connections, one DNS resolver (so one cache) per
 * loaded configuration, and a small HTTP endpoint for metrics.
 */
#ifndef SPFKITD_SERVER_H
#define SPFKITD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* A loaded configuration with what checks need from it: the library
 * config, the zone and the resolver. In-flight checks keep theirs alive
 * across a reload. */
typedef struct spfkitd_gen spfkitd_gen;

/* Builds a generation from conf (taken over, freed with the generation
 * or on failure). On failure returns NULL with a message in err. */
spfkitd_gen *spfkitd_gen_new(spfkitd_conf *conf, char *err, size_t errlen);
void spfkitd_gen_free(spfkitd_gen *g);
const spfkitd_conf *spfkitd_gen_conf(const spfkitd_gen *g);

typedef struct spfkitd_server spfkitd_server;

/* A server serving g (taken over). NULL when out of memory. */
spfkitd_server *spfkitd_server_new(spfkitd_gen *g);
void spfkitd_server_free(spfkitd_server *s);

/* Binds every listen=, milter_listen=, srs_listen= and metrics_listen=
 * endpoint of the configuration. Unix sockets are made mode 0666 from the
 * start, in a directory only root and spfkitd may write (files.h).
 * Returns false with "FILE:LINE: key: ENDPOINT: why" in err. */
bool spfkitd_server_listen(spfkitd_server *s, char *err, size_t errlen);

/* The connections the listeners may hold at once, in all (each its
 * max_connections): what the descriptor limit must leave room for. */
size_t spfkitd_server_fds_wanted(const spfkitd_server *s);

/* Serves one connection on rfd (input) and wfd (output); the loop ends
 * when it closes. spawn(8) mode and tests. */
bool spfkitd_server_add_stdio(spfkitd_server *s, int rfd, int wfd);

/* Runs until SIGTERM or SIGINT (or, in stdio mode, the end of the
 * connection). SIGHUP reloads config_path (the old configuration stays
 * when the new one is bad). Returns 0, or 1 on a fatal error. */
int spfkitd_server_run(spfkitd_server *s, const char *config_path);

/* Fetches path ("/status", "/metrics") from an HTTP endpoint
 * ("inet:ADDR:PORT" or "unix:/path") and writes the body to stdout.
 * Returns 0 on success, 1 with a message on stderr otherwise. */
int spfkitd_fetch(const char *endpoint, const char *path);

#endif /* SPFKITD_SERVER_H */
