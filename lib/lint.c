/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lint.c - static analysis of SPF records and of walked checks: problems
 * with a severity, the RFC section, the position and a concrete fix. This
 * file holds the public entry points (spfkit_lint_record, spfkit_linter_*)
 * and the reporter every rule speaks through; the rules live by family in
 * lint_syntax.c, lint_record.c, lint_tree.c and lint_net.c (lint.h).
 *
 * Two rules keep lint honest. The grammar is the evaluator's own: a term
 * is a syntax error exactly when spfkit__record_parse() says so (lint only
 * adds the advice). And every count -- DNS-querying terms, void lookups,
 * MX names, loops -- is read from the evaluator's events of a walked check
 * (spfkit_check_set_walk), never counted a second time here.
 */
#include <stdlib.h>
#include <string.h>

#include "lint.h"

/* Caps on what a hostile tree can make the linter say. */
#define MAX_PER_CODE 50   /* findings of one code before a summary */
#define MSG_MAX      4096 /* octets of one message or fix */
/* A replacement may be a whole record: a TXT answer of at most 64 KiB. */
#define REPLACEMENT_MAX 65536

/* Every code a finding can have, for spfkit_lint_code(): the command
 * checks --ignore against it, and test_lint that nothing else is said. */
static const char *const codes[] = {
    /* records and near misses (§4.5) */
    "no-record", "multiple-records", "not-spf", "missing-version",
    "version-not-first", "version-no-space", "version-typo",
    /* syntax (§4.6.1, §5, §6, §12) */
    "syntax", "bad-octet", "stray-quote", "ipv4-typo", "ipv6-typo", "ip-typo",
    "include-equals", "mechanism-equals", "missing-space", "modifier-colon",
    "ip-as-domain", "no-domain", "exp-not-domain", "all-argument",
    "duplicate-modifier", "duplicate-version", "unknown-modifier", "glued-all",
    "txt-string-long",
    /* terms */
    "ptr", "all-pass", "all-neutral", "all-range", "huge-range",
    "private-range", "loopback-range", "link-local-range", "cidr-host-bits",
    "after-all", "redirect-ignored", "no-all", "local-part-macro",
    "duplicate-term",
    /* the tree */
    "too-many-lookups", "lookups-at-limit", "too-many-void-lookups",
    "void-lookup", "mx-none", "mx-too-many", "include-no-record",
    "redirect-no-record", "loop", "walk-stopped", "bad-domain", "bad-target",
    "dns-error", "deadline", "internal", "answer-large", "duplicate-include",
    "duplicate-netblock", "overlapping-netblock", "exp-no-target",
    "exp-multiple", "exp-bad-macro",
    /* the linter itself */
    "more-findings"};

const char *spfkit_lint_code(size_t i)
{
	return i < sizeof codes / sizeof codes[0] ? codes[i] : NULL;
}

static const char *const severity_names[] = {"info", "warning", "error"};

const char *spfkit_severity_name(spfkit_severity s)
{
	return (unsigned)s < 3 ? severity_names[s] : "unknown";
}

/* ---------------------------------------------------------------- report */

void spfkit__lint_msg_init(const spfkit__lint_reporter *r, spfkit__lint_msg *m)
{
	memset(m, 0, sizeof *m);
	spfkit__buf_init(&m->m, r->a, MSG_MAX);
	spfkit__buf_init(&m->f, r->a, MSG_MAX);
	spfkit__buf_init(&m->r, r->a, REPLACEMENT_MAX);
}

/* Appends (s, n) with octets outside printable ASCII as \xHH, and the
 * backslash too unless keep_backslash; at most max octets, then "...". */
static void shown(spfkit__buf *b, const char *s, size_t n, size_t max,
		  bool keep_backslash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && (c != '\\' || keep_backslash)) {
			spfkit__buf_addc(b, (char)c);
		} else {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			spfkit__buf_add(b, e, sizeof e);
		}
	}
	if (n > max)
		spfkit__buf_adds(b, "...");
}

void spfkit__lint_shown(spfkit__buf *b, const char *s, size_t n, size_t max)
{
	shown(b, s, n, max, false);
}

void spfkit__lint_shown_escaped(spfkit__buf *b, const char *s, size_t n,
				size_t max)
{
	shown(b, s, n, max, true);
}

void spfkit__lint_offer(spfkit__lint_msg *m, const char *before,
			const char *after, const char *words)
{
	m->offered = true;
	m->before = before;
	m->after = after;
	m->words = words;
}

