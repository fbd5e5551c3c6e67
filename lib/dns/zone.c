/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone.c - the in-memory DNS zone: the driver that answers the evaluator
 * from RFC 1035 master files (parsed by ldns) and from records added one
 * by one (the spfkit command's reader of openspf YAML zonedata uses
 * spfkit_zone_add and spfkit_zone_mark), for tests, drafts and offline
 * use. It knows DNS names, types and wire RDATA, never SPF grammar.
 *
 * Storage is a chained hash table of names (lower-case, no trailing dot).
 * Each name holds its records sorted by type, so the records of one type
 * are a contiguous run that answers a query without copying. Ancestors of
 * every name are kept as nodes too, so an empty non-terminal answers NODATA
 * rather than NXDOMAIN (RFC 8020). The marks of spfkit_zone_mark carry
 * the suite driver's reading of TIMEOUT and NONE. Loading a file goes
 * into a staging zone that is merged only once the whole file parsed: a
 * failed load leaves the zone as it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>

#include "zone.h"

/* RFC 1035 §3.2.1: RDLENGTH is 16 bits. */
#define RDATA_MAX 65535u
/* RFC 1035 §2.3.4: a name is at most 255 octets in wire form, labels 63. */
#define WIRE_NAME_MAX 255u
#define LABEL_MAX     63u

typedef struct znode {
	struct znode *next; /* hash chain */
	spfkit_rr *rrs;     /* sorted by type; file order within a type */
	size_t nrr, cap;
	size_t hash;
	bool timeout; /* every query for the name gets TEMPFAIL */
	bool below;   /* a name under this one has records */
	bool exists;  /* SPFKIT_ZONE_EXISTS: there even without records */
	bool timeout_others; /* SPFKIT_ZONE_TIMEOUT_OTHERS: other types fail */
	bool no_spf_txt;     /* SPFKIT_ZONE_NO_SPF_AS_TXT */
	size_t len;
	char name[]; /* lower-case, no trailing dot, NUL terminated */
} znode;

struct spfkit_zone {
	const spfkit__alloc *a;
	znode **tab;
	size_t nbuckets; /* a power of two, or 0 before the first name */
	size_t nnodes;   /* every node, empty non-terminals included */
	size_t nnames;   /* nodes that hold records */
	size_t nrecords;
	size_t nwild; /* nodes whose first label is "*" (RFC 4592) */
};

/* ---------------------------------------------------------------- errors */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (r < 0)
		err[0] = '\0';
	/* One line: names and values from a file may hold any octet. */
	for (char *p = err; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			*p = '?';
	}
}

/* ---------------------------------------------------------------- names */

/* Drops one trailing dot ("example.com." is "example.com"; "." is ""). */
static size_t name_len(const char *s, size_t n)
{
	return (n && s[n - 1] == '.') ? n - 1 : n;
}

/* FNV-1a over the lower-cased octets. */
static size_t name_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < n; i++) {
		h ^= spfkit__lower((unsigned char)s[i]);
		h *= 1099511628211u;
	}
	return (size_t)(h ^ (h >> 32));
}

static znode *find(const spfkit_zone *z, const char *s, size_t n)
{
	if (z->nbuckets == 0)
		return NULL;
	size_t h = name_hash(s, n);
	for (znode *nd = z->tab[h & (z->nbuckets - 1)]; nd; nd = nd->next) {
		if (nd->hash != h || nd->len != n)
			continue;
		size_t i = 0;
		while (i < n && spfkit__lower((unsigned char)s[i]) ==
				    (unsigned char)nd->name[i])
			i++;
		if (i == n)
			return nd;
	}
	return NULL;
}

/* Keeps the load factor at most 1 so lookups stay O(1) in big zones. */
static int grow(spfkit_zone *z)
{
	if (z->nnodes < z->nbuckets)
		return SPFKIT_OK;
	size_t nb = z->nbuckets ? z->nbuckets * 2 : 64;
	if (nb < z->nbuckets)
		return SPFKIT_ENOMEM;
	znode **tab = spfkit__calloc(z->a, nb, sizeof *tab);
	if (!tab)
		return SPFKIT_ENOMEM;
	for (size_t i = 0; i < z->nbuckets; i++) {
		znode *nd = z->tab[i];
		while (nd) {
			znode *next = nd->next;
			nd->next = tab[nd->hash & (nb - 1)];
			tab[nd->hash & (nb - 1)] = nd;
			nd = next;
		}
	}
	spfkit__free(z->a, z->tab);
	z->tab = tab;
	z->nbuckets = nb;
	return SPFKIT_OK;
}

