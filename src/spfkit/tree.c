/*
 * tree.c - `spfkit tree`: a domain's SPF as a resolved tree, the way
 * `dig TXT` followed all the way down would show it: every include and
 * redirect with its record and TTL, each node's own DNS-querying terms
 * and void lookups, the running totals, the answers, and the addresses
 * each node authorises. Text for people, JSON for programs, DOT for
 * Graphviz.
 *
 * The tree is built from the events of a walked check (every term is
 * reached), so each number is the evaluator's own: a node's own terms are
 * the TERM events with `counted` while it was the current frame, and the
 * running totals are the counters the events carry.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "walk.h"

#define PROG "spfkit tree"

void cli_tree_help(FILE *f)
{
	fputs("Usage: spfkit tree DOMAIN [OPTION]...\n"
	      "       spfkit tree --sender ADDR [OPTION]...\n"
	      "\n"
	      "Shows DOMAIN's SPF record and every include and redirect under "
	      "it as a\n"
	      "tree: records with TTLs, each node's own DNS-querying terms and "
	      "void\n"
	      "lookups, running totals, the DNS answers, and the addresses "
	      "each node\n"
	      "authorises. Counts are the evaluator's own, with every term "
	      "reached.\n"
	      "\n"
	      "  --format FORMAT   text (default), json or dot (Graphviz)\n"
	      "  --ip IP           walk as for this client (default 192.0.2.1; "
	      "no\n"
	      "                    term holds it: it only picks A or AAAA for "
	      "a and\n"
	      "                    mx, the PTR name, and %{i})\n"
	      "  --sender ADDR     the identity (default postmaster@DOMAIN);\n"
	      "                    --helo NAME, --scope helo\n"
	      "  --record TEXT     use this draft as the domain's record\n",
	      f);
	walk_help_dns(f, true);
	fputs("\n"
	      "Exit status: 0 the tree was shown (whatever it holds), 64 usage "
	      "error,\n"
	      "65 a zone file that does not parse, 66 a file that cannot be "
	      "read,\n"
	      "70 internal error. See spfkit-tree(1).\n",
	      f);
}

/* ------------------------------------------------------------ the tree */

typedef struct node node;

/* An inclusive range of IPv4 addresses. */
typedef struct range4 {
	uint32_t lo, hi;
} range4;

typedef struct ranges {
	range4 *v;
	size_t n, cap;
} ranges;

typedef struct tterm {
	const walk_ev *term; /* the TERM event */
	const walk_ev *end;  /* TERM_END, or NULL */
	const walk_ev **ev;  /* LOOKUP, VOID and PROBLEM events, in order */
	size_t nev, cap_ev;
	node *child;
	uint64_t v4; /* own addresses (pass qualifier only) */
	unsigned v6;
} tterm;

struct node {
	const walk_ev *frame, *record, *end;
	const walk_ev **ev; /* before the first term: record LOOKUP, PROBLEM */
	size_t nev, cap_ev;
	tterm *terms;
	size_t nterms, cap_terms;
	unsigned own_lookups, own_voids;
	ranges own4, all4; /* pass-qualified IPv4 ranges: own, subtree */
	uint64_t own4n;    /* addresses own4 covers, once merged */
	unsigned own6, all6;
	node **kids; /* every node, for freeing */
};

typedef struct tree {
	node **nodes;
	size_t n, cap;
	node *root;
	const walk_ev **loose; /* events outside any frame */
	size_t nloose, cap_loose;
	const walk_ev *result;
	bool oom;
} tree;

static bool push_ptr(tree *t, const walk_ev ***v, size_t *n, size_t *cap,
		     const walk_ev *e)
{
	if (!cli_grow(v, cap, *n, sizeof **v, &t->oom))
		return false;
	(*v)[(*n)++] = e;
	return true;
}

static bool add_range(tree *t, ranges *r, uint32_t lo, uint32_t hi)
{
	if (!cli_grow(&r->v, &r->cap, r->n, sizeof *r->v, &t->oom))
		return false;
	r->v[r->n].lo = lo;
	r->v[r->n].hi = hi;
	r->n++;
	return true;
}