/* Is the replacement offered for (pos, len) of r's record exact and safe
 * to paste (spfkit__lint_offer())? *oom set when memory ran out. */
static bool replacement_ok(const spfkit__lint_reporter *r,
			   const spfkit__buf *rep, size_t pos, size_t len,
			   bool *oom)
{
	if (rep->err || rep->len == 0 || !r->record)
		return false;
	for (size_t i = 0; i < rep->len; i++) {
		unsigned char c = (unsigned char)rep->data[i];
		if (c < 0x20 || c >= 0x7f)
			return false;
	}
	if (r->replacement_ok) /* another grammar's rules (DMARC) */
		return r->replacement_ok(r, rep, pos, len, oom);
	if (len == 0)
		return spfkit__is_spf_record(rep->data, rep->len);
	/* Every term of it parses on its own... */
	for (size_t i = 0; i < rep->len;) {
		size_t k = i;
		while (k < rep->len && rep->data[k] != ' ')
			k++;
		if (k > i) {
			spfkit__term t;
			int rc = spfkit__lint_parse_term(r->a, rep->data + i,
							 k - i, &t, NULL);
			if (rc == SPFKIT_ENOMEM)
				*oom = true;
			if (rc != SPFKIT_OK)
				return false;
		}
		i = k + 1;
	}
	/* ...and in the record it makes, no error starts in it (a second
	 * redirect=, say), nor one where the record parsed before. */
	spfkit__buf whole;
	spfkit__buf_init(&whole, r->a, r->record_len + rep->len + 1);
	spfkit__buf_add(&whole, r->record, pos);
	spfkit__buf_add(&whole, rep->data, rep->len);
	spfkit__buf_add(&whole, r->record + pos + len,
			r->record_len - pos - len);
	bool ok = !whole.err;
	if (whole.err == SPFKIT_ENOMEM)
		*oom = true;
	if (ok && spfkit__is_spf_record(whole.data, whole.len)) {
		spfkit__record *rec = NULL;
		spfkit__parse_error e;
		int rc =
		    spfkit__record_parse(r->a, whole.data, whole.len, &rec, &e);
		spfkit__record_free(r->a, rec);
		if (rc == SPFKIT_ENOMEM)
			*oom = true;
		if (rc == SPFKIT_EPARSE) {
			spfkit__record *orig = NULL;
			int orc = spfkit__record_parse(
			    r->a, r->record, r->record_len, &orig, NULL);
			spfkit__record_free(r->a, orig);
			if (orc == SPFKIT_ENOMEM)
				*oom = true;
			ok = orc != SPFKIT_OK &&
			     (e.pos < pos || e.pos >= pos + rep->len);
		} else if (rc != SPFKIT_OK) {
			ok = false;
		}
	}
	spfkit__buf_free(&whole);
	return ok;
}

/* The fix of a message that offered a replacement: the text quoted
 * between before and after when replacement_ok(), else the words. */
static void compose_fix(spfkit__lint_reporter *r, spfkit__lint_msg *m,
			size_t pos, size_t len)
{
	bool oom = false;
	bool ok = replacement_ok(r, &m->r, pos, len, &oom);
	if (oom)
		r->err = SPFKIT_ENOMEM;
	spfkit__buf_reset(&m->f);
	if (ok) {
		spfkit__buf_adds(&m->f, m->before ? m->before : "");
		spfkit__buf_add(&m->f, m->r.data, m->r.len);
		spfkit__buf_adds(&m->f, m->after ? m->after : "");
	}
	if (!ok || m->f.err) {
		/* A fix too long to write whole is no fix to paste. */
		spfkit__buf_free(&m->f);
		spfkit__buf_init(&m->f, r->a, MSG_MAX);
		spfkit__buf_reset(&m->r);
		if (m->words)
			spfkit__buf_adds(&m->f, m->words);
	}
}

/* How many findings of code were reported; bumps the count. */
static unsigned code_seen(spfkit__lint_reporter *r, const char *code)
{
	for (size_t i = 0; i < r->ncodes; i++)
		if (strcmp(r->codes[i], code) == 0)
			return r->code_counts[i]++;
	if (r->ncodes < sizeof r->codes / sizeof r->codes[0]) {
		r->codes[r->ncodes] = code;
		r->code_counts[r->ncodes++] = 1;
	}
	return 0;
}

