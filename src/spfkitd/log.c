/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - the log (log.h). Standard error lines carry a timestamp and the
 * pid so they read like syslog lines in a test's log file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static spfkitd_log_target target = SPFKITD_LOG_STDERR;

void spfkitd_log_open(spfkitd_log_target t, int facility)
{
	if (target == SPFKITD_LOG_SYSLOG)
		closelog();
	target = t;
	if (t == SPFKITD_LOG_SYSLOG)
		openlog("spfkitd", LOG_PID | LOG_NDELAY, facility);
}

void spfkitd_log(int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (target == SPFKITD_LOG_SYSLOG) {
		syslog(prio, "%s", line);
		return;
	}
	char when[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	const char *level = prio <= LOG_ERR       ? "error: "
			    : prio == LOG_WARNING ? "warning: "
						  : "";
	fprintf(stderr, "%s spfkitd[%ld]: %s%s\n", when, (long)getpid(), level,
		line);
}

void spfkitd_log_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0)
		return;
	if (!s) {
		snprintf(out, cap, "-");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		size_t need = plain ? 1 : 4;
		if (o + need + 4 > cap) {
			/* Room for "..." and the NUL is kept. */
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}
