/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter_session.c - connections that speak the milter protocol
 * (milter.h), served from the event loop with no threads. A connection
 * keeps what the MTA said about the SMTP session (connect, HELO, macros:
 * it spans messages) and the message in progress. The check runs at
 * MAIL FROM (session.c; the answer waits for milter_decided()); at the
 * end of the message our header is added (folded at RFC 5322 line
 * lengths, hdrfold.c) and forged Authentication-Results headers are
 * removed (RFC 8601 §5), however many there are. With srs_milter the
 * envelope is rewritten there too (SRS, srs.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdrfold.h"
#include "log.h"
#include "milter.h"
#include "server_int.h"

/* SRS recipients reversed per milter message; more are left as they are
 * (and logged). */
#define MILTER_MAX_REVERSED 100u

/* Bytes copied out of a packet, kept after it (NUL-terminated). */
typedef struct ostr {
	char *p;
	size_t n;
} ostr;

/* A milter connection's state: what the MTA said about the SMTP session
 * (it spans messages) and the message in progress. */
typedef struct mstate {
	bool negotiated;
	spfkitd_milter_opts opts; /* what was agreed */
	ostr ip, host, helo, auth, qid;
	ostr sender;
	bool smtputf8;         /* MAIL FROM said SMTPUTF8 (RFC 6531) */
	char *header;          /* ours, to insert at the end of the message */
	bool keep_authres;     /* from skip_addresses: our own relays */
	bool forged_lost;      /* out of memory noting one: some are kept */
	uint32_t authres_seen; /* Authentication-Results headers so far */
	/* Which of them (bit i for the (i+1)th) to remove: a bit each, so
	 * however many a message brings, they cost an eighth of an octet
	 * apiece, and the MTA's header size limit bounds them. */
	unsigned char *forged;
	size_t forged_cap; /* octets */
	size_t nforged;
	/* SRS (srs_milter = yes, negotiated on this connection) */
	bool srs;
	bool remote_rcpt; /* a recipient outside the local domains */
	char **rev;       /* pairs: SRS recipient, its original */
	size_t nrev;      /* pairs in rev */
} mstate;

static void ostr_clear(ostr *o)
{
	free(o->p);
	*o = (ostr){0};
}

/* Keeps a copy of v; false when out of memory (o is then empty). */
static bool ostr_set(ostr *o, spfkitd_view v)
{
	ostr_clear(o);
	char *p = malloc(v.len + 1);
	if (!p)
		return false;
	if (v.len)
		memcpy(p, v.ptr, v.len);
	p[v.len] = '\0';
	*o = (ostr){p, v.len};
	return true;
}

/* A view of a kept copy; absent (ptr NULL) when it is. */
static spfkitd_view ostr_view(const ostr *o)
{
	return (spfkitd_view){o->p, o->n};
}

/* Forgets the message in progress but its macros (a new MAIL FROM: they
 * came just before it). */
static void msg_clear(mstate *ms)
{
	for (size_t i = 0; i < 2 * ms->nrev; i++)
		free(ms->rev[i]);
	free(ms->rev);
	ms->rev = NULL;
	ms->nrev = 0;
	ms->remote_rcpt = false;
	ostr_clear(&ms->sender);
	free(ms->header);
	ms->header = NULL;
	free(ms->forged);
	ms->forged = NULL;
	ms->forged_cap = ms->nforged = 0;
	ms->authres_seen = 0;
	ms->keep_authres = ms->forged_lost = ms->smtputf8 = false;
}

/* Forgets the message in progress (its end, an abort). */
static void msg_reset(mstate *ms)
{
	msg_clear(ms);
	ostr_clear(&ms->auth);
	ostr_clear(&ms->qid);
}

/* Forgets the SMTP session too (a new connect, QUIT_NC). */
static void session_reset(mstate *ms)
{
	msg_reset(ms);
	ostr_clear(&ms->ip);
	ostr_clear(&ms->host);
	ostr_clear(&ms->helo);
}

void milter_state_free(mstate *ms)
{
	if (!ms)
		return;
	session_reset(ms);
	free(ms);
}

/* Queues one packet: cmd with the parts (k of them) as its payload. */
static void msend(conn *c, char cmd, const spfkitd_view *parts, size_t k)
{
	size_t n = 0;
	for (size_t i = 0; i < k; i++)
		n += parts[i].len;
	unsigned char head[SPFKITD_MILTER_HEAD];
	spfkitd_milter_head(head, cmd, n);
	out_add(c, (const char *)head, sizeof head);
	for (size_t i = 0; i < k; i++)
		if (parts[i].len)
			out_add(c, parts[i].ptr, parts[i].len);
}

/* Queues an envelope edit (SMFIR_CHGFROM, _DELRCPT, _ADDRCPT): the
 * address in angle brackets, as an SMTP command has it. */
static void msend_addr(conn *c, char cmd, const char *addr)
{
	const spfkitd_view parts[] = {
	    {"<", 1}, {addr, strlen(addr)}, {">", 2}}; /* with the NUL */
	msend(c, cmd, parts, 3);
}

/* Queues a reply code (SMFIR_REPLYCODE) for the command being answered. */
static void msend_reply(conn *c, unsigned code, const char *ext,
			const char *text)
{
	char buf[2 * SPFKITD_REPLY_MAX + 32];
	size_t n = spfkitd_milter_reply_text(buf, sizeof buf, code, ext, text);
	const spfkitd_view part = {buf, n + 1};
	msend(c, SMFIR_REPLYCODE, &part, 1);
}

/* Ends the packet at in[in_off, in_off + req_len): it was answered (or
 * needs no answer). */
static void milter_consume(conn *c)
{
	c->in_off += c->req_len;
	c->req_len = 0;
}

/* A stream that cannot be followed (bad length, unknown command, a
 * command out of order): logged and closed. The MTA then applies its own
 * default (Postfix milter_default_action, Sendmail's F= flags), as for a
 * libmilter filter that fails. */
static void milter_error(spfkitd_server *s, conn *c, const char *why,
			 unsigned char cmd)
{
	spfkitd_log(LOG_WARNING,
		    "milter: protocol error (%s, command 0x%02x): "
		    "connection closed",
		    why, cmd);
	s->m.milter_bad++;
	c->in_off = c->in_len = 0;
	c->req_len = 0;
	close_when_sent(c);
}

/* A payload that does not parse: logged; the command is taken as
 * carrying nothing and answered, so the session goes on. */
static void milter_malformed(spfkitd_server *s, const char *what)
{
	spfkitd_log(LOG_WARNING, "milter: malformed %s: taken as empty", what);
	s->m.milter_bad++;
}

/* SMFIC_OPTNEG: our answer to the MTA's offer, SRS actions added when
 * srs_milter is on and this generation has an srs_domain. False when
 * the offer is refused (the stream was closed). */
static bool milter_optneg(spfkitd_server *s, conn *c, spfkitd_view d)
{
	mstate *ms = c->ms;
	spfkitd_milter_opts mta, ours;
	if (!spfkitd_milter_parse_optneg(d, &mta) ||
	    !spfkitd_milter_negotiate(&mta, &ours)) {
		milter_error(s, c, "option negotiation refused",
			     (unsigned char)SMFIC_OPTNEG);
		return false;
	}
	bool srs = s->cur->conf->srs_milter && s->cur->srs;
	if (srs)
		spfkitd_milter_negotiate_srs(&mta, &ours);
	unsigned char o[MILTER_OPTLEN];
	spfkitd_milter_optneg_reply(&ours, o);
	const spfkitd_view part = {(const char *)o, sizeof o};
	msend(c, SMFIC_OPTNEG, &part, 1);
	ms->negotiated = true;
	ms->opts = ours;
	ms->srs = srs;
	return true;
}

/* SMFIC_MACRO: the SASL login and the queue id are what we use. */
static void milter_macros(mstate *ms, spfkitd_view d)
{
	spfkitd_view v;
	bool ok = true;
	/* The MTA sends the MAIL stage's macros before each MAIL: a login
	 * holds for that message only. */
	if (d.len && d.ptr[0] == SMFIC_MAIL) {
		ostr_clear(&ms->auth);
		if (spfkitd_milter_macro(d, "auth_authen", &v) && v.len)
			ok = ostr_set(&ms->auth, v);
	}
	if (ok && spfkitd_milter_macro(d, "i", &v) && v.len)
		ok = ostr_set(&ms->qid, v);
	if (!ok)
		spfkitd_log(LOG_ERR, "milter: out of memory keeping a macro");
}

/* SMFIC_CONNECT: the client's address and name. */
static void milter_connect(spfkitd_server *s, mstate *ms, spfkitd_view d)
{
	spfkitd_milter_connect ci;
	session_reset(ms);
	if (!spfkitd_milter_parse_connect(d, &ci)) {
		milter_malformed(s, "connect");
		return;
	}
	ostr_set(&ms->host, ci.host);
	/* A local (unix socket) or unknown client has no address to check:
	 * decide.c skips it (no_client_address). */
	if (ci.family == SMFIA_INET || ci.family == SMFIA_INET6)
		ostr_set(&ms->ip, ci.address);
}

/* SMFIC_HEADER: notes Authentication-Results headers that claim our
 * authserv-id. RFC 8601 §5: an MTA removes those arriving from outside
 * its ADMD, which a reader would otherwise trust as ours. */
static void milter_header(spfkitd_server *s, mstate *ms, spfkitd_view d)
{
	spfkitd_view name, value;
	if (!spfkitd_milter_parse_header(d, &name, &value)) {
		milter_malformed(s, "header");
		return;
	}
	if (!spfkitd_view_ieq(name, "Authentication-Results"))
		return;
	/* smfi_chgheader() counts occurrences of a name from 1. */
	ms->authres_seen++;
	const spfkitd_conf *cf = s->cur->conf;
	const char *id = cf->authserv_id ? cf->authserv_id : cf->receiver;
	if (ms->keep_authres || !spfkitd_authres_claims(value, id))
		return;
	size_t bit = ms->authres_seen - 1, octet = bit / 8;
	if (octet >= ms->forged_cap) {
		size_t ncap = ms->forged_cap ? ms->forged_cap * 2 : 16;
		while (ncap <= octet)
			ncap *= 2;
		unsigned char *f = realloc(ms->forged, ncap);
		if (!f) {
			ms->forged_lost = true;
			return;
		}
		memset(f + ms->forged_cap, 0, ncap - ms->forged_cap);
		ms->forged = f;
		ms->forged_cap = ncap;
	}
	ms->forged[octet] |= (unsigned char)(1u << (bit % 8));
	ms->nforged++;
}

/* SMFIC_BODYEOB: removes the forged headers and adds ours. */
static void milter_eom(spfkitd_server *s, conn *c)
{
	mstate *ms = c->ms;
	char qid[64];
	spfkitd_log_escape(qid, sizeof qid, ms->qid.p, ms->qid.n);
	if (ms->nforged && !(ms->opts.actions & SMFIF_CHGHDRS)) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: %zu forged Authentication-Results "
			    "kept: the MTA does not allow header changes",
			    qid, ms->nforged);
	} else {
		/* Last first, so no removal moves the index of another
		 * whatever the MTA's counting. */
		for (uint32_t i = ms->authres_seen; i > 0 && ms->nforged; i--) {
			if (!(ms->forged[(i - 1) / 8] >> ((i - 1) % 8) & 1u))
				continue;
			unsigned char idx[4];
			spfkitd_milter_put32(idx, i);
			/* An empty value deletes the header. */
			const spfkitd_view parts[] = {
			    {(const char *)idx, 4},
			    {"Authentication-Results", 23},
			    {"", 1}};
			msend(c, SMFIR_CHGHEADER, parts, 3);
			s->m.milter_removed++;
		}
		if (ms->nforged)
			spfkitd_log(LOG_INFO,
				    "milter: %s: removed %zu Authentication-"
				    "Results header(s) claiming our "
				    "authserv-id%s",
				    qid, ms->nforged,
				    ms->forged_lost ? " (out of memory: more "
						      "were kept)"
						    : "");
	}
	const char *colon = ms->header ? strchr(ms->header, ':') : NULL;
	if (colon && (ms->opts.actions & SMFIF_ADDHDRS)) {
		/* Without SMFIP_HDR_LEADSPC the MTA writes "name: value". */
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		unsigned char idx[4] = {0, 0, 0, 0}; /* before every header */
		const spfkitd_view parts[] = {
		    {(const char *)idx, 4},
		    {ms->header, (size_t)(colon - ms->header)},
		    {"", 1},
		    {v, strlen(v) + 1}};
		/* SMFIR_INSHEADER came with protocol version 6 (Sendmail
		 * 8.14, Postfix 2.6); older MTAs append. */
		if (ms->opts.version >= 6)
			msend(c, SMFIR_INSHEADER, parts, 4);
		else
			msend(c, SMFIR_ADDHEADER, parts + 1, 3);
	} else if (colon) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: header not added: the MTA does not "
			    "allow adding headers",
			    qid);
	}
}

