/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone_yaml.c - openspf YAML zonedata (the zones of the RFC 7208 test
 * suite, and of spfkit's own tests and examples) read with libyaml into a
 * zone through the public API: spfkit_zone_add for records and
 * spfkit_zone_mark for the suite driver's reading of listed names,
 * TIMEOUT and NONE. It lives outside libspfkit so that library users do
 * not load libyaml; the spfkit command, the tests and the fuzzers link it.
 */
#include "zone_yaml.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* RFC 1035 §3.2.1: RDLENGTH is 16 bits. */
#define RDATA_MAX 65535u
/* RFC 1035 §2.3.4: a name is at most 255 octets in wire form, labels 63. */
#define WIRE_NAME_MAX 255u
#define LABEL_MAX     63u
/* RFC 1035 §3.3: a <character-string> holds at most 255 octets. */
#define CHARSTRING_MAX 255u
/* Resource record type 99 (RFC 4408 SPF), which the zone serves as TXT by
 * the suite's rule where a name has no TXT records. */
#define TYPE_SPF 99
/* Shortens a value quoted in an error message. */
#define SHOW 60

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
/* One line into err: names and values from a file may hold any octet. */
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
	for (char *p = err; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			*p = '?';
	}
}

/* ASCII case-insensitive comparison of (a, an) with (b, bn). */
static bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/* A growing octet string for one record's RDATA, capped at RDATA_MAX. */
typedef struct rdata {
	unsigned char b[RDATA_MAX];
	size_t len;
	bool over; /* something did not fit */
} rdata;

