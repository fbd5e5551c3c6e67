/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_header.c - Received-SPF and Authentication-Results formatting
 * (lib/header.c): every result, both identities, quoting, hostile values
 * (CR, LF, NUL, control and 8-bit octets), the authserv-id rule and the
 * length caps. Table driven; expected outputs are exact.
 */
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "t.h"

/* Short names for the table. */
#define R_PASS      SPFKIT_RESULT_PASS
#define R_FAIL      SPFKIT_RESULT_FAIL
#define R_SOFTFAIL  SPFKIT_RESULT_SOFTFAIL
#define R_NEUTRAL   SPFKIT_RESULT_NEUTRAL
#define R_NONE      SPFKIT_RESULT_NONE
#define R_TEMPERROR SPFKIT_RESULT_TEMPERROR
#define R_PERMERROR SPFKIT_RESULT_PERMERROR
#define RSPF        SPFKIT_HEADER_RECEIVED_SPF
#define AUTH        SPFKIT_HEADER_AUTHENTICATION_RESULTS

/* The shop's contact form, passing through its provider's relays: the
 * values a case leaves NULL come from here; ABSENT makes a field NULL. */
static const spfkit__header_info base = {.result = SPFKIT_RESULT_PASS,
					 .identity = "mailfrom",
					 .ip = "203.0.113.5",
					 .sender = "forms@shop.example",
					 .helo = "www.shop.example",
					 .domain = "shop.example",
					 .receiver = "mx.example.net"};
static const char absent_mark[] = "";
#define ABSENT absent_mark

/* A case's info over base (unless raw). */
static const char *pick(const char *v, const char *b, int raw)
{
	if (raw)
		return v;
	if (v == ABSENT)
		return NULL;
	return v ? v : b;
}

static spfkit__header_info merged(const spfkit__header_info *h, int raw)
{
	spfkit__header_info m = *h;
	m.identity = pick(h->identity, base.identity, raw);
	m.ip = pick(h->ip, base.ip, raw);
	m.sender = pick(h->sender, base.sender, raw);
	m.helo = pick(h->helo, base.helo, raw);
	m.domain = pick(h->domain, base.domain, raw);
	m.receiver = pick(h->receiver, base.receiver, raw);
	m.mechanism = pick(h->mechanism, base.mechanism, raw);
	m.problem = pick(h->problem, base.problem, raw);
	m.explanation = pick(h->explanation, base.explanation, raw);
	return m;
}

typedef struct hcase {
	const char *name;
	int raw; /* 1: h as it is; 0: over base */
	spfkit__header_info h;
	spfkit_header kind;
	const char *authserv_id;
	int rc;
	const char *want; /* NULL when rc != SPFKIT_OK */
} hcase;

