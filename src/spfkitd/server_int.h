/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server_int.h - what the modules of spfkitd's event loop share (not a
 * public header: main.c sees server.h only). The loop is one server
 * (spfkitd_server) owning generations of the configuration, listening
 * sockets and connections; each module owns a part of it:
 *
 *   server.c              the loop: poll(), signals, expiry, settle, reap
 *   gen.c                 configuration generations and reload (SIGHUP)
 *   srs.c                 SRS per generation: secrets, rewrites, log lines
 *   conn.c                connections: buffers, idle order, the work list
 *   session.c             one message checked, whatever the protocol: the
 *                         HELO and MAIL FROM checks, the decision
 *   policy_session.c      policy connections, the instance cache
 *   milter_session.c      milter connections
 *   socketmap_session.c   SRS socketmap connections
 *   metrics.c             the HTTP endpoint: /metrics and /status
 *   listen.c              listening sockets, accept, --stdio
 *   ctl.c                 the HTTP client of --status and --metrics
 *
 * A connection handles one request at a time: its bytes stay in the
 * input buffer, parsed in place, until the answer is queued; a message
 * to check goes through session_begin() and ends in session_finish(),
 * which writes the decision back in the connection's protocol
 * (policy_decided(), milter_decided()).
 */
#ifndef SPFKITD_SERVER_INT_H
#define SPFKITD_SERVER_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <spfkit.h>

#include "decide.h"
#include "files.h"
#include "list.h"
#include "policy.h"
#include "server.h"

/* Input buffered per connection: a whole request at its cap, plus room
 * to see past it. */
#define IN_CAP (SPFKITD_POLICY_MAX_BYTES + 4096u)
/* Queued output past which a connection's input waits (a client that
 * sends without reading). */
#define OUT_HIGH (256u * 1024u)
/* An HTTP request larger than this is refused. */
#define HTTP_MAX 8192u
/* Instance ids longer than this are not cached. */
#define INSTANCE_MAX 120u
/* Buckets of the latency histogram (their bounds are in metrics.c). */
#define NHIST 14u

/* ------------------------------------------------------------ types */

/* A resolver and its caches, shared by the generations whose DNS
 * settings are the same: a reload that changes none of them keeps the
 * cache (gen.c). Its library config is its own, so it outlives any one
 * generation. */
typedef struct spfkitd_dns {
	spfkit_config *scfg;
	spfkit_resolver *res;
	unsigned refs; /* generations holding it */
} spfkitd_dns;

struct spfkitd_gen {
	spfkitd_conf *conf;
	spfkit_config *scfg;
	spfkit_zone *zone;
	spfkitd_dns *dns;     /* NULL: the zone answers everything */
	spfkit_resolver *res; /* dns->res, or NULL */
	spfkit_srs *srs;      /* NULL: no srs_domain */
	unsigned refs;        /* the server's, and one per busy connection */
	spfkit_list running;  /* conn.run: running checks, oldest first */
	struct spfkitd_gen *next; /* the server's list */
};

typedef enum conn_kind {
	CONN_POLICY = 0,
	CONN_HTTP,
	CONN_MILTER,
	CONN_SOCKETMAP
} conn_kind;

/* Which check of a request runs. */
typedef enum phase { PH_NONE = 0, PH_HELO, PH_MAILFROM } phase;

struct mstate; /* milter_session.c */

typedef struct conn {
	conn_kind kind;
	struct mstate *ms; /* CONN_MILTER: the session and message */
	int rfd, wfd;
	int li;       /* the server's listener it came from; -1: none */
	bool counted; /* in its listener's count (until closed) */
	bool stdio;
	/* input: unread bytes are in[off, len) */
	char *in;
	size_t in_off, in_len, in_cap;
	spfkitd_framer fr;
	bool eof;
	/* output: unsent bytes are out[out_off, out_len) */
	char *out;
	size_t out_off, out_len, out_cap;
	bool dead;    /* close at the end of this loop turn */
	bool closing; /* close once the output is sent */
	uint64_t last_active;
	spfkit_link lru; /* the server's conns: least recently active first */
	bool queued;
	struct conn *work_next; /* the work list */
	/* the request being checked */
	bool busy;
	size_t req_len;
	spfkitd_policy_req req;
	spfkitd_msg msg;
	spfkitd_gen *g;
	spfkit_check *helo_chk, *mf_chk;
	phase ph;
	uint64_t t0, check_t0;
	spfkit_link run; /* g->running */
	/* the last message's decision (RCPTs of one instance) */
	char inst[INSTANCE_MAX];
	size_t inst_len;
	bool inst_valid;
	spfkitd_action inst_action;
	char *inst_reply; /* the reply for further recipients */
} conn;

/* The connection of a link of the server's conns. */
static inline conn *conn_of_lru(const spfkit_link *l)
{
	return SPFKIT_CONTAINER(l, conn, lru);
}

