/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc.h - what the DMARC files of the library share (dmarc.c: the
 * discovery as a kind of check; dmarc_record.c: the record's grammar;
 * dmarc_lint.c: findings). Internal to libspfkit (names spfkit__dmarc_*);
 * unit tests may include it.
 */
#ifndef SPFKIT_DMARC_H
#define SPFKIT_DMARC_H

#include "api.h"

/* RFC 9989 §4.10: a walk never asks more than eight _dmarc names. */
#define SPFKIT__DMARC_MAX_WALK 8

/* One tag-spec of a record (RFC 9989 §4.8: dmarc-sep, dmarc-tag), as
 * offsets into the record text. */
typedef struct spfkit__dmarc_tag {
	size_t pos, len;   /* the tag-spec, without the WSP around it */
	size_t npos, nlen; /* its name (before '=', WSP trimmed) */
	size_t vpos, vlen; /* its value (after '=', WSP trimmed) */
	bool has_eq;       /* an '=' was there at all */
	bool name_ok;      /* the name is 1*ALPHA */
} spfkit__dmarc_tag;

/* A record's tags as a receiver reads them (§4.7, §4.8): the first of a
 * repeated tag counts, a value that is not valid is as if absent (its
 * _bad flag says it was there). */
typedef struct spfkit__dmarc_rec {
	spfkit_dmarc_disp p, sp, np;
	bool p_bad, sp_bad, np_bad; /* present, not a dmarc-request */
	char adkim, aspf;           /* 'r' or 's' */
	char psd;                   /* 'y', 'n' or 'u' */
	bool testing;               /* t=y */
	bool rua_ok; /* rua= holds at least one syntactically valid URI */
} spfkit__dmarc_rec;

/* dmarc_record.c */

/* Does (s, n) start as a DMARC record must (§4.7: "v" first, §4.8:
 * "v" *WSP "=" *WSP %s"DMARC1", then the end or a dmarc-sep)? Other TXT
 * records at a _dmarc name are not DMARC records and are ignored. */
bool spfkit__dmarc_is_record(const char *s, size_t n);
/* Where the tags after the version start (only for a record). */
size_t spfkit__dmarc_after_version(const char *s, size_t n);
/* The next tag-spec of (s, n) from *cur (start at
 * spfkit__dmarc_after_version()); empty ones (";;") are skipped. False at
 * the end. */
bool spfkit__dmarc_next_tag(const char *s, size_t n, size_t *cur,
			    spfkit__dmarc_tag *t);
/* The next URI of a dmarc-urilist (s, n) from *cur (start at 0): its
 * offset and length, WSP around it trimmed (§4.8: *WSP "," *WSP between
 * them). False at the end. */
bool spfkit__dmarc_next_uri(const char *s, size_t n, size_t *cur, size_t *pos,
			    size_t *len);
/* Reads the record's tags (§4.7 defaults for those absent). */
void spfkit__dmarc_parse(const char *s, size_t n, spfkit__dmarc_rec *r);
/* A dmarc-request ("none", "quarantine", "reject", any case), or UNSET. */
spfkit_dmarc_disp spfkit__dmarc_request(const char *s, size_t n);
/* Is (s, n) one dmarc-uri, or an obs-dmarc-uri with its "!size" (§4.8)?
 * *obs (may be NULL) is set when the size suffix is there. */
bool spfkit__dmarc_uri_ok(const char *s, size_t n, bool *obs);
/* Is (s, n) a dmarc-fo (§4.8)? */
bool spfkit__dmarc_fo_ok(const char *s, size_t n);
/* Is the tag name (s, n) the literal name (any case)? */
bool spfkit__dmarc_tag_is(const char *s, size_t n, const char *name);

#endif /* SPFKIT_DMARC_H */
