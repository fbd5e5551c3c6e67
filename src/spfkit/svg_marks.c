/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * svg_marks.c - what the tree's pictures mark: the lint findings of the
 * walked check (the library's linter fed the same events, so a finding
 * sits in the record whose route it names, the route tree_route()
 * gives), and the nodes past the ten-lookup limit (RFC 7208 §4.6.4),
 * read off the counters the evaluator's events carry.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "svg.h"

/* The strings of a finding, each copied into one block. */
typedef struct fstr {
	char **dst;
	const char *s;
	size_t n;
} fstr;

void marks_on_finding(const spfkit_finding *f, void *ud)
{
	marks *m = ud;
	if (!cli_grow(&m->v, &m->cap, m->n, sizeof *m->v, &m->oom))
		return;
	mark_find *d = &m->v[m->n];
	memset(d, 0, sizeof *d);
	const fstr v[] = {
	    {&d->code, f->code, f->code ? strlen(f->code) : 0},
	    {&d->rfc, f->rfc, f->rfc ? strlen(f->rfc) : 0},
	    {&d->where, f->where, f->where ? strlen(f->where) : 0},
	    {&d->message, f->message, f->message ? strlen(f->message) : 0},
	    {&d->fix, f->fix, f->fix ? strlen(f->fix) : 0},
	    {&d->record, f->record, f->record ? f->record_len : 0},
	    {&d->replacement, f->replacement,
	     f->replacement ? f->replacement_len : 0},
	};
	size_t total = 0;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		total += v[i].n + 1;
	d->block = malloc(total);
	if (!d->block) {
		m->oom = true;
		return;
	}
	char *at = d->block;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if (!v[i].s)
			continue;
		memcpy(at, v[i].s, v[i].n);
		at[v[i].n] = '\0';
		*v[i].dst = at;
		at += v[i].n + 1;
	}
	d->severity = f->severity;
	d->record_len = d->record ? f->record_len : 0;
	d->replacement_len = d->replacement ? f->replacement_len : 0;
	d->pos = f->pos;
	d->len = f->len;
	if ((unsigned)f->severity < 3)
		m->counts[f->severity]++;
	m->n++;
}

int marks_walk(const walk_opts *o, walk_run *run, marks *m)
{
	memset(m, 0, sizeof *m);
	memset(run, 0, sizeof *run);
	spfkit_config *cfg = NULL;
	spfkit_linter *lt = NULL;
	int status = 0;
	/* The linter's own config, with the default limits the check's
	 * has (as spfkit lint does). */
	if (spfkit_config_new(&cfg, NULL) != SPFKIT_OK ||
	    spfkit_linter_new(&lt, cfg, o->id.record ? SPFKIT_LINT_DRAFT : 0,
			      marks_on_finding, m) != SPFKIT_OK)
		status = cli_say(o->prog, CLI_EX_SOFTWARE, "out of memory");
	if (!status) {
		run->extra = spfkit_linter_event_cb;
		run->extra_ud = lt;
		status = walk_check(o, true, run);
	}
	if (!status && (spfkit_linter_finish(lt) != SPFKIT_OK || m->oom))
		status = cli_say(o->prog, CLI_EX_SOFTWARE, "out of memory");
	if (!status)
		status = walk_verdict(o, run);
	spfkit_linter_free(lt);
	spfkit_config_free(cfg);
	return status;
}

void marks_free(marks *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].block);
	free(m->v);
	memset(m, 0, sizeof *m);
}

int marks_at(const marks *m, const char *route, size_t *count)
{
	int worst = 0;
	size_t n = 0;
	for (size_t i = 0; m && route && i < m->n; i++) {
		if (!m->v[i].where || strcmp(m->v[i].where, route) != 0)
			continue;
		n++;
		if ((int)m->v[i].severity + 1 > worst)
			worst = (int)m->v[i].severity + 1;
	}
	if (count)
		*count = n;
	return worst;
}

bool svg_over_limit(const node *n)
{
	/* The FRAME event carries the count with the include or redirect
	 * that pushed it already counted. */
	if (n->parent && n->frame->ev.lookups > SVG_LOOKUP_LIMIT)
		return true;
	for (size_t i = 0; i < n->nterms; i++) {
		const spfkit_event *te = &n->terms[i].term->ev;
		if (te->counted && te->lookups > SVG_LOOKUP_LIMIT)
			return true;
	}
	return false;
}
