/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config_policyd.c - policyd-spf.conf(5) files (config_policyd.h). The
 * behaviour copied is that of postfix-policyd-spf-python 3.0.4's code
 * (spf_engine), which the manual page does not always describe: key names
 * are case-sensitive, `#` starts a comment anywhere on a line, the
 * switches PermError_reject, TempError_Defer and No_Mail are on only when
 * written exactly "True", Hide_Receiver hides unless exactly "No",
 * SPF_Not_Pass rejects fail, softfail and neutral (permerror only with
 * PermError_reject), TestOnly = 0 is the test mode, and a deferral is
 * Postfix's DEFER_IF_PERMIT. Where policyd-spf would refuse to start (a
 * number that is not one) or fail each request (a Reason_Message with an
 * unknown {field}), spfkitd warns and keeps the default instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_policyd.h"

/* The per-identity policies, applied once the whole file is read. */
struct spfkitd_policyd {
	char helo_reject[16], mail_from_reject[16];
	bool permerror_reject, temperror_defer;
	bool skip_set; /* skip_addresses given: its defaults dropped */
};

/* Every key policyd-spf reads (spf_engine/policydspfsupp.py): those
 * taken (apply_key()), those ignored with why, and pyspf-milter's, which
 * the policy server ignores. */
static const char *const taken_keys[] = {"TestOnly",
					 "HELO_reject",
					 "Mail_From_reject",
					 "PermError_reject",
					 "TempError_Defer",
					 "HELO_pass_restriction",
					 "No_Mail",
					 "Reject_Not_Pass_Domains",
					 "skip_addresses",
					 "Whitelist",
					 "Mail_From_pass_restriction",
					 "Header_Type",
					 "Hide_Receiver",
					 "SPF_Enhanced_Status_Codes",
					 "Authserv_Id",
					 "Lookup_Time",
					 "Void_Limit",
					 "Reason_Message"};
static const struct ignored_key {
	const char *name, *why;
} ignored_keys[] = {
    {"debugLevel", "policyd-spf's logging detail; spfkitd logs each "
		   "decision at info (log=, log_facility=)"},
    {"defaultSeedOnly",
     "has no effect in policyd-spf either (TestOnly decides)"},
    {"Prospective", "spfkitd checks the client's own address; check "
		    "outgoing mail with `spfkit check --ip ADDR`"},
    {"HELO_Whitelist",
     "policyd-spf also requires the name's A/AAAA records to hold the "
     "client's address, which spfkitd does not look up; list the relay's "
     "addresses in Whitelist instead (spfkitd checks these messages)"},
    {"Domain_Whitelist",
     "policyd-spf skips clients that pass the listed domains' SPF records, "
     "which spfkitd does not evaluate; list the forwarders' addresses in "
     "Whitelist instead (spfkitd checks these messages)"},
    {"Domain_Whitelist_PTR",
     "spfkitd does no PTR lookup to whitelist a client; list the "
     "forwarders' addresses in Whitelist instead (spfkitd checks these "
     "messages)"},
    {"Per_User", "per-recipient settings (policyd-spf.peruser(5)) are not "
		 "read; the file's own settings apply to every recipient"},
    {"Whitelist_Lookup_Time",
     "no spfkitd whitelist looks anything up (Lookup_Time bounds the "
     "checks)"},
    {"Mock", "the mock instance only works around Postfix hiding a policy "
	     "service's first header from milters; do not point spfkitd at "
	     "the mock file (it would check SPF a second time)"},
    {"QueueID", "policyd-spf 3.0.4 does not read it either; spfkitd's log "
		"lines carry the queue ID when Postfix sends one"}};
static const char *const milter_keys[] = {
    "Socket",        "PidFile",  "UserID",   "UMask",
    "InternalHosts", "IntHosts", "MacroList"};
/* Keys spfkitd's own syntax reads too (config.c): alone they do not tell
 * the format. */
