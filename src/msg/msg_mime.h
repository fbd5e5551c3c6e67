/*
 * msg_mime.h - the MIME layer of the message parser, behind the narrow
 * interface the bounce reader (bounce.c) uses: which parts a message's
 * body is made of (RFC 2045, RFC 2046 multipart, RFC 3462/6522 reports,
 * RFC 3464 delivery status), and a part's body decoded from its transfer
 * encoding. mime.c implements it by hand; GMime (MIME structure, RFC 2047
 * encoded words, quoted-printable and base64) is to take its place here
 * without the trace-field parsers or the bounce logic noticing.
 */
#ifndef SPFKIT_MSG_MIME_H
#define SPFKIT_MSG_MIME_H

#include "msg_internal.h"

/* A Content-Transfer-Encoding the layer decodes (RFC 2045 §6). Others
 * (7bit, 8bit, binary, and for now quoted-printable) are read as they
 * are. */
typedef enum msgp__cte { MSGP__CTE_NONE = 0, MSGP__CTE_BASE64 } msgp__cte;

/* A part's body as it stands in the message, and its encoding. An
 * absent part has body.p NULL. */
typedef struct msgp__part {
	msgp_view body;
	msgp__cte cte;
} msgp__part;

/* The parts of a message that a bounce is made of; each the first of
 * its kind, in a depth-first walk of at most MSGP_MIME_DEPTH levels. */
typedef struct msgp__mime {
	bool multipart;      /* the top Content-Type is multipart/... */
	bool dsn;            /* multipart/report; report-type=delivery-status
				(RFC 3464 §2) */
	msgp__part original; /* message/rfc822 or message/global */
	msgp__part headers;  /* text/rfc822-headers, message/global-headers */
	msgp__part status;   /* message/delivery-status (or -global-) */
	/* The text to read a bounce's words from: the first text/plain part
	 * (or one without a Content-Type) not in base64 of a multipart
	 * message; the body of a single-part one. */
	msgp__part text;
} msgp__mime;

/* Finds the parts of the top message m from its Content-Type and
 * Content-Transfer-Encoding fields and its body. Views point into the
 * message; an error (out of memory) sticks in x. */
void msgp__mime_scan(ctx *x, const msgp_msg *m, msgp__mime *out);

/* The body of p decoded from its transfer encoding (into the arena when
 * it is encoded), absent after an error in x. */
msgp_view msgp__mime_decode(ctx *x, msgp__part p);

#endif /* SPFKIT_MSG_MIME_H */