/* Keeps an SRS recipient and its original for the end of the message
 * (up to MILTER_MAX_REVERSED). */
static void keep_reversed(mstate *ms, spfkitd_view rcpt, const char *orig)
{
	char *a = NULL, *b = NULL;
	char **v = NULL;
	if (ms->nrev < MILTER_MAX_REVERSED) {
		a = strndup(rcpt.ptr, rcpt.len);
		b = strdup(orig);
		v = a && b ? realloc(ms->rev, 2 * (ms->nrev + 1) * sizeof *v)
			   : NULL;
	}
	if (v) {
		ms->rev = v;
		v[2 * ms->nrev] = a;
		v[2 * ms->nrev + 1] = b;
		ms->nrev++;
	} else {
		free(a);
		free(b);
		spfkitd_log(LOG_WARNING,
			    "milter: SRS recipient left as it is (more than "
			    "%u, or out of memory)",
			    MILTER_MAX_REVERSED);
	}
}

/* SMFIC_RCPT with srs_milter: notes whether the mail leaves for another
 * domain, keeps a bounce's SRS recipient and its original for the end
 * of the message, and refuses a forged or stale one (550 5.1.1 when
 * srs_reject_forged). True when it answered the command. */
static bool milter_rcpt(spfkitd_server *s, conn *c, spfkitd_view d)
{
	mstate *ms = c->ms;
	const spfkitd_gen *g = s->cur;
	spfkitd_view rcpt;
	if (!ms->srs || !g->srs)
		return false;
	if (!spfkitd_milter_parse_addr(d, &rcpt)) {
		milter_malformed(s, "RCPT TO");
		return false;
	}
	char *orig = NULL;
	spfkit_srs_reason why;
	int rc = srs_reverse(g, rcpt, &orig, &why);
	if (rc < 0) {
		spfkitd_log(LOG_ERR, "srs: reverse: %s", spfkit_strerror(rc));
		return false;
	}
	if (srs_refused(rc, why)) {
		srs_log(LOG_INFO, "milter", "reverse", rcpt, NULL, why);
		s->m.srs_refused++;
		if (!g->conf->srs_reject_forged)
			return false;
		char text[300];
		snprintf(text, sizeof text, "SRS address refused: %s (%s)",
			 spfkit_srs_reason_text(why),
			 spfkit_srs_reason_name(why));
		msend_reply(c, 550, "5.1.1", text);
		return true;
	}
	if (!orig) {
		if (!spfkitd_srs_local(g->conf, rcpt.ptr, rcpt.len))
			ms->remote_rcpt = true;
		return false;
	}
	keep_reversed(ms, rcpt, orig);
	spfkit_free(g->scfg, orig);
	return false;
}

