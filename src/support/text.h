/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * text.h - text that is safe to show: every string the spfkit command
 * prints for people comes from SMTP, DNS or argv, so octets outside
 * printable ASCII (and the backslash, which would make the escape
 * ambiguous) are written as \xHH and nothing reaches a terminal as a
 * control sequence.
 */
#ifndef SPFKIT_SUPPORT_TEXT_H
#define SPFKIT_SUPPORT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"

/* How much of a hostile value a one-line message quotes (cli_shown()). */
#define CLI_SHOW_MAX 64u

/* Writes (s, n) into dst (cap octets, always NUL terminated) with every
 * octet outside printable ASCII, and the backslash, as "\xHH"; shows at
 * most max source octets, then "...". For messages that quote input. */
void cli_escape(char *dst, size_t cap, const char *s, size_t n, size_t max);

/* (s, n) escaped as cli_escape() does, at most CLI_SHOW_MAX octets of it:
 * a value quoted in a message. Static storage, valid until the next call
 * (one per message). */
const char *cli_shown_n(const char *s, size_t n);
/* The same for a NUL-terminated string. */
const char *cli_shown(const char *s);

/* Writes (s, n) escaped as above through the buffered writer; with
 * escape_space a space is \x20 too (a field in a line of space-separated
 * fields). */
void cli_jw_safe(cli_jw *w, const char *s, size_t n, bool escape_space);

/* Writes (s, n) escaped as above to f (spaces as they are). */
void cli_put_safe(FILE *f, const char *s, size_t n);
/* The same for a NUL-terminated string; nothing for NULL. */
void cli_put_str(FILE *f, const char *s);

#endif /* SPFKIT_SUPPORT_TEXT_H */
