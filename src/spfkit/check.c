/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.c - `spfkit check`: one SPF check from the command line, or a
 * stream of them from standard input (--batch).
 *
 * DNS comes from one of two places (dnsrun.h). With only --zone FILE the
 * in-memory zone answers everything, one check at a time (hermetic:
 * nothing leaves the machine); a batch then runs here, line by line.
 * Otherwise the libunbound driver asks real DNS -- /etc/resolv.conf's
 * servers, --nameserver ADDR[@PORT], or the root servers with --recursive
 * -- after any --zone files, and a batch keeps --concurrency checks in
 * flight (check_batch.c), writing results strictly in input order.
 * Options are check_opts.c's, output output.c's.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* RFC 7208 §4.6.4 limits; the CLI leaves the library's defaults alone and
 * names them only to show "N of LIMIT" in text output. */
#define RFC_DNS_TERMS    10
#define RFC_VOID_LOOKUPS 2

/* ------------------------------------------------------------ checks */

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
 * or NULL. A null sender without a HELO name is no usage problem: it has
 * no usable domain, which is the result none (RFC 7208 §4.3). */
static const char *input_problem(const check_opts *co, const check_input *in)
{
	if (co->id.scope == SPFKIT_SCOPE_HELO && !in->helo)
		return "--scope helo needs a HELO name";
	return NULL;
}

/* Creates a check for in with every setting; the step that failed is
 * named in *what. On failure *chkp is NULL and the status negative. */
int check_make(const check_opts *co, const spfkit_config *cfg,
	       spfkit_cache *cache, const check_input *in, spfkit_check *reuse,
	       spfkit_check **chkp, const char **what)
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
		rc = spfkit_check_set_scope(chk, co->id.scope);
	}
	if (rc == SPFKIT_OK) {
		/* %{t} in explanations: the library reads no clock. */
		*what = "timestamp";
		rc = spfkit_check_set_timestamp(chk, cli_unix_time());
	}
	if (rc == SPFKIT_OK && co->id.record) {
		*what = "record";
		rc = spfkit_check_set_record(chk, co->id.record,
					     strlen(co->id.record));
	}
	if (rc < 0) {
		spfkit_check_free(chk);
		return rc;
	}
	*chkp = chk;
	return SPFKIT_OK;
}

bool check_fault(int rc, const char *what, const char **text)
{
	bool input = (rc == SPFKIT_EINVAL || rc == SPFKIT_ETOOBIG ||
		      rc == SPFKIT_EPARSE) &&
		     strcmp(what, "run") != 0 && strcmp(what, "check") != 0;
	/* spfkit_check_set_sender()/_helo(): over 64 KiB. */
	*text = input && rc == SPFKIT_ETOOBIG ? "longer than 64 KiB"
					      : spfkit_strerror(rc);
	return input;
}

/* Creates and runs a check over the zone, or over real DNS one at a
 * time. On failure *chkp is NULL and *what says which step failed; the
 * status is negative. */
static int do_check(const check_env *env, const check_input *in,
		    spfkit_check **chkp, const char **what)
{
	spfkit_check *chk = NULL;
	int rc =
	    check_make(env->co, env->cfg, env->cache, in, NULL, &chk, what);
	if (rc < 0)
		return rc;
	*what = "run";
	rc = cli_dns_run(env->dns, chk);
	if (rc < 0) {
		spfkit_check_free(chk);
		*chkp = NULL;
		return rc;
	}
	*chkp = chk;
	return SPFKIT_OK;
}

double check_shown_ms(bool timing, uint64_t t0_us, uint64_t t1_us)
{
	if (!timing)
		return -1.0;
	return t1_us > t0_us ? (double)(t1_us - t0_us) / 1000.0 : 0.0;
}

int check_finish_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE,
			       "writing standard output: %s",
			       strerror(errno ? errno : EIO));
	return status;
}

static int check_one(const check_env *env)
{
	const check_opts *co = env->co;
	check_input in = {.ip = co->id.ip,
			  .sender = co->id.sender ? co->id.sender : "",
			  .helo = co->id.helo && co->id.helo[0] ? co->id.helo
								: NULL};
	in.helo_len = in.helo ? strlen(in.helo) : 0;
	in.sender_len = strlen(in.sender);
	strip_brackets(&in.sender, &in.sender_len);
	const char *bad = input_problem(co, &in);
	if (bad)
		return cli_usage(CHECK_PROG, "%s (give --helo NAME)", bad);

	spfkit_check *chk = NULL;
	const char *what = NULL, *text;
	uint64_t t0 = cli_now_us();
	int rc = do_check(env, &in, &chk, &what);
	if (rc < 0) {
		if (check_fault(rc, what, &text))
			return cli_usage(CHECK_PROG, "--%s: %s", what, text);
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE, "%s", text);
	}
	double ms = check_shown_ms(co->timing, t0, cli_now_us());
	int status = cli_exit_for_result(spfkit_check_result(chk));
	rc = cli_out_check(env->out, chk, in.helo, in.helo_len, ms);
	spfkit_check_free(chk);
	if (rc < 0)
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE,
			       "formatting the result: %s",
			       spfkit_strerror(rc));
	return check_finish_output(status);
}

/* ------------------------------------------------------------ batch */

/* Splits (s, n) at TABs into up to 4 fields; returns the field count. */
static size_t split_tabs(const char *s, size_t n, const char *f[4],
			 size_t fl[4])
{
	size_t k = 0, start = 0;
	for (;;) {
		const char *tab = memchr(s + start, '\t', n - start);
		size_t i = tab ? (size_t)(tab - s) : n;
		if (k < 4) {
			f[k] = s + start;
			fl[k] = i - start;
		}
		k++;
		if (!tab)
			return k;
		start = i + 1;
	}
}

