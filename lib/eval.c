/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * eval.c - check_host() (RFC 7208 §4-§6) as a state machine that asks for
 * DNS and is fed answers. It never does I/O: spfkit_check_run() advances
 * the evaluation until it needs an answer it does not have, and the caller
 * answers the pending queries with spfkit_check_answer().
 *
 * Every step is written so that it can be entered again from the top once
 * an answer arrived: the answers live in the check's query table, and the
 * per-term flags (counted, voided) make sure a counter moves once.
 * Includes and redirects push frames; all frames share one budget.
 */
#include <stddef.h>
#include <string.h>

#include "check.h"

typedef spfkit__item item;
typedef spfkit__query query;
typedef spfkit__frame frame;
typedef spfkit__step step;

/* ---------------------------------------------------------------- helpers */

/* Replaces *slot with a copy of (s, n) in the arena (the check's strings
 * all live there, as long as the check). */
static void set_text(spfkit_check *chk, char **slot, const char *s, size_t n)
{
	char *p = spfkit__arena_strndup(chk, s, n);
	if (!p) {
		chk->oom = true;
		return;
	}
	*slot = p;
}

/* Copies the buffer's text into *slot and frees the buffer (or marks the
 * check out of memory). */
static void set_buf(spfkit_check *chk, char **slot, spfkit__buf *b)
{
	if (b->err)
		chk->oom = true;
	else
		set_text(chk, slot, b->data ? b->data : "", b->len);
	spfkit__buf_free(b);
}

/* "shop.example > include _spf.provider.example": how the frame of the
 * decision was reached from the checked domain (the saved route); with
 * terms, the include and redirect steps alone, as terms
 * ("include:_spf.provider.example > redirect=_spf2.provider.example"). */
static void format_where(const spfkit_check *chk, spfkit__buf *b, bool terms)
{
	for (size_t i = terms ? 1 : 0; i < chk->route_n; i++) {
		const struct route_step *f = &chk->route[i];
		bool inc = f->kind == FK_INCLUDE;
		if (terms)
			spfkit__buf_adds(
			    b, i > 1 ? (inc ? " > include:" : " > redirect=")
				     : (inc ? "include:" : "redirect="));
		else if (i > 0)
			spfkit__buf_adds(b,
					 inc ? " > include " : " > redirect ");
		/* A hostile identity can be 64 KiB and hold any octet; a name
		 * is 253 at most, shown in visible ASCII. */
		size_t n = f->len < 253 ? f->len : 253;
		size_t start = b->len;
		spfkit__buf_add(b, f->domain, n);
		if (spfkit__printable(f->domain, n))
			continue;
		for (size_t o = start; !b->err && o < b->len; o++) {
			unsigned char c = (unsigned char)b->data[o];
			if (c < 0x20 || c >= 0x7f)
				b->data[o] = '?';
		}
	}
}

/* Saves the route to frame k (frames 0..k) for spfkit_check_where(); it
 * is formatted once, when the check is done (a check matches many times
 * on its way through includes). */
static void set_where(spfkit_check *chk, size_t k)
{
	/* Past the last frame (the checked domain's record has ended) the
	 * route is that first frame alone. */
	size_t n = k + 1;
	if (n > chk->nframes)
		n = chk->nframes ? chk->nframes : (chk->framed ? 1 : 0);
	if (n > chk->route_cap) {
		size_t cap = n < 8 ? 8 : n * 2;
		struct route_step *r =
		    spfkit__realloc(chk->a, chk->route, cap * sizeof *r);
		if (!r) {
			chk->oom = true;
			return;
		}
		chk->route = r;
		chk->route_cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		chk->route[i].kind = chk->frames[i].kind;
		chk->route[i].domain = chk->frames[i].domain;
		chk->route[i].len = chk->frames[i].domain_len;
	}
	chk->route_n = n;
	chk->route_set = true;
}

/* Formats the saved route into chk->where. */
static void finish_where(spfkit_check *chk)
{
	if (!chk->route_set)
		return;
	spfkit__buf b;
	char b_local[256];
	spfkit__buf_init_local(&b, chk->a, 4096, b_local, sizeof b_local);
	format_where(chk, &b, false);
	set_buf(chk, &chk->where, &b);
	/* The innermost match's route as terms (spfkit_check_matched_via). */
	if (chk->matched && chk->reason == SPFKIT_REASON_MECHANISM &&
	    chk->route_n > 1) {
		spfkit__buf_init_local(&b, chk->a, 4096, b_local,
				       sizeof b_local);
		format_where(chk, &b, true);
		set_buf(chk, &chk->via, &b);
	}
}

/* ---------------------------------------------------------------- events */

static const char *const mech_names[] = {[SPFKIT__ALL] = "all",
					 [SPFKIT__INCLUDE] = "include",
					 [SPFKIT__A] = "a",
					 [SPFKIT__MX] = "mx",
					 [SPFKIT__PTR] = "ptr",
					 [SPFKIT__IP4] = "ip4",
					 [SPFKIT__IP6] = "ip6",
					 [SPFKIT__EXISTS] = "exists",
					 [SPFKIT__REDIRECT] = "redirect",
					 [SPFKIT__EXP] = "exp",
					 [SPFKIT__UNKNOWN_MOD] = "modifier"};

/* A PROBLEM event with the problem text. */
static void emit_problem(spfkit_check *chk, spfkit_result r, spfkit_reason why,
			 const char *text)
{
	spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_PROBLEM);
	ev.result = r;
	ev.reason = why;
	ev.text = text;
	ev.text_len = strlen(text);
	spfkit__emit(chk, &ev);
}

/* The problem text: what, then visible ASCII of a hostile detail. */
static void problem_text(spfkit__buf *b, const char *what, const char *detail,
			 size_t detail_len)
{
	spfkit__buf_adds(b, what);
	if (detail) {
		for (size_t i = 0; i < detail_len && i < 253; i++) {
			unsigned char c = (unsigned char)detail[i];
			spfkit__buf_addc(b, (c >= 0x20 && c < 0x7f) ? (char)c
								    : '?');
		}
	}
}

/* Ends the check with an error (or none) result and a problem text. */
static step end_check(spfkit_check *chk, spfkit_result r, spfkit_reason why,
		      const char *what, const char *detail, size_t detail_len)
{
	chk->result = r;
	chk->reason = why;
	chk->ended = true;
	spfkit__buf b;
	char b_local[256];
	spfkit__buf_init_local(&b, chk->a, 4096, b_local, sizeof b_local);
	problem_text(&b, what, detail, detail_len);
	set_buf(chk, &chk->problem, &b);
	if (chk->nframes)
		set_where(chk, chk->nframes - 1);
	if (chk->problem)
		emit_problem(chk, r, why, chk->problem);
	/* RFC 7208 §4.6.4 and §2.6: nothing more is asked once a result is
	 * known; unanswered queries are dropped. */
	for (size_t i = 0; i < chk->nqueries; i++)
		chk->queries[i]->answered = true;
	return S_ENDED;
}