static const char *const shared_keys[] = {
    "HELO_reject",     "Mail_From_reject", "PermError_reject",
    "TempError_Defer", "skip_addresses",   "Whitelist",
    "HELO_Whitelist",  "Domain_Whitelist", "Header_Type",
    "Hide_Receiver",   "Authserv_Id",      "Lookup_Time"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A policyd-spf key: its name, whether spfkitd's syntax shares it, and
 * why it is ignored (NULL: taken). */
struct pkey {
	const char *name;
	bool shared;
	const char *ignored;
};

/* Is (k, kn) the NUL-terminated name (case-sensitive, as policyd-spf)? */
static bool same(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && memcmp(name, k, kn) == 0;
}

/* Finds the policyd-spf key (kn bytes, as written) into *out. */
static bool find_key(const char *k, size_t kn, struct pkey *out)
{
	*out = (struct pkey){0};
	for (size_t i = 0; i < N(taken_keys) && !out->name; i++)
		if (same(k, kn, taken_keys[i]))
			out->name = taken_keys[i];
	for (size_t i = 0; i < N(ignored_keys) && !out->name; i++)
		if (same(k, kn, ignored_keys[i].name)) {
			out->name = ignored_keys[i].name;
			out->ignored = ignored_keys[i].why;
		}
	for (size_t i = 0; i < N(milter_keys) && !out->name; i++)
		if (same(k, kn, milter_keys[i])) {
			out->name = milter_keys[i];
			out->ignored = "a pyspf-milter key, which policyd-spf "
				       "ignores (spfkitd's milter: "
				       "milter_listen=, pid_file=, user=)";
		}
	for (size_t i = 0; i < N(shared_keys) && out->name; i++)
		out->shared |= same(k, kn, shared_keys[i]);
	return out->name != NULL;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

spfkitd_policyd *spfkitd_policyd_new(const char *text, size_t len, bool *nomem)
{
	*nomem = false;
	size_t keys = 0, shared = 0, neutral = 0;
	bool own = false;
	for (size_t pos = 0; pos < len;) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		const char *hash = memchr(s, '#', n);
		if (hash)
			n = (size_t)(hash - s);
		const char *eq = memchr(s, '=', n);
		if (!eq)
			continue;
		size_t kn = (size_t)(eq - s);
		while (kn && is_space((unsigned char)*s)) {
			s++;
			kn--;
		}
		while (kn && is_space((unsigned char)s[kn - 1]))
			kn--;
		if (!kn)
			continue;
		keys++;
		struct pkey k;
		bool found = find_key(s, kn, &k);
		if (found && k.shared)
			shared++;
		else if (found)
			own = true;
		/* skip_addresses is spelt alike in both: it tells nothing. */
		if (found && !strcmp(k.name, "skip_addresses"))
			neutral++;
	}
	if (!own && (shared == neutral || shared != keys))
		return NULL;
	spfkitd_policyd *pd = calloc(1, sizeof *pd);
	if (!pd) {
		*nomem = true;
		return NULL;
	}
	snprintf(pd->helo_reject, sizeof pd->helo_reject, "Fail");
	snprintf(pd->mail_from_reject, sizeof pd->mail_from_reject, "Fail");
	return pd;
}

void spfkitd_policyd_free(spfkitd_policyd *pd)
{
	free(pd);
}

/* Adds "FILE:LINE: key: message" to list (warnings or notes). */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static bool
say(spfkitd_conf *c, spfkitd_strlist *list, unsigned line, const char *key,
    const char *fmt, ...)
{
	char msg[768], all[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	spfkitd_conf_error(c, line, key, all, sizeof all, "%s", msg);
	return spfkitd_strlist_add(list, all, line);
}

/* Replaces *slot with a copy of s. */
static bool set_str(char **slot, const char *s)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		return false;
	free(*slot);
	*slot = d;
	return true;
}

/* Python's int() of a config value, within [lo, hi]. */
static bool py_int(const char *v, long lo, long hi, long *out)
{
	const char *s = v;
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	long n = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (*s - '0');
		if (n > 1000000000L)
			return false;
	}
	if (*s)
		return false;
	n = neg ? -n : n;
	if (n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

/* Reads a comma-separated list into cl (addresses and networks) or sl
 * (domains, empty entries skipped). policyd-spf splits on commas only
 * and stops at the first address Python's ipaddress refuses, host bits
 * set included: so does this, with a warning. */
static bool take_list(spfkitd_conf *c, unsigned line, const char *key,
		      const char *v, spfkitd_cidrlist *cl, spfkitd_strlist *sl)
{
	for (const char *s = v; *s;) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char d[256];
		spfkitd_cidr cidr;
		bool ok = cl ? spfkitd_parse_cidr(s, n, &cidr) : n < sizeof d;
		for (unsigned b = ok && cl ? cidr.prefix : 128; ok && b < 128;
		     b++)
			ok = !(cidr.addr[b / 8] & (0x80u >> (b % 8)));
		if (!ok)
			return say(c, &c->warnings, line, key,
				   "'%.*s' is not %s; it and the entries "
				   "after it are ignored",
				   (int)(n > 60 ? 60 : n), s,
				   cl ? "an address or network (policyd-spf "
					"stops there too)"
				      : "a domain name");
		if (cl && !spfkitd_cidrlist_add(cl, &cidr))
			return false;
		if (sl && n) {
			memcpy(d, s, n);
			d[n] = '\0';
			if (!spfkitd_strlist_add(sl, d, line))
				return false;
		}
		s = e ? e + 1 : s + n;
	}
	return true;
}

/* Writes Reason_Message (a Python format string with {rejectdefer},
 * {spf}, {url}) as a reply template of spfkitd (spfkitd.conf(5)) into
 * out, rd being "rejected" or "deferred". NULL when good, else why not. */
static const char *reason_template(const char *msg, const char *rd, char *out,
				   size_t cap)
{
	size_t o = 0;
#define PUT(str)                                                               \
	do {                                                                   \
		size_t l_ = strlen(str);                                       \
		if (o + l_ >= cap)                                             \
			return "too long";                                     \
		memcpy(out + o, str, l_);                                      \
		o += l_;                                                       \
	} while (0)
	for (const char *p = msg; *p; p++) {
		char one[2] = {*p, '\0'};
		if ((*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}')) {
			p++;
			PUT(one);
		} else if (*p == '}') {
			return "a lone '}'";
		} else if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t n = close ? (size_t)(close - p - 1) : 0;
			if (!close)
				return "a '{' without '}'";
			if (n == 11 && memcmp(p + 1, "rejectdefer", n) == 0)
				PUT(rd);
			else if (n == 3 && memcmp(p + 1, "spf", n) == 0)
				PUT("%{explanation}");
			else if (n == 3 && memcmp(p + 1, "url", n) == 0)
				PUT("https://www.open-spf.org/"
				    "Why?s=%{identity};"
				    "id=%{sender};ip=%{ip};r=%{recipient}");
			else
				return "a field other than {rejectdefer}, "
				       "{spf} "
				       "and {url}";
			p = close;
		} else if (*p == '%') {
			PUT("%%");
		} else {
			PUT(one);
		}
	}
#undef PUT
	out[o] = '\0';
	return spfkitd_template_check(out);
}

