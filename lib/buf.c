/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buf.c - the bounded growable buffer, the only way the library builds
 * strings, and the allocation wrappers every module goes through.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *default_alloc(void *ud, size_t n)
{
	(void)ud;
	return malloc(n);
}

static void *default_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	return realloc(p, n);
}

static void default_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

static const spfkit__alloc default_allocator = {default_alloc, default_realloc,
						default_free, NULL};

const spfkit__alloc *spfkit__default_alloc(void)
{
	return &default_allocator;
}

void *spfkit__malloc(const spfkit__alloc *a, size_t n)
{
	return a->alloc(a->ud, n ? n : 1);
}

void *spfkit__calloc(const spfkit__alloc *a, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	size_t n = count * size;
	void *p = spfkit__malloc(a, n);
	if (p && n)
		memset(p, 0, n);
	return p;
}

void *spfkit__grow(const spfkit__alloc *a, void *v, size_t n, size_t *cap,
		   size_t size, size_t first)
{
	if (n < *cap)
		return v;
	size_t nc = *cap ? *cap * 2 : first;
	if (nc < n + 1)
		nc = n + 1;
	if (size && nc > SIZE_MAX / size)
		return NULL;
	void *nv = spfkit__realloc(a, v, nc * size);
	if (nv)
		*cap = nc;
	return nv;
}

void *spfkit__realloc(const spfkit__alloc *a, void *p, size_t n)
{
	return a->realloc(a->ud, p, n ? n : 1);
}

void spfkit__free(const spfkit__alloc *a, void *p)
{
	if (p)
		a->free(a->ud, p);
}

char *spfkit__strndup(const spfkit__alloc *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = spfkit__malloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void spfkit__buf_init(spfkit__buf *b, const spfkit__alloc *a, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = SPFKIT_OK;
	b->a = a;
	b->local = false;
}

void spfkit__buf_init_local(spfkit__buf *b, const spfkit__alloc *a, size_t max,
			    char *storage, size_t cap)
{
	spfkit__buf_init(b, a, max);
	if (cap > 0) {
		b->data = storage;
		b->cap = cap;
		b->local = true;
		storage[0] = '\0';
	}
}

void spfkit__buf_free(spfkit__buf *b)
{
	if (!b->local)
		spfkit__free(b->a, b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->local = false;
}

void spfkit__buf_reset(spfkit__buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for n more octets plus the NUL, within max. */
static int buf_reserve(spfkit__buf *b, size_t n)
{
	if (b->err)
		return b->err;
	if (n > b->max || b->len > b->max - n) {
		b->err = SPFKIT_ETOOBIG;
		return b->err;
	}
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return SPFKIT_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = spfkit__realloc(b->a, b->local ? NULL : b->data, cap);
	if (!p) {
		b->err = SPFKIT_ENOMEM;
		return b->err;
	}
	if (b->local) {
		memcpy(p, b->data, b->len + 1);
		b->local = false;
	}
	b->data = p;
	b->cap = cap;
	return SPFKIT_OK;
}

int spfkit__buf_add_grow(spfkit__buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n))
		return b->err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return SPFKIT_OK;
}

int spfkit__buf_adds(spfkit__buf *b, const char *s)
{
	return spfkit__buf_add(b, s, strlen(s));
}

int spfkit__buf_addu(spfkit__buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return spfkit__buf_add(b, tmp + i, sizeof tmp - i);
}

char *spfkit__buf_take(spfkit__buf *b)
{
	if (b->err)
		return NULL;
	if (!b->data && buf_reserve(b, 0))
		return NULL;
	if (b->local) {
		char *h = spfkit__strndup(b->a, b->data, b->len);
		if (!h)
			b->err = SPFKIT_ENOMEM;
		return h; /* b keeps its storage until spfkit__buf_free() */
	}
	b->data[b->len] = '\0';
	char *p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

bool spfkit__ieq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	/* Names asked for and names cached are mostly the very same octets:
	 * that is one memcmp; only a difference in case needs the slow way. */
	if (an == 0 || memcmp(a, b, an) == 0)
		return true;
	for (size_t i = 0; i < an; i++)
		if (spfkit__lower((unsigned char)a[i]) !=
		    spfkit__lower((unsigned char)b[i]))
			return false;
	return true;
}
