/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runner.c - runs every case of the openspf RFC 7208 test suite
 * (rfc7208-tests.yml) through the public API against an in-memory zone
 * built from each document's zonedata, and names every case that fails.
 *
 *   rfc7208_runner SUITE.yml            all cases; "N passed, N failed"
 *   rfc7208_runner SUITE.yml CASE       one case, verbose, with its DNS
 *   rfc7208_runner --list SUITE.yml     the case names, one per line
 *
 * A case passes when the result is one of those the suite lists and, for
 * fail with an explanation: key, the explanation is exactly that text (the
 * default explanation is set to the literal "DEFAULT", as the suite
 * expects). Exit status: 0 all passed, 1 some failed, 2 bad use.
 *
 * Every check also runs with an event callback that tallies what the
 * evaluator reports (trace, tree and lint are built on these events): the
 * counted terms and void lookups must equal the check's own counters, the
 * RESULT event its result, and every used answer must have been asked.
 * Each case is then walked (spfkit_check_set_walk) and the same must hold.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "dns/zone.h"
#include "spfkit.h"
#include "suite.h"
#include "zone_yaml.h"

/* ---------------------------------------------------------------- cases */

/* One record of an answer, for the verbose trace. */
static void put_rr(const spfkit_rr *rr)
{
	char buf[INET6_ADDRSTRLEN];
	const unsigned char *p = rr->rdata;
	size_t n = rr->rdlen;
	if (rr->type == SPFKIT_TYPE_A && n == 4) {
		printf(" %s", inet_ntop(AF_INET, p, buf, sizeof buf));
	} else if (rr->type == SPFKIT_TYPE_AAAA && n == 16) {
		printf(" %s", inet_ntop(AF_INET6, p, buf, sizeof buf));
	} else if (rr->type == SPFKIT_TYPE_TXT) {
		fputs(" \"", stdout);
		for (size_t i = 0; i < n;) {
			size_t l = p[i++];
			if (l > n - i)
				l = n - i;
			put_text(stdout, (const char *)p + i, l);
			i += l;
			if (i < n)
				fputs("\" \"", stdout);
		}
		fputc('"', stdout);
	} else if (rr->type == SPFKIT_TYPE_MX || rr->type == SPFKIT_TYPE_PTR ||
		   rr->type == SPFKIT_TYPE_CNAME) {
		size_t i = 0;
		if (rr->type == SPFKIT_TYPE_MX && n >= 2) {
			printf(" %u", (unsigned)(p[0] << 8 | p[1]));
			i = 2;
		}
		fputc(' ', stdout);
		while (i < n && p[i] && p[i] <= n - i - 1) {
			put_text(stdout, (const char *)p + i + 1, p[i]);
			fputc('.', stdout);
			i += 1 + (size_t)p[i];
		}
	} else {
		printf(" (%zu octets)", n);
	}
}

static const char *type_name(uint16_t t)
{
	switch (t) {
	case SPFKIT_TYPE_A: return "A";
	case SPFKIT_TYPE_AAAA: return "AAAA";
	case SPFKIT_TYPE_MX: return "MX";
	case SPFKIT_TYPE_PTR: return "PTR";
	case SPFKIT_TYPE_TXT: return "TXT";
	case SPFKIT_TYPE_CNAME: return "CNAME";
	default: return "?";
	}
}

static const char *dns_status_name(spfkit_dns_status s)
{
	switch (s) {
	case SPFKIT_DNS_NOERROR: return "NOERROR";
	case SPFKIT_DNS_NXDOMAIN: return "NXDOMAIN";
	case SPFKIT_DNS_TEMPFAIL: return "TEMPFAIL";
	}
	return "?";
}

