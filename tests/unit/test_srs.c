/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_srs.c - the Sender Rewriting Scheme (lib/srs.c), table driven:
 * vectors produced by postsrsd 1.10 (Debian) with the same secret, round
 * trips of SRS0, SRS1 and SRS1 of SRS1, case-insensitive hashes, the
 * timestamp window, rotation, malformed input of every shape, length
 * limits, secrets files, and every call with the Nth allocation failing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spfkit.h"
#include "t.h"
#include "t_failer.h"

#define K1 "spfkit-test-secret-0123456789ab"
#define K2 "another-secret-for-rotation-42!"
/* 2026-11-23 20:32:58 UTC: day 20780, stamp "JM". postsrsd made the
 * vectors below at this time. */
#define T0  1795468378ull
#define DAY 86400ull

/* A handle with the given secrets (NULL-terminated list), separator and
 * hash length (0: defaults). */
static spfkit_srs *mk(const char *const *secrets, char sep, unsigned hash)
{
	spfkit_srs *srs = NULL;
	if (spfkit_srs_new(&srs, NULL) != SPFKIT_OK)
		return NULL;
	for (size_t i = 0; secrets[i]; i++)
		spfkit_srs_add_secret(srs, secrets[i], strlen(secrets[i]));
	if (sep)
		spfkit_srs_set_separator(srs, sep);
	if (hash)
		spfkit_srs_set_hash_length(srs, hash);
	return srs;
}

static const char *const only_k1[] = {K1, NULL};

/* forward (or reverse, with domain NULL) of in; checks the reason and,
 * when want is not NULL, the output. */
static void expect(const spfkit_srs *srs, const char *in, const char *domain,
		   uint64_t now, spfkit_srs_reason want_why, const char *want,
		   const char *what)
{
	char *out = (char *)1;
	spfkit_srs_reason why = (spfkit_srs_reason)99;
	int rc = domain
		     ? spfkit_srs_forward(srs, in, strlen(in), domain, now,
					  &out, &why)
		     : spfkit_srs_reverse(srs, in, strlen(in), now, &out, &why);
	T_CHECK(rc == SPFKIT_OK, "%s: %s: rc %d", what, in, rc);
	T_CHECK(why == want_why, "%s: %s: reason %s, want %s", what, in,
		spfkit_srs_reason_name(why), spfkit_srs_reason_name(want_why));
	if (want_why == SPFKIT_SRS_OK) {
		if (want)
			T_EQ_STR(out, want, what);
		else
			T_CHECK(out != NULL, "%s: %s: no output", what, in);
	} else {
		T_CHECK(out == NULL, "%s: %s: output on refusal", what, in);
	}
	if (rc == SPFKIT_OK)
		spfkit_free(NULL, out);
}

/* ------------------------------------------------------------ postsrsd */

typedef struct vec {
	char sep;
	unsigned hash;
	const char *in;
	const char *out;
} vec;

/* postsrsd 1.10: `postsrsd -s FILE(K1) -d fwd.example [-a SEP] [-n N]`,
 * "get IN" on the forward port at T0. */
static const vec postsrsd_forward[] = {
    {0, 0, "user@orig.example", "SRS0=n2ew=JM=orig.example=user@fwd.example"},
    {0, 0, "User.Name@Orig.Example",
     "SRS0=wjBH=JM=Orig.Example=User.Name@fwd.example"},
    {0, 0, "SRS0=abcd=AB=orig.example=user@fwd1.example",
     "SRS1=84R8=fwd1.example==abcd=AB=orig.example=user@fwd.example"},
    {0, 0, "SRS1=wxyz=fwd1.example==abcd=AB=orig.example=user@fwd2.example",
     "SRS1=84R8=fwd1.example==abcd=AB=orig.example=user@fwd.example"},
    {'+', 0, "user@orig.example", "SRS0+n2ew=JM=orig.example=user@fwd.example"},
    {'+', 0, "SRS0+abcd=AB=orig.example=user@fwd1.example",
     "SRS1+xL6Z=fwd1.example=+abcd=AB=orig.example=user@fwd.example"},
    {'+', 0, "SRS1-wxyz=fwd1.example==abcd=AB=orig.example=user@fwd2.example",
     "SRS1+84R8=fwd1.example==abcd=AB=orig.example=user@fwd.example"},
    {'-', 0, "user@orig.example", "SRS0-n2ew=JM=orig.example=user@fwd.example"},
    {'-', 0, "SRS0+abcd=AB=orig.example=user@fwd1.example",
     "SRS1-xL6Z=fwd1.example=+abcd=AB=orig.example=user@fwd.example"},
    {0, 8, "user@orig.example",
     "SRS0=n2ewIlVT=JM=orig.example=user@fwd.example"},
    {0, 8, "SRS0+abcd=AB=orig.example=user@fwd1.example",
     "SRS1=xL6ZBYL4=fwd1.example=+abcd=AB=orig.example=user@fwd.example"},
    {0, 8, "SRS1-wxyz=fwd1.example==abcd=AB=orig.example=user@fwd2.example",
     "SRS1=84R8OaVT=fwd1.example==abcd=AB=orig.example=user@fwd.example"},
};

