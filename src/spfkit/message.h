/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * message.h - what the files of `spfkit message` share. message.c runs
 * the command: options (message_opts.c), the message read and parsed
 * (src/msg, msgparse.h), the analysis (message_analysis.c with
 * message_recheck.c and message_diagnose.c), which fills the plain struct
 * below and prints nothing, and one of the two outputs of that struct
 * (message_text.c, message_json.c).
 */
#ifndef SPFKIT_MESSAGE_H
#define SPFKIT_MESSAGE_H

#include <libpsl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dnsrun.h"
#include "msgparse.h"

#define MSG_PROG "spfkit message"

/* A domain for alignment: RFC 1035 §2.3.4 plus a trailing dot. */
#define MSG_DOMAIN_MAX 254u
/* Diagnoses at most, and the length of one. */
#define MSG_DIAG_MAX 10u
#define MSG_DIAG_LEN 1024u
/* Skipped hops listed at most. */
#define MSG_SKIPPED_MAX 16u

/* ------------------------------------------------------------ options */

/* What the command line asks for. */
typedef struct msg_opts {
	const char *file; /* NULL or "-": standard input */
	cli_format format;
	unsigned trusted_hops; /* 0: not given */
	const char *receiver;
	const char *authserv_id;
	cli_identity id;  /* --ip, --helo, --sender: override the headers */
	cli_dns_opts dns; /* zones and nameservers: the caller's arrays */
} msg_opts;

/* Parses argv into o (message_opts.c). Returns 0, -1 after --help was
 * written, or an exit status after one line on stderr. */
int msg_parse_args(int argc, char **argv, msg_opts *o);

/* ------------------------------------------------------------ DKIM */

/* DKIM-Signature fields verified at most (message_dkim.c): each costs a
 * key lookup, and the message is anyone's. */
#define MSG_DKIM_MAX 8u

/* One DKIM-Signature verified (RFC 6376), with its result as RFC 8601
 * §2.7.1 names them. */
typedef struct msg_dkim_sig {
	char domain[MSG_DOMAIN_MAX * 4 + 2];   /* d=, escaped for display */
	char selector[MSG_DOMAIN_MAX * 4 + 2]; /* s=, escaped */
	char domain_lc[MSG_DOMAIN_MAX + 2]; /* d= lower-cased, for alignment */
	bool domain_ok;                     /* ... when it is a domain */
	const char *result; /* pass, fail, neutral, temperror, permerror */
	char reason[160];   /* why it did not pass ("" for a pass) */
	bool testing;       /* the key says t=y (RFC 6376 §3.6.1) */
	bool aligned;       /* a pass whose d= aligns with the author domain */
	const char *org;    /* d='s organizational domain, or NULL */
} msg_dkim_sig;

/* Every signature of a message. */
typedef struct msg_dkim_out {
	msg_dkim_sig sigs[MSG_DKIM_MAX];
	size_t n;            /* listed */
	size_t total;        /* in the message */
	const char *why_not; /* the signatures could not be verified */
	char error[160];
} msg_dkim_out;

/* A DKIM verifier fed the message as it is read (message_dkim.c). */
typedef struct msg_dkim msg_dkim;

/* A new verifier in *out (free with msg_dkim_free()). Returns SPFKIT_OK
 * or SPFKIT_ENOMEM. */
int msg_dkim_new(msg_dkim **out);
/* Hands n octets of the message to the verifier (p borrowed for the
 * call); accepts a NULL d. */
void msg_dkim_feed(msg_dkim *d, const char *p, size_t n);
/* Ends the message and verifies its signatures, their keys looked up over
 * dns (a TXT lookup check each, made with cfg); d may be NULL (nothing
 * fed). Returns SPFKIT_OK or SPFKIT_ENOMEM. */
int msg_dkim_finish(msg_dkim *d, cli_dns *dns, const spfkit_config *cfg,
		    msg_dkim_out *out);
void msg_dkim_free(msg_dkim *d);

/* ------------------------------------------------------------ analysis */

