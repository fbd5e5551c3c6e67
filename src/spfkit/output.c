/*
 * output.c - how `spfkit check` writes results: text for people (a block
 * per check, or one compact line per check in batch mode), JSON (one
 * object per line), and the Received-SPF / Authentication-Results header
 * lines the library builds.
 *
 * Every string shown comes from SMTP or DNS. Text output writes octets
 * outside printable ASCII (and the backslash) as \xHH so nothing reaches
 * the terminal as a control sequence; JSON output is always valid JSON
 * (see cli_json_string()).
 */
#include <stdint.h>
#include <string.h>

#include "cli.h"

static const char hexdig[] = "0123456789ABCDEF";

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

/* Does octet c go out as it is in text output? */
static bool text_plain(unsigned char c, bool escape_space)
{
	if (c == ' ')
		return !escape_space;
	return c > 0x20 && c < 0x7f && c != '\\';
}

void cli_escape(char *dst, size_t cap, const char *s, size_t n, size_t max)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t unit = text_plain(c, false) ? 1 : 4;
		/* Room for this unit, "..." and the NUL. */
		if (i >= max || cap - o < unit + 4) {
			if (cap - o >= 4) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (unit == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hexdig[c >> 4];
			dst[o++] = hexdig[c & 15];
		}
	}
	dst[o] = '\0';
}

/* Octets a JSON string holds as they are: printable ASCII but the quote
 * and the backslash (a table: this loop sees every octet of the output). */
static const unsigned char json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Results go out through a buffer written with one fwrite per 4 KiB: a
 * JSON line is otherwise some forty pieces and a text line one per octet,
 * each taking the stream's lock (a fifth of a warm batch check's time
 * went to that). */
typedef struct jw {
	FILE *f;
	size_t n;
	char buf[4096];
} jw;

static void jw_flush(jw *w)
{
	if (w->n)
		fwrite(w->buf, 1, w->n, w->f);
	w->n = 0;
}

static void jw_put(jw *w, const char *s, size_t n)
{
	if (n > sizeof w->buf - w->n) {
		jw_flush(w);
		if (n > sizeof w->buf) {
			fwrite(s, 1, n, w->f);
			return;
		}
	}
	memcpy(w->buf + w->n, s, n);
	w->n += n;
}

/* A string literal, its length known at compile time. */
#define JW_LIT(w, lit) jw_put((w), (lit), sizeof(lit) - 1)

/* Writes (s, n) for a terminal: printable ASCII as it is, the rest as
 * \xHH; with escape_space a space is \x20 too (a field in a line of
 * space-separated fields). */
static void jw_safe(jw *w, const char *s, size_t n, bool escape_space)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		/* text_plain() by table: json_plain and the quote, less the
		 * space when it is escaped ('\\' is in neither) */
		size_t run = i;
		while (run < n && (json_plain[u[run]] || u[run] == '"') &&
		       (u[run] != ' ' || !escape_space))
			run++;
		if (run > i) {
			jw_put(w, s + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = (unsigned char)s[i++];
		char e[4] = {'\\', 'x', hexdig[c >> 4], hexdig[c & 15]};
		jw_put(w, e, sizeof e);
	}
}

static void put_safe(FILE *f, const char *s, size_t n, bool escape_space)
{
	jw w;
	w.f = f;
	w.n = 0;
	jw_safe(&w, s, n, escape_space);
	jw_flush(&w);
}

static void put_str(FILE *f, const char *s)
{
	if (s)
		put_safe(f, s, strlen(s), false);
}

/* Length of the valid UTF-8 sequence at s (n > 0 octets left) and its
 * code point, or 0 when the octets there are not valid UTF-8 (overlong
 * forms, surrogates and values past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1fu;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0fu;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static void jw_u(jw *w, unsigned long v)
{
	char d[24];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_put(w, d + i, sizeof d - i);
}

/* \uXXXX for code point v (below U+10000 here). */
static void json_u(jw *w, uint32_t v)
{
	static const char hx[] = "0123456789abcdef";
	char e[6] = {'\\',
		     'u',
		     hx[(v >> 12) & 15],
		     hx[(v >> 8) & 15],
		     hx[(v >> 4) & 15],
		     hx[v & 15]};
	jw_put(w, e, sizeof e);
}

