/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_milter.c - the milter protocol code of spfkitd (src/spfkitd/
 * milter.c) on hostile MTA bytes. The input is one connection's stream of
 * packets (4-octet length, command, payload); every packet the framer
 * finds goes to the parser of its command, as milter_session.c hands them over,
 * plus the Authentication-Results helpers on every header value and the
 * reply builder on the payload as text. Checks what milter.h promises:
 * the framer takes no more than it was given and stops for good on a bad
 * length, every view lies inside the packet, strings taken off a payload
 * hold no NUL, an authserv-id holds no control octet and fits, a reply is
 * NUL-terminated within its buffer with every '%' doubled.
 */
#include "fuzz_common.h"
#include "milter.h"

static bool inside(spfkitd_view v, const char *buf, size_t len)
{
	if (!v.ptr)
		return v.len == 0;
	return v.ptr >= buf && (size_t)(v.ptr - buf) <= len &&
	       v.len <= len - (size_t)(v.ptr - buf);
}

static void no_nul(spfkitd_view v, const char *what)
{
	FZ_ASSERT(!v.ptr || !memchr(v.ptr, '\0', v.len), "NUL inside %s", what);
}

static void check_authres(spfkitd_view value)
{
	char id[256];
	if (spfkitd_authres_id(value, id, sizeof id)) {
		size_t n = strlen(id);
		FZ_ASSERT(n > 0 && n < sizeof id, "authserv-id length %zu", n);
		/* RFC 8601 with RFC 6532: UTF-8 may appear, controls not. */
		for (size_t i = 0; i < n; i++)
			FZ_ASSERT((unsigned char)id[i] >= 0x20 &&
				      (unsigned char)id[i] != 0x7f,
				  "authserv-id octet 0x%02x",
				  (unsigned char)id[i]);
		FZ_ASSERT(spfkitd_authres_claims(value, id),
			  "a value does not claim its own authserv-id");
	}
	char tiny[4];
	(void)spfkitd_authres_id(value, tiny, sizeof tiny);
	(void)spfkitd_authres_claims(value, "mx.example");
}

static void check_packet(char cmd, spfkitd_view d)
{
	switch (cmd) {
	case SMFIC_OPTNEG: {
		spfkitd_milter_opts mta, ours;
		if (spfkitd_milter_parse_optneg(d, &mta) &&
		    spfkitd_milter_negotiate(&mta, &ours))
			FZ_ASSERT(ours.version <= 6 && ours.version >= 2 &&
				      (ours.actions & ~mta.actions) == 0,
				  "negotiated beyond the MTA's offer");
		break;
	}
	case SMFIC_CONNECT: {
		spfkitd_milter_connect c;
		if (spfkitd_milter_parse_connect(d, &c)) {
			FZ_ASSERT(inside(c.host, d.ptr, d.len) &&
				      inside(c.address, d.ptr, d.len),
				  "connect views outside");
			no_nul(c.host, "host");
			no_nul(c.address, "address");
		}
		break;
	}
	case SMFIC_MAIL:
	case SMFIC_RCPT: {
		spfkitd_view a;
		if (spfkitd_milter_parse_addr(d, &a)) {
			FZ_ASSERT(inside(a, d.ptr, d.len), "addr outside");
			no_nul(a, "address");
		}
		break;
	}
	case SMFIC_HEADER: {
		spfkitd_view name, value;
		if (spfkitd_milter_parse_header(d, &name, &value)) {
			FZ_ASSERT(inside(name, d.ptr, d.len) &&
				      inside(value, d.ptr, d.len),
				  "header views outside");
			no_nul(name, "name");
			no_nul(value, "value");
			(void)spfkitd_view_ieq(name, "Authentication-Results");
			check_authres(value);
		}
		break;
	}
	case SMFIC_MACRO: {
		spfkitd_view v;
		if (spfkitd_milter_macro(d, "auth_authen", &v))
			FZ_ASSERT(inside(v, d.ptr, d.len), "macro outside");
		if (spfkitd_milter_macro(d, "i", &v))
			FZ_ASSERT(inside(v, d.ptr, d.len), "macro outside");
		break;
	}
	default: break;
	}
	/* Whatever the command, the string walker stays inside. */
	spfkitd_view rest = d, s;
	while (spfkitd_milter_string(&rest, &s)) {
		FZ_ASSERT(inside(s, d.ptr, d.len) && inside(rest, d.ptr, d.len),
			  "string outside");
		no_nul(s, "string");
	}
	check_authres(d);
}

static void check_reply(const uint8_t *p, size_t n)
{
	char text[512];
	size_t tn = n < sizeof text - 1 ? n : sizeof text - 1;
	memcpy(text, p, tn);
	text[tn] = '\0';
	size_t pct = 0;
	for (size_t i = 0; text[i]; i++)
		pct += text[i] == '%';
	char buf[64], big[2048];
	size_t w =
	    spfkitd_milter_reply_text(buf, sizeof buf, 550, "5.7.23", text);
	FZ_ASSERT(w < sizeof buf && buf[w] == '\0', "reply not cut at cap");
	w = spfkitd_milter_reply_text(big, sizeof big, 550, "5.7.23", text);
	FZ_ASSERT(w < sizeof big && big[w] == '\0', "reply not terminated");
	size_t out_pct = 0;
	for (size_t i = 0; big[i]; i++)
		out_pct += big[i] == '%';
	FZ_ASSERT(w == sizeof big - 1 || out_pct == 2 * pct,
		  "%zu '%%' in, %zu out", pct, out_pct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t left = size;
	check_reply(data, size);
	for (;;) {
		char cmd = 0;
		spfkitd_view d = {NULL, 0};
		size_t total = 0;
		spfkitd_mframe_status st =
		    spfkitd_milter_frame(buf, left, &cmd, &d, &total);
		if (st != SPFKITD_MFRAME_PACKET)
			break; /* MORE: the stream ended; BAD: it is over */
		FZ_ASSERT(total >= SPFKITD_MILTER_HEAD && total <= left,
			  "packet of %zu in %zu", total, left);
		FZ_ASSERT(inside(d, buf, total) &&
			      d.len == total - SPFKITD_MILTER_HEAD,
			  "payload view");
		check_packet(cmd, d);
		buf += total;
		left -= total;
	}
	return 0;
}
