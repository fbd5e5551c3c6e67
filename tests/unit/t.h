/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t.h - the unit tests' few assertions. Each test program counts its checks
 * and ends with "N passed, N failed"; a failed check prints where and why.
 */
#ifndef SPFKIT_T_H
#define SPFKIT_T_H

#include <stdio.h>
#include <string.h>

static unsigned t_passed, t_failed;

#define T_CHECK(cond, ...)                                                     \
	do {                                                                   \
		if (cond) {                                                    \
			t_passed++;                                            \
		} else {                                                       \
			t_failed++;                                            \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);   \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
		}                                                              \
	} while (0)

#define T_EQ_INT(got, want, what)                                              \
	T_CHECK((long long)(got) == (long long)(want),                         \
		"%s: got %lld, want %lld", (what), (long long)(got),           \
		(long long)(want))

#define T_EQ_STR(got, want, what)                                              \
	T_CHECK(((got) == NULL && (want) == NULL) ||                           \
		    ((got) != NULL && (want) != NULL &&                        \
		     strcmp((got), (want)) == 0),                              \
		"%s: got \"%s\", want \"%s\"", (what),                         \
		(got) ? (got) : "(null)", (want) ? (want) : "(null)")

/* Prints the closing line and gives main's exit status. */
static inline int t_done(void)
{
	printf("%u passed, %u failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

#endif
