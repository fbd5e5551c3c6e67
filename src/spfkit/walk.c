/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * walk.c - the options, setup and event log `spfkit tree`, `spfkit lint`
 * and `spfkit trace` share (see walk.h). The log copies every event the
 * evaluator sends, so the commands can shape their output afterwards from
 * exactly what the evaluator did.
 */
#include "walk.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_FORMAT = CLI_OPT_FIRST, OPT_STRICT, OPT_STRICT_ALL, OPT_IGNORE };

static const struct option longopts[] = {
    CLI_IDENTITY_LONGOPTS,
    {"format", required_argument, NULL, OPT_FORMAT},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"strict-all", no_argument, NULL, OPT_STRICT_ALL},
    {"ignore", required_argument, NULL, OPT_IGNORE},
    CLI_DNS_LONGOPTS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* What parsing keeps besides the options. */
typedef struct parse_state {
	const cli_args *a;
	unsigned allow;
	void (*help)(FILE *);
	walk_opts *o;
	const char *format; /* --format as given */
} parse_state;

/* Takes --format: text, json, and dot and svg where the command allows
 * them; html alone for the report. */
static int take_format(parse_state *ps, int c)
{
	int status = 0;
	walk_opts *o = ps->o;
	if (!cli_set_once(ps->a, &ps->format, optarg, c, &status))
		return status;
	if (ps->allow & WALK_OPT_HTML) {
		if (strcmp(optarg, "html") != 0)
			return cli_usage(o->prog, "--format: '%s' is not html",
					 cli_shown(optarg));
		o->format = WALK_HTML;
	} else if (strcmp(optarg, "text") == 0)
		o->format = WALK_TEXT;
	else if (strcmp(optarg, "json") == 0)
		o->format = WALK_JSON;
	else if (strcmp(optarg, "dot") == 0 && (ps->allow & WALK_OPT_DOT))
		o->format = WALK_DOT;
	else if (strcmp(optarg, "svg") == 0 && (ps->allow & WALK_OPT_DOT))
		o->format = WALK_SVG;
	else
		return cli_usage(
		    o->prog, "--format: '%s' is not %s", cli_shown(optarg),
		    (ps->allow & WALK_OPT_DOT) ? "text, json, dot or svg"
					       : "text or json");
	return 0;
}

/* Takes --ignore CODE,...: each a code lint knows (spfkit_lint_code()). */
static int take_ignore(walk_opts *o, const char *list)
{
	bool oom = false;
	for (const char *p = list;; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *code = NULL;
		for (size_t i = 0; !code && spfkit_lint_code(i); i++)
			if (strlen(spfkit_lint_code(i)) == n &&
			    memcmp(spfkit_lint_code(i), p, n) == 0)
				code = spfkit_lint_code(i);
		if (!code)
			return cli_usage(o->prog,
					 "--ignore: unknown code '%s' (the "
					 "codes are in spfkit-lint(1))",
					 cli_shown_n(p, n));
		if (!cli_grow(&o->ignore, &o->cap_ignore, o->nignore,
			      sizeof *o->ignore, &oom))
			return cli_say(o->prog, CLI_EX_SOFTWARE,
				       "out of memory");
		o->ignore[o->nignore++] = code;
		if (!end)
			return 0;
		p = end;
	}
}

/* Takes one option of the walking commands' own (cli_take_fn). */
static int take(int c, void *ud)
{
	parse_state *ps = ud;
	walk_opts *o = ps->o;
	if ((c == OPT_STRICT || c == OPT_STRICT_ALL || c == OPT_IGNORE) &&
	    !(ps->allow & WALK_OPT_STRICT))
		return cli_usage(o->prog,
				 "--%s does not apply to %s (try 'spfkit help "
				 "%s')",
				 cli_opt_name(longopts, c), o->cmd, o->cmd);
	switch (c) {
	case OPT_FORMAT: return take_format(ps, c);
	case OPT_STRICT: o->strict = true; return 0;
	case OPT_STRICT_ALL: o->strict = o->strict_all = true; return 0;
	case OPT_IGNORE: return take_ignore(o, optarg);
	case 'h': ps->help(stdout); return -1;
	default: return 0;
	}
}

