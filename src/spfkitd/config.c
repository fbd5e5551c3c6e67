/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - reads spfkitd.conf(5). Lines are `key = value`, `#` starts a
 * comment line, keys are case-insensitive, later lines override earlier
 * ones and list keys add up. The policyd-spf names (HELO_reject,
 * Mail_From_reject, PermError_reject, TempError_Defer, Whitelist, ...)
 * are read too, as shorthands for the per-result actions, so an existing
 * policyd-spf.conf mostly carries over. Every error names FILE:LINE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "config_policyd.h"
#include "policy.h"

/* A config file larger than this is refused. */
#define CONF_MAX_BYTES (1024u * 1024u)
/* A line longer than this is refused. */
#define CONF_LINE_MAX 4096u
/* Entries in one list key, in all. */
#define CONF_LIST_MAX 100000u

const char *spfkitd_action_name(spfkitd_action a)
{
	switch (a) {
	case SPFKITD_ACCEPT: return "accept";
	case SPFKITD_REJECT: return "reject";
	case SPFKITD_DEFER: return "defer";
	case SPFKITD_DEFER_IF_PERMIT: return "defer_if_permit";
	}
	return "accept";
}

bool spfkitd_action_defers(spfkitd_action a)
{
	return a == SPFKITD_DEFER || a == SPFKITD_DEFER_IF_PERMIT;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Case-insensitive comparison of s[0, n) with the NUL-terminated t. */
static bool ieq(const char *s, size_t n, const char *t)
{
	return spfkitd_view_ieq((spfkitd_view){s, n}, t);
}

static void strlist_free(spfkitd_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->line);
	*l = (spfkitd_strlist){0};
}

/* Adds a copy of (s, n), from line of the file. */
static bool strlist_add(spfkitd_strlist *l, const char *s, size_t n,
			unsigned line)
{
	if (l->n >= CONF_LIST_MAX)
		return false;
	char **v = realloc(l->v, (l->n + 1) * sizeof *v);
	if (!v)
		return false;
	l->v = v;
	unsigned *ln = realloc(l->line, (l->n + 1) * sizeof *ln);
	if (!ln)
		return false;
	l->line = ln;
	if (!(v[l->n] = strndup(s, n)))
		return false;
	ln[l->n++] = line;
	return true;
}

unsigned spfkitd_strlist_line(const spfkitd_strlist *l, size_t i)
{
	return l->line && i < l->n ? l->line[i] : 0;
}

bool spfkitd_strlist_add(spfkitd_strlist *l, const char *s, unsigned line)
{
	return strlist_add(l, s, strlen(s), line);
}

void spfkitd_strlist_free(spfkitd_strlist *l)
{
	strlist_free(l);
}

bool spfkitd_cidrlist_add(spfkitd_cidrlist *l, const spfkitd_cidr *c)
{
	if (l->n >= CONF_LIST_MAX)
		return false;
	spfkitd_cidr *v = realloc(l->v, (l->n + 1) * sizeof *v);
	if (!v)
		return false;
	l->v = v;
	v[l->n++] = *c;
	return true;
}

void spfkitd_conf_free(spfkitd_conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->reject_reason);
	free(c->defer_reason);
	free(c->authserv_id);
	free(c->receiver);
	free(c->explanation);
	free(c->skip_addresses.v);
	free(c->whitelist_ip.v);
	strlist_free(&c->whitelist_helo);
	strlist_free(&c->whitelist_sender_domain);
	strlist_free(&c->must_pass_domains);
	strlist_free(&c->nameservers);
	strlist_free(&c->zone_files);
	strlist_free(&c->listen);
	strlist_free(&c->milter_listen);
	free(c->trust_anchor);
	free(c->user);
	free(c->chroot_dir);
	free(c->metrics_listen);
	free(c->pid_file);
	free(c->srs_domain);
	free(c->srs_secrets);
	strlist_free(&c->srs_local_domains);
	strlist_free(&c->srs_listen);
	strlist_free(&c->warnings);
	strlist_free(&c->notes);
	strlist_free(&c->not_pass_domains);
	free(c->helo_pass_restriction);
	free(c->mailfrom_pass_restriction);
	free(c->keylines);
	free(c);
}

unsigned spfkitd_conf_line(const spfkitd_conf *c, const char *key)
{
	for (size_t i = c->nkeylines; i > 0; i--)
		if (strcmp(c->keylines[i - 1].key, key) == 0)
			return c->keylines[i - 1].line;
	return 0;
}

void spfkitd_conf_error(const spfkitd_conf *c, unsigned line, const char *key,
			char *err, size_t errlen, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, errlen, "%s:%u: %s: %s", c->path, line, key, msg);
	else
		snprintf(err, errlen, "%s: %s: %s", c->path, key, msg);
}

/* ------------------------------------------------------------ addresses */

bool spfkitd_parse_cidr(const char *s, size_t n, spfkitd_cidr *out)
{
	char buf[64];
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	if (alen == 0 || alen >= sizeof buf)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	*out = (spfkitd_cidr){0};
	unsigned max;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	out->prefix = max;
	if (slash) {
		size_t plen = n - alen - 1;
		if (plen == 0 || plen > 3)
			return false;
		unsigned p = 0;
		for (size_t i = 0; i < plen; i++) {
			unsigned char c = (unsigned char)slash[1 + i];
			if (c < '0' || c > '9')
				return false;
			p = p * 10 + (c - '0');
		}
		if (p > max)
			return false;
		out->prefix = p;
	}
	return true;
}

