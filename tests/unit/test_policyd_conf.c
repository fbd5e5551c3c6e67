/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policyd_conf.c - spfkitd reading policyd-spf.conf(5) files
 * (src/spfkitd/config_policyd.c): each row is a file; its configuration is
 * rendered as one line of "name=value" words, and every word the row
 * expects must be in it. Every key of policyd-spf.conf(5) is either taken
 * with policyd-spf's meaning or warned about by FILE:LINE: key; bad values
 * warn and never refuse; the defaults are policyd-spf's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../src/spfkitd/config.h"
#include "t.h"

/* Appends one word to out. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
word(char *out, size_t cap, const char *fmt, ...)
{
	size_t o = strlen(out);
	va_list ap;
	va_start(ap, fmt);
	if (o + 2 < cap)
		vsnprintf(out + o, cap - o - 1, fmt, ap);
	va_end(ap);
	o = strlen(out);
	if (o + 1 < cap) {
		out[o] = ' ';
		out[o + 1] = '\0';
	}
}

/* The letters of the actions of one identity, by result: none neutral
 * pass fail softfail temperror permerror; a accept, R reject, D defer,
 * P defer_if_permit. */
static void actions(char *buf, const spfkitd_action *a)
{
	for (int r = 0; r < SPFKITD_NRESULTS; r++)
		buf[r] = "aRDP"[a[r]];
	buf[SPFKITD_NRESULTS] = '\0';
}

/* Renders what a policyd-spf file can set. */
static void render(const spfkitd_conf *c, char *out, size_t cap)
{
	char h[8], m[8];
	out[0] = '\0';
	actions(h, c->helo_action);
	actions(m, c->mailfrom_action);
	word(out, cap, "helo=%s", c->helo_check ? h : "off");
	word(out, cap, "mailfrom=%s", c->mailfrom_check ? m : "off");
	word(out, cap, "null_only=%lu", (unsigned long)(c->helo_null_only));
	word(out, cap, "test_only=%lu", (unsigned long)(c->test_only));
	word(out, cap, "header=%s",
	     c->header == SPFKITD_HEADER_AUTHRES ? "ar"
	     : c->header == SPFKITD_HEADER_NONE  ? "none"
						 : "spf");
	word(out, cap, "authserv=%s", c->authserv_id ? c->authserv_id : "-");
	word(out, cap, "hide=%lu", (unsigned long)(c->hide_receiver));
	word(out, cap, "deadline=%lu", (unsigned long)(c->deadline_ms));
	word(out, cap, "void=%lu", (unsigned long)(c->void_limit));
	word(out, cap, "codes=%lu", (unsigned long)(c->enhanced_codes));
	word(out, cap, "skip=%lu", (unsigned long)(c->skip_addresses.n));
	word(out, cap, "skip_auth=%lu", (unsigned long)(c->skip_authenticated));
	word(out, cap, "whitelist=%lu", (unsigned long)(c->whitelist_ip.n));
	word(out, cap, "not_pass=%lu", (unsigned long)(c->not_pass_domains.n));
	word(out, cap, "warnings=%lu", (unsigned long)(c->warnings.n));
	word(out, cap, "policyd=%lu", (unsigned long)(c->notes.n > 0));
	word(out, cap, "notes=%lu", (unsigned long)c->notes.n);
	word(out, cap, "restrict=%s,%s",
	     c->helo_pass_restriction ? c->helo_pass_restriction : "-",
	     c->mailfrom_pass_restriction ? c->mailfrom_pass_restriction : "-");
	word(out, cap, "reject=[%s]", c->reject_reason);
	word(out, cap, "defer=[%s]", c->defer_reason);
	for (size_t i = 0; i < c->warnings.n; i++)
		word(out, cap, "W<%s>", c->warnings.v[i]);
}

