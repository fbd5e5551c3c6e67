/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dmarc.c - `spfkit dmarc DOMAIN`: the DMARC policy that applies to mail
 * from DOMAIN, found as RFC 9989 says (the DNS tree walk of §4.10) or, with
 * --discovery psl, as RFC 7489 did (the domain, then its organizational
 * domain by the public suffix list, libpsl). The walk itself is the
 * library's (spfkit_check_set_dmarc), run over the DNS source of the
 * options like any check; this file lists every query it made, the
 * policy and where it was found, and the library's lint findings with
 * their fixes, as text or one JSON object. dm_discover() also serves the
 * DMARC section of `spfkit report`.
 */
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dmarc.h"
#include "flatten.h"
#include "walk.h"

#define PROG "spfkit dmarc"

/* Exit statuses: a policy applies, DMARC does not apply, DNS failed. */
#define DM_EX_FOUND     0
#define DM_EX_NONE      1
#define DM_EX_TEMPERROR 2

void cli_dmarc_help(FILE *f)
{
	fputs("Usage: spfkit dmarc DOMAIN [OPTION]...\n"
	      "\n"
	      "Finds the DMARC policy that applies to mail from DOMAIN (the "
	      "RFC5322.From\n"
	      "domain): the DNS tree walk of RFC 9989 4.10 (at most 8 TXT "
	      "queries for\n"
	      "_dmarc names), the record that applies, its organizational "
	      "domain, the\n"
	      "policy for DOMAIN (p, sp for an existing subdomain, np for one "
	      "that does\n"
	      "not exist), every DNS query made, and findings about the record "
	      "with fixes.\n"
	      "\n"
	      "  --format FORMAT   text (default) or json\n"
	      "  --discovery HOW   treewalk (default, RFC 9989) or psl (RFC "
	      "7489: the\n"
	      "                    domain, then its organizational domain by "
	      "the public\n"
	      "                    suffix list)\n",
	      f);
	walk_help_dns(f, true);
	fputs("\n"
	      "Exit status: 0 a policy applies, 1 no DMARC record (DMARC does "
	      "not apply),\n"
	      "2 a DNS failure (temperror); 64 usage error, 65 a zone file "
	      "that does not\n"
	      "parse, 66 a file that cannot be read, 70 internal error. See "
	      "spfkit-dmarc(1).\n",
	      f);
}

/* ------------------------------------------------------------ discovery */

/* Keeps each query the discovery asks and how it was answered. */
static void on_event(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	(void)chk;
	dm_run *run = ud;
	if (ev->kind == SPFKIT_EVENT_QUERY) {
		if (!cli_grow(&run->q, &run->capq, run->nq, sizeof *run->q,
			      &run->oom))
			return;
		dm_query *q = &run->q[run->nq];
		memset(q, 0, sizeof *q);
		q->name = cli_copy(ev->name, strlen(ev->name));
		q->type = ev->type;
		if (!q->name)
			run->oom = true;
		else
			run->nq++;
	} else if (ev->kind == SPFKIT_EVENT_ANSWER) {
		for (size_t i = run->nq; i-- > 0;) {
			dm_query *q = &run->q[i];
			if (!q->answered && q->type == ev->type &&
			    strcmp(q->name, ev->name) == 0) {
				q->answered = true;
				q->status = ev->status;
				q->failure = ev->failure;
				q->nitems = ev->nitems;
				break;
			}
		}
	}
}

/* A copy of s (NULL stays NULL); oom set when the copy fails. */
static char *copy_or_null(const char *s, size_t n, bool *oom)
{
	if (!s)
		return NULL;
	char *c = cli_copy(s, n);
	if (!c)
		*oom = true;
	return c;
}

/* Keeps a finding of the library's DMARC lint. */
static void on_finding(const spfkit_finding *f, void *ud)
{
	dm_run *run = ud;
	if (!cli_grow(&run->f, &run->capf, run->nf, sizeof *run->f, &run->oom))
		return;
	dm_find *d = &run->f[run->nf++];
	memset(d, 0, sizeof *d);
	d->severity = f->severity;
	d->code = f->code;
	d->rfc = f->rfc;
	d->domain = copy_or_null(f->domain, f->domain ? strlen(f->domain) : 0,
				 &run->oom);
	d->message = copy_or_null(f->message, strlen(f->message), &run->oom);
	d->fix = copy_or_null(f->fix, f->fix ? strlen(f->fix) : 0, &run->oom);
	d->record = copy_or_null(f->record, f->record_len, &run->oom);
	d->record_len = f->record ? f->record_len : 0;
	d->pos = f->pos;
	d->len = f->len;
	d->replacement =
	    copy_or_null(f->replacement, f->replacement_len, &run->oom);
	d->replacement_len = f->replacement ? f->replacement_len : 0;
}