static void rd_add(rdata *r, const void *p, size_t n)
{
	if (r->over || n > RDATA_MAX - r->len) {
		r->over = true;
		return;
	}
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

/* Dotted text (one trailing dot ignored, "" or "." the root) to a wire
 * name, case kept. False for an empty label, a label over 63 octets or a
 * name over 255 octets. */
static bool name_to_wire(const char *s, size_t n, rdata *r)
{
	if (n && s[n - 1] == '.')
		n--;
	size_t start = r->len, i = 0;
	while (i < n) {
		const char *d = memchr(s + i, '.', n - i);
		size_t l = d ? (size_t)(d - (s + i)) : n - i;
		if (l == 0 || l > LABEL_MAX)
			return false;
		unsigned char c = (unsigned char)l;
		rd_add(r, &c, 1);
		rd_add(r, s + i, l);
		i += l + 1;
		if (d && i == n) /* "a..": an empty last label */
			return false;
	}
	rd_add(r, "", 1);
	return !r->over && r->len - start <= WIRE_NAME_MAX;
}

typedef struct yctx {
	spfkit_zone *z;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	rdata *rd; /* the record being built */
} yctx;

static const char *ystr(const yaml_node_t *nd)
{
	return (const char *)nd->data.scalar.value;
}

static size_t ylen(const yaml_node_t *nd)
{
	return nd->data.scalar.length;
}

static unsigned long yline(const yaml_node_t *nd)
{
	return (unsigned long)nd->start_mark.line + 1;
}

static bool yis(const yaml_node_t *nd, const char *word)
{
	return nd && nd->type == YAML_SCALAR_NODE &&
	       ieq(ystr(nd), ylen(nd), word, strlen(word));
}

/* A plain empty scalar: YAML's null, as in "name:" with nothing after. */
static bool ynull(const yaml_node_t *nd)
{
	return nd->type == YAML_SCALAR_NODE &&
	       nd->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (ylen(nd) == 0 || yis(nd, "~") || yis(nd, "null"));
}

/* A scalar as a C string: false when it holds a NUL. */
static bool ycstr(const yaml_node_t *nd)
{
	return nd->type == YAML_SCALAR_NODE && strlen(ystr(nd)) == ylen(nd);
}

/* RFC 1035 §3.3.14: one text as character-strings, split into 255-octet
 * pieces only when it does not fit one. */
static void add_text(rdata *b, const char *s, size_t n)
{
	do {
		size_t k = n > CHARSTRING_MAX ? CHARSTRING_MAX : n;
		unsigned char len = (unsigned char)k;
		rd_add(b, &len, 1);
		rd_add(b, s, k);
		s += k;
		n -= k;
	} while (n);
}

/* Adds one record of name key (a C string), item "TYPE: value". */
static int yrecord(yctx *c, const yaml_node_t *key, const yaml_node_t *item)
{
	const char *name = ystr(key);
	if (item->type == YAML_SCALAR_NODE) {
		set_err(c->err, c->errlen, "%lu: unknown record \"%.*s\"",
			yline(item), SHOW, ystr(item));
		return SPFKIT_EPARSE;
	}
	if (item->type != YAML_MAPPING_NODE ||
	    item->data.mapping.pairs.top - item->data.mapping.pairs.start !=
		1) {
		set_err(c->err, c->errlen,
			"%lu: a record is TYPE: value or TIMEOUT", yline(item));
		return SPFKIT_EPARSE;
	}
	yaml_node_pair_t *pair = item->data.mapping.pairs.start;
	yaml_node_t *tk = yaml_document_get_node(c->doc, pair->key);
	yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);
	if (!tk || !v || tk->type != YAML_SCALAR_NODE) {
		set_err(c->err, c->errlen, "%lu: a record is TYPE: value",
			yline(item));
		return SPFKIT_EPARSE;
	}
	if (v->type == YAML_SCALAR_NODE && strcmp(ystr(v), "NONE") == 0 &&
	    ylen(v) == 4) {
		/* The suite's marker for "no record of this type"; for TXT
		 * it also keeps SPF records from standing in. */
		if (yis(tk, "TXT"))
			return spfkit_zone_mark(c->z, name,
						SPFKIT_ZONE_NO_SPF_AS_TXT);
		return SPFKIT_OK;
	}
	rdata *b = c->rd;
	b->len = 0;
	b->over = false;
	uint16_t type;
	const char *bad = NULL;
	if (yis(tk, "A") || yis(tk, "AAAA")) {
		type = yis(tk, "A") ? SPFKIT_TYPE_A : SPFKIT_TYPE_AAAA;
		unsigned char addr[16];
		if (!ycstr(v) ||
		    inet_pton(type == SPFKIT_TYPE_A ? AF_INET : AF_INET6,
			      ystr(v), addr) != 1)
			bad = "address";
		else
			rd_add(b, addr, type == SPFKIT_TYPE_A ? 4 : 16);
	} else if (yis(tk, "MX")) {
		type = SPFKIT_TYPE_MX;
		yaml_node_t *pref = NULL, *host = NULL;
		if (v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.top - v->data.sequence.items.start ==
			2) {
			pref = yaml_document_get_node(
			    c->doc, v->data.sequence.items.start[0]);
			host = yaml_document_get_node(
			    c->doc, v->data.sequence.items.start[1]);
		}
		unsigned long p = 0;
		bool ok = pref && host && pref->type == YAML_SCALAR_NODE &&
			  host->type == YAML_SCALAR_NODE && ylen(pref) > 0 &&
			  ylen(pref) <= 5;
		for (size_t i = 0; ok && i < ylen(pref); i++) {
			unsigned char d = (unsigned char)ystr(pref)[i];
			ok = d >= '0' && d <= '9';
			p = p * 10 + (unsigned long)(d - '0');
		}
		if (!ok || p > 65535) {
			bad = "value (want [preference, host])";
		} else {
			unsigned char w[2] = {(unsigned char)(p >> 8),
					      (unsigned char)p};
			rd_add(b, w, 2);
			if (!name_to_wire(ystr(host), ylen(host), b))
				bad = "MX host name";
		}
	} else if (yis(tk, "PTR") || yis(tk, "CNAME")) {
		type = yis(tk, "PTR") ? SPFKIT_TYPE_PTR : SPFKIT_TYPE_CNAME;
		if (v->type != YAML_SCALAR_NODE ||
		    !name_to_wire(ystr(v), ylen(v), b))
			bad = "name";
	} else if (yis(tk, "TXT") || yis(tk, "SPF")) {
		type = yis(tk, "TXT") ? SPFKIT_TYPE_TXT : TYPE_SPF;
		if (v->type == YAML_SCALAR_NODE) {
			add_text(b, ystr(v), ylen(v));
		} else if (v->type == YAML_SEQUENCE_NODE) {
			/* Several character-strings of one RR, as given. */
			for (yaml_node_item_t *it =
				 v->data.sequence.items.start;
			     !bad && it < v->data.sequence.items.top; it++) {
				yaml_node_t *s =
				    yaml_document_get_node(c->doc, *it);
				if (!s || s->type != YAML_SCALAR_NODE)
					bad = "text (want a string or a list "
					      "of strings)";
				else
					add_text(b, ystr(s), ylen(s));
			}
		} else {
			bad = "text (want a string or a list of strings)";
		}
	} else {
		set_err(c->err, c->errlen, "%lu: unknown record type \"%.*s\"",
			yline(tk), SHOW, ystr(tk));
		return SPFKIT_EPARSE;
	}
	if (!bad && b->over)
		bad = "record (over 65535 octets)";
	if (bad) {
		bool sc = v->type == YAML_SCALAR_NODE;
		set_err(c->err, c->errlen, "%lu: bad %s %s%s%.*s%s for %.*s",
			yline(v), ystr(tk), bad, sc ? " \"" : "", sc ? SHOW : 0,
			sc ? ystr(v) : "", sc ? "\"" : "", SHOW, name);
		return SPFKIT_EPARSE;
	}
	return spfkit_zone_add(c->z, name, type, ZONE_YAML_TTL, b->b, b->len);
}

