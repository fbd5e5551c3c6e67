/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flatten.c - `spfkit flatten DOMAIN`: the records to publish so that
 * DOMAIN's SPF means what it means now with fewer DNS lookups (RFC 7208
 * §4.6.4), as an RFC 1035 master-file snippet or JSON. flatten_build.c
 * turns the walked tree into a policy; this file lays it out in records
 * that fit (each character-string at most 255 octets, §3.3; each TXT
 * record at most FL_MAX_RDATA octets of RDATA), and proves it before
 * printing: the snippet is laid over the same DNS and the evaluator
 * checks both policies on every boundary address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "dnsrun.h"
#include "flatten.h"

/* A TXT record's RDATA at most: 450 octets keep a whole answer (header,
 * question, one record) under the 512 octets of plain UDP (RFC 1035
 * §4.2.1) for names up to about 20 octets, and far under the 1232 of
 * EDNS that resolvers use today. */
#define FL_MAX_RDATA 450u
/* Record text: RDATA less one length octet per 255-octet string. */
#define FL_MAX_TEXT (FL_MAX_RDATA - 2u)
/* Points the proof checks at most (addresses of both families). */
#define FL_MAX_POINTS 40000u

void cli_flatten_help(FILE *f)
{
	fputs("Usage: spfkit flatten DOMAIN [--format zone|json] "
	      "[--keep NAME,...] [DNS options]\n"
	      "       spfkit flatten DOMAIN --check FILE [--keep NAME,...] "
	      "[DNS options]\n"
	      "\n"
	      "Prints the records to publish so that DOMAIN's SPF means "
	      "the same with\n"
	      "fewer DNS lookups: DOMAIN's record and, when one TXT record "
	      "cannot hold\n"
	      "it, helper records _spf1.DOMAIN, _spf2.DOMAIN, ... chained "
	      "by include:.\n"
	      "Addresses are merged into the fewest CIDR blocks; exists, "
	      "ptr, macros and\n"
	      "the a, mx and include of names given to --keep stay. Before "
	      "printing, both\n"
	      "policies are checked on every range's first and last "
	      "address, their\n"
	      "neighbours and sample addresses; any difference is an "
	      "error.\n"
	      "\n"
	      "Options:\n"
	      "  --format zone|json  a master-file snippet (default) or one "
	      "JSON line\n"
	      "  --keep NAME,...     leave a, mx and include of these names "
	      "as they are\n"
	      "  --check FILE        compare the published snippet (a master "
	      "file) with\n"
	      "                      what the sources say now; exit 1 on "
	      "drift\n",
	      f);
	fputs("  --zone FILE         answer from this master file (repeat to "
	      "lay files\n"
	      "                      over earlier ones); alone, no other DNS "
	      "is asked\n"
	      "  --nameserver ADDR[@PORT], --recursive, --root-hints FILE,\n"
	      "  --trust-anchor FILE, --timeout SECONDS   real DNS, as for "
	      "check\n"
	      "  -h, --help          show this help and exit\n"
	      "\n"
	      "Exit status: 0 printed (or no drift), 1 drift, 2 cannot be "
	      "flattened\n"
	      "safely (one line says why), 64 usage, 65 a zone file that "
	      "does not\n"
	      "parse, 66 a file that cannot be read, 70 internal error. See "
	      "spfkit-flatten(1).\n",
	      f);
}

/* ------------------------------------------------------------ layout */

/* A record of the snippet. */
typedef struct fl_rec {
	char *name;
	char *text;
} fl_rec;

typedef struct fl_out {
	fl_rec *v;
	size_t n;
	bool oom;
} fl_out;

static bool add_rec(fl_out *o, const char *name, char *text)
{
	fl_rec *v = realloc(o->v, (o->n + 1) * sizeof *v);
	char *nm = v ? strdup(name) : NULL;
	if (!v || !nm) {
		if (v)
			o->v = v;
		free(nm);
		free(text);
		o->oom = true;
		return false;
	}
	o->v = v;
	v[o->n].name = nm;
	v[o->n].text = text;
	o->n++;
	return true;
}

static void out_free(fl_out *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].name);
		free(o->v[i].text);
	}
	free(o->v);
	memset(o, 0, sizeof *o);
}

