/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_text.c - `spfkit message` for a terminal: the analysis in
 * sections (bounce, message, envelope, what the receiver said, the
 * re-check, alignment, diagnosis), one labelled value a line. Values come
 * from the message, so from anyone: octets outside printable ASCII are
 * written as \xHH.
 */
#include "message.h"

/* Writes v for a terminal: printable ASCII, the rest as \xHH. */
static void tv(FILE *f, msgp_view v)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!v.p) {
		fputs("-", f);
		return;
	}
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == ' ' || c == '\t') {
			/* Unfolded values keep their folding WSP: one. */
			putc(' ', f);
			while (i + 1 < v.len &&
			       (v.p[i + 1] == ' ' || v.p[i + 1] == '\t'))
				i++;
		} else if (c >= 0x20 && c < 0x7f && c != '\\') {
			putc(c, f);
		} else {
			putc('\\', f);
			putc('x', f);
			putc(hex[c >> 4], f);
			putc(hex[c & 15], f);
		}
	}
}

static void ts(FILE *f, const char *s)
{
	tv(f, msg_vstr(s));
}

/* "  label        " then the value. */
static void tline(FILE *f, const char *label, msgp_view v, const char *note)
{
	fprintf(f, "  %-13s", label);
	tv(f, v);
	if (note) {
		fputs("  (", f);
		ts(f, note);
		putc(')', f);
	}
	putc('\n', f);
}

/* Writes text wrapped at about 76 columns, each line indented. */
static void twrap(FILE *f, const char *s, const char *indent1,
		  const char *indent)
{
	size_t col = (size_t)fprintf(f, "%s", indent1);
	bool first = true;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		const char *sp = strchr(s, ' ');
		size_t n = sp ? (size_t)(sp - s) : strlen(s);
		if (!first && col + 1 + n > 76) {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
		} else if (!first) {
			putc(' ', f);
			col++;
		}
		tv(f, (msgp_view){s, n});
		col += n;
		s += n;
		first = false;
	}
	putc('\n', f);
}

/* The bounce: who reported what, and whether the original was found. */
static void text_bounce(FILE *f, const msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	const msgp_dsn *d = &top->dsn;
	fprintf(f, "Bounce (%s)\n", msg_bounce_name(top->bounce));
	tline(f, "reported by", d->reporting_mta, NULL);
	tline(f, "remote MTA", d->remote_mta, NULL);
	tline(f, "recipient", d->final_recipient, NULL);
	tline(f, "status", d->status, NULL);
	tline(f, "diagnostic", d->diagnostic, NULL);
	if (a->bounce_spf) {
		char note[96];
		snprintf(note, sizeof note,
			 "the rejecting server's verdict, "
			 "from its %s",
			 a->bounce_spf_source);
		tline(f, "SPF said", msg_vstr(a->bounce_spf), note);
	}
	tline(f, "original",
	      msg_vstr(m == top          ? "not found"
		       : m->headers_only ? "headers only"
					 : "whole message"),
	      NULL);
	putc('\n', f);
}

/* The author fields and the parser's warnings. */
static void text_message(FILE *f, const msg_analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	fputs("Message\n", f);
	tline(f, "From", m->from.ok ? m->from.addr : msg_vnone(),
	      m->from.count > 1 ? "more than one mailbox" : NULL);
	if (m->reply_to.ok)
		tline(f, "Reply-To", m->reply_to.addr, NULL);
	if (m->sender.ok)
		tline(f, "Sender", m->sender.addr, NULL);
	tline(f, "Subject", m->subject, NULL);
	tline(f, "Message-ID", m->message_id, NULL);
	if (m->list_id.p)
		tline(f, "List-Id", m->list_id, NULL);
	for (size_t i = 0; i < top->nwarnings; i++)
		tline(f, "warning", msg_vstr(top->warnings[i]), NULL);
	if (m != top)
		for (size_t i = 0; i < m->nwarnings; i++)
			tline(f, "warning", msg_vstr(m->warnings[i]), NULL);
	putc('\n', f);
}