static step end_oom(spfkit_check *chk)
{
	chk->oom = true;
	return end_check(chk, SPFKIT_RESULT_TEMPERROR, SPFKIT_REASON_INTERNAL,
			 "out of memory during the check", NULL, 0);
}

/* How far an error reaches when walking (spfkit_check_set_walk). */
typedef enum fail_scope {
	FAIL_TERM,  /* the term gives no match */
	FAIL_FRAME, /* the include or redirect frame ends with the error */
	FAIL_LIMIT  /* reported once; the walk goes on */
} fail_scope;

static void finish_frame(spfkit_check *chk, spfkit_result r, spfkit_reason why);

/* An error result (§4.6.4, §5, §6): ends the check; when walking, it is
 * reported and ends only what scope says (the checked domain's own record
 * failing still ends the walk). */
static step fail(spfkit_check *chk, fail_scope scope, spfkit_result r,
		 spfkit_reason why, const char *what, const char *detail,
		 size_t detail_len)
{
	if (!chk->walk || (scope == FAIL_FRAME && chk->nframes <= 1))
		return end_check(chk, r, why, what, detail, detail_len);
	if (scope == FAIL_LIMIT) {
		bool *once = why == SPFKIT_REASON_VOID_LIMIT
				 ? &chk->walk_over_voids
				 : &chk->walk_over_terms;
		if (*once)
			return S_NOMATCH;
		*once = true;
	}
	spfkit__buf b;
	char b_local[256];
	spfkit__buf_init_local(&b, chk->a, 4096, b_local, sizeof b_local);
	problem_text(&b, what, detail, detail_len);
	if (b.err) {
		spfkit__buf_free(&b);
		return end_oom(chk);
	}
	emit_problem(chk, r, why, b.data ? b.data : "");
	spfkit__buf_free(&b);
	if (scope == FAIL_FRAME)
		finish_frame(chk, r, why);
	return S_NOMATCH;
}

static bool is_void(const query *q)
{
	return q->status == SPFKIT_DNS_NXDOMAIN ||
	       (q->status == SPFKIT_DNS_NOERROR && q->nitems == 0);
}

/* Does an A/AAAA answer item hold an address within the prefix? */
static bool addr_matches(const spfkit_check *chk, const item *it, int cidr4,
			 int cidr6)
{
	size_t want = chk->ip.family == 4 ? 4 : 16;
	if (it->len != want)
		return false;
	unsigned prefix = chk->ip.family == 4
			      ? (cidr4 < 0 ? 32u : (unsigned)cidr4)
			      : (cidr6 < 0 ? 128u : (unsigned)cidr6);
	return spfkit__prefix_match((const unsigned char *)it->data, chk->ip.a,
				    want, prefix);
}

/* Is name (n) equal to domain (dn) or a subdomain of it? */
static bool within(const char *name, size_t n, const char *domain, size_t dn)
{
	if (n && name[n - 1] == '.')
		n--;
	if (dn && domain[dn - 1] == '.')
		dn--;
	if (n == dn)
		return spfkit__ieq(name, n, domain, dn);
	return n > dn && name[n - dn - 1] == '.' &&
	       spfkit__ieq(name + n - dn, dn, domain, dn);
}

/* ---------------------------------------------------------------- §5.5 */

/* Asks for the client-family addresses of the host an answer item names
 * (*fwd: the answered query, or NULL while pending or when the item is no
 * usable name); false when out of memory. */
static bool ask_address(spfkit_check *chk, const item *it, const query **fwd,
			bool *need)
{
	*fwd = NULL;
	if (!spfkit__domain_ok(it->data, it->len))
		return true;
	*fwd = spfkit__ask(chk, it->data, it->len, spfkit__addr_type(chk), need,
			   true);
	return !chk->oom;
}

/* RFC 7208 §5.5 validated names of <ip>: the first names of the PTR
 * answer (at most the PTR limit) whose forward lookup holds <ip>. When
 * filter is given, only names equal to or under it are looked up (the
 * ptr mechanism needs no other). Appends up to max names to out. A DNS
 * error on the PTR query gives no names; on a forward query skips the
 * name. */
static step validated_names(spfkit_check *chk, const char *filter,
			    size_t filter_len, const char **out, size_t *lens,
			    size_t max, size_t *nout, const query **ptrq)
{
	bool need = false;
	spfkit__buf rn;
	char rn_local[128];
	spfkit__buf_init_local(&rn, chk->a, 128, rn_local, sizeof rn_local);
	spfkit__ip_reverse_name(&chk->ip, &rn);
	if (rn.err) {
		spfkit__buf_free(&rn);
		return end_oom(chk);
	}
	const query *q =
	    spfkit__ask(chk, rn.data, rn.len, SPFKIT_TYPE_PTR, &need, true);
	spfkit__buf_free(&rn);
	if (chk->oom)
		return end_oom(chk);
	*nout = 0;
	*ptrq = q;
	if (!q)
		return need ? S_NEED : S_NOMATCH;
	if (q->status != SPFKIT_DNS_NOERROR)
		return S_NOMATCH;
	size_t limit = chk->cfg->limits[SPFKIT_LIMIT_PTR_NAMES];
	size_t names = q->nitems < limit ? q->nitems : limit;
	const query *fwd[SPFKIT__MAX_ITEMS];
	for (size_t i = 0; i < names; i++) {
		const item *it = &q->items[i];
		fwd[i] = NULL;
		/* An empty filter (an unusable ptr target) holds no name. */
		if (filter && (!filter_len ||
			       !within(it->data, it->len, filter, filter_len)))
			continue;
		if (!ask_address(chk, it, &fwd[i], &need))
			return end_oom(chk);
	}
	if (need)
		return S_NEED;
	for (size_t i = 0; i < names && *nout < max; i++) {
		if (!fwd[i] || fwd[i]->status != SPFKIT_DNS_NOERROR)
			continue;
		for (size_t k = 0; k < fwd[i]->nitems; k++)
			if (addr_matches(chk, &fwd[i]->items[k], -1, -1)) {
				out[*nout] = q->items[i].data;
				lens[*nout] = q->items[i].len;
				(*nout)++;
				break;
			}
	}
	return S_NOMATCH;
}

/* Makes sure the %{p} candidates are known. */
static step need_p(spfkit_check *chk)
{
	if (chk->p_known)
		return S_NOMATCH;
	const query *ptrq;
	step s = validated_names(chk, NULL, 0, chk->p_names, chk->p_lens,
				 sizeof chk->p_names / sizeof chk->p_names[0],
				 &chk->np, &ptrq);
	if (s == S_NOMATCH)
		chk->p_known = true;
	return s;
}