/* Creates the node for (s, n), which must not exist yet. */
static znode *create(spfkit_zone *z, const char *s, size_t n)
{
	if (n > SIZE_MAX - sizeof(znode) - 1 || grow(z))
		return NULL;
	znode *nd = spfkit__malloc(z->a, sizeof(znode) + n + 1);
	if (!nd)
		return NULL;
	memset(nd, 0, sizeof *nd);
	for (size_t i = 0; i < n; i++)
		nd->name[i] = (char)spfkit__lower((unsigned char)s[i]);
	nd->name[n] = '\0';
	nd->len = n;
	nd->hash = name_hash(s, n);
	size_t b = nd->hash & (z->nbuckets - 1);
	nd->next = z->tab[b];
	z->tab[b] = nd;
	z->nnodes++;
	if (n && s[0] == '*' && (n == 1 || s[1] == '.'))
		z->nwild++;
	return nd;
}

/* Offset of the parent name of (s, n) at offset off, or n when none. */
static size_t parent_off(const char *s, size_t n, size_t off)
{
	const char *d = memchr(s + off, '.', n - off);
	return d ? (size_t)(d - s) + 1 : n;
}

/* Finds or creates the node for (s, n) and every ancestor, topmost first,
 * so that "a node exists" always implies "its ancestors exist" even when
 * an allocation fails half-way. Empty nodes answer like absent ones. */
static znode *ensure(spfkit_zone *z, const char *s, size_t n)
{
	znode *nd = find(z, s, n);
	if (nd)
		return nd;
	/* The topmost missing suffix. */
	size_t top = 0;
	for (size_t off = parent_off(s, n, 0); off < n;
	     off = parent_off(s, n, off)) {
		if (find(z, s + off, n - off))
			break;
		top = off;
	}
	for (size_t off = top;;) {
		nd = create(z, s + off, n - off);
		if (!nd)
			return NULL;
		if (off == 0)
			return nd;
		/* Down one label: s[off - 1] is the dot before this suffix. */
		size_t k = off - 1;
		while (k > 0 && s[k - 1] != '.')
			k--;
		off = k;
	}
}

/* Marks the ancestors of (s, n) as having records below them. */
static void mark_below(spfkit_zone *z, const char *s, size_t n)
{
	for (size_t off = parent_off(s, n, 0); off < n;
	     off = parent_off(s, n, off)) {
		znode *nd = find(z, s + off, n - off);
		if (!nd || nd->below)
			return; /* its ancestors are marked already */
		nd->below = true;
	}
}

static int reserve(spfkit_zone *z, znode *nd, size_t extra)
{
	if (extra > SIZE_MAX / sizeof(spfkit_rr) - nd->nrr)
		return SPFKIT_ENOMEM;
	size_t need = nd->nrr + extra;
	if (need <= nd->cap)
		return SPFKIT_OK;
	size_t cap = nd->cap ? nd->cap * 2 : 2;
	if (cap < need)
		cap = need;
	spfkit_rr *rrs = spfkit__realloc(z->a, nd->rrs, cap * sizeof *rrs);
	if (!rrs)
		return SPFKIT_ENOMEM;
	nd->rrs = rrs;
	nd->cap = cap;
	return SPFKIT_OK;
}

/* Are the RDATA of two records of type equal? Names in MX, PTR, CNAME
 * and NS RDATA compare case aside (RFC 4343), the rest octet by octet. */
static bool same_rdata(uint16_t type, const spfkit_rr *a, const spfkit_rr *b)
{
	if (a->rdlen != b->rdlen)
		return false;
	if (a->rdlen && memcmp(a->rdata, b->rdata, a->rdlen) == 0)
		return true;
	if (type != SPFKIT_TYPE_MX && type != SPFKIT_TYPE_PTR &&
	    type != SPFKIT_TYPE_CNAME && type != 2 /* NS */)
		return a->rdlen == 0;
	for (size_t i = 0; i < a->rdlen; i++)
		if (spfkit__lower(a->rdata[i]) != spfkit__lower(b->rdata[i]))
			return false;
	return true;
}

/* Does nd already hold a record equal to rr? RFC 2181 §5: the records of
 * an RRset are distinct; a server loading the same record twice (in one
 * file or two) serves it once. */
