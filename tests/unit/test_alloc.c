/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_alloc.c - every public entry point with the Nth allocation failing
 * (nghttp2's failmalloc): the call reports an error or an RFC result of
 * temperror, never crashes, and nothing leaks. N runs from 0 until a run
 * needs no failure at all.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spfkit.h"
#include "t.h"
#include "t_failer.h"
#include "zone_yaml.h"

static const char zone_text[] =
    "example.com:\n"
    "  - TXT: \"v=spf1 include:inc.example.com mx a:%{d2}.x.example.com ptr "
    "-all exp=why.example.com\"\n"
    "  - MX: [10, mx1.example.com]\n"
    "  - MX: [20, mx2.example.com]\n"
    "inc.example.com:\n"
    "  - TXT: [\"v=spf1 ip4:198.51.100.0/24 \", \"redirect=r.example.com\"]\n"
    "r.example.com:\n"
    "  - TXT: \"v=spf1 exists:%{ir}.%{l1r-}.e.example.com ?all\"\n"
    "mx1.example.com:\n"
    "  - A: 192.0.2.1\n"
    "mx2.example.com:\n"
    "  - A: 192.0.2.2\n"
    "why.example.com:\n"
    "  - TXT: \"%{i} is not %{p} and may not send for %{d} (%{S})\"\n"
    "9.2.0.192.in-addr.arpa:\n"
    "  - PTR: host.example.com\n"
    "host.example.com:\n"
    "  - A: 192.0.2.7\n";

static char path[80];

/* One whole use of the library with f deciding which allocation fails.
 * Returns true when the run completed without any failure injected. */
static bool one_run(failer *f, int *outcome)
{
	spfkit_allocator al = {f_alloc, f_realloc, f_free, f};
	spfkit_config *cfg = NULL;
	spfkit_zone *z = NULL;
	spfkit_check *chk = NULL, *again = NULL;
	spfkit_cache *cache = NULL;
	char *hdr = NULL;
	char err[256];
	*outcome = 0;
	int rc = spfkit_config_new(&cfg, &al);
	if (rc != SPFKIT_OK) {
		T_CHECK(rc == SPFKIT_ENOMEM && cfg == NULL, "config_new: %d",
			rc);
		goto out;
	}
	if ((rc = spfkit_config_set_receiver(cfg, "mx.receiver.example")) ||
	    (rc = spfkit_config_set_default_explanation(cfg, "see %{d}"))) {
		T_EQ_INT(rc, SPFKIT_ENOMEM, "config setter");
		goto out;
	}
	if ((rc = spfkit_zone_new(&z, cfg))) {
		T_CHECK(rc == SPFKIT_ENOMEM && z == NULL, "zone_new: %d", rc);
		goto out;
	}
	if ((rc = zone_file_load(z, cfg, path, err, sizeof err))) {
		T_CHECK(rc == SPFKIT_ENOMEM, "zone_load_file: %d (%s)", rc,
			err);
		goto out;
	}
	if ((rc = spfkit_cache_new(&cache, cfg, 0))) {
		T_CHECK(rc == SPFKIT_ENOMEM && cache == NULL, "cache_new: %d",
			rc);
		goto out;
	}
	if ((rc = spfkit_check_new(&chk, cfg))) {
		T_CHECK(rc == SPFKIT_ENOMEM && chk == NULL, "check_new: %d",
			rc);
		goto out;
	}
	spfkit_check_set_cache(chk, cache);
	if ((rc = spfkit_check_set_ip(chk, "192.0.2.9")) ||
	    (rc = spfkit_check_set_sender(chk, "user@example.com", 16)) ||
	    (rc = spfkit_check_set_helo(chk, "host.example.com", 16))) {
		T_EQ_INT(rc, SPFKIT_ENOMEM, "check setters");
		goto out;
	}
	rc = spfkit_zone_check(z, chk, 0);
	if (rc != SPFKIT_OK) {
		T_EQ_INT(rc, SPFKIT_ENOMEM, "zone_check");
		goto out;
	}
	spfkit_result r = spfkit_check_result(chk);
	if (f->failed) {
		/* Out of memory mid-check is temperror (reason internal),
		 * never a made-up pass or fail. */
		T_CHECK(r == SPFKIT_RESULT_TEMPERROR || r == SPFKIT_RESULT_FAIL,
			"result under failure: %s", spfkit_result_name(r));
	} else {
		T_EQ_STR(spfkit_result_name(r), "fail",
			 "result without failure");
	}
	*outcome = (int)r + 1;
	rc = spfkit_check_header(chk, SPFKIT_HEADER_AUTHENTICATION_RESULTS,
				 "mx.example", &hdr);
	T_CHECK(rc == SPFKIT_OK || rc == SPFKIT_ENOMEM, "header: %d", rc);
	/* The same check again, its records from the cache. */
	if ((rc = spfkit_check_new(&again, cfg))) {
		T_EQ_INT(rc, SPFKIT_ENOMEM, "second check_new");
		goto out;
	}
	spfkit_check_set_cache(again, cache);
	if ((rc = spfkit_check_set_ip(again, "192.0.2.9")) ||
	    (rc = spfkit_check_set_sender(again, "user@example.com", 16))) {
		T_EQ_INT(rc, SPFKIT_ENOMEM, "second check setters");
		goto out;
	}
	rc = spfkit_zone_check(z, again, 0);
	T_CHECK(rc == SPFKIT_OK || rc == SPFKIT_ENOMEM, "second check: %d", rc);
	if (rc == SPFKIT_OK) {
		r = spfkit_check_result(again);
		T_CHECK(r == SPFKIT_RESULT_FAIL ||
			    (f->failed && r == SPFKIT_RESULT_TEMPERROR),
			"second result: %s", spfkit_result_name(r));
	}
out:
	spfkit_free(cfg, hdr);
	spfkit_check_free(chk);
	spfkit_check_free(again);
	spfkit_cache_free(cache);
	spfkit_zone_free(z);
	spfkit_config_free(cfg);
	return !f->failed;
}

int main(void)
{
	char dir[] = "/tmp/spfkit-alloc-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/zone.yml", dir);
	FILE *fp = fopen(path, "w");
	fwrite(zone_text, 1, sizeof zone_text - 1, fp);
	fclose(fp);

	long n;
	int outcome;
	for (n = 0; n < 100000; n++) {
		failer f = {n, 0, false};
		bool clean = one_run(&f, &outcome);
		T_CHECK(f.live == 0,
			"allocation %ld failing: %ld blocks leaked", n, f.live);
		if (clean)
			break;
	}
	T_CHECK(n > 10 && n < 100000,
		"a run completed after %ld failure points", n);
	printf("allocation failure points exercised: %ld\n", n);
	unlink(path);
	rmdir(dir);
	return t_done();
}
