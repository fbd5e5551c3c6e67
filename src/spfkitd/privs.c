/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privs.c - who spfkitd runs as (privs.h). Started as root it binds its
 * sockets, then becomes user= for good (after chroot=, if set); under
 * systemd it is started as its own user already (User=spfkitd) and has
 * nothing to drop. Either way a reload (SIGHUP) reads the configuration,
 * the SRS secrets and the zone files again as that user: a file only
 * root can read would make every reload fail, so the start and -t say so
 * while it can still be fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privs.h"

bool privs_find_user(const spfkitd_conf *c, uid_t *uid, gid_t *gid, char *err,
		     size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(c->user);
	if (!pw) {
		spfkitd_conf_error(c, spfkitd_conf_line(c, "user"), "user", err,
				   errlen, "'%s': %s", c->user,
				   errno ? strerror(errno) : "no such user");
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

/* Is this process uid/gid already, and nothing more? */
static bool already(uid_t uid, gid_t gid)
{
	return getuid() == uid && geteuid() == uid && getgid() == gid &&
	       getegid() == gid;
}

bool privs_will_drop(const spfkitd_conf *c, uid_t uid)
{
	return (c->user && geteuid() == 0 && uid != 0) || c->chroot_dir;
}

bool privs_drop(const spfkitd_conf *c, uid_t uid, gid_t gid, char *err,
		size_t errlen)
{
	if (c->chroot_dir) {
		if (chroot(c->chroot_dir) != 0 || chdir("/") != 0) {
			spfkitd_conf_error(c, spfkitd_conf_line(c, "chroot"),
					   "chroot", err, errlen, "%s: %s",
					   c->chroot_dir, strerror(errno));
			return false;
		}
	}
	if (!c->user || already(uid, gid))
		return true;
	unsigned line = spfkitd_conf_line(c, "user");
	if (geteuid() != 0) {
		spfkitd_conf_error(c, line, "user", err, errlen,
				   "cannot become %s: not started as root "
				   "(running as uid %ld)",
				   c->user, (long)geteuid());
		return false;
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		spfkitd_conf_error(c, line, "user", err, errlen,
				   "becoming %s: %s", c->user, strerror(errno));
		return false;
	}
	if (uid != 0 && setuid(0) == 0) {
		spfkitd_conf_error(c, line, "user", err, errlen,
				   "becoming %s: root could be regained",
				   c->user);
		return false;
	}
	return true;
}

/* In the child of privs_warnings(): one line on fd per file of c that
 * the user, now, cannot open. */
static void check_files(const spfkitd_conf *c, const char *config_path,
			const char *group, int fd)
{
	typedef struct reread {
		const char *key, *path;
		unsigned line;
	} reread;
	reread f[64];
	size_t n = 0;
	f[n++] = (reread){"configuration", config_path, 0};
	if (c->srs_secrets)
		f[n++] = (reread){"srs_secrets", c->srs_secrets,
				  spfkitd_conf_line(c, "srs_secrets")};
	if (c->trust_anchor)
		f[n++] = (reread){"trust_anchor", c->trust_anchor,
				  spfkitd_conf_line(c, "trust_anchor")};
	for (size_t i = 0; i < c->zone_files.n && n < 64; i++)
		f[n++] = (reread){"zone_file", c->zone_files.v[i],
				  spfkitd_strlist_line(&c->zone_files, i)};
	for (size_t i = 0; i < n; i++) {
		int k = open(f[i].path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (k >= 0) {
			close(k);
			continue;
		}
		char msg[1024];
		spfkitd_conf_error(c, f[i].line, f[i].key, msg, sizeof msg,
				   "%s: not readable by user %s (%s): a reload "
				   "would fail; let that user read it (for "
				   "example group %s, mode 0640)",
				   f[i].path, c->user, strerror(errno), group);
		size_t len = strlen(msg);
		msg[len++] = '\n';
		(void)!write(fd, msg, len);
	}
}

void privs_warnings(const spfkitd_conf *c, const char *config_path, uid_t uid,
		    gid_t gid, spfkitd_strlist *out)
{
	if (geteuid() == 0 && !c->user) {
		char msg[512];
		spfkitd_conf_error(c, 0, "user", msg, sizeof msg,
				   "not set: spfkitd runs as root; give it an "
				   "account of its own (user = spfkitd, or "
				   "systemd's User=)");
		spfkitd_strlist_add(out, msg, 0);
	}
	if (geteuid() != 0 || !c->user || uid == 0)
		return;
	struct group *gr = getgrgid(gid);
	char group[64];
	snprintf(group, sizeof group, "%s", gr ? gr->gr_name : c->user);
	int p[2];
	if (pipe(p) != 0)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		/* As the daemon will be: in its chroot, as its user. */
		if ((c->chroot_dir &&
		     (chroot(c->chroot_dir) != 0 || chdir("/") != 0)) ||
		    setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
		    setuid(uid) != 0)
			_exit(1);
		check_files(c, config_path, group, p[1]);
		_exit(0);
	}
	close(p[1]);
	char buf[8192];
	size_t len = 0;
	ssize_t k;
	while ((k = read(p[0], buf + len, sizeof buf - 1 - len)) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0)
			len += (size_t)k;
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	buf[len] = '\0';
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		spfkitd_strlist_add(out, line, 0);
	}
}

rlim_t privs_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = {rl.rlim_max, rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = rl.rlim_max;
	}
	return rl.rlim_cur;
}
