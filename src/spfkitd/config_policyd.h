/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config_policyd.h - reads a policyd-spf.conf(5) file of Debian's
 * postfix-policyd-spf-python as an spfkitd configuration, so `spfkitd
 * --stdio -c /etc/postfix-policyd-spf-python/policyd-spf.conf` replaces
 * policyd-spf without rewriting it. config.c recognises the format by
 * content and hands each line here first: every policyd-spf key either
 * does what policyd-spf does with it, or is warned about by name
 * (FILE:LINE: key: ...) and ignored; none refuses the start. The defaults
 * are policyd-spf's (TempError_Defer = False, skip_addresses, ...).
 */
#ifndef SPFKITD_CONFIG_POLICYD_H
#define SPFKITD_CONFIG_POLICYD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* What the reader keeps while a file is read (the per-identity policies
 * are only known once every line is). */
typedef struct spfkitd_policyd spfkitd_policyd;

/* The state for reading text (len bytes) when it is a policyd-spf.conf
 * file, else NULL (*nomem tells an allocation failure from "not one"). A
 * file is one when it sets a key only policyd-spf has (debugLevel,
 * TestOnly, Reason_Message, ...) or every key it sets is a policyd-spf
 * name as policyd-spf spells it (HELO_reject, ...). */
spfkitd_policyd *spfkitd_policyd_new(const char *text, size_t len, bool *nomem);
void spfkitd_policyd_free(spfkitd_policyd *pd);

/* Puts policyd-spf's defaults over spfkitd's in c (c->path is set).
 * False when out of memory. */
bool spfkitd_policyd_defaults(spfkitd_policyd *pd, spfkitd_conf *c);

typedef enum spfkitd_policyd_take {
	SPFKITD_POLICYD_NOT_MINE = 0, /* not a policyd-spf key: spfkitd's */
	SPFKITD_POLICYD_TAKEN,        /* taken, or warned about */
	SPFKITD_POLICYD_NOMEM
} spfkitd_policyd_take;

/* Takes the `key = value` of line (key kn bytes as written, value
 * NUL-terminated and trimmed). */
spfkitd_policyd_take spfkitd_policyd_apply(spfkitd_policyd *pd, spfkitd_conf *c,
					   unsigned line, const char *key,
					   size_t kn, const char *value);

/* Warns of line (s, n bytes), which is not `key = value`: policyd-spf
 * logs such lines and goes on. False when out of memory. */
bool spfkitd_policyd_bad_line(spfkitd_conf *c, unsigned line, const char *s,
			      size_t n);

/* Warns of a key that neither policyd-spf nor spfkitd knows (policyd-spf
 * logs it and goes on). False when out of memory. */
bool spfkitd_policyd_unknown(spfkitd_conf *c, unsigned line, const char *key);

/* Sets what depends on several keys (the per-result actions). False when
 * out of memory. */
bool spfkitd_policyd_finish(spfkitd_policyd *pd, spfkitd_conf *c);

#endif /* SPFKITD_CONFIG_POLICYD_H */
