/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diff.c - `spfkit diff DOMAIN`: what a draft changes. Two sides, before
 * and after: the zones without and with the last --zone (the draft laid
 * over the published data), or two --record texts over the same DNS.
 * Each side is flattened into address sets (flatten_build.c), walked with
 * the linter fed (the counts of RFC 7208 §4.6.4 as `spfkit tree` shows
 * them), and checked with the real evaluator for the boundary addresses of
 * every range of either side and sample addresses; what differs is shown.
 * Exit 0: nothing changes, 1: something does (like diff(1)).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "dnsrun.h"
#include "flatten.h"
#include "walk.h"

#define DF_PROG "spfkit diff"
/* Sample points past which more are not evaluated (each is a check per
 * side). */
#define DF_MAX_POINTS 4096

void cli_diff_help(FILE *f)
{
	fputs("usage: spfkit diff DOMAIN --zone PUBLISHED --zone DRAFT "
	      "[options]\n"
	      "       spfkit diff DOMAIN --nameserver ADDR --zone DRAFT "
	      "[options]\n"
	      "       spfkit diff DOMAIN --record OLD --record NEW "
	      "[DNS options]\n"
	      "What a draft changes in DOMAIN's SPF policy: the addresses "
	      "authorised\n"
	      "(in all and per include), the DNS lookups and void lookups "
	      "of a walk,\n"
	      "the lint findings that come and go, and the clients whose "
	      "result\n"
	      "changes (boundary addresses of every range, sample "
	      "addresses).\n"
	      "Exit 0 when nothing changes, 1 when something does.\n"
	      "  --record TEXT       given twice: the record before and "
	      "after\n"
	      "  --format text|json  text for people (default), or one JSON "
	      "object\n",
	      f);
	walk_help_dns(f, true);
}

/* One side of the comparison. */
typedef struct df_side {
	cli_dns_opts dns;
	const char *record; /* NULL: DOMAIN's record from DNS */
	fl_policy p;
	fl_final fin;
	fl_set pass4, pass6; /* every '+' address */
	unsigned lookups, voids;
	bool none;    /* the walk found no record: nothing to flatten */
	char **finds; /* "severity code: message (domain)" */
	size_t nfinds, cap_finds;
	bool oom;
} df_side;

typedef struct df_point {
	char ip[64];
	spfkit_result before, after;
} df_point;

typedef struct df_ctx {
	const char *domain;
	spfkit_config *cfg;
	df_side side[2];
	df_point *pts;
	size_t npts, cap_pts;
	bool oom;
} df_ctx;

/* Keeps a finding as one comparable line. */
static void on_finding(const spfkit_finding *f, void *ud)
{
	df_side *s = ud;
	char line[1024];
	snprintf(line, sizeof line, "%s %s: %s%s%s%s",
		 spfkit_severity_name(f->severity), f->code, f->message,
		 f->domain ? " (" : "", f->domain ? cli_shown(f->domain) : "",
		 f->domain ? ")" : "");
	char *dup = strdup(line);
	if (!dup || !cli_grow(&s->finds, &s->cap_finds, s->nfinds,
			      sizeof *s->finds, &s->oom)) {
		free(dup);
		s->oom = true;
		return;
	}
	s->finds[s->nfinds++] = dup;
}

