/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - what the files of the spfkit command share: subcommand entry
 * points and the result writers of output.c. Exit statuses, messages,
 * options, JSON and text escaping come from the support library
 * (src/support). The CLI uses the public API (spfkit.h) only.
 */
#ifndef SPFKIT_CLI_H
#define SPFKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "mem.h"
#include "opts.h"
#include "spfkit.h"
#include "text.h"

/* Exit status for an SPF result: pass 0, fail 1, softfail 2, neutral 3,
 * none 4, permerror 5, temperror 6. */
int cli_exit_for_result(spfkit_result r);

/* ---------------------------------------------------------- subcommands */

/* Each subcommand has cli_NAME_main(argc, argv), argv[0] the command's
 * name, which returns the exit status, and cli_NAME_help(f), which
 * writes its help text on f: check (check*.c), tree (tree.c), lint
 * (lintcmd.c), trace (trace.c; the three over walk.c), message
 * (message.c), srs (srs.c: `spfkit srs forward|reverse ...`), flatten
 * (flatten*.c), diff (diff.c) and dmarc (dmarc.c). */
int cli_check_main(int argc, char **argv);
int cli_tree_main(int argc, char **argv);
int cli_lint_main(int argc, char **argv);
int cli_report_main(int argc, char **argv);
int cli_trace_main(int argc, char **argv);
int cli_message_main(int argc, char **argv);
int cli_srs_main(int argc, char **argv);
int cli_flatten_main(int argc, char **argv);
int cli_diff_main(int argc, char **argv);
int cli_dmarc_main(int argc, char **argv);

void cli_check_help(FILE *f);
void cli_tree_help(FILE *f);
void cli_lint_help(FILE *f);
void cli_report_help(FILE *f);
void cli_trace_help(FILE *f);
void cli_message_help(FILE *f);
void cli_srs_help(FILE *f);
void cli_flatten_help(FILE *f);
void cli_diff_help(FILE *f);
void cli_dmarc_help(FILE *f);

/* lintcmd.c: the registrable domain of name by the public suffix list psl
 * (the RFC 7489 §3.2 organizational domain), lower-cased into buf (cap
 * octets); the name itself when the list gives none. For lint's owners
 * and `spfkit dmarc --discovery psl`. */
struct psl_ctx_st;
const char *cli_org_domain(const struct psl_ctx_st *psl, const char *name,
			   char *buf, size_t cap);

/* ---------------------------------------------------------- output.c */

typedef enum cli_format {
	CLI_FORMAT_TEXT = 0,
	CLI_FORMAT_JSON,
	CLI_FORMAT_RECEIVED_SPF,
	CLI_FORMAT_AUTHRES
} cli_format;

/* Parses a --format value; false when it is none of the names. */
bool cli_format_parse(const char *s, cli_format *out);

/* How results are written. */
typedef struct cli_out {
	FILE *f;
	cli_format format;
	bool batch;               /* text: one compact line per check */
	const char *authserv_id;  /* authres only; required there */
	const spfkit_config *cfg; /* frees header strings (spfkit_free) */
	unsigned lookup_limit;    /* shown as "N of LIMIT" in text */
	unsigned void_limit;
} cli_out;

/* Writes a finished check. helo (helo_len octets, may hold anything) is
 * the HELO name given, NULL when none was. elapsed_ms is the check's time
 * for --timing, shown in text and JSON; negative: not shown. Returns
 * SPFKIT_OK or the negative status of spfkit_check_header(). */
int cli_out_check(const cli_out *o, const spfkit_check *chk, const char *helo,
		  size_t helo_len, double elapsed_ms);

/* The check's counters as JSON members: "lookups" (DNS-querying terms),
 * "void_lookups" and "queries". */
void cli_jw_counts(cli_jw *w, const spfkit_check *chk);

/* Writes a batch error line for input line number line: text
 * "error: line N: WHY", json {"error":"WHY","line":N}; the header formats
 * use the text form. why is printable ASCII (see cli_escape()). */
void cli_out_batch_error(const cli_out *o, unsigned long line, const char *why);

#endif /* SPFKIT_CLI_H */