/* spfkit_zone_check() with every query and answer printed. */
static int check_traced(const spfkit_zone *zone, spfkit_check *chk)
{
	for (;;) {
		int rc = spfkit_check_run(chk, 0);
		if (rc == SPFKIT_DONE)
			return SPFKIT_OK;
		if (rc < 0)
			return rc;
		size_t n = spfkit_check_pending(chk);
		for (size_t i = 0; i < n; i++) {
			unsigned id;
			const char *name;
			uint16_t type;
			if (spfkit_check_query(chk, i, &id, &name, &type) < 0)
				continue;
			spfkit__zone_answer ans;
			if (spfkit__zone_lookup(zone, name, type, &ans) < 0)
				continue;
			printf("  dns %s ", type_name(type));
			put_str(stdout, name);
			printf(" -> %s", dns_status_name(ans.status));
			if (ans.cnames)
				printf(" (%u CNAME)", ans.cnames);
			for (size_t k = 0; k < ans.n; k++)
				put_rr(&ans.rrs[k]);
			putchar('\n');
			spfkit__zone_answer_free(zone, &ans);
		}
		if (rc != SPFKIT_WANT_DNS || n == 0)
			return SPFKIT_ESTATE;
		rc = spfkit_zone_answer(zone, chk);
		if (rc < 0)
			return rc;
	}
}

/* What the events of one check added up to. */
typedef struct tally {
	unsigned terms_counted, voids, results, frames, frame_ends, problems;
	unsigned max_query_id, bad_lookups;
	spfkit_result result;
	unsigned last_lookups, last_voids;
} tally;

static void on_event(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	(void)chk;
	tally *t = ud;
	switch (ev->kind) {
	case SPFKIT_EVENT_QUERY:
		if (ev->query_id > t->max_query_id)
			t->max_query_id = ev->query_id;
		break;
	case SPFKIT_EVENT_LOOKUP:
		if (ev->query_id == 0 || ev->query_id > t->max_query_id ||
		    !ev->name)
			t->bad_lookups++;
		break;
	case SPFKIT_EVENT_TERM: t->terms_counted += ev->counted != 0; break;
	case SPFKIT_EVENT_VOID: t->voids++; break;
	case SPFKIT_EVENT_FRAME: t->frames++; break;
	case SPFKIT_EVENT_FRAME_END: t->frame_ends++; break;
	case SPFKIT_EVENT_PROBLEM: t->problems++; break;
	case SPFKIT_EVENT_RESULT:
		t->results++;
		t->result = ev->result;
		break;
	default: break;
	}
	t->last_lookups = ev->lookups;
	t->last_voids = ev->void_lookups;
}

/* Do the events agree with the finished check? NULL, or what differs. */
static const char *tally_problem(const tally *t, const spfkit_check *chk)
{
	if (t->results != 1 || t->result != spfkit_check_result(chk))
		return "RESULT event";
	if (t->terms_counted != spfkit_check_lookups(chk) ||
	    t->last_lookups != spfkit_check_lookups(chk))
		return "counted TERM events";
	if (t->voids != spfkit_check_void_lookups(chk) ||
	    t->last_voids != spfkit_check_void_lookups(chk))
		return "VOID events";
	if (t->max_query_id != spfkit_check_queries(chk) || t->bad_lookups)
		return "QUERY/LOOKUP events";
	if (t->frame_ends > t->frames ||
	    (t->problems == 0 && t->frame_ends != t->frames))
		return "FRAME/FRAME_END events";
	return NULL;
}

/* Walks the case (spfkit_check_set_walk) and checks its events. */
static const char *walk_case(const spfkit_zone *zone, const char *host,
			     const yaml_node_t *mailfrom,
			     const yaml_node_t *helo)
{
	spfkit_config *cfg = NULL;
	spfkit_check *chk = NULL;
	tally t;
	memset(&t, 0, sizeof t);
	const char *sender = scalar(mailfrom), *name = scalar(helo);
	const char *why = "walk setup";
	if (spfkit_config_new(&cfg, NULL) == SPFKIT_OK &&
	    spfkit_check_new(&chk, cfg) == SPFKIT_OK &&
	    spfkit_check_set_ip(chk, host ? host : "") == SPFKIT_OK &&
	    spfkit_check_set_sender(chk, sender ? sender : "",
				    scalar_len(mailfrom)) == SPFKIT_OK &&
	    spfkit_check_set_helo(chk, name ? name : "", scalar_len(helo)) ==
		SPFKIT_OK &&
	    spfkit_check_set_walk(chk, 1) == SPFKIT_OK &&
	    spfkit_check_set_events(chk, on_event, &t) == SPFKIT_OK) {
		why = spfkit_zone_check(zone, chk, 0) == SPFKIT_OK
			  ? tally_problem(&t, chk)
			  : "walk run";
	}
	spfkit_check_free(chk);
	spfkit_config_free(cfg);
	return why;
}