/* The connection of a link of a generation's running list. */
static inline conn *conn_of_run(const spfkit_link *l)
{
	return SPFKIT_CONTAINER(l, conn, run);
}

/* A listening socket. Each has its own limit of connections (policy,
 * milter and socketmap listeners max_connections, metrics
 * metrics_max_connections), so a flood on one leaves the others
 * alone. */
typedef struct listener {
	int fd;
	conn_kind kind;
	char *ep;          /* the endpoint, for logs */
	spfkitd_file file; /* a unix socket's file, removed at exit */
	size_t n;          /* connections open from it */
	size_t idle;       /* of those, how many wait for nothing */
	bool stalled;      /* full, none could be closed: not listened to
			      until one of its connections is done */
	bool full_logged;  /* full with none idle: said once */
} listener;

/* Counters for /metrics (index: spfkit_result, spfkitd_action, ...);
 * every module counts its own events here, metrics.c prints them. */
typedef struct metrics {
	uint64_t requests, bad_requests, oversized, cached, internal_errors;
	uint64_t results[2][SPFKITD_NRESULTS]; /* [helo, mailfrom] */
	uint64_t actions[SPFKITD_NACTIONS];
	uint64_t verdicts[SPFKITD_NACTIONS];
	uint64_t whys[SPFKITD_WHY_INTERNAL + 1];
	uint64_t hist[NHIST + 1];
	double latency_sum;
	uint64_t latency_n;
	uint64_t conns_total, conns_refused, reloads, reload_failures;
	uint64_t conns_evicted, accept_paused;
	uint64_t dns_sent_gone; /* queries of resolvers freed since */
	uint64_t milter_messages, milter_bad, milter_removed;
	uint64_t srs_lookups, srs_bad_requests;
	uint64_t srs_forwarded, srs_reversed, srs_refused;
} metrics;

struct spfkitd_server {
	spfkitd_gen *cur;  /* the configuration new requests get */
	spfkitd_gen *gens; /* every generation still alive, cur included */
	listener *ls;
	size_t nls;
	spfkit_list conns; /* conn.lru: every connection, by activity */
	size_t nclients;   /* policy, milter and socketmap connections */
	conn *work;        /* connections with input to look at */
	bool stdio_mode;
	bool stop;
	int sigpipe[2];
	struct pollfd *pfd;
	conn **pconn; /* pfd[i] belongs to pconn[i] (or NULL) */
	size_t pcap;
	metrics m;
	uint64_t started_ms;
	/* Out of descriptors (EMFILE, ENFILE): no accept() until then. */
	uint64_t accept_pause_until;
	/* Rate-limited log lines: what happened since the last one, and
	 * when the next may be written. */
	uint64_t fd_short_n, fd_log_next;
	uint64_t evict_n, evict_log_next;
	/* poll() refuses more descriptors than RLIMIT_NOFILE allows (the
	 * limit can be lowered under us): the limit last seen, and where the
	 * connections polled start when they must take turns. */
	size_t nofile;
	size_t poll_turn;
};

/* Milliseconds of the monotonic clock. */
uint64_t now_ms(void);

/* ------------------------------------------------------------ gen.c */

/* Drops a busy connection's hold on g (NULL: nothing). */
void gen_unref(spfkitd_gen *g);
/* Frees the generations no longer current nor used. */
void gen_reap(spfkitd_server *s);
/* Is g the first generation of the server's list with its resolver (so
 * each resolver is read and polled once)? */
bool gen_res_first(const spfkitd_server *s, const spfkitd_gen *g);
/* SIGHUP: a new configuration for new requests, if it is good. */
void gen_reload(spfkitd_server *s, const char *path);

/* ------------------------------------------------------------ srs.c */

/* Reads the srs_secrets file into a new SRS handle of g. */
bool srs_setup(spfkitd_gen *g, char *err, size_t errlen);
/* Rewrites the envelope sender a for g: SPFKIT_SRS_OK with *out (caller
 * frees with spfkit_free(g->scfg, *out)), or why not in *why. Negative:
 * the library's error. */
int srs_forward(const spfkitd_gen *g, spfkitd_view a, char **out,
		spfkit_srs_reason *why);
/* Turns an SRS address of srs_domain back into the address it stands
 * for: SPFKIT_SRS_OK with *out (caller frees with spfkit_free()),
 * SPFKIT_SRS_NOT_SRS for any other address, or why it was refused.
 * Negative: the library's error. */
int srs_reverse(const spfkitd_gen *g, spfkitd_view a, char **out,
		spfkit_srs_reason *why);
/* Was a reverse refused (rather than not one of ours)? */
bool srs_refused(int rc, spfkit_srs_reason why);
/* One log line for an SRS rewrite (out) or refusal (out NULL); how says
 * where it came from (socketmap, policy, milter). */
