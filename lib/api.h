/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.h - the config handle's layout, shared by api.c and eval.c.
 */
#ifndef SPFKIT_API_H
#define SPFKIT_API_H

#include "internal.h"

#define SPFKIT__NLIMITS 5
/* Explanations longer than this fall back to the default (§6.2 leaves the
 * size to the receiver; a header field must stay readable). */
#define SPFKIT__EXPLAIN_MAX 2048

struct spfkit_config {
	spfkit__alloc alloc;
	char *default_exp;
	char *receiver;
	uint32_t limits[SPFKIT__NLIMITS];
	bool prefetch;
};

#endif
