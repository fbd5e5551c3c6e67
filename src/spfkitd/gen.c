/*
 * gen.c - generations of the configuration (server.h, server_int.h). A
 * generation is a loaded configuration with what checks need from it:
 * the library config, the zone, the resolver (so one cache per
 * generation) and the SRS handle. A reload (SIGHUP) makes a new one for
 * new requests and leaves requests already being checked with the old
 * one until they finish; the old generation is freed then (gen_reap()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_int.h"
#include "zone_yaml.h"

void spfkitd_gen_free(spfkitd_gen *g)
{
	if (!g)
		return;
	spfkit_resolver_free(g->res);
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

/* Does path name a file we can open? For messages before any work. */
static bool readable(const char *path, char *err, size_t errlen,
		     const char *what)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s: %s", what, path,
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
		snprintf(err, errlen, "zone: %s", spfkit_strerror(rc));
		return false;
	}
	for (size_t i = 0; i < conf->zone_files.n; i++) {
		char msg[512] = "";
		rc = zone_file_load(g->zone, g->scfg, conf->zone_files.v[i],
				    msg, sizeof msg);
		if (rc < 0) {
			snprintf(err, errlen, "zone_file: %s",
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
	int rc = spfkit_resolver_new(&g->res, g->scfg);
	for (size_t i = 0; rc >= 0 && i < conf->nameservers.n; i++)
		rc = spfkit_resolver_add_nameserver(g->res,
						    conf->nameservers.v[i]);
	if (rc >= 0 && conf->recursive)
		rc = spfkit_resolver_set_recursive(g->res);
	if (rc >= 0 && !conf->recursive && !conf->nameservers.n) {
		if (!readable("/etc/resolv.conf", err, errlen,
			      "no nameserver= given, and"))
			return false;
		rc = spfkit_resolver_use_resolvconf(g->res, NULL);
	}
	if (rc >= 0 && conf->trust_anchor) {
		if (!readable(conf->trust_anchor, err, errlen, "trust_anchor"))
			return false;
		rc = spfkit_resolver_set_trust_anchor_file(g->res,
							   conf->trust_anchor);
	}
	if (rc >= 0 && g->zone)
		rc = spfkit_resolver_set_zone(g->res, g->zone);
	if (rc >= 0)
		rc = spfkit_resolver_set_query_timeout(g->res,
						       conf->query_timeout_ms);
	if (rc < 0) {
		snprintf(err, errlen, "DNS: %s", spfkit_strerror(rc));
		return false;
	}
	return true;
}

spfkitd_gen *spfkitd_gen_new(spfkitd_conf *conf, char *err, size_t errlen)
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
	if (!resolver_setup(g, err, errlen))
		goto fail;
	return g;
fail:
	spfkitd_gen_free(g);
	return NULL;
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
	spfkitd_gen *g = c ? spfkitd_gen_new(c, err, sizeof err) : NULL;
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
	spfkitd_log(LOG_INFO, "reloaded %s", path);
}