/* The %{p} value for <domain> (§7.3): the domain itself if validated, else
 * a validated subdomain of it, else any validated name, else "unknown". */
static void choose_p(const spfkit_check *chk, const char *d, size_t dn,
		     const char **p, size_t *pn)
{
	*p = "unknown";
	*pn = 7;
	for (size_t i = 0; i < chk->np; i++)
		if (within(chk->p_names[i], chk->p_lens[i], d, dn) &&
		    chk->p_lens[i] -
			    (chk->p_lens[i] &&
			     chk->p_names[i][chk->p_lens[i] - 1] == '.') ==
			dn - (dn && d[dn - 1] == '.')) {
			*p = chk->p_names[i];
			*pn = chk->p_lens[i];
			return;
		}
	for (size_t i = 0; i < chk->np; i++)
		if (within(chk->p_names[i], chk->p_lens[i], d, dn)) {
			*p = chk->p_names[i];
			*pn = chk->p_lens[i];
			return;
		}
	if (chk->np) {
		*p = chk->p_names[0];
		*pn = chk->p_lens[0];
	}
}

/* ---------------------------------------------------------------- macros */

/* Expands (s, n) for <domain> d into out; S_NEED while %{p} is unknown.
 * Returns S_MATCH on success, S_NOMATCH on a macro error. */
spfkit__step spfkit__expand(spfkit_check *chk, const char *d, size_t dn,
			    const char *s, size_t n, spfkit__macro_ctx ctx,
			    spfkit__buf *out)
{
	spfkit__macro_env env;
	memset(&env, 0, sizeof env);
	if (spfkit__macro_uses_p(s, n)) {
		step st = need_p(chk);
		if (st != S_NOMATCH)
			return st;
		choose_p(chk, d, dn, &env.ptr, &env.ptr_len);
	}
	env.sender = chk->sender;
	env.sender_len = chk->sender_len;
	env.local = chk->local;
	env.local_len = chk->local_len;
	env.sdomain = chk->sdomain;
	env.sdomain_len = chk->sdomain_len;
	env.domain = d;
	env.domain_len = dn;
	if (chk->helo_len) {
		env.helo = chk->helo;
		env.helo_len = chk->helo_len;
	} else {
		env.helo = "unknown";
		env.helo_len = 7;
	}
	env.receiver = chk->cfg->receiver;
	env.receiver_len = strlen(chk->cfg->receiver);
	env.ip = &chk->ip;
	env.now = chk->timestamp;
	int rc = spfkit__macro_expand(&env, s, n, ctx, out);
	if (rc == SPFKIT_ENOMEM)
		return end_oom(chk);
	return rc == SPFKIT_OK ? S_MATCH : S_NOMATCH;
}

/* The target name of a term: its expanded domain-spec, or <domain>. */
static step term_target(spfkit_check *chk, const frame *f,
			const spfkit__term *t, spfkit__buf *out)
{
	if (t->spec_len == 0 || t->literal_ok) {
		if (t->spec_len == 0)
			spfkit__buf_add(out, f->domain, f->domain_len);
		else
			spfkit__buf_add(out, f->rec->text + t->spec_pos,
					t->target_len);
		return out->err ? end_oom(chk) : S_MATCH;
	}
	step s = spfkit__expand(chk, f->domain, f->domain_len,
				f->rec->text + t->spec_pos, t->spec_len,
				SPFKIT__MACRO_DOMAIN, out);
	if (s != S_MATCH && s != S_NOMATCH)
		return s;
	if (s == S_MATCH && spfkit__domain_ok(out->data, out->len)) {
		if (out->data[out->len - 1] == '.')
			out->data[--out->len] = '\0';
		return S_MATCH;
	}
	/* The expansion is no domain name (an empty label, one over 63
	 * octets, a control octet: a local part such as "a..b" in %{l}).
	 * RFC 7208 §7.1 leaves this undefined. A permerror would let the
	 * sender choose it over the fail the domain published, and many
	 * receivers accept permerror; so, as pyspf, libspf2 and Go's spf
	 * do, the lookup is one that finds nothing: a, mx and exists do
	 * not match (nothing is asked, so it is no void lookup); ptr makes
	 * its own lookup, the client's PTR query, and no name can be
	 * within the unusable one (an empty target, which validated_names
	 * takes as matching none); an include or redirect finds no record,
	 * which is permerror (§5.2, §6.1) whatever the name. See
	 * doc/conformance.md. */
	bool pushes = t->mech == SPFKIT__INCLUDE || t->mech == SPFKIT__REDIRECT;
	if (!pushes && !chk->walk) {
		if (t->mech != SPFKIT__PTR)
			return S_NOMATCH;
		spfkit__buf_reset(out);
		return S_MATCH;
	}
	return fail(chk, FAIL_TERM, SPFKIT_RESULT_PERMERROR,
		    SPFKIT_REASON_BAD_TARGET,
		    t->mech == SPFKIT__INCLUDE
			? "the include target is no usable domain name, so "
			  "it has no record (RFC 7208 5.2): "
		    : t->mech == SPFKIT__REDIRECT
			? "the redirect target is no usable domain name, so "
			  "it has no record (RFC 7208 6.1): "
			: "a macro expanded to an unusable domain name (a "
			  "check finds nothing there): ",
		    out->data ? out->data : "", out->len);
}

/* A term's target name, in storage of its own for the usual short one. */
typedef struct term_name {
	spfkit__buf b; /* free with spfkit__buf_free(&tg.b) */
	uint32_t hash; /* spfkit__ask_name_hash() of it, once worked out */
	char local[256];
} term_name;

/* Works out the target of term t of frame f into tg (term_target), with
 * its hash: a literal's from the (cached) record, <domain>'s from the
 * frame. */
static step target_open(spfkit_check *chk, const frame *f,
			const spfkit__term *t, term_name *tg)
{
	spfkit__buf_init_local(&tg->b, chk->a, 1024, tg->local,
			       sizeof tg->local);
	step s = term_target(chk, f, t, &tg->b);
	if (s == S_MATCH)
		tg->hash = t->spec_len == 0 ? f->hash
			   : t->literal_ok
			       ? t->target_hash
			       : spfkit__ask_name_hash(tg->b.data, tg->b.len);
	return s;
}

/* ---------------------------------------------------------------- terms */

