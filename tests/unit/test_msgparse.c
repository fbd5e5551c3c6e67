/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_msgparse.c - table-driven tests of the message parser of `spfkit
 * message` (the library in src/msg/): Received fields as Postfix, Exim,
 * Sendmail, Gmail and Microsoft write them, Received-SPF (RFC 7208 §9.1),
 * Authentication-Results (RFC 8601), address fields (RFC 5322 §3.4),
 * Return-Path, folding and line ends, bounces (RFC 3464 DSNs, nested
 * MIME, base64, Exim and Microsoft text bounces), hostile input and the
 * caps, and a failed allocation at every point.
 */
#include <stdlib.h>
#include <string.h>

#include "msgparse.h"
#include "t.h"

/* A view as a NUL-terminated string (static, two in turn) for T_EQ_STR;
 * NULL for an absent view. */
static const char *S(msgp_view v)
{
	static char buf[2][512];
	static int k;
	if (!v.p)
		return NULL;
	k ^= 1;
	size_t n = v.len < sizeof buf[k] - 1 ? v.len : sizeof buf[k] - 1;
	memcpy(buf[k], v.p, n);
	buf[k][n] = '\0';
	return buf[k];
}

/* Parses "Name: value\n" plus extra and returns the message. */
static msgp_msg *one(const char *name, const char *value, const char *extra)
{
	static char buf[8192];
	int n = snprintf(buf, sizeof buf, "%s: %s\nSubject: t\n%s\n", name,
			 value, extra ? extra : "");
	msgp_msg *m = NULL;
	char err[256];
	int rc = msgp_parse(buf, (size_t)n, NULL, &m, err, sizeof err);
	T_CHECK(rc == SPFKIT_OK, "parse %s: %s (%s)", name, err, value);
	return m;
}

/* ------------------------------------------------------------ Received */

static const struct {
	const char *v;
	const char *from, *helo, *rdns, *ip, *by, *with, *for_addr, *env, *date;
	bool local;
} received[] = {
    /* Postfix */
    {"from mail.example.org (mail.example.org [198.51.100.25]) by "
     "mx.example.net (Postfix) with ESMTPS id 4XyZ for <b@example.net>; "
     "Tue, 12 Nov 2024 10:00:00 +0000 (UTC)",
     "mail.example.org", "mail.example.org", "mail.example.org",
     "198.51.100.25", "mx.example.net", "ESMTPS", "b@example.net", NULL,
     "Tue, 12 Nov 2024 10:00:00 +0000 (UTC)", false},
    {"from helo.example (unknown [IPv6:2001:db8::1]) by mx.example.net "
     "(Postfix) with ESMTP id 1; d",
     "helo.example", "helo.example", NULL, "2001:db8::1", "mx.example.net",
     "ESMTP", NULL, NULL, "d", false},
    {"by www.shop.example (Postfix, from userid 33) id 4Xk; d", NULL, NULL,
     NULL, NULL, "www.shop.example", NULL, NULL, NULL, "d", true},
    /* Exim: verified name first, helo= when it differs */
    {"from mail.example.org ([198.51.100.25]:54321 helo=smtp.example.org) "
     "by mx.example.net with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 "
     "(Exim 4.96) (envelope-from <a@example.org>) id 1tA-0001-2B for "
     "b@example.net; d",
     "mail.example.org", "smtp.example.org", "mail.example.org",
     "198.51.100.25", "mx.example.net", "esmtps", "b@example.net",
     "a@example.org", "d", false},
    {"from [198.51.100.9] (port=1234 helo=foo.example) by mx.example.net "
     "with esmtp (Exim 4.96) id x; d",
     "[198.51.100.9]", "foo.example", NULL, "198.51.100.9", "mx.example.net",
     "esmtp", NULL, NULL, "d", false},
    {"from mail-ej1-f49.google.com ([209.85.218.49]:44556) by mx.example.net "
     "with esmtps id y; d",
     "mail-ej1-f49.google.com", "mail-ej1-f49.google.com",
     "mail-ej1-f49.google.com", "209.85.218.49", "mx.example.net", "esmtps",
     NULL, NULL, "d", false},
    {"from localhost ([127.0.0.1] helo=x) by h with local (Exim 4.96) id z; "
     "d",
     "localhost", "x", "localhost", "127.0.0.1", "h", "local", NULL, NULL, "d",
     true},
    /* Sendmail */
    {"from mail.example.org (mail.example.org [198.51.100.25] (may be "
     "forged)) by mx.example.net (8.17.1/8.17.1) with ESMTPS id 4ACA "
     "(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT) "
     "for <b@example.net>; d",
     "mail.example.org", "mail.example.org", "mail.example.org",
     "198.51.100.25", "mx.example.net", "ESMTPS", "b@example.net", NULL, "d",
     false},
    {"from helo.example (user@host.example [192.0.2.4]) by mx.example.net "
     "(8.17.1/8.17.1) id 4; d",
     "helo.example", "helo.example", "host.example", "192.0.2.4",
     "mx.example.net", NULL, NULL, NULL, "d", false},
    /* Gmail */
    {"from mail-sor-f41.google.com (mail-sor-f41.google.com. "
     "[209.85.220.41]) by mx.google.com with SMTPS id a1sor for "
     "<user@gmail.example> (Google Transport Security); Tue, 12 Nov 2024 "
     "10:00:00 -0800 (PST)",
     "mail-sor-f41.google.com", "mail-sor-f41.google.com",
     "mail-sor-f41.google.com", "209.85.220.41", "mx.google.com", "SMTPS",
     "user@gmail.example", NULL, "Tue, 12 Nov 2024 10:00:00 -0800 (PST)",
     false},
    {"by 2002:a05:6a10:1234:b0:5a1:2345:6789 with SMTP id abc; d", NULL, NULL,
     NULL, NULL, "2002:a05:6a10:1234:b0:5a1:2345:6789", "SMTP", NULL, NULL, "d",
     false},
    {"from [192.168.1.2] ([203.0.113.1]) by smtp.gmail.example with ESMTPSA "
     "id x; d",
     "[192.168.1.2]", "[192.168.1.2]", NULL, "203.0.113.1",
     "smtp.gmail.example", "ESMTPSA", NULL, NULL, "d", false},
    /* Microsoft */
    {"from mail.example.org (198.51.100.25) by "
     "BN8NAM11FT012.mail.protection.outlook.com (10.13.177.10) with "
     "Microsoft SMTP Server (version=TLS1_2, cipher=X) id 15.20.1.2 via "
     "Frontend Transport; Sat, 16 Nov 2024 08:00:01 +0000",
     "mail.example.org", "mail.example.org", "mail.example.org",
     "198.51.100.25", "BN8NAM11FT012.mail.protection.outlook.com",
     "Microsoft SMTP Server", NULL, NULL, "Sat, 16 Nov 2024 08:00:01 +0000",
     false},
    {"from a.example (2603:10b6:5:123::45) by b.example (2603:10b6:5:1::1) "
     "with Microsoft SMTP Server id 1; d",
     "a.example", "a.example", "a.example", "2603:10b6:5:123::45", "b.example",
     "Microsoft SMTP Server", NULL, NULL, "d", false},
    /* Hostile and odd */
    {"from x (x [999.1.1.1]) by y; d", "x", "x", "x", NULL, "y", NULL, NULL,
     NULL, "d", false},
    {"from a (b [192.0.2.1]) by c (note; with a semicolon); the date", "a", "a",
     "b", "192.0.2.1", "c", NULL, NULL, NULL, "the date", false},
    {"from (((( by", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     false},
    /* An unclosed comment runs to the end, ';' included. */
    {"from a ([192.0.2.1 by b; d", "a", "a", "by", NULL, NULL, NULL, NULL, NULL,
     NULL, false},
    {";;;", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "", false},
    {"from mx. (mx. [IPv6:::ffff:192.0.2.7]) by z.example.; d", "mx.", "mx",
     "mx", "::ffff:192.0.2.7", "z.example", NULL, NULL, NULL, "d", false},
};

