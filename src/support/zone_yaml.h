/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * zone_yaml.h - openspf YAML zonedata into an spfkit_zone (zone_yaml.c):
 * the format of the RFC 7208 test suite's zones, read the way the suite's
 * own driver (pyspf's testspf.py) reads it:
 *   - a document is a suite document (its "zonedata" key) or a bare
 *     mapping of names to lists of records;
 *   - a record is "TYPE: value" (A, AAAA, MX [preference, host], PTR,
 *     CNAME, TXT or SPF as a string or a list of strings), with a TTL of
 *     an hour;
 *   - every listed name exists (NODATA, never NXDOMAIN), records or not;
 *   - TIMEOUT in a list: the types listed before it answer, every other
 *     type (and CNAME chasing, and SPF standing in for TXT) gets TEMPFAIL,
 *     and entries after it are ignored; alone, every query times out;
 *   - "TYPE: NONE" adds no record; "TXT: NONE" also keeps the name's SPF
 *     records from being served as TXT.
 * All or nothing: a load goes into a scratch zone made with cfg and is
 * merged only once it all parsed (spfkit_zone_merge); on failure the zone
 * is unchanged and err (if errlen > 0) holds one line naming the file (or
 * the node) and the line. Returns SPFKIT_OK, SPFKIT_EPARSE, SPFKIT_ENOENT
 * or SPFKIT_EIO (the file), or SPFKIT_ENOMEM. cfg is the config the zone
 * was made from (NULL: the default allocator), for the scratch zone.
 */
#ifndef SPFKIT_ZONE_YAML_H
#define SPFKIT_ZONE_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "spfkit.h"

/* The TTL given to YAML records, which carry none. */
#define ZONE_YAML_TTL 3600u

/* Loads a zone file of either kind: openspf YAML zonedata when its name
 * says so (zone_yaml_path), else an RFC 1035 master file through
 * spfkit_zone_load_file(). The one way the programs load a zone file. */
int zone_file_load(spfkit_zone *zone, const spfkit_config *cfg,
		   const char *path, char *err, size_t errlen);

/* Does path name YAML zonedata (it ends in .yml or .yaml)? */
bool zone_yaml_path(const char *path);

/* Loads every document of the YAML file at path into zone. cfg is the
 * config zone was made from (its allocator serves the scratch zone). */
int zone_yaml_load_file(spfkit_zone *zone, const spfkit_config *cfg,
			const char *path, char *err, size_t errlen);

/* Loads one zonedata mapping node of doc (the RFC 7208 suite runner
 * feeds one document at a time); err's line numbers are doc's. */
int zone_yaml_load_node(spfkit_zone *zone, const spfkit_config *cfg,
			yaml_document_t *doc, yaml_node_t *zonedata, char *err,
			size_t errlen);

#endif /* SPFKIT_ZONE_YAML_H */
