/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privs.h - who spfkitd runs as and what that lets it do (privs.c): the
 * user= account, dropping root for good, checking at start that what a
 * reload reads again is readable once root is gone, and the descriptor
 * limit.
 */
#ifndef SPFKITD_PRIVS_H
#define SPFKITD_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "config.h"

/* Looks up user= of c. False with "FILE:LINE: user: ..." in err. */
bool privs_find_user(const spfkitd_conf *c, uid_t *uid, gid_t *gid, char *err,
		     size_t errlen);

/* Will the daemon change identity (root with user=, or a chroot)? */
bool privs_will_drop(const spfkitd_conf *c, uid_t uid);

/* chroot (if set), then the user's group and id, for good. Already that
 * user (systemd's User=), nothing changes. False with a message in err
 * (naming the key). */
bool privs_drop(const spfkitd_conf *c, uid_t uid, gid_t gid, char *err,
		size_t errlen);

/* Runtime warnings about who the daemon runs as, added to out: root with
 * no user=, and every file a reload reads again (config_path, srs_secrets,
 * zone_file, trust_anchor) that the user it becomes cannot read (looked
 * at from a child process that drops as the daemon will). */
void privs_warnings(const spfkitd_conf *c, const char *config_path, uid_t uid,
		    gid_t gid, spfkitd_strlist *out);

/* Raises the soft descriptor limit to the hard one; returns the limit
 * now in force. */
rlim_t privs_raise_nofile(void);

#endif /* SPFKITD_PRIVS_H */
