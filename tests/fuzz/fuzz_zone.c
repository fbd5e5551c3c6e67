/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_zone.c - zone_file_load() on hostile files: openspf YAML
 * zonedata through libyaml (built as fuzz_zone_yaml, FUZZ_ZONE_YAML=1) or
 * RFC 1035 master files through ldns (fuzz_zone_master). The input is
 * written to one temporary file per process, named *.yml or *.zone.
 *
 * Checked (spfkit.h, zone.h): a load either succeeds or fails with a
 * one-line message and the zone unchanged; loading the same file again
 * into the now non-empty zone (the overlay path) succeeds too and changes
 * nothing (identical records are one, RFC 2181 §5); lookups of some names give
 * a valid status, records only of the asked type and at most 8 CNAME hops; a
 * check against the loaded zone ends with a valid result; and with an
 * allocation failing part-way, the load fails cleanly or succeeds.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "internal.h"
#include "dns/zone.h"
#include "zone_yaml.h"

#if FUZZ_ZONE_YAML
#define SUFFIX ".yml"
#else
#define SUFFIX ".zone"
#endif

static char path[64];
static int fd = -1;

static void cleanup(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void write_input(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		snprintf(path, sizeof path, "/tmp/spfkit-fuzz-XXXXXX%s",
			 SUFFIX);
		fd = mkstemps(path, (int)strlen(SUFFIX));
		if (fd < 0) {
			perror("mkstemps");
			abort();
		}
		atexit(cleanup);
	}
	if (ftruncate(fd, 0) != 0)
		abort();
	size_t off = 0;
	while (off < size) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
}

static void check_err(int rc, const char *err)
{
	FZ_ASSERT(rc == SPFKIT_EPARSE || rc == SPFKIT_ENOMEM ||
		      rc == SPFKIT_EIO,
		  "load failed with %d", rc);
	FZ_ASSERT(err[0] != '\0', "failure without a message");
	for (const unsigned char *p = (const unsigned char *)err; *p; p++)
		FZ_ASSERT(*p >= 0x20 && *p != 0x7f, "message holds 0x%02x: %s",
			  *p, err);
}

static const char *const probe[] = {
    "example.com",
    "a.example",
    "b.example",
    "mail.example.com",
    "e1.example.com",
    "e2.example.com",
    "foo.example.com",
    "www.example.com",
    "1.2.3.4.in-addr.arpa",
    "4.3.2.1.in-addr.arpa",
    "example.net",
    "",
    "com",
    "a.b.c.d.example",
};
static const uint16_t types[] = {
    SPFKIT_TYPE_A,   SPFKIT_TYPE_AAAA,  SPFKIT_TYPE_MX,  SPFKIT_TYPE_PTR,
    SPFKIT_TYPE_TXT, SPFKIT_TYPE_CNAME, SPFKIT__TYPE_SPF};

