/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lintcmd.c - `spfkit lint`: a domain's SPF (or a draft: --record, or
 * --zone with a draft zone file) checked for problems, each with a
 * severity, the RFC section, where it stands in the tree and a fix.
 *
 * The library does the work: the walked check's events go to an
 * spfkit_linter, so every count is the evaluator's own. This file adds
 * what the library cannot see: in a draft master file a TXT string over
 * 255 octets, which DNS cannot carry and the zone loader refuses (it is
 * reported with its line, and the draft is linted as if the string had
 * been split); whose records are the owner's and whose a third party's
 * (the public suffix list, through libpsl, which the library does not
 * link); and the codes the owner chose to --ignore.
 */
#include <ctype.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "walk.h"

#define PROG "spfkit lint"
/* RFC 1035 §3.3: a character-string holds at most 255 octets. */
#define CHARSTRING_MAX 255u
/* Context shown around the offending octets of a long record. */
#define SHOW_AROUND 60u

void cli_lint_help(FILE *f)
{
	fputs(
	    "Usage: spfkit lint [DOMAIN] [OPTION]...\n"
	    "\n"
	    "Reports problems of DOMAIN's SPF record and of every include and\n"
	    "redirect under it: severity, code, RFC section, where it stands,\n"
	    "and a fix. Counts (DNS-querying terms, void lookups) are the\n"
	    "evaluator's own, on the worst path: every term is reached.\n"
	    "\n"
	    "  --record TEXT     lint this draft as DOMAIN's record (without\n"
	    "                    DOMAIN the domain is draft.invalid)\n"
	    "  --zone FILE       DNS from this zone file (master file or "
	    "openspf\n"
	    "                    YAML), e.g. a draft; repeatable; hermetic\n"
	    "  --sender ADDR     lint the domain of ADDR (its local part "
	    "feeds\n"
	    "                    %{l} macros); --helo NAME, --scope helo\n"
	    "  --ip IP           walk as for this client (default 192.0.2.1; "
	    "it\n"
	    "                    only picks A or AAAA, and the PTR name)\n"
	    "  --strict          your own warnings count as errors for the "
	    "exit\n"
	    "                    status (not those inside third-party "
	    "includes)\n"
	    "  --strict-all      every warning counts, third parties' too\n"
	    "  --ignore CODE,... drop findings with these codes "
	    "(repeatable)\n"
	    "  --format FORMAT   text (default) or json\n",
	    f);
	walk_help_dns(f, false);
	fputs("\n"
	      "Findings inside third-party includes (another registrable "
	      "domain) are\n"
	      "reported apart. Exit status: 0 no errors (warnings alone are "
	      "fine unless\n"
	      "--strict or --strict-all), 1 errors found (anywhere: they break "
	      "your mail),\n"
	      "64 usage error, 65 a zone file that does not parse,\n"
	      "66 a file that cannot be read, 70 internal error. See "
	      "spfkit-lint(1).\n",
	      f);
}

/* A finding, copied out of the callback. */
typedef struct lfind {
	spfkit_severity severity;
	char *code, *rfc, *domain, *where, *record, *message, *fix;
	char *replacement, *other_domain, *other_where;
	size_t record_len, pos, len, replacement_len;
	unsigned depth;
	char *file;       /* a draft zone file finding: FILE:LINE */
	bool third_party; /* inside a record of another registrable domain */
} lfind;

typedef struct lctx {
	lfind *v;
	size_t n, cap;
	bool oom;
	bool draft_domain; /* --record without DOMAIN */
	const walk_opts *o;
	unsigned counts[3], third[3]; /* the owner's own; third parties' */
} lctx;

/* A copy of (s, n); out of memory is remembered. */
static char *dup_n(lctx *c, const char *s, size_t n)
{
	char *p = cli_copy(s, n);
	if (s && !p)
		c->oom = true;
	return p;
}

static char *dup_s(lctx *c, const char *s)
{
	return s ? dup_n(c, s, strlen(s)) : NULL;
}

