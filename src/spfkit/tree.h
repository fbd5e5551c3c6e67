/*
 * tree.h - the model of `spfkit tree` (tree_build.c): the walked check's
 * frames as nodes, each with its record, its terms and their events, the
 * child each include or redirect pushed, and the addresses authorised.
 * tree.c writes it as text, JSON or DOT.
 */
#ifndef SPFKIT_TREE_H
#define SPFKIT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "walk.h"

typedef struct node node;

/* An inclusive range of IPv4 addresses. */
typedef struct range4 {
	uint32_t lo, hi;
} range4;

typedef struct ranges {
	range4 *v;
	size_t n, cap;
} ranges;

typedef struct tterm {
	const walk_ev *term; /* the TERM event */
	const walk_ev *end;  /* TERM_END, or NULL */
	const walk_ev **ev;  /* LOOKUP, VOID and PROBLEM events, in order */
	size_t nev, cap_ev;
	node *child;
	uint64_t v4; /* own addresses (pass qualifier only) */
	unsigned v6;
} tterm;

struct node {
	const walk_ev *frame, *record, *end;
	const walk_ev **ev; /* before the first term: record LOOKUP, PROBLEM */
	size_t nev, cap_ev;
	tterm *terms;
	size_t nterms, cap_terms;
	unsigned own_lookups, own_voids;
	ranges own4, all4; /* pass-qualified IPv4 ranges: own, subtree */
	uint64_t own4n;    /* addresses own4 covers, once merged */
	unsigned own6, all6;
};

typedef struct tree {
	node **nodes;
	size_t n, cap;
	node *root;
	const walk_ev **loose; /* events outside any frame */
	size_t nloose, cap_loose;
	const walk_ev *result;
	bool oom;
} tree;

/* Builds t from the log of a walked check, with every node's totals;
 * t->oom tells that memory ran out (t is to be freed either way). */
void tree_build(tree *t, const walk_log *log);
void tree_free(tree *t);

/* How many addresses r covers (merged ranges). */
uint64_t tree_covered(const ranges *r);

#endif /* SPFKIT_TREE_H */
