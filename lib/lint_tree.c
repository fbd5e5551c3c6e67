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

/* The route to the current frame: "a.example > include b.example". */
static void add_route(const spfkit_linter *l, spfkit__buf *b)
{
	for (size_t i = 0; i < l->nframes; i++) {
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
	add_route(l, &w);
	char *s = spfkit__buf_take(&w);
	spfkit__buf_free(&w);
	return s;
}

/* Sets the reporter's context to the current frame; *route is the route
 * string the caller frees. */
static void set_context(spfkit_linter *l, spfkit__buf *route)
{
	spfkit__buf_init(route, l->a, 16384);
	add_route(l, route);
	if (route->err == SPFKIT_ENOMEM)
		l->r.err = SPFKIT_ENOMEM;
	l->r.where = route->data ? route->data : "";
	if (l->nframes) {
		const spfkit__lint_frame *f = &l->frames[l->nframes - 1];
		l->r.domain = f->domain;
		l->r.depth = (unsigned)(l->nframes - 1);
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

/* Reports m in the context of the current frame: at (pos, len) of its
 * record, or (not of_record) about the frame as a whole. */
static void frame_emit(spfkit_linter *l, spfkit__lint_msg *m,
		       spfkit_severity sev, const char *code, const char *rfc,
		       bool of_record, size_t pos, size_t len)
{
	spfkit__buf route;
	set_context(l, &route);
	if (!of_record)
		l->r.record = NULL;
	spfkit__lint_emit(&l->r, m, sev, code, rfc, pos, len);
	clear_context(l, &route);
}

/* FRAME: pushes the frame; an include of a domain linted before costs
 * its DNS-querying terms again (RFC 7208 §4.6.4), said once per visit. */
void spfkit__lint_on_frame(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *nf =
	    spfkit__lint_grow(l->a, &l->r.err, l->frames, l->nframes,
			      &l->cap_frames, sizeof *nf, 8);
	if (!nf)
		return;
	l->frames = nf;
	const spfkit__lint_frame *parent = spfkit__lint_top(l);
	spfkit__lint_frame *f = &l->frames[l->nframes];
	memset(f, 0, sizeof *f);
	f->domain = spfkit__strndup(l->a, ev->domain ? ev->domain : "",
				    ev->domain ? strlen(ev->domain) : 0);
	if (!f->domain) {
		l->r.err = SPFKIT_ENOMEM;
		return;
	}
	l->nframes++;
	f->include = ev->via && strcmp(ev->via, "include") == 0;
	f->terminal = !parent || (!f->include && parent->terminal);
	f->repeat = in_names(l, &l->seen, f->domain);
	if (f->repeat && f->include) {
		spfkit__lint_msg m;
		spfkit__lint_msg_init(&l->r, &m);
		spfkit__lint_shown(&m.m, f->domain, strlen(f->domain), 253);
		spfkit__buf_adds(&m.m, " is reached more than once: each time "
				       "costs DNS-querying terms again");
		spfkit__buf_adds(&m.f, "include it once");
		frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, "duplicate-include",
			   "RFC 7208 4.6.4", false, 0, 0);
	}
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
	if (f->repeat)
		return;
	unsigned flags = 0;
	if (!f->terminal)
		flags |= SPFKIT_LINT_INCLUDED;
	if (l->nframes == 1 && (l->flags & SPFKIT_LINT_DRAFT))
		flags |= SPFKIT_LINT_DRAFT;
	spfkit__buf route;
	set_context(l, &route);
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
	f->term_macro = ev->text && memchr(ev->text, '%', ev->text_len);
	locate_term(f, ev->text, ev->text_len);
	/* A record reached again repeats its netblocks: said once as
	 * duplicate-include. */
	if (ev->family && ev->addr && !f->repeat)
		spfkit__lint_add_block(l, ev);
}

/* LOOKUP: the TXT strings of a record lookup (for near-miss advice when
 * none is a record), and a null MX found by an mx term. */
void spfkit__lint_on_lookup(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	if (!f)
		return;
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
		frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, "mx-none",
			   "RFC 7208 5.4", true, f->tpos, f->tlen);
	}
}

