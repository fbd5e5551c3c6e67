/*
 * dnsopts.h - the DNS options of the spfkit command and the DNS source
 * they open, for the subcommands that include this name: both live in
 * the support library now (src/support/opts.h: the options, their table,
 * handler and checks; src/support/dnsrun.h: opening the source and
 * running a check to its result).
 */
#ifndef SPFKIT_DNSOPTS_H
#define SPFKIT_DNSOPTS_H

#include "dnsrun.h"
#include "opts.h"

#endif /* SPFKIT_DNSOPTS_H */
