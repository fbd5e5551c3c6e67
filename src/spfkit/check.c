/*
 * check.c - `spfkit check`: one SPF check from the command line, or a
 * stream of them from standard input (--batch).
 *
 * DNS comes from one of two places. With only --zone FILE the in-memory
 * zone answers everything, one check at a time (hermetic: nothing leaves
 * the machine). Otherwise the libunbound driver (spfkit_resolver) asks
 * real DNS -- /etc/resolv.conf's servers, --nameserver ADDR[@PORT], or the
 * root servers with --recursive -- after any --zone files, and a batch
 * keeps --concurrency checks in flight in this one thread, writing results
 * strictly in input order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#include "cli.h"
#include "dnsopts.h"
#include "zone_yaml.h"

/* RFC 7208 §4.6.4 limits; the CLI leaves the library's defaults alone and
 * names them only to show "N of LIMIT" in text output. */
#define RFC_DNS_TERMS    10
#define RFC_VOID_LOOKUPS 2

/* --concurrency: its default with real DNS and its bounds. Finished
 * results wait for earlier ones in a window this many times larger, so a
 * slow check does not stall the others at once. */
#define CONCURRENCY_DEFAULT 64u
#define CONCURRENCY_MAX     10000u
#define WINDOW_FACTOR       4u

/* The batch progress line on a terminal: at most this often. */
#define PROGRESS_MS 250u

/* --timeout bounds, in milliseconds. */

/* A batch line longer than this is reported, not checked; the rest of it
 * is read and dropped, so memory stays bounded whatever arrives. */
#define BATCH_LINE_MAX (256u * 1024u)

/* How much of a hostile value an error message quotes. */
#define SHOW_MAX 64

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* ------------------------------------------------------------ resolver */

/* Where a check's DNS answers come from. With only a zone, answer()
 * answers every pending query at once (zone_answer()); with real DNS, dns
 * is set and run_check() drives the libunbound driver instead. */
typedef struct resolver {
	const char *name;
	int (*answer)(void *ctx, spfkit_check *chk);
	void (*close)(void *ctx);
	void *ctx;            /* the zone, or NULL */
	spfkit_resolver *dns; /* real DNS, or NULL */
	uint32_t deadline_ms; /* SPFKIT_LIMIT_DEADLINE_MS of the checks */
	spfkit_cache *cache;  /* parsed records for every check, or NULL */
} resolver;

static int zone_answer(void *ctx, spfkit_check *chk)
{
	return spfkit_zone_answer(ctx, chk);
}

static void zone_close(void *ctx)
{
	spfkit_zone_free(ctx);
}

/* The monotonic clock the library's deadline runs on, in milliseconds. */
static uint64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The same clock in microseconds, for --timing. */
static uint64_t now_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* What --timing shows for a check that ran from t0_us to t1_us (negative:
 * nothing, without --timing). */
static double shown_ms(bool timing, uint64_t t0_us, uint64_t t1_us)
{
	if (!timing)
		return -1.0;
	return t1_us > t0_us ? (double)(t1_us - t0_us) / 1000.0 : 0.0;
}

/* Milliseconds left of a check started at start_ms (at least 1, so a
 * wait always ends in a new run that sees the deadline). */
static uint32_t time_left(uint64_t start_ms, uint32_t deadline_ms, uint64_t now)
{
	uint64_t end = start_ms + deadline_ms;
	return now >= end ? 1u : (uint32_t)(end - now);
}

/* Runs chk to its result: run, answer what it asks, run again. */
static int run_check(spfkit_check *chk, const resolver *res)
{
	if (res->dns)
		return cli_dns_run_resolver(res->dns, res->deadline_ms, chk);
	for (;;) {
		int rc = spfkit_check_run(chk, now_ms());
		if (rc == SPFKIT_DONE)
			return SPFKIT_OK;
		if (rc != SPFKIT_WANT_DNS)
			return rc < 0 ? rc : SPFKIT_ESTATE;
		/* A check that wants DNS but asks nothing would spin. */
		if (spfkit_check_pending(chk) == 0)
			return SPFKIT_ESTATE;
		rc = res->answer(res->ctx, chk);
		if (rc < 0)
			return rc;
	}
}

/* ------------------------------------------------------------ options */

typedef struct check_opts {
	const char *ip;
	const char *sender;
	const char *helo;
	const char *record;
	const char *authserv_id;
	const char *receiver;
	const char *explanation;
	const char **zones;
	size_t nzones;
	const char **nameservers; /* ADDR[@PORT], already checked */
	size_t nnameservers;
	const char *trust_anchor;
	const char *root_hints; /* --root-hints FILE (implies recursive) */
	spfkit_scope scope;
	cli_format format;
	uint32_t timeout_ms;  /* 0: the library's default */
	unsigned concurrency; /* 0: the default */
	bool recursive;
	bool batch;
	bool dns;      /* real DNS (a DNS option, or no --zone) */
	bool no_cache; /* --no-cache: a fresh resolver per batch line */
	bool timing;   /* --timing: show each check's time */
} check_opts;

