/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.c - one message checked, whatever the protocol (server_int.h).
 * The policy service and the milter fill c->msg and call
 * session_begin(); the checks run as the library's state machines (they
 * ask, the resolver answers, from its cache often at once, and
 * session_on_answer() runs them on), HELO first and MAIL FROM when the
 * HELO result does not decide (decide.h); session_finish() logs and
 * counts the decision and hands it to the protocol to write back. While
 * a check runs its connection is on its generation's running list,
 * oldest first, so the deadline looks at the head only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "server_int.h"

/* Takes c off its generation's running list, if it is on it. */
static void run_remove(conn *c)
{
	spfkitd_gen *g = c->g;
	if (g && spfkit_list_linked(&g->running, &c->run))
		spfkit_list_remove(&g->running, &c->run);
}

void session_drop_checks(conn *c)
{
	run_remove(c);
	spfkit_check **cs[2] = {&c->helo_chk, &c->mf_chk};
	for (size_t i = 0; i < 2; i++) {
		if (!*cs[i])
			continue;
		if (c->g && c->g->res)
			spfkit_resolver_cancel(c->g->res, *cs[i]);
		spfkit_check_free(*cs[i]);
		*cs[i] = NULL;
	}
	c->ph = PH_NONE;
}

/* One log line for a decision: who, what, and how long it took. */
static void log_decision(const conn *c, const spfkitd_decision *d, uint64_t ms)
{
	char name[128], ip[64], helo[160], sender[320], rcpt[160], inst[64];
	const spfkitd_msg *m = &c->msg;
	spfkitd_log_escape(name, sizeof name, m->client_name.ptr,
			   m->client_name.len);
	spfkitd_log_escape(ip, sizeof ip, m->ip.ptr, m->ip.len);
	spfkitd_log_escape(helo, sizeof helo, m->helo.ptr, m->helo.len);
	spfkitd_log_escape(sender, sizeof sender, m->sender.ptr, m->sender.len);
	spfkitd_log_escape(rcpt, sizeof rcpt, m->recipient.ptr,
			   m->recipient.len);
	/* The milter has no instance: its queue id ({i}) stands in. */
	spfkitd_view iv =
	    c->kind == CONN_MILTER ? c->msg.queue_id : c->req.instance;
	spfkitd_log_escape(inst, sizeof inst, iv.ptr, iv.len);
	char test[64] = "";
	if (d->verdict != d->action)
		snprintf(test, sizeof test, " test_only_verdict=%s",
			 spfkitd_action_name(d->verdict));
	char reply[SPFKITD_REPLY_MAX + 32] = "";
	if (d->action == SPFKITD_DEFER_IF_PERMIT && c->kind != CONN_MILTER)
		snprintf(reply, sizeof reply, " reply=\"DEFER_IF_PERMIT %s\"",
			 d->text); /* Postfix adds its code */
	else if (d->action != SPFKITD_ACCEPT)
		snprintf(reply, sizeof reply, " reply=\"%u %s %s\"", d->code,
			 d->ext, d->text);
	spfkitd_log(LOG_INFO,
		    "decision client=%s[%s] helo=\"%s\" sender=<%s> "
		    "recipient=<%s> instance=%s identity=%s result=%s "
		    "action=%s why=%s%s%s ms=%llu%s",
		    name, ip, helo, sender, rcpt, inst, d->identity,
		    d->checked ? spfkit_result_name(d->result) : "-",
		    spfkitd_action_name(d->action), spfkitd_why_name(d->why),
		    test, reply, (unsigned long long)ms,
		    c->kind == CONN_MILTER ? " via=milter" : "");
}

/* Ends a request with a decision: log, count, answer in the
 * connection's protocol. */
