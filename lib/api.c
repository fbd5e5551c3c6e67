/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * api.c - the config handle, status and result names: the small parts of
 * the public API that are not the evaluator.
 */
#include <string.h>

#include "api.h"

const char *spfkit_version(void)
{
	return SPFKIT_VERSION;
}

unsigned spfkit_version_number(void)
{
	return SPFKIT_VERSION_NUMBER;
}

const char *spfkit_strerror(int status)
{
	switch (status) {
	case SPFKIT_OK: return "success";
	case SPFKIT_DONE: return "check finished";
	case SPFKIT_WANT_DNS: return "check waits for DNS answers";
	case SPFKIT_ENOMEM: return "out of memory";
	case SPFKIT_EINVAL: return "invalid argument";
	case SPFKIT_ESTATE: return "call does not fit the current state";
	case SPFKIT_ENOENT: return "no such item";
	case SPFKIT_EPARSE: return "parse error";
	case SPFKIT_EIO: return "input/output error";
	case SPFKIT_ETOOBIG: return "too big";
	default: return "unknown status";
	}
}

const char *spfkit_result_name(spfkit_result r)
{
	switch (r) {
	case SPFKIT_RESULT_NONE: return "none";
	case SPFKIT_RESULT_NEUTRAL: return "neutral";
	case SPFKIT_RESULT_PASS: return "pass";
	case SPFKIT_RESULT_FAIL: return "fail";
	case SPFKIT_RESULT_SOFTFAIL: return "softfail";
	case SPFKIT_RESULT_TEMPERROR: return "temperror";
	case SPFKIT_RESULT_PERMERROR: return "permerror";
	}
	return "unknown";
}

const char *spfkit_reason_name(spfkit_reason r)
{
	switch (r) {
	case SPFKIT_REASON_NONE: return "none";
	case SPFKIT_REASON_MECHANISM: return "mechanism";
	case SPFKIT_REASON_DEFAULT: return "default";
	case SPFKIT_REASON_MALFORMED_DOMAIN: return "malformed-domain";
	case SPFKIT_REASON_NO_RECORD: return "no-record";
	case SPFKIT_REASON_MULTIPLE_RECORDS: return "multiple-records";
	case SPFKIT_REASON_SYNTAX: return "syntax";
	case SPFKIT_REASON_LOOKUP_LIMIT: return "lookup-limit";
	case SPFKIT_REASON_VOID_LIMIT: return "void-limit";
	case SPFKIT_REASON_MX_LIMIT: return "mx-limit";
	case SPFKIT_REASON_INCLUDE_NONE: return "include-none";
	case SPFKIT_REASON_REDIRECT_NONE: return "redirect-none";
	case SPFKIT_REASON_BAD_TARGET: return "bad-target";
	case SPFKIT_REASON_DNS_ERROR: return "dns-error";
	case SPFKIT_REASON_DEADLINE: return "deadline";
	case SPFKIT_REASON_INTERNAL: return "internal";
	case SPFKIT_REASON_LOOP: return "loop";
	}
	return "unknown";
}

const spfkit__alloc *spfkit__config_alloc(const spfkit_config *cfg)
{
	return cfg ? &cfg->alloc : spfkit__default_alloc();
}

void *spfkit__handle_new(const spfkit_config *cfg, size_t size,
			 const spfkit__alloc **a)
{
	*a = spfkit__config_alloc(cfg);
	return spfkit__calloc(*a, 1, size);
}

void spfkit_free(const spfkit_config *cfg, void *ptr)
{
	spfkit__free(spfkit__config_alloc(cfg), ptr);
}

int spfkit_config_new(spfkit_config **out, const spfkit_allocator *alloc)
{
	if (!out)
		return SPFKIT_EINVAL;
	*out = NULL;
	if (alloc && (!alloc->alloc || !alloc->realloc || !alloc->free))
		return SPFKIT_EINVAL;
	const spfkit__alloc *a = alloc ? alloc : spfkit__default_alloc();
	spfkit_config *cfg = spfkit__calloc(a, 1, sizeof *cfg);
	if (!cfg)
		return SPFKIT_ENOMEM;
	cfg->alloc = *a;
	cfg->default_exp = spfkit__strndup(a, SPFKIT_DEFAULT_EXPLANATION,
					   strlen(SPFKIT_DEFAULT_EXPLANATION));
	cfg->receiver = spfkit__strndup(a, "unknown", 7);
	if (!cfg->default_exp || !cfg->receiver) {
		spfkit_config_free(cfg);
		return SPFKIT_ENOMEM;
	}
	/* RFC 7208 §4.6.4 */
	cfg->limits[SPFKIT_LIMIT_DNS_TERMS] = 10;
	cfg->limits[SPFKIT_LIMIT_VOID_LOOKUPS] = 2;
	cfg->limits[SPFKIT_LIMIT_MX_NAMES] = 10;
	cfg->limits[SPFKIT_LIMIT_PTR_NAMES] = 10;
	cfg->limits[SPFKIT_LIMIT_DEADLINE_MS] = 20000;
	cfg->prefetch = true;
	*out = cfg;
	return SPFKIT_OK;
}

void spfkit_config_free(spfkit_config *cfg)
{
	if (!cfg)
		return;
	spfkit__alloc a = cfg->alloc;
	spfkit__free(&a, cfg->default_exp);
	spfkit__free(&a, cfg->receiver);
	spfkit__free(&a, cfg);
}

/* Replaces *slot with a copy of s. */
static int replace_string(spfkit_config *cfg, char **slot, const char *s)
{
	char *copy = spfkit__strndup(&cfg->alloc, s, strlen(s));
	if (!copy)
		return SPFKIT_ENOMEM;
	spfkit__free(&cfg->alloc, *slot);
	*slot = copy;
	return SPFKIT_OK;
}

int spfkit_config_set_default_explanation(spfkit_config *cfg,
					  const char *macro_string)
{
	if (!cfg || !macro_string)
		return SPFKIT_EINVAL;
	size_t errpos;
	size_t n = strlen(macro_string);
	if (n > SPFKIT__EXPLAIN_MAX ||
	    spfkit__macro_check(macro_string, n, SPFKIT__MACRO_EXPLAIN,
				&errpos))
		return SPFKIT_EPARSE;
	return replace_string(cfg, &cfg->default_exp, macro_string);
}

int spfkit_config_set_receiver(spfkit_config *cfg, const char *name)
{
	if (!cfg || !name || strlen(name) > 253)
		return SPFKIT_EINVAL;
	return replace_string(cfg, &cfg->receiver, name);
}

int spfkit_config_set_limit(spfkit_config *cfg, spfkit_limit which,
			    uint32_t value)
{
	if (!cfg || (unsigned)which >= SPFKIT__NLIMITS || value == 0)
		return SPFKIT_EINVAL;
	cfg->limits[which] = value;
	return SPFKIT_OK;
}

int spfkit_config_set_prefetch(spfkit_config *cfg, int on)
{
	if (!cfg)
		return SPFKIT_EINVAL;
	cfg->prefetch = on != 0;
	return SPFKIT_OK;
}

const char *spfkit_dnssec_name(spfkit_dnssec s)
{
	switch (s) {
	case SPFKIT_DNSSEC_UNKNOWN: return "unknown";
	case SPFKIT_DNSSEC_INSECURE: return "insecure";
	case SPFKIT_DNSSEC_SECURE: return "secure";
	case SPFKIT_DNSSEC_BOGUS: return "bogus";
	}
	return "unknown";
}