void spfkit__lint_emit(spfkit__lint_reporter *r, spfkit__lint_msg *m,
		       spfkit_severity sev, const char *code, const char *rfc,
		       size_t pos, size_t len)
{
	if (m->m.err == SPFKIT_ENOMEM || m->f.err == SPFKIT_ENOMEM ||
	    m->r.err == SPFKIT_ENOMEM)
		r->err = SPFKIT_ENOMEM;
	if (!r->err && code_seen(r, code) < MAX_PER_CODE) {
		spfkit_finding f;
		memset(&f, 0, sizeof f);
		f.severity = sev;
		f.code = code;
		f.rfc = rfc;
		f.domain = r->domain;
		f.where = r->where;
		f.depth = r->depth;
		f.record = r->record;
		f.record_len = r->record ? r->record_len : 0;
		if (r->record && pos <= r->record_len &&
		    len <= r->record_len - pos) {
			f.pos = pos;
			f.len = len;
		}
		if (m->offered)
			compose_fix(r, m, f.pos, f.len);
		f.message = m->m.data ? m->m.data : "";
		f.fix = m->f.len ? m->f.data : NULL;
		if (m->offered && m->r.len) {
			f.replacement = m->r.data;
			f.replacement_len = m->r.len;
		}
		f.other_domain = r->other_domain;
		f.other_where = r->other_where;
		if (!r->err) {
			r->counts[sev]++;
			if (r->cb)
				r->cb(&f, r->ud);
		}
	}
	spfkit__lint_msg_free(m);
}

void spfkit__lint_msg_free(spfkit__lint_msg *m)
{
	spfkit__buf_free(&m->m);
	spfkit__buf_free(&m->f);
	spfkit__buf_free(&m->r);
}

void spfkit__lint_say(spfkit__lint_reporter *r, spfkit_severity sev,
		      const char *code, const char *rfc, size_t pos, size_t len,
		      const char *message, const char *fix)
{
	spfkit__lint_msg m;
	spfkit__lint_msg_init(r, &m);
	spfkit__buf_adds(&m.m, message);
	if (fix)
		spfkit__buf_adds(&m.f, fix);
	spfkit__lint_emit(r, &m, sev, code, rfc, pos, len);
}

void *spfkit__lint_grow(const spfkit__alloc *a, int *err, void *v, size_t n,
			size_t *cap, size_t size, size_t first)
{
	void *nv = spfkit__grow(a, v, n, cap, size, first);
	if (!nv)
		*err = SPFKIT_ENOMEM;
	return nv;
}

int spfkit_lint_record(const spfkit_config *cfg, const char *text, size_t len,
		       unsigned flags, spfkit_finding_cb cb, void *ud)
{
	if (!cfg || (!text && len))
		return SPFKIT_EINVAL;
	spfkit__lint_reporter r;
	memset(&r, 0, sizeof r);
	r.a = spfkit__config_alloc(cfg);
	r.cb = cb;
	r.ud = ud;
	r.record = text ? text : "";
	r.record_len = len;
	spfkit__lint_text(&r, text ? text : "", len, flags);
	return r.err;
}

/* ---------------------------------------------------------------- linter */

int spfkit_linter_new(spfkit_linter **out, const spfkit_config *cfg,
		      unsigned flags, spfkit_finding_cb cb, void *ud)
{
	if (!out || !cfg)
		return SPFKIT_EINVAL;
	const spfkit__alloc *a;
	spfkit_linter *l = *out = spfkit__handle_new(cfg, sizeof *l, &a);
	if (l) {
		*l = (spfkit_linter){.cfg = cfg,
				     .a = a,
				     .flags = flags,
				     .r = {.a = a, .cb = cb, .ud = ud}};
		spfkit__buf_init(&l->void_causes.named, a, 2048);
	}
	return l ? SPFKIT_OK : SPFKIT_ENOMEM;
}

static void frame_clear(const spfkit__alloc *a, spfkit__lint_frame *f)
{
	spfkit__free(a, f->domain);
	spfkit__free(a, f->record);
	for (size_t i = 0; i < f->ntxt; i++)
		spfkit__free(a, f->txt[i]);
	memset(f, 0, sizeof *f);
}

static void names_free(const spfkit__alloc *a, spfkit__lint_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		spfkit__free(a, s->v[i]);
	spfkit__free(a, s->v);
}