/* VOID: a term's name that does not exist or has no records (RFC 7208
 * §4.6.4), with the evaluator's count of void lookups so far. */
void spfkit__lint_on_void(spfkit_linter *l, const spfkit_event *ev)
{
	spfkit__lint_frame *f = spfkit__lint_top(l);
	if (!f || !f->in_term)
		return;
	bool mx = strcmp(f->mech, "mx") == 0;
	/* exists and ptr are void by design for most clients, and a macro
	 * makes a name per client. */
	if (strcmp(f->mech, "exists") == 0 || strcmp(f->mech, "ptr") == 0 ||
	    f->term_macro)
		return;
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__buf_adds(&m.m, "'");
	spfkit__lint_shown(&m.m, f->record ? f->record + f->tpos : "", f->tlen,
			   100);
	spfkit__buf_adds(&m.m, "': ");
	spfkit__buf_adds(&m.m, ev->type == SPFKIT_TYPE_MX     ? "MX "
			       : ev->type == SPFKIT_TYPE_AAAA ? "AAAA "
							      : "A ");
	spfkit__lint_shown(&m.m, ev->name, strlen(ev->name), 253);
	spfkit__buf_adds(&m.m, ev->status == SPFKIT_DNS_NXDOMAIN
				   ? " does not exist"
				   : " has no records");
	spfkit__buf_adds(&m.m, " (void lookup ");
	spfkit__buf_addu(&m.m, ev->void_lookups);
	spfkit__buf_adds(&m.m, " of ");
	spfkit__buf_addu(&m.m, l->cfg->limits[SPFKIT_LIMIT_VOID_LOOKUPS]);
	spfkit__buf_adds(&m.m, " allowed)");
	const char *code = "void-lookup";
	if (mx && ev->type == SPFKIT_TYPE_MX) {
		code = "mx-none";
		spfkit__buf_adds(&m.f, "publish MX records or remove the mx "
				       "term");
	} else {
		spfkit__buf_adds(&m.f, "remove the term or publish the "
				       "name's addresses");
	}
	frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, code,
		   mx && ev->type == SPFKIT_TYPE_MX ? "RFC 7208 5.4"
						    : "RFC 7208 4.6.4",
		   true, f->tpos, f->tlen);
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
	frame_emit(l, &m, SPFKIT_SEVERITY_WARNING, "answer-large",
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
		fix = "publish a TXT record starting with 'v=spf1 ', e.g. "
		      "'v=spf1 mx -all'";
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
	spfkit__buf route;
	set_context(l, &route);
	spfkit__lint_msg m;
	spfkit__lint_msg_init(&l->r, &m);
	spfkit__lint_shown(&m.m, text, tn, 600);
	if (fix)
		spfkit__buf_adds(&m.f, fix);
	size_t pos = 0, len = 0;
	if (!whole && f && f->in_term) {
		pos = f->tpos;
		len = f->tlen;
	}
	if (whole)
		l->r.record = NULL;
	spfkit__lint_emit(&l->r, &m, sev, code, rfc, pos, len);
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

/* Reports a limit that was crossed, with the walk's final total. */
void spfkit__lint_limit(spfkit_linter *l, spfkit__lint_crossing *c, bool terms)
{
	if (!c->crossed)
		return;
	l->r.where = c->where;
	l->r.domain = c->domain;
	l->r.depth = c->depth;
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
	spfkit__lint_shown(&m.m, c->text, strlen(c->text), 300);
	spfkit__buf_adds(&m.m, ")");
	spfkit__buf_adds(&m.f, terms
				   ? "replace includes and a/mx with ip4:/ip6: "
				     "networks, or drop includes you no longer "
				     "use"
				   : "remove terms whose names do not exist or "
				     "have no addresses");
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
	spfkit__lint_emit(&l->r, &m, SPFKIT_SEVERITY_INFO, "lookups-at-limit",
			  "RFC 7208 4.6.4", 0, 0);
}
