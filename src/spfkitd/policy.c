/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - the Postfix policy delegation protocol (Postfix
 * SMTPD_POLICY_README, "Policy protocol description"): a request is a
 * list of name=value lines ended by an empty line. The framer finds that
 * empty line in a stream whatever way the bytes arrive; the parser reads
 * one request into views. No allocation, no I/O, no writes into input:
 * this file compiles with its header alone, for the fuzzer.
 */
#include <string.h>

#include "policy.h"

/* ASCII lower case, so the locale never changes a comparison. */
static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

bool spfkitd_view_eq(spfkitd_view v, const char *s)
{
	size_t n = strlen(s);
	return v.ptr && v.len == n && memcmp(v.ptr, s, n) == 0;
}

bool spfkitd_view_ieq(spfkitd_view v, const char *s)
{
	size_t n = strlen(s);
	if (!v.ptr || v.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)v.ptr[i]) !=
		    lower((unsigned char)s[i]))
			return false;
	return true;
}

/* Scans buf from *pos for an empty line, keeping *mid_line up to date.
 * Returns true with *end just past the empty line's "\n". Otherwise *pos
 * is where scanning must resume (a "\r" at a line start whose next byte
 * has not arrived is left unscanned). */
static bool find_blank(const char *buf, size_t len, size_t *pos, bool *mid_line,
		       size_t *end)
{
	size_t i = *pos;
	while (i < len) {
		if (!*mid_line) {
			if (buf[i] == '\n') {
				*end = *pos = i + 1;
				return true;
			}
			if (buf[i] == '\r') {
				if (i + 1 == len)
					break; /* wait for the byte after it */
				if (buf[i + 1] == '\n') {
					*end = *pos = i + 2;
					return true;
				}
			}
		}
		/* The rest of the line, at memchr speed. */
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl) {
			*mid_line = true;
			i = len;
			break;
		}
		*mid_line = false;
		i = (size_t)(nl - buf) + 1;
	}
	*pos = i;
	return false;
}

spfkitd_frame_status spfkitd_policy_frame(spfkitd_framer *f, const char *buf,
					  size_t len, size_t *out_len)
{
	size_t end = 0;
	*out_len = 0;
	if (f->discarding) {
		/* The caller dropped what we looked at: start at 0. */
		size_t pos = 0;
		if (find_blank(buf, len, &pos, &f->mid_line, &end)) {
			*f = (spfkitd_framer){0};
			*out_len = end;
			return SPFKITD_FRAME_OVERSIZED;
		}
		f->scanned = 0;
		f->discarded += pos;
		*out_len = pos;
		return pos ? SPFKITD_FRAME_DISCARD : SPFKITD_FRAME_MORE;
	}
	size_t pos = f->scanned <= len ? f->scanned : len;
	if (find_blank(buf, len, &pos, &f->mid_line, &end)) {
		if (end > SPFKITD_POLICY_MAX_BYTES) {
			*f = (spfkitd_framer){0};
			*out_len = end;
			return SPFKITD_FRAME_OVERSIZED;
		}
		*out_len = end;
		return SPFKITD_FRAME_REQUEST;
	}
	f->scanned = pos;
	if (pos > SPFKITD_POLICY_MAX_BYTES) {
		/* No end in sight within the cap: drop what was scanned and
		 * keep dropping up to the blank line. */
		f->discarding = true;
		f->discarded = pos;
		f->scanned = 0;
		*out_len = pos;
		return SPFKITD_FRAME_DISCARD;
	}
	return SPFKITD_FRAME_MORE;
}

const char *spfkitd_policy_strerror(spfkitd_policy_error e)
{
	switch (e) {
	case SPFKITD_POLICY_OK: return "ok";
	case SPFKITD_POLICY_EMPTY: return "empty request";
	case SPFKITD_POLICY_NUL: return "NUL byte in request";
	case SPFKITD_POLICY_NO_EQUALS: return "attribute line without '='";
	case SPFKITD_POLICY_EMPTY_NAME: return "attribute without a name";
	case SPFKITD_POLICY_TOO_MANY: return "too many attributes";
	case SPFKITD_POLICY_TOO_BIG: return "request too large";
	case SPFKITD_POLICY_NO_REQUEST: return "no request= attribute";
	case SPFKITD_POLICY_BAD_REQUEST:
		return "request= is not smtpd_access_policy";
	case SPFKITD_POLICY_UNTERMINATED: return "no empty line at the end";
	}
	return "unknown error";
}