enum {
	OPT_IP = 256,
	OPT_SENDER,
	OPT_HELO,
	OPT_SCOPE,
	OPT_ZONE,
	OPT_RECORD,
	OPT_FORMAT,
	OPT_AUTHSERV_ID,
	OPT_RECEIVER,
	OPT_EXPLANATION,
	OPT_TIMEOUT,
	OPT_BATCH,
	OPT_NAMESERVER,
	OPT_RECURSIVE,
	OPT_TRUST_ANCHOR,
	OPT_ROOT_HINTS,
	OPT_CONCURRENCY,
	OPT_NO_CACHE,
	OPT_TIMING
};

static const struct option longopts[] = {
    {"ip", required_argument, NULL, OPT_IP},
    {"sender", required_argument, NULL, OPT_SENDER},
    {"helo", required_argument, NULL, OPT_HELO},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"zone", required_argument, NULL, OPT_ZONE},
    {"record", required_argument, NULL, OPT_RECORD},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"authserv-id", required_argument, NULL, OPT_AUTHSERV_ID},
    {"receiver", required_argument, NULL, OPT_RECEIVER},
    {"explanation", required_argument, NULL, OPT_EXPLANATION},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"nameserver", required_argument, NULL, OPT_NAMESERVER},
    {"recursive", no_argument, NULL, OPT_RECURSIVE},
    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
    {"root-hints", required_argument, NULL, OPT_ROOT_HINTS},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    {"timing", no_argument, NULL, OPT_TIMING},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

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
	    "                        sender (then postmaster@HELO is checked)\n"
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
	    "                        (a fresh resolver per line)\n"
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

