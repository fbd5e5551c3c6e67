/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flatten_check.c - `spfkit flatten DOMAIN --check FILE`: for cron and
 * CI, compares the published flattened records (FILE, a master file,
 * laid over the DNS the options name) with a fresh flattening of the
 * sources, and names what drifted: per qualifier the addresses that came
 * or went, and per include (from the "; source include:NAME" lines the
 * snippet carries) which one changed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "cli.h"
#include "flatten.h"

/* Adds "ip4:A/N" or "ip6:A/N" to s4 or s6; false when it is neither. */
static bool add_term(const char *t, fl_set *s4, fl_set *s6)
{
	bool v4 = strncasecmp(t, "ip4:", 4) == 0;
	if (!v4 && strncasecmp(t, "ip6:", 4) != 0)
		return false;
	char a[64];
	size_t n = strcspn(t + 4, "/");
	if (n >= sizeof a)
		return false;
	memcpy(a, t + 4, n);
	a[n] = '\0';
	unsigned bits = v4 ? 32 : 128, len = bits;
	if (t[4 + n] == '/') {
		uint64_t v;
		if (!cli_parse_num(t + 5 + n, 0, bits, &v))
			return false;
		len = (unsigned)v;
	}
	unsigned char b[16];
	if (inet_pton(v4 ? AF_INET : AF_INET6, a, b) != 1)
		return false;
	fl_set_add_block(v4 ? s4 : s6, b, len);
	return true;
}

/* Writes "LABEL: came TERMS; went TERMS" for the two sets of a family
 * pair; true when anything differs. */
static bool put_change(const char *label, const fl_set *now4,
		       const fl_set *now6, const fl_set *was4,
		       const fl_set *was6)
{
	fl_set c4, c6, g4, g6;
	fl_set_diff(&c4, now4, was4);
	fl_set_diff(&c6, now6, was6);
	fl_set_diff(&g4, was4, now4);
	fl_set_diff(&g6, was6, now6);
	bool any = c4.n || c6.n || g4.n || g6.n;
	if (any) {
		char *came = NULL, *went = NULL;
		size_t cn = 0, gn = 0;
		bool ok = fl_terms(&came, &cn, "", &c4) &&
			  fl_terms(&came, &cn, "", &c6) &&
			  fl_terms(&went, &gn, "", &g4) &&
			  fl_terms(&went, &gn, "", &g6);
		if (ok)
			printf("drift: %s: came %s; went %s\n", label,
			       came ? came : "nothing",
			       went ? went : "nothing");
		free(came);
		free(went);
	}
	fl_set_free(&c4);
	fl_set_free(&c6);
	fl_set_free(&g4);
	fl_set_free(&g6);
	return any;
}

/* The "; source include:NAME TERMS" lines of the snippet against the
 * sources now. True when an include changed, came or went. */
static bool sources_drift(const char *path, const fl_policy *now)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool any = false;
	bool *seen = calloc(now->nsrc ? now->nsrc : 1, sizeof *seen);
	char line[65536];
	while (seen && fgets(line, sizeof line, f)) {
		if (strncmp(line, "; source include:", 17) != 0)
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		char *name = line + 17;
		char *terms = name + strcspn(name, " ");
		if (*terms)
			*terms++ = '\0';
		fl_set w4, w6, e4, e6;
		fl_set_init(&w4, 32);
		fl_set_init(&w6, 128);
		fl_set_init(&e4, 32);
		fl_set_init(&e6, 128);
		for (char *t = terms; *t;) {
			size_t n = strcspn(t, " ");
			char save = t[n];
			t[n] = '\0';
			add_term(t, &w4, &w6);
			t[n] = save;
			t += n;
			while (*t == ' ')
				t++;
		}
		fl_set_norm(&w4);
		fl_set_norm(&w6);
		const fl_source *s = NULL;
		for (size_t i = 0; i < now->nsrc; i++)
			if (strcasecmp(now->src[i].name, name) == 0) {
				s = &now->src[i];
				seen[i] = true;
			}
		char label[320];
		snprintf(label, sizeof label, "include:%s %s", cli_shown(name),
			 s ? "changed" : "is gone");
		if (put_change(label, s ? &s->s4 : &e4, s ? &s->s6 : &e6, &w4,
			       &w6))
			any = true;
		fl_set_free(&w4);
		fl_set_free(&w6);
	}
	for (size_t i = 0; seen && i < now->nsrc; i++) {
		if (seen[i])
			continue;
		fl_set e4, e6;
		fl_set_init(&e4, 32);
		fl_set_init(&e6, 128);
		char label[320];
		snprintf(label, sizeof label, "include:%s is new",
			 cli_shown(now->src[i].name));
		if (put_change(label, &now->src[i].s4, &now->src[i].s6, &e4,
			       &e6))
			any = true;
	}
	free(seen);
	fclose(f);
	return any;
}

