/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - spfkitd's HTTP endpoint (metrics_listen): GET /metrics in
 * the Prometheus text exposition format (version 0.0.4), GET /status as
 * the one-line summary of spfkitd --status. The counters are kept by
 * every module in the server's metrics; the latency histogram is kept
 * here.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

/* Latency histogram bounds, in milliseconds. */
static const unsigned hist_ms[] = {1,   2,   5,    10,   25,   50,    100,
				   250, 500, 1000, 2500, 5000, 10000, 20000};
_Static_assert(sizeof hist_ms / sizeof hist_ms[0] == NHIST,
	       "NHIST is the number of histogram bounds");

void tprintf(textbuf *t, const char *fmt, ...)
{
	for (;;) {
		if (t->err)
			return;
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(t->s ? t->s + t->n : NULL,
				  t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			t->err = true;
			return;
		}
		if (t->s && (size_t)k < t->cap - t->n) {
			t->n += (size_t)k;
			return;
		}
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		while (ncap - t->n <= (size_t)k)
			ncap *= 2;
		if (!buf_resize(&t->s, &t->cap, ncap)) {
			t->err = true;
			return;
		}
	}
}

void metrics_observe(spfkitd_server *s, uint64_t ms)
{
	size_t i = 0;
	while (i < NHIST && ms > hist_ms[i])
		i++;
	s->m.hist[i]++;
	s->m.latency_sum += (double)ms / 1000.0;
	s->m.latency_n++;
}

/* Requests being checked now. */
static size_t in_flight(const spfkitd_server *s)
{
	size_t n = 0;
	for (const spfkit_link *l = s->conns.head; l; l = l->next)
		n += conn_of_lru(l)->busy;
	return n;
}

/* Resident set size in bytes, from /proc/self/statm (0 if unknown). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	return (uint64_t)res * (uint64_t)(page > 0 ? page : 4096);
}

/* Seconds since the server started. */
static unsigned long long uptime_s(const spfkitd_server *s)
{
	return (unsigned long long)((now_ms() - s->started_ms) / 1000u);
}

/* A metric's "# HELP" line (when help is not NULL) and "# TYPE" line. */
static void family(textbuf *t, const char *name, const char *type,
		   const char *help)
{
	if (help)
		tprintf(t, "# HELP %s %s\n", name, help);
	tprintf(t, "# TYPE %s %s\n", name, type);
}

/* A metric of one value, without labels. */
typedef struct scalar {
	const char *name, *type, *help;
	unsigned long long v;
} scalar;

static void scalars(textbuf *t, const scalar *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		family(t, v[i].name, v[i].type, v[i].help);
		tprintf(t, "%s %llu\n", v[i].name, v[i].v);
	}
}

/* A counter with one label: the value v[i] for the label value
 * names[i]. */
