/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * output.c - how `spfkit check` writes results: text for people (a block
 * per check, or one compact line per check in batch mode), JSON (one
 * object per line), and the Received-SPF / Authentication-Results header
 * lines the library builds.
 *
 * Every string shown comes from SMTP or DNS. Text output writes octets
 * outside printable ASCII (and the backslash) as \xHH so nothing reaches
 * the terminal as a control sequence (text.h); JSON output is always
 * valid JSON (json.h).
 */
#include <stdint.h>
#include <string.h>

#include "cli.h"

int cli_exit_for_result(spfkit_result r)
{
	switch (r) {
	case SPFKIT_RESULT_PASS: return 0;
	case SPFKIT_RESULT_FAIL: return 1;
	case SPFKIT_RESULT_SOFTFAIL: return 2;
	case SPFKIT_RESULT_NEUTRAL: return 3;
	case SPFKIT_RESULT_NONE: return 4;
	case SPFKIT_RESULT_PERMERROR: return 5;
	case SPFKIT_RESULT_TEMPERROR: return 6;
	}
	return CLI_EX_SOFTWARE;
}

bool cli_format_parse(const char *s, cli_format *out)
{
	static const struct {
		const char *name;
		cli_format f;
	} names[] = {{"text", CLI_FORMAT_TEXT},
		     {"json", CLI_FORMAT_JSON},
		     {"received-spf", CLI_FORMAT_RECEIVED_SPF},
		     {"authres", CLI_FORMAT_AUTHRES}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return true;
		}
	}
	return false;
}

void cli_jw_counts(cli_jw *w, const spfkit_check *chk)
{
	cli_jw_kuint(w, "lookups", spfkit_check_lookups(chk));
	cli_jw_kuint(w, "void_lookups", spfkit_check_void_lookups(chk));
	cli_jw_kuint(w, "queries", spfkit_check_queries(chk));
}

static void json_check(const cli_out *o, const spfkit_check *chk,
		       const char *helo, size_t helo_len, double elapsed_ms)
{
	cli_jw w;
	cli_jw_line(&w, o->f);
	cli_jw_kstr(&w, "result", spfkit_result_name(spfkit_check_result(chk)));
	cli_jw_kstr(&w, "explanation", spfkit_check_explanation(chk));
	cli_jw_kstr(&w, "domain", spfkit_check_domain(chk));
	cli_jw_kstr(&w, "identity", spfkit_check_identity(chk));
	cli_jw_kstr(&w, "sender", spfkit_check_sender(chk));
	cli_jw_kstr(&w, "ip", spfkit_check_ip(chk));
	cli_jw_key(&w, "helo");
	if (helo)
		cli_jw_string(&w, helo, helo_len);
	else
		cli_jw_null(&w);
	cli_jw_kstr(&w, "mechanism", spfkit_check_mechanism(chk));
	/* The innermost term that matched and the terms that led to it
	 * (spfkit_check_matched_term, _via); mechanism stays the checked
	 * domain's own term, as Received-SPF's mechanism= has it. */
	cli_jw_kstr(&w, "matched", spfkit_check_matched_term(chk));
	cli_jw_kstr(&w, "via", spfkit_check_matched_via(chk));
	cli_jw_kstr(&w, "where", spfkit_check_where(chk));
	cli_jw_kstr(&w, "problem", spfkit_check_problem(chk));
	cli_jw_kstr(&w, "reason", spfkit_reason_name(spfkit_check_reason(chk)));
	/* Always present: "unknown" when nothing was validated (zone files,
	 * no --trust-anchor). */
	cli_jw_kstr(&w, "dnssec", spfkit_dnssec_name(spfkit_check_dnssec(chk)));
	cli_jw_counts(&w, chk);
	if (elapsed_ms >= 0) {
		cli_jw_key(&w, "elapsed_ms");
		cli_jw_double(&w, elapsed_ms, 3);
	}
	cli_jw_line_end(&w);
}

/* The domain for prose: the check's domain, or '' when it is empty. */
static void put_domain(FILE *f, const spfkit_check *chk)
{
	const char *d = spfkit_check_domain(chk);
	if (d && d[0])
		cli_put_str(f, d);
	else
		fputs("''", f);
}