/* "get IN" on postsrsd's reverse port at T0. */
static const vec postsrsd_reverse[] = {
    {0, 0, "SRS0=n2ew=JM=orig.example=user@fwd.example", "user@orig.example"},
    {0, 0, "SRS0+n2ew=JM=orig.example=user@x", "user@orig.example"},
    {0, 0, "SRS0=n2ew=JM=orig.example=user", "user@orig.example"},
    {0, 0, "SRS0=n2eW=jM=orig.example=user@x", "user@orig.example"},
    {0, 0, "srs0=N2EW=JM=orig.example=user@fwd.example", "user@orig.example"},
    {0, 0, "SRS1=84R8=fwd1.example==abcd=AB=orig.example=user@fwd.example",
     "SRS0=abcd=AB=orig.example=user@fwd1.example"},
    {0, 0, "SRS1=84r8=FWD1.example==abcd=AB=orig.example=user@fwd.example",
     "SRS0=abcd=AB=orig.example=user@FWD1.example"},
    {0, 0, "srs1=84R8=fwd1.example==abcd=AB=orig.example=user@fwd.example",
     "SRS0=abcd=AB=orig.example=user@fwd1.example"},
    {0, 8, "SRS0=n2ewIlVT=JM=orig.example=user@fwd.example",
     "user@orig.example"},
};

static void test_postsrsd_vectors(void)
{
	for (size_t i = 0;
	     i < sizeof postsrsd_forward / sizeof *postsrsd_forward; i++) {
		const vec *v = &postsrsd_forward[i];
		spfkit_srs *srs = mk(only_k1, v->sep, v->hash);
		expect(srs, v->in, "fwd.example", T0, SPFKIT_SRS_OK, v->out,
		       "postsrsd forward");
		spfkit_srs_free(srs);
	}
	for (size_t i = 0;
	     i < sizeof postsrsd_reverse / sizeof *postsrsd_reverse; i++) {
		const vec *v = &postsrsd_reverse[i];
		spfkit_srs *srs = mk(only_k1, v->sep, v->hash);
		expect(srs, v->in, NULL, T0, SPFKIT_SRS_OK, v->out,
		       "postsrsd reverse");
		spfkit_srs_free(srs);
	}
	/* postsrsd: "500 Hash invalid in SRS address." */
	spfkit_srs *srs = mk(only_k1, 0, 0);
	expect(srs, "SRS0=n2ew=JM=orig.example=us=er@x", NULL, T0,
	       SPFKIT_SRS_BAD_HASH, NULL, "postsrsd bad hash");
	/* postsrsd: "500 Already rewritten", and a sender in the domain. */
	expect(srs, "SRS0=n2ew=JM=orig.example=user@fwd.example", "fwd.example",
	       T0, SPFKIT_SRS_ALREADY, NULL, "postsrsd already");
	expect(srs, "SRS0=xxxx=JM=orig.example=user@fwd.example", "fwd.example",
	       T0, SPFKIT_SRS_LOCAL_DOMAIN, NULL, "postsrsd local");
	expect(srs, "user@fwd.example", "fwd.example", T0,
	       SPFKIT_SRS_LOCAL_DOMAIN, NULL, "postsrsd local");
	/* postsrsd: "500 No user in SRS1 address.", "No at sign". */
	expect(srs, "SRS1=wxyz=fwd1.example@fwd2.example", "fwd.example", T0,
	       SPFKIT_SRS_MALFORMED, NULL, "postsrsd SRS1 without user");
	expect(srs, "noat", "fwd.example", T0, SPFKIT_SRS_BAD_ADDRESS, NULL,
	       "postsrsd no at");
	spfkit_srs_free(srs);
}

/* ------------------------------------------------------------ round trips */

static const char *const senders[] = {
    "user@orig.example",
    "User.Name+tag@Sub.Orig.Example",
    "a@b",
    "x=y=z@orig.example",
    "\"quoted@local\"@orig.example",
    "user@[192.0.2.1]",
    /* split so the escape ends before 'c' */
    ("m\xc3\xbcller@b\xc3\xbc"
     "cher.example"),
    "SRS0@orig.example",
    "srs2=a=b@orig.example",
};

