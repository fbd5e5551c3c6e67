/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace.c - `spfkit trace`: one check shown step by step, from the
 * evaluator's own events: each record as it is fetched, each term as it
 * is reached, each DNS answer it uses (status, records, TTL, time taken),
 * the counters after every step, the term that matched and why the
 * result is what it is. The check is a normal one (no walking), so the
 * result, counts and match are exactly those of `spfkit check`.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "walk.h"

#define PROG "spfkit trace"

void cli_trace_help(FILE *f)
{
	fputs("Usage: spfkit trace --ip IP --sender ADDR [OPTION]...\n"
	      "       spfkit trace --ip IP DOMAIN [OPTION]...\n"
	      "\n"
	      "Evaluates SPF as spfkit check does and prints every step: "
	      "records,\n"
	      "terms as they are reached, DNS answers with status, TTL and "
	      "time\n"
	      "taken, the counters after each step, the matched term and why "
	      "the\n"
	      "result is what it is.\n"
	      "\n"
	      "  --ip IP           the client address (required)\n"
	      "  --sender ADDR     MAIL FROM ('' is the null sender: HELO is "
	      "checked);\n"
	      "                    DOMAIN alone checks postmaster@DOMAIN\n"
	      "  --helo NAME       the HELO name; --scope helo checks it\n"
	      "  --record TEXT     use this draft as the domain's record\n"
	      "  --format FORMAT   text (default) or json (every event)\n",
	      f);
	walk_help_dns(f, true);
	fputs("\n"
	      "Exit status as for spfkit check: 0 pass, 1 fail, 2 softfail, "
	      "3 neutral,\n"
	      "4 none, 5 permerror, 6 temperror; 64 usage error, 65 a zone "
	      "file that\n"
	      "does not parse, 66 a file that cannot be read, 70 internal "
	      "error.\n"
	      "See spfkit-trace(1).\n",
	      f);
}

/* The counters after a step, right-aligned after the step's text. */
static void counters(FILE *f, const spfkit_event *e)
{
	fprintf(f, "   [lookups %u/10, void %u/2]\n", e->lookups,
		e->void_lookups);
}

static void text_event(FILE *f, const walk_ev *w)
{
	const spfkit_event *e = &w->ev;
	unsigned d = e->depth;
	switch (e->kind) {
	case SPFKIT_EVENT_FRAME:
		walk_indent(f, d);
		fprintf(f, "%s ", e->via ? e->via : "top");
		cli_put_str(f, e->domain);
		counters(f, e);
		break;
	case SPFKIT_EVENT_RECORD:
		walk_indent(f, d);
		fputs("  record \"", f);
		cli_put_safe(f, e->text ? e->text : "", e->text_len);
		fprintf(f, "\" (ttl %u)\n", (unsigned)e->ttl);
		break;
	case SPFKIT_EVENT_TERM:
		walk_indent(f, d);
		fputs("  term ", f);
		cli_put_safe(f, e->text ? e->text : "", e->text_len);
		if (e->counted)
			fputs(" (counts)", f);
		counters(f, e);
		break;
	case SPFKIT_EVENT_LOOKUP:
		walk_indent(f, d);
		walk_put_lookup(f, e);
		/* A failure's kind, as the DNS source named it. */
		if (e->status == SPFKIT_DNS_TEMPFAIL &&
		    e->failure != SPFKIT_DNS_FAIL_UNKNOWN)
			fprintf(f, " (%s)",
				spfkit_dns_failure_name(e->failure));
		fprintf(f, " (ttl %u, %llu.%03llu ms", (unsigned)e->ttl,
			(unsigned long long)(w->elapsed / 1000),
			(unsigned long long)(w->elapsed % 1000));
		/* DNSSEC status, when anything was validated */
		if (e->dnssec != SPFKIT_DNSSEC_UNKNOWN)
			fprintf(f, ", dnssec %s",
				spfkit_dnssec_name(e->dnssec));
		fputs(")\n", f);
		break;
	case SPFKIT_EVENT_VOID:
		walk_indent(f, d);
		fprintf(f, "      void lookup: %s ", walk_type_name(e->type));
		cli_put_str(f, e->name);
		fprintf(f, " %s",
			e->status == SPFKIT_DNS_NXDOMAIN ? "does not exist"
							 : "has no records");
		counters(f, e);
		break;
	case SPFKIT_EVENT_TERM_END:
		walk_indent(f, d);
		fputs(e->matched ? "      => match\n" : "      => no match\n",
		      f);
		break;
	case SPFKIT_EVENT_FRAME_END:
		walk_indent(f, d);
		fputs("  result of ", f);
		cli_put_str(f, e->domain);
		fprintf(f, ": %s (%s)", spfkit_result_name(e->result),
			spfkit_reason_name(e->reason));
		counters(f, e);
		break;
	case SPFKIT_EVENT_PROBLEM:
		walk_indent(f, d);
		fprintf(f, "  problem (%s): ", spfkit_result_name(e->result));
		cli_put_safe(f, e->text ? e->text : "", e->text_len);
		putc('\n', f);
		break;
	default: break;
	}
}