static step term_error_dns(spfkit_check *chk, const query *q, fail_scope scope)
{
	static const char *const types[] = {[SPFKIT_TYPE_A] = "A",
					    [SPFKIT_TYPE_PTR] = "PTR",
					    [SPFKIT_TYPE_MX] = "MX",
					    [SPFKIT_TYPE_TXT] = "TXT",
					    [SPFKIT_TYPE_AAAA] = "AAAA"};
	spfkit__buf b;
	char b_local[256];
	spfkit__buf_init_local(&b, chk->a, 512, b_local, sizeof b_local);
	/* The kind the driver named (spfkit_dns_failure), else what a
	 * temporary failure can be (RFC 7208 §4.4). */
	spfkit__buf_adds(&b, "DNS failure (");
	spfkit__buf_adds(&b, q->failure == SPFKIT_DNS_FAIL_UNKNOWN
				 ? "SERVFAIL or timeout"
			     : q->failure == SPFKIT_DNS_FAIL_BOGUS
				 ? "DNSSEC validation failed: bogus"
				 : spfkit_dns_failure_name(q->failure));
	spfkit__buf_adds(&b, ") for ");
	spfkit__buf_adds(&b, q->type < sizeof types / sizeof types[0] &&
				     types[q->type]
				 ? types[q->type]
				 : "?");
	spfkit__buf_adds(&b, " ");
	step s = b.err ? end_oom(chk)
		       : fail(chk, scope, SPFKIT_RESULT_TEMPERROR,
			      SPFKIT_REASON_DNS_ERROR, b.data ? b.data : "",
			      q->name, q->name_len);
	spfkit__buf_free(&b);
	return s;
}

/* RFC 7208 §4.6.4: a void lookup (NXDOMAIN or no answer) counts; over the
 * limit is a permerror at that moment. */
static step add_void(spfkit_check *chk, const query *q)
{
	chk->voids++;
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_VOID);
		ev.query_id = q->id;
		ev.name = q->name;
		ev.type = q->type;
		ev.status = q->status;
		spfkit__emit(chk, &ev);
	}
	if (chk->voids > chk->cfg->limits[SPFKIT_LIMIT_VOID_LOOKUPS])
		return fail(chk, FAIL_LIMIT, SPFKIT_RESULT_PERMERROR,
			    SPFKIT_REASON_VOID_LIMIT,
			    "too many void lookups (limit 2, RFC 7208 4.6.4); "
			    "the last was for ",
			    q->name, q->name_len);
	return S_NOMATCH;
}

/* The void lookup of a term's own query counts once, however often the
 * term is entered again while it waits for DNS. */
static step count_void(spfkit_check *chk, frame *f, const query *q)
{
	if (f->voided || !is_void(q))
		return S_NOMATCH;
	f->voided = true;
	return add_void(chk, q);
}

/* The answer to a term's own query (target, type) once it can be used:
 * S_MATCH with *out set; S_NEED while it is pending; otherwise what a DNS
 * failure (temperror, §4.4), the void limit (§4.6.4) or running out of
 * memory made of the term. */
static step term_query(spfkit_check *chk, frame *f, const char *target,
		       size_t tn, uint32_t h, uint16_t type, const query **out)
{
	bool need = false;
	const query *q =
	    spfkit__ask_hashed(chk, target, tn, h, type, &need, true);
	if (chk->oom)
		return end_oom(chk);
	if (!q)
		return S_NEED;
	if (q->status == SPFKIT_DNS_TEMPFAIL)
		return term_error_dns(chk, q, FAIL_TERM);
	if (count_void(chk, f, q) == S_ENDED)
		return S_ENDED;
	*out = q;
	return S_MATCH;
}

static step eval_a(spfkit_check *chk, frame *f, const spfkit__term *t,
		   const char *target, size_t tn, uint32_t h)
{
	const query *q;
	step s = term_query(chk, f, target, tn, h, spfkit__addr_type(chk), &q);
	if (s != S_MATCH)
		return s;
	for (size_t i = 0; i < q->nitems; i++)
		if (addr_matches(chk, &q->items[i], t->cidr4, t->cidr6))
			return S_MATCH;
	return S_NOMATCH;
}

static step eval_mx(spfkit_check *chk, frame *f, const spfkit__term *t,
		    const char *target, size_t tn, uint32_t h)
{
	const query *q;
	step s = term_query(chk, f, target, tn, h, SPFKIT_TYPE_MX, &q);
	if (s != S_MATCH)
		return s;
	bool need = false;
	/* RFC 7208 §4.6.4: more than 10 MX names is a permerror. */
	if (q->total > chk->cfg->limits[SPFKIT_LIMIT_MX_NAMES])
		return fail(chk, FAIL_TERM, SPFKIT_RESULT_PERMERROR,
			    SPFKIT_REASON_MX_LIMIT,
			    "more than 10 MX names (RFC 7208 4.6.4) for ",
			    q->name, q->name_len);
	/* Ask for every exchange's addresses at once; judge them in order. */
	const query *fwd[SPFKIT__MAX_ITEMS];
	for (size_t i = 0; i < q->nitems; i++) {
		/* A null MX (RFC 7505, an empty name) names no host. */
		if (!ask_address(chk, &q->items[i], &fwd[i], &need))
			return end_oom(chk);
	}
	if (need)
		return S_NEED;
	/* As pyspf and Mail::SPF do (the receivers whose counts owners
	 * meet), every exchange's addresses are gathered before any is
	 * compared: a DNS error on any is temperror, and each empty address
	 * lookup is a void lookup (§4.6.4), in MX order. */
	for (size_t i = 0; i < q->nitems; i++) {
		if (!fwd[i])
			continue;
		if (fwd[i]->status == SPFKIT_DNS_TEMPFAIL)
			return term_error_dns(chk, fwd[i], FAIL_TERM);
		if (is_void(fwd[i]) && add_void(chk, fwd[i]) == S_ENDED)
			return S_ENDED;
	}
	for (size_t i = 0; i < q->nitems; i++)
		for (size_t k = 0; fwd[i] && k < fwd[i]->nitems; k++)
			if (addr_matches(chk, &fwd[i]->items[k], t->cidr4,
					 t->cidr6))
				return S_MATCH;
	return S_NOMATCH;
}

static step eval_ptr(spfkit_check *chk, frame *f, const char *target, size_t tn)
{
	const char *names[1];
	size_t lens[1], n;
	const query *ptrq;
	step s = validated_names(chk, target, tn, names, lens, 1, &n, &ptrq);
	if (s != S_NOMATCH)
		return s;
	if (ptrq && count_void(chk, f, ptrq) == S_ENDED)
		return S_ENDED;
	return n ? S_MATCH : S_NOMATCH;
}

static step eval_exists(spfkit_check *chk, frame *f, const char *target,
			size_t tn, uint32_t h)
{
	/* RFC 7208 §5.7: always an A query, whatever the client's family. */
	const query *q;
	step s = term_query(chk, f, target, tn, h, SPFKIT_TYPE_A, &q);
	if (s != S_MATCH)
		return s;
	return q->nitems ? S_MATCH : S_NOMATCH;
}