/* The first line: the result and what it means, in a sentence. */
static void text_headline(FILE *f, const spfkit_check *chk)
{
	spfkit_result r = spfkit_check_result(chk);
	spfkit_reason why = spfkit_check_reason(chk);
	const char *ip = spfkit_check_ip(chk);
	fprintf(f, "%s: ", spfkit_result_name(r));
	switch (r) {
	case SPFKIT_RESULT_PASS:
	case SPFKIT_RESULT_FAIL:
	case SPFKIT_RESULT_SOFTFAIL:
		cli_put_str(f, ip);
		fputs(r == SPFKIT_RESULT_PASS   ? " is authorised"
		      : r == SPFKIT_RESULT_FAIL ? " is not authorised"
						: " is probably not authorised",
		      f);
		fputs(" to send mail for ", f);
		put_domain(f, chk);
		break;
	case SPFKIT_RESULT_NEUTRAL:
		put_domain(f, chk);
		fputs(" makes no statement about ", f);
		cli_put_str(f, ip);
		break;
	case SPFKIT_RESULT_NONE:
		if (!spfkit_check_domain(chk)[0]) {
			fputs("there is no domain to check", f);
			break;
		}
		put_domain(f, chk);
		fputs(why == SPFKIT_REASON_MALFORMED_DOMAIN
			  ? " is not a domain that can have an SPF record"
			  : " publishes no SPF record",
		      f);
		break;
	case SPFKIT_RESULT_PERMERROR:
		fputs("the SPF policy of ", f);
		put_domain(f, chk);
		fputs(" is broken and cannot be evaluated", f);
		break;
	case SPFKIT_RESULT_TEMPERROR:
		if (why == SPFKIT_REASON_INTERNAL) {
			fputs("the check of ", f);
			put_domain(f, chk);
			fputs(" could not finish here", f);
		} else {
			fputs("the SPF policy of ", f);
			put_domain(f, chk);
			fputs(" could not be fetched", f);
			if (why == SPFKIT_REASON_DEADLINE)
				fputs(" in time", f);
		}
		break;
	}
	putc('\n', f);
}

/* What to do next, for the results that need someone to act. */
static const char *text_hint(spfkit_result r, spfkit_reason why)
{
	switch (why) {
	case SPFKIT_REASON_MALFORMED_DOMAIN:
		return "check the sender address; for the null sender give "
		       "the HELO name with --helo";
	case SPFKIT_REASON_NO_RECORD:
		return "the domain's owner can publish one, e.g. TXT "
		       "\"v=spf1 mx -all\"";
	case SPFKIT_REASON_MULTIPLE_RECORDS:
		return "the domain's owner must merge its v=spf1 records "
		       "into one";
	case SPFKIT_REASON_SYNTAX:
		return "the domain's owner must fix the record; test a draft "
		       "with --record 'v=spf1 ...'";
	case SPFKIT_REASON_LOOKUP_LIMIT:
		return "the policy needs too many DNS lookups; the owner must "
		       "remove or replace include, a, mx, ptr or exists terms";
	case SPFKIT_REASON_LOOP:
		return "the policy includes itself; the owner must remove the "
		       "include or redirect that leads back";
	case SPFKIT_REASON_VOID_LIMIT:
		return "names in the policy do not exist; the owner must "
		       "remove the stale terms";
	case SPFKIT_REASON_MX_LIMIT:
		return "the domain has more MX names than an mx term may look "
		       "up; the owner should use ip4/ip6 terms";
	case SPFKIT_REASON_INCLUDE_NONE:
	case SPFKIT_REASON_REDIRECT_NONE:
		return "the policy points at a domain without an SPF record; "
		       "the owner must fix or remove that term";
	case SPFKIT_REASON_BAD_TARGET:
		return "a macro in the policy expands to an unusable name; the "
		       "owner must fix the record";
	case SPFKIT_REASON_DNS_ERROR:
		return "try again later; if it persists, check the domain's "
		       "name servers";
	case SPFKIT_REASON_DEADLINE:
		return "try again later or with a longer --timeout";
	case SPFKIT_REASON_INTERNAL:
		return "out of memory or over a size cap; try again";
	default: break;
	}
	if (r == SPFKIT_RESULT_PERMERROR)
		return "the domain's owner must fix the record";
	if (r == SPFKIT_RESULT_TEMPERROR)
		return "try again later";
	return NULL;
}

