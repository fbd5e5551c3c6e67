/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem.c - string copies and growing arrays (see mem.h).
 */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The capacity of an array's first allocation. */
#define FIRST_CAP 16u

char *cli_copy(const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

bool cli_grow(void *arrayp, size_t *cap, size_t n, size_t size, bool *oom)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : FIRST_CAP;
	void *v, *nv = NULL;
	/* The caller's T * read and written as its bytes: object pointers
	 * share one representation on every POSIX system. */
	memcpy(&v, arrayp, sizeof v);
	if (nc > *cap && nc <= SIZE_MAX / size)
		nv = realloc(v, nc * size);
	if (!nv) {
		*oom = true;
		return false;
	}
	memcpy(arrayp, &nv, sizeof nv);
	*cap = nc;
	return true;
}
