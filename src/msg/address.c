/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * address.c - addresses in header fields: the reverse-path of
 * Return-Path (RFC 5321 §4.1.2) and the first mailbox of an address or
 * mailbox list (RFC 5322 §3.4: From, Sender, Reply-To, To), with display
 * names (RFC 2047 encoded words decoded), comments, quoted local parts,
 * groups and obsolete routes.
 */
#include "msg_mime.h"

#include <string.h>

/* "@a,@b:addr" (a source route, RFC 5321 §4.1.2, or an obsolete route,
 * RFC 5322 §4.4) is addr. */
static msgp_view drop_route(msgp_view v)
{
	if (v.len && v.p[0] == '@') {
		const char *colon = memchr(v.p, ':', v.len);
		if (colon)
			v = view(colon + 1, v.len - (size_t)(colon - v.p) - 1);
	}
	return v;
}

/* RFC 5321 §4.1.2 Reverse-path in Return-Path: "<>", "<addr>", or (as
 * some write it) a bare address. */
void msgp__parse_return_path(msgp_view v, msgp_msg *m)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	msgp__cur_cfws(&c);
	msgp_view rest = msgp__trim(view(v.p + c.i, v.len - c.i));
	if (rest.len && rest.p[0] == '<') {
		const char *gt = memchr(rest.p, '>', rest.len);
		rest = view(rest.p + 1,
			    gt ? (size_t)(gt - rest.p) - 1 : rest.len - 1);
		rest = drop_route(msgp__trim(rest));
	} else {
		/* Up to the first WSP or comment. */
		size_t k = 0;
		while (k < rest.len && !is_space((unsigned char)rest.p[k]) &&
		       rest.p[k] != '(')
			k++;
		rest.len = k;
	}
	m->return_path = rest.len ? rest : view(NULL, 0);
	m->null_sender = rest.len == 0;
	m->has_return_path = true;
}

/* An address without comments and without WSP outside quoted strings. */
static msgp_view clean_addr(ctx *x, msgp_view v)
{
	char *d = msgp__get(x, v.len);
	if (!d)
		return view(NULL, 0);
	size_t o = 0;
	cur c = {v.p, v.len, 0};
	while (!cur_end(&c)) {
		unsigned char ch = cur_peek(&c);
		if (ch == '(') {
			(void)msgp__cur_comment(&c);
		} else if (ch == '"') {
			msgp_view q = msgp__cur_quoted(&c);
			memcpy(d + o, q.p, q.len);
			o += q.len;
		} else {
			if (!is_space(ch))
				d[o++] = (char)ch;
			c.i++;
		}
	}
	return view(d, o);
}

/* One mailbox (RFC 5322 §3.4): [display-name] <addr-spec>, or
 * addr-spec. Fills a when it holds an '@'. */
static void parse_mailbox(ctx *x, msgp_view v, msgp_addr *a)
{
	if (!v.p)
		return; /* after a failed allocation */
	cur c = {v.p, v.len, 0};
	size_t lt = msgp__cur_find(&c, '<');
	msgp_view spec = v, disp = view(NULL, 0);
	if (lt < v.len) {
		const char *gt = memchr(v.p + lt, '>', v.len - lt);
		size_t e = gt ? (size_t)(gt - v.p) : v.len;
		spec = view(v.p + lt + 1, e - lt - 1);
		disp = msgp__trim(view(v.p, lt));
		spec = drop_route(msgp__trim(spec));
	}
	msgp_view addr = clean_addr(x, spec);
	/* The domain follows the last '@' outside quoted strings. */
	size_t at = SIZE_MAX;
	bool q = false;
	for (size_t i = 0; i < addr.len; i++) {
		if (addr.p[i] == '\\' && q)
			i++;
		else if (addr.p[i] == '"')
			q = !q;
		else if (addr.p[i] == '@' && !q)
			at = i;
	}
	if (at == SIZE_MAX || at == 0 || at + 1 >= addr.len)
		return;
	a->ok = true;
	a->addr = addr;
	a->local = view(addr.p, at);
	a->domain = msgp__drop_dot(view(addr.p + at + 1, addr.len - at - 1));
	/* RFC 2047 §5 (3): encoded words in a display name. */
	if (disp.len)
		a->display = msgp__mime_words(x, msgp__unquote(x, disp));
}

/* An address-list or mailbox-list (RFC 5322 §3.4): mailboxes separated
 * by ',', groups "name: a, b;". The first mailbox goes into a. */
void msgp__parse_addr_field(ctx *x, msgp_view v, msgp_addr *a)
{
	if (!v.p)
		return; /* after a failed allocation */
	a->fields++;
	if (a->present)
		return;
	a->present = true;
	cur c = {v.p, v.len, 0};
	size_t start = 0;
	bool angle = false, seen_at = false;
	for (;;) {
		bool end = cur_end(&c);
		unsigned char ch = end ? ',' : cur_peek(&c);
		if (!end && ch == '(') {
			(void)msgp__cur_comment(&c);
			continue;
		}
		if (!end && ch == '"') {
			(void)msgp__cur_quoted(&c);
			continue;
		}
		if (ch == '<')
			angle = true;
		else if (ch == '>')
			angle = false;
		else if (ch == '@')
			seen_at = true;
		if (!angle && ch == ':' && !seen_at) {
			/* A group's display name ends here. */
			start = c.i + 1;
		} else if ((!angle || end) && (ch == ',' || ch == ';')) {
			msgp_view one =
			    msgp__trim(view(v.p + start, c.i - start));
			if (one.len) {
				msgp_addr tmp = {0};
				parse_mailbox(x, one, &tmp);
				if (tmp.ok) {
					a->count++;
					if (!a->ok) {
						tmp.present = a->present;
						tmp.fields = a->fields;
						tmp.count = a->count;
						*a = tmp;
					}
				}
			}
			start = c.i + 1;
			seen_at = false;
		}
		if (end)
			break;
		c.i++;
	}
}
