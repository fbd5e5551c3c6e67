/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evloop.c - a small epoll event loop behind libunbound's pluggable event
 * API (unbound-event.h), so that libunbound runs in the caller's thread.
 *
 * Why: with ub_ctx_async() every query crossed a pipe to libunbound's
 * worker thread and its answer crossed another back, two thread wake-ups
 * a query; on a loaded host that cost more than the loopback round trip to
 * a local resolver. Here libunbound's sockets and timers sit in one epoll
 * set, run by spfkit__ev_run() from spfkit_resolver_process().
 *
 * The semantics are libevent's, which libunbound was written against: an
 * event watches a descriptor (UB_EV_READ, UB_EV_WRITE) and/or a timeout;
 * without UB_EV_PERSIST it is deactivated when it fires; a persistent
 * event with a timeout has its timeout restarted when it fires. A timerfd
 * in the same epoll set, armed for the earliest timeout, makes the epoll
 * descriptor readable when a timer is due, so a caller that polls only
 * spfkit_resolver_fd() still wakes for libunbound's retransmissions.
 *
 * Callbacks may delete or free any event, the running one included: an
 * event freed while the loop runs is kept (inactive) until the run ends,
 * so a pointer the loop still holds never dangles.
 *
 * System calls are what a query costs here (libunbound opens, binds,
 * connects and closes a socket per query, for its random source port), so
 * the loop adds as few as it can: a deactivated descriptor stays in the
 * epoll set (closing it takes it out; if it fires meanwhile it is taken
 * out then), which owner[] (descriptor -> event) keeps safe; timers
 * already due when libunbound returns (it adds a timer of 0 to most
 * queries) run at once (spfkit__ev_settle()); and the timerfd is only
 * ever moved earlier, never disarmed (a wake-up with nothing due costs
 * one loop run).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <unbound-event.h>

#include "dns/evloop.h"
#include "list.h"

/* Readiness reports taken from epoll per wait. */
#define EV_BATCH 64

typedef struct ev_event {
	struct ub_event super; /* first: libunbound's handle is this */
	spfkit__evloop *loop;
	int fd;
	short bits;
	void (*cb)(int, short, void *);
	void *arg;
	bool added; /* active */
	bool timed; /* active with a timeout: in loop->timers */
	bool dead;  /* freed during a run: in loop->graveyard */
	int reg_fd; /* the descriptor in the epoll set, or -1 */
	uint32_t reg_mask;
	uint64_t due_us;    /* timed: when it fires */
	uint64_t period_us; /* timed: the timeout it was added with */
	spfkit_link link;   /* in loop->timers, or loop->graveyard */
} ev_event;

struct spfkit__evloop {
	struct ub_event_base super; /* first: libunbound's handle is this */
	const spfkit__alloc *a;
	int epfd, tfd;
	uint64_t armed_us; /* the timerfd's expiry, 0: disarmed */
	size_t active;     /* events added */
	bool running;
	spfkit_list timers, graveyard;
	ev_event **owner; /* owner[fd]: the event whose registration it is */
	size_t owner_cap;
	ev_event **due; /* spfkit__ev_run(): timers that fired */
	size_t due_cap;
};

/* The timerfd's epoll mark (no event has this address). */
static char timer_mark;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static ev_event *as_ev(struct ub_event *e)
{
	return (ev_event *)(void *)e;
}

static spfkit__evloop *as_loop(struct ub_event_base *b)
{
	return (spfkit__evloop *)(void *)b;
}