/* One SPF check run again. */
typedef struct msg_check {
	bool done;
	spfkit_check *chk; /* owned by the analysis */
	spfkit_result result;
} msg_check;

typedef struct msg_diag {
	const char *code;
	char text[MSG_DIAG_LEN];
} msg_diag;

/* What is known about one trace field. */
typedef struct msg_trust {
	bool trusted;
	bool claims;     /* it names the receiver: its authserv-id, its
			    receiver= (or a Received-SPF with the hop's
			    client IP and no receiver named) */
	const char *why; /* how it matched, or why not */
} msg_trust;

/* Conflicts listed at most. */
#define MSG_CONFLICTS_MAX 8u

/* A field that claims the receiver below the receiver's own record and
 * says another SPF result: it came with the message (RFC 8601 §5). */
typedef struct msg_conflict {
	const char *field;    /* "Authentication-Results", "Received-SPF" */
	size_t index;         /* into m->authres or m->rspf */
	const char *says;     /* its result */
	const msgp_field *at; /* the field itself (line) */
	size_t position;      /* 1-based, among the header section's fields */
} msg_conflict;

/* Identifier domains whose organizational domain a verdict looks up: the
 * author's, the SPF domain's and each DKIM signature's. */
#define MSG_ORGS_MAX (MSG_DKIM_MAX + 2u)

/* A DMARC discovery (RFC 9989 §4.10) of one domain, kept for the run. */
typedef struct msg_org {
	char domain[MSG_DOMAIN_MAX + 2];
	spfkit_check *chk;                /* owned */
	const spfkit_dmarc_policy *found; /* borrowed from chk, or NULL */
} msg_org;

/* The DMARC verdict (message_dmarc.c, RFC 9989). */
typedef struct msg_dmarc {
	const char *why_not; /* no author domain: why (result none) */
	char author[MSG_DOMAIN_MAX + 2];
	const spfkit_dmarc_policy *pol; /* the author domain's discovery */
	const char *result;             /* pass, fail, none, temperror */
	const char *disposition;        /* none, quarantine, reject */
	bool testing_lowered; /* t=y made the disposition one step milder */
	bool spf_aligned;     /* SPF passed and its domain aligns */
	bool spf_known;       /* the MAIL FROM check ran */
	char spf_domain[MSG_DOMAIN_MAX + 2];
	const char *spf_org;
	bool spf_would_align; /* the SPF domain aligns, whatever SPF said */
	bool dkim_aligned;    /* some signature passed and aligns */
	bool org_temperror;   /* an identifier's discovery failed */
	msg_org orgs[MSG_ORGS_MAX];
	size_t norgs;
} msg_dmarc;

/* Everything `spfkit message` has to say about a message. Views point
 * into the parsed message, strings are static or the struct's own. */
typedef struct msg_analysis {
	const msgp_msg *top; /* the input */
	const msgp_msg *m;   /* the analysed message (a bounce's original) */
	bool is_bounce;

	long hop; /* index into m->received, -1 for none */
	const char *hop_how;
	size_t skipped[MSG_SKIPPED_MAX];
	const char *skipped_why[MSG_SKIPPED_MAX];
	size_t nskipped;
	msgp_view receiver;
	const char *receiver_source;

	msgp_view ip, helo, sender;
	const char *ip_source, *helo_source, *sender_source;
	bool sender_known, null_sender;
	const char *why_not; /* the re-check could not run */

	msg_trust *rspf_trust; /* one per m->rspf */
	msg_trust *ar_trust;   /* one per m->authres */
	const char *recorded;  /* the receiver's result, or NULL */
	const char
	    *recorded_source; /* "received-spf" or "authentication-results" */
	msgp_view recorded_ip;
	size_t recorded_field; /* its index in m->fields, or SIZE_MAX */
	msg_conflict conflicts[MSG_CONFLICTS_MAX];
	size_t nconflicts;

	/* A bounce: the rejecting server's own SPF verdict (its diagnostic,
	 * or its trace field in the returned headers) and how it compares
	 * with the re-check. */
	const char *bounce_spf, *bounce_spf_source;
	msgp_view bounce_spf_text;
	const char *bounce_compared; /* "same", "different" or NULL */

	const char *dns_name; /* where the re-check's DNS came from */
	msg_check main, helo_chk, up;
	long up_hop;
	const char *compared; /* "same", "different", "nothing-recorded" */

	bool have_align;
	char from_dom[MSG_DOMAIN_MAX + 2], spf_dom[MSG_DOMAIN_MAX + 2];
	const char *from_org, *spf_org;
	const char *spf_dom_source;
	bool strict, relaxed, spf_pass, psl_ok;

	msg_dkim_out dkim; /* every DKIM-Signature, verified */
	msg_dmarc dmarc;

	msg_diag diags[MSG_DIAG_MAX];
	size_t ndiags;

	char error[512]; /* why msg_analyse() failed */
} msg_analysis;

