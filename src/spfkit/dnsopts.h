/*
 * dnsopts.h - the DNS options of `spfkit check` (--zone, --nameserver,
 * --recursive, --trust-anchor, --timeout) for other subcommands: parsing
 * their values, opening the DNS source they name, and running one check
 * to its result over it. Same rules and messages as check.c: --zone alone
 * is hermetic (the zone answers everything); any other DNS option asks
 * real DNS through libunbound after the zones.
 */
#ifndef SPFKIT_DNSOPTS_H
#define SPFKIT_DNSOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spfkit.h"

/* The DNS options as given. zones and nameservers are arrays the caller
 * allocates (one slot per argument is enough) and frees. */
typedef struct cli_dns_opts {
	const char **zones;
	size_t nzones;
	const char **nameservers; /* ADDR[@PORT], checked */
	size_t nnameservers;
	const char *trust_anchor;
	const char *root_hints; /* --root-hints (implies recursive) */
	uint32_t timeout_ms;    /* 0: the library's default */
	bool recursive;
} cli_dns_opts;

/* Seconds with up to three decimals, from 0.001 to 86400, as ms. */
bool cli_dns_parse_timeout(const char *s, uint32_t *ms);

/* ADDR[@PORT]: an IPv4 or IPv6 address, optionally '@' and a port. */
bool cli_dns_nameserver_ok(const char *s);

/* A usage problem of the combination (NULL when fine), e.g. --recursive
 * with --nameserver. */
const char *cli_dns_opts_problem(const cli_dns_opts *o);

/* Sets the deadline of --timeout in cfg. Returns an spfkit_status. */
int cli_dns_configure(const cli_dns_opts *o, spfkit_config *cfg);

/* An open DNS source. */
typedef struct cli_dns cli_dns;

/* Opens the source the options name; cfg is borrowed until
 * cli_dns_close(). Returns 0, or an exit status (64, 65, 66, 70) after
 * one line on stderr that starts with "prog: ". */
int cli_dns_open(const cli_dns_opts *o, const spfkit_config *cfg,
		 const char *prog, cli_dns **out);

/* Runs chk to its result (SPFKIT_OK) or a negative status. */
int cli_dns_run(cli_dns *d, spfkit_check *chk);

/* Runs chk to its result over the libunbound driver: run, send what it
 * asks, wait for answers, run again. Past deadline_ms the run ends it
 * (temperror); whatever it still had in flight is cancelled. */
int cli_dns_run_resolver(spfkit_resolver *dns, uint32_t deadline_ms,
			 spfkit_check *chk);

/* The libunbound driver the options name (--nameserver, --recursive,
 * --root-hints, --trust-anchor, --timeout; resolv.conf otherwise), with
 * zone (may be NULL, borrowed) answering first. Returns 0 with *out
 * owned by the caller, or an exit status after one line on stderr that
 * starts with "prog: " (*out NULL). */
int cli_dns_new_resolver(const cli_dns_opts *o, const spfkit_config *cfg,
			 const char *prog, const spfkit_zone *zone,
			 spfkit_resolver **out);

/* A check's deadline under the options, in milliseconds. */
uint32_t cli_dns_deadline_ms(const cli_dns_opts *o);

/* "zone" or "dns". */
const char *cli_dns_name(const cli_dns *d);

void cli_dns_close(cli_dns *d);

#endif /* SPFKIT_DNSOPTS_H */