static const struct row {
	const char *name, *text;
	const char *want[6]; /* substrings of the rendering */
} rows[] = {
    /* Debian's stock file, as installed. */
    {"stock",
     "#  For a fully commented sample config file see "
     "policyd-spf.conf.commented\n\ndebugLevel = 1 \nTestOnly = 1\n\n"
     "HELO_reject = Fail\nMail_From_reject = Fail\n\n"
     "PermError_reject = False\nTempError_Defer = False\n\n"
     "skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1\n",
     {"policyd=1 ", "helo=aaaRaaa mailfrom=aaaRaaa null_only=0 test_only=0 ",
      "skip=3 skip_auth=0 ", "warnings=1 ", "W<f:3: debugLevel: ignored"}},
    /* policyd-spf's defaults when the file says little. */
    {"defaults",
     "debugLevel = 1\n",
     {"helo=aaaRaaa mailfrom=aaaRaaa null_only=0 test_only=0 header=spf "
      "authserv=- hide=0 deadline=20000 void=2 codes=1 skip=3 skip_auth=0 "
      "whitelist=0 not_pass=0",
      "reject=[Message rejected due to: %{explanation}. Please see "
      "https://www.open-spf.org/Why?s=%{identity};id=%{sender};ip=%{ip};"
      "r=%{recipient}]",
      "defer=[Message deferred due to: %{explanation}."}},
    {"helo softfail",
     "TestOnly = 1\nHELO_reject = Softfail\n",
     {"helo=aaaRRaa mailfrom=aaaRaaa", "warnings=0"}},
    {"helo not pass",
     "TestOnly = 1\nHELO_reject = SPF_Not_Pass\n",
     {"helo=aRaRRaa mailfrom=aaaRaaa"}},
    {"helo null",
     "TestOnly = 1\nHELO_reject = Null\n",
     {"helo=aaaRaaa mailfrom=aaaRaaa null_only=1"}},
    {"helo false",
     "TestOnly = 1\nHELO_reject = False\nTempError_Defer = True\n"
     "PermError_reject = True\n",
     {"helo=aaaaaaa mailfrom=aaaRaPR"}},
    {"helo no check",
     "TestOnly = 1\nHELO_reject = No_Check\n",
     {"helo=off mailfrom=aaaRaaa"}},
    {"helo bad value",
     "TestOnly = 1\nHELO_reject = fail\n",
     {"helo=aaaaaaa mailfrom=aaaRaaa", "W<f:2: HELO_reject: 'fail' is not"}},
    {"mail from softfail",
     "TestOnly = 1\nMail_From_reject = Softfail\n",
     {"helo=aaaRaaa mailfrom=aaaRRaa"}},
    {"mail from not pass",
     "TestOnly = 1\nMail_From_reject = SPF_Not_Pass\n",
     {"mailfrom=aRaRRaa"}},
    {"mail from false",
     "TestOnly = 1\nMail_From_reject = False\n"
     "TempError_Defer = True\n",
     {"helo=aaaRaPa mailfrom=aaaaaaa"}},
    {"mail from no check",
     "TestOnly = 1\nMail_From_reject = No_Check\n",
     {"helo=aaaRaaa mailfrom=off"}},
    {"mail from null is helo only",
     "TestOnly = 1\nMail_From_reject = Null\n",
     {"mailfrom=aaaaaaa", "W<f:2: Mail_From_reject: 'Null' is not"}},
    {"both no check",
     "TestOnly = 1\nHELO_reject = No_Check\nMail_From_reject = No_Check\n",
     {"helo=aaaaaaa mailfrom=off", "header=none",
      "W<f:3: Mail_From_reject: HELO_reject and Mail_From_reject are both"}},
    {"errors",
     "TestOnly = 1\nPermError_reject = True\nTempError_Defer = True\n",
     {"helo=aaaRaPR mailfrom=aaaRaPR"}},
    {"switch spelt otherwise",
     "TestOnly = 1\nTempError_Defer = yes\n",
     /* the format and TestOnly: a key warned about is not "taken" */
     {"mailfrom=aaaRaaa", "notes=2 ",
      "W<f:2: TempError_Defer: 'yes' is not True"}},
    {"test only", "TestOnly = 0\n", {"test_only=127 "}},
    {"test only bad",
     "TestOnly = no\n",
     {"test_only=0 ", "W<f:1: TestOnly: 'no' is not a number"}},
    {"header ar",
     "TestOnly = 1\nHeader_Type = AR\n",
     {"header=ar authserv=", "warnings=0"}},
    {"authserv",
     "TestOnly = 1\nHeader_Type = AR\nAuthserv_Id = mx.example\n",
     {"header=ar authserv=mx.example "}},
    {"authserv hostname",
     "TestOnly = 1\nAuthserv_Id = HOSTNAME\n",
     {"authserv=- "}},
    {"header none", "TestOnly = 1\nHeader_Type = None\n", {"header=none "}},
    {"header both",
     "TestOnly = 1\nHeader_Type = SPF,AR\n",
     {"header=spf ", "W<f:2: Header_Type: 'SPF,AR' names both"}},
    {"header other",
     "TestOnly = 1\nHeader_Type = received\n",
     {"header=spf ", "W<f:2: Header_Type: 'received' is not SPF"}},
    {"hide", "TestOnly = 1\nHide_Receiver = Yes\n", {"hide=1 "}},
    {"hide no", "TestOnly = 1\nHide_Receiver = No\n", {"hide=0 "}},
    {"hide lowercase no hides",
     "TestOnly = 1\nHide_Receiver = no\n",
     {"hide=1 "}},
    {"lookup time", "TestOnly = 1\nLookup_Time = 30\n", {"deadline=30000 "}},
    {"lookup time bad",
     "TestOnly = 1\nLookup_Time = 0\n",
     {"deadline=20000 ", "W<f:2: Lookup_Time: '0' is not a number"}},
    {"void limit", "TestOnly = 1\nVoid_Limit = 5\n", {"void=5 "}},
    {"void limit bad",
     "TestOnly = 1\nVoid_Limit = two\n",
     {"void=2 ", "W<f:2: Void_Limit: 'two'"}},
    {"codes", "TestOnly = 1\nSPF_Enhanced_Status_Codes = No\n", {"codes=0 "}},
    {"codes yes",
     "TestOnly = 1\nSPF_Enhanced_Status_Codes = Yes\n",
     {"codes=1 "}},
    {"reason",
     "TestOnly = 1\nReason_Message = {rejectdefer} by SPF {spf}, "
     "100% {{sure}}\n",
     {"reject=[rejected by SPF %{explanation}, 100%% {sure}]",
      "defer=[deferred by SPF %{explanation}, 100%% {sure}]"}},
    {"reason bad field",
     "TestOnly = 1\nReason_Message = {nope}\n",
     {"reject=[Message rejected due to", "W<f:2: Reason_Message: a field"}},
    {"reason lone brace",
     "TestOnly = 1\nReason_Message = a } b\n",
     {"reject=[Message rejected due to", "W<f:2: Reason_Message: a lone"}},
    {"whitelist",
     "TestOnly = 1\nWhitelist = 192.0.2.0/24,2001:db8::1\n",
     {"whitelist=2 ", "warnings=0"}},
    {"whitelist host bits",
     "TestOnly = 1\nWhitelist = 192.0.2.0/24,"
     "198.51.100.1/24,10.0.0.0/8\n",
     {"whitelist=1 ", "W<f:2: Whitelist: '198.51.100.1/24' is not"}},
    {"whitelist spaces",
     "TestOnly = 1\nWhitelist = 192.0.2.1, 192.0.2.2\n",
     {"whitelist=1 ", "W<f:2: Whitelist: ' 192.0.2.2'"}},
    {"skip addresses",
     "TestOnly = 1\nskip_addresses = 10.0.0.0/8\n",
     {"skip=1 "}},
    {"not pass domains",
     "TestOnly = 1\nReject_Not_Pass_Domains = "
     "a.example,b.example\n",
     {"not_pass=2 ", "warnings=0"}},
    {"pass restrictions",
     "TestOnly = 1\nHELO_pass_restriction = helo_ok\n"
     "Mail_From_pass_restriction = mfrom_ok\n",
     {"restrict=helo_ok,mfrom_ok ", "warnings=0"}},
    {"pass restriction bad",
     "TestOnly = 1\nHELO_pass_restriction = a b\n",
     {"restrict=-,- ", "W<f:2: HELO_pass_restriction: 'a b' is not"}},
    {"comment after a value",
     "TestOnly = 1\nHELO_reject = Softfail # why\n",
     {"helo=aaaRRaa ", "warnings=0"}},
    {"no mail",
     "TestOnly = 1\nNo_Mail = True\n",
     {"W<f:2: No_Mail: ignored: spfkitd cannot tell"}},
    {"no mail off", "TestOnly = 1\nNo_Mail = False\n", {"warnings=0"}},
    {"not key value",
     "TestOnly = 1\njust words\n= 3\n",
     {"W<f:2: just words: not `Key = Value`", "W<f:3: = 3: not"}},
    {"value with =",
     "TestOnly = 1\nHELO_reject = a=b\n",
     {"helo=aaaRaaa ", "W<f:2: HELO_reject: a value with '='"}},
    {"unknown key",
     "TestOnly = 1\nFrobnicate = 1\n",
     {"W<f:2: Frobnicate: neither a policyd-spf.conf(5) nor"}},
    /* spfkitd's own keys may follow policyd-spf's. */
    {"mixed",
     "debugLevel = 1\nlog = stderr\nmailfrom_neutral = reject\n",
     {"mailfrom=aRaRaaa ", "warnings=1 "}},
    /* Files in spfkitd's syntax are left alone. */
    {"native",
     "helo_check = yes\nmailfrom_softfail = reject\n",
     {"policyd=0 ", "mailfrom=aaaRRDa ", "skip=2 skip_auth=1 "}},
    {"native skip only",
     "skip_addresses = 10.0.0.0/8\n",
     {"policyd=0 ", "mailfrom=aaaRaDa "}},
    {"native with shared names",
     "HELO_reject = Fail\nlisten = unix:/x\n",
     {"policyd=0 "}},
    {"only shared names",
     "HELO_reject = Softfail\nMail_From_reject = Fail\n",
     {"policyd=1 ", "mailfrom=aaaRaaa "}},
};

