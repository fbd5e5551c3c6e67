/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lex.c - the lexical layer of the message parser: (pointer, length)
 * views compared and trimmed without writing into the input, address
 * literals, and a forward-only cursor that knows RFC 5322's comments
 * (§3.2.2) and quoted strings (§3.2.4) and reads the tokens and
 * key=value pairs of structured field values.
 */
#include "msg_internal.h"

#include <arpa/inet.h>
#include <string.h>

/* ------------------------------------------------------------ views */

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

msgp_view msgp__trim(msgp_view v)
{
	while (v.len && is_space((unsigned char)v.p[0])) {
		v.p++;
		v.len--;
	}
	while (v.len && is_space((unsigned char)v.p[v.len - 1]))
		v.len--;
	if (v.len == 0)
		v.p = v.p ? v.p : NULL;
	return v;
}

bool msgp_eq(msgp_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.p || v.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)v.p[i]) != lower((unsigned char)s[i]))
			return false;
	return true;
}

bool msgp__starts_with(msgp_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.p || v.len < n)
		return false;
	return msgp_eq(view(v.p, n), s);
}

size_t msgp__find_ci(msgp_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.p || n == 0 || v.len < n)
		return SIZE_MAX;
	for (size_t i = 0; i + n <= v.len; i++)
		if (msgp_eq(view(v.p + i, n), s))
			return i;
	return SIZE_MAX;
}

msgp_view msgp__drop_dot(msgp_view v)
{
	if (v.len > 1 && v.p[v.len - 1] == '.')
		v.len--;
	return v;
}

msgp_view msgp__drop_angle(msgp_view v)
{
	if (v.len >= 2 && v.p[0] == '<' && v.p[v.len - 1] == '>') {
		v.p++;
		v.len -= 2;
	}
	return v;
}

/* v as a NUL-terminated string in buf (cap octets); false when it is
 * empty or does not fit. */
static bool to_cstr(msgp_view v, char *buf, size_t cap)
{
	if (v.len == 0 || v.len >= cap)
		return false;
	memcpy(buf, v.p, v.len);
	buf[v.len] = '\0';
	return true;
}

bool msgp__ip_text(msgp_view v, msgp_view *out)
{
	char buf[64];
	unsigned char bin[16];
	if (msgp__starts_with(v, "ipv6:")) {
		v.p += 5;
		v.len -= 5;
	}
	if (!to_cstr(v, buf, sizeof buf))
		return false;
	if (inet_pton(AF_INET, buf, bin) != 1 &&
	    inet_pton(AF_INET6, buf, bin) != 1)
		return false;
	*out = v;
	return true;
}

bool msgp_ip_internal(msgp_view ip)
{
	char buf[64];
	unsigned char b[16];
	if (!to_cstr(ip, buf, sizeof buf))
		return true;
	if (inet_pton(AF_INET, buf, b) == 1) {
		return b[0] == 10 || b[0] == 127 || b[0] == 0 ||
		       (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) ||
		       (b[0] == 169 && b[1] == 254) ||
		       (b[0] == 100 && (b[1] & 0xc0) == 64);
	}
	if (inet_pton(AF_INET6, buf, b) == 1) {
		static const unsigned char loop[16] = {[15] = 1};
		static const unsigned char any[16] = {0};
		static const unsigned char mapped[12] = {
		    [10] = 0xff, [11] = 0xff};
		if (memcmp(b, mapped, 12) == 0) {
			char v4[20];
			if (!inet_ntop(AF_INET, b + 12, v4, sizeof v4))
				return true;
			return msgp_ip_internal(view(v4, strlen(v4)));
		}
		return memcmp(b, loop, 16) == 0 || memcmp(b, any, 16) == 0 ||
		       (b[0] & 0xfe) == 0xfc ||
		       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
	}
	return true;
}

