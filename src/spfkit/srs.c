/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srs.c - `spfkit srs forward|reverse`: the Sender Rewriting Scheme of
 * the library (spfkit_srs_*) from the command line, one address or a
 * stream of them (--batch), with postsrsd's secrets file.
 *
 * Secrets are read here (the library does no I/O) and handed over as
 * text with spfkit_srs_add_secrets(), so the CLI and the daemon read the
 * file by the same rules. `spfkit srs secret` makes a new one, as
 * postsrsd's Debian package does: 24 random octets in base64.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dnsrun.h"

/* A new secret: postsrsd's Debian package writes the base64 of 24 octets
 * of /dev/urandom (32 characters, within SPFKIT_SRS_SECRET_MIN/MAX). */
#define SECRET_RANDOM 24u
#define SECRET_TEXT   (4u * ((SECRET_RANDOM + 2u) / 3u))

/* A secrets file is a few short lines; anything larger is not one. */
#define SECRETS_FILE_MAX (64u * 1024u)
/* A batch line longer than this is refused (too-long) and dropped. */
#define LINE_MAX_SRS (SPFKIT_SRS_INPUT_MAX + 2u)
#define PROG         "spfkit srs"

typedef struct srs_opts {
	bool forward;       /* else reverse */
	bool secret;        /* `srs secret`: make a new secret */
	const char *output; /* secret: the file to create, or NULL */
	const char *addr;
	const char *domain;
	const char *secrets;
	unsigned max_age;  /* 0: the library's default */
	unsigned hash_len; /* 0: the library's default */
	char sep;          /* 0: the library's default */
	uint64_t now;
	bool have_time; /* --time given */
	cli_format format;
	bool batch;
} srs_opts;

enum {
	OPT_DOMAIN = 256,
	OPT_SECRETS,
	OPT_MAX_AGE,
	OPT_SEPARATOR,
	OPT_HASH_LENGTH,
	OPT_TIME,
	OPT_FORMAT,
	OPT_BATCH,
	OPT_OUTPUT
};

static const struct option longopts[] = {
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"secrets", required_argument, NULL, OPT_SECRETS},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"separator", required_argument, NULL, OPT_SEPARATOR},
    {"hash-length", required_argument, NULL, OPT_HASH_LENGTH},
    {"time", required_argument, NULL, OPT_TIME},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void cli_srs_help(FILE *f)
{
	fputs(
	    "Usage: spfkit srs forward ADDR --domain DOMAIN --secrets FILE "
	    "[OPTION]...\n"
	    "       spfkit srs reverse ADDR --secrets FILE [OPTION]...\n"
	    "       spfkit srs forward|reverse --batch [OPTION]... < LINES\n"
	    "       spfkit srs secret [--output FILE]\n"
	    "\n"
	    "Sender Rewriting Scheme, compatible with postsrsd and libsrs2: "
	    "forward\n"
	    "rewrites an envelope sender into DOMAIN (SRS0, or SRS1 for an "
	    "address\n"
	    "that is SRS already), reverse turns the recipient of a bounce "
	    "back into\n"
	    "the original sender after checking its hash and timestamp. "
	    "secret\n"
	    "writes a new secret (24 random octets in base64, as postsrsd's "
	    "Debian\n"
	    "package makes them) to standard output or to a new file.\n"
	    "\n"
	    "Options:\n"
	    "  --domain DOMAIN     forward: the forwarder's own domain\n"
	    "  --secrets FILE      the secrets, one per line (postsrsd's "
	    "file): the\n"
	    "                      first signs, all verify; at least 16 "
	    "octets each;\n"
	    "                      empty lines and lines starting with '#' are "
	    "skipped\n"
	    "  --max-age DAYS      how long an SRS0 address stays valid "
	    "(default 21)\n"
	    "  --separator C       '=' (default), '+' or '-' after SRS0/SRS1\n"
	    "  --hash-length N     hash characters, 4 to 26 (default 4, as "
	    "postsrsd -n)\n"
	    "  --time UNIX         the clock, in seconds since the epoch "
	    "(default: now)\n"
	    "  --format FORMAT     text (default) or json (one object per "
	    "address)\n"
	    "  --batch             read one address per line from standard "
	    "input, write\n"
	    "                      one line per input line, in order\n"
	    "  --output FILE       secret: create FILE (mode 0600; an existing "
	    "file is\n"
	    "                      never replaced)\n"
	    "  -h, --help          show this help and exit\n"
	    "\n"
	    "Text output is the address to use. A forward that leaves the "
	    "address as\n"
	    "it is (already in DOMAIN, or already a valid SRS address of "
	    "these\n"
	    "secrets) writes it unchanged and says why on standard error. A "
	    "refusal\n"
	    "writes the reason on standard error (--batch: \"error: line N: "
	    "REASON:\n"
	    "TEXT\" on standard output).\n"
	    "\n"
	    "Exit status: 0 rewritten (or left as it is), 1 refused (with "
	    "--batch: any\n"
	    "line refused); 64 usage error, 65 a secrets file without a usable "
	    "secret\n"
	    "(none, too short, too long), 66 a secrets file that cannot be "
	    "read,\n"
	    "70 internal error.\n",
	    f);
}

