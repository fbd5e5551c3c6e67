/*
 * message.c - `spfkit message`: what SPF said about a saved message or a
 * bounce, and why. It parses the message (msgparse.c), picks the hop
 * where the receiver took it in (a Received field), takes the client IP
 * and HELO from there and the envelope sender from Return-Path, shows
 * what the receiver recorded (Received-SPF, RFC 7208 §9.1;
 * Authentication-Results, RFC 8601), checks SPF again with the library
 * over the DNS options of `spfkit check` (dnsopts.c), and shows DMARC's
 * SPF alignment of the header From domain (RFC 7489 §3.1.2) through
 * libpsl's organizational domains. It then names the usual stories:
 * a contact form sending as its visitors, forwarding, mailing lists and
 * a sending service's own envelope domain.
 *
 * Everything shown comes from the message, so from anyone: text output
 * escapes octets outside printable ASCII, JSON output is valid JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <libpsl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "dnsopts.h"
#include "msgparse.h"

/* How far down the Received chain the forwarding check looks. */
#define UPSTREAM_HOPS 3u
/* --trusted-hops upper bound. */
#define HOPS_MAX 1000u
/* A domain for alignment: RFC 1035 §2.3.4 plus a trailing dot. */
#define DOMAIN_MAX 254u
/* Diagnoses at most. */
#define DIAG_MAX 10u
#define DIAG_LEN 1024u

#define PROG "spfkit message"

#if defined(__GNUC__)
#define MSG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MSG_PRINTF(a, b)
#endif

/* ------------------------------------------------------------ options */

typedef struct msg_opts {
	const char *file; /* NULL or "-": standard input */
	cli_format format;
	unsigned trusted_hops; /* 0: not given */
	const char *receiver;
	const char *authserv_id;
	const char *ip;
	const char *helo;
	const char *sender;
	cli_dns_opts dns;
} msg_opts;

enum {
	OPT_FORMAT = 256,
	OPT_TRUSTED_HOPS,
	OPT_RECEIVER,
	OPT_AUTHSERV_ID,
	OPT_IP,
	OPT_HELO,
	OPT_SENDER,
	OPT_ZONE,
	OPT_NAMESERVER,
	OPT_RECURSIVE,
	OPT_ROOT_HINTS,
	OPT_TRUST_ANCHOR,
	OPT_TIMEOUT
};

