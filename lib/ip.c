/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ip.c - client addresses: strict IPv4 and IPv6 text parsing over
 * (pointer, length) views of hostile input, canonical text (RFC 5952), CIDR
 * prefix comparison (RFC 7208 §5.6) and the names derived from an address:
 * the %{i} macro value (§7.3) and the reverse-lookup name (§5.5).
 * Hand-parsed rather than inet_pton(): that needs NUL-terminated input and
 * its leniency differs between C libraries.
 */
#include <string.h>

#include "internal.h"

static const char hexdigits[] = "0123456789abcdef";

/* The value of one hex digit, or -1. */
static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = spfkit__lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Dotted quad: exactly four decimal parts of 1-3 digits, each 0-255, no
 * sign, no leading zeros ("0" is fine, "01" is not: it reads as octal to
 * some resolvers), nothing after the last part. */
bool spfkit__ip4_parse(const char *s, size_t n, unsigned char out[4])
{
	unsigned char tmp[4];
	size_t i = 0;

	for (size_t part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < n && i - start < 3 &&
		       spfkit__is_digit((unsigned char)s[i])) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		size_t digits = i - start;
		if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0'))
			return false;
		tmp[part] = (unsigned char)v;
	}
	if (i != n)
		return false;
	memcpy(out, tmp, 4);
	return true;
}

/* RFC 4291 §2.2 text: up to eight groups of 1-4 hex digits, at most one
 * "::" standing for one or more zero groups, optionally ending in a dotted
 * quad that fills the last two groups. No zone index, no brackets. The 16
 * octets are returned as written: an IPv4-mapped address stays IPv6. */
bool spfkit__ip6_parse(const char *s, size_t n, unsigned char out[16])
{
	unsigned char tmp[16] = {0};
	size_t bi = 0;         /* octets written to tmp */
	size_t gap = SIZE_MAX; /* octet index where "::" stands */
	size_t i = 0;

	if (n < 2)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		gap = 0;
		i = 2;
	}
	while (i < n) {
		size_t start = i;
		unsigned v = 0;
		int h;
		while (i < n && i - start < 4 &&
		       (h = hexval((unsigned char)s[i])) >= 0) {
			v = (v << 4) | (unsigned)h;
			i++;
		}
		if (i < n && s[i] == '.') {
			/* The embedded IPv4 tail ends the address. */
			if (bi > 12 ||
			    !spfkit__ip4_parse(s + start, n - start, tmp + bi))
				return false;
			bi += 4;
			break;
		}
		if (i == start || bi > 14)
			return false; /* empty group or a ninth group */
		tmp[bi++] = (unsigned char)(v >> 8);
		tmp[bi++] = (unsigned char)(v & 0xff);
		if (i == n)
			break;
		if (s[i] != ':')
			return false; /* a fifth hex digit, junk or NUL */
		i++;
		if (i == n)
			return false; /* a single trailing ':' */
		if (s[i] == ':') {
			if (gap != SIZE_MAX)
				return false; /* a second "::" */
			gap = bi;
			i++;
		}
	}
	if (gap != SIZE_MAX) {
		/* "::" must stand for at least one zero group. */
		if (bi == 16)
			return false;
		size_t tail = bi - gap;
		memmove(tmp + 16 - tail, tmp + gap, tail);
		memset(tmp + gap, 0, 16 - tail - gap);
	} else if (bi != 16) {
		return false;
	}
	memcpy(out, tmp, 16);
	return true;
}

/* Does a hold ::ffff:0:0/96 (RFC 4291 §2.5.5.2)? */
static bool is_v4_mapped(const unsigned char a[16])
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0,    0,
						 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, prefix, sizeof prefix) == 0;
}

bool spfkit__ip_parse(const char *s, size_t n, spfkit__ip *ip)
{
	if (s == NULL || n == 0)
		return false;
	if (memchr(s, ':', n) == NULL) {
		if (!spfkit__ip4_parse(s, n, ip->a))
			return false;
		ip->family = 4;
		memset(ip->a + 4, 0, 12);
		return true;
	}
	unsigned char a[16];
	if (!spfkit__ip6_parse(s, n, a))
		return false;
	memset(ip->a, 0, sizeof ip->a);
	if (is_v4_mapped(a)) {
		/* RFC 7208 §5: an IPv4-mapped client is checked as IPv4. */
		ip->family = 4;
		memcpy(ip->a, a + 12, 4);
	} else {
		ip->family = 6;
		memcpy(ip->a, a, 16);
	}
	return true;
}

static void format_v4(const unsigned char a[4], spfkit__buf *b)
{
	char t[16]; /* "255.255.255.255" */
	size_t n = 0;
	for (size_t i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i > 0)
			t[n++] = '.';
		if (v >= 100)
			t[n++] = (char)('0' + v / 100);
		if (v >= 10)
			t[n++] = (char)('0' + v / 10 % 10);
		t[n++] = (char)('0' + v % 10);
	}
	spfkit__buf_add(b, t, n);
}

