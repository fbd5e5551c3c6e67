/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_batch.c - `spfkit check --batch` over real DNS: up to
 * --concurrency checks in flight in this one thread on the libunbound
 * driver, input read as it arrives without blocking them, results
 * written strictly in input order, and a progress line on a terminal.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* --concurrency: its default with real DNS. Finished results wait for
 * earlier ones in a window this many times larger, so a slow check does
 * not stall the others at once. */
#define CONCURRENCY_DEFAULT 64u
#define WINDOW_FACTOR       4u

/* The batch progress line on a terminal: at most this often. */
#define PROGRESS_MS 250u

/* One input line of a batch over real DNS, from reading to writing. */
typedef enum job_state {
	JOB_FREE = 0,
	JOB_RUNNING, /* the check waits for DNS */
	JOB_DONE,    /* the result waits for earlier lines to be written */
	JOB_ERROR    /* an error line waits likewise */
} job_state;

typedef struct job {
	job_state state;
	unsigned long lineno;
	spfkit_check *chk;
	char *helo; /* a copy (the line buffer is reused), or NULL */
	size_t helo_len;
	char helo_local[64]; /* helo's storage when it fits: no malloc */
	char *why;           /* JOB_ERROR: the message (NULL: out of memory) */
	bool ours;           /* JOB_ERROR: trouble of ours, not of the input */
	uint64_t start_ms;
	uint64_t t0_us, t1_us; /* --timing: started, and done */
} job;

/* The batch: a window of lines by sequence number, [head, tail), in a
 * ring; at most limit of them running. */
typedef struct engine {
	const check_env *env;
	const check_opts *co;
	spfkit_resolver *dns; /* env->dns's */
	job *ring;
	size_t cap;
	unsigned long head, tail;
	size_t running, limit;
	uint32_t deadline_ms; /* SPFKIT_LIMIT_DEADLINE_MS of the checks */
	unsigned long finished;
	bool all_ok;
	/* input from a regular file: nobody waits for a line's result */
	bool from_file;
	/* progress line on a terminal */
	bool progress;
	uint64_t t0, last_progress;
	int progress_len;
	/* finished checks kept for reuse (spfkit_check_reset) */
	spfkit_check **spare;
	size_t nspare;
} engine;

static job *job_at(const engine *e, unsigned long seq)
{
	return &e->ring[seq % e->cap];
}

/* Ends a job with an error line. */
static void job_fail(engine *e, job *j, const char *why, bool ours)
{
	if (j->chk) {
		spfkit_resolver_cancel(e->dns, j->chk);
		spfkit_check_free(j->chk);
		j->chk = NULL;
	}
	if (j->state == JOB_RUNNING)
		e->running--;
	j->state = JOB_ERROR;
	j->why = strdup(why);
	j->ours = ours;
	e->finished++;
}

/* Runs a job's check once more: it finishes, or sends what it asks. */
static void job_advance(engine *e, job *j, uint64_t now)
{
	char why[128];
	int rc = spfkit_check_run(j->chk, now);
	if (rc == SPFKIT_DONE) {
		/* Prefetched queries it no longer needs may be in flight. */
		spfkit_resolver_cancel(e->dns, j->chk);
		if (e->co->timing)
			j->t1_us = cli_now_us();
		j->state = JOB_DONE;
		e->running--;
		e->finished++;
		return;
	}
	if (rc == SPFKIT_WANT_DNS && spfkit_check_pending(j->chk) == 0)
		rc = SPFKIT_ESTATE; /* would spin */
	if (rc == SPFKIT_WANT_DNS) {
		rc = spfkit_resolver_send(e->dns, j->chk, now);
		if (rc >= 0)
			return;
	}
	snprintf(why, sizeof why, "run: %s", spfkit_strerror(rc));
	job_fail(e, j, why, true);
}

/* spfkit_resolver_process() callback: an answer reached chk. */
static void job_answered(spfkit_check *chk, void *ud)
{
	engine *e = ud;
	job *j = spfkit_check_userdata(chk);
	if (j && j->state == JOB_RUNNING && j->chk == chk)
		job_advance(e, j, cli_now_ms());
}

