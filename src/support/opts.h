/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * opts.h - the command line of the spfkit command's subcommands: exit
 * statuses, one-line messages, getopt helpers, and the DNS options every
 * subcommand that checks SPF takes (--zone, --nameserver, --recursive,
 * --root-hints, --trust-anchor, --timeout), with one table, one handler
 * and the same messages everywhere.
 *
 * Bad use gives one line on stderr, "PROG: WHAT", and a usage exit
 * status (DESIGN.md §6). Values quoted in messages go through
 * cli_shown() (text.h): argv is hostile too.
 */
#ifndef SPFKIT_SUPPORT_OPTS_H
#define SPFKIT_SUPPORT_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spfkit.h"

/* Exit statuses besides the SPF results (sysexits.h values, spelled out
 * so the man pages and the code say the same numbers). */
#define CLI_EX_USAGE    64 /* bad command line */
#define CLI_EX_DATAERR  65 /* an input file that does not parse */
#define CLI_EX_NOINPUT  66 /* an input file that cannot be opened or read */
#define CLI_EX_SOFTWARE 70 /* out of memory, write error, library trouble */

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* One line on stderr, "PROG: " and the message; returns status. */
int cli_say(const char *prog, int status, const char *fmt, ...)
    CLI_PRINTF(3, 4);
/* The same with the usage exit status (64). */
int cli_usage(const char *prog, const char *fmt, ...) CLI_PRINTF(2, 3);

/* "spfkit VERSION (libspfkit VERSION)" and a newline on f, flushed: what
 * --version prints, for `spfkit --version`, `spfkit -V` and every
 * subcommand (cli_parse() takes --version anywhere among the options,
 * then returns -1 as after --help). False on a write error. */
bool cli_version(FILE *f);

/* ------------------------------------------------------------ getopt */

/* A subcommand's command line as its messages name it. Long-only
 * options have getopt values from 256 up. */
typedef struct cli_args {
	const char *prog;              /* "spfkit check": starts messages */
	const char *cmd;               /* "check": "try 'spfkit help check'" */
	const struct option *longopts; /* the command's getopt table */
} cli_args;

/* The first long-only getopt value. */
#define CLI_OPT_FIRST 256

/* The long name of getopt value val in the table ("?" when none). */
const char *cli_opt_name(const struct option *longopts, int val);

/* Sets *dst to v once; a second time is a usage error ("--NAME given
 * twice"): false with *status set. */
bool cli_set_once(const cli_args *a, const char **dst, const char *v, int opt,
		  int *status);

/* The same, and an empty value is a usage error too ("--NAME: the value
 * is empty"). */
bool cli_set_nonempty(const cli_args *a, const char **dst, const char *v,
		      int opt, int *status);

/* The message and usage status for getopt_long()'s ':' (a value is
 * missing) or '?' (an unknown or ambiguous option, or a value given to
 * an option that takes none). Call right after getopt_long() returned
 * c, with opterr 0 and ":h" as its short options. */
int cli_getopt_trouble(const cli_args *a, int c, char **argv);

/* Is s (NUL terminated) an IPv4 dotted quad or an IPv6 address? */
bool cli_ip_ok(const char *s);

/* A decimal number from min to max, digits only (max at most
 * UINT64_MAX / 10 - 10). */
bool cli_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A count from 1 to max, decimal digits only. */
bool cli_parse_count(const char *s, unsigned max, unsigned *out);

/* ------------------------------------------------------------ shared */

/* The getopt values of the options several commands share, above any
 * command's own (which start at CLI_OPT_FIRST). */
enum {
	CLI_OPT_IP = 0x1000, /* the identity options */
	CLI_OPT_SENDER,
	CLI_OPT_HELO,
	CLI_OPT_SCOPE,
	CLI_OPT_RECORD,
	CLI_OPT_ZONE, /* the DNS options */
	CLI_OPT_NAMESERVER,
	CLI_OPT_RECURSIVE,
	CLI_OPT_ROOT_HINTS,
	CLI_OPT_TRUST_ANCHOR,
	CLI_OPT_TIMEOUT
};

/* Their rows, to stand in a command's getopt table: the identity
 * options (cli_identity_option() takes them) and the DNS options
 * (cli_dns_option()). CLI_ENVELOPE_LONGOPTS are the first three alone,
 * for a command that takes the client and envelope but no --scope or
 * --record (spfkit message). */
// clang-format off
#define CLI_ENVELOPE_LONGOPTS \
	{"ip", required_argument, NULL, CLI_OPT_IP}, \
	{"sender", required_argument, NULL, CLI_OPT_SENDER}, \
	{"helo", required_argument, NULL, CLI_OPT_HELO}
#define CLI_IDENTITY_LONGOPTS \
	CLI_ENVELOPE_LONGOPTS, \
	{"scope", required_argument, NULL, CLI_OPT_SCOPE}, \
	{"record", required_argument, NULL, CLI_OPT_RECORD}