/* SMFIC_BODYEOB with srs_milter: rewrites the envelope sender of mail
 * from another domain that leaves for one (SMFIR_CHGFROM), and swaps the
 * SRS recipients of bounces for their originals (SMFIR_DELRCPT,
 * SMFIR_ADDRCPT). A sender too long to rewrite is left as it is, or the
 * message refused (srs_too_long). True when it answered the command. */
static bool milter_srs_eom(spfkitd_server *s, conn *c)
{
	mstate *ms = c->ms;
	const spfkitd_gen *g = s->cur;
	if (!ms->srs || !g->srs)
		return false;
	char qid[64];
	spfkitd_log_escape(qid, sizeof qid, ms->qid.p, ms->qid.n);
	char *out = NULL;
	spfkit_srs_reason why = SPFKIT_SRS_LOCAL_DOMAIN;
	int rc = SPFKIT_OK;
	if (ms->remote_rcpt && ms->sender.n)
		rc = srs_forward(g, ostr_view(&ms->sender), &out, &why);
	if (rc < 0)
		spfkitd_log(LOG_ERR, "milter: %s: srs: forward: %s", qid,
			    spfkit_strerror(rc));
	if (rc >= 0 && why == SPFKIT_SRS_TOO_LONG) {
		srs_log(LOG_WARNING, "milter", "forward",
			ostr_view(&ms->sender), NULL, why);
		s->m.srs_refused++;
		spfkitd_action a = g->conf->srs_too_long;
		if (a != SPFKITD_ACCEPT) {
			msend_reply(c, a == SPFKITD_REJECT ? 550 : 451,
				    a == SPFKITD_REJECT ? "5.1.7" : "4.1.7",
				    "The sender address is too long to "
				    "forward with SRS");
			return true;
		}
	}
	if (out && (ms->opts.actions & SMFIF_CHGFROM)) {
		msend_addr(c, SMFIR_CHGFROM, out);
		s->m.srs_forwarded++;
		srs_log(LOG_INFO, "milter", "forward", ostr_view(&ms->sender),
			out, why);
	} else if (out) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: sender not rewritten: the MTA does "
			    "not allow changing it",
			    qid);
	}
	spfkit_free(g->scfg, out);
	const uint32_t both = SMFIF_ADDRCPT | SMFIF_DELRCPT;
	if (ms->nrev && (ms->opts.actions & both) != both) {
		spfkitd_log(LOG_WARNING,
			    "milter: %s: %zu SRS recipient(s) not reversed: "
			    "the MTA does not allow changing recipients",
			    qid, ms->nrev);
		return false;
	}
	for (size_t i = 0; i < ms->nrev; i++) {
		msend_addr(c, SMFIR_DELRCPT, ms->rev[2 * i]);
		msend_addr(c, SMFIR_ADDRCPT, ms->rev[2 * i + 1]);
		s->m.srs_reversed++;
		const char *a = ms->rev[2 * i];
		srs_log(LOG_INFO, "milter", "reverse",
			(spfkitd_view){a, strlen(a)}, ms->rev[2 * i + 1],
			SPFKIT_SRS_OK);
	}
	return false;
}

