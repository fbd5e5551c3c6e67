/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dnsrun.h - the DNS source the options of opts.h name, and running a
 * check to its result over it. --zone alone is hermetic (the zone
 * answers everything, one check at a time); any other DNS option asks
 * real DNS through libunbound after the zones. Also the monotonic clock
 * the library's deadlines run on.
 */
#ifndef SPFKIT_SUPPORT_DNSRUN_H
#define SPFKIT_SUPPORT_DNSRUN_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"
#include "spfkit.h"

/* The monotonic clock, in milliseconds and in microseconds. */
uint64_t cli_now_ms(void);
uint64_t cli_now_us(void);

/* The wall clock in seconds since 1970 (0 before it): a check's %{t}
 * (RFC 7208 §7.2), which the library, reading no clock, is given. */
uint64_t cli_unix_time(void);

/* Milliseconds left of a check started at start_ms with deadline_ms (at
 * least 1, so a wait always ends in a new run that sees the deadline). */
uint32_t cli_time_left(uint64_t start_ms, uint32_t deadline_ms, uint64_t now);

/* An open DNS source. */
typedef struct cli_dns cli_dns;

/* Opens the source the options name; o (and its arrays) and cfg are
 * borrowed until cli_dns_close(). Returns 0, or an exit status (64, 65,
 * 66, 70) after one line on stderr that starts with "prog: ". */
int cli_dns_open(const cli_dns_opts *o, const spfkit_config *cfg,
		 const char *prog, cli_dns **out);

/* Runs chk to its result (SPFKIT_OK) or a negative status: over the
 * zone, or over libunbound within the deadline (spfkit_resolver_check). */
int cli_dns_run(cli_dns *d, spfkit_check *chk);

/* The libunbound driver the options name (--nameserver, --recursive,
 * --root-hints, --trust-anchor, --timeout; resolv.conf otherwise), with
 * zone (may be NULL, borrowed) answering first. Returns 0 with *out
 * owned by the caller, or an exit status after one line on stderr that
 * starts with "prog: " (*out NULL). */
int cli_dns_new_resolver(const cli_dns_opts *o, const spfkit_config *cfg,
			 const char *prog, const spfkit_zone *zone,
			 spfkit_resolver **out);

/* The source's libunbound driver, or NULL when the zone answers alone
 * (borrowed until cli_dns_close()). */
spfkit_resolver *cli_dns_resolver(const cli_dns *d);

/* A check's deadline under the options, in milliseconds. */
uint32_t cli_dns_deadline_ms(const cli_dns_opts *o);

/* "zone" or "dns". */
const char *cli_dns_name(const cli_dns *d);

void cli_dns_close(cli_dns *d);

#endif /* SPFKIT_SUPPORT_DNSRUN_H */