static void json_string(jw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	jw_put(w, "\"", 1);
	for (size_t i = 0; i < n;) {
		/* Plain printable ASCII goes out in one piece. */
		size_t run = i;
		while (run < n && json_plain[s[run]])
			run++;
		if (run > i) {
			jw_put(w, str + i, run - i);
			i = run;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_seq(s + i, n - i, &cp);
		if (len == 0) {
			/* Not UTF-8: the octet's own value, as Latin-1. */
			json_u(w, s[i]);
			i++;
			continue;
		}
		switch (cp) {
		case '"': jw_put(w, "\\\"", 2); break;
		case '\\': jw_put(w, "\\\\", 2); break;
		case '\n': jw_put(w, "\\n", 2); break;
		case '\r': jw_put(w, "\\r", 2); break;
		case '\t': jw_put(w, "\\t", 2); break;
		default:
			/* C0, DEL, C1, and the JavaScript line breaks. */
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			    cp == 0x2028 || cp == 0x2029)
				json_u(w, cp);
			else
				jw_put(w, str + i, len);
		}
		i += len;
	}
	jw_put(w, "\"", 1);
}

void cli_json_string(FILE *f, const char *str, size_t n)
{
	jw w;
	w.f = f;
	w.n = 0;
	json_string(&w, str, n);
	jw_flush(&w);
}

/* A JSON string, or null for NULL. */
static void json_str_or_null(jw *w, const char *s)
{
	if (s)
		json_string(w, s, strlen(s));
	else
		jw_put(w, "null", 4);
}

static void json_check(const cli_out *o, const spfkit_check *chk,
		       const char *helo, size_t helo_len, double elapsed_ms)
{
	jw w;
	w.f = o->f;
	w.n = 0;
	JW_LIT(&w, "{\"result\":");
	json_str_or_null(&w, spfkit_result_name(spfkit_check_result(chk)));
	JW_LIT(&w, ",\"explanation\":");
	json_str_or_null(&w, spfkit_check_explanation(chk));
	JW_LIT(&w, ",\"domain\":");
	json_str_or_null(&w, spfkit_check_domain(chk));
	JW_LIT(&w, ",\"identity\":");
	json_str_or_null(&w, spfkit_check_identity(chk));
	JW_LIT(&w, ",\"sender\":");
	json_str_or_null(&w, spfkit_check_sender(chk));
	JW_LIT(&w, ",\"ip\":");
	json_str_or_null(&w, spfkit_check_ip(chk));
	JW_LIT(&w, ",\"helo\":");
	if (helo)
		json_string(&w, helo, helo_len);
	else
		jw_put(&w, "null", 4);
	JW_LIT(&w, ",\"mechanism\":");
	json_str_or_null(&w, spfkit_check_mechanism(chk));
	JW_LIT(&w, ",\"where\":");
	json_str_or_null(&w, spfkit_check_where(chk));
	JW_LIT(&w, ",\"problem\":");
	json_str_or_null(&w, spfkit_check_problem(chk));
	JW_LIT(&w, ",\"reason\":");
	json_str_or_null(&w, spfkit_reason_name(spfkit_check_reason(chk)));
	/* Always present: "unknown" when nothing was validated (zone files,
	 * no --trust-anchor). */
	JW_LIT(&w, ",\"dnssec\":");
	json_str_or_null(&w, spfkit_dnssec_name(spfkit_check_dnssec(chk)));
	JW_LIT(&w, ",\"lookups\":");
	jw_u(&w, spfkit_check_lookups(chk));
	JW_LIT(&w, ",\"void_lookups\":");
	jw_u(&w, spfkit_check_void_lookups(chk));
	JW_LIT(&w, ",\"queries\":");
	jw_u(&w, spfkit_check_queries(chk));
	if (elapsed_ms >= 0) {
		char t[48];
		int n =
		    snprintf(t, sizeof t, ",\"elapsed_ms\":%.3f", elapsed_ms);
		if (n > 0 && (size_t)n < sizeof t)
			jw_put(&w, t, (size_t)n);
	}
	jw_put(&w, "}\n", 2);
	jw_flush(&w);
}