/* Sets up a check of DOMAIN for ip on side s (walked when walk). */
static int new_check(const df_ctx *c, const df_side *s, const char *ip,
		     bool walk, spfkit_check **out)
{
	char sender[300];
	snprintf(sender, sizeof sender, "postmaster@%s", c->domain);
	int rc = spfkit_check_new(out, c->cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_ip(*out, ip);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_sender(*out, sender, strlen(sender));
	if (rc == SPFKIT_OK && s->record)
		rc =
		    spfkit_check_set_record(*out, s->record, strlen(s->record));
	if (rc == SPFKIT_OK && walk)
		rc = spfkit_check_set_walk(*out, 1);
	return rc;
}

/* The walk of side s: its counts and lint findings. */
static int walk_side(df_ctx *c, df_side *s, cli_dns *d)
{
	spfkit_linter *l = NULL;
	spfkit_check *chk = NULL;
	int rc = spfkit_linter_new(
	    &l, c->cfg, s->record ? SPFKIT_LINT_DRAFT : 0, on_finding, s);
	if (rc == SPFKIT_OK)
		rc = new_check(c, s, WALK_DEFAULT_IP, true, &chk);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_events(chk, spfkit_linter_event_cb, l);
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(d, chk);
	if (rc == SPFKIT_OK) {
		s->lookups = spfkit_check_lookups(chk);
		s->voids = spfkit_check_void_lookups(chk);
		s->none = spfkit_check_result(chk) == SPFKIT_RESULT_NONE;
		rc = spfkit_linter_finish(l);
	}
	spfkit_check_free(chk);
	spfkit_linter_free(l);
	if (rc < 0 || s->oom)
		return cli_say(DF_PROG, CLI_EX_SOFTWARE, "%s",
			       rc < 0 ? spfkit_strerror(rc) : "out of memory");
	return 0;
}

/* Adds ip as a point to evaluate, once. */
static void add_ip(df_ctx *c, const char *ip)
{
	for (size_t i = 0; i < c->npts; i++)
		if (strcmp(c->pts[i].ip, ip) == 0)
			return;
	if (c->npts >= DF_MAX_POINTS ||
	    !cli_grow(&c->pts, &c->cap_pts, c->npts, sizeof *c->pts, &c->oom))
		return;
	df_point *p = &c->pts[c->npts++];
	memset(p, 0, sizeof *p);
	snprintf(p->ip, sizeof p->ip, "%s", ip);
}

static void add_addr(void *ud, unsigned bits, fl_u128 a)
{
	char t[64];
	fl_addr_text(t, sizeof t, bits, a);
	add_ip(ud, t);
}

static void add_bounds(df_ctx *c, const fl_set *set)
{
	fl_bounds(set, add_addr, c);
}

/* Addresses outside the usual ranges, both families. */
static const char *const samples[] = {"192.0.2.1",     "198.51.100.77",
				      "203.0.113.200", "8.8.8.8",
				      "2001:db8::1",   "2001:4860:4860::8888"};

/* Flattens side s into address sets (limits lifted, so an over-limit
 * draft still shows what it lists). */
static int build_side(df_ctx *c, df_side *s)
{
	fl_set_init(&s->pass4, 32);
	fl_set_init(&s->pass6, 128);
	if (s->none) /* no SPF record (RFC 7208 4.5): no addresses */
		return 0;
	int st =
	    fl_build(DF_PROG, &s->dns, c->domain, s->record, NULL, 0, &s->p);
	if (st)
		return st;
	fl_finalize(&s->p.items, &s->fin);
	for (size_t i = 0; i < s->fin.n; i++) {
		fl_set_union(&s->pass4, &s->fin.v[i].s4[0]);
		fl_set_union(&s->pass6, &s->fin.v[i].s6[0]);
		for (int q = 0; q < 4; q++) {
			add_bounds(c, &s->fin.v[i].s4[q]);
			add_bounds(c, &s->fin.v[i].s6[q]);
		}
	}
	fl_set_norm(&s->pass4);
	fl_set_norm(&s->pass6);
	add_bounds(c, &s->p.seen4);
	add_bounds(c, &s->p.seen6);
	for (size_t i = 0; i < s->p.nsrc; i++) {
		add_bounds(c, &s->p.src[i].s4);
		add_bounds(c, &s->p.src[i].s6);
	}
	if (s->fin.oom || s->pass4.oom || s->pass6.oom)
		return cli_say(DF_PROG, CLI_EX_SOFTWARE, "out of memory");
	return 0;
}

/* Builds, walks and evaluates both sides. */
static int run_sides(df_ctx *c)
{
	cli_dns *d[2] = {NULL, NULL};
	int st = 0;
	/* Opened first, so a zone file's trouble is said as diff's. */
	for (int i = 0; i < 2 && !st; i++)
		st = cli_dns_open(&c->side[i].dns, c->cfg, DF_PROG, &d[i]);
	/* The walk first: it tells whether there is a record to flatten. */
	for (int i = 0; i < 2 && !st; i++)
		st = walk_side(c, &c->side[i], d[i]);
	for (int i = 0; i < 2 && !st; i++)
		st = build_side(c, &c->side[i]);
	for (size_t i = 0; i < sizeof samples / sizeof *samples; i++)
		add_ip(c, samples[i]);
	for (size_t k = 0; k < c->npts && !st; k++) {
		for (int i = 0; i < 2 && !st; i++) {
			spfkit_check *chk = NULL;
			int rc = new_check(c, &c->side[i], c->pts[k].ip, false,
					   &chk);
			if (rc == SPFKIT_OK)
				rc = cli_dns_run(d[i], chk);
			if (rc == SPFKIT_OK)
				*(i ? &c->pts[k].after : &c->pts[k].before) =
				    spfkit_check_result(chk);
			spfkit_check_free(chk);
			if (rc < 0)
				st = cli_say(DF_PROG, CLI_EX_SOFTWARE, "%s",
					     spfkit_strerror(rc));
		}
	}
	if (!st && c->oom)
		st = cli_say(DF_PROG, CLI_EX_SOFTWARE, "out of memory");
	for (int i = 0; i < 2; i++)
		cli_dns_close(d[i]);
	return st;
}

/* ------------------------------------------------------------ output */

/* The terms of s4 and s6 ("ip4:A/N ip6:X::/N"), malloc; "" when none. */
static char *terms_of(const fl_set *s4, const fl_set *s6)
{
	char *b = NULL;
	size_t n = 0;
	if (!fl_terms(&b, &n, "", s4) || !fl_terms(&b, &n, "", s6)) {
		free(b);
		return NULL;
	}
	return b ? b : strdup("");
}

/* The change between two set pairs. */
typedef struct df_change {
	char *before, *after, *came, *went;
	bool any;
} df_change;

static bool change_of(df_change *ch, const fl_set *b4, const fl_set *b6,
		      const fl_set *a4, const fl_set *a6)
{
	fl_set c4, c6, g4, g6;
	fl_set_diff(&c4, a4, b4);
	fl_set_diff(&c6, a6, b6);
	fl_set_diff(&g4, b4, a4);
	fl_set_diff(&g6, b6, a6);
	ch->any = c4.n || c6.n || g4.n || g6.n;
	ch->before = terms_of(b4, b6);
	ch->after = terms_of(a4, a6);
	ch->came = terms_of(&c4, &c6);
	ch->went = terms_of(&g4, &g6);
	fl_set_free(&c4);
	fl_set_free(&c6);
	fl_set_free(&g4);
	fl_set_free(&g6);
	return ch->before && ch->after && ch->came && ch->went;
}

static void change_free(df_change *ch)
{
	free(ch->before);
	free(ch->after);
	free(ch->came);
	free(ch->went);
}

static bool has_find(const df_side *s, const char *f)
{
	for (size_t i = 0; i < s->nfinds; i++)
		if (strcmp(s->finds[i], f) == 0)
			return true;
	return false;
}

/* The include (source) of side s named name, or NULL. */
static const fl_source *source(const df_side *s, const char *name)
{
	for (size_t i = 0; i < s->p.nsrc; i++)
		if (strcasecmp(s->p.src[i].name, name) == 0)
			return &s->p.src[i];
	return NULL;
}

/* Writes the change of label (text or as a JSON object); true when the
 * sets differ. */
static bool put_change(cli_jw *w, const char *label, const fl_set *b4,
		       const fl_set *b6, const fl_set *a4, const fl_set *a6,
		       bool *oom)
{
	df_change ch = {0};
	if (!change_of(&ch, b4, b6, a4, a6)) {
		*oom = true;
	} else if (w) {
		cli_jw_obj(w);
		cli_jw_kstr(w, "name", label);
		cli_jw_kstr(w, "before", ch.before);
		cli_jw_kstr(w, "after", ch.after);
		cli_jw_kstr(w, "came", ch.came);
		cli_jw_kstr(w, "went", ch.went);
		cli_jw_obj_end(w);
	} else if (ch.any) {
		printf("addresses of %s:\n  before: %s\n  after:  %s\n", label,
		       *ch.before ? ch.before : "none",
		       *ch.after ? ch.after : "none");
		printf("  came:   %s\n  went:   %s\n",
		       *ch.came ? ch.came : "nothing",
		       *ch.went ? ch.went : "nothing");
	}
	bool any = ch.any;
	change_free(&ch);
	return any;
}

/* Every include named on either side, compared (JSON: array members). */
static bool put_sources(cli_jw *w, const df_ctx *c, bool *oom)
{
	bool any = false;
	fl_set e4, e6;
	fl_set_init(&e4, 32);
	fl_set_init(&e6, 128);
	for (int i = 0; i < 2; i++) {
		const df_side *s = &c->side[i], *o = &c->side[!i];
		for (size_t k = 0; k < s->p.nsrc; k++) {
			const fl_source *src = &s->p.src[k],
					*other = source(o, src->name);
			if (i == 1 && other)
				continue; /* compared from before */
			char label[300];
			snprintf(label, sizeof label, "include:%s",
				 cli_shown(src->name));
			const fl_source *b = i ? other : src,
					*a = i ? src : other;
			if (put_change(w, label, b ? &b->s4 : &e4,
				       b ? &b->s6 : &e6, a ? &a->s4 : &e4,
				       a ? &a->s6 : &e6, oom))
				any = true;
		}
	}
	fl_set_free(&e4);
	fl_set_free(&e6);
	return any;
}

/* The findings of side s not on side o (JSON: strings). */
static bool put_finds(cli_jw *w, const df_side *s, const df_side *o,
		      const char *label)
{
	bool any = false;
	for (size_t i = 0; i < s->nfinds; i++) {
		if (has_find(o, s->finds[i]))
			continue;
		any = true;
		if (w)
			cli_jw_str(w, s->finds[i]);
		else
			printf("%s finding: %s\n", label, s->finds[i]);
	}
	return any;
}

/* The clients whose result changes. */
static bool put_results(cli_jw *w, const df_ctx *c)
{
	bool any = false;
	for (size_t i = 0; i < c->npts; i++) {
		const df_point *p = &c->pts[i];
		if (p->before == p->after)
			continue;
		any = true;
		if (w) {
			cli_jw_obj(w);
			cli_jw_kstr(w, "ip", p->ip);
			cli_jw_kstr(w, "before", spfkit_result_name(p->before));
			cli_jw_kstr(w, "after", spfkit_result_name(p->after));
			cli_jw_obj_end(w);
		} else {
			printf("result for %s: %s -> %s\n", p->ip,
			       spfkit_result_name(p->before),
			       spfkit_result_name(p->after));
		}
	}
	return any;
}

/* "key": {"before": b, "after": a} */
static void put_counts(cli_jw *w, const char *key, unsigned b, unsigned a)
{
	cli_jw_key(w, key);
	cli_jw_obj(w);
	cli_jw_key(w, "before");
	cli_jw_uint(w, b);
	cli_jw_key(w, "after");
	cli_jw_uint(w, a);
	cli_jw_obj_end(w);
}

/* Writes what changes; true when anything does. */
static bool put_diff(const df_ctx *c, bool json, bool *oom)
{
	const df_side *b = &c->side[0], *a = &c->side[1];
	bool any = false;
	cli_jw jw, *w = json ? &jw : NULL;
	if (w) {
		cli_jw_line(w, stdout);
		cli_jw_kstr(w, "domain", c->domain);
		cli_jw_key(w, "addresses");
	}
	any |= put_change(w, c->domain, &b->pass4, &b->pass6, &a->pass4,
			  &a->pass6, oom);
	if (w) {
		cli_jw_key(w, "includes");
		cli_jw_arr(w);
	}
	any |= put_sources(w, c, oom);
	bool counts = b->lookups != a->lookups || b->voids != a->voids;
	any |= counts;
	if (w) {
		cli_jw_arr_end(w);
		put_counts(w, "lookups", b->lookups, a->lookups);
		put_counts(w, "void_lookups", b->voids, a->voids);
		cli_jw_key(w, "new_findings");
		cli_jw_arr(w);
	} else {
		printf("lookups: %u -> %u (void lookups: %u -> %u)\n",
		       b->lookups, a->lookups, b->voids, a->voids);
	}
	any |= put_finds(w, a, b, "new");
	if (w) {
		cli_jw_arr_end(w);
		cli_jw_key(w, "fixed_findings");
		cli_jw_arr(w);
	}
	any |= put_finds(w, b, a, "fixed");
	if (w) {
		cli_jw_arr_end(w);
		cli_jw_key(w, "results");
		cli_jw_arr(w);
	}
	any |= put_results(w, c);
	if (w) {
		cli_jw_arr_end(w);
		cli_jw_key(w, "changed");
		cli_jw_bool(w, any);
		cli_jw_line_end(w);
	} else {
		printf("%s\n",
		       any ? "the draft changes the policy" : "no change");
	}
	return any;
}

/* ------------------------------------------------------------ options */

/* The options as given: --format once, --record twice or never. */
typedef struct df_opts {
	const cli_args *a;
	const char *format;
	const char *rec[2];
	size_t nrec;
} df_opts;

enum { OPT_FORMAT = CLI_OPT_FIRST, OPT_RECORD };

static const struct option longopts[] = {
    {"record", required_argument, NULL, OPT_RECORD},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"help", no_argument, NULL, 'h'},
    CLI_DNS_LONGOPTS,
    {NULL, 0, NULL, 0}};

