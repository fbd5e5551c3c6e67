/* SPDX-License-Identifier: BSD-2-Clause */
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

/* Levels whose comma state is kept while deeper ones are open; past
 * this a closed level's parent is taken to hold items already, with ","
 * between them (no output of ours nests this deep: a tree node is three
 * levels and tree.c stops nesting at 512 frames). */
#define CLI_JW_DEPTH 2048u

typedef struct cli_jw {
	FILE *f;
	size_t n;       /* octets waiting in buf */
	unsigned depth; /* objects and arrays open */
	bool after_key; /* cli_jw_key(): its value takes no comma */
	bool any;       /* the innermost level holds an item already */
	bool lines;     /* ... and is an array of lines (cli_jw_arr_lines) */
	/* The same of the levels 1 .. depth - 1 while inner ones are open
	 * (the top level has no commas). */
	uint8_t outer_any[CLI_JW_DEPTH / 8];
	uint8_t outer_lines[CLI_JW_DEPTH / 8];
	char buf[4096];
} cli_jw;

/* How each octet goes out, by table (these loops see every octet of the
 * output): 3 printable ASCII but the space, the quote and the backslash;
 * 2 the quote; 1 the space; 0 the rest. Odd values stand in JSON strings
 * as they are; values above 1 (above 0 when spaces may stay) in text for
 * people (text.h). */
extern const unsigned char cli__plain[256];

/* Starts a writer on f (borrowed until the last cli_jw_flush()). */
void cli_jw_init(cli_jw *w, FILE *f);

/* Writes what is buffered to the stream. Write errors show in
 * ferror(f), as with stdio. */
void cli_jw_flush(cli_jw *w);

/* The slow path of cli_jw_raw(): flushes and writes. */
void cli_jw__write(cli_jw *w, const char *s, size_t n);

/* Writes (s, n) as it is: raw text, no comma, no escaping. Inline: a
 * short piece of known length is a store into the buffer. */
static inline void cli_jw_raw(cli_jw *w, const char *s, size_t n)
{
	if (n <= sizeof w->buf - w->n) {
		memcpy(w->buf + w->n, s, n);
		w->n += n;
	} else {
		cli_jw__write(w, s, n);
	}
}

/* A string literal written raw, its length known at compile time. */
#define CLI_JW_LIT(w, lit) cli_jw_raw((w), (lit), sizeof(lit) - 1)

/* What goes before an item: nothing after a key, at the top level or
 * first in its level; else the level's separator. */
static inline void cli_jw__sep(cli_jw *w)
{
	if (w->after_key)
		w->after_key = false;
	else if (!w->any)
		w->any = w->depth > 0;
	else if (w->lines)
		CLI_JW_LIT(w, ",\n");
	else
		CLI_JW_LIT(w, ",");
}

/* --------------------------------------------------------- structure */

/* Saves the comma state of the innermost level (depth > 0) before a
 * level opens inside it, and brings it back (and depth down) when that
 * one closes. */
void cli_jw__push(cli_jw *w);
void cli_jw__pop(cli_jw *w);

/* Opens an object or array with c. Inline, like the closing below: at
 * the top level (a JSON line) there is no state to keep. */
static inline void cli_jw__open(cli_jw *w, char c, bool lines)
{
	cli_jw__sep(w);
	cli_jw_raw(w, &c, 1);
	if (w->depth)
		cli_jw__push(w);
	w->depth++;
	w->any = false;
	w->lines = lines;
}

static inline void cli_jw__close(cli_jw *w, char c)
{
	cli_jw_raw(w, &c, 1);
	w->after_key = false;
	if (w->depth > 1) {
		cli_jw__pop(w);
	} else {
		w->depth = 0;
		w->any = w->lines = false;
	}
}

/* "{" / "}" and "[" / "]". cli_jw_arr_lines() opens an array whose items are
 * separated by ",\n" rather than "," (one item a line). */
static inline void cli_jw_obj(cli_jw *w)
{
	cli_jw__open(w, '{', false);
}

static inline void cli_jw_obj_end(cli_jw *w)
{
	cli_jw__close(w, '}');
}

static inline void cli_jw_arr(cli_jw *w)
{
	cli_jw__open(w, '[', false);
}

static inline void cli_jw_arr_lines(cli_jw *w)
{
	cli_jw__open(w, '[', true);
}

static inline void cli_jw_arr_end(cli_jw *w)
{
	cli_jw__close(w, ']');
}