static void probe_zone(const spfkit_config *cfg, const spfkit_zone *z)
{
	for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
		for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
			spfkit__zone_answer ans;
			int rc =
			    spfkit__zone_lookup(z, probe[i], types[k], &ans);
			FZ_ASSERT(rc == SPFKIT_OK, "lookup %d", rc);
			FZ_ASSERT(ans.status == SPFKIT_DNS_NOERROR ||
				      ans.status == SPFKIT_DNS_NXDOMAIN ||
				      ans.status == SPFKIT_DNS_TEMPFAIL,
				  "status %d", ans.status);
			FZ_ASSERT(ans.n == 0 ||
				      ans.status == SPFKIT_DNS_NOERROR,
				  "records with status %d", ans.status);
			FZ_ASSERT(ans.cnames <= SPFKIT__ZONE_MAX_CNAME,
				  "%u CNAME hops", ans.cnames);
			for (size_t r = 0; r < ans.n; r++) {
				FZ_ASSERT(ans.rrs[r].type == types[k],
					  "type %u for %u", ans.rrs[r].type,
					  types[k]);
				FZ_ASSERT(ans.rrs[r].rdlen <= 65535, "rdlen");
			}
			spfkit__zone_answer_free(z, &ans);
		}
	static const char *const checks[][2] = {
	    {"1.2.3.4", "user@example.com"},
	    {"2001:db8::1", "foo@a.example"},
	};
	for (size_t i = 0; i < 2; i++) {
		spfkit_check *chk = NULL;
		if (spfkit_check_new(&chk, cfg))
			abort();
		spfkit_check_set_ip(chk, checks[i][0]);
		spfkit_check_set_sender(chk, checks[i][1],
					strlen(checks[i][1]));
		spfkit_check_set_helo(chk, "mail.example.com", 16);
		FZ_ASSERT(spfkit_zone_check(z, chk, 0) == SPFKIT_OK, "check");
		spfkit_result r = spfkit_check_result(chk);
		FZ_ASSERT(r >= SPFKIT_RESULT_NONE &&
			      r <= SPFKIT_RESULT_PERMERROR,
			  "result %d", r);
		FZ_ASSERT(spfkit_check_lookups(chk) <= 11 &&
			      spfkit_check_void_lookups(chk) <= 3,
			  "limits");
		spfkit_check_free(chk);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static spfkit_config *cfg;
	if (!cfg && spfkit_config_new(&cfg, NULL))
		abort();
	write_input(data, size);

	char err[256];
	spfkit_zone *z = NULL;
	if (spfkit_zone_new(&z, cfg))
		abort();
	int rc = zone_file_load(z, cfg, path, err, sizeof err);
	if (rc != SPFKIT_OK) {
		check_err(rc, err);
		FZ_ASSERT(spfkit__zone_count_names(z) == 0 &&
			      spfkit__zone_count_records(z) == 0,
			  "a failed load changed the zone");
	} else {
		size_t names = spfkit__zone_count_names(z);
		size_t recs = spfkit__zone_count_records(z);
		probe_zone(cfg, z);
		/* Again, into a zone that is not empty: the overlay, whose
		 * records replace the same ones. */
		rc = zone_file_load(z, cfg, path, err, sizeof err);
		FZ_ASSERT(rc == SPFKIT_OK, "second load: %d %s", rc, err);
		FZ_ASSERT(spfkit__zone_count_names(z) == names &&
			      spfkit__zone_count_records(z) == recs,
			  "overlay: %zu names %zu records, had %zu %zu",
			  spfkit__zone_count_names(z),
			  spfkit__zone_count_records(z), names, recs);
		probe_zone(cfg, z);
	}
	bool loaded = rc == SPFKIT_OK;
	spfkit_zone_free(z);

	/* Out of memory at one allocation, into a zone that holds a record
	 * already (so the merge path can fail too). */
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	fz_alloc_state st = {0, 0, false, false};
	spfkit_allocator fa = fz_allocator(&st);
	spfkit_config *fcfg = NULL;
	if (spfkit_config_new(&fcfg, &fa) || spfkit_zone_new(&z, fcfg))
		abort();
	static const unsigned char a4[4] = {192, 0, 2, 1};
	if (spfkit_zone_add(z, "pre.example", SPFKIT_TYPE_A, 60, a4, 4))
		abort();
	st.count = 0;
	st.fail_at = 1 + h % 64;
	st.sticky = (h >> 8) & 1;
	rc = zone_file_load(z, fcfg, path, err, sizeof err);
	st.fail_at = 0;
	if (rc == SPFKIT_OK) {
		FZ_ASSERT(loaded,
			  "loaded with an allocation failing, not without");
	} else {
		check_err(rc, err);
		FZ_ASSERT(rc == SPFKIT_ENOMEM || !loaded,
			  "a good file failed with %d: %s", rc, err);
		FZ_ASSERT(spfkit__zone_count_names(z) == 1 &&
			      spfkit__zone_count_records(z) == 1,
			  "a failed load changed the zone");
	}
	spfkit_zone_free(z);
	spfkit_config_free(fcfg);
	return 0;
}
