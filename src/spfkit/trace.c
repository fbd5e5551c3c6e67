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
	      "  --format FORMAT   text (default) or json (every event)\n"
	      "  --zone FILE       DNS from this zone file (repeatable; "
	      "hermetic)\n"
	      "  --nameserver ADDR[@PORT], --recursive, --root-hints FILE,\n"
	      "  --trust-anchor FILE, --timeout SECONDS as for spfkit check\n"
	      "  -h, --help        show this help and exit\n"
	      "\n"
	      "Exit status as for spfkit check: 0 pass, 1 fail, 2 softfail, "
	      "3 neutral,\n"
	      "4 none, 5 permerror, 6 temperror; 64 usage error, 65 a zone "
	      "file that\n"
	      "does not parse, 66 a file that cannot be read, 70 internal "
	      "error.\n"
	      "See spfkit-trace(1).\n",
	      f);
}

static void indent(FILE *f, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		fputs("    ", f);
}

static void put_str(FILE *f, const char *s)
{
	if (s)
		walk_put(f, s, strlen(s));
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
		indent(f, d);
		fprintf(f, "%s ", e->via ? e->via : "top");
		put_str(f, e->domain);
		counters(f, e);
		break;
	case SPFKIT_EVENT_RECORD:
		indent(f, d);
		fputs("  record \"", f);
		walk_put(f, e->text ? e->text : "", e->text_len);
		fprintf(f, "\" (ttl %u)\n", (unsigned)e->ttl);
		break;
	case SPFKIT_EVENT_TERM:
		indent(f, d);
		fputs("  term ", f);
		walk_put(f, e->text ? e->text : "", e->text_len);
		if (e->counted)
			fputs(" (counts)", f);
		counters(f, e);
		break;
	case SPFKIT_EVENT_LOOKUP:
		indent(f, d);
		fprintf(f, "      %s ", walk_type_name(e->type));
		put_str(f, e->name);
		fprintf(f, " -> %s", walk_status_name(e->status));
		for (size_t i = 0; i < e->nitems && e->items && i < 20; i++) {
			fputs(i ? ", " : " ", f);
			walk_put_item(f, e->type, &e->items[i]);
		}
		if (e->nitems > 20)
			fprintf(f, ", ... (%zu in all)", e->nitems);
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
		indent(f, d);
		fprintf(f, "      void lookup: %s ", walk_type_name(e->type));
		put_str(f, e->name);
		fprintf(f, " %s",
			e->status == SPFKIT_DNS_NXDOMAIN ? "does not exist"
							 : "has no records");
		counters(f, e);
		break;
	case SPFKIT_EVENT_TERM_END:
		indent(f, d);
		fputs(e->matched ? "      => match\n" : "      => no match\n",
		      f);
		break;
	case SPFKIT_EVENT_FRAME_END:
		indent(f, d);
		fputs("  result of ", f);
		put_str(f, e->domain);
		fprintf(f, ": %s (%s)", spfkit_result_name(e->result),
			spfkit_reason_name(e->reason));
		counters(f, e);
		break;
	case SPFKIT_EVENT_PROBLEM:
		indent(f, d);
		fprintf(f, "  problem (%s): ", spfkit_result_name(e->result));
		walk_put(f, e->text ? e->text : "", e->text_len);
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
		put_str(f, mech);
		fputs("' matched", f);
		if (where) {
			fputs(" (", f);
			put_str(f, where);
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
		put_str(f, p ? p : spfkit_reason_name(why));
		putc('\n', f);
	}
}

static void text_out(FILE *f, const walk_run *run)
{
	const spfkit_check *chk = run->chk;
	fputs("trace ", f);
	put_str(f, spfkit_check_ip(chk));
	fputs(" sending as ", f);
	put_str(f, spfkit_check_sender(chk));
	fprintf(f, " (%s), domain ", spfkit_check_identity(chk));
	put_str(f, spfkit_check_domain(chk));
	putc('\n', f);
	for (size_t i = 0; i < run->log.n; i++)
		text_event(f, &run->log.v[i]);
	spfkit_result r = spfkit_check_result(chk);
	fprintf(f, "result: %s\n", spfkit_result_name(r));
	why(f, chk);
	const char *exp = spfkit_check_explanation(chk);
	if (exp) {
		fputs("  explanation  ", f);
		put_str(f, exp);
		putc('\n', f);
	}
	fprintf(f,
		"  lookups      %u of 10 DNS-querying terms, %u of 2 void "
		"lookups, %u DNS queries\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk),
		spfkit_check_queries(chk));
}