/* The IPv4 range of addr/prefix. */
static void prefix_range(const unsigned char *a, int prefix, uint32_t *lo,
			 uint32_t *hi)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		     (uint32_t)a[2] << 8 | a[3];
	uint32_t mask = prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
	if (prefix >= 32)
		mask = 0xffffffffu;
	*lo = v & mask;
	*hi = *lo | ~mask;
}

static int range_cmp(const void *pa, const void *pb)
{
	const range4 *a = pa, *b = pb;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

/* Sorts and merges r; returns how many addresses it covers. */
static uint64_t merge(ranges *r)
{
	if (r->n == 0)
		return 0;
	qsort(r->v, r->n, sizeof *r->v, range_cmp);
	size_t k = 0;
	for (size_t i = 1; i < r->n; i++) {
		if ((uint64_t)r->v[i].lo <= (uint64_t)r->v[k].hi + 1) {
			if (r->v[i].hi > r->v[k].hi)
				r->v[k].hi = r->v[i].hi;
		} else {
			r->v[++k] = r->v[i];
		}
	}
	r->n = k + 1;
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n; i++)
		sum += (uint64_t)r->v[i].hi - r->v[i].lo + 1;
	return sum;
}

static node *new_node(tree *t)
{
	if (!cli_grow(&t->nodes, &t->cap, t->n, sizeof *t->nodes, &t->oom))
		return NULL;
	node *n = calloc(1, sizeof *n);
	if (!n) {
		t->oom = true;
		return NULL;
	}
	t->nodes[t->n++] = n;
	return n;
}

/* The term of n being evaluated (the last one, until its TERM_END; the
 * redirect has none). */
static tterm *open_term(node *n)
{
	if (!n || n->nterms == 0)
		return NULL;
	tterm *tt = &n->terms[n->nterms - 1];
	return tt->end ? NULL : tt;
}

/* Addresses a term authorises on its own: an ip4/ip6 network, or the
 * A/AAAA answers of a and mx with their prefix lengths. */
static void term_addresses(tree *t, node *n, tterm *tt)
{
	const spfkit_event *e = &tt->term->ev;
	if (e->qualifier != '+')
		return;
	if (e->family == 4 && e->addr) {
		uint32_t lo, hi;
		prefix_range(e->addr, e->cidr, &lo, &hi);
		tt->v4 = (uint64_t)hi - lo + 1;
		add_range(t, &n->own4, lo, hi);
		return;
	}
	if (e->family == 6) {
		tt->v6 = 1;
		n->own6++;
		return;
	}
	if (!e->mechanism ||
	    (strcmp(e->mechanism, "a") != 0 && strcmp(e->mechanism, "mx") != 0))
		return;
	ranges mine;
	memset(&mine, 0, sizeof mine);
	for (size_t i = 0; i < tt->nev; i++) {
		const spfkit_event *l = &tt->ev[i]->ev;
		if (l->kind != SPFKIT_EVENT_LOOKUP)
			continue;
		for (size_t k = 0; k < l->nitems && l->items; k++) {
			const spfkit_event_item *it = &l->items[k];
			if (l->type == SPFKIT_TYPE_A && it->len == 4) {
				uint32_t lo, hi;
				prefix_range((const unsigned char *)it->data,
					     e->cidr4 < 0 ? 32 : e->cidr4, &lo,
					     &hi);
				add_range(t, &mine, lo, hi);
				add_range(t, &n->own4, lo, hi);
			} else if (l->type == SPFKIT_TYPE_AAAA &&
				   it->len == 16) {
				tt->v6++;
				n->own6++;
			}
		}
	}
	tt->v4 = merge(&mine);
	free(mine.v);
}

/* Builds the tree from the log: frames nest through the term (include,
 * redirect) that pushed them. */
