/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lint_tree.c - what the linter learns from the events of a walked check
 * and the rules only the whole tree shows: the frames of includes and
 * redirects (each record linted once, by lint_record.c), includes reached
 * again, null and missing MX, void lookups, answers too large for UDP, the
 * evaluator's problems (no record, several records, loops, DNS failures),
 * and the lookup limits with the evaluator's own counts (RFC 7208 §4.6.4).
 */
#include <string.h>

#include "lint.h"

/* Octets of one TXT string kept for near-miss advice. */
#define MAX_TXT_KEPT_LEN 512

/* RFC 7208 §3.4: keep the answer within the 512 octets of a UDP message. */
#define UDP_ANSWER_MAX 512

/* Is name in the set? Adds it when not; false and ENOMEM set when it
 * cannot. */
static bool in_names(spfkit_linter *l, spfkit__lint_names *s, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < s->n; i++)
		if (spfkit__ieq(s->v[i], strlen(s->v[i]), name, nl))
			return true;
	char **nv = spfkit__lint_grow(l->a, &l->r.err, s->v, s->n, &s->cap,
				      sizeof *nv, 16);
	if (!nv)
		return false;
	s->v = nv;
	char *copy = spfkit__strndup(l->a, name, nl);
	if (!copy) {
		l->r.err = SPFKIT_ENOMEM;
		return false;
	}
	s->v[s->n++] = copy;
	return false;
}

/* The route to frame n - 1: "a.example > include b.example". */
static void add_route(const spfkit_linter *l, spfkit__buf *b, size_t n)
{
	for (size_t i = 0; i < n && i < l->nframes; i++) {
		const spfkit__lint_frame *f = &l->frames[i];
		if (i > 0)
			spfkit__buf_adds(b, f->include ? " > include "
						       : " > redirect ");
		spfkit__buf_adds(b, f->domain);
	}
}

char *spfkit__lint_route_copy(const spfkit_linter *l)
{
	spfkit__buf w;
	spfkit__buf_init(&w, l->a, 16384);
	add_route(l, &w, l->nframes);
	char *s = spfkit__buf_take(&w);
	spfkit__buf_free(&w);
	return s;
}

/* Sets the reporter's context to frame n - 1 (n 0: none; n nframes: the
 * current frame); *route is the route string the caller frees. */
static void set_context(spfkit_linter *l, spfkit__buf *route, size_t n)
{
	spfkit__buf_init(route, l->a, 16384);
	add_route(l, route, n);
	if (route->err == SPFKIT_ENOMEM)
		l->r.err = SPFKIT_ENOMEM;
	l->r.where = route->data ? route->data : "";
	if (n && n <= l->nframes) {
		const spfkit__lint_frame *f = &l->frames[n - 1];
		l->r.domain = f->domain;
		l->r.depth = (unsigned)(n - 1);
		l->r.record = f->record;
		l->r.record_len = f->record_len;
	} else {
		l->r.domain = NULL;
		l->r.depth = 0;
		l->r.record = NULL;
		l->r.record_len = 0;
	}
}

static void clear_context(spfkit_linter *l, spfkit__buf *route)
{
	spfkit__buf_free(route);
	l->r.where = NULL;
	l->r.domain = NULL;
	l->r.record = NULL;
	l->r.record_len = 0;
}

/* Reports m in the context of frame n - 1 (n nframes: the current one):
 * at (pos, len) of its record, or (not of_record) about the frame as a
 * whole. */
static void frame_emit(spfkit_linter *l, size_t n, spfkit__lint_msg *m,
		       spfkit_severity sev, const char *code, const char *rfc,
		       bool of_record, size_t pos, size_t len)
{
	spfkit__buf route;
	set_context(l, &route, n);
	if (!of_record)
		l->r.record = NULL;
	spfkit__lint_emit(&l->r, m, sev, code, rfc, pos, len);
	clear_context(l, &route);
}

/* Reports m at the term being evaluated in the current frame: the record
 * quotes it when it is known. */
