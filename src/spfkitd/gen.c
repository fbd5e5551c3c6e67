/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen.c - generations of the configuration (server.h, server_int.h). A
 * generation is a loaded configuration with what checks need from it:
 * the library config, the zone, the resolver and the SRS handle. A reload
 * (SIGHUP) makes a new one for new requests and leaves requests already
 * being checked with the old one until they finish; the old generation is
 * freed then (gen_reap()). A reload that changes no DNS setting keeps the
 * resolver, and so the answers it holds: the new generation shares it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_int.h"
#include "zone_yaml.h"

/* Lets go of a generation's hold on its resolver. */
static void dns_unref(spfkitd_dns *d)
{
	if (!d || --d->refs)
		return;
	spfkit_resolver_free(d->res);
	spfkit_config_free(d->scfg);
	free(d);
}

void spfkitd_gen_free(spfkitd_gen *g)
{
	if (!g)
		return;
	dns_unref(g->dns);
	spfkit_srs_free(g->srs);
	spfkit_zone_free(g->zone);
	spfkit_config_free(g->scfg);
	spfkitd_conf_free(g->conf);
	free(g);
}

const spfkitd_conf *spfkitd_gen_conf(const spfkitd_gen *g)
{
	return g->conf;
}

/* Does path name a file we can open? For messages before any work:
 * "FILE:LINE: key: [what ]path: why". */