/* Sets reject_reason and defer_reason from a Reason_Message. */
static bool take_reason(spfkitd_conf *c, unsigned line, const char *key,
			const char *v)
{
	char rej[401], def[401];
	const char *why = reason_template(v, "rejected", rej, sizeof rej);
	if (!why)
		why = reason_template(v, "deferred", def, sizeof def);
	if (why)
		return say(c, &c->warnings, line, key,
			   "%s; ignored (policyd-spf would fail every "
			   "rejection with it)",
			   why);
	return set_str(&c->reject_reason, rej) &&
	       set_str(&c->defer_reason, def);
}

bool spfkitd_policyd_defaults(spfkitd_policyd *pd, spfkitd_conf *c)
{
	(void)pd;
	/* Both checks; the actions are set by spfkitd_policyd_finish(). */
	c->helo_check = c->mailfrom_check = true;
	c->skip_authenticated = false; /* policyd-spf checks SASL clients */
	c->skip_addresses.n = 0;
	if (!take_list(c, 0, "skip_addresses",
		       "127.0.0.0/8,::ffff:127.0.0.0/104,::1",
		       &c->skip_addresses, NULL))
		return false;
	c->deadline_ms = 20000;
	c->void_limit = 2;
	c->enhanced_codes = true;
	if (!take_reason(c, 0, "Reason_Message",
			 "Message {rejectdefer} due to: {spf}. Please see "
			 "{url}"))
		return false;
	return say(c, &c->notes, 0, "format",
		   "read as a policyd-spf.conf(5) file of "
		   "postfix-policyd-spf-python, with its defaults");
}