static void test_round_trips(void)
{
	const char seps[] = {'=', '+', '-'};
	for (size_t s = 0; s < sizeof seps; s++) {
		spfkit_srs *srs = mk(only_k1, seps[s], 0);
		for (size_t i = 0; i < sizeof senders / sizeof *senders; i++) {
			const char *in = senders[i];
			char *srs0 = NULL, *srs1 = NULL, *srs1b = NULL;
			char *back = NULL;
			spfkit_srs_reason why;
			spfkit_srs_forward(srs, in, strlen(in), "fwd1.example",
					   T0, &srs0, &why);
			T_CHECK(why == SPFKIT_SRS_OK && srs0 &&
				    (strncmp(srs0, "SRS0", 4) == 0) &&
				    srs0[4] == seps[s],
				"round trip: forward of %s: %s", in,
				spfkit_srs_reason_name(why));
			if (!srs0)
				continue;
			expect(srs, srs0, NULL, T0 + 3 * DAY, SPFKIT_SRS_OK, in,
			       "round trip SRS0");
			/* A second forwarder with another secret makes SRS1;
			 * a third one SRS1 again, of the first domain. */
			const char *const k2[] = {K2, NULL};
			spfkit_srs *two = mk(k2, 0, 0);
			spfkit_srs_forward(two, srs0, strlen(srs0),
					   "fwd2.example", T0, &srs1, &why);
			T_CHECK(why == SPFKIT_SRS_OK && srs1 &&
				    strncmp(srs1, "SRS1=", 5) == 0 &&
				    strstr(srs1, "=fwd1.example=") &&
				    strstr(srs1, "@fwd2.example"),
				"SRS1 of %s: %s", srs0, srs1 ? srs1 : "-");
			if (srs1) {
				expect(two, srs1, NULL, T0, SPFKIT_SRS_OK, srs0,
				       "round trip SRS1");
				spfkit_srs_forward(srs, srs1, strlen(srs1),
						   "fwd3.example", T0, &srs1b,
						   &why);
				T_CHECK(why == SPFKIT_SRS_OK && srs1b &&
					    strstr(srs1b, "=fwd1.example=") &&
					    strstr(srs1b, "@fwd3.example"),
					"SRS1 of SRS1 %s: %s", srs1,
					srs1b ? srs1b : "-");
			}
			if (srs1b) {
				/* The third forwarder's bounce goes straight
				 * to the first: the SRS0 address. */
				expect(srs, srs1b, NULL, T0, SPFKIT_SRS_OK,
				       srs0, "round trip SRS1 of SRS1");
				/* Not the second's secret: refused there. */
				expect(two, srs1b, NULL, T0,
				       SPFKIT_SRS_BAD_HASH, NULL,
				       "SRS1 of SRS1, other secret");
			}
			spfkit_free(NULL, back);
			spfkit_free(NULL, srs0);
			spfkit_free(NULL, srs1);
			spfkit_free(NULL, srs1b);
			spfkit_srs_free(two);
		}
		spfkit_srs_free(srs);
	}
}

/* Lower-cased and upper-cased SRS addresses still verify (some MTAs fold
 * local parts). */
