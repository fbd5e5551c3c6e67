/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.c - `spfkit report`: one self-contained HTML page about a
 * domain's SPF, to read in a browser or on a phone: the include tree as
 * a picture (svg.c), the lint findings with their fixes and
 * replacements, the addresses each record authorises, and the DMARC
 * policy that applies to the domain (dmarc.c). The page
 * fetches nothing: inline CSS and SVG, no script, no font, no image.
 *
 * Every text from DNS is hostile: it goes through xml_put(), which
 * writes markup characters as references and any octet outside
 * printable ASCII as the text \xHH, so no record can add markup to the
 * page or make it invalid UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dmarc.h"
#include "svg.h"
#include "tree.h"
#include "walk.h"

#define PROG "spfkit report"

void cli_report_help(FILE *f)
{
	fputs("Usage: spfkit report DOMAIN [OPTION]... > report.html\n"
	      "\n"
	      "Writes one self-contained HTML page about DOMAIN's SPF: the "
	      "include tree\n"
	      "as a picture (nodes past the 10-lookup limit and those with "
	      "findings\n"
	      "marked, running lookup counts on each), the lint findings with "
	      "their\n"
	      "fixes, the addresses each record authorises, and the DMARC "
	      "policy\n"
	      "that applies to DOMAIN (as spfkit dmarc finds it). The page "
	      "fetches\n"
	      "nothing (inline CSS and SVG, no script) and reads on a phone.\n"
	      "\n"
	      "  --format html     the page (the default and only format)\n",
	      f);
	tree_help_walk(f);
	fputs("\n"
	      "Exit status: 0 the page was written (whatever it shows), 64 "
	      "usage error,\n"
	      "65 a zone file that does not parse, 66 a file that cannot be "
	      "read,\n"
	      "70 internal error. See spfkit-report(1).\n",
	      f);
}

/* Small screens first: the picture scrolls sideways in its own box,
 * tables too; nothing is fetched. */
static const char css[] =
    "body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "margin:0 auto;padding:0 12px 32px;max-width:1100px;color:#1c1c28;"
    "background:#fafafa}\n"
    "h1{font-size:1.45em;margin:16px 0 4px;overflow-wrap:anywhere}\n"
    "h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #ccd}\n"
    "code,pre{font-family:ui-monospace,monospace;font-size:.9em}\n"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;"
    "border:1px solid #dde;padding:6px 8px;margin:6px 0}\n"
    "mark{background:#ffe08a}\n"
    "ins{background:#d8f5d0;text-decoration:none}\n"
    ".summary{color:#444}\n"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;"
    "border:1px solid #dde;background:#fff}\n"
    ".scroll svg{display:block}\n"
    ".legend{font-size:.9em;color:#444}\n"
    ".finding{background:#fff;border:1px solid #dde;border-left:5px solid "
    "#3b6ea5;padding:8px 12px;margin:10px 0}\n"
    ".finding.error{border-left-color:#b00020}\n"
    ".finding.warning{border-left-color:#b35900}\n"
    ".finding h3{font-size:1em;margin:0 0 4px}\n"
    ".where{color:#555;font-size:.9em;overflow-wrap:anywhere}\n"
    "table{border-collapse:collapse;background:#fff;width:100%}\n"
    "th,td{border:1px solid #dde;padding:4px 8px;text-align:left;"
    "vertical-align:top;overflow-wrap:anywhere}\n"
    "td.n{text-align:right;white-space:nowrap}\n"
    ".over td{background:#fbe3e3}\n"
    "@media (max-width:640px){body{font-size:15px}"
    "table,thead,tbody,tr,th,td{display:block}thead{display:none}"
    "tr{margin:0 0 10px;border:1px solid #dde}"
    "td{border:0;border-bottom:1px solid #eee}"
    "td[data-label]::before{content:attr(data-label) ': ';"
    "font-weight:600}td.n{text-align:left}}\n";

/* The summary under the title: the check's result and counters. */
static void html_summary(FILE *f, const tree *t, const walk_run *run,
			 const marks *m)
{
	const spfkit_check *chk = run->chk;
	unsigned lookups = spfkit_check_lookups(chk);
	fprintf(f,
		"<p class=\"summary\">%u of %u DNS-querying terms%s, %u of 2 "
		"void lookups (every term reached); ",
		lookups, SVG_LOOKUP_LIMIT,
		lookups > SVG_LOOKUP_LIMIT ? " <strong>(over the limit: "
					     "receivers give permerror)"
					     "</strong>"
					   : "",
		spfkit_check_void_lookups(chk));
	fprintf(f, "result for a client no term lists: <strong>%s</strong>",
		spfkit_result_name(spfkit_check_result(run->verdict)));
	const char *problem = spfkit_check_problem(run->verdict);
	if (problem) {
		fputs(" (", f);
		xml_puts(f, problem);
		putc(')', f);
	}
	fprintf(f, "; %u error%s, %u warning%s, %u note%s.</p>\n",
		m->counts[SPFKIT_SEVERITY_ERROR],
		m->counts[SPFKIT_SEVERITY_ERROR] == 1 ? "" : "s",
		m->counts[SPFKIT_SEVERITY_WARNING],
		m->counts[SPFKIT_SEVERITY_WARNING] == 1 ? "" : "s",
		m->counts[SPFKIT_SEVERITY_INFO],
		m->counts[SPFKIT_SEVERITY_INFO] == 1 ? "" : "s");
	if (t->root && t->root->record) {
		fputs("<pre class=\"record\">", f);
		xml_put(f, t->root->record->ev.text,
			t->root->record->ev.text_len);
		fputs("</pre>\n", f);
	}
}