/* Copies a HELO_reject or Mail_From_reject value, warning when it is
 * none of policyd-spf's. */
static bool take_policy(spfkitd_conf *c, unsigned line, const char *key,
			const char *v, char *slot, size_t cap, bool helo)
{
	static const char *const known[] = {"Fail",  "Softfail", "SPF_Not_Pass",
					    "False", "No_Check", "Null"};
	bool ok = false;
	for (size_t i = 0; i < 6 && !ok; i++)
		ok = strcmp(v, known[i]) == 0 && (helo || i < 5);
	snprintf(slot, cap, "%s", ok ? v : "?");
	if (ok)
		return true;
	return say(c, &c->warnings, line, key,
		   "'%.40s' is not Fail, Softfail, SPF_Not_Pass, %sFalse or "
		   "No_Check (case matters); like policyd-spf, spfkitd then "
		   "rejects no result of this identity but the errors "
		   "PermError_reject and TempError_Defer ask for",
		   v, helo ? "Null, " : "");
}

/* A True/False switch: policyd-spf compares with "True" exactly. */
static bool take_switch(spfkitd_conf *c, unsigned line, const char *key,
			const char *v, bool *out)
{
	*out = strcmp(v, "True") == 0;
	if (*out || strcmp(v, "False") == 0)
		return true;
	return say(c, &c->warnings, line, key,
		   "'%.40s' is not True or False (case matters); read as "
		   "False, as policyd-spf does",
		   v);
}

