/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc.h - a DMARC policy discovery run for `spfkit dmarc` and the DMARC
 * section of `spfkit report`: the library's discovery (RFC 9989 tree walk,
 * or RFC 7489's way with the public suffix list) over the DNS source the
 * options name, with every query it made and the findings of its lint
 * kept for the output.
 */
#ifndef SPFKIT_CMD_DMARC_H
#define SPFKIT_CMD_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dnsrun.h"
#include "opts.h"
#include "spfkit.h"

/* One DNS query of the discovery, as its events showed it. */
typedef struct dm_query {
	char *name;
	uint16_t type;
	bool answered;
	spfkit_dns_status status;
	spfkit_dns_failure failure;
	size_t nitems;
} dm_query;

/* One lint finding, copied out of the callback. */
typedef struct dm_find {
	spfkit_severity severity;
	const char *code, *rfc; /* static strings of the library */
	char *domain, *message, *fix, *record, *replacement;
	size_t record_len, pos, len, replacement_len;
} dm_find;

/* A finished discovery: the check stays open for its policy. */
typedef struct dm_run {
	spfkit_config *cfg;
	spfkit_check *chk;
	const spfkit_dmarc_policy *pol;
	bool psl; /* RFC 7489 discovery with the public suffix list */
	dm_query *q;
	size_t nq, capq;
	dm_find *f;
	size_t nf, capf;
	bool oom;
} dm_run;

/* Finds DOMAIN's policy over the DNS source dns names (tree walk, or
 * with psl the public suffix list's organizational domain), with its
 * queries and findings. prog starts messages. Returns 0, or an exit
 * status after a one-line message (64 for a name that is not a domain);
 * run is freed with dm_run_free() either way. */
int dm_discover(const char *prog, const cli_dns_opts *dns, const char *domain,
		bool psl, dm_run *run);
void dm_run_free(dm_run *run);

#endif /* SPFKIT_CMD_DMARC_H */
