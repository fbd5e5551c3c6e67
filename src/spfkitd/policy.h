/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.h - the Postfix policy delegation protocol (SMTPD_POLICY_README),
 * pure parsing over (pointer, length) with no I/O, so a fuzzer can drive
 * it: a framer that finds where one request ends in a byte stream, and a
 * parser that turns one request into views of its attributes. Nothing
 * here allocates, writes into its input or relies on NUL termination.
 */
#ifndef SPFKITD_POLICY_H
#define SPFKITD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* A request larger than this (attributes and the blank line) is refused. */
#define SPFKITD_POLICY_MAX_BYTES (64u * 1024u)
/* A request with more attribute lines than this is refused. */
#define SPFKITD_POLICY_MAX_ATTRS 1000u

/* Bytes seen as (pointer, length); ptr may be NULL when len is 0. */
typedef struct spfkitd_view {
	const char *ptr;
	size_t len;
} spfkitd_view;

/* ---------------------------------------------------------------- framing */

/* Where the framer stands in a connection's byte stream. Zero it at the
 * start of a connection and after each request has been taken. */
typedef struct spfkitd_framer {
	size_t scanned;   /* bytes of the buffer already looked at */
	bool mid_line;    /* the next byte does not start a line */
	bool discarding;  /* over the cap: dropping bytes to the blank line */
	size_t discarded; /* bytes dropped so far in discard mode */
} spfkitd_framer;

typedef enum spfkitd_frame_status {
	SPFKITD_FRAME_MORE = 0, /* no complete request yet: read more */
	SPFKITD_FRAME_REQUEST,  /* buf[0, *len) is one whole request */
	SPFKITD_FRAME_DISCARD,  /* drop buf[0, *len): part of an oversized
				   request (the framer remembers it) */
	SPFKITD_FRAME_OVERSIZED /* an oversized request ended with
				   buf[0, *len): drop it and answer it */
} spfkitd_frame_status;

/* Looks for the end of the request at the start of buf (len bytes): a
 * line that is empty (or holds only "\r"). On SPFKITD_FRAME_REQUEST,
 * *out_len covers the request with its blank line; the caller parses
 * buf[0, *out_len), drops those bytes and zeroes the framer. A request
 * growing past SPFKITD_POLICY_MAX_BYTES turns into DISCARD results (the
 * caller drops *out_len bytes each time and keeps the framer) and one
 * OVERSIZED at its blank line. Pure; never reads past len. */
spfkitd_frame_status spfkitd_policy_frame(spfkitd_framer *f, const char *buf,
					  size_t len, size_t *out_len);

/* ---------------------------------------------------------------- parsing */

/* Why a complete request was refused. */
typedef enum spfkitd_policy_error {
	SPFKITD_POLICY_OK = 0,
	SPFKITD_POLICY_EMPTY,       /* no attribute at all */
	SPFKITD_POLICY_NUL,         /* a NUL byte */
	SPFKITD_POLICY_NO_EQUALS,   /* a line without '=' */
	SPFKITD_POLICY_EMPTY_NAME,  /* a line starting with '=' */
	SPFKITD_POLICY_TOO_MANY,    /* over SPFKITD_POLICY_MAX_ATTRS lines */
	SPFKITD_POLICY_TOO_BIG,     /* over SPFKITD_POLICY_MAX_BYTES */
	SPFKITD_POLICY_NO_REQUEST,  /* no request= attribute */
	SPFKITD_POLICY_BAD_REQUEST, /* request= other than smtpd_access_policy
				     */
	SPFKITD_POLICY_UNTERMINATED /* no blank line at the end */
} spfkitd_policy_error;

/* A short English description of an error; never NULL. */
const char *spfkitd_policy_strerror(spfkitd_policy_error e);

/* The SMTP protocol state a request was made in (protocol_state=). */
typedef enum spfkitd_state {
	SPFKITD_STATE_OTHER = 0, /* absent or not listed here */
	SPFKITD_STATE_CONNECT,
	SPFKITD_STATE_EHLO, /* HELO or EHLO */
	SPFKITD_STATE_MAIL,
	SPFKITD_STATE_RCPT,
	SPFKITD_STATE_DATA,
	SPFKITD_STATE_EOM /* END-OF-MESSAGE */
} spfkitd_state;

/* The attributes spfkitd uses, as views into the request bytes (borrowed
 * for as long as those bytes stay put). An absent attribute has ptr NULL;
 * an attribute present with an empty value has a non-NULL ptr and len 0.
 * When an attribute repeats, the first one counts. Unknown attributes are
 * counted and ignored (Postfix adds new ones over time). */
typedef struct spfkitd_policy_req {
	spfkitd_view request, protocol_state, protocol_name;
	spfkitd_view client_address, client_name, reverse_client_name;
	spfkitd_view helo_name, sender, recipient, recipient_count;
	spfkitd_view queue_id, instance, sasl_method, sasl_username;
	spfkitd_view sasl_sender, ccert_subject, ccert_fingerprint;
	spfkitd_view encryption_protocol, size, etrn_domain, stress;
	spfkitd_view server_address, server_port, policy_context;
	spfkitd_state state;
	size_t nattrs; /* attribute lines, known and unknown */
} spfkitd_policy_req;

/* Parses one request, buf[0, len) as the framer delimited it: name=value
 * lines ending in "\n" (a "\r" before it is dropped), then a blank line.
 * Fills *out (views into buf) and returns SPFKITD_POLICY_OK, or returns
 * the first error met; *out is then zeroed except nattrs. Pure. */
spfkitd_policy_error spfkitd_policy_parse(const char *buf, size_t len,
					  spfkitd_policy_req *out);

/* Is the view equal to the NUL-terminated s, byte for byte? (An absent
 * view equals nothing.) */
bool spfkitd_view_eq(spfkitd_view v, const char *s);

/* spfkitd_view_eq() ignoring ASCII case (never the locale's): header
 * and macro names, map names, protocol states, authserv-ids. */
bool spfkitd_view_ieq(spfkitd_view v, const char *s);

#endif /* SPFKITD_POLICY_H */