static void term_emit(spfkit_linter *l, spfkit__lint_msg *m,
		      spfkit_severity sev, const char *code, const char *rfc)
{
	const spfkit__lint_frame *f = spfkit__lint_top(l);
	bool at = f && f->in_term && f->record;
	frame_emit(l, l->nframes, m, sev, code, rfc, at, at ? f->tpos : 0,
		   at ? f->tlen : 0);
}

/* FRAME: pushes the frame; an include of a domain linted before costs
 * its DNS-querying terms again (RFC 7208 §4.6.4), said once per visit at
 * the include term, which the includer can change. */
void spfkit__lint_on_frame(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *nf =
	    spfkit__lint_grow(l->a, &l->r.err, l->frames, l->nframes,
			      &l->cap_frames, sizeof *nf, 8);
	if (!nf)
		return;
	l->frames = nf;
	const spfkit__lint_frame *parent = spfkit__lint_top(l);
	spfkit__lint_frame f;
	memset(&f, 0, sizeof f);
	f.domain = spfkit__strndup(l->a, ev->domain ? ev->domain : "",
				   ev->domain ? strlen(ev->domain) : 0);
	if (!f.domain ||
	    (!l->root_domain && !(l->root_domain = spfkit__strndup(
				      l->a, f.domain, strlen(f.domain))))) {
		spfkit__free(l->a, f.domain);
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	f.include = ev->via && strcmp(ev->via, "include") == 0;
	f.terminal = !parent || (!f.include && parent->terminal);
	f.repeat = in_names(l, &l->seen, f.domain);
	if (f.repeat && f.include && parent) {
		spfkit__lint_msg m;
		spfkit__lint_msg_init(&l->r, &m);
		spfkit__buf_adds(&m.m, "'");
		spfkit__lint_shown(
		    &m.m, parent->record ? parent->record + parent->tpos : "",
		    parent->tlen, 300);
		spfkit__buf_adds(&m.m, "' reaches ");
		spfkit__lint_shown(&m.m, f.domain, strlen(f.domain), 253);
		spfkit__buf_adds(&m.m, " a second time: its DNS-querying "
				       "terms count again");
		spfkit__buf_adds(&m.f, "include it once");
		term_emit(l, &m, SPFKIT_SEVERITY_WARNING, "duplicate-include",
			  "RFC 7208 4.6.4");
	}
	l->frames[l->nframes++] = f;
}

/* The modifier exp= of the record (s, n): its position and length. */
static bool find_exp(const char *s, size_t n, size_t *pos, size_t *len)
{
	for (size_t i = 0; i < n;) {
		while (i < n && s[i] == ' ')
			i++;
		size_t k = i;
		while (k < n && s[k] != ' ')
			k++;
		if (k - i > 4 && spfkit__ieq(s + i, 4, "exp=", 4)) {
			*pos = i;
			*len = k - i;
			return true;
		}
		i = k;
	}
	return false;
}

/* A record reached through the top or redirects is the one whose exp=
 * explains a fail (RFC 7208 §6.2: not an include's, not the redirecting
 * record's): keeps its exp= for the explanation lookup. */
static void note_exp(spfkit_linter *l, const spfkit__lint_frame *f)
{
	spfkit__lint_exp *e = &l->exp;
	spfkit__free(l->a, e->domain);
	spfkit__free(l->a, e->where);
	spfkit__free(l->a, e->record);
	memset(e, 0, sizeof *e);
	if (!find_exp(f->record, f->record_len, &e->pos, &e->len))
		return;
	e->domain = spfkit__strndup(l->a, f->domain, strlen(f->domain));
	e->where = spfkit__lint_route_copy(l);
	e->record = spfkit__strndup(l->a, f->record, f->record_len);
	e->record_len = f->record_len;
	e->pending = true;
	if (!e->domain || !e->where || !e->record)
		l->r.err = SPFKIT_ENOMEM;
}

/* RECORD: keeps the frame's record and lints its text once per domain,
 * as an include target when its result is not the check's. */
void spfkit__lint_on_record(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	if (!f || f->record)
		return;
	f->record =
	    spfkit__strndup(l->a, ev->text ? ev->text : "", ev->text_len);
	if (!f->record) {
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	f->record_len = ev->text_len;
	f->cursor = 6;
	if (f->terminal)
		note_exp(l, f);
	if (f->repeat)
		return;
	unsigned flags = 0;
	if (!f->terminal)
		flags |= SPFKIT_LINT_INCLUDED;
	if (l->nframes == 1 && (l->flags & SPFKIT_LINT_DRAFT))
		flags |= SPFKIT_LINT_DRAFT;
	spfkit__buf route;
	set_context(l, &route, l->nframes);
	spfkit__lint_text(&l->r, f->record, f->record_len, flags);
	clear_context(l, &route);
}

/* Finds the term text (t, n) in the frame's record, from the cursor on
 * (mechanisms come in order), else from the start (redirect=). */
static void locate_term(spfkit__lint_frame *f, const char *t, size_t n)
{
	f->tpos = 0;
	f->tlen = 0;
	if (!f->record || !t)
		return;
	for (int pass = 0; pass < 2; pass++) {
		size_t from = pass == 0 ? f->cursor : 6;
		for (size_t i = from; i + n <= f->record_len; i++) {
			if (f->record[i - 1] != ' ')
				continue;
			if (memcmp(f->record + i, t, n) == 0 &&
			    (i + n == f->record_len ||
			     f->record[i + n] == ' ')) {
				f->tpos = i;
				f->tlen = n;
				if (pass == 0)
					f->cursor = i + n;
				return;
			}
		}
	}
}

/* TERM: where the term stands in the record (for positions); its network
 * when it is an ip4/ip6 term (for the netblock rules at the end). */
void spfkit__lint_on_term(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	if (!f)
		return;
	f->in_term = true;
	f->qualifier = ev->qualifier;
	size_t ml = ev->mechanism ? strlen(ev->mechanism) : 0;
	if (ml >= sizeof f->mech)
		ml = sizeof f->mech - 1;
	memcpy(f->mech, ev->mechanism ? ev->mechanism : "", ml);
	f->mech[ml] = '\0';
	/* ptr, and names made from the client or the sender (RFC 7208
	 * §7.3), find nothing for most clients, by design. */
	f->by_design = strcmp(f->mech, "ptr") == 0 ||
		       (ev->text && spfkit__lint_macro_uses(
					ev->text, ev->text_len, "slipvhcrt"));
	locate_term(f, ev->text, ev->text_len);
	/* A record reached again repeats its netblocks: said once as
	 * duplicate-include. */
	if (ev->family && ev->addr && !f->repeat)
		spfkit__lint_add_block(l, ev);
}

/* Reports m about the exp= kept by note_exp(). */
static void exp_emit(spfkit_linter *l, spfkit__lint_msg *m, const char *code)
{
	spfkit__lint_exp *e = &l->exp;
	l->r.domain = e->domain;
	l->r.where = e->where;
	l->r.depth = 0;
	l->r.record = e->record;
	l->r.record_len = e->record_len;
	spfkit__buf_adds(&m->m, ": receivers go on as if there were no "
				"exp= and explain a fail with their own text");
	spfkit__lint_emit(&l->r, m, SPFKIT_SEVERITY_WARNING, code,
			  "RFC 7208 6.2", e->pos, e->len);
	l->r.domain = l->r.where = NULL;
	l->r.record = NULL;
	l->r.record_len = 0;
}

/* The explanation lookup of a fail (RFC 7208 §6.2): the target must be
 * one TXT record whose text is a valid macro-string of ASCII; otherwise
 * receivers go on as if there were no exp=. */
static void exp_lookup(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_exp *e = &l->exp;
	e->looked_up = true;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "exp= names ");
	spfkit__lint_shown(&m.m, ev->name, strlen(ev->name), 253);
	const char *code = "exp-no-target";
	if (ev->status == SPFKIT_DNS_NXDOMAIN) {
		spfkit__buf_adds(&m.m, ", which does not exist");
		spfkit__buf_adds(&m.f, "publish the explanation as a TXT "
				       "record there, or remove exp=");
	} else if (ev->status != SPFKIT_DNS_NOERROR) {
		spfkit__buf_adds(&m.m, ", which could not be looked up");
		spfkit__buf_adds(&m.f, "fix the name servers of that name");
	} else if (ev->nitems == 0) {
		spfkit__buf_adds(&m.m, ", which has no TXT record");
		spfkit__buf_adds(&m.f, "publish the explanation as a TXT "
				       "record there, or remove exp=");
	} else if (ev->nitems > 1) {
		code = "exp-multiple";
		spfkit__buf_adds(&m.m, ", which has ");
		spfkit__buf_addu(&m.m, ev->nitems);
		spfkit__buf_adds(&m.m, " TXT records (one is allowed)");
		spfkit__buf_adds(&m.f, "keep one TXT record there: move the "
				       "others to another name");
	} else {
		const spfkit_event_item *it = &ev->items[0];
		size_t bad = 0;
		bool ascii = true;
		for (size_t i = 0; i < it->len; i++)
			if ((unsigned char)it->data[i] >= 0x80)
				ascii = false;
		if (ascii && spfkit__macro_check(it->data, it->len,
						 SPFKIT__MACRO_EXPLAIN,
						 &bad) == SPFKIT_OK) {
			spfkit__lint_msg_free(&m);
			return;
		}
		code = "exp-bad-macro";
		spfkit__buf_adds(&m.m, ascii ? ", whose text has a bad macro "
					       "at octet "
					     : ", whose text is not ASCII: '");
		if (ascii) {
			spfkit__buf_addu(&m.m, (uint64_t)bad + 1);
			spfkit__buf_adds(&m.m, ": '");
		}
		spfkit__lint_shown(&m.m, it->data, it->len, 200);
		spfkit__buf_adds(&m.m, "'");
		spfkit__buf_adds(&m.f, ascii
					   ? "write %% for a percent sign and "
					     "only the macros of RFC 7208 7"
					   : "write the explanation in ASCII");
	}
	exp_emit(l, &m, code);
}

/* LOOKUP: the TXT strings of a record lookup (for near-miss advice when
 * none is a record), a null MX found by an mx term, and the explanation
 * of a fail (after the last frame). */
void spfkit__lint_on_lookup(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	if (!f) {
		if (ev->type == SPFKIT_TYPE_TXT && l->exp.pending &&
		    !l->exp.looked_up)
			exp_lookup(l, ev);
		return;
	}
	/* The record lookup of the frame: keep its strings for advice when
	 * none of them is a record. */
	if (!f->record && ev->type == SPFKIT_TYPE_TXT && !f->in_term) {
		for (size_t i = 0; i < f->ntxt; i++)
			spfkit__free(l->a, f->txt[i]);
		f->ntxt = 0;
		for (size_t i = 0;
		     i < ev->nitems && f->ntxt < SPFKIT__LINT_TXT_KEPT; i++) {
			size_t n = ev->items[i].len < MAX_TXT_KEPT_LEN
				       ? ev->items[i].len
				       : MAX_TXT_KEPT_LEN;
			char *c = spfkit__strndup(l->a, ev->items[i].data, n);
			if (!c) {
				l->r.err = SPFKIT_ENOMEM;
				return;
			}
			f->txt[f->ntxt] = c;
			f->txt_len[f->ntxt++] = n;
		}
		return;
	}
	/* RFC 7505 null MX: names no host, so mx finds nothing. */
	if (f->in_term && strcmp(f->mech, "mx") == 0 &&
	    ev->type == SPFKIT_TYPE_MX && ev->nitems == 1 &&
	    ev->items[0].len == 0) {
		spfkit__lint_msg m;
		spfkit__lint_msg_init(&l->r, &m);
		spfkit__buf_adds(&m.m, "'mx' finds a null MX (RFC 7505) at ");
		spfkit__lint_shown(&m.m, ev->name, strlen(ev->name), 253);
		spfkit__buf_adds(&m.m, ": it authorises no host but costs a "
				       "lookup");
		spfkit__buf_adds(&m.f, "remove the mx term");
		term_emit(l, &m, SPFKIT_SEVERITY_WARNING, "mx-none",
			  "RFC 7208 5.4");
	}
}

/* "A ", "AAAA ", "MX ": the type of a void lookup, for messages. */
static const char *type_word(uint16_t type)
{
	return type == SPFKIT_TYPE_MX     ? "MX "
	       : type == SPFKIT_TYPE_AAAA ? "AAAA "
	       : type == SPFKIT_TYPE_PTR  ? "PTR "
	       : type == SPFKIT_TYPE_TXT  ? "TXT "
					  : "A ";
}

/* Keeps a void lookup's cause for the void-limit finding: by design, or
 * the stale term (t, n) in the current frame (the first few named). */
static void note_void(spfkit_linter *l, bool design, const char *t, size_t n)
{
	spfkit__lint_voids *v = &l->void_causes;
	if (design) {
		v->design++;
		return;
	}
	if (++v->stale > 5)
		return;
	if (v->stale > 1)
		spfkit__buf_adds(&v->named, ", ");
	spfkit__buf_addc(&v->named, '\'');
	spfkit__lint_shown(&v->named, t, n, 100);
	spfkit__buf_adds(&v->named, "' in ");
	const spfkit__lint_frame *f = spfkit__lint_top(l);
	spfkit__lint_shown(&v->named, f ? f->domain : "",
			   f ? strlen(f->domain) : 0, 253);
	if (v->named.err == SPFKIT_ENOMEM)
		l->r.err = SPFKIT_ENOMEM;
}

/* VOID: a term's name that does not exist or has no records (RFC 7208
 * §4.6.4), with the evaluator's count of void lookups so far. ptr and
 * names made from the client find nothing for most clients by design:
 * kept for the void limit, never called stale. */
void spfkit__lint_on_void(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	bool term = f && f->in_term && f->record;
	const char *t = term ? f->record + f->tpos : ev->name;
	size_t tn = term ? f->tlen : strlen(ev->name);
	note_void(l, term && f->by_design, t, tn);
	if (!term || f->by_design)
		return;
	bool mx = strcmp(f->mech, "mx") == 0 && ev->type == SPFKIT_TYPE_MX;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "'");
	spfkit__lint_shown(&m.m, t, tn, 100);
	spfkit__buf_adds(&m.m, "': ");
	spfkit__buf_adds(&m.m, type_word(ev->type));
	spfkit__lint_shown(&m.m, ev->name, strlen(ev->name), 253);
	spfkit__buf_adds(&m.m, ev->status == SPFKIT_DNS_NXDOMAIN
				   ? " does not exist"
				   : " has no records");
	spfkit__buf_adds(&m.m, " (void lookup ");
	spfkit__buf_addu(&m.m, ev->void_lookups);
	spfkit__buf_adds(&m.m, " of ");
	spfkit__buf_addu(&m.m, l->cfg->limits[SPFKIT_LIMIT_VOID_LOOKUPS]);
	spfkit__buf_adds(&m.m, " allowed): a stale term?");
	spfkit__buf_adds(&m.f, mx ? "publish MX records or remove the mx term"
				  : "remove the term or publish the name's "
				    "addresses");
	term_emit(l, &m, SPFKIT_SEVERITY_WARNING,
		  mx ? "mx-none" : "void-lookup",
		  mx ? "RFC 7208 5.4" : "RFC 7208 4.6.4");
}