/* The attributes kept, by name (SMTPD_POLICY_README lists them). */
#define ATTR(name)                                                             \
	{                                                                      \
#name, offsetof(spfkitd_policy_req, name)                      \
	}
static const struct {
	const char *name;
	size_t off;
} attrs[] = {
    ATTR(request),
    ATTR(protocol_state),
    ATTR(protocol_name),
    ATTR(client_address),
    ATTR(client_name),
    ATTR(reverse_client_name),
    ATTR(helo_name),
    ATTR(sender),
    ATTR(recipient),
    ATTR(recipient_count),
    ATTR(queue_id),
    ATTR(instance),
    ATTR(sasl_method),
    ATTR(sasl_username),
    ATTR(sasl_sender),
    ATTR(ccert_subject),
    ATTR(ccert_fingerprint),
    ATTR(encryption_protocol),
    ATTR(size),
    ATTR(etrn_domain),
    ATTR(stress),
    ATTR(server_address),
    ATTR(server_port),
    ATTR(policy_context),
};
#undef ATTR

/* Stores value under name when name is one we keep and not seen yet. */
static void keep(spfkitd_policy_req *r, const char *name, size_t nlen,
		 spfkitd_view value)
{
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		if (strlen(attrs[i].name) != nlen ||
		    memcmp(attrs[i].name, name, nlen) != 0)
			continue;
		spfkitd_view *slot =
		    (spfkitd_view *)(void *)((char *)r + attrs[i].off);
		if (!slot->ptr)
			*slot = value;
		return;
	}
}

/* protocol_state= to a state. */
static spfkitd_state state_of(spfkitd_view v)
{
	static const struct {
		const char *name;
		spfkitd_state state;
	} states[] = {
	    {"CONNECT", SPFKITD_STATE_CONNECT},    {"EHLO", SPFKITD_STATE_EHLO},
	    {"HELO", SPFKITD_STATE_EHLO},          {"MAIL", SPFKITD_STATE_MAIL},
	    {"RCPT", SPFKITD_STATE_RCPT},          {"DATA", SPFKITD_STATE_DATA},
	    {"END-OF-MESSAGE", SPFKITD_STATE_EOM},
	};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (spfkitd_view_ieq(v, states[i].name))
			return states[i].state;
	return SPFKITD_STATE_OTHER;
}

spfkitd_policy_error spfkitd_policy_parse(const char *buf, size_t len,
					  spfkitd_policy_req *out)
{
	spfkitd_policy_req r = {0};
	*out = r;
	if (len > SPFKITD_POLICY_MAX_BYTES)
		return SPFKITD_POLICY_TOO_BIG;
	if (len && memchr(buf, '\0', len))
		return SPFKITD_POLICY_NUL;
	size_t pos = 0;
	for (;;) {
		if (pos >= len) {
			out->nattrs = r.nattrs;
			return SPFKITD_POLICY_UNTERMINATED;
		}
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		if (!nl) {
			out->nattrs = r.nattrs;
			return SPFKITD_POLICY_UNTERMINATED;
		}
		size_t n = (size_t)(nl - line);
		pos += n + 1;
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* the empty line: the request is complete */
		if (++r.nattrs > SPFKITD_POLICY_MAX_ATTRS) {
			out->nattrs = r.nattrs;
			return SPFKITD_POLICY_TOO_MANY;
		}
		const char *eq = memchr(line, '=', n);
		if (!eq) {
			out->nattrs = r.nattrs;
			return SPFKITD_POLICY_NO_EQUALS;
		}
		size_t nlen = (size_t)(eq - line);
		if (nlen == 0) {
			out->nattrs = r.nattrs;
			return SPFKITD_POLICY_EMPTY_NAME;
		}
		spfkitd_view value = {eq + 1, n - nlen - 1};
		keep(&r, line, nlen, value);
	}
	if (r.nattrs == 0)
		return SPFKITD_POLICY_EMPTY;
	if (!r.request.ptr) {
		out->nattrs = r.nattrs;
		return SPFKITD_POLICY_NO_REQUEST;
	}
	if (!spfkitd_view_eq(r.request, "smtpd_access_policy")) {
		out->nattrs = r.nattrs;
		return SPFKITD_POLICY_BAD_REQUEST;
	}
	r.state = state_of(r.protocol_state);
	*out = r;
	return SPFKITD_POLICY_OK;
}