/* The receiving hop, the hops skipped, and the identities. */
static void text_envelope(FILE *f, const msg_analysis *a)
{
	const msgp_msg *m = a->m;
	char note[160];
	fputs("Envelope\n", f);
	if (a->hop >= 0) {
		const msgp_received *h = &m->received[a->hop];
		snprintf(note, sizeof note, "Received #%ld of %zu, %s",
			 a->hop + 1, m->nreceived, a->hop_how);
		tline(f, "hop", h->by, note);
		for (size_t i = 0; i < a->nskipped; i++) {
			snprintf(note, sizeof note, "skipped Received #%zu: %s",
				 a->skipped[i] + 1, a->skipped_why[i]);
			tline(f, "", m->received[a->skipped[i]].by, note);
		}
	}
	tline(f, "client IP", a->ip, a->ip_source);
	tline(f, "HELO", a->helo, a->helo_source);
	tline(f, "MAIL FROM",
	      a->sender_known ? (a->null_sender ? msg_vstr("<>") : a->sender)
			      : msg_vnone(),
	      a->sender_source);
	tline(f, "receiver", a->receiver, a->receiver_source);
	putc('\n', f);
}

/* The number of labels in an array of them, and of the views that go
 * with them: a view too many does not compile. */
#define NLABELS(labels) (sizeof labels / sizeof labels[0])

/* One trace field on a line: labels[i] then v[i] for i < n (the first
 * two always, the others when present), then whose it is and why. */
static void ttrace(FILE *f, const char *const *labels, const msgp_view *v,
		   size_t n, const char *whose, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		if (i >= 2 && !v[i].p)
			continue;
		fputs(labels[i], f);
		tv(f, v[i]);
	}
	fprintf(f, "  [%s: %s]\n", whose, why);
}

/* Received-SPF and Authentication-Results, and whose they are. */
static void text_receiver_said(FILE *f, const msg_analysis *a)
{
	static const char *const rspf_labels[] = {"  Received-SPF ", " by ",
						  " for "};
	static const char *const ar_labels[] = {
	    "  Authentication-Results ",
	    ": spf=", " smtp.mailfrom=", " dmarc="};
	const msgp_msg *m = a->m;
	fputs("Receiver said\n", f);
	if (m->nrspf == 0 && m->nauthres == 0)
		fputs("  nothing: no Received-SPF or Authentication-Results "
		      "field\n",
		      f);
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		const msgp_view v[NLABELS(rspf_labels)] = {
		    r->result, r->receiver, r->client_ip};
		ttrace(f, rspf_labels, v, NLABELS(rspf_labels),
		       a->rspf_trust[i].trusted ? "the receiver's"
						: "not the receiver's",
		       a->rspf_trust[i].why);
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		const msgp_view v[NLABELS(ar_labels)] = {
		    r->authserv_id, r->spf, r->spf_mailfrom, r->dmarc};
		ttrace(f, ar_labels, v, NLABELS(ar_labels),
		       a->ar_trust[i].trusted ? "the receiver's"
		       : !r->authserv_id.p
			   ? "unattributed"
			   : "NOT the receiver's, possibly forged",
		       a->ar_trust[i].why);
	}
	for (size_t i = 0; i < a->nconflicts; i++) {
		const msg_conflict *c = &a->conflicts[i];
		fprintf(f,
			"  CONFLICT     %s field %zu (line %u) claims the "
			"receiver and says %s; the receiver's record says "
			"%s\n",
			c->field, c->position, c->at->line, c->says,
			a->recorded ? a->recorded : "nothing");
	}
	putc('\n', f);
}

/* The check run again, against what the receiver recorded. */
static void text_recheck(FILE *f, const msg_analysis *a)
{
	char note[160];
	fputs("Re-check\n", f);
	if (!a->main.done) {
		fputs("  not done: ", f);
		ts(f, a->why_not);
		putc('\n', f);
		putc('\n', f);
		return;
	}
	spfkit_check *c = a->main.chk;
	snprintf(note, sizeof note, "%s, DNS from %s", spfkit_check_identity(c),
		 a->dns_name);
	tline(f, "result", msg_vstr(spfkit_result_name(a->main.result)), note);
	tline(f, "domain", msg_vstr(spfkit_check_domain(c)), NULL);
	if (spfkit_check_mechanism(c))
		tline(f, "matched", msg_vstr(spfkit_check_mechanism(c)),
		      spfkit_check_where(c));
	if (spfkit_check_explanation(c))
		tline(f, "explanation", msg_vstr(spfkit_check_explanation(c)),
		      NULL);
	if (spfkit_check_problem(c))
		tline(f, "problem", msg_vstr(spfkit_check_problem(c)), NULL);
	if (a->recorded) {
		snprintf(note, sizeof note, "%s: %s", a->recorded_source,
			 a->compared);
		tline(f, "recorded", msg_vstr(a->recorded), note);
	} else {
		tline(f, "recorded", msg_vstr("nothing"), NULL);
	}
	if (a->bounce_spf) {
		snprintf(note, sizeof note, "%s: %s", a->bounce_spf_source,
			 a->bounce_compared);
		tline(f, "bounce said", msg_vstr(a->bounce_spf), note);
	}
	if (a->helo_chk.done)
		tline(f, "HELO check",
		      msg_vstr(spfkit_result_name(a->helo_chk.result)),
		      spfkit_check_domain(a->helo_chk.chk));
	if (a->up.done) {
		snprintf(note, sizeof note, "Received #%ld", a->up_hop + 1);
		fputs("  earlier hop  ", f);
		tv(f, a->m->received[a->up_hop].ip);
		fprintf(f, ": %s  (%s)\n", spfkit_result_name(a->up.result),
			note);
	}
	putc('\n', f);
}