static void build(tree *t, const walk_log *log)
{
	node *stack[512];
	size_t depth = 0;
	for (size_t i = 0; i < log->n && !t->oom; i++) {
		const walk_ev *w = &log->v[i];
		node *cur = depth ? stack[depth - 1] : NULL;
		tterm *tt = open_term(cur);
		switch (w->ev.kind) {
		case SPFKIT_EVENT_FRAME: {
			node *n = new_node(t);
			if (!n)
				return;
			n->frame = w;
			if (!t->root)
				t->root = n;
			if (tt && !tt->child)
				tt->child = n;
			if (depth < sizeof stack / sizeof stack[0])
				stack[depth++] = n;
			break;
		}
		case SPFKIT_EVENT_RECORD:
			if (cur)
				cur->record = w;
			break;
		case SPFKIT_EVENT_TERM:
			if (!cur)
				break;
			if (!cli_grow(&cur->terms, &cur->cap_terms, cur->nterms,
				      sizeof *cur->terms, &t->oom))
				return;
			memset(&cur->terms[cur->nterms], 0, sizeof(tterm));
			cur->terms[cur->nterms++].term = w;
			if (w->ev.counted)
				cur->own_lookups++;
			break;
		case SPFKIT_EVENT_LOOKUP:
		case SPFKIT_EVENT_VOID:
		case SPFKIT_EVENT_PROBLEM:
			if (w->ev.kind == SPFKIT_EVENT_VOID && cur)
				cur->own_voids++;
			if (tt)
				push_ptr(t, &tt->ev, &tt->nev, &tt->cap_ev, w);
			else if (cur)
				push_ptr(t, &cur->ev, &cur->nev, &cur->cap_ev,
					 w);
			else if (w->ev.kind == SPFKIT_EVENT_PROBLEM)
				push_ptr(t, &t->loose, &t->nloose,
					 &t->cap_loose, w);
			break;
		case SPFKIT_EVENT_TERM_END:
			if (tt) {
				tt->end = w;
				term_addresses(t, cur, tt);
			}
			break;
		case SPFKIT_EVENT_FRAME_END:
			if (cur) {
				cur->end = w;
				/* The redirect has no TERM_END. */
				if (tt)
					term_addresses(t, cur, tt);
				depth--;
			}
			break;
		case SPFKIT_EVENT_RESULT: t->result = w; break;
		default: break;
		}
	}
}

/* Post-order: each node's subtree addresses (IPv4 merged, so overlaps
 * count once; IPv6 prefixes counted). */
static void totals(tree *t, node *n, unsigned depth)
{
	n->own4n = merge(&n->own4);
	for (size_t i = 0; i < n->own4.n; i++)
		add_range(t, &n->all4, n->own4.v[i].lo, n->own4.v[i].hi);
	n->all6 = n->own6;
	for (size_t i = 0; i < n->nterms && depth < 512; i++) {
		node *c = n->terms[i].child;
		/* Only what the child passes is authorised here: an include
		 * or redirect passes on its pass-qualified terms. */
		if (!c)
			continue;
		totals(t, c, depth + 1);
		for (size_t k = 0; k < c->all4.n; k++)
			add_range(t, &n->all4, c->all4.v[k].lo,
				  c->all4.v[k].hi);
		n->all6 += c->all6;
	}
	merge(&n->all4);
}

static uint64_t covered(const ranges *r)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n; i++)
		sum += (uint64_t)r->v[i].hi - r->v[i].lo + 1;
	return sum;
}

static void free_tree(tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		node *n = t->nodes[i];
		for (size_t k = 0; k < n->nterms; k++)
			free(n->terms[k].ev);
		free(n->terms);
		free(n->ev);
		free(n->own4.v);
		free(n->all4.v);
		free(n);
	}
	free(t->nodes);
	free(t->loose);
}

/* ------------------------------------------------------------ text */

/* A LOOKUP, VOID or PROBLEM line. */
static void text_event(FILE *f, const walk_ev *w, unsigned depth)
{
	const spfkit_event *e = &w->ev;
	walk_indent(f, depth);
	if (e->kind == SPFKIT_EVENT_VOID) {
		fprintf(f, "      void lookup %u: %s ", e->void_lookups,
			walk_type_name(e->type));
		cli_put_str(f, e->name);
		fprintf(f, " (%s)\n", walk_status_name(e->status));
		return;
	}
	if (e->kind == SPFKIT_EVENT_PROBLEM) {
		fputs("      problem: ", f);
		cli_put_safe(f, e->text ? e->text : "", e->text_len);
		putc('\n', f);
		return;
	}
	walk_put_lookup(f, e);
	if (e->status == SPFKIT_DNS_NOERROR && e->nitems)
		fprintf(f, " (ttl %u)", (unsigned)e->ttl);
	putc('\n', f);
}

