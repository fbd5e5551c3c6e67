/*
 * walk.c - the options, setup and event log `spfkit tree`, `spfkit lint`
 * and `spfkit trace` share (see walk.h). The log copies every event the
 * evaluator sends, so the commands can shape their output afterwards from
 * exactly what the evaluator did.
 */
#include "walk.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#if defined(__GNUC__)
#define WALK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WALK_PRINTF(a, b)
#endif

/* How much of a hostile value a message quotes. */
#define SHOW_MAX 64

enum {
	OPT_IP = 256,
	OPT_SENDER,
	OPT_HELO,
	OPT_SCOPE,
	OPT_ZONE,
	OPT_RECORD,
	OPT_FORMAT,
	OPT_TIMEOUT,
	OPT_NAMESERVER,
	OPT_RECURSIVE,
	OPT_ROOT_HINTS,
	OPT_TRUST_ANCHOR,
	OPT_STRICT
};

static const struct option longopts[] = {
    {"ip", required_argument, NULL, OPT_IP},
    {"sender", required_argument, NULL, OPT_SENDER},
    {"helo", required_argument, NULL, OPT_HELO},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"zone", required_argument, NULL, OPT_ZONE},
    {"record", required_argument, NULL, OPT_RECORD},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"nameserver", required_argument, NULL, OPT_NAMESERVER},
    {"recursive", no_argument, NULL, OPT_RECURSIVE},
    {"root-hints", required_argument, NULL, OPT_ROOT_HINTS},
    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* One line on stderr, "spfkit CMD: ...", and the given status. */
static int say(const walk_opts *o, int status, const char *fmt, ...)
    WALK_PRINTF(3, 4);