/* DOMAIN's record before flattening, from the snippet's "; original"
 * line: its character-strings joined (RFC 1035 §5.1 escapes), malloc;
 * NULL when there is none (or out of memory: the DNS record is used). */
static char *original(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *line = NULL, *out = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	while (!out && (len = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, FL_ORIGINAL, strlen(FL_ORIGINAL)) != 0)
			continue;
		out = malloc((size_t)len + 1);
		if (!out)
			break;
		bool in = false;
		for (const char *s = line + strlen(FL_ORIGINAL); *s; s++) {
			if (*s == '"') {
				in = !in;
			} else if (in && *s == '\\' && s[1] >= '0' &&
				   s[1] <= '9' && s[2] && s[3]) {
				out[n++] =
				    (char)((s[1] - '0') * 100 +
					   (s[2] - '0') * 10 + (s[3] - '0'));
				s += 3;
			} else if (in && *s == '\\' && s[1]) {
				out[n++] = *++s;
			} else if (in) {
				out[n++] = *s;
			}
		}
		out[n] = '\0';
	}
	free(line);
	fclose(f);
	return out;
}

/* Do two kept items say the same? */
static bool same_kept(const fl_item *a, const fl_item *b)
{
	if (!a || !b)
		return a == b;
	return a->q == b->q && strcasecmp(a->text, b->text) == 0;
}

int fl_check(const cli_dns_opts *dns, const char *domain, const char **keep,
	     size_t nkeep, const char *snippet)
{
	FILE *probe = fopen(snippet, "r");
	if (!probe)
		return cli_say(FL_PROG, CLI_EX_NOINPUT,
			       "--check '%s': cannot "
			       "be read",
			       cli_shown(snippet));
	fclose(probe);
	fl_policy now = {0}, pub = {0};
	fl_final fn = {0}, fp = {0};
	cli_dns_opts over;
	const char **zones = fl_overlay(dns, snippet, &over);
	int status;
	if (!zones) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
		goto out;
	}
	char *rec = original(snippet);
	status = fl_build(FL_PROG, dns, domain, rec, keep, nkeep, &now);
	free(rec);
	if (status == 0 && now.problem)
		status = cli_say(FL_PROG, FL_EX_CANNOT,
				 "cannot flatten the sources of %s: %s", domain,
				 cli_shown(now.problem));
	if (status == 0)
		status =
		    fl_build(FL_PROG, &over, domain, NULL, keep, nkeep, &pub);
	if (status == 0 && pub.problem)
		status = cli_say(FL_PROG, FL_EX_CANNOT,
				 "the published records of %s: %s", domain,
				 cli_shown(pub.problem));
	if (status)
		goto out;
	fl_finalize(&now.items, &fn);
	fl_finalize(&pub.items, &fp);
	if (fn.oom || fp.oom) {
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "out of memory");
		goto out;
	}
	bool drift = sources_drift(snippet, &now);
	if (fn.n != fp.n || fn.all != fp.all ||
	    !same_kept(fn.redirect, fp.redirect)) {
		printf("drift: the terms that stay differ (a source added or "
		       "dropped a term that cannot be flattened)\n");
		drift = true;
	}
	for (size_t i = 0; i < fn.n && i < fp.n; i++) {
		if (!same_kept(fn.v[i].kept, fp.v[i].kept)) {
			/* Kept terms come from DNS: shown escaped. */
			printf("drift: the published record keeps '%s'",
			       fp.v[i].kept ? cli_shown(fp.v[i].kept->text)
					    : "nothing");
			printf(" where the sources now say '%s'\n",
			       fn.v[i].kept ? cli_shown(fn.v[i].kept->text)
					    : "nothing");
			drift = true;
		}
		for (int q = 0; q < 4; q++) {
			char label[64];
			snprintf(label, sizeof label, "%s's %c addresses",
				 domain, fl_quals[q]);
			if (put_change(label, &fn.v[i].s4[q], &fn.v[i].s6[q],
				       &fp.v[i].s4[q], &fp.v[i].s6[q]))
				drift = true;
		}
	}
	if (drift) {
		status = FL_EX_DRIFT;
	} else {
		printf("no drift: the published records of %s say what its "
		       "sources say\n",
		       domain);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		status = cli_say(FL_PROG, CLI_EX_SOFTWARE, "write error");
out:
	free(zones);
	fl_final_free(&fn);
	fl_final_free(&fp);
	fl_policy_free(&now);
	fl_policy_free(&pub);
	return status;
}
