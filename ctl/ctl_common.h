/*
 * ctl_common — helpers several complaintctl subcommands share (ctl_common.c)
 * and the exit codes every subcommand returns.
 */
#ifndef COMPLAINTD_CTL_COMMON_H
#define COMPLAINTD_CTL_COMMON_H

#include <stdio.h>

#include "complaint.pb-c.h"

#define CTL_USAGE 2
#define CTL_FAIL 1

/* CURVE for a client socket, from --curve-server-key and --curve-key-file
 * (both or neither). Returns 0, or -1 after printing why. */
int ctl_apply_curve(void *sock, const char *server_key, const char *key_file);

/* The rule pack directory to use when none is given: ./rules, or the pack
 * beside the binary (<exe>/../rules) when run from elsewhere. */
const char *ctl_default_rules(void);

/* Where compiled rule databases are cached: $COMPLAINTD_CACHE, else
 * $HOME/.cache/complaintd, else NULL (no cache). */
const char *ctl_cache_dir(void);

struct rulepack;
/* Load and compile a pack through the cache; prints the error and returns
 * NULL on failure. The caller owns the pack (rulepack_free). */
struct rulepack *ctl_load_pack(const char *dir);

/* Open path for reading ("-" = stdin); message and NULL on failure. */
FILE *ctl_open_input(const char *path);

/* Called for each event of a JSON Lines input; the event is freed after.
 * Return 0 to go on, CTL_USAGE or CTL_FAIL to record a problem and go on,
 * or a negative number to stop. */
typedef int (*ctl_event_fn)(Complaint__V1__ComplaintEvent *ev, const char *input, long lineno,
                            void *ctx);

/* Read JSON Lines events from in and call fn for each. A line that is not an
 * event is reported as "complaintctl: INPUT:LINE: problem" and skipped.
 * Returns the worst status: 0, CTL_FAIL or CTL_USAGE. */
int ctl_each_event(FILE *in, const char *input, ctl_event_fn fn, void *ctx);

/* One line of JSON Lines input; returns its length or -1 at end. The line is
 * owned by the caller's *buf (getline style). */
long ctl_read_line(FILE *f, char **buf, size_t *cap);

#endif
