/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * list.h - the one doubly linked list of the house (intrusive, header
 * only): a struct embeds an spfkit_link, a list is an spfkit_list, and a
 * node is found from its link with SPFKIT_CONTAINER(). Oldest at the
 * head, newest at the tail, so "least recently used" is the head: the
 * record cache of lib/cache.c, the driver's in-flight and ready queries
 * of lib/dns/unbound.c and spfkitd's idle and running connections all
 * use it. Every operation is O(1); nothing allocates.
 *
 * It lives in common/, below every layer: it knows no SPF, includes
 * only the C library, and may be included by the library and by the
 * programs alike (doc/design.md).
 */
#ifndef SPFKIT_COMMON_LIST_H
#define SPFKIT_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct spfkit_link {
	struct spfkit_link *prev, *next;
} spfkit_link;

typedef struct spfkit_list {
	spfkit_link *head, *tail;
	size_t n;
} spfkit_list;

/* The struct of type T whose member m is the link l (l not NULL). */
#define SPFKIT_CONTAINER(l, T, m) ((T *)(void *)((char *)(l)-offsetof(T, m)))

/* Is l on a list? (A link is zeroed when off every list.) */
static inline bool spfkit_list_linked(const spfkit_list *list,
				      const spfkit_link *l)
{
	return l->prev || list->head == l;
}

/* Appends l (on no list) at the tail: the newest. */
static inline void spfkit_list_push(spfkit_list *list, spfkit_link *l)
{
	l->next = NULL;
	l->prev = list->tail;
	if (list->tail)
		list->tail->next = l;
	else
		list->head = l;
	list->tail = l;
	list->n++;
}

/* Takes l (on this list) off it; its link is zeroed. */
static inline void spfkit_list_remove(spfkit_list *list, spfkit_link *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		list->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		list->tail = l->prev;
	l->prev = l->next = NULL;
	list->n--;
}

/* Moves l (on this list) to the tail: used just now. */
static inline void spfkit_list_touch(spfkit_list *list, spfkit_link *l)
{
	if (list->tail != l) {
		spfkit_list_remove(list, l);
		spfkit_list_push(list, l);
	}
}

#endif /* SPFKIT_COMMON_LIST_H */