static void put_addrs(FILE *f, uint64_t v4, unsigned v6)
{
	fprintf(f, "%llu IPv4 address%s, %u IPv6 prefix%s",
		(unsigned long long)v4, v4 == 1 ? "" : "es", v6,
		v6 == 1 ? "" : "es");
}

static void text_node(FILE *f, const node *n, unsigned depth)
{
	const spfkit_event *fe = &n->frame->ev;
	walk_indent(f, depth);
	cli_put_str(f, fe->domain);
	fprintf(f, "  [%s", fe->via ? fe->via : "top");
	if (n->record)
		fprintf(f, ", TXT ttl %u", (unsigned)n->record->ev.ttl);
	fputs("]\n", f);
	for (size_t i = 0; i < n->nev; i++)
		if (n->nev && n->ev[i]->ev.kind == SPFKIT_EVENT_PROBLEM)
			text_event(f, n->ev[i], depth);
	if (n->record) {
		walk_indent(f, depth);
		fputs("  \"", f);
		cli_put_safe(f, n->record->ev.text ? n->record->ev.text : "",
			     n->record->ev.text_len);
		fputs("\"\n", f);
	}
	for (size_t i = 0; i < n->nterms; i++) {
		const tterm *tt = &n->terms[i];
		const spfkit_event *te = &tt->term->ev;
		walk_indent(f, depth);
		fputs("  ", f);
		cli_put_safe(f, te->text ? te->text : "", te->text_len);
		if (te->counted)
			fprintf(f, "   [lookup %u]", te->lookups);
		if (tt->end && tt->end->ev.matched)
			fputs("   matched", f);
		if (tt->v4)
			fprintf(f, "   %llu IPv4 address%s",
				(unsigned long long)tt->v4,
				tt->v4 == 1 ? "" : "es");
		if (tt->v6)
			fprintf(f, "   %u IPv6 prefix%s", tt->v6,
				tt->v6 == 1 ? "" : "es");
		putc('\n', f);
		for (size_t k = 0; k < tt->nev; k++)
			text_event(f, tt->ev[k], depth);
		if (tt->child)
			text_node(f, tt->child, depth + 1);
	}
	walk_indent(f, depth);
	fprintf(f, "  = own %u DNS-querying term%s, %u void lookup%s",
		n->own_lookups, n->own_lookups == 1 ? "" : "s", n->own_voids,
		n->own_voids == 1 ? "" : "s");
	unsigned lb = fe->lookups, vb = fe->void_lookups;
	if (n->end)
		fprintf(f, "; running %u -> %u terms, %u -> %u void", lb,
			n->end->ev.lookups, vb, n->end->ev.void_lookups);
	fputs("; authorises ", f);
	put_addrs(f, covered(&n->all4), n->all6);
	if (n->end)
		fprintf(f, "; result %s",
			spfkit_result_name(n->end->ev.result));
	putc('\n', f);
}

static void text_out(FILE *f, const tree *t, const spfkit_check *chk)
{
	for (size_t i = 0; i < t->nloose; i++)
		text_event(f, t->loose[i], 0);
	if (t->root)
		text_node(f, t->root, 0);
	fprintf(f,
		"total: %u of 10 DNS-querying terms, %u of 2 void lookups, %u "
		"DNS queries (walked from %s; every term reached)\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk),
		spfkit_check_queries(chk), spfkit_check_ip(chk));
}

/* ------------------------------------------------------------ json */

/* A TERM's, RECORD's or PROBLEM's text as a JSON string. */
static void json_text(cli_jw *w, const spfkit_event *e)
{
	cli_jw_string(w, e->text ? e->text : "", e->text_len);
}

static void json_event(cli_jw *w, const walk_ev *ev)
{
	const spfkit_event *e = &ev->ev;
	cli_jw_obj(w);
	if (e->kind == SPFKIT_EVENT_PROBLEM) {
		cli_jw_key(w, "problem");
		json_text(w, e);
		cli_jw_kstr(w, "result", spfkit_result_name(e->result));
		cli_jw_kstr(w, "reason", spfkit_reason_name(e->reason));
		cli_jw_obj_end(w);
		return;
	}
	cli_jw_kstr(w, e->kind == SPFKIT_EVENT_VOID ? "void" : "lookup",
		    e->name);
	cli_jw_kstr(w, "type", walk_type_name(e->type));
	cli_jw_kstr(w, "status", walk_status_name(e->status));
	if (e->kind == SPFKIT_EVENT_VOID) {
		cli_jw_kuint(w, "void_lookups", e->void_lookups);
	} else {
		cli_jw_kuint(w, "ttl", e->ttl);
		cli_jw_key(w, "items");
		walk_jw_items(w, e);
	}
	cli_jw_obj_end(w);
}

