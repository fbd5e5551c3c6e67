/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ubresult.c - a struct ub_result from a reply packet (ubresult.h). What
 * libunbound's own threaded API fills in (libworker_enter_result()), made
 * here with ldns: the records of the asked type at the end of the answer's
 * CNAME chain (RFC 1034 §3.6.2), and their TTL. Allocated with malloc(),
 * as ub_resolve_free() frees it.
 */
#include <stdlib.h>
#include <string.h>
#include <ldns/ldns.h>
#include <unbound.h>

#include "dns/ubresult.h"
#include "dns/zone.h"

/* The rdata of rr in wire format (as ub_result's data holds it), a
 * malloc()ed copy of *n octets; NULL when out of memory. */
static char *rdata_wire(const ldns_rr *rr, int *n)
{
	size_t total = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		total += ldns_rdf_size(ldns_rr_rdf(rr, i));
	char *out = malloc(total ? total : 1);
	if (!out)
		return NULL;
	size_t off = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		memcpy(out + off, ldns_rdf_data(f), ldns_rdf_size(f));
		off += ldns_rdf_size(f);
	}
	*n = (int)total;
	return out;
}

/* The owner the answer's CNAME chain from qname ends at. */
static const ldns_rdf *chain_end(const ldns_rr_list *an, const ldns_rdf *qname,
				 uint16_t qtype)
{
	const ldns_rdf *target = qname;
	if (qtype == LDNS_RR_TYPE_CNAME)
		return target;
	for (int hop = 0; hop < SPFKIT__ZONE_MAX_CNAME; hop++) {
		const ldns_rdf *next = NULL;
		for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), target) ==
				0) {
				next = ldns_rr_rdf(rr, 0);
				break;
			}
		}
		if (!next)
			break;
		target = next;
	}
	return target;
}

/* RFC 2308 §5: a negative answer lives as long as the SOA record and its
 * MINIMUM field both allow; else the shortest TTL in the sections. */
static uint32_t negative_ttl(const ldns_rr_list *an, const ldns_rr_list *ns)
{
	uint32_t ttl = UINT32_MAX;
	for (size_t i = 0; ns && i < ldns_rr_list_rr_count(ns); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ns, i);
		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_rd_count(rr) == 7) {
			uint32_t min =
			    ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
			if (min < ttl)
				ttl = min;
		}
	}
	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++)
		if (ldns_rr_ttl(ldns_rr_list_rr(an, i)) < ttl)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(an, i));
	return ttl == UINT32_MAX ? 0 : ttl;
}

/* The next count records of a section from wire at *pos, in a new list
 * (NULL: malformed or out of memory). */
static ldns_rr_list *section(const uint8_t *wire, size_t len, size_t *pos,
			     uint16_t count, ldns_pkt_section sec)
{
	ldns_rr_list *l = ldns_rr_list_new();
	for (uint16_t i = 0; l && i < count; i++) {
		ldns_rr *rr = NULL;
		if (ldns_wire2rr(&rr, wire, len, pos, sec) != LDNS_STATUS_OK ||
		    !ldns_rr_list_push_rr(l, rr)) {
			ldns_rr_free(rr);
			ldns_rr_list_deep_free(l);
			return NULL;
		}
	}
	return l;
}

/* Fills res's records of qtype from the reply's sections, read as far as
 * they are needed: the question and the answer, and the authority
 * section for a negative answer's TTL; the additional section (glue and
 * the like, most of a reply's records) never. False when the reply is
 * malformed where it is read (res then holds no data) or memory ran out
 * (*oom). */
static bool fill(struct ub_result *res, const uint8_t *wire, size_t len,
		 uint16_t qtype, bool *oom)
{
	*oom = false;
	if (len < LDNS_HEADER_SIZE)
		return false;
	size_t pos = LDNS_HEADER_SIZE;
	ldns_rr_list *qd =
	    section(wire, len, &pos, LDNS_QDCOUNT(wire), LDNS_SECTION_QUESTION);
	ldns_rr_list *an = qd ? section(wire, len, &pos, LDNS_ANCOUNT(wire),
					LDNS_SECTION_ANSWER)
			      : NULL;
	ldns_rr_list *ns = NULL;
	bool ok = false;
	if (!an)
		goto out;
	size_t nan = ldns_rr_list_rr_count(an);
	res->data = calloc(nan + 1, sizeof *res->data);
	res->len = calloc(nan + 1, sizeof *res->len);
	if (!res->data || !res->len) {
		*oom = true;
		goto out;
	}
	ok = true;
	if (ldns_rr_list_rr_count(qd) != 1)
		goto out;
	const ldns_rdf *owner =
	    chain_end(an, ldns_rr_owner(ldns_rr_list_rr(qd, 0)), qtype);
	size_t n = 0;
	uint32_t ttl = UINT32_MAX;
	for (size_t i = 0; i < nan; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != qtype ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		res->data[n] = rdata_wire(rr, &res->len[n]);
		if (!res->data[n]) {
			*oom = true;
			ok = false;
			goto out;
		}
		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		n++;
	}
	res->havedata = n > 0;
	if (!n) {
		ns = section(wire, len, &pos, LDNS_NSCOUNT(wire),
			     LDNS_SECTION_AUTHORITY);
		if (!ns) {
			ok = false;
			goto out;
		}
		ttl = negative_ttl(an, ns);
	}
	res->ttl = ttl > INT32_MAX ? INT32_MAX : (int)ttl;
out:
	ldns_rr_list_deep_free(qd);
	ldns_rr_list_deep_free(an);
	ldns_rr_list_deep_free(ns);
	return ok;
}

struct ub_result *spfkit__ub_result(const void *packet, int len, int rcode,
				    uint16_t qtype, int sec)
{
	struct ub_result *res = calloc(1, sizeof *res);
	if (!res)
		return NULL;
	res->qtype = qtype;
	res->qclass = LDNS_RR_CLASS_IN;
	res->rcode = rcode;
	res->nxdomain = rcode == LDNS_RCODE_NXDOMAIN;
	res->secure = sec == 2;
	res->bogus = sec == 1;
	if (!packet || len <= 0)
		return res;
	bool oom;
	if (!fill(res, packet, (size_t)len, qtype, &oom)) {
		/* Unreadable where it matters: no data and no packet, as
		 * when no answer came. */
		free(res->data);
		free(res->len);
		res->data = NULL;
		res->len = NULL;
		res->havedata = 0;
		res->ttl = 0;
		if (oom) {
			ub_resolve_free(res);
			return NULL;
		}
		return res;
	}
	res->answer_packet = malloc((size_t)len);
	if (!res->answer_packet) {
		ub_resolve_free(res);
		return NULL;
	}
	memcpy(res->answer_packet, packet, (size_t)len);
	res->answer_len = len;
	/* The callback's rcode is libunbound's own outcome (0 for any
	 * answer it got); the answer's RCODE is in the packet. */
	if (rcode == LDNS_RCODE_NOERROR) {
		res->rcode = LDNS_RCODE_WIRE((const uint8_t *)packet);
		res->nxdomain = res->rcode == LDNS_RCODE_NXDOMAIN;
	}
	return res;
}
