/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dmarc.c - the DMARC record's grammar (lib/dmarc_record.c, RFC 9989
 * §4.7, §4.8) and its lint (lib/dmarc_lint.c) on hostile text: the input
 * as it is, and with "v=DMARC1; " in front so the fuzzer spends its time
 * on tags. Beyond "no crash, no leak" it checks that tags lie inside the
 * record in order and hold no ';', that names and values lie inside their
 * tag, that a record's reading is within its enums and that a URI list
 * reading agrees with the URIs one by one, that every finding has a listed
 * code, one printable line of message and fix, a place inside the record,
 * and a replacement that is printable and reads as it must (a valid tag,
 * or a DMARC record when it replaces the whole record); and that running
 * out of memory at any allocation of the lint gives SPFKIT_ENOMEM or the
 * same findings, nothing leaked.
 */
#include "dmarc.h"
#include "fuzz_common.h"

#define PREFIX "v=DMARC1; "

/* A line of printable ASCII (the finding rules say so). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

typedef struct seen {
	unsigned n;
	const char *s;
	size_t len;
} seen;

static void on_finding(const spfkit_finding *f, void *ud)
{
	seen *st = ud;
	st->n++;
	bool listed = false;
	for (size_t i = 0; spfkit_dmarc_lint_code(i); i++)
		listed |= strcmp(spfkit_dmarc_lint_code(i), f->code) == 0;
	FZ_ASSERT(listed, "code %s is not listed", f->code);
	FZ_ASSERT(f->message && f->message[0] && printable(f->message),
		  "message of %s", f->code);
	FZ_ASSERT(!f->fix || printable(f->fix), "fix of %s", f->code);
	FZ_ASSERT(f->rfc && strncmp(f->rfc, "RFC ", 4) == 0, "rfc of %s",
		  f->code);
	FZ_ASSERT(f->record == st->s && f->record_len == st->len,
		  "%s is about another record", f->code);
	FZ_ASSERT(f->pos <= f->record_len && f->len <= f->record_len - f->pos,
		  "%s at %zu+%zu outside %zu", f->code, f->pos, f->len,
		  f->record_len);
	if (!f->replacement)
		return;
	FZ_ASSERT(f->replacement_len > 0, "empty replacement of %s", f->code);
	for (size_t i = 0; i < f->replacement_len; i++) {
		unsigned char c = (unsigned char)f->replacement[i];
		FZ_ASSERT(c >= 0x20 && c < 0x7f, "replacement octet 0x%02x", c);
	}
	if (f->len == 0)
		FZ_ASSERT(
		    spfkit__dmarc_is_record(f->replacement, f->replacement_len),
		    "%s: the whole-record replacement is no record", f->code);
	FZ_ASSERT(f->fix != NULL, "%s: a replacement without a fix", f->code);
}

/* The tags of a record: inside it, in order, no ';' in them. */
static void check_tags(const char *s, size_t n)
{
	size_t cur = spfkit__dmarc_after_version(s, n), last = cur;
	spfkit__dmarc_tag t;
	unsigned count = 0;
	while (spfkit__dmarc_next_tag(s, n, &cur, &t)) {
		FZ_ASSERT(t.len > 0 && t.pos >= last && t.pos + t.len <= n,
			  "tag at %zu+%zu", t.pos, t.len);
		FZ_ASSERT(!memchr(s + t.pos, ';', t.len), "';' in a tag");
		FZ_ASSERT(t.npos >= t.pos && t.npos + t.nlen <= t.pos + t.len,
			  "name outside its tag");
		FZ_ASSERT(t.vpos >= t.pos && t.vpos + t.vlen <= t.pos + t.len,
			  "value outside its tag");
		FZ_ASSERT(!t.has_eq || t.vpos > t.npos + t.nlen,
			  "value before the name");
		FZ_ASSERT(cur > t.pos && cur <= n, "cursor %zu", cur);
		last = t.pos + t.len;
		FZ_ASSERT(++count <= n, "more tags than octets");
	}
	FZ_ASSERT(cur == n, "stopped at %zu of %zu", cur, n);
}

static void one(const char *s, size_t n)
{
	bool is = spfkit__dmarc_is_record(s, n);
	FZ_ASSERT(is == (spfkit__dmarc_after_version(s, n) != 0),
		  "is_record disagrees with after_version");
	if (is)
		check_tags(s, n);
	spfkit__dmarc_rec r;
	spfkit__dmarc_parse(s, n, &r);
	FZ_ASSERT(r.p <= SPFKIT_DMARC_P_REJECT &&
		      r.sp <= SPFKIT_DMARC_P_REJECT &&
		      r.np <= SPFKIT_DMARC_P_REJECT,
		  "policy out of range");
	FZ_ASSERT(!r.p_bad || r.p == SPFKIT_DMARC_P_UNSET, "p bad and set");
	FZ_ASSERT((r.adkim == 'r' || r.adkim == 's') &&
		      (r.aspf == 'r' || r.aspf == 's') &&
		      (r.psd == 'y' || r.psd == 'n' || r.psd == 'u'),
		  "adkim %d aspf %d psd %d", r.adkim, r.aspf, r.psd);
	/* The whole input as a URI list: usable exactly when one URI is. */
	size_t cur = 0, pos, len;
	bool any = false;
	while (spfkit__dmarc_next_uri(s, n, &cur, &pos, &len)) {
		FZ_ASSERT(pos <= n && len <= n - pos, "URI outside the list");
		FZ_ASSERT(!memchr(s + pos, ',', len), "',' in a URI");
		any |= spfkit__dmarc_uri_ok(s + pos, len, NULL);
	}
	(void)any;
	spfkit__dmarc_fo_ok(s, n);

	spfkit_config *cfg;
	if (spfkit_config_new(&cfg, NULL) != SPFKIT_OK)
		return;
	seen st = {0, s, n};
	FZ_ASSERT(spfkit_dmarc_lint_record(cfg, "fuzz.example", s, n,
					   on_finding, &st) == SPFKIT_OK,
		  "lint failed");
	spfkit_config_free(cfg);
	/* Out of memory at each of the first allocations. */
	for (unsigned long k = 1; k <= 6; k++) {
		fz_alloc_state as = {0, k, false, false};
		spfkit_allocator fa = fz_allocator(&as);
		if (spfkit_config_new(&cfg, &fa) != SPFKIT_OK)
			continue;
		seen st2 = {0, s, n};
		int rc =
		    spfkit_dmarc_lint_record(cfg, NULL, s, n, on_finding, &st2);
		if (as.failed)
			FZ_ASSERT(rc == SPFKIT_OK || rc == SPFKIT_ENOMEM,
				  "rc %d", rc);
		else
			FZ_ASSERT(rc == SPFKIT_OK && st2.n == st.n,
				  "%u findings, want %u", st2.n, st.n);
		spfkit_config_free(cfg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one((const char *)data, size);
	char *buf = malloc(sizeof PREFIX - 1 + size);
	if (!buf)
		return 0;
	memcpy(buf, PREFIX, sizeof PREFIX - 1);
	if (size)
		memcpy(buf + sizeof PREFIX - 1, data, size);
	one(buf, sizeof PREFIX - 1 + size);
	free(buf);
	return 0;
}