/* An array of events. */
static void json_events(cli_jw *w, const walk_ev *const *v, size_t n)
{
	cli_jw_arr(w);
	for (size_t i = 0; i < n; i++)
		json_event(w, v[i]);
	cli_jw_arr_end(w);
}

static void json_node(cli_jw *w, const node *n);

static void json_term(cli_jw *w, const tterm *tt)
{
	const spfkit_event *te = &tt->term->ev;
	char q = te->qualifier ? te->qualifier : '+';
	cli_jw_obj(w);
	cli_jw_key(w, "term");
	json_text(w, te);
	cli_jw_kstr(w, "mechanism", te->mechanism);
	cli_jw_key(w, "qualifier");
	cli_jw_string(w, &q, 1);
	cli_jw_kbool(w, "counted", te->counted);
	cli_jw_kuint(w, "lookups", te->lookups);
	cli_jw_kbool(w, "matched", tt->end && tt->end->ev.matched);
	cli_jw_kuint(w, "ipv4_addresses", tt->v4);
	cli_jw_kuint(w, "ipv6_prefixes", tt->v6);
	cli_jw_key(w, "events");
	json_events(w, tt->ev, tt->nev);
	cli_jw_key(w, "child");
	if (tt->child)
		json_node(w, tt->child);
	else
		cli_jw_null(w);
	cli_jw_obj_end(w);
}

static void json_node(cli_jw *w, const node *n)
{
	const spfkit_event *fe = &n->frame->ev;
	const spfkit_event *re = n->record ? &n->record->ev : NULL;
	const spfkit_event *end = n->end ? &n->end->ev : NULL;
	cli_jw_obj(w);
	cli_jw_kstr(w, "domain", fe->domain);
	cli_jw_kstr(w, "via", fe->via);
	cli_jw_kuint(w, "depth", fe->depth);
	cli_jw_key(w, "record");
	if (re)
		json_text(w, re);
	else
		cli_jw_null(w);
	cli_jw_key(w, "ttl");
	if (re)
		cli_jw_uint(w, re->ttl);
	else
		cli_jw_null(w);
	cli_jw_kuint(w, "own_lookups", n->own_lookups);
	cli_jw_kuint(w, "own_void_lookups", n->own_voids);
	cli_jw_kuint(w, "lookups_before", fe->lookups);
	cli_jw_kuint(w, "void_lookups_before", fe->void_lookups);
	if (end) {
		cli_jw_kuint(w, "lookups_after", end->lookups);
		cli_jw_kuint(w, "void_lookups_after", end->void_lookups);
		cli_jw_kstr(w, "result", spfkit_result_name(end->result));
		cli_jw_kstr(w, "reason", spfkit_reason_name(end->reason));
	} else {
		cli_jw_kstr(w, "lookups_after", NULL);
		cli_jw_kstr(w, "void_lookups_after", NULL);
		cli_jw_kstr(w, "result", NULL);
		cli_jw_kstr(w, "reason", NULL);
	}
	cli_jw_kuint(w, "ipv4_addresses", n->own4n);
	cli_jw_kuint(w, "ipv6_prefixes", n->own6);
	cli_jw_kuint(w, "total_ipv4_addresses", covered(&n->all4));
	cli_jw_kuint(w, "total_ipv6_prefixes", n->all6);
	cli_jw_key(w, "events");
	json_events(w, n->ev, n->nev);
	cli_jw_key(w, "terms");
	cli_jw_arr(w);
	for (size_t i = 0; i < n->nterms; i++)
		json_term(w, &n->terms[i]);
	cli_jw_arr_end(w);
	cli_jw_obj_end(w);
}

