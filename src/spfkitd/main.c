/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - spfkitd, the SPF policy service and milter (spfkitd(8)):
 * options, configuration check (-t), sockets, daemon start, privilege
 * drop, then the event loop in server.c. --stdio serves one connection
 * on standard input and output, as Postfix's spawn(8) runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spfkit.h>

#include "config.h"
#include "files.h"
#include "log.h"
#include "privs.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/spfkitd.conf"

/* sysexits(3) values, as the spfkit command uses them. */
#define EX_USAGE_  64
#define EX_CONFIG_ 78

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: spfkitd [-f] [-c FILE]         serve on the listen= and "
	    "milter_listen= sockets\n"
	    "       spfkitd --stdio [-c FILE]      serve one connection on "
	    "stdin/stdout (spawn(8))\n"
	    "       spfkitd -t [-c FILE]           check the configuration "
	    "and exit\n"
	    "       spfkitd --status[=ENDPOINT] [-c FILE]\n"
	    "                                      print a one-line summary "
	    "from metrics_listen\n"
	    "       spfkitd --metrics[=ENDPOINT] [-c FILE]\n"
	    "\n"
	    "  -c, --config FILE   configuration (default %s)\n"
	    "  -f, --foreground    do not become a daemon\n"
	    "  -s, --stdio         one policy connection on stdin/stdout\n"
	    "  -t, --test-config   check FILE (zones, user) and exit 0 or 1\n"
	    "  -h, --help          this text;  -V, --version\n"
	    "See spfkitd(8) and spfkitd.conf(5).\n",
	    DEFAULT_CONFIG);
}

/* Detaches from the terminal: fork, new session, standard files on
 * /dev/null. The parent exits 0. */
static bool daemonize(char *err, size_t errlen)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return false;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() < 0) {
		snprintf(err, errlen, "setsid: %s", strerror(errno));
		return false;
	}
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chdir("/") != 0) {
		snprintf(err, errlen, "chdir /: %s", strerror(errno));
		return false;
	}
	return true;
}

/* Reports a warning: on standard error for -t, in the log otherwise. */
static void say_warning(bool test, const char *msg)
{
	if (test)
		fprintf(stderr, "spfkitd: warning: %s\n", msg);
	else
		spfkitd_log(LOG_WARNING, "%s", msg);
}

/* The warnings of a configuration (exposed listeners, root, files a
 * reload could not read); -t prints them, the start logs them. */
static void warnings(const spfkitd_conf *c, const spfkitd_strlist *more,
		     bool test)
{
	for (size_t i = 0; i < c->warnings.n; i++)
		say_warning(test, c->warnings.v[i]);
	for (size_t i = 0; i < more->n; i++)
		say_warning(test, more->v[i]);
}

/* Descriptors libunbound may hold (its outgoing-range and outgoing TCP
 * connections, lib/dns/unbound.c), and the daemon's own few. */
#define DNS_FDS  (768u + 128u)
#define BASE_FDS 64u

/* Says when the listeners' limits and DNS may need more descriptors than
 * the limit gives: past it, accepting pauses (listen.c). */