/* The organizational domain of name by the public suffix list (RFC 7489
 * §3.2), into buf. */
static const char *psl_org(const char *name, char *buf, size_t cap)
{
	psl_ctx_t *latest = psl_latest(NULL);
	const char *o =
	    cli_org_domain(latest ? latest : psl_builtin(), name, buf, cap);
	if (o != buf)
		memmove(buf, o, strlen(o) + 1);
	if (latest)
		psl_free(latest);
	return buf;
}

int dm_discover(const char *prog, const cli_dns_opts *dns, const char *domain,
		bool psl, dm_run *run)
{
	memset(run, 0, sizeof *run);
	run->psl = psl;
	int rc = spfkit_config_new(&run->cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(dns, run->cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_new(&run->chk, run->cfg);
	if (rc < 0)
		return cli_say(prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));
	char org[512];
	size_t n = strlen(domain);
	if (psl && n < sizeof org) {
		psl_org(domain, org, sizeof org);
		rc = spfkit_check_set_dmarc_org(run->chk, domain, n, org,
						strlen(org));
	} else {
		rc = spfkit_check_set_dmarc(run->chk, domain, n);
	}
	if (rc == SPFKIT_EINVAL)
		return cli_usage(prog, "'%s' is not a domain name",
				 cli_shown(domain));
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_events(run->chk, on_event, run);
	if (rc < 0)
		return cli_say(prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));
	cli_dns *d;
	int status = cli_dns_open(dns, run->cfg, prog, &d);
	if (status)
		return status;
	rc = cli_dns_run(d, run->chk);
	cli_dns_close(d);
	run->pol = spfkit_check_dmarc(run->chk);
	if (rc == SPFKIT_OK && run->pol)
		rc = spfkit_check_dmarc_lint(run->chk, on_finding, run);
	if (rc < 0 || !run->pol)
		return cli_say(prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc < 0 ? rc : SPFKIT_ESTATE));
	if (run->oom)
		return cli_say(prog, CLI_EX_SOFTWARE, "out of memory");
	return 0;
}

void dm_run_free(dm_run *run)
{
	for (size_t i = 0; i < run->nq; i++)
		free(run->q[i].name);
	free(run->q);
	for (size_t i = 0; i < run->nf; i++) {
		dm_find *d = &run->f[i];
		free(d->domain);
		free(d->message);
		free(d->fix);
		free(d->record);
		free(d->replacement);
	}
	free(run->f);
	spfkit_check_free(run->chk);
	spfkit_config_free(run->cfg);
	memset(run, 0, sizeof *run);
}

/* ------------------------------------------------------------ output */

/* Which tag gave the policy: p, sp or np (§4.10.1). */
static const char *which_tag(const spfkit_dmarc_policy *p)
{
	if (!p->policy_domain || strcmp(p->policy_domain, p->domain) == 0)
		return "p";
	if (!p->domain_exists && p->np)
		return "np";
	return p->sp ? "sp" : "p";
}

/* A policy name, or "-" for none. */
static const char *disp_or_dash(spfkit_dmarc_disp d)
{
	const char *s = spfkit_dmarc_disp_name(d);
	return s ? s : "-";
}

/* A query's outcome: its status, "unanswered" when the discovery ended
 * before its answer came. */
static const char *query_result(const dm_query *q)
{
	return q->answered ? walk_status_name(q->status) : "unanswered";
}

