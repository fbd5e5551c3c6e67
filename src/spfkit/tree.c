/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tree.c - `spfkit tree`: a domain's SPF as a resolved tree, the way
 * `dig TXT` followed all the way down would show it: every include and
 * redirect with its record and TTL, each node's own DNS-querying terms
 * and void lookups, the running totals, the answers, and the addresses
 * each node authorises. Text for people, JSON for programs, DOT for
 * Graphviz, SVG drawn here (svg.c); the pictures mark the nodes past the
 * ten-lookup limit and those with lint findings (svg_marks.c).
 *
 * The tree is built from the events of a walked check (tree_build.c),
 * so each number is the evaluator's own. The result at the top is that
 * of the same check not walked (walk_verdict()): what spfkit check gives
 * for the tree's client, never the last record's result on a walk that
 * went on past an error.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "svg.h"
#include "tree.h"
#include "walk.h"

#define PROG "spfkit tree"

void tree_help_walk(FILE *f)
{
	fputs("  --ip IP           walk as for this client (default 192.0.2.1; "
	      "no\n"
	      "                    term holds it: it only picks A or AAAA for "
	      "a and\n"
	      "                    mx, the PTR name, and %{i})\n"
	      "  --sender ADDR     the identity (default postmaster@DOMAIN);\n"
	      "                    --helo NAME, --scope helo\n"
	      "  --record TEXT     use this draft as the domain's record\n",
	      f);
	walk_help_dns(f, true);
}

void cli_tree_help(FILE *f)
{
	fputs("Usage: spfkit tree DOMAIN [OPTION]...\n"
	      "       spfkit tree --sender ADDR [OPTION]...\n"
	      "\n"
	      "Shows DOMAIN's SPF record and every include and redirect under "
	      "it as a\n"
	      "tree: records with TTLs, each node's own DNS-querying terms and "
	      "void\n"
	      "lookups, running totals, the DNS answers, the problems, and the "
	      "addresses\n"
	      "each node authorises. Counts are the evaluator's own, with "
	      "every term\n"
	      "reached; the result is what spfkit check gives for the client "
	      "(--ip).\n"
	      "\n"
	      "  --format FORMAT   text (default), json, dot (Graphviz) or "
	      "svg (a\n"
	      "                    picture); both mark the nodes past the "
	      "10-lookup\n"
	      "                    limit and those with lint findings\n",
	      f);
	tree_help_walk(f);
	fputs("\n"
	      "Exit status: 0 the tree was shown (whatever it holds), 64 usage "
	      "error,\n"
	      "65 a zone file that does not parse, 66 a file that cannot be "
	      "read,\n"
	      "70 internal error. See spfkit-tree(1).\n",
	      f);
}

/* ------------------------------------------------------------ text */

/* A LOOKUP, VOID or PROBLEM line. */
static void text_event(FILE *f, const walk_ev *w, unsigned depth)
{
	const spfkit_event *e = &w->ev;
	walk_indent(f, depth);
	if (e->kind == SPFKIT_EVENT_VOID) {
		fprintf(f, "      void lookup %u: %s ", e->void_lookups,
			walk_type_name(e->type));
		cli_put_str(f, e->name);
		fprintf(f, " (%s)\n", walk_status_name(e->status));
		return;
	}
	if (e->kind == SPFKIT_EVENT_PROBLEM) {
		fputs("      problem: ", f);
		cli_put_safe(f, e->text ? e->text : "", e->text_len);
		putc('\n', f);
		return;
	}
	walk_put_lookup(f, e);
	if (e->status == SPFKIT_DNS_NOERROR && e->nitems)
		fprintf(f, " (ttl %u)", (unsigned)e->ttl);
	putc('\n', f);
}

static void put_addrs(FILE *f, uint64_t v4, unsigned v6)
{
	fprintf(f, "%llu IPv4 address%s, %u IPv6 prefix%s",
		(unsigned long long)v4, v4 == 1 ? "" : "es", v6,
		v6 == 1 ? "" : "es");
}

