/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter.c - the milter protocol's packets and payloads (milter.h):
 * framing, the MTA's commands as views into the packet, our replies.
 * Everything arriving is hostile: lengths are checked before use, strings
 * end where their NUL is found within the payload or not at all.
 */
#include <stdio.h>
#include <string.h>

#include "milter.h"

/* Reads a big-endian 32-bit number (network order, as every milter
 * integer). */
static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	       (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

spfkitd_mframe_status spfkitd_milter_frame(const char *buf, size_t len,
					   char *cmd, spfkitd_view *data,
					   size_t *total)
{
	if (len < MILTER_LEN_BYTES)
		return SPFKITD_MFRAME_MORE;
	uint32_t n = get32(buf);
	/* n counts the command byte: 0 has no command, and a payload over
	 * the limit is refused as libmilter refuses it. */
	if (n == 0 || (size_t)n - 1 > SPFKITD_MILTER_MAX_DATA)
		return SPFKITD_MFRAME_BAD;
	if (len - MILTER_LEN_BYTES < (size_t)n)
		return SPFKITD_MFRAME_MORE;
	*cmd = buf[MILTER_LEN_BYTES];
	*data = (spfkitd_view){buf + SPFKITD_MILTER_HEAD, (size_t)n - 1};
	*total = MILTER_LEN_BYTES + (size_t)n;
	return SPFKITD_MFRAME_PACKET;
}

bool spfkitd_milter_parse_optneg(spfkitd_view d, spfkitd_milter_opts *out)
{
	if (d.len < MILTER_OPTLEN)
		return false;
	out->version = get32(d.ptr);
	out->actions = get32(d.ptr + 4);
	out->protocol = get32(d.ptr + 8);
	return true;
}

bool spfkitd_milter_negotiate(const spfkitd_milter_opts *mta,
			      spfkitd_milter_opts *ours)
{
	/* Steps we have no use for, and no reply per header: a decision is
	 * made at MAIL FROM, the message is only looked at for its
	 * Authentication-Results headers. Each only when the MTA offers
	 * it; what it does not offer it sends, and gets an answer. */
	const uint32_t skip = SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOEOH |
			      SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR;
	if (mta->version < 2)
		return false;
	ours->version =
	    mta->version < SMFI_PROT_VERSION ? mta->version : SMFI_PROT_VERSION;
	ours->actions = mta->actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	ours->protocol = mta->protocol & skip;
	return true;
}

void spfkitd_milter_negotiate_srs(const spfkitd_milter_opts *mta,
				  spfkitd_milter_opts *ours)
{
	ours->actions |=
	    mta->actions & (SMFIF_CHGFROM | SMFIF_ADDRCPT | SMFIF_DELRCPT);
	ours->protocol &= ~(uint32_t)SMFIP_NORCPT;
}

void spfkitd_milter_put32(unsigned char p[4], uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void spfkitd_milter_optneg_reply(const spfkitd_milter_opts *o,
				 unsigned char out[MILTER_OPTLEN])
{
	spfkitd_milter_put32(out, o->version);
	spfkitd_milter_put32(out + 4, o->actions);
	spfkitd_milter_put32(out + 8, o->protocol);
}

void spfkitd_milter_head(unsigned char head[SPFKITD_MILTER_HEAD], char cmd,
			 size_t n)
{
	/* The length counts the command byte. */
	spfkitd_milter_put32(head, (uint32_t)n + 1);
	head[4] = (unsigned char)cmd;
}

bool spfkitd_milter_string(spfkitd_view *d, spfkitd_view *s)
{
	const char *nul = d->len ? memchr(d->ptr, '\0', d->len) : NULL;
	if (!nul)
		return false;
	size_t n = (size_t)(nul - d->ptr);
	*s = (spfkitd_view){d->ptr, n};
	d->ptr += n + 1;
	d->len -= n + 1;
	return true;
}

bool spfkitd_milter_parse_connect(spfkitd_view d, spfkitd_milter_connect *out)
{
	*out = (spfkitd_milter_connect){.family = SMFIA_UNKNOWN};
	if (!spfkitd_milter_string(&d, &out->host) || d.len < 1)
		return false;
	out->family = d.ptr[0];
	d.ptr++;
	d.len--;
	if (out->family == SMFIA_UNKNOWN)
		return true;
	if (out->family != SMFIA_INET && out->family != SMFIA_INET6 &&
	    out->family != SMFIA_UNIX)
		return false;
	if (d.len < 2)
		return false;
	const unsigned char *u = (const unsigned char *)d.ptr;
	out->port = (unsigned)u[0] << 8 | u[1];
	d.ptr += 2;
	d.len -= 2;
	if (!spfkitd_milter_string(&d, &out->address))
		return false;
	if (out->family == SMFIA_INET6 && out->address.len > 5 &&
	    spfkitd_view_ieq((spfkitd_view){out->address.ptr, 5}, "IPv6:")) {
		out->address.ptr += 5;
		out->address.len -= 5;
	}
	return true;
}

bool spfkitd_milter_parse_addr(spfkitd_view d, spfkitd_view *addr)
{
	spfkitd_view a;
	if (!spfkitd_milter_string(&d, &a))
		return false;
	/* RFC 5321 §4.1.2: Reverse-path = Path / "<>"; a bare address (no
	 * brackets) is taken as it is. */
	if (a.len >= 2 && a.ptr[0] == '<' && a.ptr[a.len - 1] == '>') {
		a.ptr++;
		a.len -= 2;
	}
	*addr = a;
	return true;
}

bool spfkitd_milter_mail_param(spfkitd_view d, const char *keyword)
{
	spfkitd_view a;
	if (!spfkitd_milter_string(&d, &a)) /* the address */
		return false;
	while (spfkitd_milter_string(&d, &a)) {
		/* RFC 5321 §4.1.2: esmtp-keyword ["=" esmtp-value]. */
		size_t n = 0;
		while (n < a.len && a.ptr[n] != '=')
			n++;
		if (spfkitd_view_ieq((spfkitd_view){a.ptr, n}, keyword))
			return true;
	}
	return false;
}

bool spfkitd_milter_parse_header(spfkitd_view d, spfkitd_view *name,
				 spfkitd_view *value)
{
	return spfkitd_milter_string(&d, name) &&
	       spfkitd_milter_string(&d, value) && name->len > 0;
}

bool spfkitd_milter_macro(spfkitd_view d, const char *name, spfkitd_view *value)
{
	if (d.len < 1)
		return false;
	d.ptr++; /* the command the macros are for */
	d.len--;
	size_t n = strlen(name);
	spfkitd_view k, v;
	while (spfkitd_milter_string(&d, &k)) {
		if (!spfkitd_milter_string(&d, &v))
			return false;
		bool braced = k.len == n + 2 && k.ptr[0] == '{' &&
			      k.ptr[k.len - 1] == '}' &&
			      memcmp(k.ptr + 1, name, n) == 0;
		if (braced || (k.len == n && memcmp(k.ptr, name, n) == 0)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------ RFC 8601 */

/* RFC 2045 §5.1 tspecials, which end a token. */
static bool tspecial(unsigned char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL && c != '\0';
}

/* Skips CFWS (RFC 5322 §3.2.2): white space, folding, and comments,
 * which nest and may hold quoted-pairs. False on an unclosed comment. */
static bool skip_cfws(const char *p, size_t n, size_t *i)
{
	size_t depth = 0;
	while (*i < n) {
		unsigned char c = (unsigned char)p[*i];
		if (depth == 0 &&
		    (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			(*i)++;
		} else if (c == '(') {
			depth++;
			(*i)++;
		} else if (depth && c == ')') {
			depth--;
			(*i)++;
		} else if (depth && c == '\\') {
			*i += *i + 1 < n ? 2 : 1;
		} else if (depth) {
			(*i)++;
		} else {
			break;
		}
	}
	return depth == 0;
}

bool spfkitd_authres_id(spfkitd_view value, char *out, size_t cap)
{
	const char *p = value.ptr;
	size_t n = value.len, i = 0, o = 0;
	if (!p || cap == 0 || !skip_cfws(p, n, &i) || i >= n)
		return false;
	if (p[i] == '"') {
		/* quoted-string: up to the closing quote, pairs unescaped */
		for (i++; i < n && p[i] != '"'; i++) {
			if (p[i] == '\\' && i + 1 < n)
				i++;
			/* RFC 5322 qtext and quoted-pair: no control octets
			 * (a NUL would also cut the id short). */
			unsigned char c = (unsigned char)p[i];
			if (c < 0x20 || c == 0x7f)
				return false;
			if (o + 1 >= cap)
				return false;
			out[o++] = p[i];
		}
		if (i >= n)
			return false;
	} else {
		for (; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= ' ' || c >= 0x7f || tspecial(c))
				break;
			if (o + 1 >= cap)
				return false;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o > 0;
}

bool spfkitd_authres_claims(spfkitd_view value, const char *id)
{
	char got[256];
	if (!id || !*id || !spfkitd_authres_id(value, got, sizeof got))
		return false;
	return spfkitd_view_ieq((spfkitd_view){got, strlen(got)}, id);
}

size_t spfkitd_milter_reply_text(char *buf, size_t cap, unsigned code,
				 const char *ext, const char *text)
{
	if (cap == 0)
		return 0;
	char head[32];
	int k = snprintf(head, sizeof head, "%u %s ", code, ext);
	size_t o = 0;
	for (int i = 0; i < k && o + 1 < cap; i++)
		buf[o++] = head[i];
	for (const char *t = text; *t && o + 1 < cap; t++) {
		unsigned char c = (unsigned char)*t;
		if (c < 0x20 || c == 0x7f)
			c = '?'; /* never CR or LF in a reply */
		if (c == '%') {
			if (o + 2 >= cap)
				break; /* never half a pair */
			buf[o++] = '%';
		}
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return o;
}
