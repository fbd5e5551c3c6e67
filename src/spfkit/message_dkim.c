/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message_dkim.c - DKIM (RFC 6376) for `spfkit message`: every
 * DKIM-Signature of the message verified by libopendkim (OpenDKIM), never
 * by canonicalization or crypto of our own. The octets of the message are
 * handed to libopendkim as they are read (msg_dkim_feed, beside the
 * parser's reader, which keeps only headers), so a big message is never
 * held whole. Signatures are processed at the end (DELAYSIGPROC), when
 * the command's DNS source is open: the key of each (selector._domainkey.
 * domain, RFC 6376 §3.6.2.1) is a TXT lookup check of libspfkit run over
 * that source (cli_dns_run: --zone, --nameserver, ...), plugged in with
 * dkim_set_key_lookup(). libopendkim's own resolver (libresolv, which
 * reads /etc/resolv.conf) is replaced by functions that ask nothing, so
 * it never runs. libopendkim stays in the command: libspfkit does not
 * link it.
 */
#include <sys/types.h>

#include <dkim.h>
#include <stdlib.h>

#include "message.h"

/* Where a message starts: an mbox "From " line is skipped as the parser
 * skips it (it is no header field). */
typedef enum head_state { H_HEAD, H_SKIP_LINE, H_PASS } head_state;

/* What the key lookup of one signature found. */
typedef struct key_note {
	const DKIM_SIGINFO *sig;
	spfkit_dns_status status;
	spfkit_dns_failure why;
	bool asked;   /* a query was made */
	bool too_big; /* the record does not fit libopendkim's buffer */
} key_note;

/* libopendkim holds the header section whole until it ends: a bigger one
 * is not verified (the parser holds at most MSGP_HEADER_MAX of it too). */
#define DKIM_HEADER_MAX (4u * MSGP_HEADER_MAX)

struct msg_dkim {
	DKIM_LIB *lib;
	DKIM *dkim;
	DKIM_STAT st; /* the first status that ends feeding */
	bool nosig;   /* the header section has no DKIM-Signature */
	bool too_big; /* the header section is over DKIM_HEADER_MAX */
	bool in_body;
	unsigned nl;    /* 1 after a LF, 2 after LF CR: where the header ends */
	size_t hdr_len; /* header octets fed */
	head_state hs;
	char head[5];
	size_t nhead;
	size_t nsigs; /* DKIM-Signature fields seen (prescreen) */
	/* During msg_dkim_finish(): the DNS source and the notes. */
	cli_dns *dns;
	const spfkit_config *cfg;
	key_note notes[MSG_DKIM_MAX];
	size_t nnotes;
};

/* libopendkim's resolver hooks: nothing is set up and every query it
 * would start itself fails, so libresolv is never asked (every key comes
 * through key_lookup). */
static int dns_init_none(void **srv)
{
	*srv = NULL;
	return 0;
}

static void dns_close_none(void *srv)
{
	(void)srv;
}

static int dns_start_none(void *srv, int type, unsigned char *q,
			  unsigned char *buf, size_t len, void **qh)
{
	(void)srv, (void)type, (void)q, (void)buf, (void)len, (void)qh;
	return -1;
}