msgp_view msgp__unquote(ctx *x, msgp_view v)
{
	if (v.len < 2 || v.p[0] != '"')
		return v;
	size_t end = v.p[v.len - 1] == '"' ? v.len - 1 : v.len;
	if (!memchr(v.p + 1, '\\', end - 1))
		return view(v.p + 1, end - 1);
	char *d = msgp__get(x, end);
	if (!d)
		return view(NULL, 0);
	size_t o = 0;
	for (size_t i = 1; i < end; i++) {
		if (v.p[i] == '\\' && i + 1 < end)
			i++;
		d[o++] = v.p[i];
	}
	return view(d, o);
}

/* ------------------------------------------------------------ cursor */

msgp_view msgp__cur_comment(cur *c)
{
	size_t depth = 0, start = c->i + 1;
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		c->i++;
		if (ch == '\\' && !cur_end(c)) {
			c->i++;
		} else if (ch == '(') {
			if (depth < MSGP__COMMENT_DEPTH)
				depth++;
		} else if (ch == ')') {
			if (--depth == 0)
				return view(c->p + start, c->i - 1 - start);
		}
	}
	return view(c->p + start, c->n - start);
}

msgp_view msgp__cur_quoted(cur *c)
{
	size_t start = c->i;
	c->i++;
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		c->i++;
		if (ch == '\\' && !cur_end(c))
			c->i++;
		else if (ch == '"')
			break;
	}
	return view(c->p + start, c->i - start);
}

void msgp__cur_cfws(cur *c)
{
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		if (is_space(ch))
			c->i++;
		else if (ch == '(')
			(void)msgp__cur_comment(c);
		else
			break;
	}
}

size_t msgp__cur_find(cur *c, unsigned char want)
{
	while (!cur_end(c)) {
		unsigned char ch = cur_peek(c);
		if (ch == want)
			return c->i;
		if (ch == '(')
			(void)msgp__cur_comment(c);
		else if (ch == '"')
			(void)msgp__cur_quoted(c);
		else
			c->i++;
	}
	return c->n;
}

tok msgp__cur_token(cur *c, const char *extra)
{
	tok t = {TOK_END, {NULL, 0}};
	while (!cur_end(c) && is_space(cur_peek(c)))
		c->i++;
	if (cur_end(c))
		return t;
	unsigned char ch = cur_peek(c);
	if (ch == '(') {
		t.kind = TOK_COMMENT;
		t.v = msgp__cur_comment(c);
		return t;
	}
	if (ch == ';') {
		c->i++;
		t.kind = TOK_SEMI;
		t.v = view(c->p + c->i - 1, 1);
		return t;
	}
	size_t start = c->i;
	if (extra && strchr(extra, ch)) {
		c->i++;
		t.kind = TOK_WORD;
		t.v = view(c->p + start, 1);
		return t;
	}
	while (!cur_end(c)) {
		ch = cur_peek(c);
		if (is_space(ch) || ch == '(' || ch == ';' ||
		    (extra && strchr(extra, ch)))
			break;
		if (ch == '"') {
			(void)msgp__cur_quoted(c);
		} else if (ch == '<') {
			const char *gt = memchr(c->p + c->i, '>', c->n - c->i);
			c->i = gt ? (size_t)(gt - c->p) + 1 : c->n;
		} else {
			c->i++;
		}
	}
	t.kind = TOK_WORD;
	t.v = view(c->p + start, c->i - start);
	return t;
}

bool msgp__read_pair(ctx *x, cur *c, msgp_view *key, msgp_view *val)
{
	msgp__cur_cfws(c);
	if (cur_end(c) || cur_peek(c) == ';')
		return false;
	tok k = msgp__cur_token(c, "=");
	if (k.kind != TOK_WORD)
		return false;
	msgp__cur_cfws(c);
	if (cur_peek(c) != '=')
		return false;
	c->i++;
	msgp__cur_cfws(c);
	tok v = msgp__cur_token(c, NULL);
	*key = k.v;
	*val = v.kind == TOK_WORD ? msgp__unquote(x, v.v) : view(NULL, 0);
	return true;
}