/* SMFIC_MAIL: the sender; the checks start (the answer comes from
 * milter_decided()). */
static void milter_mail(spfkitd_server *s, conn *c, spfkitd_view d)
{
	mstate *ms = c->ms;
	spfkitd_view sender;
	msg_clear(ms);
	if (!spfkitd_milter_parse_addr(d, &sender)) {
		/* Nothing to check: let it through, as a policy request
		 * that does not parse gets DUNNO. */
		milter_malformed(s, "MAIL FROM");
		msend(c, SMFIR_CONTINUE, NULL, 0);
		milter_consume(c);
		return;
	}
	if (!ostr_set(&ms->sender, sender)) {
		c->msg = (spfkitd_msg){0};
		session_hold(s, c);
		session_internal_error(s, c, "keeping the sender",
				       SPFKIT_ENOMEM);
		return;
	}
	ms->smtputf8 = spfkitd_milter_mail_param(d, "SMTPUTF8");
	c->msg = (spfkitd_msg){.ip = ostr_view(&ms->ip),
			       .client_name = ostr_view(&ms->host),
			       .helo = ostr_view(&ms->helo),
			       .sender = ostr_view(&ms->sender),
			       .sasl_username = ostr_view(&ms->auth),
			       .queue_id = ostr_view(&ms->qid)};
	session_begin(s, c);
}

