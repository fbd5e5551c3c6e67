/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message.c - `spfkit message`: what SPF said about a saved message or a
 * bounce, and why. It reads the message, parses it (src/msg,
 * msgparse.h), picks the hop where the receiver took it in (a Received
 * field), takes the client IP and HELO from there and the envelope sender
 * from Return-Path, shows what the receiver recorded (Received-SPF, RFC
 * 7208 §9.1; Authentication-Results, RFC 8601), checks SPF again with the
 * library over the DNS options of `spfkit check` (opts.h, dnsrun.h), and
 * shows DMARC's SPF alignment of the header From domain (RFC 7489
 * §3.1.2) through libpsl's organizational domains. It then names the usual
 * stories: a contact form sending as its visitors, forwarding, mailing
 * lists and a sending service's own envelope domain.
 *
 * This file runs the steps; message.h says which file does what.
 * Everything shown comes from the message, so from anyone: text output
 * escapes octets outside printable ASCII, JSON output is valid JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "message.h"

/* Reads the file (standard input for NULL or "-") through a reader of
 * the parser, which holds only what the analysis looks at (msgparse.h:
 * the header sections and a bounce's parts, each under a cap), whatever
 * the size. Returns 0 or an exit status; *r is the caller's either way. */
static int read_input(const char *path, msgp_reader **r, msg_dkim *dkim)
{
	FILE *f = stdin;
	const char *name = "standard input";
	if (msgp_reader_new(NULL, r) < 0)
		return cli_say(MSG_PROG, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(SPFKIT_ENOMEM));
	if (path && strcmp(path, "-") != 0) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return cli_say(MSG_PROG, CLI_EX_NOINPUT,
				       "'%s': is a directory", cli_shown(path));
		f = fopen(path, "rb");
		if (!f)
			return cli_say(MSG_PROG, CLI_EX_NOINPUT, "'%s': %s",
				       cli_shown(path), strerror(errno));
		name = path;
	}
	static char chunk[65536];
	int status = 0;
	for (;;) {
		size_t got = fread(chunk, 1, sizeof chunk, f);
		/* DKIM needs every octet, in order: libopendkim takes them
		 * as they come and holds no more than it must. */
		msg_dkim_feed(dkim, chunk, got);
		if (got && msgp_reader_feed(*r, chunk, got) < 0) {
			status = cli_say(MSG_PROG, CLI_EX_SOFTWARE, "%s",
					 spfkit_strerror(SPFKIT_ENOMEM));
			break;
		}
		if (got < sizeof chunk) {
			if (ferror(f))
				status =
				    cli_say(MSG_PROG, CLI_EX_NOINPUT,
					    "reading '%s': %s", cli_shown(name),
					    strerror(errno ? errno : EIO));
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	return status;
}

/* Analyses the parsed message and writes the analysis to standard
 * output. Returns 0 or an exit status. */
static int analyse(const msg_opts *o, const msgp_msg *msg, spfkit_config *cfg,
		   cli_dns *dns, msg_dkim *dkim)
{
	msg_analysis a;
	int status = msg_analyse(o, msg, cfg, dns, dkim, &a);
	if (status)
		cli_say(MSG_PROG, status, "%s", a.error);
	else if (o->format == CLI_FORMAT_JSON)
		msg_out_json(stdout, &a);
	else
		msg_out_text(stdout, &a);
	msg_analysis_free(&a);
	return status;
}

int cli_message_main(int argc, char **argv)
{
	msg_opts o = {.format = CLI_FORMAT_TEXT};
	bool dns_ok = cli_dns_opts_init(&o.dns, argc);
	msgp_reader *reader = NULL;
	msg_dkim *dkim = NULL;
	msgp_msg *msg = NULL;
	spfkit_config *cfg = NULL;
	cli_dns *dns = NULL;
	int status = 0;
	if (!dns_ok) {
		status = cli_say(MSG_PROG, CLI_EX_SOFTWARE, "%s",
				 spfkit_strerror(SPFKIT_ENOMEM));
		goto out;
	}
	status = msg_parse_args(argc, argv, &o);
	if (status)
		goto out;
	if (msg_dkim_new(&dkim) < 0) {
		status = cli_say(MSG_PROG, CLI_EX_SOFTWARE, "%s",
				 spfkit_strerror(SPFKIT_ENOMEM));
		goto out;
	}
	status = read_input(o.file, &reader, dkim);
	if (status)
		goto out;
	char err[256];
	int rc = msgp_reader_parse(reader, &msg, err, sizeof err);
	if (rc < 0) {
		status = cli_say(
		    MSG_PROG,
		    rc == SPFKIT_ENOMEM ? CLI_EX_SOFTWARE : CLI_EX_DATAERR,
		    "%s: %s",
		    o.file && strcmp(o.file, "-") != 0 ? cli_shown(o.file)
						       : "standard input",
		    err);
		goto out;
	}
	rc = spfkit_config_new(&cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(&o.dns, cfg);
	if (rc < 0) {
		status = cli_say(MSG_PROG, CLI_EX_SOFTWARE, "%s",
				 spfkit_strerror(rc));
		goto out;
	}
	status = cli_dns_open(&o.dns, cfg, MSG_PROG, &dns);
	if (status)
		goto out;
	status = analyse(&o, msg, cfg, dns, dkim);
	if (status == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		status = cli_say(MSG_PROG, CLI_EX_SOFTWARE,
				 "writing standard output: %s",
				 strerror(errno ? errno : EIO));
out:
	cli_dns_close(dns);
	spfkit_config_free(cfg);
	msgp_free(msg);
	msgp_reader_free(reader);
	msg_dkim_free(dkim);
	cli_dns_opts_free(&o.dns);
	return status < 0 ? 0 : status;
}