/* The suite's config. */
static int make_config(spfkit_config **cfgp)
{
	int rc;
	if ((rc = spfkit_config_new(cfgp, NULL)) < 0)
		return rc;
	if ((rc = spfkit_config_set_default_explanation(*cfgp, "DEFAULT")) <
		0 ||
	    (rc = spfkit_config_set_receiver(*cfgp, "receiver.example")) < 0)
		return rc;
	/* SPFKIT_PREFETCH=0 runs the suite without prefetch: the results
	 * must be the same either way (DESIGN.md §3). */
	const char *pf = getenv("SPFKIT_PREFETCH");
	if (pf && strcmp(pf, "0") == 0 &&
	    (rc = spfkit_config_set_prefetch(*cfgp, 0)) < 0)
		return rc;
	return SPFKIT_OK;
}

/* One check object reused for every case through spfkit_check_reset():
 * whatever the cases before left in it must not change a result. */
static spfkit_config *reuse_cfg;
static spfkit_check *reuse_chk;

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Runs the case again on the reused check; NULL when everything it
 * reports equals what the fresh check reported. */
static const char *reuse_problem(const spfkit_zone *zone, const char *host,
				 const yaml_node_t *mailfrom,
				 const yaml_node_t *helo,
				 const spfkit_check *fresh)
{
	if (!reuse_chk && (make_config(&reuse_cfg) < 0 ||
			   spfkit_check_new(&reuse_chk, reuse_cfg) < 0))
		return "reuse setup";
	spfkit_check *chk = reuse_chk;
	const char *sender = scalar(mailfrom), *name = scalar(helo);
	if (spfkit_check_reset(chk) != SPFKIT_OK ||
	    spfkit_check_set_ip(chk, host ? host : "") != SPFKIT_OK ||
	    spfkit_check_set_sender(chk, sender ? sender : "",
				    scalar_len(mailfrom)) != SPFKIT_OK ||
	    spfkit_check_set_helo(chk, name ? name : "", scalar_len(helo)) !=
		SPFKIT_OK ||
	    spfkit_zone_check(zone, chk, 0) != SPFKIT_OK)
		return "reuse run";
	if (spfkit_check_result(chk) != spfkit_check_result(fresh) ||
	    spfkit_check_reason(chk) != spfkit_check_reason(fresh) ||
	    spfkit_check_lookups(chk) != spfkit_check_lookups(fresh) ||
	    spfkit_check_void_lookups(chk) !=
		spfkit_check_void_lookups(fresh) ||
	    spfkit_check_queries(chk) != spfkit_check_queries(fresh))
		return "result or counts";
	if (!same_str(spfkit_check_explanation(chk),
		      spfkit_check_explanation(fresh)) ||
	    !same_str(spfkit_check_mechanism(chk),
		      spfkit_check_mechanism(fresh)) ||
	    !same_str(spfkit_check_where(chk), spfkit_check_where(fresh)) ||
	    !same_str(spfkit_check_problem(chk), spfkit_check_problem(fresh)) ||
	    !same_str(spfkit_check_sender(chk), spfkit_check_sender(fresh)) ||
	    !same_str(spfkit_check_domain(chk), spfkit_check_domain(fresh)))
		return "strings";
	return NULL;
}

