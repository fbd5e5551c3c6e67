/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter.h - the Sendmail milter protocol (version 6, as Sendmail 8.14+
 * and Postfix 2.6+ speak it), seen from the filter's side, as pure code
 * over (pointer, length) with no I/O, so a fuzzer can drive it: a framer
 * for the length-prefixed packets, parsers for the MTA's commands, and
 * builders for our replies. The wire constants (SMFIC_*, SMFIR_*, SMFIP_*,
 * SMFIF_*) come from libmilter's own <libmilter/mfdef.h> and
 * <libmilter/mfapi.h>. Nothing here allocates, writes into its input or
 * relies on NUL termination.
 *
 * Why spfkitd speaks the protocol itself instead of linking libmilter's
 * smfi_main(): libmilter runs a thread per connection plus a signal
 * thread that sigwait()s for SIGHUP and stops the filter on it
 * (libmilter/signal.c), where SIGHUP means "reload" to spfkitd; it keeps
 * process-wide state (one smfi_register() and smfi_main() per process)
 * and its smfi_stop() leaves connection threads running, which makes an
 * orderly shutdown and a shared resolver a matter of locks and lifetimes.
 * The protocol is small (a 4-byte length, a command byte, NUL-terminated
 * strings); served from server.c's poll loop (milter_session.c) it shares the
 * resolver, cache, reloads, limits, metrics and decide.c with the policy
 * service and needs no threads at all. The packet size limit is libmilter's
 * (MILTER_MAX_DATA_SIZE) so MTAs see the same behaviour.
 */
#ifndef SPFKITD_MILTER_H
#define SPFKITD_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h> /* SMFIF_*; includes mfdef.h */

#include "policy.h" /* spfkitd_view */

/* Largest packet payload taken (command byte excluded), as libmilter. */
#define SPFKITD_MILTER_MAX_DATA ((size_t)MILTER_MAX_DATA_SIZE)
/* Bytes before the payload: 4 of length, 1 of command. */
#define SPFKITD_MILTER_HEAD 5u

typedef enum spfkitd_mframe_status {
	SPFKITD_MFRAME_MORE = 0, /* no whole packet yet: read more */
	SPFKITD_MFRAME_PACKET,   /* one packet: *cmd, *data, *total */
	SPFKITD_MFRAME_BAD       /* a length of 0 or over the limit: the
				    stream cannot be followed further */
} spfkitd_mframe_status;

/* Looks for one packet at the start of buf (len bytes). On PACKET, *cmd
 * is its command byte, *data its payload (a view into buf) and *total
 * the bytes it takes in buf. Pure; never reads past len. */
spfkitd_mframe_status spfkitd_milter_frame(const char *buf, size_t len,
					   char *cmd, spfkitd_view *data,
					   size_t *total);

/* SMFIC_OPTNEG and its reply: version, actions (SMFIF_*) and protocol
 * steps (SMFIP_*). */
typedef struct spfkitd_milter_opts {
	uint32_t version, actions, protocol;
} spfkitd_milter_opts;

/* Parses the MTA's SMFIC_OPTNEG (12 bytes; more are ignored). */
bool spfkitd_milter_parse_optneg(spfkitd_view d, spfkitd_milter_opts *out);

/* Our answer to the MTA's offer: the version (6, or the MTA's when
 * lower), the actions we use that it allows (add and change headers),
 * and the steps we skip that it can skip (body, DATA, unknown commands,
 * replies to headers). False when the MTA's version is below 2. */
bool spfkitd_milter_negotiate(const spfkitd_milter_opts *mta,
			      spfkitd_milter_opts *ours);

/* Widens our answer for SRS (srs_milter = yes): the actions to change
 * the envelope sender and to delete and add recipients, as far as the MTA
 * allows them, and the RCPT step (the recipients say whether mail is
 * forwarded out, and bounces to SRS addresses are reversed there). */
void spfkitd_milter_negotiate_srs(const spfkitd_milter_opts *mta,
				  spfkitd_milter_opts *ours);

/* Writes v as 4 bytes in network order, as every milter integer. */
void spfkitd_milter_put32(unsigned char p[4], uint32_t v);

/* Writes our SMFIC_OPTNEG reply: version, actions and protocol steps. */
void spfkitd_milter_optneg_reply(const spfkitd_milter_opts *o,
				 unsigned char out[MILTER_OPTLEN]);

/* Writes a packet head (length and command) for a payload of n bytes. */
void spfkitd_milter_head(unsigned char head[SPFKITD_MILTER_HEAD], char cmd,
			 size_t n);

/* Takes the next NUL-terminated string off *d: *s is it without its
 * NUL, and *d moves past the NUL. False (and *d unchanged) when no NUL
 * is left. */
bool spfkitd_milter_string(spfkitd_view *d, spfkitd_view *s);

/* SMFIC_CONNECT: "host\0", family ('4', '6', 'L', 'U'), then for all but
 * 'U' a 2-byte port and "address\0". An "IPv6:" before an address (as
 * Sendmail writes some) is dropped. */
typedef struct spfkitd_milter_connect {
	spfkitd_view host, address;
	char family;
	unsigned port;
} spfkitd_milter_connect;

bool spfkitd_milter_parse_connect(spfkitd_view d, spfkitd_milter_connect *out);

/* SMFIC_MAIL / SMFIC_RCPT: "<addr>\0" then ESMTP arguments; *addr is the
 * address without its angle brackets (empty for the null sender). */
bool spfkitd_milter_parse_addr(spfkitd_view d, spfkitd_view *addr);

/* SMFIC_MAIL: does the command carry the ESMTP parameter keyword (case
 * aside, with or without a value), as "SMTPUTF8" (RFC 6531 §3.4)? */
bool spfkitd_milter_mail_param(spfkitd_view d, const char *keyword);

/* SMFIC_HEADER: "name\0value\0". */
bool spfkitd_milter_parse_header(spfkitd_view d, spfkitd_view *name,
				 spfkitd_view *value);

/* SMFIC_MACRO: a command byte, then "name\0value\0" pairs. Finds the
 * value of the macro name (given without braces: "auth_authen" matches
 * "{auth_authen}" and "auth_authen"). False when absent or malformed. */
bool spfkitd_milter_macro(spfkitd_view d, const char *name,
			  spfkitd_view *value);

/* RFC 8601 §2.2: the authserv-id of an Authentication-Results value (a
 * token or quoted-string after optional CFWS). Writes it, unquoted, into
 * out (cap bytes with NUL); false when there is none or it does not fit. */
bool spfkitd_authres_id(spfkitd_view value, char *out, size_t cap);

/* Does an Authentication-Results value claim the authserv-id id (ASCII
 * case-insensitive)? RFC 8601 §5: such a header arriving from outside is
 * forged and is removed. */
bool spfkitd_authres_claims(spfkitd_view value, const char *id);

/* Writes the SMFIR_REPLYCODE text "CODE EXT TEXT" with every '%' of
 * text doubled (Sendmail reads the reply as a format; Postfix undoubles
 * them). As snprintf(): at most cap bytes with a NUL; returns the length
 * written (cut at cap - 1). */
size_t spfkitd_milter_reply_text(char *buf, size_t cap, unsigned code,
				 const char *ext, const char *text);

#endif /* SPFKITD_MILTER_H */