static const hcase cases[] = {
    /* ------------------------------------------------ Received-SPF */
    {"rspf pass",
     0,
     {.result = R_PASS, .mechanism = "include:_spf.mailprovider.example"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (mx.example.net: domain of forms@shop.example "
     "designates 203.0.113.5 as permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"forms@shop.example\"; helo=www.shop.example; "
     "receiver=mx.example.net; identity=mailfrom; "
     "mechanism=\"include:_spf.mailprovider.example\""},
    {"rspf fail",
     0,
     {.result = R_FAIL,
      .sender = "visitor@example.org",
      .domain = "example.org",
      .mechanism = "-all",
      .explanation = "not here"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: fail (mx.example.net: domain of visitor@example.org "
     "does not designate 203.0.113.5 as permitted sender) "
     "client-ip=203.0.113.5; envelope-from=\"visitor@example.org\"; "
     "helo=www.shop.example; receiver=mx.example.net; identity=mailfrom; "
     "mechanism=-all"},
    {"rspf softfail",
     0,
     {.result = R_SOFTFAIL, .mechanism = "~all"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: softfail (mx.example.net: transitioning domain of "
     "forms@shop.example does not designate 203.0.113.5 as permitted "
     "sender) client-ip=203.0.113.5; envelope-from=\"forms@shop.example\"; "
     "helo=www.shop.example; receiver=mx.example.net; identity=mailfrom; "
     "mechanism=~all"},
    {"rspf neutral by default",
     0,
     {.result = R_NEUTRAL},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: neutral (mx.example.net: 203.0.113.5 is neither "
     "permitted nor denied by domain of forms@shop.example) "
     "client-ip=203.0.113.5; envelope-from=\"forms@shop.example\"; "
     "helo=www.shop.example; receiver=mx.example.net; identity=mailfrom; "
     "mechanism=default"},
    {"rspf neutral by ?all",
     0,
     {.result = R_NEUTRAL, .mechanism = "?all"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: neutral (mx.example.net: 203.0.113.5 is neither "
     "permitted nor denied by domain of forms@shop.example) "
     "client-ip=203.0.113.5; envelope-from=\"forms@shop.example\"; "
     "helo=www.shop.example; receiver=mx.example.net; identity=mailfrom; "
     "mechanism=?all"},
    {"rspf none",
     0,
     {.result = R_NONE, .problem = "shop.example publishes no SPF record"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: none (mx.example.net: domain of forms@shop.example "
     "does not designate permitted sender hosts) client-ip=203.0.113.5; "
     "envelope-from=\"forms@shop.example\"; helo=www.shop.example; "
     "receiver=mx.example.net; identity=mailfrom; "
     "problem=\"shop.example publishes no SPF record\""},
    {"rspf temperror",
     0,
     {.result = R_TEMPERROR, .problem = "DNS failure for TXT shop.example"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: temperror (mx.example.net: temporary error in "
     "processing domain of forms@shop.example) client-ip=203.0.113.5; "
     "envelope-from=\"forms@shop.example\"; helo=www.shop.example; "
     "receiver=mx.example.net; identity=mailfrom; "
     "problem=\"DNS failure for TXT shop.example\""},
    {"rspf permerror, problem with quote and backslash",
     0,
     {.result = R_PERMERROR, .problem = "unknown mechanism \"moo\\\" at 15"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: permerror (mx.example.net: permanent error in "
     "processing domain of forms@shop.example) client-ip=203.0.113.5; "
     "envelope-from=\"forms@shop.example\"; helo=www.shop.example; "
     "receiver=mx.example.net; identity=mailfrom; "
     "problem=\"unknown mechanism \\\"moo\\\\x5C\\\" at 15\""},
    {"rspf helo identity",
     0,
     {.result = R_PASS,
      .identity = "helo",
      .sender = "postmaster@www.shop.example",
      .domain = "www.shop.example",
      .mechanism = "a"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (mx.example.net: domain of "
     "postmaster@www.shop.example designates 203.0.113.5 as permitted "
     "sender) client-ip=203.0.113.5; "
     "envelope-from=\"postmaster@www.shop.example\"; "
     "helo=www.shop.example; receiver=mx.example.net; identity=helo; "
     "mechanism=a"},
    {"rspf helo identity with a MAIL FROM: envelope-from is it",
     0,
     {.result = R_FAIL,
      .identity = "helo",
      .sender = "postmaster@www.shop.example",
      .envelope = "visitor@example.org",
      .domain = "www.shop.example",
      .mechanism = "-all"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: fail (mx.example.net: domain of "
     "postmaster@www.shop.example does not designate 203.0.113.5 as "
     "permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"visitor@example.org\"; "
     "helo=www.shop.example; receiver=mx.example.net; identity=helo; "
     "mechanism=-all"},
    {"rspf no receiver, no helo, IPv6",
     0,
     {.result = R_PASS,
      .ip = "2001:db8:113::5",
      .receiver = ABSENT,
      .helo = ABSENT,
      .mechanism = "ip6:2001:db8:113::/48"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (domain of forms@shop.example designates "
     "2001:db8:113::5 as permitted sender) client-ip=\"2001:db8:113::5\"; "
     "envelope-from=\"forms@shop.example\"; identity=mailfrom; "
     "mechanism=\"ip6:2001:db8:113::/48\""},
    {"rspf authserv-id is ignored",
     0,
     {.result = R_PASS, .mechanism = "a"},
     RSPF,
     "ignored",
     SPFKIT_OK,
     "Received-SPF: pass (mx.example.net: domain of forms@shop.example "
     "designates 203.0.113.5 as permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"forms@shop.example\"; helo=www.shop.example; "
     "receiver=mx.example.net; identity=mailfrom; mechanism=a"},
    {"rspf CR LF in sender and helo",
     0,
     {.result = R_FAIL,
      .sender = "x\r\nX-Evil: 1@example.org",
      .helo = "h\r\n\tX-Evil: 2",
      .mechanism = "-all"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: fail (mx.example.net: domain of "
     "x\\\\x0D\\\\x0AX-Evil: 1@example.org does not designate 203.0.113.5 "
     "as permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"x\\\\x0D\\\\x0AX-Evil: 1@example.org\"; "
     "helo=\"h\\\\x0D\\\\x0A\\\\x09X-Evil: 2\"; receiver=mx.example.net; "
     "identity=mailfrom; mechanism=-all"},
    {"rspf NUL ends a value",
     0,
     {.result = R_PASS,
      .sender = "a\0b\r\n@example.org",
      .helo = "h\0\r\nX: y",
      .mechanism = "a"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (mx.example.net: domain of a designates "
     "203.0.113.5 as permitted sender) client-ip=203.0.113.5; "
     "envelope-from=a; helo=h; receiver=mx.example.net; "
     "identity=mailfrom; mechanism=a"},
    {"rspf NUL shown with lengths",
     0,
     {.result = R_PASS,
      .sender = "a\0b\r\n@example.org",
      .sender_len = 17,
      .helo = "h\0\r\nX: y",
      .helo_len = 8,
      .mechanism = "a"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (mx.example.net: domain of "
     "a\\\\x00b\\\\x0D\\\\x0A@example.org designates 203.0.113.5 as "
     "permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"a\\\\x00b\\\\x0D\\\\x0A@example.org\"; "
     "helo=\"h\\\\x00\\\\x0D\\\\x0AX: y\"; receiver=mx.example.net; "
     "identity=mailfrom; mechanism=a"},
    {"ar NUL shown with lengths, helo identity",
     0,
     {.result = R_FAIL,
      .identity = "helo",
      .sender = "postmaster@h\0x",
      .sender_len = 14,
      .helo = "h\0x",
      .helo_len = 3},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=fail (domain of "
     "postmaster@h\\\\x00x does not designate 203.0.113.5 as permitted "
     "sender) smtp.helo=\"h\\\\x00x\""},
    {"rspf 8-bit, DEL and parentheses",
     0,
     {.result = R_PASS,
      .sender = "j\xc3\xb6rg(x)\x7f@example.org",
      .mechanism = "a",
      .receiver = "mx (main)"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (mx \\(main\\): domain of "
     "j\\\\xC3\\\\xB6rg\\(x\\)\\\\x7F@example.org designates 203.0.113.5 "
     "as permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"j\\\\xC3\\\\xB6rg(x)\\\\x7F@example.org\"; "
     "helo=www.shop.example; receiver=\"mx (main)\"; identity=mailfrom; "
     "mechanism=a"},
    {"rspf mechanism with CRLF from a record",
     0,
     {.result = R_PASS, .mechanism = "a:x\r\n.example"},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: pass (mx.example.net: domain of forms@shop.example "
     "designates 203.0.113.5 as permitted sender) client-ip=203.0.113.5; "
     "envelope-from=\"forms@shop.example\"; helo=www.shop.example; "
     "receiver=mx.example.net; identity=mailfrom; "
     "mechanism=\"a:x\\\\x0D\\\\x0A.example\""},
    {"rspf empty values",
     1,
     {.result = R_NONE,
      .identity = "",
      .ip = "",
      .sender = "",
      .helo = "",
      .domain = ""},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: none (domain of  does not designate permitted sender "
     "hosts) client-ip=\"\"; identity=mailfrom"},
    {"rspf NULL strings",
     1,
     {.result = R_NEUTRAL},
     RSPF,
     NULL,
     SPFKIT_OK,
     "Received-SPF: neutral ( is neither permitted nor denied by domain "
     "of ) client-ip=\"\"; identity=mailfrom; mechanism=default"},
    {"rspf bad result",
     0,
     {.result = (spfkit_result)7},
     RSPF,
     NULL,
     SPFKIT_EINVAL,
     NULL},
    {"bad kind",
     0,
     {.result = R_PASS},
     (spfkit_header)2,
     "x",
     SPFKIT_EINVAL,
     NULL},

    /* ------------------------------------- Authentication-Results */
    {"ar pass",
     0,
     {.result = R_PASS, .mechanism = "include:_spf.mailprovider.example"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=pass (domain of "
     "forms@shop.example designates 203.0.113.5 as permitted sender) "
     "smtp.mailfrom=forms@shop.example"},
    {"ar fail with explanation",
     0,
     {.result = R_FAIL,
      .sender = "visitor@example.org",
      .domain = "example.org",
      .mechanism = "-all",
      .explanation = "203.0.113.5 may not send as example.org; see "
		     "https://example.org/mail-policy"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=fail (domain of "
     "visitor@example.org does not designate 203.0.113.5 as permitted "
     "sender) reason=\"203.0.113.5 may not send as example.org; see "
     "https://example.org/mail-policy\" smtp.mailfrom=visitor@example.org"},
    {"ar softfail",
     0,
     {.result = R_SOFTFAIL, .explanation = "unused"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=softfail (transitioning "
     "domain of forms@shop.example does not designate 203.0.113.5 as "
     "permitted sender) smtp.mailfrom=forms@shop.example"},
    {"ar neutral",
     0,
     {.result = R_NEUTRAL},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=neutral (203.0.113.5 is "
     "neither permitted nor denied by domain of forms@shop.example) "
     "smtp.mailfrom=forms@shop.example"},
    {"ar none with problem",
     0,
     {.result = R_NONE, .problem = "shop.example publishes no SPF record"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=none (domain of "
     "forms@shop.example does not designate permitted sender hosts: "
     "shop.example publishes no SPF record) "
     "smtp.mailfrom=forms@shop.example"},
    {"ar temperror",
     0,
     {.result = R_TEMPERROR, .problem = "DNS failure for TXT shop.example"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=temperror (temporary "
     "error in processing domain of forms@shop.example: DNS failure for "
     "TXT shop.example) smtp.mailfrom=forms@shop.example"},
    {"ar permerror, problem with parentheses",
     0,
     {.result = R_PERMERROR, .problem = "bad term (at 12) \"x\""},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=permerror (permanent "
     "error in processing domain of forms@shop.example: bad term \\(at "
     "12\\) \"x\") smtp.mailfrom=forms@shop.example"},
    {"ar helo identity",
     0,
     {.result = R_PASS,
      .identity = "helo",
      .sender = "postmaster@www.shop.example",
      .domain = "www.shop.example",
      .mechanism = "a"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=pass (domain of "
     "postmaster@www.shop.example designates 203.0.113.5 as permitted "
     "sender) smtp.helo=www.shop.example"},
    {"ar helo identity without helo uses the domain",
     0,
     {.result = R_PASS,
      .identity = "helo",
      .helo = ABSENT,
      .domain = "www.shop.example"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=pass (domain of "
     "forms@shop.example designates 203.0.113.5 as permitted sender) "
     "smtp.helo=www.shop.example"},
    {"ar quoted local part and odd authserv-id",
     0,
     {.result = R_PASS, .sender = "john doe@shop.example"},
     AUTH,
     "mx 1;x",
     SPFKIT_OK,
     "Authentication-Results: \"mx 1;x\"; spf=pass (domain of john "
     "doe@shop.example designates 203.0.113.5 as permitted sender) "
     "smtp.mailfrom=\"john doe@shop.example\""},
    {"ar token pvalue",
     0,
     {.result = R_PASS, .identity = "helo", .helo = "host_1.example"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=pass (domain of "
     "forms@shop.example designates 203.0.113.5 as permitted sender) "
     "smtp.helo=host_1.example"},
    {"ar address literal quoted",
     0,
     {.result = R_PASS, .identity = "helo", .helo = "[192.0.2.1]"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=pass (domain of "
     "forms@shop.example designates 203.0.113.5 as permitted sender) "
     "smtp.helo=\"[192.0.2.1]\""},
    {"ar CR LF NUL in sender, helo and explanation",
     0,
     {.result = R_FAIL,
      .sender = "v\r\nBcc: all@example.org",
      .explanation = "go away\r\n\r\nX-Spam: no\0hidden"},
     AUTH,
     "mx\r\n.example.net",
     SPFKIT_OK,
     "Authentication-Results: \"mx\\\\x0D\\\\x0A.example.net\"; spf=fail "
     "(domain of v\\\\x0D\\\\x0ABcc: all@example.org does not designate "
     "203.0.113.5 as permitted sender) reason=\"go away"
     "\\\\x0D\\\\x0A\\\\x0D\\\\x0AX-Spam: no\" "
     "smtp.mailfrom=\"v\\\\x0D\\\\x0ABcc: all@example.org\""},
    {"ar helo with CR LF",
     0,
     {.result = R_PASS, .identity = "helo", .helo = "evil\r\nX: 1"},
     AUTH,
     "mx.example.net",
     SPFKIT_OK,
     "Authentication-Results: mx.example.net; spf=pass (domain of "
     "forms@shop.example designates 203.0.113.5 as permitted sender) "
     "smtp.helo=\"evil\\\\x0D\\\\x0AX: 1\""},
    {"ar without authserv-id",
     0,
     {.result = R_PASS},
     AUTH,
     NULL,
     SPFKIT_EINVAL,
     NULL},
    {"ar with empty authserv-id",
     0,
     {.result = R_PASS},
     AUTH,
     "",
     SPFKIT_EINVAL,
     NULL},
};

/* True when s holds only printable ASCII: no CR, LF, NUL, controls,
 * DEL or 8-bit octets. */
static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const hcase *c = &cases[i];
		spfkit__buf b;
		spfkit__buf_init(&b, spfkit__default_alloc(), 1 << 16);
		spfkit__header_info h = merged(&c->h, c->raw);
		int rc = spfkit__header_format(&h, c->kind, c->authserv_id, &b);
		T_EQ_INT(rc, c->rc, c->name);
		if (c->rc == SPFKIT_OK) {
			T_EQ_STR(b.data, c->want, c->name);
			T_CHECK(printable(b.data, b.len), "%s: not printable",
				c->name);
		} else {
			T_EQ_INT(b.len, 0, c->name);
		}
		spfkit__buf_free(&b);
	}
}

/* The header is appended after what out already holds. */
static void test_append(void)
{
	spfkit__header_info h = base;
	h.mechanism = "a";
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 1 << 16);
	spfkit__buf_adds(&b, "X: ");
	T_EQ_INT(spfkit__header_format(&h, AUTH, "id", &b), SPFKIT_OK,
		 "append");
	T_EQ_STR(b.data,
		 "X: Authentication-Results: id; spf=pass (domain of "
		 "forms@shop.example designates 203.0.113.5 as permitted "
		 "sender) smtp.mailfrom=forms@shop.example",
		 "append");
	/* Failures leave out unchanged. */
	size_t len = b.len;
	T_EQ_INT(spfkit__header_format(&h, AUTH, NULL, &b), SPFKIT_EINVAL,
		 "append einval");
	T_EQ_INT(b.len, len, "append einval len");
	T_EQ_INT(spfkit__header_format(NULL, RSPF, NULL, &b), SPFKIT_EINVAL,
		 "NULL info");
	T_EQ_INT(spfkit__header_format(&h, RSPF, NULL, NULL), SPFKIT_EINVAL,
		 "NULL out");
	spfkit__buf_free(&b);
}

/* A long value is cut to its cap with "..." (which also forces quoting:
 * ".." is not a dot-atom), never in the middle of an escape. */
static void test_truncation(void)
{
	char sender[1000];
	static char wantbuf[2000];
	const char *want = wantbuf;
	memset(sender, 'a', 600);
	memcpy(sender + 600, "@example.org", 13);
	spfkit__header_info h = base;
	h.sender = sender;
	h.mechanism = "a";
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 1 << 16);
	T_EQ_INT(spfkit__header_format(&h, AUTH, "id", &b), SPFKIT_OK, "long");
	/* 197 octets of the value, then "..." = the 200-octet cap; as a
	 * pvalue "aaa..." is an RFC 2045 token and needs no quotes. */
	char cut[201];
	memset(cut, 'a', 197);
	memcpy(cut + 197, "...", 4);
	snprintf(wantbuf, sizeof wantbuf,
		 "Authentication-Results: id; spf=pass (domain of %s "
		 "designates 203.0.113.5 as permitted sender) "
		 "smtp.mailfrom=%s",
		 cut, cut);
	T_EQ_STR(b.data, want, "long sender");
	spfkit__buf_free(&b);

	/* Escapes are whole units: 49 CRs make 196 octets, a 50th would
	 * pass 197, so the cut comes after 49 escapes. */
	char crs[300];
	memset(crs, '\r', 299);
	crs[299] = '\0';
	h.sender = crs;
	spfkit__buf_init(&b, spfkit__default_alloc(), 1 << 16);
	T_EQ_INT(spfkit__header_format(&h, AUTH, "id", &b), SPFKIT_OK, "crs");
	char esc_ct[49 * 5 + 4], esc_q[49 * 5 + 4];
	for (size_t i = 0; i < 49; i++) {
		memcpy(esc_ct + 5 * i, "\\\\x0D", 5);
		memcpy(esc_q + 5 * i, "\\\\x0D", 5);
	}
	memcpy(esc_ct + 49 * 5, "...", 4);
	memcpy(esc_q + 49 * 5, "...", 4);
	snprintf(wantbuf, sizeof wantbuf,
		 "Authentication-Results: id; spf=pass (domain of %s "
		 "designates 203.0.113.5 as permitted sender) "
		 "smtp.mailfrom=\"%s\"",
		 esc_ct, esc_q);
	T_EQ_STR(b.data, want, "escaped cut");
	spfkit__buf_free(&b);
}

/* Every value at its worst (longest, and made of octets the encoders
 * double) still gives a header within SPFKIT__HEADER_MAX, printable, for
 * every result and both kinds; and a too-small out gives ETOOBIG. */
static void test_cap(void)
{
	static char worst[70000];
	memset(worst, '"', sizeof worst - 1);
	worst[sizeof worst - 1] = '\0';
	static char parens[70000];
	memset(parens, '(', sizeof parens - 1);
	parens[sizeof parens - 1] = '\0';
	size_t longest = 0;
	for (int r = 0; r <= SPFKIT_RESULT_PERMERROR; r++) {
		for (int k = 0; k < 2; k++) {
			for (int v = 0; v < 2; v++) {
				const char *w = v ? parens : worst;
				spfkit__header_info h = {.result =
							     (spfkit_result)r,
							 .identity = w,
							 .ip = w,
							 .sender = w,
							 .helo = w,
							 .domain = w,
							 .receiver = w,
							 .mechanism = w,
							 .problem = w,
							 .explanation = w};
				spfkit__buf b;
				spfkit__buf_init(&b, spfkit__default_alloc(),
						 1 << 20);
				int rc = spfkit__header_format(
				    &h, (spfkit_header)k, w, &b);
				T_EQ_INT(rc, SPFKIT_OK, "worst case");
				T_CHECK(b.len <= SPFKIT__HEADER_MAX,
					"worst case %d/%d: %zu octets", r, k,
					b.len);
				T_CHECK(printable(b.data, b.len),
					"worst case %d/%d: not printable", r,
					k);
				if (b.len > longest)
					longest = b.len;
				spfkit__buf_free(&b);
			}
		}
	}
	T_CHECK(longest > 2000, "worst case is really long: %zu", longest);

	spfkit__header_info h = base;
	h.mechanism = "a";
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 40);
	T_EQ_INT(spfkit__header_format(&h, RSPF, NULL, &b), SPFKIT_ETOOBIG,
		 "small out");
	spfkit__buf_free(&b);
}

/* Every octet value in every hostile field: output stays printable. */
static void test_every_octet(void)
{
	int bad = 0;
	for (int c = 1; c < 256; c++) {
		char s[8] = {'a', (char)c, 'b', '@', 'x', (char)c, '\0'};
		spfkit__header_info h = base;
		h.result = SPFKIT_RESULT_FAIL;
		h.sender = h.helo = h.mechanism = h.problem = s;
		h.explanation = h.receiver = s;
		for (int k = 0; k < 2; k++) {
			spfkit__buf b;
			spfkit__buf_init(&b, spfkit__default_alloc(), 1 << 16);
			int rc =
			    spfkit__header_format(&h, (spfkit_header)k, s, &b);
			if (rc != SPFKIT_OK || !printable(b.data, b.len))
				bad++;
			spfkit__buf_free(&b);
		}
	}
	T_EQ_INT(bad, 0, "every octet");
}

/* Allocation failure: the first error comes back, out stays usable. */
static int fail_after;
static void *failing_alloc(void *ud, size_t n)
{
	(void)ud;
	return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	return fail_after-- > 0 ? realloc(p, n) : NULL;
}
static void failing_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static void test_enomem(void)
{
	static const spfkit__alloc fa = {failing_alloc, failing_realloc,
					 failing_free, NULL};
	spfkit__header_info h = base;
	h.mechanism = "a";
	h.problem = "some problem text";
	int ok = 0, nomem = 0, other = 0;
	for (int n = 0; n < 40; n++) {
		fail_after = n;
		spfkit__buf b;
		spfkit__buf_init(&b, &fa, 1 << 16);
		int rc = spfkit__header_format(&h, RSPF, NULL, &b);
		if (rc == SPFKIT_OK)
			ok++;
		else if (rc == SPFKIT_ENOMEM && b.len == 0)
			nomem++;
		else
			other++;
		spfkit__buf_free(&b);
	}
	T_CHECK(ok > 0 && nomem > 0 && other == 0,
		"enomem: ok %d, nomem %d, other %d", ok, nomem, other);
}

int main(void)
{
	test_table();
	test_append();
	test_truncation();
	test_cap();
	test_every_octet();
	test_enomem();
	return t_done();
}
