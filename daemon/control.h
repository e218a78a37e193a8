/*
 * control — the control endpoint (ZeroMQ REP, loopback by default): one word
 * in, one reply out. "ping" -> "pong"; "stats" -> the counters as JSON.
 * Unknown words get {"error": ...}. The main thread runs it, between signal
 * checks.
 */
#ifndef COMPLAINTD_CONTROL_H
#define COMPLAINTD_CONTROL_H

#include <signal.h>

#include "stats.h"

/* Serve requests on rep until *stop becomes non-zero (checked every 100 ms). */
void control_serve(void *rep, daemon_stats *stats, volatile sig_atomic_t *stop);

#endif
