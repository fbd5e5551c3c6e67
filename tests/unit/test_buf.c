/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_buf.c - the bounded buffer: growth, the size cap, the sticky error.
 */
#include <string.h>

#include "internal.h"
#include "t.h"

int main(void)
{
	const spfkit__alloc *a = spfkit__default_alloc();
	spfkit__buf b;

	spfkit__buf_init(&b, a, 10);
	T_EQ_INT(spfkit__buf_adds(&b, "hello"), SPFKIT_OK, "add within cap");
	T_EQ_INT(spfkit__buf_adds(&b, "world"), SPFKIT_OK, "add up to cap");
	T_EQ_STR(b.data, "helloworld", "content at cap");
	T_EQ_INT(spfkit__buf_addc(&b, '!'), SPFKIT_ETOOBIG, "one over the cap");
	T_EQ_INT(spfkit__buf_adds(&b, ""), SPFKIT_ETOOBIG, "error sticks");
	T_EQ_INT(b.len, 10, "length unchanged after error");
	T_CHECK(spfkit__buf_take(&b) == NULL, "take after error");
	spfkit__buf_free(&b);

	spfkit__buf_init(&b, a, 1 << 20);
	for (int i = 0; i < 10000; i++)
		spfkit__buf_add(&b, "0123456789", 10);
	T_EQ_INT(b.len, 100000, "grows to 100000");
	T_EQ_INT(b.err, SPFKIT_OK, "no error while growing");
	T_CHECK(b.data[b.len] == '\0', "NUL terminated");
	spfkit__buf_reset(&b);
	spfkit__buf_addu(&b, 0);
	spfkit__buf_addc(&b, ' ');
	spfkit__buf_addu(&b, 18446744073709551615ull);
	T_EQ_STR(b.data, "0 18446744073709551615", "numbers");
	char *p = spfkit__buf_take(&b);
	T_EQ_STR(p, "0 18446744073709551615", "take");
	spfkit__free(a, p);
	T_CHECK(b.data == NULL && b.len == 0, "empty after take");
	spfkit__buf_free(&b);

	spfkit__buf_init(&b, a, 0);
	p = spfkit__buf_take(&b);
	T_EQ_STR(p, "", "take of nothing is an empty string");
	spfkit__free(a, p);
	T_EQ_INT(spfkit__buf_add(&b, "x", 1), SPFKIT_ETOOBIG, "cap 0");
	spfkit__buf_free(&b);

	/* Sizes near SIZE_MAX are refused, never wrapped. */
	spfkit__buf_init(&b, a, SIZE_MAX);
	spfkit__buf_adds(&b, "ab");
	T_EQ_INT(spfkit__buf_add(&b, "x", SIZE_MAX - 1), SPFKIT_ETOOBIG,
		 "length overflow refused");
	spfkit__buf_free(&b);
	T_CHECK(spfkit__calloc(a, SIZE_MAX / 2, 4) == NULL, "calloc overflow");

	/* Starting in the caller's storage: no allocation until it is full,
	 * then the content moves to the heap; take always gives heap memory
	 * and leaves the storage alone. */
	char local[8];
	spfkit__buf_init_local(&b, a, 100, local, sizeof local);
	spfkit__buf_adds(&b, "abcdefg");
	T_CHECK(b.data == local && b.local, "7 octets + NUL fit locally");
	p = spfkit__buf_take(&b);
	T_EQ_STR(p, "abcdefg", "take from local storage");
	T_CHECK(p != local && b.data == local, "take copies to the heap");
	spfkit__free(a, p);
	spfkit__buf_adds(&b, "h");
	T_CHECK(b.data != local && !b.local, "the 8th octet moves to the heap");
	T_EQ_STR(b.data, "abcdefgh", "content kept across the move");
	spfkit__buf_adds(&b, "0123456789");
	T_EQ_STR(b.data, "abcdefgh0123456789", "grows on the heap");
	p = spfkit__buf_take(&b);
	T_EQ_STR(p, "abcdefgh0123456789", "take from the heap");
	spfkit__free(a, p);
	spfkit__buf_free(&b);
	spfkit__buf_init_local(&b, a, 4, local, sizeof local);
	T_EQ_INT(spfkit__buf_adds(&b, "abcde"), SPFKIT_ETOOBIG,
		 "the cap holds in local storage too");
	spfkit__buf_free(&b);
	return t_done();
}
