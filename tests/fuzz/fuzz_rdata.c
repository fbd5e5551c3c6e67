/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_rdata.c - the wire RDATA decoders (lib/rdata.c) and
 * spfkit_check_answer() on hostile RDATA. The decoders are compared with
 * a reference written here from RFC 1035 §3.1 and §3.3 (names: labels of
 * 1-63 octets, at most 255 octets in wire form with the root label, no
 * compression; TXT: character-strings that must not overrun the RDATA),
 * under output caps of several sizes. Then the input is the RDATA of the
 * answer to a pending query of each type the evaluator asks for (TXT, A,
 * AAAA, MX, PTR), and the check runs to its end against an empty zone:
 * A/AAAA must match exactly when the RDATA is the client's address, a
 * decodable MX / PTR name must be asked for next, and the result and
 * headers must be well formed.
 */
#include "fuzz_common.h"
#include "internal.h"

/* Reference decoder of an uncompressed wire name: false when malformed;
 * else the dotted text (labels copied as they are) and the octets used. */
static bool ref_name(const uint8_t *p, size_t n, size_t *used, char *out,
		     size_t *outlen)
{
	size_t i = 0, o = 0;
	for (;;) {
		if (i >= n)
			return false;
		size_t l = p[i++];
		if (l == 0)
			break;
		if (l > 63 || l > n - i)
			return false;
		if (o)
			out[o++] = '.';
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
		if (i + 1 > 255) /* RFC 1035 §3.1: 255 octets, root included */
			return false;
	}
	*used = i;
	*outlen = o;
	return true;
}

static const size_t caps[] = {0, 1, 63, 253, 254, 255, 65536};

static void check_name(const uint8_t *p, size_t n)
{
	char want[512];
	size_t want_len = 0, want_used = 0;
	bool ok = ref_name(p, n, &want_used, want, &want_len);
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		spfkit__buf b;
		spfkit__buf_init(&b, spfkit__default_alloc(), caps[c]);
		size_t used = SIZE_MAX;
		bool got = spfkit__rdata_name(p, n, &used, &b);
		if (ok && want_len <= caps[c]) {
			FZ_ASSERT(got, "valid name refused (cap %zu)", caps[c]);
			FZ_ASSERT(used == want_used, "used %zu, want %zu", used,
				  want_used);
			FZ_ASSERT(b.len == want_len &&
				      (want_len == 0 ||
				       memcmp(b.data, want, want_len) == 0),
				  "name text differs");
		} else if (ok) {
			FZ_ASSERT(!got && b.err == SPFKIT_ETOOBIG,
				  "name over cap %zu accepted", caps[c]);
		} else {
			FZ_ASSERT(!got,
				  "malformed name accepted (%zu octets, "
				  "used %zu)",
				  n, used);
		}
		spfkit__buf_free(&b);
	}
	/* used may be NULL. */
	spfkit__buf b;
	spfkit__buf_init(&b, spfkit__default_alloc(), 1024);
	FZ_ASSERT(spfkit__rdata_name(p, n, NULL, &b) == ok, "used == NULL");
	spfkit__buf_free(&b);
}

static void check_txt(const uint8_t *p, size_t n)
{
	/* Reference: the concatenation, or malformed. */
	char *want = malloc(n + 1);
	if (!want)
		abort();
	size_t i = 0, o = 0;
	bool ok = true;
	while (i < n) {
		size_t l = p[i++];
		if (l > n - i) {
			ok = false;
			break;
		}
		memcpy(want + o, p + i, l);
		o += l;
		i += l;
	}
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
		spfkit__buf b;
		spfkit__buf_init(&b, spfkit__default_alloc(), caps[c]);
		bool got = spfkit__rdata_txt(p, n, &b);
		if (ok && o <= caps[c]) {
			FZ_ASSERT(got && b.len == o &&
				      (o == 0 || memcmp(b.data, want, o) == 0),
				  "TXT differs (cap %zu)", caps[c]);
		} else {
			FZ_ASSERT(!got,
				  "TXT accepted: ok %d, %zu octets, cap %zu",
				  ok, o, caps[c]);
		}
		spfkit__buf_free(&b);
	}
	free(want);
}

/* The pending query of type, or false. */
static bool pending_of(const spfkit_check *chk, uint16_t type, unsigned *id,
		       const char **name)
{
	for (size_t i = 0; i < spfkit_check_pending(chk); i++) {
		uint16_t t;
		if (spfkit_check_query(chk, i, id, name, &t) == SPFKIT_OK &&
		    t == type)
			return true;
	}
	return false;
}

static void check_headers(const spfkit_config *cfg, const spfkit_check *chk)
{
	for (int k = 0; k < 2; k++) {
		char *h = NULL;
		int rc = spfkit_check_header(chk, (spfkit_header)k,
					     "mx.example", &h);
		FZ_ASSERT(rc == SPFKIT_OK && h, "header %d: %d", k, rc);
		FZ_ASSERT(fz_printable(h), "header %d not printable: %s", k, h);
		spfkit_free(cfg, h);
	}
}