static lfind *add_find(lctx *c)
{
	if (!cli_grow(&c->v, &c->cap, c->n, sizeof *c->v, &c->oom))
		return NULL;
	lfind *f = &c->v[c->n++];
	memset(f, 0, sizeof *f);
	return f;
}

/* Did the owner --ignore code? */
static bool ignored(const lctx *c, const char *code)
{
	for (size_t i = 0; c->o && code && i < c->o->nignore; i++)
		if (strcmp(c->o->ignore[i], code) == 0)
			return true;
	return false;
}

static void on_finding(const spfkit_finding *f, void *ud)
{
	lctx *c = ud;
	if (ignored(c, f->code))
		return;
	/* A draft without DOMAIN: a and mx of the placeholder domain find
	 * nothing by design, which is no finding. */
	if (c->draft_domain && f->code && f->message &&
	    (strcmp(f->code, "void-lookup") == 0 ||
	     strcmp(f->code, "mx-none") == 0) &&
	    strstr(f->message, " " WALK_DRAFT_DOMAIN " "))
		return;
	lfind *d = add_find(c);
	if (!d)
		return;
	d->severity = f->severity;
	d->code = dup_s(c, f->code);
	d->rfc = dup_s(c, f->rfc);
	d->domain = dup_s(c, f->domain);
	d->where = dup_s(c, f->where);
	d->record = dup_n(c, f->record, f->record_len);
	d->record_len = f->record ? f->record_len : 0;
	d->pos = f->pos;
	d->len = f->len;
	d->depth = f->depth;
	d->message = dup_s(c, f->message);
	d->fix = dup_s(c, f->fix);
	d->replacement = dup_n(c, f->replacement, f->replacement_len);
	d->replacement_len = f->replacement ? f->replacement_len : 0;
	d->other_domain = dup_s(c, f->other_domain);
	d->other_where = dup_s(c, f->other_where);
}

static void free_finds(lctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		lfind *f = &c->v[i];
		free(f->code);
		free(f->rfc);
		free(f->domain);
		free(f->where);
		free(f->record);
		free(f->message);
		free(f->fix);
		free(f->replacement);
		free(f->other_domain);
		free(f->other_where);
		free(f->file);
	}
	free(c->v);
}

/* ------------------------------------------------------------ drafts */

/* Is path openspf YAML (the zone loader's rule)? */
static bool is_yaml(const char *path)
{
	size_t n = strlen(path);
	return (n >= 4 && strcmp(path + n - 4, ".yml") == 0) ||
	       (n >= 5 && strcmp(path + n - 5, ".yaml") == 0);
}

/* Reads a whole file; NULL when it cannot (the zone loader reports it). */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			char *nb =
			    cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (buf && ferror(fp)) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

/* Octets one escape-aware token of a master-file string takes at s[i]
 * (RFC 1035 §5.1: \DDD or \X is one octet). */
static size_t token_len(const char *s, size_t n, size_t i)
{
	if (s[i] != '\\' || i + 1 >= n)
		return 1;
	if (i + 3 < n && isdigit((unsigned char)s[i + 1]) &&
	    isdigit((unsigned char)s[i + 2]) &&
	    isdigit((unsigned char)s[i + 3]))
		return 4;
	return 2;
}

/* Finds quoted strings over 255 octets in a master file. Writes a copy
 * with each such string split into 255-octet strings to out (when out is
 * not NULL) and reports each with its line. Returns how many. */
