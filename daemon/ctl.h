/*
 * complaintctl — the companion CLI. Each subcommand is a function
 * `int cmd_X(int argc, char **argv)` returning the process exit code:
 * 0 ok, 1 runtime failure, 2 bad usage or bad input.
 */
#ifndef COMPLAINTD_CTL_H
#define COMPLAINTD_CTL_H

#include <stdio.h>

#include "complaint.pb-c.h"

int cmd_classify(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_control(int argc, char **argv);  /* ping and any other control word */
int cmd_history(int argc, char **argv);
int cmd_employee(int argc, char **argv);
int cmd_forget(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_keygen(int argc, char **argv);

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
 * NULL on failure. */
struct rulepack *ctl_load_pack(const char *dir);

/* send --acked: at-least-once over the acknowledged endpoint. */
int ctl_send_acked(const char *endpoint, FILE *in, const char *input, long window, int retry_ms,
                   int timeout_ms, long rate, const char *curve_server_key,
                   const char *curve_key_file);

/* stats --watch: stats every interval_ms, totals and rates per second, redrawn
 * like top on a terminal, one line per sample otherwise; count > 0 stops after
 * that many samples. */
int ctl_stats_watch(const char *control_endpoint, int interval_ms, long count, int timeout_ms);

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

/* Cluster mode (ctl_nats.c, ctl_cluster.c): send/tail given --nats go
 * through NATS JetStream; `cluster` prints the cluster's state. */
int ctl_nats_wanted(int argc, char **argv);
int ctl_nats_main(const char *cmd, int argc, char **argv);
int ctl_nats_cluster(const char *urls);

#define CTL_USAGE 2
#define CTL_FAIL 1

#endif