/* Starts the job for one input line. */
static void job_start(engine *e, job *j, unsigned long lineno, const char *s,
		      size_t n)
{
	char why[CHECK_WHY_MAX];
	char ip[64];
	check_input in;
	*j = (job){.state = JOB_RUNNING, .lineno = lineno};
	e->running++;
	if (e->co->timing)
		j->t0_us = cli_now_us();
	if (!check_parse_line(e->co, s, n, &in, ip, why, sizeof why)) {
		job_fail(e, j, why, false);
		return;
	}
	if (in.helo) {
		j->helo = in.helo_len <= sizeof j->helo_local
			      ? j->helo_local
			      : malloc(in.helo_len);
		if (!j->helo) {
			job_fail(e, j, "out of memory", true);
			return;
		}
		memcpy(j->helo, in.helo, in.helo_len);
		j->helo_len = in.helo_len;
	}
	const char *what = NULL;
	spfkit_check *reuse = NULL;
	if (e->nspare > 0)
		reuse = e->spare[--e->nspare];
	int rc = check_make(e->co, e->env->cfg, e->env->cache, &in, reuse,
			    &j->chk, &what);
	if (rc < 0) {
		const char *text;
		bool input = check_fault(rc, what, &text);
		snprintf(why, sizeof why, "%s: %s", what, text);
		job_fail(e, j, why, !input);
		return;
	}
	spfkit_check_set_userdata(j->chk, j);
	j->start_ms = cli_now_ms();
	/* Nothing is pending yet: this lets the resolver answer what it
	 * holds while the check runs, from the first run on. */
	rc = spfkit_resolver_send(e->dns, j->chk, j->start_ms);
	if (rc < 0) {
		snprintf(why, sizeof why, "dns: %s", spfkit_strerror(rc));
		job_fail(e, j, why, true);
		return;
	}
	job_advance(e, j, j->start_ms);
}

/* Writes finished jobs in input order, as far as they are finished. */
static void flush_jobs(engine *e)
{
	while (e->head != e->tail) {
		job *j = job_at(e, e->head);
		if (j->state == JOB_DONE) {
			int rc = cli_out_check(
			    e->env->out, j->chk, j->helo, j->helo_len,
			    check_shown_ms(e->co->timing, j->t0_us, j->t1_us));
			if (rc < 0) {
				char why[128];
				snprintf(why, sizeof why,
					 "formatting the result: %s",
					 spfkit_strerror(rc));
				cli_out_batch_error(e->env->out, j->lineno,
						    why);
				e->all_ok = false;
			}
		} else if (j->state == JOB_ERROR) {
			cli_out_batch_error(e->env->out, j->lineno,
					    j->why ? j->why : "out of memory");
			if (j->ours || !j->why)
				e->all_ok = false;
		} else {
			break;
		}
		if (j->chk && e->nspare < e->cap)
			e->spare[e->nspare++] = j->chk;
		else
			spfkit_check_free(j->chk);
		if (j->helo != j->helo_local)
			free(j->helo);
		free(j->why);
		*j = (job){.state = JOB_FREE};
		e->head++;
	}
}

/* Ends every running check whose deadline passed: the run that sees it
 * gives temperror (RFC 7208 §4.6.4) and its queries are cancelled. Returns
 * the milliseconds until the next deadline. */
static uint32_t expire_jobs(engine *e, uint64_t now)
{
	uint32_t next = UINT32_MAX;
	for (unsigned long seq = e->head; seq != e->tail; seq++) {
		job *j = job_at(e, seq);
		if (j->state != JOB_RUNNING)
			continue;
		uint32_t left = cli_time_left(j->start_ms, e->deadline_ms, now);
		if (now >= j->start_ms + e->deadline_ms) {
			job_advance(e, j, now);
			if (j->state == JOB_RUNNING)
				job_fail(e, j,
					 "the check did not end at its "
					 "deadline",
					 true);
		} else if (left < next) {
			next = left;
		}
	}
	return next;
}

/* "\r12345 checks, 812/s, 64 in flight" on stderr, a few times a second. */
static void show_progress(engine *e, uint64_t now, bool force)
{
	if (!e->progress || (!force && now - e->last_progress < PROGRESS_MS))
		return;
	e->last_progress = now;
	uint64_t ms = now > e->t0 ? now - e->t0 : 1;
	int n =
	    fprintf(stderr, "\r%lu checks, %.0f/s, %zu in flight", e->finished,
		    (double)e->finished * 1000.0 / (double)ms, e->running);
	/* Blank out what a longer earlier line left behind. */
	if (n > 0 && n < e->progress_len)
		fprintf(stderr, "%*s", e->progress_len - n, "");
	if (n > e->progress_len)
		e->progress_len = n;
	fflush(stderr);
}

