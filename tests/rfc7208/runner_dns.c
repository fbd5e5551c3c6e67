/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * runner_dns.c - runs cases of the openspf RFC 7208 test suite
 * (rfc7208-tests.yml) through the public API and the libunbound driver
 * (spfkit_resolver_*), against a DNS server on loopback that serves the
 * document's zonedata (tests/integration: NSD with the zones of
 * suite2zones.py, or faultdns.py). The in-memory twin is runner.c.
 *
 *   rfc7208_dns_runner --nameserver ADDR@PORT [OPTION]... SUITE.yml [CASE]
 *
 *   --doc N            only document N (0-based; the server holds its zones)
 *   --only FILE        only the cases named in FILE (one per line)
 *   --skip FILE        not the cases named in FILE
 *   --expect RESULT    every case must give RESULT instead of the suite's
 *   --query-timeout MS the resolver's query timeout
 *   --deadline MS      the check deadline (SPFKIT_LIMIT_DEADLINE_MS)
 *   --max-ms MS        a case that takes longer (wall clock) fails
 *   --parallel         all selected cases of a document in flight at once
 *   --fresh            a new resolver (cold cache) for every case
 *
 * A case passes as in runner.c: the result is one the suite lists and, for
 * fail with an explanation: key, the explanation is exactly that text.
 * With CASE, that case alone, verbose. Ends with "N passed, N failed";
 * exit 0 all passed, 1 some failed, 2 bad use.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "spfkit.h"
#include "suite.h"

/* ---------------------------------------------------------------- options */

typedef struct opts {
	const char *nameserver;
	long doc;            /* -1: every document */
	char **only, **skip; /* NULL-terminated name lists, or NULL */
	const char *expect;  /* a result every case must give, or NULL */
	uint32_t query_timeout, deadline, max_ms;
	bool parallel, fresh;
	const char *one; /* a single case, verbose */
} opts;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads FILE's lines into a NULL-terminated array (exits on failure). */
static char **read_names(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "rfc7208_dns_runner: cannot open %s\n", path);
		exit(2);
	}
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof *v);
	char line[1024];
	while (v && fgets(line, sizeof line, fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (n + 1 >= cap) {
			char **w = realloc(v, (cap *= 2) * sizeof *v);
			if (!w) {
				free(v);
				v = NULL;
				break;
			}
			v = w;
		}
		if (!(v[n++] = strdup(line)))
			exit(2);
	}
	fclose(fp);
	if (!v) {
		fprintf(stderr, "rfc7208_dns_runner: out of memory\n");
		exit(2);
	}
	v[n] = NULL;
	return v;
}

static void free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static bool listed(char **v, const char *name)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- jobs */

typedef struct job {
	const char *name;
	yaml_node_t *tc;
	spfkit_config *cfg;
	spfkit_check *chk;
	spfkit_resolver *own; /* --fresh: this case's resolver */
	uint64_t t0, t1;
	bool done;
	const char *api_step; /* an API call that failed, or NULL */
	int api_rc;
} job;

typedef struct run_ctx {
	job *jobs;
	size_t n;
} run_ctx;