/* Analyses the parsed message top: picks the receiving hop, judges the
 * trace fields, picks the identities, runs the checks over dns (cfg's
 * receiver is set for %{r}), verifies the DKIM signatures dkim was fed
 * (NULL: none verified), works out DMARC and the diagnoses.
 * Prints nothing. Returns 0, or an exit status with the one-line reason in
 * a->error. Either way a is the caller's to free with
 * msg_analysis_free(); o, top and dns are borrowed until then. */
int msg_analyse(const msg_opts *o, const msgp_msg *top, spfkit_config *cfg,
		cli_dns *dns, msg_dkim *dkim, msg_analysis *a);

void msg_analysis_free(msg_analysis *a);

/* Records why the analysis stops (in a->error) and returns status. */
int msg_refuse(msg_analysis *a, int status, const char *fmt, ...)
    CLI_PRINTF(3, 4);

/* Runs the checks of the analysis (message_recheck.c): MAIL FROM (or
 * HELO for the null sender), the HELO name, and an earlier hop when
 * forwarding may explain a failure. Returns 0 or an exit status. */
int msg_run_checks(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a);

/* DMARC's SPF alignment (message_recheck.c). */
void msg_align(const psl_ctx_t *psl, msg_analysis *a);

/* The DMARC verdict (message_dmarc.c): the author domain's policy, SPF
 * and DKIM alignment, the result and disposition, over dns. Returns 0 or
 * an exit status. */
int msg_dmarc_run(cli_dns *dns, const spfkit_config *cfg, msg_analysis *a);
/* Frees the discoveries of the verdict. */
void msg_dmarc_free(msg_dmarc *d);

/* The diagnoses (message_diagnose.c). */
void msg_diagnose(const psl_ctx_t *psl, msg_analysis *a);

/* Helpers of the analysis (message_analysis.c). */

/* Case-insensitive equality of two views. */
bool msg_veq(msgp_view a, msgp_view b);
/* Copies v, lower-cased and without a trailing dot, into dst (cap
 * octets, NUL terminated); false when it does not fit or holds octets
 * no domain has. */
bool msg_lower_domain(msgp_view v, char *dst, size_t cap);
/* A result name as written in a header, mapped to the RFC name. */
const char *msg_norm_result(msgp_view r);

static inline msgp_view msg_vnone(void)
{
	msgp_view v = {NULL, 0};
	return v;
}

static inline msgp_view msg_vstr(const char *s)
{
	msgp_view v = {s, s ? strlen(s) : 0};
	return v;
}

static inline const char *msg_bounce_name(msgp_bounce b)
{
	switch (b) {
	case MSGP_BOUNCE_DSN: return "dsn";
	case MSGP_BOUNCE_MIME: return "mime";
	case MSGP_BOUNCE_QUOTED: return "quoted";
	case MSGP_BOUNCE_NONE: break;
	}
	return "none";
}

/* ------------------------------------------------------------ output */

/* The analysis for a terminal (message_text.c): printable ASCII only. */
void msg_out_text(FILE *f, const msg_analysis *a);
/* The analysis as one JSON object (message_json.c). */
void msg_out_json(FILE *f, const msg_analysis *a);

#endif /* SPFKIT_MESSAGE_H */