static void labelled(textbuf *t, const char *name, const char *help,
		     const char *label, const char *const *names,
		     const uint64_t *v, size_t n)
{
	family(t, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		tprintf(t, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
			(unsigned long long)v[i]);
}

/* The latency histogram, in seconds. */
static void histogram(textbuf *t, const metrics *m)
{
	family(t, "spfkitd_decision_seconds", "histogram",
	       "Time from request to answer.");
	uint64_t cum = 0;
	for (size_t i = 0; i < NHIST; i++) {
		cum += m->hist[i];
		tprintf(t, "spfkitd_decision_seconds_bucket{le=\"%g\"} %llu\n",
			hist_ms[i] / 1000.0, (unsigned long long)cum);
	}
	cum += m->hist[NHIST];
	tprintf(t,
		"spfkitd_decision_seconds_bucket{le=\"+Inf\"} %llu\n"
		"spfkitd_decision_seconds_sum %.6f\n"
		"spfkitd_decision_seconds_count %llu\n",
		(unsigned long long)cum, m->latency_sum,
		(unsigned long long)m->latency_n);
}

/* The Prometheus text exposition format (version 0.0.4). */
static void metrics_text(spfkitd_server *s, textbuf *t)
{
	const metrics *m = &s->m;
	const scalar requests[] = {
	    {"spfkitd_requests_total", "counter", "Policy requests answered.",
	     m->requests},
	    {"spfkitd_bad_requests_total", "counter",
	     "Requests refused as malformed or oversized (answered DUNNO).",
	     m->bad_requests},
	    {"spfkitd_cached_total", "counter",
	     "Further recipients answered from the message's decision.",
	     m->cached}};
	scalars(t, requests, sizeof requests / sizeof requests[0]);

	static const char *const ids[2] = {"helo", "mailfrom"};
	family(t, "spfkitd_results_total", "counter",
	       "SPF results by identity.");
	for (int i = 0; i < 2; i++)
		for (int r = 0; r < SPFKITD_NRESULTS; r++)
			tprintf(t,
				"spfkitd_results_total{identity=\"%s\","
				"result=\"%s\"} %llu\n",
				ids[i], spfkit_result_name((spfkit_result)r),
				(unsigned long long)m->results[i][r]);
	const char *actions[SPFKITD_NACTIONS], *whys[SPFKITD_WHY_INTERNAL + 1];
	for (int a = 0; a < SPFKITD_NACTIONS; a++)
		actions[a] = spfkitd_action_name((spfkitd_action)a);
	for (int w = 0; w <= SPFKITD_WHY_INTERNAL; w++)
		whys[w] = spfkitd_why_name((spfkitd_why)w);
	labelled(t, "spfkitd_actions_total",
		 "Decisions by action told the MTA.", "action", actions,
		 m->actions, SPFKITD_NACTIONS);
	labelled(t, "spfkitd_verdicts_total",
		 "Decisions by action before test_only.", "action", actions,
		 m->verdicts, SPFKITD_NACTIONS);
	labelled(t, "spfkitd_decisions_total",
		 "Decisions by what decided them.", "why", whys, m->whys,
		 SPFKITD_WHY_INTERNAL + 1);
	histogram(t, m);

	uint64_t sent = m->dns_sent_gone;
	for (const spfkitd_gen *g = s->gens; g; g = g->next)
		if (g->res && gen_res_first(s, g))
			sent += spfkit_resolver_queries_sent(g->res);
	const scalar process[] = {
	    {"spfkitd_dns_queries_sent_total", "counter", NULL, sent},
	    {"spfkitd_internal_errors_total", "counter", NULL,
	     m->internal_errors},
	    {"spfkitd_connections", "gauge", NULL, s->nclients},
	    {"spfkitd_connections_total", "counter", NULL, m->conns_total},
	    {"spfkitd_connections_refused_total", "counter", NULL,
	     m->conns_refused},
	    {"spfkitd_connections_evicted_total", "counter",
	     "Idle connections closed to serve a new one on a full listener.",
	     m->conns_evicted},
	    {"spfkitd_accept_paused_total", "counter",
	     "Times accepting paused for want of descriptors (EMFILE, ENFILE).",
	     m->accept_paused},
	    {"spfkitd_checks_in_flight", "gauge", NULL, in_flight(s)},
	    {"spfkitd_reloads_total", "counter", NULL, m->reloads},
	    {"spfkitd_reload_failures_total", "counter", NULL,
	     m->reload_failures},
	    {"spfkitd_uptime_seconds", "gauge", NULL, uptime_s(s)},
	    {"process_resident_memory_bytes", "gauge", NULL, rss_bytes()},
	    {"spfkitd_milter_messages_total", "counter",
	     "MAIL FROM commands decided for milter connections.",
	     m->milter_messages},
	    {"spfkitd_milter_errors_total", "counter",
	     "Milter packets malformed or out of protocol.", m->milter_bad},
	    {"spfkitd_milter_authres_removed_total", "counter",
	     "Forged Authentication-Results headers removed.",
	     m->milter_removed},
	    {"spfkitd_srs_lookups_total", "counter", "SRS socketmap requests.",
	     m->srs_lookups},
	    {"spfkitd_srs_bad_requests_total", "counter", NULL,
	     m->srs_bad_requests}};
	scalars(t, process, sizeof process / sizeof process[0]);

	static const char *const dirs[2] = {"forward", "reverse"};
	const uint64_t rewrites[2] = {m->srs_forwarded, m->srs_reversed};
	labelled(t, "spfkitd_srs_rewrites_total",
		 "SRS rewrites by direction, and addresses refused.",
		 "direction", dirs, rewrites, 2);
	const scalar refused = {"spfkitd_srs_refused_total", "counter", NULL,
				m->srs_refused};
	scalars(t, &refused, 1);
}

/* The histogram bucket bound (ms) under which the fraction q of the
 * decisions fell; 0 when there were none. */
static unsigned quantile_ms(const metrics *m, double q)
{
	uint64_t total = 0, cum = 0;
	for (size_t i = 0; i <= NHIST; i++)
		total += m->hist[i];
	if (total == 0)
		return 0;
	for (size_t i = 0; i < NHIST; i++) {
		cum += m->hist[i];
		if ((double)cum >= q * (double)total)
			return hist_ms[i];
	}
	return UINT_MAX;
}

/* The one-line summary of spfkitd --status. */
static void status_text(spfkitd_server *s, textbuf *t)
{
	const metrics *m = &s->m;
	tprintf(t,
		"spfkitd up %llus, %zu connections, %zu in flight, %llu "
		"requests (%llu cached, %llu bad), accept %llu reject %llu "
		"defer %llu",
		uptime_s(s), s->nclients, in_flight(s),
		(unsigned long long)m->requests, (unsigned long long)m->cached,
		(unsigned long long)m->bad_requests,
		(unsigned long long)m->actions[SPFKITD_ACCEPT],
		(unsigned long long)m->actions[SPFKITD_REJECT],
		(unsigned long long)(m->actions[SPFKITD_DEFER] +
				     m->actions[SPFKITD_DEFER_IF_PERMIT]));
	for (int r = 0; r < SPFKITD_NRESULTS; r++)
		tprintf(t, ", %s %llu", spfkit_result_name((spfkit_result)r),
			(unsigned long long)(m->results[1][r]));
	tprintf(t, ", p50 <=%ums p99 <=%ums, rss %llu KiB\n",
		quantile_ms(m, 0.50), quantile_ms(m, 0.99),
		(unsigned long long)(rss_bytes() / 1024u));
}

void process_http(spfkitd_server *s, conn *c)
{
	const char *p = c->in;
	size_t n = c->in_len;
	bool done = false;
	for (size_t i = 0; i + 1 < n && !done; i++)
		done = p[i] == '\n' &&
		       (p[i + 1] == '\n' ||
			(p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'));
	if (!done && !c->eof && n < HTTP_MAX)
		return;
	textbuf body = {0};
	const char *status = "200 OK";
	if (n >= 13 && memcmp(p, "GET /metrics", 12) == 0 &&
	    (p[12] == ' ' || p[12] == '?' || p[12] == '\r' || p[12] == '\n')) {
		metrics_text(s, &body);
	} else if (n >= 12 && memcmp(p, "GET /status", 11) == 0 &&
		   (p[11] == ' ' || p[11] == '\r' || p[11] == '\n')) {
		status_text(s, &body);
	} else {
		status = "404 Not Found";
		tprintf(&body, "GET /metrics or /status\n");
	}
	if (body.err) {
		status = "500 Internal Server Error";
		body.n = 0;
	}
	char head[256];
	int k = snprintf(head, sizeof head,
			 "HTTP/1.0 %s\r\nContent-Type: text/plain; "
			 "version=0.0.4; charset=utf-8\r\nContent-Length: "
			 "%zu\r\nConnection: close\r\n\r\n",
			 status, body.n);
	out_add(c, head, (size_t)k);
	if (body.n)
		out_add(c, body.s, body.n);
	free(body.s);
	c->in_len = 0;
	c->closing = true;
	flush_out(c);
}
