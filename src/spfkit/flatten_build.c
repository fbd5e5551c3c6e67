/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flatten_build.c - the policy a domain's SPF means, for `spfkit
 * flatten`: the evaluator walks the tree (with the lookup limit lifted),
 * its events give the frames and their terms, and each frame becomes an
 * ordered list of items (flatten.h). An include becomes the addresses
 * its record passes, with the include's own qualifier (RFC 7208 §5.2:
 * an include matches only when its record gives pass, so its -all and
 * ~all are "no match"); a redirect target's items follow the record's
 * own with their qualifiers (§6.1). Terms whose meaning depends on the
 * client, the sender or the record they stand in stay as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsrun.h"
#include "flatten.h"
#include "mem.h"
#include "text.h"

const char fl_quals[4] = {'+', '-', '~', '?'};

/* The lookup limit of the walk and of the original in the proof: high
 * enough for any tree a flattening is asked for (§4.6.4's 10 is what the
 * result must keep). */
#define FL_WALK_LIMIT 1000u
/* The client of the walks: documentation addresses (RFC 5737, 3849). A
 * walk asks A for a and mx with an IPv4 client, AAAA with an IPv6 one. */
#define FL_WALK_IP4 "192.0.2.1"
#define FL_WALK_IP6 "2001:db8::1"

typedef struct fframe fframe;

typedef struct fterm {
	char q;
	char mech[12];
	char *body; /* the term without its qualifier */
	int family, cidr, cidr4, cidr6;
	unsigned char addr[16];
	fl_set a4, a6; /* a, mx: the addresses the walks found */
	fframe *child;
} fterm;

struct fframe {
	fframe *parent;
	unsigned depth;
	char *domain;
	char *record;
	fterm *t;
	size_t n, cap;
};

typedef struct fwalk {
	fframe **frames;
	size_t nframes, cap;
	fframe *last;
	/* Every term in the order of the TERM events, as frame and index
	 * (a frame's terms move as its array grows). */
	struct fref {
		fframe *f;
		size_t i;
	} * order;
	size_t nterm, cap_term;
	size_t pass;    /* 0: the IPv4 walk; 1: the IPv6 walk */
	size_t next;    /* pass 1: the TERM event's index in order */
	fterm *current; /* the term open (its LOOKUPs are its own) */
	fl_policy *p;
	bool oom;
} fwalk;

/* The support library's growth (mem.h), its oom flag kept apart. */
static bool grow(void *v, size_t *cap, size_t n, size_t size)
{
	bool oom = false;
	return cli_grow(v, cap, n, size, &oom);
}

/* The frame at depth d on the path to the last frame pushed. */
static fframe *frame_at(fwalk *w, unsigned d)
{
	fframe *f = w->last;
	while (f && f->depth > d)
		f = f->parent;
	return f && f->depth == d ? f : NULL;
}

static void note_ttl(fl_policy *p, uint32_t ttl)
{
	if (!p->have_ttl || ttl < p->ttl)
		p->ttl = ttl;
	p->have_ttl = true;
}

static void on_frame(fwalk *w, const spfkit_event *e)
{
	fframe *f = calloc(1, sizeof *f);
	if (!f || !grow(&w->frames, &w->cap, w->nframes, sizeof *w->frames)) {
		free(f);
		w->oom = true;
		return;
	}
	w->frames[w->nframes++] = f;
	f->depth = e->depth;
	f->domain = cli_copy(e->domain ? e->domain : "",
			     strlen(e->domain ? e->domain : ""));
	f->parent = e->depth ? frame_at(w, e->depth - 1) : NULL;
	if (!f->domain)
		w->oom = true;
	/* The include or redirect that pushed it is its parent's last term. */
	if (f->parent && f->parent->n)
		f->parent->t[f->parent->n - 1].child = f;
	w->last = f;
}

static void on_term(fwalk *w, const spfkit_event *e)
{
	fframe *f = frame_at(w, e->depth);
	if (!f)
		return;
	if (!grow(&f->t, &f->cap, f->n, sizeof *f->t) ||
	    !grow(&w->order, &w->cap_term, w->nterm, sizeof *w->order)) {
		w->oom = true;
		return;
	}
	fterm *t = &f->t[f->n++];
	memset(t, 0, sizeof *t);
	fl_set_init(&t->a4, 32);
	fl_set_init(&t->a6, 128);
	t->q = e->qualifier ? e->qualifier : '+';
	snprintf(t->mech, sizeof t->mech, "%s",
		 e->mechanism ? e->mechanism : "");
	const char *s = e->text;
	size_t n = e->text_len;
	if (n && strchr("+-~?", s[0])) {
		s++;
		n--;
	}
	t->body = cli_copy(s, n);
	if (!t->body)
		w->oom = true;
	t->family = e->family;
	t->cidr = e->cidr;
	t->cidr4 = e->cidr4;
	t->cidr6 = e->cidr6;
	if (e->addr && (e->family == 4 || e->family == 6))
		memcpy(t->addr, e->addr, e->family == 4 ? 4 : 16);
	w->order[w->nterm].f = f;
	w->order[w->nterm].i = f->n - 1;
	w->nterm++;
	w->current = t;
}

/* Pass 0 builds the tree; pass 1 (the IPv6 client) only adds the AAAA
 * answers of a and mx terms, matched to pass 0's terms by position. */
static void on_event(const spfkit_check *chk, const spfkit_event *e, void *ud)
{
	(void)chk;
	fwalk *w = ud;
	fl_policy *p = w->p;
	switch (e->kind) {
	case SPFKIT_EVENT_FRAME:
		if (w->pass == 0)
			on_frame(w, e);
		break;
	case SPFKIT_EVENT_RECORD:
		if (w->pass == 0 &&
		    e->depth == (w->last ? w->last->depth : 0) && w->last &&
		    !w->last->record) {
			w->last->record = cli_copy(e->text, e->text_len);
			if (!w->last->record)
				w->oom = true;
		}
		if (e->ttl)
			note_ttl(p, e->ttl);
		break;
	case SPFKIT_EVENT_TERM:
		if (w->pass == 0) {
			on_term(w, e);
		} else {
			size_t i = w->next++;
			w->current = NULL;
			/* The same term (a macro's expansion may have led
			 * the two walks apart): the same mechanism and text. */
			size_t n = e->text_len;
			const char *t = e->text;
			if (n && strchr("+-~?", t[0])) {
				t++;
				n--;
			}
			fterm *o = i < w->nterm
				       ? &w->order[i].f->t[w->order[i].i]
				       : NULL;
			if (o && e->mechanism &&
			    strcmp(o->mech, e->mechanism) == 0 &&
			    strlen(o->body) == n && memcmp(o->body, t, n) == 0)
				w->current = o;
		}
		break;
	case SPFKIT_EVENT_TERM_END: w->current = NULL; break;
	case SPFKIT_EVENT_LOOKUP:
		if (e->status == SPFKIT_DNS_NOERROR && e->nitems)
			note_ttl(p, e->ttl);
		if (w->current &&
		    (e->type == SPFKIT_TYPE_A || e->type == SPFKIT_TYPE_AAAA)) {
			fterm *t = w->current;
			bool v4 = e->type == SPFKIT_TYPE_A;
			int c = v4 ? t->cidr4 : t->cidr6;
			for (size_t i = 0; i < e->nitems; i++) {
				if (e->items[i].len != (v4 ? 4u : 16u))
					continue;
				fl_set_add_block(
				    v4 ? &t->a4 : &t->a6,
				    (const unsigned char *)e->items[i].data,
				    c < 0 ? (v4 ? 32u : 128u) : (unsigned)c);
			}
		}
		break;
	case SPFKIT_EVENT_PROBLEM:
		/* Void lookups of a walk come from its own client (%{i} of
		 * exists, a missing PTR): they say nothing of other clients,
		 * and the terms that make them stay, so the proof compares. */
		if (e->reason != SPFKIT_REASON_VOID_LIMIT && !p->problem &&
		    !(p->problem =
			  cli_copy(e->text ? e->text : "", e->text_len)))
			w->oom = true;
		break;
	default: break;
	}
}

/* Runs one walk of domain with client ip over the options' DNS. */
static int walk_once(const char *prog, const cli_dns_opts *dns,
		     const char *domain, const char *record, const char *ip,
		     fwalk *w)
{
	spfkit_config *cfg = NULL;
	spfkit_check *chk = NULL;
	cli_dns *d = NULL;
	int rc = spfkit_config_new(&cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(dns, cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_config_set_limit(cfg, SPFKIT_LIMIT_DNS_TERMS,
					     FL_WALK_LIMIT);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_new(&chk, cfg);
	int status = 0;
	if (rc < 0) {
		status =
		    cli_say(prog, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
		goto out;
	}
	status = cli_dns_open(dns, cfg, prog, &d);
	if (status)
		goto out;
	char sender[300];
	snprintf(sender, sizeof sender, "postmaster@%s", domain);
	rc = spfkit_check_set_ip(chk, ip);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_sender(chk, sender, strlen(sender));
	if (rc == SPFKIT_OK && record)
		rc = spfkit_check_set_record(chk, record, strlen(record));
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_walk(chk, 1);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_events(chk, on_event, w);
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(d, chk);
	if (rc < 0)
		status =
		    cli_say(prog, CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
	else if (w->oom)
		status = cli_say(prog, CLI_EX_SOFTWARE, "out of memory");
	else if (w->pass == 0 && spfkit_check_result(chk) == SPFKIT_RESULT_NONE)
		status = cli_say(prog, FL_EX_CANNOT,
				 "%s has no SPF record to flatten (%s)", domain,
				 spfkit_check_problem(chk)
				     ? spfkit_check_problem(chk)
				     : "none");
out:
	spfkit_check_free(chk);
	cli_dns_close(d);
	spfkit_config_free(cfg);
	return status;
}

/* ------------------------------------------------------------ items */

static fl_item *add_item(fl_items *it, fl_kind kind, char q)
{
	if (!grow(&it->v, &it->cap, it->n, sizeof *it->v))
		return NULL;
	fl_item *i = &it->v[it->n++];
	memset(i, 0, sizeof *i);
	i->kind = kind;
	i->q = q;
	fl_set_init(&i->s4, 32);
	fl_set_init(&i->s6, 128);
	return i;
}

static void items_free(fl_items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		fl_set_free(&it->v[i].s4);
		fl_set_free(&it->v[i].s6);
		free(it->v[i].text);
	}
	free(it->v);
	memset(it, 0, sizeof *it);
}

typedef struct bctx {
	fl_policy *p;
	const char **keep;
	size_t nkeep;
	bool oom;
} bctx;

/* Does name (n octets, a trailing dot ignored) stand in --keep? */
static bool kept_name(const bctx *c, const char *name, size_t n)
{
	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < c->nkeep; i++) {
		size_t k = strlen(c->keep[i]);
		if (k && c->keep[i][k - 1] == '.')
			k--;
		if (k == n && strncasecmp(c->keep[i], name, n) == 0)
			return true;
	}
	return false;
}

/* The domain-spec of a term body ("a:x.example/24" -> "x.example"),
 * (NULL, 0) when it has none. */
static const char *term_domain(const char *body, size_t *n)
{
	const char *s = strpbrk(body, ":=");
	if (!s) {
		*n = 0;
		return NULL;
	}
	s++;
	*n = strcspn(s, "/");
	return s;
}

/* The body of a kept term as it reads in another record: a, mx and ptr
 * without a domain-spec name their frame's domain (§5.3-§5.5). */
static char *kept_body(const fterm *t, const char *domain)
{
	size_t dn;
	if (term_domain(t->body, &dn) ||
	    (strcmp(t->mech, "a") && strcmp(t->mech, "mx") &&
	     strcmp(t->mech, "ptr")))
		return cli_copy(t->body, strlen(t->body));
	size_t ml = strlen(t->mech);
	size_t n = strlen(t->body) + strlen(domain) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%.*s:%s%s", (int)ml, t->body, domain,
			 t->body + ml);
	return s;
}

/* Does a term body mean something else in another record? %{d} is the
 * current domain (§7.2). */
static bool domain_bound(const char *body)
{
	for (const char *s = body; (s = strchr(s, '%')) != NULL; s++)
		if (s[1] == '{' && (s[2] == 'd' || s[2] == 'D'))
			return true;
	return false;
}

static void frame_items(bctx *c, const fframe *f, bool top, fl_items *out);

/* Adds the addresses child passes to out with qualifier q: true, or
 * false when they cannot be said without the include (then nothing is
 * added). §5.2: the include matches exactly where child gives pass. */
static bool pass_items(bctx *c, const fl_items *child, char q, fl_items *out,
		       fl_set *got4, fl_set *got6)
{
	fl_set n4, n6; /* decided other than pass, so far */
	fl_set_init(&n4, 32);
	fl_set_init(&n6, 128);
	bool unknown = false, ok = true;
	size_t start = out->n;
	for (size_t i = 0; ok && i < child->n; i++) {
		const fl_item *it = &child->v[i];
		if (it->kind == FL_REDIRECT) {
			ok = false;
		} else if (it->kind == FL_OPAQUE) {
			if (it->q != '+') {
				unknown = true;
				continue;
			}
			/* A kept pass term holds for the includer only when
			 * nothing before it in the include decided otherwise.
			 */
			if (unknown || n4.n || n6.n || !it->liftable) {
				ok = false;
				break;
			}
			fl_item *o = add_item(out, FL_OPAQUE, q);
			if (!o ||
			    !(o->text = cli_copy(it->text, strlen(it->text)))) {
				c->oom = true;
				ok = false;
				break;
			}
			o->liftable = true;
		} else if (it->q == '+') {
			if (unknown) {
				ok = false;
				break;
			}
			fl_item *o = add_item(out, FL_ADDR, q);
			if (!o) {
				c->oom = true;
				ok = false;
				break;
			}
			fl_set_diff(&o->s4, &it->s4, &n4);
			fl_set_diff(&o->s6, &it->s6, &n6);
			fl_set_union(got4, &o->s4);
			fl_set_union(got6, &o->s6);
			if (it->all)
				break;
		} else {
			fl_set_union(&n4, &it->s4);
			fl_set_union(&n6, &it->s6);
			if (it->all)
				break;
		}
	}
	fl_set_free(&n4);
	fl_set_free(&n6);
	if (!ok) {
		while (out->n > start) {
			fl_item *o = &out->v[--out->n];
			fl_set_free(&o->s4);
			fl_set_free(&o->s6);
			free(o->text);
		}
	}
	return ok;
}

/* Remembers an include's pass set under its name (the first time). */
static void add_source(bctx *c, const char *name, fl_set *s4, fl_set *s6)
{
	fl_policy *p = c->p;
	for (size_t i = 0; i < p->nsrc; i++)
		if (strcasecmp(p->src[i].name, name) == 0)
			return;
	if (!grow(&p->src, &p->cap_src, p->nsrc, sizeof *p->src)) {
		c->oom = true;
		return;
	}
	fl_source *s = &p->src[p->nsrc];
	s->name = cli_copy(name, strlen(name));
	if (!s->name) {
		c->oom = true;
		return;
	}
	s->s4 = *s4;
	s->s6 = *s6;
	fl_set_init(s4, 32);
	fl_set_init(s6, 128);
	p->nsrc++;
}

/* Adds a term kept as it is. */
static void keep_term(bctx *c, const fterm *t, const char *domain, bool top,
		      fl_items *out, fl_kind kind)
{
	fl_item *o = add_item(out, kind, t->q);
	if (!o || !(o->text = top ? cli_copy(t->body, strlen(t->body))
				  : kept_body(t, domain))) {
		c->oom = true;
		return;
	}
	o->liftable = !domain_bound(o->text);
}

/* Does the record text hold an exp= modifier? */
static bool has_exp(const char *record)
{
	for (const char *s = record; s && *s;) {
		while (*s == ' ')
			s++;
		if (strncasecmp(s, "exp=", 4) == 0)
			return true;
		s += strcspn(s, " ");
	}
	return false;
}

/* An include or redirect term t of frame f. */
static void include_term(bctx *c, const fframe *f, const fterm *t, bool top,
			 fl_items *out)
{
	size_t dn;
	const char *dom = term_domain(t->body, &dn);
	bool redirect = strcmp(t->mech, "redirect") == 0;
	fl_kind kind = redirect ? FL_REDIRECT : FL_OPAQUE;
	if (!t->child || !dom || memchr(dom, '%', dn) ||
	    kept_name(c, dom, dn)) {
		keep_term(c, t, f->domain, top, out, kind);
		return;
	}
	fl_items child = {0};
	frame_items(c, t->child, false, &child);
	if (redirect) {
		/* §6.1: the target's result is the result, its terms keep
		 * their qualifiers. Its exp= (§6.2) would explain fails that
		 * the top's terms give after inlining, so then it stays. */
		bool ok = !has_exp(f->record) && !has_exp(t->child->record);
		for (size_t i = 0; ok && i < child.n; i++)
			if (child.v[i].kind != FL_ADDR && !child.v[i].liftable)
				ok = false;
		if (!ok) {
			items_free(&child);
			keep_term(c, t, f->domain, top, out, kind);
			return;
		}
		for (size_t i = 0; i < child.n; i++) {
			if (!grow(&out->v, &out->cap, out->n, sizeof *out->v)) {
				c->oom = true;
				break;
			}
			out->v[out->n++] = child.v[i];
			memset(&child.v[i], 0, sizeof child.v[i]);
		}
		items_free(&child);
		return;
	}
	fl_set g4, g6;
	fl_set_init(&g4, 32);
	fl_set_init(&g6, 128);
	if (pass_items(c, &child, t->q, out, &g4, &g6)) {
		char name[300];
		snprintf(name, sizeof name, "%.*s", (int)dn, dom);
		add_source(c, name, &g4, &g6);
	} else {
		keep_term(c, t, f->domain, top, out, kind);
	}
	fl_set_free(&g4);
	fl_set_free(&g6);
	items_free(&child);
}

/* The items of frame f in order (§4.6.2: the first match decides). */
static void frame_items(bctx *c, const fframe *f, bool top, fl_items *out)
{
	fl_policy *p = c->p;
	for (size_t i = 0; i < f->n && !c->oom; i++) {
		const fterm *t = &f->t[i];
		const char *m = t->mech;
		if (!strcmp(m, "ip4") || !strcmp(m, "ip6") ||
		    !strcmp(m, "all")) {
			fl_item *o = add_item(out, FL_ADDR, t->q);
			if (!o) {
				c->oom = true;
				return;
			}
			if (!strcmp(m, "all")) {
				o->all = true;
				fl_set_add_all(&o->s4);
				fl_set_add_all(&o->s6);
				return; /* the walk ends a record at all */
			}
			fl_set *s = t->family == 4 ? &o->s4 : &o->s6;
			fl_set_add_block(s, t->addr, (unsigned)t->cidr);
			fl_set_union(t->family == 4 ? &p->seen4 : &p->seen6, s);
		} else if (!strcmp(m, "a") || !strcmp(m, "mx")) {
			size_t dn;
			const char *dom = term_domain(t->body, &dn);
			if (!dom) {
				dom = f->domain;
				dn = strlen(dom);
			}
			if (strchr(t->body, '%') || kept_name(c, dom, dn)) {
				keep_term(c, t, f->domain, top, out, FL_OPAQUE);
				continue;
			}
			fl_item *o = add_item(out, FL_ADDR, t->q);
			if (!o) {
				c->oom = true;
				return;
			}
			fl_set_union(&o->s4, &t->a4);
			fl_set_union(&o->s6, &t->a6);
			fl_set_union(&p->seen4, &o->s4);
			fl_set_union(&p->seen6, &o->s6);
		} else if (!strcmp(m, "include") || !strcmp(m, "redirect")) {
			include_term(c, f, t, top, out);
		} else {
			/* ptr, exists: they depend on the client (§5.5, §5.7).
			 */
			keep_term(c, t, f->domain, top, out, FL_OPAQUE);
		}
		if (out->n && out->v[out->n - 1].kind == FL_REDIRECT)
			return;
	}
}

/* The exp= term of the top record, or NULL. */
static char *top_exp(const char *record)
{
	for (const char *s = record; s && *s;) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (n > 4 && strncasecmp(s, "exp=", 4) == 0)
			return cli_copy(s, n);
		s += n;
	}
	return NULL;
}

int fl_build(const char *prog, const cli_dns_opts *dns, const char *domain,
	     const char *record, const char **keep, size_t nkeep, fl_policy *p)
{
	memset(p, 0, sizeof *p);
	fl_set_init(&p->seen4, 32);
	fl_set_init(&p->seen6, 128);
	fwalk w = {.p = p};
	int status = walk_once(prog, dns, domain, record, FL_WALK_IP4, &w);
	if (status == 0) {
		w.pass = 1;
		status = walk_once(prog, dns, domain, record, FL_WALK_IP6, &w);
	}
	if (status == 0 && w.nframes) {
		bctx c = {.p = p, .keep = keep, .nkeep = nkeep};
		frame_items(&c, w.frames[0], true, &p->items);
		p->exp = top_exp(w.frames[0]->record);
		const char *r = w.frames[0]->record;
		p->record = cli_copy(r ? r : "", r ? strlen(r) : 0);
		if (!p->record || c.oom || p->seen4.oom || p->seen6.oom)
			status =
			    cli_say(prog, CLI_EX_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < w.nframes; i++) {
		fframe *f = w.frames[i];
		for (size_t j = 0; j < f->n; j++) {
			free(f->t[j].body);
			fl_set_free(&f->t[j].a4);
			fl_set_free(&f->t[j].a6);
		}
		free(f->t);
		free(f->domain);
		free(f->record);
		free(f);
	}
	free(w.frames);
	free(w.order);
	return status;
}

void fl_policy_free(fl_policy *p)
{
	items_free(&p->items);
	for (size_t i = 0; i < p->nsrc; i++) {
		free(p->src[i].name);
		fl_set_free(&p->src[i].s4);
		fl_set_free(&p->src[i].s6);
	}
	free(p->src);
	fl_set_free(&p->seen4);
	fl_set_free(&p->seen6);
	free(p->exp);
	free(p->record);
	free(p->problem);
	memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ final */

static int qual_index(char q)
{
	for (int i = 0; i < 4; i++)
		if (fl_quals[i] == q)
			return i;
	return 0;
}

static fl_seg *new_seg(fl_final *f)
{
	fl_seg *v = realloc(f->v, (f->n + 1) * sizeof *v);
	if (!v) {
		f->oom = true;
		return NULL;
	}
	f->v = v;
	fl_seg *s = &v[f->n++];
	memset(s, 0, sizeof *s);
	for (int i = 0; i < 4; i++) {
		fl_set_init(&s->s4[i], 32);
		fl_set_init(&s->s6[i], 128);
	}
	return s;
}

/* Every address decided before an item is decided for good, so later
 * sets lose it and sets between two kept terms are disjoint: their
 * order no longer matters and each qualifier's can be merged. */
void fl_finalize(const fl_items *items, fl_final *f)
{
	memset(f, 0, sizeof *f);
	fl_set d4, d6;
	fl_set_init(&d4, 32);
	fl_set_init(&d6, 128);
	fl_seg *seg = new_seg(f);
	for (size_t i = 0; seg && i < items->n; i++) {
		const fl_item *it = &items->v[i];
		if (it->kind == FL_REDIRECT) {
			f->redirect = it;
			break;
		}
		if (it->kind == FL_OPAQUE) {
			seg->kept = it;
			seg = new_seg(f);
			continue;
		}
		if (it->all) {
			f->all = it->q;
			break;
		}
		int q = qual_index(it->q);
		fl_set t;
		fl_set_diff(&t, &it->s4, &d4);
		fl_set_union(&seg->s4[q], &t);
		fl_set_free(&t);
		fl_set_diff(&t, &it->s6, &d6);
		fl_set_union(&seg->s6[q], &t);
		fl_set_free(&t);
		fl_set_union(&d4, &it->s4);
		fl_set_union(&d6, &it->s6);
	}
	/* After the last kept term, sets with the closing all's qualifier
	 * say what all says anyway. */
	if (seg && f->all) {
		int q = qual_index(f->all);
		fl_set_free(&seg->s4[q]);
		fl_set_free(&seg->s6[q]);
	}
	if (d4.oom || d6.oom)
		f->oom = true;
	fl_set_free(&d4);
	fl_set_free(&d6);
}

void fl_final_free(fl_final *f)
{
	for (size_t i = 0; i < f->n; i++)
		for (int q = 0; q < 4; q++) {
			fl_set_free(&f->v[i].s4[q]);
			fl_set_free(&f->v[i].s6[q]);
		}
	free(f->v);
	memset(f, 0, sizeof *f);
}

bool fl_terms(char **buf, size_t *len, const char *pre, const fl_set *s)
{
	fl_cidr *c;
	size_t n;
	if (!fl_set_cidrs(s, &c, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		char t[80];
		fl_cidr_term(t, sizeof t, s->bits, &c[i]);
		size_t tl = strlen(t) + strlen(pre) + 1;
		char *nb = realloc(*buf, *len + tl + 1);
		if (!nb) {
			free(c);
			return false;
		}
		*buf = nb;
		snprintf(nb + *len, tl + 1, "%s%s%s", *len ? " " : "", pre, t);
		*len += strlen(nb + *len);
	}
	free(c);
	return true;
}

const char **fl_overlay(const cli_dns_opts *dns, const char *path,
			cli_dns_opts *over)
{
	*over = *dns;
	const char **zones = calloc(dns->nzones + 1, sizeof *zones);
	if (!zones)
		return NULL;
	if (dns->nzones)
		memcpy(zones, dns->zones, dns->nzones * sizeof *zones);
	zones[dns->nzones] = path;
	over->zones = zones;
	over->nzones = dns->nzones + 1;
	return zones;
}