static size_t long_strings(lctx *c, const char *path, const char *s, size_t n,
			   FILE *out)
{
	size_t found = 0, line = 1;
	for (size_t i = 0; i < n;) {
		char ch = s[i];
		if (ch == ';') { /* a comment to the end of the line */
			while (i < n && s[i] != '\n') {
				if (out)
					putc(s[i], out);
				i++;
			}
			continue;
		}
		if (ch != '"') {
			if (ch == '\n')
				line++;
			if (out)
				putc(ch, out);
			i++;
			continue;
		}
		/* A quoted string: count its octets, split when over. */
		size_t start_line = line, octets = 0, k = i + 1;
		while (k < n && s[k] != '"') {
			if (s[k] == '\n')
				line++;
			k += token_len(s, n, k);
		}
		size_t end = k < n ? k : n;
		for (size_t j = i + 1; j < end; j += token_len(s, n, j))
			octets++;
		if (out)
			putc('"', out);
		size_t in_piece = 0;
		for (size_t j = i + 1; j < end;) {
			size_t tl = token_len(s, n, j);
			if (in_piece == CHARSTRING_MAX) {
				if (out)
					fputs("\" \"", out);
				in_piece = 0;
			}
			if (out)
				fwrite(s + j, 1, tl > end - j ? end - j : tl,
				       out);
			in_piece++;
			j += tl;
		}
		if (out && k < n)
			putc('"', out);
		i = k < n ? k + 1 : n;
		if (octets <= CHARSTRING_MAX)
			continue;
		found++;
		if (ignored(c, "txt-string-long"))
			continue;
		lfind *f = add_find(c);
		if (!f)
			return found;
		size_t need = strlen(path) + 32;
		f->file = malloc(need);
		if (f->file)
			snprintf(f->file, need, "%s:%zu", path, start_line);
		f->severity = SPFKIT_SEVERITY_ERROR;
		f->code = dup_s(c, "txt-string-long");
		f->rfc = dup_s(c, "RFC 7208 3.3");
		char msg[160];
		snprintf(msg, sizeof msg,
			 "a TXT string of %zu octets: a character-string "
			 "holds at most 255 (RFC 1035 3.3)",
			 octets);
		f->message = dup_s(c, msg);
		f->fix = dup_s(c, "split it into several quoted strings of at "
				  "most 255 octets on the same line; receivers "
				  "join them without a space (the rest of this "
				  "lint reads it split so)");
	}
	return found;
}

/* For each master-file draft with long strings, a split copy in a
 * temporary file replaces it in o->dns.zones (paths to unlink in tmp). */
static int fix_drafts(lctx *c, walk_opts *o, char **tmp)
{
	for (size_t i = 0; i < o->dns.nzones; i++) {
		const char *path = o->dns.zones[i];
		if (is_yaml(path))
			continue;
		size_t n = 0;
		char *text = slurp(path, &n);
		if (!text)
			continue;
		if (long_strings(c, path, text, n, NULL) == 0) {
			free(text);
			continue;
		}
		const char *dir = getenv("TMPDIR");
		size_t need = strlen(dir && *dir ? dir : "/tmp") + 32;
		tmp[i] = malloc(need);
		if (!tmp[i]) {
			free(text);
			return CLI_EX_SOFTWARE;
		}
		snprintf(tmp[i], need, "%s/spfkit-lint-XXXXXX",
			 dir && *dir ? dir : "/tmp");
		int fd = mkstemp(tmp[i]);
		FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!out) {
			if (fd >= 0)
				close(fd);
			free(tmp[i]);
			tmp[i] = NULL;
			free(text);
			return cli_say(PROG, CLI_EX_SOFTWARE,
				       "cannot write a temporary file");
		}
		lctx quiet;
		memset(&quiet, 0, sizeof quiet);
		long_strings(&quiet, path, text, n, out);
		free_finds(&quiet);
		free(text);
		if (fclose(out) != 0)
			return cli_say(PROG, CLI_EX_SOFTWARE,
				       "cannot write a temporary file");
		o->dns.zones[i] = tmp[i];
	}
	return 0;
}

/* ------------------------------------------------------------ owners */

const char *cli_org_domain(const psl_ctx_t *psl, const char *name, char *buf,
			   size_t cap)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[n] = '\0';
	const char *o = psl ? psl_registrable_domain(psl, buf) : NULL;
	return o ? o : buf;
}

/* Is name (NULL: the tree as a whole) outside the owner's registrable
 * domain own? */
