/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rdata.c - decoders for the DNS wire RDATA that drivers hand to the
 * evaluator (names of MX and PTR, TXT character-strings). The bytes come
 * from the network: every length is checked before it is used.
 */
#include "internal.h"

bool spfkit__rdata_name(const unsigned char *p, size_t n, size_t *used,
			spfkit__buf *out)
{
	size_t i = 0, total = 0;
	bool first = true;
	for (;;) {
		if (i >= n)
			return false;
		size_t len = p[i++];
		if (len == 0)
			break;
		/* Compression pointers (0xc0) and extended labels are not
		 * allowed here: drivers hand over uncompressed names. */
		if (len > 63 || len > n - i)
			return false;
		/* RFC 1035 §2.3.4: 255 octets in all, the root's zero octet
		 * included. */
		total += len + 1;
		if (total > 254)
			return false;
		if (!first)
			spfkit__buf_addc(out, '.');
		spfkit__buf_add(out, p + i, len);
		first = false;
		i += len;
	}
	if (used)
		*used = i;
	return out->err == SPFKIT_OK;
}

bool spfkit__rdata_txt(const unsigned char *p, size_t n, spfkit__buf *out)
{
	/* RFC 7208 §3.3: the character-strings of one TXT RR are
	 * concatenated without adding spaces. */
	size_t i = 0;
	while (i < n) {
		size_t len = p[i++];
		if (len > n - i)
			return false;
		spfkit__buf_add(out, p + i, len);
		i += len;
	}
	return out->err == SPFKIT_OK;
}
