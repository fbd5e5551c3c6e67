/*
 * dnsopts.c - the DNS options of `spfkit check`, shared with `spfkit
 * message` (see dnsopts.h). The rules follow check.c, whose batch engine
 * keeps its own loop; a single check runs to its result here
 * (cli_dns_run_resolver, which check.c uses too).
 */
#include "dnsopts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "zone_yaml.h"

/* The library's default deadline (RFC 7208 §4.6.4: at least 20 s) and
 * the resolver's default per-query timeout; --timeout sets the first and
 * caps the second. */
#define DEFAULT_DEADLINE_MS      20000u
#define DEFAULT_QUERY_TIMEOUT_MS 5000u
#define TIMEOUT_MIN_MS           1u
#define TIMEOUT_MAX_MS           86400000u

struct cli_dns {
	spfkit_zone *zone;    /* --zone files, or NULL */
	spfkit_resolver *dns; /* real DNS, or NULL */
	uint32_t deadline_ms;
};

/* The monotonic clock of the library's deadline, in milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
/* One line on stderr, "prog: ...", and the given exit status. */
static int
say(int status, const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* A value quoted safely for a message (static storage, one at a time). */
static const char *shown(const char *s)
{
	static char buf[64 * 4 + 8];
	cli_escape(buf, sizeof buf, s, strlen(s), 64);
	return buf;
}

bool cli_dns_parse_timeout(const char *s, uint32_t *ms)
{
	uint64_t v = 0;
	size_t i = 0, frac = 0;
	if (s[0] < '0' || s[0] > '9')
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > TIMEOUT_MAX_MS)
			return false;
	}
	v *= 1000;
	if (s[i] == '.') {
		uint64_t scale = 100;
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, frac++) {
			if (frac >= 3)
				return false;
			v += (uint64_t)(s[i] - '0') * scale;
			scale /= 10;
		}
		if (frac == 0)
			return false;
	}
	if (s[i] != '\0' || v < TIMEOUT_MIN_MS || v > TIMEOUT_MAX_MS)
		return false;
	*ms = (uint32_t)v;
	return true;
}

bool cli_dns_nameserver_ok(const char *s)
{
	char addr[64];
	unsigned char bin[16];
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);
	if (n == 0 || n >= sizeof addr)
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    inet_pton(AF_INET6, addr, bin) != 1)
		return false;
	if (!at)
		return true;
	unsigned long port = 0;
	const char *p = at + 1;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			return false;
	}
	return *p == '\0' && port > 0;
}

const char *cli_dns_opts_problem(const cli_dns_opts *o)
{
	if ((o->recursive || o->root_hints) && o->nnameservers > 0)
		return "--recursive and --root-hints ask the root servers "
		       "themselves; drop --nameserver, or them";
	return NULL;
}

int cli_dns_configure(const cli_dns_opts *o, spfkit_config *cfg)
{
	if (!o->timeout_ms)
		return SPFKIT_OK;
	return spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DEADLINE_MS,
				       o->timeout_ms);
}

/* The exit status for a zone file that would not load. */
static int zone_status(int rc)
{
	switch (rc) {
	case SPFKIT_ENOENT:
	case SPFKIT_EIO: return CLI_EX_NOINPUT;
	case SPFKIT_EPARSE:
	case SPFKIT_ETOOBIG: return CLI_EX_DATAERR;
	default: return CLI_EX_SOFTWARE;
	}
}

/* Loads every --zone file into one zone. */
static int open_zone(const cli_dns_opts *o, const spfkit_config *cfg,
		     const char *prog, cli_dns *d)
{
	int rc = spfkit_zone_new(&d->zone, cfg);
	if (rc < 0)
		return say(CLI_EX_SOFTWARE, prog, "%s", spfkit_strerror(rc));
	for (size_t i = 0; i < o->nzones; i++) {
		char err[512] = "";
		struct stat st;
		if (stat(o->zones[i], &st) == 0 && S_ISDIR(st.st_mode))
			return say(CLI_EX_NOINPUT, prog,
				   "--zone '%s': is a directory",
				   shown(o->zones[i]));
		rc = zone_file_load(d->zone, cfg, o->zones[i], err, sizeof err);
		if (rc < 0) {
			if (err[0]) {
				char msg[sizeof err * 4 + 8];
				cli_escape(msg, sizeof msg, err,
					   strnlen(err, sizeof err),
					   sizeof err);
				return say(zone_status(rc), prog, "%s", msg);
			}
			return say(zone_status(rc), prog, "--zone '%s': %s",
				   shown(o->zones[i]), spfkit_strerror(rc));
		}
	}
	return 0;
}

/* Can path be opened for reading? For a message before any work. */
static bool readable(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	fclose(f);
	return true;
}

