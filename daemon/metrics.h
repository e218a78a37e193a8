/*
 * metrics — Prometheus text exposition of the daemon's stats over HTTP.
 *
 * A libmicrohttpd server with its own thread answers GET /metrics with the
 * counters, gauges and histograms of daemon_stats (stats.h) in the text
 * format 0.0.4, GET /healthz and GET /readyz with 200 or 503 and the
 * reasons (health.h), and 404 to any other path. It only reads atomics (and asks
 * LMDB how much of the map is used), so a scrape never blocks the pipeline.
 *
 * The address is "HOST:PORT": a numeric IPv4 address, a bracketed IPv6
 * address ("[::1]:9560"), "localhost" or "*" (every interface). "" or "off"
 * means no server. The metric names are listed in README.md ("Metrics").
 */
#ifndef COMPLAINTD_METRICS_H
#define COMPLAINTD_METRICS_H

#include <stddef.h>

#include "history.h"
#include "stats.h"
#include "strbuf.h"

typedef struct metrics_server metrics_server;

/* 1 if addr asks for a server, 0 for "" or "off". */
int metrics_enabled(const char *addr);

/* 0 if addr is a well-formed HOST:PORT, else -1 with "metrics: ..." in err
 * (a configuration error). */
int metrics_check_addr(const char *addr, char *err, size_t errlen);

/* Bind addr and serve from an internal thread. stats and env are borrowed
 * and must outlive the server (env may be NULL: no LMDB gauges). NULL with a
 * message naming the address on failure. */
metrics_server *metrics_start(const char *addr, daemon_stats *stats, hist_env *env, char *err,
                              size_t errlen);

/* Close the socket, finish the scrape in progress and join the thread. NULL is fine. */
void metrics_stop(metrics_server *m);

/* The exposition text (what GET /metrics returns), appended to sb. */
void metrics_render(daemon_stats *stats, hist_env *env, int64_t now_ms, strbuf *sb);

#endif