static void crossing_clear(const spfkit__alloc *a, spfkit__lint_crossing *c)
{
	spfkit__free(a, c->where);
	spfkit__free(a, c->domain);
	spfkit__free(a, c->text);
	memset(c, 0, sizeof *c);
}

void spfkit_linter_free(spfkit_linter *l)
{
	if (!l)
		return;
	const spfkit__alloc *a = l->a;
	for (size_t i = 0; i < l->nframes; i++)
		frame_clear(a, &l->frames[i]);
	spfkit__free(a, l->frames);
	names_free(a, &l->seen);
	names_free(a, &l->big);
	for (size_t i = 0; i < l->nblocks; i++) {
		spfkit__free(a, l->blocks[i].where);
		spfkit__free(a, l->blocks[i].domain);
		spfkit__free(a, l->blocks[i].term);
	}
	spfkit__free(a, l->blocks);
	crossing_clear(a, &l->terms);
	crossing_clear(a, &l->void_limit);
	spfkit__free(a, l->root_domain);
	spfkit__free(a, l->exp.domain);
	spfkit__free(a, l->exp.where);
	spfkit__free(a, l->exp.record);
	spfkit__buf_free(&l->void_causes.named);
	spfkit__free(a, l);
}

unsigned spfkit_linter_count(const spfkit_linter *l, spfkit_severity s)
{
	return l && (unsigned)s < 3 ? l->r.counts[s] : 0;
}

int spfkit_linter_event(spfkit_linter *l, const spfkit_event *ev)
{
	if (!l || !ev)
		return SPFKIT_EINVAL;
	if (l->r.err || l->finished)
		return l->r.err;
	l->lookups = ev->lookups;
	l->voids = ev->void_lookups;
	switch (ev->kind) {
	case SPFKIT_EVENT_FRAME: spfkit__lint_on_frame(l, ev); break;
	case SPFKIT_EVENT_RECORD: spfkit__lint_on_record(l, ev); break;
	case SPFKIT_EVENT_TERM: spfkit__lint_on_term(l, ev); break;
	case SPFKIT_EVENT_LOOKUP: spfkit__lint_on_lookup(l, ev); break;
	case SPFKIT_EVENT_VOID: spfkit__lint_on_void(l, ev); break;
	case SPFKIT_EVENT_ANSWER: spfkit__lint_on_answer(l, ev); break;
	case SPFKIT_EVENT_PROBLEM: spfkit__lint_on_problem(l, ev); break;
	case SPFKIT_EVENT_RESULT: spfkit__lint_on_result(l, ev); break;
	case SPFKIT_EVENT_TERM_END:
		if (spfkit__lint_top(l))
			spfkit__lint_top(l)->in_term = false;
		break;
	case SPFKIT_EVENT_FRAME_END:
		if (l->nframes)
			frame_clear(l->a, &l->frames[--l->nframes]);
		break;
	default: break;
	}
	return l->r.err;
}

void spfkit_linter_event_cb(const spfkit_check *chk, const spfkit_event *ev,
			    void *ud)
{
	(void)chk;
	spfkit_linter_event(ud, ev);
}

int spfkit_linter_finish(spfkit_linter *l)
{
	if (!l)
		return SPFKIT_EINVAL;
	if (l->finished || l->r.err)
		return l->r.err;
	l->finished = true;
	spfkit__lint_limit(l, &l->terms, true);
	if (!l->r.err)
		spfkit__lint_limit(l, &l->void_limit, false);
	if (!l->r.err)
		spfkit__lint_netblocks(l);
	if (!l->r.err)
		spfkit__lint_at_limit(l);
	/* Findings of a code past the cap: say how many were left out. */
	for (size_t i = 0; i < l->r.ncodes && !l->r.err; i++) {
		unsigned n = l->r.code_counts[i];
		if (n <= MAX_PER_CODE)
			continue;
		spfkit__lint_msg m;
		spfkit__lint_msg_init(&l->r, &m);
		spfkit__buf_addu(&m.m, n - MAX_PER_CODE);
		spfkit__buf_adds(&m.m, " more findings of ");
		spfkit__buf_adds(&m.m, l->r.codes[i]);
		spfkit__buf_adds(&m.m, " were left out");
		spfkit__lint_emit(&l->r, &m, SPFKIT_SEVERITY_INFO,
				  "more-findings", NULL, 0, 0);
	}
	return l->r.err;
}