static void session_finish(spfkitd_server *s, conn *c, spfkitd_decision *d)
{
	uint64_t ms = now_ms() - c->t0;
	log_decision(c, d, ms);
	metrics_observe(s, ms);
	s->m.actions[d->action]++;
	s->m.verdicts[d->verdict]++;
	s->m.whys[d->why]++;
	if (d->why == SPFKITD_WHY_INTERNAL)
		s->m.internal_errors++;
	session_drop_checks(c);
	if (c->kind == CONN_MILTER)
		milter_decided(s, c, d);
	else
		policy_decided(s, c, d);
	spfkitd_decision_free(d);
}

void session_internal_error(spfkitd_server *s, conn *c, const char *what,
			    int rc)
{
	spfkitd_log(LOG_ERR, "internal error: %s: %s", what,
		    spfkit_strerror(rc));
	spfkitd_decision d;
	spfkitd_decide_internal(c->g->conf, &d);
	session_finish(s, c, &d);
}

void session_end(spfkitd_server *s, conn *c)
{
	c->in_off += c->req_len;
	c->req_len = 0;
	if (c->busy) {
		c->busy = false;
		gen_unref(c->g);
	}
	conn_done(s, c);
	c->g = NULL;
	flush_out(c);
	work_push(s, c);
}

/* Both checks that were wanted are done: decide. */
static void decide(spfkitd_server *s, conn *c)
{
	spfkitd_decision d;
	int rc = spfkitd_decide(c->g->conf, c->g->scfg, &c->msg, c->helo_chk,
				c->mf_chk, &d);
	if (rc < 0)
		spfkitd_log(LOG_WARNING, "header: %s (answered without it)",
			    spfkit_strerror(rc));
	if (d.checked) {
		if (c->helo_chk)
			s->m.results[0][spfkit_check_result(c->helo_chk)]++;
		if (c->mf_chk)
			s->m.results[1][spfkit_check_result(c->mf_chk)]++;
	}
	session_finish(s, c, &d);
}

static void start_check(spfkitd_server *s, conn *c, phase ph);

/* The check of the current phase. */
static spfkit_check *current_check(const conn *c)
{
	return c->ph == PH_HELO ? c->helo_chk : c->mf_chk;
}

/* Runs the current check once more: it ends, or asks DNS. */
static void advance(spfkitd_server *s, conn *c, uint64_t now)
{
	spfkit_check *chk = current_check(c);
	spfkitd_gen *g = c->g;
	int rc;
	if (!g->res) {
		rc = spfkit_zone_check(g->zone, chk, now);
		if (rc == SPFKIT_OK)
			rc = SPFKIT_DONE;
	} else {
		rc = spfkit_check_run(chk, now);
		if (rc == SPFKIT_WANT_DNS && spfkit_check_pending(chk) == 0)
			rc = SPFKIT_ESTATE; /* would spin */
		if (rc == SPFKIT_WANT_DNS) {
			rc = spfkit_resolver_send(g->res, chk, now);
			if (rc >= 0)
				return;
		}
		/* Prefetched queries it no longer needs may be in flight. */
		spfkit_resolver_cancel(g->res, chk);
	}
	run_remove(c);
	if (rc != SPFKIT_DONE) {
		session_internal_error(s, c, "running a check", rc);
		return;
	}
	if (c->ph == PH_HELO) {
		spfkit_result r = spfkit_check_result(chk);
		if (!spfkitd_helo_decides(g->conf, &c->msg, r) &&
		    spfkitd_want_mailfrom(g->conf, &c->msg)) {
			start_check(s, c, PH_MAILFROM);
			return;
		}
	}
	decide(s, c);
}

