/*
 * json.c - the buffered JSON writer of json.h: the buffer, commas of
 * objects and arrays, numbers, and string escaping that keeps any octets
 * valid JSON.
 */
#include "json.h"

/* Octets a JSON string holds as they are: printable ASCII but the quote
 * and the backslash (a table: this loop sees every octet of the output). */
static const unsigned char json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

void cli_jw_init(cli_jw *w, FILE *f)
{
	/* The level bits are set as levels open: nothing else to clear. */
	w->f = f;
	w->n = 0;
	w->depth = 0;
	w->after_key = false;
}

void cli_jw_flush(cli_jw *w)
{
	if (w->n)
		fwrite(w->buf, 1, w->n, w->f);
	w->n = 0;
}

/* cli_jw_raw() for this file, where the compiler may inline it. */
static inline void put(cli_jw *w, const char *s, size_t n)
{
	if (n > sizeof w->buf - w->n) {
		cli_jw_flush(w);
		if (n > sizeof w->buf) {
			fwrite(s, 1, n, w->f);
			return;
		}
	}
	memcpy(w->buf + w->n, s, n);
	w->n += n;
}

void cli_jw_raw(cli_jw *w, const char *s, size_t n)
{
	put(w, s, n);
}

/* ------------------------------------------------------------ commas */

/* The comma state slot of the innermost open level. */
static unsigned level(const cli_jw *w)
{
	return (w->depth < CLI_JW_DEPTH ? w->depth : CLI_JW_DEPTH) - 1;
}

static bool bit(const uint8_t *v, unsigned i)
{
	return v[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *v, unsigned i, bool on)
{
	if (on)
		v[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		v[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* What goes before an item: nothing after a key, at the top level or
 * first in its level; else the level's separator. */
static void sep(cli_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	unsigned l = level(w);
	if (!bit(w->any, l))
		set_bit(w->any, l, true);
	else if (bit(w->lines, l))
		put(w, ",\n", 2);
	else
		put(w, ",", 1);
}

/* Opens an object or array with character c. */
static void open_level(cli_jw *w, char c, bool lines)
{
	sep(w);
	put(w, &c, 1);
	w->depth++;
	unsigned l = level(w);
	set_bit(w->any, l, false);
	set_bit(w->lines, l, lines);
}

static void close_level(cli_jw *w, char c)
{
	put(w, &c, 1);
	if (w->depth)
		w->depth--;
	w->after_key = false;
}

void cli_jw_obj(cli_jw *w)
{
	open_level(w, '{', false);
}

void cli_jw_obj_end(cli_jw *w)
{
	close_level(w, '}');
}

void cli_jw_arr(cli_jw *w)
{
	open_level(w, '[', false);
}

void cli_jw_lines(cli_jw *w)
{
	open_level(w, '[', true);
}

void cli_jw_arr_end(cli_jw *w)
{
	close_level(w, ']');
}

void cli_jw_key_n(cli_jw *w, const char *k, size_t n)
{
	sep(w);
	/* One copy for the usual short key: '"', the key, '"', ':'. */
	if (n + 3 <= sizeof w->buf - w->n) {
		char *p = w->buf + w->n;
		p[0] = '"';
		memcpy(p + 1, k, n);
		p[n + 1] = '"';
		p[n + 2] = ':';
		w->n += n + 3;
	} else {
		put(w, "\"", 1);
		put(w, k, n);
		put(w, "\":", 2);
	}
	w->after_key = true;
}

/* ------------------------------------------------------------ numbers */

/* v in decimal, no comma. */
static void put_u(cli_jw *w, uint64_t v)
{
	char d[24];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, d + i, sizeof d - i);
}

void cli_jw_null(cli_jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void cli_jw_bool(cli_jw *w, bool b)
{
	sep(w);
	if (b)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void cli_jw_uint(cli_jw *w, uint64_t v)
{
	sep(w);
	put_u(w, v);
}

void cli_jw_int(cli_jw *w, int64_t v)
{
	sep(w);
	if (v < 0) {
		put(w, "-", 1);
		/* -(v + 1) + 1: INT64_MIN has no positive twin. */
		put_u(w, (uint64_t)(-(v + 1)) + 1u);
	} else {
		put_u(w, (uint64_t)v);
	}
}

void cli_jw_fixed(cli_jw *w, uint64_t v, unsigned places)
{
	uint64_t scale = 1;
	if (places > 9)
		places = 9;
	for (unsigned i = 0; i < places; i++)
		scale *= 10;
	sep(w);
	put_u(w, v / scale);
	if (places == 0)
		return;
	char d[10];
	uint64_t frac = v % scale;
	d[0] = '.';
	for (unsigned i = places; i > 0; i--) {
		d[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	put(w, d, places + 1);
}

void cli_jw_double(cli_jw *w, double v, int places)
{
	/* Room for any double in "%f" (DBL_MAX has 309 digits). */
	char t[400];
	int n = snprintf(t, sizeof t, "%.*f", places, v);
	sep(w);
	if (n > 0 && (size_t)n < sizeof t)
		put(w, t, (size_t)n);
	else
		put(w, "null", 4);
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
	put(w, e, sizeof e);
}

/* The string with its quotes, no comma. */
static void put_string(cli_jw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	put(w, "\"", 1);
	for (size_t i = 0; i < n;) {
		/* Plain printable ASCII goes out in one piece. */
		size_t run = i;
		while (run < n && json_plain[s[run]])
			run++;
		if (run > i) {
			put(w, str + i, run - i);
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
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default:
			/* C0, DEL, C1, and the JavaScript line breaks. */
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			    cp == 0x2028 || cp == 0x2029)
				put_uescape(w, cp);
			else
				put(w, str + i, len);
		}
		i += len;
	}
	put(w, "\"", 1);
}

void cli_jw_string(cli_jw *w, const char *s, size_t n)
{
	sep(w);
	put_string(w, s, n);
}

void cli_jw_str(cli_jw *w, const char *s)
{
	sep(w);
	if (s)
		put_string(w, s, strlen(s));
	else
		put(w, "null", 4);
}

void cli_jw_kstr(cli_jw *w, const char *k, const char *s)
{
	cli_jw_key_n(w, k, strlen(k));
	cli_jw_str(w, s);
}

void cli_jw_kuint(cli_jw *w, const char *k, uint64_t v)
{
	cli_jw_key_n(w, k, strlen(k));
	cli_jw_uint(w, v);
}

void cli_jw_kbool(cli_jw *w, const char *k, bool b)
{
	cli_jw_key_n(w, k, strlen(k));
	cli_jw_bool(w, b);
}

void cli_json_string(FILE *f, const char *s, size_t n)
{
	cli_jw w;
	cli_jw_init(&w, f);
	put_string(&w, s, n);
	cli_jw_flush(&w);
}
