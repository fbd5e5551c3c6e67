/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msgparse.h - a saved message or a bounce, parsed for `spfkit message`:
 * the RFC 5322 header section (folding, CRLF or LF, 8-bit octets), the
 * trace fields SPF cares about (Return-Path, Received, Received-SPF of RFC
 * 7208 §9.1, Authentication-Results of RFC 8601), the author fields, and,
 * for a bounce, the original message found inside it (an RFC 3464 DSN's
 * message/rfc822 or text/rfc822-headers part, or the copy an Exim-style
 * bounce quotes in its body).
 *
 * The one entry point of the internal library in src/msg
 * (spfkit_msg_dep): the spfkit command, test_msgparse and fuzz_message
 * use it; msg_internal.h and msg_mime.h are the library's own.
 *
 * Pure: it takes a buffer (msgp_parse) or octets fed as they are read
 * (msgp_reader), does no I/O and keeps no state of its own between calls,
 * so it can be fuzzed. GMime (libgmime-3.0) reads the MIME structure of a
 * bounce, decodes base64 and quoted-printable bodies and RFC 2047 encoded
 * words; it is initialised once per process (g_mime_init) and allocates
 * through glib, whose policy on a failed allocation is to abort. Every
 * allocation of this library's own (fields, trace fields, the arena of
 * decoded and unfolded values, the reader's buffer) goes through the
 * caller's spfkit_allocator and fails with SPFKIT_ENOMEM.
 *
 * Every input is hostile: nothing is written into it, and any octet
 * sequence gives either a parsed message or a one-line error. Messages
 * of any size are read; what is held is capped (below), and what was read
 * past is counted in msgp_msg.input and named in a warning when it could
 * have mattered.
 */
#ifndef SPFKIT_MSGPARSE_H
#define SPFKIT_MSGPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "spfkit.h"

/* What is held of a message. A header section: its topmost fields up to
 * MSGP_HEADER_MAX octets and MSGP_FIELDS_MAX fields (receivers add their
 * trace fields at the top, RFC 5321 §4.4, RFC 8601 §5); the fields below
 * are read past and counted. A body: only when the message looks like a
 * bounce, and then its first MSGP_BODY_MAX octets (a report, and the
 * original's header section, come before the original's body). MIME
 * nesting is walked MSGP_MIME_DEPTH levels deep. */
#define MSGP_HEADER_MAX (1024u * 1024u)
#define MSGP_FIELDS_MAX 4096u
#define MSGP_BODY_MAX   (4u * 1024u * 1024u)
#define MSGP_MIME_DEPTH 8u
#define MSGP_WARNINGS   8u

/* Status: 0 or negative, as spfkit_status (SPFKIT_ENOMEM, SPFKIT_EPARSE). */

/* A view: len octets at p, not NUL terminated, any octet possible.
 * p is NULL (and len 0) when the item is absent. */
typedef struct msgp_view {
	const char *p;
	size_t len;
} msgp_view;

/* A header field: name as written (no colon), value unfolded (RFC 5322
 * §2.2.3: CRLF before WSP removed) and trimmed of surrounding WSP. */
typedef struct msgp_field {
	msgp_view name;
	msgp_view value;
	unsigned line; /* 1-based line of the field in its section */
} msgp_field;

/* A Received field (RFC 5321 §4.4), as Postfix, Exim, Sendmail, Gmail
 * and Microsoft write it. */
typedef struct msgp_received {
	size_t field;       /* index into msgp_msg.fields */
	msgp_view from;     /* the word after "from" (HELO, or rDNS: Exim) */
	msgp_view helo;     /* helo= if given, else from */
	msgp_view rdns;     /* the name in the TCP-info comment, if any */
	msgp_view ip;       /* client IP text ("IPv6:" dropped), validated */
	msgp_view by;       /* the receiving host (trailing dot dropped) */
	msgp_view with;     /* protocol words */
	msgp_view id;       /* queue id */
	msgp_view for_addr; /* recipient, without angle brackets */
	msgp_view env_from; /* Exim's "(envelope-from <...>)" */
	msgp_view date;     /* after the last top-level ';' */
	bool local;         /* a local submission ("from userid", "local") */
} msgp_received;

/* Received-SPF (RFC 7208 §9.1). */
typedef struct msgp_rspf {
	size_t field;
	msgp_view result; /* first word, as written */
	msgp_view comment;
	msgp_view receiver; /* receiver=, else the comment's "name:" */
	msgp_view client_ip;
	msgp_view envelope_from;
	msgp_view helo;
	msgp_view identity;
	msgp_view mechanism;
	msgp_view problem;
} msgp_rspf;

/* Authentication-Results (RFC 8601), the spf and dmarc results. */
typedef struct msgp_authres {
	size_t field;
	msgp_view authserv_id; /* absent when the field starts with a result
				  (Microsoft writes it so) */
	msgp_view spf;         /* spf=RESULT, absent when none */
	msgp_view spf_mailfrom;
	msgp_view spf_helo;
	msgp_view dmarc;
	msgp_view dmarc_from; /* header.from */
	msgp_view dkim;       /* the first dkim= result */
} msgp_authres;

/* The first mailbox of an address field (RFC 5322 §3.4). */
typedef struct msgp_addr {
	bool present;      /* the field exists */
	bool ok;           /* a mailbox with an @ was found */
	msgp_view display; /* display name, unquoted, comments dropped */
	msgp_view addr;    /* local@domain, comments and CFWS dropped */
	msgp_view local;
	msgp_view domain; /* trailing dot dropped */
	unsigned count;   /* mailboxes in the field (groups included) */
	unsigned fields;  /* how many such fields the header has */
} msgp_addr;

