/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_failer.h - an allocator for the unit tests that fails on request and
 * counts what is still allocated: set countdown to N to fail the
 * (N+1)th allocation (and every one after it until countdown is reset;
 * -1 never fails), then check failed and that live is back to 0. Used as
 * spfkit_allocator {f_alloc, f_realloc, f_free, &failer}.
 */
#ifndef SPFKIT_T_FAILER_H
#define SPFKIT_T_FAILER_H

#include <stdbool.h>
#include <stdlib.h>

typedef struct failer {
	long countdown; /* allocations left before one fails; <0: never */
	long live;      /* blocks allocated and not freed */
	bool failed;    /* an allocation failed in this run */
} failer;

static void *f_alloc(void *ud, size_t n)
{
	failer *f = ud;
	if (f->countdown == 0) {
		f->failed = true;
		return NULL;
	}
	if (f->countdown > 0)
		f->countdown--;
	void *p = malloc(n);
	if (p)
		f->live++;
	return p;
}

static void *f_realloc(void *ud, void *p, size_t n)
{
	failer *f = ud;
	if (f->countdown == 0) {
		f->failed = true;
		return NULL;
	}
	if (f->countdown > 0)
		f->countdown--;
	void *q = realloc(p, n);
	if (q && !p)
		f->live++;
	return q;
}

static void f_free(void *ud, void *p)
{
	failer *f = ud;
	if (p)
		f->live--;
	free(p);
}

#endif /* SPFKIT_T_FAILER_H */