static void test_case(void)
{
	spfkit_srs *srs = mk(only_k1, 0, 0);
	const char *cases[][2] = {
	    {"srs0=n2ew=jm=orig.example=user@fwd.example", "user@orig.example"},
	    {"SRS0=N2EW=JM=ORIG.EXAMPLE=USER@FWD.EXAMPLE", "USER@ORIG.EXAMPLE"},
	    {"srs0=wjbh=jm=orig.example=user.name@fwd.example",
	     "user.name@orig.example"},
	    {"SRS1=84r8=Fwd1.Example==ABCD=ab=Orig.Example=User@fwd.example",
	     "SRS0=ABCD=ab=Orig.Example=User@Fwd1.Example"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		expect(srs, cases[i][0], NULL, T0, SPFKIT_SRS_OK, cases[i][1],
		       "case-insensitive");
	/* Local domain compares case-insensitively; a trailing dot on the
	 * forwarding domain is dropped. */
	expect(srs, "user@FWD.Example", "fwd.example", T0,
	       SPFKIT_SRS_LOCAL_DOMAIN, NULL, "local domain case");
	expect(srs, "user@fwd.example", "fwd.example.", T0,
	       SPFKIT_SRS_LOCAL_DOMAIN, NULL, "local domain dot");
	expect(srs, "user@orig.example", "fwd.example.", T0, SPFKIT_SRS_OK,
	       "SRS0=n2ew=JM=orig.example=user@fwd.example", "domain dot");
	spfkit_srs_free(srs);
}

/* ------------------------------------------------------------ time */

static void test_time(void)
{
	spfkit_srs *srs = mk(only_k1, 0, 0);
	const char *a = "SRS0=n2ew=JM=orig.example=user@fwd.example";
	struct {
		uint64_t now;
		spfkit_srs_reason why;
	} cases[] = {
	    {T0, SPFKIT_SRS_OK},
	    {T0 - (T0 % DAY), SPFKIT_SRS_OK},         /* start of day */
	    {T0 + 21 * DAY, SPFKIT_SRS_OK},           /* max age */
	    {T0 + 22 * DAY, SPFKIT_SRS_EXPIRED},      /* stale */
	    {T0 + 400 * DAY, SPFKIT_SRS_EXPIRED},     /* long stale */
	    {T0 - (T0 % DAY) - 1, SPFKIT_SRS_FUTURE}, /* yesterday */
	    {T0 - 30 * DAY, SPFKIT_SRS_FUTURE},       /* a month early */
	    {T0 + 1024 * DAY, SPFKIT_SRS_OK},         /* comes round */
	    {T0 + 1024 * DAY + 22 * DAY, SPFKIT_SRS_EXPIRED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		expect(srs, a, NULL, cases[i].now, cases[i].why, NULL, "time");
	T_EQ_INT(spfkit_srs_set_max_age(srs, 5), SPFKIT_OK, "max age 5");
	expect(srs, a, NULL, T0 + 5 * DAY, SPFKIT_SRS_OK, NULL, "age 5 of 5");
	expect(srs, a, NULL, T0 + 6 * DAY, SPFKIT_SRS_EXPIRED, NULL,
	       "age 6 of 5");
	T_EQ_INT(spfkit_srs_set_max_age(srs, 0), SPFKIT_EINVAL, "max age 0");
	T_EQ_INT(spfkit_srs_set_max_age(srs, 1023), SPFKIT_EINVAL,
		 "max age 1023");
	T_EQ_INT(spfkit_srs_set_max_age(srs, 1022), SPFKIT_OK, "max age 1022");
	/* SRS1 carries no timestamp of its own. */
	expect(srs, "SRS1=84R8=fwd1.example==abcd=AB=orig.example=user@x", NULL,
	       T0 + 900 * DAY, SPFKIT_SRS_OK, NULL, "SRS1 no time");
	/* A stamp of day 0 and of day 1023 (the last before wrapping). */
	char *out = NULL;
	spfkit_srs_reason why;
	spfkit_srs_forward(srs, "u@o.example", 11, "f.example", 1023 * DAY,
			   &out, &why);
	T_CHECK(out && strstr(out, "=77=") != NULL, "stamp 1023: %s",
		out ? out : "-");
	spfkit_free(NULL, out);
	out = NULL;
	spfkit_srs_forward(srs, "u@o.example", 11, "f.example", 1024 * DAY + 5,
			   &out, &why);
	T_CHECK(out && strstr(out, "=AA=") != NULL, "stamp 1024: %s",
		out ? out : "-");
	spfkit_free(NULL, out);
	spfkit_srs_free(srs);
}

/* ------------------------------------------------------------ secrets */

static void test_rotation(void)
{
	const char *const old_only[] = {K1, NULL};
	const char *const new_old[] = {K2, K1, NULL};
	const char *const new_only[] = {K2, NULL};
	spfkit_srs *o = mk(old_only, 0, 0), *no = mk(new_old, 0, 0),
		   *n = mk(new_only, 0, 0);
	char *a = NULL, *b = NULL;
	spfkit_srs_reason why;
	spfkit_srs_forward(o, "user@orig.example", 17, "fwd.example", T0, &a,
			   &why);
	spfkit_srs_forward(no, "user@orig.example", 17, "fwd.example", T0, &b,
			   &why);
	T_CHECK(a && b && strcmp(a, b) != 0, "the first secret signs");
	if (a && b) {
		expect(no, a, NULL, T0, SPFKIT_SRS_OK, "user@orig.example",
		       "old address, second secret verifies");
		expect(n, a, NULL, T0, SPFKIT_SRS_BAD_HASH, NULL,
		       "old address, old secret dropped");
		expect(n, b, NULL, T0, SPFKIT_SRS_OK, "user@orig.example",
		       "new address");
		expect(o, b, NULL, T0, SPFKIT_SRS_BAD_HASH, NULL,
		       "new address, old secret only");
		/* An address signed by the second secret is ours too. */
		expect(no, a, "fwd.example", T0, SPFKIT_SRS_ALREADY, NULL,
		       "already, second secret");
	}
	spfkit_free(NULL, a);
	spfkit_free(NULL, b);
	spfkit_srs_free(o);
	spfkit_srs_free(no);
	spfkit_srs_free(n);
}

static void test_secrets(void)
{
	spfkit_srs *srs = NULL;
	T_EQ_INT(spfkit_srs_new(&srs, NULL), SPFKIT_OK, "new");
	char s[80];
	memset(s, 'k', sizeof s);
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 15), SPFKIT_EINVAL, "15");
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 0), SPFKIT_EINVAL, "0");
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 65), SPFKIT_EINVAL, "65");
	T_EQ_INT(spfkit_srs_add_secret(srs, NULL, 20), SPFKIT_EINVAL, "NULL");
	s[5] = '\0';
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 20), SPFKIT_EINVAL, "NUL");
	s[5] = 'k';
	T_EQ_INT(spfkit_srs_secret_count(srs), 0, "none yet");
	/* No secret: nothing can be signed or checked. */
	char *out = NULL;
	spfkit_srs_reason why;
	T_EQ_INT(spfkit_srs_forward(srs, "a@b", 3, "f.example", T0, &out, &why),
		 SPFKIT_ESTATE, "forward without secret");
	T_EQ_INT(spfkit_srs_reverse(srs, "a@b", 3, T0, &out, &why),
		 SPFKIT_ESTATE, "reverse without secret");
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 16), SPFKIT_OK, "16");
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 64), SPFKIT_OK, "64");
	for (int i = 2; i < SPFKIT_SRS_SECRETS_MAX; i++)
		spfkit_srs_add_secret(srs, s, 20);
	T_EQ_INT(spfkit_srs_secret_count(srs), SPFKIT_SRS_SECRETS_MAX, "full");
	T_EQ_INT(spfkit_srs_add_secret(srs, s, 20), SPFKIT_ETOOBIG, "too many");
	spfkit_srs_free(srs);

	struct {
		const char *text;
		int rc;
		size_t count;
		const char *err; /* a part of the message */
	} files[] = {
	    {K1, SPFKIT_OK, 1, NULL},
	    {K1 "\n", SPFKIT_OK, 1, NULL},
	    {K1 "\r\n" K2 "\r\n", SPFKIT_OK, 2, NULL},
	    {"# rotation 2026-11\n\n" K2 "\n# old\n" K1 "\n\n", SPFKIT_OK, 2,
	     NULL},
	    {"", SPFKIT_ENOENT, 0, "no secret"},
	    {"\n\n# only a comment\n", SPFKIT_ENOENT, 0, "no secret"},
	    {K1 "\nshort\n", SPFKIT_EINVAL, 0,
	     "line 2: the secret is too short"},
	    {K1 "\n" K2 K2 K2 "\n", SPFKIT_EINVAL, 0,
	     "line 2: the secret is too long"},
	    {K1 "\ttab\n", SPFKIT_EINVAL, 0,
	     "line 1: the secret holds a control"},
	    {"0123456789abcdef\0x\n", SPFKIT_EINVAL, 0, "control"},
	};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		spfkit_srs_new(&srs, NULL);
		char err[200];
		size_t len = strlen(files[i].text);
		if (files[i].err && strcmp(files[i].err, "control") == 0)
			len = 19;
		int rc = spfkit_srs_add_secrets(srs, files[i].text, len, err,
						sizeof err);
		T_EQ_INT(rc, files[i].rc, files[i].text);
		T_EQ_INT(spfkit_srs_secret_count(srs), files[i].count,
			 files[i].text);
		if (files[i].err)
			T_CHECK(strstr(err, files[i].err) != NULL,
				"message '%s' lacks '%s'", err, files[i].err);
		spfkit_srs_free(srs);
	}
	/* The first line of the file signs. */
	spfkit_srs_new(&srs, NULL);
	const char two[] = "# new first\n" K2 "\n" K1 "\n";
	spfkit_srs_add_secrets(srs, two, sizeof two - 1, NULL, 0);
	const char *const k2[] = {K2, NULL};
	spfkit_srs *ref = mk(k2, 0, 0);
	char *x = NULL, *y = NULL;
	spfkit_srs_forward(srs, "u@o.example", 11, "f.example", T0, &x, &why);
	spfkit_srs_forward(ref, "u@o.example", 11, "f.example", T0, &y, &why);
	T_CHECK(x && y && strcmp(x, y) == 0, "first line signs");
	spfkit_free(NULL, x);
	spfkit_free(NULL, y);
	/* A failing file adds nothing to secrets already there. */
	T_EQ_INT(spfkit_srs_add_secrets(srs, K1 "\nshort\n",
					strlen(K1 "\nshort\n"), NULL, 0),
		 SPFKIT_EINVAL, "all or nothing");
	T_EQ_INT(spfkit_srs_secret_count(srs), 2, "all or nothing count");
	spfkit_srs_free(ref);
	spfkit_srs_free(srs);
}