/* RFC 7208 §3.4: an answer (header, question, every TXT record of the
 * name, not only SPF) estimated from the ANSWER event. */
void spfkit__lint_on_answer(spfkit_linter *l, const spfkit_event *ev)
{
	if (ev->type != SPFKIT_TYPE_TXT || ev->status != SPFKIT_DNS_NOERROR ||
	    !ev->name)
		return;
	size_t qname = strlen(ev->name) + 2;
	size_t size = 12 + qname + 4 + ev->nitems * (2 + 10) + ev->rdata_octets;
	if (size <= UDP_ANSWER_MAX)
		return;
	if (in_names(l, &l->big, ev->name) || l->r.err)
		return;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "the TXT answer for ");
	spfkit__lint_shown(&m.m, ev->name, strlen(ev->name), 253);
	spfkit__buf_adds(&m.m, " is about ");
	spfkit__buf_addu(&m.m, size);
	spfkit__buf_adds(&m.m, " octets (");
	spfkit__buf_addu(&m.m, ev->nitems);
	spfkit__buf_adds(&m.m, " TXT records): over 512 it is truncated "
			       "over UDP and needs TCP, which some "
			       "receivers fail");
	spfkit__buf_adds(&m.f, "shorten the record (move parts to an "
			       "include) or move other TXT records off this "
			       "name");
	frame_emit(l, l->nframes, &m, SPFKIT_SEVERITY_WARNING, "answer-large",
		   "RFC 7208 3.4", false, 0, 0);
}

