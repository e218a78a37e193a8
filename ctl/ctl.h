/*
 * complaintctl — the companion CLI. Each subcommand is a function
 * `int cmd_X(int argc, char **argv)` returning the process exit code:
 * 0 ok, 1 runtime failure, 2 bad usage or bad input. complaintctl.c
 * dispatches to them; they live in the ctl_*.c files.
 */
#ifndef COMPLAINTD_CTL_H
#define COMPLAINTD_CTL_H

#include <stdio.h>

/* Every subcommand uses the exit codes and most the shared helpers. */
#include "ctl_common.h"

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
int cmd_train(int argc, char **argv);
int cmd_feedback(int argc, char **argv); /* managers' reviews to a daemon */

/* forget through a running daemon's control endpoint (ctl_forget.c): 1 if
 * it did (the exit code in *status), 0 to write the store directly; takes
 * --control and --config out of argv either way. */
int ctl_forget_via_daemon(int *argc, char **argv, int *status);

/* Cluster mode (ctl_nats.c, ctl_cluster.c): send/tail given --nats go
 * through NATS JetStream; `cluster` prints the cluster's state. */
int ctl_nats_wanted(int argc, char **argv);
int ctl_nats_main(const char *cmd, int argc, char **argv);
int ctl_nats_cluster(const char *urls);

/* send --acked (ctl_send_acked.c): at-least-once over the acknowledged endpoint. */
int ctl_send_acked(const char *endpoint, FILE *in, const char *input, long window, int retry_ms,
                   int timeout_ms, long rate, const char *curve_server_key,
                   const char *curve_key_file);

/* stats --watch (ctl_watch.c): stats every interval_ms, totals and rates per
 * second, redrawn like top on a terminal, one line per sample otherwise;
 * count > 0 stops after that many samples. */
int ctl_stats_watch(const char *control_endpoint, int interval_ms, long count, int timeout_ms);

#endif