static void text_node(FILE *f, const node *n, unsigned depth)
{
	const spfkit_event *fe = &n->frame->ev;
	walk_indent(f, depth);
	cli_put_str(f, fe->domain);
	fprintf(f, "  [%s", fe->via ? fe->via : "top");
	if (n->record)
		fprintf(f, ", TXT ttl %u", (unsigned)n->record->ev.ttl);
	fputs("]\n", f);
	for (size_t i = 0; i < n->nev; i++)
		if (n->nev && n->ev[i]->ev.kind == SPFKIT_EVENT_PROBLEM)
			text_event(f, n->ev[i], depth);
	if (n->record) {
		walk_indent(f, depth);
		fputs("  \"", f);
		cli_put_safe(f, n->record->ev.text ? n->record->ev.text : "",
			     n->record->ev.text_len);
		fputs("\"\n", f);
	}
	for (size_t i = 0; i < n->nterms; i++) {
		const tterm *tt = &n->terms[i];
		const spfkit_event *te = &tt->term->ev;
		walk_indent(f, depth);
		fputs("  ", f);
		cli_put_safe(f, te->text ? te->text : "", te->text_len);
		if (te->counted)
			fprintf(f, "   [lookup %u]", te->lookups);
		if (tt->end && tt->end->ev.matched)
			fputs("   matched", f);
		if (tt->v4)
			fprintf(f, "   %llu IPv4 address%s",
				(unsigned long long)tt->v4,
				tt->v4 == 1 ? "" : "es");
		if (tt->v6)
			fprintf(f, "   %u IPv6 prefix%s", tt->v6,
				tt->v6 == 1 ? "" : "es");
		putc('\n', f);
		for (size_t k = 0; k < tt->nev; k++)
			text_event(f, tt->ev[k], depth);
		if (tt->child)
			text_node(f, tt->child, depth + 1);
	}
	walk_indent(f, depth);
	fprintf(f, "  = own %u DNS-querying term%s, %u void lookup%s",
		n->own_lookups, n->own_lookups == 1 ? "" : "s", n->own_voids,
		n->own_voids == 1 ? "" : "s");
	unsigned lb = fe->lookups, vb = fe->void_lookups;
	if (n->end)
		fprintf(f, "; running %u -> %u terms, %u -> %u void", lb,
			n->end->ev.lookups, vb, n->end->ev.void_lookups);
	fputs("; authorises ", f);
	put_addrs(f, tree_covered(&n->all4), n->all6);
	if (!n->reached)
		fputs("; not reached by a check (it ends at the first problem)",
		      f);
	else if (n->has_result)
		fprintf(f, "; result %s", spfkit_result_name(n->result));
	/* The walk went on past the problem: what it saw after it. */
	if (n->reached && n->has_result && n->end &&
	    n->end->ev.result != n->result)
		fprintf(f, " (the walk went on: %s)",
			spfkit_result_name(n->end->ev.result));
	putc('\n', f);
}

static void text_out(FILE *f, const tree *t, const spfkit_check *chk,
		     const spfkit_check *verdict)
{
	for (size_t i = 0; i < t->nloose; i++)
		text_event(f, t->loose[i], 0);
	if (t->root)
		text_node(f, t->root, 0);
	fprintf(f,
		"total: %u of 10 DNS-querying terms, %u of 2 void lookups, %u "
		"DNS queries (walked from %s; every term reached)\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk),
		spfkit_check_queries(chk), spfkit_check_ip(chk));
	const char *problem = spfkit_check_problem(verdict);
	const char *mech = spfkit_check_mechanism(verdict);
	const char *where = spfkit_check_where(verdict);
	fprintf(f, "result: %s (",
		spfkit_result_name(spfkit_check_result(verdict)));
	if (problem) {
		cli_put_str(f, problem);
	} else if (mech) {
		putc('\'', f);
		cli_put_str(f, mech);
		fputs("' matched", f);
		if (where) {
			fputs(" in ", f);
			cli_put_str(f, where);
		}
	} else {
		fputs("no term matched", f);
	}
	fprintf(f, "), as spfkit check gives for %s\n",
		spfkit_check_ip(verdict));
}

/* ------------------------------------------------------------ json */

/* A TERM's, RECORD's or PROBLEM's text as a JSON string. */
static void json_text(cli_jw *w, const spfkit_event *e)
{
	cli_jw_string(w, e->text ? e->text : "", e->text_len);
}

