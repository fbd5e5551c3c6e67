/*
 * server.c - spfkitd's event loop (server.h). One thread polls the
 * listening sockets, every connection, the resolvers' descriptors and a
 * self-pipe for signals. Connections speak the policy protocol (policy.h),
 * the milter protocol (milter.h), Postfix's socketmap for SRS
 * (socketmap.h; answered at once, no DNS) or HTTP for metrics; each kind
 * has its process_*() function, and a message to check goes through the
 * same begin_message() / finish() whatever the protocol, which only
 * differs in how a decision is written back (policy_answer(),
 * milter_decided()). SRS (srs_domain) is a handle per generation: the
 * socketmap rewrites, the policy service refuses RCPT to forged SRS
 * addresses, the milter rewrites at the end of the message. A connection
 * handles one request at a time (Postfix waits for each answer; a client that
 * pipelines gets its answers in order): its bytes stay in the input buffer,
 * parsed in place, until the answer is queued. Checks run as the library's
 * state machines: they ask, the resolver answers (from its cache, often at
 * once), the callback runs them on. Nothing blocks but poll().
 *
 * A reload (SIGHUP) makes a new generation (configuration, library
 * config, zone, resolver) and leaves requests already being checked with
 * the old one until they finish; the old generation is freed then.
 */
#define _GNU_SOURCE /* accept4(), pipe2() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <spfkit.h>

#include "decide.h"
#include "log.h"
#include "milter.h"
#include "policy.h"
#include "server.h"
#include "socketmap.h"
#include "zone_yaml.h"

/* Input buffered per connection: a whole request at its cap, plus room
 * to see past it. */
#define IN_CAP (SPFKITD_POLICY_MAX_BYTES + 4096u)
/* Queued output past which a connection's input waits (a client that
 * sends without reading). */
#define OUT_HIGH (256u * 1024u)
/* An HTTP request larger than this is refused. */
#define HTTP_MAX 8192u
/* A secrets file larger than this is refused (32 secrets of 64 octets
 * with comments fit many times over). */
#define SRS_SECRETS_MAX (64u * 1024u)
/* SRS recipients reversed per milter message; more are left as they are
 * (and logged). */
#define MILTER_MAX_REVERSED 100u
/* Instance ids longer than this are not cached. */
#define INSTANCE_MAX 120u
/* Poll at least this often while DNS queries are in flight, so the
 * resolver times them out on time. */
#define DNS_TICK_MS 100u
/* Latency histogram bounds, in milliseconds. */
static const unsigned hist_ms[] = {1,   2,   5,    10,   25,   50,    100,
				   250, 500, 1000, 2500, 5000, 10000, 20000};
#define NHIST (sizeof hist_ms / sizeof hist_ms[0])

/* ------------------------------------------------------------ types */

struct spfkitd_gen {
	spfkitd_conf *conf;
	spfkit_config *scfg;
	spfkit_zone *zone;
	spfkit_resolver *res; /* NULL: the zone answers everything */
	spfkit_srs *srs;      /* NULL: no srs_domain */
	unsigned refs;        /* the server's, and one per busy connection */
	struct conn *run_head, *run_tail; /* running checks, oldest first */
	struct spfkitd_gen *next;         /* the server's list */
};

typedef enum conn_kind {
	CONN_POLICY = 0,
	CONN_HTTP,
	CONN_MILTER,
	CONN_SOCKETMAP
} conn_kind;

/* Which check of a request runs. */
typedef enum phase { PH_NONE = 0, PH_HELO, PH_MAILFROM } phase;

struct mstate;

typedef struct conn {
	conn_kind kind;
	struct mstate *ms; /* CONN_MILTER: the session and message */
	int rfd, wfd;
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
	bool closing; /* close once the output is sent (HTTP) */
	uint64_t last_active;
	struct conn *prev, *next; /* all connections, least recently active
				     first */
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
	struct conn *rprev, *rnext; /* g's running list */
	/* the last message's decision (RCPTs of one instance) */
	char inst[INSTANCE_MAX];
	size_t inst_len;
	bool inst_valid;
	spfkitd_action inst_action;
	char *inst_reply; /* the reply for further recipients */
} conn;

typedef struct listener {
	int fd;
	conn_kind kind;
	char *unix_path; /* unlinked at exit */
} listener;

/* Counters for /metrics (index: spfkit_result, spfkitd_action, ...). */
typedef struct metrics {
	uint64_t requests, bad_requests, oversized, cached, internal_errors;
	uint64_t results[2][SPFKITD_NRESULTS]; /* [helo, mailfrom] */
	uint64_t actions[3];
	uint64_t verdicts[3];
	uint64_t whys[SPFKITD_WHY_INTERNAL + 1];
	uint64_t hist[NHIST + 1];
	double latency_sum;
	uint64_t latency_n;
	uint64_t conns_total, conns_refused, reloads, reload_failures;
	uint64_t milter_messages, milter_bad, milter_removed;
	uint64_t srs_lookups, srs_bad_requests;
	uint64_t srs_forwarded, srs_reversed, srs_refused;
} metrics;

struct spfkitd_server {
	spfkitd_gen *cur;  /* the configuration new requests get */
	spfkitd_gen *gens; /* every generation still alive, cur included */
	listener *ls;
	size_t nls;
	conn *head, *tail;       /* every connection, by activity */
	size_t nconns, nclients; /* all; policy and milter */
	conn *work;              /* connections with input to look at */
	bool stdio_mode;
	bool stop;
	int sigpipe[2];
	struct pollfd *pfd;
	conn **pconn; /* pfd[i] belongs to pconn[i] (or NULL) */
	size_t pcap;
	metrics m;
	uint64_t started_ms;
	time_t started;
	bool cap_logged;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ generations */

void spfkitd_gen_free(spfkitd_gen *g)
{
	if (!g)
		return;
	spfkit_resolver_free(g->res);
	spfkit_srs_free(g->srs);
	spfkit_zone_free(g->zone);
	spfkit_config_free(g->scfg);
	spfkitd_conf_free(g->conf);
	free(g);
}

const spfkitd_conf *spfkitd_gen_conf(const spfkitd_gen *g)
{
	return g->conf;
}

/* Does path name a file we can open? For messages before any work. */
static bool readable(const char *path, char *err, size_t errlen,
		     const char *what)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s: %s", what, path,
			 strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* Reads the srs_secrets file into a new SRS handle of g. A file that is
 * missing, unreadable, empty or holds a secret that is too short fails
 * with a one-line message naming it. */
static bool srs_setup(spfkitd_gen *g, char *err, size_t errlen)
{
	const spfkitd_conf *conf = g->conf;
	const char *path = conf->srs_secrets;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "srs_secrets: %s: %s", path,
			 strerror(errno));
		return false;
	}
	char *buf = malloc(SRS_SECRETS_MAX + 1);
	size_t n = buf ? fread(buf, 1, SRS_SECRETS_MAX + 1, f) : 0;
	bool bad = !buf || ferror(f);
	fclose(f);
	if (bad || n > SRS_SECRETS_MAX) {
		snprintf(err, errlen, "srs_secrets: %s: %s", path,
			 !buf  ? "out of memory"
			 : bad ? "read error"
			       : "larger than 64 KiB");
		free(buf);
		return false;
	}
	char msg[256] = "";
	int rc = spfkit_srs_new(&g->srs, g->scfg);
	if (rc >= 0)
		rc = spfkit_srs_add_secrets(g->srs, buf, n, msg, sizeof msg);
	/* Wipe our copy: only the handle keeps the secrets. */
	memset(buf, 0, n);
	free(buf);
	if (rc < 0) {
		snprintf(err, errlen, "srs_secrets: %s: %s", path,
			 msg[0]                ? msg
			 : rc == SPFKIT_ENOENT ? "no secret in the file"
					       : spfkit_strerror(rc));
		return false;
	}
	rc = spfkit_srs_set_max_age(g->srs, conf->srs_max_age);
	if (rc >= 0)
		rc = spfkit_srs_set_separator(g->srs, conf->srs_separator);
	if (rc >= 0)
		rc = spfkit_srs_set_hash_length(g->srs, conf->srs_hash_length);
	if (rc < 0) {
		snprintf(err, errlen, "srs: %s", spfkit_strerror(rc));
		return false;
	}
	return true;
}