void srs_log(int prio, const char *how, const char *dir, spfkitd_view in,
	     const char *out, spfkit_srs_reason why);

/* ------------------------------------------------------------ conn.c */

/* A new connection on rfd/wfd from listener li (-1: none), at the end of
 * the idle order; NULL when out of memory. */
conn *conn_new(spfkitd_server *s, conn_kind kind, int rfd, int wfd, int li);
/* Closes c's socket now and marks it dead (freed at the end of the loop
 * turn): its listener has room again at once. */
void conn_close_now(spfkitd_server *s, conn *c);
/* c finished a request (or closed): its full listener may make room. */
void conn_done(spfkitd_server *s, conn *c);
/* Closes c and frees it with whatever request it was handling. */
void conn_free(spfkitd_server *s, conn *c);
/* Reallocates a buffer (*buf, *cap) to ncap bytes; false when out of
 * memory (the buffer is left as it was). */
bool buf_resize(char **buf, size_t *cap, size_t ncap);
/* Queues n bytes of output. False when out of memory (the connection is
 * then closed: a lost answer must not look like a given one). */
bool out_add(conn *c, const char *p, size_t n);
/* Sends what the socket takes now. */
void flush_out(conn *c);
/* Nothing more is read: close once the output is sent. */
void close_when_sent(conn *c);
/* The peer has sent its last bytes: what is left unread is dropped (a
 * request cut short, when partial, is logged as "WHO connection closed in
 * the middle of UNIT"), and c closes once its answers are sent. */
void conn_input_ended(conn *c, const char *who, const char *unit, bool partial);
/* Puts c on the work list (its input is looked at this loop turn). */
void work_push(spfkitd_server *s, conn *c);
/* Reads what the connection has for us. */
void read_conn(spfkitd_server *s, conn *c, uint64_t now);

/* ------------------------------------------------------------ session.c */

/* Checks the message described by c->msg with the current generation
 * and ends in session_finish(), now or when the checks are done. The
 * views of c->msg must stay put until then. */
void session_begin(spfkitd_server *s, conn *c);
/* Takes the current generation for a request of c (the clock starts). */
void session_hold(spfkitd_server *s, conn *c);
/* Ends a request with internal_error_action, logged with the cause. */
void session_internal_error(spfkitd_server *s, conn *c, const char *what,
			    int rc);
/* The request's answer is queued: its bytes are consumed, its
 * generation released, the answer sent and the next request looked at. */
void session_end(spfkitd_server *s, conn *c);
/* Drops the checks of the request in progress (queries cancelled). */
void session_drop_checks(conn *c);
/* Ends checks past their deadline. Returns ms to the next deadline. */
uint64_t session_expire(spfkitd_server *s, uint64_t now);
/* spfkit_resolver_process() callback (ud: the server). */
void session_on_answer(spfkit_check *chk, void *ud);

/* ------------------------------------------------------------ protocols */

/* Looks at a policy connection's buffered input while it is free. */
void process_policy(spfkitd_server *s, conn *c);
/* Writes a decision back as a policy reply and ends the request. */
void policy_decided(spfkitd_server *s, conn *c, spfkitd_decision *d);

/* Looks at a milter connection's buffered packets while it is free. */
void process_milter(spfkitd_server *s, conn *c);
/* Writes the MAIL FROM decision back and ends the request. */
void milter_decided(spfkitd_server *s, conn *c, spfkitd_decision *d);
/* Frees a milter connection's state (NULL: nothing). */
void milter_state_free(struct mstate *ms);

/* Looks at a socketmap connection's buffered requests. */
void process_socketmap(spfkitd_server *s, conn *c);

/* ------------------------------------------------------------ metrics.c */

/* A growable text (an HTTP answer, a response read); err sticks. */
typedef struct textbuf {
	char *s;
	size_t n, cap;
	bool err;
} textbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void tprintf(textbuf *t, const char *fmt, ...);

/* Adds one decision's latency to the histogram. */
void metrics_observe(spfkitd_server *s, uint64_t ms);
/* Answers a complete HTTP request (GET /metrics or GET /status). */
void process_http(spfkitd_server *s, conn *c);

/* ------------------------------------------------------------ listen.c */

/* The socket address of an IPv4 or IPv6 literal host and a port (the
 * endpoint parser has checked both); returns the family. */
int inet_sockaddr(const char *host, unsigned port, struct sockaddr_storage *ss,
		  socklen_t *sl);
/* The most connections listener l may have at once. */
size_t listener_cap(const spfkitd_server *s, const listener *l);
/* Accepts what waits on listener li (up to a batch): when it is full,
 * its longest idle connection is closed to make room. */
void accept_all(spfkitd_server *s, size_t li, uint64_t now);
/* Closes every listening socket, removing unix socket files. */
void listeners_close(spfkitd_server *s);

#endif /* SPFKITD_SERVER_INT_H */
