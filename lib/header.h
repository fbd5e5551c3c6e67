/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * header.h - the formatter behind spfkit_check_header(): Received-SPF
 * (RFC 7208 §9.1) and Authentication-Results (RFC 8601) from a plain
 * description of a finished check, so header.c needs no view of the check
 * struct. Internal to libspfkit (names spfkit__*).
 */
#ifndef SPFKIT_HEADER_H
#define SPFKIT_HEADER_H

#include "internal.h"

/* Hard cap on one formatted header (name, ": ", value; no CRLF). The
 * per-value caps in header.c keep every header well below it. */
#define SPFKIT__HEADER_MAX 4096

/* What a header says about a check. Every string is borrowed for the call
 * only, NUL terminated, and treated as hostile: control characters, 8-bit
 * octets and backslashes come out as the four characters "\xHH", long
 * values are cut with "...". NULL and "" mean "absent" for the optional
 * fields. */
typedef struct spfkit__header_info {
	spfkit_result result;
	const char *identity;  /* "mailfrom" or "helo" */
	const char *ip;        /* the client IP, canonical text */
	const char *sender;    /* the <sender> check_host() used */
	const char *helo;      /* the HELO name, may be NULL */
	const char *domain;    /* the <domain> check_host() started with */
	const char *receiver;  /* may be NULL: no receiver= key, no prefix */
	const char *mechanism; /* the deciding term, may be NULL */
	const char *problem;   /* permerror/temperror/none cause, may be NULL */
	const char *explanation; /* fail explanation (§6.2), may be NULL */
	/* Octets of sender and helo when they may hold NUL; 0 means "up to
	 * the NUL", so a zeroed struct works with C strings. */
	size_t sender_len;
	size_t helo_len;
	/* The envelope sender when it is not the checked <sender>: the
	 * MAIL FROM of a HELO check (RFC 7208 §9.1 envelope-from); NULL:
	 * envelope-from is sender. */
	const char *envelope;
	size_t envelope_len;
} spfkit__header_info;

/* Appends one header line to out: "Received-SPF: ..." for
 * SPFKIT_HEADER_RECEIVED_SPF, "Authentication-Results: ..." for
 * SPFKIT_HEADER_AUTHENTICATION_RESULTS (authserv_id required, else
 * SPFKIT_EINVAL; ignored for Received-SPF). No CR, LF or other control
 * character is ever appended, and at most SPFKIT__HEADER_MAX octets.
 * Returns SPFKIT_OK, SPFKIT_EINVAL (NULL h or out, unknown kind, missing
 * authserv_id) with out unchanged, or out's sticky error (SPFKIT_ENOMEM,
 * SPFKIT_ETOOBIG when out's own cap is smaller than the header). */
int spfkit__header_format(const spfkit__header_info *h, spfkit_header kind,
			  const char *authserv_id, spfkit__buf *out);

#endif /* SPFKIT_HEADER_H */
