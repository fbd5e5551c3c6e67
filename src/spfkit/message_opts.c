/*
 * message_opts.c - the command line of `spfkit message`: its options,
 * their values checked (one line on stderr and the usage status for a bad
 * one), and --help. The DNS options are those of `spfkit check`, parsed
 * with dnsopts.h.
 */
#include <getopt.h>

#include "message.h"

/* --trusted-hops upper bound. */
#define HOPS_MAX 1000u

enum {
	OPT_FORMAT = 256,
	OPT_TRUSTED_HOPS,
	OPT_RECEIVER,
	OPT_AUTHSERV_ID,
	OPT_IP,
	OPT_HELO,
	OPT_SENDER,
	OPT_ZONE,
	OPT_NAMESERVER,
	OPT_RECURSIVE,
	OPT_ROOT_HINTS,
	OPT_TRUST_ANCHOR,
	OPT_TIMEOUT
};

static const struct option longopts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"trusted-hops", required_argument, NULL, OPT_TRUSTED_HOPS},
    {"receiver", required_argument, NULL, OPT_RECEIVER},
    {"authserv-id", required_argument, NULL, OPT_AUTHSERV_ID},
    {"ip", required_argument, NULL, OPT_IP},
    {"helo", required_argument, NULL, OPT_HELO},
    {"sender", required_argument, NULL, OPT_SENDER},
    {"zone", required_argument, NULL, OPT_ZONE},
    {"nameserver", required_argument, NULL, OPT_NAMESERVER},
    {"recursive", no_argument, NULL, OPT_RECURSIVE},
    {"root-hints", required_argument, NULL, OPT_ROOT_HINTS},
    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

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
	    "again, DMARC alignment of the header From domain, and a "
	    "diagnosis.\n"
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
	    "                        DNS for the re-check, as in 'spfkit "
	    "check'\n"
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

static int usage(const char *fmt, ...) MSG_PRINTF(1, 2);
static int usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int status = msg_vsay(CLI_EX_USAGE, fmt, ap);
	va_end(ap);
	return status;
}

static const char *opt_name(int val)
{
	for (size_t i = 0; longopts[i].name; i++)
		if (longopts[i].val == val)
			return longopts[i].name;
	return "?";
}

static bool set_once(const char **dst, const char *v, int opt, int *status)
{
	if (*dst) {
		*status = usage("--%s given twice", opt_name(opt));
		return false;
	}
	if (v[0] == '\0') {
		*status = usage("--%s: the value is empty", opt_name(opt));
		return false;
	}
	*dst = v;
	return true;
}

/* Options given at most once whose values only the parser keeps. */
typedef struct seen_once {
	const char *format, *hops, *timeout;
} seen_once;

/* Where option c, which may be given once, keeps its value; NULL for
 * the options that may repeat and for errors. */
static const char **once_slot(msg_opts *o, seen_once *seen, int c)
{
	switch (c) {
	case OPT_FORMAT: return &seen->format;
	case OPT_TRUSTED_HOPS: return &seen->hops;
	case OPT_TIMEOUT: return &seen->timeout;
	case OPT_RECEIVER: return &o->receiver;
	case OPT_AUTHSERV_ID: return &o->authserv_id;
	case OPT_IP: return &o->ip;
	case OPT_HELO: return &o->helo;
	case OPT_ROOT_HINTS: return &o->dns.root_hints;
	case OPT_TRUST_ANCHOR: return &o->dns.trust_anchor;
	default: return NULL;
	}
}

/* A count from 1 to max, decimal digits only. */
static bool parse_count(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	if (*s != '\0' || v == 0)
		return false;
	*out = (unsigned)v;
	return true;
}

int msg_parse_args(int argc, char **argv, msg_opts *o)
{
	int status = 0;
	seen_once seen = {NULL, NULL, NULL};
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, ":h", longopts, NULL);
		if (c == -1)
			break;
		const char **slot = once_slot(o, &seen, c);
		if (slot && !set_once(slot, optarg, c, &status))
			return status;
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->format = CLI_FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = CLI_FORMAT_JSON;
			else
				return usage("--format: '%s' is not text or "
					     "json",
					     msg_shown(optarg));
			break;
		case OPT_TRUSTED_HOPS:
			if (!parse_count(optarg, HOPS_MAX, &o->trusted_hops))
				return usage("--trusted-hops: '%s' is not a "
					     "number from 1 to %u",
					     msg_shown(optarg), HOPS_MAX);
			break;
		case OPT_IP: {
			msgp_view v = {optarg, strlen(optarg)};
			if (v.len > 45 || !cli_dns_nameserver_ok(optarg) ||
			    strchr(optarg, '@'))
				return usage("--ip: '%s' is not an IPv4 or "
					     "IPv6 address",
					     msg_shown(optarg));
			break;
		}
		case OPT_SENDER:
			if (o->sender)
				return usage("--sender given twice");
			o->sender = optarg; /* "" and "<>": the null sender */
			break;
		case OPT_ZONE: o->dns.zones[o->dns.nzones++] = optarg; break;
		case OPT_NAMESERVER:
			if (!cli_dns_nameserver_ok(optarg))
				return usage("--nameserver: '%s' is not "
					     "ADDR[@PORT] (an IP address, e.g. "
					     "127.0.0.1@5353)",
					     msg_shown(optarg));
			o->dns.nameservers[o->dns.nnameservers++] = optarg;
			break;
		case OPT_RECURSIVE: o->dns.recursive = true; break;
		case OPT_TIMEOUT:
			if (!cli_dns_parse_timeout(optarg, &o->dns.timeout_ms))
				return usage("--timeout: '%s' is not a number "
					     "of seconds from 0.001 to 86400",
					     msg_shown(optarg));
			break;
		case OPT_RECEIVER:
		case OPT_AUTHSERV_ID:
		case OPT_HELO:
		case OPT_ROOT_HINTS:
		case OPT_TRUST_ANCHOR: break; /* any value, given once */
		case 'h': cli_message_help(stdout); return -1;
		case ':':
			return usage("--%s needs a value (try 'spfkit help "
				     "message')",
				     opt_name(optopt));
		default: {
			const char *arg = argv[optind - 1];
			if (optopt >= OPT_FORMAT)
				return usage("--%s takes no value",
					     opt_name(optopt));
			return usage("unknown or ambiguous option '%s' (try "
				     "'spfkit help message')",
				     msg_shown(arg));
		}
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		return usage("one message at a time: unexpected argument "
			     "'%s'",
			     msg_shown(argv[optind]));
	if (o->trusted_hops && o->receiver)
		return usage("--trusted-hops and --receiver both choose the "
			     "hop; give one");
	const char *bad = cli_dns_opts_problem(&o->dns);
	if (bad)
		return usage("%s", bad);
	return 0;
}