/* The rules between options, once all are read. */
static int combination(unsigned allow, walk_opts *o)
{
	if (o->domain && (o->id.sender || o->id.helo))
		return cli_usage(o->prog,
				 "give DOMAIN, or --sender/--helo, not both");
	if ((allow & WALK_OPT_NEEDIP) && !o->id.ip)
		return cli_usage(o->prog,
				 "--ip IP is required (try 'spfkit help %s')",
				 o->cmd);
	if (o->id.scope == SPFKIT_SCOPE_HELO && !o->id.helo)
		return cli_usage(o->prog, "--scope helo needs --helo NAME");
	if (!o->domain && !o->id.sender && !o->id.helo && !o->id.record)
		return cli_usage(o->prog,
				 "give a DOMAIN, --sender ADDR or --record "
				 "TEXT (try 'spfkit help %s')",
				 o->cmd);
	if (o->id.sender && !o->id.sender[0] && !o->id.helo)
		return cli_usage(o->prog,
				 "the null sender checks the HELO name: give "
				 "--helo NAME");
	const char *problem = cli_dns_opts_problem(&o->dns);
	if (problem)
		return cli_usage(o->prog, "%s", problem);
	return 0;
}

int walk_parse(int argc, char **argv, const char *prog, unsigned allow,
	       void (*help)(FILE *), walk_opts *o)
{
	memset(o, 0, sizeof *o);
	o->prog = prog;
	o->cmd = prog + strlen("spfkit ");
	const cli_args a = {o->prog, o->cmd, longopts};
	parse_state ps = {.a = &a, .allow = allow, .help = help, .o = o};
	if (!cli_dns_opts_init(&o->dns, argc))
		return cli_say(o->prog, CLI_EX_SOFTWARE, "out of memory");
	int status = cli_parse(&a, argc, argv, &o->dns, &o->id, take, &ps);
	if (status == 0 && optind < argc)
		o->domain = argv[optind++];
	if (status == 0 && optind < argc)
		status = cli_usage(o->prog,
				   "unexpected argument '%s' (try 'spfkit "
				   "help %s')",
				   cli_shown(argv[optind]), o->cmd);
	if (status == 0)
		status = combination(allow, o);
	if (status != 0)
		walk_opts_free(o);
	return status;
}

void walk_opts_free(walk_opts *o)
{
	cli_dns_opts_free(&o->dns);
	free(o->ignore);
	o->ignore = NULL;
	o->nignore = o->cap_ignore = 0;
}

/* ------------------------------------------------------------ the log */

/* A NUL-terminated copy of (s, n); NULL for NULL. */
static char *copy(walk_log *l, const char *s, size_t n)
{
	char *p = cli_copy(s, n);
	if (s && !p)
		l->oom = true;
	return p;
}

/* The microseconds between the QUERY of id and now. */
static uint64_t since_query(const walk_log *l, unsigned id, uint64_t now)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].ev.kind == SPFKIT_EVENT_QUERY &&
		    l->v[i].ev.query_id == id)
			return now >= l->v[i].us ? now - l->v[i].us : 0;
	return 0;
}

/* The QUERY-to-ANSWER time of query id, once answered. */
static uint64_t answer_time(const walk_log *l, unsigned id)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].ev.kind == SPFKIT_EVENT_ANSWER &&
		    l->v[i].ev.query_id == id)
			return l->v[i].elapsed;
	return 0;
}

/* Logs one event with everything it points to. */
static void log_event(walk_log *l, const spfkit_event *ev)
{
	if (l->oom)
		return;
	if (!cli_grow(&l->v, &l->cap, l->n, sizeof *l->v, &l->oom))
		return;
	uint64_t now = cli_now_us();
	walk_ev *w = &l->v[l->n];
	memset(w, 0, sizeof *w);
	w->ev = *ev;
	w->us = now >= l->start_us ? now - l->start_us : 0;
	spfkit_event *e = &w->ev;
	e->via = copy(l, ev->via, ev->via ? strlen(ev->via) : 0);
	e->domain = copy(l, ev->domain, ev->domain ? strlen(ev->domain) : 0);
	e->text = copy(l, ev->text, ev->text_len);
	e->mechanism =
	    copy(l, ev->mechanism, ev->mechanism ? strlen(ev->mechanism) : 0);
	e->name = copy(l, ev->name, ev->name ? strlen(ev->name) : 0);
	e->addr = NULL;
	if (ev->addr && (ev->family == 4 || ev->family == 6)) {
		/* Its own block: the log's array moves as it grows. */
		unsigned char *a = malloc(16);
		if (!a) {
			l->oom = true;
		} else {
			memset(a, 0, 16);
			memcpy(a, ev->addr, ev->family == 4 ? 4 : 16);
			e->addr = a;
		}
	}
	e->items = NULL;
	if (ev->kind == SPFKIT_EVENT_LOOKUP && ev->nitems) {
		spfkit_event_item *items = calloc(ev->nitems, sizeof *items);
		if (!items) {
			l->oom = true;
		} else {
			for (size_t i = 0; i < ev->nitems; i++) {
				items[i].data = copy(l, ev->items[i].data,
						     ev->items[i].len);
				items[i].len = ev->items[i].len;
			}
			e->items = items;
		}
	} else if (ev->kind == SPFKIT_EVENT_LOOKUP) {
		e->nitems = 0;
	}
	if (ev->kind == SPFKIT_EVENT_ANSWER)
		w->elapsed = since_query(l, ev->query_id, w->us);
	if (ev->kind == SPFKIT_EVENT_LOOKUP)
		w->elapsed = answer_time(l, ev->query_id);
	l->n++;
}