/* Appends " " and s to the growing string (*b, *n). */
static bool cat(char **b, size_t *n, const char *s)
{
	size_t l = strlen(s);
	char *nb = realloc(*b, *n + l + 2);
	if (!nb)
		return false;
	*b = nb;
	if (*n)
		nb[(*n)++] = ' ';
	memcpy(nb + *n, s, l + 1);
	*n += l;
	return true;
}

/* Appends qualifier q (none for '+') and term text to (*b, *n). */
static bool cat_term(char **b, size_t *n, char q, const char *text)
{
	size_t l = strlen(text) + 2;
	char *t = malloc(l);
	if (!t)
		return false;
	snprintf(t, l, "%s%s", q == '+' ? "" : (char[]){q, '\0'}, text);
	bool ok = cat(b, n, t);
	free(t);
	return ok;
}

/* One qualifier's terms of one segment, as a space-separated list. */
static char *group_terms(const fl_seg *s, int q, bool plain)
{
	char *b = NULL;
	size_t n = 0;
	char pre[2] = {fl_quals[q], '\0'};
	const char *p = plain || q == 0 ? "" : pre;
	if (!fl_terms(&b, &n, p, &s->s4[q]) ||
	    !fl_terms(&b, &n, p, &s->s6[q])) {
		free(b);
		return NULL;
	}
	return b ? b : strdup("");
}

/* Packs the terms of list (space-separated, not qualified) into helper
 * records _spfN.domain chained by include:, from *next on. Returns the
 * first helper's name (malloc) or NULL with a message in why. */
static char *helpers(fl_out *o, const char *domain, const char *list,
		     unsigned *next, char *why, size_t whylen)
{
	char first[300];
	snprintf(first, sizeof first, "_spf%u.%s", *next, domain);
	const char *s = list;
	while (*s) {
		char name[300], link[320];
		snprintf(name, sizeof name, "_spf%u.%s", *next, domain);
		snprintf(link, sizeof link, "include:_spf%u.%s", *next + 1,
			 domain);
		if (strlen(name) > 253) {
			snprintf(why, whylen, "helper name %s is too long",
				 cli_shown(name));
			return NULL;
		}
		(*next)++;
		char *b = NULL;
		size_t n = 0;
		if (!cat(&b, &n, "v=spf1"))
			goto oom;
		/* Room for the link to the next helper and " -all". */
		size_t room = FL_MAX_TEXT - strlen(link) - 6;
		while (*s) {
			size_t tl = strcspn(s, " ");
			if (n + 1 + tl > room)
				break;
			char t[80];
			snprintf(t, sizeof t, "%.*s", (int)tl, s);
			if (!cat(&b, &n, t))
				goto oom;
			s += tl;
			while (*s == ' ')
				s++;
		}
		if (*s && !cat(&b, &n, link))
			goto oom;
		/* §5.2: a helper gives pass for its addresses, else fail
		 * (no match for the includer). */
		if (!cat(&b, &n, "-all") || !add_rec(o, name, b))
			goto oom;
		continue;
	oom:
		free(b);
		o->oom = true;
		return NULL;
	}
	return strdup(first);
}

/* Lays the final policy out in records: DOMAIN's own first. Returns 0
 * or FL_EX_CANNOT with why set. */
