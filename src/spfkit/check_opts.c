/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_opts.c - the command line of `spfkit check`: its options, its
 * help text, the rules that tie options together, and the config every
 * check of the run shares.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check.h"

/* --concurrency bound (its default is check_batch.c's). */
#define CONCURRENCY_MAX 10000u

enum {
	OPT_FORMAT = CLI_OPT_FIRST,
	OPT_AUTHSERV_ID,
	OPT_RECEIVER,
	OPT_EXPLANATION,
	OPT_BATCH,
	OPT_CONCURRENCY,
	OPT_NO_CACHE,
	OPT_TIMING
};

static const struct option longopts[] = {
    CLI_IDENTITY_LONGOPTS,
    {"format", required_argument, NULL, OPT_FORMAT},
    {"authserv-id", required_argument, NULL, OPT_AUTHSERV_ID},
    {"receiver", required_argument, NULL, OPT_RECEIVER},
    {"explanation", required_argument, NULL, OPT_EXPLANATION},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    {"timing", no_argument, NULL, OPT_TIMING},
    CLI_DNS_LONGOPTS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const cli_args args = {CHECK_PROG, "check", longopts};

void cli_check_help(FILE *f)
{
	fputs(
	    "Usage: spfkit check --ip IP --sender ADDR [--helo NAME] "
	    "[OPTION]...\n"
	    "       spfkit check --batch [OPTION]... < LINES\n"
	    "\n"
	    "Evaluates SPF (RFC 7208 check_host()) for a client IP and a "
	    "sender.\n"
	    "\n"
	    "Options:\n"
	    "  --ip IP               the client's IPv4 or IPv6 address\n"
	    "  --sender ADDR         the MAIL FROM address; '' or '<>' is the "
	    "null\n"
	    "                        sender (then postmaster@HELO is checked; "
	    "none\n"
	    "                        without a HELO name)\n"
	    "  --helo NAME           the HELO/EHLO name\n"
	    "  --scope mailfrom|helo the identity to check (default mailfrom)\n"
	    "  --record 'v=spf1 ...' use this record for the sender's domain "
	    "instead of\n"
	    "                        its published one (test a draft)\n"
	    "  --format FORMAT       text (default), json, received-spf or "
	    "authres\n"
	    "  --authserv-id ID      the Authentication-Results authserv-id "
	    "(required\n"
	    "                        with --format authres)\n"
	    "  --receiver NAME       this host's name for %{r} and receiver= "
	    "(default:\n"
	    "                        the host name)\n"
	    "  --explanation MACROS  the explanation for fail when the record "
	    "has no\n"
	    "                        exp= (a macro-string, RFC 7208 "
	    "section 7)\n"
	    "  --timeout SECONDS     give up with temperror after this long "
	    "(default 20);\n"
	    "                        also caps each DNS query's wait "
	    "(default 5)\n"
	    "  --batch               read lines IP<TAB>SENDER[<TAB>HELO] from "
	    "standard\n"
	    "                        input, write one line per input line, in "
	    "order\n"
	    "  --concurrency N       with --batch and real DNS: checks in "
	    "flight at once\n"
	    "                        (default 64)\n"
	    "  --no-cache            with --batch and real DNS: check each "
	    "line as a\n"
	    "                        receiver with empty caches would, one at "
	    "a time\n"
	    "                        (every answer from the server)\n"
	    "  --timing              show how long each check took, from its "
	    "start\n"
	    "                        (resolver set-up included) to its "
	    "result\n"
	    "\n"
	    "DNS sources (default: the resolvers of /etc/resolv.conf):\n"
	    "  --zone FILE           answer from this RFC 1035 master file or "
	    "openspf\n"
	    "                        YAML (.yml/.yaml); repeatable. Alone, the "
	    "zone\n"
	    "                        answers everything (no real DNS); with a "
	    "DNS\n"
	    "                        option below, names it holds come from it "
	    "and\n"
	    "                        the rest from DNS\n"
	    "  --nameserver ADDR[@PORT]  ask this server (an IP address; "
	    "repeatable),\n"
	    "                        e.g. 127.0.0.1@5353\n"
	    "  --recursive           resolve from the root servers, with no "
	    "resolver\n"
	    "  --root-hints FILE     resolve from the root servers named in "
	    "FILE (NS and\n"
	    "                        A/AAAA records, as named.root) instead: "
	    "a private\n"
	    "                        root, loopback included\n"
	    "  --trust-anchor FILE   validate DNSSEC with this trust anchor "
	    "(e.g.\n"
	    "                        /usr/share/dns/root.key); shown as "
	    "\"dnssec\"\n"
	    "  -h, --help            show this help and exit\n"
	    "  --version             show the version and exit\n"
	    "\n"
	    "DNS failures and timeouts are results (temperror), not errors.\n"
	    "\n"
	    "Exit status: 0 pass, 1 fail, 2 softfail, 3 neutral, 4 none, "
	    "5 permerror,\n"
	    "6 temperror; 64 usage error, 65 a zone file that does not parse, "
	    "66 a file\n"
	    "that cannot be read, 70 internal error (out of memory, write "
	    "error).\n"
	    "With --batch: 0 when every line was answered (error lines for "
	    "malformed\n"
	    "input included), else 70.\n",
	    f);
}

/* What parsing keeps besides the options: the values seen once. */
typedef struct parse_state {
	check_opts *co;
	const char *format, *concurrency;
} parse_state;

/* Takes one option of check's own (cli_take_fn). */
static int take(int c, void *ud)
{
	parse_state *ps = ud;
	check_opts *co = ps->co;
	int status = 0;
	switch (c) {
	case OPT_FORMAT:
		if (cli_set_once(&args, &ps->format, optarg, c, &status) &&
		    !cli_format_parse(optarg, &co->format))
			status = cli_usage(CHECK_PROG,
					   "--format: '%s' is not text, json, "
					   "received-spf or authres",
					   cli_shown(optarg));
		break;
	case OPT_AUTHSERV_ID:
		cli_set_nonempty(&args, &co->authserv_id, optarg, c, &status);
		break;
	case OPT_RECEIVER:
		cli_set_nonempty(&args, &co->receiver, optarg, c, &status);
		break;
	case OPT_EXPLANATION:
		cli_set_once(&args, &co->explanation, optarg, c, &status);
		break;
	case OPT_BATCH: co->batch = true; break;
	case OPT_CONCURRENCY:
		if (cli_set_once(&args, &ps->concurrency, optarg, c, &status) &&
		    !cli_parse_count(optarg, CONCURRENCY_MAX, &co->concurrency))
			status =
			    cli_usage(CHECK_PROG,
				      "--concurrency: '%s' is not a number "
				      "from 1 to %u",
				      cli_shown(optarg), CONCURRENCY_MAX);
		break;
	case OPT_NO_CACHE: co->no_cache = true; break;
	case OPT_TIMING: co->timing = true; break;
	case 'h': cli_check_help(stdout); return -1;
	default: break;
	}
	return status;
}

/* RFC 7208 §4.5: an SPF record is "v=spf1" (case aside) followed by a
 * space or by nothing. */
static bool spf_record_text(const char *s)
{
	return strncasecmp(s, "v=spf1", 6) == 0 && (s[6] == ' ' || !s[6]);
}

/* The rules between options, once all are read. */
static int combination(check_opts *co, bool concurrency)
{
	/* A draft that is no SPF record is a mistake of the command line,
	 * not the domain's permerror. */
	if (co->id.record && !spf_record_text(co->id.record))
		return cli_usage(CHECK_PROG,
				 "--record: '%s' is not an SPF record: it must "
				 "start with 'v=spf1' and a space (RFC 7208 "
				 "4.5)",
				 cli_shown(co->id.record));
	if (co->batch) {
		if (co->id.ip || co->id.sender || co->id.helo)
			return cli_usage(CHECK_PROG,
					 "--batch reads IP, sender and HELO "
					 "from standard input; drop --ip, "
					 "--sender and --helo");
	} else {
		if (!co->id.ip)
			return cli_usage(CHECK_PROG,
					 "--ip IP is required (try 'spfkit "
					 "help check')");
		if (!co->id.sender && co->id.scope == SPFKIT_SCOPE_MAILFROM)
			return cli_usage(CHECK_PROG,
					 "--sender ADDR is required (--sender "
					 "'' checks the null sender)");
		if (co->id.scope == SPFKIT_SCOPE_HELO && !co->id.helo)
			return cli_usage(CHECK_PROG,
					 "--scope helo needs --helo NAME");
	}
	if (co->format == CLI_FORMAT_AUTHRES && !co->authserv_id)
		return cli_usage(CHECK_PROG,
				 "--format authres needs --authserv-id ID");
	const char *problem = cli_dns_opts_problem(&co->dns);
	if (problem)
		return cli_usage(CHECK_PROG, "%s", problem);
	co->real_dns = cli_dns_opts_real(&co->dns);
	if (concurrency && !co->batch)
		return cli_usage(CHECK_PROG,
				 "--concurrency applies to --batch only");
	if (co->no_cache && (!co->batch || !co->real_dns))
		return cli_usage(CHECK_PROG,
				 "--no-cache applies to --batch with real DNS "
				 "only (a single check starts with empty "
				 "caches anyway)");
	if (co->no_cache && co->concurrency > 1)
		return cli_usage(CHECK_PROG,
				 "--no-cache checks one line at a time; drop "
				 "--concurrency");
	if (co->no_cache)
		co->concurrency = 1;
	/* With --zone alone checks run one at a time: the zone answers at
	 * once, so there is nothing to overlap. */
	return 0;
}

int check_parse(int argc, char **argv, check_opts *co)
{
	parse_state ps = {.co = co};
	int status = cli_parse(&args, argc, argv, &co->dns, &co->id, take, &ps);
	if (status)
		return status;
	if (optind < argc)
		return cli_usage(CHECK_PROG,
				 "unexpected argument '%s' (try 'spfkit help "
				 "check')",
				 cli_shown(argv[optind]));
	return combination(co, ps.concurrency != NULL);
}

/* The config all checks share. Returns 0 or the exit status. */
int check_config(const check_opts *co, spfkit_config **out)
{
	spfkit_config *cfg = NULL;
	int rc = spfkit_config_new(&cfg, NULL);
	if (rc < 0)
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));

	if (co->receiver) {
		rc = spfkit_config_set_receiver(cfg, co->receiver);
		if (rc < 0) {
			spfkit_config_free(cfg);
			if (rc == SPFKIT_ENOMEM)
				return cli_say(CHECK_PROG, CLI_EX_SOFTWARE,
					       "%s", spfkit_strerror(rc));
			return cli_usage(CHECK_PROG, "--receiver: '%s': %s",
					 cli_shown(co->receiver),
					 spfkit_strerror(rc));
		}
	} else {
		/* RFC 7208 §7.3: %{r} is the name of the checking host. */
		char host[256];
		if (gethostname(host, sizeof host) == 0) {
			host[sizeof host - 1] = '\0';
			if (host[0])
				(void)spfkit_config_set_receiver(cfg, host);
		}
	}
	if (co->explanation) {
		rc =
		    spfkit_config_set_default_explanation(cfg, co->explanation);
		if (rc < 0) {
			spfkit_config_free(cfg);
			if (rc == SPFKIT_ENOMEM)
				return cli_say(CHECK_PROG, CLI_EX_SOFTWARE,
					       "%s", spfkit_strerror(rc));
			return cli_usage(CHECK_PROG,
					 "--explanation: '%s' is not a valid "
					 "macro-string (RFC 7208 section 7.1)",
					 cli_shown(co->explanation));
		}
	}
	if (co->dns.timeout_ms) {
		rc = cli_dns_configure(&co->dns, cfg);
		if (rc < 0) {
			spfkit_config_free(cfg);
			return cli_say(CHECK_PROG, CLI_EX_SOFTWARE,
				       "--timeout: %s", spfkit_strerror(rc));
		}
	}
	*out = cfg;
	return 0;
}