static bool readable(const spfkitd_conf *c, const char *key, const char *what,
		     const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		spfkitd_conf_error(c, spfkitd_conf_line(c, key), key, err,
				   errlen, "%s%s: %s", what, path,
				   strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* The library config of a configuration. */
static int scfg_setup(spfkitd_gen *g)
{
	const spfkitd_conf *conf = g->conf;
	int rc = spfkit_config_new(&g->scfg, NULL);
	if (rc >= 0)
		rc = spfkit_config_set_receiver(
		    g->scfg, conf->hide_receiver ? "" : conf->receiver);
	if (rc >= 0 && conf->explanation)
		rc = spfkit_config_set_default_explanation(g->scfg,
							   conf->explanation);
	if (rc >= 0)
		rc = spfkit_config_set_limit(g->scfg, SPFKIT_LIMIT_DEADLINE_MS,
					     conf->deadline_ms);
	if (rc >= 0)
		rc = spfkit_config_set_limit(g->scfg, SPFKIT_LIMIT_VOID_LOOKUPS,
					     conf->void_limit);
	if (rc >= 0)
		rc = spfkit_config_set_prefetch(g->scfg, conf->prefetch);
	return rc;
}

/* Loads the zone_file= files, if any, into g's zone. */
static bool zone_setup(spfkitd_gen *g, char *err, size_t errlen)
{
	const spfkitd_conf *conf = g->conf;
	if (!conf->zone_files.n)
		return true;
	int rc = spfkit_zone_new(&g->zone, g->scfg);
	if (rc < 0) {
		spfkitd_conf_error(
		    conf, spfkitd_strlist_line(&conf->zone_files, 0),
		    "zone_file", err, errlen, "%s", spfkit_strerror(rc));
		return false;
	}
	for (size_t i = 0; i < conf->zone_files.n; i++) {
		char msg[512] = "";
		rc = zone_file_load(g->zone, g->scfg, conf->zone_files.v[i],
				    msg, sizeof msg);
		if (rc < 0) {
			spfkitd_conf_error(
			    conf, spfkitd_strlist_line(&conf->zone_files, i),
			    "zone_file", err, errlen, "%s",
			    msg[0] ? msg : spfkit_strerror(rc));
			return false;
		}
	}
	return true;
}

/* The resolver of g: nameserver=, recursion or /etc/resolv.conf, with
 * the zone answering the names it holds. */
static bool resolver_setup(spfkitd_gen *g, char *err, size_t errlen)
{
	const spfkitd_conf *conf = g->conf;
	g->dns = calloc(1, sizeof *g->dns);
	if (!g->dns) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	g->dns->refs = 1;
	int rc = spfkit_config_new(&g->dns->scfg, NULL);
	if (rc >= 0)
		rc = spfkit_resolver_new(&g->dns->res, g->dns->scfg);
	g->res = g->dns->res;
	const char *key = "nameserver"; /* whose setting failed */
	unsigned line = 0;
	for (size_t i = 0; rc >= 0 && i < conf->nameservers.n; i++) {
		line = spfkitd_strlist_line(&conf->nameservers, i);
		rc = spfkit_resolver_add_nameserver(g->res,
						    conf->nameservers.v[i]);
	}
	if (rc >= 0 && conf->recursive) {
		key = "recursive";
		line = spfkitd_conf_line(conf, key);
		rc = spfkit_resolver_set_recursive(g->res);
	}
	if (rc >= 0 && !conf->recursive && !conf->nameservers.n) {
		if (!readable(conf, "nameserver", "none given, and ",
			      "/etc/resolv.conf", err, errlen))
			return false;
		rc = spfkit_resolver_use_resolvconf(g->res, NULL);
	}
	if (rc >= 0 && conf->trust_anchor) {
		if (!readable(conf, "trust_anchor", "", conf->trust_anchor, err,
			      errlen))
			return false;
		key = "trust_anchor";
		line = spfkitd_conf_line(conf, key);
		rc = spfkit_resolver_set_trust_anchor_file(g->res,
							   conf->trust_anchor);
	}
	if (rc >= 0 && g->zone)
		rc = spfkit_resolver_set_zone(g->res, g->zone);
	if (rc >= 0)
		rc = spfkit_resolver_set_query_timeout(g->res,
						       conf->query_timeout_ms);
	if (rc < 0) {
		spfkitd_conf_error(conf, line, key, err, errlen, "DNS: %s",
				   spfkit_strerror(rc));
		return false;
	}
	return true;
}

/* Is every string of a equal to b's (NULL equals NULL)? */
static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strlist_eq(const spfkitd_strlist *a, const spfkitd_strlist *b);

/* May a generation of b use the resolver of a's? Only with the same DNS
 * settings, and without zone files (a zone file may have changed, and
 * the zone a resolver answers from belongs to its generation). */
static bool dns_alike(const spfkitd_conf *a, const spfkitd_conf *b)
{
	return strlist_eq(&a->nameservers, &b->nameservers) &&
	       a->recursive == b->recursive &&
	       same_str(a->trust_anchor, b->trust_anchor) &&
	       a->query_timeout_ms == b->query_timeout_ms &&
	       a->zone_files.n == 0 && b->zone_files.n == 0;
}

/* A generation for conf, sharing prev's resolver when it may (prev may be
 * NULL). */
static spfkitd_gen *gen_build(spfkitd_conf *conf, const spfkitd_gen *prev,
			      char *err, size_t errlen)
{
	spfkitd_gen *g = calloc(1, sizeof *g);
	if (!g) {
		spfkitd_conf_free(conf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->conf = conf;
	int rc = scfg_setup(g);
	if (rc < 0) {
		snprintf(err, errlen, "library config: %s",
			 spfkit_strerror(rc));
		goto fail;
	}
	if (conf->srs_domain && !srs_setup(g, err, errlen))
		goto fail;
	if (!zone_setup(g, err, errlen))
		goto fail;
	/* A zone alone answers everything (hermetic: no resolver, no
	 * /etc/resolv.conf); with a nameserver or recursion the zone only
	 * answers the names it holds. */
	if (g->zone && !conf->nameservers.n && !conf->recursive)
		return g;
	if (prev && prev->dns && dns_alike(prev->conf, conf)) {
		g->dns = prev->dns;
		g->dns->refs++;
		g->res = g->dns->res;
		return g;
	}
	if (!resolver_setup(g, err, errlen))
		goto fail;
	return g;
fail:
	spfkitd_gen_free(g);
	return NULL;
}

spfkitd_gen *spfkitd_gen_new(spfkitd_conf *conf, char *err, size_t errlen)
{
	return gen_build(conf, NULL, err, errlen);
}

bool gen_res_first(const spfkitd_server *s, const spfkitd_gen *g)
{
	for (const spfkitd_gen *h = s->gens; h && h != g; h = h->next)
		if (h->res == g->res)
			return false;
	return true;
}

void gen_unref(spfkitd_gen *g)
{
	if (g && g->refs)
		g->refs--;
}

void gen_reap(spfkitd_server *s)
{
	spfkitd_gen **pp = &s->gens;
	while (*pp) {
		spfkitd_gen *g = *pp;
		if (g != s->cur && g->refs == 0) {
			*pp = g->next;
			/* /metrics counts the queries of every resolver. */
			if (g->dns && g->dns->refs == 1)
				s->m.dns_sent_gone +=
				    spfkit_resolver_queries_sent(g->res);
			spfkitd_gen_free(g);
		} else {
			pp = &g->next;
		}
	}
}

/* Do two lists hold the same strings in the same order? */
static bool strlist_eq(const spfkitd_strlist *a, const spfkitd_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

void gen_reload(spfkitd_server *s, const char *path)
{
	char err[1024];
	spfkitd_conf *c = spfkitd_conf_load(path, err, sizeof err);
	spfkitd_gen *g = c ? gen_build(c, s->cur, err, sizeof err) : NULL;
	if (!g) {
		s->m.reload_failures++;
		spfkitd_log(LOG_ERR,
			    "reload failed, old configuration kept: %s", err);
		return;
	}
	/* Sockets are bound once, at start. */
	const spfkitd_conf *old = s->cur->conf;
	if (!strlist_eq(&old->listen, &g->conf->listen) ||
	    !strlist_eq(&old->milter_listen, &g->conf->milter_listen) ||
	    !strlist_eq(&old->srs_listen, &g->conf->srs_listen))
		spfkitd_log(LOG_WARNING, "reload: listen=, milter_listen= and "
					 "srs_listen= changes take a restart");
	if (g->conf->log != old->log ||
	    g->conf->log_facility != old->log_facility)
		spfkitd_log_open(g->conf->log, g->conf->log_facility);
	s->cur->refs--;
	g->next = s->gens;
	s->gens = g;
	s->cur = g;
	g->refs++;
	s->m.reloads++;
	spfkitd_log(LOG_INFO, "reloaded %s%s", path,
		    g->dns && g->dns->refs > 1 ? " (DNS cache kept)" : "");
}
