/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone.h - what the in-memory zone driver shows the rest of the library
 * and the unit tests beyond spfkit.h: the lookup layer on its own (the
 * libunbound driver answers from it; tests and traces look at it). Names
 * are spfkit__zone_*.
 */
#ifndef SPFKIT_DNS_ZONE_H
#define SPFKIT_DNS_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* RFC 1034 §3.6.2 leaves CNAME chain length to the resolver; a ninth hop
 * (or a loop, which always gets there) is a temporary failure. */
#define SPFKIT__ZONE_MAX_CNAME 8

/* Resource record type 99 (RFC 4408 SPF), served as TXT by the suite rule
 * when a name has no TXT records of its own. */
#define SPFKIT__TYPE_SPF 99

/* The outcome of one lookup. rrs points into the zone (or into a private
 * copy when records had to be presented under another type); it is
 * borrowed until spfkit__zone_answer_free() or the next change to the zone.
 * Every record has type == the asked type. */
typedef struct spfkit__zone_answer {
	spfkit_dns_status status;
	spfkit_dns_failure failure; /* TEMPFAIL: timeout (a TIMEOUT mark) or
				       bad answer (a CNAME loop or chain) */
	const spfkit_rr *rrs;
	size_t n;
	unsigned cnames;  /* CNAMEs followed to reach the answer */
	spfkit_rr *owned; /* private: the copy to free, or NULL */
} spfkit__zone_answer;

/* Answers (name, type) from the zone: TIMEOUT names give TEMPFAIL, records
 * of the type give NOERROR with them, a CNAME is followed (at most
 * SPFKIT__ZONE_MAX_CNAME hops, else TEMPFAIL), a name that exists (has
 * records, or names below it do: an empty non-terminal) gives NODATA
 * (NOERROR, n == 0), anything else NXDOMAIN. name is NUL terminated,
 * compared case-insensitively, one trailing dot ignored. Returns SPFKIT_OK
 * (ans filled; free with spfkit__zone_answer_free) or SPFKIT_ENOMEM /
 * SPFKIT_EINVAL (ans left empty, nothing to free). */
int spfkit__zone_lookup(const spfkit_zone *zone, const char *name,
			uint16_t type, spfkit__zone_answer *ans);
/* Releases what a lookup allocated; accepts an empty answer. */
void spfkit__zone_answer_free(const spfkit_zone *zone,
			      spfkit__zone_answer *ans);

/* Number of names holding records, and of records, in the zone. */
size_t spfkit__zone_count_names(const spfkit_zone *zone);
size_t spfkit__zone_count_records(const spfkit_zone *zone);

#endif /* SPFKIT_DNS_ZONE_H */