/* Signatures past MSG_DKIM_MAX are not verified: each costs a DNS query,
 * and the message is anyone's. */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	msg_dkim *d = dkim_get_user_context(dkim);
	if (d && nsigs > 0)
		d->nsigs = (size_t)nsigs;
	for (int i = (int)MSG_DKIM_MAX; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* The note of sig, a new one when it has none (NULL when full). */
static key_note *note_of(msg_dkim *d, const DKIM_SIGINFO *sig)
{
	for (size_t i = 0; i < d->nnotes; i++)
		if (d->notes[i].sig == sig)
			return &d->notes[i];
	if (d->nnotes >= MSG_DKIM_MAX)
		return NULL;
	key_note *n = &d->notes[d->nnotes++];
	*n = (key_note){.sig = sig};
	return n;
}

/* The key of sig (RFC 6376 §3.6.2.1: a TXT record at
 * selector._domainkey.domain) through the command's DNS source, into buf
 * (NUL terminated). RFC 6376 §3.6.2.2: of several records the first is
 * taken. */
static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf,
			      size_t buflen)
{
	msg_dkim *d = dkim_get_user_context(dkim);
	key_note *note = d ? note_of(d, sig) : NULL;
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	if (!note || !d->dns || !sel || !dom || buflen == 0)
		return DKIM_CBSTAT_ERROR;
	char name[600];
	int n = snprintf(name, sizeof name, "%s._domainkey.%s", sel, dom);
	if (n < 0 || (size_t)n >= sizeof name)
		return DKIM_CBSTAT_NOTFOUND; /* no such name in DNS */
	spfkit_check *chk = NULL;
	int rc = spfkit_check_new(&chk, d->cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_txt_lookup(chk, name, (size_t)n);
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(d->dns, chk);
	size_t nrec = 0;
	if (rc == SPFKIT_OK)
		rc = spfkit_check_txt_status(chk, &note->status, &note->why,
					     &nrec);
	DKIM_CBSTAT out = DKIM_CBSTAT_NOTFOUND;
	if (rc == SPFKIT_EINVAL || rc == SPFKIT_ETOOBIG) {
		/* A name the library refuses is no name in DNS. */
		note->status = SPFKIT_DNS_NXDOMAIN;
	} else if (rc < 0) {
		note->status = SPFKIT_DNS_TEMPFAIL;
		out = DKIM_CBSTAT_TRYAGAIN;
	} else {
		note->asked = true;
		const char *txt = NULL;
		size_t len = 0;
		if (note->status == SPFKIT_DNS_TEMPFAIL)
			out = DKIM_CBSTAT_TRYAGAIN;
		else if (note->status == SPFKIT_DNS_NOERROR && nrec > 0 &&
			 spfkit_check_txt_record(chk, 0, &txt, &len) ==
			     SPFKIT_OK) {
			if (len < buflen) {
				memcpy(buf, txt, len);
				buf[len] = '\0';
				out = DKIM_CBSTAT_CONTINUE;
			} else {
				note->too_big = true;
				out = DKIM_CBSTAT_ERROR;
			}
		}
	}
	spfkit_check_free(chk);
	return out;
}

int msg_dkim_new(msg_dkim **out)
{
	*out = NULL;
	msg_dkim *d = calloc(1, sizeof *d);
	if (!d)
		return SPFKIT_ENOMEM;
	d->lib = dkim_init(NULL, NULL);
	if (!d->lib) {
		free(d);
		return SPFKIT_ENOMEM;
	}
	dkim_dns_set_init(d->lib, dns_init_none);
	dkim_dns_set_close(d->lib, dns_close_none);
	dkim_dns_set_query_start(d->lib, dns_start_none);
	/* Saved messages end lines in LF as often as CRLF: libopendkim
	 * makes every line end CRLF, as it was on the wire (RFC 5322
	 * §2.1). Signatures are processed at dkim_eom(), once the DNS
	 * source is open. */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF |
			     DKIM_LIBFLAGS_DELAYSIGPROC |
			     DKIM_LIBFLAGS_BADSIGHANDLES;
	(void)dkim_options(d->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
			   sizeof flags);
	(void)dkim_set_key_lookup(d->lib, key_lookup);
	(void)dkim_set_prescreen(d->lib, prescreen);
	DKIM_STAT st = DKIM_STAT_OK;
	d->dkim =
	    dkim_verify(d->lib, (const u_char *)"spfkit-message", NULL, &st);
	if (!d->dkim) {
		dkim_close(d->lib);
		free(d);
		return SPFKIT_ENOMEM;
	}
	(void)dkim_set_user_context(d->dkim, d);
	*out = d;
	return SPFKIT_OK;
}

void msg_dkim_free(msg_dkim *d)
{
	if (!d)
		return;
	if (d->dkim)
		dkim_free(d->dkim);
	if (d->lib)
		dkim_close(d->lib);
	free(d);
}

/* Hands n octets to libopendkim; the first failure (or the news that
 * the message has no signature) ends feeding. */
static void chunk(msg_dkim *d, const char *p, size_t n)
{
	if (d->st != DKIM_STAT_OK || n == 0)
		return;
	DKIM_STAT st = dkim_chunk(d->dkim, (u_char *)(uintptr_t)p, n);
	if (st == DKIM_STAT_NOSIG)
		d->nosig = true;
	if (st != DKIM_STAT_OK)
		d->st = st;
}

/* Counts header octets of p (n) until the empty line that ends the
 * section; false when the section grows over DKIM_HEADER_MAX. */
static bool header_fits(msg_dkim *d, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !d->in_body; i++) {
		char c = p[i];
		d->hdr_len++;
		if (c == '\n' && d->nl)
			d->in_body = true;
		else if (c == '\n')
			d->nl = 1;
		else if (c == '\r' && d->nl == 1)
			d->nl = 2;
		else
			d->nl = 0;
	}
	return d->in_body || d->hdr_len <= DKIM_HEADER_MAX;
}

