/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suite.c - reading the openspf YAML suite, shared by the zone runner
 * (runner.c) and the DNS runner (runner_dns.c).
 */
#include <string.h>

#include "suite.h"

yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* The text of a scalar node, or NULL. */
const char *scalar(const yaml_node_t *n)
{
	return (n && n->type == YAML_SCALAR_NODE)
		   ? (const char *)n->data.scalar.value
		   : NULL;
}

size_t scalar_len(const yaml_node_t *n)
{
	return (n && n->type == YAML_SCALAR_NODE) ? n->data.scalar.length : 0;
}

/* Prints (s, n) on one line: control and 8-bit octets as \xNN. */
void put_text(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' && i + 1 == n)
			break; /* folded scalars end in a newline */
		if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", (unsigned)c);
		else
			fputc(c, out);
	}
}

void put_str(FILE *out, const char *s)
{
	if (s)
		put_text(out, s, strlen(s));
	else
		fputs("(null)", out);
}

/* The results a case accepts: a scalar or a list of scalars. */
bool result_ok(yaml_document_t *doc, yaml_node_t *want, const char *got)
{
	if (want && want->type == YAML_SCALAR_NODE)
		return strcmp(scalar(want), got) == 0;
	if (want && want->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = want->data.sequence.items.start;
		     it < want->data.sequence.items.top; it++) {
			const char *s =
			    scalar(yaml_document_get_node(doc, *it));
			if (s && strcmp(s, got) == 0)
				return true;
		}
	return false;
}

void put_results(FILE *out, yaml_document_t *doc, yaml_node_t *want)
{
	if (want && want->type == YAML_SEQUENCE_NODE) {
		const char *sep = "";
		for (yaml_node_item_t *it = want->data.sequence.items.start;
		     it < want->data.sequence.items.top; it++) {
			fputs(sep, out);
			put_str(out, scalar(yaml_document_get_node(doc, *it)));
			sep = "|";
		}
	} else {
		put_str(out, scalar(want));
	}
}

void suite_description(yaml_document_t *doc, yaml_node_t *root, char *buf,
		       size_t size)
{
	const char *d = scalar(map_get(doc, root, "description"));
	snprintf(buf, size, "%s", d ? d : "(no description)");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}