spfkitd_gen *spfkitd_gen_new(spfkitd_conf *conf, char *err, size_t errlen)
{
	spfkitd_gen *g = calloc(1, sizeof *g);
	if (!g) {
		spfkitd_conf_free(conf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->conf = conf;
	int rc = spfkit_config_new(&g->scfg, NULL);
	if (rc >= 0)
		rc = spfkit_config_set_receiver(
		    g->scfg, conf->hide_receiver ? "" : conf->receiver);
	if (rc >= 0 && conf->explanation)
		rc = spfkit_config_set_default_explanation(g->scfg,
							   conf->explanation);
	if (rc >= 0)
		rc = spfkit_config_set_limit(g->scfg, SPFKIT_LIMIT_DEADLINE_MS,
					     conf->deadline_ms);
	if (rc >= 0)
		rc = spfkit_config_set_prefetch(g->scfg, conf->prefetch);
	if (rc < 0) {
		snprintf(err, errlen, "library config: %s",
			 spfkit_strerror(rc));
		goto fail;
	}
	if (conf->srs_domain && !srs_setup(g, err, errlen))
		goto fail;
	if (conf->zone_files.n) {
		rc = spfkit_zone_new(&g->zone, g->scfg);
		if (rc < 0) {
			snprintf(err, errlen, "zone: %s", spfkit_strerror(rc));
			goto fail;
		}
		for (size_t i = 0; i < conf->zone_files.n; i++) {
			char msg[512] = "";
			rc = zone_file_load(g->zone, g->scfg,
					    conf->zone_files.v[i], msg,
					    sizeof msg);
			if (rc < 0) {
				snprintf(err, errlen, "zone_file: %s",
					 msg[0] ? msg : spfkit_strerror(rc));
				goto fail;
			}
		}
	}
	/* A zone alone answers everything (hermetic: no resolver, no
	 * /etc/resolv.conf); with a nameserver or recursion the zone only
	 * answers the names it holds. */
	if (g->zone && !conf->nameservers.n && !conf->recursive)
		return g;
	rc = spfkit_resolver_new(&g->res, g->scfg);
	for (size_t i = 0; rc >= 0 && i < conf->nameservers.n; i++)
		rc = spfkit_resolver_add_nameserver(g->res,
						    conf->nameservers.v[i]);
	if (rc >= 0 && conf->recursive)
		rc = spfkit_resolver_set_recursive(g->res);
	if (rc >= 0 && !conf->recursive && !conf->nameservers.n) {
		if (!readable("/etc/resolv.conf", err, errlen,
			      "no nameserver= given, and"))
			goto fail;
		rc = spfkit_resolver_use_resolvconf(g->res, NULL);
	}
	if (rc >= 0 && conf->trust_anchor) {
		if (!readable(conf->trust_anchor, err, errlen, "trust_anchor"))
			goto fail;
		rc = spfkit_resolver_set_trust_anchor_file(g->res,
							   conf->trust_anchor);
	}
	if (rc >= 0 && g->zone)
		rc = spfkit_resolver_set_zone(g->res, g->zone);
	if (rc >= 0)
		rc = spfkit_resolver_set_query_timeout(g->res,
						       conf->query_timeout_ms);
	if (rc < 0) {
		snprintf(err, errlen, "DNS: %s", spfkit_strerror(rc));
		goto fail;
	}
	return g;
fail:
	spfkitd_gen_free(g);
	return NULL;
}

static void gen_unref(spfkitd_server *s, spfkitd_gen *g)
{
	if (g && g->refs)
		g->refs--;
}

/* Frees the generations no longer current nor used. */
static void gen_reap(spfkitd_server *s)
{
	spfkitd_gen **pp = &s->gens;
	while (*pp) {
		spfkitd_gen *g = *pp;
		if (g != s->cur && g->refs == 0) {
			*pp = g->next;
			spfkitd_gen_free(g);
		} else {
			pp = &g->next;
		}
	}
}

/* ------------------------------------------------------------ srs */

/* Does the address (n bytes) hold a control octet? Such a result is
 * never handed to the MTA. */
static bool has_control(const char *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* Rewrites the envelope sender a for g: SPFKIT_SRS_OK with *out (caller
 * frees with spfkit_free(g->scfg, *out)), or why not in *why (a sender
 * in a local domain, the null sender and a bare local name give
 * SPFKIT_SRS_LOCAL_DOMAIN). Negative: the library's error. */
static int srs_forward(const spfkitd_gen *g, spfkitd_view a, char **out,
		       spfkit_srs_reason *why)
{
	*out = NULL;
	if (!a.ptr || spfkitd_srs_local(g->conf, a.ptr, a.len)) {
		*why = SPFKIT_SRS_LOCAL_DOMAIN;
		return SPFKIT_OK;
	}
	int rc = spfkit_srs_forward(g->srs, a.ptr, a.len, g->conf->srs_domain,
				    (uint64_t)time(NULL), out, why);
	if (rc >= 0 && *out && has_control(*out, strlen(*out))) {
		spfkit_free(g->scfg, *out);
		*out = NULL;
		*why = SPFKIT_SRS_BAD_ADDRESS;
	}
	return rc;
}

/* Is the domain of a (after its last '@') srs_domain itself (case and a
 * trailing dot aside)? Only those addresses are ours to reverse. */
static bool srs_ours(const spfkitd_conf *c, spfkitd_view a)
{
	size_t at = a.len;
	while (at && a.ptr[at - 1] != '@')
		at--;
	if (at == 0)
		return false;
	const char *d = a.ptr + at;
	size_t dn = a.len - at, sn = strlen(c->srs_domain);
	if (dn && d[dn - 1] == '.')
		dn--;
	if (sn && c->srs_domain[sn - 1] == '.')
		sn--;
	return dn == sn && strncasecmp(d, c->srs_domain, dn) == 0;
}

/* Turns an SRS address of srs_domain back into the address it stands
 * for: SPFKIT_SRS_OK with *out (caller frees with spfkit_free()),
 * SPFKIT_SRS_NOT_SRS for any other address, or why it was refused
 * (forged, stale, malformed). Negative: the library's error. */
static int srs_reverse(const spfkitd_gen *g, spfkitd_view a, char **out,
		       spfkit_srs_reason *why)
{
	*out = NULL;
	*why = SPFKIT_SRS_NOT_SRS;
	if (!a.ptr || !srs_ours(g->conf, a))
		return SPFKIT_OK;
	int rc = spfkit_srs_reverse(g->srs, a.ptr, a.len, (uint64_t)time(NULL),
				    out, why);
	if (rc >= 0 && *out && has_control(*out, strlen(*out))) {
		spfkit_free(g->scfg, *out);
		*out = NULL;
		*why = SPFKIT_SRS_MALFORMED;
	}
	return rc;
}

/* Was a reverse refused (rather than not one of ours)? */
static bool srs_refused(int rc, spfkit_srs_reason why)
{
	return rc >= 0 && why != SPFKIT_SRS_OK && why != SPFKIT_SRS_NOT_SRS;
}

/* One log line for an SRS rewrite or refusal; how says where it came
 * from (socketmap, policy, milter). */
static void srs_log(int prio, const char *how, const char *dir, spfkitd_view in,
		    const char *out, spfkit_srs_reason why)
{
	char a[320], b[320];
	spfkitd_log_escape(a, sizeof a, in.ptr, in.len);
	spfkitd_log_escape(b, sizeof b, out ? out : "", out ? strlen(out) : 0);
	if (out)
		spfkitd_log(prio, "srs %s address=<%s> result=<%s> via=%s", dir,
			    a, b, how);
	else
		spfkitd_log(prio, "srs %s address=<%s> refused=%s (%s) via=%s",
			    dir, a, spfkit_srs_reason_name(why),
			    spfkit_srs_reason_text(why), how);
}

/* ------------------------------------------------------------ connections */

static void lru_remove(spfkitd_server *s, conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	c->prev = c->next = NULL;
}

static void lru_push(spfkitd_server *s, conn *c)
{
	c->prev = s->tail;
	c->next = NULL;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
}

/* Marks activity: the connection moves to the end of the idle order. */
static void touch(spfkitd_server *s, conn *c, uint64_t now)
{
	c->last_active = now;
	if (s->tail != c) {
		lru_remove(s, c);
		lru_push(s, c);
	}
}

static void work_push(spfkitd_server *s, conn *c)
{
	if (c->queued || c->dead)
		return;
	c->queued = true;
	c->work_next = s->work;
	s->work = c;
}

static void run_remove(conn *c)
{
	spfkitd_gen *g = c->g;
	if (!g || (!c->rprev && g->run_head != c))
		return;
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else
		g->run_head = c->rnext;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	else
		g->run_tail = c->rprev;
	c->rprev = c->rnext = NULL;
}

static void run_push(conn *c)
{
	spfkitd_gen *g = c->g;
	c->rprev = g->run_tail;
	c->rnext = NULL;
	if (g->run_tail)
		g->run_tail->rnext = c;
	else
		g->run_head = c;
	g->run_tail = c;
}

/* Drops the checks of the request in progress (queries cancelled). */
static void drop_checks(conn *c)
{
	run_remove(c);
	spfkit_check **cs[2] = {&c->helo_chk, &c->mf_chk};
	for (size_t i = 0; i < 2; i++) {
		if (!*cs[i])
			continue;
		if (c->g && c->g->res)
			spfkit_resolver_cancel(c->g->res, *cs[i]);
		spfkit_check_free(*cs[i]);
		*cs[i] = NULL;
	}
	c->ph = PH_NONE;
}

static void mstate_free(struct mstate *ms);

static void conn_free(spfkitd_server *s, conn *c)
{
	drop_checks(c);
	if (c->busy)
		gen_unref(s, c->g);
	c->g = NULL;
	lru_remove(s, c);
	s->nconns--;
	if (c->kind != CONN_HTTP)
		s->nclients--;
	if (c->stdio) {
		/* The loop ends with the one connection of stdio mode. */
		s->stop = true;
	} else {
		close(c->rfd);
	}
	free(c->in);
	free(c->out);
	free(c->inst_reply);
	mstate_free(c->ms);
	free(c);
}

static conn *conn_new(spfkitd_server *s, conn_kind kind, int rfd, int wfd)
{
	conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->kind = kind;
	c->rfd = rfd;
	c->wfd = wfd;
	c->last_active = now_ms();
	lru_push(s, c);
	s->nconns++;
	if (kind != CONN_HTTP)
		s->nclients++;
	return c;
}

/* Queues n bytes of output. False when out of memory (the connection is
 * then closed: a lost answer must not look like a given one). */
static bool out_add(conn *c, const char *p, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_cap - c->out_len < n) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off,
				c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_cap - c->out_len < n) {
			size_t ncap = c->out_cap ? c->out_cap : 1024;
			while (ncap - c->out_len < n)
				ncap *= 2;
			char *b = realloc(c->out, ncap);
			if (!b) {
				c->dead = true;
				return false;
			}
			c->out = b;
			c->out_cap = ncap;
		}
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return true;
}

/* Sends what the socket takes now. */
static void flush_out(conn *c)
{
	while (c->out_off < c->out_len && !c->dead) {
		ssize_t w =
		    write(c->wfd, c->out + c->out_off, c->out_len - c->out_off);
		if (w > 0) {
			c->out_off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			c->dead = true;
		}
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing)
			c->dead = true;
	}
}

/* ------------------------------------------------------------ decisions */

/* Adds one decision's latency to the histogram. */
static void observe(spfkitd_server *s, uint64_t ms)
{
	size_t i = 0;
	while (i < NHIST && ms > hist_ms[i])
		i++;
	s->m.hist[i]++;
	s->m.latency_sum += (double)ms / 1000.0;
	s->m.latency_n++;
}

/* One log line for a decision: who, what, and how long it took. */
static void log_decision(const conn *c, const spfkitd_decision *d, uint64_t ms)
{
	char name[128], ip[64], helo[160], sender[320], rcpt[160], inst[64];
	const spfkitd_msg *m = &c->msg;
	spfkitd_log_escape(name, sizeof name, m->client_name.ptr,
			   m->client_name.len);
	spfkitd_log_escape(ip, sizeof ip, m->ip.ptr, m->ip.len);
	spfkitd_log_escape(helo, sizeof helo, m->helo.ptr, m->helo.len);
	spfkitd_log_escape(sender, sizeof sender, m->sender.ptr, m->sender.len);
	spfkitd_log_escape(rcpt, sizeof rcpt, m->recipient.ptr,
			   m->recipient.len);
	/* The milter has no instance: its queue id ({i}) stands in. */
	spfkitd_view iv =
	    c->kind == CONN_MILTER ? c->msg.queue_id : c->req.instance;
	spfkitd_log_escape(inst, sizeof inst, iv.ptr, iv.len);
	char test[64] = "";
	if (d->verdict != d->action)
		snprintf(test, sizeof test, " test_only_verdict=%s",
			 spfkitd_action_name(d->verdict));
	char reply[SPFKITD_REPLY_MAX + 32] = "";
	if (d->action != SPFKITD_ACCEPT)
		snprintf(reply, sizeof reply, " reply=\"%u %s %s\"", d->code,
			 d->ext, d->text);
	spfkitd_log(LOG_INFO,
		    "decision client=%s[%s] helo=\"%s\" sender=<%s> "
		    "recipient=<%s> instance=%s identity=%s result=%s "
		    "action=%s why=%s%s%s ms=%llu%s",
		    name, ip, helo, sender, rcpt, inst, d->identity,
		    d->checked ? spfkit_result_name(d->result) : "-",
		    spfkitd_action_name(d->action), spfkitd_why_name(d->why),
		    test, reply, (unsigned long long)ms,
		    c->kind == CONN_MILTER ? " via=milter" : "");
}