static int say(const walk_opts *o, int status, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", o->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* A value quoted safely for a message (static storage, one at a time). */
static const char *shown(const char *s)
{
	static char buf[SHOW_MAX * 4 + 8];
	cli_escape(buf, sizeof buf, s, strlen(s), SHOW_MAX);
	return buf;
}

static const char *opt_name(int val)
{
	for (size_t i = 0; longopts[i].name; i++)
		if (longopts[i].val == val)
			return longopts[i].name;
	return "?";
}

static bool ip_ok(const char *s)
{
	unsigned char a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Sets *dst once; a second time is a usage error. */
static bool set_once(const walk_opts *o, const char **dst, const char *v,
		     int opt, int *status)
{
	if (*dst) {
		*status =
		    say(o, CLI_EX_USAGE, "--%s given twice", opt_name(opt));
		return false;
	}
	*dst = v;
	return true;
}

/* Is an option allowed for this command? */
static bool allowed(int opt, unsigned allow)
{
	if (opt == OPT_STRICT)
		return allow & WALK_OPT_STRICT;
	return true;
}

int walk_parse(int argc, char **argv, unsigned allow, void (*help)(FILE *),
	       walk_opts *o)
{
	int status = 0;
	const char *scope = NULL, *format = NULL, *timeout = NULL;
	o->dns.zones = calloc((size_t)argc + 1, sizeof *o->dns.zones);
	o->dns.nameservers =
	    calloc((size_t)argc + 1, sizeof *o->dns.nameservers);
	if (!o->dns.zones || !o->dns.nameservers)
		return say(o, CLI_EX_SOFTWARE, "out of memory");
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, ":h", longopts, NULL);
		if (c == -1)
			break;
		if (c >= OPT_IP && !allowed(c, allow))
			return say(o, CLI_EX_USAGE,
				   "--%s does not apply to %s (try 'spfkit "
				   "help %s')",
				   opt_name(c), o->cmd, o->cmd);
		switch (c) {
		case OPT_IP:
			if (!set_once(o, &o->ip, optarg, c, &status))
				return status;
			if (!ip_ok(optarg))
				return say(o, CLI_EX_USAGE,
					   "--ip: '%s' is not an IPv4 or IPv6 "
					   "address",
					   shown(optarg));
			break;
		case OPT_SENDER:
			if (!set_once(o, &o->sender, optarg, c, &status))
				return status;
			break;
		case OPT_HELO:
			if (!set_once(o, &o->helo, optarg, c, &status))
				return status;
			break;
		case OPT_SCOPE:
			if (!set_once(o, &scope, optarg, c, &status))
				return status;
			if (strcmp(optarg, "mailfrom") == 0)
				o->scope = SPFKIT_SCOPE_MAILFROM;
			else if (strcmp(optarg, "helo") == 0)
				o->scope = SPFKIT_SCOPE_HELO;
			else
				return say(o, CLI_EX_USAGE,
					   "--scope: '%s' is not mailfrom or "
					   "helo",
					   shown(optarg));
			break;
		case OPT_ZONE: o->dns.zones[o->dns.nzones++] = optarg; break;
		case OPT_RECORD:
			if (!set_once(o, &o->record, optarg, c, &status))
				return status;
			break;
		case OPT_FORMAT:
			if (!set_once(o, &format, optarg, c, &status))
				return status;
			if (strcmp(optarg, "text") == 0)
				o->format = WALK_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = WALK_JSON;
			else if (strcmp(optarg, "dot") == 0 &&
				 (allow & WALK_OPT_DOT))
				o->format = WALK_DOT;
			else
				return say(
				    o, CLI_EX_USAGE, "--format: '%s' is not %s",
				    shown(optarg),
				    (allow & WALK_OPT_DOT) ? "text, json or dot"
							   : "text or json");
			break;
		case OPT_TIMEOUT:
			if (!set_once(o, &timeout, optarg, c, &status))
				return status;
			if (!cli_dns_parse_timeout(optarg, &o->dns.timeout_ms))
				return say(o, CLI_EX_USAGE,
					   "--timeout: '%s' is not a number "
					   "of seconds from 0.001 to 86400",
					   shown(optarg));
			break;
		case OPT_NAMESERVER:
			if (!cli_dns_nameserver_ok(optarg))
				return say(o, CLI_EX_USAGE,
					   "--nameserver: '%s' is not "
					   "ADDR[@PORT] (an IP address, e.g. "
					   "127.0.0.1@5353)",
					   shown(optarg));
			o->dns.nameservers[o->dns.nnameservers++] = optarg;
			break;
		case OPT_RECURSIVE: o->dns.recursive = true; break;
		case OPT_ROOT_HINTS:
			if (!set_once(o, &o->dns.root_hints, optarg, c,
				      &status))
				return status;
			if (optarg[0] == '\0')
				return say(o, CLI_EX_USAGE,
					   "--root-hints: the value is empty");
			break;
		case OPT_TRUST_ANCHOR:
			if (!set_once(o, &o->dns.trust_anchor, optarg, c,
				      &status))
				return status;
			if (optarg[0] == '\0')
				return say(o, CLI_EX_USAGE,
					   "--trust-anchor: the value is "
					   "empty");
			break;
		case OPT_STRICT: o->strict = true; break;
		case 'h': help(stdout); return -1;
		case ':':
			return say(o, CLI_EX_USAGE,
				   "--%s needs a value (try 'spfkit help %s')",
				   opt_name(optopt), o->cmd);
		default: { /* '?' */
			const char *arg = argv[optind - 1];
			if (optopt >= OPT_IP ||
			    (optopt == 'h' && strncmp(arg, "--", 2) == 0))
				return say(o, CLI_EX_USAGE,
					   "--%s takes no value",
					   opt_name(optopt));
			if (optopt != 0) {
				char opt[2] = {(char)optopt, '\0'};
				return say(o, CLI_EX_USAGE,
					   "unknown option '-%s' (try 'spfkit "
					   "help %s')",
					   shown(opt), o->cmd);
			}
			return say(o, CLI_EX_USAGE,
				   "unknown or ambiguous option '%s' (try "
				   "'spfkit help %s')",
				   shown(arg), o->cmd);
		}
		}
	}
	if (optind < argc)
		o->domain = argv[optind++];
	if (optind < argc)
		return say(o, CLI_EX_USAGE,
			   "unexpected argument '%s' (try 'spfkit help %s')",
			   shown(argv[optind]), o->cmd);
	if (o->domain && (o->sender || o->helo))
		return say(o, CLI_EX_USAGE,
			   "give DOMAIN, or --sender/--helo, not both");
	if ((allow & WALK_OPT_NEEDIP) && !o->ip)
		return say(o, CLI_EX_USAGE,
			   "--ip IP is required (try 'spfkit help %s')",
			   o->cmd);
	if (o->scope == SPFKIT_SCOPE_HELO && !o->helo)
		return say(o, CLI_EX_USAGE, "--scope helo needs --helo NAME");
	if (!o->domain && !o->sender && !o->helo && !o->record)
		return say(o, CLI_EX_USAGE,
			   "give a DOMAIN, --sender ADDR or --record TEXT "
			   "(try 'spfkit help %s')",
			   o->cmd);
	if (o->sender && !o->sender[0] && !o->helo)
		return say(o, CLI_EX_USAGE,
			   "the null sender checks the HELO name: give "
			   "--helo NAME");
	const char *problem = cli_dns_opts_problem(&o->dns);
	if (problem)
		return say(o, CLI_EX_USAGE, "%s", problem);
	return 0;
}

