/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evloop.h - the event base the libunbound driver hands to libunbound
 * (unbound-event.h's pluggable ub_event_base), so that libunbound's state
 * machines run in the caller's thread: no worker thread, no pipe between
 * them. One epoll descriptor holds every socket libunbound watches and a
 * timerfd armed for its earliest timer, so that one descriptor
 * (spfkit_resolver_fd()) says when there is work. Names are spfkit__ev_*.
 */
#ifndef SPFKIT_DNS_EVLOOP_H
#define SPFKIT_DNS_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

typedef struct spfkit__evloop spfkit__evloop;

/* A new loop using a's allocator, or NULL (out of memory or descriptors). */
spfkit__evloop *spfkit__ev_new(const spfkit__alloc *a);

/* Frees the loop; libunbound must have freed its events first
 * (ub_ctx_delete()). */
void spfkit__ev_free(spfkit__evloop *ev);

/* What ub_ctx_create_ub_event() takes. */
struct ub_event_base *spfkit__ev_base(spfkit__evloop *ev);

/* The descriptor that becomes readable when there is work: a socket is
 * ready or a timer is due. */
int spfkit__ev_fd(const spfkit__evloop *ev);

/* Waits up to wait_ms (0: not at all) for the descriptor, then runs the
 * callbacks of every ready socket and due timer. Returns false when the
 * wait itself failed (not on EINTR). */
bool spfkit__ev_run(spfkit__evloop *ev, uint32_t wait_ms);

/* Runs the timers already due (libunbound adds a timer of 0 to a new
 * query), and arms the descriptor for the next one: call it after handing
 * libunbound work outside spfkit__ev_run(). */
void spfkit__ev_settle(spfkit__evloop *ev);

/* Whether libunbound has an event active (work of its own pending). */
bool spfkit__ev_busy(const spfkit__evloop *ev);

#endif