/* Applies a key of taken_keys. */
static bool apply_key(spfkitd_policyd *pd, spfkitd_conf *c, unsigned line,
		      const char *key, const char *v)
{
	long n;
#define IS(s) (strcmp(key, s) == 0)
	if (IS("HELO_reject"))
		return take_policy(c, line, key, v, pd->helo_reject,
				   sizeof pd->helo_reject, true);
	if (IS("Mail_From_reject"))
		return take_policy(c, line, key, v, pd->mail_from_reject,
				   sizeof pd->mail_from_reject, false);
	if (IS("PermError_reject"))
		return take_switch(c, line, key, v, &pd->permerror_reject);
	if (IS("TempError_Defer"))
		return take_switch(c, line, key, v, &pd->temperror_defer);
	if (IS("TestOnly")) {
		if (!py_int(v, -1000000000L, 1000000000L, &n))
			return say(c, &c->warnings, line, key,
				   "'%.40s' is not a number; ignored "
				   "(policyd-spf would not start)",
				   v);
		/* 0 is the test mode: nothing rejected or deferred. */
		c->test_only = n == 0 ? (1u << SPFKITD_NRESULTS) - 1 : 0;
		return true;
	}
	if (IS("No_Mail")) {
		bool on;
		if (!take_switch(c, line, key, v, &on))
			return false;
		return !on ||
		       say(c, &c->warnings, line, key,
			   "ignored: spfkitd cannot tell \"v=spf1 -all\" "
			   "from other records that fail, so it rejects "
			   "every fail the *_reject keys ask for");
	}
	if (IS("Reject_Not_Pass_Domains"))
		return take_list(c, line, key, v, NULL, &c->not_pass_domains);
	if (IS("skip_addresses")) {
		if (!pd->skip_set)
			c->skip_addresses.n = 0;
		pd->skip_set = true;
		return take_list(c, line, key, v, &c->skip_addresses, NULL);
	}
	if (IS("Whitelist"))
		return take_list(c, line, key, v, &c->whitelist_ip, NULL);
	if (IS("SPF_Enhanced_Status_Codes")) {
		c->enhanced_codes = strcmp(v, "No") != 0;
		return true;
	}
	if (IS("Header_Type")) {
		bool ar = strstr(v, "AR") != NULL;
		if (ar && strstr(v, "SPF"))
			return say(c, &c->warnings, line, key,
				   "'%.40s' names both SPF and AR, which "
				   "policyd-spf refuses at each message; "
				   "ignored (Received-SPF)",
				   v);
		c->header = ar ? SPFKITD_HEADER_AUTHRES
			    : strcmp(v, "None") == 0
				? SPFKITD_HEADER_NONE
				: SPFKITD_HEADER_RECEIVED_SPF;
		if (ar || strcmp(v, "None") == 0 || strcmp(v, "SPF") == 0)
			return true;
		return say(c, &c->warnings, line, key,
			   "'%.40s' is not SPF, AR or None; Received-SPF, "
			   "as policyd-spf does",
			   v);
	}
	if (IS("Hide_Receiver")) {
		c->hide_receiver = strcmp(v, "No") != 0;
		return true;
	}
	if (IS("Authserv_Id")) {
		/* HOSTNAME: this host's name, spfkitd's default. */
		if (strcmp(v, "HOSTNAME") == 0)
			return set_str(&c->authserv_id, NULL);
		if (!*v || strlen(v) > 253)
			return say(c, &c->warnings, line, key,
				   "not a host name; ignored");
		return set_str(&c->authserv_id, v);
	}
	if (IS("Lookup_Time") || IS("Void_Limit")) {
		/* Seconds of a check, or RFC 7208 §4.6.4's void lookups. */
		bool t = key[0] == 'L';
		if (!py_int(v, 1, t ? 86400 : 1000, &n))
			return say(c, &c->warnings, line, key,
				   "'%.40s' is not a number from 1 to %s; "
				   "ignored (%s)",
				   v, t ? "86400" : "1000", t ? "20" : "2");
		if (t)
			c->deadline_ms = (uint32_t)n * 1000u;
		else
			c->void_limit = (unsigned)n;
		return true;
	}
	if (IS("Reason_Message"))
		return take_reason(c, line, key, v);
	if (IS("HELO_pass_restriction") || IS("Mail_From_pass_restriction")) {
		/* A restriction class name: one word Postfix looks up. */
		bool word = *v && strlen(v) < 100;
		for (const char *s = v; word && *s; s++)
			word = *s > 0x20 && *s < 0x7f;
		if (!word)
			return say(c, &c->warnings, line, key,
				   "'%.40s' is not a restriction class name; "
				   "ignored",
				   v);
		return set_str(key[0] == 'H' ? &c->helo_pass_restriction
					     : &c->mailfrom_pass_restriction,
			       v);
	}
#undef IS
	return true;
}

spfkitd_policyd_take spfkitd_policyd_apply(spfkitd_policyd *pd, spfkitd_conf *c,
					   unsigned line, const char *k,
					   size_t kn, const char *v)
{
	struct pkey found;
	if (!find_key(k, kn, &found))
		return SPFKITD_POLICYD_NOT_MINE;
	const struct pkey *pk = &found;
	size_t warned = c->warnings.n;
	bool ok = true;
	if (strchr(v, '='))
		/* policyd-spf splits the line at every '=': more than one
		 * makes it an error it skips. */
		ok = say(c, &c->warnings, line, pk->name,
			 "a value with '=' is skipped by policyd-spf; ignored");
	else if (pk->ignored)
		ok = say(c, &c->warnings, line, pk->name, "ignored: %s",
			 pk->ignored);
	else if (!apply_key(pd, c, line, pk->name, v))
		ok = false;
	else if (c->warnings.n == warned) /* taken as it is */ {
		char kv[256];
		snprintf(kv, sizeof kv, "%s = %.200s", pk->name, v);
		ok = say(c, &c->notes, line, kv, "taken");
	}
	return ok ? SPFKITD_POLICYD_TAKEN : SPFKITD_POLICYD_NOMEM;
}