static void text_out(FILE *f, const dm_run *run)
{
	const spfkit_dmarc_policy *p = run->pol;
	fputs("DMARC policy for ", f);
	cli_put_str(f, p->domain);
	fputs(": ", f);
	if (p->status == SPFKIT_DMARC_FOUND) {
		fprintf(f, "%s (%s= of the record at ",
			spfkit_dmarc_disp_name(p->policy), which_tag(p));
		cli_put_str(f, p->policy_domain);
		fputs(p->testing ? "; t=y: testing)\n" : ")\n", f);
	} else if (p->status == SPFKIT_DMARC_NONE) {
		fputs("none: no DMARC record applies, DMARC does not apply\n",
		      f);
	} else {
		fputs("temperror: a DNS failure stopped the discovery\n", f);
	}
	if (p->record) {
		fputs("  record:        ", f);
		cli_put_str(f, p->record);
		fputs("\n  found at:      _dmarc.", f);
		cli_put_str(f, p->policy_domain);
		fprintf(f,
			"\n  tags:          p=%s sp=%s np=%s adkim=%c aspf=%c "
			"t=%s psd=%c\n",
			disp_or_dash(p->p), disp_or_dash(p->sp),
			disp_or_dash(p->np), p->adkim, p->aspf,
			p->testing ? "y" : "n", p->psd);
	}
	if (p->org_domain) {
		fputs("  organizational domain: ", f);
		cli_put_str(f, p->org_domain);
		putc('\n', f);
	}
	if (p->status == SPFKIT_DMARC_FOUND)
		fprintf(f, "  %s exists:  %s\n", "domain",
			p->domain_exists ? "yes" : "no (NXDOMAIN)");
	fprintf(f, "discovery: %s, %zu quer%s\n",
		run->psl ? "psl (RFC 7489)" : "treewalk (RFC 9989)", p->queries,
		p->queries == 1 ? "y" : "ies");
	for (size_t i = 0; i < run->nq; i++) {
		const dm_query *q = &run->q[i];
		fprintf(f, "  %-4s ", walk_type_name(q->type));
		cli_put_str(f, q->name);
		fprintf(f, " -> %s", query_result(q));
		if (q->answered && q->status == SPFKIT_DNS_TEMPFAIL)
			fprintf(f, " (%s)",
				spfkit_dns_failure_name(q->failure));
		else if (q->answered && q->status == SPFKIT_DNS_NOERROR)
			fprintf(f, ", %zu record%s", q->nitems,
				q->nitems == 1 ? "" : "s");
		putc('\n', f);
	}
	if (run->nf)
		fputs("findings:\n", f);
	for (size_t i = 0; i < run->nf; i++) {
		const dm_find *d = &run->f[i];
		fprintf(f, "  %s %s: ", spfkit_severity_name(d->severity),
			d->code);
		cli_put_str(f, d->message);
		if (d->domain) {
			fputs(" (", f);
			cli_put_str(f, d->domain);
			putc(')', f);
		}
		putc('\n', f);
		if (d->fix) {
			fputs("    fix: ", f);
			cli_put_str(f, d->fix);
			putc('\n', f);
		}
	}
}

/* A policy as JSON: its name, or null when unset. */
static void jw_disp(cli_jw *w, const char *k, spfkit_dmarc_disp d)
{
	cli_jw_kstr(w, k, spfkit_dmarc_disp_name(d));
}

/* A one-letter value as a JSON string. */
static void jw_char(cli_jw *w, const char *k, char c)
{
	cli_jw_key(w, k);
	cli_jw_string(w, &c, 1);
}