/* Pushes a frame for an include or redirect target. */
static step push_frame(spfkit_check *chk, frame_kind kind, const char *d,
		       size_t dn, uint32_t h)
{
	frame *nf = spfkit__grow(chk->a, chk->frames, chk->nframes,
				 &chk->cap_frames, sizeof *nf, 4);
	if (!nf)
		return end_oom(chk);
	chk->frames = nf;
	char *copy = spfkit__arena_strndup(chk, d, dn);
	if (!copy)
		return end_oom(chk);
	frame *f = &chk->frames[chk->nframes++];
	chk->framed = true;
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->state = FS_FETCH;
	f->domain = copy;
	f->domain_len = dn;
	f->hash = h;
	chk->serial++;
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_FRAME);
		spfkit__emit(chk, &ev);
	}
	return S_PUSHED;
}

/* Before an include or redirect frame is pushed. An include or redirect
 * of a domain whose record is being evaluated is a loop: the record comes
 * back with the same inputs, so the check would go round until the limit
 * of 10 terms (RFC 7208 §4.6.4) and end in permerror; it ends here, named
 * as a loop (the checked domain's own draft, spfkit_check_set_record, is
 * not its published record, so including that is no loop). Walking goes
 * on past the limit, so it needs an end of its own too: past
 * WALK_MAX_TERMS counted terms the walk stops (macros can make endless
 * new names). S_MATCH: go on. */
#define WALK_MAX_TERMS 200
static step loop_guard(spfkit_check *chk, frame_kind kind, const char *d,
		       size_t dn, uint32_t h)
{
	if (chk->walk && chk->lookups > WALK_MAX_TERMS)
		return end_check(chk, SPFKIT_RESULT_PERMERROR,
				 SPFKIT_REASON_LOOKUP_LIMIT,
				 "the walk stopped after 200 DNS-querying "
				 "terms; a check stops at the 11th",
				 NULL, 0);
	size_t i = chk->has_override ? 1 : 0;
	/* Equal names have equal hashes (h is d's spfkit__ask_name_hash). */
	while (i < chk->nframes &&
	       (chk->frames[i].hash != h ||
		!spfkit__ieq(chk->frames[i].domain, chk->frames[i].domain_len,
			     d, dn)))
		i++;
	if (i == chk->nframes)
		return S_MATCH;
	/* "a loop: include:b.example in the record of c.example leads back
	 * to b.example, whose record is already being evaluated; ..." */
	const frame *f = &chk->frames[chk->nframes - 1];
	spfkit__buf b;
	char b_local[256];
	spfkit__buf_init_local(&b, chk->a, 2048, b_local, sizeof b_local);
	spfkit__buf_adds(&b, kind == FK_INCLUDE ? "a loop: include:"
						: "a loop: redirect=");
	problem_text(&b, "", d, dn);
	problem_text(&b, " in the record of ", f->domain, f->domain_len);
	problem_text(&b, " leads back to ", chk->frames[i].domain,
		     chk->frames[i].domain_len);
	spfkit__buf_adds(&b, ", whose record is already being evaluated; a "
			     "check would go round until the limit of 10 "
			     "DNS-querying terms (RFC 7208 4.6.4)");
	step s = b.err ? end_oom(chk)
		       : fail(chk, FAIL_TERM, SPFKIT_RESULT_PERMERROR,
			      SPFKIT_REASON_LOOP, b.data, NULL, 0);
	spfkit__buf_free(&b);
	return s;
}

/* Term t of frame f is reached: a TERM event, and RFC 7208 §4.6.4:
 * include, a, mx, ptr, exists and redirect count toward the limit of 10,
 * across the whole check, when they are reached. Once per term. */
static step reach_term(spfkit_check *chk, frame *f, const spfkit__term *t)
{
	if (f->announced)
		return S_NOMATCH;
	f->announced = true;
	chk->serial++;
	bool dns = t->mech != SPFKIT__ALL && t->mech != SPFKIT__IP4 &&
		   t->mech != SPFKIT__IP6;
	if (dns) {
		f->counted = true;
		chk->lookups++;
	}
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_TERM);
		ev.text = f->rec->text + t->pos;
		ev.text_len = t->len;
		ev.mechanism = mech_names[t->mech];
		ev.qualifier = t->qualifier;
		ev.counted = dns;
		ev.cidr4 = t->cidr4;
		ev.cidr6 = t->cidr6;
		if (t->mech == SPFKIT__IP4 || t->mech == SPFKIT__IP6) {
			bool v4 = t->mech == SPFKIT__IP4;
			ev.family = v4 ? 4 : 6;
			ev.addr = t->addr;
			ev.cidr = v4 ? (t->cidr4 < 0 ? 32 : t->cidr4)
				     : (t->cidr6 < 0 ? 128 : t->cidr6);
		}
		spfkit__emit(chk, &ev);
	}
	if (dns && chk->lookups > chk->cfg->limits[SPFKIT_LIMIT_DNS_TERMS])
		return fail(chk, FAIL_LIMIT, SPFKIT_RESULT_PERMERROR,
			    SPFKIT_REASON_LOOKUP_LIMIT,
			    "more than 10 DNS-querying terms (RFC 7208 "
			    "4.6.4); the 11th is ",
			    f->rec->text + t->pos, t->len);
	return S_NOMATCH;
}

/* Evaluates the mechanism t of frame f (§5). */
static step eval_mech(spfkit_check *chk, frame *f, const spfkit__term *t)
{
	switch (t->mech) {
	case SPFKIT__ALL: return S_MATCH;
	case SPFKIT__IP4:
	case SPFKIT__IP6:
		return !chk->walk && spfkit__ip_term_matches(chk, t)
			   ? S_MATCH
			   : S_NOMATCH;
	default: break;
	}
	if (f->child_done) {
		/* RFC 7208 §5.2: only an include's pass is a match. */
		return f->child_result == SPFKIT_RESULT_PASS ? S_MATCH
							     : S_NOMATCH;
	}
	term_name tg;
	step s = target_open(chk, f, t, &tg);
	if (s == S_MATCH) {
		const char *d = tg.b.data;
		size_t dn = tg.b.len;
		switch (t->mech) {
		case SPFKIT__A: s = eval_a(chk, f, t, d, dn, tg.hash); break;
		case SPFKIT__MX: s = eval_mx(chk, f, t, d, dn, tg.hash); break;
		case SPFKIT__PTR: s = eval_ptr(chk, f, d, dn); break;
		case SPFKIT__EXISTS:
			s = eval_exists(chk, f, d, dn, tg.hash);
			break;
		case SPFKIT__INCLUDE:
			s = loop_guard(chk, FK_INCLUDE, d, dn, tg.hash);
			if (s == S_MATCH)
				s = push_frame(chk, FK_INCLUDE, d, dn, tg.hash);
			break;
		default: s = S_NOMATCH; break;
		}
		/* Walking: no address-based term holds the client. */
		if (s == S_MATCH && chk->walk && t->mech != SPFKIT__INCLUDE)
			s = S_NOMATCH;
	}
	spfkit__buf_free(&tg.b);
	return s;
}