static int new_resolver(const opts *o, const spfkit_config *cfg,
			spfkit_resolver **out)
{
	int rc = spfkit_resolver_new(out, cfg);
	if (rc < 0)
		return rc;
	if ((rc = spfkit_resolver_add_nameserver(*out, o->nameserver)) < 0 ||
	    (o->query_timeout && (rc = spfkit_resolver_set_query_timeout(
				      *out, o->query_timeout)) < 0)) {
		spfkit_resolver_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Sets up one check and runs it as far as it goes without DNS. */
static void job_start(const opts *o, yaml_document_t *doc, job *j,
		      spfkit_resolver *r)
{
	const char *host = scalar(map_get(doc, j->tc, "host"));
	yaml_node_t *mailfrom = map_get(doc, j->tc, "mailfrom");
	yaml_node_t *helo = map_get(doc, j->tc, "helo");
	const char *sender = scalar(mailfrom), *hname = scalar(helo);
	int rc;
	j->t0 = now_ms();
#define STEP(s, call)                                                          \
	do {                                                                   \
		j->api_step = s;                                               \
		if ((rc = (call)) < 0) {                                       \
			j->api_rc = rc;                                        \
			j->done = true;                                        \
			j->t1 = now_ms();                                      \
			return;                                                \
		}                                                              \
	} while (0)
	STEP("config_new", spfkit_config_new(&j->cfg, NULL));
	STEP("set_default_explanation",
	     spfkit_config_set_default_explanation(j->cfg, "DEFAULT"));
	STEP("set_receiver",
	     spfkit_config_set_receiver(j->cfg, "receiver.example"));
	const char *pf = getenv("SPFKIT_PREFETCH");
	if (pf && strcmp(pf, "0") == 0)
		STEP("set_prefetch", spfkit_config_set_prefetch(j->cfg, 0));
	if (o->deadline)
		STEP("set_limit",
		     spfkit_config_set_limit(j->cfg, SPFKIT_LIMIT_DEADLINE_MS,
					     o->deadline));
	STEP("check_new", spfkit_check_new(&j->chk, j->cfg));
	STEP("set_ip", spfkit_check_set_ip(j->chk, host ? host : ""));
	STEP("set_sender", spfkit_check_set_sender(j->chk, sender ? sender : "",
						   scalar_len(mailfrom)));
	STEP("set_helo", spfkit_check_set_helo(j->chk, hname ? hname : "",
					       scalar_len(helo)));
	if (o->fresh) {
		STEP("resolver_new", new_resolver(o, j->cfg, &j->own));
		r = j->own;
	}
	STEP("check_run", spfkit_check_run(j->chk, now_ms()));
	if (rc == SPFKIT_DONE) {
		j->done = true;
		j->t1 = now_ms();
		j->api_step = NULL;
		return;
	}
	STEP("resolver_send", spfkit_resolver_send(r, j->chk, now_ms()));
	j->api_step = NULL;
#undef STEP
}

/* Runs a check again after answers (or time) arrived; sends what it asks. */
static void job_step(job *j, spfkit_resolver *r)
{
	if (j->done)
		return;
	if (j->own)
		r = j->own;
	int rc = spfkit_check_run(j->chk, now_ms());
	if (rc == SPFKIT_DONE) {
		j->done = true;
		j->t1 = now_ms();
		return;
	}
	if (rc < 0) {
		j->api_step = "check_run";
		j->api_rc = rc;
	} else if ((rc = spfkit_resolver_send(r, j->chk, now_ms())) < 0) {
		j->api_step = "resolver_send";
		j->api_rc = rc;
	} else {
		return;
	}
	spfkit_resolver_cancel(r, j->chk);
	j->done = true;
	j->t1 = now_ms();
}

static void on_answer(spfkit_check *chk, void *ud)
{
	(void)chk;
	(void)ud; /* every unfinished check is run again after process() */
}

/* Drives jobs[0..n) until all are done; hang_ms bounds each. */
static void drive(job *jobs, size_t n, spfkit_resolver *shared,
		  uint32_t hang_ms)
{
	for (;;) {
		bool left = false;
		for (size_t i = 0; i < n; i++) {
			job *j = &jobs[i];
			if (j->done)
				continue;
			if (now_ms() - j->t0 > hang_ms) {
				spfkit_resolver_cancel(j->own ? j->own : shared,
						       j->chk);
				j->api_step = "hang (no result in time)";
				j->api_rc = 0;
				j->done = true;
				j->t1 = now_ms();
				continue;
			}
			left = true;
		}
		if (!left)
			return;
		spfkit_resolver *rs[2] = {shared, NULL};
		size_t nr = shared ? 1 : 0;
		for (size_t i = 0; i < n && !shared; i++)
			if (!jobs[i].done && jobs[i].own)
				rs[nr++] = jobs[i].own,
				i = n; /* --fresh: one at a time */
		for (size_t k = 0; k < nr; k++) {
			int rc = spfkit_resolver_process(rs[k], 50, now_ms(),
							 on_answer, NULL);
			if (rc < 0) {
				fprintf(stderr, "resolver_process: %s\n",
					spfkit_strerror(rc));
				for (size_t i = 0; i < n; i++)
					if (!jobs[i].done) {
						spfkit_resolver_cancel(
						    rs[k], jobs[i].chk);
						jobs[i].api_step =
						    "resolver_process";
						jobs[i].api_rc = rc;
						jobs[i].done = true;
						jobs[i].t1 = now_ms();
					}
				return;
			}
		}
		for (size_t i = 0; i < n; i++)
			job_step(&jobs[i], shared);
	}
}

/* Judges a finished job; prints it when it fails (or when verbose). */
static bool judge(const opts *o, yaml_document_t *doc, const char *desc,
		  const job *j, bool verbose)
{
	yaml_node_t *want = map_get(doc, j->tc, "result");
	const char *want_exp = scalar(map_get(doc, j->tc, "explanation"));
	unsigned long ms = (unsigned long)(j->t1 - j->t0);
	if (j->api_step) {
		printf("FAIL %s / %s: %s: %s (%lu ms) want ", desc, j->name,
		       j->api_step, j->api_rc ? spfkit_strerror(j->api_rc) : "",
		       ms);
		if (o->expect)
			fputs(o->expect, stdout);
		else
			put_results(stdout, doc, want);
		putchar('\n');
		return false;
	}
	spfkit_result r = spfkit_check_result(j->chk);
	const char *got = spfkit_result_name(r);
	const char *exp = spfkit_check_explanation(j->chk);
	const char *why = spfkit_check_problem(j->chk);
	if (!why)
		why = spfkit_check_mechanism(j->chk);
	if (!why)
		why = spfkit_reason_name(spfkit_check_reason(j->chk));
	bool ok;
	if (o->expect) {
		ok = strcmp(got, o->expect) == 0;
	} else {
		ok = result_ok(doc, want, got);
		if (ok && want_exp && r == SPFKIT_RESULT_FAIL &&
		    (!exp || strcmp(exp, want_exp) != 0))
			ok = false;
	}
	bool slow = o->max_ms && ms > o->max_ms;
	if (!ok || slow) {
		printf("FAIL %s / %s: got %s (", desc, j->name, got);
		put_str(stdout, why);
		fputs(") want ", stdout);
		if (o->expect)
			fputs(o->expect, stdout);
		else
			put_results(stdout, doc, want);
		if (!o->expect && want_exp) {
			fputs("; explanation got \"", stdout);
			put_str(stdout, exp);
			fputs("\" want \"", stdout);
			put_str(stdout, want_exp);
			fputc('"', stdout);
		}
		printf("; %lu ms%s\n", ms, slow ? " (over --max-ms)" : "");
	}
	if (verbose) {
		printf("  result %s reason %s (%lu ms)\n  mechanism ", got,
		       spfkit_reason_name(spfkit_check_reason(j->chk)), ms);
		put_str(stdout, spfkit_check_mechanism(j->chk));
		fputs("\n  where ", stdout);
		put_str(stdout, spfkit_check_where(j->chk));
		fputs("\n  problem ", stdout);
		put_str(stdout, spfkit_check_problem(j->chk));
		printf("\n  lookups %u void %u queries %u\n  explanation ",
		       spfkit_check_lookups(j->chk),
		       spfkit_check_void_lookups(j->chk),
		       spfkit_check_queries(j->chk));
		put_str(stdout, exp);
		putchar('\n');
	}
	return ok && !slow;
}

static void run_document(const opts *o, yaml_document_t *doc,
			 spfkit_resolver *shared, counts *cnt)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *tests = map_get(doc, root, "tests");
	if (!tests || tests->type != YAML_MAPPING_NODE)
		return;
	char desc[160];
	suite_description(doc, root, desc, sizeof desc);

	size_t total = (size_t)(tests->data.mapping.pairs.top -
				tests->data.mapping.pairs.start);
	job *jobs = calloc(total ? total : 1, sizeof *jobs);
	if (!jobs) {
		fprintf(stderr, "rfc7208_dns_runner: out of memory\n");
		exit(2);
	}
	size_t n = 0;
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start;
	     p < tests->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(doc, p->key));
		if (!name || (o->one && strcmp(name, o->one) != 0) ||
		    (o->only && !listed(o->only, name)) ||
		    listed(o->skip, name))
			continue;
		jobs[n].name = name;
		jobs[n].tc = yaml_document_get_node(doc, p->value);
		n++;
	}
	cnt->matched += (unsigned)n;
	/* A case may not hang the run: past the deadline, and then some. */
	uint32_t hang = (o->deadline ? o->deadline : 20000) + 10000;
	if (o->max_ms && o->max_ms + 5000 < hang)
		hang = o->max_ms + 5000;
	if (o->parallel && !o->fresh) {
		for (size_t i = 0; i < n; i++)
			job_start(o, doc, &jobs[i], shared);
		drive(jobs, n, shared, hang);
	} else {
		for (size_t i = 0; i < n; i++) {
			job_start(o, doc, &jobs[i], shared);
			drive(&jobs[i], 1, o->fresh ? NULL : shared, hang);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (judge(o, doc, desc, &jobs[i], o->one != NULL))
			cnt->passed++;
		else
			cnt->failed++;
		spfkit_resolver_free(jobs[i].own);
		spfkit_check_free(jobs[i].chk);
		spfkit_config_free(jobs[i].cfg);
	}
	free(jobs);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: rfc7208_dns_runner --nameserver ADDR@PORT [--doc N] "
		"[--only FILE] [--skip FILE]\n"
		"         [--expect RESULT] [--query-timeout MS] "
		"[--deadline MS] [--max-ms MS]\n"
		"         [--parallel] [--fresh] SUITE.yml [CASE]\n");
	return 2;
}

