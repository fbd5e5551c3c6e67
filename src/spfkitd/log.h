/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - spfkitd's log: syslog or standard error, one line per event,
 * every value from the network escaped so a log line stays one line.
 */
#ifndef SPFKITD_LOG_H
#define SPFKITD_LOG_H

#include <stddef.h>
#include <syslog.h>

#include "config.h"

/* Where lines go from now on (ident "spfkitd"). For syslog the socket is
 * opened at once, so it keeps working after chroot. */
void spfkitd_log_open(spfkitd_log_target target, int facility);

/* One line at a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, ...). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void spfkitd_log(int prio, const char *fmt, ...);

/* Copies s[0, n) into out (cap bytes, NUL terminated) for a log line:
 * bytes outside printable ASCII, '"' and '\\' become \xHH, and the copy
 * is cut at cap with "..." at the end. s may be NULL (gives "-"). */
void spfkitd_log_escape(char *out, size_t cap, const char *s, size_t n);

#endif /* SPFKITD_LOG_H */
