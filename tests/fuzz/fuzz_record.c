/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_record.c - spfkit__record_parse() (RFC 7208 §4.5, §4.6, §12) on
 * hostile record text: the input as it is, and with "v=spf1 " in front so
 * the fuzzer spends its time on terms. Beyond "no crash, no leak" it checks
 * what internal.h promises of a parsed record (terms inside the text, CIDR
 * lengths in range, one redirect= and exp= at most, domain-specs that are
 * valid macro-strings), that a parsed record parses again to the same
 * terms when rebuilt from them, that a syntax error comes with a one-line
 * message and a position inside the text, and that running out of memory
 * at any of its allocations gives SPFKIT_ENOMEM and nothing else.
 */
#include "fuzz_common.h"
#include "internal.h"

#define PREFIX "v=spf1 "

static void check_ok(const char *s, size_t n, const spfkit__record *r)
{
	FZ_ASSERT(r != NULL, "OK without a record");
	FZ_ASSERT(r->len == n && r->text && memcmp(r->text, s, n) == 0 &&
		      r->text[n] == '\0',
		  "text is not a NUL-terminated copy");
	FZ_ASSERT(spfkit__is_spf_record(s, n), "parsed a non-record");
	int redirect = -1, exp = -1;
	for (size_t i = 0; i < r->nterms; i++) {
		const spfkit__term *t = &r->terms[i];
		FZ_ASSERT(t->len > 0 && t->pos >= 7 && t->pos <= n &&
			      t->len <= n - t->pos,
			  "term %zu outside the text (pos %zu len %zu n %zu)",
			  i, t->pos, t->len, n);
		FZ_ASSERT(s[t->pos - 1] == ' ', "term %zu not after SP", i);
		FZ_ASSERT(t->pos + t->len == n || s[t->pos + t->len] == ' ',
			  "term %zu not before SP or end", i);
		for (size_t k = 0; k < t->len; k++) {
			unsigned char c = (unsigned char)s[t->pos + k];
			FZ_ASSERT(c >= 0x21 && c <= 0x7e,
				  "term %zu holds octet 0x%02x", i, c);
		}
		FZ_ASSERT(t->qualifier == '+' || t->qualifier == '-' ||
			      t->qualifier == '~' || t->qualifier == '?',
			  "qualifier 0x%02x", (unsigned char)t->qualifier);
		FZ_ASSERT((int)t->mech >= SPFKIT__ALL &&
			      t->mech <= SPFKIT__UNKNOWN_MOD,
			  "mech %d", (int)t->mech);
		FZ_ASSERT(t->cidr4 >= -1 && t->cidr4 <= 32, "cidr4 %d",
			  t->cidr4);
		FZ_ASSERT(t->cidr6 >= -1 && t->cidr6 <= 128, "cidr6 %d",
			  t->cidr6);
		if (t->literal_ok) {
			/* A plain-name target skips expansion in the
			 * evaluator: it must be exactly what expansion
			 * would give. */
			const char *spec = s + t->spec_pos;
			FZ_ASSERT(t->spec_len > 0 && t->spec_len <= 253 &&
				      !memchr(spec, '%', t->spec_len) &&
				      spfkit__domain_ok(spec, t->spec_len),
				  "literal_ok on a spec that is not a name");
			FZ_ASSERT(t->target_len ==
				      t->spec_len -
					  (spec[t->spec_len - 1] == '.'),
				  "target_len %zu of spec_len %zu",
				  t->target_len, t->spec_len);
		}
		bool dual = t->mech == SPFKIT__A || t->mech == SPFKIT__MX;
		if (!dual && t->mech != SPFKIT__IP4)
			FZ_ASSERT(t->cidr4 == -1, "cidr4 on mech %d", t->mech);
		if (!dual && t->mech != SPFKIT__IP6)
			FZ_ASSERT(t->cidr6 == -1, "cidr6 on mech %d", t->mech);
		if (t->spec_len) {
			FZ_ASSERT(t->spec_pos >= t->pos &&
				      t->spec_pos + t->spec_len <=
					  t->pos + t->len,
				  "spec of term %zu outside it", i);
			size_t errpos;
			FZ_ASSERT(spfkit__macro_check(r->text + t->spec_pos,
						      t->spec_len,
						      SPFKIT__MACRO_DOMAIN,
						      &errpos) == SPFKIT_OK,
				  "spec of term %zu is no domain macro-string",
				  i);
		}
		switch (t->mech) {
		case SPFKIT__ALL:
		case SPFKIT__IP4:
		case SPFKIT__IP6:
			FZ_ASSERT(t->spec_len == 0, "spec on mech %d", t->mech);
			break;
		case SPFKIT__INCLUDE:
		case SPFKIT__EXISTS:
			FZ_ASSERT(t->spec_len > 0, "no spec on mech %d",
				  t->mech);
			break;
		case SPFKIT__REDIRECT:
		case SPFKIT__EXP:
		case SPFKIT__UNKNOWN_MOD:
			FZ_ASSERT(t->qualifier == '+' &&
				      !strchr("+-~?", s[t->pos]),
				  "modifier %zu with a qualifier", i);
			if (t->mech != SPFKIT__UNKNOWN_MOD)
				FZ_ASSERT(t->spec_len > 0,
					  "modifier without value");
			break;
		default: break;
		}
		if (t->mech == SPFKIT__REDIRECT) {
			FZ_ASSERT(redirect < 0, "two redirects");
			redirect = (int)i;
		}
		if (t->mech == SPFKIT__EXP) {
			FZ_ASSERT(exp < 0, "two exps");
			exp = (int)i;
		}
	}
	FZ_ASSERT(r->redirect == redirect, "redirect index %d, want %d",
		  r->redirect, redirect);
	FZ_ASSERT(r->exp == exp, "exp index %d, want %d", r->exp, exp);
}

