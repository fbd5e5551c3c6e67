/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_flatten_set.c - the address sets of `spfkit flatten`
 * (src/spfkit/flatten_set.c), table driven: blocks in, the fewest CIDR
 * blocks out; difference and union at the edges of both families.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/t.h"
#include "flatten_set.h"

/* Adds "A/N" (either family) to s. */
static void add(fl_set *s, const char *t)
{
	char a[64];
	size_t n = strcspn(t, "/");
	memcpy(a, t, n);
	a[n] = '\0';
	unsigned char b[16];
	inet_pton(s->bits == 32 ? AF_INET : AF_INET6, a, b);
	fl_set_add_block(
	    s, b, t[n] ? (unsigned)strtoul(t + n + 1, NULL, 10) : s->bits);
}

/* The set's CIDR terms, space-separated, into out. */
static void terms(const fl_set *s, char *out, size_t cap)
{
	fl_cidr *c;
	size_t n;
	out[0] = '\0';
	if (!fl_set_cidrs(s, &c, &n))
		return;
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char t[80];
		fl_cidr_term(t, sizeof t, s->bits, &c[i]);
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
					i ? " " : "", t);
	}
	free(c);
}

typedef struct merge_case {
	unsigned bits;
	const char *in[6];
	const char *want;
} merge_case;

static const merge_case merges[] = {
    {32, {"192.0.2.0/25", "192.0.2.128/25"}, "ip4:192.0.2.0/24"},
    {32, {"192.0.2.1/24"}, "ip4:192.0.2.0/24"}, /* host bits cleared */
    {32, {"10.0.0.0/8", "10.1.0.0/16"}, "ip4:10.0.0.0/8"},
    {32, {"192.0.2.1", "192.0.2.2"}, "ip4:192.0.2.1 ip4:192.0.2.2"},
    {32,
     {"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"},
     "ip4:192.0.2.0/30"},
    {32, {"0.0.0.0/0", "1.2.3.4"}, "ip4:0.0.0.0/0"},
    {32, {"255.255.255.255", "255.255.255.254"}, "ip4:255.255.255.254/31"},
    {32,
     {"192.0.2.64/26", "192.0.2.128/25"},
     "ip4:192.0.2.64/26 ip4:192.0.2.128/25"},
    {128, {"2001:db8:a::/49", "2001:db8:a:8000::/49"}, "ip6:2001:db8:a::/48"},
    {128, {"2001:db8::1", "2001:db8::"}, "ip6:2001:db8::/127"},
    {128, {"::/0"}, "ip6:::/0"},
    {128,
     {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
     "ip6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {128, {"2001:db8::/64", "2001:db8:0:1::/64"}, "ip6:2001:db8::/63"},
};

typedef struct diff_case {
	unsigned bits;
	const char *a, *b, *want;
} diff_case;

static const diff_case diffs[] = {
    {32, "192.0.2.0/24", "192.0.2.0/26",
     "ip4:192.0.2.64/26 ip4:192.0.2.128/25"},
    {32, "192.0.2.0/24", "192.0.2.255",
     "ip4:192.0.2.0/25 ip4:192.0.2.128/26 "
     "ip4:192.0.2.192/27 ip4:192.0.2.224/28 ip4:192.0.2.240/29 "
     "ip4:192.0.2.248/30 ip4:192.0.2.252/31 ip4:192.0.2.254"},
    {32, "10.0.0.0/8", "10.1.0.0/16",
     "ip4:10.0.0.0/16 ip4:10.2.0.0/15 "
     "ip4:10.4.0.0/14 ip4:10.8.0.0/13 ip4:10.16.0.0/12 ip4:10.32.0.0/11 "
     "ip4:10.64.0.0/10 ip4:10.128.0.0/9"},
    {32, "192.0.2.0/24", "0.0.0.0/0", ""},
    {32, "0.0.0.0/0", "128.0.0.0/1", "ip4:0.0.0.0/1"},
    {128, "2001:db8::/32", "2001:db8:8000::/33", "ip6:2001:db8::/33"},
    {128, "::/0", "::/1", "ip6:8000::/1"},
    {128, "2001:db8::/126", "2001:db8::1",
     "ip6:2001:db8:: ip6:2001:db8::2/127"},
};

int main(void)
{
	char got[2048];
	for (size_t i = 0; i < sizeof merges / sizeof *merges; i++) {
		const merge_case *c = &merges[i];
		fl_set s;
		fl_set_init(&s, c->bits);
		for (size_t j = 0; j < 6 && c->in[j]; j++)
			add(&s, c->in[j]);
		fl_set_norm(&s);
		terms(&s, got, sizeof got);
		const char *g = got;
		T_EQ_STR(g, c->want, c->in[0]);
		fl_set_free(&s);
	}
	for (size_t i = 0; i < sizeof diffs / sizeof *diffs; i++) {
		const diff_case *c = &diffs[i];
		fl_set a, b, d;
		fl_set_init(&a, c->bits);
		fl_set_init(&b, c->bits);
		add(&a, c->a);
		add(&b, c->b);
		fl_set_diff(&d, &a, &b);
		terms(&d, got, sizeof got);
		const char *g = got;
		T_EQ_STR(g, c->want, c->a);
		/* (a \ b) | (a & b) is a again: union with b's part in a. */
		fl_set_union(&d, &b);
		fl_set back;
		fl_set_diff(&back, &a, &d);
		T_EQ_INT(back.n, 0, "a minus ((a \\ b) | b) is empty");
		fl_set_free(&back);
		fl_set_free(&a);
		fl_set_free(&b);
		fl_set_free(&d);
	}
	/* Edges: has, equal, +1/-1 across the 64-bit halves. */
	fl_u128 x = {0, UINT64_MAX};
	fl_u128 y = fl_add1(x);
	T_CHECK(y.hi == 1 && y.lo == 0, "add1 carries");
	T_CHECK(fl_cmp(fl_sub1(y), x) == 0, "sub1 borrows");
	fl_set s, t;
	fl_set_init(&s, 32);
	fl_set_init(&t, 32);
	add(&s, "192.0.2.0/24");
	add(&t, "192.0.2.0/25");
	add(&t, "192.0.2.128/25");
	fl_set_norm(&t);
	T_CHECK(fl_set_equal(&s, &t), "two halves equal the whole");
	fl_u128 in = {0, 0xC0000280u}, out = {0, 0xC0000300u};
	T_CHECK(fl_set_has(&s, in) && !fl_set_has(&s, out), "has");
	fl_set_free(&s);
	fl_set_free(&t);
	return t_done();
}