/* ------------------------------------------------------------ bad input */

static void test_refusals(void)
{
	spfkit_srs *srs = mk(only_k1, 0, 0);
	struct {
		const char *in;
		spfkit_srs_reason why;
	} rev[] = {
	    {"", SPFKIT_SRS_NOT_SRS},
	    {"@", SPFKIT_SRS_NOT_SRS},
	    {"user@orig.example", SPFKIT_SRS_NOT_SRS},
	    {"SRS0", SPFKIT_SRS_NOT_SRS},
	    {"SRS0@fwd.example", SPFKIT_SRS_NOT_SRS},
	    {"SRS2=n2ew=JM=orig.example=user@fwd.example", SPFKIT_SRS_NOT_SRS},
	    {"SRS0_n2ew=JM=orig.example=user@fwd.example", SPFKIT_SRS_NOT_SRS},
	    {"SRS=n2ew=JM=orig.example=user@fwd.example", SPFKIT_SRS_NOT_SRS},
	    {"xSRS0=n2ew=JM=orig.example=user@fwd.example", SPFKIT_SRS_NOT_SRS},
	    /* the domain after the last '@' is not the local part */
	    {"user@SRS0=n2ew=JM=orig.example=user", SPFKIT_SRS_NOT_SRS},
	    {"SRS0=", SPFKIT_SRS_MALFORMED},
	    {"SRS0=@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JM@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JM=orig.example@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JM=orig.example=@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JM==user@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew==orig.example=user@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=J=orig.example=user@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JMA=orig.example=user@fwd.example",
	     SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=J1=orig.example=user@fwd.example",
	     SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=J\x80=orig.example=user@fwd.example",
	     SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JM=orig.example=us\ner@fwd.example",
	     SPFKIT_SRS_MALFORMED},
	    {"SRS0=n2ew=JM=orig.example=user@fwd\r.example",
	     SPFKIT_SRS_MALFORMED},
	    {"SRS1=", SPFKIT_SRS_MALFORMED},
	    {"SRS1=84R8@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS1=84R8=fwd1.example@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS1=84R8=fwd1.example=@fwd.example", SPFKIT_SRS_MALFORMED},
	    {"SRS1=84R8==abcd=AB=orig.example=user@fwd.example",
	     SPFKIT_SRS_MALFORMED},
	    /* hashes: wrong, too short, too long, empty */
	    {"SRS0=n2ex=JM=orig.example=user@fwd.example", SPFKIT_SRS_BAD_HASH},
	    {"SRS0=n2e=JM=orig.example=user@fwd.example", SPFKIT_SRS_BAD_HASH},
	    {"SRS0=n2ewX=JM=orig.example=user@fwd.example",
	     SPFKIT_SRS_BAD_HASH},
	    {"SRS0==JM=orig.example=user@fwd.example", SPFKIT_SRS_BAD_HASH},
	    {"SRS0=n2ew=JN=orig.example=user@fwd.example", SPFKIT_SRS_BAD_HASH},
	    {"SRS0=n2ew=JM=orig.example=user2@fwd.example",
	     SPFKIT_SRS_BAD_HASH},
	    {"SRS0=n2ew=JM=evil.example=user@fwd.example", SPFKIT_SRS_BAD_HASH},
	    {"SRS1=84R9=fwd1.example==abcd=AB=orig.example=user@fwd.example",
	     SPFKIT_SRS_BAD_HASH},
	    {"SRS1=84R8=fwd2.example==abcd=AB=orig.example=user@fwd.example",
	     SPFKIT_SRS_BAD_HASH},
	};
	for (size_t i = 0; i < sizeof rev / sizeof *rev; i++)
		expect(srs, rev[i].in, NULL, T0, rev[i].why, NULL, "reverse");

	struct {
		const char *in;
		spfkit_srs_reason why;
	} fwd[] = {
	    {"", SPFKIT_SRS_BAD_ADDRESS},
	    {"user", SPFKIT_SRS_BAD_ADDRESS},
	    {"@orig.example", SPFKIT_SRS_BAD_ADDRESS},
	    {"user@", SPFKIT_SRS_BAD_ADDRESS},
	    {"@", SPFKIT_SRS_BAD_ADDRESS},
	    {"user@or=ig.example", SPFKIT_SRS_BAD_ADDRESS},
	    {"us\ner@orig.example", SPFKIT_SRS_BAD_ADDRESS},
	    {"user@orig.example\r\n", SPFKIT_SRS_BAD_ADDRESS},
	    {"user@orig\x7f.example", SPFKIT_SRS_BAD_ADDRESS},
	    {"SRS1=x@orig.example", SPFKIT_SRS_MALFORMED},
	    {"SRS1=x=host@orig.example", SPFKIT_SRS_MALFORMED},
	    {"SRS1=x==user@orig.example", SPFKIT_SRS_MALFORMED},
	    {"SRS1=x=host=@orig.example", SPFKIT_SRS_MALFORMED},
	};
	for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++)
		expect(srs, fwd[i].in, "fwd.example", T0, fwd[i].why, NULL,
		       "forward");

	/* NUL inside the view: refused, never cut short. */
	char *out = NULL;
	spfkit_srs_reason why;
	T_EQ_INT(spfkit_srs_forward(srs, "user\0x@orig.example", 19,
				    "fwd.example", T0, &out, &why),
		 SPFKIT_OK, "NUL forward");
	T_CHECK(why == SPFKIT_SRS_BAD_ADDRESS && !out, "NUL forward refused");
	const char nul[] = "SRS0=n2ew=JM=orig.example=user@fwd.example\0junk";
	T_EQ_INT(spfkit_srs_reverse(srs, nul, sizeof nul - 1, T0, &out, &why),
		 SPFKIT_OK, "NUL reverse");
	T_CHECK(why == SPFKIT_SRS_MALFORMED && !out, "NUL reverse refused");
	/* Only the view is read: the same address without its NUL. */
	T_EQ_INT(spfkit_srs_reverse(srs, nul, sizeof nul - 6, T0, &out, &why),
		 SPFKIT_OK, "view reverse");
	T_CHECK(why == SPFKIT_SRS_OK && out &&
		    strcmp(out, "user@orig.example") == 0,
		"view reverse result");
	spfkit_free(NULL, out);

	/* Bad arguments. */
	T_EQ_INT(spfkit_srs_forward(srs, "a@b", 3, "", T0, &out, &why),
		 SPFKIT_EINVAL, "empty domain");
	T_EQ_INT(
	    spfkit_srs_forward(srs, "a@b", 3, "a@b.example", T0, &out, &why),
	    SPFKIT_EINVAL, "domain with @");
	T_EQ_INT(
	    spfkit_srs_forward(srs, "a@b", 3, "a=b.example", T0, &out, &why),
	    SPFKIT_EINVAL, "domain with =");
	T_EQ_INT(
	    spfkit_srs_forward(srs, "a@b", 3, "a..example", T0, &out, &why),
	    SPFKIT_EINVAL, "domain with empty label");
	T_EQ_INT(spfkit_srs_forward(srs, "a@b", 3, NULL, T0, &out, &why),
		 SPFKIT_EINVAL, "NULL domain");
	T_EQ_INT(
	    spfkit_srs_forward(NULL, "a@b", 3, "f.example", T0, &out, &why),
	    SPFKIT_EINVAL, "NULL handle");
	T_EQ_INT(spfkit_srs_forward(srs, NULL, 3, "f.example", T0, &out, &why),
		 SPFKIT_EINVAL, "NULL address");
	T_EQ_INT(spfkit_srs_reverse(srs, "a@b", 3, T0, NULL, &why),
		 SPFKIT_EINVAL, "NULL out");
	T_EQ_INT(spfkit_srs_reverse(srs, "a@b", 3, T0, &out, NULL),
		 SPFKIT_EINVAL, "NULL why");
	T_EQ_INT(spfkit_srs_set_separator(srs, '_'), SPFKIT_EINVAL, "sep _");
	T_EQ_INT(spfkit_srs_set_separator(srs, '\0'), SPFKIT_EINVAL, "sep NUL");
	T_EQ_INT(spfkit_srs_set_hash_length(srs, 3), SPFKIT_EINVAL, "hash 3");
	T_EQ_INT(spfkit_srs_set_hash_length(srs, 27), SPFKIT_EINVAL, "hash 27");
	T_EQ_INT(spfkit_srs_set_hash_length(srs, 26), SPFKIT_OK, "hash 26");
	expect(srs, "user@orig.example", "fwd.example", T0, SPFKIT_SRS_OK, NULL,
	       "hash 26 forward");
	T_EQ_INT(spfkit_srs_new(NULL, NULL), SPFKIT_EINVAL, "new NULL");
	spfkit_srs_free(NULL);
	spfkit_srs_free(srs);
}