/* The finding's record with the offending octets marked and, when the
 * linter offers a replacement, the record with it put in. */
static void html_record(FILE *f, const mark_find *x)
{
	bool span = x->record && x->pos <= x->record_len &&
		    x->len <= x->record_len - x->pos;
	if (!x->record)
		return;
	fputs("<pre>", f);
	if (span && x->len) {
		xml_put(f, x->record, x->pos);
		fputs("<mark>", f);
		xml_put(f, x->record + x->pos, x->len);
		fputs("</mark>", f);
		xml_put(f, x->record + x->pos + x->len,
			x->record_len - x->pos - x->len);
	} else {
		xml_put(f, x->record, x->record_len);
	}
	fputs("</pre>\n", f);
	if (!x->replacement)
		return;
	fputs("<p>Replacement: <code>", f);
	xml_put(f, x->replacement, x->replacement_len);
	fputs("</code></p>\n", f);
	if (!span)
		return;
	/* A finding about no octets of the record (len 0) offers the whole
	 * corrected record as its replacement (spfkit-lint(1):
	 * corrected_record). */
	fputs("<p>Corrected record:</p>\n<pre class=\"corrected\">", f);
	if (x->len) {
		xml_put(f, x->record, x->pos);
		fputs("<ins>", f);
		xml_put(f, x->replacement, x->replacement_len);
		fputs("</ins>", f);
		xml_put(f, x->record + x->pos + x->len,
			x->record_len - x->pos - x->len);
	} else {
		fputs("<ins>", f);
		xml_put(f, x->replacement, x->replacement_len);
		fputs("</ins>", f);
	}
	fputs("</pre>\n", f);
}

/* One finding: severity and code, where, message, the record with the
 * offending octets marked, the fix. */
static void html_finding(FILE *f, const mark_find *x)
{
	const char *name = spfkit_severity_name(x->severity);
	fprintf(f, "<article class=\"finding %s\">\n<h3>%s: <code>", name,
		name);
	xml_puts(f, x->code ? x->code : "-");
	fputs("</code>", f);
	if (x->rfc) {
		fputs(" <small>(", f);
		xml_puts(f, x->rfc);
		fputs(")</small>", f);
	}
	fputs("</h3>\n", f);
	if (x->where && x->where[0]) {
		fputs("<p class=\"where\">in ", f);
		xml_puts(f, x->where);
		fputs("</p>\n", f);
	}
	fputs("<p class=\"message\">", f);
	xml_puts(f, x->message);
	fputs("</p>\n", f);
	html_record(f, x);
	if (x->fix) {
		fputs("<p class=\"fix\"><strong>Fix:</strong> ", f);
		xml_puts(f, x->fix);
		fputs("</p>\n", f);
	}
	fputs("</article>\n", f);
}

/* The findings, errors first, then warnings, then notes. */
static void html_findings(FILE *f, const marks *m)
{
	fputs("<section id=\"findings\">\n<h2>Findings</h2>\n", f);
	if (m->n == 0)
		fputs("<p>No problems found.</p>\n", f);
	for (int sev = SPFKIT_SEVERITY_ERROR; sev >= SPFKIT_SEVERITY_INFO;
	     sev--)
		for (size_t i = 0; i < m->n; i++)
			if ((int)m->v[i].severity == sev)
				html_finding(f, &m->v[i]);
	fputs("</section>\n", f);
}

/* A DMARC policy value, or "-" when the tag is absent. */
static const char *disp(spfkit_dmarc_disp d)
{
	return spfkit_dmarc_disp_name(d) ? spfkit_dmarc_disp_name(d) : "-";
}

/* One row of the DMARC tags table. */
static void dmarc_row(FILE *f, const char *tag, const char *value)
{
	fputs("<tr><th>", f);
	xml_puts(f, tag);
	fputs("</th><td>", f);
	xml_puts(f, value);
	fputs("</td></tr>\n", f);
}

/* The DMARC policy that applies to the domain (RFC 9989 §4.10.1), where
 * it was found, its tags and the findings about it (dm_discover()). */