/* Keeps the first crossing of a limit for the end. */
static void note_crossing(spfkit_linter *l, spfkit__lint_crossing *c,
			  const spfkit_event *ev)
{
	if (c->crossed)
		return;
	c->crossed = true;
	c->where = spfkit__lint_route_copy(l);
	const spfkit__lint_frame *f = spfkit__lint_top(l);
	c->domain = spfkit__strndup(l->a, f ? f->domain : "",
				    f ? strlen(f->domain) : 0);
	c->text = spfkit__strndup(l->a, ev->text ? ev->text : "",
				  ev->text ? ev->text_len : 0);
	c->depth = l->nframes ? (unsigned)(l->nframes - 1) : 0;
	if (!c->where || !c->domain || !c->text)
		l->r.err = SPFKIT_ENOMEM;
}

/* PROBLEM: the evaluator's errors as findings, about the frame or its
 * current term; a limit crossed waits for the end and the final count. */
void spfkit__lint_on_problem(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	const char *text = ev->text ? ev->text : "";
	size_t tn = ev->text ? ev->text_len : 0;
	const char *code = NULL, *rfc = NULL, *fix = NULL;
	spfkit_severity sev = SPFKIT_SEVERITY_ERROR;
	bool whole = true; /* about the frame, not its current term */
	switch (ev->reason) {
	case SPFKIT_REASON_SYNTAX: return; /* the record rules said it */
	case SPFKIT_REASON_LOOP:           /* its text starts "a loop" */
	case SPFKIT_REASON_LOOKUP_LIMIT:
		if (tn >= 6 && memcmp(text, "a loop", 6) == 0) {
			code = "loop";
			rfc = "RFC 7208 4.6.4";
			fix = "remove the include or redirect that leads back";
			whole = false;
		} else if (tn >= 8 && memcmp(text, "the walk", 8) == 0) {
			code = "walk-stopped";
			rfc = "RFC 7208 4.6.4";
			fix = "flatten the tree: far too many DNS-querying "
			      "terms";
		} else {
			note_crossing(l, &l->terms, ev);
			return;
		}
		break;
	case SPFKIT_REASON_VOID_LIMIT:
		note_crossing(l, &l->void_limit, ev);
		return;
	case SPFKIT_REASON_NO_RECORD:
		code = "no-record";
		rfc = "RFC 7208 4.5";
		fix = "publish a TXT record that starts with 'v=spf1 ', "
		      "lists the hosts that send your mail and ends with "
		      "-all (or ~all while testing)";
		break;
	case SPFKIT_REASON_MALFORMED_DOMAIN:
		code = "bad-domain";
		rfc = "RFC 7208 4.3";
		fix = "check a fully qualified domain name";
		break;
	case SPFKIT_REASON_MULTIPLE_RECORDS:
		code = "multiple-records";
		rfc = "RFC 7208 4.5";
		fix = "merge them into one v=spf1 record and delete the "
		      "others";
		break;
	case SPFKIT_REASON_INCLUDE_NONE:
		code = "include-no-record";
		rfc = "RFC 7208 5.2";
		fix = "remove the include, or fix the name (receivers give "
		      "permerror)";
		break;
	case SPFKIT_REASON_REDIRECT_NONE:
		code = "redirect-no-record";
		rfc = "RFC 7208 6.1";
		fix = "point redirect= at a name with a v=spf1 record";
		break;
	case SPFKIT_REASON_MX_LIMIT:
		code = "mx-too-many";
		rfc = "RFC 7208 4.6.4";
		fix = "list the servers with ip4:/ip6: instead; mx may "
		      "name at most 10 hosts";
		whole = false;
		break;
	case SPFKIT_REASON_BAD_TARGET:
		code = "bad-target";
		rfc = "RFC 7208 7.3";
		fix = "make the term's domain (after macro expansion) a "
		      "usable domain name";
		whole = false;
		break;
	case SPFKIT_REASON_DNS_ERROR:
		code = "dns-error";
		rfc = "RFC 7208 2.6.6";
		fix = "fix the name servers (receivers give temperror and "
		      "may defer mail)";
		whole = false;
		break;
	case SPFKIT_REASON_DEADLINE:
		code = "deadline";
		rfc = "RFC 7208 4.6.4";
		fix = "fix the slow name servers";
		break;
	default:
		code = "internal";
		rfc = NULL;
		fix = NULL;
		break;
	}
	/* A target without a record: the includer's term is what to
	 * change, so it is reported there. */
	size_t n = l->nframes;
	if ((ev->reason == SPFKIT_REASON_INCLUDE_NONE ||
	     ev->reason == SPFKIT_REASON_REDIRECT_NONE) &&
	    n > 1 && l->frames[n - 2].in_term) {
		n--;
		whole = false;
	}
	const spfkit__lint_frame *at = n ? &l->frames[n - 1] : NULL;
	spfkit__buf route;
	set_context(l, &route, n);
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	/* The evaluator shows hostile octets in its text itself: escaping
	 * its backslashes again would garble them. */
	spfkit__lint_shown_escaped(&m.m, text, tn, 600);
	if (fix)
		spfkit__buf_adds(&m.f, fix);
	size_t pos = 0, len = 0;
	if (!whole && at && at->in_term) {
		pos = at->tpos;
		len = at->tlen;
	}
	if (whole || !at || !at->in_term)
		l->r.record = NULL;
	spfkit__lint_emit(&l->r, &m, sev, code, rfc, pos, len);
	clear_context(l, &route);
	set_context(l, &route, l->nframes);
	/* A name with TXT but no record: say which near miss it was. */
	if (f && (ev->reason == SPFKIT_REASON_NO_RECORD ||
		  ev->reason == SPFKIT_REASON_INCLUDE_NONE ||
		  ev->reason == SPFKIT_REASON_REDIRECT_NONE))
		for (size_t i = 0; i < f->ntxt && !l->r.err; i++) {
			l->r.record = f->txt[i];
			l->r.record_len = f->txt_len[i];
			spfkit__lint_near_miss(&l->r, SPFKIT_SEVERITY_ERROR,
					       f->txt[i], f->txt_len[i]);
		}
	clear_context(l, &route);
}