static bool foreign(const psl_ctx_t *psl, const char *own, const char *name)
{
	char buf[512];
	return name &&
	       strcmp(cli_org_domain(psl, name, buf, sizeof buf), own) != 0;
}

/* Marks the findings inside third parties' records and counts them apart
 * from the owner's. A finding about two places (a netblock repeated) is
 * the owner's when either place is: the owner can drop theirs. */
static void classify(lctx *c, const char *checked)
{
	psl_ctx_t *latest = psl_latest(NULL);
	const psl_ctx_t *psl = latest ? latest : psl_builtin();
	char own[512];
	const char *o = cli_org_domain(psl, checked, own, sizeof own);
	memmove(own, o, strlen(o) + 1);
	for (size_t i = 0; i < c->n; i++) {
		lfind *f = &c->v[i];
		f->third_party =
		    foreign(psl, own, f->domain) &&
		    (!f->other_domain || foreign(psl, own, f->other_domain));
		if ((unsigned)f->severity < 3)
			(f->third_party ? c->third : c->counts)[f->severity]++;
	}
	if (latest)
		psl_free(latest);
}

/* ------------------------------------------------------------ output */

/* Writes a message or fix: the library makes them printable ASCII, with
 * hostile octets already shown as \xHH; anything else is escaped here. */
static void put_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch < 0x7f)
			putc(ch, out);
		else
			fprintf(out, "\\x%02X", ch);
	}
}

/* Width of an octet as cli_put_safe() shows it. */
static size_t shown_width(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
}

/* The record with a caret line under the offending octets. */
static void put_marked(FILE *out, const lfind *f)
{
	size_t from = f->pos > SHOW_AROUND ? f->pos - SHOW_AROUND : 0;
	size_t to = f->pos + f->len + SHOW_AROUND;
	if (to > f->record_len)
		to = f->record_len;
	fputs("    ", out);
	if (from > 0)
		fputs("...", out);
	cli_put_safe(out, f->record + from, to - from);
	if (to < f->record_len)
		fputs("...", out);
	if (f->len == 0) {
		putc('\n', out);
		return;
	}
	fputs("\n    ", out);
	if (from > 0)
		fputs("   ", out);
	for (size_t i = from; i < f->pos; i++)
		for (size_t w = shown_width((unsigned char)f->record[i]); w;
		     w--)
			putc(' ', out);
	size_t marks = 0;
	for (size_t i = f->pos; i < f->pos + f->len && i < to; i++)
		marks += shown_width((unsigned char)f->record[i]);
	for (size_t i = 0; i < marks && i < 400; i++)
		putc('^', out);
	putc('\n', out);
}

/* The findings of severity sev, own or third parties', in order. */
static void text_findings(FILE *out, const lctx *c, int sev, bool third)
{
	for (size_t i = 0; i < c->n; i++) {
		const lfind *f = &c->v[i];
		if ((int)f->severity != sev || f->third_party != third)
			continue;
		fprintf(out, "\n%-7s %s", spfkit_severity_name(f->severity),
			f->code ? f->code : "-");
		if (f->rfc)
			fprintf(out, "  (%s)", f->rfc);
		if (f->file) {
			fputs("  ", out);
			cli_put_safe(out, f->file, strlen(f->file));
		} else if (f->where && f->where[0]) {
			fputs("  in ", out);
			cli_put_safe(out, f->where, strlen(f->where));
		}
		fputs("\n    ", out);
		put_text(out, f->message);
		putc('\n', out);
		if (f->record)
			put_marked(out, f);
		if (f->fix) {
			fputs("    fix: ", out);
			put_text(out, f->fix);
			putc('\n', out);
		}
	}
}

/* "N errors, N warnings, N notes". */
static void put_counts(FILE *out, const unsigned *n)
{
	fprintf(out, "%u error%s, %u warning%s, %u note%s", n[2],
		n[2] == 1 ? "" : "s", n[1], n[1] == 1 ? "" : "s", n[0],
		n[0] == 1 ? "" : "s");
}