static void html_dmarc(FILE *f, const dm_run *dm)
{
	const spfkit_dmarc_policy *p = dm->pol;
	fputs("<section id=\"dmarc\">\n<h2>DMARC policy</h2>\n"
	      "<p class=\"legend\">Found by the DNS tree walk of RFC 9989 "
	      "(spfkit dmarc).</p>\n<p class=\"policy\">",
	      f);
	if (p->status == SPFKIT_DMARC_FOUND) {
		bool own = strcmp(p->policy_domain, p->domain) == 0;
		const char *tag = own                          ? "p"
				  : !p->domain_exists && p->np ? "np"
				  : p->sp                      ? "sp"
							       : "p";
		fputs("Policy for ", f);
		xml_puts(f, p->domain);
		fprintf(f,
			": <strong class=\"disposition\">%s</strong> (%s= "
			"of the record at <code>_dmarc.",
			spfkit_dmarc_disp_name(p->policy), tag);
		xml_puts(f, p->policy_domain);
		fputs(p->testing ? "</code>; t=y: testing)" : "</code>)", f);
	} else if (p->status == SPFKIT_DMARC_NONE) {
		fputs("<strong class=\"disposition\">No DMARC record</strong>: "
		      "DMARC does not apply to mail from ",
		      f);
		xml_puts(f, p->domain);
	} else {
		fputs("<strong class=\"disposition\">temperror</strong>: a DNS "
		      "failure hid the policy",
		      f);
	}
	fputs(".</p>\n", f);
	if (p->record) {
		fputs("<pre class=\"record\">", f);
		xml_puts(f, p->record);
		fputs("</pre>\n<table class=\"dmarc-tags\">\n<tbody>\n", f);
		char c[2][2] = {{p->adkim, 0}, {p->aspf, 0}};
		char psd[2] = {p->psd, 0};
		dmarc_row(f, "p", disp(p->p));
		dmarc_row(f, "sp", disp(p->sp));
		dmarc_row(f, "np", disp(p->np));
		dmarc_row(f, "adkim", c[0]);
		dmarc_row(f, "aspf", c[1]);
		dmarc_row(f, "t", p->testing ? "y" : "n");
		dmarc_row(f, "psd", psd);
		dmarc_row(f, "organizational domain", p->org_domain);
		fputs("</tbody>\n</table>\n", f);
	} else if (p->org_domain) {
		fputs("<p>Organizational domain: <code>", f);
		xml_puts(f, p->org_domain);
		fputs("</code></p>\n", f);
	}
	for (int sev = SPFKIT_SEVERITY_ERROR; sev >= SPFKIT_SEVERITY_INFO;
	     sev--)
		for (size_t i = 0; i < dm->nf; i++) {
			const dm_find *d = &dm->f[i];
			if ((int)d->severity != sev)
				continue;
			mark_find x = {.severity = d->severity,
				       .code = (char *)d->code,
				       .rfc = (char *)d->rfc,
				       .where = d->domain,
				       .message = d->message,
				       .fix = d->fix,
				       .record = d->record,
				       .replacement = d->replacement,
				       .record_len = d->record_len,
				       .pos = d->pos,
				       .len = d->len,
				       .replacement_len = d->replacement_len};
			html_finding(f, &x);
		}
	fputs("</section>\n", f);
}

/* An inclusive IPv4 range as the fewest CIDR blocks, ", " between. */
static void put_cidrs(FILE *f, uint32_t lo, uint32_t hi, bool *first)
{
	uint64_t a = lo;
	while (a <= hi) {
		/* The largest aligned block at a that ends by hi. */
		unsigned bits = 0;
		while (bits < 32 && (a & ((1ull << (bits + 1)) - 1)) == 0 &&
		       a + (1ull << (bits + 1)) - 1 <= hi)
			bits++;
		fprintf(f, "%s%u.%u.%u.%u/%u", *first ? "" : ", ",
			(unsigned)(a >> 24) & 255, (unsigned)(a >> 16) & 255,
			(unsigned)(a >> 8) & 255, (unsigned)a & 255, 32 - bits);
		*first = false;
		a += 1ull << bits;
	}
}

/* One row per record in the tree's order: its own ranges and counts,
 * and what it authorises with its subtree. */