/* Keys that are warned about by name and ignored, whatever the value. */
static const char *const ignored[] = {
    "debugLevel",       "defaultSeedOnly",
    "Prospective",      "HELO_Whitelist",
    "Per_User",         "Whitelist_Lookup_Time",
    "Domain_Whitelist", "Mock",
    "QueueID",          "Domain_Whitelist_PTR",
    "Socket",           "PidFile",
    "UserID",           "UMask",
    "InternalHosts",    "IntHosts",
    "MacroList"};

/* A line longer than spfkitd's limit: warned about in a policyd-spf
 * file (policyd-spf has no limit), refused in spfkitd's own. */
static void long_line(void)
{
	static char text[6000];
	char err[512];
	for (int own = 0; own < 2; own++) {
		int k = snprintf(text, sizeof text, "%s\nWhitelist = ",
				 own ? "log = stderr" : "TestOnly = 1");
		memset(text + k, '1', sizeof text - (size_t)k - 1);
		spfkitd_conf *c = spfkitd_conf_parse("f", text, strlen(text),
						     err, sizeof err);
		if (own)
			T_CHECK(!c && strstr(err, "f:2: line longer"),
				"long line, own syntax: %s", c ? "taken" : err);
		else
			T_CHECK(
			    c && c->warnings.n == 1 &&
				strstr(c->warnings.v[0], "f:2: Whitelist ="),
			    "long line, policyd-spf: %s",
			    !c              ? err
			    : c->warnings.n ? c->warnings.v[0]
					    : "no warning");
		spfkitd_conf_free(c);
	}
}