/* Sets up and runs one check; *problem names an API failure. */
static int run_check(const spfkit_zone *zone, spfkit_config **cfgp,
		     spfkit_check **chkp, const char *host,
		     const yaml_node_t *mailfrom, const yaml_node_t *helo,
		     bool verbose, tally *t, const char **problem)
{
	int rc;
	*problem = "config";
	if ((rc = make_config(cfgp)) < 0)
		return rc;
	*problem = "check_new";
	if ((rc = spfkit_check_new(chkp, *cfgp)) < 0)
		return rc;
	*problem = "set_ip";
	if ((rc = spfkit_check_set_ip(*chkp, host ? host : "")) < 0)
		return rc;
	*problem = "set_sender";
	const char *sender = scalar(mailfrom), *name = scalar(helo);
	if ((rc = spfkit_check_set_sender(*chkp, sender ? sender : "",
					  scalar_len(mailfrom))) < 0)
		return rc;
	*problem = "set_helo";
	if ((rc = spfkit_check_set_helo(*chkp, name ? name : "",
					scalar_len(helo))) < 0)
		return rc;
	*problem = "set_events";
	if ((rc = spfkit_check_set_events(*chkp, on_event, t)) < 0)
		return rc;
	*problem = "check";
	return verbose ? check_traced(zone, *chkp)
		       : spfkit_zone_check(zone, *chkp, 0);
}

static void run_case(const spfkit_zone *zone, yaml_document_t *doc,
		     const char *desc, const char *name, yaml_node_t *tc,
		     bool verbose, counts *cnt)
{
	const char *host = scalar(map_get(doc, tc, "host"));
	yaml_node_t *mailfrom = map_get(doc, tc, "mailfrom");
	yaml_node_t *helo = map_get(doc, tc, "helo");
	yaml_node_t *want = map_get(doc, tc, "result");
	const char *want_exp = scalar(map_get(doc, tc, "explanation"));
	if (verbose) {
		printf("case %s (%s)\n  host %s mailfrom ", name, desc,
		       host ? host : "(none)");
		put_str(stdout, scalar(mailfrom));
		fputs(" helo ", stdout);
		put_str(stdout, scalar(helo));
		fputs("\n  want ", stdout);
		put_results(stdout, doc, want);
		if (want_exp) {
			fputs(" explanation \"", stdout);
			put_str(stdout, want_exp);
			fputc('"', stdout);
		}
		putchar('\n');
	}

	spfkit_config *cfg = NULL;
	spfkit_check *chk = NULL;
	const char *step;
	tally t;
	memset(&t, 0, sizeof t);
	int rc = run_check(zone, &cfg, &chk, host, mailfrom, helo, verbose, &t,
			   &step);
	bool ok = false;
	if (rc < 0) {
		printf("FAIL %s / %s: %s: %s want ", desc, name, step,
		       spfkit_strerror(rc));
		put_results(stdout, doc, want);
		putchar('\n');
	} else {
		spfkit_result r = spfkit_check_result(chk);
		const char *got = spfkit_result_name(r);
		const char *exp = spfkit_check_explanation(chk);
		const char *why = spfkit_check_problem(chk);
		if (!why)
			why = spfkit_check_mechanism(chk);
		if (!why)
			why = spfkit_reason_name(spfkit_check_reason(chk));
		ok = result_ok(doc, want, got);
		bool exp_bad = ok && want_exp && r == SPFKIT_RESULT_FAIL &&
			       (!exp || strcmp(exp, want_exp) != 0);
		if (exp_bad)
			ok = false;
		const char *ev_bad = tally_problem(&t, chk);
		if (!ev_bad)
			ev_bad = walk_case(zone, host, mailfrom, helo);
		if (ev_bad) {
			printf("FAIL %s / %s: events disagree: %s\n", desc,
			       name, ev_bad);
			ok = false;
		}
		const char *reuse_bad =
		    reuse_problem(zone, host, mailfrom, helo, chk);
		if (reuse_bad) {
			printf("FAIL %s / %s: a reset check differs: %s\n",
			       desc, name, reuse_bad);
			ok = false;
		}
		if (!ok) {
			printf("FAIL %s / %s: got %s (", desc, name, got);
			put_str(stdout, why);
			fputs(") want ", stdout);
			put_results(stdout, doc, want);
			if (want_exp) {
				fputs("; explanation got \"", stdout);
				put_str(stdout, exp);
				fputs("\" want \"", stdout);
				put_str(stdout, want_exp);
				fputc('"', stdout);
			}
			putchar('\n');
		}
		if (verbose) {
			printf("  result %s reason %s\n  mechanism ", got,
			       spfkit_reason_name(spfkit_check_reason(chk)));
			put_str(stdout, spfkit_check_mechanism(chk));
			fputs("\n  where ", stdout);
			put_str(stdout, spfkit_check_where(chk));
			fputs("\n  problem ", stdout);
			put_str(stdout, spfkit_check_problem(chk));
			printf(
			    "\n  lookups %u void %u queries %u\n  explanation ",
			    spfkit_check_lookups(chk),
			    spfkit_check_void_lookups(chk),
			    spfkit_check_queries(chk));
			put_str(stdout, exp);
			putchar('\n');
		}
	}
	if (ok)
		cnt->passed++;
	else
		cnt->failed++;
	spfkit_check_free(chk);
	spfkit_config_free(cfg);
}