static void json_out(FILE *f, const dm_run *run)
{
	const spfkit_dmarc_policy *p = run->pol;
	cli_jw w;
	cli_jw_line(&w, f);
	cli_jw_kstr(&w, "domain", p->domain);
	cli_jw_kstr(&w, "status", spfkit_dmarc_status_name(p->status));
	cli_jw_kstr(&w, "record", p->record);
	cli_jw_kstr(&w, "policy_domain", p->policy_domain);
	cli_jw_kstr(&w, "organizational_domain", p->org_domain);
	jw_disp(&w, "policy", p->policy);
	cli_jw_kstr(&w, "policy_from",
		    p->status == SPFKIT_DMARC_FOUND ? which_tag(p) : NULL);
	jw_disp(&w, "p", p->p);
	jw_disp(&w, "sp", p->sp);
	jw_disp(&w, "np", p->np);
	jw_char(&w, "adkim", p->adkim);
	jw_char(&w, "aspf", p->aspf);
	cli_jw_key(&w, "testing");
	cli_jw_bool(&w, p->testing);
	jw_char(&w, "psd", p->psd);
	cli_jw_key(&w, "domain_exists");
	cli_jw_bool(&w, p->domain_exists);
	cli_jw_kstr(&w, "discovery", run->psl ? "psl" : "treewalk");
	cli_jw_key(&w, "queries");
	cli_jw_arr(&w);
	for (size_t i = 0; i < run->nq; i++) {
		const dm_query *q = &run->q[i];
		cli_jw_obj(&w);
		cli_jw_kstr(&w, "name", q->name);
		cli_jw_kstr(&w, "type", walk_type_name(q->type));
		cli_jw_kstr(&w, "result", query_result(q));
		if (q->answered && q->status == SPFKIT_DNS_TEMPFAIL)
			cli_jw_kstr(&w, "failure",
				    spfkit_dns_failure_name(q->failure));
		cli_jw_key(&w, "records");
		cli_jw_uint(&w, q->nitems);
		cli_jw_obj_end(&w);
	}
	cli_jw_arr_end(&w);
	cli_jw_key(&w, "findings");
	cli_jw_arr(&w);
	for (size_t i = 0; i < run->nf; i++) {
		const dm_find *d = &run->f[i];
		cli_jw_obj(&w);
		cli_jw_kstr(&w, "severity", spfkit_severity_name(d->severity));
		cli_jw_kstr(&w, "code", d->code);
		cli_jw_kstr(&w, "rfc", d->rfc);
		cli_jw_kstr(&w, "domain", d->domain);
		cli_jw_key(&w, "record");
		if (d->record)
			cli_jw_string(&w, d->record, d->record_len);
		else
			cli_jw_null(&w);
		cli_jw_key(&w, "pos");
		cli_jw_uint(&w, d->pos);
		cli_jw_key(&w, "len");
		cli_jw_uint(&w, d->len);
		cli_jw_kstr(&w, "message", d->message);
		cli_jw_kstr(&w, "fix", d->fix);
		cli_jw_key(&w, "replacement");
		if (d->replacement)
			cli_jw_string(&w, d->replacement, d->replacement_len);
		else
			cli_jw_null(&w);
		cli_jw_obj_end(&w);
	}
	cli_jw_arr_end(&w);
	cli_jw_line_end(&w);
}

/* ------------------------------------------------------------ options */

typedef struct dm_opts {
	const cli_args *a;
	const char *format;
	const char *discovery;
} dm_opts;

enum { OPT_FORMAT = CLI_OPT_FIRST, OPT_DISCOVERY };

static const struct option longopts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"discovery", required_argument, NULL, OPT_DISCOVERY},
    {"help", no_argument, NULL, 'h'},
    CLI_DNS_LONGOPTS,
    {NULL, 0, NULL, 0}};

static int take(int c, void *ud)
{
	dm_opts *o = ud;
	int status = 0;
	switch (c) {
	case 'h': cli_dmarc_help(stdout); return -1;
	case OPT_FORMAT: return fl_format(o->a, &o->format, c, "text");
	case OPT_DISCOVERY:
		if (!cli_set_once(o->a, &o->discovery, optarg, c, &status))
			return status;
		if (strcmp(optarg, "treewalk") && strcmp(optarg, "psl"))
			return cli_usage(PROG,
					 "--discovery: '%s' is not treewalk "
					 "or psl",
					 cli_shown(optarg));
		return 0;
	default: return cli_usage(PROG, "unexpected option");
	}
}

int cli_dmarc_main(int argc, char **argv)
{
	cli_args a = {PROG, "dmarc", longopts};
	dm_opts o = {.a = &a};
	dm_run run = {0};
	cli_dns_opts dns;
	const char *domain = NULL;
	if (!cli_dns_opts_init(&dns, argc))
		return cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	int status = cli_parse(&a, argc, argv, &dns, NULL, take, &o);
	if (status) {
		status = status < 0 ? 0 : status;
		goto done;
	}
	status = fl_operand(&a, argc, argv, &dns, &domain);
	if (status)
		goto done;
	bool psl = o.discovery && strcmp(o.discovery, "psl") == 0;
	status = dm_discover(PROG, &dns, domain, psl, &run);
	if (status)
		goto done;
	if (o.format && strcmp(o.format, "json") == 0)
		json_out(stdout, &run);
	else
		text_out(stdout, &run);
	status = run.pol->status == SPFKIT_DMARC_FOUND  ? DM_EX_FOUND
		 : run.pol->status == SPFKIT_DMARC_NONE ? DM_EX_NONE
							: DM_EX_TEMPERROR;
	if (fflush(stdout) != 0 || ferror(stdout))
		status = cli_say(PROG, CLI_EX_SOFTWARE, "write error");
done:
	dm_run_free(&run);
	cli_dns_opts_free(&dns);
	return status;
}