int main(void)
{
	char err[512], out[8192];
	long_line();
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		spfkitd_conf *c = spfkitd_conf_parse(
		    "f", r->text, strlen(r->text), err, sizeof err);
		T_CHECK(c != NULL, "%s: refused: %s", r->name, err);
		if (!c)
			continue;
		render(c, out, sizeof out);
		for (size_t w = 0; w < 6 && r->want[w]; w++)
			T_CHECK(strstr(out, r->want[w]) != NULL,
				"%s: want \"%s\" in\n  %s", r->name, r->want[w],
				out);
		spfkitd_conf_free(c);
	}
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
		char text[256], want[128];
		snprintf(text, sizeof text, "TestOnly = 1\n%s = 1\n",
			 ignored[i]);
		snprintf(want, sizeof want, "f:2: %s: ignored: ", ignored[i]);
		spfkitd_conf *c = spfkitd_conf_parse("f", text, strlen(text),
						     err, sizeof err);
		T_CHECK(c && c->warnings.n == 1 &&
			    strncmp(c->warnings.v[0], want, strlen(want)) == 0,
			"%s: want one warning \"%s...\", got %s", ignored[i],
			want,
			!c              ? err
			: c->warnings.n ? c->warnings.v[0]
					: "none");
		spfkitd_conf_free(c);
	}
	return t_done();
}