/* Arms the timerfd for when (0: disarm), unless it already is. */
static void arm(spfkit__evloop *l, uint64_t when)
{
	if (when == l->armed_us)
		return;
	struct itimerspec its = {{0, 0}, {0, 0}};
	if (when) {
		its.it_value.tv_sec = (time_t)(when / 1000000u);
		its.it_value.tv_nsec = (long)(when % 1000000u) * 1000;
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->armed_us = when;
}

/* The earliest timeout, 0 when none. */
static uint64_t earliest(const spfkit__evloop *l)
{
	uint64_t t = 0;
	for (const spfkit_link *k = l->timers.head; k; k = k->next) {
		const ev_event *e = SPFKIT_CONTAINER(k, ev_event, link);
		if (t == 0 || e->due_us < t)
			t = e->due_us;
	}
	return t;
}

/* Takes e's descriptor out of the epoll set, if the registration there
 * is still e's (the descriptor may have been closed and reused since). */
static void unregister(ev_event *e)
{
	spfkit__evloop *l = e->loop;
	if (e->reg_fd < 0)
		return;
	if ((size_t)e->reg_fd < l->owner_cap && l->owner[e->reg_fd] == e) {
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->reg_fd, NULL);
		l->owner[e->reg_fd] = NULL;
	}
	e->reg_fd = -1;
	e->reg_mask = 0;
}

/* Puts the active event's descriptor in the epoll set for its bits. The
 * registration may be there already (not closed since) or not (closed:
 * the kernel dropped it): add, and modify if it is there. */
static int register_fd(ev_event *e)
{
	spfkit__evloop *l = e->loop;
	uint32_t want = 0;
	if (e->bits & UB_EV_READ)
		want |= EPOLLIN;
	if (e->bits & UB_EV_WRITE)
		want |= EPOLLOUT;
	if (e->fd < 0 || want == 0) {
		unregister(e);
		return 0;
	}
	if (e->reg_fd >= 0 && e->reg_fd != e->fd)
		unregister(e);
	if ((size_t)e->fd >= l->owner_cap) {
		size_t cap = l->owner_cap ? l->owner_cap : 64;
		while (cap <= (size_t)e->fd)
			cap *= 2;
		ev_event **o = spfkit__realloc(l->a, l->owner, cap * sizeof *o);
		if (!o)
			return -1;
		memset(o + l->owner_cap, 0, (cap - l->owner_cap) * sizeof *o);
		l->owner = o;
		l->owner_cap = cap;
	}
	ev_event *prev = l->owner[e->fd];
	if (prev && prev != e) {
		/* Its registration went with the descriptor it was for. */
		prev->reg_fd = -1;
		prev->reg_mask = 0;
	}
	struct epoll_event ee = {.events = want, .data.ptr = e};
	int rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, e->fd, &ee);
	if (rc != 0 && errno == EEXIST)
		rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, e->fd, &ee);
	if (rc != 0) {
		l->owner[e->fd] = NULL;
		e->reg_fd = -1;
		return -1;
	}
	l->owner[e->fd] = e;
	e->reg_fd = e->fd;
	e->reg_mask = want;
	return 0;
}

/* Deactivates e; its descriptor stays registered until it fires,
 * closes, or e is freed or added again. */
static int ev_del(struct ub_event *ue)
{
	ev_event *e = as_ev(ue);
	if (e->timed) {
		spfkit_list_remove(&e->loop->timers, &e->link);
		e->timed = false;
	}
	if (e->added) {
		e->added = false;
		e->loop->active--;
	}
	return 0;
}

