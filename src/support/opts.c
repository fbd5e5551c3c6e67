/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * opts.c - one-line messages, getopt helpers and the DNS options of the
 * spfkit command's subcommands (see opts.h).
 */
#include "opts.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* --timeout bounds, in milliseconds. */
#define TIMEOUT_MIN_MS 1u
#define TIMEOUT_MAX_MS 86400000u

/* One line on stderr from a va_list. */
static int vsay(const char *prog, int status, const char *fmt, va_list ap)
    CLI_PRINTF(3, 0);
static int vsay(const char *prog, int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return status;
}

int cli_say(const char *prog, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(prog, status, fmt, ap);
	va_end(ap);
	return status;
}

int cli_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(prog, CLI_EX_USAGE, fmt, ap);
	va_end(ap);
	return CLI_EX_USAGE;
}

/* ------------------------------------------------------------ getopt */

const char *cli_opt_name(const struct option *longopts, int val)
{
	for (size_t i = 0; longopts[i].name; i++)
		if (longopts[i].val == val)
			return longopts[i].name;
	return "?";
}

bool cli_set_once(const cli_args *a, const char **dst, const char *v, int opt,
		  int *status)
{
	if (*dst) {
		*status = cli_usage(a->prog, "--%s given twice",
				    cli_opt_name(a->longopts, opt));
		return false;
	}
	*dst = v;
	return true;
}

bool cli_set_nonempty(const cli_args *a, const char **dst, const char *arg,
		      int c, int *status)
{
	if (!cli_set_once(a, dst, arg, c, status))
		return false;
	if (arg[0] == '\0') {
		*status = cli_usage(a->prog, "--%s: the value is empty",
				    cli_opt_name(a->longopts, c));
		return false;
	}
	return true;
}

/* cli_getopt_trouble() with the flags of cli_parse_as(). */
static int getopt_trouble(const cli_args *a, unsigned flags, int c, char **argv)
{
	if (c == ':')
		return cli_usage(a->prog,
				 "--%s needs a value (try 'spfkit help %s')",
				 cli_opt_name(a->longopts, optopt), a->cmd);
	const char *arg = argv[optind - 1];
	bool as_given = flags & CLI_PARSE_UNKNOWN_AS_GIVEN;
	/* A long option given a value it does not take ("--batch=1"). */
	if (optopt >= CLI_OPT_FIRST ||
	    (!as_given && optopt == 'h' && strncmp(arg, "--", 2) == 0))
		return cli_usage(a->prog, "--%s takes no value",
				 cli_opt_name(a->longopts, optopt));
	/* as_given quotes arg for a short option too: "-x" itself, but for
	 * the 'x' of "-xy" the argument before it, since getopt_long()
	 * moves optind past an argument after its last letter only. */
	if (optopt != 0 && !as_given) {
		char o = (char)optopt;
		return cli_usage(a->prog,
				 "unknown option '-%s' (try 'spfkit help %s')",
				 cli_shown_n(&o, 1), a->cmd);
	}
	return cli_usage(a->prog,
			 "unknown or ambiguous option '%s' (try 'spfkit "
			 "help %s')",
			 cli_shown(arg), a->cmd);
}

bool cli_version(FILE *f)
{
	fprintf(f, "spfkit %s (libspfkit %s)\n", SPFKIT_VERSION,
		spfkit_version());
	return fflush(f) == 0;
}

int cli_getopt_trouble(const cli_args *a, int c, char **argv)
{
	return getopt_trouble(a, 0, c, argv);
}

/* The setter of an option given at most once under flags. */
typedef bool set_fn(const cli_args *a, const char **dst, const char *v, int opt,
		    int *status);

static set_fn *once_setter(unsigned flags)
{
	return flags & CLI_PARSE_NO_EMPTY ? cli_set_nonempty : cli_set_once;
}

/* Is s plain dotted-quad IPv4 ("192.0.2.1": four numbers 0-255, none
 * with a leading zero), which inet_pton() accepts too? The usual batch
 * line's address, told without its two calls. */
static bool plain_ip4(const char *s)
{
	for (int part = 0; part < 4; part++) {
		if (part && *s++ != '.')
			return false;
		unsigned v = 0, digits = 0;
		for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
			v = v * 10 + (unsigned)(*s - '0');
		if (digits == 0 || digits > 3 || v > 255 ||
		    (digits > 1 && s[-(int)digits] == '0'))
			return false;
	}
	return *s == '\0';
}

bool cli_ip_ok(const char *s)
{
	unsigned char a[16];
	return plain_ip4(s) || inet_pton(AF_INET, s, a) == 1 ||
	       inet_pton(AF_INET6, s, a) == 1;
}

bool cli_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	if (*s != '\0' || v < min)
		return false;
	*out = v;
	return true;
}