static int layout(const fl_final *f, const fl_policy *p, const char *domain,
		  fl_out *o, char *why, size_t whylen)
{
	/* groups[i * 4 + q]: a segment's qualifier's terms. */
	size_t ng = f->n * 4;
	char **groups = calloc(ng ? ng : 1, sizeof *groups);
	bool *moved = calloc(ng ? ng : 1, sizeof *moved);
	int status = 0;
	if (!groups || !moved)
		goto oom;
	for (size_t i = 0; i < f->n; i++)
		for (int q = 0; q < 4; q++)
			if (!(groups[i * 4 + q] =
				  group_terms(&f->v[i], q, false)))
				goto oom;
	unsigned next = 1;
	for (;;) {
		char *top = NULL;
		size_t n = 0;
		if (!cat(&top, &n, "v=spf1"))
			goto oom;
		for (size_t i = 0; i < f->n; i++) {
			for (int q = 0; q < 4; q++)
				if (groups[i * 4 + q][0] &&
				    !cat(&top, &n, groups[i * 4 + q]))
					goto oom_top;
			const fl_item *k = f->v[i].kept;
			if (k && !cat_term(&top, &n, k->q, k->text))
				goto oom_top;
		}
		if (f->all) {
			char t[8] = {f->all, 'a', 'l', 'l', '\0'};
			if (!cat(&top, &n, f->all == '+' ? "+all" : t))
				goto oom_top;
		} else if (f->redirect && !cat(&top, &n, f->redirect->text)) {
			goto oom_top;
		}
		if (p->exp && !cat(&top, &n, p->exp))
			goto oom_top;
		if (n <= FL_MAX_TEXT) {
			/* DOMAIN's record goes first in the snippet. */
			if (!add_rec(o, domain, top))
				goto oom;
			if (o->n > 1) {
				fl_rec r = o->v[o->n - 1];
				memmove(o->v + 1, o->v,
					(o->n - 1) * sizeof *o->v);
				o->v[0] = r;
			}
			break;
		}
		/* Too long: the largest group not yet moved goes to helpers. */
		size_t best = ng, bl = 0;
		for (size_t g = 0; g < ng; g++)
			if (!moved[g] && strlen(groups[g]) > bl) {
				bl = strlen(groups[g]);
				best = g;
			}
		if (best == ng || bl < 40) {
			free(top);
			snprintf(
			    why, whylen,
			    "DOMAIN's record would be %zu octets even with "
			    "its addresses in helper records (at most %u)",
			    n, FL_MAX_TEXT);
			status = FL_EX_CANNOT;
			goto out;
		}
		free(top);
		char *plain =
		    group_terms(&f->v[best / 4], (int)(best % 4), true);
		if (!plain)
			goto oom;
		char *h = helpers(o, domain, plain, &next, why, whylen);
		free(plain);
		if (!h) {
			status = o->oom ? CLI_EX_SOFTWARE : FL_EX_CANNOT;
			goto out;
		}
		char *inc = NULL;
		size_t il = 0;
		char *ht = malloc(strlen(h) + 9);
		if (ht)
			snprintf(ht, strlen(h) + 9, "include:%s", h);
		free(h);
		if (!ht || !cat_term(&inc, &il, fl_quals[best % 4], ht)) {
			free(ht);
			free(inc);
			goto oom;
		}
		free(ht);
		free(groups[best]);
		groups[best] = inc;
		moved[best] = true;
		continue;
	oom_top:
		free(top);
		goto oom;
	}
	goto out;
oom:
	o->oom = true;
	status = CLI_EX_SOFTWARE;
	snprintf(why, whylen, "out of memory");
out:
	for (size_t g = 0; groups && g < ng; g++)
		free(groups[g]);
	free(groups);
	free(moved);
	return status;
}

/* ------------------------------------------------------------ output */

/* A TXT record's text as master-file character-strings of at most 255
 * octets each (RFC 1035 §5.1: \" \\ and \DDD escapes). */
static void put_txt(FILE *f, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n || i == 0; i += 255) {
		fputs(i ? " \"" : "\"", f);
		for (size_t j = i; j < n && j < i + 255; j++) {
			unsigned char c = (unsigned char)s[j];
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				fprintf(f, "\\%03u", c);
			else
				fputc(c, f);
		}
		fputc('"', f);
		if (n == 0)
			break;
	}
}

/* The snippet as a master file; with sources, the "; source" lines that
 * --check reads to name which include changed. */
