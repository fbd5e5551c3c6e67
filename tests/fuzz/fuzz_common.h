/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.h - what the libFuzzer targets share: a reader that takes
 * bytes, integers and length-prefixed strings off the fuzz input (running
 * dry gives zeros and empty strings, never an error), an invariant check
 * that aborts with a message (libFuzzer then saves the input), and an
 * allocator that fails the Nth allocation (once, or from then on) so the
 * library's out-of-memory paths are fuzzed too.
 */
#ifndef SPFKIT_FUZZ_COMMON_H
#define SPFKIT_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spfkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the library documents; a violation is a finding. */
#define FZ_ASSERT(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
				"%s:%d: invariant failed: %s: ", __FILE__,     \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---------------------------------------------------------------- input */

typedef struct fz_in {
	const uint8_t *p;
	size_t n;
} fz_in;

static inline bool fz_empty(const fz_in *in)
{
	return in->n == 0;
}

static inline uint8_t fz_u8(fz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(fz_in *in)
{
	uint16_t hi = fz_u8(in);
	return (uint16_t)((hi << 8) | fz_u8(in));
}

static inline uint32_t fz_u32(fz_in *in)
{
	uint32_t hi = fz_u16(in);
	return (hi << 16) | fz_u16(in);
}

/* Up to want octets as a view into the input; *got tells how many. */
static inline const uint8_t *fz_take(fz_in *in, size_t want, size_t *got)
{
	size_t k = want < in->n ? want : in->n;
	const uint8_t *p = in->p;
	in->p += k;
	in->n -= k;
	*got = k;
	return p;
}

/* A string with a one-octet length in front. */
static inline const uint8_t *fz_str8(fz_in *in, size_t *len)
{
	return fz_take(in, fz_u8(in), len);
}

/* A string with a two-octet length in front. */
static inline const uint8_t *fz_str16(fz_in *in, size_t *len)
{
	return fz_take(in, fz_u16(in), len);
}

/* Everything that is left. */
static inline const uint8_t *fz_rest(fz_in *in, size_t *len)
{
	return fz_take(in, in->n, len);
}

/* ---------------------------------------------------------------- alloc */

/* Counts allocations (alloc and realloc); the fail_at-th one (1-based)
 * fails, and with sticky every later one too. fail_at == 0: never. */
typedef struct fz_alloc_state {
	unsigned long count;
	unsigned long fail_at;
	bool sticky;
	bool failed; /* some allocation failed */
} fz_alloc_state;

static inline bool fz_alloc_fails(fz_alloc_state *st)
{
	st->count++;
	if (st->fail_at == 0)
		return false;
	if (st->count == st->fail_at ||
	    (st->sticky && st->count > st->fail_at)) {
		st->failed = true;
		return true;
	}
	return false;
}

static inline void *fz_alloc_fn(void *ud, size_t n)
{
	return fz_alloc_fails(ud) ? NULL : malloc(n);
}

static inline void *fz_realloc_fn(void *ud, void *p, size_t n)
{
	return fz_alloc_fails(ud) ? NULL : realloc(p, n);
}

static inline void fz_free_fn(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static inline spfkit_allocator fz_allocator(fz_alloc_state *st)
{
	spfkit_allocator a = {fz_alloc_fn, fz_realloc_fn, fz_free_fn, st};
	return a;
}

/* ---------------------------------------------------------------- text */

/* Is every octet of the NUL-terminated s printable ASCII (0x20-0x7e)? */
static inline bool fz_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* No control characters (C0 or DEL): one line; 8-bit octets allowed. */
static inline bool fz_one_line(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

#endif /* SPFKIT_FUZZ_COMMON_H */