/* The fix for the void limit, by cause (RFC 7208 §4.6.4): stale names
 * are named; ptr and names made from the client are void by design for
 * every client they do not list, which then gets permerror. */
static void void_advice(const spfkit_linter *l, spfkit__lint_msg *m)
{
	const spfkit__lint_voids *v = &l->void_causes;
	if (v->design) {
		spfkit__buf_adds(&m->m, "; ");
		spfkit__buf_addu(&m->m, v->design);
		spfkit__buf_adds(&m->m, v->design == 1 ? " is" : " are");
		spfkit__buf_adds(&m->m, " by design: ptr, and exists (or a, "
					"mx, include) of a name made from the "
					"client or sender, find nothing for "
					"most clients");
	}
	if (v->stale) {
		spfkit__buf_adds(&m->f, "remove the stale terms, whose names "
					"do not exist or have no addresses: ");
		spfkit__buf_add(&m->f, v->named.data ? v->named.data : "",
				v->named.len);
		if (v->stale > 5) {
			spfkit__buf_adds(&m->f, " and ");
			spfkit__buf_addu(&m->f, v->stale - 5);
			spfkit__buf_adds(&m->f, " more");
		}
	}
	if (v->design)
		spfkit__buf_adds(&m->f,
				 v->stale ? "; and keep at most 2 terms that "
					    "are void by design on a path"
					  : "keep at most 2 terms that are "
					    "void by design on a path: every "
					    "client they do not list gets "
					    "permerror instead of the record's "
					    "result; list fixed servers with "
					    "ip4:/ip6: instead of ptr, or ask "
					    "the provider");
}