/* The record rebuilt from its terms, single-spaced, parses to the same. */
static void check_rebuilt(const spfkit__record *r)
{
	const spfkit__alloc *a = spfkit__default_alloc();
	spfkit__buf b;
	spfkit__buf_init(&b, a, SIZE_MAX);
	spfkit__buf_add(&b, r->text, 6);
	for (size_t i = 0; i < r->nterms; i++) {
		spfkit__buf_addc(&b, ' ');
		spfkit__buf_add(&b, r->text + r->terms[i].pos, r->terms[i].len);
	}
	FZ_ASSERT(b.err == SPFKIT_OK, "rebuild buffer");
	spfkit__record *r2 = NULL;
	int rc = spfkit__record_parse(a, b.data, b.len, &r2, NULL);
	FZ_ASSERT(rc == SPFKIT_OK, "rebuilt record does not parse: %d", rc);
	FZ_ASSERT(r2->nterms == r->nterms, "rebuilt: %zu terms, want %zu",
		  r2->nterms, r->nterms);
	for (size_t i = 0; i < r->nterms; i++) {
		const spfkit__term *x = &r->terms[i], *y = &r2->terms[i];
		FZ_ASSERT(x->mech == y->mech && x->qualifier == y->qualifier &&
			      x->cidr4 == y->cidr4 && x->cidr6 == y->cidr6 &&
			      x->len == y->len && x->spec_len == y->spec_len &&
			      (x->spec_len == 0 ||
			       x->spec_pos - x->pos == y->spec_pos - y->pos) &&
			      memcmp(x->addr, y->addr, sizeof x->addr) == 0,
			  "rebuilt term %zu differs", i);
	}
	FZ_ASSERT(r2->redirect == r->redirect && r2->exp == r->exp,
		  "rebuilt modifiers differ");
	spfkit__record_free(a, r2);
	spfkit__buf_free(&b);
}

static void parse_one(const char *s, size_t n)
{
	const spfkit__alloc *a = spfkit__default_alloc();
	spfkit__record *r = (spfkit__record *)1;
	spfkit__parse_error err;
	memset(&err, 0x5a, sizeof err);
	int rc = spfkit__record_parse(a, s, n, &r, &err);
	FZ_ASSERT(rc == SPFKIT_OK || rc == SPFKIT_EPARSE, "rc %d", rc);
	if (rc == SPFKIT_OK) {
		check_ok(s, n, r);
		check_rebuilt(r);
	} else {
		FZ_ASSERT(r == NULL, "*out set on error");
		FZ_ASSERT(memchr(err.msg, '\0', sizeof err.msg) != NULL,
			  "message not terminated");
		FZ_ASSERT(err.msg[0] != '\0' && fz_printable(err.msg),
			  "message empty or not one printable line");
		FZ_ASSERT(err.pos <= n && err.len <= n - err.pos,
			  "error at %zu+%zu outside %zu octets", err.pos,
			  err.len, n);
	}
	bool is = rc == SPFKIT_OK;
	spfkit__record_free(a, r);

	/* Without an error struct: the same answer. */
	r = NULL;
	rc = spfkit__record_parse(a, s, n, &r, NULL);
	FZ_ASSERT((rc == SPFKIT_OK) == is, "rc differs without err: %d", rc);
	spfkit__record_free(a, r);

	/* Out of memory at each allocation: ENOMEM or the same answer,
	 * nothing leaked (LeakSanitizer). */
	for (unsigned long k = 1; k <= 4; k++) {
		fz_alloc_state st = {0, k, false, false};
		spfkit_allocator fa = fz_allocator(&st);
		r = NULL;
		rc = spfkit__record_parse(&fa, s, n, &r, NULL);
		if (st.failed)
			FZ_ASSERT(rc == SPFKIT_ENOMEM && r == NULL,
				  "allocation %lu failed, rc %d", k, rc);
		else
			FZ_ASSERT((rc == SPFKIT_OK) == is, "rc %d", rc);
		spfkit__record_free(&fa, r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_one((const char *)data, size);

	char *buf = malloc(sizeof PREFIX - 1 + size);
	if (!buf)
		return 0;
	memcpy(buf, PREFIX, sizeof PREFIX - 1);
	if (size)
		memcpy(buf + sizeof PREFIX - 1, data, size);
	parse_one(buf, sizeof PREFIX - 1 + size);
	free(buf);
	return 0;
}