/* Activates e, with a timeout when tv is set. */
static int ev_add(struct ub_event *ue, struct timeval *tv)
{
	ev_event *e = as_ev(ue);
	spfkit__evloop *l = e->loop;
	if (e->dead)
		return -1;
	if (!e->added) {
		e->added = true;
		l->active++;
	}
	if (e->timed) {
		spfkit_list_remove(&l->timers, &e->link);
		e->timed = false;
	}
	if (tv) {
		e->period_us =
		    (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
		e->due_us = now_us() + e->period_us;
		e->timed = true;
		spfkit_list_push(&l->timers, &e->link);
		/* The timerfd follows at spfkit__ev_settle() or the end of
		 * the run: libunbound adds a timer of 0 to most queries. */
	}
	if (register_fd(e) != 0) {
		ev_del(ue);
		return -1;
	}
	return 0;
}

static void ev_add_bits(struct ub_event *ue, short bits)
{
	as_ev(ue)->bits |= bits;
}

static void ev_del_bits(struct ub_event *ue, short bits)
{
	as_ev(ue)->bits &= (short)~bits;
}

static void ev_set_fd(struct ub_event *ue, int fd)
{
	as_ev(ue)->fd = fd;
}

static void ev_free(struct ub_event *ue)
{
	if (!ue)
		return;
	ev_event *e = as_ev(ue);
	spfkit__evloop *l = e->loop;
	ev_del(ue);
	unregister(e);
	if (l->running) {
		e->dead = true;
		spfkit_list_push(&l->graveyard, &e->link);
		return;
	}
	spfkit__free(l->a, e);
}

static int ev_add_timer(struct ub_event *ue, struct ub_event_base *b,
			void (*cb)(int, short, void *), void *arg,
			struct timeval *tv)
{
	(void)b;
	ev_event *e = as_ev(ue);
	ev_del(ue);
	e->cb = cb;
	e->arg = arg;
	e->fd = -1;
	e->bits = UB_EV_TIMEOUT;
	return ev_add(ue, tv);
}

/* Signals are not libunbound's with ub_resolve_event(); nor Windows. */
static int ev_no_signal(struct ub_event *ue, struct timeval *tv)
{
	(void)ue;
	(void)tv;
	return -1;
}

static void ev_no_wsa(struct ub_event *ue)
{
	(void)ue;
}

static void ev_no_wouldblock(struct ub_event *ue, int bits)
{
	(void)ue;
	(void)bits;
}

static struct ub_event_vmt event_vmt = {
    ev_add_bits,  ev_del_bits, ev_set_fd,    ev_free,
    ev_add,       ev_del,      ev_add_timer, ev_del,
    ev_no_signal, ev_del,      ev_no_wsa,    ev_no_wouldblock};

static struct ub_event *base_new_event(struct ub_event_base *b, int fd,
				       short bits,
				       void (*cb)(int, short, void *),
				       void *arg)
{
	spfkit__evloop *l = as_loop(b);
	ev_event *e = spfkit__calloc(l->a, 1, sizeof *e);
	if (!e)
		return NULL;
	e->super.magic = UB_EVENT_MAGIC;
	e->super.vmt = &event_vmt;
	e->loop = l;
	e->fd = fd;
	e->bits = bits;
	e->cb = cb;
	e->arg = arg;
	e->reg_fd = -1;
	return &e->super;
}

static struct ub_event *base_no_signal(struct ub_event_base *b, int fd,
				       void (*cb)(int, short, void *),
				       void *arg)
{
	(void)b;
	(void)fd;
	(void)cb;
	(void)arg;
	return NULL;
}

static struct ub_event *base_no_wsa(struct ub_event_base *b, void *wsa,
				    void (*cb)(int, short, void *), void *arg)
{
	(void)b;
	(void)wsa;
	(void)cb;
	(void)arg;
	return NULL;
}

/* libunbound never runs or frees a base it was given. */
static void base_free(struct ub_event_base *b)
{
	(void)b;
}

static int base_dispatch(struct ub_event_base *b)
{
	(void)b;
	return -1;
}

static int base_loopexit(struct ub_event_base *b, struct timeval *tv)
{
	(void)b;
	(void)tv;
	return 0;
}

static struct ub_event_base_vmt base_vmt = {base_free,      base_dispatch,
					    base_loopexit,  base_new_event,
					    base_no_signal, base_no_wsa};

spfkit__evloop *spfkit__ev_new(const spfkit__alloc *a)
{
	spfkit__evloop *l = spfkit__calloc(a, 1, sizeof *l);
	if (!l)
		return NULL;
	l->a = a;
	l->super.magic = UB_EVENT_MAGIC;
	l->super.vmt = &base_vmt;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct epoll_event ee = {.events = EPOLLIN, .data.ptr = &timer_mark};
	if (l->epfd < 0 || l->tfd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ee) != 0) {
		spfkit__ev_free(l);
		return NULL;
	}
	return l;
}

void spfkit__ev_free(spfkit__evloop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	spfkit__free(l->a, l->due);
	spfkit__free(l->a, l->owner);
	spfkit__free(l->a, l);
}

struct ub_event_base *spfkit__ev_base(spfkit__evloop *l)
{
	return &l->super;
}

int spfkit__ev_fd(const spfkit__evloop *l)
{
	return l->epfd;
}

bool spfkit__ev_busy(const spfkit__evloop *l)
{
	return l->active > 0;
}