/* What an option with a checked value wants, as its message says. */
static const char *wanted(int c)
{
	switch (c) {
	case OPT_MAX_AGE: return "days from 1 to 1022";
	case OPT_SEPARATOR: return "'=', '+' or '-'";
	case OPT_HASH_LENGTH: return "4 to 26";
	case OPT_TIME: return "seconds since the epoch";
	default: return "text or json"; /* --format */
	}
}

/* Takes the value of an option that checks it; false when the option
 * does not take it. */
static bool take_value(int c, const char *arg, srs_opts *o)
{
	uint64_t v, min = 0, max = UINT64_MAX / 10 - 10; /* --time */
	switch (c) {
	case OPT_SEPARATOR:
		if (strlen(arg) != 1 || !strchr("=+-", arg[0]))
			return false;
		o->sep = arg[0];
		return true;
	case OPT_FORMAT:
		return cli_format_parse(arg, &o->format) &&
		       (o->format == CLI_FORMAT_TEXT ||
			o->format == CLI_FORMAT_JSON);
	case OPT_MAX_AGE:
		min = 1;
		max = 1022;
		break;
	case OPT_HASH_LENGTH:
		min = 4;
		max = 26;
		break;
	default: break;
	}
	if (!cli_parse_num(arg, min, max, &v))
		return false;
	if (c == OPT_MAX_AGE)
		o->max_age = (unsigned)v;
	else if (c == OPT_HASH_LENGTH)
		o->hash_len = (unsigned)v;
	else
		o->now = v;
	o->have_time |= c == OPT_TIME;
	return true;
}

/* Parses argv (argv[0] "srs", argv[1] the action) into o; 0 or an exit
 * status. */
