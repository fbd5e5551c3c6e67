/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - the spfkit command: dispatches to one subcommand per file
 * (check*.c, tree.c, lintcmd.c, trace.c, message.c, srs.c, dmarc.c, ...), and
 * answers
 * --help, --version and `spfkit help COMMAND`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *f);
} command;

static const command commands[] = {
    {"check", "evaluate SPF for an IP and a sender (or a stream of them)",
     cli_check_main, cli_check_help},
    {"trace", "evaluate SPF step by step: terms, DNS answers, counters",
     cli_trace_main, cli_trace_help},
    {"tree", "a domain's SPF as a resolved tree with counts and addresses",
     cli_tree_main, cli_tree_help},
    {"lint", "problems of a domain's SPF (or a draft), with fixes",
     cli_lint_main, cli_lint_help},
    {"report", "a self-contained HTML page: the tree as a picture, findings",
     cli_report_main, cli_report_help},
    {"message", "what SPF said about a saved message or a bounce, and why",
     cli_message_main, cli_message_help},
    {"srs", "rewrite senders for forwarding (SRS) and bounces back",
     cli_srs_main, cli_srs_help},
    {"flatten", "the records to publish for fewer lookups, proven the same",
     cli_flatten_main, cli_flatten_help},
    {"diff", "what a draft record or zone changes: addresses, counts, results",
     cli_diff_main, cli_diff_help},
    {"dmarc", "the DMARC policy for a domain (RFC 9989 tree walk), with lint",
     cli_dmarc_main, cli_dmarc_help},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void main_help(FILE *f)
{
	fputs("Usage: spfkit COMMAND [OPTION]...\n"
	      "       spfkit --help | --version | -V | help COMMAND\n"
	      "\n"
	      "Sender Policy Framework (RFC 7208) checks.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  show the version and exit (every command "
	      "takes\n"
	      "                 --version too)\n"
	      "\n"
	      "Exit status of check: 0 pass, 1 fail, 2 softfail, 3 neutral, "
	      "4 none,\n"
	      "5 permerror, 6 temperror; 64 usage error, 65 a zone file that "
	      "does not\n"
	      "parse, 66 a file that cannot be read, 70 internal error.\n"
	      "Exit status of message: 0 whatever the SPF result, 65 a "
	      "message that\n"
	      "does not parse; 64, 66 and 70 as above.\n"
	      "Exit status of srs: 0 rewritten (or left as it is), 1 refused, "
	      "65 a\n"
	      "secrets file without a usable secret; 64, 66 and 70 as above.\n"
	      "Exit status of dmarc: 0 a policy applies, 1 no DMARC record, 2 "
	      "temperror;\n"
	      "64, 65, 66 and 70 as above.\n"
	      "\n"
	      "Run 'spfkit help COMMAND' for a command's options; see "
	      "spfkit(1).\n",
	      f);
}

/* One line on stderr for an unknown command; c is quoted safely. */
static int unknown_command(const char *c)
{
	return cli_usage("spfkit", "unknown command '%s' (try 'spfkit --help')",
			 cli_shown(c));
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("spfkit",
				 "no command given (try 'spfkit --help')");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		main_help(stdout);
		return fflush(stdout) == 0 ? 0 : CLI_EX_SOFTWARE;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
		return cli_version(stdout) ? 0 : CLI_EX_SOFTWARE;
	if (strcmp(cmd, "help") == 0) {
		if (argc == 2) {
			main_help(stdout);
		} else if (argc == 3) {
			const command *c = find_command(argv[2]);
			if (!c)
				return unknown_command(argv[2]);
			c->help(stdout);
		} else {
			return cli_usage("spfkit help",
					 "give one command name (try 'spfkit "
					 "--help')");
		}
		return fflush(stdout) == 0 ? 0 : CLI_EX_SOFTWARE;
	}
	if (cmd[0] == '-')
		return cli_usage("spfkit",
				 "unknown option '%s' (try 'spfkit --help')",
				 cli_shown(cmd));
	const command *c = find_command(cmd);
	if (!c)
		return unknown_command(cmd);
	/* Every subcommand answers --version; those that parse their options
	 * with cli_parse() anywhere among them, the others (srs) first. */
	if (argc >= 3 && strcmp(argv[2], "--version") == 0)
		return cli_version(stdout) ? 0 : CLI_EX_SOFTWARE;
	return c->run(argc - 1, argv + 1);
}