/* ---------------------------------------------------------------- frames */

static spfkit_result qualifier_result(char q)
{
	switch (q) {
	case '-': return SPFKIT_RESULT_FAIL;
	case '~': return SPFKIT_RESULT_SOFTFAIL;
	case '?': return SPFKIT_RESULT_NEUTRAL;
	default: return SPFKIT_RESULT_PASS;
	}
}

/* Frame f (the top of the stack) has result r: hand it to its parent, or
 * end the check. */
static void finish_frame(spfkit_check *chk, spfkit_result r, spfkit_reason why)
{
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_FRAME_END);
		ev.result = r;
		ev.reason = why;
		spfkit__emit(chk, &ev);
	}
	chk->nframes--;
	if (chk->nframes == 0) {
		chk->result = r;
		chk->reason = why;
		if (why == SPFKIT_REASON_DEFAULT) {
			/* Nothing matched: an include's term that matched
			 * inside is no part of the answer. */
			set_where(chk, 0);
			chk->decider_rec = NULL;
			chk->matched = NULL;
		}
		return;
	}
	frame *parent = &chk->frames[chk->nframes - 1];
	parent->child_done = true;
	parent->child_result = r;
	parent->child_reason = why;
}

/* Records that term t of frame k decided the frame's result. */
static void note_match(spfkit_check *chk, size_t k, const spfkit__term *t,
		       bool via_include)
{
	const frame *f = &chk->frames[k];
	set_text(chk, &chk->mechanism, f->rec->text + t->pos, t->len);
	if (!via_include) {
		/* The innermost match: an include's own match above it
		 * keeps this term and route. */
		chk->matched = chk->mechanism;
		set_where(chk, k);
	}
	chk->decider_rec = f->rec;
	chk->decider_domain = f->domain;
	chk->decider_domain_len = f->domain_len;
}

/* Fetches and parses the record of frame f (§4.4, §4.5). */
static step fetch_record(spfkit_check *chk, frame *f)
{
	const char *text = NULL;
	size_t text_len = 0;
	uint32_t ttl = 0;
	const query *from = NULL; /* the answer the record is in, if any */
	if (f->kind == FK_TOP && chk->has_override) {
		text = chk->override;
		text_len = chk->override_len;
	} else {
		bool need = false;
		query *q =
		    spfkit__ask_hashed(chk, f->domain, f->domain_len, f->hash,
				       SPFKIT_TYPE_TXT, &need, true);
		if (chk->oom)
			return end_oom(chk);
		if (!q)
			return S_NEED;
		q->ahead = false; /* reached: prefetch() below does it */
		from = q;
		if (q->status == SPFKIT_DNS_TEMPFAIL)
			return term_error_dns(chk, q, FAIL_FRAME);
		ttl = q->ttl;
		size_t found = 0;
		for (size_t i = 0; i < q->nitems; i++)
			if (spfkit__is_spf_record(q->items[i].data,
						  q->items[i].len)) {
				if (++found == 1) {
					text = q->items[i].data;
					text_len = q->items[i].len;
				}
			}
		if (found > 1)
			return fail(chk, FAIL_FRAME, SPFKIT_RESULT_PERMERROR,
				    SPFKIT_REASON_MULTIPLE_RECORDS,
				    "more than one v=spf1 record (RFC 7208 "
				    "4.5) at ",
				    f->domain, f->domain_len);
		if (found == 0) {
			if (f->kind == FK_TOP)
				return end_check(
				    chk, SPFKIT_RESULT_NONE,
				    SPFKIT_REASON_NO_RECORD,
				    q->status == SPFKIT_DNS_NXDOMAIN
					? "the domain does not exist: "
					: "no v=spf1 record published at ",
				    f->domain, f->domain_len);
			return fail(
			    chk, FAIL_FRAME, SPFKIT_RESULT_PERMERROR,
			    f->kind == FK_INCLUDE ? SPFKIT_REASON_INCLUDE_NONE
						  : SPFKIT_REASON_REDIRECT_NONE,
			    f->kind == FK_INCLUDE
				? "include target has no v=spf1 record "
				  "(RFC 7208 5.2): "
				: "redirect target has no v=spf1 record "
				  "(RFC 7208 6.1): ",
			    f->domain, f->domain_len);
		}
	}
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_RECORD);
		ev.text = text;
		ev.text_len = text_len;
		ev.ttl = ttl;
		spfkit__emit(chk, &ev);
	}
	spfkit__parse_error perr;
	int rc;
	spfkit__record *rec =
	    spfkit__check_parse_record(chk, from, text, text_len, &perr, &rc);
	if (rc == SPFKIT_ENOMEM)
		return end_oom(chk);
	if (rc) {
		spfkit__buf b;
		char b_local[256];
		spfkit__buf_init_local(&b, chk->a, 512, b_local,
				       sizeof b_local);
		spfkit__buf_adds(&b, "syntax error in the record of ");
		spfkit__buf_add(&b, f->domain,
				f->domain_len < 253 ? f->domain_len : 253);
		spfkit__buf_adds(&b, ": ");
		spfkit__buf_adds(&b, perr.msg);
		step s = b.err
			     ? end_oom(chk)
			     : fail(chk, FAIL_FRAME, SPFKIT_RESULT_PERMERROR,
				    SPFKIT_REASON_SYNTAX,
				    b.data ? b.data : "syntax error", NULL, 0);
		spfkit__buf_free(&b);
		return s;
	}
	if (!spfkit__check_keep_record(chk, rec))
		return end_oom(chk);
	f->rec = rec;
	f->state = FS_TERMS;
	f->ti = 0;
	if (chk->cfg->prefetch)
		spfkit__prefetch(chk, f, SIZE_MAX);
	return chk->oom ? end_oom(chk) : S_NOMATCH;
}

