/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hdrfold.c - our header fields made fit for a message (hdrfold.h). The
 * library writes Received-SPF (RFC 7208 §9.1) and Authentication-Results
 * (RFC 8601) on one line; from a long legal HELO name and sender that line
 * passed RFC 5322's 998-octet limit (§2.1.1). The milter can send a
 * folded field; Postfix's PREPEND takes one line, so there the field is
 * shortened instead. All three walk the field with the same little state:
 * inside a quoted-string, inside a comment (they nest), after a
 * backslash (a quoted-pair).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hdrfold.h"

/* Where a walk over a field stands (RFC 5322 §3.2.2, §3.2.4). */
typedef struct walk {
	bool quote;   /* in a quoted-string */
	unsigned cmt; /* comment depth */
	bool esc;     /* the octet after a backslash */
} walk;

/* Takes octet c into w. */
static void step(walk *w, char c)
{
	if (w->esc)
		w->esc = false;
	else if ((w->quote || w->cmt) && c == '\\')
		w->esc = true;
	else if (c == '"' && !w->cmt)
		w->quote = !w->quote;
	else if (c == '(' && !w->quote)
		w->cmt++;
	else if (c == ')' && !w->quote && w->cmt)
		w->cmt--;
}

/* Where the value of "Name: value" starts (no break before it). */
static size_t value_start(const char *h)
{
	const char *colon = strchr(h, ':');
	return colon ? (size_t)(colon - h) + 2 : 0;
}

char *spfkitd_header_fold(const char *h)
{
	size_t n = strlen(h);
	/* At most one LF per octet, and the NUL. */
	char *out = malloc(2 * n + 1);
	if (!out)
		return NULL;
	size_t o = 0, line = 0, brk = SIZE_MAX, body = value_start(h);
	walk w = {0};
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		/* FWS may be folded anywhere but inside a quoted-string (and
		 * not right after the field name). */
		if (c == ' ' && !w.quote && !w.esc && i > body && o > line)
			brk = o;
		out[o++] = c;
		step(&w, c);
		if (o - line > SPFKITD_LINE_SHOULD && brk != SIZE_MAX) {
			memmove(out + brk + 1, out + brk, o - brk);
			out[brk] = '\n';
			o++;
			line = brk +
			       1; /* the continuation starts with the space */
			brk = SIZE_MAX;
		}
	}
	out[o] = '\0';
	return out;
}

size_t spfkitd_header_fit(char *h, size_t max)
{
	size_t n = strlen(h);
	if (n <= max)
		return n;
	/* Comments, with the space before each. */
	size_t o = 0;
	walk w = {0};
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		bool was = w.cmt > 0;
		step(&w, c);
		if (was || w.cmt) {
			if (!was && o && h[o - 1] == ' ')
				o--;
			continue;
		}
		h[o++] = c;
	}
	h[o] = '\0';
	n = o;
	/* Then elements from the end, at spaces outside quoted-strings. */
	size_t body = value_start(h);
	while (n > max) {
		size_t cut = 0;
		w = (walk){0};
		for (size_t i = 0; i < n; i++) {
			if (h[i] == ' ' && !w.quote && !w.esc && i > body)
				cut = i;
			step(&w, h[i]);
		}
		if (!cut)
			break; /* one element longer than max: left whole */
		n = cut;
		while (n > body && (h[n - 1] == ';' || h[n - 1] == ' '))
			n--;
		h[n] = '\0';
	}
	return n;
}

/* The value of a hexadecimal digit as the library writes them (0-9,
 * A-F), or -1. */
static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The length of the UTF-8 sequence at s (n octets) of a character beyond
 * ASCII and C1 (RFC 3629 §4: no overlong forms, no surrogates, at most
 * U+10FFFF); 0 when there is none. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the second octet's range */
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
		if (b == 0xc2)
			lo = 0xa0; /* U+0080-U+009F: C1 controls */
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* The octet of the escape "\\xHH" at p (5 octets), or -1. */
static int escape_at(const char *p)
{
	if (p[0] != '\\' || p[1] != '\\' || p[2] != 'x')
		return -1;
	int a = hex(p[3]), b = a < 0 ? -1 : hex(p[4]);
	return b < 0 ? -1 : a * 16 + b;
}

void spfkitd_header_utf8(char *h)
{
	size_t n = strlen(h), o = 0, i = 0;
	while (i < n) {
		/* A run of escapes: the octets they stand for. */
		unsigned char run[256];
		size_t k = 0, j = i;
		int v;
		while (k < sizeof run && n - j >= 5 &&
		       (v = escape_at(h + j)) >= 0) {
			run[k++] = (unsigned char)v;
			j += 5;
		}
		if (k == 0) {
			h[o++] = h[i++];
			continue;
		}
		for (size_t p = 0; p < k;) {
			size_t len = utf8_char(run + p, k - p);
			if (len) {
				memcpy(h + o, run + p, len);
				o += len;
				p += len;
			} else {
				/* o <= i + 5p: the escape moves left, if at
				 * all. */
				memmove(h + o, h + i + 5 * p, 5);
				o += 5;
				p++;
			}
		}
		i = j;
	}
	h[o] = '\0';
}