/* Queues a reply for the request in progress and ends it. */
static void answer(spfkitd_server *s, conn *c, const char *reply, size_t n)
{
	out_add(c, reply, n);
	c->in_off += c->req_len;
	c->req_len = 0;
	if (c->busy) {
		c->busy = false;
		gen_unref(s, c->g);
	}
	c->g = NULL;
	s->m.requests++;
	flush_out(c);
	work_push(s, c);
}

/* Keeps a decision for the further recipients of the same message. */
static void remember(conn *c, const spfkitd_decision *d, const char *reply,
		     size_t n)
{
	spfkitd_view inst = c->req.instance;
	c->inst_valid = false;
	if (!inst.ptr || inst.len == 0 || inst.len > sizeof c->inst)
		return;
	/* A rejection or deferral applies to every recipient; a header
	 * was added once and must not be added again. */
	const char *again =
	    d->action == SPFKITD_ACCEPT ? "action=DUNNO\n\n" : reply;
	size_t an = d->action == SPFKITD_ACCEPT ? 14 : n;
	char *r = realloc(c->inst_reply, an + 1);
	if (!r)
		return;
	memcpy(r, again, an);
	r[an] = '\0';
	c->inst_reply = r;
	memcpy(c->inst, inst.ptr, inst.len);
	c->inst_len = inst.len;
	c->inst_action = d->action;
	c->inst_valid = true;
}

/* Writes a decision back as a policy reply and ends the request. */
static void policy_answer(spfkitd_server *s, conn *c, spfkitd_decision *d)
{
	char stack[1024];
	size_t n = spfkitd_decision_policy_reply(d, stack, sizeof stack);
	char *reply = stack;
	if (n >= sizeof stack) {
		reply = malloc(n + 1);
		if (reply)
			spfkitd_decision_policy_reply(d, reply, n + 1);
	}
	if (!reply) {
		/* No room for the header: accept without it. */
		spfkitd_decision_free(d);
		reply = stack;
		n = spfkitd_decision_policy_reply(d, stack, sizeof stack);
	}
	remember(c, d, reply, n);
	answer(s, c, reply, n);
	if (reply != stack)
		free(reply);
}

static void milter_decided(spfkitd_server *s, conn *c, spfkitd_decision *d);

/* Ends a request with a decision: log, count, answer in the
 * connection's protocol. */
static void finish(spfkitd_server *s, conn *c, spfkitd_decision *d)
{
	uint64_t ms = now_ms() - c->t0;
	log_decision(c, d, ms);
	observe(s, ms);
	s->m.actions[d->action]++;
	s->m.verdicts[d->verdict]++;
	s->m.whys[d->why]++;
	if (d->why == SPFKITD_WHY_INTERNAL)
		s->m.internal_errors++;
	drop_checks(c);
	if (c->kind == CONN_MILTER)
		milter_decided(s, c, d);
	else
		policy_answer(s, c, d);
	spfkitd_decision_free(d);
}

/* Ends a request with internal_error_action, logged with the cause. */
static void internal_error(spfkitd_server *s, conn *c, const char *what, int rc)
{
	spfkitd_log(LOG_ERR, "internal error: %s: %s", what,
		    spfkit_strerror(rc));
	spfkitd_decision d;
	spfkitd_decide_internal(c->g->conf, &d);
	finish(s, c, &d);
}

/* Both checks that were wanted are done: decide. */
static void decide(spfkitd_server *s, conn *c)
{
	spfkitd_decision d;
	int rc = spfkitd_decide(c->g->conf, c->g->scfg, &c->msg, c->helo_chk,
				c->mf_chk, &d);
	if (rc < 0)
		spfkitd_log(LOG_WARNING, "header: %s (answered without it)",
			    spfkit_strerror(rc));
	if (d.checked) {
		if (c->helo_chk)
			s->m.results[0][spfkit_check_result(c->helo_chk)]++;
		if (c->mf_chk)
			s->m.results[1][spfkit_check_result(c->mf_chk)]++;
	}
	finish(s, c, &d);
}

static void start_check(spfkitd_server *s, conn *c, phase ph);

/* Runs the current check once more: it ends, or asks DNS. */
static void advance(spfkitd_server *s, conn *c, uint64_t now)
{
	spfkit_check *chk = c->ph == PH_HELO ? c->helo_chk : c->mf_chk;
	spfkitd_gen *g = c->g;
	int rc;
	if (!g->res) {
		rc = spfkit_zone_check(g->zone, chk, now);
		if (rc == SPFKIT_OK)
			rc = SPFKIT_DONE;
	} else {
		rc = spfkit_check_run(chk, now);
		if (rc == SPFKIT_WANT_DNS && spfkit_check_pending(chk) == 0)
			rc = SPFKIT_ESTATE; /* would spin */
		if (rc == SPFKIT_WANT_DNS) {
			rc = spfkit_resolver_send(g->res, chk, now);
			if (rc >= 0)
				return;
		}
		/* Prefetched queries it no longer needs may be in flight. */
		spfkit_resolver_cancel(g->res, chk);
	}
	run_remove(c);
	if (rc != SPFKIT_DONE) {
		internal_error(s, c, "running a check", rc);
		return;
	}
	if (c->ph == PH_HELO) {
		spfkit_result r = spfkit_check_result(chk);
		if (!spfkitd_helo_decides(g->conf, &c->msg, r) &&
		    spfkitd_want_mailfrom(g->conf, &c->msg)) {
			start_check(s, c, PH_MAILFROM);
			return;
		}
	}
	decide(s, c);
}

/* Creates and starts the HELO or MAIL FROM check of the request. */
static void start_check(spfkitd_server *s, conn *c, phase ph)
{
	spfkit_check *chk = NULL;
	char ip[64];
	const spfkitd_msg *m = &c->msg;
	int rc = spfkit_check_new(&chk, c->g->scfg);
	if (rc < 0) {
		internal_error(s, c, "creating a check", rc);
		return;
	}
	if (ph == PH_HELO)
		c->helo_chk = chk;
	else
		c->mf_chk = chk;
	c->ph = ph;
	/* spfkitd_decide_pre() made sure the address parses (inet_pton). */
	size_t n = m->ip.len < sizeof ip ? m->ip.len : sizeof ip - 1;
	memcpy(ip, m->ip.ptr, n);
	ip[n] = '\0';
	rc = spfkit_check_set_ip(chk, ip);
	if (rc >= 0)
		rc = spfkit_check_set_helo(chk, m->helo.ptr ? m->helo.ptr : "",
					   m->helo.len);
	if (rc >= 0)
		rc = spfkit_check_set_sender(
		    chk, m->sender.ptr ? m->sender.ptr : "", m->sender.len);
	if (rc >= 0)
		rc = spfkit_check_set_scope(chk, ph == PH_HELO
						     ? SPFKIT_SCOPE_HELO
						     : SPFKIT_SCOPE_MAILFROM);
	if (rc >= 0)
		rc = spfkit_check_set_timestamp(chk, (uint64_t)time(NULL));
	if (rc >= 0)
		rc = spfkit_check_set_userdata(chk, c);
	if (rc < 0) {
		internal_error(s, c, "setting up a check", rc);
		return;
	}
	c->check_t0 = now_ms();
	/* Nothing is pending yet: this lets the resolver answer what it
	 * holds while the check runs, from the first run on. */
	if (c->g->res) {
		rc = spfkit_resolver_send(c->g->res, chk, c->check_t0);
		if (rc < 0) {
			internal_error(s, c, "starting a check", rc);
			return;
		}
	}
	run_push(c);
	advance(s, c, c->check_t0);
}

/* Answers a request the framer or parser refused; the connection goes
 * on with the next request. */
static void refuse(spfkitd_server *s, conn *c, const char *why, size_t nattrs)
{
	spfkitd_log(LOG_WARNING,
		    "bad policy request (%s, %zu attributes, %zu bytes): "
		    "answered DUNNO",
		    why, nattrs, c->req_len);
	s->m.bad_requests++;
	answer(s, c, "action=DUNNO\n\n", 14);
}

static void begin_message(spfkitd_server *s, conn *c);

/* Handles one framed request at in[in_off, in_off + req_len). */
static void handle_request(spfkitd_server *s, conn *c)
{
	const char *p = c->in + c->in_off;
	spfkitd_policy_error e = spfkitd_policy_parse(p, c->req_len, &c->req);
	if (e != SPFKITD_POLICY_OK) {
		refuse(s, c, spfkitd_policy_strerror(e), c->req.nattrs);
		return;
	}
	const spfkitd_policy_req *r = &c->req;
	c->t0 = now_ms();
	/* Decide at MAIL or RCPT (a request without protocol_state is
	 * taken as RCPT, as from Postfix before 2.1); say nothing in other
	 * states. */
	if (r->state != SPFKITD_STATE_MAIL && r->state != SPFKITD_STATE_RCPT &&
	    r->protocol_state.ptr) {
		answer(s, c, "action=DUNNO\n\n", 14);
		return;
	}
	/* A bounce to a forged or stale SRS address of ours is refused at
	 * RCPT: recipient_canonical_maps leaves such an address as it is,
	 * and it must not be delivered as if it were a mailbox. Per
	 * recipient, before the message's cached decision. */
	if (r->state != SPFKITD_STATE_MAIL && s->cur->srs &&
	    s->cur->conf->srs_reject_forged && r->recipient.len) {
		char *orig = NULL;
		spfkit_srs_reason why;
		int rc = srs_reverse(s->cur, r->recipient, &orig, &why);
		spfkit_free(s->cur->scfg, orig);
		if (srs_refused(rc, why)) {
			char reply[512];
			int k = snprintf(reply, sizeof reply,
					 "action=550 5.1.1 SRS address "
					 "refused: %s (%s)\n\n",
					 spfkit_srs_reason_text(why),
					 spfkit_srs_reason_name(why));
			srs_log(LOG_INFO, "policy", "reverse", r->recipient,
				NULL, why);
			s->m.srs_refused++;
			answer(s, c, reply,
			       k > 0 && (size_t)k < sizeof reply ? (size_t)k
								 : 0);
			return;
		}
	}
	/* RFC 7208 §2.4: one check per message, whatever the number of
	 * recipients. */
	if (c->inst_valid && r->instance.ptr &&
	    r->instance.len == c->inst_len &&
	    memcmp(r->instance.ptr, c->inst, c->inst_len) == 0) {
		s->m.cached++;
		answer(s, c, c->inst_reply, strlen(c->inst_reply));
		return;
	}
	c->msg = (spfkitd_msg){.ip = r->client_address,
			       .client_name = r->client_name,
			       .helo = r->helo_name,
			       .sender = r->sender,
			       .recipient = r->recipient,
			       .sasl_username = r->sasl_username,
			       .queue_id = r->queue_id};
	begin_message(s, c);
}