static void answer_test(const spfkit_config *cfg, const spfkit_zone *zone,
			uint16_t type, const uint8_t *data, size_t size)
{
	static const char *const records[] = {
	    [SPFKIT_TYPE_A] = "v=spf1 a -all",
	    [SPFKIT_TYPE_AAAA] = "v=spf1 a -all",
	    [SPFKIT_TYPE_MX] = "v=spf1 mx -all",
	    [SPFKIT_TYPE_PTR] = "v=spf1 ptr -all",
	};
	static const unsigned char v4[4] = {192, 0, 2, 1};
	static const unsigned char v6[16] = {
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	spfkit_check *chk = NULL;
	if (spfkit_check_new(&chk, cfg) != SPFKIT_OK)
		abort();
	spfkit_check_set_ip(chk, type == SPFKIT_TYPE_AAAA ? "2001:db8::1"
							  : "192.0.2.1");
	spfkit_check_set_sender(chk, "user@example.com", 16);
	spfkit_check_set_helo(chk, "mail.example.com", 16);
	if (type != SPFKIT_TYPE_TXT)
		spfkit_check_set_record(chk, records[type],
					strlen(records[type]));
	int rc = spfkit_check_run(chk, 0);
	FZ_ASSERT(rc == SPFKIT_WANT_DNS, "type %u: run %d", type, rc);
	unsigned id;
	const char *qname;
	FZ_ASSERT(pending_of(chk, type, &id, &qname), "no query of type %u",
		  type);
	spfkit_rr rr = {type, 300, data, size};
	rc = spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, &rr, 1);
	FZ_ASSERT(rc == SPFKIT_OK, "answer %d", rc);
	/* The same id again: no longer pending. */
	FZ_ASSERT(spfkit_check_answer(chk, id, SPFKIT_DNS_NOERROR, &rr, 1) ==
		      SPFKIT_ENOENT,
		  "answered twice");
	rc = spfkit_check_run(chk, 1);
	FZ_ASSERT(rc == SPFKIT_DONE || rc == SPFKIT_WANT_DNS, "run %d", rc);

	if (type == SPFKIT_TYPE_MX || type == SPFKIT_TYPE_PTR) {
		/* A decodable name that may be asked for is asked for. */
		size_t off = type == SPFKIT_TYPE_MX ? 2 : 0, used, len;
		char name[512];
		if (size > off &&
		    ref_name(data + off, size - off, &used, name, &len) &&
		    used == size - off && len > 0 &&
		    (type != SPFKIT_TYPE_MX || size >= 3) &&
		    spfkit__domain_ok(name, len)) {
			bool under = len >= 11 &&
				     spfkit__ieq(name + len - 11, 11,
						 "example.com", 11) &&
				     (len == 11 || name[len - 12] == '.');
			if (type == SPFKIT_TYPE_MX || under) {
				bool asked = false;
				for (size_t i = 0;
				     i < spfkit_check_pending(chk); i++) {
					const char *qn;
					uint16_t qt;
					spfkit_check_query(chk, i, NULL, &qn,
							   &qt);
					size_t qlen = strlen(qn);
					size_t nl =
					    len - (name[len - 1] == '.');
					if (qt == SPFKIT_TYPE_A && qlen == nl &&
					    spfkit__ieq(qn, qlen, name, nl))
						asked = true;
				}
				FZ_ASSERT(asked, "%s name not asked for",
					  type == SPFKIT_TYPE_MX ? "MX"
								 : "PTR");
			}
		}
	}

	rc = spfkit_zone_check(zone, chk, 2);
	FZ_ASSERT(rc == SPFKIT_OK, "zone_check %d", rc);
	spfkit_result r = spfkit_check_result(chk);
	FZ_ASSERT(r >= SPFKIT_RESULT_NONE && r <= SPFKIT_RESULT_PERMERROR,
		  "result %d", r);
	if (type == SPFKIT_TYPE_A || type == SPFKIT_TYPE_AAAA) {
		const unsigned char *me = type == SPFKIT_TYPE_A ? v4 : v6;
		size_t ml = type == SPFKIT_TYPE_A ? 4 : 16;
		bool match = size == ml && memcmp(data, me, ml) == 0;
		FZ_ASSERT(
		    r == (match ? SPFKIT_RESULT_PASS : SPFKIT_RESULT_FAIL),
		    "a: result %s, match %d", spfkit_result_name(r), match);
	}
	if (type == SPFKIT_TYPE_MX || type == SPFKIT_TYPE_PTR)
		FZ_ASSERT(r == SPFKIT_RESULT_FAIL, "%u: result %s", type,
			  spfkit_result_name(r));
	check_headers(cfg, chk);
	spfkit_check_free(chk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_name(data, size);
	check_txt(data, size);

	static spfkit_config *cfg;
	static spfkit_zone *zone;
	if (!cfg) {
		if (spfkit_config_new(&cfg, NULL) ||
		    spfkit_zone_new(&zone, cfg))
			abort();
	}
	if (size > 65535)
		return 0;
	static const uint16_t types[] = {SPFKIT_TYPE_TXT, SPFKIT_TYPE_A,
					 SPFKIT_TYPE_AAAA, SPFKIT_TYPE_MX,
					 SPFKIT_TYPE_PTR};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		answer_test(cfg, zone, types[i], data, size);
	return 0;
}
