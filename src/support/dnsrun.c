/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsrun.c - opening the DNS source the options name and running checks
 * over it (see dnsrun.h). A batch over real DNS keeps many checks in
 * flight with its own loop (src/spfkit/check_batch.c) on the driver this
 * file sets up; everything else runs one check at a time here.
 */
#include "dnsrun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "text.h"
#include "zone_yaml.h"

/* The library's default deadline (RFC 7208 §4.6.4: at least 20 s) and
 * the resolver's default per-query timeout; --timeout sets the first and
 * caps the second. */
#define DEFAULT_DEADLINE_MS      20000u
#define DEFAULT_QUERY_TIMEOUT_MS 5000u

struct cli_dns {
	spfkit_zone *zone;        /* --zone files, or NULL */
	spfkit_resolver *dns;     /* real DNS, or NULL */
	const cli_dns_opts *opts; /* for cli_dns_renew() */
	const spfkit_config *cfg;
	const char *prog;
};

/* ------------------------------------------------------------ clock */

uint64_t cli_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cli_now_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cli_unix_time(void)
{
	time_t now = time(NULL);
	return now > 0 ? (uint64_t)now : 0;
}

uint32_t cli_time_left(uint64_t start_ms, uint32_t deadline_ms, uint64_t now)
{
	uint64_t end = start_ms + deadline_ms;
	return now >= end ? 1u : (uint32_t)(end - now);
}

/* ------------------------------------------------------------ zones */

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
		return cli_say(prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));
	for (size_t i = 0; i < o->nzones; i++) {
		char err[512] = "";
		/* A directory opens but never reads; say so up front. */
		struct stat st;
		if (stat(o->zones[i], &st) == 0 && S_ISDIR(st.st_mode))
			return cli_say(prog, CLI_EX_NOINPUT,
				       "--zone '%s': is a directory",
				       cli_shown(o->zones[i]));
		rc = zone_file_load(d->zone, cfg, o->zones[i], err, sizeof err);
		if (rc >= 0)
			continue;
		if (err[0]) {
			char msg[sizeof err * 4 + 8];
			cli_escape(msg, sizeof msg, err,
				   strnlen(err, sizeof err), sizeof err);
			return cli_say(prog, zone_status(rc), "%s", msg);
		}
		return cli_say(prog, zone_status(rc), "--zone '%s': %s",
			       cli_shown(o->zones[i]), spfkit_strerror(rc));
	}
	return 0;
}

/* ------------------------------------------------------------ resolver */

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
		return cli_say(prog, CLI_EX_SOFTWARE, "DNS: %s",
			       spfkit_strerror(rc));
	for (size_t i = 0; rc >= 0 && i < o->nnameservers; i++) {
		rc = spfkit_resolver_add_nameserver(*out, o->nameservers[i]);
		if (rc == SPFKIT_EINVAL)
			return cli_usage(
			    prog, "--nameserver: '%s' is not ADDR[@PORT]",
			    cli_shown(o->nameservers[i]));
	}
	if (rc >= 0 && o->root_hints) {
		if (!readable(o->root_hints))
			return cli_say(
			    prog, CLI_EX_NOINPUT, "--root-hints '%s': %s",
			    cli_shown(o->root_hints), strerror(errno));
		rc = spfkit_resolver_set_root_hints(*out, o->root_hints);
	} else if (rc >= 0 && o->recursive) {
		rc = spfkit_resolver_set_recursive(*out);
	}
	if (rc >= 0 && !o->recursive && !o->root_hints &&
	    o->nnameservers == 0) {
		if (!readable("/etc/resolv.conf"))
			return cli_say(prog, CLI_EX_NOINPUT,
				       "cannot read /etc/resolv.conf: %s (give "
				       "--nameserver ADDR[@PORT] or "
				       "--recursive)",
				       strerror(errno));
		rc = spfkit_resolver_use_resolvconf(*out, NULL);
	}
	if (rc >= 0 && o->trust_anchor) {
		if (!readable(o->trust_anchor))
			return cli_say(
			    prog, CLI_EX_NOINPUT, "--trust-anchor '%s': %s",
			    cli_shown(o->trust_anchor), strerror(errno));
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
		return cli_say(prog, CLI_EX_SOFTWARE, "DNS: %s",
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

/* ------------------------------------------------------------ source */

int cli_dns_open(const cli_dns_opts *o, const spfkit_config *cfg,
		 const char *prog, cli_dns **out)
{
	*out = NULL;
	cli_dns *d = calloc(1, sizeof *d);
	if (!d)
		return cli_say(prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(SPFKIT_ENOMEM));
	d->opts = o;
	d->cfg = cfg;
	d->prog = prog;
	int status = 0;
	if (o->nzones > 0)
		status = open_zone(o, cfg, prog, d);
	if (status == 0 && cli_dns_opts_real(o))
		status = cli_dns_new_resolver(o, cfg, prog, d->zone, &d->dns);
	if (status != 0) {
		cli_dns_close(d);
		return status;
	}
	*out = d;
	return 0;
}

spfkit_resolver *cli_dns_resolver(const cli_dns *d)
{
	return d->dns;
}

int cli_dns_run(cli_dns *d, spfkit_check *chk)
{
	if (d->dns)
		return spfkit_resolver_check(d->dns, chk);
	for (;;) {
		int rc = spfkit_check_run(chk, cli_now_ms());
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