/* Checks the message described by c->msg with the current generation
 * and ends in finish(), now or when the checks are done. The views of
 * c->msg must stay put until then. */
static void begin_message(spfkitd_server *s, conn *c)
{
	c->t0 = now_ms();
	c->g = s->cur;
	c->g->refs++;
	c->busy = true;
	const spfkitd_conf *cf = c->g->conf;
	spfkitd_why why;
	spfkitd_pre pre = spfkitd_decide_pre(cf, &c->msg, &why);
	if (pre != SPFKITD_PRE_CHECK) {
		spfkitd_decision d;
		spfkitd_decide_skip(cf, why, &d);
		finish(s, c, &d);
		return;
	}
	if (spfkitd_want_helo(cf, &c->msg))
		start_check(s, c, PH_HELO);
	else if (spfkitd_want_mailfrom(cf, &c->msg))
		start_check(s, c, PH_MAILFROM);
	else
		decide(s, c); /* nothing to check: internal_error_action */
}

/* Looks at a policy connection's buffered input while it is free. */
static void process_policy(spfkitd_server *s, conn *c)
{
	bool need_more = false;
	while (!c->busy && !c->dead && c->out_len - c->out_off < OUT_HIGH) {
		size_t n;
		const char *p = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		spfkitd_frame_status st =
		    spfkitd_policy_frame(&c->fr, p, avail, &n);
		if (st == SPFKITD_FRAME_MORE) {
			need_more = true;
			break;
		}
		if (st == SPFKITD_FRAME_DISCARD) {
			c->in_off += n;
			continue;
		}
		c->req_len = n;
		c->fr = (spfkitd_framer){0};
		if (st == SPFKITD_FRAME_OVERSIZED) {
			s->m.oversized++;
			refuse(s, c, "request over 64 KiB", 0);
			continue;
		}
		handle_request(s, c);
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->eof && !c->busy && !need_more)
		return; /* answers first: more requests are buffered */
	if (c->eof && !c->busy && c->in_off == c->in_len) {
		/* Nothing more will come; close once the answers are out. */
		c->closing = true;
		if (c->out_off == c->out_len)
			c->dead = true;
	} else if (c->eof && !c->busy) {
		spfkitd_log(LOG_WARNING,
			    "connection closed in the middle of a request "
			    "(%zu bytes dropped)",
			    c->in_len - c->in_off);
		c->in_off = c->in_len = 0;
		c->closing = true;
		if (c->out_off == c->out_len)
			c->dead = true;
	}
}

/* ------------------------------------------------------------ socketmap */

/* Answers one socketmap request: map "forward" (sender_canonical_maps)
 * or "reverse" (recipient_canonical_maps). Lookups need no DNS, so the
 * answer is written at once. */
static void socketmap_request(spfkitd_server *s, conn *c, spfkitd_view data)
{
	const spfkitd_gen *g = s->cur;
	spfkitd_view name, key;
	const char *status = "NOTFOUND";
	spfkitd_view value = {"", 0};
	char *out = NULL;
	s->m.srs_lookups++;
	if (!spfkitd_sm_split(data, &name, &key)) {
		status = "PERM";
		value = (spfkitd_view){"malformed request: NAME KEY", 27};
		s->m.srs_bad_requests++;
	} else if (!g->srs) {
		status = "TEMP";
		value = (spfkitd_view){"no srs_domain configured", 24};
	} else if (spfkitd_milter_name_eq(name, "forward") ||
		   spfkitd_milter_name_eq(name, "reverse")) {
		bool fwd = spfkitd_milter_name_eq(name, "forward");
		spfkit_srs_reason why;
		int rc = fwd ? srs_forward(g, key, &out, &why)
			     : srs_reverse(g, key, &out, &why);
		if (rc < 0) {
			status = "TEMP";
			value = (spfkitd_view){spfkit_strerror(rc),
					       strlen(spfkit_strerror(rc))};
			spfkitd_log(LOG_ERR, "srs: %s: %s",
				    fwd ? "forward" : "reverse",
				    spfkit_strerror(rc));
		} else if (out) {
			status = "OK";
			value = (spfkitd_view){out, strlen(out)};
			if (fwd)
				s->m.srs_forwarded++;
			else
				s->m.srs_reversed++;
			srs_log(LOG_INFO, "socketmap",
				fwd ? "forward" : "reverse", key, out, why);
		} else if (why == SPFKIT_SRS_TOO_LONG ||
			   (!fwd && srs_refused(rc, why))) {
			/* Left as it is (NOTFOUND), and said so: a bounce
			 * to a refused address is rejected at RCPT by the
			 * policy service (srs_reject_forged). */
			s->m.srs_refused++;
			srs_log(LOG_INFO, "socketmap",
				fwd ? "forward" : "reverse", key, NULL, why);
		}
	} else {
		status = "PERM";
		value =
		    (spfkitd_view){"unknown map name: forward or reverse", 36};
		s->m.srs_bad_requests++;
	}
	char stack[1200];
	size_t n = spfkitd_sm_reply(stack, sizeof stack, status, value);
	if (n > sizeof stack) {
		n = spfkitd_sm_reply(stack, sizeof stack, "TEMP",
				     (spfkitd_view){"reply too long", 14});
	}
	spfkit_free(g->scfg, out);
	out_add(c, stack, n);
}

/* Looks at a socketmap connection's buffered requests. A stream that is
 * not netstrings cannot be followed: it is logged and closed, as
 * Postfix closes on a malformed reply. */
static void process_socketmap(spfkitd_server *s, conn *c)
{
	while (!c->dead && !c->closing && c->out_len - c->out_off < OUT_HIGH) {
		spfkitd_view data;
		size_t total;
		spfkitd_sm_status st = spfkitd_sm_frame(
		    c->in + c->in_off, c->in_len - c->in_off, &data, &total);
		if (st == SPFKITD_SM_MORE)
			break;
		if (st == SPFKITD_SM_BAD) {
			spfkitd_log(LOG_WARNING,
				    "socketmap: not a netstring (or over %u "
				    "bytes): connection closed",
				    SPFKITD_SOCKETMAP_MAX);
			s->m.srs_bad_requests++;
			c->in_off = c->in_len = 0;
			c->closing = true;
			break;
		}
		socketmap_request(s, c, data);
		c->in_off += total;
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->eof && !c->closing) {
		if (c->in_len > c->in_off)
			spfkitd_log(LOG_WARNING,
				    "socketmap: connection closed in the "
				    "middle of a request (%zu bytes dropped)",
				    c->in_len - c->in_off);
		c->in_off = c->in_len = 0;
		c->closing = true;
	}
	flush_out(c);
	if (c->closing && c->out_off == c->out_len)
		c->dead = true;
}

/* ------------------------------------------------------------ milter */

/* Authentication-Results headers remembered for removal per message; a
 * message with more keeps the rest (and says so in the log). */
#define MILTER_MAX_FORGED 1000u

/* Bytes copied out of a packet, kept after it (NUL-terminated). */
typedef struct ostr {
	char *p;
	size_t n;
} ostr;

/* A milter connection's state: what the MTA said about the SMTP session
 * (it spans messages) and the message in progress. */
typedef struct mstate {
	bool negotiated;
	spfkitd_milter_opts opts; /* what was agreed */
	ostr ip, host, helo, auth, qid;
	ostr sender;
	char *header;          /* ours, to insert at the end of the message */
	bool keep_authres;     /* from skip_addresses: our own relays */
	bool forged_over;      /* more than MILTER_MAX_FORGED */
	uint32_t authres_seen; /* Authentication-Results headers so far */
	uint32_t *forged;      /* their indexes (1-based) to remove */
	size_t nforged;
	/* SRS (srs_milter = yes, negotiated on this connection) */
	bool srs;
	bool remote_rcpt; /* a recipient outside the local domains */
	char **rev;       /* pairs: SRS recipient, its original */
	size_t nrev;      /* pairs in rev */
} mstate;

static void ostr_clear(ostr *o)
{
	free(o->p);
	*o = (ostr){0};
}

/* Keeps a copy of v; false when out of memory (o is then empty). */
static bool ostr_set(ostr *o, spfkitd_view v)
{
	ostr_clear(o);
	char *p = malloc(v.len + 1);
	if (!p)
		return false;
	if (v.len)
		memcpy(p, v.ptr, v.len);
	p[v.len] = '\0';
	*o = (ostr){p, v.len};
	return true;
}

/* A view of a kept copy; absent (ptr NULL) when it is. */
static spfkitd_view ostr_view(const ostr *o)
{
	return (spfkitd_view){o->p, o->n};
}

/* Forgets the message in progress but its macros (a new MAIL FROM: they
 * came just before it). */
static void msg_clear(mstate *ms)
{
	for (size_t i = 0; i < 2 * ms->nrev; i++)
		free(ms->rev[i]);
	free(ms->rev);
	ms->rev = NULL;
	ms->nrev = 0;
	ms->remote_rcpt = false;
	ostr_clear(&ms->sender);
	free(ms->header);
	ms->header = NULL;
	free(ms->forged);
	ms->forged = NULL;
	ms->nforged = 0;
	ms->authres_seen = 0;
	ms->keep_authres = ms->forged_over = false;
}

/* Forgets the message in progress (its end, an abort). */
static void msg_reset(mstate *ms)
{
	msg_clear(ms);
	ostr_clear(&ms->auth);
	ostr_clear(&ms->qid);
}

/* Forgets the SMTP session too (a new connect, QUIT_NC). */
static void session_reset(mstate *ms)
{
	msg_reset(ms);
	ostr_clear(&ms->ip);
	ostr_clear(&ms->host);
	ostr_clear(&ms->helo);
}

static void mstate_free(mstate *ms)
{
	if (!ms)
		return;
	session_reset(ms);
	free(ms);
}

/* Queues one packet: cmd with the parts (k of them) as its payload. */
static void msend(conn *c, char cmd, const spfkitd_view *parts, size_t k)
{
	size_t n = 0;
	for (size_t i = 0; i < k; i++)
		n += parts[i].len;
	unsigned char head[SPFKITD_MILTER_HEAD];
	spfkitd_milter_head(head, cmd, n);
	out_add(c, (const char *)head, sizeof head);
	for (size_t i = 0; i < k; i++)
		if (parts[i].len)
			out_add(c, parts[i].ptr, parts[i].len);
}

/* Ends the packet at in[in_off, in_off + req_len): it was answered (or
 * needs no answer). */
static void milter_consume(conn *c)
{
	c->in_off += c->req_len;
	c->req_len = 0;
}

