/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem.c - memory of the message parser: the caller's allocator hooks
 * (spfkit_allocator, so tests can fail the Nth allocation), the arena that
 * holds unfolded values, unquoted strings, normalised addresses and
 * decoded bodies until msgp_free(), and the parse context's sticky error
 * and the warnings of a message.
 */
#include "msg_internal.h"

#include <stdlib.h>
#include <string.h>

/* Arena blocks: at least this large; a value larger gets its own. */
#define ARENA_BLOCK 16384u

typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
} arena_block;

struct msgp_arena {
	const spfkit_allocator *a; /* &copy */
	spfkit_allocator copy;     /* the caller's, kept for msgp_free() */
	arena_block *head;
	bool failed; /* sticky: an allocation failed */
};

void *msgp__mem_alloc(const spfkit_allocator *a, size_t n)
{
	return a->alloc(a->ud, n ? n : 1);
}

void msgp__mem_free(const spfkit_allocator *a, void *p)
{
	if (p)
		a->free(a->ud, p);
}

static void *def_alloc(void *ud, size_t n)
{
	(void)ud;
	return malloc(n);
}

static void *def_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	return realloc(p, n);
}

static void def_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

const spfkit_allocator msgp__default_alloc = {def_alloc, def_realloc, def_free,
					      NULL};

struct msgp_arena *msgp__arena_new(const spfkit_allocator *a)
{
	struct msgp_arena *ar = msgp__mem_alloc(a, sizeof *ar);
	if (!ar)
		return NULL;
	*ar = (struct msgp_arena){.copy = *a};
	ar->a = &ar->copy;
	return ar;
}

const spfkit_allocator *msgp__arena_alloc(const struct msgp_arena *ar)
{
	return ar->a;
}

bool msgp__arena_failed(const struct msgp_arena *ar)
{
	return ar->failed;
}

/* n octets from the arena, or NULL (then the arena's failure sticks). */
static char *arena_get(struct msgp_arena *ar, size_t n)
{
	if (ar->failed)
		return NULL;
	arena_block *b = ar->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		if (cap > SIZE_MAX - sizeof *b) {
			ar->failed = true;
			return NULL;
		}
		b = msgp__mem_alloc(ar->a, sizeof *b + cap);
		if (!b) {
			ar->failed = true;
			return NULL;
		}
		b->next = ar->head;
		b->used = 0;
		b->cap = cap;
		ar->head = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

void msgp__arena_free(struct msgp_arena *ar)
{
	if (!ar)
		return;
	spfkit_allocator a = ar->copy;
	arena_block *b = ar->head;
	while (b) {
		arena_block *next = b->next;
		msgp__mem_free(&a, b);
		b = next;
	}
	msgp__mem_free(&a, ar);
}

bool msgp__grow(const spfkit_allocator *a, void **arr, size_t n, size_t *cap,
		size_t sz)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / sz)
		return false;
	void *p = a->realloc(a->ud, *arr, ncap * sz);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

void msgp__fail(ctx *x, int status, const char *why)
{
	if (x->err)
		return;
	x->err = status;
	if (x->msglen) {
		size_t n = strlen(why);
		if (n >= x->msglen)
			n = x->msglen - 1;
		memcpy(x->msg, why, n);
		x->msg[n] = '\0';
	}
}

char *msgp__get(ctx *x, size_t n)
{
	char *d = arena_get(x->ar, n);
	if (!d)
		msgp__fail(x, SPFKIT_ENOMEM, "out of memory");
	return d;
}

void msgp__warn(msgp_msg *m, const char *why)
{
	for (size_t i = 0; i < m->nwarnings; i++)
		if (m->warnings[i] == why)
			return;
	if (m->nwarnings < MSGP_WARNINGS)
		m->warnings[m->nwarnings++] = why;
}

const char msgp__warn_fields[] =
    "the header section is longer than 1 MiB or 4096 fields: the header "
    "fields below were read past (input.fields_skipped)";
const char msgp__warn_body[] =
    "the bounce's body is longer than 4 MiB: only its first 4 MiB were "
    "read, and parts past them are not seen (input.body_octets_skipped)";