/* Loads a zonedata mapping into c->z, which is a staging zone. */
static int yzonedata(yctx *c, const yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE) {
		set_err(c->err, c->errlen,
			"%lu: zonedata must map names to lists of records",
			yline(map));
		return SPFKIT_EPARSE;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
		if (!key || !val || key->type != YAML_SCALAR_NODE) {
			set_err(c->err, c->errlen,
				"%lu: a name must be a string",
				key ? yline(key) : yline(map));
			return SPFKIT_EPARSE;
		}
		if (!ycstr(key)) {
			set_err(c->err, c->errlen,
				"%lu: a name must not hold a NUL octet",
				yline(key));
			return SPFKIT_EPARSE;
		}
		if (!ynull(val) && val->type != YAML_SEQUENCE_NODE) {
			set_err(c->err, c->errlen,
				"%lu: the records of %.*s must be a list",
				yline(val), SHOW, ystr(key));
			return SPFKIT_EPARSE;
		}
		/* A listed name exists, records or not (the suite's driver
		 * answers it, never NXDOMAIN). */
		int rc = spfkit_zone_mark(c->z, ystr(key), SPFKIT_ZONE_EXISTS);
		if (rc)
			return rc;
		if (ynull(val))
			continue;
		for (yaml_node_item_t *it = val->data.sequence.items.start;
		     it < val->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(c->doc, *it);
			if (!item)
				continue;
			if (yis(item, "TIMEOUT")) {
				/* The suite's driver answers the types listed
				 * before TIMEOUT and times out on the rest;
				 * what follows TIMEOUT is never reached. */
				rc = spfkit_zone_mark(
				    c->z, ystr(key),
				    SPFKIT_ZONE_TIMEOUT_OTHERS);
				if (rc)
					return rc;
				break;
			}
			rc = yrecord(c, key, item);
			if (rc)
				return rc;
		}
	}
	return SPFKIT_OK;
}

/* The zonedata of one YAML document, or NULL when it has none: a suite
 * document (description, tests, zonedata) or a bare name mapping. */
static int ypick(yaml_document_t *doc, yaml_node_t *root, yaml_node_t **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	if (ynull(root))
		return SPFKIT_OK;
	if (root->type != YAML_MAPPING_NODE) {
		set_err(err, errlen, "%lu: the document must be a mapping",
			yline(root));
		return SPFKIT_EPARSE;
	}
	bool suite = false;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(doc, p->key);
		if (yis(key, "zonedata")) {
			yaml_node_t *v = yaml_document_get_node(doc, p->value);
			*out = (v && !ynull(v)) ? v : NULL;
			return SPFKIT_OK;
		}
		if (yis(key, "tests") || yis(key, "description"))
			suite = true;
	}
	if (!suite)
		*out = root;
	return SPFKIT_OK;
}

/* The 1-based line of octet offset off in fp. */
static size_t line_of(FILE *fp, size_t off)
{
	size_t line = 1;
	if (fseek(fp, 0, SEEK_SET) != 0)
		return line;
	for (size_t i = 0; i < off; i++) {
		int ch = getc(fp);
		if (ch == EOF)
			break;
		if (ch == '\n')
			line++;
	}
	return line;
}

