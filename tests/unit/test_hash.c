/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hash.c - the library's keyed hash (internal.h, hash.c): SipHash
 * as its reference computes it, names that differ only in ASCII case hash
 * alike, and families of names built to collide under the earlier
 * unkeyed hash (whatever its seed) spread out under the keyed one.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "t.h"

/* SipHash-2-4 and -1-3 of 00 01 02 ... (n octets) under the key
 * 00 01 ... 0f: the first from the reference implementation's vectors,
 * the second computed by a separate implementation of the paper's
 * algorithm. */
static void reference_vectors(void)
{
	static const struct {
		size_t n;
		uint64_t sip24, sip13;
	} v[] = {{0, 0x726fdb47dd0e0e31u, 0xabac0158050fc4dcu},
		 {1, 0x74f839c593dc67fdu, 0xc9f49bf37d57ca93u},
		 {7, 0xab0200f58b01d137u, 0xd3927d989bb11140u},
		 {8, 0x93f5f5799a932462u, 0x369095118d299a8eu},
		 {15, 0xa129ca6149be45e5u, 0xd320d86d2a519956u},
		 {16, 0x3f2acc7f57c29bdbu, 0xcc4fdd1a7d908b66u},
		 {63, 0x958a324ceb064572u, 0x9d199062b7bbb3a8u}};
	uint64_t key[2] = {0x0706050403020100u, 0x0f0e0d0c0b0a0908u};
	char msg[64];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (char)i;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		T_CHECK(spfkit__siphash(key, msg, v[i].n, false, 2, 4) ==
			    v[i].sip24,
			"SipHash-2-4 of %zu octets", v[i].n);
		T_CHECK(spfkit__siphash(key, msg, v[i].n, false, 1, 3) ==
			    v[i].sip13,
			"SipHash-1-3 of %zu octets", v[i].n);
	}
}

/* A-Z fold onto a-z, eight at a time, and nothing else moves. */
static void case_folding(void)
{
	for (unsigned c = 0; c < 256; c++) {
		uint64_t w = 0x0101010101010101u * c;
		unsigned char want = c >= 'A' && c <= 'Z'
					 ? (unsigned char)(c + 32)
					 : (unsigned char)c;
		T_CHECK(spfkit__lower8(w) == 0x0101010101010101u * want,
			"lower8 of 0x%02x", c);
	}
	const char *a = "Mail.EXAMPLE.com.Long-Label_1",
		   *b = "mail.example.COM.long-label_1";
	T_CHECK(spfkit__name_hash(a, strlen(a)) ==
		    spfkit__name_hash(b, strlen(b)),
		"names equal but for case hash alike");
	/* '@' and '`' (0x40, 0x60) are not letters: distinct names. */
	T_CHECK(spfkit__name_hash("@.example", 9) !=
		    spfkit__name_hash("`.example", 9),
		"@ and ` are not the same name");
}

/* Two families that collided under the unkeyed hash for any seed: names
 * of '@' and '`' (its case folding OR-ed 0x20 into every octet), and a
 * pair whose difference in the top bit of one word passed its multiply
 * and was cancelled by the next word. Under the keyed hash they spread. */
static void chosen_collisions(void)
{
	enum { N = 1024 };
	static uint32_t h[N];
	char name[32];
	for (unsigned k = 0; k < N; k++) {
		for (unsigned j = 0; j < 10; j++)
			name[j] = (k >> j) & 1 ? '@' : '`';
		memcpy(name + 10, ".example", 8);
		h[k] = spfkit__name_hash(name, 18);
	}
	unsigned same = 0;
	for (unsigned i = 0; i < N; i++)
		for (unsigned j = i + 1; j < N; j++)
			same += h[i] == h[j];
	/* 1024 names in 2^32 values: a pair alike is already unlikely. */
	T_CHECK(same <= 2, "%u pairs of 1024 chosen names hash alike", same);

	char a[24] = "aaaaaaaabbbbbbbb.example", b[24];
	memcpy(b, a, sizeof b);
	b[7] ^= (char)0x80;
	b[15] ^= (char)0x80;
	b[11] ^= (char)0x80;
	T_CHECK(spfkit__name_hash(a, sizeof a) !=
		    spfkit__name_hash(b, sizeof b),
		"a top-bit differential pair does not collide (names)");
	T_CHECK(spfkit__text_hash(a, sizeof a) !=
		    spfkit__text_hash(b, sizeof b),
		"a top-bit differential pair does not collide (texts)");
}

/* The key is drawn once and is not all zeros. */
static void key_drawn(void)
{
	const uint64_t *k = spfkit__hash_key();
	T_CHECK(k[0] != 0 || k[1] != 0, "the key is drawn");
	T_CHECK(spfkit__hash_key() == k && k[0] == spfkit__hash_key()[0],
		"the key stays the same");
}

int main(void)
{
	reference_vectors();
	case_folding();
	chosen_collisions();
	key_drawn();
	return t_done();
}