/* Runs the top frame one step. */
static step step_frame(spfkit_check *chk)
{
	size_t k = chk->nframes - 1;
	frame *f = &chk->frames[k];
	if (f->state == FS_FETCH)
		return fetch_record(chk, f);
	if (f->state == FS_TERMS) {
		while (f->ti < f->rec->nterms) {
			const spfkit__term *t = &f->rec->terms[f->ti];
			if (t->mech >= SPFKIT__REDIRECT) {
				f->ti++;
				continue;
			}
			/* An address term that does not hold the client, with
			 * no one listening for events: what reach_term() and
			 * eval_mech() would do, in short (records list dozens).
			 */
			if ((t->mech == SPFKIT__IP4 ||
			     t->mech == SPFKIT__IP6) &&
			    !chk->ev_cb && !chk->walk && !f->announced &&
			    !spfkit__ip_term_matches(chk, t)) {
				chk->serial++;
				f->ti++;
				continue;
			}
			step s = reach_term(chk, f, t);
			if (s == S_NOMATCH)
				s = eval_mech(chk, f, t);
			if ((s == S_MATCH || s == S_NOMATCH) && chk->ev_cb) {
				spfkit_event ev =
				    spfkit__event_of(SPFKIT_EVENT_TERM_END);
				ev.text = f->rec->text + t->pos;
				ev.text_len = t->len;
				ev.matched = s == S_MATCH;
				spfkit__emit(chk, &ev);
			}
			if (s == S_MATCH) {
				note_match(chk, k, t,
					   t->mech == SPFKIT__INCLUDE);
				finish_frame(chk,
					     qualifier_result(t->qualifier),
					     SPFKIT_REASON_MECHANISM);
				return S_NOMATCH;
			}
			if (s != S_NOMATCH)
				return s;
			f->ti++;
			f->announced = f->counted = f->voided = f->child_done =
			    false;
		}
		f->state = FS_AFTER;
	}
	/* RFC 7208 §6.1: redirect applies when no mechanism matched. */
	if (f->rec->redirect < 0) {
		finish_frame(chk, SPFKIT_RESULT_NEUTRAL, SPFKIT_REASON_DEFAULT);
		return S_NOMATCH;
	}
	const spfkit__term *t = &f->rec->terms[f->rec->redirect];
	if (f->child_done) {
		finish_frame(chk, f->child_result, f->child_reason);
		return S_NOMATCH;
	}
	if (reach_term(chk, f, t) == S_ENDED)
		return S_ENDED;
	term_name tg;
	step s = target_open(chk, f, t, &tg);
	if (s == S_MATCH) {
		/* A redirect's result stands for the whole record; the
		 * decider of what follows is in the target. */
		chk->decider_rec = NULL;
		s = loop_guard(chk, FK_REDIRECT, tg.b.data, tg.b.len, tg.hash);
		if (s == S_MATCH)
			s = push_frame(chk, FK_REDIRECT, tg.b.data, tg.b.len,
				       tg.hash);
		else if (s == S_NOMATCH)
			finish_frame(chk, SPFKIT_RESULT_PERMERROR,
				     SPFKIT_REASON_LOOP);
	} else if (s == S_NOMATCH) {
		/* Walking past a bad redirect target: the frame ends with
		 * the error that was reported. */
		finish_frame(chk, SPFKIT_RESULT_PERMERROR,
			     SPFKIT_REASON_BAD_TARGET);
	}
	spfkit__buf_free(&tg.b);
	return s;
}

/* ---------------------------------------------------------------- exp */

/* Copies text into the explanation, visible ASCII only (it goes into SMTP
 * replies and header fields). */
static void set_explanation(spfkit_check *chk, const char *s, size_t n)
{
	char *p = spfkit__arena_strndup(chk, s, n);
	if (!p) {
		chk->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f)
			p[i] = '?';
	}
	chk->explanation = p;
}

/* The explanation for fail (§6.2): exp= of the deciding record, or the
 * configured default. S_NEED while DNS is pending. */
static step explain(spfkit_check *chk)
{
	const char *d = chk->decider_domain ? chk->decider_domain : "";
	size_t dn = chk->decider_domain ? chk->decider_domain_len : 0;
	const spfkit__record *rec = chk->decider_rec;
	if (rec && rec->exp >= 0) {
		const spfkit__term *t = &rec->terms[rec->exp];
		spfkit__buf name;
		char name_local[256];
		spfkit__buf_init_local(&name, chk->a, 1024, name_local,
				       sizeof name_local);
		step s =
		    spfkit__expand(chk, d, dn, rec->text + t->spec_pos,
				   t->spec_len, SPFKIT__MACRO_DOMAIN, &name);
		const query *q = NULL;
		if (s == S_MATCH && !chk->no_dns &&
		    spfkit__domain_ok(name.data, name.len)) {
			bool need = false;
			q = spfkit__ask(chk, name.data, name.len,
					SPFKIT_TYPE_TXT, &need, true);
			if (chk->oom)
				s = end_oom(chk);
			else if (!q)
				s = S_NEED;
		}
		spfkit__buf_free(&name);
		if (s == S_NEED || s == S_ENDED)
			return s;
		/* Any DNS error, no record, more than one, 8-bit text or a
		 * macro error: as if there were no exp= (§6.2). */
		if (q && q->status == SPFKIT_DNS_NOERROR && q->nitems == 1) {
			const item *it = &q->items[0];
			bool ascii = true;
			for (size_t i = 0; i < it->len; i++)
				if ((unsigned char)it->data[i] >= 0x80)
					ascii = false;
			spfkit__buf out;
			char out_local[512];
			spfkit__buf_init_local(&out, chk->a,
					       SPFKIT__EXPLAIN_MAX, out_local,
					       sizeof out_local);
			s = ascii
				? spfkit__expand(chk, d, dn, it->data, it->len,
						 SPFKIT__MACRO_EXPLAIN, &out)
				: S_NOMATCH;
			if (s == S_MATCH && out.len)
				set_explanation(chk, out.data, out.len);
			spfkit__buf_free(&out);
			if (s == S_NEED || s == S_ENDED)
				return s;
			if (s == S_MATCH && chk->explanation)
				return S_MATCH;
		}
	}
	const char *def = chk->cfg->default_exp;
	spfkit__buf out;
	char out_local[512];
	spfkit__buf_init_local(&out, chk->a, SPFKIT__EXPLAIN_MAX, out_local,
			       sizeof out_local);
	step s = spfkit__expand(chk, d, dn, def, strlen(def),
				SPFKIT__MACRO_EXPLAIN, &out);
	if (s == S_MATCH)
		set_explanation(chk, out.data ? out.data : "", out.len);
	else if (s == S_NOMATCH)
		set_explanation(chk, "SPF fail", 8);
	spfkit__buf_free(&out);
	return s == S_NEED || s == S_ENDED ? s : S_MATCH;
}

/* ---------------------------------------------------------------- start */

/* RFC 7208 §4.3: the identity's domain must be a usable, multi-label name:
 * labels of letters, digits, '-' and '_' up to 63 octets, 253 in all, and
 * not a numeric top label (an address literal is not a domain). */
static bool identity_domain_ok(const char *s, size_t n)
{
	if (n && s[n - 1] == '.')
		n--;
	if (!spfkit__domain_ok(s, n))
		return false;
	size_t labels = 1, last = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			labels++;
			last = i + 1;
		} else if (!spfkit__is_alnum(c) && c != '-' && c != '_') {
			return false;
		}
	}
	bool numeric = true;
	for (size_t i = last; i < n; i++)
		if (!spfkit__is_digit((unsigned char)s[i]))
			numeric = false;
	return labels >= 2 && !numeric;
}