void walk_opts_free(walk_opts *o)
{
	free(o->dns.zones);
	free(o->dns.nameservers);
	o->dns.zones = NULL;
	o->dns.nameservers = NULL;
}

/* ------------------------------------------------------------ the log */

static uint64_t now_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A NUL-terminated copy of (s, n); NULL for NULL. */
static char *copy(walk_log *l, const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = malloc(n + 1);
	if (!p) {
		l->oom = true;
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* The microseconds between the QUERY of id and now. */
static uint64_t since_query(const walk_log *l, unsigned id, uint64_t now)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].ev.kind == SPFKIT_EVENT_QUERY &&
		    l->v[i].ev.query_id == id)
			return now >= l->v[i].us ? now - l->v[i].us : 0;
	return 0;
}

/* The QUERY-to-ANSWER time of query id, once answered. */
static uint64_t answer_time(const walk_log *l, unsigned id)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].ev.kind == SPFKIT_EVENT_ANSWER &&
		    l->v[i].ev.query_id == id)
			return l->v[i].elapsed;
	return 0;
}

/* Logs one event with everything it points to. */
static void log_event(walk_log *l, const spfkit_event *ev)
{
	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		walk_ev *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv) {
			l->oom = true;
			return;
		}
		l->v = nv;
		l->cap = nc;
	}
	uint64_t now = now_us();
	walk_ev *w = &l->v[l->n];
	memset(w, 0, sizeof *w);
	w->ev = *ev;
	w->us = now >= l->start_us ? now - l->start_us : 0;
	spfkit_event *e = &w->ev;
	e->via = copy(l, ev->via, ev->via ? strlen(ev->via) : 0);
	e->domain = copy(l, ev->domain, ev->domain ? strlen(ev->domain) : 0);
	e->text = copy(l, ev->text, ev->text_len);
	e->mechanism =
	    copy(l, ev->mechanism, ev->mechanism ? strlen(ev->mechanism) : 0);
	e->name = copy(l, ev->name, ev->name ? strlen(ev->name) : 0);
	e->addr = NULL;
	if (ev->addr && (ev->family == 4 || ev->family == 6)) {
		/* Its own block: the log's array moves as it grows. */
		unsigned char *a = malloc(16);
		if (!a) {
			l->oom = true;
		} else {
			memset(a, 0, 16);
			memcpy(a, ev->addr, ev->family == 4 ? 4 : 16);
			e->addr = a;
		}
	}
	e->items = NULL;
	if (ev->kind == SPFKIT_EVENT_LOOKUP && ev->nitems) {
		spfkit_event_item *items = calloc(ev->nitems, sizeof *items);
		if (!items) {
			l->oom = true;
		} else {
			for (size_t i = 0; i < ev->nitems; i++) {
				items[i].data = copy(l, ev->items[i].data,
						     ev->items[i].len);
				items[i].len = ev->items[i].len;
			}
			e->items = items;
		}
	} else if (ev->kind == SPFKIT_EVENT_LOOKUP) {
		e->nitems = 0;
	}
	if (ev->kind == SPFKIT_EVENT_ANSWER)
		w->elapsed = since_query(l, ev->query_id, w->us);
	if (ev->kind == SPFKIT_EVENT_LOOKUP)
		w->elapsed = answer_time(l, ev->query_id);
	l->n++;
}

static void on_event(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	walk_run *run = ud;
	log_event(&run->log, ev);
	if (run->extra)
		run->extra(chk, ev, run->extra_ud);
}

