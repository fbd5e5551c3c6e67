/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flatten_set.h - sets of IP addresses for `spfkit flatten`: sorted,
 * merged ranges of one family (IPv4 or IPv6, both held as 128-bit
 * numbers), union, difference, and the fewest CIDR blocks that cover a
 * set exactly (what an ip4/ip6 term can say, RFC 7208 §5.6).
 */
#ifndef SPFKIT_FLATTEN_SET_H
#define SPFKIT_FLATTEN_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_u128 {
	uint64_t hi, lo;
} fl_u128;

/* An inclusive range [lo, hi]. */
typedef struct fl_range {
	fl_u128 lo, hi;
} fl_range;

/* A set of one family: bits is 32 or 128. After fl_set_norm() (and every
 * operation below) the ranges are sorted, disjoint and not adjacent. */
typedef struct fl_set {
	unsigned bits;
	fl_range *v;
	size_t n, cap;
	bool oom; /* an allocation failed: the set is not to be trusted */
} fl_set;

/* One CIDR block. */
typedef struct fl_cidr {
	fl_u128 addr;
	unsigned len;
} fl_cidr;

void fl_set_init(fl_set *s, unsigned bits);
void fl_set_free(fl_set *s);
/* Adds the block addr (4 or 16 octets, network order)/len. */
void fl_set_add_block(fl_set *s, const unsigned char *addr, unsigned len);
/* Adds every address of the family. */
void fl_set_add_all(fl_set *s);
/* Adds the range [lo, hi] (lo <= hi), unsorted until fl_set_norm(). */
void fl_set_add_range(fl_set *s, fl_u128 lo, fl_u128 hi);
/* Sorts and merges the ranges. */
void fl_set_norm(fl_set *s);
/* s |= t (t normalised or not). */
void fl_set_union(fl_set *s, const fl_set *t);
/* out = s \ t, both normalised; out is initialised here. */
void fl_set_diff(fl_set *out, const fl_set *s, const fl_set *t);
/* Equal sets (both normalised). */
bool fl_set_equal(const fl_set *a, const fl_set *b);
/* Does the set hold addr? */
bool fl_set_has(const fl_set *s, fl_u128 addr);
/* The fewest CIDR blocks covering the normalised set exactly, in order:
 * *out (malloc, caller frees) with *n blocks. False when out of memory. */
bool fl_set_cidrs(const fl_set *s, fl_cidr **out, size_t *n);
/* Writes block c of a family of bits as "ip4:A.B.C.D/N" or "ip6:X::/N"
 * (without "/N" for a single address) into dst (cap octets). */
void fl_cidr_term(char *dst, size_t cap, unsigned bits, const fl_cidr *c);
/* An address as text (no prefix) into dst. */
void fl_addr_text(char *dst, size_t cap, unsigned bits, fl_u128 a);

/* 128-bit arithmetic the ranges need. */
int fl_cmp(fl_u128 a, fl_u128 b);
fl_u128 fl_add1(fl_u128 a);
fl_u128 fl_sub1(fl_u128 a);
/* The largest address of a family of bits. */
fl_u128 fl_max(unsigned bits);

#endif /* SPFKIT_FLATTEN_SET_H */