/* One line on stderr, "spfkit check: ...", and the usage exit status. */
static int usage(const char *fmt, ...) CLI_PRINTF(1, 2);
static int usage(const char *fmt, ...)
{
	va_list ap;
	fputs("spfkit check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EX_USAGE;
}

/* One line on stderr and the given exit status. */
static int fatal(int status, const char *fmt, ...) CLI_PRINTF(2, 3);
static int fatal(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("spfkit check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* A value quoted safely for a message (static storage, one at a time). */
static const char *shown(const char *s, size_t n)
{
	static char buf[SHOW_MAX * 4 + 8];
	cli_escape(buf, sizeof buf, s, n, SHOW_MAX);
	return buf;
}

static const char *shown_str(const char *s)
{
	return shown(s, strlen(s));
}

static const char *opt_name(int val)
{
	for (size_t i = 0; longopts[i].name; i++)
		if (longopts[i].val == val)
			return longopts[i].name;
	return "?";
}

/* Is s (NUL terminated) an IPv4 dotted quad or an IPv6 address? */
static bool ip_ok(const char *s)
{
	unsigned char a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
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

/* Sets *dst once; a second time is a usage error. */
static bool set_once(const char **dst, const char *v, int opt, int *status)
{
	if (*dst) {
		*status = usage("--%s given twice", opt_name(opt));
		return false;
	}
	*dst = v;
	return true;
}

/* Parses argv into co. Returns 0, or the exit status after a message
 * (-1 for --help, which exits 0). */
static int parse_args(int argc, char **argv, check_opts *co)
{
	int status = 0;
	const char *scope = NULL, *format = NULL, *timeout = NULL;
	const char *concurrency = NULL;
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, ":h", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_IP:
			if (!set_once(&co->ip, optarg, c, &status))
				return status;
			if (!ip_ok(optarg))
				return usage("--ip: '%s' is not an IPv4 or "
					     "IPv6 address",
					     shown_str(optarg));
			break;
		case OPT_SENDER:
			if (!set_once(&co->sender, optarg, c, &status))
				return status;
			break;
		case OPT_HELO:
			if (!set_once(&co->helo, optarg, c, &status))
				return status;
			break;
		case OPT_SCOPE:
			if (!set_once(&scope, optarg, c, &status))
				return status;
			if (strcmp(optarg, "mailfrom") == 0)
				co->scope = SPFKIT_SCOPE_MAILFROM;
			else if (strcmp(optarg, "helo") == 0)
				co->scope = SPFKIT_SCOPE_HELO;
			else
				return usage("--scope: '%s' is not mailfrom or "
					     "helo",
					     shown_str(optarg));
			break;
		case OPT_ZONE: co->zones[co->nzones++] = optarg; break;
		case OPT_RECORD:
			if (!set_once(&co->record, optarg, c, &status))
				return status;
			break;
		case OPT_FORMAT:
			if (!set_once(&format, optarg, c, &status))
				return status;
			if (!cli_format_parse(optarg, &co->format))
				return usage("--format: '%s' is not text, "
					     "json, received-spf or authres",
					     shown_str(optarg));
			break;
		case OPT_AUTHSERV_ID:
			if (!set_once(&co->authserv_id, optarg, c, &status))
				return status;
			if (optarg[0] == '\0')
				return usage("--authserv-id: the value is "
					     "empty");
			break;
		case OPT_RECEIVER:
			if (!set_once(&co->receiver, optarg, c, &status))
				return status;
			if (optarg[0] == '\0')
				return usage("--receiver: the value is empty");
			break;
		case OPT_EXPLANATION:
			if (!set_once(&co->explanation, optarg, c, &status))
				return status;
			break;
		case OPT_TIMEOUT:
			if (!set_once(&timeout, optarg, c, &status))
				return status;
			if (!cli_dns_parse_timeout(optarg, &co->timeout_ms))
				return usage("--timeout: '%s' is not a number "
					     "of seconds from 0.001 to 86400",
					     shown_str(optarg));
			break;
		case OPT_BATCH: co->batch = true; break;
		case OPT_NAMESERVER:
			if (!cli_dns_nameserver_ok(optarg))
				return usage("--nameserver: '%s' is not "
					     "ADDR[@PORT] (an IP address, e.g. "
					     "127.0.0.1@5353)",
					     shown_str(optarg));
			co->nameservers[co->nnameservers++] = optarg;
			break;
		case OPT_RECURSIVE: co->recursive = true; break;
		case OPT_ROOT_HINTS:
			if (!set_once(&co->root_hints, optarg, c, &status))
				return status;
			if (optarg[0] == '\0')
				return usage(
				    "--root-hints: the value is empty");
			break;
		case OPT_TRUST_ANCHOR:
			if (!set_once(&co->trust_anchor, optarg, c, &status))
				return status;
			if (optarg[0] == '\0')
				return usage("--trust-anchor: the value is "
					     "empty");
			break;
		case OPT_CONCURRENCY:
			if (!set_once(&concurrency, optarg, c, &status))
				return status;
			if (!parse_count(optarg, CONCURRENCY_MAX,
					 &co->concurrency))
				return usage("--concurrency: '%s' is not a "
					     "number from 1 to %u",
					     shown_str(optarg),
					     CONCURRENCY_MAX);
			break;
		case OPT_NO_CACHE: co->no_cache = true; break;
		case OPT_TIMING: co->timing = true; break;
		case 'h': cli_check_help(stdout); return -1;
		case ':':
			return usage("--%s needs a value (try 'spfkit help "
				     "check')",
				     opt_name(optopt));
		default: { /* '?' */
			const char *arg = argv[optind - 1];
			if (optopt >= OPT_IP ||
			    (optopt == 'h' && strncmp(arg, "--", 2) == 0))
				return usage("--%s takes no value",
					     opt_name(optopt));
			if (optopt != 0) {
				char o = (char)optopt;
				return usage("unknown option '-%s' (try "
					     "'spfkit help check')",
					     shown(&o, 1));
			}
			return usage("unknown or ambiguous option '%s' (try "
				     "'spfkit help check')",
				     shown_str(arg));
		}
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s' (try 'spfkit help "
			     "check')",
			     shown_str(argv[optind]));

	if (co->batch) {
		if (co->ip || co->sender || co->helo)
			return usage("--batch reads IP, sender and HELO from "
				     "standard input; drop --ip, --sender and "
				     "--helo");
	} else {
		if (!co->ip)
			return usage("--ip IP is required (try 'spfkit help "
				     "check')");
		if (!co->sender && co->scope == SPFKIT_SCOPE_MAILFROM)
			return usage("--sender ADDR is required (--sender '' "
				     "checks the null sender)");
		if (co->scope == SPFKIT_SCOPE_HELO && !co->helo)
			return usage("--scope helo needs --helo NAME");
	}
	if (co->format == CLI_FORMAT_AUTHRES && !co->authserv_id)
		return usage("--format authres needs --authserv-id ID");
	if ((co->recursive || co->root_hints) && co->nnameservers > 0)
		return usage("--recursive and --root-hints ask the root "
			     "servers themselves; drop --nameserver, or them");
	/* --zone alone stays hermetic: no silent fallback to resolv.conf. */
	co->dns = co->nzones == 0 || co->nnameservers > 0 || co->recursive ||
		  co->root_hints || co->trust_anchor;
	if (concurrency && !co->batch)
		return usage("--concurrency applies to --batch only");
	if (co->no_cache && (!co->batch || !co->dns))
		return usage("--no-cache applies to --batch with real DNS "
			     "only (a single check starts with empty caches "
			     "anyway)");
	if (co->no_cache && co->concurrency > 1)
		return usage("--no-cache checks one line at a time; drop "
			     "--concurrency");
	if (co->no_cache)
		co->concurrency = 1;
	/* With --zone alone checks run one at a time: the zone answers at
	 * once, so there is nothing to overlap. */
	return 0;
}

/* ------------------------------------------------------------ setup */

/* The config all checks share. Returns 0 or the exit status. */
static int make_config(const check_opts *co, spfkit_config **out)
{
	spfkit_config *cfg = NULL;
	int rc = spfkit_config_new(&cfg, NULL);
	if (rc < 0)
		return fatal(CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));

	if (co->receiver) {
		rc = spfkit_config_set_receiver(cfg, co->receiver);
		if (rc < 0) {
			spfkit_config_free(cfg);
			if (rc == SPFKIT_ENOMEM)
				return fatal(CLI_EX_SOFTWARE, "%s",
					     spfkit_strerror(rc));
			return usage("--receiver: '%s': %s",
				     shown_str(co->receiver),
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
				return fatal(CLI_EX_SOFTWARE, "%s",
					     spfkit_strerror(rc));
			return usage("--explanation: '%s' is not a valid "
				     "macro-string (RFC 7208 section 7.1)",
				     shown_str(co->explanation));
		}
	}
	if (co->timeout_ms) {
		rc = spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DEADLINE_MS,
					     co->timeout_ms);
		if (rc < 0) {
			spfkit_config_free(cfg);
			return fatal(CLI_EX_SOFTWARE, "--timeout: %s",
				     spfkit_strerror(rc));
		}
	}
	*out = cfg;
	return 0;
}

/* The exit status for a zone file that would not load. */
static int zone_status(int rc)
{
	switch (rc) {
	case SPFKIT_ENOENT:
	case SPFKIT_EIO: return CLI_EX_NOINPUT;
	case SPFKIT_EPARSE:
	case SPFKIT_ETOOBIG: return CLI_EX_DATAERR;
	default: return CLI_EX_SOFTWARE;
	}
}

/* Loads every --zone file into one zone and makes it the resolver. */
static int make_zone_resolver(const check_opts *co, const spfkit_config *cfg,
			      resolver *res)
{
	spfkit_zone *zone = NULL;
	int rc = spfkit_zone_new(&zone, cfg);
	if (rc < 0)
		return fatal(CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	for (size_t i = 0; i < co->nzones; i++) {
		char err[512] = "";
		/* A directory opens but never reads; say so up front. */
		struct stat st;
		if (stat(co->zones[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			spfkit_zone_free(zone);
			return fatal(CLI_EX_NOINPUT,
				     "--zone '%s': is a directory",
				     shown_str(co->zones[i]));
		}
		rc = zone_file_load(zone, cfg, co->zones[i], err, sizeof err);
		if (rc < 0) {
			spfkit_zone_free(zone);
			if (err[0]) {
				char msg[sizeof err * 4 + 8];
				size_t n = strnlen(err, sizeof err);
				cli_escape(msg, sizeof msg, err, n, sizeof err);
				return fatal(zone_status(rc), "%s", msg);
			}
			return fatal(zone_status(rc), "--zone '%s': %s",
				     shown_str(co->zones[i]),
				     spfkit_strerror(rc));
		}
	}
	res->name = "zone";
	res->answer = zone_answer;
	res->close = zone_close;
	res->ctx = zone;
	return 0;
}

/* ------------------------------------------------------------ checks */

/* One check's input, as views: batch lines may hold any octet. */
typedef struct check_input {
	const char *ip; /* NUL terminated, already validated */
	const char *sender;
	size_t sender_len;
	const char *helo; /* NULL when none */
	size_t helo_len;
} check_input;

/* RFC 5321 reverse-path: one pair of surrounding angle brackets is
 * dropped, so "<a@b>" is a@b and "<>" the null sender. */
static void strip_brackets(const char **s, size_t *n)
{
	if (*n >= 2 && (*s)[0] == '<' && (*s)[*n - 1] == '>') {
		(*s)++;
		*n -= 2;
	}
}

/* Why an input cannot be checked (a usage problem, not an SPF result),
 * or NULL. */
static const char *input_problem(const check_opts *co, const check_input *in)
{
	if (co->scope == SPFKIT_SCOPE_HELO && !in->helo)
		return "--scope helo needs a HELO name";
	if (co->scope == SPFKIT_SCOPE_MAILFROM && in->sender_len == 0 &&
	    !in->helo)
		return "the null sender is checked as postmaster@HELO: a HELO "
		       "name is needed";
	return NULL;
}

/* Creates a check for in with every setting; the step that failed is
 * named in *what. On failure *chkp is NULL and the status negative. */
static int make_check(const check_opts *co, const spfkit_config *cfg,
		      spfkit_cache *cache, const check_input *in,
		      spfkit_check *reuse, spfkit_check **chkp,
		      const char **what)
{
	spfkit_check *chk = reuse;
	*chkp = NULL;
	*what = "check";
	int rc = chk ? spfkit_check_reset(chk) : spfkit_check_new(&chk, cfg);
	if (rc < 0) {
		spfkit_check_free(reuse);
		return rc;
	}
	*what = "cache";
	rc = spfkit_check_set_cache(chk, cache);
	if (rc == SPFKIT_OK) {
		*what = "ip";
		rc = spfkit_check_set_ip(chk, in->ip);
	}
	if (rc == SPFKIT_OK) {
		*what = "sender";
		rc = spfkit_check_set_sender(chk, in->sender, in->sender_len);
	}
	if (rc == SPFKIT_OK && in->helo) {
		*what = "helo";
		rc = spfkit_check_set_helo(chk, in->helo, in->helo_len);
	}
	if (rc == SPFKIT_OK) {
		*what = "scope";
		rc = spfkit_check_set_scope(chk, co->scope);
	}
	if (rc == SPFKIT_OK) {
		/* %{t} in explanations: the library reads no clock. */
		time_t now = time(NULL);
		*what = "timestamp";
		rc = spfkit_check_set_timestamp(chk,
						now > 0 ? (uint64_t)now : 0);
	}
	if (rc == SPFKIT_OK && co->record) {
		*what = "record";
		rc = spfkit_check_set_record(chk, co->record,
					     strlen(co->record));
	}
	if (rc < 0) {
		spfkit_check_free(chk);
		return rc;
	}
	*chkp = chk;
	return SPFKIT_OK;
}

/* Creates and runs a check against the zone resolver. On failure *chkp
 * is NULL and *what says which step failed; the status is negative. */
static int do_check(const check_opts *co, const spfkit_config *cfg,
		    const resolver *res, const check_input *in,
		    spfkit_check **chkp, const char **what)
{
	spfkit_check *chk = NULL;
	int rc = make_check(co, cfg, res->cache, in, NULL, &chk, what);
	if (rc < 0)
		return rc;
	*what = "run";
	rc = run_check(chk, res);
	if (rc < 0) {
		spfkit_check_free(chk);
		*chkp = NULL;
		return rc;
	}
	*chkp = chk;
	return SPFKIT_OK;
}

/* Is a do_check() failure about the input (a usage error, or an error
 * line in batch) rather than trouble of ours? */
static bool input_fault(int rc, const char *what)
{
	return (rc == SPFKIT_EINVAL || rc == SPFKIT_ETOOBIG ||
		rc == SPFKIT_EPARSE) &&
	       strcmp(what, "run") != 0 && strcmp(what, "check") != 0;
}

/* What a do_check() failure on the input means, in words. */
static const char *input_fault_text(int rc)
{
	/* spfkit_check_set_sender()/_helo(): over 64 KiB. */
	return rc == SPFKIT_ETOOBIG ? "longer than 64 KiB"
				    : spfkit_strerror(rc);
}

/* Flushes stdout; a write error is exit 70 with one line. */
static int finish_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return fatal(CLI_EX_SOFTWARE, "writing standard output: %s",
			     strerror(errno ? errno : EIO));
	return status;
}

static int check_one(const check_opts *co, const spfkit_config *cfg,
		     const resolver *res, const cli_out *out)
{
	check_input in = {.ip = co->ip,
			  .sender = co->sender ? co->sender : "",
			  .helo = co->helo && co->helo[0] ? co->helo : NULL};
	in.helo_len = in.helo ? strlen(in.helo) : 0;
	in.sender_len = strlen(in.sender);
	strip_brackets(&in.sender, &in.sender_len);
	const char *bad = input_problem(co, &in);
	if (bad)
		return usage("%s (give --helo NAME)", bad);

	spfkit_check *chk = NULL;
	const char *what = NULL;
	uint64_t t0 = now_us();
	int rc = do_check(co, cfg, res, &in, &chk, &what);
	if (rc < 0) {
		if (input_fault(rc, what))
			return usage("--%s: %s", what, input_fault_text(rc));
		return fatal(CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	}
	double ms = shown_ms(co->timing, t0, now_us());
	int status = cli_exit_for_result(spfkit_check_result(chk));
	rc = cli_out_check(out, chk, in.helo, in.helo_len, ms);
	spfkit_check_free(chk);
	if (rc < 0)
		return fatal(CLI_EX_SOFTWARE, "formatting the result: %s",
			     spfkit_strerror(rc));
	return finish_output(status);
}

/* ------------------------------------------------------------ batch */

/* Reads one line without its '\n' into *buf (growing it up to
 * BATCH_LINE_MAX). Returns false at the end of input with nothing read.
 * *toolong tells that the line was longer; its rest was dropped. */
static bool read_line(FILE *in, char **buf, size_t *cap, size_t *len,
		      bool *toolong, bool *nomem)
{
	int c;
	bool any = false;
	*len = 0;
	*toolong = false;
	*nomem = false;
	while ((c = getc(in)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (*toolong || *nomem)
			continue;
		if (*len >= BATCH_LINE_MAX) {
			*toolong = true;
			continue;
		}
		if (*len + 1 >= *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			if (ncap > BATCH_LINE_MAX + 1)
				ncap = BATCH_LINE_MAX + 1;
			char *p = realloc(*buf, ncap);
			if (!p) {
				*nomem = true;
				continue;
			}
			*buf = p;
			*cap = ncap;
		}
		(*buf)[(*len)++] = (char)c;
	}
	return any;
}

/* Splits (s, n) at TABs into up to 4 fields; returns the field count. */
static size_t split_tabs(const char *s, size_t n, const char *f[4],
			 size_t fl[4])
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '\t') {
			if (k < 4) {
				f[k] = s + start;
				fl[k] = i - start;
			}
			k++;
			start = i + 1;
		}
	}
	return k;
}

/* Parses a batch line into in (ip written to ipbuf, 64 octets; sender
 * and helo point into s). Returns false with why filled (why_cap octets)
 * when the line cannot be checked. */
static bool parse_line(const check_opts *co, const char *s, size_t n,
		       check_input *in, char *ipbuf, char *why, size_t why_cap)
{
	const char *f[4];
	size_t fl[4];
	if (n > 0 && s[n - 1] == '\r')
		n--;
	size_t k = split_tabs(s, n, f, fl);
	if (k < 2 || k > 3) {
		snprintf(why, why_cap,
			 "expected IP<TAB>SENDER[<TAB>HELO], found %zu field%s",
			 k, k == 1 ? "" : "s");
		return false;
	}
	if (fl[0] >= 64 || memchr(f[0], '\0', fl[0])) {
		snprintf(why, why_cap, "'%s' is not an IPv4 or IPv6 address",
			 shown(f[0], fl[0]));
		return false;
	}
	memcpy(ipbuf, f[0], fl[0]);
	ipbuf[fl[0]] = '\0';
	if (!ip_ok(ipbuf)) {
		snprintf(why, why_cap, "'%s' is not an IPv4 or IPv6 address",
			 shown(f[0], fl[0]));
		return false;
	}
	*in = (check_input){.ip = ipbuf, .sender = f[1], .sender_len = fl[1]};
	strip_brackets(&in->sender, &in->sender_len);
	if (k == 3 && fl[2] > 0) {
		in->helo = f[2];
		in->helo_len = fl[2];
	}
	const char *bad = input_problem(co, in);
	if (bad) {
		snprintf(why, why_cap, "%s", bad);
		return false;
	}
	return true;
}

/* Handles one batch line; returns false for trouble of ours (out of
 * memory, a library failure), which makes the exit status 70. */
static bool batch_line(const check_opts *co, const spfkit_config *cfg,
		       const resolver *res, const cli_out *out,
		       unsigned long lineno, const char *s, size_t n)
{
	char why[SHOW_MAX * 4 + 128];
	char ip[64];
	check_input in;
	if (!parse_line(co, s, n, &in, ip, why, sizeof why)) {
		cli_out_batch_error(out, lineno, why);
		return true;
	}

	spfkit_check *chk = NULL;
	const char *what = NULL;
	uint64_t t0 = now_us();
	int rc = do_check(co, cfg, res, &in, &chk, &what);
	if (rc < 0) {
		snprintf(why, sizeof why, "%s: %s", what,
			 input_fault(rc, what) ? input_fault_text(rc)
					       : spfkit_strerror(rc));
		cli_out_batch_error(out, lineno, why);
		return input_fault(rc, what);
	}
	rc = cli_out_check(out, chk, in.helo, in.helo_len,
			   shown_ms(co->timing, t0, now_us()));
	spfkit_check_free(chk);
	if (rc < 0) {
		snprintf(why, sizeof why, "formatting the result: %s",
			 spfkit_strerror(rc));
		cli_out_batch_error(out, lineno, why);
		return false;
	}
	return true;
}

static int check_batch(const check_opts *co, const spfkit_config *cfg,
		       const resolver *res, const cli_out *out)
{
	char *buf = NULL;
	size_t cap = 0, len = 0;
	bool toolong, nomem, all_ok = true;
	unsigned long lineno = 0;
	while (read_line(stdin, &buf, &cap, &len, &toolong, &nomem)) {
		lineno++;
		if (toolong) {
			char why[80];
			snprintf(why, sizeof why, "longer than %u octets",
				 BATCH_LINE_MAX);
			cli_out_batch_error(out, lineno, why);
		} else if (nomem) {
			cli_out_batch_error(out, lineno, "out of memory");
			all_ok = false;
		} else if (!batch_line(co, cfg, res, out, lineno,
				       buf ? buf : "", len)) {
			all_ok = false;
		}
	}
	free(buf);
	if (ferror(stdin)) {
		(void)finish_output(0);
		return fatal(CLI_EX_SOFTWARE, "reading standard input: %s",
			     strerror(errno ? errno : EIO));
	}
	return finish_output(all_ok ? 0 : CLI_EX_SOFTWARE);
}

/* ------------------------------------------------------------ batch, DNS */

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
	char *why; /* JOB_ERROR: the message (NULL: out of memory) */
	bool ours; /* JOB_ERROR: trouble of ours, not of the input */
	uint64_t start_ms;
	uint64_t t0_us, t1_us; /* --timing: started, and done */
} job;

/* The batch: a window of lines by sequence number, [head, tail), in a
 * ring; at most limit of them running. */
typedef struct engine {
	const check_opts *co;
	const spfkit_config *cfg;
	resolver *res;
	bool dns_used; /* --no-cache: the resolver has served a line */
	const cli_out *out;
	job *ring;
	size_t cap;
	unsigned long head, tail;
	size_t running, limit;
	unsigned long finished;
	bool all_ok;
	/* progress line on a terminal */
	bool progress;
	uint64_t t0, last_progress;
	int progress_len;
	/* finished checks kept for reuse (spfkit_check_reset) */
	spfkit_check **spare;
	size_t nspare;
} engine;

static int make_dns_resolver(const check_opts *co, const spfkit_config *cfg,
			     resolver *res);

static job *job_at(const engine *e, unsigned long seq)
{
	return &e->ring[seq % e->cap];
}

/* Ends a job with an error line. */
static void job_fail(engine *e, job *j, const char *why, bool ours)
{
	if (j->chk) {
		spfkit_resolver_cancel(e->res->dns, j->chk);
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
		spfkit_resolver_cancel(e->res->dns, j->chk);
		if (e->co->timing)
			j->t1_us = now_us();
		j->state = JOB_DONE;
		e->running--;
		e->finished++;
		return;
	}
	if (rc == SPFKIT_WANT_DNS && spfkit_check_pending(j->chk) == 0)
		rc = SPFKIT_ESTATE; /* would spin */
	if (rc == SPFKIT_WANT_DNS) {
		rc = spfkit_resolver_send(e->res->dns, j->chk, now);
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
		job_advance(e, j, now_ms());
}

/* Starts the job for one input line. */
static void job_start(engine *e, job *j, unsigned long lineno, const char *s,
		      size_t n)
{
	char why[SHOW_MAX * 4 + 128];
	char ip[64];
	check_input in;
	*j = (job){.state = JOB_RUNNING, .lineno = lineno};
	e->running++;
	if (e->co->timing)
		j->t0_us = now_us();
	if (!parse_line(e->co, s, n, &in, ip, why, sizeof why)) {
		job_fail(e, j, why, false);
		return;
	}
	if (e->co->no_cache && e->dns_used) {
		/* Lines run one at a time here: nothing is in flight. */
		spfkit_resolver_free(e->res->dns);
		e->res->dns = NULL;
		if (make_dns_resolver(e->co, e->cfg, e->res) != 0) {
			job_fail(e, j, "dns: no new resolver", true);
			return;
		}
	}
	e->dns_used = true;
	if (in.helo) {
		j->helo = malloc(in.helo_len ? in.helo_len : 1);
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
	int rc = make_check(e->co, e->cfg, e->res->cache, &in, reuse, &j->chk,
			    &what);
	if (rc < 0) {
		snprintf(why, sizeof why, "%s: %s", what,
			 input_fault(rc, what) ? input_fault_text(rc)
					       : spfkit_strerror(rc));
		job_fail(e, j, why, !input_fault(rc, what));
		return;
	}
	spfkit_check_set_userdata(j->chk, j);
	j->start_ms = now_ms();
	/* Nothing is pending yet: this lets the resolver answer what it
	 * holds while the check runs, from the first run on. */
	rc = spfkit_resolver_send(e->res->dns, j->chk, j->start_ms);
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
			    e->out, j->chk, j->helo, j->helo_len,
			    shown_ms(e->co->timing, j->t0_us, j->t1_us));
			if (rc < 0) {
				char why[128];
				snprintf(why, sizeof why,
					 "formatting the result: %s",
					 spfkit_strerror(rc));
				cli_out_batch_error(e->out, j->lineno, why);
				e->all_ok = false;
			}
		} else if (j->state == JOB_ERROR) {
			cli_out_batch_error(e->out, j->lineno,
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
		uint32_t left =
		    time_left(j->start_ms, e->res->deadline_ms, now);
		if (now >= j->start_ms + e->res->deadline_ms) {
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

/* Standard input as lines without blocking the checks in flight: bytes
 * are read only when poll() says they are there, and a line is handed out
 * once its newline (or the end of input) arrived. A line longer than
 * BATCH_LINE_MAX is skipped to its newline and reported as too long. */
typedef struct line_reader {
	int fd;
	char *buf;
	size_t start, len, cap; /* unread bytes: buf[start, start + len) */
	bool eof, failed, skipping;
} line_reader;

/* Takes the next complete line: 1 with (*s, *n) valid until the next
 * call, 0 when more input is needed, -1 at the end of input. */
static int lr_line(line_reader *r, const char **s, size_t *n, bool *toolong)
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

/* Reads what standard input has (poll() said it is readable). */
static void lr_fill(line_reader *r)
{
	/* A whole line still waiting needs no read (and no copying of what
	 * is buffered, which would make a long input quadratic). */
	if (!r->skipping && r->len && memchr(r->buf + r->start, '\n', r->len))
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

/* --batch over real DNS: up to --concurrency checks in flight, results
 * written strictly in input order. */
static int check_batch_dns(const check_opts *co, const spfkit_config *cfg,
			   resolver *res, const cli_out *out)
{
	engine e = {
	    .co = co, .cfg = cfg, .res = res, .out = out, .all_ok = true};
	e.limit = co->concurrency ? co->concurrency : CONCURRENCY_DEFAULT;
	e.cap = e.limit * WINDOW_FACTOR;
	e.ring = calloc(e.cap, sizeof *e.ring);
	e.spare = calloc(e.cap, sizeof *e.spare);
	if (!e.ring || !e.spare) {
		free(e.ring);
		free(e.spare);
		return fatal(CLI_EX_SOFTWARE, "%s",
			     spfkit_strerror(SPFKIT_ENOMEM));
	}
	e.progress = isatty(STDERR_FILENO) == 1;
	e.t0 = e.last_progress = now_ms();

	line_reader lr = {.fd = STDIN_FILENO};
	bool toolong, eof = false, dns_broken = false;
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
		 * first. */
		int rc;
		do {
			rc = spfkit_resolver_process(res->dns, 0, now_ms(),
						     job_answered, &e);
		} while (rc > 0);
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
		uint64_t now = now_ms();
		uint32_t wait = expire_jobs(&e, now);
		if (e.progress && wait > PROGRESS_MS)
			wait = PROGRESS_MS;
		if (wait > 1000)
			wait = 1000;
		bool want_input =
		    !eof && e.running < e.limit && e.tail - e.head < e.cap;
		struct pollfd pfd[2];
		nfds_t nfd = 0;
		if (want_input)
			pfd[nfd++] =
			    (struct pollfd){.fd = lr.fd, .events = POLLIN};
		int dfd = spfkit_resolver_fd(res->dns);
		if (e.running > 0 && dfd >= 0)
			pfd[nfd++] =
			    (struct pollfd){.fd = dfd, .events = POLLIN};
		if (nfd > 0 || e.running > 0) {
			int prc =
			    poll(pfd, nfd, nfd && !e.running ? -1 : (int)wait);
			if (prc > 0 && want_input && pfd[0].revents)
				lr_fill(&lr);
		}
		now = now_ms();
		(void)expire_jobs(&e, now);
		show_progress(&e, now, false);
	}
	show_progress(&e, now_ms(), true);
	clear_progress(&e);
	free(lr.buf);
	free(e.ring);
	while (e.nspare > 0)
		spfkit_check_free(e.spare[--e.nspare]);
	free(e.spare);
	if (lr.failed) {
		(void)finish_output(0);
		return fatal(CLI_EX_SOFTWARE, "reading standard input: %s",
			     strerror(errno ? errno : EIO));
	}
	return finish_output(e.all_ok ? 0 : CLI_EX_SOFTWARE);
}

/* ------------------------------------------------------------ DNS setup */

/* Makes the libunbound driver the resolver; zone (may be NULL, then
 * owned by res) answers first. Returns 0 or the exit status. */
static int make_dns_resolver(const check_opts *co, const spfkit_config *cfg,
			     resolver *res)
{
	cli_dns_opts o = {.nameservers = co->nameservers,
			  .nnameservers = co->nnameservers,
			  .trust_anchor = co->trust_anchor,
			  .root_hints = co->root_hints,
			  .timeout_ms = co->timeout_ms,
			  .recursive = co->recursive};
	int status =
	    cli_dns_new_resolver(&o, cfg, "spfkit check", res->ctx, &res->dns);
	if (status != 0)
		return status;
	res->name = "dns";
	res->deadline_ms = cli_dns_deadline_ms(&o);
	return 0;
}

static void close_resolver(resolver *res)
{
	spfkit_resolver_free(res->dns);
	if (res->ctx)
		spfkit_zone_free(res->ctx);
}

/* ------------------------------------------------------------ main */

int cli_check_main(int argc, char **argv)
{
	check_opts co = {.scope = SPFKIT_SCOPE_MAILFROM,
			 .format = CLI_FORMAT_TEXT};
	/* At most one zone, and one name server, per argument. */
	size_t nargs = (size_t)(argc > 0 ? argc : 1);
	co.zones = calloc(nargs, sizeof *co.zones);
	co.nameservers = calloc(nargs, sizeof *co.nameservers);
	if (!co.zones || !co.nameservers) {
		free(co.zones);
		free(co.nameservers);
		return fatal(CLI_EX_SOFTWARE, "%s",
			     spfkit_strerror(SPFKIT_ENOMEM));
	}

	int status = parse_args(argc, argv, &co);
	spfkit_config *cfg = NULL;
	if (status == 0)
		status = make_config(&co, &cfg);
	resolver res = {0};
	if (status == 0 && co.nzones > 0)
		status = make_zone_resolver(&co, cfg, &res);
	if (status == 0 && co.dns) {
		status = make_dns_resolver(&co, cfg, &res);
		if (status != 0 && res.ctx)
			res.close(res.ctx);
	}
	if (status != 0) {
		spfkit_config_free(cfg);
		free(co.zones);
		free(co.nameservers);
		return status < 0 ? finish_output(0) : status;
	}

	/* A batch sees the same records again and again: parse each once.
	 * Out of memory here only costs speed. */
	if (co.batch && !co.no_cache &&
	    spfkit_cache_new(&res.cache, cfg, 0) != SPFKIT_OK)
		res.cache = NULL;
	cli_out out = {.f = stdout,
		       .format = co.format,
		       .batch = co.batch,
		       .authserv_id = co.authserv_id,
		       .cfg = cfg,
		       .lookup_limit = RFC_DNS_TERMS,
		       .void_limit = RFC_VOID_LOOKUPS};
	if (co.batch && res.dns)
		status = check_batch_dns(&co, cfg, &res, &out);
	else if (co.batch)
		status = check_batch(&co, cfg, &res, &out);
	else
		status = check_one(&co, cfg, &res, &out);

	if (res.dns)
		close_resolver(&res);
	else
		res.close(res.ctx);
	spfkit_cache_free(res.cache);
	spfkit_config_free(cfg);
	free(co.zones);
	free(co.nameservers);
	return status;
}