static void text_out(FILE *out, const walk_opts *o, const lctx *c,
		     const spfkit_check *chk)
{
	const char *d = spfkit_check_domain(chk);
	unsigned nthird = c->third[0] + c->third[1] + c->third[2];
	fputs("lint ", out);
	cli_put_safe(out, d, strlen(d));
	if (o->id.record)
		fputs(" (draft record)", out);
	fputs(": ", out);
	put_counts(out, c->counts);
	fprintf(out,
		"; %u of 10 DNS-querying terms, %u of 2 void lookups (every "
		"term reached)\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk));
	if (nthird) {
		fputs("third-party includes: ", out);
		put_counts(out, c->third);
		fputs(", reported apart below\n", out);
	}
	/* Errors first, then warnings, then notes; in order within each;
	 * the owner's own, then third parties'. */
	for (int sev = SPFKIT_SEVERITY_ERROR; sev >= SPFKIT_SEVERITY_INFO;
	     sev--)
		text_findings(out, c, sev, false);
	if (nthird) {
		fputs("\nin third-party includes (their warnings do not count "
		      "for --strict; errors still break your mail):\n",
		      out);
		for (int sev = SPFKIT_SEVERITY_ERROR;
		     sev >= SPFKIT_SEVERITY_INFO; sev--)
			text_findings(out, c, sev, true);
	}
	if (c->n == 0)
		fputs("no problems found\n", out);
}

/* The record with the finding's replacement applied, as a JSON string. */
static void json_corrected(cli_jw *w, const lfind *f)
{
	cli_jw_key(w, "corrected_record");
	if (!f->replacement || !f->record || f->pos > f->record_len ||
	    f->len > f->record_len - f->pos) {
		cli_jw_null(w);
	} else if (f->len == 0) {
		cli_jw_string(w, f->replacement, f->replacement_len);
	} else {
		size_t n = f->record_len - f->len + f->replacement_len;
		char *s = malloc(n + 1);
		if (!s) {
			cli_jw_null(w);
			return;
		}
		memcpy(s, f->record, f->pos);
		memcpy(s + f->pos, f->replacement, f->replacement_len);
		memcpy(s + f->pos + f->replacement_len,
		       f->record + f->pos + f->len,
		       f->record_len - f->pos - f->len);
		cli_jw_string(w, s, n);
		free(s);
	}
}

static void json_finding(cli_jw *w, const lfind *f)
{
	cli_jw_obj(w);
	cli_jw_kstr(w, "severity", spfkit_severity_name(f->severity));
	cli_jw_kstr(w, "code", f->code);
	cli_jw_kstr(w, "rfc", f->rfc);
	cli_jw_kstr(w, "domain", f->domain);
	cli_jw_kstr(w, "where", f->where);
	cli_jw_kuint(w, "depth", f->depth);
	cli_jw_kstr(w, "file", f->file);
	cli_jw_kstrn(w, "record", f->record, f->record_len);
	if (f->record && f->len) {
		/* The position counts from 1, as people do. */
		cli_jw_kuint(w, "position", f->pos + 1);
		cli_jw_kuint(w, "length", f->len);
		cli_jw_key(w, "term");
		cli_jw_string(w, f->record + f->pos, f->len);
	} else {
		cli_jw_kstr(w, "position", NULL);
		cli_jw_kuint(w, "length", 0);
		cli_jw_kstr(w, "term", NULL);
	}
	cli_jw_kstr(w, "message", f->message);
	cli_jw_kstr(w, "fix", f->fix);
	cli_jw_kstrn(w, "replacement", f->replacement, f->replacement_len);
	json_corrected(w, f);
	cli_jw_kbool(w, "third_party", f->third_party);
	cli_jw_kstr(w, "other_domain", f->other_domain);
	cli_jw_kstr(w, "other_where", f->other_where);
	cli_jw_obj_end(w);
}

/* "errors", "warnings", "infos" of the counts n (by severity). */
static void json_counts(cli_jw *w, const unsigned *n)
{
	cli_jw_kuint(w, "errors", n[SPFKIT_SEVERITY_ERROR]);
	cli_jw_kuint(w, "warnings", n[SPFKIT_SEVERITY_WARNING]);
	cli_jw_kuint(w, "infos", n[SPFKIT_SEVERITY_INFO]);
}

static void json_out(FILE *out, const walk_opts *o, const lctx *c,
		     const spfkit_check *chk)
{
	cli_jw w;
	walk_jw_open(&w, out, chk);
	cli_jw_kstr(&w, "record", o->id.record);
	walk_jw_counts(&w, chk);
	json_counts(&w, c->counts);
	cli_jw_key(&w, "third_party");
	cli_jw_obj(&w);
	json_counts(&w, c->third);
	cli_jw_obj_end(&w);
	cli_jw_key(&w, "ignored");
	cli_jw_arr(&w);
	for (size_t i = 0; i < o->nignore; i++)
		cli_jw_string(&w, o->ignore[i], strlen(o->ignore[i]));
	cli_jw_arr_end(&w);
	cli_jw_key(&w, "findings");
	cli_jw_arr(&w);
	for (size_t i = 0; i < c->n; i++)
		json_finding(&w, &c->v[i]);
	cli_jw_arr_end(&w);
	cli_jw_line_end(&w);
}

int cli_lint_main(int argc, char **argv)
{
	walk_opts o;
	int status =
	    walk_parse(argc, argv, PROG, WALK_OPT_STRICT, cli_lint_help, &o);
	if (status)
		return status < 0 ? 0 : status;
	lctx c = {0};
	c.o = &o;
	c.draft_domain = !o.domain && !o.id.sender && !o.id.helo;
	char **tmp = calloc(o.dns.nzones + 1, sizeof *tmp);
	walk_run run = {0};
	spfkit_linter *lt = NULL;
	status = tmp ? fix_drafts(&c, &o, tmp) : CLI_EX_SOFTWARE;
	/* The linter needs the config: make one for it with the same
	 * (default) limits the check's config has. */
	spfkit_config *lcfg = NULL;
	if (!status && spfkit_config_new(&lcfg, NULL) != SPFKIT_OK)
		status = CLI_EX_SOFTWARE;
	if (!status &&
	    spfkit_linter_new(&lt, lcfg, o.id.record ? SPFKIT_LINT_DRAFT : 0,
			      on_finding, &c) != SPFKIT_OK)
		status = CLI_EX_SOFTWARE;
	if (!status) {
		run.extra = spfkit_linter_event_cb;
		run.extra_ud = lt;
		status = walk_check(&o, true, &run);
	}
	if (!status && (spfkit_linter_finish(lt) != SPFKIT_OK || c.oom))
		status = cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	if (!status) {
		classify(&c, spfkit_check_domain(run.chk));
		if (o.format == WALK_JSON)
			json_out(stdout, &o, &c, run.chk);
		else
			text_out(stdout, &o, &c, run.chk);
		/* An error anywhere breaks the owner's mail (receivers give
		 * permerror or worse), so it always counts; a third party's
		 * warning only with --strict-all. */
		if (c.counts[SPFKIT_SEVERITY_ERROR] ||
		    c.third[SPFKIT_SEVERITY_ERROR] ||
		    (o.strict && c.counts[SPFKIT_SEVERITY_WARNING]) ||
		    (o.strict_all && c.third[SPFKIT_SEVERITY_WARNING]))
			status = 1;
	}
	for (size_t i = 0; tmp && i < o.dns.nzones; i++)
		if (tmp[i]) {
			unlink(tmp[i]);
			free(tmp[i]);
		}
	free(tmp);
	spfkit_linter_free(lt);
	spfkit_config_free(lcfg);
	free_finds(&c);
	return walk_end(&o, &run, status);
}