#define ROW "  %-12s "

static void text_check(const cli_out *o, const spfkit_check *chk,
		       const char *helo, size_t helo_len, double elapsed_ms)
{
	FILE *f = o->f;
	spfkit_result r = spfkit_check_result(chk);
	spfkit_reason why = spfkit_check_reason(chk);
	const char *mech = spfkit_check_mechanism(chk);
	const char *term = spfkit_check_matched_term(chk);
	const char *via = spfkit_check_matched_via(chk);
	const char *where = spfkit_check_where(chk);
	const char *expl = spfkit_check_explanation(chk);
	const char *problem = spfkit_check_problem(chk);
	const char *sender = spfkit_check_sender(chk);

	text_headline(f, chk);

	fprintf(f, ROW, "identity");
	cli_put_str(f, spfkit_check_identity(chk));
	fputs("  ", f);
	if (sender && sender[0])
		cli_put_str(f, sender);
	else
		fputs("<>", f);
	fputs(" (from ", f);
	cli_put_str(f, spfkit_check_ip(chk));
	if (helo) {
		fputs(", helo ", f);
		cli_put_safe(f, helo, helo_len);
	}
	fputs(")\n", f);

	if (mech) {
		/* The innermost term that held the client, and the include
		 * and redirect terms that led to it; a term of the checked
		 * domain's own record says where it stands. */
		fprintf(f, ROW, "matched");
		cli_put_str(f, term ? term : mech);
		if (via && via[0]) {
			fputs("  via ", f);
			cli_put_str(f, via);
		} else {
			fputs("  in ", f);
			if (where)
				cli_put_str(f, where);
			else
				put_domain(f, chk);
		}
		putc('\n', f);
	} else if (why == SPFKIT_REASON_DEFAULT) {
		fprintf(f, ROW, "matched");
		fputs("no term; neutral is the default (RFC 7208 section "
		      "4.7)",
		      f);
		if (where) {
			fputs("  in ", f);
			cli_put_str(f, where);
		}
		putc('\n', f);
	}
	if (expl) {
		fprintf(f, ROW, "explanation");
		cli_put_str(f, expl);
		putc('\n', f);
	}
	if (problem) {
		fprintf(f, ROW, "problem");
		cli_put_str(f, problem);
		/* The chain of includes adds to the problem text; the bare
		 * domain would only repeat it. */
		const char *dom = spfkit_check_domain(chk);
		if (where && !mech && (!dom || strcmp(where, dom) != 0)) {
			fputs("  in ", f);
			cli_put_str(f, where);
		}
		putc('\n', f);
	}
	const char *hint = text_hint(r, why);
	if (hint) {
		fprintf(f, ROW, "hint");
		fputs(hint, f);
		putc('\n', f);
	}
	spfkit_dnssec sec = spfkit_check_dnssec(chk);
	if (sec != SPFKIT_DNSSEC_UNKNOWN) {
		fprintf(f, ROW, "dnssec");
		fputs(spfkit_dnssec_name(sec), f);
		fputs(sec == SPFKIT_DNSSEC_SECURE
			  ? " (every answer used was signed and validated)"
		      : sec == SPFKIT_DNSSEC_BOGUS
			  ? " (validation failed: answers were not trusted)"
			  : " (validated: at least one zone used is unsigned)",
		      f);
		putc('\n', f);
	}
	unsigned queries = spfkit_check_queries(chk);
	fprintf(f,
		ROW "%u of %u DNS-querying terms, %u of %u void lookups, "
		    "%u DNS quer%s\n",
		"lookups", spfkit_check_lookups(chk), o->lookup_limit,
		spfkit_check_void_lookups(chk), o->void_limit, queries,
		queries == 1 ? "y" : "ies");
	if (elapsed_ms >= 0)
		fprintf(f, ROW "%.1f ms\n", "time", elapsed_ms);
}