static const struct option longopts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"trusted-hops", required_argument, NULL, OPT_TRUSTED_HOPS},
    {"receiver", required_argument, NULL, OPT_RECEIVER},
    {"authserv-id", required_argument, NULL, OPT_AUTHSERV_ID},
    {"ip", required_argument, NULL, OPT_IP},
    {"helo", required_argument, NULL, OPT_HELO},
    {"sender", required_argument, NULL, OPT_SENDER},
    {"zone", required_argument, NULL, OPT_ZONE},
    {"nameserver", required_argument, NULL, OPT_NAMESERVER},
    {"recursive", no_argument, NULL, OPT_RECURSIVE},
    {"root-hints", required_argument, NULL, OPT_ROOT_HINTS},
    {"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void cli_message_help(FILE *f)
{
	fputs(
	    "Usage: spfkit message [OPTION]... [FILE|-]\n"
	    "\n"
	    "Reads a saved message or a bounce (standard input without FILE "
	    "or with -)\n"
	    "and tells what SPF said and why: the receiving hop's client IP "
	    "and HELO\n"
	    "(from its Received field), the envelope sender (Return-Path), "
	    "what the\n"
	    "receiver recorded (Received-SPF, Authentication-Results), SPF "
	    "checked\n"
	    "again, DMARC alignment of the header From domain, and a "
	    "diagnosis.\n"
	    "\n"
	    "Options:\n"
	    "  --format text|json    output format (default text)\n"
	    "  --trusted-hops N      use the Nth Received field from the top "
	    "(where the\n"
	    "                        message entered your trusted boundary)\n"
	    "  --receiver HOST       use the first Received field whose 'by' "
	    "is HOST\n"
	    "                        or ends with it\n"
	    "  --authserv-id ID      the receiver's Authentication-Results id "
	    "(trusted)\n"
	    "  --ip IP, --helo NAME, --sender ADDR\n"
	    "                        override what the headers say (e.g. the "
	    "sending\n"
	    "                        server's IP for a bounce)\n"
	    "  --zone FILE, --nameserver ADDR[@PORT], --recursive,\n"
	    "  --root-hints FILE, --trust-anchor FILE, --timeout SECONDS\n"
	    "                        DNS for the re-check, as in 'spfkit "
	    "check'\n"
	    "  -h, --help            show this help and exit\n"
	    "\n"
	    "By default the topmost Received field with an Internet client "
	    "address is\n"
	    "the receiving hop (internal hops, e.g. a content filter on "
	    "127.0.0.1, are\n"
	    "skipped and listed).\n"
	    "\n"
	    "Exit status: 0 when the message was parsed (and checked when it "
	    "could be),\n"
	    "whatever the SPF result; 64 usage error, 65 a message that does "
	    "not parse\n"
	    "or a zone file that does not, 66 a file that cannot be read, 70 "
	    "internal\n"
	    "error.\n",
	    f);
}

static int usage(const char *fmt, ...) MSG_PRINTF(1, 2);
static int usage(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EX_USAGE;
}

static int fatal(int status, const char *fmt, ...) MSG_PRINTF(2, 3);
static int fatal(int status, const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* A value quoted safely for a message (static storage, one at a time). */
static const char *shown(const char *s)
{
	static char buf[64 * 4 + 8];
	cli_escape(buf, sizeof buf, s, strlen(s), 64);
	return buf;
}

static const char *opt_name(int val)
{
	for (size_t i = 0; longopts[i].name; i++)
		if (longopts[i].val == val)
			return longopts[i].name;
	return "?";
}

static bool set_once(const char **dst, const char *v, int opt, int *status)
{
	if (*dst) {
		*status = usage("--%s given twice", opt_name(opt));
		return false;
	}
	if (v[0] == '\0') {
		*status = usage("--%s: the value is empty", opt_name(opt));
		return false;
	}
	*dst = v;
	return true;
}

/* A count from 1 to max, decimal digits only. */
static bool parse_count(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	if (*s != '\0' || v == 0)
		return false;
	*out = (unsigned)v;
	return true;
}

static int parse_args(int argc, char **argv, msg_opts *o)
{
	int status = 0;
	const char *format = NULL, *hops = NULL, *timeout = NULL;
	opterr = 0;
	optind = 1;
	for (;;) {
		int c = getopt_long(argc, argv, ":h", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_FORMAT:
			if (!set_once(&format, optarg, c, &status))
				return status;
			if (strcmp(optarg, "text") == 0)
				o->format = CLI_FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = CLI_FORMAT_JSON;
			else
				return usage("--format: '%s' is not text or "
					     "json",
					     shown(optarg));
			break;
		case OPT_TRUSTED_HOPS:
			if (!set_once(&hops, optarg, c, &status))
				return status;
			if (!parse_count(optarg, HOPS_MAX, &o->trusted_hops))
				return usage("--trusted-hops: '%s' is not a "
					     "number from 1 to %u",
					     shown(optarg), HOPS_MAX);
			break;
		case OPT_RECEIVER:
			if (!set_once(&o->receiver, optarg, c, &status))
				return status;
			break;
		case OPT_AUTHSERV_ID:
			if (!set_once(&o->authserv_id, optarg, c, &status))
				return status;
			break;
		case OPT_IP: {
			if (!set_once(&o->ip, optarg, c, &status))
				return status;
			msgp_view v = {optarg, strlen(optarg)};
			if (v.len > 45 || !cli_dns_nameserver_ok(optarg) ||
			    strchr(optarg, '@'))
				return usage("--ip: '%s' is not an IPv4 or "
					     "IPv6 address",
					     shown(optarg));
			break;
		}
		case OPT_HELO:
			if (!set_once(&o->helo, optarg, c, &status))
				return status;
			break;
		case OPT_SENDER:
			if (o->sender)
				return usage("--sender given twice");
			o->sender = optarg; /* "" and "<>": the null sender */
			break;
		case OPT_ZONE: o->dns.zones[o->dns.nzones++] = optarg; break;
		case OPT_NAMESERVER:
			if (!cli_dns_nameserver_ok(optarg))
				return usage("--nameserver: '%s' is not "
					     "ADDR[@PORT] (an IP address, e.g. "
					     "127.0.0.1@5353)",
					     shown(optarg));
			o->dns.nameservers[o->dns.nnameservers++] = optarg;
			break;
		case OPT_RECURSIVE: o->dns.recursive = true; break;
		case OPT_ROOT_HINTS:
			if (!set_once(&o->dns.root_hints, optarg, c, &status))
				return status;
			break;
		case OPT_TRUST_ANCHOR:
			if (!set_once(&o->dns.trust_anchor, optarg, c, &status))
				return status;
			break;
		case OPT_TIMEOUT:
			if (!set_once(&timeout, optarg, c, &status))
				return status;
			if (!cli_dns_parse_timeout(optarg, &o->dns.timeout_ms))
				return usage("--timeout: '%s' is not a number "
					     "of seconds from 0.001 to 86400",
					     shown(optarg));
			break;
		case 'h': cli_message_help(stdout); return -1;
		case ':':
			return usage("--%s needs a value (try 'spfkit help "
				     "message')",
				     opt_name(optopt));
		default: {
			const char *arg = argv[optind - 1];
			if (optopt >= OPT_FORMAT)
				return usage("--%s takes no value",
					     opt_name(optopt));
			return usage("unknown or ambiguous option '%s' (try "
				     "'spfkit help message')",
				     shown(arg));
		}
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		return usage("one message at a time: unexpected argument "
			     "'%s'",
			     shown(argv[optind]));
	if (o->trusted_hops && o->receiver)
		return usage("--trusted-hops and --receiver both choose the "
			     "hop; give one");
	const char *bad = cli_dns_opts_problem(&o->dns);
	if (bad)
		return usage("%s", bad);
	return 0;
}

/* ------------------------------------------------------------ input */

/* Reads the whole file (standard input for NULL or "-"), at most one
 * octet past the size cap. Returns 0 or an exit status. */
static int read_input(const char *path, char **buf, size_t *len)
{
	FILE *f = stdin;
	const char *name = "standard input";
	if (path && strcmp(path, "-") != 0) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return fatal(CLI_EX_NOINPUT, "'%s': is a directory",
				     shown(path));
		f = fopen(path, "rb");
		if (!f)
			return fatal(CLI_EX_NOINPUT, "'%s': %s", shown(path),
				     strerror(errno));
		name = path;
	}
	size_t cap = 0, n = 0;
	char *b = NULL;
	int status = 0;
	for (;;) {
		if (n == cap) {
			if (cap > MSGP_MESSAGE_MAX)
				break;
			size_t ncap = cap ? cap * 2 : 65536;
			if (ncap > MSGP_MESSAGE_MAX + 1)
				ncap = MSGP_MESSAGE_MAX + 1;
			if (ncap == cap)
				break;
			char *p = realloc(b, ncap);
			if (!p) {
				status = fatal(CLI_EX_SOFTWARE, "%s",
					       spfkit_strerror(SPFKIT_ENOMEM));
				break;
			}
			b = p;
			cap = ncap;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				status = fatal(CLI_EX_NOINPUT,
					       "reading '%s': %s", shown(name),
					       strerror(errno ? errno : EIO));
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (status) {
		free(b);
		return status;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* ------------------------------------------------------------ helpers */

static msgp_view vnone(void)
{
	msgp_view v = {NULL, 0};
	return v;
}

static msgp_view vstr(const char *s)
{
	msgp_view v = {s, s ? strlen(s) : 0};
	return v;
}

static unsigned char lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive equality of two views. */
static bool veq(msgp_view a, msgp_view b)
{
	if (!a.p || !b.p || a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lc((unsigned char)a.p[i]) != lc((unsigned char)b.p[i]))
			return false;
	return true;
}

/* Does host end with suffix at a label boundary (or equal it)? */
static bool ends_with_host(msgp_view host, msgp_view suffix)
{
	if (!host.p || !suffix.p || suffix.len == 0 || host.len < suffix.len)
		return false;
	msgp_view tail = {host.p + host.len - suffix.len, suffix.len};
	if (!veq(tail, suffix))
		return false;
	return host.len == suffix.len || suffix.p[0] == '.' ||
	       host.p[host.len - suffix.len - 1] == '.';
}

/* Do two host names name the same receiver: equal, or one inside the
 * other's domain when that has at least two labels ("mx.google.com" and
 * "google.com")? */
static bool same_host(msgp_view a, msgp_view b)
{
	if (!a.p || !b.p || a.len == 0 || b.len == 0)
		return false;
	if (veq(a, b))
		return true;
	msgp_view shorter = a.len < b.len ? a : b;
	msgp_view longer = a.len < b.len ? b : a;
	return memchr(shorter.p, '.', shorter.len) &&
	       ends_with_host(longer, shorter);
}

/* Does a receiver= value name a host (policyd-spf writes a recipient
 * address or "<UNKNOWN>" there)? */
static bool host_like(msgp_view v)
{
	return v.p && v.len > 0 && !memchr(v.p, '@', v.len) &&
	       !memchr(v.p, '<', v.len) && memchr(v.p, '.', v.len);
}

/* The domain of an address: after its last '@'. */
static msgp_view addr_domain(msgp_view a)
{
	for (size_t i = a.len; i > 0; i--)
		if (a.p[i - 1] == '@')
			return (msgp_view){a.p + i, a.len - i};
	return vnone();
}

/* Copies v, lower-cased and without a trailing dot, into dst (cap
 * octets, NUL terminated); false when it does not fit or holds octets
 * no domain has. */
static bool lower_domain(msgp_view v, char *dst, size_t cap)
{
	if (v.len && v.p[v.len - 1] == '.')
		v.len--;
	if (!v.p || v.len == 0 || v.len >= cap)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c <= 0x20 || c == 0x7f || c == '@')
			return false;
		dst[i] = (char)lc(c);
	}
	dst[v.len] = '\0';
	return true;
}

/* A view as a NUL-terminated escaped string for messages and diagnoses
 * (printable ASCII, the rest as \xHH; long values cut). */
static const char *esc(msgp_view v, char *buf, size_t cap)
{
	if (!v.p) {
		buf[0] = '\0';
		return buf;
	}
	cli_escape(buf, cap, v.p, v.len, 200);
	return buf;
}

/* A result name as written in a header, mapped to the RFC name. */
static const char *norm_result(msgp_view r)
{
	static const char *const names[] = {"pass",     "fail", "softfail",
					    "neutral",  "none", "temperror",
					    "permerror"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (msgp_eq(r, names[i]))
			return names[i];
	if (msgp_eq(r, "hardfail"))
		return "fail";
	if (msgp_eq(r, "error"))
		return "temperror";
	return NULL;
}

/* ------------------------------------------------------------ analysis */

typedef struct check_out {
	bool done;
	spfkit_check *chk;
	spfkit_result result;
} check_out;

typedef struct diag {
	const char *code;
	char text[DIAG_LEN];
} diag;

/* What is known about one trace field. */
typedef struct trust {
	bool trusted;
	const char *why; /* how it matched, or why not */
} trust;

typedef struct analysis {
	const msgp_msg *top; /* the input */
	const msgp_msg *m;   /* the analysed message (a bounce's original) */
	bool is_bounce;

	long hop; /* index into m->received, -1 for none */
	const char *hop_how;
	size_t skipped[16];
	const char *skipped_why[16];
	size_t nskipped;
	msgp_view receiver;
	const char *receiver_source;

	msgp_view ip, helo, sender;
	const char *ip_source, *helo_source, *sender_source;
	bool sender_known, null_sender;
	const char *why_not; /* the re-check could not run */

	trust *rspf_trust;
	trust *ar_trust;
	const char *recorded; /* the receiver's result, or NULL */
	const char
	    *recorded_source; /* "received-spf" or "authentication-results" */
	msgp_view recorded_ip;

	check_out main, helo_chk, up;
	long up_hop;
	const char *compared; /* "same", "different", "nothing-recorded" */

	bool have_align;
	char from_dom[DOMAIN_MAX + 2], spf_dom[DOMAIN_MAX + 2];
	const char *from_org, *spf_org;
	const char *spf_dom_source;
	bool strict, relaxed, spf_pass, psl_ok;

	diag diags[DIAG_MAX];
	size_t ndiags;
} analysis;

static void add_diag(analysis *a, const char *code, const char *fmt, ...)
    MSG_PRINTF(3, 4);
static void add_diag(analysis *a, const char *code, const char *fmt, ...)
{
	if (a->ndiags >= DIAG_MAX)
		return;
	diag *d = &a->diags[a->ndiags++];
	d->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof d->text, fmt, ap);
	va_end(ap);
}

/* The index of the field of Received number k, or SIZE_MAX. */
static size_t received_field(const msgp_msg *m, long k)
{
	if (k < 0 || (size_t)k >= m->nreceived)
		return SIZE_MAX;
	return m->received[k].field;
}

/* Is the client of hop r a relay of the receiver's own: its rDNS (or
 * Exim's verified name) in the organizational domain of its 'by'? */
static bool own_relay(const psl_ctx_t *psl, const msgp_received *r)
{
	char x[DOMAIN_MAX + 2], y[DOMAIN_MAX + 2];
	if (!psl || !r->rdns.p || !r->by.p)
		return false;
	if (!lower_domain(r->rdns, x, sizeof x) ||
	    !lower_domain(r->by, y, sizeof y))
		return false;
	const char *ox = psl_registrable_domain(psl, x);
	const char *oy = psl_registrable_domain(psl, y);
	return ox && oy && strcmp(ox, oy) == 0;
}

/* Picks the receiving hop. Returns 0 or an exit status. */
static int choose_hop(const msg_opts *o, const psl_ctx_t *psl, analysis *a)
{
	const msgp_msg *m = a->m;
	a->hop = -1;
	if (o->trusted_hops) {
		if (o->trusted_hops > m->nreceived)
			return usage("--trusted-hops %u: the message has %zu "
				     "Received field%s",
				     o->trusted_hops, m->nreceived,
				     m->nreceived == 1 ? "" : "s");
		a->hop = (long)o->trusted_hops - 1;
		a->hop_how = "trusted-hops";
		return 0;
	}
	if (o->receiver) {
		msgp_view want = vstr(o->receiver);
		for (size_t i = 0; i < m->nreceived; i++) {
			if (ends_with_host(m->received[i].by, want)) {
				a->hop = (long)i;
				a->hop_how = "receiver";
				return 0;
			}
		}
		return usage("--receiver '%s': no Received field of the "
			     "message is 'by' that host",
			     shown(o->receiver));
	}
	/* The topmost hop from an Internet client; internal ones (a filter
	 * on loopback, a local submission, the receiver's own relays) are
	 * skipped. */
	for (size_t i = 0; i < m->nreceived; i++) {
		const msgp_received *r = &m->received[i];
		const char *why = NULL;
		if (!r->ip.p)
			why = "no client address";
		else if (msgp_ip_internal(r->ip))
			why = "internal address";
		else if (i + 1 < m->nreceived && own_relay(psl, r))
			why = "the receiver's own relay";
		if (!why) {
			a->hop = (long)i;
			a->hop_how = i == 0 ? "topmost" : "topmost-external";
			return 0;
		}
		if (a->nskipped < sizeof a->skipped / sizeof a->skipped[0]) {
			a->skipped_why[a->nskipped] = why;
			a->skipped[a->nskipped++] = i;
		}
	}
	a->nskipped = 0;
	if (m->nreceived > 0) {
		a->hop = 0;
		a->hop_how = "topmost";
	}
	return 0;
}

/* Which Received-SPF and Authentication-Results fields the receiver
 * wrote: matched by name (receiver=, authserv-id, --authserv-id), or a
 * Received-SPF by the client IP; a field below the hop before the
 * receiver's arrived with the message. */
static void judge_trace(const msg_opts *o, analysis *a)
{
	const msgp_msg *m = a->m;
	size_t below = received_field(m, a->hop + 1);
	msgp_view asid = vstr(o->authserv_id);
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		trust *t = &a->rspf_trust[i];
		bool named = host_like(r->receiver);
		bool name =
		    named && (same_host(r->receiver, a->receiver) ||
			      (o->receiver &&
			       ends_with_host(r->receiver, vstr(o->receiver))));
		bool ip = a->ip.p && r->client_ip.p && veq(r->client_ip, a->ip);
		if (a->hop >= 0 && r->field > below && below != SIZE_MAX) {
			t->why = "below an earlier hop: it came with the "
				 "message";
		} else if (name) {
			t->trusted = true;
			t->why = "receiver";
		} else if (ip && !named) {
			t->trusted = true;
			t->why = "client-ip";
		} else {
			t->why = named ? "another receiver"
				       : "no receiver named, another client";
		}
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		trust *t = &a->ar_trust[i];
		bool name = same_host(r->authserv_id, a->receiver) ||
			    (asid.p && veq(r->authserv_id, asid)) ||
			    (o->receiver &&
			     ends_with_host(r->authserv_id, vstr(o->receiver)));
		if (!r->authserv_id.p) {
			t->why = "no authserv-id";
		} else if (!name) {
			t->why = "authserv-id is not the receiver's";
		} else if (a->hop >= 0 && r->field > below &&
			   below != SIZE_MAX) {
			t->why = "the receiver's authserv-id below an earlier "
				 "hop: it came with the message";
		} else {
			t->trusted = true;
			t->why = "authserv-id";
		}
	}
	/* What the receiver recorded: its Received-SPF, else its
	 * Authentication-Results spf=. */
	for (size_t i = 0; i < m->nrspf && !a->recorded; i++) {
		if (a->rspf_trust[i].trusted &&
		    norm_result(m->rspf[i].result)) {
			a->recorded = norm_result(m->rspf[i].result);
			a->recorded_source = "received-spf";
			a->recorded_ip = m->rspf[i].client_ip;
		}
	}
	for (size_t i = 0; i < m->nauthres && !a->recorded; i++) {
		if (a->ar_trust[i].trusted && norm_result(m->authres[i].spf)) {
			a->recorded = norm_result(m->authres[i].spf);
			a->recorded_source = "authentication-results";
		}
	}
}

/* The receiver, client IP and HELO: options first, then the chosen hop,
 * then what a bounce tells. */
static void pick_identities(const msg_opts *o, analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	const msgp_received *hop = a->hop >= 0 ? &m->received[a->hop] : NULL;
	const msgp_dsn *d = &top->dsn;

	/* The receiver. */
	if (a->is_bounce && d->remote_mta.p) {
		a->receiver = d->remote_mta;
		a->receiver_source = "bounce remote-mta";
	} else if (hop && hop->by.p) {
		a->receiver = hop->by;
		a->receiver_source = "received";
	}
	if (o->receiver && !a->receiver.p) {
		a->receiver = vstr(o->receiver);
		a->receiver_source = "option";
	}

	/* The client IP. */
	if (o->ip) {
		a->ip = vstr(o->ip);
		a->ip_source = "option";
	} else if (a->is_bounce && d->ip.p) {
		a->ip = d->ip;
		a->ip_source = "bounce diagnostic";
	} else if (a->is_bounce && d->remote_mta.p) {
		a->why_not = "the bounce names the remote receiver but not "
			     "the address of the server that talked to it; "
			     "give --ip (the sending server's address)";
	} else if (hop && hop->ip.p) {
		a->ip = hop->ip;
		a->ip_source = "received";
	} else if (!hop) {
		a->why_not = "no Received field with a client address; give "
			     "--ip";
	} else {
		a->why_not = "the chosen Received field records no client "
			     "address; give --ip or --trusted-hops";
	}

	/* The HELO name. */
	if (o->helo) {
		a->helo = vstr(o->helo);
		a->helo_source = "option";
	} else if (a->is_bounce && (d->ip.p || o->ip)) {
		/* The server that sent the original: the bounce's reporter,
		 * or the host that took the original in. */
		if (d->reporting_mta.p) {
			a->helo = d->reporting_mta;
			a->helo_source = "bounce reporting-mta";
		} else if (m->nreceived && m->received[0].by.p) {
			a->helo = m->received[0].by;
			a->helo_source = "original's top received by";
		} else if (top->from.ok) {
			a->helo = top->from.domain;
			a->helo_source = "bounce from";
		}
	} else if (hop && hop->helo.p) {
		a->helo = hop->helo;
		a->helo_source = "received";
	}
}

/* The envelope sender: --sender, Return-Path, then the receiver's
 * Received-SPF, Exim's envelope-from, what a bounce tells, and at last
 * the header From (a guess). Runs after judge_trace(). */
static void pick_sender(const msg_opts *o, analysis *a)
{
	const msgp_msg *m = a->m, *top = a->top;
	const msgp_received *hop = a->hop >= 0 ? &m->received[a->hop] : NULL;
	const msgp_dsn *d = &top->dsn;
	const msgp_msg *rp_msg = m->has_return_path ? m : NULL;
	if (!rp_msg && !a->is_bounce && top->has_return_path)
		rp_msg = top;
	if (o->sender) {
		msgp_view s = vstr(o->sender);
		if (s.len >= 2 && s.p[0] == '<' && s.p[s.len - 1] == '>') {
			s.p++;
			s.len -= 2;
		}
		a->sender = s;
		a->sender_source = "option";
	} else if (rp_msg) {
		a->sender = rp_msg->return_path;
		a->sender_source = "return-path";
	} else {
		for (size_t i = 0; i < m->nrspf && !a->sender_source; i++) {
			if (m->rspf[i].envelope_from.p &&
			    a->rspf_trust[i].trusted) {
				a->sender = m->rspf[i].envelope_from;
				a->sender_source = "received-spf";
			}
		}
		if (!a->sender_source && hop && hop->env_from.p) {
			a->sender = hop->env_from;
			a->sender_source = "received envelope-from";
		}
		if (!a->sender_source && a->is_bounce && d->sender.p) {
			a->sender = d->sender;
			a->sender_source = "bounce";
		}
		if (!a->sender_source && a->is_bounce && top->delivered_to.p) {
			a->sender = top->delivered_to;
			a->sender_source = "bounce recipient";
		}
		if (!a->sender_source && a->is_bounce && top->to.ok) {
			a->sender = top->to.addr;
			a->sender_source = "bounce recipient";
		}
		if (!a->sender_source && m->from.ok) {
			a->sender = m->from.addr;
			a->sender_source = "header from (a guess)";
		}
	}
	a->sender_known = a->sender_source != NULL;
	a->null_sender = a->sender_known && a->sender.len == 0;
	if (!a->why_not && !a->sender_known)
		a->why_not = "no envelope sender (Return-Path) and nothing to "
			     "guess it from; give --sender";
	if (!a->why_not && a->null_sender && !a->helo.p)
		a->why_not = "the null sender is checked as postmaster@HELO, "
			     "and no HELO name is known; give --helo";
}

/* Runs one check. Returns 0 or an exit status (out of memory, driver
 * trouble). */
static int run_one(cli_dns *dns, const spfkit_config *cfg, msgp_view ip,
		   msgp_view sender, msgp_view helo, spfkit_scope scope,
		   check_out *out)
{
	char ipbuf[64];
	if (!ip.p || ip.len >= sizeof ipbuf)
		return 0;
	memcpy(ipbuf, ip.p, ip.len);
	ipbuf[ip.len] = '\0';
	spfkit_check *chk = NULL;
	int rc = spfkit_check_new(&chk, cfg);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_ip(chk, ipbuf);
	if (rc == SPFKIT_EINVAL) {
		/* Validated by the parser; an odd form the library refuses
		 * is no check at all. */
		spfkit_check_free(chk);
		return 0;
	}
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_sender(chk, sender.p ? sender.p : "",
					     sender.len);
	if (rc == SPFKIT_OK && helo.p)
		rc = spfkit_check_set_helo(chk, helo.p, helo.len);
	if (rc == SPFKIT_OK)
		rc = spfkit_check_set_scope(chk, scope);
	if (rc == SPFKIT_OK) {
		time_t now = time(NULL);
		rc = spfkit_check_set_timestamp(chk,
						now > 0 ? (uint64_t)now : 0);
	}
	if (rc == SPFKIT_OK)
		rc = cli_dns_run(dns, chk);
	if (rc < 0) {
		spfkit_check_free(chk);
		if (rc == SPFKIT_ETOOBIG || rc == SPFKIT_EINVAL)
			return 0; /* an identity the library refuses */
		return fatal(CLI_EX_SOFTWARE, "check: %s", spfkit_strerror(rc));
	}
	out->done = true;
	out->chk = chk;
	out->result = spfkit_check_result(chk);
	return 0;
}

/* Is v a host name worth a HELO check (a dot, no literal)? */
static bool helo_checkable(msgp_view v)
{
	return v.p && v.len > 2 && v.len <= 253 && v.p[0] != '[' &&
	       memchr(v.p, '.', v.len) != NULL;
}

static int run_checks(cli_dns *dns, const spfkit_config *cfg, analysis *a)
{
	if (a->why_not)
		return 0;
	int st = run_one(dns, cfg, a->ip, a->sender, a->helo,
			 SPFKIT_SCOPE_MAILFROM, &a->main);
	if (st)
		return st;
	if (!a->main.done) {
		a->why_not = "the library refused the identities";
		return 0;
	}
	if (!a->null_sender && helo_checkable(a->helo)) {
		st = run_one(dns, cfg, a->ip, vnone(), a->helo,
			     SPFKIT_SCOPE_HELO, &a->helo_chk);
		if (st)
			return st;
	}
	/* Forwarding: did the sender's domain authorise an earlier hop? */
	spfkit_result r = a->main.result;
	if ((r == SPFKIT_RESULT_FAIL || r == SPFKIT_RESULT_SOFTFAIL) &&
	    a->hop >= 0 && !a->null_sender &&
	    strcmp(a->ip_source, "received") == 0) {
		const msgp_msg *m = a->m;
		for (size_t k = (size_t)a->hop + 1;
		     k < m->nreceived && k <= (size_t)a->hop + UPSTREAM_HOPS;
		     k++) {
			const msgp_received *h = &m->received[k];
			if (!h->ip.p || msgp_ip_internal(h->ip))
				continue;
			check_out c = {0};
			st = run_one(dns, cfg, h->ip, a->sender, h->helo,
				     SPFKIT_SCOPE_MAILFROM, &c);
			if (st)
				return st;
			if (c.done && c.result == SPFKIT_RESULT_PASS) {
				a->up = c;
				a->up_hop = (long)k;
				break;
			}
			spfkit_check_free(c.chk);
		}
	}
	if (!a->recorded)
		a->compared = "nothing-recorded";
	else if (strcmp(a->recorded, spfkit_result_name(r)) == 0)
		a->compared = "same";
	else
		a->compared = "different";
	return 0;
}

/* DMARC SPF alignment (RFC 7489 §3.1.2): the header From domain against
 * the domain SPF checked (MAIL FROM, or HELO for the null sender). */
static void align(const psl_ctx_t *psl, analysis *a)
{
	if (!a->main.done || !a->m->from.ok)
		return;
	const char *d = spfkit_check_domain(a->main.chk);
	if (!lower_domain(a->m->from.domain, a->from_dom, sizeof a->from_dom) ||
	    !d || !lower_domain(vstr(d), a->spf_dom, sizeof a->spf_dom))
		return;
	a->have_align = true;
	a->spf_dom_source = a->null_sender ? "helo" : "mail-from";
	a->strict = strcmp(a->from_dom, a->spf_dom) == 0;
	a->psl_ok = psl != NULL;
	if (psl) {
		a->from_org = psl_registrable_domain(psl, a->from_dom);
		a->spf_org = psl_registrable_domain(psl, a->spf_dom);
	}
	if (a->from_org && a->spf_org)
		a->relaxed = strcmp(a->from_org, a->spf_org) == 0;
	else
		a->relaxed = a->strict;
	a->spf_pass = a->main.result == SPFKIT_RESULT_PASS;
}

/* The organizational domain of a name, lower-cased, into buf; "" when
 * unknown. */
static const char *org_of(const psl_ctx_t *psl, msgp_view v, char *buf,
			  size_t cap)
{
	if (!lower_domain(v, buf, cap)) {
		buf[0] = '\0';
		return buf;
	}
	if (psl) {
		const char *o = psl_registrable_domain(psl, buf);
		if (o && o != buf)
			memmove(buf, o, strlen(o) + 1);
	}
	return buf;
}

static const char *result_hint(spfkit_result r)
{
	switch (r) {
	case SPFKIT_RESULT_NONE:
		return "the domain publishes no SPF record: publish one that "
		       "lists its sending servers (v=spf1 ... -all)";
	case SPFKIT_RESULT_NEUTRAL:
		return "the record makes no statement about this server (?all "
		       "or no match): receivers treat it like none";
	case SPFKIT_RESULT_SOFTFAIL:
		return "the record says this server is probably not "
		       "authorised (~all): add it to the record if it sends "
		       "legitimately";
	case SPFKIT_RESULT_FAIL:
		return "the record does not authorise this server: if it "
		       "sends for the domain legitimately, add it to the "
		       "record (ip4:, ip6: or include:)";
	case SPFKIT_RESULT_PERMERROR:
		return "the record is broken (syntax, too many lookups, ...): "
		       "fix it; receivers may treat this as fail";
	case SPFKIT_RESULT_TEMPERROR:
		return "DNS failed during the check: try again; if it "
		       "persists, the domain's name servers have trouble";
	case SPFKIT_RESULT_PASS: break;
	}
	return NULL;
}

/* The stories: what the result means for this message. */
static void diagnose(const psl_ctx_t *psl, analysis *a)
{
	char b1[1024], b2[1024], b3[1024], b4[256], b5[256];
	const msgp_msg *m = a->m;
	if (a->is_bounce) {
		const msgp_dsn *d = &a->top->dsn;
		add_diag(a, "bounce",
			 "this is a bounce; the original message inside it "
			 "is analysed%s%s%s",
			 d->diagnostic.p ? ". The bounce says: " : "",
			 esc(d->diagnostic, b1, sizeof b1),
			 a->m == a->top ? " (the original was not found)" : "");
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		if (!a->ar_trust[i].trusted && r->authserv_id.p &&
		    norm_result(r->spf) &&
		    strcmp(norm_result(r->spf), "pass") == 0)
			add_diag(a, "untrusted-authentication-results",
				 "Authentication-Results from '%s' claims "
				 "spf=pass but was not written by the "
				 "receiver (%s): %s; it may be forged. "
				 "Receivers should remove such fields "
				 "(RFC 8601 section 5)",
				 esc(r->authserv_id, b1, sizeof b1),
				 esc(a->receiver, b2, sizeof b2),
				 a->ar_trust[i].why);
	}
	if (!a->main.done) {
		add_diag(a, "not-checked", "SPF could not be checked again: %s",
			 a->why_not ? a->why_not : "unknown");
		return;
	}
	spfkit_result r = a->main.result;
	const char *dom = spfkit_check_domain(a->main.chk);
	bool failing = r == SPFKIT_RESULT_FAIL || r == SPFKIT_RESULT_SOFTFAIL;
	char from_org[DOMAIN_MAX + 2], env_org[DOMAIN_MAX + 2],
	    helo_org[DOMAIN_MAX + 2], rcpt_org[DOMAIN_MAX + 2];
	org_of(psl, m->from.domain, from_org, sizeof from_org);
	org_of(psl, vstr(dom), env_org, sizeof env_org);
	org_of(psl, a->helo, helo_org, sizeof helo_org);
	msgp_view rcpt = m->to.ok ? m->to.domain : vnone();
	if (!rcpt.p && a->hop >= 0 && m->received[a->hop].for_addr.p)
		rcpt = addr_domain(m->received[a->hop].for_addr);
	org_of(psl, rcpt, rcpt_org, sizeof rcpt_org);
	bool done_story = false;

	/* Forwarding: an earlier hop passed. */
	if (failing && a->up.done) {
		const msgp_received *up = &m->received[a->up_hop];
		const msgp_received *hop = &m->received[a->hop];
		add_diag(
		    a, "forwarding",
		    "the message was forwarded: %s passed SPF at an "
		    "earlier hop (%s, received by %s) but the receiver "
		    "got it from %s (%s), which %s does not authorise. "
		    "Plain forwarding keeps the envelope sender, so SPF "
		    "breaks at the next hop. Fix at the forwarder: "
		    "rewrite the envelope sender with SRS (Sender "
		    "Rewriting Scheme), or have the receiver trust the "
		    "forwarder (ARC) or rely on DKIM",
		    esc(a->sender, b1, sizeof b1), esc(up->ip, b2, sizeof b2),
		    esc(up->by, b3, sizeof b3),
		    esc(hop->rdns.p ? hop->rdns : hop->helo, b4, sizeof b4),
		    esc(a->ip, b5, sizeof b5), env_org);
		done_story = true;
	}
	/* A contact form: From and envelope are the visitor's, the server is
	 * the site's own (its HELO domain passes, or it mails its own
	 * domain). */
	bool helo_pass =
	    a->helo_chk.done && a->helo_chk.result == SPFKIT_RESULT_PASS;
	if (failing && !done_story && !a->null_sender && from_org[0] &&
	    strcmp(from_org, env_org) == 0 && helo_org[0] &&
	    strcmp(helo_org, from_org) != 0 &&
	    (helo_pass || strcmp(helo_org, rcpt_org) == 0)) {
		add_diag(a, "contact-form",
			 "the message claims to come from %s (header From "
			 "and envelope sender) but was sent by %s's own "
			 "server (HELO %s, %s): SPF of %s %ss there, as it "
			 "should. This is what a web form that sends as its "
			 "visitor looks like. Fix the form: send as an "
			 "address of %s itself (From and envelope sender, "
			 "e.g. forms@%s) and put the visitor's address in "
			 "Reply-To",
			 esc(m->from.addr, b1, sizeof b1), helo_org,
			 esc(a->helo, b2, sizeof b2), esc(a->ip, b3, sizeof b3),
			 env_org, spfkit_result_name(r), helo_org, helo_org);
		done_story = true;
	}
	/* A mailing list. */
	if (m->list_id.p && !done_story) {
		if (a->have_align && a->relaxed && r == SPFKIT_RESULT_PASS) {
			add_diag(a, "mailing-list",
				 "a mailing list (%s) sent this with its own "
				 "envelope sender, and the header From is in "
				 "the same organizational domain (%s): the "
				 "list rewrote From (DMARC mitigation) or the "
				 "author is at the list's domain. SPF is "
				 "aligned",
				 esc(m->list_id, b1, sizeof b1), env_org);
		} else if (r == SPFKIT_RESULT_PASS) {
			add_diag(a, "mailing-list",
				 "a mailing list (%s) re-sent this with its "
				 "own envelope sender (%s): SPF authenticates "
				 "the list's domain %s, not the author's %s: "
				 "not aligned, so it cannot give DMARC pass "
				 "for %s. That is normal for lists: "
				 "DMARC then rests on the author's DKIM "
				 "signature surviving the list (no subject "
				 "tags or footers), or the list rewrites From "
				 "to its own address and puts the author in "
				 "Reply-To",
				 esc(m->list_id, b1, sizeof b1),
				 esc(a->sender, b2, sizeof b2), a->spf_dom,
				 from_org, from_org);
		} else {
			add_diag(a, "mailing-list",
				 "a mailing list (%s) sent this, and SPF %ss "
				 "for %s: a list should send with its own "
				 "envelope sender (a bounce address in the "
				 "list's domain, authorised by its SPF)",
				 esc(m->list_id, b1, sizeof b1),
				 spfkit_result_name(r), env_org);
		}
		done_story = true;
	}
	/* A sending service's own envelope domain (Amazon SES and the
	 * like): SPF passes, not aligned. */
	if (!done_story && r == SPFKIT_RESULT_PASS && a->have_align &&
	    !a->relaxed && !a->null_sender) {
		add_diag(a, "different-envelope-domain",
			 "SPF passes for %s, the envelope (bounce) domain of "
			 "the sending service, but the header From is %s: "
			 "not aligned, so SPF does not count for DMARC. Set "
			 "up a custom MAIL FROM domain in %s with the service "
			 "(e.g. bounce.%s, with the SPF include and MX it "
			 "asks for), or rely on an aligned DKIM signature",
			 a->spf_dom, a->from_dom, from_org, from_org);
		done_story = true;
	}
	if (!done_story && r == SPFKIT_RESULT_PASS && a->have_align &&
	    a->relaxed)
		add_diag(a, "pass-aligned",
			 "SPF passes for %s and is aligned with the header "
			 "From %s (%s): DMARC's SPF check passes",
			 a->spf_dom, a->from_dom,
			 a->strict ? "strict and relaxed" : "relaxed");
	else if (!done_story && r == SPFKIT_RESULT_PASS)
		add_diag(a, "pass",
			 "SPF passes for %s; alignment with the header From "
			 "is unknown (no usable From address)",
			 env_org[0] ? env_org : "the sender");
	if (!done_story && r != SPFKIT_RESULT_PASS) {
		const char *p = spfkit_check_problem(a->main.chk);
		add_diag(a, spfkit_result_name(r), "%s %s%s%s%s: %s",
			 dom ? dom : "the domain", spfkit_result_name(r),
			 p ? " (" : "", p ? p : "", p ? ")" : "",
			 result_hint(r));
	}
	if (a->compared && strcmp(a->compared, "different") == 0) {
		bool ip_differs =
		    a->recorded_ip.p && !veq(a->recorded_ip, a->ip);
		add_diag(a, "recorded-differs",
			 "the receiver recorded %s, the check now gives %s. "
			 "%s",
			 a->recorded, spfkit_result_name(r),
			 ip_differs
			     ? "The receiver checked another client address "
			       "than this hop's: choose the hop with "
			       "--trusted-hops or --receiver."
			     : "That can be legitimate: DNS changed since "
			       "delivery (the record was edited, an included "
			       "provider's network changed) or a DNS failure "
			       "at the time. The recorded result is the one "
			       "that counted.");
	}
	if (a->null_sender)
		add_diag(a, "null-sender",
			 "the envelope sender is empty (a bounce or an "
			 "automatic reply): SPF checks the HELO name %s "
			 "instead (RFC 7208 section 2.4)",
			 esc(a->helo, b1, sizeof b1));
	if (a->sender_source &&
	    strcmp(a->sender_source, "header from (a guess)") == 0)
		add_diag(a, "guessed-sender",
			 "the envelope sender is not recorded: the header "
			 "From address was checked instead (a guess; give "
			 "--sender)");
}

/* ------------------------------------------------------------ output */

/* A small JSON writer: commas between members come by themselves. */
typedef struct jw {
	FILE *f;
	bool first[32];
	unsigned depth;
} jw;

static void jw_sep(jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		putc(',', w->f);
	w->first[w->depth] = false;
}

static void jw_key(jw *w, const char *key)
{
	jw_sep(w);
	if (key) {
		cli_json_string(w->f, key, strlen(key));
		putc(':', w->f);
	}
}

static void jw_open(jw *w, const char *key, char c)
{
	jw_key(w, key);
	putc(c, w->f);
	if (w->depth + 1 < sizeof w->first)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(jw *w, char c)
{
	putc(c, w->f);
	if (w->depth)
		w->depth--;
}

static void jw_view(jw *w, const char *key, msgp_view v)
{
	jw_key(w, key);
	if (v.p)
		cli_json_string(w->f, v.p, v.len);
	else
		fputs("null", w->f);
}

static void jw_str(jw *w, const char *key, const char *s)
{
	jw_view(w, key, vstr(s));
}

static void jw_bool(jw *w, const char *key, bool b)
{
	jw_key(w, key);
	fputs(b ? "true" : "false", w->f);
}

static void jw_num(jw *w, const char *key, unsigned long n)
{
	jw_key(w, key);
	fprintf(w->f, "%lu", n);
}

static void jw_null(jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

static void jw_addr(jw *w, const char *key, const msgp_addr *ad)
{
	if (!ad->ok) {
		jw_null(w, key);
		return;
	}
	jw_open(w, key, '{');
	jw_view(w, "address", ad->addr);
	jw_view(w, "domain", ad->domain);
	jw_view(w, "display", ad->display);
	jw_num(w, "count", ad->count);
	jw_close(w, '}');
}

static const char *bounce_name(msgp_bounce b)
{
	switch (b) {
	case MSGP_BOUNCE_DSN: return "dsn";
	case MSGP_BOUNCE_MIME: return "mime";
	case MSGP_BOUNCE_QUOTED: return "quoted";
	case MSGP_BOUNCE_NONE: break;
	}
	return "none";
}

static void jw_check(jw *w, const char *key, const check_out *c)
{
	if (!c->done) {
		jw_null(w, key);
		return;
	}
	jw_open(w, key, '{');
	jw_str(w, "result", spfkit_result_name(c->result));
	jw_str(w, "domain", spfkit_check_domain(c->chk));
	jw_str(w, "identity", spfkit_check_identity(c->chk));
	jw_str(w, "sender", spfkit_check_sender(c->chk));
	jw_str(w, "mechanism", spfkit_check_mechanism(c->chk));
	jw_str(w, "where", spfkit_check_where(c->chk));
	jw_str(w, "explanation", spfkit_check_explanation(c->chk));
	jw_str(w, "problem", spfkit_check_problem(c->chk));
	jw_num(w, "lookups", spfkit_check_lookups(c->chk));
	jw_num(w, "void_lookups", spfkit_check_void_lookups(c->chk));
	jw_close(w, '}');
}

static void out_json(FILE *f, const analysis *a, const char *dns_name)
{
	jw w = {.f = f};
	const msgp_msg *m = a->m, *top = a->top;
	jw_open(&w, NULL, '{');

	jw_open(&w, "input", '{');
	jw_str(&w, "bounce", bounce_name(top->bounce));
	jw_open(&w, "warnings", '[');
	for (size_t i = 0; i < top->nwarnings; i++)
		jw_str(&w, NULL, top->warnings[i]);
	if (m != top)
		for (size_t i = 0; i < m->nwarnings; i++)
			jw_str(&w, NULL, m->warnings[i]);
	jw_close(&w, ']');
	jw_close(&w, '}');

	if (a->is_bounce) {
		const msgp_dsn *d = &top->dsn;
		jw_open(&w, "bounce", '{');
		jw_str(&w, "kind", bounce_name(top->bounce));
		jw_view(&w, "reporting_mta", d->reporting_mta);
		jw_view(&w, "remote_mta", d->remote_mta);
		jw_view(&w, "final_recipient", d->final_recipient);
		jw_view(&w, "action", d->action);
		jw_view(&w, "status", d->status);
		jw_view(&w, "diagnostic", d->diagnostic);
		jw_view(&w, "sender", d->sender);
		jw_view(&w, "client_ip", d->ip);
		jw_str(&w, "original",
		       m == top          ? NULL
		       : m->headers_only ? "headers"
					 : "message");
		jw_close(&w, '}');
	} else {
		jw_null(&w, "bounce");
	}

	jw_open(&w, "message", '{');
	jw_addr(&w, "from", &m->from);
	jw_addr(&w, "reply_to", &m->reply_to);
	jw_addr(&w, "sender", &m->sender);
	jw_addr(&w, "to", &m->to);
	jw_view(&w, "subject", m->subject);
	jw_view(&w, "message_id", m->message_id);
	jw_view(&w, "list_id", m->list_id);
	if (m->has_return_path)
		jw_view(&w, "return_path",
			m->null_sender ? vstr("") : m->return_path);
	else
		jw_null(&w, "return_path");
	jw_close(&w, '}');

	jw_open(&w, "received", '[');
	for (size_t i = 0; i < m->nreceived; i++) {
		const msgp_received *r = &m->received[i];
		jw_open(&w, NULL, '{');
		jw_num(&w, "index", i + 1);
		jw_view(&w, "from", r->from);
		jw_view(&w, "helo", r->helo);
		jw_view(&w, "rdns", r->rdns);
		jw_view(&w, "ip", r->ip);
		jw_view(&w, "by", r->by);
		jw_view(&w, "with", r->with);
		jw_view(&w, "id", r->id);
		jw_view(&w, "for", r->for_addr);
		jw_view(&w, "envelope_from", r->env_from);
		jw_view(&w, "date", r->date);
		jw_bool(&w, "internal", !r->ip.p || msgp_ip_internal(r->ip));
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "hop", '{');
	if (a->hop >= 0)
		jw_num(&w, "index", (unsigned long)a->hop + 1);
	else
		jw_null(&w, "index");
	jw_str(&w, "how", a->hop_how);
	jw_open(&w, "skipped", '[');
	for (size_t i = 0; i < a->nskipped; i++) {
		jw_open(&w, NULL, '{');
		jw_num(&w, "index", a->skipped[i] + 1);
		jw_str(&w, "why", a->skipped_why[i]);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');

	jw_open(&w, "envelope", '{');
	jw_view(&w, "ip", a->ip);
	jw_str(&w, "ip_source", a->ip_source);
	jw_view(&w, "helo", a->helo);
	jw_str(&w, "helo_source", a->helo_source);
	if (a->sender_known)
		jw_view(&w, "mail_from", a->null_sender ? vstr("") : a->sender);
	else
		jw_null(&w, "mail_from");
	jw_str(&w, "mail_from_source", a->sender_source);
	jw_bool(&w, "null_sender", a->null_sender);
	jw_view(&w, "receiver", a->receiver);
	jw_str(&w, "receiver_source", a->receiver_source);
	jw_close(&w, '}');

	jw_open(&w, "receiver_said", '{');
	jw_open(&w, "received_spf", '[');
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		jw_open(&w, NULL, '{');
		jw_view(&w, "result", r->result);
		jw_view(&w, "receiver", r->receiver);
		jw_view(&w, "client_ip", r->client_ip);
		jw_view(&w, "envelope_from", r->envelope_from);
		jw_view(&w, "helo", r->helo);
		jw_view(&w, "identity", r->identity);
		jw_view(&w, "comment", r->comment);
		jw_bool(&w, "trusted", a->rspf_trust[i].trusted);
		jw_str(&w, "why", a->rspf_trust[i].why);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_open(&w, "authentication_results", '[');
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		jw_open(&w, NULL, '{');
		jw_view(&w, "authserv_id", r->authserv_id);
		jw_view(&w, "spf", r->spf);
		jw_view(&w, "smtp_mailfrom", r->spf_mailfrom);
		jw_view(&w, "smtp_helo", r->spf_helo);
		jw_view(&w, "dkim", r->dkim);
		jw_view(&w, "dmarc", r->dmarc);
		jw_view(&w, "header_from", r->dmarc_from);
		jw_bool(&w, "trusted", a->ar_trust[i].trusted);
		jw_str(&w, "why", a->ar_trust[i].why);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_str(&w, "recorded", a->recorded);
	jw_str(&w, "recorded_source", a->recorded_source);
	jw_close(&w, '}');

	jw_open(&w, "recheck", '{');
	jw_bool(&w, "done", a->main.done);
	jw_str(&w, "why_not", a->main.done ? NULL : a->why_not);
	jw_str(&w, "dns", dns_name);
	jw_check(&w, "mail_from", &a->main);
	jw_check(&w, "helo", &a->helo_chk);
	if (a->up.done) {
		jw_open(&w, "upstream", '{');
		jw_num(&w, "hop", (unsigned long)a->up_hop + 1);
		jw_view(&w, "ip", a->m->received[a->up_hop].ip);
		jw_str(&w, "result", spfkit_result_name(a->up.result));
		jw_close(&w, '}');
	} else {
		jw_null(&w, "upstream");
	}
	jw_str(&w, "compared", a->compared);
	jw_close(&w, '}');

	if (a->have_align) {
		jw_open(&w, "alignment", '{');
		jw_str(&w, "from_domain", a->from_dom);
		jw_str(&w, "spf_domain", a->spf_dom);
		jw_str(&w, "spf_domain_source", a->spf_dom_source);
		jw_str(&w, "from_org", a->from_org);
		jw_str(&w, "spf_org", a->spf_org);
		jw_bool(&w, "strict", a->strict);
		jw_bool(&w, "relaxed", a->relaxed);
		jw_bool(&w, "spf_pass", a->spf_pass);
		jw_str(&w, "dmarc_spf",
		       a->spf_pass && a->relaxed ? "pass" : "fail");
		jw_bool(&w, "public_suffix_list", a->psl_ok);
		jw_close(&w, '}');
	} else {
		jw_null(&w, "alignment");
	}

	jw_open(&w, "diagnosis", '[');
	for (size_t i = 0; i < a->ndiags; i++) {
		jw_open(&w, NULL, '{');
		jw_str(&w, "code", a->diags[i].code);
		jw_str(&w, "text", a->diags[i].text);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	putc('\n', f);
}

/* Writes v for a terminal: printable ASCII, the rest as \xHH. */
static void tv(FILE *f, msgp_view v)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!v.p) {
		fputs("-", f);
		return;
	}
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c == ' ' || c == '\t') {
			/* Unfolded values keep their folding WSP: one. */
			putc(' ', f);
			while (i + 1 < v.len &&
			       (v.p[i + 1] == ' ' || v.p[i + 1] == '\t'))
				i++;
		} else if (c >= 0x20 && c < 0x7f && c != '\\') {
			putc(c, f);
		} else {
			putc('\\', f);
			putc('x', f);
			putc(hex[c >> 4], f);
			putc(hex[c & 15], f);
		}
	}
}

static void ts(FILE *f, const char *s)
{
	tv(f, vstr(s));
}

/* "  label        " then the value. */
static void tline(FILE *f, const char *label, msgp_view v, const char *note)
{
	fprintf(f, "  %-13s", label);
	tv(f, v);
	if (note) {
		fputs("  (", f);
		ts(f, note);
		putc(')', f);
	}
	putc('\n', f);
}

/* Writes text wrapped at about 76 columns, each line indented. */
static void twrap(FILE *f, const char *s, const char *indent1,
		  const char *indent)
{
	size_t col = (size_t)fprintf(f, "%s", indent1);
	bool first = true;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		const char *sp = strchr(s, ' ');
		size_t n = sp ? (size_t)(sp - s) : strlen(s);
		if (!first && col + 1 + n > 76) {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
		} else if (!first) {
			putc(' ', f);
			col++;
		}
		tv(f, (msgp_view){s, n});
		col += n;
		s += n;
		first = false;
	}
	putc('\n', f);
}

static void out_text(FILE *f, const analysis *a, const char *dns_name)
{
	const msgp_msg *m = a->m, *top = a->top;
	char note[160];
	if (a->is_bounce) {
		const msgp_dsn *d = &top->dsn;
		fprintf(f, "Bounce (%s)\n", bounce_name(top->bounce));
		tline(f, "reported by", d->reporting_mta, NULL);
		tline(f, "remote MTA", d->remote_mta, NULL);
		tline(f, "recipient", d->final_recipient, NULL);
		tline(f, "status", d->status, NULL);
		tline(f, "diagnostic", d->diagnostic, NULL);
		tline(f, "original",
		      vstr(m == top          ? "not found"
			   : m->headers_only ? "headers only"
					     : "whole message"),
		      NULL);
		putc('\n', f);
	}
	fputs("Message\n", f);
	tline(f, "From", m->from.ok ? m->from.addr : vnone(),
	      m->from.count > 1 ? "more than one mailbox" : NULL);
	if (m->reply_to.ok)
		tline(f, "Reply-To", m->reply_to.addr, NULL);
	if (m->sender.ok)
		tline(f, "Sender", m->sender.addr, NULL);
	tline(f, "Subject", m->subject, NULL);
	tline(f, "Message-ID", m->message_id, NULL);
	if (m->list_id.p)
		tline(f, "List-Id", m->list_id, NULL);
	for (size_t i = 0; i < top->nwarnings; i++)
		tline(f, "warning", vstr(top->warnings[i]), NULL);
	putc('\n', f);

	fputs("Envelope\n", f);
	if (a->hop >= 0) {
		const msgp_received *h = &m->received[a->hop];
		snprintf(note, sizeof note, "Received #%ld of %zu, %s",
			 a->hop + 1, m->nreceived, a->hop_how);
		tline(f, "hop", h->by, note);
		for (size_t i = 0; i < a->nskipped; i++) {
			snprintf(note, sizeof note, "skipped Received #%zu: %s",
				 a->skipped[i] + 1, a->skipped_why[i]);
			tline(f, "", m->received[a->skipped[i]].by, note);
		}
	}
	tline(f, "client IP", a->ip, a->ip_source);
	tline(f, "HELO", a->helo, a->helo_source);
	tline(f, "MAIL FROM",
	      a->sender_known ? (a->null_sender ? vstr("<>") : a->sender)
			      : vnone(),
	      a->sender_source);
	tline(f, "receiver", a->receiver, a->receiver_source);
	putc('\n', f);

	fputs("Receiver said\n", f);
	if (m->nrspf == 0 && m->nauthres == 0)
		fputs("  nothing: no Received-SPF or Authentication-Results "
		      "field\n",
		      f);
	for (size_t i = 0; i < m->nrspf; i++) {
		const msgp_rspf *r = &m->rspf[i];
		fputs("  Received-SPF ", f);
		tv(f, r->result);
		fputs(" by ", f);
		tv(f, r->receiver);
		if (r->client_ip.p) {
			fputs(" for ", f);
			tv(f, r->client_ip);
		}
		fprintf(f, "  [%s: %s]\n",
			a->rspf_trust[i].trusted ? "the receiver's"
						 : "not the receiver's",
			a->rspf_trust[i].why);
	}
	for (size_t i = 0; i < m->nauthres; i++) {
		const msgp_authres *r = &m->authres[i];
		fputs("  Authentication-Results ", f);
		tv(f, r->authserv_id);
		fputs(": spf=", f);
		tv(f, r->spf);
		if (r->spf_mailfrom.p) {
			fputs(" smtp.mailfrom=", f);
			tv(f, r->spf_mailfrom);
		}
		if (r->dmarc.p) {
			fputs(" dmarc=", f);
			tv(f, r->dmarc);
		}
		fprintf(f, "  [%s: %s]\n",
			a->ar_trust[i].trusted ? "the receiver's"
			: !r->authserv_id.p
			    ? "unattributed"
			    : "NOT the receiver's, possibly forged",
			a->ar_trust[i].why);
	}
	putc('\n', f);

	fputs("Re-check\n", f);
	if (!a->main.done) {
		fputs("  not done: ", f);
		ts(f, a->why_not);
		putc('\n', f);
	} else {
		spfkit_check *c = a->main.chk;
		snprintf(note, sizeof note, "%s, DNS from %s",
			 spfkit_check_identity(c), dns_name);
		tline(f, "result", vstr(spfkit_result_name(a->main.result)),
		      note);
		tline(f, "domain", vstr(spfkit_check_domain(c)), NULL);
		if (spfkit_check_mechanism(c))
			tline(f, "matched", vstr(spfkit_check_mechanism(c)),
			      spfkit_check_where(c));
		if (spfkit_check_explanation(c))
			tline(f, "explanation",
			      vstr(spfkit_check_explanation(c)), NULL);
		if (spfkit_check_problem(c))
			tline(f, "problem", vstr(spfkit_check_problem(c)),
			      NULL);
		if (a->recorded) {
			snprintf(note, sizeof note, "%s: %s",
				 a->recorded_source, a->compared);
			tline(f, "recorded", vstr(a->recorded), note);
		} else {
			tline(f, "recorded", vstr("nothing"), NULL);
		}
		if (a->helo_chk.done)
			tline(f, "HELO check",
			      vstr(spfkit_result_name(a->helo_chk.result)),
			      spfkit_check_domain(a->helo_chk.chk));
		if (a->up.done) {
			snprintf(note, sizeof note, "Received #%ld",
				 a->up_hop + 1);
			fputs("  earlier hop  ", f);
			tv(f, a->m->received[a->up_hop].ip);
			fprintf(f, ": %s  (%s)\n",
				spfkit_result_name(a->up.result), note);
		}
	}
	putc('\n', f);

	fputs("Alignment (DMARC, RFC 7489 section 3.1.2)\n", f);
	if (!a->have_align) {
		fputs("  unknown: ", f);
		fputs(!a->main.done ? "no re-check"
				    : "no usable header From domain",
		      f);
		putc('\n', f);
	} else {
		tline(f, "From domain", vstr(a->from_dom), a->from_org);
		tline(f, "SPF domain", vstr(a->spf_dom), a->spf_dom_source);
		fprintf(f, "  %-13s%s\n", "strict", a->strict ? "yes" : "no");
		fprintf(f, "  %-13s%s%s\n", "relaxed",
			a->relaxed ? "yes" : "no",
			a->psl_ok ? "" : "  (no public suffix list)");
		fprintf(f, "  %-13s%s\n", "DMARC SPF",
			a->spf_pass && a->relaxed ? "pass"
			: a->spf_pass ? "fail (SPF passes, not aligned)"
				      : "fail (SPF did not pass)");
	}
	putc('\n', f);

	fputs("Diagnosis\n", f);
	for (size_t i = 0; i < a->ndiags; i++) {
		char head[64];
		snprintf(head, sizeof head, "  - %s: ", a->diags[i].code);
		twrap(f, a->diags[i].text, head, "    ");
	}
}

/* ------------------------------------------------------------ main */

static void free_analysis(analysis *a)
{
	spfkit_check_free(a->main.chk);
	spfkit_check_free(a->helo_chk.chk);
	spfkit_check_free(a->up.chk);
	free(a->rspf_trust);
	free(a->ar_trust);
}

static int analyse(const msg_opts *o, const msgp_msg *top, spfkit_config *cfg,
		   cli_dns *dns, FILE *out)
{
	analysis a = {.top = top, .m = top, .hop = -1, .up_hop = -1};
	a.is_bounce = top->bounce != MSGP_BOUNCE_NONE;
	if (a.is_bounce && top->original)
		a.m = top->original;
	psl_ctx_t *psl = psl_latest(NULL);
	bool own_psl = psl != NULL;
	if (!psl)
		psl = (psl_ctx_t *)psl_builtin();
	int status = choose_hop(o, psl, &a);
	if (status) {
		if (own_psl)
			psl_free(psl);
		return status;
	}
	a.rspf_trust = calloc(a.m->nrspf + 1, sizeof *a.rspf_trust);
	a.ar_trust = calloc(a.m->nauthres + 1, sizeof *a.ar_trust);
	if (!a.rspf_trust || !a.ar_trust) {
		if (own_psl)
			psl_free(psl);
		free_analysis(&a);
		return fatal(CLI_EX_SOFTWARE, "%s",
			     spfkit_strerror(SPFKIT_ENOMEM));
	}
	/* The receiver judges the trace fields, whose Received-SPF may name
	 * the envelope sender. */
	pick_identities(o, &a);
	judge_trace(o, &a);
	pick_sender(o, &a);
	if (a.receiver.p && a.receiver.len < 254) {
		/* %{r} in explanations (RFC 7208 §7.3); a name the library
		 * refuses leaves its default. */
		char r[256];
		memcpy(r, a.receiver.p, a.receiver.len);
		r[a.receiver.len] = '\0';
		(void)spfkit_config_set_receiver(cfg, r);
	}
	status = run_checks(dns, cfg, &a);
	if (status) {
		if (own_psl)
			psl_free(psl);
		free_analysis(&a);
		return status;
	}
	align(psl, &a);
	diagnose(psl, &a);
	if (o->format == CLI_FORMAT_JSON)
		out_json(out, &a, cli_dns_name(dns));
	else
		out_text(out, &a, cli_dns_name(dns));
	if (own_psl)
		psl_free(psl);
	free_analysis(&a);
	return 0;
}

int cli_message_main(int argc, char **argv)
{
	msg_opts o = {.format = CLI_FORMAT_TEXT};
	size_t nargs = (size_t)(argc > 0 ? argc : 1);
	o.dns.zones = calloc(nargs, sizeof *o.dns.zones);
	o.dns.nameservers = calloc(nargs, sizeof *o.dns.nameservers);
	char *buf = NULL;
	msgp_msg *msg = NULL;
	spfkit_config *cfg = NULL;
	cli_dns *dns = NULL;
	int status = 0;
	if (!o.dns.zones || !o.dns.nameservers) {
		status = fatal(CLI_EX_SOFTWARE, "%s",
			       spfkit_strerror(SPFKIT_ENOMEM));
		goto out;
	}
	status = parse_args(argc, argv, &o);
	if (status)
		goto out;
	size_t len = 0;
	status = read_input(o.file, &buf, &len);
	if (status)
		goto out;
	char err[256];
	int rc = msgp_parse(buf, len, NULL, &msg, err, sizeof err);
	if (rc < 0) {
		status = fatal(
		    rc == SPFKIT_ENOMEM ? CLI_EX_SOFTWARE : CLI_EX_DATAERR,
		    "%s: %s",
		    o.file && strcmp(o.file, "-") != 0 ? shown(o.file)
						       : "standard input",
		    err);
		goto out;
	}
	rc = spfkit_config_new(&cfg, NULL);
	if (rc == SPFKIT_OK)
		rc = cli_dns_configure(&o.dns, cfg);
	if (rc < 0) {
		status = fatal(CLI_EX_SOFTWARE, "%s", spfkit_strerror(rc));
		goto out;
	}
	status = cli_dns_open(&o.dns, cfg, PROG, &dns);
	if (status)
		goto out;
	status = analyse(&o, msg, cfg, dns, stdout);
	if (status == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		status = fatal(CLI_EX_SOFTWARE, "writing standard output: %s",
			       strerror(errno ? errno : EIO));
out:
	cli_dns_close(dns);
	spfkit_config_free(cfg);
	msgp_free(msg);
	free(buf);
	free(o.dns.zones);
	free(o.dns.nameservers);
	return status < 0 ? 0 : status;
}