static void clear_progress(engine *e)
{
	if (e->progress && e->progress_len > 0) {
		fprintf(stderr, "\r%*s\r", e->progress_len, "");
		fflush(stderr);
	}
}

int lr_line(line_reader *r, const char **s, size_t *n, bool *toolong)
{
	*toolong = false;
	for (;;) {
		char *p = r->buf + r->start;
		char *nl = r->len ? memchr(p, '\n', r->len) : NULL;
		if (r->skipping) {
			if (!nl && !r->eof) {
				r->start = r->len = 0;
				return 0;
			}
			size_t k = nl ? (size_t)(nl - p) + 1 : r->len;
			r->start += k;
			r->len -= k;
			r->skipping = false;
			*toolong = true;
			*s = "";
			*n = 0;
			return 1;
		}
		if (nl || (r->eof && r->len)) {
			size_t k = nl ? (size_t)(nl - p) : r->len;
			*s = p;
			*n = k;
			k += nl != NULL;
			r->start += k;
			r->len -= k;
			return 1;
		}
		if (r->len > BATCH_LINE_MAX) {
			r->skipping = true;
			continue;
		}
		return r->eof ? -1 : 0;
	}
}

bool lr_has_line(const line_reader *r)
{
	return r->eof || (!r->skipping && r->len &&
			  memchr(r->buf + r->start, '\n', r->len));
}

void lr_fill(line_reader *r)
{
	/* A whole line still waiting needs no read (and no copying of what
	 * is buffered, which would make a long input quadratic). */
	if (!r->eof && lr_has_line(r))
		return;
	if (r->start && r->len)
		memmove(r->buf, r->buf + r->start, r->len);
	r->start = 0;
	if (r->cap - r->len < 4096) {
		size_t ncap = r->cap ? r->cap * 2 : 65536;
		if (ncap > BATCH_LINE_MAX + 65536)
			ncap = BATCH_LINE_MAX + 65536;
		if (ncap > r->cap) {
			char *b = realloc(r->buf, ncap);
			if (!b) {
				r->failed = r->eof = true;
				return;
			}
			r->buf = b;
			r->cap = ncap;
		}
	}
	if (r->cap == r->len) {
		/* Full of one over-long line: drop what we have of it. */
		r->skipping = true;
		r->len = 0;
	}
	ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (got > 0)
		r->len += (size_t)got;
	else if (got == 0)
		r->eof = true;
	else if (errno != EINTR && errno != EAGAIN)
		r->failed = r->eof = true;
}