static int parse_args(int argc, char **argv, srs_opts *o, bool *help)
{
	memset(o, 0, sizeof *o);
	o->format = CLI_FORMAT_TEXT;
	*help = false;
	if (argc < 2)
		return cli_say(PROG, CLI_EX_USAGE,
			       "give forward, reverse or secret (try "
			       "'spfkit help srs')");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		*help = true;
		return 0;
	}
	if (strcmp(argv[1], "forward") == 0)
		o->forward = true;
	else if (strcmp(argv[1], "secret") == 0)
		o->secret = true;
	else if (strcmp(argv[1], "reverse") != 0)
		return cli_say(PROG, CLI_EX_USAGE,
			       "unknown action '%s': give forward, reverse or "
			       "secret",
			       cli_shown(argv[1]));
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_DOMAIN: o->domain = optarg; break;
		case OPT_SECRETS: o->secrets = optarg; break;
		case OPT_MAX_AGE:
		case OPT_SEPARATOR:
		case OPT_HASH_LENGTH:
		case OPT_TIME:
		case OPT_FORMAT:
			if (!take_value(c, optarg, o))
				return cli_say(PROG, CLI_EX_USAGE,
					       "--%s: give %s, not '%s'",
					       cli_opt_name(longopts, c),
					       wanted(c), cli_shown(optarg));
			break;
		case OPT_BATCH: o->batch = true; break;
		case OPT_OUTPUT: o->output = optarg; break;
		case 'h': *help = true; return 0;
		case ':':
			return cli_say(PROG, CLI_EX_USAGE, "%s needs a value",
				       argv[optind] ? argv[optind]
						    : "an option");
		default: {
			const char *bad = argv[optind] ? argv[optind] : "?";
			return cli_say(PROG, CLI_EX_USAGE,
				       "unknown option '%s' (try 'spfkit help "
				       "srs')",
				       cli_shown(bad));
		}
		}
	}
	/* getopt_long saw argv + 1: its optind counts from there. */
	int rest = argc - 1 - optind;
	if (o->secret) {
		if (rest > 0 || o->batch || o->domain || o->secrets ||
		    o->max_age || o->sep || o->hash_len || o->have_time ||
		    o->format != CLI_FORMAT_TEXT)
			return cli_say(PROG, CLI_EX_USAGE,
				       "secret takes --output FILE only");
		return 0;
	}
	if (o->output)
		return cli_say(PROG, CLI_EX_USAGE,
			       "--output is for secret only");
	if (o->batch && rest > 0)
		return cli_say(PROG, CLI_EX_USAGE,
			       "--batch reads addresses from "
			       "standard input: give none");
	if (!o->batch && rest != 1)
		return cli_say(PROG, CLI_EX_USAGE,
			       "give one address (or --batch)");
	if (!o->batch)
		o->addr = argv[1 + optind];
	if (!o->secrets)
		return cli_say(PROG, CLI_EX_USAGE,
			       "--secrets FILE is required");
	if (o->forward && !o->domain)
		return cli_say(PROG, CLI_EX_USAGE,
			       "forward needs --domain DOMAIN");
	if (!o->forward && o->domain)
		return cli_say(PROG, CLI_EX_USAGE,
			       "--domain is for forward only");
	if (!o->have_time)
		o->now = cli_unix_time();
	return 0;
}

/* `spfkit srs secret`: a new secret, from the system's CSPRNG through
 * libcrypto, written to standard output or to a new file (never over an
 * existing one: a secret in use is rotated, not replaced), readable by
 * its owner only from the start. 0 or an exit status (message given). */
static int make_secret(const srs_opts *o)
{
	unsigned char rnd[SECRET_RANDOM];
	char text[SECRET_TEXT + 2];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return cli_say(PROG, CLI_EX_SOFTWARE,
			       "no random octets from the system");
	int n = EVP_EncodeBlock((unsigned char *)text, rnd, sizeof rnd);
	OPENSSL_cleanse(rnd, sizeof rnd);
	if (n != (int)SECRET_TEXT)
		return cli_say(PROG, CLI_EX_SOFTWARE, "base64 failed");
	text[n++] = '\n';
	text[n] = '\0';
	int rc = 0;
	if (!o->output) {
		if (fwrite(text, 1, (size_t)n, stdout) != (size_t)n)
			rc = cli_say(PROG, CLI_EX_SOFTWARE,
				     "writing the output failed");
	} else {
		int fd = open(
		    o->output,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = cli_say(
			    PROG,
			    errno == EEXIST ? CLI_EX_USAGE : CLI_EX_NOINPUT,
			    "%s: %s%s", cli_shown(o->output), strerror(errno),
			    errno == EEXIST
				? " (not replaced: to rotate, put the "
				  "new secret first in the file and "
				  "keep the old one after it)"
				: "");
		else if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
			rc = cli_say(PROG, CLI_EX_SOFTWARE, "%s: %s",
				     cli_shown(o->output), strerror(errno));
			unlink(o->output);
		}
		if (fd >= 0 && close(fd) != 0 && !rc)
			rc = cli_say(PROG, CLI_EX_SOFTWARE, "%s: %s",
				     cli_shown(o->output), strerror(errno));
	}
	OPENSSL_cleanse(text, sizeof text);
	return rc;
}