static void put_zone(FILE *f, const fl_out *o, const fl_policy *p,
		     const char *domain, unsigned lookups, bool sources)
{
	fprintf(f, "; spfkit flatten %s: %zu record%s, %u DNS lookup%s\n",
		domain, o->n, o->n == 1 ? "" : "s", lookups,
		lookups == 1 ? "" : "s");
	for (size_t i = 0; i < o->n; i++) {
		fprintf(f, "%s. %u IN TXT ", o->v[i].name,
			p->have_ttl ? p->ttl : 3600u);
		put_txt(f, o->v[i].text);
		fputc('\n', f);
	}
	/* What --check flattens again: DNS publishes the snippet's record
	 * for DOMAIN once it is in place, no longer this one. */
	if (sources && p->record) {
		fputs(FL_ORIGINAL, f);
		put_txt(f, p->record);
		fputc('\n', f);
	}
	for (size_t i = 0; sources && i < p->nsrc; i++) {
		char *b = NULL;
		size_t n = 0;
		/* The name comes from DNS: escaped, so a comment stays one
		 * line. */
		if (fl_terms(&b, &n, "", &p->src[i].s4) &&
		    fl_terms(&b, &n, "", &p->src[i].s6)) {
			fputs("; source include:", f);
			cli_put_safe(f, p->src[i].name, strlen(p->src[i].name));
			fprintf(f, " %s\n", b ? b : "");
		}
		free(b);
	}
}

static void put_json(FILE *f, const fl_out *o, const fl_policy *p,
		     const fl_final *fin, const char *domain, unsigned lookups,
		     size_t points)
{
	cli_jw w;
	cli_jw_line(&w, f);
	cli_jw_kstr(&w, "domain", domain);
	cli_jw_kuint(&w, "ttl", p->have_ttl ? p->ttl : 3600u);
	cli_jw_kuint(&w, "lookups", lookups);
	cli_jw_key(&w, "records");
	cli_jw_arr(&w);
	for (size_t i = 0; i < o->n; i++) {
		cli_jw_obj(&w);
		cli_jw_kstr(&w, "name", o->v[i].name);
		cli_jw_kstr(&w, "text", o->v[i].text);
		cli_jw_obj_end(&w);
	}
	cli_jw_arr_end(&w);
	cli_jw_kstr(&w, "original", p->record);
	cli_jw_key(&w, "kept");
	cli_jw_arr(&w);
	for (size_t i = 0; i < fin->n; i++)
		if (fin->v[i].kept)
			cli_jw_str(&w, fin->v[i].kept->text);
	if (fin->redirect)
		cli_jw_str(&w, fin->redirect->text);
	cli_jw_arr_end(&w);
	cli_jw_key(&w, "sources");
	cli_jw_arr(&w);
	for (size_t i = 0; i < p->nsrc; i++) {
		char *b = NULL;
		size_t n = 0;
		cli_jw_obj(&w);
		cli_jw_kstr(&w, "include", p->src[i].name);
		if (fl_terms(&b, &n, "", &p->src[i].s4) &&
		    fl_terms(&b, &n, "", &p->src[i].s6))
			cli_jw_kstr(&w, "terms", b ? b : "");
		free(b);
		cli_jw_obj_end(&w);
	}
	cli_jw_arr_end(&w);
	cli_jw_kuint(&w, "proof_addresses", points);
	cli_jw_line_end(&w);
}

/* ------------------------------------------------------------ proof */

typedef struct fl_point {
	unsigned bits;
	fl_u128 a;
} fl_point;

typedef struct fl_points {
	fl_point *v;
	size_t n, cap;
	bool oom;
} fl_points;

static void add_point(fl_points *ps, unsigned bits, fl_u128 a)
{
	if (ps->n >= FL_MAX_POINTS ||
	    !cli_grow(&ps->v, &ps->cap, ps->n, sizeof *ps->v, &ps->oom))
		return;
	ps->v[ps->n].bits = bits;
	ps->v[ps->n].a = a;
	ps->n++;
}

void fl_bounds(const fl_set *s, void (*add)(void *, unsigned, fl_u128),
	       void *ud)
{
	fl_u128 zero = {0, 0}, max = fl_max(s->bits);
	for (size_t i = 0; i < s->n; i++) {
		add(ud, s->bits, s->v[i].lo);
		add(ud, s->bits, s->v[i].hi);
		if (fl_cmp(s->v[i].lo, zero) > 0)
			add(ud, s->bits, fl_sub1(s->v[i].lo));
		if (fl_cmp(s->v[i].hi, max) < 0)
			add(ud, s->bits, fl_add1(s->v[i].hi));
	}
}

static void add_point_cb(void *ud, unsigned bits, fl_u128 a)
{
	add_point(ud, bits, a);
}

