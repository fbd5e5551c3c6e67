/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - spfkitd.conf(5): `key = value` lines read into one immutable
 * settings structure. A reload builds a new one and swaps it in only when
 * the whole file was good, so errors (reported as FILE:LINE: message)
 * never leave a half-applied configuration.
 */
#ifndef SPFKITD_CONFIG_H
#define SPFKITD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spfkit.h>

/* What to do with a message, by SPF result (RFC 7208 §8). */
typedef enum spfkitd_action {
	SPFKITD_ACCEPT = 0,     /* let it through, tagged with the header */
	SPFKITD_REJECT,         /* 5xx */
	SPFKITD_DEFER,          /* 4xx */
	SPFKITD_DEFER_IF_PERMIT /* policy: Postfix's DEFER_IF_PERMIT, a 4xx
				   unless a later restriction rejects (5xx
				   wins); milter: as defer */
} spfkitd_action;
#define SPFKITD_NACTIONS 4

/* "accept", "reject", "defer", "defer_if_permit". */
const char *spfkitd_action_name(spfkitd_action a);
/* Is a a deferral (defer or defer_if_permit)? */
bool spfkitd_action_defers(spfkitd_action a);

typedef enum spfkitd_header_kind {
	SPFKITD_HEADER_RECEIVED_SPF = 0,
	SPFKITD_HEADER_AUTHRES,
	SPFKITD_HEADER_NONE
} spfkitd_header_kind;

typedef enum spfkitd_log_target {
	SPFKITD_LOG_SYSLOG = 0,
	SPFKITD_LOG_STDERR
} spfkitd_log_target;

/* An address block: family AF_INET or AF_INET6, address in network order
 * (IPv4 in the first 4 octets), prefix length. */
typedef struct spfkitd_cidr {
	int family;
	unsigned char addr[16];
	unsigned prefix;
} spfkitd_cidr;

/* A list of owned strings, with the line of the file each came from (0:
 * a default; line may be NULL). */
typedef struct spfkitd_strlist {
	char **v;
	unsigned *line;
	size_t n;
} spfkitd_strlist;

/* Where a key was last set: its line in the file. */
typedef struct spfkitd_keyline {
	char key[64]; /* as long as apply() reads: never truncated */
	unsigned line;
} spfkitd_keyline;

/* A list of address blocks. */
typedef struct spfkitd_cidrlist {
	spfkitd_cidr *v;
	size_t n;
} spfkitd_cidrlist;

/* Number of SPF results (spfkit_result values 0..6). */
#define SPFKITD_NRESULTS 7

typedef struct spfkitd_conf {
	char *path; /* the file read */

	/* Checks and what each result does (index: spfkit_result). */
	bool helo_check, mailfrom_check;
	bool helo_null_only; /* HELO_reject = Null: HELO rejects only for
				the null sender */
	spfkitd_action helo_action[SPFKITD_NRESULTS];
	spfkitd_action mailfrom_action[SPFKITD_NRESULTS];
	unsigned test_only; /* results (bit 1 << spfkit_result) only
			       logged: their messages are accepted */
	spfkitd_action internal_error_action; /* accept or defer */

	/* Replies. */
	unsigned reject_code, defer_code;
	char *reject_reason, *defer_reason; /* templates */

	/* Headers and the receiver. */
	spfkitd_header_kind header;
	char *authserv_id; /* set when header is authentication-results */
	char *receiver;
	bool hide_receiver;
	char *explanation; /* default explanation macro-string, or NULL */

	/* Who is not checked. */
	spfkitd_cidrlist skip_addresses;
	bool skip_authenticated;
	spfkitd_cidrlist whitelist_ip;
	spfkitd_strlist whitelist_helo, whitelist_sender_domain;
	spfkitd_strlist must_pass_domains;

	/* DNS. */
	spfkitd_strlist nameservers, zone_files;
	bool recursive, prefetch;
	char *trust_anchor;
	uint32_t query_timeout_ms, deadline_ms;

	/* Server. */
	spfkitd_strlist listen;
	spfkitd_strlist milter_listen; /* normalised: inet:ADDR:PORT,
					  inet:[V6]:PORT or unix:/path */
	char *user, *chroot_dir, *metrics_listen, *pid_file;
	spfkitd_log_target log;
	int log_facility;                 /* syslog facility (LOG_MAIL, ...) */
	unsigned max_connections;         /* per listener */
	unsigned metrics_max_connections; /* of metrics_listen */
	uint32_t idle_timeout_ms;

	/* SRS: the socketmap (srs_listen) and the milter (srs_milter). */
	char *srs_domain;  /* the forwarding domain; NULL: no SRS */
	char *srs_secrets; /* the secrets file, read by spfkitd_gen_new() */
	spfkitd_strlist srs_local_domains; /* senders left alone */
	spfkitd_strlist srs_listen;        /* socketmap endpoints */
	unsigned srs_max_age, srs_hash_length;
	char srs_separator;
	bool srs_milter;             /* rewrite in milter mode */
	bool srs_reject_forged;      /* refuse RCPT to a forged or stale SRS
					address (policy service and milter) */
	spfkitd_action srs_too_long; /* milter: a sender too long to
					rewrite: accept (unchanged), defer
					or reject the message */

	/* Read from policyd-spf.conf(5) files (config_policyd.c), with
	 * defaults for spfkitd's own. */
	unsigned void_limit;   /* RFC 7208 §4.6.4 void lookup limit (2) */
	bool enhanced_codes;   /* policy replies carry the RFC 7372 code */
	spfkitd_strlist notes; /* what -t says a policyd-spf file gave */
	/* Reject_Not_Pass_Domains: a HELO name or sender domain listed
	 * (or a parent of an entry, as policyd-spf matches) rejects fail,
	 * softfail and neutral. */
	spfkitd_strlist not_pass_domains;
	/* HELO_pass_restriction, Mail_From_pass_restriction: a Postfix
	 * restriction class answered on pass, or NULL. */
	char *helo_pass_restriction, *mailfrom_pass_restriction;

	/* Where keys were set (spfkitd_conf_line()), and warnings about a
	 * configuration that works but exposes the service (-t and start
	 * print them), each "FILE:LINE: key: ...". */
	spfkitd_keyline *keylines;
	size_t nkeylines;
	spfkitd_strlist warnings;
} spfkitd_conf;