/* A member's key, k (printable ASCII, no quote, no backslash: a literal
 * of the caller) written between quotes as it is, then ":". Inline, so
 * a literal key is a copy of known length. */
static inline void cli_jw__key(cli_jw *w, const char *k)
{
	size_t n = strlen(k);
	/* Keys stand in objects only: "," unless first, never ",\n". */
	if (n + 4 <= sizeof w->buf - w->n) {
		char *p = w->buf + w->n;
		if (w->any)
			*p++ = ',';
		else
			w->any = true;
		p[0] = '"';
		memcpy(p + 1, k, n);
		p[n + 1] = '"';
		p[n + 2] = ':';
		w->n = (size_t)(p + n + 3 - w->buf);
	} else {
		if (w->any)
			CLI_JW_LIT(w, ",");
		w->any = true;
		CLI_JW_LIT(w, "\"");
		cli_jw_raw(w, k, n);
		CLI_JW_LIT(w, "\":");
	}
}

/* The key of a member whose value follows with one of the calls below. */
static inline void cli_jw_key(cli_jw *w, const char *k)
{
	cli_jw__key(w, k);
	w->after_key = true;
}

/* An object that is a whole line of output: cli_jw_line() starts the
 * writer on f and opens it; cli_jw_line_end() closes it, ends the line
 * and flushes. */
void cli_jw_line(cli_jw *w, FILE *f);
void cli_jw_line_end(cli_jw *w);

/* ---------------------------------------------------------- values */

/* The value writers below without the comma: a string with its quotes,
 * a number. */
void cli_jw__string(cli_jw *w, const char *s, size_t n);
void cli_jw__uint(cli_jw *w, uint64_t v);

/* (s, n) as a JSON string with its quotes (escaped as said above). The
 * short ones are inline: a batch's JSON line is mostly these. */
static inline void cli_jw_string(cli_jw *w, const char *s, size_t n)
{
	cli_jw__sep(w);
	cli_jw__string(w, s, n);
}

/* A NUL-terminated string, or null for NULL. */
static inline void cli_jw_str(cli_jw *w, const char *s)
{
	cli_jw__sep(w);
	if (s)
		cli_jw__string(w, s, strlen(s));
	else
		CLI_JW_LIT(w, "null");
}

static inline void cli_jw_null(cli_jw *w)
{
	cli_jw__sep(w);
	CLI_JW_LIT(w, "null");
}

static inline void cli_jw_bool(cli_jw *w, bool b)
{
	cli_jw__sep(w);
	if (b)
		CLI_JW_LIT(w, "true");
	else
		CLI_JW_LIT(w, "false");
}

static inline void cli_jw_uint(cli_jw *w, uint64_t v)
{
	cli_jw__sep(w);
	cli_jw__uint(w, v);
}

void cli_jw_int(cli_jw *w, int64_t v);
/* v / 10^places with places decimals, digits exact: (1234, 3) is 1.234,
 * (5, 3) is 0.005. places at most 9. */
void cli_jw_fixed(cli_jw *w, uint64_t v, unsigned places);
/* v rounded to places decimals, as printf's "%.*f" writes it. */
void cli_jw_double(cli_jw *w, double v, int places);

/* Key and value in one call: "k":"s" (null for NULL), "k":v, "k":b.
 * The value follows its key directly, with no comma to weigh. */
static inline void cli_jw_kstr(cli_jw *w, const char *k, const char *s)
{
	cli_jw__key(w, k);
	if (s)
		cli_jw__string(w, s, strlen(s));
	else
		CLI_JW_LIT(w, "null");
}

/* "k":"s" of n octets (any octets), or "k":null for s NULL. */
static inline void cli_jw_kstrn(cli_jw *w, const char *k, const char *s,
				size_t n)
{
	cli_jw__key(w, k);
	if (s)
		cli_jw__string(w, s, n);
	else
		CLI_JW_LIT(w, "null");
}

static inline void cli_jw_kuint(cli_jw *w, const char *k, uint64_t v)
{
	cli_jw__key(w, k);
	cli_jw__uint(w, v);
}

static inline void cli_jw_kbool(cli_jw *w, const char *k, bool b)
{
	cli_jw__key(w, k);
	if (b)
		CLI_JW_LIT(w, "true");
	else
		CLI_JW_LIT(w, "false");
}

/* Writes (s, n) to f as a JSON string with its quotes, escaped as above
 * (an unbuffered caller's shortcut for one string). */
void cli_json_string(FILE *f, const char *s, size_t n);

#endif /* SPFKIT_SUPPORT_JSON_H */
