/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srs.c - SRS in spfkitd (server_int.h): each generation with an
 * srs_domain has its own handle, made here from the srs_secrets file.
 * The three protocols rewrite through srs_forward() and srs_reverse():
 * the socketmap rewrites both ways, the policy service refuses RCPT to
 * forged SRS addresses, the milter rewrites at the end of the message.
 * Neither direction needs DNS, so every answer is given at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "server_int.h"

/* A secrets file larger than this is refused (32 secrets of 64 octets
 * with comments fit many times over). */
#define SRS_SECRETS_MAX (64u * 1024u)

/* A file that is missing, unreadable, empty or holds a secret that is
 * too short fails with a one-line message naming it. */
bool srs_setup(spfkitd_gen *g, char *err, size_t errlen)
{
	const spfkitd_conf *conf = g->conf;
	const char *path = conf->srs_secrets;
	unsigned line = spfkitd_conf_line(conf, "srs_secrets");
	FILE *f = fopen(path, "r");
	if (!f) {
		spfkitd_conf_error(conf, line, "srs_secrets", err, errlen,
				   "%s: %s", path, strerror(errno));
		return false;
	}
	char *buf = malloc(SRS_SECRETS_MAX + 1);
	size_t n = buf ? fread(buf, 1, SRS_SECRETS_MAX + 1, f) : 0;
	bool bad = !buf || ferror(f);
	fclose(f);
	if (bad || n > SRS_SECRETS_MAX) {
		spfkitd_conf_error(conf, line, "srs_secrets", err, errlen,
				   "%s: %s", path,
				   !buf  ? "out of memory"
				   : bad ? "read error"
					 : "larger than 64 KiB");
		free(buf);
		return false;
	}
	char msg[256] = "";
	int rc = spfkit_srs_new(&g->srs, g->scfg);
	if (rc >= 0)
		rc = spfkit_srs_add_secrets(g->srs, buf, n, msg, sizeof msg);
	/* Wipe our copy: only the handle keeps the secrets. */
	memset(buf, 0, n);
	free(buf);
	if (rc < 0) {
		spfkitd_conf_error(
		    conf, line, "srs_secrets", err, errlen, "%s: %s", path,
		    msg[0]                ? msg
		    : rc == SPFKIT_ENOENT ? "no secret in the file"
					  : spfkit_strerror(rc));
		return false;
	}
	rc = spfkit_srs_set_max_age(g->srs, conf->srs_max_age);
	if (rc >= 0)
		rc = spfkit_srs_set_separator(g->srs, conf->srs_separator);
	if (rc >= 0)
		rc = spfkit_srs_set_hash_length(g->srs, conf->srs_hash_length);
	if (rc < 0) {
		spfkitd_conf_error(conf, spfkitd_conf_line(conf, "srs_domain"),
				   "srs_domain", err, errlen, "%s",
				   spfkit_strerror(rc));
		return false;
	}
	return true;
}

/* Does the address (n bytes) hold a control octet? Such a result is
 * never handed to the MTA. */
static bool has_control(const char *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* A result holding a control octet becomes a refusal for why (*out
 * freed); the library's rc passes through. */
static int no_control(const spfkitd_gen *g, int rc, char **out,
		      spfkit_srs_reason *why, spfkit_srs_reason instead)
{
	if (rc >= 0 && *out && has_control(*out, strlen(*out))) {
		spfkit_free(g->scfg, *out);
		*out = NULL;
		*why = instead;
	}
	return rc;
}

/* A sender in a local domain, the null sender and a bare local name
 * give SPFKIT_SRS_LOCAL_DOMAIN. */
int srs_forward(const spfkitd_gen *g, spfkitd_view a, char **out,
		spfkit_srs_reason *why)
{
	*out = NULL;
	if (!a.ptr || spfkitd_srs_local(g->conf, a.ptr, a.len)) {
		*why = SPFKIT_SRS_LOCAL_DOMAIN;
		return SPFKIT_OK;
	}
	int rc = spfkit_srs_forward(g->srs, a.ptr, a.len, g->conf->srs_domain,
				    (uint64_t)time(NULL), out, why);
	return no_control(g, rc, out, why, SPFKIT_SRS_BAD_ADDRESS);
}

/* Is the domain of a (after its last '@') srs_domain itself (case and a
 * trailing dot aside)? Only those addresses are ours to reverse. */
static bool srs_ours(const spfkitd_conf *c, spfkitd_view a)
{
	size_t at = a.len;
	while (at && a.ptr[at - 1] != '@')
		at--;
	if (at == 0)
		return false;
	const char *d = a.ptr + at;
	size_t dn = a.len - at, sn = strlen(c->srs_domain);
	if (dn && d[dn - 1] == '.')
		dn--;
	if (sn && c->srs_domain[sn - 1] == '.')
		sn--;
	return dn == sn && strncasecmp(d, c->srs_domain, dn) == 0;
}

/* Refusals: forged, stale, malformed. */
int srs_reverse(const spfkitd_gen *g, spfkitd_view a, char **out,
		spfkit_srs_reason *why)
{
	*out = NULL;
	*why = SPFKIT_SRS_NOT_SRS;
	if (!a.ptr || !srs_ours(g->conf, a))
		return SPFKIT_OK;
	int rc = spfkit_srs_reverse(g->srs, a.ptr, a.len, (uint64_t)time(NULL),
				    out, why);
	return no_control(g, rc, out, why, SPFKIT_SRS_MALFORMED);
}

bool srs_refused(int rc, spfkit_srs_reason why)
{
	return rc >= 0 && why != SPFKIT_SRS_OK && why != SPFKIT_SRS_NOT_SRS;
}

void srs_log(int prio, const char *how, const char *dir, spfkitd_view in,
	     const char *out, spfkit_srs_reason why)
{
	char a[320], b[320];
	spfkitd_log_escape(a, sizeof a, in.ptr, in.len);
	spfkitd_log_escape(b, sizeof b, out ? out : "", out ? strlen(out) : 0);
	if (out)
		spfkitd_log(prio, "srs %s address=<%s> result=<%s> via=%s", dir,
			    a, b, how);
	else
		spfkitd_log(prio, "srs %s address=<%s> refused=%s (%s) via=%s",
			    dir, a, spfkit_srs_reason_name(why),
			    spfkit_srs_reason_text(why), how);
}
