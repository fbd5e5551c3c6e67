/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * svg.c - the include tree as an SVG picture, laid out here (no Graphviz
 * at run time): depth goes left to right, each leaf takes the next row,
 * and a parent sits midway between its first and last child (a simple
 * tidy tree). Each node shows its domain, the running count of
 * DNS-querying terms before and after it (RFC 7208 §4.6.4), its void
 * lookups, the addresses it authorises with its subtree, and its marks:
 * past the ten-lookup limit, lint findings, no record. Everything from
 * DNS goes through xml_put(): the picture is inlined in HTML as well.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "svg.h"

#define NODE_W     330 /* px: a box holds about 44 monospace characters */
#define NODE_H     80
#define COL_GAP    60
#define ROW_GAP    14
#define MARGIN     16
#define HEAD_H     30  /* the caption line above the tree */
#define DOMAIN_MAX 42u /* characters of a domain shown in a box */
#define TITLE_MAX  512u

void xml_put(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (c >= 0x20 && c < 0x7f && c != '\\')
				putc(c, f);
			else
				fprintf(f, "\\x%02X", c);
		}
	}
}

void xml_puts(FILE *f, const char *s)
{
	if (s)
		xml_put(f, s, strlen(s));
}

/* (s, n) cut to max octets with "..." after. */
static void xml_cut(FILE *f, const char *s, size_t n, size_t max)
{
	xml_put(f, s, n > max ? max - 3 : n);
	if (n > max)
		fputs("...", f);
}

/* A node's place: its depth (column) and row (a leaf's index; a parent
 * the middle of its children's). */
typedef struct place {
	const node *n;
	size_t parent; /* index in the place array; SIZE_MAX: the root */
	unsigned depth;
	double row;
	bool redirect; /* brought by redirect= (drawn dashed) */
} place;

typedef struct layout {
	place *v;
	size_t n, cap;
	double leaves; /* rows taken so far */
	unsigned depth;
	bool oom;
} layout;

/* Places n and its subtree in depth-first order; returns n's index. */
static size_t lay(layout *l, const node *n, size_t parent, unsigned depth,
		  bool redirect)
{
	if (!cli_grow(&l->v, &l->cap, l->n, sizeof *l->v, &l->oom))
		return SIZE_MAX;
	size_t me = l->n++;
	l->v[me] = (place){n, parent, depth, 0, redirect};
	if (depth > l->depth)
		l->depth = depth;
	double first = -1, last = -1;
	/* The tree builder nests at most 512 deep; so does this. */
	for (size_t i = 0; i < n->nterms && depth < 512; i++) {
		const tterm *tt = &n->terms[i];
		if (!tt->child)
			continue;
		const char *m = tt->term->ev.mechanism;
		size_t c = lay(l, tt->child, me, depth + 1,
			       m && strcmp(m, "redirect") == 0);
		if (c == SIZE_MAX)
			return SIZE_MAX;
		if (first < 0)
			first = l->v[c].row;
		last = l->v[c].row;
	}
	l->v[me].row = first < 0 ? l->leaves++ : (first + last) / 2;
	return me;
}

static double px_x(const place *p)
{
	return MARGIN + (double)p->depth * (NODE_W + COL_GAP);
}

static double px_y(const place *p)
{
	return MARGIN + HEAD_H + p->row * (NODE_H + ROW_GAP);
}

/* "error", "warning", "info" for marks_at()'s worst. */
static const char *worst_name(int worst)
{
	return worst ? spfkit_severity_name((spfkit_severity)(worst - 1))
		     : NULL;
}

/* The border and mark colour: red for an error, no record, or past the
 * limit; orange for a warning. */
static const char *stroke_of(bool over, int worst, bool norecord)
{
	if (worst == SPFKIT_SEVERITY_ERROR + 1 || norecord || (over && !worst))
		return "#b00020";
	if (worst == SPFKIT_SEVERITY_WARNING + 1)
		return "#b35900";
	return "#3b6ea5";
}

/* One node: its box, its four lines and a tooltip with its route and
 * record. */
