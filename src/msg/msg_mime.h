/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg_mime.h - the MIME layer of the message parser, behind the narrow
 * interface the bounce reader (bounce.c) and msgparse.c use: which parts
 * a message's body is made of (RFC 2045, RFC 2046 multipart, RFC 6522
 * reports, RFC 3464 delivery status), each decoded from its transfer
 * encoding, and RFC 2047 encoded words in the fields people read. mime.c
 * implements it with GMime (libgmime-3.0); the trace-field grammars
 * (trace.c) and the header section (fields.c) stay ours.
 */
#ifndef SPFKIT_MSG_MIME_H
#define SPFKIT_MSG_MIME_H

#include "msg_internal.h"

/* The parts of a message that a bounce is made of; each the first of
 * its kind in a depth-first walk of at most MSGP_MIME_DEPTH levels, its
 * body decoded from base64 or quoted-printable (RFC 2045 §6) into the
 * arena. An absent part has p NULL. */
typedef struct msgp__mime {
	bool multipart; /* the top Content-Type is multipart/... */
	bool dsn;       /* multipart/report; report-type=delivery-status
			   (RFC 3464 §2) */
	/* message/rfc822 or message/global: the original as it stands in
	 * the bounce (its header section as written). */
	msgp_view original;
	msgp_view headers; /* text/rfc822-headers, message/global-headers */
	msgp_view status;  /* message/delivery-status (or -global-) */
	/* The text to read a bounce's words from: the first text/plain part
	 * (or one without a Content-Type) of a multipart message; the body of
	 * a single-part one. */
	msgp_view text;
} msgp__mime;

/* Is the top Content-Type of m multipart/report with report-type
 * delivery-status (RFC 3464 §2)? */
bool msgp__mime_is_dsn(const msgp_msg *m);

/* Finds the parts of the top message m from its Content-Type and
 * Content-Transfer-Encoding fields and its body (at most MSGP_BODY_MAX
 * octets of it). An error (out of memory) sticks in x. */
void msgp__mime_scan(ctx *x, const msgp_msg *m, msgp__mime *out);

/* v with its RFC 2047 encoded words decoded to UTF-8 (into the arena), as
 * the text of an unstructured field (Subject) or a display name; v itself
 * when it holds none. Absent after an error in x. */
msgp_view msgp__mime_words(ctx *x, msgp_view v);

#endif /* SPFKIT_MSG_MIME_H */