static void json_event(cli_jw *w, const walk_ev *ev)
{
	const spfkit_event *e = &ev->ev;
	cli_jw_obj(w);
	if (e->kind == SPFKIT_EVENT_PROBLEM) {
		cli_jw_key(w, "problem");
		json_text(w, e);
		cli_jw_kstr(w, "result", spfkit_result_name(e->result));
		cli_jw_kstr(w, "reason", spfkit_reason_name(e->reason));
		cli_jw_obj_end(w);
		return;
	}
	cli_jw_kstr(w, e->kind == SPFKIT_EVENT_VOID ? "void" : "lookup",
		    e->name);
	cli_jw_kstr(w, "type", walk_type_name(e->type));
	cli_jw_kstr(w, "status", walk_status_name(e->status));
	if (e->kind == SPFKIT_EVENT_VOID) {
		cli_jw_kuint(w, "void_lookups", e->void_lookups);
	} else {
		cli_jw_kuint(w, "ttl", e->ttl);
		cli_jw_key(w, "items");
		walk_jw_items(w, e);
	}
	cli_jw_obj_end(w);
}

/* An array of events. */
static void json_events(cli_jw *w, const walk_ev *const *v, size_t n)
{
	cli_jw_arr(w);
	for (size_t i = 0; i < n; i++)
		json_event(w, v[i]);
	cli_jw_arr_end(w);
}

static void json_node(cli_jw *w, const node *n);

static void json_term(cli_jw *w, const tterm *tt)
{
	const spfkit_event *te = &tt->term->ev;
	char q = te->qualifier ? te->qualifier : '+';
	cli_jw_obj(w);
	cli_jw_key(w, "term");
	json_text(w, te);
	cli_jw_kstr(w, "mechanism", te->mechanism);
	cli_jw_key(w, "qualifier");
	cli_jw_string(w, &q, 1);
	cli_jw_kbool(w, "counted", te->counted);
	cli_jw_kuint(w, "lookups", te->lookups);
	cli_jw_kbool(w, "matched", tt->end && tt->end->ev.matched);
	cli_jw_kuint(w, "ipv4_addresses", tt->v4);
	cli_jw_kuint(w, "ipv6_prefixes", tt->v6);
	cli_jw_key(w, "events");
	json_events(w, tt->ev, tt->nev);
	cli_jw_key(w, "child");
	if (tt->child)
		json_node(w, tt->child);
	else
		cli_jw_null(w);
	cli_jw_obj_end(w);
}

static void json_node(cli_jw *w, const node *n)
{
	const spfkit_event *fe = &n->frame->ev;
	const spfkit_event *re = n->record ? &n->record->ev : NULL;
	const spfkit_event *end = n->end ? &n->end->ev : NULL;
	cli_jw_obj(w);
	cli_jw_kstr(w, "domain", fe->domain);
	cli_jw_kstr(w, "via", fe->via);
	cli_jw_kuint(w, "depth", fe->depth);
	cli_jw_key(w, "record");
	if (re)
		json_text(w, re);
	else
		cli_jw_null(w);
	cli_jw_key(w, "ttl");
	if (re)
		cli_jw_uint(w, re->ttl);
	else
		cli_jw_null(w);
	cli_jw_kuint(w, "own_lookups", n->own_lookups);
	cli_jw_kuint(w, "own_void_lookups", n->own_voids);
	cli_jw_kuint(w, "lookups_before", fe->lookups);
	cli_jw_kuint(w, "void_lookups_before", fe->void_lookups);
	if (end) {
		cli_jw_kuint(w, "lookups_after", end->lookups);
		cli_jw_kuint(w, "void_lookups_after", end->void_lookups);
	} else {
		cli_jw_kstr(w, "lookups_after", NULL);
		cli_jw_kstr(w, "void_lookups_after", NULL);
	}
	cli_jw_kbool(w, "reached", n->reached);
	cli_jw_kstr(w, "result",
		    n->has_result ? spfkit_result_name(n->result) : NULL);
	cli_jw_kstr(w, "reason",
		    n->has_result ? spfkit_reason_name(n->reason) : NULL);
	cli_jw_kstr(w, "walk_result",
		    end ? spfkit_result_name(end->result) : NULL);
	cli_jw_kstr(w, "walk_reason",
		    end ? spfkit_reason_name(end->reason) : NULL);
	cli_jw_kuint(w, "ipv4_addresses", n->own4n);
	cli_jw_kuint(w, "ipv6_prefixes", n->own6);
	cli_jw_kuint(w, "total_ipv4_addresses", tree_covered(&n->all4));
	cli_jw_kuint(w, "total_ipv6_prefixes", n->all6);
	cli_jw_key(w, "events");
	json_events(w, n->ev, n->nev);
	cli_jw_key(w, "terms");
	cli_jw_arr(w);
	for (size_t i = 0; i < n->nterms; i++)
		json_term(w, &n->terms[i]);
	cli_jw_arr_end(w);
	cli_jw_obj_end(w);
}

