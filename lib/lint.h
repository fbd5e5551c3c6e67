/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lint.h - what the files of the linter share (lint.c, lint_syntax.c,
 * lint_record.c, lint_tree.c, lint_net.c): the reporter every finding goes
 * through, the linter's state, and each family's entry points. Internal to
 * libspfkit (names spfkit__lint_*).
 */
#ifndef SPFKIT_LINT_H
#define SPFKIT_LINT_H

#include "api.h"

/* TXT strings of a name without a record kept for near-miss advice. */
#define SPFKIT__LINT_TXT_KEPT 16

/* ---------------------------------------------------------------- report */

/* Where findings go and the context they are reported in. */
typedef struct spfkit__lint_reporter {
	const spfkit__alloc *a;
	spfkit_finding_cb cb;
	void *ud;
	unsigned counts[3];
	int err;
	/* per-code counts, to stop a hostile tree flooding the caller */
	const char *codes[64];
	unsigned code_counts[64];
	size_t ncodes;
	/* context of the record being linted */
	const char *domain;
	const char *where;
	const char *other_domain, *other_where; /* a second place, if any */
	unsigned depth;
	const char *record;
	size_t record_len;
	/* Does the replacement offered for (pos, len) of record (already
	 * known to be printable ASCII) read as it must? NULL: the rules of
	 * an SPF record (lint.c); DMARC lint (dmarc_lint.c) brings its own.
	 * *oom set when memory ran out. */
	bool (*replacement_ok)(const struct spfkit__lint_reporter *r,
			       const spfkit__buf *rep, size_t pos, size_t len,
			       bool *oom);
} spfkit__lint_reporter;

/* A finding being written: message, fix, and text to paste (r: the
 * corrected octets of the finding's place, see spfkit__lint_offer()). */
typedef struct spfkit__lint_msg {
	spfkit__buf m, f, r;
	bool offered;
	const char *before, *after, *words;
} spfkit__lint_msg;

/* lint.c: the reporter. A message is written into an spfkit__lint_msg and
 * reported with spfkit__lint_emit(), which frees it; every finding passes
 * there, so the counts and the per-code cap hold for all of them. */
void spfkit__lint_msg_init(const spfkit__lint_reporter *r, spfkit__lint_msg *m);
/* Frees a message that is not reported after all. */
void spfkit__lint_msg_free(spfkit__lint_msg *m);
/* Appends (s, n) for a message: printable ASCII as it is, every other
 * octet and the backslash as \xHH (as spfkit(1) shows hostile octets),
 * at most max octets of s, then "...". */
void spfkit__lint_shown(spfkit__buf *b, const char *s, size_t n, size_t max);
/* The same for text that is already escaped (the evaluator's problem
 * texts): the backslash stays as it is. */
void spfkit__lint_shown_escaped(spfkit__buf *b, const char *s, size_t n,
				size_t max);
/* Offers m->r (written by the caller, raw octets) as the text to paste in
 * place of the finding's octets, or of the whole record when the finding
 * has no position. spfkit__lint_emit() checks it first: printable ASCII,
 * every term of it parses, the record it makes parses at least as far as
 * before (a whole record: is a v=spf1 record); then the fix is before,
 * the text, after. Otherwise the text is dropped and the fix is words:
 * a fix never quotes a record that is not exact. m->f stays empty. */
void spfkit__lint_offer(spfkit__lint_msg *m, const char *before,
			const char *after, const char *words);
/* Appends (s, n) to out with the usual typing slips put right (RFC 7208
 * §4.6.1 allows only ASCII spaces between terms): TAB, CR, LF, a
 * non-breaking or other Unicode space as a space; a Unicode dash or minus
 * as '-'; typographic quotes, zero-width characters and a byte-order mark
 * left out. False when an octet has no plain counterpart. */
bool spfkit__lint_retype(spfkit__buf *out, const char *s, size_t n);
/* Reports the finding written in m, in r's context, at (pos, len) of
 * r->record (both 0: the record as a whole), and frees m. */
void spfkit__lint_emit(spfkit__lint_reporter *r, spfkit__lint_msg *m,
		       spfkit_severity sev, const char *code, const char *rfc,
		       size_t pos, size_t len);
/* A finding with a plain message and fix (fix may be NULL). */
void spfkit__lint_say(spfkit__lint_reporter *r, spfkit_severity sev,
		      const char *code, const char *rfc, size_t pos, size_t len,
		      const char *message, const char *fix);
/* Makes room for element n of the array v (capacity *cap; first when
 * empty, then doubling): the array, perhaps moved, or NULL with *err set
 * to SPFKIT_ENOMEM (v is then unchanged). */
void *spfkit__lint_grow(const spfkit__alloc *a, int *err, void *v, size_t n,
			size_t *cap, size_t size, size_t first);

/* lint_syntax.c: advice for what the grammar rejects or ignores. */
/* Parses one term t on its own with the evaluator's grammar. Returns
 * SPFKIT_OK with *out (offsets relative to t), SPFKIT_EPARSE with err, or
 * SPFKIT_ENOMEM. */
int spfkit__lint_parse_term(const spfkit__alloc *a, const char *t, size_t n,
			    spfkit__term *out, spfkit__parse_error *err);
/* The parser's message perr, with the octet position pos (in the record)
 * and the term (t, n) quoted as messages quote (spfkit__lint_shown()). */
void spfkit__lint_parse_msg(spfkit__buf *b, const spfkit__parse_error *perr,
			    size_t pos, const char *t, size_t n);
/* Reports the term (t, n) at pos that the grammar rejects (perr, or NULL
 * for a well-formed term receivers ignore); with quiet only when there is
 * better advice than "syntax". Returns the finding's code. */
