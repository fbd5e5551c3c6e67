/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flatten.h - what the files of `spfkit flatten` share: the walked tree
 * of a domain's SPF (flatten.c), the policy it means as an ordered list
 * of items (address sets with their qualifiers, and the terms that must
 * stay as they are), and the drift check of a published snippet
 * (flatten_check.c).
 */
#ifndef SPFKIT_FLATTEN_H
#define SPFKIT_FLATTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flatten_set.h"
#include "opts.h"
#include "spfkit.h"

#define FL_PROG "spfkit flatten"

/* Exit statuses: 0 printed (or no drift), 1 drift (--check), 2 cannot
 * be flattened safely (one line says why). */
#define FL_EX_DRIFT  1
#define FL_EX_CANNOT 2

typedef enum fl_kind {
	FL_ADDR = 0, /* an address set: ip4/ip6, a, mx, an include's passes */
	FL_OPAQUE,   /* a term kept as it is (exists, ptr, macros, --keep) */
	FL_REDIRECT  /* redirect= kept as it is: always last */
} fl_kind;

typedef struct fl_item {
	fl_kind kind;
	char q;        /* '+', '-', '~' or '?' */
	bool all;      /* FL_ADDR: the record's own all */
	bool liftable; /* FL_OPAQUE: means the same in another record (no
			  %{d}, no implied domain) */
	fl_set s4, s6; /* FL_ADDR */
	char *text;    /* FL_OPAQUE, FL_REDIRECT: the term without qualifier */
} fl_item;

typedef struct fl_items {
	fl_item *v;
	size_t n, cap;
} fl_items;

/* An include's pass set, by name, for naming what drifted. */
typedef struct fl_source {
	char *name;
	fl_set s4, s6;
} fl_source;

/* The policy a domain's walked tree means, and what it was built from. */
typedef struct fl_policy {
	fl_items items;
	fl_source *src;
	size_t nsrc, cap_src;
	fl_set seen4, seen6; /* every block any term named: proof points */
	uint32_t ttl;        /* the smallest TTL of the answers used */
	bool have_ttl;
	char *exp;    /* the top record's exp= term, or NULL */
	char *record; /* the top record's text as it was walked */
	char *problem;
	bool oom;
} fl_policy;

/* One segment of a policy in its final form: address sets decided
 * before the next kept term, by qualifier ('+', '-', '~', '?' in that
 * order), then the kept term (NULL at the end). */
typedef struct fl_seg {
	fl_set s4[4], s6[4];
	const fl_item *kept;
} fl_seg;

typedef struct fl_final {
	fl_seg *v;
	size_t n;
	char all; /* the qualifier of the closing all, 0 when none */
	const fl_item *redirect;
	bool oom;
} fl_final;

extern const char fl_quals[4];

/* Walks domain over the DNS the options name (lookup limit lifted) and
 * builds *p; record, when not NULL, stands for domain's own record (the
 * original a snippet carries, which DNS no longer publishes); keep lists names
 * whose a, mx and include stay. Returns 0 or an exit status after a one-line
 * message that starts with prog ("spfkit flatten", "spfkit diff"). */
int fl_build(const char *prog, const cli_dns_opts *dns, const char *domain,
	     const char *record, const char **keep, size_t nkeep, fl_policy *p);
void fl_policy_free(fl_policy *p);
/* The final form of a policy's items. */
void fl_finalize(const fl_items *items, fl_final *f);
void fl_final_free(fl_final *f);
/* Appends "ip4:..." terms of s (with qualifier prefix pre, "" for pass)
 * to buf, separated by spaces. False when out of memory. */
bool fl_terms(char **buf, size_t *len, const char *pre, const fl_set *s);

/* *over is dns with the master file path laid over its zones (last).
 * Returns the zones array of *over (the caller frees it), NULL when out
 * of memory. */
const char **fl_overlay(const cli_dns_opts *dns, const char *path,
			cli_dns_opts *over);

/* The "; original" comment line of a snippet: DOMAIN's record before
 * flattening, as master-file character-strings. */
#define FL_ORIGINAL "; original "

/* Calls add(ud, bits, a) for the first and last address of every range
 * of s and the addresses just outside it (first - 1, last + 1): where
 * two policies that differ show it (the proof of flatten, diff). */
void fl_bounds(const fl_set *s, void (*add)(void *, unsigned, fl_u128),
	       void *ud);

/* The --format value of a command that writes other or json (optarg),
 * given once (cli_set_once()): 0 or a usage exit status. */
int fl_format(const cli_args *a, const char **dst, int c, const char *other);
/* After cli_parse(): the one DOMAIN operand (a host name's characters,
 * at most 253) and DNS options that go together. 0 with *domain set, or
 * a usage exit status after a message naming a->prog. */
int fl_operand(const cli_args *a, int argc, char **argv,
	       const cli_dns_opts *dns, const char **domain);

/* --check: compares the published snippet with the sources. */
int fl_check(const cli_dns_opts *dns, const char *domain, const char **keep,
	     size_t nkeep, const char *snippet);

#endif /* SPFKIT_FLATTEN_H */
