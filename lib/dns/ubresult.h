/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ubresult.h - libunbound's struct ub_result made from the reply packet
 * that ub_resolve_event() hands over, so that the libunbound driver reads
 * answers the same way whichever libunbound API produced them. Names are
 * spfkit__ub_*.
 */
#ifndef SPFKIT_DNS_UBRESULT_H
#define SPFKIT_DNS_UBRESULT_H

#include <stdint.h>

struct ub_result;

/* A ub_result (free it with ub_resolve_free()) for a reply of len octets
 * to a query of qtype: rcode, nxdomain, the answer's records of qtype at
 * the end of its CNAME chain (data/len/havedata), their TTL (ttl; for an
 * answer without them, the negative TTL of RFC 2308 §5), a copy of the
 * packet (answer_packet), and secure/bogus from sec (ub_resolve_event()'s
 * 2 secure, 1 bogus). rcode is the callback's: 0 takes the packet's RCODE;
 * packet NULL: rcode alone. NULL when out of memory. */
struct ub_result *spfkit__ub_result(const void *packet, int len, int rcode,
				    uint16_t qtype, int sec);

#endif