/* Every problem of the walk with where it came: the record's domain and
 * route, and the term. */
static void json_problems(cli_jw *w, const tree *t)
{
	cli_jw_arr(w);
	for (size_t i = 0; i < t->nproblems; i++) {
		const tproblem *p = &t->problems[i];
		const spfkit_event *e = &p->ev->ev;
		cli_jw_obj(w);
		cli_jw_key(w, "problem");
		json_text(w, e);
		cli_jw_kstr(w, "result", spfkit_result_name(e->result));
		cli_jw_kstr(w, "reason", spfkit_reason_name(e->reason));
		cli_jw_kbool(w, "ends_check", i == 0);
		cli_jw_kstr(w, "domain", p->n ? p->n->frame->ev.domain : NULL);
		char *route = p->n ? tree_route(p->n) : NULL;
		cli_jw_kstr(w, "where", route);
		free(route);
		cli_jw_key(w, "depth");
		if (p->n)
			cli_jw_uint(w, p->n->frame->ev.depth);
		else
			cli_jw_null(w);
		cli_jw_key(w, "term");
		if (p->term)
			json_text(w, &p->n->terms[p->term - 1].term->ev);
		else
			cli_jw_null(w);
		cli_jw_obj_end(w);
	}
	cli_jw_arr_end(w);
}

static void json_out(FILE *f, const tree *t, const spfkit_check *chk,
		     const spfkit_check *verdict)
{
	cli_jw w;
	walk_jw_open(&w, f, chk);
	cli_jw_kstr(&w, "result",
		    spfkit_result_name(spfkit_check_result(verdict)));
	cli_jw_kstr(&w, "reason",
		    spfkit_reason_name(spfkit_check_reason(verdict)));
	cli_jw_kstr(&w, "problem", spfkit_check_problem(verdict));
	cli_jw_kstr(&w, "mechanism", spfkit_check_mechanism(verdict));
	cli_jw_kstr(&w, "where", spfkit_check_where(verdict));
	walk_jw_counts(&w, chk);
	cli_jw_key(&w, "problems");
	json_problems(&w, t);
	cli_jw_key(&w, "tree");
	if (t->root)
		json_node(&w, t->root);
	else
		cli_jw_null(&w);
	cli_jw_line_end(&w);
}

/* ------------------------------------------------------------ dot */

/* A DOT string body: printable ASCII, with " escaped; any other octet,
 * and the backslash, shown as \xHH (the backslash doubled, as DOT wants
 * it), as in text output: never as '?', a qualifier in a record. */
static void dot_str(FILE *f, const char *s, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			fputs("\\\"", f);
		else if (c >= 0x20 && c < 0x7f && c != '\\')
			putc(c, f);
		else
			fprintf(f, "\\\\x%02X", c);
	}
	if (n > max)
		fputs("...", f);
}