/* Sets up <sender>, <domain> and the top frame (§4.1, §4.3, §2.3, §2.4). */
static step start(spfkit_check *chk)
{
	/* Built on the stack, kept in the arena: no allocation of their own
	 * (a warm check made four). */
	spfkit__buf ipt;
	char ipt_local[64];
	spfkit__buf_init_local(&ipt, chk->a, 64, ipt_local, sizeof ipt_local);
	spfkit__ip_format(&chk->ip, &ipt);
	set_buf(chk, &chk->ip_text, &ipt);
	if (chk->oom)
		return end_oom(chk);

	const char *s = chk->sender_in ? chk->sender_in : "";
	size_t sn = chk->sender_in_len;
	if (sn >= 2 && s[0] == '<' && s[sn - 1] == '>') {
		s++;
		sn -= 2;
	}
	/* RFC 7208 §2.4: with a null reverse-path the MAIL FROM identity is
	 * postmaster@<HELO>, so the HELO name is checked but the identity
	 * stays "mailfrom"; --scope helo checks the HELO identity (§2.3). */
	bool helo = chk->scope == SPFKIT_SCOPE_HELO || sn == 0;
	chk->identity = chk->scope == SPFKIT_SCOPE_HELO ? "helo" : "mailfrom";

	const char *local = "postmaster", *domain;
	size_t local_len = 10, domain_len;
	if (helo) {
		domain = chk->helo ? chk->helo : "";
		domain_len = chk->helo_len;
	} else {
		size_t at = sn;
		for (size_t i = sn; i-- > 0;)
			if (s[i] == '@') {
				at = i;
				break;
			}
		if (at == sn) {
			domain = s;
			domain_len = sn;
		} else {
			domain = s + at + 1;
			domain_len = sn - at - 1;
			if (at > 0) {
				local = s;
				local_len = at;
			}
		}
	}
	spfkit__buf b;
	char b_local[320];
	spfkit__buf_init_local(&b, chk->a, 2 * SPFKIT__MAX_INPUT + 16, b_local,
			       sizeof b_local);
	spfkit__buf_add(&b, local, local_len);
	spfkit__buf_addc(&b, '@');
	spfkit__buf_add(&b, domain, domain_len);
	size_t sender_len = b.len;
	set_buf(chk, &chk->sender, &b);
	if (chk->oom)
		return end_oom(chk);
	chk->sender_len = sender_len;
	chk->local = chk->sender;
	chk->local_len = local_len;
	chk->sdomain = chk->sender + local_len + 1;
	chk->sdomain_len = domain_len;
	if (domain_len && domain[domain_len - 1] == '.')
		domain_len--;

	step st = push_frame(chk, FK_TOP, chk->sdomain, domain_len,
			     spfkit__ask_name_hash(chk->sdomain, domain_len));
	if (st == S_ENDED)
		return st;
	chk->domain = chk->frames[0].domain;
	/* RFC 7208 §4.3: no usable domain, none; a null sender without a
	 * HELO name has no domain at all (§2.4 checks postmaster@HELO). */
	if (domain_len == 0)
		return end_check(
		    chk, SPFKIT_RESULT_NONE, SPFKIT_REASON_MALFORMED_DOMAIN,
		    chk->scope == SPFKIT_SCOPE_HELO
			? "no domain to check: the HELO name is "
			  "empty (RFC 7208 4.3)"
			: "no domain to check: a null sender is "
			  "checked as postmaster@HELO, and the HELO "
			  "name is empty (RFC 7208 2.4, 4.3)",
		    NULL, 0);
	if (!identity_domain_ok(chk->sdomain, chk->sdomain_len))
		return end_check(
		    chk, SPFKIT_RESULT_NONE, SPFKIT_REASON_MALFORMED_DOMAIN,
		    helo ? "the HELO name is not a usable domain name "
			   "(RFC 7208 4.3): "
			 : "the sender's domain is not a usable domain "
			   "name (RFC 7208 4.3): ",
		    domain, domain_len);
	return S_NOMATCH;
}

/* ---------------------------------------------------------------- API */

int spfkit_check_run(spfkit_check *chk, uint64_t now_ms)
{
	if (!chk)
		return SPFKIT_EINVAL;
	if (chk->done)
		return SPFKIT_DONE;
	if (!chk->ip_set) /* a TXT lookup or DMARC discovery has no IP */
		return chk->kind ? spfkit__kind_run(chk, now_ms)
				 : SPFKIT_ESTATE;
	if (!chk->started) {
		chk->started = true;
		chk->start_ms = now_ms;
		chk->result = SPFKIT_RESULT_NONE;
		start(chk);
	}
	if (now_ms >= chk->start_ms &&
	    now_ms - chk->start_ms >=
		chk->cfg->limits[SPFKIT_LIMIT_DEADLINE_MS]) {
		/* RFC 7208 §4.6.4: past the deadline the result is temperror;
		 * a fail already decided keeps its result and gets the
		 * default explanation instead of an exp= lookup. */
		if (!chk->ended && chk->nframes)
			end_check(chk, SPFKIT_RESULT_TEMPERROR,
				  SPFKIT_REASON_DEADLINE,
				  "the check ran past its deadline", NULL, 0);
		chk->no_dns = true;
		for (size_t i = 0; i < chk->nqueries; i++)
			chk->queries[i]->answered = true;
	}
	while (chk->nframes && !chk->ended) {
		step s = step_frame(chk);
		if (s == S_NEED) {
			if (chk->cfg->prefetch)
				spfkit__prefetch_ahead(chk);
			if (chk->oom) {
				end_oom(chk);
				break;
			}
			if (spfkit_check_pending(chk))
				return SPFKIT_WANT_DNS;
			end_oom(chk);
		}
	}
	if (!chk->ended && chk->result == SPFKIT_RESULT_FAIL &&
	    !chk->explanation) {
		if (!chk->explaining) {
			chk->explaining = true;
			chk->serial++;
		}
		step s = explain(chk);
		if (s == S_NEED && spfkit_check_pending(chk))
			return SPFKIT_WANT_DNS;
	}
	if (chk->oom && chk->reason != SPFKIT_REASON_INTERNAL) {
		chk->result = SPFKIT_RESULT_TEMPERROR;
		chk->reason = SPFKIT_REASON_INTERNAL;
	}
	/* Prefetched queries the result did not need are dropped: a driver
	 * answering them later gets SPFKIT_ENOENT. */
	for (size_t i = 0; i < chk->nqueries; i++)
		chk->queries[i]->answered = true;
	finish_where(chk);
	chk->done = true;
	if (chk->ev_cb) {
		spfkit_event ev = spfkit__event_of(SPFKIT_EVENT_RESULT);
		ev.result = chk->result;
		ev.reason = chk->reason;
		const char *exp = spfkit_check_explanation(chk);
		ev.text = exp;
		ev.text_len = exp ? strlen(exp) : 0;
		spfkit__emit(chk, &ev);
	}
	return SPFKIT_DONE;
}