/* A stream that cannot be followed (bad length, unknown command, a
 * command out of order): logged and closed. The MTA then applies its own
 * default (Postfix milter_default_action, Sendmail's F= flags), as for a
 * libmilter filter that fails. */
static void milter_error(spfkitd_server *s, conn *c, const char *why,
			 unsigned char cmd)
{
	spfkitd_log(LOG_WARNING,
		    "milter: protocol error (%s, command 0x%02x): "
		    "connection closed",
		    why, cmd);
	s->m.milter_bad++;
	c->in_off = c->in_len = 0;
	c->req_len = 0;
	c->closing = true;
	if (c->out_off == c->out_len)
		c->dead = true;
}

/* A payload that does not parse: logged; the command is taken as
 * carrying nothing and answered, so the session goes on. */
static void milter_malformed(spfkitd_server *s, const char *what)
{
	spfkitd_log(LOG_WARNING, "milter: malformed %s: taken as empty", what);
	s->m.milter_bad++;
}

/* SMFIC_MACRO: the SASL login and the queue id are what we use. */
static void milter_macros(spfkitd_server *s, mstate *ms, spfkitd_view d)
{
	spfkitd_view v;
	bool ok = true;
	/* The MTA sends the MAIL stage's macros before each MAIL: a login
	 * holds for that message only. */
	if (d.len && d.ptr[0] == SMFIC_MAIL) {
		ostr_clear(&ms->auth);
		if (spfkitd_milter_macro(d, "auth_authen", &v) && v.len)
			ok = ostr_set(&ms->auth, v);
	}
	if (ok && spfkitd_milter_macro(d, "i", &v) && v.len)
		ok = ostr_set(&ms->qid, v);
	if (!ok)
		spfkitd_log(LOG_ERR, "milter: out of memory keeping a macro");
	(void)s;
}

/* SMFIC_CONNECT: the client's address and name. */
static void milter_connect(spfkitd_server *s, mstate *ms, spfkitd_view d)
{
	spfkitd_milter_connect ci;
	session_reset(ms);
	if (!spfkitd_milter_parse_connect(d, &ci)) {
		milter_malformed(s, "connect");
		return;
	}
	ostr_set(&ms->host, ci.host);
	/* A local (unix socket) or unknown client has no address to check:
	 * decide.c skips it (no_client_address). */
	if (ci.family == SMFIA_INET || ci.family == SMFIA_INET6)
		ostr_set(&ms->ip, ci.address);
}

/* SMFIC_HEADER: notes Authentication-Results headers that claim our
 * authserv-id. RFC 8601 §5: an MTA removes those arriving from outside
 * its ADMD, which a reader would otherwise trust as ours. */
static void milter_header(spfkitd_server *s, mstate *ms, spfkitd_view d)
{
	spfkitd_view name, value;
	if (!spfkitd_milter_parse_header(d, &name, &value)) {
		milter_malformed(s, "header");
		return;
	}
	if (!spfkitd_milter_name_eq(name, "Authentication-Results"))
		return;
	/* smfi_chgheader() counts occurrences of a name from 1. */
	ms->authres_seen++;
	const spfkitd_conf *cf = s->cur->conf;
	const char *id = cf->authserv_id ? cf->authserv_id : cf->receiver;
	if (ms->keep_authres || !spfkitd_authres_claims(value, id))
		return;
	if (ms->nforged >= MILTER_MAX_FORGED) {
		ms->forged_over = true;
		return;
	}
	uint32_t *f = realloc(ms->forged, (ms->nforged + 1) * sizeof *f);
	if (!f) {
		ms->forged_over = true;
		return;
	}
	ms->forged = f;
	f[ms->nforged++] = ms->authres_seen;
}

/* SMFIC_BODYEOB: removes the forged headers and adds ours. */
static void milter_eom(spfkitd_server *s, conn *c)
{
	mstate *ms = c->ms;
	char qid[64];
	spfkitd_log_escape(qid, sizeof qid, ms->qid.p, ms->qid.n);
	if (ms->nforged && !(ms->opts.actions & SMFIF_CHGHDRS)) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: %zu forged Authentication-Results "
			    "kept: the MTA does not allow header changes",
			    qid, ms->nforged);
	} else {
		/* Last first, so no removal moves the index of another
		 * whatever the MTA's counting. */
		for (size_t i = ms->nforged; i > 0; i--) {
			unsigned char idx[4];
			uint32_t v = ms->forged[i - 1];
			idx[0] = (unsigned char)(v >> 24);
			idx[1] = (unsigned char)(v >> 16);
			idx[2] = (unsigned char)(v >> 8);
			idx[3] = (unsigned char)v;
			/* An empty value deletes the header. */
			const spfkitd_view parts[] = {
			    {(const char *)idx, 4},
			    {"Authentication-Results", 23},
			    {"", 1}};
			msend(c, SMFIR_CHGHEADER, parts, 3);
			s->m.milter_removed++;
		}
		if (ms->nforged)
			spfkitd_log(LOG_INFO,
				    "milter: %s: removed %zu Authentication-"
				    "Results header(s) claiming our "
				    "authserv-id%s",
				    qid, ms->nforged,
				    ms->forged_over ? " (more were kept)" : "");
	}
	const char *colon = ms->header ? strchr(ms->header, ':') : NULL;
	if (colon && (ms->opts.actions & SMFIF_ADDHDRS)) {
		/* Without SMFIP_HDR_LEADSPC the MTA writes "name: value". */
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		unsigned char idx[4] = {0, 0, 0, 0}; /* before every header */
		const spfkitd_view parts[] = {
		    {(const char *)idx, 4},
		    {ms->header, (size_t)(colon - ms->header)},
		    {"", 1},
		    {v, strlen(v) + 1}};
		/* SMFIR_INSHEADER came with protocol version 6 (Sendmail
		 * 8.14, Postfix 2.6); older MTAs append. */
		if (ms->opts.version >= 6)
			msend(c, SMFIR_INSHEADER, parts, 4);
		else
			msend(c, SMFIR_ADDHEADER, parts + 1, 3);
	} else if (colon) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: header not added: the MTA does not "
			    "allow adding headers",
			    qid);
	}
}

/* Queues an envelope edit (SMFIR_CHGFROM, _DELRCPT, _ADDRCPT): the
 * address in angle brackets, as an SMTP command has it. */
static void msend_addr(conn *c, char cmd, const char *addr)
{
	const spfkitd_view parts[] = {
	    {"<", 1}, {addr, strlen(addr)}, {">", 2}}; /* with the NUL */
	msend(c, cmd, parts, 3);
}

/* Queues a reply code (SMFIR_REPLYCODE) for the command being answered. */
static void msend_reply(conn *c, unsigned code, const char *ext,
			const char *text)
{
	char buf[2 * SPFKITD_REPLY_MAX + 32];
	size_t n = spfkitd_milter_reply_text(buf, sizeof buf, code, ext, text);
	const spfkitd_view part = {buf, n + 1};
	msend(c, SMFIR_REPLYCODE, &part, 1);
}

/* A NUL-terminated copy of s (n bytes); NULL when out of memory. */
static char *copy_of(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* SMFIC_RCPT with srs_milter: notes whether the mail leaves for another
 * domain, keeps a bounce's SRS recipient and its original for the end
 * of the message, and refuses a forged or stale one (550 5.1.1 when
 * srs_reject_forged). True when it answered the command. */
static bool milter_rcpt(spfkitd_server *s, conn *c, spfkitd_view d)
{
	mstate *ms = c->ms;
	const spfkitd_gen *g = s->cur;
	spfkitd_view rcpt;
	if (!ms->srs || !g->srs)
		return false;
	if (!spfkitd_milter_parse_addr(d, &rcpt)) {
		milter_malformed(s, "RCPT TO");
		return false;
	}
	char *orig = NULL;
	spfkit_srs_reason why;
	int rc = srs_reverse(g, rcpt, &orig, &why);
	if (rc < 0) {
		spfkitd_log(LOG_ERR, "srs: reverse: %s", spfkit_strerror(rc));
		return false;
	}
	if (srs_refused(rc, why)) {
		srs_log(LOG_INFO, "milter", "reverse", rcpt, NULL, why);
		s->m.srs_refused++;
		if (!g->conf->srs_reject_forged)
			return false;
		char text[300];
		snprintf(text, sizeof text, "SRS address refused: %s (%s)",
			 spfkit_srs_reason_text(why),
			 spfkit_srs_reason_name(why));
		msend_reply(c, 550, "5.1.1", text);
		return true;
	}
	if (!orig) {
		if (!spfkitd_srs_local(g->conf, rcpt.ptr, rcpt.len))
			ms->remote_rcpt = true;
		return false;
	}
	char *a = NULL, *b = NULL;
	char **v = NULL;
	if (ms->nrev < MILTER_MAX_REVERSED) {
		a = copy_of(rcpt.ptr, rcpt.len);
		b = copy_of(orig, strlen(orig));
		v = a && b ? realloc(ms->rev, 2 * (ms->nrev + 1) * sizeof *v)
			   : NULL;
	}
	if (v) {
		ms->rev = v;
		v[2 * ms->nrev] = a;
		v[2 * ms->nrev + 1] = b;
		ms->nrev++;
	} else {
		free(a);
		free(b);
		spfkitd_log(LOG_WARNING,
			    "milter: SRS recipient left as it is (more than "
			    "%u, or out of memory)",
			    MILTER_MAX_REVERSED);
	}
	spfkit_free(g->scfg, orig);
	return false;
}

/* SMFIC_BODYEOB with srs_milter: rewrites the envelope sender of mail
 * from another domain that leaves for one (SMFIR_CHGFROM), and swaps the
 * SRS recipients of bounces for their originals (SMFIR_DELRCPT,
 * SMFIR_ADDRCPT). A sender too long to rewrite is left as it is, or the
 * message refused (srs_too_long). True when it answered the command. */
static bool milter_srs_eom(spfkitd_server *s, conn *c)
{
	mstate *ms = c->ms;
	const spfkitd_gen *g = s->cur;
	if (!ms->srs || !g->srs)
		return false;
	char qid[64];
	spfkitd_log_escape(qid, sizeof qid, ms->qid.p, ms->qid.n);
	char *out = NULL;
	spfkit_srs_reason why = SPFKIT_SRS_LOCAL_DOMAIN;
	int rc = SPFKIT_OK;
	if (ms->remote_rcpt && ms->sender.n)
		rc = srs_forward(g, ostr_view(&ms->sender), &out, &why);
	if (rc < 0)
		spfkitd_log(LOG_ERR, "milter: %s: srs: forward: %s", qid,
			    spfkit_strerror(rc));
	if (rc >= 0 && why == SPFKIT_SRS_TOO_LONG) {
		srs_log(LOG_WARNING, "milter", "forward",
			ostr_view(&ms->sender), NULL, why);
		s->m.srs_refused++;
		spfkitd_action a = g->conf->srs_too_long;
		if (a != SPFKITD_ACCEPT) {
			msend_reply(c, a == SPFKITD_REJECT ? 550 : 451,
				    a == SPFKITD_REJECT ? "5.1.7" : "4.1.7",
				    "The sender address is too long to "
				    "forward with SRS");
			return true;
		}
	}
	if (out && (ms->opts.actions & SMFIF_CHGFROM)) {
		msend_addr(c, SMFIR_CHGFROM, out);
		s->m.srs_forwarded++;
		srs_log(LOG_INFO, "milter", "forward", ostr_view(&ms->sender),
			out, why);
	} else if (out) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: sender not rewritten: the MTA does "
			    "not allow changing it",
			    qid);
	}
	spfkit_free(g->scfg, out);
	const uint32_t both = SMFIF_ADDRCPT | SMFIF_DELRCPT;
	if (ms->nrev && (ms->opts.actions & both) != both) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: %zu SRS recipient(s) not reversed: "
			    "the MTA does not allow changing recipients",
			    qid, ms->nrev);
		return false;
	}
	for (size_t i = 0; i < ms->nrev; i++) {
		msend_addr(c, SMFIR_DELRCPT, ms->rev[2 * i]);
		msend_addr(c, SMFIR_ADDRCPT, ms->rev[2 * i + 1]);
		s->m.srs_reversed++;
		const char *a = ms->rev[2 * i];
		srs_log(LOG_INFO, "milter", "reverse",
			(spfkitd_view){a, strlen(a)}, ms->rev[2 * i + 1],
			SPFKIT_SRS_OK);
	}
	return false;
}

