/*
 * json.h - the one JSON writer of the spfkit command (and of the tests
 * and fuzzers that link the support library).
 *
 * Output goes through a 4 KiB buffer written with one fwrite() when it
 * fills and at cli_jw_flush(): a JSON line is otherwise some forty pieces,
 * each taking the stream's lock (a fifth of a warm batch check's time
 * went to that). The same buffer carries text lines too (cli_jw_raw(),
 * and cli_jw_safe() of text.h).
 *
 * Strings are escaped so the output is always valid JSON whatever the
 * octets: valid UTF-8 is kept as it is; C0, DEL, C1 and U+2028/U+2029
 * are written as \u00XX / \u20XX; an octet that is not part of valid
 * UTF-8 is written as \u00XX of its value (read as Latin-1).
 *
 * Objects and arrays put their commas themselves: a value or key inside
 * one is preceded by "," unless it is the first. Keys are literals of the
 * caller, written as they are (no escaping). Nothing is checked: a caller
 * that writes a value where a key belongs gets what it wrote.
 */
#ifndef SPFKIT_SUPPORT_JSON_H
#define SPFKIT_SUPPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Objects and arrays open at once; deeper ones share the last level's
 * comma state (no output of ours nests this deep: a tree node is three
 * levels and tree.c stops nesting at 512 frames). */
#define CLI_JW_DEPTH 2048u

typedef struct cli_jw {
	FILE *f;
	size_t n;       /* octets waiting in buf */
	unsigned depth; /* objects and arrays open */
	bool after_key; /* a key was written: its value takes no comma */
	uint8_t any[CLI_JW_DEPTH / 8];   /* level holds an item already */
	uint8_t lines[CLI_JW_DEPTH / 8]; /* level is an array of lines */
	char buf[4096];
} cli_jw;

/* Starts a writer on f (borrowed until the last cli_jw_flush()). */
void cli_jw_init(cli_jw *w, FILE *f);

/* Writes what is buffered to the stream. Write errors show in
 * ferror(f), as with stdio. */
void cli_jw_flush(cli_jw *w);

/* Writes (s, n) as it is: raw text, no comma, no escaping. */
void cli_jw_raw(cli_jw *w, const char *s, size_t n);

/* A string literal written raw, its length known at compile time. */
#define CLI_JW_LIT(w, lit) cli_jw_raw((w), (lit), sizeof(lit) - 1)

/* --------------------------------------------------------- structure */

/* "{" / "}" and "[" / "]". cli_jw_lines() opens an array whose items are
 * separated by ",\n" rather than "," (one item a line). */
void cli_jw_obj(cli_jw *w);
void cli_jw_obj_end(cli_jw *w);
void cli_jw_arr(cli_jw *w);
void cli_jw_lines(cli_jw *w);
void cli_jw_arr_end(cli_jw *w);

/* A member's key, (k, n) written between quotes as it is, then ":". */
void cli_jw_key_n(cli_jw *w, const char *k, size_t n);

/* A member's key from a literal (printable ASCII, no quote, no
 * backslash); its value follows with one of the calls below. */
static inline void cli_jw_key(cli_jw *w, const char *k)
{
	cli_jw_key_n(w, k, strlen(k));
}

/* ---------------------------------------------------------- values */

/* (s, n) as a JSON string with its quotes (escaped as said above). */
void cli_jw_string(cli_jw *w, const char *s, size_t n);
/* A NUL-terminated string, or null for NULL. */
void cli_jw_str(cli_jw *w, const char *s);
void cli_jw_null(cli_jw *w);
void cli_jw_bool(cli_jw *w, bool b);
void cli_jw_uint(cli_jw *w, uint64_t v);
void cli_jw_int(cli_jw *w, int64_t v);
/* v / 10^places with places decimals, digits exact: (1234, 3) is 1.234,
 * (5, 3) is 0.005. places at most 9. */
void cli_jw_fixed(cli_jw *w, uint64_t v, unsigned places);
/* v rounded to places decimals, as printf's "%.*f" writes it. */
void cli_jw_double(cli_jw *w, double v, int places);

/* Key and value in one call: "k":"s" (null for NULL), "k":v, "k":b. */
void cli_jw_kstr(cli_jw *w, const char *k, const char *s);
void cli_jw_kuint(cli_jw *w, const char *k, uint64_t v);
void cli_jw_kbool(cli_jw *w, const char *k, bool b);

/* Writes (s, n) to f as a JSON string with its quotes, escaped as above
 * (an unbuffered caller's shortcut for one string). */
void cli_json_string(FILE *f, const char *s, size_t n);

#endif /* SPFKIT_SUPPORT_JSON_H */
