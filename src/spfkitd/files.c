/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * files.c - the files spfkitd creates (files.h): its pid file and its
 * unix sockets. Both are made in a directory that only root and spfkitd
 * may write to (one where nobody else can put a symbolic link or a file
 * of their own in the way), relative to that directory held open, never
 * through a symbolic link, and with their mode from the start: no
 * chmod() or chown() by path after the fact, which a link swapped in
 * between would redirect (started as root, the pid file used to be
 * written through a symbolic link to any file). The directory is the one
 * systemd's RuntimeDirectory= makes (/run/spfkitd, owned by the daemon's
 * user); the daemon removes its files there when it stops.
 */
#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "files.h"

/* Splits path into its directory (a copy in dir, dirlen bytes) and its
 * last component (*base, inside path). False when path has no last
 * component or its directory does not fit. */
static bool split_path(const char *path, char *dir, size_t dirlen,
		       const char **base)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
		return false;
	size_t n = slash ? (size_t)(slash - path) : 0;
	if (slash && n == 0)
		n = 1; /* the root directory */
	if (!slash) {
		snprintf(dir, dirlen, ".");
	} else {
		if (n >= dirlen)
			return false;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	*base = b;
	return true;
}

/* Opens the directory of path and checks that only its owner may write
 * to it; fills f's directory and name. On failure returns false with
 * "why" in err. */
static bool open_dir(const char *path, spfkitd_file *f, char *err,
		     size_t errlen)
{
	char dir[4096];
	const char *base;
	*f = SPFKITD_FILE_NONE;
	if (!split_path(path, dir, sizeof dir, &base)) {
		snprintf(err, errlen, "%s: not a file name", path);
		return false;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: directory %s: %s", path, dir,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s: directory %s is writable by others (mode %04o): "
			 "use one only root and spfkitd may write, such as "
			 "/run/spfkitd (RuntimeDirectory=)",
			 path, dir, (unsigned)(st.st_mode & 07777));
		close(fd);
		return false;
	}
	f->name = strdup(base);
	f->path = strdup(path);
	if (!f->name || !f->path) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		spfkitd_file_close(f);
		return false;
	}
	f->dirfd = fd;
	return true;
}

/* Notes the identity of f's name now (to remove it later only if it is
 * still ours). */
static void note_identity(spfkitd_file *f)
{
	struct stat st;
	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->made = true;
	}
}

bool spfkitd_pidfile_create(const char *path, spfkitd_file *f, char *err,
			    size_t errlen)
{
	if (!open_dir(path, f, err, errlen))
		return false;
	/* O_NOFOLLOW: a symbolic link in its place is refused (ELOOP), not
	 * followed to whatever it names. */
	int fd = openat(
	    f->dirfd, f->name,
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == ELOOP ? "is a symbolic link (not followed)"
					: strerror(errno));
		spfkitd_file_close(f);
		return false;
	}
	/* A hard link to another file, a device or a FIFO is not ours. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s: not a regular file of ours with one link: left "
			 "as it is",
			 path);
		close(fd);
		spfkitd_file_close(f);
		return false;
	}
	/* Held while the daemon runs: a second one started with the same
	 * file stops here. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == EWOULDBLOCK ? "locked by a running spfkitd"
					      : strerror(errno));
		close(fd);
		spfkitd_file_close(f);
		return false;
	}
	char text[32];
	int k = snprintf(text, sizeof text, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t)k) != k) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		spfkitd_file_close(f);
		return false;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->made = true;
	return true;
}

int spfkitd_unix_listen(const char *path, int backlog, spfkitd_file *f,
			char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (!open_dir(path, f, err, errlen))
		return -1;
	size_t n = strlen(f->name);
	if (n >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: file name too long", path);
		spfkitd_file_close(f);
		return -1;
	}
	memcpy(sun.sun_path, f->name, n + 1);
	/* A socket left by an earlier run is replaced; anything else in its
	 * place (a symbolic link included) is left alone. */
	struct stat st;
	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket",
				 path);
			spfkitd_file_close(f);
			return -1;
		}
		unlinkat(f->dirfd, f->name, 0);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || cwd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* bind() makes the file by a path: relative to the directory held
	 * open (the path to it cannot be changed under us), with the mode
	 * given by the umask from the start: 0666, as every MTA user must
	 * connect (the directory says who may reach it). */
	mode_t old = umask(0111);
	int rc = fchdir(f->dirfd);
	if (rc == 0)
		rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	int e = errno;
	umask(old);
	if (fchdir(cwd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	close(cwd);
	cwd = -1;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto fail;
	}
	note_identity(f);
	if (listen(fd, backlog) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (cwd >= 0)
		close(cwd);
	spfkitd_file_remove(f);
	return -1;
}

void spfkitd_file_remove(spfkitd_file *f)
{
	if (!f)
		return;
	struct stat st;
	/* Only the file made: a name someone replaced stays. Removing needs
	 * write permission on the directory: after a privilege drop that is
	 * the runtime directory of the daemon's user, else it stays (and is
	 * replaced at the next start). */
	if (f->made && f->dirfd >= 0 &&
	    fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == f->dev && st.st_ino == f->ino)
		unlinkat(f->dirfd, f->name, 0);
	spfkitd_file_close(f);
}

void spfkitd_file_close(spfkitd_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->name);
	free(f->path);
	*f = SPFKITD_FILE_NONE;
}
