/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * files.h - the files spfkitd creates, its pid file and unix sockets,
 * made safely (files.c): in a directory only root and spfkitd may write,
 * never through a symbolic link, with their mode from the start, and
 * removed at the end only if still the ones made.
 */
#ifndef SPFKITD_FILES_H
#define SPFKITD_FILES_H

#include <stdbool.h>
#include <sys/types.h>

/* A file made by the daemon: its directory held open, its name there. */
typedef struct spfkitd_file {
	int dirfd;  /* the directory, or -1 */
	int fd;     /* the pid file, held open and locked, or -1 */
	char *name; /* the last component of path */
	char *path;
	dev_t dev; /* what was made, to remove only that */
	ino_t ino;
	bool made;
} spfkitd_file;

/* An empty one. */
#define SPFKITD_FILE_NONE ((spfkitd_file){.dirfd = -1, .fd = -1})

/* Writes the pid of this process into path (created mode 0644, or an
 * earlier one of ours truncated), locked while the daemon runs. False
 * with "PATH: why" in err: a symbolic link, a file not ours, a directory
 * others may write to, another spfkitd holding it. */
bool spfkitd_pidfile_create(const char *path, spfkitd_file *f, char *err,
			    size_t errlen);

/* A listening unix socket at path (mode 0666 from its creation, an
 * earlier socket there replaced), non-blocking and close-on-exec. -1
 * with "PATH: why" in err. */
int spfkitd_unix_listen(const char *path, int backlog, spfkitd_file *f,
			char *err, size_t errlen);

/* Removes the file f made, if it is still that one, and closes f. */
void spfkitd_file_remove(spfkitd_file *f);
/* Closes f without removing anything. */
void spfkitd_file_close(spfkitd_file *f);

#endif /* SPFKITD_FILES_H */