/* The domain for prose: the check's domain, or '' when it is empty. */
static void put_domain(FILE *f, const spfkit_check *chk)
{
	const char *d = spfkit_check_domain(chk);
	if (d && d[0])
		put_str(f, d);
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
		put_str(f, ip);
		fputs(" is authorised to send mail for ", f);
		put_domain(f, chk);
		break;
	case SPFKIT_RESULT_FAIL:
		put_str(f, ip);
		fputs(" is not authorised to send mail for ", f);
		put_domain(f, chk);
		break;
	case SPFKIT_RESULT_SOFTFAIL:
		put_str(f, ip);
		fputs(" is probably not authorised to send mail for ", f);
		put_domain(f, chk);
		break;
	case SPFKIT_RESULT_NEUTRAL:
		put_domain(f, chk);
		fputs(" makes no statement about ", f);
		put_str(f, ip);
		break;
	case SPFKIT_RESULT_NONE:
		if (why == SPFKIT_REASON_MALFORMED_DOMAIN) {
			put_domain(f, chk);
			fputs(" is not a domain that can have an SPF record",
			      f);
		} else {
			put_domain(f, chk);
			fputs(" publishes no SPF record", f);
		}
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
	const char *where = spfkit_check_where(chk);
	const char *expl = spfkit_check_explanation(chk);
	const char *problem = spfkit_check_problem(chk);
	const char *sender = spfkit_check_sender(chk);

	text_headline(f, chk);

	fprintf(f, ROW, "identity");
	put_str(f, spfkit_check_identity(chk));
	fputs("  ", f);
	if (sender && sender[0])
		put_str(f, sender);
	else
		fputs("<>", f);
	fputs(" (from ", f);
	put_str(f, spfkit_check_ip(chk));
	if (helo) {
		fputs(", helo ", f);
		put_safe(f, helo, helo_len, false);
	}
	fputs(")\n", f);

	if (mech) {
		fprintf(f, ROW, "matched");
		put_str(f, mech);
		/* A route through includes says where inside it matched. */
		fputs(where && strstr(where, " > ") ? "  via " : "  in ", f);
		if (where)
			put_str(f, where);
		else
			put_domain(f, chk);
		putc('\n', f);
	} else if (why == SPFKIT_REASON_DEFAULT) {
		fprintf(f, ROW, "matched");
		fputs("no term; neutral is the default (RFC 7208 section "
		      "4.7)",
		      f);
		if (where) {
			fputs("  in ", f);
			put_str(f, where);
		}
		putc('\n', f);
	}
	if (expl) {
		fprintf(f, ROW, "explanation");
		put_str(f, expl);
		putc('\n', f);
	}
	if (problem) {
		fprintf(f, ROW, "problem");
		put_str(f, problem);
		/* The chain of includes adds to the problem text; the bare
		 * domain would only repeat it. */
		const char *dom = spfkit_check_domain(chk);
		if (where && !mech && (!dom || strcmp(where, dom) != 0)) {
			fputs("  in ", f);
			put_str(f, where);
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

/* Batch text: "IP SENDER RESULT DETAIL", DETAIL the matched term, else
 * the problem, else the reason's name. */
static void text_batch(const cli_out *o, const spfkit_check *chk,
		       double elapsed_ms)
{
	const char *ip = spfkit_check_ip(chk);
	const char *sender = spfkit_check_sender(chk);
	const char *mech = spfkit_check_mechanism(chk);
	const char *problem = spfkit_check_problem(chk);
	spfkit_reason why = spfkit_check_reason(chk);
	const char *detail = mech      ? mech
			     : problem ? problem
			     : why == SPFKIT_REASON_DEFAULT
				 ? "default"
				 : spfkit_reason_name(why);
	jw w;
	w.f = o->f;
	w.n = 0;
	jw_safe(&w, ip, strlen(ip), true);
	jw_put(&w, " ", 1);
	if (sender && sender[0])
		jw_safe(&w, sender, strlen(sender), true);
	else
		JW_LIT(&w, "<>");
	jw_put(&w, " ", 1);
	const char *res = spfkit_result_name(spfkit_check_result(chk));
	jw_put(&w, res, strlen(res));
	jw_put(&w, " ", 1);
	/* The detail is the rest of the line: its spaces stay. */
	jw_safe(&w, detail, strlen(detail), false);
	if (elapsed_ms >= 0) {
		char t[48];
		int n = snprintf(t, sizeof t, " %.3fms", elapsed_ms);
		if (n > 0 && (size_t)n < sizeof t)
			jw_put(&w, t, (size_t)n);
	}
	jw_put(&w, "\n", 1);
	jw_flush(&w);
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
		fputs("{\"error\":", o->f);
		cli_json_string(o->f, why, strlen(why));
		fprintf(o->f, ",\"line\":%lu}\n", line);
	} else {
		fprintf(o->f, "error: line %lu: ", line);
		put_str(o->f, why);
		putc('\n', o->f);
	}
}
