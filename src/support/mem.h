/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem.h - the two things the spfkit command does with memory again and
 * again: copying a (pointer, length) string that may hold any octet, and
 * growing an array one item at a time. Out of memory is never fatal
 * here: callers remember it (an "oom" flag) and say so once.
 */
#ifndef SPFKIT_SUPPORT_MEM_H
#define SPFKIT_SUPPORT_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* A NUL-terminated copy of (s, n) (malloc; the caller frees). NULL for
 * NULL, or when out of memory. */
char *cli_copy(const char *s, size_t n);

/* Makes room for item n of the array at *arrayp (a T **: the caller's
 * pointer to its array of *cap items of size octets): doubles the
 * capacity when n reached it. True when there is room; false when out of
 * memory, with *oom set and the array as it was. */
bool cli_grow(void *arrayp, size_t *cap, size_t n, size_t size, bool *oom);

#endif /* SPFKIT_SUPPORT_MEM_H */
