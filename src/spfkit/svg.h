/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * svg.h - the include tree as a picture (svg.c), and the marks it shows
 * (svg_marks.c): the lint findings of the same walked check, copied out
 * of the linter, and which nodes lie past the ten-lookup limit. `spfkit
 * tree --format svg` and `--format dot` (tree.c) and `spfkit report`
 * (report.c) draw from these.
 */
#ifndef SPFKIT_SVG_H
#define SPFKIT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tree.h"
#include "walk.h"

/* RFC 7208 §4.6.4: at most 10 DNS-querying terms. */
#define SVG_LOOKUP_LIMIT 10u

/* A lint finding, copied out of the linter's callback: every string
 * lies in block (one allocation), NULL when the linter gave none. */
typedef struct mark_find {
	spfkit_severity severity;
	char *code, *rfc, *where, *message, *fix;
	char *record, *replacement;
	size_t record_len, pos, len, replacement_len;
	char *block;
} mark_find;

typedef struct marks {
	mark_find *v;
	size_t n, cap;
	bool oom;
	unsigned counts[3]; /* by severity */
} marks;

/* Runs o's check walked (walk_check()) with the linter fed its events,
 * then run->verdict (walk_verdict()). Returns 0 or an exit status after
 * a one-line message; run is the caller's to free with walk_run_free(),
 * m with marks_free(), either way. */
int marks_walk(const walk_opts *o, walk_run *run, marks *m);
void marks_free(marks *m);
/* An spfkit_finding_cb that copies the finding into the marks given as
 * ud (SPF lint's here; `spfkit dmarc` keeps DMARC lint's the same way). */
void marks_on_finding(const spfkit_finding *f, void *ud);

/* The worst severity among the findings in the record at route (a
 * tree_route() string), plus one; 0 when none is there. *count (when not
 * NULL) is how many findings are there. */
int marks_at(const marks *m, const char *route, size_t *count);

/* Does n lie past the ten-lookup limit: is the include or redirect that
 * brought it, or one of its own DNS-querying terms, number 11 or later? */
bool svg_over_limit(const node *n);

/* Writes (s, n) as XML and HTML character data or attribute value:
 * printable ASCII with & < > " ' as references; every other octet, and
 * the backslash, as the text \xHH (the house's way of showing octets:
 * never raw, so neither markup nor invalid UTF-8 can come from DNS). */
void xml_put(FILE *f, const char *s, size_t n);
/* The same for a NUL-terminated string; nothing for NULL. */
void xml_puts(FILE *f, const char *s);

/* Writes the tree as an SVG picture, laid out left to right (depth is x,
 * leaves take the rows in order, a parent sits between its first and
 * last child). With standalone, an XML declaration comes first (a file
 * of its own); without, it is for inlining into HTML. False (nothing
 * written) when memory ran out. */
bool svg_write(FILE *f, const tree *t, const spfkit_check *chk, const marks *m,
	       bool standalone);

#endif /* SPFKIT_SVG_H */