/* RFC 5321 §4.5.3.1: local part 64, address 254 octets after rewriting. */
static void test_lengths(void)
{
	spfkit_srs *srs = mk(only_k1, 0, 0);
	/* SRS0=HHHH=TT=<host>=<user>: 14 octets of frame, so host and
	 * user may have 50 between them. */
	char in[1100], what[80];
	for (size_t user = 30; user <= 50; user++) {
		memset(in, 'u', user);
		memcpy(in + user, "@o.example", 11);
		size_t lp = 14 + 9 + user;
		spfkit_srs_reason want =
		    lp <= 64 ? SPFKIT_SRS_OK : SPFKIT_SRS_TOO_LONG;
		snprintf(what, sizeof what, "local part %zu", lp);
		expect(srs, in, "f.example", T0, want, NULL, what);
	}
	/* The whole address: 64-octet local part, forwarding domain of
	 * 189 octets gives 254; 190 is one too many. */
	char dom[256];
	size_t dn = 0;
	while (dn < 189) {
		size_t lab = 189 - dn > 63 ? 62 : 189 - dn;
		memset(dom + dn, 'd', lab);
		dn += lab;
		if (dn < 189)
			dom[dn++] = '.';
	}
	dom[dn] = '\0';
	memset(in, 'u', 41);
	memcpy(in + 41, "@o.example", 11); /* local part 14 + 9 + 41 = 64 */
	char *out = NULL;
	spfkit_srs_reason why;
	spfkit_srs_forward(srs, in, strlen(in), dom, T0, &out, &why);
	T_CHECK(why == SPFKIT_SRS_OK && out && strlen(out) == 254,
		"254 octets: %s %zu", spfkit_srs_reason_name(why),
		out ? strlen(out) : 0);
	if (out)
		expect(srs, out, NULL, T0, SPFKIT_SRS_OK, in, "254 reverse");
	spfkit_free(NULL, out);
	out = NULL;
	memmove(dom + 1, dom, dn + 1);
	dom[0] = 'e';
	expect(srs, in, dom, T0, SPFKIT_SRS_TOO_LONG, NULL, "255 octets");
	/* SRS1 has its own frame: SRS1=HHHH=<host>=<rest>. */
	memset(in, 'x', 40);
	memcpy(in, "SRS0=abcd=AB=h.example=", 23);
	memcpy(in + 40, "@fwd1.example", 14); /* local 40; SRS1 local: 10 +
						 12 + 1 + 36 = 59 */
	expect(srs, in, "fwd2.example", T0, SPFKIT_SRS_OK, NULL, "SRS1 59");
	memset(in, 'x', 46);
	memcpy(in, "SRS0=abcd=AB=h.example=", 23);
	memcpy(in + 46, "@fwd1.example", 14); /* SRS1 local: 65 */
	expect(srs, in, "fwd2.example", T0, SPFKIT_SRS_TOO_LONG, NULL,
	       "SRS1 65");
	/* Input over SPFKIT_SRS_INPUT_MAX. */
	memset(in, 'a', sizeof in);
	memcpy(in, "SRS0=n2ew=JM=o.example=", 23);
	memcpy(in + 1040, "@f.example", 11);
	expect(srs, in, NULL, T0, SPFKIT_SRS_TOO_LONG, NULL, "huge reverse");
	expect(srs, in + 23, "f.example", T0, SPFKIT_SRS_TOO_LONG, NULL,
	       "huge forward");
	spfkit_srs_free(srs);
}