const char *spfkit__lint_bad_term(spfkit__lint_reporter *r, const char *t,
				  size_t n, size_t pos,
				  const spfkit__parse_error *perr, bool quiet);
/* Reports the unknown modifier t of the record text, if it deserves it. */
void spfkit__lint_unknown_modifier(spfkit__lint_reporter *r,
				   const spfkit__term *t, const char *text);
/* Reports a text that is a near miss of a v=spf1 record; false when it is
 * not one. */
bool spfkit__lint_near_miss(spfkit__lint_reporter *r, spfkit_severity sev,
			    const char *s, size_t n);

/* lint_record.c: every rule of one record text (flags SPFKIT_LINT_*). */
void spfkit__lint_text(spfkit__lint_reporter *r, const char *s, size_t n,
		       unsigned flags);
/* Does the macro-string (s, n) use a macro letter of letters (lower case;
 * %%, %_ and %- are no macros)? */
bool spfkit__lint_macro_uses(const char *s, size_t n, const char *letters);

/* ---------------------------------------------------------------- linter */

/* A frame of the walked check, as the events show it. */
typedef struct spfkit__lint_frame {
	char *domain;
	bool include;  /* reached through include (else top or redirect) */
	bool terminal; /* its result is the check's result */
	bool repeat;   /* the domain was linted before: no second report */
	char *record;  /* copy of the record text, once known */
	size_t record_len;
	size_t cursor; /* where the next mechanism is looked for */
	/* the term being evaluated */
	bool in_term;
	size_t tpos, tlen;
	char mech[12];
	char qualifier;
	bool by_design; /* ptr, or a name made from the client: void for
			   most clients (RFC 7208 §5.5, §5.7) */
	/* the TXT strings of the record lookup, for near-miss advice */
	char *txt[SPFKIT__LINT_TXT_KEPT];
	size_t txt_len[SPFKIT__LINT_TXT_KEPT];
	size_t ntxt;
} spfkit__lint_frame;

/* An ip4/ip6 term, for duplicates and overlaps across the tree. */
typedef struct spfkit__lint_block {
	int family;
	unsigned char addr[16]; /* host bits cleared */
	int cidr;
	char qualifier;
	char *where; /* owned: route, the record's domain, then the term */
	char *domain;
	char *term;
	size_t order;
} spfkit__lint_block;

/* A set of names, compared ignoring ASCII case. */
typedef struct spfkit__lint_names {
	char **v;
	size_t n, cap;
} spfkit__lint_names;

/* A limit crossed: reported at the end with the final totals. */
typedef struct spfkit__lint_crossing {
	bool crossed;
	char *where;
	char *domain;
	char *text;
	unsigned depth;
} spfkit__lint_crossing;

/* The exp= of the record that decides a fail (RFC 7208 §6.2): the last
 * record reached through the top or redirects; checked when the walk
 * fetches the explanation. */
typedef struct spfkit__lint_exp {
	bool pending, looked_up;
	char *domain, *where, *record;
	size_t record_len, pos, len;
} spfkit__lint_exp;

/* The void lookups of the walk by cause: by design (ptr, names made from
 * the client) or stale names, the first of which are named. */
typedef struct spfkit__lint_voids {
	unsigned design, stale;
	spfkit__buf named; /* "'a:gone.example' in a.example", ... */
} spfkit__lint_voids;

/* The tree-wide linter: the reporter, the stack of frames as the events
 * show it, and what the end-of-walk rules need. */
struct spfkit_linter {
	const spfkit_config *cfg;
	const spfkit__alloc *a;
	unsigned flags;
	spfkit__lint_reporter r;
	bool finished;
	spfkit__lint_frame *frames;
	size_t nframes, cap_frames;
	spfkit__lint_names seen; /* domains whose records were linted */
	spfkit__lint_names big;  /* names whose answer size was reported */
	spfkit__lint_block *blocks;
	size_t nblocks, cap_blocks;
	unsigned lookups, voids;
	spfkit__lint_crossing terms, void_limit;
	char *root_domain; /* whose tree: the tree-wide findings' domain */
	spfkit__lint_exp exp;
	spfkit__lint_voids void_causes;
};

/* The frame being evaluated, or NULL before the first. */
static inline spfkit__lint_frame *spfkit__lint_top(spfkit_linter *l)
{
	return l->nframes ? &l->frames[l->nframes - 1] : NULL;
}

/* lint_tree.c: one function per event kind that the linter learns from
 * (the frame stack, records, terms) or reports on; then, at the end, the
 * limits crossed and the lookups left. */
void spfkit__lint_on_frame(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_record(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_term(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_lookup(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_void(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_answer(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_problem(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_on_result(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_limit(spfkit_linter *l, spfkit__lint_crossing *c, bool terms);
void spfkit__lint_at_limit(spfkit_linter *l);
/* The route to the current frame, "a.example > include b.example", as a
 * string the caller frees; NULL when out of memory. */
char *spfkit__lint_route_copy(const spfkit_linter *l);

/* lint_net.c: netblocks. spfkit__lint_add_block() keeps the ip4/ip6 term
 * of a TERM event; spfkit__lint_netblocks() reports, at the end, those
 * that repeat or lie within another with the same qualifier. */
/* Writes the network of a prefix, addr (4 or 16 octets by family) with
 * the bits past cidr cleared, to net; true when any of them was set. */
bool spfkit__lint_network(int family, const unsigned char *addr, int cidr,
			  unsigned char *net);
void spfkit__lint_add_block(spfkit_linter *l, const spfkit_event *ev);
void spfkit__lint_netblocks(spfkit_linter *l);

#endif /* SPFKIT_LINT_H */
