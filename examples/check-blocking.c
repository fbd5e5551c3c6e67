/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check-blocking.c - the simplest use of libspfkit: one SPF check over
 * real DNS, in one call (spfkit_resolver_check). Build it against the
 * installed library:
 *
 *   cc check-blocking.c $(pkg-config --cflags --libs spfkit) -o check-blocking
 *   ./check-blocking 203.0.113.5 visitor@example.org www.shop.example
 *   ./check-blocking 203.0.113.5 forms@shop.example '' 127.0.0.1@5353
 *
 * Arguments: the client IP, the envelope sender ("" for the null
 * sender), optionally the HELO name and a name server (ADDR[@PORT];
 * without one, the resolvers of /etc/resolv.conf). It prints the result,
 * the explanation of a fail, and a Received-SPF header field, and exits
 * 0 for pass, 1 for anything else, 2 when it could not check.
 */
#include <stdio.h>
#include <string.h>

#include <spfkit.h>

/* Prints why a call failed and gives the "could not check" status. */
static int trouble(const char *what, int rc)
{
	fprintf(stderr, "check-blocking: %s: %s\n", what, spfkit_strerror(rc));
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: check-blocking IP SENDER [HELO] "
				"[NAMESERVER]\n");
		return 2;
	}
	/* A newer header than the library would promise calls it lacks. */
	if (spfkit_version_number() >> 16 != SPFKIT_VERSION_MAJOR ||
	    spfkit_version_number() < SPFKIT_VERSION_NUMBER) {
		fprintf(stderr,
			"check-blocking: built for libspfkit %s, "
			"found %s\n",
			SPFKIT_VERSION, spfkit_version());
		return 2;
	}
	const char *ip = argv[1], *sender = argv[2];
	const char *helo = argc > 3 ? argv[3] : "";
	const char *ns = argc > 4 ? argv[4] : NULL;

	spfkit_config *cfg = NULL;
	spfkit_resolver *res = NULL;
	spfkit_check *chk = NULL;
	char *header = NULL;
	int status = 2, rc;
	if ((rc = spfkit_config_new(&cfg, NULL)) < 0) {
		status = trouble("config", rc);
		goto out;
	}
	if ((rc = spfkit_resolver_new(&res, cfg)) < 0 ||
	    (ns && (rc = spfkit_resolver_add_nameserver(res, ns)) < 0)) {
		status = trouble("resolver", rc);
		goto out;
	}
	if ((rc = spfkit_check_new(&chk, cfg)) < 0 ||
	    (rc = spfkit_check_set_ip(chk, ip)) < 0 ||
	    (rc = spfkit_check_set_sender(chk, sender, strlen(sender))) < 0 ||
	    (rc = spfkit_check_set_helo(chk, helo, strlen(helo))) < 0) {
		status = trouble("check", rc);
		goto out;
	}
	/* Sends, waits and runs until the result is final (or the check's
	 * deadline, 20 s by default, makes it temperror). */
	if ((rc = spfkit_resolver_check(res, chk)) < 0) {
		status = trouble("DNS", rc);
		goto out;
	}
	spfkit_result r = spfkit_check_result(chk);
	printf("%s\n", spfkit_result_name(r));
	if (spfkit_check_explanation(chk))
		printf("explanation: %s\n", spfkit_check_explanation(chk));
	if (spfkit_check_header(chk, SPFKIT_HEADER_RECEIVED_SPF, NULL,
				&header) == SPFKIT_OK)
		printf("%s\n", header);
	status = r == SPFKIT_RESULT_PASS ? 0 : 1;
out:
	spfkit_free(cfg, header);
	spfkit_check_free(chk);
	spfkit_resolver_free(res);
	spfkit_config_free(cfg);
	return status;
}