/* What a bounce says about the failed delivery (RFC 3464 fields, or the
 * lines of an Exim-style bounce text). */
typedef struct msgp_dsn {
	msgp_view reporting_mta; /* type prefix ("dns;") dropped */
	msgp_view remote_mta;
	msgp_view final_recipient;
	msgp_view action;
	msgp_view status;
	msgp_view diagnostic; /* Diagnostic-Code or the SMTP reply lines */
	msgp_view sender;     /* X-Postfix-Sender, or MAIL FROM:<...> */
	msgp_view ip;         /* a client IP named in the diagnostic */
	msgp_view remote_ip;  /* the remote MTA's address, if named */
	/* The rejecting server's own SPF verdict, read from the diagnostic
	 * (RFC 7208 result names and the words servers use for them, or an
	 * RFC 7372 status X.7.23 / X.7.24): an RFC 7208 result name (static)
	 * or NULL, and the words it was read from. */
	const char *spf;
	const char *spf_source; /* "diagnostic" or "status" (static) */
	msgp_view spf_text;
} msgp_dsn;

/* What was read of the input: its size, and what was read past and not
 * held (see the caps above). */
typedef struct msgp_input {
	size_t octets;                /* the input, all of it */
	size_t fields_skipped;        /* header fields below the caps */
	size_t header_octets_skipped; /* their octets */
	size_t body_octets_skipped;   /* body octets not held in memory */
} msgp_input;

typedef enum msgp_bounce {
	MSGP_BOUNCE_NONE = 0,
	MSGP_BOUNCE_DSN,   /* multipart/report; report-type=delivery-status */
	MSGP_BOUNCE_MIME,  /* a bounce with a message/rfc822 part */
	MSGP_BOUNCE_QUOTED /* original headers quoted in the body text */
} msgp_bounce;

typedef struct msgp_msg msgp_msg;
struct msgp_msg {
	msgp_field *fields;
	size_t nfields;
	msgp_received *received; /* top (newest) first */
	size_t nreceived;
	msgp_rspf *rspf;
	size_t nrspf;
	msgp_authres *authres;
	size_t nauthres;

	msgp_view return_path; /* the address, brackets dropped */
	bool has_return_path;
	bool null_sender; /* Return-Path: <> */
	unsigned nreturn_path;

	msgp_addr from, sender, reply_to, to;
	msgp_view subject, message_id, list_id, delivered_to;

	msgp_input input;
	size_t header_len;       /* octets of the header section held */
	msgp_view body;          /* after the empty line (may be empty): what is
				    held of it (msgparse.h's caps; a reader holds a
				    body only when it could be a bounce's) */
	bool headers_only;       /* text/rfc822-headers: no body */
	bool header_ended_early; /* a malformed line ended the section */
	unsigned bad_line;       /* its line number */

	msgp_bounce bounce;
	msgp_dsn dsn;
	msgp_msg *original; /* the original inside a bounce, or NULL */
	msgp_view raw;      /* an original's octets as the bounce holds them
			       (what it was parsed from: DKIM verifies
			       them); absent for the top message */

	const char *warnings[MSGP_WARNINGS]; /* static strings */
	size_t nwarnings;

	struct msgp_arena *arena; /* owns unfolded values (top message) */
	const spfkit_allocator *alloc;
	char *owned; /* the input a reader held, or NULL */
};

/* Parses len octets at buf. buf is borrowed until msgp_free(): views
 * point into it or into memory the message owns. alloc may be NULL
 * (malloc). On success *out is the caller's (free with msgp_free()); on
 * failure *out is NULL, the status negative and a one-line printable
 * message is in err (errlen > 0). */
int msgp_parse(const char *buf, size_t len, const spfkit_allocator *alloc,
	       msgp_msg **out, char *err, size_t errlen);

/* Frees a message and its original; accepts NULL. */
void msgp_free(msgp_msg *m);

/* A reader: a message of any size fed in pieces as it is read (a file,
 * a pipe), of which only what msgp_parse() would look at is held, under
 * the caps above. */
typedef struct msgp_reader msgp_reader;

/* A new reader in *out (free with msgp_reader_free()); alloc may be NULL
 * (malloc) and is copied. Returns 0 or SPFKIT_ENOMEM. */
int msgp_reader_new(const spfkit_allocator *alloc, msgp_reader **out);

/* Feeds the next n octets of the message (p borrowed for the call).
 * Returns 0 or SPFKIT_ENOMEM (sticky: the reader then only counts, and
 * msgp_reader_parse() fails). */
int msgp_reader_feed(msgp_reader *r, const char *p, size_t n);

/* Parses what was fed, as msgp_parse() would the whole input, with
 * m->input telling what was read past. The message takes what the
 * reader held (free it with msgp_free(), before or after the reader);
 * the reader is spent. Returns as msgp_parse(). */
int msgp_reader_parse(msgp_reader *r, msgp_msg **out, char *err, size_t errlen);

/* Frees a reader; accepts NULL. */
void msgp_reader_free(msgp_reader *r);

/* Does the view equal NUL-terminated s, ASCII case-insensitively? */
bool msgp_eq(msgp_view v, const char *s);

/* Is IP text ip (as in msgp_received.ip) loopback, private (RFC 1918,
 * RFC 6598, RFC 4193), link-local or unspecified: not an Internet
 * client's address? Text that is no address counts as internal. */
bool msgp_ip_internal(msgp_view ip);

/* The first field named name (case-insensitive), or NULL. */
const msgp_field *msgp_find(const msgp_msg *m, const char *name);

#endif /* SPFKIT_MSGPARSE_H */