/* Do the first prefix bits of a and b agree? */
static bool prefix_eq(const unsigned char *a, const unsigned char *b,
		      unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xffu << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

bool spfkitd_cidr_match(const spfkitd_cidrlist *l, const char *ip, size_t n)
{
	char buf[64];
	unsigned char a[16] = {0};
	int family;
	if (!ip || n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, ip, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		static const unsigned char mapped[12] = {
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		family = AF_INET6;
		if (memcmp(a, mapped, 12) == 0) {
			/* RFC 4291 §2.5.5.2: IPv4-mapped is IPv4. */
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == family &&
		    prefix_eq(a, l->v[i].addr, l->v[i].prefix))
			return true;
	return false;
}

bool spfkitd_domain_match(const spfkitd_strlist *l, const char *d, size_t n)
{
	while (n && d[n - 1] == '.')
		n--;
	for (size_t i = 0; i < l->n; i++) {
		const char *e = l->v[i];
		size_t m = strlen(e);
		while (m && e[m - 1] == '.')
			m--;
		if (m == 0 || m > n)
			continue;
		/* d equals e, or ends in "." e. */
		if (m < n && d[n - m - 1] != '.')
			continue;
		bool same = true;
		for (size_t k = 0; k < m && same; k++)
			same = lower((unsigned char)d[n - m + k]) ==
			       lower((unsigned char)e[k]);
		if (same)
			return true;
	}
	return false;
}

bool spfkitd_srs_local(const spfkitd_conf *c, const char *addr, size_t n)
{
	size_t at = n;
	while (at && addr[at - 1] != '@')
		at--;
	if (at == 0)
		return true;
	const char *d = addr + at;
	size_t dn = n - at;
	if (spfkitd_domain_match(&c->srs_local_domains, d, dn))
		return true;
	if (!c->srs_domain)
		return false;
	char *one[1] = {c->srs_domain};
	const spfkitd_strlist l = {.v = one, .n = 1};
	return spfkitd_domain_match(&l, d, dn);
}

bool spfkitd_loopback_host(const char *host)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) != 1)
		return false;
	static const unsigned char one[16] = {[15] = 1};
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
	return memcmp(a, one, 16) == 0 ||
	       (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

bool spfkitd_parse_endpoint(const char *s, bool *is_unix, char *hostbuf,
			    size_t hostlen, unsigned *port)
{
	*port = 0;
	if (strncmp(s, "unix:", 5) == 0) {
		size_t n = strlen(s + 5);
		if (n == 0 || n >= hostlen || n >= 108)
			return false;
		memcpy(hostbuf, s + 5, n + 1);
		*is_unix = true;
		return true;
	}
	if (strncmp(s, "inet:", 5) != 0)
		return false;
	*is_unix = false;
	const char *h = s + 5, *colon;
	size_t hn;
	if (*h == '[') {
		const char *close = strchr(h, ']');
		if (!close || close[1] != ':')
			return false;
		h++;
		hn = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return false;
		hn = (size_t)(colon - h);
	}
	if (hn == 0 || hn >= hostlen)
		return false;
	memcpy(hostbuf, h, hn);
	hostbuf[hn] = '\0';
	unsigned char tmp[16];
	if (inet_pton(AF_INET, hostbuf, tmp) != 1 &&
	    inet_pton(AF_INET6, hostbuf, tmp) != 1)
		return false;
	const char *p = colon + 1;
	if (!*p || strlen(p) > 5)
		return false;
	unsigned v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = v;
	return true;
}

bool spfkitd_milter_endpoint(const char *s, char *out, size_t cap)
{
	char host[128];
	bool is_unix;
	unsigned port;
	int k;
	if (strncmp(s, "local:", 6) == 0) {
		k = snprintf(out, cap, "unix:%s", s + 6);
	} else if (strncmp(s, "unix:", 5) == 0 ||
		   (strncmp(s, "inet:", 5) == 0 && !strchr(s, '@') &&
		    spfkitd_parse_endpoint(s, &is_unix, host, sizeof host,
					   &port))) {
		k = snprintf(out, cap, "%s", s);
	} else {
		/* inet:PORT[@HOST] or inet6:PORT[@HOST] */
		bool six = strncmp(s, "inet6:", 6) == 0;
		if (!six && strncmp(s, "inet:", 5) != 0)
			return false;
		const char *p = s + (six ? 6 : 5), *at = strchr(p, '@');
		size_t pn = at ? (size_t)(at - p) : strlen(p);
		const char *h = at ? at + 1 : (six ? "::" : "0.0.0.0");
		if (strcmp(h, "localhost") == 0)
			h = six ? "::1" : "127.0.0.1";
		if (pn == 0 || pn > 5 || strspn(p, "0123456789") != pn)
			return false;
		k = snprintf(out, cap,
			     six || strchr(h, ':') ? "inet:[%s]:%.*s"
						   : "inet:%s:%.*s",
			     h, (int)pn, p);
	}
	if (k < 0 || (size_t)k >= cap)
		return false;
	return spfkitd_parse_endpoint(out, &is_unix, host, sizeof host, &port);
}

/* ------------------------------------------------------------ templates */

/* The %{name} macros of reject_reason and defer_reason. */
static const char *const template_names[] = {
    "result",    "explanation", "sender",      "ip",        "helo",
    "domain",    "identity",    "client_name", "recipient", "problem",
    "mechanism", "queue_id",    NULL};

const char *spfkitd_template_check(const char *t)
{
	for (const char *p = t; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (p[1] != '{')
			return "a '%' must start %{name} or be written %%";
		const char *close = strchr(p + 2, '}');
		if (!close)
			return "%{ without a closing }";
		bool known = false;
		for (size_t i = 0; template_names[i] && !known; i++)
			known = ieq(p + 2, (size_t)(close - p - 2),
				    template_names[i]);
		if (!known)
			return "unknown %{name} (see spfkitd.conf(5))";
		p = close;
	}
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "control character in a reply";
	return NULL;
}

/* ------------------------------------------------------------ values */

typedef struct parser {
	spfkitd_conf *c;
	const char *name;
	unsigned long line;
	char *err;
	size_t errlen;
	bool failed;
	bool skip_set; /* the file gave skip_addresses: defaults dropped */
	spfkitd_policyd *pd; /* a policyd-spf.conf(5) file: its reader */
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool
fail(parser *p, const char *fmt, ...)
{
	if (p->failed)
		return false;
	p->failed = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->errlen) {
		if (p->line)
			snprintf(p->err, p->errlen, "%s:%lu: %s", p->name,
				 p->line, msg);
		else
			snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
	}
	return false;
}

/* fail() for an error found after the whole file was read, reported at
 * line (where its key was set). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
fail_at(parser *p, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->line = line;
	return fail(p, "%s", msg);
}

/* Keeps a warning "FILE:LINE: message" for -t and the start. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
warn(parser *p, const char *fmt, ...)
{
	char msg[640];
	va_list ap;
	va_start(ap, fmt);
	int k = snprintf(msg, sizeof msg, "%s:%lu: ", p->name, p->line);
	if (k < 0 || (size_t)k >= sizeof msg)
		k = 0;
	vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
	va_end(ap);
	if (!strlist_add(&p->c->warnings, msg, strlen(msg), (unsigned)p->line))
		fail(p, "out of memory");
}

/* Notes that key was set on the current line. */
static void note_key(parser *p, const char *key)
{
	spfkitd_conf *c = p->c;
	spfkitd_keyline *k =
	    realloc(c->keylines, (c->nkeylines + 1) * sizeof *k);
	if (!k) {
		fail(p, "out of memory");
		return;
	}
	c->keylines = k;
	k += c->nkeylines++;
	snprintf(k->key, sizeof k->key, "%s", key);
	k->line = (unsigned)p->line;
}

static bool parse_bool(parser *p, const char *key, const char *v, bool *out)
{
	size_t n = strlen(v);
	if (ieq(v, n, "yes") || ieq(v, n, "true") || ieq(v, n, "on") ||
	    ieq(v, n, "1")) {
		*out = true;
		return true;
	}
	if (ieq(v, n, "no") || ieq(v, n, "false") || ieq(v, n, "off") ||
	    ieq(v, n, "0")) {
		*out = false;
		return true;
	}
	return fail(p, "%s: '%s' is not yes or no", key, v);
}

/* A duration: digits with an optional unit ms, s (default), m or h. */
static bool parse_duration(parser *p, const char *key, const char *v,
			   uint32_t *ms)
{
	uint64_t n = 0;
	const char *s = v;
	if (*s < '0' || *s > '9')
		return fail(p, "%s: '%s' is not a duration", key, v);
	while (*s >= '0' && *s <= '9') {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > 100000000u)
			return fail(p, "%s: '%s' is too long", key, v);
		s++;
	}
	uint64_t mult;
	size_t rest = strlen(s);
	if (rest == 0 || ieq(s, rest, "s"))
		mult = 1000;
	else if (ieq(s, rest, "ms"))
		mult = 1;
	else if (ieq(s, rest, "m"))
		mult = 60000;
	else if (ieq(s, rest, "h"))
		mult = 3600000;
	else
		return fail(p, "%s: '%s': the unit is ms, s, m or h", key, v);
	n *= mult;
	if (n == 0)
		return fail(p, "%s: must be more than 0", key);
	if (n > 86400000u)
		return fail(p, "%s: '%s' is over a day", key, v);
	*ms = (uint32_t)n;
	return true;
}

static bool parse_uint(parser *p, const char *key, const char *v, unsigned lo,
		       unsigned hi, unsigned *out)
{
	unsigned long n = 0;
	if (!*v)
		return fail(p, "%s: a number is needed", key);
	for (const char *s = v; *s; s++) {
		if (*s < '0' || *s > '9' || n > hi)
			return fail(p, "%s: '%s' is not a number from %u to %u",
				    key, v, lo, hi);
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n < lo || n > hi)
		return fail(p, "%s: '%s' is not a number from %u to %u", key, v,
			    lo, hi);
	*out = (unsigned)n;
	return true;
}

/* An action; reject only when allow_reject, defer_if_permit only for a
 * result's action (allow_dip). */
static bool parse_action(parser *p, const char *key, const char *v,
			 bool allow_reject, bool allow_dip, spfkitd_action *out)
{
	size_t n = strlen(v);
	if (allow_dip && ieq(v, n, "defer_if_permit")) {
		*out = SPFKITD_DEFER_IF_PERMIT;
	} else if (ieq(v, n, "accept") || ieq(v, n, "tag")) {
		*out = SPFKITD_ACCEPT;
	} else if (ieq(v, n, "reject")) {
		if (!allow_reject)
			return fail(p,
				    "%s: reject is not allowed here (a "
				    "temporary error is never the sender's "
				    "fault, RFC 7208 §8.6); use defer or "
				    "accept",
				    key);
		*out = SPFKITD_REJECT;
	} else if (ieq(v, n, "defer")) {
		*out = SPFKITD_DEFER;
	} else {
		return fail(p, "%s: '%s' is not accept, reject%s or defer", key,
			    v, allow_dip ? ", defer_if_permit" : "");
	}
	return true;
}

static bool set_string(parser *p, char **slot, const char *v)
{
	char *s = strdup(v);
	if (!s)
		return fail(p, "out of memory");
	free(*slot);
	*slot = s;
	return true;
}

/* Takes one item (s, n bytes) of the list key into ud. */
typedef bool item_fn(parser *p, const char *key, const char *s, size_t n,
		     void *ud);

/* Calls add() on each item of a comma- or space-separated list. */
static bool each_item(parser *p, const char *key, const char *v, item_fn *add,
		      void *ud)
{
	const char *s = v;
	for (;;) {
		while (*s == ',' || is_space((unsigned char)*s))
			s++;
		if (!*s)
			return true;
		const char *e = s;
		while (*e && *e != ',' && !is_space((unsigned char)*e))
			e++;
		if (!add(p, key, s, (size_t)(e - s), ud))
			return false;
		s = e;
	}
}

/* Sets *slot to the one item of v (checked by add(); with need_dot a
 * name holding a dot); none or several fail with "give one WHAT". */
static bool set_one(parser *p, const char *key, const char *v, item_fn *add,
		    bool need_dot, char **slot, const char *what)
{
	spfkitd_strlist one = {0};
	if (!each_item(p, key, v, add, &one)) {
		strlist_free(&one);
		return false;
	}
	bool ok = one.n == 1 && (!need_dot || strchr(one.v[0], '.'));
	if (ok) {
		free(*slot);
		*slot = one.v[0];
		one.n = 0;
	}
	strlist_free(&one);
	if (!ok)
		return fail(p, "%s: give one %s", key, what);
	return true;
}

static bool add_cidr(parser *p, const char *key, const char *s, size_t n,
		     void *ud)
{
	spfkitd_cidr c;
	if (!spfkitd_parse_cidr(s, n, &c))
		return fail(p, "%s: '%.*s' is not an address or CIDR block",
			    key, (int)(n > 80 ? 80 : n), s);
	if (!spfkitd_cidrlist_add(ud, &c))
		return fail(p, "%s: out of memory or too many entries", key);
	return true;
}

/* A domain name: letters, digits, '-', '_', '.', at most 253 octets. */
static bool add_domain(parser *p, const char *key, const char *s, size_t n,
		       void *ud)
{
	bool ok = n > 0 && n <= 254;
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		     (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
	}
	if (!ok)
		return fail(p, "%s: '%.*s' is not a domain name", key,
			    (int)(n > 80 ? 80 : n), s);
	if (!strlist_add(ud, s, n, (unsigned)p->line))
		return fail(p, "%s: out of memory or too many entries", key);
	return true;
}

/* ADDR[@PORT], as libunbound and dig take it. */
static bool add_nameserver(parser *p, const char *key, const char *s, size_t n,
			   void *ud)
{
	char buf[80];
	if (n >= sizeof buf)
		return fail(p, "%s: '%.*s' is not ADDR[@PORT]", key, 80, s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *at = strchr(buf, '@');
	unsigned port = 53;
	if (at) {
		*at = '\0';
		parser q = *p;
		q.failed = false;
		q.errlen = 0;
		if (!parse_uint(&q, key, at + 1, 1, 65535, &port))
			return fail(p, "%s: '%s@%s': bad port", key, buf,
				    at + 1);
	}
	unsigned char tmp[16];
	if (inet_pton(AF_INET, buf, tmp) != 1 &&
	    inet_pton(AF_INET6, buf, tmp) != 1)
		return fail(p, "%s: '%s' is not an IP address (ADDR[@PORT])",
			    key, buf);
	if (!strlist_add(ud, s, n, (unsigned)p->line))
		return fail(p, "out of memory");
	return true;
}

/* Warns of an endpoint (text as written, host as parsed) that others
 * than this machine can reach: none of the protocols has authentication. */
static void warn_exposed(parser *p, const char *key, const char *text,
			 const char *host)
{
	if (spfkitd_loopback_host(host))
		return;
	bool every = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	const char *why =
	    strcmp(key, "milter_listen") == 0
		? "the milter protocol has no authentication: anyone who "
		  "reaches it is served (and with srs_milter gets "
		  "addresses signed with the SRS secrets); give a "
		  "loopback address, as in inet:PORT@127.0.0.1"
	    : strcmp(key, "srs_listen") == 0
		? "the socketmap has no authentication: anyone who "
		  "reaches it gets addresses signed with the SRS secrets; "
		  "keep it on 127.0.0.1, ::1 or a unix socket"
	    : strcmp(key, "metrics_listen") == 0
		? "the metrics endpoint has no authentication; keep it on "
		  "127.0.0.1 or ::1"
		: "the policy protocol has no authentication: anyone who "
		  "reaches it is served and can hold its connections; keep "
		  "it on 127.0.0.1, ::1 or a unix socket";
	warn(p, "%s: '%s' %s: %s", key, text,
	     every ? "listens on every address" : "is not a loopback address",
	     why);
}

static bool add_endpoint(parser *p, const char *key, const char *s, size_t n,
			 void *ud)
{
	char buf[256], host[128];
	bool is_unix;
	unsigned port;
	if (n >= sizeof buf)
		return fail(p, "%s: too long", key);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!spfkitd_parse_endpoint(buf, &is_unix, host, sizeof host, &port))
		return fail(p,
			    "%s: '%s' is not unix:/path, inet:ADDR:PORT or "
			    "inet:[ADDR]:PORT (numeric address)",
			    key, buf);
	if (!is_unix)
		warn_exposed(p, key, buf, host);
	if (!strlist_add(ud, s, n, (unsigned)p->line))
		return fail(p, "out of memory");
	return true;
}

/* A milter endpoint, stored in the normalised form of listen=. */
static bool add_milter_endpoint(parser *p, const char *key, const char *s,
				size_t n, void *ud)
{
	char buf[256], norm[300];
	if (n >= sizeof buf)
		return fail(p, "%s: too long", key);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!spfkitd_milter_endpoint(buf, norm, sizeof norm))
		return fail(p,
			    "%s: '%s' is not inet:PORT@ADDR, inet6:PORT@ADDR, "
			    "inet:ADDR:PORT or unix:/path (numeric address "
			    "or localhost)",
			    key, buf);
	char host[128];
	bool is_unix;
	unsigned port;
	if (spfkitd_parse_endpoint(norm, &is_unix, host, sizeof host, &port) &&
	    !is_unix)
		warn_exposed(p, key, buf, host);
	if (!strlist_add(ud, norm, strlen(norm), (unsigned)p->line))
		return fail(p, "out of memory");
	return true;
}