/* SMFIC_MAIL: the sender; the checks start (the answer comes from
 * milter_decided()). */
static void milter_mail(spfkitd_server *s, conn *c, spfkitd_view d)
{
	mstate *ms = c->ms;
	spfkitd_view sender;
	msg_clear(ms);
	if (!spfkitd_milter_parse_addr(d, &sender)) {
		/* Nothing to check: let it through, as a policy request
		 * that does not parse gets DUNNO. */
		milter_malformed(s, "MAIL FROM");
		const spfkitd_view none = {NULL, 0};
		msend(c, SMFIR_CONTINUE, &none, 0);
		milter_consume(c);
		return;
	}
	if (!ostr_set(&ms->sender, sender)) {
		c->msg = (spfkitd_msg){0};
		c->t0 = now_ms();
		c->g = s->cur;
		c->g->refs++;
		c->busy = true;
		internal_error(s, c, "keeping the sender", SPFKIT_ENOMEM);
		return;
	}
	c->msg = (spfkitd_msg){.ip = ostr_view(&ms->ip),
			       .client_name = ostr_view(&ms->host),
			       .helo = ostr_view(&ms->helo),
			       .sender = ostr_view(&ms->sender),
			       .sasl_username = ostr_view(&ms->auth),
			       .queue_id = ostr_view(&ms->qid)};
	begin_message(s, c);
}

/* The MAIL FROM decision, written back: a reply code for reject and
 * defer (the MTA refuses MAIL FROM with it), continue otherwise, our
 * header kept for the end of the message. */
static void milter_decided(spfkitd_server *s, conn *c, spfkitd_decision *d)
{
	mstate *ms = c->ms;
	if (d->action == SPFKITD_ACCEPT) {
		ms->keep_authres = d->why == SPFKITD_WHY_SKIP_ADDR;
		if (d->header) {
			size_t n = strlen(d->header);
			ms->header = malloc(n + 1);
			if (ms->header)
				memcpy(ms->header, d->header, n + 1);
			else
				spfkitd_log(LOG_WARNING,
					    "milter: out of memory: message "
					    "accepted without its header");
		}
		msend(c, SMFIR_CONTINUE, NULL, 0);
	} else {
		char text[2 * SPFKITD_REPLY_MAX + 32];
		size_t n = spfkitd_milter_reply_text(text, sizeof text, d->code,
						     d->ext, d->text);
		const spfkitd_view part = {text, n + 1};
		msend(c, SMFIR_REPLYCODE, &part, 1);
	}
	milter_consume(c);
	if (c->busy) {
		c->busy = false;
		gen_unref(s, c->g);
	}
	c->g = NULL;
	s->m.milter_messages++;
	flush_out(c);
	work_push(s, c);
}

/* Handles one packet of a milter connection. */
static void milter_packet(spfkitd_server *s, conn *c, char cmd, spfkitd_view d)
{
	mstate *ms = c->ms;
	bool reply = true; /* answer SMFIR_CONTINUE */
	if (!ms->negotiated && cmd != SMFIC_OPTNEG) {
		milter_error(s, c, "command before option negotiation",
			     (unsigned char)cmd);
		return;
	}
	switch (cmd) {
	case SMFIC_OPTNEG: {
		spfkitd_milter_opts mta, ours;
		if (!spfkitd_milter_parse_optneg(d, &mta) ||
		    !spfkitd_milter_negotiate(&mta, &ours)) {
			milter_error(s, c, "option negotiation refused",
				     (unsigned char)cmd);
			return;
		}
		if (s->cur->conf->srs_milter && s->cur->srs)
			spfkitd_milter_negotiate_srs(&mta, &ours);
		unsigned char o[MILTER_OPTLEN];
		uint32_t v[3] = {ours.version, ours.actions, ours.protocol};
		for (int i = 0; i < 3; i++) {
			o[4 * i] = (unsigned char)(v[i] >> 24);
			o[4 * i + 1] = (unsigned char)(v[i] >> 16);
			o[4 * i + 2] = (unsigned char)(v[i] >> 8);
			o[4 * i + 3] = (unsigned char)v[i];
		}
		const spfkitd_view part = {(const char *)o, sizeof o};
		msend(c, SMFIC_OPTNEG, &part, 1);
		ms->negotiated = true;
		ms->opts = ours;
		ms->srs = s->cur->conf->srs_milter && s->cur->srs;
		reply = false;
		break;
	}
	case SMFIC_MACRO:
		milter_macros(s, ms, d);
		reply = false;
		break;
	case SMFIC_CONNECT: milter_connect(s, ms, d); break;
	case SMFIC_HELO: {
		spfkitd_view h;
		if (spfkitd_milter_string(&d, &h)) {
			ostr_set(&ms->helo, h);
		} else {
			ostr_clear(&ms->helo);
			milter_malformed(s, "HELO");
		}
		break;
	}
	case SMFIC_MAIL: milter_mail(s, c, d); return;
	case SMFIC_HEADER:
		milter_header(s, ms, d);
		reply = !(ms->opts.protocol & SMFIP_NR_HDR);
		break;
	case SMFIC_BODYEOB:
		if (milter_srs_eom(s, c))
			reply = false;
		else
			milter_eom(s, c);
		msg_reset(ms);
		break;
	case SMFIC_ABORT:
		msg_reset(ms);
		reply = false;
		break;
	case SMFIC_QUIT_NC:
		session_reset(ms);
		reply = false;
		break;
	case SMFIC_QUIT:
		milter_consume(c);
		c->in_off = c->in_len = 0;
		c->closing = true;
		if (c->out_off == c->out_len)
			c->dead = true;
		return;
	case SMFIC_RCPT:
		if (milter_rcpt(s, c, d))
			reply = false;
		break;
	case SMFIC_DATA:
	case SMFIC_EOH:
	case SMFIC_BODY:
	case SMFIC_UNKNOWN: break;
	default:
		/* An unknown command may or may not want an answer: guessing
		 * would put the stream out of step. libmilter closes too. */
		milter_error(s, c, "unknown command", (unsigned char)cmd);
		return;
	}
	if (reply)
		msend(c, SMFIR_CONTINUE, NULL, 0);
	milter_consume(c);
}

/* Looks at a milter connection's buffered packets while it is free. */
static void process_milter(spfkitd_server *s, conn *c)
{
	if (!c->ms) {
		c->ms = calloc(1, sizeof *c->ms);
		if (!c->ms) {
			spfkitd_log(LOG_ERR, "milter: out of memory");
			c->dead = true;
			return;
		}
	}
	bool need_more = false;
	while (!c->busy && !c->dead && !c->closing &&
	       c->out_len - c->out_off < OUT_HIGH) {
		char cmd;
		spfkitd_view d;
		size_t total;
		spfkitd_mframe_status st = spfkitd_milter_frame(
		    c->in + c->in_off, c->in_len - c->in_off, &cmd, &d, &total);
		if (st == SPFKITD_MFRAME_MORE) {
			need_more = true;
			break;
		}
		if (st == SPFKITD_MFRAME_BAD) {
			milter_error(s, c, "packet length 0 or over 64 KiB", 0);
			break;
		}
		c->req_len = total;
		milter_packet(s, c, cmd, d);
	}
	flush_out(c);
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->eof && !c->busy && !c->closing) {
		if (need_more && c->in_len > c->in_off)
			spfkitd_log(LOG_WARNING,
				    "milter: connection closed in the middle "
				    "of a packet (%zu bytes dropped)",
				    c->in_len - c->in_off);
		c->in_off = c->in_len = 0;
		c->closing = true;
		if (c->out_off == c->out_len)
			c->dead = true;
	}
}

/* ------------------------------------------------------------ metrics */

/* A growable text for an HTTP answer. */
typedef struct text {
	char *s;
	size_t n, cap;
	bool err;
} text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
tprintf(text *t, const char *fmt, ...)
{
	for (;;) {
		if (t->err)
			return;
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(t->s ? t->s + t->n : NULL,
				  t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			t->err = true;
			return;
		}
		if (t->s && (size_t)k < t->cap - t->n) {
			t->n += (size_t)k;
			return;
		}
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		while (ncap - t->n <= (size_t)k)
			ncap *= 2;
		char *b = realloc(t->s, ncap);
		if (!b) {
			t->err = true;
			return;
		}
		t->s = b;
		t->cap = ncap;
	}
}

static size_t in_flight(const spfkitd_server *s)
{
	size_t n = 0;
	for (const conn *c = s->head; c; c = c->next)
		n += c->busy;
	return n;
}