bool spfkitd_policyd_bad_line(spfkitd_conf *c, unsigned line, const char *s,
			      size_t n)
{
	char key[48];
	snprintf(key, sizeof key, "%.*s", (int)(n > 40 ? 40 : n), s);
	return say(c, &c->warnings, line, key,
		   "not `Key = Value`; ignored, as policyd-spf does");
}

bool spfkitd_policyd_unknown(spfkitd_conf *c, unsigned line, const char *key)
{
	return say(c, &c->warnings, line, key,
		   "neither a policyd-spf.conf(5) nor an spfkitd.conf(5) key "
		   "(policyd-spf's names are case-sensitive); ignored, as "
		   "policyd-spf does");
}

/* The actions of one identity under policy (HELO_reject or
 * Mail_From_reject): spf_engine's _get_resultcodes(). */
static void identity_actions(const spfkitd_policyd *pd, const char *policy,
			     spfkitd_action *a, bool *check)
{
	for (int r = 0; r < SPFKITD_NRESULTS; r++)
		a[r] = SPFKITD_ACCEPT;
	*check = strcmp(policy, "No_Check") != 0;
	bool soft = strcmp(policy, "Softfail") == 0;
	bool notpass = strcmp(policy, "SPF_Not_Pass") == 0;
	if (soft || notpass || strcmp(policy, "Fail") == 0 ||
	    strcmp(policy, "Null") == 0)
		a[SPFKIT_RESULT_FAIL] = SPFKITD_REJECT;
	if (soft || notpass)
		a[SPFKIT_RESULT_SOFTFAIL] = SPFKITD_REJECT;
	if (notpass)
		a[SPFKIT_RESULT_NEUTRAL] = SPFKITD_REJECT;
	if (strcmp(policy, "False") == 0)
		return; /* never rejects nor defers */
	if (pd->temperror_defer)
		a[SPFKIT_RESULT_TEMPERROR] = SPFKITD_DEFER_IF_PERMIT;
	if (pd->permerror_reject)
		a[SPFKIT_RESULT_PERMERROR] = SPFKITD_REJECT;
}

/* Puts back the actions the file set with spfkitd's own keys
 * (helo_RESULT, mailfrom_RESULT): they win over policyd-spf's. */
static void keep_own(const spfkitd_conf *c, const char *prefix,
		     const spfkitd_action *was, spfkitd_action *a)
{
	static const char *const names[SPFKITD_NRESULTS] = {
	    "none",     "neutral",   "pass",     "fail",
	    "softfail", "temperror", "permerror"};
	for (int r = 0; r < SPFKITD_NRESULTS; r++) {
		char key[32];
		snprintf(key, sizeof key, "%s_%s", prefix, names[r]);
		if (spfkitd_conf_line(c, key))
			a[r] = was[r];
	}
}

bool spfkitd_policyd_finish(spfkitd_policyd *pd, spfkitd_conf *c)
{
	spfkitd_action helo[SPFKITD_NRESULTS], mf[SPFKITD_NRESULTS];
	memcpy(helo, c->helo_action, sizeof helo);
	memcpy(mf, c->mailfrom_action, sizeof mf);
	identity_actions(pd, pd->helo_reject, c->helo_action, &c->helo_check);
	identity_actions(pd, pd->mail_from_reject, c->mailfrom_action,
			 &c->mailfrom_check);
	keep_own(c, "helo", helo, c->helo_action);
	keep_own(c, "mailfrom", mf, c->mailfrom_action);
	c->helo_null_only = strcmp(pd->helo_reject, "Null") == 0;
	if (!c->helo_check && !c->mailfrom_check) {
		/* policyd-spf then answers DUNNO to every request: a HELO
		 * check that decides nothing and adds no header does. */
		c->helo_check = true;
		c->header = SPFKITD_HEADER_NONE;
		for (int r = 0; r < SPFKITD_NRESULTS; r++)
			c->helo_action[r] = SPFKITD_ACCEPT;
		return say(c, &c->warnings,
			   spfkitd_conf_line(c, "mail_from_reject"),
			   "Mail_From_reject",
			   "HELO_reject and Mail_From_reject are both "
			   "No_Check: nothing is checked, every answer is "
			   "DUNNO");
	}
	return true;
}