static void json_event(FILE *f, const walk_ev *w)
{
	const spfkit_event *e = &w->ev;
	fprintf(f, "{\"event\":\"%s\",\"depth\":%u,\"via\":",
		walk_kind_name(e->kind), e->depth);
	walk_json_str(f, e->via);
	fputs(",\"domain\":", f);
	walk_json_str(f, e->domain);
	fprintf(f, ",\"lookups\":%u,\"void_lookups\":%u", e->lookups,
		e->void_lookups);
	switch (e->kind) {
	case SPFKIT_EVENT_QUERY:
	case SPFKIT_EVENT_ANSWER:
	case SPFKIT_EVENT_LOOKUP:
	case SPFKIT_EVENT_VOID:
		fprintf(f, ",\"query_id\":%u,\"name\":", e->query_id);
		walk_json_str(f, e->name);
		fprintf(f, ",\"type\":\"%s\"", walk_type_name(e->type));
		if (e->kind == SPFKIT_EVENT_QUERY)
			break;
		fprintf(f, ",\"status\":\"%s\"", walk_status_name(e->status));
		if (e->kind == SPFKIT_EVENT_VOID)
			break;
		fprintf(f,
			",\"ttl\":%u,\"records\":%zu,\"dnssec\":\"%s\","
			"\"ms\":%llu.%03llu",
			(unsigned)e->ttl, e->nitems,
			spfkit_dnssec_name(e->dnssec),
			(unsigned long long)(w->elapsed / 1000),
			(unsigned long long)(w->elapsed % 1000));
		if (e->kind == SPFKIT_EVENT_ANSWER) {
			fprintf(f, ",\"rdata_octets\":%zu", e->rdata_octets);
			break;
		}
		fputs(",\"items\":[", f);
		for (size_t i = 0; i < e->nitems && e->items; i++) {
			if (i)
				putc(',', f);
			walk_json_item(f, e->type, &e->items[i]);
		}
		putc(']', f);
		break;
	case SPFKIT_EVENT_RECORD:
		fputs(",\"text\":", f);
		cli_json_string(f, e->text ? e->text : "", e->text_len);
		fprintf(f, ",\"ttl\":%u", (unsigned)e->ttl);
		break;
	case SPFKIT_EVENT_TERM:
		fputs(",\"text\":", f);
		cli_json_string(f, e->text ? e->text : "", e->text_len);
		fputs(",\"mechanism\":", f);
		walk_json_str(f, e->mechanism);
		fprintf(f, ",\"qualifier\":\"%c\",\"counted\":%s",
			e->qualifier ? e->qualifier : '+',
			e->counted ? "true" : "false");
		if (e->addr) {
			char buf[64];
			inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr,
				  buf, sizeof buf);
			fprintf(f, ",\"network\":\"%s/%d\"", buf, e->cidr);
		}
		break;
	case SPFKIT_EVENT_TERM_END:
		fputs(",\"text\":", f);
		cli_json_string(f, e->text ? e->text : "", e->text_len);
		fprintf(f, ",\"matched\":%s", e->matched ? "true" : "false");
		break;
	case SPFKIT_EVENT_FRAME_END:
	case SPFKIT_EVENT_PROBLEM:
	case SPFKIT_EVENT_RESULT:
		fprintf(f, ",\"result\":\"%s\",\"reason\":\"%s\",\"text\":",
			spfkit_result_name(e->result),
			spfkit_reason_name(e->reason));
		if (e->text)
			cli_json_string(f, e->text, e->text_len);
		else
			fputs("null", f);
		break;
	default: break;
	}
	fprintf(f, ",\"us\":%llu}", (unsigned long long)w->us);
}

static void json_out(FILE *f, const walk_run *run)
{
	const spfkit_check *chk = run->chk;
	fputs("{\"ip\":", f);
	walk_json_str(f, spfkit_check_ip(chk));
	fputs(",\"sender\":", f);
	walk_json_str(f, spfkit_check_sender(chk));
	fputs(",\"identity\":", f);
	walk_json_str(f, spfkit_check_identity(chk));
	fputs(",\"domain\":", f);
	walk_json_str(f, spfkit_check_domain(chk));
	fputs(",\"events\":[", f);
	for (size_t i = 0; i < run->log.n; i++) {
		if (i)
			fputs(",\n", f);
		json_event(f, &run->log.v[i]);
	}
	fputs("],\"result\":", f);
	walk_json_str(f, spfkit_result_name(spfkit_check_result(chk)));
	fputs(",\"reason\":", f);
	walk_json_str(f, spfkit_reason_name(spfkit_check_reason(chk)));
	fputs(",\"mechanism\":", f);
	walk_json_str(f, spfkit_check_mechanism(chk));
	fputs(",\"where\":", f);
	walk_json_str(f, spfkit_check_where(chk));
	fputs(",\"problem\":", f);
	walk_json_str(f, spfkit_check_problem(chk));
	fputs(",\"explanation\":", f);
	walk_json_str(f, spfkit_check_explanation(chk));
	fprintf(f, ",\"lookups\":%u,\"void_lookups\":%u,\"queries\":%u}\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk),
		spfkit_check_queries(chk));
}

int cli_trace_main(int argc, char **argv)
{
	walk_opts o;
	memset(&o, 0, sizeof o);
	o.prog = PROG;
	o.cmd = "trace";
	int status =
	    walk_parse(argc, argv, WALK_OPT_NEEDIP, cli_trace_help, &o);
	if (status) {
		walk_opts_free(&o);
		return status < 0 ? 0 : status;
	}
	walk_run run;
	memset(&run, 0, sizeof run);
	status = walk_check(&o, false, &run);
	if (!status) {
		if (o.format == WALK_JSON)
			json_out(stdout, &run);
		else
			text_out(stdout, &run);
		if (fflush(stdout) != 0)
			status = CLI_EX_SOFTWARE;
		else
			status =
			    cli_exit_for_result(spfkit_check_result(run.chk));
	}
	walk_run_free(&run);
	walk_opts_free(&o);
	return status;
}