static bool holds(const znode *nd, const spfkit_rr *rr)
{
	for (size_t i = 0; i < nd->nrr; i++)
		if (nd->rrs[i].type == rr->type &&
		    same_rdata(rr->type, &nd->rrs[i], rr))
			return true;
	return false;
}

/* Inserts rr (room reserved) after the records of its type and below;
 * a record nd holds already is dropped (its rdata freed). */
static void insert_rr(spfkit_zone *z, znode *nd, spfkit_rr rr)
{
	if (holds(nd, &rr)) {
		spfkit__free(z->a, (void *)rr.rdata);
		return;
	}
	size_t pos = nd->nrr;
	while (pos > 0 && nd->rrs[pos - 1].type > rr.type)
		pos--;
	memmove(nd->rrs + pos + 1, nd->rrs + pos,
		(nd->nrr - pos) * sizeof *nd->rrs);
	nd->rrs[pos] = rr;
	if (nd->nrr++ == 0)
		z->nnames++;
	z->nrecords++;
}

/* The run of records of type in nd, or NULL with *n == 0. */
static const spfkit_rr *run_of(const znode *nd, uint16_t type, size_t *n)
{
	size_t i = 0;
	while (i < nd->nrr && nd->rrs[i].type < type)
		i++;
	size_t j = i;
	while (j < nd->nrr && nd->rrs[j].type == type)
		j++;
	*n = j - i;
	return *n ? nd->rrs + i : NULL;
}

/* RFC 1035 §3.1 wire name (uncompressed) to dotted text without the
 * trailing dot; the root is "". out holds WIRE_NAME_MAX octets. */