static void html_row(FILE *f, const node *n, unsigned depth)
{
	char *route = tree_route(n);
	fprintf(f, "<tr%s><td data-label=\"Record\">",
		svg_over_limit(n) ? " class=\"over\"" : "");
	xml_puts(f, route ? route : n->frame->ev.domain);
	fputs("</td><td data-label=\"Own IPv4 ranges\"><code>", f);
	bool first = true;
	for (size_t i = 0; i < n->own4.n; i++)
		put_cidrs(f, n->own4.v[i].lo, n->own4.v[i].hi, &first);
	if (first)
		fputs("-", f);
	fprintf(f,
		"</code></td><td class=\"n\" data-label=\"Own IPv4 "
		"addresses\">%llu</td><td class=\"n\" data-label=\"Own IPv6 "
		"prefixes\">%u</td><td class=\"n\" data-label=\"IPv4 with "
		"includes\">%llu</td><td class=\"n\" data-label=\"IPv6 with "
		"includes\">%u</td></tr>\n",
		(unsigned long long)n->own4n, n->own6,
		(unsigned long long)tree_covered(&n->all4), n->all6);
	free(route);
	for (size_t i = 0; i < n->nterms && depth < 512; i++)
		if (n->terms[i].child)
			html_row(f, n->terms[i].child, depth + 1);
}

static void html_addresses(FILE *f, const tree *t)
{
	fputs("<section id=\"addresses\">\n<h2>Addresses authorised</h2>\n"
	      "<p class=\"legend\">Pass-qualified terms only (ip4, ip6, and "
	      "the answers of a and mx); IPv4 ranges merged so overlaps count "
	      "once.</p>\n",
	      f);
	if (!t->root) {
		fputs("<p>No record.</p>\n</section>\n", f);
		return;
	}
	fprintf(f,
		"<p class=\"totals\"><strong>In all: %llu IPv4 addresses, %u "
		"IPv6 prefix%s.</strong></p>\n",
		(unsigned long long)tree_covered(&t->root->all4), t->root->all6,
		t->root->all6 == 1 ? "" : "es");
	fputs("<table>\n<thead><tr><th>Record</th><th>Own IPv4 "
	      "ranges</th><th>Own IPv4 addresses</th><th>Own IPv6 "
	      "prefixes</th><th>IPv4 with includes</th><th>IPv6 with "
	      "includes</th></tr></thead>\n<tbody>\n",
	      f);
	html_row(f, t->root, 0);
	fputs("</tbody>\n</table>\n</section>\n", f);
}

/* The whole page; false when memory ran out before anything was
 * written. */
static bool html_out(FILE *f, const tree *t, const walk_run *run,
		     const marks *m, const dm_run *dm)
{
	const char *d = spfkit_check_domain(run->chk);
	/* The picture first, into memory: out of memory writes nothing. */
	char *pic = NULL;
	size_t npic = 0;
	FILE *mf = open_memstream(&pic, &npic);
	if (!mf)
		return false;
	bool ok = svg_write(mf, t, run->chk, m, false);
	if (fclose(mf) != 0 || !ok) {
		free(pic);
		return false;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
	      "charset=\"utf-8\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n"
	      "<title>SPF report: ",
	      f);
	xml_puts(f, d);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	fputs("<header>\n<h1>SPF report: ", f);
	xml_puts(f, d);
	fputs("</h1>\n", f);
	html_summary(f, t, run, m);
	fputs("</header>\n<section id=\"tree\">\n<h2>Include tree</h2>\n"
	      "<p class=\"legend\">Left to right: each include and redirect "
	      "with the running count of DNS-querying terms before and after "
	      "it. Red fill and dashed border: past the 10-lookup limit "
	      "(receivers give permerror there). Red border: an error; "
	      "orange: a warning. Dashed line: a redirect.</p>\n"
	      "<div class=\"scroll\">\n",
	      f);
	fwrite(pic, 1, npic, f);
	free(pic);
	fputs("</div>\n</section>\n", f);
	html_findings(f, m);
	if (dm && dm->pol)
		html_dmarc(f, dm);
	html_addresses(f, t);
	fputs("<footer>\n<p class=\"legend\">spfkit " SPFKIT_VERSION
	      " report; counts are the evaluator's own, with every term "
	      "reached (spfkit tree, spfkit lint).</p>\n</footer>\n"
	      "</body>\n</html>\n",
	      f);
	return true;
}

int cli_report_main(int argc, char **argv)
{
	walk_opts o;
	walk_run run;
	marks m;
	int status =
	    walk_parse(argc, argv, PROG, WALK_OPT_HTML, cli_report_help, &o);
	if (status)
		return status < 0 ? 0 : status;
	status = marks_walk(&o, &run, &m);
	/* The DMARC policy of the checked domain, over the same DNS; when it
	 * cannot be known (a message says why) the page goes without. */
	dm_run dm = {0};
	bool dmarc =
	    !status && dm_discover(PROG, &o.dns, spfkit_check_domain(run.chk),
				   false, &dm) == 0;
	if (!status) {
		tree t;
		tree_build(&t, &run.log);
		if (t.oom ||
		    !html_out(stdout, &t, &run, &m, dmarc ? &dm : NULL))
			status =
			    cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
		tree_free(&t);
	}
	dm_run_free(&dm);
	marks_free(&m);
	return walk_end(&o, &run, status);
}