/* Why the result is what it is, in one line. */
static void why(FILE *f, const spfkit_check *chk)
{
	spfkit_result r = spfkit_check_result(chk);
	spfkit_reason why = spfkit_check_reason(chk);
	const char *mech = spfkit_check_mechanism(chk);
	const char *where = spfkit_check_where(chk);
	fputs("  why          ", f);
	if (why == SPFKIT_REASON_MECHANISM && mech) {
		fputs("'", f);
		cli_put_str(f, mech);
		fputs("' matched", f);
		if (where) {
			fputs(" (", f);
			cli_put_str(f, where);
			fputs(")", f);
		}
		fprintf(f, "; its qualifier '%c' gives %s (RFC 7208 4.6.2)\n",
			mech[0] == '-' || mech[0] == '~' || mech[0] == '?'
			    ? mech[0]
			    : '+',
			spfkit_result_name(r));
	} else if (why == SPFKIT_REASON_DEFAULT) {
		fputs("no term matched and there is no redirect=: the "
		      "default is neutral (RFC 7208 4.7)\n",
		      f);
	} else {
		const char *p = spfkit_check_problem(chk);
		cli_put_str(f, p ? p : spfkit_reason_name(why));
		putc('\n', f);
	}
}

static void text_out(FILE *f, const walk_run *run)
{
	const spfkit_check *chk = run->chk;
	fputs("trace ", f);
	cli_put_str(f, spfkit_check_ip(chk));
	fputs(" sending as ", f);
	cli_put_str(f, spfkit_check_sender(chk));
	fprintf(f, " (%s), domain ", spfkit_check_identity(chk));
	cli_put_str(f, spfkit_check_domain(chk));
	putc('\n', f);
	for (size_t i = 0; i < run->log.n; i++)
		text_event(f, &run->log.v[i]);
	spfkit_result r = spfkit_check_result(chk);
	fprintf(f, "result: %s\n", spfkit_result_name(r));
	why(f, chk);
	const char *exp = spfkit_check_explanation(chk);
	if (exp) {
		fputs("  explanation  ", f);
		cli_put_str(f, exp);
		putc('\n', f);
	}
	fprintf(f,
		"  lookups      %u of 10 DNS-querying terms, %u of 2 void "
		"lookups, %u DNS queries\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk),
		spfkit_check_queries(chk));
}

/* The members a DNS event (QUERY, ANSWER, LOOKUP, VOID) adds. */
static void json_dns(cli_jw *w, const walk_ev *ev)
{
	const spfkit_event *e = &ev->ev;
	cli_jw_kuint(w, "query_id", e->query_id);
	cli_jw_kstr(w, "name", e->name);
	cli_jw_kstr(w, "type", walk_type_name(e->type));
	if (e->kind == SPFKIT_EVENT_QUERY)
		return;
	cli_jw_kstr(w, "status", walk_status_name(e->status));
	if (e->kind == SPFKIT_EVENT_VOID)
		return;
	/* TEMPFAIL's kind (spfkit_dns_failure_name), else null. */
	cli_jw_kstr(w, "failure",
		    e->status == SPFKIT_DNS_TEMPFAIL
			? spfkit_dns_failure_name(e->failure)
			: NULL);
	cli_jw_kuint(w, "ttl", e->ttl);
	cli_jw_kuint(w, "records", e->nitems);
	cli_jw_kstr(w, "dnssec", spfkit_dnssec_name(e->dnssec));
	cli_jw_key(w, "ms");
	cli_jw_fixed(w, ev->elapsed, 3);
	if (e->kind == SPFKIT_EVENT_ANSWER) {
		cli_jw_kuint(w, "rdata_octets", e->rdata_octets);
		return;
	}
	cli_jw_key(w, "items");
	walk_jw_items(w, e);
}