void msg_dkim_feed(msg_dkim *d, const char *p, size_t n)
{
	if (!d || d->too_big || d->st != DKIM_STAT_OK)
		return;
	if (!d->in_body && !header_fits(d, p, n)) {
		d->too_big = true;
		return;
	}
	while (n > 0 && d->hs != H_PASS) {
		if (d->hs == H_SKIP_LINE) {
			const char *nl = memchr(p, '\n', n);
			if (!nl)
				return;
			n -= (size_t)(nl + 1 - p);
			p = nl + 1;
			d->hs = H_PASS;
			break;
		}
		d->head[d->nhead++] = *p++;
		n--;
		if (d->nhead == sizeof d->head) {
			if (memcmp(d->head, "From ", 5) == 0) {
				d->hs = H_SKIP_LINE;
			} else {
				d->hs = H_PASS;
				chunk(d, d->head, d->nhead);
			}
		}
	}
	chunk(d, p, n);
}

/* RFC 8601 §2.7.1 result and a reason for signature sig. */
static const char *sig_result(const msg_dkim *d, DKIM_SIGINFO *sig,
			      char *reason, size_t cap)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	int bh = dkim_sig_getbh(sig);
	const key_note *note = NULL;
	for (size_t i = 0; i < d->nnotes; i++)
		if (d->notes[i].sig == sig)
			note = &d->notes[i];
	reason[0] = '\0';
	if (flags & DKIM_SIGFLAG_IGNORE) {
		snprintf(reason, cap, "not verified: more than %u signatures",
			 MSG_DKIM_MAX);
		return "neutral";
	}
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
		return "pass";
	if (note && note->status == SPFKIT_DNS_TEMPFAIL) {
		snprintf(reason, cap, "key lookup failed (%s)",
			 spfkit_dns_failure_name(note->why));
		return "temperror";
	}
	if (note && note->too_big) {
		snprintf(reason, cap, "key record too long");
		return "permerror";
	}
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MISMATCH) {
		snprintf(reason, cap, "body hash mismatch");
		return "fail";
	}
	const char *s = dkim_sig_geterrorstr(err);
	snprintf(reason, cap, "%s", s ? s : "not verified");
	switch (err) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
		if (!(flags & DKIM_SIGFLAG_PROCESSED)) {
			snprintf(reason, cap, "not verified");
			return "neutral";
		}
		if (bh == DKIM_SIGBH_MISMATCH)
			snprintf(reason, cap, "body hash mismatch");
		else
			snprintf(reason, cap, "signature mismatch");
		return "fail";
	case DKIM_SIGERROR_BADSIG:
		snprintf(reason, cap,
			 "signature mismatch: signed header fields changed");
		return "fail";
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_TIMESTAMPS:
	case DKIM_SIGERROR_TOOLARGE_L: return "fail";
	case DKIM_SIGERROR_KEYFAIL: return "temperror";
	case DKIM_SIGERROR_NOKEY:
		snprintf(reason, cap, "key not found (%s)",
			 note && note->status == SPFKIT_DNS_NXDOMAIN
			     ? "NXDOMAIN"
			     : "no TXT record");
		return "permerror";
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_SUBDOMAIN: return "permerror";
	default: break;
	}
	/* The signature itself is malformed (RFC 8601 §2.7.1: neutral,
	 * "contained syntax errors or were not otherwise able to be
	 * processed"). */
	return "neutral";
}