/* The libunbound driver as the options set it up; *out owns it. */
static int new_resolver(const cli_dns_opts *o, const spfkit_config *cfg,
			const char *prog, const spfkit_zone *zone,
			spfkit_resolver **out)
{
	int rc = spfkit_resolver_new(out, cfg);
	if (rc < 0)
		return say(CLI_EX_SOFTWARE, prog, "DNS: %s",
			   spfkit_strerror(rc));
	for (size_t i = 0; rc >= 0 && i < o->nnameservers; i++) {
		rc = spfkit_resolver_add_nameserver(*out, o->nameservers[i]);
		if (rc == SPFKIT_EINVAL)
			return say(CLI_EX_USAGE, prog,
				   "--nameserver: '%s' is not ADDR[@PORT]",
				   shown(o->nameservers[i]));
	}
	if (rc >= 0 && o->root_hints) {
		if (!readable(o->root_hints))
			return say(CLI_EX_NOINPUT, prog,
				   "--root-hints '%s': %s",
				   shown(o->root_hints), strerror(errno));
		rc = spfkit_resolver_set_root_hints(*out, o->root_hints);
	} else if (rc >= 0 && o->recursive) {
		rc = spfkit_resolver_set_recursive(*out);
	}
	if (rc >= 0 && !o->recursive && !o->root_hints &&
	    o->nnameservers == 0) {
		if (!readable("/etc/resolv.conf"))
			return say(CLI_EX_NOINPUT, prog,
				   "cannot read /etc/resolv.conf: %s (give "
				   "--nameserver ADDR[@PORT] or --recursive)",
				   strerror(errno));
		rc = spfkit_resolver_use_resolvconf(*out, NULL);
	}
	if (rc >= 0 && o->trust_anchor) {
		if (!readable(o->trust_anchor))
			return say(CLI_EX_NOINPUT, prog,
				   "--trust-anchor '%s': %s",
				   shown(o->trust_anchor), strerror(errno));
		rc = spfkit_resolver_set_trust_anchor_file(*out,
							   o->trust_anchor);
	}
	if (rc >= 0 && zone)
		rc = spfkit_resolver_set_zone(*out, zone);
	uint32_t qt = DEFAULT_QUERY_TIMEOUT_MS;
	if (o->timeout_ms && o->timeout_ms < qt)
		qt = o->timeout_ms;
	if (rc >= 0)
		rc = spfkit_resolver_set_query_timeout(*out, qt);
	if (rc < 0)
		return say(CLI_EX_SOFTWARE, prog, "DNS: %s",
			   spfkit_strerror(rc));
	return 0;
}

int cli_dns_new_resolver(const cli_dns_opts *o, const spfkit_config *cfg,
			 const char *prog, const spfkit_zone *zone,
			 spfkit_resolver **out)
{
	*out = NULL;
	int status = new_resolver(o, cfg, prog, zone, out);
	if (status != 0) {
		spfkit_resolver_free(*out);
		*out = NULL;
	}
	return status;
}

uint32_t cli_dns_deadline_ms(const cli_dns_opts *o)
{
	return o->timeout_ms ? o->timeout_ms : DEFAULT_DEADLINE_MS;
}

int cli_dns_open(const cli_dns_opts *o, const spfkit_config *cfg,
		 const char *prog, cli_dns **out)
{
	*out = NULL;
	cli_dns *d = calloc(1, sizeof *d);
	if (!d)
		return say(CLI_EX_SOFTWARE, prog, "%s",
			   spfkit_strerror(SPFKIT_ENOMEM));
	d->deadline_ms = cli_dns_deadline_ms(o);
	int status = 0;
	if (o->nzones > 0)
		status = open_zone(o, cfg, prog, d);
	/* --zone alone stays hermetic: no silent fallback to resolv.conf. */
	bool real = o->nzones == 0 || o->nnameservers > 0 || o->recursive ||
		    o->root_hints || o->trust_anchor;
	if (status == 0 && real)
		status = cli_dns_new_resolver(o, cfg, prog, d->zone, &d->dns);
	if (status != 0) {
		cli_dns_close(d);
		return status;
	}
	*out = d;
	return 0;
}

/* Milliseconds left of a check started at start (at least 1). */
static uint32_t time_left(uint64_t start, uint32_t deadline, uint64_t now)
{
	uint64_t end = start + deadline;
	return now >= end ? 1u : (uint32_t)(end - now);
}

int cli_dns_run_resolver(spfkit_resolver *dns, uint32_t deadline_ms,
			 spfkit_check *chk)
{
	uint64_t start = now_ms();
	for (;;) {
		uint64_t now = now_ms();
		int rc = spfkit_check_run(chk, now);
		if (rc == SPFKIT_DONE)
			break;
		if (rc != SPFKIT_WANT_DNS || spfkit_check_pending(chk) == 0) {
			/* An error, or a check that asks nothing would spin. */
			spfkit_resolver_cancel(dns, chk);
			return rc < 0 ? rc : SPFKIT_ESTATE;
		}
		rc = spfkit_resolver_send(dns, chk, now);
		if (rc >= 0) {
			uint32_t wait = time_left(start, deadline_ms, now);
			rc = spfkit_resolver_process(
			    dns, wait < 1000 ? wait : 1000, now, NULL, NULL);
		}
		if (rc < 0) {
			spfkit_resolver_cancel(dns, chk);
			return rc;
		}
	}
	/* Prefetched queries it no longer needs may still be in flight. */
	spfkit_resolver_cancel(dns, chk);
	return SPFKIT_OK;
}

int cli_dns_run(cli_dns *d, spfkit_check *chk)
{
	if (d->dns)
		return cli_dns_run_resolver(d->dns, d->deadline_ms, chk);
	for (;;) {
		int rc = spfkit_check_run(chk, now_ms());
		if (rc == SPFKIT_DONE)
			return SPFKIT_OK;
		if (rc != SPFKIT_WANT_DNS)
			return rc < 0 ? rc : SPFKIT_ESTATE;
		/* A check that wants DNS but asks nothing would spin. */
		if (spfkit_check_pending(chk) == 0)
			return SPFKIT_ESTATE;
		rc = spfkit_zone_answer(d->zone, chk);
		if (rc < 0)
			return rc;
	}
}

const char *cli_dns_name(const cli_dns *d)
{
	return d->dns ? "dns" : "zone";
}

void cli_dns_close(cli_dns *d)
{
	if (!d)
		return;
	spfkit_resolver_free(d->dns);
	spfkit_zone_free(d->zone);
	free(d);
}
