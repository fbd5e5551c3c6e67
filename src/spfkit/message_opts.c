/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_opts.c - the command line of `spfkit message`: its options,
 * their values checked (one line on stderr and the usage status for a bad
 * one), and --help. The shared option layer (opts.h) parses them: the DNS
 * options are those of `spfkit check`, --ip, --helo and --sender its
 * identity options, and the messages about bad use keep this command's
 * own wording (CLI_PARSE_UNKNOWN_AS_GIVEN, CLI_PARSE_NO_EMPTY).
 */
#include "message.h"

/* --trusted-hops upper bound. */
#define HOPS_MAX 1000u

enum {
	OPT_FORMAT = CLI_OPT_FIRST,
	OPT_TRUSTED_HOPS,
	OPT_RECEIVER,
	OPT_AUTHSERV_ID
};

/* The identity options but --scope and --record: the hop's headers say
 * what is checked, --ip, --helo and --sender only override them. */
static const struct option longopts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"trusted-hops", required_argument, NULL, OPT_TRUSTED_HOPS},
    {"receiver", required_argument, NULL, OPT_RECEIVER},
    {"authserv-id", required_argument, NULL, OPT_AUTHSERV_ID},
    CLI_ENVELOPE_LONGOPTS,
    CLI_DNS_LONGOPTS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const cli_args args = {MSG_PROG, "message", longopts};

/* This command's wording of bad use, older than the shared layer: every
 * unknown option is "unknown or ambiguous", and no value given once may
 * be empty (but --sender's, the null sender). */
#define PARSE_FLAGS (CLI_PARSE_UNKNOWN_AS_GIVEN | CLI_PARSE_NO_EMPTY)

void cli_message_help(FILE *f)
{
	fputs(
	    "Usage: spfkit message [OPTION]... [FILE|-]\n"
	    "\n"
	    "Reads a saved message or a bounce (standard input without FILE "
	    "or with -)\n"
	    "and tells what SPF said and why: the receiving hop's client IP "
	    "and HELO\n"
	    "(from its Received field), the envelope sender (Return-Path), "
	    "what the\n"
	    "receiver recorded (Received-SPF, Authentication-Results), SPF "
	    "checked\n"
	    "again, every DKIM signature verified (libopendkim), the DMARC "
	    "verdict\n"
	    "(RFC 9989: the author domain's policy, SPF and DKIM alignment, "
	    "what the\n"
	    "policy asks), and a diagnosis.\n"
	    "\n"
	    "Options:\n"
	    "  --format text|json    output format (default text)\n"
	    "  --trusted-hops N      use the Nth Received field from the top "
	    "(where the\n"
	    "                        message entered your trusted boundary)\n"
	    "  --receiver HOST       use the first Received field whose 'by' "
	    "is HOST\n"
	    "                        or ends with it\n"
	    "  --authserv-id ID      the receiver's Authentication-Results id "
	    "(trusted)\n"
	    "  --ip IP, --helo NAME, --sender ADDR\n"
	    "                        override what the headers say (e.g. the "
	    "sending\n"
	    "                        server's IP for a bounce)\n"
	    "  --zone FILE, --nameserver ADDR[@PORT], --recursive,\n"
	    "  --root-hints FILE, --trust-anchor FILE, --timeout SECONDS\n"
	    "                        DNS for the re-check, DKIM keys and "
	    "DMARC\n"
	    "                        policies, as in 'spfkit check'\n"
	    "  -h, --help            show this help and exit\n"
	    "\n"
	    "By default the topmost Received field with an Internet client "
	    "address is\n"
	    "the receiving hop (internal hops, e.g. a content filter on "
	    "127.0.0.1, are\n"
	    "skipped and listed).\n"
	    "\n"
	    "Exit status: 0 when the message was parsed (and checked when it "
	    "could be),\n"
	    "whatever the SPF result; 64 usage error, 65 a message that does "
	    "not parse\n"
	    "or a zone file that does not, 66 a file that cannot be read, 70 "
	    "internal\n"
	    "error.\n",
	    f);
}

/* What parsing keeps besides the options: the values seen once. */
typedef struct parse_state {
	msg_opts *o;
	const char *format, *hops;
} parse_state;

/* Where an option of message's own keeps its value (NULL: none). */
static const char **slot(parse_state *ps, int c)
{
	switch (c) {
	case OPT_FORMAT: return &ps->format;
	case OPT_TRUSTED_HOPS: return &ps->hops;
	case OPT_RECEIVER: return &ps->o->receiver;
	case OPT_AUTHSERV_ID: return &ps->o->authserv_id;
	default: return NULL;
	}
}

/* Takes one option of message's own (cli_take_fn): each is given once,
 * never empty, and --format and --trusted-hops are checked. */
static int take(int c, void *ud)
{
	parse_state *ps = ud;
	if (c == 'h') {
		cli_message_help(stdout);
		return -1;
	}
	const char **dst = slot(ps, c);
	int status = 0;
	if (!dst || !cli_set_nonempty(&args, dst, optarg, c, &status))
		return status;
	cli_format *f = &ps->o->format;
	/* Text and JSON only: an analysis has no header form. */
	if (c == OPT_FORMAT &&
	    (!cli_format_parse(optarg, f) || *f > CLI_FORMAT_JSON))
		return cli_usage(MSG_PROG, "--format: '%s' is not text or json",
				 cli_shown(optarg));
	if (c == OPT_TRUSTED_HOPS &&
	    !cli_parse_count(optarg, HOPS_MAX, &ps->o->trusted_hops))
		return cli_usage(MSG_PROG,
				 "--trusted-hops: '%s' is not a number from 1 "
				 "to %u",
				 cli_shown(optarg), HOPS_MAX);
	return 0;
}

int msg_parse_args(int argc, char **argv, msg_opts *o)
{
	parse_state ps = {.o = o};
	int status = cli_parse_as(&args, PARSE_FLAGS, argc, argv, &o->dns,
				  &o->id, take, &ps);
	if (status)
		return status;
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		return cli_usage(MSG_PROG,
				 "one message at a time: unexpected argument "
				 "'%s'",
				 cli_shown(argv[optind]));
	if (o->trusted_hops && o->receiver)
		return cli_usage(MSG_PROG,
				 "--trusted-hops and --receiver both choose "
				 "the hop; give one");
	const char *bad = cli_dns_opts_problem(&o->dns);
	if (bad)
		return cli_usage(MSG_PROG, "%s", bad);
	return 0;
}
