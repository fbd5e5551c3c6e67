/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * text.c - escaping for people (see text.h): into a buffer for messages,
 * through the buffered writer, or straight to a stream.
 */
#include "text.h"

#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

/* Does octet c go out as it is? */
static bool plain(unsigned char c, bool escape_space)
{
	return cli__plain[c] > (unsigned char)escape_space;
}

void cli_escape(char *dst, size_t cap, const char *s, size_t n, size_t max)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t unit = plain(c, false) ? 1 : 4;
		/* Room for this unit, "..." and the NUL. */
		if (i >= max || cap - o < unit + 4) {
			if (cap - o >= 4) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (unit == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hexdig[c >> 4];
			dst[o++] = hexdig[c & 15];
		}
	}
	dst[o] = '\0';
}

const char *cli_shown_n(const char *s, size_t n)
{
	static char buf[CLI_SHOW_MAX * 4 + 8];
	cli_escape(buf, sizeof buf, s, n, CLI_SHOW_MAX);
	return buf;
}

const char *cli_shown(const char *s)
{
	return cli_shown_n(s, strlen(s));
}

/* Does (s, n) go out as it is, every octet plain()? The table's answer
 * as arithmetic, one reduction with no early exit so that the compiler
 * can do it a vector at a time: a batch line is written through here. */
static bool all_plain(const unsigned char *u, size_t n, bool escape_space)
{
	/* Octet-wide lanes: an unsigned accumulator made the vectors four
	 * times narrower. */
	unsigned char bad = 0;
	unsigned char space = escape_space ? ' ' : 0;
	for (size_t i = 0; i < n; i++)
		bad |=
		    (unsigned char)(((unsigned char)(u[i] - 0x20u) >= 0x5fu) |
				    (u[i] == '\\') | (u[i] == space));
	return !bad;
}

void cli_jw_safe(cli_jw *w, const char *s, size_t n, bool escape_space)
{
	const unsigned char *u = (const unsigned char *)s;
	if (all_plain(u, n, escape_space)) {
		cli_jw_raw(w, s, n);
		return;
	}
	for (size_t i = 0; i < n;) {
		/* Plain octets go out in one piece. */
		size_t run = i;
		while (run < n && plain(u[run], escape_space))
			run++;
		if (run > i) {
			cli_jw_raw(w, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = u[i++];
		char e[4] = {'\\', 'x', hexdig[c >> 4], hexdig[c & 15]};
		cli_jw_raw(w, e, sizeof e);
	}
}

void cli_put_safe(FILE *f, const char *s, size_t n)
{
	cli_jw w;
	cli_jw_init(&w, f);
	cli_jw_safe(&w, s, n, false);
	cli_jw_flush(&w);
}

void cli_put_str(FILE *f, const char *s)
{
	if (s)
		cli_put_safe(f, s, strlen(s));
}