/* Reads every document of the stream fp into the staging zone st. */
static int load_yaml(spfkit_zone *st, rdata *rd, const char *path, FILE *fp,
		     char *err, size_t errlen)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return SPFKIT_ENOMEM;
	yaml_parser_set_input_file(&parser, fp);
	int rc = SPFKIT_OK;
	char msg[256];
	while (rc == SPFKIT_OK) {
		yaml_document_t doc;
		if (!yaml_parser_load(&parser, &doc)) {
			rc = parser.error == YAML_MEMORY_ERROR ? SPFKIT_ENOMEM
							       : SPFKIT_EPARSE;
			if (parser.error == YAML_READER_ERROR)
				/* Bad encoding: libyaml knows only the octet.
				 */
				set_err(err, errlen, "%s:%zu: %s (octet %lu)",
					path,
					line_of(fp, parser.problem_offset),
					parser.problem ? parser.problem
						       : "read error",
					(unsigned long)parser.problem_offset);
			else
				set_err(
				    err, errlen, "%s:%lu: %s%s%s", path,
				    (unsigned long)parser.problem_mark.line + 1,
				    parser.problem ? parser.problem
						   : "YAML error",
				    parser.context ? " " : "",
				    parser.context ? parser.context : "");
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		yaml_node_t *zd;
		msg[0] = '\0';
		rc = ypick(&doc, root, &zd, msg, sizeof msg);
		if (rc == SPFKIT_OK && zd) {
			yctx c = {st, &doc, msg, sizeof msg, rd};
			rc = yzonedata(&c, zd);
		}
		if (rc == SPFKIT_ENOMEM)
			set_err(err, errlen, "%s: out of memory", path);
		else if (rc)
			set_err(err, errlen, "%s:%s", path, msg);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* A staging zone and the record buffer of one load, or SPFKIT_ENOMEM. */
static int stage(const spfkit_config *cfg, spfkit_zone **st, rdata **rd)
{
	*rd = malloc(sizeof **rd);
	int rc = *rd ? spfkit_zone_new(st, cfg) : SPFKIT_ENOMEM;
	if (rc) {
		free(*rd);
		*rd = NULL;
	}
	return rc;
}

int zone_yaml_load_node(spfkit_zone *zone, const spfkit_config *cfg,
			yaml_document_t *doc, yaml_node_t *zonedata, char *err,
			size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!zone || !doc || !zonedata) {
		set_err(err, errlen, "invalid argument");
		return SPFKIT_EINVAL;
	}
	spfkit_zone *st = NULL;
	rdata *rd = NULL;
	int rc = stage(cfg, &st, &rd);
	if (rc == SPFKIT_OK) {
		yctx c = {st, doc, err, errlen, rd};
		rc = yzonedata(&c, zonedata);
	}
	if (rc == SPFKIT_OK)
		rc = spfkit_zone_merge(zone, st);
	if (rc == SPFKIT_ENOMEM)
		set_err(err, errlen, "%lu: out of memory", yline(zonedata));
	spfkit_zone_free(st);
	free(rd);
	return rc;
}

bool zone_yaml_path(const char *path)
{
	size_t n = strlen(path);
	return (n >= 4 && ieq(path + n - 4, 4, ".yml", 4)) ||
	       (n >= 5 && ieq(path + n - 5, 5, ".yaml", 5));
}

int zone_yaml_load_file(spfkit_zone *zone, const spfkit_config *cfg,
			const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!zone || !path) {
		set_err(err, errlen, "invalid argument");
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
	spfkit_zone *st = NULL;
	rdata *rd = NULL;
	int rc = stage(cfg, &st, &rd);
	if (rc == SPFKIT_OK)
		rc = load_yaml(st, rd, path, fp, err, errlen);
	else
		set_err(err, errlen, "%s: out of memory", path);
	fclose(fp);
	if (rc == SPFKIT_OK) {
		/* As for master files: a later file replaces what earlier
		 * ones said of a name and type. */
		rc = spfkit_zone_overlay(zone, st);
		if (rc)
			set_err(err, errlen, "%s: out of memory", path);
	}
	spfkit_zone_free(st);
	free(rd);
	return rc;
}

int zone_file_load(spfkit_zone *zone, const spfkit_config *cfg,
		   const char *path, char *err, size_t errlen)
{
	if (path && zone_yaml_path(path))
		return zone_yaml_load_file(zone, cfg, path, err, errlen);
	return spfkit_zone_load_file(zone, path, err, errlen);
}