static bool num(const char *s, unsigned long *v)
{
	char *end;
	if (!s || !*s)
		return false;
	*v = strtoul(s, &end, 10);
	return *end == '\0';
}

int main(int argc, char **argv)
{
	opts o = {.doc = -1};
	const char *path = NULL;
	unsigned long v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--nameserver") == 0 && arg) {
			o.nameserver = arg, i++;
		} else if (strcmp(a, "--doc") == 0 && num(arg, &v)) {
			o.doc = (long)v, i++;
		} else if (strcmp(a, "--only") == 0 && arg) {
			o.only = read_names(arg), i++;
		} else if (strcmp(a, "--skip") == 0 && arg) {
			o.skip = read_names(arg), i++;
		} else if (strcmp(a, "--expect") == 0 && arg) {
			o.expect = arg, i++;
		} else if (strcmp(a, "--query-timeout") == 0 && num(arg, &v)) {
			o.query_timeout = (uint32_t)v, i++;
		} else if (strcmp(a, "--deadline") == 0 && num(arg, &v)) {
			o.deadline = (uint32_t)v, i++;
		} else if (strcmp(a, "--max-ms") == 0 && num(arg, &v)) {
			o.max_ms = (uint32_t)v, i++;
		} else if (strcmp(a, "--parallel") == 0) {
			o.parallel = true;
		} else if (strcmp(a, "--fresh") == 0) {
			o.fresh = true;
		} else if (a[0] == '-' && a[1]) {
			return usage();
		} else if (!path) {
			path = a;
		} else if (!o.one) {
			o.one = a;
		} else {
			return usage();
		}
	}
	if (!path || !o.nameserver)
		return usage();
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "rfc7208_dns_runner: cannot open %s\n", path);
		return 2;
	}
	spfkit_config *rcfg = NULL;
	spfkit_resolver *shared = NULL;
	int rc = spfkit_config_new(&rcfg, NULL);
	if (rc == SPFKIT_OK && !o.fresh)
		rc = new_resolver(&o, rcfg, &shared);
	if (rc < 0) {
		fprintf(stderr, "rfc7208_dns_runner: resolver for %s: %s\n",
			o.nameserver, spfkit_strerror(rc));
		spfkit_config_free(rcfg);
		fclose(fp);
		return 2;
	}
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		fprintf(stderr, "rfc7208_dns_runner: out of memory\n");
		return 2;
	}
	yaml_parser_set_input_file(&parser, fp);
	counts cnt = {0, 0, 0};
	int status = 0;
	for (long index = 0;; index++) {
		yaml_document_t doc;
		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "rfc7208_dns_runner: %s:%lu: %s\n",
				path,
				(unsigned long)parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "YAML error");
			status = 2;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		if (o.doc < 0 || o.doc == index)
			run_document(&o, &doc, shared, &cnt);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	if (shared)
		printf(
		    "# %llu queries sent\n",
		    (unsigned long long)spfkit_resolver_queries_sent(shared));
	spfkit_resolver_free(shared);
	spfkit_config_free(rcfg);
	free_names(o.only);
	free_names(o.skip);
	if (status)
		return status;
	if (o.one && cnt.matched == 0) {
		fprintf(stderr, "rfc7208_dns_runner: no case named %s\n",
			o.one);
		return 2;
	}
	printf("%u passed, %u failed\n", cnt.passed, cnt.failed);
	return cnt.failed ? 1 : 0;
}
