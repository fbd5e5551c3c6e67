/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flatten_set.c - address sets of `spfkit flatten` (flatten_set.h): an
 * include contributes the set of addresses its record passes, a record
 * decides sets in the order of its terms, and the result is written as
 * the fewest ip4/ip6 blocks that say exactly the same.
 */
#include "flatten_set.h"

#include "mem.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_cmp(fl_u128 a, fl_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

fl_u128 fl_add1(fl_u128 a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

fl_u128 fl_sub1(fl_u128 a)
{
	if (a.lo == 0)
		a.hi--;
	a.lo--;
	return a;
}

fl_u128 fl_max(unsigned bits)
{
	fl_u128 m = {0, UINT64_MAX};
	if (bits == 32)
		m.lo = UINT32_MAX;
	else
		m.hi = UINT64_MAX;
	return m;
}

/* The last address of the block starting at a with len of bits (the low
 * bits - len bits set). */
static fl_u128 block_last(fl_u128 a, unsigned bits, unsigned len)
{
	unsigned host = bits - len; /* 0 .. 128 */
	if (host >= 128)
		return fl_max(128);
	if (host >= 64) {
		a.lo = UINT64_MAX;
		a.hi |= host == 64 ? 0 : (UINT64_MAX >> (128 - host));
	} else if (host > 0) {
		a.lo |= UINT64_MAX >> (64 - host);
	}
	return a;
}

/* Is a aligned to a block of host bits (its low host bits clear)? */
static bool aligned(fl_u128 a, unsigned host)
{
	if (host == 0)
		return true;
	if (host >= 128)
		return a.hi == 0 && a.lo == 0;
	if (host >= 64)
		return a.lo == 0 &&
		       (host == 64 ||
			(a.hi & (UINT64_MAX >> (128 - host))) == 0);
	return (a.lo & (UINT64_MAX >> (64 - host))) == 0;
}

void fl_set_init(fl_set *s, unsigned bits)
{
	memset(s, 0, sizeof *s);
	s->bits = bits;
}

void fl_set_free(fl_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

void fl_set_add_range(fl_set *s, fl_u128 lo, fl_u128 hi)
{
	if (!cli_grow(&s->v, &s->cap, s->n, sizeof *s->v, &s->oom))
		return;
	s->v[s->n].lo = lo;
	s->v[s->n].hi = hi;
	s->n++;
}

void fl_set_add_block(fl_set *s, const unsigned char *addr, unsigned len)
{
	fl_u128 a = {0, 0};
	unsigned octets = s->bits / 8;
	for (unsigned i = 0; i < octets; i++) {
		if (i < 8 && octets == 16)
			a.hi = a.hi << 8 | addr[i];
		else
			a.lo = a.lo << 8 | addr[i];
	}
	if (len > s->bits)
		len = s->bits;
	/* Clear host bits: ip4:192.0.2.1/24 means 192.0.2.0/24 (§5.6). */
	fl_u128 last = block_last(a, s->bits, len);
	fl_u128 first = a;
	unsigned host = s->bits - len;
	if (host >= 128) {
		first.hi = first.lo = 0;
	} else if (host >= 64) {
		first.lo = 0;
		if (host > 64)
			first.hi &= ~(UINT64_MAX >> (128 - host));
	} else if (host > 0) {
		first.lo &= ~(UINT64_MAX >> (64 - host));
	}
	fl_set_add_range(s, first, last);
}

void fl_set_add_all(fl_set *s)
{
	fl_u128 zero = {0, 0};
	fl_set_add_range(s, zero, fl_max(s->bits));
}

static int range_cmp(const void *a, const void *b)
{
	return fl_cmp(((const fl_range *)a)->lo, ((const fl_range *)b)->lo);
}

void fl_set_norm(fl_set *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof *s->v, range_cmp);
	size_t w = 0;
	fl_u128 max = fl_max(s->bits);
	for (size_t i = 1; i < s->n; i++) {
		fl_range *cur = &s->v[w];
		/* Overlapping or adjacent (cur.hi + 1 >= next.lo) merge. */
		bool touch = fl_cmp(cur->hi, max) == 0 ||
			     fl_cmp(fl_add1(cur->hi), s->v[i].lo) >= 0;
		if (touch) {
			if (fl_cmp(s->v[i].hi, cur->hi) > 0)
				cur->hi = s->v[i].hi;
		} else {
			s->v[++w] = s->v[i];
		}
	}
	s->n = w + 1;
}

void fl_set_union(fl_set *s, const fl_set *t)
{
	for (size_t i = 0; i < t->n; i++)
		fl_set_add_range(s, t->v[i].lo, t->v[i].hi);
	if (t->oom)
		s->oom = true;
	fl_set_norm(s);
}

void fl_set_diff(fl_set *out, const fl_set *s, const fl_set *t)
{
	fl_set_init(out, s->bits);
	out->oom = s->oom || t->oom;
	size_t j = 0;
	for (size_t i = 0; i < s->n; i++) {
		fl_u128 lo = s->v[i].lo, hi = s->v[i].hi;
		bool left = true;
		while (j < t->n && fl_cmp(t->v[j].hi, lo) < 0)
			j++;
		for (size_t k = j; k < t->n && fl_cmp(t->v[k].lo, hi) <= 0;
		     k++) {
			if (fl_cmp(t->v[k].lo, lo) > 0)
				fl_set_add_range(out, lo, fl_sub1(t->v[k].lo));
			if (fl_cmp(t->v[k].hi, hi) >= 0) {
				left = false;
				break;
			}
			lo = fl_add1(t->v[k].hi);
		}
		if (left)
			fl_set_add_range(out, lo, hi);
	}
}

bool fl_set_equal(const fl_set *a, const fl_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (fl_cmp(a->v[i].lo, b->v[i].lo) != 0 ||
		    fl_cmp(a->v[i].hi, b->v[i].hi) != 0)
			return false;
	return true;
}

bool fl_set_has(const fl_set *s, fl_u128 addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (fl_cmp(s->v[i].lo, addr) <= 0 &&
		    fl_cmp(addr, s->v[i].hi) <= 0)
			return true;
	return false;
}

bool fl_set_cidrs(const fl_set *s, fl_cidr **out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < s->n; i++) {
		fl_u128 lo = s->v[i].lo, hi = s->v[i].hi;
		for (;;) {
			/* The largest aligned block from lo within hi. */
			unsigned len = 0;
			while (len < s->bits &&
			       (!aligned(lo, s->bits - len) ||
				fl_cmp(block_last(lo, s->bits, len), hi) > 0))
				len++;
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				fl_cidr *v = realloc(*out, cap * sizeof *v);
				if (!v) {
					free(*out);
					*out = NULL;
					*n = 0;
					return false;
				}
				*out = v;
			}
			(*out)[*n].addr = lo;
			(*out)[*n].len = len;
			(*n)++;
			fl_u128 last = block_last(lo, s->bits, len);
			if (fl_cmp(last, hi) >= 0)
				break;
			lo = fl_add1(last);
		}
	}
	return true;
}

void fl_addr_text(char *dst, size_t cap, unsigned bits, fl_u128 a)
{
	unsigned char b[16];
	if (bits == 32) {
		for (int i = 3; i >= 0; i--) {
			b[i] = (unsigned char)(a.lo & 0xff);
			a.lo >>= 8;
		}
	} else {
		for (int i = 15; i >= 8; i--) {
			b[i] = (unsigned char)(a.lo & 0xff);
			a.lo >>= 8;
		}
		for (int i = 7; i >= 0; i--) {
			b[i] = (unsigned char)(a.hi & 0xff);
			a.hi >>= 8;
		}
	}
	if (!inet_ntop(bits == 32 ? AF_INET : AF_INET6, b, dst,
		       (socklen_t)cap) &&
	    cap)
		dst[0] = '\0';
}

void fl_cidr_term(char *dst, size_t cap, unsigned bits, const fl_cidr *c)
{
	char a[64];
	fl_addr_text(a, sizeof a, bits, c->addr);
	if (c->len == bits)
		snprintf(dst, cap, "%s:%s", bits == 32 ? "ip4" : "ip6", a);
	else
		snprintf(dst, cap, "%s:%s/%u", bits == 32 ? "ip4" : "ip6", a,
			 c->len);
}