/* ------------------------------------------------------------ policyd-spf */

/* Sets the actions of results list to reject, the others (but pass and
 * temperror) to accept. */
static void reject_only(spfkitd_action *a, const spfkit_result *list, size_t n)
{
	for (int r = 0; r < SPFKITD_NRESULTS; r++)
		if (r != SPFKIT_RESULT_TEMPERROR &&
		    r != SPFKIT_RESULT_PERMERROR)
			a[r] = SPFKITD_ACCEPT;
	for (size_t i = 0; i < n; i++)
		a[list[i]] = SPFKITD_REJECT;
}

/* HELO_reject and Mail_From_reject (policyd-spf.conf(5)). */
static bool policyd_reject(parser *p, const char *key, const char *v, bool helo)
{
	spfkitd_conf *c = p->c;
	spfkitd_action *a = helo ? c->helo_action : c->mailfrom_action;
	size_t n = strlen(v);
	static const spfkit_result fail_only[] = {SPFKIT_RESULT_FAIL};
	static const spfkit_result soft[] = {SPFKIT_RESULT_FAIL,
					     SPFKIT_RESULT_SOFTFAIL};
	static const spfkit_result not_pass[] = {
	    SPFKIT_RESULT_FAIL, SPFKIT_RESULT_SOFTFAIL, SPFKIT_RESULT_NEUTRAL,
	    SPFKIT_RESULT_PERMERROR};
	if (helo)
		c->helo_null_only = false;
	if (helo)
		c->helo_check = true;
	else
		c->mailfrom_check = true;
	if (ieq(v, n, "Fail")) {
		reject_only(a, fail_only, 1);
	} else if (ieq(v, n, "Softfail")) {
		reject_only(a, soft, 2);
	} else if (ieq(v, n, "SPF_Not_Pass")) {
		reject_only(a, not_pass, 4);
	} else if (ieq(v, n, "False")) {
		reject_only(a, NULL, 0);
		a[SPFKIT_RESULT_PERMERROR] = SPFKITD_ACCEPT;
		a[SPFKIT_RESULT_TEMPERROR] = SPFKITD_ACCEPT;
	} else if (ieq(v, n, "No_Check")) {
		if (helo)
			c->helo_check = false;
		else
			c->mailfrom_check = false;
	} else if (helo && ieq(v, n, "Null")) {
		reject_only(a, fail_only, 1);
		c->helo_null_only = true;
	} else {
		return fail(p,
			    "%s: '%s' is not Fail, Softfail, SPF_Not_Pass, "
			    "%sFalse or No_Check",
			    key, v, helo ? "Null, " : "");
	}
	return true;
}

