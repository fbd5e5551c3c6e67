/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.c - the buffered JSON writer of json.h: the buffer, commas of
 * objects and arrays, numbers, and string escaping that keeps any octets
 * valid JSON.
 */
#include "json.h"

const unsigned char cli__plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

void cli_jw_init(cli_jw *w, FILE *f)
{
	/* The outer levels' bits are set as levels open. */
	w->f = f;
	w->n = 0;
	w->depth = 0;
	w->after_key = w->any = w->lines = false;
}

void cli_jw_flush(cli_jw *w)
{
	if (w->n)
		fwrite(w->buf, 1, w->n, w->f);
	w->n = 0;
}

void cli_jw__write(cli_jw *w, const char *s, size_t n)
{
	cli_jw_flush(w);
	if (n > sizeof w->buf) {
		fwrite(s, 1, n, w->f);
		return;
	}
	memcpy(w->buf, s, n);
	w->n = n;
}

/* ------------------------------------------------------------ levels */

static void set_bit(uint8_t *v, unsigned i, bool on)
{
	if (on)
		v[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		v[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

void cli_jw__push(cli_jw *w)
{
	unsigned i = w->depth - 1;
	if (i < CLI_JW_DEPTH) {
		set_bit(w->outer_any, i, w->any);
		set_bit(w->outer_lines, i, w->lines);
	}
}

void cli_jw__pop(cli_jw *w)
{
	w->depth--;
	unsigned i = w->depth - 1;
	if (i < CLI_JW_DEPTH) {
		w->any = w->outer_any[i / 8] & (1u << (i % 8));
		w->lines = w->outer_lines[i / 8] & (1u << (i % 8));
	} else {
		/* Too deep to remember: the level holds this item at least. */
		w->any = true;
		w->lines = false;
	}
}

void cli_jw_line(cli_jw *w, FILE *f)
{
	cli_jw_init(w, f);
	cli_jw_obj(w);
}

void cli_jw_line_end(cli_jw *w)
{
	cli_jw_obj_end(w);
	CLI_JW_LIT(w, "\n");
	cli_jw_flush(w);
}

/* ------------------------------------------------------------ numbers */

void cli_jw__uint(cli_jw *w, uint64_t v)
{
	char d[24];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cli_jw_raw(w, d + i, sizeof d - i);
}

void cli_jw_int(cli_jw *w, int64_t v)
{
	cli_jw__sep(w);
	if (v < 0) {
		cli_jw_raw(w, "-", 1);
		/* -(v + 1) + 1: INT64_MIN has no positive twin. */
		cli_jw__uint(w, (uint64_t)(-(v + 1)) + 1u);
	} else {
		cli_jw__uint(w, (uint64_t)v);
	}
}

void cli_jw_fixed(cli_jw *w, uint64_t v, unsigned places)
{
	uint64_t scale = 1;
	if (places > 9)
		places = 9;
	for (unsigned i = 0; i < places; i++)
		scale *= 10;
	cli_jw__sep(w);
	cli_jw__uint(w, v / scale);
	if (places == 0)
		return;
	char d[10];
	uint64_t frac = v % scale;
	d[0] = '.';
	for (unsigned i = places; i > 0; i--) {
		d[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	cli_jw_raw(w, d, places + 1);
}

void cli_jw_double(cli_jw *w, double v, int places)
{
	/* Room for any double in "%f" (DBL_MAX has 309 digits). */
	char t[400];
	int n = snprintf(t, sizeof t, "%.*f", places, v);
	cli_jw__sep(w);
	if (n > 0 && (size_t)n < sizeof t)
		cli_jw_raw(w, t, (size_t)n);
	else
		cli_jw_raw(w, "null", 4);
}

/* ------------------------------------------------------------ strings */

/* Length of the valid UTF-8 sequence at s (n > 0 octets left) and its
 * code point, or 0 when the octets there are not valid UTF-8 (overlong
 * forms, surrogates and values past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1fu;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0fu;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* \uXXXX for code point v (below U+10000 here). */
static void put_uescape(cli_jw *w, uint32_t v)
{
	static const char hx[] = "0123456789abcdef";
	char e[6] = {'\\',
		     'u',
		     hx[(v >> 12) & 15],
		     hx[(v >> 8) & 15],
		     hx[(v >> 4) & 15],
		     hx[v & 15]};
	cli_jw_raw(w, e, sizeof e);
}

void cli_jw__string(cli_jw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	cli_jw_raw(w, "\"", 1);
	for (size_t i = 0; i < n;) {
		/* Plain printable ASCII goes out in one piece. */
		size_t run = i;
		while (run < n && (cli__plain[s[run]] & 1))
			run++;
		if (run > i) {
			cli_jw_raw(w, str + i, run - i);
			i = run;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_seq(s + i, n - i, &cp);
		if (len == 0) {
			/* Not UTF-8: the octet's own value, as Latin-1. */
			put_uescape(w, s[i]);
			i++;
			continue;
		}
		switch (cp) {
		case '"': cli_jw_raw(w, "\\\"", 2); break;
		case '\\': cli_jw_raw(w, "\\\\", 2); break;
		case '\n': cli_jw_raw(w, "\\n", 2); break;
		case '\r': cli_jw_raw(w, "\\r", 2); break;
		case '\t': cli_jw_raw(w, "\\t", 2); break;
		default:
			/* C0, DEL, C1, and the JavaScript line breaks. */
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			    cp == 0x2028 || cp == 0x2029)
				put_uescape(w, cp);
			else
				cli_jw_raw(w, str + i, len);
		}
		i += len;
	}
	cli_jw_raw(w, "\"", 1);
}

void cli_json_string(FILE *f, const char *s, size_t n)
{
	cli_jw w;
	cli_jw_init(&w, f);
	cli_jw__string(&w, s, n);
	cli_jw_flush(&w);
}
