/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suite.h - what both RFC 7208 suite runners (the zone one and the DNS
 * one) need to read the openspf YAML and to print its values: node
 * lookups, scalars, the accepted results of a case.
 */
#ifndef SPFKIT_SUITE_H
#define SPFKIT_SUITE_H

#include <stdbool.h>
#include <stdio.h>

#include <yaml.h>

/* Cases passed and failed, and how many matched a name filter. */
typedef struct counts {
	unsigned passed, failed, matched;
} counts;

/* The value of key in a mapping node, or NULL. */
yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);
/* The text of a scalar node, or NULL; its length (0 for a non-scalar). */
const char *scalar(const yaml_node_t *n);
size_t scalar_len(const yaml_node_t *n);
/* Prints (s, n) on one line: control and 8-bit octets as \xNN. */
void put_text(FILE *out, const char *s, size_t n);
/* put_text() of a C string, "(null)" for NULL. */
void put_str(FILE *out, const char *s);
/* Does got match the case's result, a scalar or a list of scalars? */
bool result_ok(yaml_document_t *doc, yaml_node_t *want, const char *got);
/* Prints the accepted results, "a|b" for a list. */
void put_results(FILE *out, yaml_document_t *doc, yaml_node_t *want);

/* The document's description on one line (controls as spaces), or
 * "(no description)", into buf. */
void suite_description(yaml_document_t *doc, yaml_node_t *root, char *buf,
		       size_t size);

#endif