/* Resident set size in bytes, from /proc/self/statm (0 if unknown). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	return (uint64_t)res * (uint64_t)(page > 0 ? page : 4096);
}

/* The Prometheus text exposition format (version 0.0.4). */
static void metrics_text(spfkitd_server *s, text *t)
{
	const metrics *m = &s->m;
	static const char *const ids[2] = {"helo", "mailfrom"};
	tprintf(t,
		"# HELP spfkitd_requests_total Policy requests answered.\n"
		"# TYPE spfkitd_requests_total counter\n"
		"spfkitd_requests_total %llu\n",
		(unsigned long long)m->requests);
	tprintf(t,
		"# HELP spfkitd_bad_requests_total Requests refused as "
		"malformed or oversized (answered DUNNO).\n"
		"# TYPE spfkitd_bad_requests_total counter\n"
		"spfkitd_bad_requests_total %llu\n",
		(unsigned long long)m->bad_requests);
	tprintf(t,
		"# HELP spfkitd_cached_total Further recipients answered "
		"from the message's decision.\n"
		"# TYPE spfkitd_cached_total counter\n"
		"spfkitd_cached_total %llu\n",
		(unsigned long long)m->cached);
	tprintf(t, "# HELP spfkitd_results_total SPF results by identity.\n"
		   "# TYPE spfkitd_results_total counter\n");
	for (int i = 0; i < 2; i++)
		for (int r = 0; r < SPFKITD_NRESULTS; r++)
			tprintf(t,
				"spfkitd_results_total{identity=\"%s\","
				"result=\"%s\"} %llu\n",
				ids[i], spfkit_result_name((spfkit_result)r),
				(unsigned long long)m->results[i][r]);
	tprintf(t, "# HELP spfkitd_actions_total Decisions by action told "
		   "the MTA.\n"
		   "# TYPE spfkitd_actions_total counter\n");
	for (int a = 0; a < 3; a++)
		tprintf(t, "spfkitd_actions_total{action=\"%s\"} %llu\n",
			spfkitd_action_name((spfkitd_action)a),
			(unsigned long long)m->actions[a]);
	tprintf(t, "# HELP spfkitd_verdicts_total Decisions by action before "
		   "test_only.\n"
		   "# TYPE spfkitd_verdicts_total counter\n");
	for (int a = 0; a < 3; a++)
		tprintf(t, "spfkitd_verdicts_total{action=\"%s\"} %llu\n",
			spfkitd_action_name((spfkitd_action)a),
			(unsigned long long)m->verdicts[a]);
	tprintf(t, "# HELP spfkitd_decisions_total Decisions by what decided "
		   "them.\n"
		   "# TYPE spfkitd_decisions_total counter\n");
	for (int w = 0; w <= SPFKITD_WHY_INTERNAL; w++)
		tprintf(t, "spfkitd_decisions_total{why=\"%s\"} %llu\n",
			spfkitd_why_name((spfkitd_why)w),
			(unsigned long long)m->whys[w]);
	tprintf(t, "# HELP spfkitd_decision_seconds Time from request to "
		   "answer.\n"
		   "# TYPE spfkitd_decision_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t i = 0; i < NHIST; i++) {
		cum += m->hist[i];
		tprintf(t, "spfkitd_decision_seconds_bucket{le=\"%g\"} %llu\n",
			hist_ms[i] / 1000.0, (unsigned long long)cum);
	}
	cum += m->hist[NHIST];
	tprintf(t,
		"spfkitd_decision_seconds_bucket{le=\"+Inf\"} %llu\n"
		"spfkitd_decision_seconds_sum %.6f\n"
		"spfkitd_decision_seconds_count %llu\n",
		(unsigned long long)cum, m->latency_sum,
		(unsigned long long)m->latency_n);
	uint64_t sent = 0;
	for (const spfkitd_gen *g = s->gens; g; g = g->next)
		sent += g->res ? spfkit_resolver_queries_sent(g->res) : 0;
	tprintf(t,
		"# TYPE spfkitd_dns_queries_sent_total counter\n"
		"spfkitd_dns_queries_sent_total %llu\n"
		"# TYPE spfkitd_internal_errors_total counter\n"
		"spfkitd_internal_errors_total %llu\n"
		"# TYPE spfkitd_connections gauge\n"
		"spfkitd_connections %zu\n"
		"# TYPE spfkitd_connections_total counter\n"
		"spfkitd_connections_total %llu\n"
		"# TYPE spfkitd_connections_refused_total counter\n"
		"spfkitd_connections_refused_total %llu\n"
		"# TYPE spfkitd_checks_in_flight gauge\n"
		"spfkitd_checks_in_flight %zu\n"
		"# TYPE spfkitd_reloads_total counter\n"
		"spfkitd_reloads_total %llu\n"
		"# TYPE spfkitd_reload_failures_total counter\n"
		"spfkitd_reload_failures_total %llu\n"
		"# TYPE spfkitd_uptime_seconds gauge\n"
		"spfkitd_uptime_seconds %llu\n"
		"# TYPE process_resident_memory_bytes gauge\n"
		"process_resident_memory_bytes %llu\n",
		(unsigned long long)sent,
		(unsigned long long)m->internal_errors, s->nclients,
		(unsigned long long)m->conns_total,
		(unsigned long long)m->conns_refused, in_flight(s),
		(unsigned long long)m->reloads,
		(unsigned long long)m->reload_failures,
		(unsigned long long)((now_ms() - s->started_ms) / 1000u),
		(unsigned long long)rss_bytes());
	tprintf(
	    t,
	    "# HELP spfkitd_milter_messages_total MAIL FROM commands "
	    "decided for milter connections.\n"
	    "# TYPE spfkitd_milter_messages_total counter\n"
	    "spfkitd_milter_messages_total %llu\n"
	    "# HELP spfkitd_milter_errors_total Milter packets malformed or "
	    "out of protocol.\n"
	    "# TYPE spfkitd_milter_errors_total counter\n"
	    "spfkitd_milter_errors_total %llu\n"
	    "# HELP spfkitd_milter_authres_removed_total Forged "
	    "Authentication-Results headers removed.\n"
	    "# TYPE spfkitd_milter_authres_removed_total counter\n"
	    "spfkitd_milter_authres_removed_total %llu\n",
	    (unsigned long long)m->milter_messages,
	    (unsigned long long)m->milter_bad,
	    (unsigned long long)m->milter_removed);
	tprintf(t,
		"# HELP spfkitd_srs_lookups_total SRS socketmap requests.\n"
		"# TYPE spfkitd_srs_lookups_total counter\n"
		"spfkitd_srs_lookups_total %llu\n"
		"# TYPE spfkitd_srs_bad_requests_total counter\n"
		"spfkitd_srs_bad_requests_total %llu\n"
		"# HELP spfkitd_srs_rewrites_total SRS rewrites by "
		"direction, and addresses refused.\n"
		"# TYPE spfkitd_srs_rewrites_total counter\n"
		"spfkitd_srs_rewrites_total{direction=\"forward\"} %llu\n"
		"spfkitd_srs_rewrites_total{direction=\"reverse\"} %llu\n"
		"# TYPE spfkitd_srs_refused_total counter\n"
		"spfkitd_srs_refused_total %llu\n",
		(unsigned long long)m->srs_lookups,
		(unsigned long long)m->srs_bad_requests,
		(unsigned long long)m->srs_forwarded,
		(unsigned long long)m->srs_reversed,
		(unsigned long long)m->srs_refused);
}

/* The histogram bucket bound (ms) under which the fraction q of the
 * decisions fell; 0 when there were none. */
static unsigned quantile_ms(const metrics *m, double q)
{
	uint64_t total = 0, cum = 0;
	for (size_t i = 0; i <= NHIST; i++)
		total += m->hist[i];
	if (total == 0)
		return 0;
	for (size_t i = 0; i < NHIST; i++) {
		cum += m->hist[i];
		if ((double)cum >= q * (double)total)
			return hist_ms[i];
	}
	return UINT_MAX;
}

/* The one-line summary of spfkitd --status. */
static void status_text(spfkitd_server *s, text *t)
{
	const metrics *m = &s->m;
	tprintf(t,
		"spfkitd up %llus, %zu connections, %zu in flight, %llu "
		"requests (%llu cached, %llu bad), accept %llu reject %llu "
		"defer %llu",
		(unsigned long long)((now_ms() - s->started_ms) / 1000u),
		s->nclients, in_flight(s), (unsigned long long)m->requests,
		(unsigned long long)m->cached,
		(unsigned long long)m->bad_requests,
		(unsigned long long)m->actions[SPFKITD_ACCEPT],
		(unsigned long long)m->actions[SPFKITD_REJECT],
		(unsigned long long)m->actions[SPFKITD_DEFER]);
	for (int r = 0; r < SPFKITD_NRESULTS; r++)
		tprintf(t, ", %s %llu", spfkit_result_name((spfkit_result)r),
			(unsigned long long)(m->results[1][r]));
	tprintf(t, ", p50 <=%ums p99 <=%ums, rss %llu KiB\n",
		quantile_ms(m, 0.50), quantile_ms(m, 0.99),
		(unsigned long long)(rss_bytes() / 1024u));
}

/* Answers a complete HTTP request (GET /metrics or GET /status). */
static void process_http(spfkitd_server *s, conn *c)
{
	const char *p = c->in;
	size_t n = c->in_len;
	bool done = false;
	for (size_t i = 0; i + 1 < n && !done; i++)
		done = p[i] == '\n' &&
		       (p[i + 1] == '\n' ||
			(p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'));
	if (!done && !c->eof && n < HTTP_MAX)
		return;
	text body = {0};
	const char *status = "200 OK";
	if (n >= 13 && memcmp(p, "GET /metrics", 12) == 0 &&
	    (p[12] == ' ' || p[12] == '?' || p[12] == '\r' || p[12] == '\n')) {
		metrics_text(s, &body);
	} else if (n >= 12 && memcmp(p, "GET /status", 11) == 0 &&
		   (p[11] == ' ' || p[11] == '\r' || p[11] == '\n')) {
		status_text(s, &body);
	} else {
		status = "404 Not Found";
		tprintf(&body, "GET /metrics or /status\n");
	}
	if (body.err) {
		status = "500 Internal Server Error";
		body.n = 0;
	}
	char head[256];
	int k = snprintf(head, sizeof head,
			 "HTTP/1.0 %s\r\nContent-Type: text/plain; "
			 "version=0.0.4; charset=utf-8\r\nContent-Length: "
			 "%zu\r\nConnection: close\r\n\r\n",
			 status, body.n);
	out_add(c, head, (size_t)k);
	if (body.n)
		out_add(c, body.s, body.n);
	free(body.s);
	c->in_len = 0;
	c->closing = true;
	flush_out(c);
}

/* ------------------------------------------------------------ sockets */

static bool set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* The socket address of an IPv4 or IPv6 literal host and a port (the
 * endpoint parser has checked both); returns the family. */
static int inet_sockaddr(const char *host, unsigned port,
			 struct sockaddr_storage *ss, socklen_t *sl)
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

static bool add_listener(spfkitd_server *s, const char *ep, conn_kind kind,
			 uid_t uid, gid_t gid, char *err, size_t errlen)
{
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
	ls[s->nls++] = (listener){.fd = fd, .kind = kind, .unix_path = path};
	spfkitd_log(LOG_INFO, "listening on %s%s", ep,
		    kind == CONN_HTTP        ? " (metrics)"
		    : kind == CONN_MILTER    ? " (milter)"
		    : kind == CONN_SOCKETMAP ? " (SRS socketmap)"
					     : "");
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
	for (size_t i = 0; i < c->listen.n; i++)
		if (!add_listener(s, c->listen.v[i], CONN_POLICY, uid, gid, err,
				  errlen))
			return false;
	for (size_t i = 0; i < c->milter_listen.n; i++)
		if (!add_listener(s, c->milter_listen.v[i], CONN_MILTER, uid,
				  gid, err, errlen))
			return false;
	for (size_t i = 0; i < c->srs_listen.n; i++)
		if (!add_listener(s, c->srs_listen.v[i], CONN_SOCKETMAP, uid,
				  gid, err, errlen))
			return false;
	if (c->metrics_listen && !add_listener(s, c->metrics_listen, CONN_HTTP,
					       uid, gid, err, errlen))
		return false;
	return true;
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

static void accept_all(spfkitd_server *s, listener *l, uint64_t now)
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

/* Reads what the connection has for us. */
static void read_conn(spfkitd_server *s, conn *c, uint64_t now)
{
	size_t cap = c->kind == CONN_HTTP ? HTTP_MAX : IN_CAP;
	if (c->in_off && c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in_off && c->in_len == c->in_cap) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == c->in_cap && c->in_cap < cap) {
		size_t ncap = c->in_cap ? c->in_cap * 4 : 4096;
		if (ncap > cap)
			ncap = cap;
		char *b = realloc(c->in, ncap);
		if (!b) {
			c->dead = true;
			return;
		}
		c->in = b;
		c->in_cap = ncap;
	}
	if (c->in_len == c->in_cap) {
		/* Full: the framer drops oversized requests, so only an
		 * HTTP request can get here. */
		c->eof = true;
		work_push(s, c);
		return;
	}
	ssize_t r = read(c->rfd, c->in + c->in_len, c->in_cap - c->in_len);
	if (r > 0) {
		c->in_len += (size_t)r;
		touch(s, c, now);
	} else if (r == 0) {
		c->eof = true;
	} else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
		c->eof = true;
		c->dead = true;
	}
	work_push(s, c);
}

/* ------------------------------------------------------------ the loop */

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
	s->started = time(NULL);
	return s;
}