/* first, last, first - 1 and last + 1 of every range of s. */
static void set_points(fl_points *ps, const fl_set *s)
{
	fl_bounds(s, add_point_cb, ps);
}

static int point_cmp(const void *x, const void *y)
{
	const fl_point *a = x, *b = y;
	if (a->bits != b->bits)
		return a->bits < b->bits ? -1 : 1;
	return fl_cmp(a->a, b->a);
}

/* Addresses outside every range, of both families (documentation,
 * private, well-known and the ends of the space). */
static const char *const samples[] = {
    "0.0.0.0",
    "1.1.1.1",
    "8.8.8.8",
    "10.0.0.1",
    "127.0.0.1",
    "192.0.2.1",
    "198.51.100.77",
    "203.0.113.200",
    "255.255.255.255",
    "::",
    "::1",
    "2001:db8::1",
    "2001:4860:4860::8888",
    "fe80::1",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};

/* The result of checking ip with sender postmaster@domain. */
static int check_one(cli_dns *d, const spfkit_config *cfg, const char *domain,
		     const char *ip, spfkit_result *res)
{
	spfkit_check *chk = NULL;
	char sender[300];
	snprintf(sender, sizeof sender, "postmaster@%s", domain);
	int rc = spfkit_check_new(&chk, cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_ip(chk, ip);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_sender(chk, sender, strlen(sender));
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(d, chk);
	if (rc == SPFKIT_OK)
		*res = spfkit_check_result(chk);
	spfkit_check_free(chk);
	return rc;
}

/* The lookups a walk of the published form counts (§4.6.4). */
static int walk_lookups(cli_dns *d, const spfkit_config *cfg,
			const char *domain, unsigned *lookups,
			spfkit_result *res)
{
	spfkit_check *chk = NULL;
	char sender[300];
	snprintf(sender, sizeof sender, "postmaster@%s", domain);
	int rc = spfkit_check_new(&chk, cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_ip(chk, "192.0.2.1");
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_sender(chk, sender, strlen(sender));
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_walk(chk, 1);
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(d, chk);
	if (rc == SPFKIT_OK) {
		*lookups = spfkit_check_lookups(chk);
		*res = spfkit_check_result(chk);
	}
	spfkit_check_free(chk);
	return rc;
}

/* Writes the snippet to a temporary master file; its path in path. */
static int snippet_file(const fl_out *o, const fl_policy *p, const char *domain,
			char *path, size_t cap)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, cap, "%s/spfkit-flatten-XXXXXX",
		 dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return cli_say(FL_PROG, CLI_EX_SOFTWARE, "temporary file: %s",
			       strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return cli_say(FL_PROG, CLI_EX_SOFTWARE, "temporary file: %s",
			       strerror(errno));
	}
	put_zone(f, o, p, domain, 0, false);
	if (fclose(f) != 0) {
		unlink(path);
		return cli_say(FL_PROG, CLI_EX_SOFTWARE, "temporary file: %s",
			       strerror(errno));
	}
	return 0;
}

/* The proof: the snippet laid over the same DNS, both policies checked
 * on every point, the original with the lookup limit lifted. Returns 0
 * with *lookups and *npoints, or an exit status after one line. */
static int prove(const cli_dns_opts *dns, const char *domain, const fl_out *o,
		 const fl_policy *p, const fl_final *fin, unsigned *lookups,
		 size_t *npoints)
{
	char path[4096];
	int status = snippet_file(o, p, domain, path, sizeof path);
	if (status)
		return status;
	cli_dns_opts over;
	const char **zones = fl_overlay(dns, path, &over);
	spfkit_config *cfg0 = NULL, *cfg1 = NULL;
	cli_dns *d0 = NULL, *d1 = NULL;
	fl_points ps = {0};
	if (!zones) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
		goto out;
	}
	int rc = spfkit_config_new(&cfg0, NULL);
	if (rc == SPFKIT_OK)
		rc = spfkit_config_new(&cfg1, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(dns, cfg0);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(dns, cfg1);
	if (rc == SPFKIT_OK)
		rc =
		    spfkit_config_set_limit(cfg0, SPFKIT_LIMIT_DNS_TERMS, 1000);
	if (rc < 0) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "%s",
				 spfkit_strerror(rc));
		goto out;
	}
	status = cli_dns_open(dns, cfg0, FL_PROG, &d0);
	if (status == 0)
		status = cli_dns_open(&over, cfg1, FL_PROG, &d1);
	if (status)
		goto out;
	spfkit_result wres = SPFKIT_RESULT_NONE;
	rc = walk_lookups(d1, cfg1, domain, lookups, &wres);
	if (rc < 0) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "%s",
				 spfkit_strerror(rc));
		goto out;
	}
	if (*lookups > 10) {
		status = cli_say(FL_PROG, FL_EX_CANNOT,
				 "cannot flatten %s: the terms that must stay "
				 "need %u DNS lookups, over the 10 of RFC 7208 "
				 "4.6.4",
				 domain, *lookups);
		goto out;
	}
	set_points(&ps, &p->seen4);
	set_points(&ps, &p->seen6);
	for (size_t i = 0; i < fin->n; i++)
		for (int q = 0; q < 4; q++) {
			set_points(&ps, &fin->v[i].s4[q]);
			set_points(&ps, &fin->v[i].s6[q]);
		}
	for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
		unsigned char b[16];
		fl_set s;
		bool v4 = strchr(samples[i], ':') == NULL;
		fl_set_init(&s, v4 ? 32 : 128);
		if (inet_pton(v4 ? AF_INET : AF_INET6, samples[i], b) == 1)
			fl_set_add_block(&s, b, v4 ? 32 : 128);
		if (s.n)
			add_point(&ps, s.bits, s.v[0].lo);
		fl_set_free(&s);
	}
	if (ps.oom) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
		goto out;
	}
	qsort(ps.v, ps.n, sizeof *ps.v, point_cmp);
	size_t checked = 0;
	for (size_t i = 0; i < ps.n; i++) {
		if (i && point_cmp(&ps.v[i], &ps.v[i - 1]) == 0)
			continue;
		char ip[64];
		fl_addr_text(ip, sizeof ip, ps.v[i].bits, ps.v[i].a);
		spfkit_result r0 = SPFKIT_RESULT_NONE, r1 = SPFKIT_RESULT_NONE;
		rc = check_one(d0, cfg0, domain, ip, &r0);
		if (rc == SPFKIT_OK)
			rc = check_one(d1, cfg1, domain, ip, &r1);
		if (rc < 0) {
			status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "%s",
					 spfkit_strerror(rc));
			goto out;
		}
		checked++;
		if (r0 != r1) {
			status = cli_say(FL_PROG, FL_EX_CANNOT,
					 "cannot flatten %s safely: for %s the "
					 "original gives %s, the flattened %s",
					 domain, ip, spfkit_result_name(r0),
					 spfkit_result_name(r1));
			goto out;
		}
	}
	*npoints = checked;
