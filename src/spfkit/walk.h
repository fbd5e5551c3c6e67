/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * walk.h - what `spfkit tree`, `spfkit lint` and `spfkit trace` share:
 * their options (identity, draft record, format, the DNS options of
 * src/support/opts.h), setting up a check, and running it with the evaluator's
 * events recorded. Every count these commands show is read from those
 * events, never counted again.
 */
#ifndef SPFKIT_WALK_H
#define SPFKIT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dnsrun.h"
#include "opts.h"
#include "json.h"
#include "spfkit.h"

/* The client address tree and lint walk from when --ip is not given: a
 * documentation address (RFC 5737). When walking no ip4, ip6, a, mx, ptr
 * or exists term holds any client, so it only picks A (not AAAA) queries
 * for a and mx, the PTR name for ptr and %{p}, and what %{i} expands to. */
#define WALK_DEFAULT_IP "192.0.2.1"
/* The checked domain of a --record draft given without DOMAIN. */
#define WALK_DRAFT_DOMAIN "draft.invalid"

/* Which options a command takes. */
#define WALK_OPT_STRICT 1u /* --strict, --strict-all, --ignore (lint) */
#define WALK_OPT_DOT    2u /* --format dot and svg (tree) */
#define WALK_OPT_NEEDIP 4u /* --ip is required (trace) */
#define WALK_OPT_HTML   8u /* --format html, and only it (report) */

typedef enum walk_format {
	WALK_TEXT = 0,
	WALK_JSON,
	WALK_DOT,
	WALK_SVG,
	WALK_HTML
} walk_format;

typedef struct walk_opts {
	const char *prog; /* "spfkit tree" */
	const char *cmd;  /* "tree" (in prog) */
	const char *domain;
	cli_identity id; /* no sender: postmaster@DOMAIN */
	walk_format format;
	bool strict;         /* the owner's own warnings fail */
	bool strict_all;     /* every warning fails, third parties' too */
	const char **ignore; /* --ignore: codes (spfkit_lint_code()'s) */
	size_t nignore, cap_ignore;
	cli_dns_opts dns;
} walk_opts;

/* Parses argv (argv[0] is the command name) into o for the command prog
 * ("spfkit tree"). Returns 0, -1 after --help (written with help), or
 * an exit status after a one-line message; o holds nothing to free
 * then. After 0, the arrays of o->dns are the caller's to free with
 * walk_opts_free(). */
int walk_parse(int argc, char **argv, const char *prog, unsigned allow,
	       void (*help)(FILE *), walk_opts *o);
void walk_opts_free(walk_opts *o);

/* One event as the evaluator sent it, with everything it points to
 * copied, and the monotonic time it came in. */
typedef struct walk_ev {
	spfkit_event ev;
	uint64_t us;      /* microseconds since the run started */
	uint64_t elapsed; /* ANSWER and LOOKUP: microseconds from QUERY to
			     ANSWER of the query */
} walk_ev;

typedef struct walk_log {
	walk_ev *v;
	size_t n, cap;
	bool oom;
	uint64_t start_us;
} walk_log;

/* A finished run: the config, check and DNS source stay open so the
 * caller can read the check's results. */
typedef struct walk_run {
	spfkit_config *cfg;
	spfkit_check *chk;
	spfkit_check *verdict; /* walk_verdict(): the check, not walked */
	cli_dns *dns;
	walk_log log;
	spfkit_event_cb extra; /* called after logging, if set */
	void *extra_ud;
} walk_run;

/* Sets up a check from o (walking when walk is set), runs it over the
 * DNS source o names with every event logged (and passed to run->extra
 * when set; set it before calling). Returns 0 or an exit status after a
 * one-line message; run is to be freed with walk_run_free() either way. */
int walk_check(const walk_opts *o, bool walk, walk_run *run);
/* After walk_check(): runs run->verdict, the same check as spfkit check
 * runs it (same identity, client, draft record and DNS; not walked, no
 * events), so a walk's tree can say what a check gives. Returns 0 or an
 * exit status after a one-line message. */
int walk_verdict(const walk_opts *o, walk_run *run);
void walk_run_free(walk_run *run);

/* The start of tree and trace: walk_parse() and walk_check() (walking
 * when walk is set). True when the caller goes on to write its output
 * from run; false with *status the exit status (nothing left to free). */
bool walk_start(int argc, char **argv, const char *prog, unsigned allow,
		void (*help)(FILE *), bool walk, walk_opts *o, walk_run *run,
		int *status);

/* The end of tree, lint and trace: flushes standard output (a write
 * error makes the status 70), frees run and o. Returns the status. */
int walk_end(walk_opts *o, walk_run *run, int status);

/* "QUERY", "ANSWER", ...: an event kind's name in lower case. */
const char *walk_kind_name(spfkit_event_kind k);
/* "A", "MX", "TXT", ... */
const char *walk_type_name(uint16_t type);
/* "NOERROR", "NXDOMAIN", "TEMPFAIL" */
const char *walk_status_name(spfkit_dns_status s);

/* Answer items a text line shows before "... (N in all)". */
#define WALK_ITEMS_SHOWN 20

/* Writes the help lines tree, lint and trace share: --zone as tree and
 * trace put it (with zone), the other DNS options and --help. */
void walk_help_dns(FILE *f, bool zone);

/* Four spaces per level. */
void walk_indent(FILE *f, unsigned depth);
/* Writes an answer item of a query of type as text (an address, a name,
 * a TXT string), escaped for people (text.h). */
void walk_put_item(FILE *f, uint16_t type, const spfkit_event_item *it);
/* A LOOKUP event as text: "      TYPE NAME -> STATUS ITEM, ITEM", no
 * newline. */
void walk_put_lookup(FILE *f, const spfkit_event *e);
/* The same item as a JSON string. */
void walk_jw_item(cli_jw *w, uint16_t type, const spfkit_event_item *it);
/* A LOOKUP event's items as a JSON array. */
void walk_jw_items(cli_jw *w, const spfkit_event *e);
/* Starts the JSON line of tree and lint on f: "domain" and "ip" of chk. */
void walk_jw_open(cli_jw *w, FILE *f, const spfkit_check *chk);
/* The walk's counters ("lookups", "void_lookups", "queries") and the
 * limits they are held to ("lookup_limit", "void_limit"). */
void walk_jw_counts(cli_jw *w, const spfkit_check *chk);

#endif /* SPFKIT_WALK_H */