/* One group in lower-case hex without leading zeros. */
static void format_group(unsigned g, spfkit__buf *b)
{
	char tmp[4];
	size_t k = 0;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned nib = (g >> shift) & 0xf;
		if (k > 0 || nib != 0 || shift == 0)
			tmp[k++] = hexdigits[nib];
	}
	spfkit__buf_add(b, tmp, k);
}

/* RFC 5952 §4: lower case, no leading zeros, the longest run of two or
 * more zero groups (the first of equal runs) as "::". §5: IPv4-mapped
 * addresses keep their dotted quad ("::ffff:192.0.2.1"). */
static void format_v6(const unsigned char a[16], spfkit__buf *b)
{
	if (is_v4_mapped(a)) {
		spfkit__buf_adds(b, "::ffff:");
		format_v4(a + 12, b);
		return;
	}
	unsigned g[8];
	for (size_t i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];

	size_t best = 8, bestlen = 0;
	for (size_t i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	if (bestlen < 2)
		best = 8; /* a single zero group is not compressed */

	for (size_t i = 0; i < 8; i++) {
		if (i == best) {
			spfkit__buf_add(b, "::", 2);
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && !(best < 8 && i == best + bestlen))
			spfkit__buf_addc(b, ':');
		format_group(g[i], b);
	}
}

/* Any family other than 6 is treated as IPv4. */
void spfkit__ip_format(const spfkit__ip *ip, spfkit__buf *b)
{
	if (ip->family == 6)
		format_v6(ip->a, b);
	else
		format_v4(ip->a, b);
}

/* A prefix longer than len * 8 bits is clamped to len * 8: never reads
 * past len octets. A prefix of 0 matches everything (RFC 7208 §5.6). */
bool spfkit__prefix_match(const unsigned char *a, const unsigned char *b,
			  size_t len, unsigned prefix)
{
	if (len == 4) {
		/* IPv4, the common case (long ip4 lists): one word. */
		uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
			     (uint32_t)a[2] << 8 | a[3];
		uint32_t y = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			     (uint32_t)b[2] << 8 | b[3];
		uint32_t mask = prefix == 0    ? 0
				: prefix >= 32 ? 0xffffffffu
					       : 0xffffffffu << (32 - prefix);
		return ((x ^ y) & mask) == 0;
	}
	size_t bytes = prefix / 8;
	unsigned bits = prefix % 8;
	if (bytes >= len) {
		bytes = len;
		bits = 0;
	}
	if (bytes > 0 && memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	unsigned char mask = (unsigned char)(0xffu << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* The 32 nibbles of a, dot separated, forward (reverse false: "2.0.0.1...")
 * or reversed for ip6.arpa. */
static void nibbles(const unsigned char a[16], bool reverse, bool upper,
		    spfkit__buf *b)
{
	static const char upperdigits[] = "0123456789ABCDEF";
	char tmp[64];
	size_t k = 0;
	for (size_t i = 0; i < 32; i++) {
		size_t n = reverse ? 31 - i : i;
		unsigned char octet = a[n / 2];
		unsigned nib = (n % 2 == 0) ? (octet >> 4) : (octet & 0xf);
		if (i > 0)
			tmp[k++] = '.';
		tmp[k++] = upper ? upperdigits[nib] : hexdigits[nib];
	}
	spfkit__buf_add(b, tmp, k);
}

/* RFC 7208 §7.3 %{i}: the dotted quad for IPv4, 32 dot-separated
 * nibbles in forward order for IPv6, upper-case hex as in the RFC's own
 * example (§7.4) and the openspf suite (DNS does not care). */
void spfkit__ip_macro(const spfkit__ip *ip, spfkit__buf *b)
{
	if (ip->family == 6)
		nibbles(ip->a, false, true, b);
	else
		format_v4(ip->a, b);
}

/* The PTR query name (RFC 7208 §5.5, RFC 1035 §3.5, RFC 3596 §2.5):
 * "1.2.0.192.in-addr.arpa" or reversed nibbles + ".ip6.arpa". */
void spfkit__ip_reverse_name(const spfkit__ip *ip, spfkit__buf *b)
{
	if (ip->family == 6) {
		nibbles(ip->a, true, false, b);
		spfkit__buf_adds(b, ".ip6.arpa");
		return;
	}
	for (size_t i = 4; i > 0; i--) {
		spfkit__buf_addu(b, ip->a[i - 1]);
		spfkit__buf_addc(b, '.');
	}
	spfkit__buf_adds(b, "in-addr.arpa");
}