/* ------------------------------------------------------------ keys */

static const char *const result_keys[SPFKITD_NRESULTS] = {
    "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"};

static int facility_of(const char *v)
{
	static const struct {
		const char *name;
		int fac;
	} f[] = {{"mail", LOG_MAIL},     {"daemon", LOG_DAEMON},
		 {"user", LOG_USER},     {"local0", LOG_LOCAL0},
		 {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
		 {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
		 {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
		 {"local7", LOG_LOCAL7}};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (ieq(v, strlen(v), f[i].name))
			return f[i].fac;
	return -1;
}

/* test_only: yes (every result), no, or a list of results (fail,
 * softfail, ...) whose action is only logged. */
static bool parse_test_only(parser *p, const char *key, const char *v)
{
	bool all;
	parser q = *p;
	q.errlen = 0;
	if (parse_bool(&q, key, v, &all)) {
		p->c->test_only = all ? (1u << SPFKITD_NRESULTS) - 1 : 0;
		return true;
	}
	unsigned mask = 0;
	for (const char *s = v; *s;) {
		while (*s == ',' || is_space((unsigned char)*s))
			s++;
		const char *e = s;
		while (*e && *e != ',' && !is_space((unsigned char)*e))
			e++;
		if (e == s)
			break;
		int r = 0;
		while (r < SPFKITD_NRESULTS &&
		       !ieq(s, (size_t)(e - s), result_keys[r]))
			r++;
		if (r == SPFKITD_NRESULTS)
			return fail(p,
				    "%s: '%.*s' is not yes, no or a result "
				    "(fail, softfail, neutral, none, "
				    "permerror, temperror)",
				    key, (int)(e - s > 40 ? 40 : e - s), s);
		mask |= 1u << r;
		s = e;
	}
	p->c->test_only = mask;
	return true;
}

/* How the value of a plain key is read. */
typedef enum key_kind {
	K_BOOL,     /* parse_bool() into a bool */
	K_DURATION, /* parse_duration() into a uint32_t of ms */
	K_UINT,     /* parse_uint() from lo to hi into an unsigned */
	K_ACTION,   /* parse_action() (reject allowed when lo) */
	K_STRING,   /* set_string() into a char * */
	K_LIST      /* each_item() with add into a list */
} key_kind;

/* The offset of field f of spfkitd_conf, which must be of type T. */
#define FIELD(T, f)                                                            \
	_Generic(((spfkitd_conf *)0)->f, T : offsetof(spfkitd_conf, f))
/* The same for a list of strings or address blocks. */
#define LIST(f)                                                                \
	_Generic(((spfkitd_conf *)0)->f, spfkitd_strlist                       \
		 : offsetof(spfkitd_conf, f), spfkitd_cidrlist                 \
		 : offsetof(spfkitd_conf, f))

/* The keys that set one field with one of the readers above; the other
 * keys have their own code in apply(). alias: an older or policyd-spf
 * name. */
static const struct plain_key {
	const char *name, *alias;
	key_kind kind;
	size_t off;
	unsigned lo, hi;
	item_fn *add;
} plain_keys[] = {
    {"helo_check", NULL, K_BOOL, FIELD(bool, helo_check), 0, 0, NULL},
    {"mailfrom_check", NULL, K_BOOL, FIELD(bool, mailfrom_check), 0, 0, NULL},
    {"internal_error_action", NULL, K_ACTION,
     FIELD(spfkitd_action, internal_error_action), 0, 0, NULL},
    {"reject_code", NULL, K_UINT, FIELD(unsigned, reject_code), 500, 599, NULL},
    {"defer_code", NULL, K_UINT, FIELD(unsigned, defer_code), 400, 499, NULL},
    {"hide_receiver", NULL, K_BOOL, FIELD(bool, hide_receiver), 0, 0, NULL},
    {"skip_authenticated", NULL, K_BOOL, FIELD(bool, skip_authenticated), 0, 0,
     NULL},
    {"whitelist_ip", "whitelist", K_LIST, LIST(whitelist_ip), 0, 0, add_cidr},
    {"whitelist_helo", NULL, K_LIST, LIST(whitelist_helo), 0, 0, add_domain},
    {"whitelist_sender_domain", NULL, K_LIST, LIST(whitelist_sender_domain), 0,
     0, add_domain},
    {"must_pass_domains", NULL, K_LIST, LIST(must_pass_domains), 0, 0,
     add_domain},
    {"nameserver", NULL, K_LIST, LIST(nameservers), 0, 0, add_nameserver},
    {"recursive", NULL, K_BOOL, FIELD(bool, recursive), 0, 0, NULL},
    {"prefetch", NULL, K_BOOL, FIELD(bool, prefetch), 0, 0, NULL},
    {"trust_anchor", NULL, K_STRING, FIELD(char *, trust_anchor), 0, 0, NULL},
    {"query_timeout", NULL, K_DURATION, FIELD(uint32_t, query_timeout_ms), 0, 0,
     NULL},
    {"deadline", "lookup_time", K_DURATION, FIELD(uint32_t, deadline_ms), 0, 0,
     NULL},
    {"listen", NULL, K_LIST, LIST(listen), 0, 0, add_endpoint},
    {"milter_listen", NULL, K_LIST, LIST(milter_listen), 0, 0,
     add_milter_endpoint},
    {"user", NULL, K_STRING, FIELD(char *, user), 0, 0, NULL},
    {"pid_file", NULL, K_STRING, FIELD(char *, pid_file), 0, 0, NULL},
    {"max_connections", NULL, K_UINT, FIELD(unsigned, max_connections), 1,
     100000, NULL},
    {"metrics_max_connections", NULL, K_UINT,
     FIELD(unsigned, metrics_max_connections), 1, 1000, NULL},
    {"idle_timeout", NULL, K_DURATION, FIELD(uint32_t, idle_timeout_ms), 0, 0,
     NULL},
    {"srs_local_domains", NULL, K_LIST, LIST(srs_local_domains), 0, 0,
     add_domain},
    {"srs_listen", NULL, K_LIST, LIST(srs_listen), 0, 0, add_endpoint},
    {"srs_max_age", NULL, K_UINT, FIELD(unsigned, srs_max_age), 1, 1022, NULL},
    {"srs_hash_length", NULL, K_UINT, FIELD(unsigned, srs_hash_length), 4, 26,
     NULL},
    {"srs_milter", NULL, K_BOOL, FIELD(bool, srs_milter), 0, 0, NULL},
    {"srs_reject_forged", NULL, K_BOOL, FIELD(bool, srs_reject_forged), 0, 0,
     NULL},
    {"srs_too_long", NULL, K_ACTION, FIELD(spfkitd_action, srs_too_long), 1, 0,
     NULL},
};

/* Applies a plain key k to its field of c. */
static bool apply_plain(parser *p, const struct plain_key *k, const char *key,
			const char *v)
{
	void *field = (char *)p->c + k->off;
	switch (k->kind) {
	case K_BOOL: return parse_bool(p, key, v, field);
	case K_DURATION: return parse_duration(p, key, v, field);
	case K_UINT: return parse_uint(p, key, v, k->lo, k->hi, field);
	case K_ACTION: return parse_action(p, key, v, k->lo, false, field);
	case K_STRING: return set_string(p, field, v);
	case K_LIST: return each_item(p, key, v, k->add, field);
	}
	return false;
}

/* Applies one `key = value` line. */
static bool apply(parser *p, const char *k, size_t kn, const char *v)
{
	spfkitd_conf *c = p->c;
	char key[64];
	if (kn >= sizeof key)
		return fail(p, "unknown key '%.*s'", 40, k);
	for (size_t i = 0; i < kn; i++)
		key[i] = (char)lower((unsigned char)k[i]);
	key[kn] = '\0';
	note_key(p, key);
	if (p->pd) {
		int r = spfkitd_policyd_apply(p->pd, c, (unsigned)p->line, k,
					      kn, v);
		if (r != SPFKITD_POLICYD_NOT_MINE)
			return r == SPFKITD_POLICYD_TAKEN ||
			       fail(p, "no memory");
	}

	/* helo_RESULT and mailfrom_RESULT. */
	for (int r = 0; r < SPFKITD_NRESULTS; r++) {
		char name[32];
		bool temp = r == SPFKIT_RESULT_TEMPERROR;
		if (r == SPFKIT_RESULT_PASS)
			continue;
		snprintf(name, sizeof name, "helo_%s", result_keys[r]);
		if (strcmp(key, name) == 0)
			return parse_action(p, key, v, !temp, true,
					    &c->helo_action[r]);
		snprintf(name, sizeof name, "mailfrom_%s", result_keys[r]);
		if (strcmp(key, name) == 0)
			return parse_action(p, key, v, !temp, true,
					    &c->mailfrom_action[r]);
	}
	/* policyd-spf's names for lists that mean more there: a HELO or
	 * sender domain whose own SPF the client passes. Read as spfkitd's
	 * whitelist_helo or whitelist_sender_domain, anyone forging such a
	 * name would skip SPF; say so instead (a policyd-spf file gets the
	 * same word from config_policyd.c). */
	if (strcmp(key, "helo_whitelist") == 0 ||
	    strcmp(key, "domain_whitelist") == 0) {
		warn(
		    p,
		    "%s: ignored: in policyd-spf it exempts clients that pass "
		    "the listed domains' SPF; spfkitd's %s would exempt anyone "
		    "forging them: list the relays' addresses in whitelist_ip",
		    key,
		    key[0] == 'h' ? "whitelist_helo"
				  : "whitelist_sender_domain");
		return true;
	}
	for (size_t i = 0; i < sizeof plain_keys / sizeof plain_keys[0]; i++) {
		const struct plain_key *pk = &plain_keys[i];
		if (strcmp(key, pk->name) == 0 ||
		    (pk->alias && strcmp(key, pk->alias) == 0)) {
			note_key(p, pk->name);
			return apply_plain(p, pk, key, v);
		}
	}
	if (strcmp(key, "test_only") == 0)
		return parse_test_only(p, key, v);

	if (strcmp(key, "reject_reason") == 0 ||
	    strcmp(key, "defer_reason") == 0) {
		const char *why = spfkitd_template_check(v);
		if (why)
			return fail(p, "%s: %s", key, why);
		if (strlen(v) > 400)
			return fail(p, "%s: longer than 400 characters", key);
		return set_string(
		    p, key[0] == 'r' ? &c->reject_reason : &c->defer_reason, v);
	}
	if (strcmp(key, "header") == 0 || strcmp(key, "header_type") == 0) {
		size_t n = strlen(v);
		if (ieq(v, n, "received-spf") || ieq(v, n, "spf"))
			c->header = SPFKITD_HEADER_RECEIVED_SPF;
		else if (ieq(v, n, "authentication-results") || ieq(v, n, "ar"))
			c->header = SPFKITD_HEADER_AUTHRES;
		else if (ieq(v, n, "none"))
			c->header = SPFKITD_HEADER_NONE;
		else
			return fail(p,
				    "%s: '%s' is not received-spf, "
				    "authentication-results or none",
				    key, v);
		return true;
	}
	if (strcmp(key, "authserv_id") == 0) {
		if (!*v || strlen(v) > 253)
			return fail(p, "%s: give a host name", key);
		return set_string(p, &c->authserv_id, v);
	}
	if (strcmp(key, "receiver") == 0) {
		if (strlen(v) > 253)
			return fail(p, "%s: longer than 253", key);
		return set_string(p, &c->receiver, v);
	}
	if (strcmp(key, "explanation") == 0) {
		/* Checked against the library's macro grammar on use. */
		spfkit_config *tmp = NULL;
		if (spfkit_config_new(&tmp, NULL) < 0)
			return fail(p, "out of memory");
		int rc = spfkit_config_set_default_explanation(tmp, v);
		spfkit_config_free(tmp);
		if (rc < 0)
			return fail(p,
				    "%s: not a valid macro-string (RFC 7208 "
				    "§7.1)",
				    key);
		return set_string(p, &c->explanation, v);
	}
	if (strcmp(key, "skip_addresses") == 0) {
		if (!p->skip_set) {
			c->skip_addresses.n = 0; /* drop the defaults */
			p->skip_set = true;
		}
		return each_item(p, key, v, add_cidr, &c->skip_addresses);
	}
	if (strcmp(key, "zone_file") == 0) {
		if (!*v)
			return fail(p, "%s: give a path", key);
		if (!strlist_add(&c->zone_files, v, strlen(v),
				 (unsigned)p->line))
			return fail(p, "out of memory");
		return true;
	}
	if (strcmp(key, "metrics_listen") == 0)
		return set_one(p, key, v, add_endpoint, false,
			       &c->metrics_listen, "endpoint");
	if (strcmp(key, "chroot") == 0) {
		if (v[0] != '/')
			return fail(p, "%s: give an absolute path", key);
		return set_string(p, &c->chroot_dir, v);
	}
	if (strcmp(key, "log") == 0) {
		size_t n = strlen(v);
		if (ieq(v, n, "syslog"))
			c->log = SPFKITD_LOG_SYSLOG;
		else if (ieq(v, n, "stderr"))
			c->log = SPFKITD_LOG_STDERR;
		else
			return fail(p, "%s: '%s' is not syslog or stderr", key,
				    v);
		return true;
	}
	if (strcmp(key, "log_facility") == 0) {
		int f = facility_of(v);
		if (f < 0)
			return fail(p, "%s: '%s' is not a syslog facility", key,
				    v);
		c->log_facility = f;
		return true;
	}

	/* SRS. */
	if (strcmp(key, "srs_domain") == 0)
		return set_one(p, key, v, add_domain, true, &c->srs_domain,
			       "domain name");
	if (strcmp(key, "srs_secrets") == 0) {
		if (!*v)
			return fail(p, "%s: give a path", key);
		return set_string(p, &c->srs_secrets, v);
	}
	if (strcmp(key, "srs_separator") == 0) {
		if (strlen(v) != 1 || !strchr("=+-", v[0]))
			return fail(p, "%s: '%s' is not =, + or -", key, v);
		c->srs_separator = v[0];
		return true;
	}

	/* policyd-spf.conf(5) names. */
	if (strcmp(key, "helo_reject") == 0)
		return policyd_reject(p, key, v, true);
	if (strcmp(key, "mail_from_reject") == 0)
		return policyd_reject(p, key, v, false);
	if (strcmp(key, "permerror_reject") == 0 ||
	    strcmp(key, "temperror_defer") == 0) {
		bool on;
		if (!parse_bool(p, key, v, &on))
			return false;
		if (key[0] == 'p') { /* permerror_reject */
			spfkitd_action a = on ? SPFKITD_REJECT : SPFKITD_ACCEPT;
			c->helo_action[SPFKIT_RESULT_PERMERROR] = a;
			c->mailfrom_action[SPFKIT_RESULT_PERMERROR] = a;
		} else {
			spfkitd_action a = on ? SPFKITD_DEFER : SPFKITD_ACCEPT;
			c->helo_action[SPFKIT_RESULT_TEMPERROR] = a;
			c->mailfrom_action[SPFKIT_RESULT_TEMPERROR] = a;
		}
		return true;
	}
	if (p->pd) { /* policyd-spf goes on after an unknown key */
		char as[64];
		snprintf(as, sizeof as, "%.*s", (int)kn, k);
		return spfkitd_policyd_unknown(c, (unsigned)p->line, as) ||
		       fail(p, "out of memory");
	}
	return fail(p, "unknown key '%s'", key);
}

/* ------------------------------------------------------------ files */

/* The one of keys (NULL-terminated) set last in the file, and its line
 * in *line (0: none was set). */
static const char *last_set(const spfkitd_conf *c, const char *const *keys,
			    unsigned *line)
{
	const char *which = keys[0];
	*line = 0;
	for (size_t i = 0; keys[i]; i++) {
		unsigned l = spfkitd_conf_line(c, keys[i]);
		if (l > *line) {
			*line = l;
			which = keys[i];
		}
	}
	return which;
}

/* What only the whole file can say: keys that need or exclude others,
 * reported at the line of the key that completed the conflict. */
static void check_keys(parser *p)
{
	spfkitd_conf *c = p->c;
	unsigned line;
	const char *key;
	if (c->recursive && c->nameservers.n) {
		static const char *const k[] = {"recursive", "nameserver",
						NULL};
		key = last_set(c, k, &line);
		fail_at(p, line,
			"%s: recursive = yes and nameserver exclude "
			"each other",
			key);
		return;
	}
	if (!c->helo_check && !c->mailfrom_check) {
		static const char *const k[] = {"helo_check", "mailfrom_check",
						"helo_reject",
						"mail_from_reject", NULL};
		key = last_set(c, k, &line);
		fail_at(p, line,
			"%s: helo_check and mailfrom_check are both off", key);
		return;
	}
	if ((c->srs_listen.n || c->srs_milter || c->srs_secrets ||
	     c->srs_local_domains.n) &&
	    !c->srs_domain) {
		static const char *const k[] = {"srs_listen", "srs_milter",
						"srs_secrets",
						"srs_local_domains", NULL};
		key = last_set(c, k, &line);
		fail_at(p, line, "%s: needs srs_domain", key);
		return;
	}
	if (c->srs_domain && !c->srs_secrets)
		fail_at(p, spfkitd_conf_line(c, "srs_domain"),
			"srs_domain: needs srs_secrets (a file of secrets, one "
			"per line)");
}

static bool add_default_skips(spfkitd_conf *c)
{
	static const char *const d[] = {"127.0.0.0/8", "::1/128"};
	for (size_t i = 0; i < 2; i++) {
		spfkitd_cidr cidr;
		if (!spfkitd_parse_cidr(d[i], strlen(d[i]), &cidr) ||
		    !spfkitd_cidrlist_add(&c->skip_addresses, &cidr))
			return false;
	}
	return true;
}

spfkitd_conf *spfkitd_conf_defaults(void)
{
	spfkitd_conf *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->helo_check = c->mailfrom_check = true;
	for (int r = 0; r < SPFKITD_NRESULTS; r++)
		c->helo_action[r] = c->mailfrom_action[r] = SPFKITD_ACCEPT;
	c->helo_action[SPFKIT_RESULT_FAIL] = SPFKITD_REJECT;
	c->mailfrom_action[SPFKIT_RESULT_FAIL] = SPFKITD_REJECT;
	c->mailfrom_action[SPFKIT_RESULT_TEMPERROR] = SPFKITD_DEFER;
	c->internal_error_action = SPFKITD_ACCEPT;
	c->reject_code = 550;
	c->defer_code = 451;
	c->header = SPFKITD_HEADER_RECEIVED_SPF;
	c->skip_authenticated = true;
	c->prefetch = true;
	c->query_timeout_ms = 5000;
	c->deadline_ms = 20000; /* RFC 7208 §4.6.4: at least 20 s */
	c->log = SPFKITD_LOG_SYSLOG;
	c->log_facility = LOG_MAIL;
	c->max_connections = 1000;
	c->metrics_max_connections = 16;
	c->idle_timeout_ms = 600000;
	c->srs_max_age = 21; /* libsrs2's and postsrsd's */
	c->srs_hash_length = 4;
	c->srs_separator = '=';
	c->srs_reject_forged = true;
	c->void_limit = 2;
	c->enhanced_codes = true;
	c->srs_too_long = SPFKITD_ACCEPT;
	c->reject_reason = strdup("SPF %{result}: %{explanation}");
	c->defer_reason = strdup("SPF %{result}: %{explanation}");
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) != 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	c->receiver = strdup(host);
	if (!c->reject_reason || !c->defer_reason || !c->receiver ||
	    !add_default_skips(c)) {
		spfkitd_conf_free(c);
		return NULL;
	}
	return c;
}

spfkitd_conf *spfkitd_conf_parse(const char *name, const char *text, size_t len,
				 char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	parser p = {.name = name, .err = err, .errlen = errlen};
	p.c = spfkitd_conf_defaults();
	if (!p.c) {
		fail(&p, "out of memory");
		return NULL;
	}
	p.c->path = strdup(name);
	if (!p.c->path)
		fail(&p, "out of memory");
	if (len > CONF_MAX_BYTES)
		fail(&p, "larger than %u bytes", CONF_MAX_BYTES);
	bool nomem = false;
	if (!p.failed && (p.pd = spfkitd_policyd_new(text, len, &nomem)) &&
	    !spfkitd_policyd_defaults(p.pd, p.c))
		nomem = true;
	if (nomem)
		fail(&p, "out of memory");
	size_t pos = 0;
	char line[CONF_LINE_MAX + 1];
	while (!p.failed && pos < len) {
		p.line++;
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		if (n > CONF_LINE_MAX && p.pd) { /* warned about, skipped */
			if (!spfkitd_policyd_bad_line(p.c, (unsigned)p.line, s,
						      40))
				fail(&p, "out of memory");
			continue;
		}
		if (n > CONF_LINE_MAX) {
			fail(&p, "line longer than %u bytes", CONF_LINE_MAX);
			break;
		}
		if (memchr(s, '\0', n)) {
			fail(&p, "NUL byte");
			break;
		}
		while (n && is_space((unsigned char)s[n - 1]))
			n--;
		while (n && is_space((unsigned char)*s)) {
			s++;
			n--;
		}
		if (p.pd && memchr(s, '#', n)) /* a comment anywhere */
			n = (size_t)((const char *)memchr(s, '#', n) - s);
		while (n && is_space((unsigned char)s[n - 1]))
			n--;
		if (n == 0 || *s == '#')
			continue;
		const char *eq = memchr(s, '=', n);
		if (p.pd && (!eq || eq == s)) {
			if (!spfkitd_policyd_bad_line(p.c, (unsigned)p.line, s,
						      n))
				fail(&p, "out of memory");
			continue;
		}
		if (!eq) {
			fail(&p, "expected 'key = value'");
			break;
		}
		size_t kn = (size_t)(eq - s);
		while (kn && is_space((unsigned char)s[kn - 1]))
			kn--;
		if (kn == 0) {
			fail(&p, "a key is missing before '='");
			break;
		}
		const char *v = eq + 1;
		size_t vn = n - (size_t)(v - s);
		while (vn && is_space((unsigned char)*v)) {
			v++;
			vn--;
		}
		memcpy(line, v, vn);
		line[vn] = '\0';
		apply(&p, s, kn, line);
	}
	p.line = 0;
	spfkitd_conf *c = p.c;
	if (p.pd && !p.failed && !spfkitd_policyd_finish(p.pd, c))
		fail(&p, "out of memory");
	spfkitd_policyd_free(p.pd);
	if (!p.failed && c->header == SPFKITD_HEADER_AUTHRES &&
	    !c->authserv_id && !set_string(&p, &c->authserv_id, c->receiver))
		fail(&p, "out of memory");
	if (!p.failed)
		check_keys(&p);
	if (p.failed) {
		spfkitd_conf_free(c);
		return NULL;
	}
	return c;
}

spfkitd_conf *spfkitd_conf_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return NULL;
	}
	if ((uint64_t)st.st_size > CONF_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u bytes", path,
			 CONF_MAX_BYTES);
		fclose(f);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1;
	char *buf = malloc(cap);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}
	size_t n = fread(buf, 1, cap, f);
	bool bad = ferror(f) || n == cap;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: read error or file changed", path);
		free(buf);
		return NULL;
	}
	spfkitd_conf *c = spfkitd_conf_parse(path, buf, n, err, errlen);
	free(buf);
	return c;
}
