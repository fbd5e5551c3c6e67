/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.h - from configuration and SPF results to what the MTA is told:
 * accept (with a Received-SPF or Authentication-Results header), reject
 * or defer, with an RFC 7372 enhanced status code. Knows no protocol and
 * does no I/O, so the policy service and a milter share it: the policy
 * service turns a decision into "action=...", a milter into
 * smfi_setreply() and smfi_insheader().
 *
 * A message goes through it in three steps: spfkitd_decide_pre() says
 * whether to check at all (skips and whitelists); the caller runs the
 * checks spfkitd_want_helo() / spfkitd_want_mailfrom() ask for (HELO
 * first: when spfkitd_helo_decides() the MAIL FROM check is not needed);
 * spfkitd_decide() maps the results to a decision.
 */
#ifndef SPFKITD_DECIDE_H
#define SPFKITD_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include <spfkit.h>

#include "config.h"
#include "policy.h"

/* What the MTA said about one message (views borrowed for the call; an
 * absent value has ptr NULL). */
typedef struct spfkitd_msg {
	spfkitd_view ip, client_name, helo, sender, recipient;
	spfkitd_view sasl_username, queue_id;
} spfkitd_msg;

typedef enum spfkitd_pre {
	SPFKITD_PRE_CHECK = 0, /* run the checks */
	SPFKITD_PRE_SKIP,      /* not checked, no header (skip_*) */
	SPFKITD_PRE_WHITELIST  /* not checked, no header (whitelist_*) */
} spfkitd_pre;

/* Why a decision is what it is (for logs and metrics). */
typedef enum spfkitd_why {
	SPFKITD_WHY_HELO = 0,  /* the HELO result decided */
	SPFKITD_WHY_MAILFROM,  /* the MAIL FROM result decided */
	SPFKITD_WHY_MUST_PASS, /* must_pass_domains and no pass */
	SPFKITD_WHY_SKIP_ADDR, /* skip_addresses */
	SPFKITD_WHY_SKIP_AUTH, /* skip_authenticated */
	SPFKITD_WHY_NO_CLIENT, /* no usable client address */
	SPFKITD_WHY_WL_IP,     /* whitelist_ip */
	SPFKITD_WHY_WL_HELO,   /* whitelist_helo */
	SPFKITD_WHY_WL_SENDER, /* whitelist_sender_domain */
	SPFKITD_WHY_INTERNAL   /* an internal error */
} spfkitd_why;

/* "helo", "mailfrom", "must_pass_domains", "skip_addresses", ... */
const char *spfkitd_why_name(spfkitd_why w);

/* Reply text capacity, with its NUL (SMTP allows 512 per line). */
#define SPFKITD_REPLY_MAX 420

typedef struct spfkitd_decision {
	spfkitd_action action;  /* what the MTA is told */
	spfkitd_action verdict; /* the same before test_only */
	spfkitd_why why;
	bool checked;         /* a result exists (not skipped, no error) */
	spfkit_result result; /* the deciding result, when checked */
	const char *identity; /* "helo", "mailfrom" or "-" */
	unsigned code;        /* reject and defer: 550, 451, ... */
	char ext[12];         /* RFC 3463 enhanced code: "5.7.23", ... */
	bool plain_code; /* policy reply without ext (enhanced_codes off) */
	char restriction[100];        /* policy reply: this restriction class
					 instead (*_pass_restriction), or "" */
	char text[SPFKITD_REPLY_MAX]; /* reply text, printable ASCII */
	char *header; /* "Received-SPF: ..." to add, or NULL; owned, freed
			 by spfkitd_decision_free() */
	const spfkit_config *scfg; /* the header's allocator */
} spfkitd_decision;

/* Step 1: whether to check. *why says which skip or whitelist applied. */
spfkitd_pre spfkitd_decide_pre(const spfkitd_conf *c, const spfkitd_msg *m,
			       spfkitd_why *why);

/* Step 2: which checks to run. */
bool spfkitd_want_helo(const spfkitd_conf *c, const spfkitd_msg *m);
bool spfkitd_want_mailfrom(const spfkitd_conf *c, const spfkitd_msg *m);
/* Does this HELO result already reject or defer the message? */
bool spfkitd_helo_decides(const spfkitd_conf *c, const spfkitd_msg *m,
			  spfkit_result r);

/* Step 3: the decision from the finished checks (either may be NULL when
 * it was not run; both are borrowed for the call). scfg is the library
 * config the checks were made with. Returns SPFKIT_OK or SPFKIT_ENOMEM
 * (the header could not be built: *out is still a usable decision
 * without a header). */
int spfkitd_decide(const spfkitd_conf *c, const spfkit_config *scfg,
		   const spfkitd_msg *m, const spfkit_check *helo,
		   const spfkit_check *mailfrom, spfkitd_decision *out);

/* A decision that lets the message through unchecked, for a skip or a
 * whitelist entry. */
void spfkitd_decide_skip(const spfkitd_conf *c, spfkitd_why why,
			 spfkitd_decision *out);

/* The decision for an internal error (internal_error_action). */
void spfkitd_decide_internal(const spfkitd_conf *c, spfkitd_decision *out);

/* Releases the header. Accepts a zeroed decision. */
void spfkitd_decision_free(spfkitd_decision *d);

/* Writes the policy reply "action=...\n\n" as snprintf() would: at most
 * cap bytes with a NUL, returning the length it needs. */
size_t spfkitd_decision_policy_reply(const spfkitd_decision *d, char *buf,
				     size_t cap);

#endif /* SPFKITD_DECIDE_H */