/* Creates and starts the HELO or MAIL FROM check of the request. */
static void start_check(spfkitd_server *s, conn *c, phase ph)
{
	spfkit_check *chk = NULL;
	char ip[64];
	const spfkitd_msg *m = &c->msg;
	int rc = spfkit_check_new(&chk, c->g->scfg);
	if (rc < 0) {
		session_internal_error(s, c, "creating a check", rc);
		return;
	}
	if (ph == PH_HELO)
		c->helo_chk = chk;
	else
		c->mf_chk = chk;
	c->ph = ph;
	/* spfkitd_decide_pre() made sure the address parses (inet_pton). */
	size_t n = m->ip.len < sizeof ip ? m->ip.len : sizeof ip - 1;
	memcpy(ip, m->ip.ptr, n);
	ip[n] = '\0';
	rc = spfkit_check_set_ip(chk, ip);
	if (rc >= 0)
		rc = spfkit_check_set_helo(chk, m->helo.ptr ? m->helo.ptr : "",
					   m->helo.len);
	if (rc >= 0)
		rc = spfkit_check_set_sender(
		    chk, m->sender.ptr ? m->sender.ptr : "", m->sender.len);
	if (rc >= 0)
		rc = spfkit_check_set_scope(chk, ph == PH_HELO
						     ? SPFKIT_SCOPE_HELO
						     : SPFKIT_SCOPE_MAILFROM);
	if (rc >= 0)
		rc = spfkit_check_set_timestamp(chk, (uint64_t)time(NULL));
	if (rc >= 0)
		rc = spfkit_check_set_userdata(chk, c);
	if (rc < 0) {
		session_internal_error(s, c, "setting up a check", rc);
		return;
	}
	c->check_t0 = now_ms();
	/* Nothing is pending yet: this lets the resolver answer what it
	 * holds while the check runs, from the first run on. */
	if (c->g->res) {
		rc = spfkit_resolver_send(c->g->res, chk, c->check_t0);
		if (rc < 0) {
			session_internal_error(s, c, "starting a check", rc);
			return;
		}
	}
	spfkit_list_push(&c->g->running, &c->run);
	advance(s, c, c->check_t0);
}

void session_hold(spfkitd_server *s, conn *c)
{
	c->t0 = now_ms();
	c->g = s->cur;
	c->g->refs++;
	c->busy = true;
}

void session_begin(spfkitd_server *s, conn *c)
{
	session_hold(s, c);
	const spfkitd_conf *cf = c->g->conf;
	spfkitd_why why;
	spfkitd_pre pre = spfkitd_decide_pre(cf, &c->msg, &why);
	if (pre != SPFKITD_PRE_CHECK) {
		spfkitd_decision d;
		spfkitd_decide_skip(cf, why, &d);
		session_finish(s, c, &d);
		return;
	}
	if (spfkitd_want_helo(cf, &c->msg))
		start_check(s, c, PH_HELO);
	else if (spfkitd_want_mailfrom(cf, &c->msg))
		start_check(s, c, PH_MAILFROM);
	else
		decide(s, c); /* nothing to check: internal_error_action */
}

/* Checks past their deadline are run once more: the library gives
 * temperror (RFC 7208 §4.6.4). */
uint64_t session_expire(spfkitd_server *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (spfkitd_gen *g = s->gens; g; g = g->next) {
		while (g->running.head) {
			conn *c = conn_of_run(g->running.head);
			uint64_t due = c->check_t0 + g->conf->deadline_ms;
			if (now < due) {
				if (due - now < next)
					next = due - now;
				break;
			}
			const spfkit_check *before = current_check(c);
			advance(s, c, now);
			const spfkit_check *after = current_check(c);
			if (g->running.head == &c->run && c->busy &&
			    before == after) {
				/* Still running past its deadline. */
				session_internal_error(
				    s, c, "check past its deadline",
				    SPFKIT_ESTATE);
			}
		}
	}
	return next;
}

/* Answers reached a check: run it on if it is the one its connection
 * waits for. */
void session_on_answer(spfkit_check *chk, void *ud)
{
	spfkitd_server *s = ud;
	conn *c = spfkit_check_userdata(chk);
	if (!c || !c->busy || c->dead)
		return;
	if (current_check(c) == chk)
		advance(s, c, now_ms());
}