out:
	unlink(path);
	free(zones);
	free(ps.v);
	cli_dns_close(d0);
	cli_dns_close(d1);
	spfkit_config_free(cfg0);
	spfkit_config_free(cfg1);
	return status;
}

/* ------------------------------------------------------------ main */

enum { OPT_FORMAT = CLI_OPT_FIRST, OPT_KEEP, OPT_CHECK };

static const struct option longopts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    CLI_DNS_LONGOPTS,
    {"keep", required_argument, NULL, OPT_KEEP},
    {"check", required_argument, NULL, OPT_CHECK},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

typedef struct fl_opts {
	const cli_args *a;
	const char *format, *check;
	char *keepbuf;
	const char **keep;
	size_t nkeep;
} fl_opts;

/* Splits the --keep list into names (keep points into keepbuf). */
static int take_keep(fl_opts *o, const char *arg)
{
	size_t cnt = 1;
	for (const char *s = arg; *s; s++)
		cnt += *s == ',';
	o->keepbuf = strdup(arg);
	o->keep = calloc(cnt, sizeof *o->keep);
	if (!o->keepbuf || !o->keep)
		return cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
	for (char *s = o->keepbuf;;) {
		size_t n = strcspn(s, ",");
		if (n == 0)
			return cli_usage(FL_PROG,
					 "--keep: an empty name in '%s'",
					 cli_shown(arg));
		o->keep[o->nkeep++] = s;
		if (!s[n])
			break;
		s[n] = '\0';
		s += n + 1;
	}
	return 0;
}