/* Runs the callbacks of the timers due at now. */
static void run_timers(spfkit__evloop *l, uint64_t now)
{
	size_t n = 0;
	for (spfkit_link *k = l->timers.head; k; k = k->next) {
		ev_event *e = SPFKIT_CONTAINER(k, ev_event, link);
		if (e->due_us > now)
			continue;
		ev_event **d =
		    spfkit__grow(l->a, l->due, n, &l->due_cap, sizeof *d, 16);
		if (!d)
			break; /* the rest fire next time */
		l->due = d;
		l->due[n++] = e;
	}
	for (size_t i = 0; i < n; i++) {
		ev_event *e = l->due[i];
		/* An earlier callback may have changed it. */
		if (e->dead || !e->timed || e->due_us > now)
			continue;
		if (e->bits & UB_EV_PERSIST)
			e->due_us = now + e->period_us;
		else
			ev_del(&e->super);
		e->cb(e->fd, UB_EV_TIMEOUT, e->arg);
	}
}

/* Ends a run (l->running): the timers now due, the events freed during
 * it, and the timerfd armed for the next timeout at the latest. */
static void finish(spfkit__evloop *l)
{
	uint64_t now = now_us();
	run_timers(l, now);
	l->running = false;
	spfkit_link *k;
	while ((k = l->graveyard.head) != NULL) {
		spfkit_list_remove(&l->graveyard, k);
		spfkit__free(l->a, SPFKIT_CONTAINER(k, ev_event, link));
	}
	uint64_t due = earliest(l);
	if (due &&
	    (l->armed_us == 0 || l->armed_us <= now || due < l->armed_us))
		arm(l, due);
}

/* Runs the callbacks of n readiness reports. */
static void dispatch(spfkit__evloop *l, const struct epoll_event *got, int n)
{
	for (int i = 0; i < n; i++) {
		if (got[i].data.ptr == &timer_mark) {
			uint64_t ticks;
			/* Cleared here; run_timers() does the work. */
			if (read(l->tfd, &ticks, sizeof ticks) < 0)
				(void)0;
			l->armed_us = 0;
			continue;
		}
		ev_event *e = got[i].data.ptr;
		if (e->dead || e->reg_fd < 0)
			continue;
		if (!e->added) {
			/* Deactivated, still registered, and ready. */
			unregister(e);
			continue;
		}
		uint32_t r = got[i].events;
		short bits = 0;
		if ((e->bits & UB_EV_READ) &&
		    (r & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			bits |= UB_EV_READ;
		if ((e->bits & UB_EV_WRITE) &&
		    (r & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			bits |= UB_EV_WRITE;
		if (!bits)
			continue;
		if (!(e->bits & UB_EV_PERSIST))
			ev_del(&e->super);
		else if (e->timed)
			e->due_us = now_us() + e->period_us;
		e->cb(e->fd, bits, e->arg);
	}
}

bool spfkit__ev_run(spfkit__evloop *l, uint32_t wait_ms)
{
	uint64_t now = now_us();
	uint64_t next = earliest(l);
	if (wait_ms > 0 && next) {
		uint64_t left = next > now ? (next - now + 999) / 1000 : 0;
		if (left < wait_ms)
			wait_ms = (uint32_t)left;
	}
	struct epoll_event got[EV_BATCH];
	int n = epoll_wait(l->epfd, got, EV_BATCH,
			   wait_ms > INT32_MAX ? INT32_MAX : (int)wait_ms);
	if (n < 0 && errno != EINTR)
		return false;
	l->running = true;
	dispatch(l, got, n);
	/* Every answer that is there is read before any timer runs: a
	 * caller busy elsewhere for longer than libunbound's retransmission
	 * timeout must not have queries sent again whose answers wait. */
	for (int rounds = 0; n == EV_BATCH && rounds < 64; rounds++) {
		n = epoll_wait(l->epfd, got, EV_BATCH, 0);
		dispatch(l, got, n);
	}
	finish(l);
	return true;
}

void spfkit__ev_settle(spfkit__evloop *l)
{
	if (l->running)
		return;
	l->running = true;
	finish(l);
}
