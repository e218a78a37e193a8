/*
 * paths — where the binaries find their data files (the rule pack, the
 * model) when the configuration names them relative to the repository.
 *
 * A path as configured is used as it is when it exists, so running from
 * the repository works as it always has ("rules" is ./rules). A relative
 * path that does not exist is looked for next to the binary's directory
 * (build/../rules) and then under the data directory compiled in at build
 * time (COMPLAINTD_DATADIR, /usr/share/complaintd for the package): an
 * installed complaintd finds /usr/share/complaintd/rules with no flag.
 */
#ifndef COMPLAINTD_PATHS_H
#define COMPLAINTD_PATHS_H

#include <stddef.h>

/* The compiled-in data directory ("/usr/share/complaintd"). */
const char *paths_datadir(void);

/* Resolve configured (see above) into out. Returns 1 if a fallback was
 * taken, 0 if configured is kept as it is (it exists, is absolute, or no
 * fallback exists either: the caller's error then names the configured
 * path). */
int paths_find(const char *configured, char *out, size_t outlen);

#endif