static void json_out(FILE *f, const tree *t, const spfkit_check *chk)
{
	cli_jw w;
	cli_jw_line(&w, f);
	cli_jw_kstr(&w, "domain", spfkit_check_domain(chk));
	cli_jw_kstr(&w, "ip", spfkit_check_ip(chk));
	cli_jw_counts(&w, chk);
	cli_jw_kuint(&w, "lookup_limit", 10);
	cli_jw_kuint(&w, "void_limit", 2);
	cli_jw_key(&w, "problems");
	json_events(&w, t->loose, t->nloose);
	cli_jw_key(&w, "tree");
	if (t->root)
		json_node(&w, t->root);
	else
		cli_jw_null(&w);
	cli_jw_line_end(&w);
}

/* ------------------------------------------------------------ dot */

/* A DOT string body: printable ASCII, with " and \ escaped; any other
 * octet as '?'. */
static void dot_str(FILE *f, const char *s, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			putc('\\', f);
		putc((c >= 0x20 && c < 0x7f) ? c : '?', f);
	}
	if (n > max)
		fputs("...", f);
}

static void dot_node(FILE *f, const node *n, size_t id, size_t *next)
{
	const spfkit_event *fe = &n->frame->ev;
	fprintf(f, "  n%zu [label=\"", id);
	dot_str(f, fe->domain ? fe->domain : "",
		fe->domain ? strlen(fe->domain) : 0, 253);
	if (n->record) {
		fputs("\\n", f);
		dot_str(f, n->record->ev.text ? n->record->ev.text : "",
			n->record->ev.text_len, 120);
		fprintf(f, "\\nTXT ttl %u", (unsigned)n->record->ev.ttl);
	} else {
		fputs("\\n(no record)", f);
	}
	fprintf(f, "\\nown: %u terms, %u void", n->own_lookups, n->own_voids);
	if (n->end)
		fprintf(f, "; running %u terms, %u void", n->end->ev.lookups,
			n->end->ev.void_lookups);
	fprintf(f, "\\n%llu IPv4 addresses, %u IPv6 prefixes\"",
		(unsigned long long)covered(&n->all4), n->all6);
	bool problem = false;
	for (size_t i = 0; i < n->nev; i++)
		if (n->ev[i]->ev.kind == SPFKIT_EVENT_PROBLEM)
			problem = true;
	if (problem || !n->record)
		fputs(", color=red", f);
	fputs("];\n", f);
	for (size_t i = 0; i < n->nterms; i++) {
		const tterm *tt = &n->terms[i];
		if (!tt->child)
			continue;
		size_t cid = (*next)++;
		dot_node(f, tt->child, cid, next);
		const spfkit_event *te = &tt->term->ev;
		fprintf(f, "  n%zu -> n%zu [label=\"", id, cid);
		dot_str(f, te->text ? te->text : "", te->text_len, 120);
		fprintf(f, "\"%s];\n",
			te->mechanism && strcmp(te->mechanism, "redirect") == 0
			    ? ", style=dashed"
			    : "");
	}
}

static void dot_out(FILE *f, const tree *t, const spfkit_check *chk)
{
	fputs("digraph spf {\n  node [shape=box, fontname=monospace];\n", f);
	fputs("  label=\"", f);
	const char *d = spfkit_check_domain(chk);
	dot_str(f, d, strlen(d), 253);
	fprintf(f, ": %u of 10 DNS-querying terms, %u of 2 void lookups\";\n",
		spfkit_check_lookups(chk), spfkit_check_void_lookups(chk));
	size_t next = 1;
	if (t->root)
		dot_node(f, t->root, 0, &next);
	fputs("}\n", f);
}

int cli_tree_main(int argc, char **argv)
{
	walk_opts o;
	walk_run run;
	int status;
	if (!walk_start(argc, argv, PROG, WALK_OPT_DOT, cli_tree_help, true, &o,
			&run, &status))
		return status;
	tree t = {0};
	build(&t, &run.log);
	if (t.root)
		totals(&t, t.root, 0);
	if (t.oom)
		status = cli_say(PROG, CLI_EX_SOFTWARE, "out of memory");
	else if (o.format == WALK_JSON)
		json_out(stdout, &t, run.chk);
	else if (o.format == WALK_DOT)
		dot_out(stdout, &t, run.chk);
	else
		text_out(stdout, &t, run.chk);
	free_tree(&t);
	return walk_end(&o, &run, status);
}