static void free_log(walk_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		spfkit_event *e = &l->v[i].ev;
		free((char *)e->via);
		free((char *)e->domain);
		free((char *)e->text);
		free((char *)e->mechanism);
		free((char *)e->name);
		free((unsigned char *)e->addr);
		if (e->items) {
			for (size_t k = 0; k < e->nitems; k++)
				free(e->items[k].data);
			free((spfkit_event_item *)e->items);
		}
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

int walk_check(const walk_opts *o, bool walk, walk_run *run)
{
	int rc = spfkit_config_new(&run->cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(&o->dns, run->cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_new(&run->chk, run->cfg);
	if (rc < 0)
		return say(o, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	int status = cli_dns_open(&o->dns, run->cfg, o->prog, &run->dns);
	if (status)
		return status;

	spfkit_check *chk = run->chk;
	rc = spfkit_check_set_ip(chk, o->ip ? o->ip : WALK_DEFAULT_IP);
	char *sender = NULL;
	if (rc == SPFKIT_OK && o->sender) {
		rc = spfkit_check_set_sender(chk, o->sender, strlen(o->sender));
	} else if (rc == SPFKIT_OK && !o->helo) {
		/* DOMAIN: the check's identity is postmaster@DOMAIN. */
		const char *d = o->domain ? o->domain : WALK_DRAFT_DOMAIN;
		size_t n = strlen(d) + 12;
		sender = malloc(n);
		if (!sender)
			rc = SPFKIT_ENOMEM;
		else {
			snprintf(sender, n, "postmaster@%s", d);
			rc = spfkit_check_set_sender(chk, sender,
						     strlen(sender));
		}
	}
	free(sender);
	if (rc == SPFKIT_OK && o->helo)
		rc = spfkit_check_set_helo(chk, o->helo, strlen(o->helo));
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_scope(chk, o->scope);
	if (rc == SPFKIT_OK && o->record)
		rc = spfkit_check_set_record(chk, o->record, strlen(o->record));
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_walk(chk, walk);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_events(chk, on_event, run);
	if (rc == SPFKIT_ETOOBIG)
		return say(o, CLI_EX_USAGE, "an argument is over 64 KiB");
	if (rc < 0)
		return say(o, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	run->log.start_us = now_us();
	rc = cli_dns_run(run->dns, chk);
	if (rc < 0)
		return say(o, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	if (run->log.oom)
		return say(o, CLI_EX_SOFTWARE, "out of memory");
	return 0;
}

void walk_run_free(walk_run *run)
{
	spfkit_check_free(run->chk);
	cli_dns_close(run->dns);
	spfkit_config_free(run->cfg);
	free_log(&run->log);
	run->chk = NULL;
	run->dns = NULL;
	run->cfg = NULL;
}

/* ------------------------------------------------------------ names */

const char *walk_kind_name(spfkit_event_kind k)
{
	static const char *const names[] = {
	    "query", "answer",   "frame",     "record",  "term",  "lookup",
	    "void",  "term_end", "frame_end", "problem", "result"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const char *walk_type_name(uint16_t type)
{
	switch (type) {
	case SPFKIT_TYPE_A: return "A";
	case SPFKIT_TYPE_AAAA: return "AAAA";
	case SPFKIT_TYPE_MX: return "MX";
	case SPFKIT_TYPE_TXT: return "TXT";
	case SPFKIT_TYPE_PTR: return "PTR";
	case SPFKIT_TYPE_CNAME: return "CNAME";
	default: return "?";
	}
}

const char *walk_status_name(spfkit_dns_status s)
{
	switch (s) {
	case SPFKIT_DNS_NOERROR: return "NOERROR";
	case SPFKIT_DNS_NXDOMAIN: return "NXDOMAIN";
	default: return "TEMPFAIL";
	}
}

/* ------------------------------------------------------------ output */

void walk_put(FILE *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			putc(c, f);
		} else {
			fputs("\\x", f);
			putc(hex[c >> 4], f);
			putc(hex[c & 15], f);
		}
	}
}

/* An address item as text into buf; false when it is not one. */
static bool item_addr(uint16_t type, const spfkit_event_item *it, char *buf,
		      size_t cap)
{
	if (type == SPFKIT_TYPE_A && it->len == 4)
		return inet_ntop(AF_INET, it->data, buf, (socklen_t)cap);
	if (type == SPFKIT_TYPE_AAAA && it->len == 16)
		return inet_ntop(AF_INET6, it->data, buf, (socklen_t)cap);
	return false;
}

void walk_put_item(FILE *f, uint16_t type, const spfkit_event_item *it)
{
	char buf[64];
	if (item_addr(type, it, buf, sizeof buf)) {
		fputs(buf, f);
	} else if (type == SPFKIT_TYPE_MX && it->len == 0) {
		fputs(". (null MX)", f);
	} else if (type == SPFKIT_TYPE_TXT) {
		putc('"', f);
		walk_put(f, it->data, it->len);
		putc('"', f);
	} else {
		walk_put(f, it->data, it->len);
	}
}

void walk_json_item(FILE *f, uint16_t type, const spfkit_event_item *it)
{
	char buf[64];
	if (item_addr(type, it, buf, sizeof buf))
		cli_json_string(f, buf, strlen(buf));
	else
		cli_json_string(f, it->data, it->len);
}

void walk_json_str(FILE *f, const char *s)
{
	if (s)
		cli_json_string(f, s, strlen(s));
	else
		fputs("null", f);
}
