/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socketmap.h - Postfix's socketmap protocol (socketmap_table(5)), the
 * server's side, as pure code over (pointer, length) with no I/O, so a
 * fuzzer can drive it. Requests and replies are netstrings
 * ("LEN:DATA,", D. J. Bernstein's netstrings): a request's data is
 * "NAME KEY" (the map name, one space, the key), a reply's is "OK value",
 * "NOTFOUND ", "TEMP reason", "TIMEOUT reason" or "PERM reason". spfkitd
 * serves SRS with it: map "forward" for sender_canonical_maps and
 * "reverse" for recipient_canonical_maps (the names postsrsd 2.x uses).
 * Nothing here allocates, writes into its input or relies on NUL
 * termination.
 */
#ifndef SPFKITD_SOCKETMAP_H
#define SPFKITD_SOCKETMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h" /* spfkitd_view */

/* Largest request data taken. Postfix sends a map name and one address
 * (its keys are capped far below this); a longer netstring is refused. */
#define SPFKITD_SOCKETMAP_MAX 10000u
/* Digits of a length we read: enough for SPFKITD_SOCKETMAP_MAX. */
#define SPFKITD_SOCKETMAP_DIGITS 5u

typedef enum spfkitd_sm_status {
	SPFKITD_SM_MORE = 0, /* no whole netstring yet: read more */
	SPFKITD_SM_REQUEST,  /* one netstring: *data, *total */
	SPFKITD_SM_BAD       /* not a netstring (no digits, a leading zero,
				no ':', no ',' after the data) or longer than
				SPFKITD_SOCKETMAP_MAX: the stream cannot be
				followed further */
} spfkitd_sm_status;

/* Looks for one netstring at the start of buf (len bytes). On REQUEST,
 * *data is its data (a view into buf) and *total the bytes it takes in
 * buf. Never reads past len; a BAD verdict never needs more input than
 * SPFKITD_SOCKETMAP_DIGITS + 1 octets past the data. */
spfkitd_sm_status spfkitd_sm_frame(const char *buf, size_t len,
				   spfkitd_view *data, size_t *total);

/* Splits a request's data at its first space into the map name and the
 * key (the rest, which may hold spaces). False when there is no space or
 * the name or the key is empty. */
bool spfkitd_sm_split(spfkitd_view data, spfkitd_view *name, spfkitd_view *key);

/* Writes the reply netstring "LEN:STATUS VALUE," into out (cap bytes,
 * no NUL added). status is "OK", "NOTFOUND", "TEMP", "TIMEOUT" or "PERM";
 * value may be empty. Returns the length of the reply, which was written
 * only when it is at most cap (as snprintf(), without the NUL). */
size_t spfkitd_sm_reply(char *out, size_t cap, const char *status,
			spfkitd_view value);

#endif /* SPFKITD_SOCKETMAP_H */