static int take(int c, void *ud)
{
	df_opts *o = ud;
	switch (c) {
	case 'h': cli_diff_help(stdout); return -1;
	case OPT_FORMAT: return fl_format(o->a, &o->format, c, "text");
	case OPT_RECORD:
		if (o->nrec == 2)
			return cli_usage(DF_PROG, "--record given more than "
						  "twice (before and after)");
		o->rec[o->nrec++] = optarg;
		return 0;
	default: return cli_usage(DF_PROG, "unexpected option");
	}
}

static void ctx_free(df_ctx *c)
{
	for (int i = 0; i < 2; i++) {
		df_side *s = &c->side[i];
		fl_final_free(&s->fin);
		fl_policy_free(&s->p);
		fl_set_free(&s->pass4);
		fl_set_free(&s->pass6);
		for (size_t k = 0; k < s->nfinds; k++)
			free(s->finds[k]);
		free(s->finds);
	}
	free(c->pts);
	spfkit_config_free(c->cfg);
}

int cli_diff_main(int argc, char **argv)
{
	cli_args a = {DF_PROG, "diff", longopts};
	df_opts o = {.a = &a};
	df_ctx c = {0};
	cli_dns_opts dns;
	if (!cli_dns_opts_init(&dns, argc))
		return cli_say(DF_PROG, CLI_EX_SOFTWARE, "out of memory");
	int status = cli_parse(&a, argc, argv, &dns, NULL, take, &o);
	if (status) {
		status = status < 0 ? 0 : status;
		goto done;
	}
	status = fl_operand(&a, argc, argv, &dns, &c.domain);
	if (status)
		goto done;
	c.side[0].dns = c.side[1].dns = dns;
	if (o.nrec == 1) {
		status = cli_usage(DF_PROG, "--record: give two, the record "
					    "before and after");
		goto done;
	} else if (o.nrec == 2) {
		c.side[0].record = o.rec[0];
		c.side[1].record = o.rec[1];
	} else if (dns.nzones == 0 ||
		   (dns.nzones == 1 && !cli_dns_opts_real(&dns))) {
		status = cli_usage(DF_PROG,
				   "give the published data (--zone or "
				   "--nameserver) and then --zone DRAFT, or "
				   "two --record");
		goto done;
	} else {
		c.side[0].dns.nzones--; /* before: without the draft */
	}
	int rc = spfkit_config_new(&c.cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(&dns, c.cfg);
	if (rc < 0) {
		status = cli_say(DF_PROG, CLI_EX_SOFTWARE, "%s",
				 spfkit_strerror(rc));
		goto done;
	}
	status = run_sides(&c);
	if (status)
		goto done;
	bool oom = false;
	bool any =
	    put_diff(&c, o.format && strcmp(o.format, "json") == 0, &oom);
	status = any ? 1 : 0;
	if (oom)
		status = cli_say(DF_PROG, CLI_EX_SOFTWARE, "out of memory");
	if (fflush(stdout) != 0 || ferror(stdout))
		status = cli_say(DF_PROG, CLI_EX_SOFTWARE, "write error");
done:
	ctx_free(&c);
	cli_dns_opts_free(&dns);
	return status;
}
