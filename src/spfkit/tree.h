/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tree.h - the model of `spfkit tree` (tree_build.c): the walked check's
 * frames as nodes, each with its record, its terms and their events, the
 * child each include or redirect pushed, and the addresses authorised.
 * tree.c writes it as text, JSON or DOT; svg.c draws it.
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
	node *parent;
	const walk_ev *frame, *record, *end;
	const walk_ev **ev; /* before the first term: record LOOKUP, PROBLEM */
	size_t nev, cap_ev;
	tterm *terms;
	size_t nterms, cap_terms;
	unsigned own_lookups, own_voids;
	ranges own4, all4; /* pass-qualified IPv4 ranges: own, subtree */
	uint64_t own4n;    /* addresses own4 covers, once merged */
	unsigned own6, all6;
	/* What a check gives for a client no term of the tree lists: the
	 * walk's own result, unless the first problem came while this
	 * record was open (a check ends there with the problem's result)
	 * or before it (a check never reaches it). */
	bool reached;
	spfkit_result result;
	spfkit_reason reason;
	bool has_result;
};

/* A PROBLEM event and where it came: the record and the term. */
typedef struct tproblem {
	const walk_ev *ev;
	const node *n; /* NULL: before the first record */
	size_t term;   /* n->terms[term - 1]; 0: about the record as a whole */
} tproblem;

typedef struct tree {
	node **nodes;
	size_t n, cap;
	node *root;
	const walk_ev **loose; /* events outside any frame */
	size_t nloose, cap_loose;
	tproblem *problems; /* every PROBLEM, in order: the first ends a
			       check for a client no term lists */
	size_t nproblems, cap_problems;
	const walk_ev *result;
	bool oom;
} tree;

/* Builds t from the log of a walked check, with every node's totals;
 * t->oom tells that memory ran out (t is to be freed either way). */
void tree_build(tree *t, const walk_log *log);
void tree_free(tree *t);

/* The help lines of the options tree and report share: --ip, --sender,
 * --record and the DNS options (tree.c). */
void tree_help_walk(FILE *f);

/* How many addresses r covers (merged ranges). */
uint64_t tree_covered(const ranges *r);

/* The route to n, "a.example > include b.example" (malloc; the caller
 * frees), or NULL when out of memory. */
char *tree_route(const node *n);

#endif /* SPFKIT_TREE_H */