static void on_event(const spfkit_check *chk, const spfkit_event *ev, void *ud)
{
	walk_run *run = ud;
	log_event(&run->log, ev);
	if (run->extra)
		run->extra(chk, ev, run->extra_ud);
}

static void free_log(walk_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		spfkit_event *e = &l->v[i].ev;
		free((char *)e->via);
		free((char *)e->domain);
		free((char *)e->text);
		free((char *)e->mechanism);
		free((char *)e->name);
		free((unsigned char *)e->addr);
		if (e->items) {
			for (size_t k = 0; k < e->nitems; k++)
				free(e->items[k].data);
			free((spfkit_event_item *)e->items);
		}
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Gives chk the identity, client and draft record of o. */
static int set_inputs(const walk_opts *o, spfkit_check *chk)
{
	int rc =
	    spfkit_check_set_ip(chk, o->id.ip ? o->id.ip : WALK_DEFAULT_IP);
	char *sender = NULL;
	if (rc == SPFKIT_OK && o->id.sender) {
		rc = spfkit_check_set_sender(chk, o->id.sender,
					     strlen(o->id.sender));
	} else if (rc == SPFKIT_OK && !o->id.helo) {
		/* DOMAIN: the check's identity is postmaster@DOMAIN. */
		const char *d = o->domain ? o->domain : WALK_DRAFT_DOMAIN;
		size_t n = strlen(d) + 12;
		sender = malloc(n);
		if (!sender)
			rc = SPFKIT_ENOMEM;
		else {
			snprintf(sender, n, "postmaster@%s", d);
			rc = spfkit_check_set_sender(chk, sender,
						     strlen(sender));
		}
	}
	free(sender);
	if (rc == SPFKIT_OK && o->id.helo)
		rc = spfkit_check_set_helo(chk, o->id.helo, strlen(o->id.helo));
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_scope(chk, o->id.scope);
	if (rc == SPFKIT_OK && o->id.record)
		rc = spfkit_check_set_record(chk, o->id.record,
					     strlen(o->id.record));
	return rc;
}

/* A one-line message for a failed setup; the exit status. */
static int setup_failed(const walk_opts *o, int rc)
{
	if (rc == SPFKIT_ETOOBIG)
		return cli_usage(o->prog, "an argument is over 64 KiB");
	return cli_say(o->prog, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
}

int walk_check(const walk_opts *o, bool walk, walk_run *run)
{
	int rc = spfkit_config_new(&run->cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(&o->dns, run->cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_new(&run->chk, run->cfg);
	if (rc < 0)
		return cli_say(o->prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));
	int status = cli_dns_open(&o->dns, run->cfg, o->prog, &run->dns);
	if (status)
		return status;

	spfkit_check *chk = run->chk;
	rc = set_inputs(o, chk);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_walk(chk, walk);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_events(chk, on_event, run);
	if (rc < 0)
		return setup_failed(o, rc);
	run->log.start_us = cli_now_us();
	rc = cli_dns_run(run->dns, chk);
	if (rc < 0)
		return cli_say(o->prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));
	if (run->log.oom)
		return cli_say(o->prog, CLI_EX_SOFTWARE, "out of memory");
	return 0;
}

int walk_verdict(const walk_opts *o, walk_run *run)
{
	int rc = spfkit_check_new(&run->verdict, run->cfg);
	if (rc == SPFKIT_OK)
		rc = set_inputs(o, run->verdict);
	if (rc < 0)
		return setup_failed(o, rc);
	rc = cli_dns_run(run->dns, run->verdict);
	if (rc < 0)
		return cli_say(o->prog, CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(rc));
	return 0;
}

void walk_run_free(walk_run *run)
{
	spfkit_check_free(run->verdict);
	run->verdict = NULL;
	spfkit_check_free(run->chk);
	cli_dns_close(run->dns);
	spfkit_config_free(run->cfg);
	free_log(&run->log);
	run->chk = NULL;
	run->dns = NULL;
	run->cfg = NULL;
}

bool walk_start(int argc, char **argv, const char *prog, unsigned allow,
		void (*help)(FILE *), bool walk, walk_opts *o, walk_run *run,
		int *status)
{
	memset(run, 0, sizeof *run);
	*status = walk_parse(argc, argv, prog, allow, help, o);
	if (*status) {
		*status = *status < 0 ? 0 : *status;
		return false;
	}
	*status = walk_check(o, walk, run);
	if (*status == 0)
		return true;
	walk_run_free(run);
	walk_opts_free(o);
	return false;
}

int walk_end(walk_opts *o, walk_run *run, int status)
{
	/* Nothing is buffered after an error: this fails only on output. */
	if (fflush(stdout) != 0)
		status = CLI_EX_SOFTWARE;
	walk_run_free(run);
	walk_opts_free(o);
	return status;
}

/* ------------------------------------------------------------ names */

const char *walk_kind_name(spfkit_event_kind k)
{
	static const char *const names[] = {
	    "query", "answer",   "frame",     "record",  "term",  "lookup",
	    "void",  "term_end", "frame_end", "problem", "result"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const char *walk_type_name(uint16_t type)
{
	switch (type) {
	case SPFKIT_TYPE_A: return "A";
	case SPFKIT_TYPE_AAAA: return "AAAA";
	case SPFKIT_TYPE_MX: return "MX";
	case SPFKIT_TYPE_TXT: return "TXT";
	case SPFKIT_TYPE_PTR: return "PTR";
	case SPFKIT_TYPE_CNAME: return "CNAME";
	default: return "?";
	}
}

const char *walk_status_name(spfkit_dns_status s)
{
	switch (s) {
	case SPFKIT_DNS_NOERROR: return "NOERROR";
	case SPFKIT_DNS_NXDOMAIN: return "NXDOMAIN";
	default: return "TEMPFAIL";
	}
}

/* ------------------------------------------------------------ output */

void walk_help_dns(FILE *f, bool zone)
{
	if (zone)
		fputs(
		    "  --zone FILE       DNS from this zone file (repeatable; "
		    "hermetic)\n",
		    f);
	fputs("  --nameserver ADDR[@PORT], --recursive, --root-hints FILE,\n"
	      "  --trust-anchor FILE, --timeout SECONDS as for spfkit check\n"
	      "  -h, --help        show this help and exit\n",
	      f);
}

void walk_indent(FILE *f, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		fputs("    ", f);
}

/* An address item as text into buf; false when it is not one. */
static bool item_addr(uint16_t type, const spfkit_event_item *it, char *buf,
		      size_t cap)
{
	if (type == SPFKIT_TYPE_A && it->len == 4)
		return inet_ntop(AF_INET, it->data, buf, (socklen_t)cap);
	if (type == SPFKIT_TYPE_AAAA && it->len == 16)
		return inet_ntop(AF_INET6, it->data, buf, (socklen_t)cap);
	return false;
}

void walk_put_item(FILE *f, uint16_t type, const spfkit_event_item *it)
{
	char buf[64];
	if (item_addr(type, it, buf, sizeof buf)) {
		fputs(buf, f);
	} else if (type == SPFKIT_TYPE_MX && it->len == 0) {
		fputs(". (null MX)", f);
	} else if (type == SPFKIT_TYPE_TXT) {
		putc('"', f);
		cli_put_safe(f, it->data, it->len);
		putc('"', f);
	} else {
		cli_put_safe(f, it->data, it->len);
	}
}

void walk_put_lookup(FILE *f, const spfkit_event *e)
{
	fprintf(f, "      %s ", walk_type_name(e->type));
	cli_put_str(f, e->name);
	fprintf(f, " -> %s", walk_status_name(e->status));
	for (size_t i = 0; i < e->nitems && e->items && i < WALK_ITEMS_SHOWN;
	     i++) {
		fputs(i ? ", " : " ", f);
		walk_put_item(f, e->type, &e->items[i]);
	}
	if (e->nitems > WALK_ITEMS_SHOWN)
		fprintf(f, ", ... (%zu in all)", e->nitems);
}

void walk_jw_item(cli_jw *w, uint16_t type, const spfkit_event_item *it)
{
	char buf[64];
	if (item_addr(type, it, buf, sizeof buf))
		cli_jw_string(w, buf, strlen(buf));
	else
		cli_jw_string(w, it->data, it->len);
}

void walk_jw_items(cli_jw *w, const spfkit_event *e)
{
	cli_jw_arr(w);
	for (size_t i = 0; i < e->nitems && e->items; i++)
		walk_jw_item(w, e->type, &e->items[i]);
	cli_jw_arr_end(w);
}

void walk_jw_open(cli_jw *w, FILE *f, const spfkit_check *chk)
{
	cli_jw_line(w, f);
	cli_jw_kstr(w, "domain", spfkit_check_domain(chk));
	cli_jw_kstr(w, "ip", spfkit_check_ip(chk));
}

void walk_jw_counts(cli_jw *w, const spfkit_check *chk)
{
	cli_jw_counts(w, chk);
	cli_jw_kuint(w, "lookup_limit", 10);
	cli_jw_kuint(w, "void_limit", 2);
}