/* Batch text: "IP SENDER RESULT DETAIL", DETAIL the innermost matched
 * term (and " via " the terms that led to it), else the problem, else
 * the reason's name. */
static void text_batch(const cli_out *o, const spfkit_check *chk,
		       double elapsed_ms)
{
	const char *ip = spfkit_check_ip(chk);
	const char *sender = spfkit_check_sender(chk);
	const char *term = spfkit_check_matched_term(chk);
	const char *via = spfkit_check_matched_via(chk);
	const char *problem = spfkit_check_problem(chk);
	spfkit_reason why = spfkit_check_reason(chk);
	const char *detail = term      ? term
			     : problem ? problem
			     : why == SPFKIT_REASON_DEFAULT
				 ? "default"
				 : spfkit_reason_name(why);
	cli_jw w;
	cli_jw_init(&w, o->f);
	/* The address in canonical text form (spfkit.h): digits, dots, hex
	 * and colons, nothing to escape. */
	cli_jw_raw(&w, ip, strlen(ip));
	CLI_JW_LIT(&w, " ");
	if (sender && sender[0])
		cli_jw_safe(&w, sender, strlen(sender), true);
	else
		CLI_JW_LIT(&w, "<>");
	CLI_JW_LIT(&w, " ");
	const char *res = spfkit_result_name(spfkit_check_result(chk));
	cli_jw_raw(&w, res, strlen(res));
	CLI_JW_LIT(&w, " ");
	/* The detail is the rest of the line: its spaces stay. */
	cli_jw_safe(&w, detail, strlen(detail), false);
	if (term && via && via[0]) {
		CLI_JW_LIT(&w, " via ");
		cli_jw_safe(&w, via, strlen(via), false);
	}
	if (elapsed_ms >= 0) {
		char t[48];
		int n = snprintf(t, sizeof t, " %.3fms", elapsed_ms);
		if (n > 0 && (size_t)n < sizeof t)
			cli_jw_raw(&w, t, (size_t)n);
	}
	CLI_JW_LIT(&w, "\n");
	cli_jw_flush(&w);
}

static int header_check(const cli_out *o, const spfkit_check *chk)
{
	char *line = NULL;
	spfkit_header kind = o->format == CLI_FORMAT_AUTHRES
				 ? SPFKIT_HEADER_AUTHENTICATION_RESULTS
				 : SPFKIT_HEADER_RECEIVED_SPF;
	int rc = spfkit_check_header(chk, kind, o->authserv_id, &line);
	if (rc < 0)
		return rc;
	/* The library promises a line of printable ASCII, already escaped
	 * for header syntax, so it goes out as it is; should an octet
	 * outside printable ASCII ever slip through, it becomes '?' rather
	 * than reach the terminal or break the one-line-per-check stream. */
	for (const char *p = line; *p; p++) {
		unsigned char c = (unsigned char)*p;
		putc(c >= 0x20 && c < 0x7f ? c : '?', o->f);
	}
	putc('\n', o->f);
	spfkit_free(o->cfg, line);
	return SPFKIT_OK;
}

int cli_out_check(const cli_out *o, const spfkit_check *chk, const char *helo,
		  size_t helo_len, double elapsed_ms)
{
	switch (o->format) {
	case CLI_FORMAT_JSON:
		json_check(o, chk, helo, helo_len, elapsed_ms);
		return SPFKIT_OK;
	case CLI_FORMAT_RECEIVED_SPF:
	case CLI_FORMAT_AUTHRES: return header_check(o, chk);
	case CLI_FORMAT_TEXT: break;
	}
	if (o->batch)
		text_batch(o, chk, elapsed_ms);
	else
		text_check(o, chk, helo, helo_len, elapsed_ms);
	return SPFKIT_OK;
}

void cli_out_batch_error(const cli_out *o, unsigned long line, const char *why)
{
	if (o->format == CLI_FORMAT_JSON) {
		cli_jw w;
		cli_jw_line(&w, o->f);
		cli_jw_kstr(&w, "error", why);
		cli_jw_kuint(&w, "line", line);
		cli_jw_line_end(&w);
	} else {
		fprintf(o->f, "error: line %lu: ", line);
		cli_put_str(o->f, why);
		putc('\n', o->f);
	}
}