/* Copies NUL-terminated s (from the message: anyone's) escaped into dst. */
static void copy_shown(char *dst, size_t cap, const u_char *s)
{
	const char *c = s ? (const char *)s : "";
	cli_escape(dst, cap, c, strlen(c), cap / 4);
}

int msg_dkim_finish(msg_dkim *d, cli_dns *dns, const spfkit_config *cfg,
		    msg_dkim_out *out)
{
	*out = (msg_dkim_out){0};
	if (!d) {
		out->why_not = "not verified";
		return SPFKIT_OK;
	}
	if (d->too_big) {
		snprintf(out->error, sizeof out->error,
			 "the header section is over %u MiB: not verified",
			 DKIM_HEADER_MAX / (1024u * 1024u));
		out->why_not = out->error;
		return SPFKIT_OK;
	}
	if (d->hs == H_HEAD)
		chunk(d, d->head, d->nhead);
	d->hs = H_PASS;
	/* dkim_chunk() with no octets ends the chunks. */
	if (d->st == DKIM_STAT_OK) {
		DKIM_STAT st = dkim_chunk(d->dkim, NULL, 0);
		if (st == DKIM_STAT_NOSIG)
			d->nosig = true;
		if (st != DKIM_STAT_OK)
			d->st = st;
	}
	if (d->nosig)
		return SPFKIT_OK; /* no DKIM-Signature: nothing to verify */
	d->dns = dns;
	d->cfg = cfg;
	_Bool testkey = 0;
	DKIM_STAT st = d->st;
	if (st == DKIM_STAT_OK)
		st = dkim_eom(d->dkim, &testkey);
	d->dns = NULL;
	if (st == DKIM_STAT_NOSIG)
		return SPFKIT_OK;
	if (st == DKIM_STAT_NORESOURCE)
		return SPFKIT_ENOMEM;
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	if (dkim_getsiglist(d->dkim, &sigs, &nsigs) != DKIM_STAT_OK ||
	    nsigs <= 0) {
		if (d->st != DKIM_STAT_OK && d->st != DKIM_STAT_NOSIG) {
			const char *e = dkim_geterror(d->dkim);
			snprintf(out->error, sizeof out->error, "%s",
				 e ? e : dkim_getresultstr(d->st));
			out->why_not = out->error;
		}
		return SPFKIT_OK;
	}
	out->total = (size_t)nsigs;
	for (int i = 0; i < nsigs && out->n < MSG_DKIM_MAX; i++) {
		msg_dkim_sig *s = &out->sigs[out->n++];
		*s = (msg_dkim_sig){0};
		copy_shown(s->domain, sizeof s->domain,
			   dkim_sig_getdomain(sigs[i]));
		copy_shown(s->selector, sizeof s->selector,
			   dkim_sig_getselector(sigs[i]));
		const u_char *dom = dkim_sig_getdomain(sigs[i]);
		s->domain_ok =
		    dom && msg_lower_domain(msg_vstr((const char *)dom),
					    s->domain_lc, sizeof s->domain_lc);
		s->result = sig_result(d, sigs[i], s->reason, sizeof s->reason);
		s->testing =
		    (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_TESTKEY) != 0;
	}
	return SPFKIT_OK;
}