bool cli_parse_count(const char *s, unsigned max, unsigned *out)
{
	uint64_t v;
	if (!cli_parse_num(s, 1, max, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

/* ------------------------------------------------------------ identity */

/* cli_identity_option() with the flags of cli_parse_as(). */
static bool identity_option(const cli_args *a, unsigned flags, int c,
			    const char *arg, cli_identity *id, int *status)
{
	set_fn *set = once_setter(flags);
	*status = 0;
	switch (c) {
	case CLI_OPT_IP:
		if (set(a, &id->ip, arg, c, status) && !cli_ip_ok(arg))
			*status = cli_usage(a->prog,
					    "--ip: '%s' is not an IPv4 or IPv6 "
					    "address",
					    cli_shown(arg));
		break;
	case CLI_OPT_SENDER:
		cli_set_once(a, &id->sender, arg, c, status);
		break;
	case CLI_OPT_HELO: set(a, &id->helo, arg, c, status); break;
	case CLI_OPT_RECORD: set(a, &id->record, arg, c, status); break;
	case CLI_OPT_SCOPE:
		if (!set(a, &id->scope_given, arg, c, status))
			break;
		if (strcmp(arg, "mailfrom") == 0)
			id->scope = SPFKIT_SCOPE_MAILFROM;
		else if (strcmp(arg, "helo") == 0)
			id->scope = SPFKIT_SCOPE_HELO;
		else
			*status = cli_usage(a->prog,
					    "--scope: '%s' is not mailfrom or "
					    "helo",
					    cli_shown(arg));
		break;
	default: return false;
	}
	return true;
}

bool cli_identity_option(const cli_args *a, int c, const char *arg,
			 cli_identity *id, int *status)
{
	return identity_option(a, 0, c, arg, id, status);
}

/* ------------------------------------------------------------ DNS */

bool cli_dns_opts_init(cli_dns_opts *o, int argc)
{
	/* At most one zone, and one name server, per argument. */
	size_t nargs = (size_t)(argc > 0 ? argc : 0) + 1;
	memset(o, 0, sizeof *o);
	o->zones = calloc(nargs, sizeof *o->zones);
	o->nameservers = calloc(nargs, sizeof *o->nameservers);
	if (o->zones && o->nameservers)
		return true;
	cli_dns_opts_free(o);
	return false;
}

void cli_dns_opts_free(cli_dns_opts *o)
{
	free(o->zones);
	free(o->nameservers);
	o->zones = NULL;
	o->nameservers = NULL;
}

/* cli_dns_option() with the flags of cli_parse_as(). */
static bool dns_option(const cli_args *a, unsigned flags, int c,
		       const char *arg, cli_dns_opts *o, int *status)
{
	*status = 0;
	switch (c) {
	case CLI_OPT_ZONE: o->zones[o->nzones++] = arg; break;
	case CLI_OPT_NAMESERVER:
		if (!cli_dns_nameserver_ok(arg))
			*status = cli_usage(a->prog,
					    "--nameserver: '%s' is not "
					    "ADDR[@PORT] (an IP address, e.g. "
					    "127.0.0.1@5353)",
					    cli_shown(arg));
		else
			o->nameservers[o->nnameservers++] = arg;
		break;
	case CLI_OPT_RECURSIVE: o->recursive = true; break;
	case CLI_OPT_ROOT_HINTS:
		cli_set_nonempty(a, &o->root_hints, arg, c, status);
		break;
	case CLI_OPT_TRUST_ANCHOR:
		cli_set_nonempty(a, &o->trust_anchor, arg, c, status);
		break;
	case CLI_OPT_TIMEOUT:
		if (once_setter(flags)(a, &o->timeout, arg, c, status) &&
		    !cli_dns_parse_timeout(arg, &o->timeout_ms))
			*status = cli_usage(a->prog,
					    "--timeout: '%s' is not a number "
					    "of seconds from 0.001 to 86400",
					    cli_shown(arg));
		break;
	default: return false;
	}
	return true;
}

bool cli_dns_option(const cli_args *a, int c, const char *arg, cli_dns_opts *o,
		    int *status)
{
	return dns_option(a, 0, c, arg, o, status);
}

bool cli_dns_parse_timeout(const char *s, uint32_t *ms)
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

bool cli_dns_nameserver_ok(const char *s)
{
	char addr[64];
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);
	if (n == 0 || n >= sizeof addr)
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (!cli_ip_ok(addr))
		return false;
	if (!at)
		return true;
	unsigned long port = 0;
	const char *p = at + 1;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			return false;
	}
	return *p == '\0' && port > 0;
}

const char *cli_dns_opts_problem(const cli_dns_opts *o)
{
	if ((o->recursive || o->root_hints) && o->nnameservers > 0)
		return "--recursive and --root-hints ask the root servers "
		       "themselves; drop --nameserver, or them";
	return NULL;
}

bool cli_dns_opts_real(const cli_dns_opts *o)
{
	return o->nzones == 0 || o->nnameservers > 0 || o->recursive ||
	       o->root_hints || o->trust_anchor;
}

int cli_dns_configure(const cli_dns_opts *o, spfkit_config *cfg)
{
	if (!o->timeout_ms)
		return SPFKIT_OK;
	return spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DEADLINE_MS,
				       o->timeout_ms);
}

/* ------------------------------------------------------------ parsing */

int cli_parse(const cli_args *a, int argc, char **argv, cli_dns_opts *dns,
	      cli_identity *id, cli_take_fn take, void *ud)
{
	return cli_parse_as(a, 0, argc, argv, dns, id, take, ud);
}

int cli_parse_as(const cli_args *a, unsigned flags, int argc, char **argv,
		 cli_dns_opts *dns, cli_identity *id, cli_take_fn take,
		 void *ud)
{
	int status = 0;
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, ":h", a->longopts, NULL);
		if (c == -1)
			return 0;
		/* --version is every subcommand's (it is in no table): the
		 * option getopt_long() did not know, given exactly so. */
		if (c == '?' && optopt == 0 &&
		    strcmp(argv[optind - 1], "--version") == 0)
			return cli_version(stdout) ? -1 : CLI_EX_SOFTWARE;
		if (c == ':' || c == '?')
			return getopt_trouble(a, flags, c, argv);
		if ((!dns || !dns_option(a, flags, c, optarg, dns, &status)) &&
		    (!id || !identity_option(a, flags, c, optarg, id, &status)))
			status = take(c, ud);
		if (status)
			return status;
	}
}