/* Runs (or lists) the cases of one document. only: a case name or NULL. */
static void run_document(yaml_document_t *doc, bool list, const char *only,
			 counts *cnt)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *tests = map_get(doc, root, "tests");
	if (!tests || tests->type != YAML_MAPPING_NODE)
		return;
	char desc[160];
	suite_description(doc, root, desc, sizeof desc);

	bool wanted = !only;
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start;
	     p < tests->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(doc, p->key));
		if (list && name)
			printf("%s\n", name);
		if (only && name && strcmp(name, only) == 0)
			wanted = true;
	}
	if (list || !wanted)
		return;

	spfkit_zone *zone = NULL;
	char err[256] = "";
	int rc = spfkit_zone_new(&zone, NULL);
	yaml_node_t *zd = map_get(doc, root, "zonedata");
	if (rc == SPFKIT_OK && zd)
		rc = zone_yaml_load_node(zone, NULL, doc, zd, err, sizeof err);
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start;
	     p < tests->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(doc, p->key));
		if (!name || (only && strcmp(name, only) != 0))
			continue;
		cnt->matched++;
		if (rc < 0) {
			printf("FAIL %s / %s: zonedata: %s\n", desc, name,
			       err[0] ? err : spfkit_strerror(rc));
			cnt->failed++;
			continue;
		}
		run_case(zone, doc, desc, name,
			 yaml_document_get_node(doc, p->value), only != NULL,
			 cnt);
	}
	spfkit_zone_free(zone);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *only = NULL;
	bool list = false, usage = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0)
			list = true;
		else if (!path)
			path = argv[i];
		else if (!only)
			only = argv[i];
		else
			usage = true; /* too many arguments */
	}
	if (usage || !path || (list && only)) {
		fprintf(stderr,
			"usage: rfc7208_runner [--list] SUITE.yml [CASE]\n");
		return 2;
	}
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "rfc7208_runner: cannot open %s\n", path);
		return 2;
	}
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		fclose(fp);
		fprintf(stderr, "rfc7208_runner: out of memory\n");
		return 2;
	}
	yaml_parser_set_input_file(&parser, fp);
	counts cnt = {0, 0, 0};
	int status = 0;
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "rfc7208_runner: %s:%lu: %s\n", path,
				(unsigned long)parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "YAML error");
			status = 2;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		run_document(&doc, list, only, &cnt);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	if (status || list)
		return status;
	if (only && cnt.matched == 0) {
		fprintf(stderr, "rfc7208_runner: no case named %s\n", only);
		return 2;
	}
	spfkit_check_free(reuse_chk);
	spfkit_config_free(reuse_cfg);
	printf("%u passed, %u failed\n", cnt.passed, cnt.failed);
	return cnt.failed ? 1 : 0;
}
