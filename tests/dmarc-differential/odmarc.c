/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * odmarc.c - the peer of tests/dmarc-differential: OpenDMARC's libopendmarc
 * (RFC 7489) judging what spfkit message judged. It is compiled by run.sh
 * and run in the test's mount namespace, where /etc/resolv.conf names the
 * test's NSD: libopendmarc asks DNS through libresolv.
 *
 *   odmarc PSL_FILE FROM_DOMAIN [spf=DOMAIN:RESULT[:helo]]
 * [dkim=DOMAIN:RESULT]...
 *
 * RESULT is pass, fail, none or temperror. Prints one line of key=value
 * pairs: query (the status of the DMARC lookup), policy (what
 * opendmarc_get_policy_to_enforce says), dkim_aligned, spf_aligned,
 * policy_domain, p, sp, adkim, aspf.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendmarc/dmarc.h>

static int outcome(const char *r, int pass, int fail, int tmp, int none)
{
	if (strcmp(r, "pass") == 0)
		return pass;
	if (strcmp(r, "fail") == 0)
		return fail;
	if (strcmp(r, "temperror") == 0)
		return tmp;
	return none;
}

static const char *name(int st)
{
	switch (st) {
	case DMARC_POLICY_ABSENT: return "absent";
	case DMARC_POLICY_PASS: return "pass";
	case DMARC_POLICY_REJECT: return "reject";
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_NONE: return "none";
	case DMARC_PARSE_OKAY: return "ok";
	case DMARC_DNS_ERROR_NO_RECORD: return "no-record";
	case DMARC_DNS_ERROR_NXDOMAIN: return "nxdomain";
	case DMARC_DNS_ERROR_TMPERR: return "temperror";
	case DMARC_FROM_DOMAIN_ABSENT: return "from-absent";
	default: return "other";
	}
}

static char letter(int c)
{
	return c ? (char)c : '-';
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: odmarc PSL FROM [spf=D:R[:helo]] "
				"[dkim=D:R]...\n");
		return 2;
	}
	OPENDMARC_LIB_T lib;
	memset(&lib, 0, sizeof lib);
	lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
	snprintf((char *)lib.tld_source_file, sizeof lib.tld_source_file, "%s",
		 argv[1]);
	if (opendmarc_policy_library_init(&lib) != DMARC_PARSE_OKAY) {
		fprintf(stderr, "odmarc: library init failed\n");
		return 2;
	}
	DMARC_POLICY_T *p =
	    opendmarc_policy_connect_init((u_char *)"192.0.2.1", 0);
	if (!p)
		return 2;
	opendmarc_policy_store_from_domain(p, (u_char *)argv[2]);
	for (int i = 3; i < argc; i++) {
		char buf[600];
		snprintf(buf, sizeof buf, "%s", argv[i]);
		char *eq = strchr(buf, '=');
		char *c1 = eq ? strchr(eq + 1, ':') : NULL;
		if (!c1)
			continue;
		*eq = *c1 = '\0';
		char *dom = eq + 1, *res = c1 + 1;
		char *c2 = strchr(res, ':');
		if (c2)
			*c2 = '\0';
		if (strcmp(buf, "spf") == 0)
			opendmarc_policy_store_spf(
			    p, (u_char *)dom,
			    outcome(res, DMARC_POLICY_SPF_OUTCOME_PASS,
				    DMARC_POLICY_SPF_OUTCOME_FAIL,
				    DMARC_POLICY_SPF_OUTCOME_TMPFAIL,
				    DMARC_POLICY_SPF_OUTCOME_NONE),
			    c2 ? DMARC_POLICY_SPF_ORIGIN_HELO
			       : DMARC_POLICY_SPF_ORIGIN_MAILFROM,
			    NULL);
		else
			opendmarc_policy_store_dkim(
			    p, (u_char *)dom, NULL,
			    outcome(res, DMARC_POLICY_DKIM_OUTCOME_PASS,
				    DMARC_POLICY_DKIM_OUTCOME_FAIL,
				    DMARC_POLICY_DKIM_OUTCOME_TMPFAIL,
				    DMARC_POLICY_DKIM_OUTCOME_NONE),
			    NULL);
	}
	int q = opendmarc_policy_query_dmarc(p, NULL);
	int pol = opendmarc_get_policy_to_enforce(p);
	int da = 0, sa = 0, pp = 0, sp = 0, ad = 0, as = 0;
	opendmarc_policy_fetch_alignment(p, &da, &sa);
	opendmarc_policy_fetch_p(p, &pp);
	opendmarc_policy_fetch_sp(p, &sp);
	opendmarc_policy_fetch_adkim(p, &ad);
	opendmarc_policy_fetch_aspf(p, &as);
	u_char used[300] = "";
	if (opendmarc_policy_fetch_utilized_domain(p, used, sizeof used) !=
	    DMARC_PARSE_OKAY)
		used[0] = '\0';
	printf("query=%s policy=%s dkim_aligned=%d spf_aligned=%d "
	       "policy_domain=%s p=%c sp=%c adkim=%c aspf=%c\n",
	       name(q), name(pol), da == DMARC_POLICY_DKIM_ALIGNMENT_PASS,
	       sa == DMARC_POLICY_SPF_ALIGNMENT_PASS,
	       used[0] ? (char *)used : "-", letter(pp), letter(sp), letter(ad),
	       letter(as));
	opendmarc_policy_connect_shutdown(p);
	opendmarc_policy_library_shutdown(&lib);
	return 0;
}
