/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_session.c - connections that speak Postfix's policy delegation
 * protocol (policy.h, Postfix SMTPD_POLICY_README). Postfix waits for
 * each answer; a client that pipelines gets its answers in order. A
 * request is framed and parsed in place in the connection's buffer; the
 * decision of a message is kept for its further recipients (the same
 * instance attribute), so a message is checked once (RFC 7208 §2.4). At
 * RCPT, a bounce to a forged SRS address of ours is refused here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_int.h"

/* The answer that says nothing. */
#define DUNNO     "action=DUNNO\n\n"
#define DUNNO_LEN (sizeof DUNNO - 1)

/* Queues a reply for the request in progress and ends it. */
static void answer(spfkitd_server *s, conn *c, const char *reply, size_t n)
{
	out_add(c, reply, n);
	s->m.requests++;
	session_end(s, c);
}

/* Keeps a decision for the further recipients of the same message. */
static void remember(conn *c, const spfkitd_decision *d, const char *reply,
		     size_t n)
{
	spfkitd_view inst = c->req.instance;
	c->inst_valid = false;
	if (!inst.ptr || inst.len == 0 || inst.len > sizeof c->inst)
		return;
	/* A rejection or deferral applies to every recipient; a header
	 * was added once and must not be added again. */
	bool once = d->action == SPFKITD_ACCEPT && !d->restriction[0];
	const char *again = once ? DUNNO : reply;
	size_t an = once ? DUNNO_LEN : n;
	char *r = realloc(c->inst_reply, an + 1);
	if (!r)
		return;
	memcpy(r, again, an);
	r[an] = '\0';
	c->inst_reply = r;
	memcpy(c->inst, inst.ptr, inst.len);
	c->inst_len = inst.len;
	c->inst_action = d->action;
	c->inst_valid = true;
}

void policy_decided(spfkitd_server *s, conn *c, spfkitd_decision *d)
{
	char stack[1024];
	size_t n = spfkitd_decision_policy_reply(d, stack, sizeof stack);
	char *reply = stack;
	if (n >= sizeof stack) {
		reply = malloc(n + 1);
		if (reply)
			spfkitd_decision_policy_reply(d, reply, n + 1);
	}
	if (!reply) {
		/* No room for the header: accept without it. */
		spfkitd_decision_free(d);
		reply = stack;
		n = spfkitd_decision_policy_reply(d, stack, sizeof stack);
	}
	remember(c, d, reply, n);
	answer(s, c, reply, n);
	if (reply != stack)
		free(reply);
}

/* Answers a request the framer or parser refused; the connection goes
 * on with the next request. */
static void refuse(spfkitd_server *s, conn *c, const char *why, size_t nattrs)
{
	spfkitd_log(LOG_WARNING,
		    "bad policy request (%s, %zu attributes, %zu bytes): "
		    "answered DUNNO",
		    why, nattrs, c->req_len);
	s->m.bad_requests++;
	answer(s, c, DUNNO, DUNNO_LEN);
}

/* A bounce to a forged or stale SRS address of ours is refused at RCPT:
 * recipient_canonical_maps leaves such an address as it is, and it must
 * not be delivered as if it were a mailbox. True when it answered. */
static bool refuse_forged_srs(spfkitd_server *s, conn *c)
{
	const spfkitd_policy_req *r = &c->req;
	char *orig = NULL;
	spfkit_srs_reason why;
	int rc = srs_reverse(s->cur, r->recipient, &orig, &why);
	spfkit_free(s->cur->scfg, orig);
	if (!srs_refused(rc, why))
		return false;
	char reply[512];
	int k =
	    snprintf(reply, sizeof reply,
		     "action=550 5.1.1 SRS address refused: %s (%s)\n\n",
		     spfkit_srs_reason_text(why), spfkit_srs_reason_name(why));
	srs_log(LOG_INFO, "policy", "reverse", r->recipient, NULL, why);
	s->m.srs_refused++;
	answer(s, c, reply, k > 0 && (size_t)k < sizeof reply ? (size_t)k : 0);
	return true;
}

/* Handles one framed request at in[in_off, in_off + req_len). */
static void handle_request(spfkitd_server *s, conn *c)
{
	const char *p = c->in + c->in_off;
	spfkitd_policy_error e = spfkitd_policy_parse(p, c->req_len, &c->req);
	if (e != SPFKITD_POLICY_OK) {
		refuse(s, c, spfkitd_policy_strerror(e), c->req.nattrs);
		return;
	}
	const spfkitd_policy_req *r = &c->req;
	/* Decide at MAIL or RCPT (a request without protocol_state is
	 * taken as RCPT, as from Postfix before 2.1); say nothing in other
	 * states. */
	if (r->state != SPFKITD_STATE_MAIL && r->state != SPFKITD_STATE_RCPT &&
	    r->protocol_state.ptr) {
		answer(s, c, DUNNO, DUNNO_LEN);
		return;
	}
	/* Per recipient, before the message's cached decision. */
	if (r->state != SPFKITD_STATE_MAIL && s->cur->srs &&
	    s->cur->conf->srs_reject_forged && r->recipient.len &&
	    refuse_forged_srs(s, c))
		return;
	/* RFC 7208 §2.4: one check per message, whatever the number of
	 * recipients. */
	if (c->inst_valid && r->instance.ptr &&
	    r->instance.len == c->inst_len &&
	    memcmp(r->instance.ptr, c->inst, c->inst_len) == 0) {
		s->m.cached++;
		answer(s, c, c->inst_reply, strlen(c->inst_reply));
		return;
	}
	c->msg = (spfkitd_msg){.ip = r->client_address,
			       .client_name = r->client_name,
			       .helo = r->helo_name,
			       .sender = r->sender,
			       .recipient = r->recipient,
			       .sasl_username = r->sasl_username,
			       .queue_id = r->queue_id};
	session_begin(s, c);
}

void process_policy(spfkitd_server *s, conn *c)
{
	bool need_more = false;
	while (!c->busy && !c->dead && c->out_len - c->out_off < OUT_HIGH) {
		size_t n;
		const char *p = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		spfkitd_frame_status st =
		    spfkitd_policy_frame(&c->fr, p, avail, &n);
		if (st == SPFKITD_FRAME_MORE) {
			need_more = true;
			break;
		}
		if (st == SPFKITD_FRAME_DISCARD) {
			c->in_off += n;
			continue;
		}
		c->req_len = n;
		c->fr = (spfkitd_framer){0};
		if (st == SPFKITD_FRAME_OVERSIZED) {
			s->m.oversized++;
			refuse(s, c, "request over 64 KiB", 0);
			continue;
		}
		handle_request(s, c);
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (!c->eof || c->busy)
		return;
	if (!need_more)
		return; /* answers first: more requests are buffered */
	/* Nothing more will come; close once the answers are out. */
	conn_input_ended(c, "", "a request", true);
}