static void check_fd_budget(const spfkitd_server *s, const spfkitd_conf *c,
			    rlim_t limit)
{
	size_t want = spfkitd_server_fds_wanted(s) + DNS_FDS + BASE_FDS;
	if (limit == RLIM_INFINITY || want <= limit)
		return;
	char msg[512];
	spfkitd_conf_error(c, spfkitd_conf_line(c, "max_connections"),
			   "max_connections", msg, sizeof msg,
			   "the listeners' limits and DNS may need %zu "
			   "descriptors, the limit is %llu: raise it "
			   "(LimitNOFILE=, ulimit -n) or lower "
			   "max_connections; past it new connections wait",
			   want, (unsigned long long)limit);
	spfkitd_log(LOG_WARNING, "%s", msg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"stdio", no_argument, NULL, 's'},
	    {"test-config", no_argument, NULL, 't'},
	    {"status", optional_argument, NULL, 'S'},
	    {"metrics", optional_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	const char *config = DEFAULT_CONFIG;
	const char *fetch_path = NULL, *fetch_ep = NULL;
	bool foreground = false, stdio = false, test = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "c:fsthV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'f': foreground = true; break;
		case 's': stdio = true; break;
		case 't': test = true; break;
		case 'S':
			fetch_path = "/status";
			fetch_ep = optarg;
			break;
		case 'M':
			fetch_path = "/metrics";
			fetch_ep = optarg;
			break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("spfkitd %s (libspfkit %s)\n", SPFKIT_VERSION,
			       spfkit_version());
			return 0;
		default: usage(stderr); return EX_USAGE_;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "spfkitd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EX_USAGE_;
	}

	char err[1024];
	if (fetch_path && fetch_ep)
		return spfkitd_fetch(fetch_ep, fetch_path);

	spfkitd_conf *conf = spfkitd_conf_load(config, err, sizeof err);
	if (!conf) {
		fprintf(stderr, "spfkitd: %s\n", err);
		return test ? 1 : EX_CONFIG_;
	}
	if (fetch_path) {
		int rc = 1;
		if (!conf->metrics_listen)
			fprintf(stderr, "spfkitd: %s: no metrics_listen=\n",
				config);
		else
			rc = spfkitd_fetch(conf->metrics_listen, fetch_path);
		spfkitd_conf_free(conf);
		return rc;
	}

	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	if (conf->user && !privs_find_user(conf, &uid, &gid, err, sizeof err)) {
		fprintf(stderr, "spfkitd: %s\n", err);
		spfkitd_conf_free(conf);
		return test ? 1 : EX_CONFIG_;
	}
	if (test && conf->chroot_dir) {
		struct stat st;
		if (stat(conf->chroot_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			spfkitd_conf_error(
			    conf, spfkitd_conf_line(conf, "chroot"), "chroot",
			    err, sizeof err, "%s: not a directory",
			    conf->chroot_dir);
			fprintf(stderr, "spfkitd: %s\n", err);
			spfkitd_conf_free(conf);
			return 1;
		}
	}
	/* Reloads read the same file after chdir("/"). */
	char abs[PATH_MAX];
	const char *config_path = realpath(config, abs) ? abs : config;
	/* Before the resolver exists: privs_warnings() forks. */
	spfkitd_strlist more = {0};
	privs_warnings(conf, config_path, uid, gid, &more);

	spfkitd_log_target target = conf->log;
	int facility = conf->log_facility;
	spfkitd_gen *g = spfkitd_gen_new(conf, err, sizeof err);
	if (!g) {
		fprintf(stderr, "spfkitd: %s\n", err);
		spfkitd_strlist_free(&more);
		return test ? 1 : EX_CONFIG_;
	}
	const spfkitd_conf *c = spfkitd_gen_conf(g);
	if (test) {
		for (size_t i = 0; i < c->notes.n; i++)
			printf("spfkitd: %s\n", c->notes.v[i]);
		warnings(c, &more, true);
		printf("spfkitd: %s: configuration ok\n", config);
		spfkitd_strlist_free(&more);
		spfkitd_gen_free(g);
		return 0;
	}
	spfkitd_log_open(target, facility);
	spfkitd_server *s = spfkitd_server_new(g);
	if (!s) {
		fprintf(stderr, "spfkitd: out of memory\n");
		spfkitd_strlist_free(&more);
		return 1;
	}
	if (!stdio)
		warnings(c, &more, false);
	spfkitd_strlist_free(&more);
	rlim_t nofile = privs_raise_nofile();
	bool ok;
	if (stdio)
		ok = spfkitd_server_add_stdio(s, 0, 1);
	else
		ok = spfkitd_server_listen(s, err, sizeof err);
	if (ok && !stdio)
		check_fd_budget(s, c, nofile);
	if (ok && !stdio && !foreground)
		ok = daemonize(err, sizeof err);
	spfkitd_file pidf = SPFKITD_FILE_NONE;
	if (ok && !stdio && c->pid_file) {
		char why[1024];
		ok =
		    spfkitd_pidfile_create(c->pid_file, &pidf, why, sizeof why);
		if (!ok)
			spfkitd_conf_error(c, spfkitd_conf_line(c, "pid_file"),
					   "pid_file", err, sizeof err, "%s",
					   why);
	}
	/* In spawn(8) mode master.cf's user= has already been applied;
	 * only root drops further. */
	if (ok && (!stdio || geteuid() == 0) && (c->user || c->chroot_dir))
		ok = privs_drop(c, uid, gid, err, sizeof err);
	if (!ok) {
		spfkitd_log(LOG_ERR, "%s", err);
		if (target != SPFKITD_LOG_STDERR)
			fprintf(stderr, "spfkitd: %s\n", err);
		spfkitd_file_remove(&pidf);
		spfkitd_server_free(s);
		return 1;
	}
	if (!stdio)
		spfkitd_log(LOG_INFO, "started (spfkit %s)", spfkit_version());
	int rc = spfkitd_server_run(s, config_path);
	spfkitd_server_free(s);
	spfkitd_file_remove(&pidf);
	return rc;
}