static bool wire_to_name(const unsigned char *p, size_t n, char *out,
			 size_t *outlen)
{
	size_t i = 0, o = 0;
	for (;;) {
		if (i >= n || i >= WIRE_NAME_MAX)
			return false;
		size_t l = p[i++];
		if (l == 0)
			break;
		if (l > LABEL_MAX || l > n - i || i + l >= WIRE_NAME_MAX)
			return false;
		if (o)
			out[o++] = '.';
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	out[o] = '\0';
	*outlen = o;
	return true;
}

/* ---------------------------------------------------------------- zone */

static void zone_init(spfkit_zone *z, const spfkit__alloc *a)
{
	memset(z, 0, sizeof *z);
	z->a = a;
}

static void zone_clear(spfkit_zone *z)
{
	for (size_t i = 0; i < z->nbuckets; i++) {
		znode *nd = z->tab[i];
		while (nd) {
			znode *next = nd->next;
			for (size_t k = 0; k < nd->nrr; k++)
				spfkit__free(z->a, (void *)nd->rrs[k].rdata);
			spfkit__free(z->a, nd->rrs);
			spfkit__free(z->a, nd);
			nd = next;
		}
	}
	spfkit__free(z->a, z->tab);
	zone_init(z, z->a);
}

int spfkit_zone_new(spfkit_zone **out, const spfkit_config *cfg)
{
	if (!out)
		return SPFKIT_EINVAL;
	*out = NULL;
	const spfkit__alloc *a = spfkit__config_alloc(cfg);
	if (!a)
		return SPFKIT_EINVAL;
	spfkit_zone *z = spfkit__malloc(a, sizeof *z);
	if (!z)
		return SPFKIT_ENOMEM;
	zone_init(z, a);
	*out = z;
	return SPFKIT_OK;
}

void spfkit_zone_free(spfkit_zone *zone)
{
	if (!zone)
		return;
	zone_clear(zone);
	spfkit__free(zone->a, zone);
}

size_t spfkit__zone_count_names(const spfkit_zone *zone)
{
	return zone ? zone->nnames : 0;
}

size_t spfkit__zone_count_records(const spfkit_zone *zone)
{
	return zone ? zone->nrecords : 0;
}

/* Adds a record whose rdata (allocated with z->a, never NULL) the zone
 * takes over, also on failure. */
static int add_owned(spfkit_zone *z, const char *name, size_t n, uint16_t type,
		     uint32_t ttl, unsigned char *rdata, size_t rdlen)
{
	n = name_len(name, n);
	znode *nd = ensure(z, name, n);
	if (!nd || reserve(z, nd, 1)) {
		spfkit__free(z->a, rdata);
		return SPFKIT_ENOMEM;
	}
	spfkit_rr rr = {type, ttl, rdata, rdlen};
	insert_rr(z, nd, rr);
	mark_below(z, name, n);
	return SPFKIT_OK;
}

/* Adds a record with a copy of (rdata, rdlen). */
static int add_copy(spfkit_zone *z, const char *name, size_t n, uint16_t type,
		    uint32_t ttl, const unsigned char *rdata, size_t rdlen)
{
	if (rdlen > RDATA_MAX)
		return SPFKIT_ETOOBIG;
	unsigned char *copy = spfkit__malloc(z->a, rdlen);
	if (!copy)
		return SPFKIT_ENOMEM;
	if (rdlen)
		memcpy(copy, rdata, rdlen);
	return add_owned(z, name, n, type, ttl, copy, rdlen);
}

int spfkit_zone_add(spfkit_zone *zone, const char *name, uint16_t type,
		    uint32_t ttl, const unsigned char *rdata, size_t rdlen)
{
	if (!zone || !name || (!rdata && rdlen))
		return SPFKIT_EINVAL;
	return add_copy(zone, name, strlen(name), type, ttl, rdata, rdlen);
}

int spfkit_zone_add_timeout(spfkit_zone *zone, const char *name)
{
	return spfkit_zone_mark(zone, name, SPFKIT_ZONE_TIMEOUT);
}

int spfkit_zone_mark(spfkit_zone *zone, const char *name, unsigned marks)
{
	const unsigned all = SPFKIT_ZONE_EXISTS | SPFKIT_ZONE_TIMEOUT |
			     SPFKIT_ZONE_TIMEOUT_OTHERS |
			     SPFKIT_ZONE_NO_SPF_AS_TXT;
	if (!zone || !name || (marks & ~all))
		return SPFKIT_EINVAL;
	size_t n = name_len(name, strlen(name));
	znode *nd = ensure(zone, name, n);
	if (!nd)
		return SPFKIT_ENOMEM;
	nd->timeout |= (marks & SPFKIT_ZONE_TIMEOUT) != 0;
	nd->timeout_others |= (marks & SPFKIT_ZONE_TIMEOUT_OTHERS) != 0;
	nd->no_spf_txt |= (marks & SPFKIT_ZONE_NO_SPF_AS_TXT) != 0;
	if (marks & SPFKIT_ZONE_EXISTS) {
		nd->exists = true;
		mark_below(zone, name, n);
	}
	return SPFKIT_OK;
}

/* Drops nd's records of type (a later file replaces them). */
static void drop_type(spfkit_zone *z, znode *nd, uint16_t type)
{
	size_t n, i = 0;
	if (!run_of(nd, type, &n))
		return;
	while (nd->rrs[i].type != type)
		i++;
	for (size_t k = i; k < i + n; k++)
		spfkit__free(z->a, (void *)nd->rrs[k].rdata);
	memmove(nd->rrs + i, nd->rrs + i + n,
		(nd->nrr - i - n) * sizeof *nd->rrs);
	nd->nrr -= n;
	z->nrecords -= n;
	if (nd->nrr == 0)
		z->nnames--;
}

/* Moves everything of src into dst, all or nothing: the first pass makes
 * every node and the room for every record (leftovers of a failure are
 * empty nodes, which answer like absent ones), the second cannot fail.
 * With replace, src's records of a name and type take the place of dst's
 * (spfkit_zone_overlay); either way a record dst holds already is one. */
static int move_zone(spfkit_zone *dst, spfkit_zone *src, bool replace)
{
	if (!dst || !src)
		return SPFKIT_EINVAL;
	if (dst->nnodes == 0) {
		spfkit_zone tmp = *dst;
		*dst = *src;
		*src = tmp;
		return SPFKIT_OK;
	}
	for (size_t i = 0; i < src->nbuckets; i++)
		for (znode *s = src->tab[i]; s; s = s->next) {
			znode *d = ensure(dst, s->name, s->len);
			if (!d || reserve(dst, d, s->nrr))
				return SPFKIT_ENOMEM;
		}
	for (size_t i = 0; i < src->nbuckets; i++)
		for (znode *s = src->tab[i]; s; s = s->next) {
			znode *d = find(dst, s->name, s->len);
			for (size_t k = 0; replace && k < s->nrr; k++)
				if (k == 0 ||
				    s->rrs[k].type != s->rrs[k - 1].type)
					drop_type(dst, d, s->rrs[k].type);
			for (size_t k = 0; k < s->nrr; k++)
				insert_rr(dst, d, s->rrs[k]);
			/* src holds the ancestors of its names, so its own
			 * flags carry every mark the moved records need. */
			d->timeout |= s->timeout;
			d->below |= s->below;
			d->exists |= s->exists;
			d->timeout_others |= s->timeout_others;
			d->no_spf_txt |= s->no_spf_txt;
			s->nrr = 0;
		}
	zone_clear(src); /* its records are dst's now */
	return SPFKIT_OK;
}

int spfkit_zone_merge(spfkit_zone *dst, spfkit_zone *src)
{
	return move_zone(dst, src, false);
}

int spfkit_zone_overlay(spfkit_zone *dst, spfkit_zone *src)
{
	return move_zone(dst, src, true);
}

/* ---------------------------------------------------------------- lookup */

/* Does the node's name exist (RFC 8020: records, names below it, or an
 * EXISTS mark)? An emptied node left by a failed merge does not. */
static bool there(const znode *nd)
{
	return nd && (nd->nrr || nd->below || nd->exists || nd->timeout);
}

/* RFC 4592 §3.3.1: a name that does not exist is answered from the
 * wildcard "*.<closest encloser>" when there is one, the closest encloser
 * being its nearest ancestor that exists (an empty non-terminal counts,
 * so a wildcard never answers for names under an existing name's
 * children). NULL when no wildcard applies. */
static const znode *wildcard(const spfkit_zone *z, const char *s, size_t n)
{
	if (z->nwild == 0)
		return NULL;
	char w[WIRE_NAME_MAX + 3];
	for (size_t off = parent_off(s, n, 0);; off = parent_off(s, n, off)) {
		const znode *enc = off < n ? find(z, s + off, n - off) : NULL;
		if (off < n && !there(enc))
			continue;
		/* The closest encloser: s + off (the root when off == n). */
		size_t m = n - off;
		if (m + 2 > sizeof w)
			return NULL;
		w[0] = '*';
		if (m) {
			w[1] = '.';
			memcpy(w + 2, s + off, m);
		}
		const znode *wn = find(z, w, m ? m + 2 : 1);
		return there(wn) ? wn : NULL;
	}
}

/* A failed lookup (TEMPFAIL) and why; returns SPFKIT_OK. */
static int failed(spfkit__zone_answer *ans, spfkit_dns_failure why)
{
	ans->status = SPFKIT_DNS_TEMPFAIL;
	ans->failure = why;
	return SPFKIT_OK;
}

int spfkit__zone_lookup(const spfkit_zone *zone, const char *name,
			uint16_t type, spfkit__zone_answer *ans)
{
	if (!ans)
		return SPFKIT_EINVAL;
	memset(ans, 0, sizeof *ans);
	if (!zone || !name)
		return SPFKIT_EINVAL;
	char target[WIRE_NAME_MAX + 1];
	const char *s = name;
	size_t n = name_len(name, strlen(name));
	for (;;) {
		const znode *nd = find(zone, s, n);
		if (!there(nd))
			nd = wildcard(zone, s, n);
		if (!nd) {
			ans->status = SPFKIT_DNS_NXDOMAIN;
			return SPFKIT_OK;
		}
		if (nd->timeout)
			return failed(ans, SPFKIT_DNS_FAIL_TIMEOUT);
		ans->status = SPFKIT_DNS_NOERROR;
		size_t cnt;
		const spfkit_rr *run = run_of(nd, type, &cnt);
		if (cnt) {
			ans->rrs = run;
			ans->n = cnt;
			return SPFKIT_OK;
		}
		if (nd->timeout_others) {
			/* openspf zonedata: only the types listed before
			 * TIMEOUT answer; the rest, CNAME chasing and SPF
			 * standing in for TXT included, time out. */
			return failed(ans, SPFKIT_DNS_FAIL_TIMEOUT);
		}
		if (type == SPFKIT_TYPE_TXT && !nd->no_spf_txt) {
			/* The suite's rule (rfc7208-tests.yml, "Selecting
			 * records"): SPF (type 99) records stand in for TXT at
			 * a name that has no TXT records. */
			run = run_of(nd, SPFKIT__TYPE_SPF, &cnt);
			if (cnt) {
				spfkit_rr *copy =
				    spfkit__calloc(zone->a, cnt, sizeof *copy);
				if (!copy) {
					memset(ans, 0, sizeof *ans);
					return SPFKIT_ENOMEM;
				}
				for (size_t i = 0; i < cnt; i++) {
					copy[i] = run[i];
					copy[i].type = SPFKIT_TYPE_TXT;
				}
				ans->owned = copy;
				ans->rrs = copy;
				ans->n = cnt;
				return SPFKIT_OK;
			}
		}
		if (type != SPFKIT_TYPE_CNAME) {
			run = run_of(nd, SPFKIT_TYPE_CNAME, &cnt);
			if (cnt) {
				/* RFC 1034 §3.6.2: follow the alias; a loop
				 * or an over-long chain is a server failure. */
				if (ans->cnames >= SPFKIT__ZONE_MAX_CNAME ||
				    !wire_to_name(run[0].rdata, run[0].rdlen,
						  target, &n))
					return failed(
					    ans, SPFKIT_DNS_FAIL_BAD_ANSWER);
				ans->cnames++;
				s = target;
				continue;
			}
		}
		/* RFC 8020: a name with nothing of this type, or with
		 * nothing at all but names below it, exists: NODATA. */
		if (nd->nrr == 0 && !nd->below && !nd->exists)
			ans->status = SPFKIT_DNS_NXDOMAIN;
		return SPFKIT_OK;
	}
}

void spfkit__zone_answer_free(const spfkit_zone *zone, spfkit__zone_answer *ans)
{
	if (!ans)
		return;
	if (zone && ans->owned)
		spfkit__free(zone->a, ans->owned);
	memset(ans, 0, sizeof *ans);
}

int spfkit_zone_answer(const spfkit_zone *zone, spfkit_check *chk)
{
	if (!zone || !chk)
		return SPFKIT_EINVAL;
	size_t n = spfkit_check_pending(chk);
	if (n == 0)
		return SPFKIT_OK;
	/* Look everything up first: answering one query changes the list
	 * and ends the life of its name. */
	struct pending {
		unsigned id;
		spfkit__zone_answer ans;
	} *p = spfkit__calloc(zone->a, n, sizeof *p);
	if (!p)
		return SPFKIT_ENOMEM;
	int rc = SPFKIT_OK;
	size_t done = 0;
	for (; done < n; done++) {
		const char *name;
		uint16_t type;
		rc = spfkit_check_query(chk, done, &p[done].id, &name, &type);
		if (rc < 0)
			break;
		rc = spfkit__zone_lookup(zone, name, type, &p[done].ans);
		if (rc < 0)
			break;
	}
	for (size_t i = 0; rc == SPFKIT_OK && i < n; i++) {
		rc = p[i].ans.status == SPFKIT_DNS_TEMPFAIL
			 ? spfkit_check_answer_failure(chk, p[i].id,
						       p[i].ans.failure)
			 : spfkit_check_answer(chk, p[i].id, p[i].ans.status,
					       p[i].ans.rrs, p[i].ans.n);
		if (rc > 0)
			rc = SPFKIT_OK;
	}
	for (size_t i = 0; i < done; i++)
		spfkit__zone_answer_free(zone, &p[i].ans);
	spfkit__free(zone->a, p);
	return rc;
}

int spfkit_zone_check(const spfkit_zone *zone, spfkit_check *chk,
		      uint64_t now_ms)
{
	if (!zone || !chk)
		return SPFKIT_EINVAL;
	for (;;) {
		int rc = spfkit_check_run(chk, now_ms);
		if (rc == SPFKIT_DONE)
			return SPFKIT_OK;
		if (rc < 0)
			return rc;
		/* WANT_DNS with nothing pending would spin for ever. */
		if (rc != SPFKIT_WANT_DNS || spfkit_check_pending(chk) == 0)
			return SPFKIT_ESTATE;
		rc = spfkit_zone_answer(zone, chk);
		if (rc < 0)
			return rc;
	}
}

/* ---------------------------------------------------------------- master */

/* Skips blanks, line ends and ";" comments from the current position;
 * counts line ends into *line. Returns the first other octet or EOF. */
static int skip_blank(FILE *fp, size_t *line)
{
	int ch;
	while ((ch = getc(fp)) != EOF) {
		if (ch == '\n') {
			(*line)++;
		} else if (ch == ';') {
			while ((ch = getc(fp)) != EOF && ch != '\n')
				;
			if (ch == EOF)
				return EOF;
			(*line)++;
		} else if (ch != ' ' && ch != '\t' && ch != '\r') {
			return ch;
		}
	}
	return EOF;
}

/* The line where the entry that starts at pos begins: ldns counts the
 * line ends it read past, which is one too far or more. */
static size_t entry_line(FILE *fp, long pos, int ldns_line)
{
	size_t line = 1;
	if (pos < 0 || fseek(fp, 0, SEEK_SET) != 0)
		return ldns_line > 0 ? (size_t)ldns_line : 1;
	for (long i = 0; i < pos; i++) {
		int ch = getc(fp);
		if (ch == EOF)
			break;
		if (ch == '\n')
			line++;
	}
	skip_blank(fp, &line);
	return line;
}

/* Only blanks and comments from pos to the end? */
static bool rest_blank(FILE *fp, long pos)
{
	size_t line = 0;
	if (pos < 0 || fseek(fp, pos, SEEK_SET) != 0)
		return true;
	return skip_blank(fp, &line) == EOF;
}

static int add_ldns_rr(spfkit_zone *st, const ldns_rr *rr, ldns_buffer *wire)
{
	const ldns_rdf *owner = ldns_rr_owner(rr);
	char name[WIRE_NAME_MAX + 1];
	size_t nlen;
	if (!owner || ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME ||
	    !wire_to_name(ldns_rdf_data(owner), ldns_rdf_size(owner), name,
			  &nlen))
		return SPFKIT_EPARSE;
	ldns_buffer_clear(wire);
	/* Each rdf in wire form: names uncompressed, as the labels were
	 * written (case kept), TXT as its character-strings. */
	if (ldns_rr_rdata2buffer_wire(wire, rr) != LDNS_STATUS_OK ||
	    ldns_buffer_status(wire) != LDNS_STATUS_OK)
		return SPFKIT_ENOMEM;
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	int rc = add_copy(st, name, nlen, type, ldns_rr_ttl(rr),
			  ldns_buffer_begin(wire), ldns_buffer_position(wire));
	/* An authoritative server answers a TXT query with TXT records only:
	 * in a master file an SPF (type 99) record is one of its own type,
	 * never a stand-in for TXT (that rule is the openspf suite's, for
	 * its YAML zonedata). */
	if (rc == SPFKIT_OK && type == SPFKIT__TYPE_SPF)
		rc = spfkit_zone_mark(st, name, SPFKIT_ZONE_NO_SPF_AS_TXT);
	return rc;
}

/* RFC 1035 §3.3: a character-string holds at most 255 octets; ldns only
 * says the RDATA did not parse. Scans the entry from pos (one line, or
 * more inside parentheses) for a quoted string over 255 octets (\DDD and
 * \X count as one) and writes the message lint gives when it finds one;
 * false when there is none. */
static bool long_string(FILE *fp, long pos, const char *path, size_t line,
			char *err, size_t errlen)
{
	if (pos < 0 || fseek(fp, pos, SEEK_SET) != 0)
		return false;
	bool quoted = false;
	int depth = 0, ch;
	size_t octets = 0, longest = 0;
	while ((ch = getc(fp)) != EOF) {
		if (quoted) {
			if (ch == '"') {
				quoted = false;
				if (octets > longest)
					longest = octets;
				continue;
			}
			octets++;
			if (ch == '\\') {
				ch = getc(fp);
				if (ch >= '0' && ch <= '9') {
					(void)getc(fp);
					(void)getc(fp);
				}
				if (ch == EOF)
					break;
			}
			continue;
		}
		if (ch == '"') {
			quoted = true;
			octets = 0;
		} else if (ch == ';') {
			while ((ch = getc(fp)) != EOF && ch != '\n')
				;
			if (depth == 0)
				break;
		} else if (ch == '(') {
			depth++;
		} else if (ch == ')') {
			depth--;
		} else if (ch == '\n' && depth <= 0) {
			break;
		}
	}
	if (quoted && octets > longest)
		longest = octets;
	if (longest <= 255)
		return false;
	set_err(
	    err, errlen,
	    "%s:%zu: a TXT string of %zu octets: a character-string holds "
	    "at most 255 (RFC 1035 3.3); split it into several quoted "
	    "strings of at most 255 octets on the same line (receivers join "
	    "them without a space, RFC 7208 3.3)",
	    path, line, longest);
	return true;
}

static int load_master(spfkit_zone *st, const char *path, FILE *fp, char *err,
		       size_t errlen)
{
	/* RFC 1035 §5.1: without $ORIGIN, relative names hang off the
	 * root; without $TTL or a TTL on the line, an hour. */
	ldns_rdf *origin = ldns_dname_new_frm_str(".");
	ldns_rdf *prev = NULL;
	ldns_buffer *wire = ldns_buffer_new(512);
	uint32_t ttl = 3600;
	int line = 1;
	int rc = (origin && wire) ? SPFKIT_OK : SPFKIT_ENOMEM;
	while (rc == SPFKIT_OK) {
		long pos = ftell(fp);
		ldns_rr *rr = NULL;
		ldns_status s =
		    ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (s == LDNS_STATUS_OK) {
			rc = add_ldns_rr(st, rr, wire);
			ldns_rr_free(rr);
			if (rc == SPFKIT_EPARSE || rc == SPFKIT_ETOOBIG)
				set_err(err, errlen, "%s:%zu: unusable record",
					path, entry_line(fp, pos, line));
		} else if (s == LDNS_STATUS_SYNTAX_ORIGIN ||
			   s == LDNS_STATUS_SYNTAX_TTL ||
			   s == LDNS_STATUS_SYNTAX_EMPTY) {
			/* ldns took the directive into origin / ttl. */
		} else if (s == LDNS_STATUS_SYNTAX_ERR && feof(fp) &&
			   rest_blank(fp, pos)) {
			break; /* nothing but comments after the last entry */
		} else {
			rc = s == LDNS_STATUS_MEM_ERR ? SPFKIT_ENOMEM
						      : SPFKIT_EPARSE;
			size_t at = entry_line(fp, pos, line);
			if (rc == SPFKIT_ENOMEM ||
			    !long_string(fp, pos, path, at, err, errlen))
				set_err(err, errlen, "%s:%zu: %s", path, at,
					s == LDNS_STATUS_SYNTAX_INCLUDE
					    ? "$INCLUDE is not supported"
					    : ldns_get_errorstr_by_id(s));
		}
		if (feof(fp) || ferror(fp))
			break;
	}
	if (rc == SPFKIT_OK && ferror(fp)) {
		rc = SPFKIT_EIO;
		set_err(err, errlen, "%s: read error", path);
	}
	if (rc == SPFKIT_ENOMEM)
		set_err(err, errlen, "%s: out of memory", path);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	ldns_buffer_free(wire);
	return rc;
}

/* ---------------------------------------------------------------- files */

static bool is_yaml_path(const char *path)
{
	size_t n = strlen(path);
	return (n >= 4 && spfkit__ieq(path + n - 4, 4, ".yml", 4)) ||
	       (n >= 5 && spfkit__ieq(path + n - 5, 5, ".yaml", 5));
}

int spfkit_zone_load_file(spfkit_zone *zone, const char *path, char *err,
			  size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!zone || !path) {
		set_err(err, errlen, "invalid argument");
		return SPFKIT_EINVAL;
	}
	if (is_yaml_path(path)) {
		set_err(err, errlen,
			"%s: openspf YAML zonedata is read by the spfkit "
			"command, not by libspfkit (give an RFC 1035 master "
			"file)",
			path);
		return SPFKIT_EINVAL;
	}
	FILE *fp = fopen(path, "r");
	if (!fp) {
		int e = errno;
		char why[128];
		if (strerror_r(e, why, sizeof why) != 0)
			snprintf(why, sizeof why, "error %d", e);
		set_err(err, errlen, "%s: %s", path, why);
		return e == ENOENT ? SPFKIT_ENOENT : SPFKIT_EIO;
	}
	struct stat sb;
	if (fstat(fileno(fp), &sb) == 0 && !S_ISREG(sb.st_mode)) {
		/* A directory or device never reaches end of file. */
		fclose(fp);
		set_err(err, errlen, "%s: not a regular file", path);
		return SPFKIT_EIO;
	}
	spfkit_zone st;
	zone_init(&st, zone->a);
	int rc = load_master(&st, path, fp, err, errlen);
	fclose(fp);
	if (rc == SPFKIT_OK) {
		/* A later file replaces what earlier ones said of a name and
		 * type: a draft laid over the published zone. */
		rc = spfkit_zone_overlay(zone, &st);
		if (rc)
			set_err(err, errlen, "%s: out of memory", path);
	}
	zone_clear(&st);
	return rc;
}