int check_batch_dns(const check_env *env)
{
	const check_opts *co = env->co;
	engine e = {.env = env,
		    .co = co,
		    .dns = cli_dns_resolver(env->dns),
		    .deadline_ms = cli_dns_deadline_ms(&co->dns),
		    .all_ok = true};
	e.limit = co->concurrency ? co->concurrency : CONCURRENCY_DEFAULT;
	e.cap = e.limit * WINDOW_FACTOR;
	e.ring = calloc(e.cap, sizeof *e.ring);
	e.spare = calloc(e.cap, sizeof *e.spare);
	if (!e.ring || !e.spare) {
		free(e.ring);
		free(e.spare);
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(SPFKIT_ENOMEM));
	}
	/* --no-cache: every answer of every line from the server, through
	 * the one resolver (a new libunbound context per line cost some 5 ms
	 * of set-up, more than the lookups). */
	if (co->no_cache) {
		int rc = spfkit_resolver_set_no_cache(e.dns);
		if (rc < 0) {
			free(e.ring);
			free(e.spare);
			return cli_say(CHECK_PROG, CLI_EX_SOFTWARE, "DNS: %s",
				       spfkit_strerror(rc));
		}
	}
	e.progress = isatty(STDERR_FILENO) == 1;
	struct stat st;
	e.from_file = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	e.t0 = e.last_progress = cli_now_ms();

	line_reader lr = {.fd = STDIN_FILENO};
	bool toolong, eof = false, dns_broken = false, dns_look = true;
	unsigned long lineno = 0;
	for (;;) {
		while (!eof && e.running < e.limit && e.tail - e.head < e.cap) {
			const char *line;
			size_t len;
			int got = lr_line(&lr, &line, &len, &toolong);
			if (got == 0)
				break;
			if (got < 0) {
				eof = true;
				break;
			}
			lineno++;
			job *j = job_at(&e, e.tail++);
			if (toolong) {
				char why[80];
				snprintf(why, sizeof why,
					 "longer than %u octets",
					 BATCH_LINE_MAX);
				*j = (job){.state = JOB_RUNNING,
					   .lineno = lineno};
				e.running++;
				job_fail(&e, j, why, false);
				continue;
			}
			job_start(&e, j, lineno, line, len);
		}
		flush_jobs(&e);
		if (eof && e.head == e.tail)
			break;

		/* Hand over every answer already there (cache hits come
		 * back at once), then wait for input or DNS, whichever comes
		 * first. Looking costs a system call per round trip, so it is
		 * done only when something may be there: answers the resolver
		 * holds, or a descriptor the last wait saw ready (with one
		 * check at a time, the wait below hands the answer over). */
		int rc = 0;
		if (dns_look ||
		    spfkit_resolver_timeout(e.dns, cli_now_ms()) == 0) {
			do {
				rc = spfkit_resolver_process(
				    e.dns, 0, cli_now_ms(), job_answered, &e);
			} while (rc > 0);
			dns_look = false;
		}
		if (rc < 0 && !dns_broken) {
			/* The driver itself failed: every check left fails
			 * with it, once. */
			char why[128];
			snprintf(why, sizeof why, "dns: %s",
				 spfkit_strerror(rc));
			for (unsigned long seq = e.head; seq != e.tail; seq++)
				if (job_at(&e, seq)->state == JOB_RUNNING)
					job_fail(&e, job_at(&e, seq), why,
						 true);
			dns_broken = rc != SPFKIT_ENOMEM;
		}
		flush_jobs(&e);
		uint64_t now = cli_now_ms();
		uint32_t wait = expire_jobs(&e, now);
		if (e.progress && wait > PROGRESS_MS)
			wait = PROGRESS_MS;
		if (wait > 1000)
			wait = 1000;
		bool want_input =
		    !eof && e.running < e.limit && e.tail - e.head < e.cap;
		/* A check just ended and the next line is buffered: start it
		 * rather than ask poll() about input already read. */
		if (want_input && lr_has_line(&lr))
			continue;
		struct pollfd pfd[2];
		nfds_t nfd = 0;
		if (want_input)
			pfd[nfd++] =
			    (struct pollfd){.fd = lr.fd, .events = POLLIN};
		int dfd = spfkit_resolver_fd(e.dns);
		if (e.running > 0 && dfd >= 0)
			pfd[nfd++] =
			    (struct pollfd){.fd = dfd, .events = POLLIN};
		if (!want_input && e.running > 0 && dfd >= 0 && !dns_broken) {
			/* Only DNS can wake us: wait inside the resolver, one
			 * system call instead of a poll() before its own.
			 * Results so far go out first to a reader that feeds
			 * us line by line (a pipe), not for a file's batch:
			 * that would be a write per check. */
			if (!e.from_file)
				check_flush_pending();
			rc = spfkit_resolver_process(e.dns, wait, cli_now_ms(),
						     job_answered, &e);
			/* A failure comes back at the next call; answers
			 * beyond one wait's batch, at the next wait. */
			dns_look = rc < 0;
		} else if (nfd > 0 || e.running > 0) {
			/* Results written so far go out before a wait, so a
			 * pipe held open (tail -f mail.log | ...) sees each
			 * one as soon as it is known; input from a file never
			 * waits, and its output is written in big blocks. */
			int prc = poll(pfd, nfd, 0);
			int tmo = nfd && !e.running ? -1 : (int)wait;
			if (prc == 0 && tmo != 0) {
				check_flush_pending();
				prc = poll(pfd, nfd, tmo);
			}
			if (prc > 0 && want_input && pfd[0].revents)
				lr_fill(&lr);
			if (prc > 0 && e.running > 0 && dfd >= 0 &&
			    pfd[nfd - 1].revents)
				dns_look = true;
		}
		now = cli_now_ms();
		(void)expire_jobs(&e, now);
		show_progress(&e, now, false);
	}
	show_progress(&e, cli_now_ms(), true);
	clear_progress(&e);
	free(e.ring);
	while (e.nspare > 0)
		spfkit_check_free(e.spare[--e.nspare]);
	free(e.spare);
	return check_batch_end(&lr, e.all_ok);
}