/* A reply code for reject and defer (the MTA refuses MAIL FROM with
 * it), continue otherwise, our header kept for the end of the message. */
void milter_decided(spfkitd_server *s, conn *c, spfkitd_decision *d)
{
	mstate *ms = c->ms;
	if (d->action == SPFKITD_ACCEPT) {
		ms->keep_authres = d->why == SPFKITD_WHY_SKIP_ADDR;
		if (d->header) {
			/* RFC 6532: an SMTPUTF8 message may carry UTF-8 in its
			 * header fields; others keep the library's escapes. */
			char *h = strdup(d->header);
			if (h && ms->smtputf8)
				spfkitd_header_utf8(h);
			ms->header = h ? spfkitd_header_fold(h) : NULL;
			free(h);
			if (!ms->header)
				spfkitd_log(LOG_WARNING,
					    "milter: out of memory: message "
					    "accepted without its header");
		}
		msend(c, SMFIR_CONTINUE, NULL, 0);
	} else {
		msend_reply(c, d->code, d->ext, d->text);
	}
	s->m.milter_messages++;
	session_end(s, c);
}

/* Handles one packet of a milter connection. */
static void milter_packet(spfkitd_server *s, conn *c, char cmd, spfkitd_view d)
{
	mstate *ms = c->ms;
	bool reply = true; /* answer SMFIR_CONTINUE */
	if (!ms->negotiated && cmd != SMFIC_OPTNEG) {
		milter_error(s, c, "command before option negotiation",
			     (unsigned char)cmd);
		return;
	}
	switch (cmd) {
	case SMFIC_OPTNEG:
		if (!milter_optneg(s, c, d))
			return;
		reply = false;
		break;
	case SMFIC_MACRO:
		milter_macros(ms, d);
		reply = false;
		break;
	case SMFIC_CONNECT: milter_connect(s, ms, d); break;
	case SMFIC_HELO: {
		spfkitd_view h;
		if (spfkitd_milter_string(&d, &h)) {
			ostr_set(&ms->helo, h);
		} else {
			ostr_clear(&ms->helo);
			milter_malformed(s, "HELO");
		}
		break;
	}
	case SMFIC_MAIL: milter_mail(s, c, d); return;
	case SMFIC_HEADER:
		milter_header(s, ms, d);
		reply = !(ms->opts.protocol & SMFIP_NR_HDR);
		break;
	case SMFIC_BODYEOB:
		if (milter_srs_eom(s, c))
			reply = false;
		else
			milter_eom(s, c);
		msg_reset(ms);
		break;
	case SMFIC_ABORT:
		msg_reset(ms);
		reply = false;
		break;
	case SMFIC_QUIT_NC:
		session_reset(ms);
		reply = false;
		break;
	case SMFIC_QUIT:
		milter_consume(c);
		c->in_off = c->in_len = 0;
		close_when_sent(c);
		return;
	case SMFIC_RCPT:
		if (milter_rcpt(s, c, d))
			reply = false;
		break;
	case SMFIC_DATA:
	case SMFIC_EOH:
	case SMFIC_BODY:
	case SMFIC_UNKNOWN: break;
	default:
		/* An unknown command may or may not want an answer: guessing
		 * would put the stream out of step. libmilter closes too. */
		milter_error(s, c, "unknown command", (unsigned char)cmd);
		return;
	}
	if (reply)
		msend(c, SMFIR_CONTINUE, NULL, 0);
	milter_consume(c);
}

void process_milter(spfkitd_server *s, conn *c)
{
	if (!c->ms) {
		c->ms = calloc(1, sizeof *c->ms);
		if (!c->ms) {
			spfkitd_log(LOG_ERR, "milter: out of memory");
			c->dead = true;
			return;
		}
	}
	bool need_more = false;
	while (!c->busy && !c->dead && !c->closing &&
	       c->out_len - c->out_off < OUT_HIGH) {
		char cmd;
		spfkitd_view d;
		size_t total;
		spfkitd_mframe_status st = spfkitd_milter_frame(
		    c->in + c->in_off, c->in_len - c->in_off, &cmd, &d, &total);
		if (st == SPFKITD_MFRAME_MORE) {
			need_more = true;
			break;
		}
		if (st == SPFKITD_MFRAME_BAD) {
			milter_error(s, c, "packet length 0 or over 64 KiB", 0);
			break;
		}
		c->req_len = total;
		milter_packet(s, c, cmd, d);
	}
	flush_out(c);
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->eof && !c->busy && !c->closing)
		conn_input_ended(c, "milter: ", "a packet", need_more);
}