/* Reports a limit that was crossed, with the walk's final total. A limit
 * is the whole tree's, so the finding is the checked domain's, with the
 * route where it was crossed. */
void spfkit__lint_limit(spfkit_linter *l, spfkit__lint_crossing *c, bool terms)
{
	if (!c->crossed)
		return;
	l->r.where = c->where;
	l->r.domain = l->root_domain;
	l->r.depth = 0;
	l->r.record = NULL;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	uint32_t limit = l->cfg->limits[terms ? SPFKIT_LIMIT_DNS_TERMS
					      : SPFKIT_LIMIT_VOID_LOOKUPS];
	spfkit__buf_addu(&m.m, terms ? l->lookups : l->voids);
	spfkit__buf_adds(&m.m, terms ? " DNS-querying terms when every term "
				       "is reached (limit "
				     : " void lookups when every term is "
				       "reached (limit ");
	spfkit__buf_addu(&m.m, limit);
	spfkit__buf_adds(&m.m, "): receivers give permerror at number ");
	spfkit__buf_addu(&m.m, (uint64_t)limit + 1);
	spfkit__buf_adds(&m.m, ", in ");
	spfkit__lint_shown(&m.m, c->where, strlen(c->where), 300);
	spfkit__buf_adds(&m.m, " (");
	spfkit__lint_shown_escaped(&m.m, c->text, strlen(c->text), 300);
	spfkit__buf_adds(&m.m, ")");
	if (terms)
		spfkit__buf_adds(&m.f,
				 "replace includes and a/mx with ip4:/ip6: "
				 "networks, or drop includes you no "
				 "longer use");
	else
		void_advice(l, &m);
	spfkit__lint_emit(&l->r, &m, SPFKIT_SEVERITY_ERROR,
			  terms ? "too-many-lookups" : "too-many-void-lookups",
			  "RFC 7208 4.6.4", 0, 0);
	l->r.where = NULL;
	l->r.domain = NULL;
}

