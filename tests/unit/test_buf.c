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
	return t_done();
}