void spfkitd_server_free(spfkitd_server *s)
{
	if (!s)
		return;
	while (s->head)
		conn_free(s, s->head);
	for (size_t i = 0; i < s->nls; i++) {
		close(s->ls[i].fd);
		if (s->ls[i].unix_path) {
			unlink(s->ls[i].unix_path);
			free(s->ls[i].unix_path);
		}
	}
	free(s->ls);
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

/* SIGHUP: a new configuration for new requests, if it is good. */
static void reload(spfkitd_server *s, const char *path)
{
	char err[1024];
	spfkitd_conf *c = spfkitd_conf_load(path, err, sizeof err);
	spfkitd_gen *g = c ? spfkitd_gen_new(c, err, sizeof err) : NULL;
	if (!g) {
		s->m.reload_failures++;
		spfkitd_log(LOG_ERR,
			    "reload failed, old configuration kept: %s", err);
		return;
	}
	const spfkitd_conf *old = s->cur->conf;
	bool same = old->listen.n == g->conf->listen.n &&
		    old->milter_listen.n == g->conf->milter_listen.n &&
		    old->srs_listen.n == g->conf->srs_listen.n;
	for (size_t i = 0; same && i < old->srs_listen.n; i++)
		same =
		    strcmp(old->srs_listen.v[i], g->conf->srs_listen.v[i]) == 0;
	for (size_t i = 0; same && i < old->listen.n; i++)
		same = strcmp(old->listen.v[i], g->conf->listen.v[i]) == 0;
	for (size_t i = 0; same && i < old->milter_listen.n; i++)
		same = strcmp(old->milter_listen.v[i],
			      g->conf->milter_listen.v[i]) == 0;
	if (!same)
		spfkitd_log(LOG_WARNING, "reload: listen=, milter_listen= and "
					 "srs_listen= changes take a restart");
	if (g->conf->log != old->log ||
	    g->conf->log_facility != old->log_facility)
		spfkitd_log_open(g->conf->log, g->conf->log_facility);
	s->cur->refs--;
	g->next = s->gens;
	s->gens = g;
	s->cur = g;
	g->refs++;
	s->m.reloads++;
	spfkitd_log(LOG_INFO, "reloaded %s", path);
}

/* Ends checks past their deadline: run once more, the library gives
 * temperror (RFC 7208 §4.6.4). Returns ms to the next deadline. */
static uint64_t expire_checks(spfkitd_server *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (spfkitd_gen *g = s->gens; g; g = g->next) {
		while (g->run_head) {
			conn *c = g->run_head;
			uint64_t due = c->check_t0 + g->conf->deadline_ms;
			if (now < due) {
				if (due - now < next)
					next = due - now;
				break;
			}
			const spfkit_check *before =
			    c->ph == PH_HELO ? c->helo_chk : c->mf_chk;
			advance(s, c, now);
			const spfkit_check *after =
			    c->ph == PH_HELO ? c->helo_chk : c->mf_chk;
			if (g->run_head == c && c->busy && before == after) {
				/* Still running past its deadline. */
				internal_error(s, c, "check past its deadline",
					       SPFKIT_ESTATE);
			}
		}
	}
	return next;
}

/* Closes idle connections (not those with a request being checked).
 * Returns ms to the next one. */
static uint64_t expire_idle(spfkitd_server *s, uint64_t now)
{
	uint32_t idle = s->cur->conf->idle_timeout_ms;
	for (conn *c = s->head; c; c = c->next) {
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

/* spfkit_resolver_process() callback: answers reached a check. */
static void on_answer(spfkit_check *chk, void *ud)
{
	spfkitd_server *s = ud;
	conn *c = spfkit_check_userdata(chk);
	if (!c || !c->busy || c->dead)
		return;
	spfkit_check *cur = c->ph == PH_HELO ? c->helo_chk : c->mf_chk;
	if (cur == chk)
		advance(s, c, now_ms());
}

/* Hands every waiting answer over and works through the connections
 * with input, until nothing moves. */
static void settle(spfkitd_server *s)
{
	bool moved;
	do {
		moved = false;
		for (spfkitd_gen *g = s->gens; g; g = g->next) {
			if (!g->res || spfkit_resolver_in_flight(g->res) == 0)
				continue;
			int rc;
			while ((rc = spfkit_resolver_process(
				    g->res, 0, now_ms(), on_answer, s)) > 0)
				moved = true;
			if (rc < 0) {
				spfkitd_log(LOG_ERR, "DNS: %s",
					    spfkit_strerror(rc));
				/* Every check of this resolver fails with
				 * it. */
				while (g->run_head)
					internal_error(s, g->run_head,
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
	conn *c = s->head;
	while (c) {
		conn *next = c->next;
		if (c->dead)
			conn_free(s, c);
		c = next;
	}
	gen_reap(s);
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
		uint64_t wait = expire_checks(s, now);
		uint64_t idle = expire_idle(s, now);
		if (idle < wait)
			wait = idle;
		reap(s);
		if (s->stop)
			break;
		bool dns_busy = false;
		for (spfkitd_gen *g = s->gens; g; g = g->next)
			if (g->res && spfkit_resolver_in_flight(g->res))
				dns_busy = true;
		if (dns_busy && wait > DNS_TICK_MS)
			wait = DNS_TICK_MS;
		if (s->work)
			wait = 0;
		if (wait > 60000)
			wait = 60000;

		size_t need = 1 + s->nls + 8 + s->nconns;
		for (spfkitd_gen *g = s->gens; g; g = g->next)
			need++;
		if (!poll_room(s, need)) {
			spfkitd_log(LOG_ERR, "out of memory");
			return 1;
		}
		size_t n = 0;
		s->pfd[n] =
		    (struct pollfd){.fd = s->sigpipe[0], .events = POLLIN};
		s->pconn[n++] = NULL;
		bool room = s->nclients < s->cur->conf->max_connections;
		if (!room && !s->cap_logged) {
			spfkitd_log(LOG_WARNING,
				    "max_connections (%u) reached: new "
				    "connections wait",
				    s->cur->conf->max_connections);
			s->cap_logged = true;
		} else if (room) {
			s->cap_logged = false;
		}
		size_t lfirst = n;
		for (size_t i = 0; i < s->nls; i++) {
			bool on = s->ls[i].kind == CONN_HTTP || room;
			s->pfd[n] = (struct pollfd){.fd = on ? s->ls[i].fd : -1,
						    .events = POLLIN};
			s->pconn[n++] = NULL;
		}
		size_t gfirst = n;
		for (spfkitd_gen *g = s->gens; g; g = g->next) {
			int fd = g->res && spfkit_resolver_in_flight(g->res)
				     ? spfkit_resolver_fd(g->res)
				     : -1;
			s->pfd[n] = (struct pollfd){.fd = fd, .events = POLLIN};
			s->pconn[n++] = NULL;
		}
		size_t cfirst = n;
		for (conn *c = s->head; c; c = c->next) {
			bool want_in = !c->busy && !c->eof && !c->closing &&
				       !c->dead &&
				       c->out_len - c->out_off < OUT_HIGH;
			bool want_out = c->out_off < c->out_len && !c->dead;
			if (c->rfd == c->wfd) {
				short ev = (short)((want_in ? POLLIN : 0) |
						   (want_out ? POLLOUT : 0));
				s->pfd[n] = (struct pollfd){
				    .fd = ev ? c->rfd : -1, .events = ev};
				s->pconn[n++] = c;
			} else {
				/* stdio: input and output apart. */
				s->pfd[n] =
				    (struct pollfd){.fd = want_in ? c->rfd : -1,
						    .events = POLLIN};
				s->pconn[n++] = c;
				s->pfd[n] = (struct pollfd){
				    .fd = want_out ? c->wfd : -1,
				    .events = POLLOUT};
				s->pconn[n++] = c;
			}
		}
		int prc = poll(s->pfd, n, (int)wait);
		if (prc < 0 && errno != EINTR) {
			spfkitd_log(LOG_ERR, "poll: %s", strerror(errno));
			return 1;
		}
		now = now_ms();
		if (prc <= 0)
			continue;
		if (s->pfd[0].revents) {
			unsigned char sig[16];
			ssize_t k;
			while ((k = read(s->sigpipe[0], sig, sizeof sig)) > 0)
				for (ssize_t i = 0; i < k; i++) {
					if (sig[i] == SIGHUP)
						reload(s, config_path);
					else
						s->stop = true;
				}
		}
		for (size_t i = 0; i < s->nls; i++)
			if (s->pfd[lfirst + i].revents)
				accept_all(s, &s->ls[i], now);
		(void)gfirst; /* settle() reads every resolver */
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
	if (!s->stdio_mode)
		spfkitd_log(LOG_INFO, "stopping");
	return 0;
}

/* ------------------------------------------------------------ --status */

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
	text t = {0};
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0 && t.n < 4u << 20) {
		tprintf(&t, "%.*s", (int)r, buf);
	}
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
