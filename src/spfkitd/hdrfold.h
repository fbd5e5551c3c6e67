/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hdrfold.h - our header fields (Received-SPF, Authentication-Results, as
 * the library writes them: one line) made fit for a message (hdrfold.c):
 * folded at RFC 5322 line lengths for the milter, kept within the
 * 998-octet line limit for Postfix's PREPEND (which takes one line), and
 * with UTF-8 written as UTF-8 for an SMTPUTF8 message. Pure functions over
 * NUL-terminated text, no I/O.
 */
#ifndef SPFKITD_HDRFOLD_H
#define SPFKITD_HDRFOLD_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5322 §2.1.1: a line SHOULD be at most 78 octets and MUST be at most
 * 998, CRLF excluded. */
#define SPFKITD_LINE_SHOULD 78u
#define SPFKITD_LINE_MUST   998u

/* Folds the one-line header field h ("Name: value", no CR or LF) so its
 * lines keep within 78 octets wherever white space allows: a line break
 * goes before a space outside quoted strings (in a comment too), so the
 * continuation starts with that space and unfolding (RFC 5322 §3.2.2)
 * gives h back. Lines are separated by LF alone, as the milter protocol
 * wants them (the MTA writes CRLF). A run with no white space longer than
 * a line stays whole. Returns a new string (caller frees with free()),
 * or NULL when out of memory. */
char *spfkitd_header_fold(const char *h);

/* Shortens the one-line header field h in place to at most max octets,
 * for a protocol that cannot fold: first its comments go (they only
 * explain), then elements from the end (for Received-SPF the last
 * key-value pairs, RFC 7208 §9.1: mechanism and problem first). Returns
 * the new length. */
size_t spfkitd_header_fit(char *h, size_t max);

/* Writes back in place the escapes "\\xHH" of h (the library's escaping
 * of octets outside printable ASCII, inside quoted strings and comments)
 * that spell UTF-8 characters beyond ASCII and C1, as those octets (RFC
 * 6532: a message sent with SMTPUTF8 may carry them). Other escapes stay.
 */
void spfkitd_header_utf8(char *h);

#endif /* SPFKITD_HDRFOLD_H */