/* The line of the file where key (as spfkitd.conf(5) names it) was last
 * set; 0 when it has its default. */
unsigned spfkitd_conf_line(const spfkitd_conf *c, const char *key);

/* The line of entry i of a list (0: a default). */
unsigned spfkitd_strlist_line(const spfkitd_strlist *l, size_t i);
/* Adds a copy of s (from line); false when out of memory. */
bool spfkitd_strlist_add(spfkitd_strlist *l, const char *s, unsigned line);
/* Frees the strings and empties the list. */
void spfkitd_strlist_free(spfkitd_strlist *l);

/* Writes "FILE:LINE: key: message" into err (errlen bytes), or "FILE:
 * key: message" for line 0 (a default): the form of every error about a
 * key of the configuration. */
#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
void spfkitd_conf_error(const spfkitd_conf *c, unsigned line, const char *key,
			char *err, size_t errlen, const char *fmt, ...);

/* Adds an address block; false when out of memory or too many. */
bool spfkitd_cidrlist_add(spfkitd_cidrlist *l, const spfkitd_cidr *c);

/* Is this inet endpoint (as parsed by spfkitd_parse_endpoint()) on a
 * loopback address (127.0.0.0/8, ::1, or IPv4-mapped loopback)? */
bool spfkitd_loopback_host(const char *host);

/* A configuration with every default (the file's keys all absent). NULL
 * when out of memory. Free with spfkitd_conf_free(). */
spfkitd_conf *spfkitd_conf_defaults(void);

/* Reads path over the defaults. On failure returns NULL and writes
 * "path:line: message" (or "path: message") into err. */
spfkitd_conf *spfkitd_conf_load(const char *path, char *err, size_t errlen);

/* Parses text (len bytes, the contents of a file called name) over the
 * defaults. As spfkitd_conf_load(); for tests and fuzzing. */
spfkitd_conf *spfkitd_conf_parse(const char *name, const char *text, size_t len,
				 char *err, size_t errlen);

void spfkitd_conf_free(spfkitd_conf *c);

/* Parses "inet:HOST:PORT", "inet:[V6]:PORT" or "unix:/path" into its
 * parts. Returns false when it is neither. *host points into a copy in
 * hostbuf (hostlen bytes); for unix, *host is the path and *port 0. */
bool spfkitd_parse_endpoint(const char *s, bool *is_unix, char *hostbuf,
			    size_t hostlen, unsigned *port);

/* Parses a milter endpoint in libmilter's smfi_setconn() syntax
 * ("inet:PORT@ADDR", "inet:PORT" for every address, "inet6:PORT@ADDR",
 * "unix:/path", "local:/path"; the host "localhost" is taken as the
 * loopback address) or in ours ("inet:ADDR:PORT"), and writes it in ours
 * into out (cap bytes). False when it is none of these. */
bool spfkitd_milter_endpoint(const char *s, char *out, size_t cap);

/* Parses an address or CIDR block ("192.0.2.0/24", "2001:db8::/32",
 * "192.0.2.1"). */
bool spfkitd_parse_cidr(const char *s, size_t n, spfkitd_cidr *out);

/* Does the text address ip (IPv4, IPv6 or IPv4-mapped IPv6, n bytes) fall
 * within one of the blocks? */
bool spfkitd_cidr_match(const spfkitd_cidrlist *l, const char *ip, size_t n);

/* Does the domain (n bytes) equal an entry of l or lie below one
 * (case-insensitive, trailing dots ignored)? */
bool spfkitd_domain_match(const spfkitd_strlist *l, const char *d, size_t n);

/* Is the domain of addr (after its last '@'; n bytes) one of the SRS
 * local domains (srs_local_domains or srs_domain, or below one)? An
 * address without '@' is taken as local (Postfix's bare local names). */
bool spfkitd_srs_local(const spfkitd_conf *c, const char *addr, size_t n);

/* Checks a reply template: NULL when good, else a static message. */
const char *spfkitd_template_check(const char *t);

#endif /* SPFKITD_CONFIG_H */