#define CLI_DNS_LONGOPTS \
	{"zone", required_argument, NULL, CLI_OPT_ZONE}, \
	{"nameserver", required_argument, NULL, CLI_OPT_NAMESERVER}, \
	{"recursive", no_argument, NULL, CLI_OPT_RECURSIVE}, \
	{"root-hints", required_argument, NULL, CLI_OPT_ROOT_HINTS}, \
	{"trust-anchor", required_argument, NULL, CLI_OPT_TRUST_ANCHOR}, \
	{"timeout", required_argument, NULL, CLI_OPT_TIMEOUT}
// clang-format on

/* ------------------------------------------------------------ identity */

/* What a check is about, as the options give it. */
typedef struct cli_identity {
	const char *ip;     /* --ip, an IPv4 or IPv6 address */
	const char *sender; /* --sender; "" and "<>" are the null sender */
	const char *helo;   /* --helo */
	const char *record; /* --record: a draft for the domain's record */
	spfkit_scope scope; /* --scope, mailfrom (0) unless given */
	const char *scope_given;
} cli_identity;

/* Takes getopt value c with its value arg when it is an identity option:
 * each is given once, --ip an address, --scope mailfrom or helo. True,
 * with *status 0 or a usage exit status after a message; false when c is
 * no identity option. */
bool cli_identity_option(const cli_args *a, int c, const char *arg,
			 cli_identity *id, int *status);

/* ------------------------------------------------------------ DNS */

/* The DNS options as given. zones and nameservers are arrays the caller
 * allocates (one slot per argument is enough, see cli_dns_opts_init())
 * and frees. */
typedef struct cli_dns_opts {
	const char **zones;
	size_t nzones;
	const char **nameservers; /* ADDR[@PORT], checked */
	size_t nnameservers;
	const char *trust_anchor;
	const char *root_hints; /* --root-hints (implies recursive) */
	uint32_t timeout_ms;    /* 0: the library's default */
	bool recursive;
	const char *timeout; /* --timeout as given, NULL when not */
} cli_dns_opts;

/* Zeroes o and allocates its arrays for argc arguments; false when out
 * of memory (nothing to free then). */
bool cli_dns_opts_init(cli_dns_opts *o, int argc);
void cli_dns_opts_free(cli_dns_opts *o);

/* Takes getopt value c with its value arg when it is a DNS option: true,
 * with *status 0 or a usage exit status after a message. False when c is
 * no DNS option. */
bool cli_dns_option(const cli_args *a, int c, const char *arg, cli_dns_opts *o,
		    int *status);

/* Seconds with up to three decimals, from 0.001 to 86400, as ms. */
bool cli_dns_parse_timeout(const char *s, uint32_t *ms);

/* ADDR[@PORT]: an IPv4 or IPv6 address, optionally '@' and a port. */
bool cli_dns_nameserver_ok(const char *s);

/* A usage problem of the combination (NULL when fine), e.g. --recursive
 * with --nameserver. */
const char *cli_dns_opts_problem(const cli_dns_opts *o);

/* Do the options ask real DNS? --zone alone stays hermetic: no silent
 * fallback to resolv.conf. */
bool cli_dns_opts_real(const cli_dns_opts *o);

/* Sets the deadline of --timeout in cfg. Returns an spfkit_status. */
int cli_dns_configure(const cli_dns_opts *o, spfkit_config *cfg);

/* ------------------------------------------------------------ parsing */

/* A command's own options: takes getopt value c (optarg holds its
 * value). Returns 0, or an exit status after a message (-1 after
 * --help, which exits 0). */
typedef int (*cli_take_fn)(int c, void *ud);

/* Runs getopt_long() over argv with a's table (short options ":h"):
 * the DNS options go to dns, the identity options to id (either may be
 * NULL when the command takes none), every other option to take(c, ud).
 * Returns 0 with optind at the first operand, or what stopped it: an
 * exit status after a message, or -1 from take. */
int cli_parse(const cli_args *a, int argc, char **argv, cli_dns_opts *dns,
	      cli_identity *id, cli_take_fn take, void *ud);

/* A command whose messages about bad use have always differed from
 * check's keeps them with these flags of cli_parse_as() (cli_parse() is
 * cli_parse_as() with none; check, tree, lint, trace and srs take none).
 * Messages are what users and their scripts see, so a command's wording
 * stays its own; the flags name where it differs. */
enum {
	/* Every '?' of getopt_long() but a long option given a value it
	 * does not take ("--recursive=1": "takes no value") is "unknown or
	 * ambiguous option 'ARG'", ARG the argument getopt_long() stopped
	 * in as given: "-x" and "--help=1" too (spfkit message). */
	CLI_PARSE_UNKNOWN_AS_GIVEN = 1u << 0,
	/* A shared option given at most once refuses an empty value first,
	 * "--NAME: the value is empty": --timeout, --ip, --helo, --scope and
	 * --record (--root-hints and --trust-anchor always do). --sender
	 * takes '', the null sender (spfkit message). */
	CLI_PARSE_NO_EMPTY = 1u << 1
};

/* cli_parse() with flags, a command's choice of the above. */
int cli_parse_as(const cli_args *a, unsigned flags, int argc, char **argv,
		 cli_dns_opts *dns, cli_identity *id, cli_take_fn take,
		 void *ud);

#endif /* SPFKIT_SUPPORT_OPTS_H */