static void dot_node(FILE *f, const node *n, const marks *m, size_t id,
		     size_t *next)
{
	const spfkit_event *fe = &n->frame->ev;
	fprintf(f, "  n%zu [label=\"", id);
	dot_str(f, fe->domain ? fe->domain : "",
		fe->domain ? strlen(fe->domain) : 0, 253);
	if (n->record) {
		fputs("\\n", f);
		dot_str(f, n->record->ev.text ? n->record->ev.text : "",
			n->record->ev.text_len, 120);
		fprintf(f, "\\nTXT ttl %u", (unsigned)n->record->ev.ttl);
	} else {
		fputs("\\n(no record)", f);
	}
	fprintf(f, "\\nown: %u terms, %u void", n->own_lookups, n->own_voids);
	if (n->end)
		fprintf(f, "; running %u terms, %u void", n->end->ev.lookups,
			n->end->ev.void_lookups);
	fprintf(f, "\\n%llu IPv4 addresses, %u IPv6 prefixes\"",
		(unsigned long long)tree_covered(&n->all4), n->all6);
	bool problem = false;
	for (size_t i = 0; i < n->nev; i++)
		if (n->ev[i]->ev.kind == SPFKIT_EVENT_PROBLEM)
			problem = true;
	char *route = tree_route(n);
	int worst = marks_at(m, route, NULL);
	free(route);
	bool over = svg_over_limit(n);
	/* The marks the SVG shows: red for an error or no record, orange for
	 * a warning; past the limit filled and dashed. */
	if (problem || !n->record || worst == SPFKIT_SEVERITY_ERROR + 1)
		fputs(", color=red", f);
	else if (worst == SPFKIT_SEVERITY_WARNING + 1)
		fputs(", color=orange", f);
	if (worst)
		fputs(", penwidth=2", f);
	if (over)
		fputs(", style=\"filled,dashed\", fillcolor=\"#fbe3e3\", "
		      "xlabel=\"past the 10-lookup limit\"",
		      f);
	fputs("];\n", f);
	for (size_t i = 0; i < n->nterms; i++) {
		const tterm *tt = &n->terms[i];
		if (!tt->child)
			continue;
		size_t cid = (*next)++;
		dot_node(f, tt->child, m, cid, next);
		const spfkit_event *te = &tt->term->ev;
		fprintf(f, "  n%zu -> n%zu [label=\"", id, cid);
		dot_str(f, te->text ? te->text : "", te->text_len, 120);
		fprintf(f, "\"%s];\n",
			te->mechanism && strcmp(te->mechanism, "redirect") == 0
			    ? ", style=dashed"
			    : "");
	}
}

static void dot_out(FILE *f, const tree *t, const spfkit_check *chk,
		    const marks *m)
{
	fputs("digraph spf {\n  rankdir=LR;\n"
	      "  node [shape=box, fontname=monospace];\n",
	      f);
	fputs("  label=\"", f);
	const char *d = spfkit_check_domain(chk);
	dot_str(f, d, strlen(d), 253);
	fprintf(f, ": %u of 10 DNS-querying terms, %u of 2 void lookups\";\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk));
	size_t next = 1;
	if (t->root)
		dot_node(f, t->root, m, 0, &next);
	fputs("}\n", f);
}

int cli_tree_main(int argc, char **argv)
{
	walk_opts o;
	walk_run run;
	marks m = {0};
	int status =
	    walk_parse(argc, argv, PROG, WALK_OPT_DOT, cli_tree_help, &o);
	if (status)
		return status < 0 ? 0 : status;
	/* The pictures mark findings: the linter reads the same walk. */
	bool pictures = o.format == WALK_DOT || o.format == WALK_SVG;
	if (pictures) {
		status = marks_walk(&o, &run, &m);
	} else {
		memset(&run, 0, sizeof run);
		status = walk_check(&o, true, &run);
		if (!status)
			status = walk_verdict(&o, &run);
	}
	if (status) {
		marks_free(&m);
		return walk_end(&o, &run, status);
	}
	tree t;
	tree_build(&t, &run.log);
	if (t.oom)
		status = cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	else if (o.format == WALK_JSON)
		json_out(stdout, &t, run.chk, run.verdict);
	else if (o.format == WALK_DOT)
		dot_out(stdout, &t, run.chk, &m);
	else if (o.format == WALK_SVG) {
		if (!svg_write(stdout, &t, run.chk, &m, true))
			status =
			    cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	} else
		text_out(stdout, &t, run.chk, run.verdict);
	tree_free(&t);
	marks_free(&m);
	return walk_end(&o, &run, status);
}