static void test_names(void)
{
	for (int r = SPFKIT_SRS_OK; r <= SPFKIT_SRS_TOO_LONG; r++) {
		const char *n = spfkit_srs_reason_name((spfkit_srs_reason)r);
		const char *t = spfkit_srs_reason_text((spfkit_srs_reason)r);
		T_CHECK(n && *n && strcmp(n, "unknown") != 0, "name %d", r);
		T_CHECK(t && *t && !strchr(t, '\n'), "text %d", r);
		for (int q = SPFKIT_SRS_OK; q < r; q++)
			T_CHECK(strcmp(n, spfkit_srs_reason_name(
					      (spfkit_srs_reason)q)) != 0,
				"names %d and %d alike", q, r);
	}
	T_EQ_STR(spfkit_srs_reason_name((spfkit_srs_reason)77), "unknown",
		 "out of range");
}

/* ------------------------------------------------------------ memory */

/* new, add_secrets, forward (SRS0, SRS1) and reverse with the Nth
 * allocation failing: ENOMEM or the right answer, nothing leaked. */
static void test_alloc_failures(void)
{
	long n;
	for (n = 0; n < 100; n++) {
		failer f = {n, 0, false};
		spfkit_allocator al = {f_alloc, f_realloc, f_free, &f};
		spfkit_config *cfg = NULL;
		f.countdown = -1;
		if (spfkit_config_new(&cfg, &al) != SPFKIT_OK) {
			T_CHECK(0, "config");
			break;
		}
		f.countdown = n;
		long base = f.live;
		spfkit_srs *srs = NULL;
		int rc = spfkit_srs_new(&srs, cfg);
		bool ok = true;
		if (rc == SPFKIT_OK) {
			spfkit_srs_add_secrets(srs, K1 "\n", sizeof K1, NULL,
					       0);
			const char *ins[] = {
			    "user@orig.example",
			    "SRS0=abcd=AB=orig.example=user@fwd1.example"};
			for (size_t i = 0; i < 2; i++) {
				char *out = NULL, *back = NULL;
				spfkit_srs_reason why;
				rc = spfkit_srs_forward(
				    srs, ins[i], strlen(ins[i]), "fwd.example",
				    T0, &out, &why);
				T_CHECK(rc == SPFKIT_OK || rc == SPFKIT_ENOMEM,
					"forward rc %d", rc);
				T_CHECK(rc != SPFKIT_ENOMEM || !out,
					"out on ENOMEM");
				if (rc != SPFKIT_OK) {
					ok = false;
					continue;
				}
				T_CHECK(why == SPFKIT_SRS_OK && out,
					"forward under failer");
				rc = spfkit_srs_reverse(srs, out, strlen(out),
							T0, &back, &why);
				T_CHECK(rc == SPFKIT_OK || rc == SPFKIT_ENOMEM,
					"reverse rc %d", rc);
				if (rc == SPFKIT_OK)
					T_CHECK(why == SPFKIT_SRS_OK && back,
						"reverse under failer");
				else
					ok = false;
				spfkit_free(cfg, out);
				spfkit_free(cfg, back);
			}
		} else {
			T_EQ_INT(rc, SPFKIT_ENOMEM, "new under failer");
			T_CHECK(srs == NULL, "handle on ENOMEM");
			ok = false;
		}
		spfkit_srs_free(srs);
		T_EQ_INT(f.live, base, "leak under failer");
		spfkit_config_free(cfg);
		if (ok && !f.failed)
			break;
	}
	T_CHECK(n > 0 && n < 100, "failer runs: %ld", n);
}

int main(void)
{
	test_postsrsd_vectors();
	test_round_trips();
	test_case();
	test_time();
	test_rotation();
	test_secrets();
	test_refusals();
	test_lengths();
	test_names();
	test_alloc_failures();
	return t_done();
}