/* Parses a batch line into in (ip written to ipbuf, 64 octets; sender
 * and helo point into s). Returns false with why filled (why_cap octets)
 * when the line cannot be checked. */
bool check_parse_line(const check_opts *co, const char *s, size_t n,
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
			 cli_shown_n(f[0], fl[0]));
		return false;
	}
	memcpy(ipbuf, f[0], fl[0]);
	ipbuf[fl[0]] = '\0';
	if (!cli_ip_ok(ipbuf)) {
		snprintf(why, why_cap, "'%s' is not an IPv4 or IPv6 address",
			 cli_shown_n(f[0], fl[0]));
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
static bool batch_line(const check_env *env, unsigned long lineno,
		       const char *s, size_t n)
{
	char why[CHECK_WHY_MAX];
	char ip[64];
	check_input in;
	if (!check_parse_line(env->co, s, n, &in, ip, why, sizeof why)) {
		cli_out_batch_error(env->out, lineno, why);
		return true;
	}

	spfkit_check *chk = NULL;
	const char *what = NULL, *text;
	uint64_t t0 = cli_now_us();
	int rc = do_check(env, &in, &chk, &what);
	if (rc < 0) {
		bool input = check_fault(rc, what, &text);
		snprintf(why, sizeof why, "%s: %s", what, text);
		cli_out_batch_error(env->out, lineno, why);
		return input;
	}
	rc = cli_out_check(env->out, chk, in.helo, in.helo_len,
			   check_shown_ms(env->co->timing, t0, cli_now_us()));
	spfkit_check_free(chk);
	if (rc < 0) {
		snprintf(why, sizeof why, "formatting the result: %s",
			 spfkit_strerror(rc));
		cli_out_batch_error(env->out, lineno, why);
		return false;
	}
	return true;
}

void check_flush_pending(void)
{
	if (__fpending(stdout) > 0)
		fflush(stdout);
}

/* Waits until fd has input (or its end, or an error); the results so
 * far are written out first when it has none yet. */
static void await_input(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 0) != 0)
		return;
	check_flush_pending();
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* --batch over the zone: one line after the other. Input is read in
 * blocks; before a read that would wait, the results so far are written
 * out (a pipe that stays open gets each result as it is known). */
static int check_batch(const check_env *env)
{
	line_reader lr = {.fd = STDIN_FILENO};
	bool toolong, all_ok = true;
	unsigned long lineno = 0;
	for (;;) {
		const char *s;
		size_t len;
		int got = lr_line(&lr, &s, &len, &toolong);
		if (got < 0)
			break;
		if (got == 0) {
			await_input(lr.fd);
			lr_fill(&lr);
			continue;
		}
		lineno++;
		if (toolong)
			check_too_long(env->out, lineno);
		else if (!batch_line(env, lineno, s, len))
			all_ok = false;
	}
	return check_batch_end(&lr, all_ok);
}

int check_batch_end(line_reader *lr, bool all_ok)
{
	free(lr->buf);
	lr->buf = NULL;
	if (lr->failed) {
		(void)check_finish_output(0);
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE,
			       "reading standard input: %s",
			       strerror(errno ? errno : EIO));
	}
	return check_finish_output(all_ok ? 0 : CLI_EX_SOFTWARE);
}

void check_too_long(const cli_out *o, unsigned long lineno)
{
	char why[80];
	snprintf(why, sizeof why, "longer than %u octets", BATCH_LINE_MAX);
	cli_out_batch_error(o, lineno, why);
}

/* ------------------------------------------------------------ main */

int cli_check_main(int argc, char **argv)
{
	check_opts co = {.id.scope = SPFKIT_SCOPE_MAILFROM,
			 .format = CLI_FORMAT_TEXT};
	if (!cli_dns_opts_init(&co.dns, argc))
		return cli_say(CHECK_PROG, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(SPFKIT_ENOMEM));

	int status = check_parse(argc, argv, &co);
	spfkit_config *cfg = NULL;
	if (status == 0)
		status = check_config(&co, &cfg);
	check_env env = {.co = &co, .cfg = cfg};
	if (status == 0)
		status = cli_dns_open(&co.dns, cfg, CHECK_PROG, &env.dns);
	if (status != 0) {
		spfkit_config_free(cfg);
		cli_dns_opts_free(&co.dns);
		return status < 0 ? check_finish_output(0) : status;
	}

	/* A batch sees the same records again and again: parse each once.
	 * Out of memory here only costs speed. */
	if (co.batch && !co.no_cache &&
	    spfkit_cache_new(&env.cache, cfg, 0) != SPFKIT_OK)
		env.cache = NULL;
	cli_out out = {.f = stdout,
		       .format = co.format,
		       .batch = co.batch,
		       .authserv_id = co.authserv_id,
		       .cfg = cfg,
		       .lookup_limit = RFC_DNS_TERMS,
		       .void_limit = RFC_VOID_LOOKUPS};
	env.out = &out;
	if (co.batch && cli_dns_resolver(env.dns))
		status = check_batch_dns(&env);
	else if (co.batch)
		status = check_batch(&env);
	else
		status = check_one(&env);

	cli_dns_close(env.dns);
	spfkit_cache_free(env.cache);
	spfkit_config_free(cfg);
	cli_dns_opts_free(&co.dns);
	return status;
}
