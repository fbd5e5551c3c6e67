/*
 * zone.h - what the in-memory zone driver shows the rest of the project
 * beyond spfkit.h: the lookup layer on its own (for unit tests and traces)
 * and the YAML zonedata loader the RFC 7208 suite runner feeds one
 * document node at a time. Names are spfkit__zone_*.
 */
#ifndef SPFKIT_DNS_ZONE_H
#define SPFKIT_DNS_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "internal.h"

/* RFC 1034 §3.6.2 leaves CNAME chain length to the resolver; a ninth hop
 * (or a loop, which always gets there) is a temporary failure. */
#define SPFKIT__ZONE_MAX_CNAME 8

/* Resource record type 99 (RFC 4408 SPF), served as TXT by the suite rule
 * when a name has no TXT records of its own. */
#define SPFKIT__TYPE_SPF 99

/* The TTL given to YAML records, which carry none. */
#define SPFKIT__ZONE_YAML_TTL 3600u

/* The outcome of one lookup. rrs points into the zone (or into a private
 * copy when records had to be presented under another type); it is
 * borrowed until spfkit__zone_answer_free() or the next change to the zone.
 * Every record has type == the asked type. */
typedef struct spfkit__zone_answer {
	spfkit_dns_status status;
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

/* Loads openspf YAML zonedata: zonedata is a mapping node of doc (name ->
 * sequence of records, see spfkit_zone_load_file()), read the way the
 * suite's own driver (pyspf's testspf.py) reads it:
 *   - every listed name exists (NODATA, never NXDOMAIN), records or not;
 *   - TIMEOUT in a list: the types listed before it answer, every other
 *     type (and CNAME chasing, and SPF standing in for TXT) gets TEMPFAIL,
 *     and entries after it are ignored; alone, every query times out;
 *   - "TYPE: NONE" adds no record; "TXT: NONE" also keeps the name's SPF
 *     records from being served as TXT.
 * All or nothing: on
 * failure the zone is unchanged and err (if errlen > 0) holds one line,
 * "LINE: message" with the 1-based line in the YAML source. Returns
 * SPFKIT_OK, SPFKIT_EPARSE or SPFKIT_ENOMEM. doc and zonedata are
 * borrowed for the duration of the call. */
int spfkit__zone_load_yaml_node(spfkit_zone *zone, yaml_document_t *doc,
				yaml_node_t *zonedata, char *err,
				size_t errlen);

/* Number of names holding records, and of records, in the zone. */
size_t spfkit__zone_count_names(const spfkit_zone *zone);
size_t spfkit__zone_count_records(const spfkit_zone *zone);

#endif /* SPFKIT_DNS_ZONE_H */