static void test_received(void)
{
	for (size_t i = 0; i < sizeof received / sizeof received[0]; i++) {
		msgp_msg *m = one("Received", received[i].v, NULL);
		if (!m)
			continue;
		T_EQ_INT(m->nreceived, 1, "received count");
		const msgp_received *r = &m->received[0];
		T_EQ_STR(S(r->from), received[i].from, received[i].v);
		T_EQ_STR(S(r->helo), received[i].helo, received[i].v);
		T_EQ_STR(S(r->rdns), received[i].rdns, received[i].v);
		T_EQ_STR(S(r->ip), received[i].ip, received[i].v);
		T_EQ_STR(S(r->by), received[i].by, received[i].v);
		T_EQ_STR(S(r->with), received[i].with, received[i].v);
		T_EQ_STR(S(r->for_addr), received[i].for_addr, received[i].v);
		T_EQ_STR(S(r->env_from), received[i].env, received[i].v);
		T_EQ_STR(S(r->date), received[i].date, received[i].v);
		T_EQ_INT(r->local, received[i].local, received[i].v);
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ Received-SPF */

static const struct {
	const char *v;
	const char *result, *receiver, *ip, *env, *helo, *identity;
} rspf[] = {
    /* RFC 7208 §9.1's example */
    {"pass (mybox.example.org: domain of myname@example.com designates "
     "192.0.2.1 as permitted sender) receiver=mybox.example.org; "
     "client-ip=192.0.2.1; envelope-from=\"myname@example.com\"; "
     "helo=foo.example.com;",
     "pass", "mybox.example.org", "192.0.2.1", "myname@example.com",
     "foo.example.com", NULL},
    {"pass (google.com: domain of x@y.example designates 209.85.220.41 as "
     "permitted sender) client-ip=209.85.220.41;",
     "pass", "google.com", "209.85.220.41", NULL, NULL, NULL},
    {"Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.3; "
     "helo=h.example; envelope-from=a@b.example; receiver=<UNKNOWN>",
     "Pass", "<UNKNOWN>", "192.0.2.3", "a@b.example", "h.example", "mailfrom"},
    {"softfail (a (nested) comment) envelope-from=\"a\\\"b@c.example\"",
     "softfail", NULL, NULL, "a\"b@c.example", NULL, NULL},
    {"none", "none", NULL, NULL, NULL, NULL, NULL},
    {"fail client-ip = 192.0.2.9 ; helo = (c) x.example", "fail", NULL,
     "192.0.2.9", NULL, "x.example", NULL},
    {"=;=;(", "=", NULL, NULL, NULL, NULL, NULL},
    {"neutral envelope-from=<a@b.example>; receiver=\"unterminated", "neutral",
     "unterminated", NULL, "a@b.example", NULL, NULL},
};

static void test_rspf(void)
{
	for (size_t i = 0; i < sizeof rspf / sizeof rspf[0]; i++) {
		msgp_msg *m = one("Received-SPF", rspf[i].v, NULL);
		if (!m)
			continue;
		T_EQ_INT(m->nrspf, 1, "rspf count");
		const msgp_rspf *r = &m->rspf[0];
		T_EQ_STR(S(r->result), rspf[i].result, rspf[i].v);
		T_EQ_STR(S(r->receiver), rspf[i].receiver, rspf[i].v);
		T_EQ_STR(S(r->client_ip), rspf[i].ip, rspf[i].v);
		T_EQ_STR(S(r->envelope_from), rspf[i].env, rspf[i].v);
		T_EQ_STR(S(r->helo), rspf[i].helo, rspf[i].v);
		T_EQ_STR(S(r->identity), rspf[i].identity, rspf[i].v);
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ A-R */

static const struct {
	const char *v;
	const char *id, *spf, *mailfrom, *helo, *dmarc, *hfrom, *dkim;
} authres[] = {
    {"mx.google.com; dkim=pass header.i=@example.org; spf=pass "
     "(google.com: domain of b@example.org designates 1.2.3.4 as permitted "
     "sender) smtp.mailfrom=b@example.org; dmarc=pass (p=REJECT) "
     "header.from=example.org",
     "mx.google.com", "pass", "b@example.org", NULL, "pass", "example.org",
     "pass"},
    {"mx.example.net 1; spf=fail smtp.mailfrom=a@b.example "
     "smtp.helo=h.example",
     "mx.example.net", "fail", "a@b.example", "h.example", NULL, NULL, NULL},
    {"spf=pass (sender IP is 198.51.100.25) smtp.mailfrom=example.org; "
     "dkim=none (message not signed) header.d=none;dmarc=pass action=none "
     "header.from=example.org;compauth=pass reason=100",
     NULL, "pass", "example.org", NULL, "pass", "example.org", "none"},
    {"mx.example.net; none", "mx.example.net", NULL, NULL, NULL, NULL, NULL,
     NULL},
    {"\"mx example\"; spf=neutral", "mx example", "neutral", NULL, NULL, NULL,
     NULL, NULL},
    {"mx.example.net; spf = pass (c; d) smtp.mailfrom = a@b.example",
     "mx.example.net", "pass", "a@b.example", NULL, NULL, NULL, NULL},
    {"(comment) mx.example.net (x); spf/1=softfail "
     "smtp.mailfrom=<a@b.example>; spf=pass",
     "mx.example.net", "softfail", "a@b.example", NULL, NULL, NULL, NULL},
    {";;;=;", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void test_authres(void)
{
	for (size_t i = 0; i < sizeof authres / sizeof authres[0]; i++) {
		msgp_msg *m = one("Authentication-Results", authres[i].v, NULL);
		if (!m)
			continue;
		T_EQ_INT(m->nauthres, 1, "authres count");
		const msgp_authres *r = &m->authres[0];
		T_EQ_STR(S(r->authserv_id), authres[i].id, authres[i].v);
		T_EQ_STR(S(r->spf), authres[i].spf, authres[i].v);
		T_EQ_STR(S(r->spf_mailfrom), authres[i].mailfrom, authres[i].v);
		T_EQ_STR(S(r->spf_helo), authres[i].helo, authres[i].v);
		T_EQ_STR(S(r->dmarc), authres[i].dmarc, authres[i].v);
		T_EQ_STR(S(r->dmarc_from), authres[i].hfrom, authres[i].v);
		T_EQ_STR(S(r->dkim), authres[i].dkim, authres[i].v);
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ addresses */

static const struct {
	const char *v;
	bool ok;
	const char *addr, *domain, *display;
	unsigned count;
} addrs[] = {
    {"Alice <alice@example.org>", true, "alice@example.org", "example.org",
     "Alice", 1},
    {"\"Doe, John\" <john@example.org>", true, "john@example.org",
     "example.org", "Doe, John", 1},
    {"john@example.org (John Doe)", true, "john@example.org", "example.org",
     NULL, 1},
    {"<john@example.org>", true, "john@example.org", "example.org", NULL, 1},
    {"Undisclosed recipients:;", false, NULL, NULL, NULL, 0},
    {"team: a@example.org, b@example.net;", true, "a@example.org",
     "example.org", NULL, 2},
    {"a@example.org, \"B, b\" <b@example.net>", true, "a@example.org",
     "example.org", NULL, 2},
    {"\"quoted local\"@example.org", true, "\"quoted local\"@example.org",
     "example.org", NULL, 1},
    /* RFC 2047 encoded words in display names, decoded to UTF-8. */
    {"=?UTF-8?B?SsO8cmdlbg==?= <j@example.org>", true, "j@example.org",
     "example.org", "J\xc3\xbcrgen", 1},
    {"\"=?iso-8859-1?q?J=FCrgen?= M\" <j@example.org>", true, "j@example.org",
     "example.org", "J\xc3\xbcrgen M", 1},
    {"<@route.example,@r2.example:j@example.org>", true, "j@example.org",
     "example.org", NULL, 1},
    {"john @ example.org", true, "john@example.org", "example.org", NULL, 1},
    {"no address here", false, NULL, NULL, NULL, 0},
    {"a@example.org.", true, "a@example.org.", "example.org", NULL, 1},
    {"\"a@evil.example\" <real@example.org>", true, "real@example.org",
     "example.org", "a@evil.example", 1},
    {"x <a@b.example> <c@d.example>", true, "a@b.example", "b.example", "x", 1},
    {"<unclosed@example.org", true, "unclosed@example.org", "example.org", NULL,
     1},
    {"@", false, NULL, NULL, NULL, 0},
    {"(((", false, NULL, NULL, NULL, 0},
};

static void test_addrs(void)
{
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		msgp_msg *m = one("From", addrs[i].v, NULL);
		if (!m)
			continue;
		T_EQ_INT(m->from.present, 1, addrs[i].v);
		T_EQ_INT(m->from.ok, addrs[i].ok, addrs[i].v);
		T_EQ_STR(S(m->from.addr), addrs[i].addr, addrs[i].v);
		T_EQ_STR(S(m->from.domain), addrs[i].domain, addrs[i].v);
		T_EQ_STR(S(m->from.display), addrs[i].display, addrs[i].v);
		T_EQ_INT(m->from.count, addrs[i].count, addrs[i].v);
		msgp_free(m);
	}
}

static const struct {
	const char *v;
	bool null_sender;
	const char *addr;
} rpaths[] = {
    {"<>", true, NULL},
    {"<a@b.example>", false, "a@b.example"},
    {"a@b.example", false, "a@b.example"},
    {"<@r.example:a@b.example>", false, "a@b.example"},
    {"(comment) <> (comment)", true, NULL},
    {"<a@b.example", false, "a@b.example"},
    {"", true, NULL},
};

static void test_return_path(void)
{
	for (size_t i = 0; i < sizeof rpaths / sizeof rpaths[0]; i++) {
		msgp_msg *m = one("Return-Path", rpaths[i].v, NULL);
		if (!m)
			continue;
		T_EQ_INT(m->has_return_path, 1, rpaths[i].v);
		T_EQ_INT(m->null_sender, rpaths[i].null_sender, rpaths[i].v);
		T_EQ_STR(S(m->return_path), rpaths[i].addr, rpaths[i].v);
		msgp_free(m);
	}
	/* The topmost of several is used, with a warning. */
	msgp_msg *m = one("Return-Path", "<top@a.example>",
			  "Return-Path: <lower@b.example>\n");
	if (m) {
		T_EQ_STR(S(m->return_path), "top@a.example", "topmost");
		T_EQ_INT(m->nreturn_path, 2, "two Return-Path");
		T_EQ_INT(m->nwarnings, 1, "warned");
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ messages */

static msgp_msg *parse(const char *s, size_t n, int want, const char *what)
{
	msgp_msg *m = NULL;
	char err[256] = "x";
	int rc = msgp_parse(s, n, NULL, &m, err, sizeof err);
	T_EQ_INT(rc, want, what);
	if (rc < 0) {
		T_CHECK(m == NULL, "%s: message on error", what);
		bool printable = err[0] != '\0';
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 ||
			    (unsigned char)*p > 0x7e)
				printable = false;
		T_CHECK(printable, "%s: error not one printable line: %s", what,
			err);
	}
	return m;
}

static const struct {
	const char *what;
	const char *text;
	int rc;
} bad_inputs[] = {
    {"empty", "", SPFKIT_EPARSE},
    {"prose", "hello world\n", SPFKIT_EPARSE},
    {"leading continuation", " x: y\nFrom: a@b\n", SPFKIT_EPARSE},
    {"only unknown fields", "X-A: 1\nX-B: 2\n\n", SPFKIT_EPARSE},
    {"colon first", ": value\n", SPFKIT_EPARSE},
    {"empty line first", "\nFrom: a@b.example\n", SPFKIT_EPARSE},
    {"mbox line only", "From someone Tue Nov 12 10:00:00 2024\n",
     SPFKIT_EPARSE},
    {"8-bit name", "Fr\xc3\xb6m: a@b\n", SPFKIT_EPARSE},
};

static void test_messages(void)
{
	for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++)
		(void)parse(bad_inputs[i].text, strlen(bad_inputs[i].text),
			    bad_inputs[i].rc, bad_inputs[i].what);
	(void)parse(NULL, 0, SPFKIT_EPARSE, "NULL");
	(void)parse("\0\1\2", 3, SPFKIT_EPARSE, "binary");

	/* LF and CRLF, folding, mbox line, obsolete "Name :", NUL in a
	 * value, a malformed line that ends the section. */
	static const char lf[] =
	    "From sender@example.org Tue Nov 12 10:00:00 2024\n"
	    "Subject : one\n two\n\tthree\n"
	    "X-Nul: a\0b\n"
	    "From: a@b.example\n"
	    "this is no field\n"
	    "To: hidden@c.example\n"
	    "\n"
	    "body\n";
	msgp_msg *m = parse(lf, sizeof lf - 1, SPFKIT_OK, "lf");
	if (m) {
		T_EQ_INT(m->nfields, 3, "fields before the bad line");
		T_EQ_STR(S(m->subject), "one two\tthree", "unfolded");
		T_EQ_INT(m->fields[1].value.len, 3, "NUL kept");
		T_EQ_INT(m->header_ended_early, 1, "ended early");
		T_EQ_INT(m->bad_line, 7, "bad line number");
		T_EQ_INT(m->to.present, 0, "To after the bad line");
		T_CHECK(m->body.len > 0 && m->body.p[0] == 't', "body at bad");
		msgp_free(m);
	}
	static const char crlf[] = "Subject: one\r\n two\r\n"
				   "From: a@b.example\r\n"
				   "\r\n"
				   "body\r\n";
	m = parse(crlf, sizeof crlf - 1, SPFKIT_OK, "crlf");
	if (m) {
		T_EQ_STR(S(m->subject), "one two", "crlf unfolded");
		T_EQ_STR(S(m->from.addr), "a@b.example", "crlf from");
		T_EQ_STR(S(m->body), "body\r\n", "crlf body");
		msgp_free(m);
	}
	/* No body, no empty line. */
	m = parse("Subject: s", 10, SPFKIT_OK, "no newline");
	if (m) {
		T_EQ_STR(S(m->subject), "s", "subject without newline");
		T_EQ_INT(m->body.len, 0, "no body");
		msgp_free(m);
	}
}

/* A buffer of n octets made of a repeated line. */
static char *repeat(const char *head, const char *line, size_t count,
		    size_t *len)
{
	size_t hl = strlen(head), ll = strlen(line);
	char *b = malloc(hl + ll * count + 2);
	if (!b)
		return NULL;
	memcpy(b, head, hl);
	for (size_t i = 0; i < count; i++)
		memcpy(b + hl + i * ll, line, ll);
	b[hl + ll * count] = '\n';
	*len = hl + ll * count + 1;
	return b;
}

/* Past the caps nothing is refused: the topmost fields are kept, the
 * rest read past and counted (msgparse.h). */
static void test_caps(void)
{
	size_t n;
	char pad[301];
	memset(pad, 'a', sizeof pad);
	memcpy(pad, "X-Pad: ", 7);
	pad[299] = '\n';
	pad[300] = '\0';
	char *b = repeat("Subject: x\n", pad, 4000, &n);
	if (b) {
		msgp_msg *m = parse(b, n, SPFKIT_OK, "header over 1 MiB");
		if (m) {
			/* 300 octets a field: the first 1 MiB of them. */
			T_EQ_INT(m->nfields, 1 + (MSGP_HEADER_MAX - 11) / 300,
				 "fields under 1 MiB");
			T_EQ_INT(m->nfields + m->input.fields_skipped, 4001,
				 "every field kept or counted");
			T_EQ_INT(m->input.header_octets_skipped,
				 m->input.fields_skipped * 300,
				 "octets counted");
			T_CHECK(m->nwarnings == 1 &&
				    strstr(m->warnings[0], "read past"),
				"warned of the fields read past");
			T_EQ_INT(m->input.octets, n, "input octets");
			msgp_free(m);
		}
		free(b);
	}
	b = repeat("Subject: x\n", "X: 1\n", MSGP_FIELDS_MAX + 1, &n);
	if (b) {
		msgp_msg *m = parse(b, n, SPFKIT_OK, "too many fields");
		if (m) {
			T_EQ_INT(m->nfields, MSGP_FIELDS_MAX, "fields at cap");
			T_EQ_INT(m->input.fields_skipped, 2, "two read past");
			msgp_free(m);
		}
		free(b);
	}
	b = repeat("Subject: x\n", "X: 1\n", MSGP_FIELDS_MAX - 1, &n);
	if (b) {
		msgp_msg *m = parse(b, n, SPFKIT_OK, "fields at the cap");
		if (m)
			T_EQ_INT(m->input.fields_skipped, 0, "none past");
		msgp_free(m);
		free(b);
	}
	/* A first field longer than the cap: no field is left. */
	b = repeat("Subject: ", "x", MSGP_HEADER_MAX, &n);
	if (b) {
		(void)parse(b, n, SPFKIT_EPARSE, "first field over 1 MiB");
		free(b);
	}
	/* A message of 24 MiB: not refused; a body that does not matter is
	 * not looked at. */
	size_t big = 24u * 1024u * 1024u;
	b = calloc(1, big);
	if (b) {
		memcpy(b, "Subject: x\n\n", 12);
		msgp_msg *m = parse(b, big, SPFKIT_OK, "message of 24 MiB");
		if (m) {
			T_EQ_INT(m->input.octets, big, "24 MiB read");
			T_EQ_INT(m->bounce, MSGP_BOUNCE_NONE, "no bounce");
			T_EQ_INT(m->nwarnings, 0, "nothing that mattered cut");
		}
		msgp_free(m);
		free(b);
	}
}

/* ------------------------------------------------------------ bounces */

static const char dsn_nested[] =
    "Return-Path: <>\n"
    "From: MAILER-DAEMON@mx.example.net\n"
    "Subject: Delivery Status Notification (Failure)\n"
    "Content-Type: multipart/mixed; boundary=outer\n"
    "\n"
    "--outer\n"
    "Content-Type: multipart/report; report-type=\"delivery-status\";\n"
    " boundary=\"in ner\"\n"
    "\n"
    "--in ner\n"
    "Content-Type: text/plain\n"
    "\n"
    "Delivery failed.\n"
    "--in ner\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822; x@y.example\n"
    "Action: failed\n"
    "Status: 5.7.1\n"
    "Remote-MTA: dns; mx.y.example\n"
    "Diagnostic-Code: smtp; 550 5.7.1 client 198.51.100.9 is not\n"
    "  permitted (host mx.y.example [192.0.2.1])\n"
    "--in ner\n"
    "Content-Type: text/rfc822-headers\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    /* "From: a@b.example\nSubject: orig\n" */
    "RnJvbTogYUBiLmV4YW1wbGUKU3ViamVjdDogb3JpZwo=\n"
    "--in ner--\n"
    "--outer--\n";

static const char ms_text[] =
    "From: postmaster@contoso.example\n"
    "Subject: Undeliverable: hello\n"
    "Content-Type: text/plain\n"
    "\n"
    "Delivery has failed to these recipients:\n"
    "x@y.example\n"
    "Remote Server returned '550 5.7.23 SPF violation for 203.0.113.9'\n"
    "\n"
    "Original message headers:\n"
    "\n"
    "Received: from a.example (a.example [203.0.113.9]) by b.example; d\n"
    "From: sender@contoso.example\n"
    "Subject: hello\n";

static void test_bounces(void)
{
	msgp_msg *m =
	    parse(dsn_nested, sizeof dsn_nested - 1, SPFKIT_OK, "nested dsn");
	if (m) {
		/* multipart/mixed at the top: a bounce by its look. */
		T_EQ_INT(m->bounce, MSGP_BOUNCE_MIME, "nested bounce kind");
		T_EQ_STR(S(m->dsn.reporting_mta), "mx.example.net", "rep");
		T_EQ_STR(S(m->dsn.remote_mta), "mx.y.example", "remote");
		T_EQ_STR(S(m->dsn.status), "5.7.1", "status");
		T_EQ_STR(S(m->dsn.final_recipient), "x@y.example", "rcpt");
		T_EQ_STR(S(m->dsn.ip), "198.51.100.9", "diag ip");
		T_CHECK(m->original != NULL, "original found");
		if (m->original) {
			T_EQ_INT(m->original->headers_only, 1, "headers only");
			T_EQ_STR(S(m->original->subject), "orig", "b64 orig");
			T_EQ_STR(S(m->original->from.addr), "a@b.example",
				 "orig from");
		}
		msgp_free(m);
	}
	m = parse(ms_text, sizeof ms_text - 1, SPFKIT_OK, "text bounce");
	if (m) {
		T_EQ_INT(m->bounce, MSGP_BOUNCE_QUOTED, "quoted kind");
		T_CHECK(m->original && m->original->nreceived == 1,
			"quoted original");
		if (m->original)
			T_EQ_STR(S(m->original->received[0].ip), "203.0.113.9",
				 "quoted ip");
		msgp_free(m);
	}
	/* A message forwarded as an attachment is no bounce. */
	static const char fwd[] = "From: a@b.example\n"
				  "Subject: Fwd: look\n"
				  "Content-Type: multipart/mixed; boundary=b\n"
				  "\n--b\nContent-Type: message/rfc822\n\n"
				  "From: c@d.example\nSubject: inner\n\nx\n"
				  "--b--\n";
	m = parse(fwd, sizeof fwd - 1, SPFKIT_OK, "attachment");
	if (m) {
		T_EQ_INT(m->bounce, MSGP_BOUNCE_NONE, "attachment no bounce");
		T_CHECK(m->original == NULL, "attachment not analysed");
		msgp_free(m);
	}
	/* A DSN whose original does not parse: a warning, no original. */
	static const char broken[] =
	    "From: MAILER-DAEMON@x.example\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=q\n\n--q\nContent-Type: message/rfc822\n\n"
	    "not a header\n--q--\n";
	m = parse(broken, sizeof broken - 1, SPFKIT_OK, "broken original");
	if (m) {
		T_EQ_INT(m->bounce, MSGP_BOUNCE_DSN, "broken kind");
		T_CHECK(m->original == NULL && m->nwarnings == 1,
			"broken original warned");
		msgp_free(m);
	}
	/* Deeper than MSGP_MIME_DEPTH: the walk stops, nothing breaks. */
	char deep[4096];
	size_t o = 0;
	o += (size_t)snprintf(deep + o, sizeof deep - o,
			      "From: MAILER-DAEMON@x.example\n"
			      "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (int i = 1; i < 30; i++)
		o += (size_t)snprintf(deep + o, sizeof deep - o,
				      "--b%d\nContent-Type: multipart/mixed; "
				      "boundary=b%d\n\n",
				      i - 1, i);
	o += (size_t)snprintf(deep + o, sizeof deep - o,
			      "--b29\nContent-Type: message/rfc822\n\n"
			      "From: deep@x.example\n\n");
	m = parse(deep, o, SPFKIT_OK, "deep nesting");
	if (m) {
		T_CHECK(m->original == NULL, "too deep to be found");
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ verdicts */

/* The rejecting server's own SPF verdict in the reply lines of a text
 * bounce (RFC 7208 result names and servers' words; RFC 7372 codes). */
static const struct {
	const char *diag;
	const char *spf, *source, *text;
} verdicts[] = {
    {"550 5.7.1 SPF check failed", "fail", "diagnostic", "SPF check fail"},
    {"550 5.7.23 Message rejected due to: SPF fail - not authorized", "fail",
     "diagnostic", "SPF fail"},
    {"550 5.7.1 SPF softfail for example.org", "softfail", "diagnostic",
     "SPF softfail"},
    {"550-5.7.26 SPF [example.org] with ip: [192.0.2.1] = did not pass", "fail",
     "diagnostic",
     "SPF [example.org] with ip: [192.0.2.1] = did not "
     "pass"},
    {"451 4.7.24 SPF temporary error for example.org", "temperror",
     "diagnostic", "SPF temporary error"},
    {"550 5.7.24 SPF permerror: too many DNS lookups", "permerror",
     "diagnostic", "SPF permerror"},
    {"550 5.7.1 The message failed the SPF check", "fail", "diagnostic",
     "failed the SPF"},
    {"550 5.7.23 rejected", "fail", "status", "5.7.23"},
    {"451 4.7.24 try again later", "temperror", "status", "4.7.24"},
    {"550 5.7.1 see https://open-spf.org/Why?s=mfrom", NULL, NULL, NULL},
    {"550 5.7.1 listed by SPFBL.example", NULL, NULL, NULL},
    {"550 5.7.1 Sender Policy Framework violation", "fail", "diagnostic",
     "Sender Policy Framework violation"},
};

static void test_verdicts(void)
{
	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
		char buf[1024];
		int n =
		    snprintf(buf, sizeof buf,
			     "From: MAILER-DAEMON@mx.example\n"
			     "Subject: Mail delivery failed\n"
			     "X-Failed-Recipients: c@d.example, e@f.example\n"
			     "\n"
			     "The following address(es) failed:\n\n"
			     "  <c@d.example>\n"
			     "    host mx.d.example [192.0.2.9]\n"
			     "    %s\n\n"
			     "------ This is a copy of the message, "
			     "including all the headers. ------\n\n"
			     "From: a@b.example\n",
			     verdicts[i].diag);
		msgp_msg *m =
		    parse(buf, (size_t)n, SPFKIT_OK, verdicts[i].diag);
		if (!m)
			continue;
		T_EQ_INT(m->bounce, MSGP_BOUNCE_QUOTED, verdicts[i].diag);
		T_EQ_STR(m->dsn.spf, verdicts[i].spf, verdicts[i].diag);
		T_EQ_STR(m->dsn.spf_source, verdicts[i].source,
			 verdicts[i].diag);
		T_EQ_STR(S(m->dsn.spf_text), verdicts[i].text,
			 verdicts[i].diag);
		/* X-Failed-Recipients over the text's line. */
		T_EQ_STR(S(m->dsn.final_recipient), "c@d.example", "exim rcpt");
		msgp_free(m);
	}
	/* The recipient under "failed:" when there is no header field. */
	static const char exim[] = "From: MAILER-DAEMON@mx.example\n"
				   "Subject: Mail delivery failed\n\n"
				   "The following address(es) failed:\n\n"
				   "  carol@example.net\n"
				   "    550 5.7.1 no\n\n"
				   "------ This is a copy of the message's "
				   "headers. ------\n\n"
				   "From: a@b.example\n";
	msgp_msg *m = parse(exim, sizeof exim - 1, SPFKIT_OK, "exim rcpt");
	if (m) {
		T_EQ_STR(S(m->dsn.final_recipient), "carol@example.net",
			 "failed: line");
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ GMime */

/* Quoted-printable and base64 bodies and RFC 2047 words, through GMime. */
static void test_encodings(void)
{
	static const char qp[] =
	    "From: postmaster@relay.example\n"
	    "Subject: =?utf-8?Q?Non_remis_:_R=C3=A9union?=\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "550 5.7.23 SPF violat=\n"
	    "ion, ip=3D192.0.2.80\n"
	    "\n"
	    "Original message headers:\n"
	    "\n"
	    "Received: from a.example (a.example [203.0.113.9])=\n"
	    " by b.example; d\n"
	    "Subject: =3D?utf-8?B?UsOpdW5pb24=3D?=3D\n"
	    "From: c@d.example\n";
	msgp_msg *m = parse(qp, sizeof qp - 1, SPFKIT_OK, "qp bounce");
	if (m) {
		T_EQ_STR(S(m->subject), "Non remis : R\xc3\xa9union", "2047 Q");
		T_EQ_INT(m->bounce, MSGP_BOUNCE_QUOTED, "qp kind");
		T_EQ_STR(S(m->dsn.ip), "192.0.2.80", "qp =3D and soft break");
		T_EQ_STR(m->dsn.spf, "fail", "qp verdict");
		T_CHECK(m->original && m->original->nreceived == 1,
			"qp original");
		if (m->original) {
			T_EQ_STR(S(m->original->received[0].ip), "203.0.113.9",
				 "soft break in a quoted field");
			T_EQ_STR(S(m->original->subject), "R\xc3\xa9union",
				 "2047 B in the original");
		}
		msgp_free(m);
	}
	/* Without encoded words a Subject stays as written, folding WSP
	 * and 8-bit octets included; with one, GMime reads raw 8-bit octets
	 * by its fallback charsets (ISO-8859-1 here) into UTF-8. */
	m = one("Subject", "a\tb \xff c", NULL);
	if (m) {
		T_EQ_STR(S(m->subject), "a\tb \xff c", "no encoded word");
		msgp_free(m);
	}
	m = one("Subject", "=?utf-8?q?a?= \xff", NULL);
	if (m) {
		T_EQ_STR(S(m->subject), "a \xc3\xbf", "8-bit beside a word");
		msgp_free(m);
	}
	/* A base64 text part of a multipart bounce is read (GMime decodes
	 * it; the hand-written walk skipped it). */
	static const char b64[] =
	    "From: MAILER-DAEMON@x.example\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=z\n\n--z\nContent-Type: text/plain\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    /* "550 5.7.23 SPF fail for 198.51.100.7\n" */
	    "NTUwIDUuNy4yMyBTUEYgZmFpbCBmb3IgMTk4LjUxLjEwMC43Cg==\n"
	    "--z\nContent-Type: message/rfc822\n\n"
	    "From: a@b.example\nSubject: o\n\nbody\n--z--\n";
	m = parse(b64, sizeof b64 - 1, SPFKIT_OK, "b64 text part");
	if (m) {
		T_EQ_INT(m->bounce, MSGP_BOUNCE_DSN, "b64 kind");
		T_EQ_STR(S(m->dsn.ip), "198.51.100.7", "b64 text read");
		T_EQ_STR(m->dsn.spf, "fail", "b64 verdict");
		T_CHECK(m->original && msgp_eq(m->original->subject, "o"),
			"original written back by GMime");
		msgp_free(m);
	}
}

/* ------------------------------------------------------------ reader */

/* Fed in pieces of step octets, the reader gives what msgp_parse()
 * gives for the whole. */
static msgp_msg *read_in(const char *s, size_t n, size_t step,
			 const spfkit_allocator *a, int *rc)
{
	msgp_reader *r = NULL;
	msgp_msg *m = NULL;
	*rc = msgp_reader_new(a, &r);
	for (size_t i = 0; *rc == SPFKIT_OK && i < n; i += step)
		*rc = msgp_reader_feed(r, s + i, n - i < step ? n - i : step);
	if (*rc == SPFKIT_OK)
		*rc = msgp_reader_parse(r, &m, NULL, 0);
	msgp_reader_free(r);
	return m;
}

static void same_msg(const msgp_msg *x, const msgp_msg *y, const char *what)
{
	T_EQ_INT(y->nfields, x->nfields, what);
	for (size_t i = 0; i < x->nfields && i < y->nfields; i++)
		T_CHECK(x->fields[i].value.len == y->fields[i].value.len &&
			    memcmp(x->fields[i].value.p, y->fields[i].value.p,
				   x->fields[i].value.len) == 0,
			"%s: field %zu", what, i);
	T_EQ_INT(y->bounce, x->bounce, what);
	T_EQ_INT(y->header_ended_early, x->header_ended_early, what);
	T_EQ_INT(y->bad_line, x->bad_line, what);
	T_EQ_INT(y->nwarnings, x->nwarnings, what);
	T_EQ_STR(S(y->dsn.diagnostic), S(x->dsn.diagnostic), what);
	T_CHECK((x->original == NULL) == (y->original == NULL), "%s original",
		what);
	if (x->original && y->original)
		same_msg(x->original, y->original, what);
}

static void test_reader(void)
{
	static const char early[] = "From a@b Tue Nov 12 10:00:00 2024\n"
				    "Subject: x\n"
				    "X-A : y\n"
				    " folded\n"
				    "\r\n"
				    "body\n";
	static const char bad[] = "Subject: x\nno colon here\nTo: a@b\n\nz\n";
	static const char crbad[] = "Subject: x\r\n\rX: y\r\n\r\nz\r\n";
	const char *const inputs[] = {dsn_nested, ms_text, early, bad, crbad};
	for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
		size_t n = strlen(inputs[k]);
		msgp_msg *whole = parse(inputs[k], n, SPFKIT_OK, "whole");
		static const size_t steps[] = {1, 2, 7, 64, 100000};
		for (size_t j = 0; whole && j < 5; j++) {
			int rc;
			msgp_msg *m =
			    read_in(inputs[k], n, steps[j], NULL, &rc);
			T_EQ_INT(rc, SPFKIT_OK, "reader");
			if (m) {
				same_msg(whole, m, inputs[k]);
				T_EQ_INT(m->input.octets, n, "octets fed");
			}
			msgp_free(m);
		}
		msgp_free(whole);
	}
	/* A huge header section and a large bounce body: held under the
	 * caps, counted. */
	size_t n = 0, cap = 12u * 1024u * 1024u;
	char *b = malloc(cap);
	if (!b)
		return;
	n += (size_t)snprintf(b, cap,
			      "Received: from a (a [192.0.2.1]) by b; d\n"
			      "From: MAILER-DAEMON@b.example\n");
	while (n < 3u * 1024u * 1024u)
		n += (size_t)snprintf(b + n, cap - n, "X-Pad: %0100d\n", 7);
	n += (size_t)snprintf(b + n, cap - n,
			      "\nThe message was not delivered.\n");
	while (n < cap - 200)
		n += (size_t)snprintf(b + n, cap - n, "%090d\n", 1);
	int rc;
	msgp_msg *m = read_in(b, n, 65536, NULL, &rc);
	T_EQ_INT(rc, SPFKIT_OK, "large input");
	if (m) {
		T_EQ_INT(m->input.octets, n, "all read");
		T_CHECK(m->header_len <= MSGP_HEADER_MAX, "header held %zu",
			m->header_len);
		T_CHECK(m->input.fields_skipped > 10000, "fields read past");
		T_EQ_INT(m->body.len, MSGP_BODY_MAX, "bounce body held");
		T_CHECK(m->input.body_octets_skipped > 4u * 1024u * 1024u,
			"body read past");
		T_EQ_INT(m->nwarnings, 2, "both cuts warned");
		T_EQ_STR(S(m->received[0].ip), "192.0.2.1", "top field kept");
	}
	msgp_free(m);
	free(b);
	/* After an mbox line a line that starts with WSP continues no
	 * field: not a message, fed whole or in pieces (found by
	 * fuzz_message). */
	static const char mbox_wsp[] = "From a@b Tue Nov 12 2024\n"
				       "\tcontinued\nSubject: x\n\n";
	(void)parse(mbox_wsp, sizeof mbox_wsp - 1, SPFKIT_EPARSE, "mbox wsp");
	for (size_t step = 1; step < 40; step += 13) {
		int rc2;
		msgp_msg *mm =
		    read_in(mbox_wsp, sizeof mbox_wsp - 1, step, NULL, &rc2);
		T_EQ_INT(rc2, SPFKIT_EPARSE, "reader: mbox wsp");
		msgp_free(mm);
	}
	/* A reader that was used, and one never fed. */
	msgp_reader *r = NULL;
	T_EQ_INT(msgp_reader_new(NULL, &r), SPFKIT_OK, "new");
	T_EQ_INT(msgp_reader_parse(r, &m, NULL, 0), SPFKIT_EPARSE, "empty");
	T_EQ_INT(msgp_reader_parse(r, &m, NULL, 0), SPFKIT_EINVAL, "spent");
	msgp_reader_free(r);
	msgp_reader_free(NULL);
}

/* ------------------------------------------------------------ memory */

typedef struct fail_state {
	unsigned long count, fail_at;
	bool failed;
} fail_state;

static void *f_alloc(void *ud, size_t n)
{
	fail_state *st = ud;
	if (++st->count == st->fail_at) {
		st->failed = true;
		return NULL;
	}
	return malloc(n);
}

static void *f_realloc(void *ud, void *p, size_t n)
{
	fail_state *st = ud;
	if (++st->count == st->fail_at) {
		st->failed = true;
		return NULL;
	}
	return realloc(p, n);
}

static void f_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static void test_oom(void)
{
	static const char *const inputs[] = {dsn_nested, ms_text};
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(inputs[k]);
		unsigned long total = 0;
		for (unsigned long at = 1; at < 200; at++) {
			fail_state st = {0, at, false};
			spfkit_allocator a = {f_alloc, f_realloc, f_free, &st};
			msgp_msg *m = NULL;
			char err[128];
			int rc =
			    msgp_parse(inputs[k], n, &a, &m, err, sizeof err);
			if (st.failed)
				T_CHECK(rc == SPFKIT_ENOMEM && m == NULL,
					"allocation %lu failed: rc %d", at, rc);
			else
				T_CHECK(rc == SPFKIT_OK && m != NULL,
					"no failure: rc %d", rc);
			msgp_free(m);
			if (!st.failed) {
				total = st.count;
				break;
			}
		}
		T_CHECK(total > 0, "every allocation was failed once");
		/* The same through the reader, fed in small pieces: the
		 * reader's buffer and its probe of the header section fail
		 * as the rest. */
		for (unsigned long at = 1; at < 400; at++) {
			fail_state st = {0, at, false};
			spfkit_allocator a = {f_alloc, f_realloc, f_free, &st};
			int rc;
			msgp_msg *m = read_in(inputs[k], n, 5, &a, &rc);
			if (st.failed)
				T_CHECK(rc == SPFKIT_ENOMEM && m == NULL,
					"reader: allocation %lu failed: rc %d",
					at, rc);
			else
				T_CHECK(rc == SPFKIT_OK && m != NULL,
					"reader: no failure: rc %d", rc);
			msgp_free(m);
			if (!st.failed)
				break;
		}
	}
}

int main(void)
{
	test_received();
	test_rspf();
	test_authres();
	test_addrs();
	test_return_path();
	test_messages();
	test_caps();
	test_bounces();
	test_verdicts();
	test_encodings();
	test_reader();
	test_oom();
	msgp_free(NULL);
	return t_done();
}
