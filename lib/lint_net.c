/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lint_net.c - the netblocks of a tree: the network of a prefix (host bits
 * cleared, RFC 7208 §5.6), and ip4/ip6 terms with the same qualifier that
 * repeat or lie within one another anywhere in the tree of includes and
 * redirects.
 */
#include <stdlib.h>
#include <string.h>

#include "lint.h"

/* ip4/ip6 terms kept for the overlap rules: a cap on what a hostile tree
 * can make the linter hold. */
#define MAX_BLOCKS 100000

bool spfkit__lint_network(int family, const unsigned char *addr, int cidr,
			  unsigned char *net)
{
	bool host = false;
	size_t len = family == 4 ? 4 : 16;
	for (size_t i = 0; i < len; i++) {
		int bits = cidr - (int)(i * 8);
		unsigned char mask = bits >= 8 ? 0xff
				     : bits <= 0
					 ? 0
					 : (unsigned char)(0xff << (8 - bits));
		net[i] = addr[i] & mask;
		if (addr[i] & (unsigned char)~mask)
			host = true;
	}
	return host;
}

/* Keeps the ip4/ip6 term of a TERM event (ev->family set) for the
 * netblock rules at the end, with the route it was reached by. */
void spfkit__lint_add_block(spfkit_linter *l, const spfkit_event *ev)
{
	if (l->nblocks >= MAX_BLOCKS)
		return;
	spfkit__lint_block *nb =
	    spfkit__lint_grow(l->a, &l->r.err, l->blocks, l->nblocks,
			      &l->cap_blocks, sizeof *nb, 32);
	if (!nb)
		return;
	l->blocks = nb;
	spfkit__lint_block *b = &l->blocks[l->nblocks];
	memset(b, 0, sizeof *b);
	b->family = ev->family;
	b->cidr = ev->cidr;
	b->qualifier = ev->qualifier;
	spfkit__lint_network(ev->family, ev->addr, ev->cidr, b->addr);
	b->where = spfkit__lint_route_copy(l);
	const spfkit__lint_frame *f = spfkit__lint_top(l);
	b->domain = spfkit__strndup(l->a, f ? f->domain : "",
				    f ? strlen(f->domain) : 0);
	b->term = spfkit__strndup(l->a, ev->text ? ev->text : "", ev->text_len);
	b->order = l->nblocks;
	l->nblocks++;
	if (!b->where || !b->domain || !b->term)
		l->r.err = SPFKIT_ENOMEM;
}

/* Orders blocks by family, network, then prefix length (widest first). */
static int block_cmp(const void *pa, const void *pb)
{
	const spfkit__lint_block *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	if (c)
		return c;
	if (a->cidr != b->cidr)
		return a->cidr < b->cidr ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Reports b as a duplicate of, or inside, the wider block w: at the later
 * of the two, with the other as the second place (an owner can act on
 * either when one of them is in the owner's records). */
static void overlap(spfkit_linter *l, const spfkit__lint_block *w,
		    const spfkit__lint_block *b)
{
	bool dup = w->cidr == b->cidr;
	/* Report at the later of the two in evaluation order. */
	const spfkit__lint_block *first = w, *second = b;
	if (dup && w->order > b->order) {
		first = b;
		second = w;
	}
	l->r.where = second->where;
	l->r.domain = second->domain;
	l->r.other_where = first->where;
	l->r.other_domain = first->domain;
	l->r.record = NULL;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "'");
	spfkit__lint_shown(&m.m, second->term, strlen(second->term), 100);
	spfkit__buf_adds(&m.m, "' in ");
	spfkit__lint_shown(&m.m, second->where, strlen(second->where), 300);
	spfkit__buf_adds(&m.m, dup ? " duplicates '" : " lies within '");
	spfkit__lint_shown(&m.m, first->term, strlen(first->term), 100);
	spfkit__buf_adds(&m.m, "' in ");
	spfkit__lint_shown(&m.m, first->where, strlen(first->where), 300);
	spfkit__buf_adds(&m.f, "remove the narrower or repeated one");
	spfkit__lint_emit(&l->r, &m, SPFKIT_SEVERITY_WARNING,
			  dup ? "duplicate-netblock" : "overlapping-netblock",
			  "RFC 7208 5.6", 0, 0);
	l->r.where = l->r.domain = NULL;
	l->r.other_where = l->r.other_domain = NULL;
}

/* Duplicate and overlapping netblocks with the same qualifier across the
 * whole tree: sorted, a prefix contains exactly the prefixes that follow
 * it while they match it, so a stack sweep finds each block's widest
 * container in O(n log n). */
void spfkit__lint_netblocks(spfkit_linter *l)
{
	if (l->nblocks < 2)
		return;
	qsort(l->blocks, l->nblocks, sizeof *l->blocks, block_cmp);
	/* One sweep per qualifier: the stack holds indices of blocks. */
	static const char quals[] = {'+', '-', '~', '?'};
	size_t *stack = spfkit__calloc(l->a, l->nblocks, sizeof *stack);
	if (!stack) {
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	for (size_t qi = 0; qi < sizeof quals && !l->r.err; qi++) {
		size_t depth = 0;
		for (size_t i = 0; i < l->nblocks && !l->r.err; i++) {
			const spfkit__lint_block *b = &l->blocks[i];
			if (b->qualifier != quals[qi])
				continue;
			while (depth) {
				const spfkit__lint_block *w =
				    &l->blocks[stack[depth - 1]];
				if (w->family == b->family &&
				    spfkit__prefix_match(w->addr, b->addr,
							 w->family == 4 ? 4
									: 16,
							 (unsigned)w->cidr))
					break;
				depth--;
			}
			if (depth)
				overlap(l, &l->blocks[stack[depth - 1]], b);
			stack[depth++] = i;
		}
	}
	spfkit__free(l->a, stack);
}