static int take(int c, void *ud)
{
	fl_opts *o = ud;
	int status = 0;
	switch (c) {
	case 'h': cli_flatten_help(stdout); return -1;
	case OPT_FORMAT: return fl_format(o->a, &o->format, c, "zone");
	case OPT_CHECK:
		cli_set_nonempty(o->a, &o->check, optarg, c, &status);
		return status;
	case OPT_KEEP:
		if (o->nkeep)
			return cli_usage(FL_PROG, "--keep given twice (give "
						  "one comma-separated list)");
		return take_keep(o, optarg);
	default: return cli_usage(FL_PROG, "unexpected option");
	}
}

int fl_format(const cli_args *a, const char **dst, int c, const char *other)
{
	int status = 0;
	if (!cli_set_once(a, dst, optarg, c, &status))
		return status;
	if (strcmp(optarg, other) && strcmp(optarg, "json"))
		return cli_usage(a->prog, "--format: '%s' is not %s or json",
				 cli_shown(optarg), other);
	return 0;
}

int fl_operand(const cli_args *a, int argc, char **argv,
	       const cli_dns_opts *dns, const char **domain)
{
	if (optind != argc - 1)
		return cli_usage(a->prog,
				 "give one DOMAIN (try 'spfkit help "
				 "%s')",
				 a->cmd);
	*domain = argv[optind];
	size_t dl = strlen(*domain);
	if (dl == 0 || dl > 253 || **domain == '.' ||
	    strspn(*domain,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-_.") != dl)
		return cli_usage(a->prog, "'%s' is not a domain name",
				 cli_shown(*domain));
	const char *problem = cli_dns_opts_problem(dns);
	if (problem)
		return cli_usage(a->prog, "%s", problem);
	return 0;
}

int cli_flatten_main(int argc, char **argv)
{
	cli_args a = {FL_PROG, "flatten", longopts};
	fl_opts o = {.a = &a};
	cli_dns_opts dns;
	if (!cli_dns_opts_init(&dns, argc))
		return cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
	int status = cli_parse(&a, argc, argv, &dns, NULL, take, &o);
	fl_policy p = {0};
	fl_final fin = {0};
	fl_out out = {0};
	if (status) {
		status = status < 0 ? 0 : status;
		goto done;
	}
	const char *domain = NULL;
	status = fl_operand(&a, argc, argv, &dns, &domain);
	if (status)
		goto done;
	if (o.check) {
		if (o.format) {
			status = cli_usage(
			    FL_PROG, "--format does not apply to --check");
			goto done;
		}
		status = fl_check(&dns, domain, o.keep, o.nkeep, o.check);
		goto done;
	}
	status = fl_build(FL_PROG, &dns, domain, NULL, o.keep, o.nkeep, &p);
	if (status)
		goto done;
	if (p.problem) {
		status = cli_say(FL_PROG, FL_EX_CANNOT, "cannot flatten %s: %s",
				 domain, cli_shown(p.problem));
		goto done;
	}
	fl_finalize(&p.items, &fin);
	if (fin.oom) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
		goto done;
	}
	char why[512] = "";
	status = layout(&fin, &p, domain, &out, why, sizeof why);
	if (status) {
		cli_say(FL_PROG, status, "cannot flatten %s: %s", domain, why);
		goto done;
	}
	unsigned lookups = 0;
	size_t points = 0;
	status = prove(&dns, domain, &out, &p, &fin, &lookups, &points);
	if (status)
		goto done;
	if (o.format && strcmp(o.format, "json") == 0)
		put_json(stdout, &out, &p, &fin, domain, lookups, points);
	else
		put_zone(stdout, &out, &p, domain, lookups, true);
	if (fflush(stdout) != 0 || ferror(stdout))
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "write error");
done:
	out_free(&out);
	fl_final_free(&fin);
	fl_policy_free(&p);
	free(o.keep);
	free(o.keepbuf);
	cli_dns_opts_free(&dns);
	return status;
}