/* The members a TERM event adds. */
static void json_term(cli_jw *w, const spfkit_event *e)
{
	char q = e->qualifier ? e->qualifier : '+';
	cli_jw_kstr(w, "mechanism", e->mechanism);
	cli_jw_key(w, "qualifier");
	cli_jw_string(w, &q, 1);
	cli_jw_kbool(w, "counted", e->counted);
	if (e->addr) {
		char buf[64], net[80];
		inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, buf,
			  sizeof buf);
		snprintf(net, sizeof net, "%s/%d", buf, e->cidr);
		cli_jw_kstr(w, "network", net);
	}
}

static void json_event(cli_jw *w, const walk_ev *ev)
{
	const spfkit_event *e = &ev->ev;
	cli_jw_obj(w);
	cli_jw_kstr(w, "event", walk_kind_name(e->kind));
	cli_jw_kuint(w, "depth", e->depth);
	cli_jw_kstr(w, "via", e->via);
	cli_jw_kstr(w, "domain", e->domain);
	cli_jw_kuint(w, "lookups", e->lookups);
	cli_jw_kuint(w, "void_lookups", e->void_lookups);
	switch (e->kind) {
	case SPFKIT_EVENT_QUERY:
	case SPFKIT_EVENT_ANSWER:
	case SPFKIT_EVENT_LOOKUP:
	case SPFKIT_EVENT_VOID: json_dns(w, ev); break;
	case SPFKIT_EVENT_RECORD:
	case SPFKIT_EVENT_TERM:
	case SPFKIT_EVENT_TERM_END:
		cli_jw_key(w, "text");
		cli_jw_string(w, e->text ? e->text : "", e->text_len);
		if (e->kind == SPFKIT_EVENT_RECORD)
			cli_jw_kuint(w, "ttl", e->ttl);
		else if (e->kind == SPFKIT_EVENT_TERM)
			json_term(w, e);
		else
			cli_jw_kbool(w, "matched", e->matched);
		break;
	case SPFKIT_EVENT_FRAME_END:
	case SPFKIT_EVENT_PROBLEM:
	case SPFKIT_EVENT_RESULT:
		cli_jw_kstr(w, "result", spfkit_result_name(e->result));
		cli_jw_kstr(w, "reason", spfkit_reason_name(e->reason));
		cli_jw_key(w, "text");
		if (e->text)
			cli_jw_string(w, e->text, e->text_len);
		else
			cli_jw_null(w);
		break;
	default: break;
	}
	cli_jw_kuint(w, "us", ev->us);
	cli_jw_obj_end(w);
}

static void json_out(FILE *f, const walk_run *run)
{
	const spfkit_check *chk = run->chk;
	cli_jw w;
	cli_jw_line(&w, f);
	cli_jw_kstr(&w, "ip", spfkit_check_ip(chk));
	cli_jw_kstr(&w, "sender", spfkit_check_sender(chk));
	cli_jw_kstr(&w, "identity", spfkit_check_identity(chk));
	cli_jw_kstr(&w, "domain", spfkit_check_domain(chk));
	/* One event a line. */
	cli_jw_key(&w, "events");
	cli_jw_arr_lines(&w);
	for (size_t i = 0; i < run->log.n; i++)
		json_event(&w, &run->log.v[i]);
	cli_jw_arr_end(&w);
	cli_jw_kstr(&w, "result", spfkit_result_name(spfkit_check_result(chk)));
	cli_jw_kstr(&w, "reason", spfkit_reason_name(spfkit_check_reason(chk)));
	cli_jw_kstr(&w, "mechanism", spfkit_check_mechanism(chk));
	cli_jw_kstr(&w, "where", spfkit_check_where(chk));
	cli_jw_kstr(&w, "problem", spfkit_check_problem(chk));
	cli_jw_kstr(&w, "explanation", spfkit_check_explanation(chk));
	cli_jw_counts(&w, chk);
	cli_jw_line_end(&w);
}

int cli_trace_main(int argc, char **argv)
{
	walk_opts o;
	walk_run run;
	int status;
	if (!walk_start(argc, argv, PROG, WALK_OPT_NEEDIP, cli_trace_help,
			false, &o, &run, &status))
		return status;
	if (o.format == WALK_JSON)
		json_out(stdout, &run);
	else
		text_out(stdout, &run);
	/* As spfkit check: the result's exit status. */
	status = cli_exit_for_result(spfkit_check_result(run.chk));
	return walk_end(&o, &run, status);
}