/* Every slot of the lookup limit used: the next include breaks the
 * record (RFC 7208 §4.6.4). */
void spfkit__lint_at_limit(spfkit_linter *l)
{
	uint32_t limit = l->cfg->limits[SPFKIT_LIMIT_DNS_TERMS];
	if (l->lookups != limit)
		return;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_addu(&m.m, l->lookups);
	spfkit__buf_adds(&m.m, " of ");
	spfkit__buf_addu(&m.m, limit);
	spfkit__buf_adds(&m.m, " DNS-querying terms used: one more (or one "
			       "more in an include) gives permerror");
	spfkit__buf_adds(&m.f, "make room by replacing a/mx with ip4:/ip6:");
	l->r.domain = l->root_domain;
	spfkit__lint_emit(&l->r, &m, SPFKIT_SEVERITY_INFO, "lookups-at-limit",
			  "RFC 7208 4.6.4", 0, 0);
	l->r.domain = NULL;
}

/* RESULT: a fail explained by an exp= whose target expanded to no usable
 * name was never looked up (RFC 7208 §6.2: as if there were no exp=). */
void spfkit__lint_on_result(spfkit_linter *l, const spfkit_event *ev)
{
	if (ev->result != SPFKIT_RESULT_FAIL || !l->exp.pending ||
	    l->exp.looked_up)
		return;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "exp= does not expand to a usable domain "
			       "name, so it is never looked up");
	spfkit__buf_adds(&m.f, "give exp= a fully qualified domain name");
	exp_emit(l, &m, "exp-no-target");
}