static void svg_node(FILE *f, const place *p, const marks *m)
{
	const node *n = p->n;
	const spfkit_event *fe = &n->frame->ev;
	const char *d = fe->domain ? fe->domain : "";
	char *route = tree_route(n);
	size_t nfind = 0;
	int worst = marks_at(m, route, &nfind);
	bool over = svg_over_limit(n);
	double x = px_x(p), y = px_y(p);
	fputs("<g class=\"node", f);
	if (over)
		fputs(" over-limit", f);
	if (worst)
		fprintf(f, " finding-%s", worst_name(worst));
	if (!n->record)
		fputs(" no-record", f);
	fputs("\" data-domain=\"", f);
	xml_puts(f, d);
	fprintf(f, "\" data-lookups=\"%u\">\n<title>",
		n->end ? n->end->ev.lookups : fe->lookups);
	xml_puts(f, route ? route : d);
	if (n->record) {
		fputs("\n", f);
		xml_cut(f, n->record->ev.text, n->record->ev.text_len,
			TITLE_MAX);
	}
	fputs("</title>\n", f);
	fprintf(f,
		"<rect x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\" "
		"rx=\"6\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%d\"%s/>\n",
		x, y, NODE_W, NODE_H, over ? "#fbe3e3" : "#eef4fb",
		stroke_of(over, worst, !n->record),
		worst || over || !n->record ? 3 : 1,
		over ? " stroke-dasharray=\"7 3\"" : "");
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">", x + 8,
		y + 17);
	xml_cut(f, d, strlen(d), DOMAIN_MAX);
	fputs("</text>\n", f);
	/* Running totals: the count before this record's terms (with the
	 * include or redirect that brought it) and after its subtree. */
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">lookups %u &#8594; ", x + 8,
		y + 35, fe->lookups);
	if (n->end)
		fprintf(f, "%u", n->end->ev.lookups);
	else
		fputs("?", f);
	fprintf(f, " (own %u), void %u</text>\n", n->own_lookups, n->own_voids);
	fprintf(f,
		"<text x=\"%.0f\" y=\"%.0f\">%llu IPv4 addr, %u IPv6 "
		"prefix%s</text>\n",
		x + 8, y + 53, (unsigned long long)tree_covered(&n->all4),
		n->all6, n->all6 == 1 ? "" : "es");
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\" class=\"marks\">",
		x + 8, y + 71, stroke_of(over, worst, !n->record));
	const char *sep = "";
	if (over) {
		fputs("past the 10-lookup limit", f);
		sep = "; ";
	}
	if (nfind) {
		fprintf(f, "%s%zu finding%s (%s)", sep, nfind,
			nfind == 1 ? "" : "s", worst_name(worst));
		sep = "; ";
	}
	if (!n->record)
		fprintf(f, "%sno SPF record", sep);
	fputs("</text>\n</g>\n", f);
	free(route);
}

/* The edge from a node's parent: a curve from the parent's right side to
 * the node's left side; a redirect dashed. */
static void svg_edge(FILE *f, const place *from, const place *to)
{
	double x1 = px_x(from) + NODE_W, y1 = px_y(from) + NODE_H / 2.0;
	double x2 = px_x(to), y2 = px_y(to) + NODE_H / 2.0;
	double mid = (x1 + x2) / 2;
	fprintf(f,
		"<path d=\"M%.0f %.1f C%.0f %.1f %.0f %.1f %.0f %.1f\" "
		"fill=\"none\" stroke=\"#667\" stroke-width=\"1.5\"%s/>\n",
		x1, y1, mid, y1, mid, y2, x2, y2,
		to->redirect ? " stroke-dasharray=\"5 4\"" : "");
}

bool svg_write(FILE *f, const tree *t, const spfkit_check *chk, const marks *m,
	       bool standalone)
{
	layout l;
	memset(&l, 0, sizeof l);
	if (t->root)
		lay(&l, t->root, SIZE_MAX, 0, false);
	if (l.oom) {
		free(l.v);
		return false;
	}
	double w = 2 * MARGIN + (double)(l.depth + 1) * NODE_W +
		   (double)l.depth * COL_GAP;
	double rows = l.leaves < 1 ? 1 : l.leaves;
	double h = 2 * MARGIN + HEAD_H + rows * (NODE_H + ROW_GAP);
	/* Room for the caption: 14px monospace is about 8.5px a character. */
	const char *d = spfkit_check_domain(chk);
	size_t dn = strlen(d) > 253 ? 253 : strlen(d);
	double caption = 2 * MARGIN + (double)(dn + 66) * 8.5;
	if (w < caption)
		w = caption;
	if (standalone)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"spf-tree\" "
		"width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"monospace\" font-size=\"12\" role=\"img\" "
		"aria-label=\"SPF include tree of ",
		w, h, w, h);
	xml_puts(f, d);
	fputs("\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", f);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\">", MARGIN,
		MARGIN + 12);
	xml_cut(f, d, strlen(d), 253);
	fprintf(f,
		": %u of %u DNS-querying terms, %u of 2 void lookups "
		"(every term reached)</text>\n",
		spfkit_check_lookups(chk), SVG_LOOKUP_LIMIT,
		spfkit_check_void_lookups(chk));
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].parent != SIZE_MAX)
			svg_edge(f, &l.v[l.v[i].parent], &l.v[i]);
	for (size_t i = 0; i < l.n; i++)
		svg_node(f, &l.v[i], m);
	fputs("</svg>\n", f);
	free(l.v);
	return true;
}