/* Reads the secrets file into srs; 0 or an exit status (message given). */
static int load_secrets(spfkit_srs *srs, const char *path)
{
	const char *name = cli_shown(path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return cli_say(PROG, CLI_EX_NOINPUT, "%s: cannot open: %s",
			       name, strerror(errno));
	char *buf = malloc(SECRETS_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	}
	size_t n = fread(buf, 1, SECRETS_FILE_MAX + 1, f);
	int rerr = ferror(f) ? errno : 0;
	fclose(f);
	if (rerr) {
		free(buf);
		return cli_say(PROG, CLI_EX_NOINPUT, "%s: cannot read: %s",
			       name, strerror(rerr));
	}
	if (n > SECRETS_FILE_MAX) {
		free(buf);
		return cli_say(PROG, CLI_EX_DATAERR,
			       "%s: over 64 KiB: not a secrets file", name);
	}
	char err[256];
	int rc = spfkit_srs_add_secrets(srs, buf, n, err, sizeof err);
	free(buf);
	if (rc == SPFKIT_ENOMEM)
		return cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	if (rc != SPFKIT_OK)
		return cli_say(PROG, CLI_EX_DATAERR, "%s: %s", name, err);
	return 0;
}

/* Writes one outcome. input is (in, n); line is 0 outside --batch. */
static void write_result(const srs_opts *o, const char *in, size_t n,
			 unsigned long line, const char *result,
			 spfkit_srs_reason why)
{
	bool unchanged =
	    why == SPFKIT_SRS_LOCAL_DOMAIN || why == SPFKIT_SRS_ALREADY;
	if (o->format == CLI_FORMAT_JSON) {
		cli_jw w;
		cli_jw_line(&w, stdout);
		cli_jw_key(&w, "input");
		cli_jw_string(&w, in, n);
		cli_jw_key(&w, "output");
		if (result)
			cli_jw_str(&w, result);
		else if (unchanged)
			cli_jw_string(&w, in, n);
		else
			cli_jw_null(&w);
		cli_jw_kbool(&w, "rewritten", result != NULL);
		cli_jw_kstr(&w, "reason", spfkit_srs_reason_name(why));
		if (why != SPFKIT_SRS_OK)
			cli_jw_kstr(&w, "message", spfkit_srs_reason_text(why));
		if (line)
			cli_jw_kuint(&w, "line", line);
		cli_jw_line_end(&w);
		return;
	}
	if (result || unchanged) {
		/* The address to use: the new one, or the one given. Text
		 * output shows octets outside printable ASCII as \xHH, as
		 * everywhere in the CLI; JSON carries them as they are. */
		char esc[SPFKIT_SRS_INPUT_MAX * 4 + 8];
		if (result)
			cli_escape(esc, sizeof esc, result, strlen(result),
				   SPFKIT_SRS_INPUT_MAX);
		else
			cli_escape(esc, sizeof esc, in, n,
				   SPFKIT_SRS_INPUT_MAX);
		fputs(esc, stdout);
		fputc('\n', stdout);
		if (!result && !line)
			fprintf(stderr, "spfkit srs: not rewritten: %s\n",
				spfkit_srs_reason_text(why));
	} else if (line) {
		printf("error: line %lu: %s: %s\n", line,
		       spfkit_srs_reason_name(why),
		       spfkit_srs_reason_text(why));
	} else {
		fprintf(stderr, "spfkit srs: '%s' refused: %s (%s)\n",
			cli_shown_n(in, n), spfkit_srs_reason_text(why),
			spfkit_srs_reason_name(why));
	}
}

/* Rewrites one address and writes the outcome; 0 done, 1 refused, or
 * CLI_EX_SOFTWARE. */
static int one(const srs_opts *o, const spfkit_srs *srs, const char *in,
	       size_t n, unsigned long line)
{
	char *result = NULL;
	spfkit_srs_reason why;
	int rc = o->forward
		     ? spfkit_srs_forward(srs, in, n, o->domain, o->now,
					  &result, &why)
		     : spfkit_srs_reverse(srs, in, n, o->now, &result, &why);
	if (rc == SPFKIT_EINVAL && o->forward) {
		cli_say(PROG, CLI_EX_USAGE,
			"--domain: '%s' is not a usable domain",
			cli_shown(o->domain));
		return CLI_EX_USAGE;
	}
	if (rc != SPFKIT_OK) {
		cli_say(PROG, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
		return CLI_EX_SOFTWARE;
	}
	write_result(o, in, n, line, result, why);
	spfkit_free(NULL, result);
	return why == SPFKIT_SRS_OK || why == SPFKIT_SRS_LOCAL_DOMAIN ||
		       why == SPFKIT_SRS_ALREADY
		   ? 0
		   : 1;
}

/* Every line of stdin in turn; 0, 1 (some refused) or an exit status. */
static int batch(const srs_opts *o, const spfkit_srs *srs)
{
	char buf[LINE_MAX_SRS + 1];
	unsigned long line = 0;
	int status = 0;
	for (;;) {
		size_t n = 0;
		bool any = false, toolong = false;
		int c;
		while ((c = getchar()) != EOF) {
			any = true;
			if (c == '\n')
				break;
			if (n < LINE_MAX_SRS)
				buf[n++] = (char)c;
			else
				toolong = true;
		}
		if (!any)
			break;
		line++;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		int rc;
		if (toolong) {
			write_result(o, buf, n, line, NULL,
				     SPFKIT_SRS_TOO_LONG);
			rc = 1;
		} else {
			rc = one(o, srs, buf, n, line);
		}
		if (rc > 1)
			return rc;
		if (rc == 1)
			status = 1;
	}
	if (ferror(stdin))
		return cli_say(PROG, CLI_EX_NOINPUT,
			       "reading standard input: %s", strerror(errno));
	return status;
}

int cli_srs_main(int argc, char **argv)
{
	srs_opts o;
	bool help;
	int rc = parse_args(argc, argv, &o, &help);
	if (rc)
		return rc;
	if (help) {
		cli_srs_help(stdout);
		return fflush(stdout) == 0 ? 0 : CLI_EX_SOFTWARE;
	}
	if (o.secret) {
		rc = make_secret(&o);
		if (!rc && fflush(stdout) != 0)
			rc = cli_say(PROG, CLI_EX_SOFTWARE,
				     "writing the output failed");
		return rc;
	}
	spfkit_srs *srs = NULL;
	if (spfkit_srs_new(&srs, NULL) != SPFKIT_OK)
		return cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	rc = load_secrets(srs, o.secrets);
	if (!rc && o.max_age && spfkit_srs_set_max_age(srs, o.max_age))
		rc = cli_say(PROG, CLI_EX_USAGE, "--max-age out of range");
	if (!rc && o.sep && spfkit_srs_set_separator(srs, o.sep))
		rc = cli_say(PROG, CLI_EX_USAGE, "--separator not allowed");
	if (!rc && o.hash_len && spfkit_srs_set_hash_length(srs, o.hash_len))
		rc = cli_say(PROG, CLI_EX_USAGE, "--hash-length out of range");
	if (!rc && o.forward) {
		/* The domain by the library's own rule, before any input. */
		char *probe = NULL;
		spfkit_srs_reason why;
		if (spfkit_srs_forward(srs, "u@o", 3, o.domain, o.now, &probe,
				       &why) == SPFKIT_EINVAL)
			rc = cli_say(PROG, CLI_EX_USAGE,
				     "--domain: '%s' is not a usable domain",
				     cli_shown(o.domain));
		spfkit_free(NULL, probe);
	}
	if (!rc)
		rc = o.batch ? batch(&o, srs)
			     : one(&o, srs, o.addr, strlen(o.addr), 0);
	spfkit_srs_free(srs);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_say(PROG, CLI_EX_SOFTWARE,
			       "writing the output failed");
	return rc;
}
