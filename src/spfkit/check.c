/*
 * check.c - `spfkit check`: one SPF check from the command line, or a
 * stream of them from standard input (--batch), answered from zone files.
 *
 * DNS comes from a resolver: anything that answers a check's pending
 * queries. Today that is the in-memory zone (--zone FILE); a real DNS
 * driver slots in as another resolver without touching the run loop.
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

#include "cli.h"

/* RFC 7208 §4.6.4 limits; the CLI leaves the library's defaults alone and
 * names them only to show "N of LIMIT" in text output. */
#define RFC_DNS_TERMS 10
#define RFC_VOID_LOOKUPS 2

/* --timeout bounds, in milliseconds. */
#define TIMEOUT_MIN_MS 1u
#define TIMEOUT_MAX_MS 86400000u

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

/* Answers the pending queries of a check: the one thing the run loop
 * needs from DNS. answer() returns SPFKIT_OK once every pending query has
 * been answered (it may block until then), or a negative status. */
typedef struct resolver {
	const char *name;
	int (*answer)(void *ctx, spfkit_check *chk);
	void (*close)(void *ctx);
	void *ctx;
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

/* Runs chk to its result: run, answer what it asks, run again. */
static int run_check(spfkit_check *chk, const resolver *res)
{
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
	spfkit_scope scope;
	cli_format format;
	uint32_t timeout_ms; /* 0: the library's default */
	bool batch;
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
	OPT_BATCH
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
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

void cli_check_help(FILE *f)
{
	fputs(
	    "Usage: spfkit check --ip IP --sender ADDR [--helo NAME] "
	    "--zone FILE [OPTION]...\n"
	    "       spfkit check --batch --zone FILE [OPTION]... < LINES\n"
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
	    "  --zone FILE           answer DNS from this RFC 1035 master file "
	    "or\n"
	    "                        openspf YAML (.yml/.yaml); repeatable; "
	    "required\n"
	    "                        (real DNS is not built in yet)\n"
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
	    "(default 20)\n"
	    "  --batch               read lines IP<TAB>SENDER[<TAB>HELO] from "
	    "standard\n"
	    "                        input, write one line per input line\n"
	    "  -h, --help            show this help and exit\n"
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

/* Seconds with up to three decimals, within the --timeout bounds. */
static bool parse_timeout(const char *s, uint32_t *ms)
{
	uint64_t v = 0;
	size_t i = 0, frac = 0;
	if (s[0] < '0' || s[0] > '9')
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > TIMEOUT_MAX_MS)
			return false;
	}
	v *= 1000;
	if (s[i] == '.') {
		uint64_t scale = 100;
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, frac++) {
			if (frac >= 3)
				return false;
			v += (uint64_t)(s[i] - '0') * scale;
			scale /= 10;
		}
		if (frac == 0)
			return false;
	}
	if (s[i] != '\0' || v < TIMEOUT_MIN_MS || v > TIMEOUT_MAX_MS)
		return false;
	*ms = (uint32_t)v;
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
		case OPT_ZONE:
			co->zones[co->nzones++] = optarg;
			break;
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
			if (!parse_timeout(optarg, &co->timeout_ms))
				return usage("--timeout: '%s' is not a number "
				             "of seconds from 0.001 to 86400",
				             shown_str(optarg));
			break;
		case OPT_BATCH:
			co->batch = true;
			break;
		case 'h':
			cli_check_help(stdout);
			return -1;
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
	if (co->nzones == 0)
		return usage("no DNS source: give --zone FILE (real DNS is not "
		             "built in yet)");
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
		rc = spfkit_config_set_default_explanation(cfg,
		                                           co->explanation);
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
	case SPFKIT_EIO:
		return CLI_EX_NOINPUT;
	case SPFKIT_EPARSE:
	case SPFKIT_ETOOBIG:
		return CLI_EX_DATAERR;
	default:
		return CLI_EX_SOFTWARE;
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
		rc = spfkit_zone_load_file(zone, co->zones[i], err, sizeof err);
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

/* Creates and runs a check. On failure *chkp is NULL and *what says
 * which step failed; the status is negative. */
static int do_check(const check_opts *co, const spfkit_config *cfg,
                    const resolver *res, const check_input *in,
                    spfkit_check **chkp, const char **what)
{
	spfkit_check *chk = NULL;
	*chkp = NULL;
	*what = "check";
	int rc = spfkit_check_new(&chk, cfg);
	if (rc < 0)
		return rc;
	*what = "ip";
	rc = spfkit_check_set_ip(chk, in->ip);
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
	if (rc == SPFKIT_OK && co->record) {
		*what = "record";
		rc = spfkit_check_set_record(chk, co->record,
		                             strlen(co->record));
	}
	if (rc == SPFKIT_OK) {
		*what = "run";
		rc = run_check(chk, res);
	}
	if (rc < 0) {
		spfkit_check_free(chk);
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
	int rc = do_check(co, cfg, res, &in, &chk, &what);
	if (rc < 0) {
		if (input_fault(rc, what))
			return usage("--%s: %s", what, input_fault_text(rc));
		return fatal(CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	}
	int status = cli_exit_for_result(spfkit_check_result(chk));
	rc = cli_out_check(out, chk, in.helo, in.helo_len);
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

/* Handles one batch line; returns false for trouble of ours (out of
 * memory, a library failure), which makes the exit status 70. */
static bool batch_line(const check_opts *co, const spfkit_config *cfg,
                       const resolver *res, const cli_out *out,
                       unsigned long lineno, const char *s, size_t n)
{
	char why[SHOW_MAX * 4 + 128];
	const char *f[4];
	size_t fl[4];
	if (n > 0 && s[n - 1] == '\r')
		n--;
	size_t k = split_tabs(s, n, f, fl);
	if (k < 2 || k > 3) {
		snprintf(why, sizeof why,
		         "expected IP<TAB>SENDER[<TAB>HELO], found %zu field%s",
		         k, k == 1 ? "" : "s");
		cli_out_batch_error(out, lineno, why);
		return true;
	}

	char ip[64];
	if (fl[0] >= sizeof ip || memchr(f[0], '\0', fl[0])) {
		snprintf(why, sizeof why, "'%s' is not an IPv4 or IPv6 address",
		         shown(f[0], fl[0]));
		cli_out_batch_error(out, lineno, why);
		return true;
	}
	memcpy(ip, f[0], fl[0]);
	ip[fl[0]] = '\0';
	if (!ip_ok(ip)) {
		snprintf(why, sizeof why, "'%s' is not an IPv4 or IPv6 address",
		         shown(f[0], fl[0]));
		cli_out_batch_error(out, lineno, why);
		return true;
	}

	check_input in = {.ip = ip, .sender = f[1], .sender_len = fl[1]};
	strip_brackets(&in.sender, &in.sender_len);
	if (k == 3 && fl[2] > 0) {
		in.helo = f[2];
		in.helo_len = fl[2];
	}
	const char *bad = input_problem(co, &in);
	if (bad) {
		cli_out_batch_error(out, lineno, bad);
		return true;
	}

	spfkit_check *chk = NULL;
	const char *what = NULL;
	int rc = do_check(co, cfg, res, &in, &chk, &what);
	if (rc < 0) {
		snprintf(why, sizeof why, "%s: %s", what,
		         input_fault(rc, what) ? input_fault_text(rc)
		                               : spfkit_strerror(rc));
		cli_out_batch_error(out, lineno, why);
		return input_fault(rc, what);
	}
	rc = cli_out_check(out, chk, in.helo, in.helo_len);
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

/* ------------------------------------------------------------ main */

int cli_check_main(int argc, char **argv)
{
	check_opts co = {.scope = SPFKIT_SCOPE_MAILFROM,
	                 .format = CLI_FORMAT_TEXT};
	/* At most one zone per argument. */
	co.zones = calloc((size_t)(argc > 0 ? argc : 1), sizeof *co.zones);
	if (!co.zones)
		return fatal(CLI_EX_SOFTWARE, "%s",
		             spfkit_strerror(SPFKIT_ENOMEM));

	int status = parse_args(argc, argv, &co);
	if (status != 0) {
		free(co.zones);
		return status < 0 ? finish_output(0) : status;
	}

	spfkit_config *cfg = NULL;
	status = make_config(&co, &cfg);
	if (status != 0) {
		free(co.zones);
		return status;
	}
	resolver res;
	status = make_zone_resolver(&co, cfg, &res);
	if (status != 0) {
		spfkit_config_free(cfg);
		free(co.zones);
		return status;
	}

	cli_out out = {.f = stdout,
	               .format = co.format,
	               .batch = co.batch,
	               .authserv_id = co.authserv_id,
	               .cfg = cfg,
	               .lookup_limit = RFC_DNS_TERMS,
	               .void_limit = RFC_VOID_LOOKUPS};
	if (co.batch)
		status = check_batch(&co, cfg, &res, &out);
	else
		status = check_one(&co, cfg, &res, &out);

	res.close(res.ctx);
	spfkit_config_free(cfg);
	free(co.zones);
	return status;
}