/* The DKIM signatures, one a line. */
static void text_dkim(FILE *f, const msg_analysis *a)
{
	char line[1200];
	if (a->dkim.why_not)
		tline(f, "DKIM", msg_vstr("not verified"), a->dkim.why_not);
	else if (a->dkim.total == 0)
		tline(f, "DKIM", msg_vstr("no signature"), NULL);
	for (size_t i = 0; i < a->dkim.n; i++) {
		const msg_dkim_sig *s = &a->dkim.sigs[i];
		snprintf(line, sizeof line, "%s d=%s s=%s%s%s%s", s->result,
			 s->domain, s->selector, s->reason[0] ? " (" : "",
			 s->reason, s->reason[0] ? ")" : "");
		tline(f, i == 0 ? "DKIM" : "", msg_vstr(line),
		      s->aligned                       ? "aligned"
		      : strcmp(s->result, "pass") == 0 ? "not aligned"
						       : NULL);
	}
}

/* The DMARC verdict (RFC 9989): the author domain's policy, SPF and DKIM
 * alignment, the result and what the policy asks. */
static void text_dmarc(FILE *f, const msg_analysis *a)
{
	const msg_dmarc *d = &a->dmarc;
	const spfkit_dmarc_policy *p = d->pol;
	bool found = p && p->status == SPFKIT_DMARC_FOUND;
	char note[600];
	fputs("DMARC (RFC 9989)\n", f);
	tline(f, "author", msg_vstr(d->author[0] ? d->author : NULL),
	      d->why_not);
	if (found) {
		snprintf(note, sizeof note, "at %s%s", p->policy_domain,
			 p->testing ? ", t=y: testing" : "");
		tline(f, "policy", msg_vstr(spfkit_dmarc_disp_name(p->policy)),
		      note);
		tline(f, "record", msg_vstr(p->record), NULL);
	} else if (p && p->status == SPFKIT_DMARC_NONE) {
		tline(f, "policy", msg_vstr("none published"),
		      "no DMARC record: DMARC does not apply");
	}
	if (d->spf_known) {
		snprintf(note, sizeof note, "%s %s, aspf=%c",
			 a->null_sender ? "HELO" : "MAIL FROM",
			 spfkit_result_name(a->main.result),
			 found ? p->aspf : 'r');
		tline(f, "SPF", msg_vstr(d->spf_domain), note);
		const char *why = found && p->aspf == 's'
				      ? "no (strict: not the same domain)"
				      : "no (another organizational domain)";
		fprintf(f, "  %-13s%s\n", "SPF aligned",
			d->spf_aligned ? "yes"
			: a->main.result != SPFKIT_RESULT_PASS
			    ? "no (SPF did not pass)"
			    : why);
	}
	text_dkim(f, a);
	tline(f, "result", msg_vstr(d->result), NULL);
	tline(f, "disposition", msg_vstr(d->disposition),
	      d->testing_lowered ? "t=y: one step milder than the policy"
				 : NULL);
	putc('\n', f);
}

void msg_out_text(FILE *f, const msg_analysis *a)
{
	if (a->is_bounce)
		text_bounce(f, a);
	text_message(f, a);
	text_envelope(f, a);
	text_receiver_said(f, a);
	text_recheck(f, a);
	text_dmarc(f, a);
	fputs("Diagnosis\n", f);
	for (size_t i = 0; i < a->ndiags; i++) {
		char head[64];
		snprintf(head, sizeof head, "  - %s: ", a->diags[i].code);
		twrap(f, a->diags[i].text, head, "    ");
	}
}
