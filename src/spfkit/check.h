/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.h - what the files of `spfkit check` share: its options
 * (check_opts.c), one check's input and setup and the batch over a zone
 * (check.c), and the batch engine over real DNS (check_batch.c).
 */
#ifndef SPFKIT_CHECK_H
#define SPFKIT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "dnsrun.h"
#include "opts.h"

#define CHECK_PROG "spfkit check"

/* A batch line longer than this is reported, not checked; the rest of it
 * is read and dropped, so memory stays bounded whatever arrives. */
#define BATCH_LINE_MAX (256u * 1024u)

/* Room for a batch error line's reason (a quoted value and words). */
#define CHECK_WHY_MAX (CLI_SHOW_MAX * 4 + 128)

typedef struct check_opts {
	cli_identity id; /* --ip, --sender, --helo, --scope, --record */
	const char *authserv_id;
	const char *receiver;
	const char *explanation;
	cli_dns_opts dns;
	cli_format format;
	unsigned concurrency; /* 0: the default */
	bool batch;
	bool real_dns; /* a DNS option, or no --zone */
	bool no_cache; /* --no-cache: a resolver that keeps no answer */
	bool timing;   /* --timing: show each check's time */
} check_opts;

/* Parses argv into co (its DNS arrays allocated by the caller). Returns
 * 0, or the exit status after a message (-1 for --help, which exits 0). */
int check_parse(int argc, char **argv, check_opts *co);

/* The config all checks share. Returns 0 or the exit status. */
int check_config(const check_opts *co, spfkit_config **out);

/* Everything a run of checks uses. */
typedef struct check_env {
	const check_opts *co;
	const spfkit_config *cfg;
	cli_dns *dns;
	spfkit_cache *cache; /* parsed records for every check, or NULL */
	const cli_out *out;
} check_env;

/* One check's input, as views: batch lines may hold any octet. */
typedef struct check_input {
	const char *ip; /* NUL terminated, already validated */
	const char *sender;
	size_t sender_len;
	const char *helo; /* NULL when none */
	size_t helo_len;
} check_input;

/* Parses a batch line into in (ip written to ipbuf, 64 octets; sender
 * and helo point into s). Returns false with why filled (why_cap octets)
 * when the line cannot be checked. */
bool check_parse_line(const check_opts *co, const char *s, size_t n,
		      check_input *in, char *ipbuf, char *why, size_t why_cap);

/* Creates a check for in with every setting, reusing reuse when not
 * NULL; the step that failed is named in *what. On failure *chkp is NULL
 * and the status negative. */
int check_make(const check_opts *co, const spfkit_config *cfg,
	       spfkit_cache *cache, const check_input *in, spfkit_check *reuse,
	       spfkit_check **chkp, const char **what);

/* Why a check could not be made or run (step what, status rc) in words,
 * in *text. Returns true when the fault is the input's (a usage error, or
 * an error line in batch) rather than trouble of ours. */
bool check_fault(int rc, const char *what, const char **text);

/* What --timing shows for a check that ran from t0_us to t1_us (negative:
 * nothing, without --timing). */
double check_shown_ms(bool timing, uint64_t t0_us, uint64_t t1_us);

/* Flushes stdout; a write error is exit 70 with one line. */
int check_finish_output(int status);

/* --batch over real DNS: up to --concurrency checks in flight, results
 * written strictly in input order (check_batch.c). */
int check_batch_dns(const check_env *env);

/* Writes out what stdout holds, when it holds anything: before a batch
 * waits for input, so each result reaches a reader of a pipe as soon as
 * it is known. */
void check_flush_pending(void);

/* Standard input as lines, read with read(2) (check_batch.c): the batch
 * over DNS reads only when poll() says bytes are there, so the checks in
 * flight never wait for input; the batch over a zone reads when it has
 * nothing else to do. A line is handed out once its newline (or the end
 * of input) arrived; a line longer than BATCH_LINE_MAX is skipped to its
 * newline and reported as too long. */
typedef struct line_reader {
	int fd;
	char *buf;
	size_t start, len, cap; /* unread bytes: buf[start, start + len) */
	bool eof, failed, skipping;
} line_reader;

/* Takes the next complete line: 1 with (*s, *n) valid until the next
 * call, 0 when more input is needed (lr_fill), -1 at the end of input. */
int lr_line(line_reader *r, const char **s, size_t *n, bool *toolong);

/* True when a line (or the end of input) is buffered: lr_line() needs
 * no read for it. */
bool lr_has_line(const line_reader *r);

/* Reads what the descriptor has (waiting for it when it has nothing and
 * is blocking). Sets eof at the end, failed (and eof) on an error. */
void lr_fill(line_reader *r);

/* Frees the reader's buffer and gives a batch's exit status: 70 with a
 * message when reading failed or when not all_ok, else 0 (output flushed
 * either way). */
int check_batch_end(line_reader *lr, bool all_ok);

/* The error line of a batch line longer than BATCH_LINE_MAX. */
void check_too_long(const cli_out *o, unsigned long lineno);

#endif /* SPFKIT_CHECK_H */
