/*
 * stats — the daemon's counters. Written by the pipeline threads with relaxed
 * atomic adds, read by the control thread; no lock.
 */
#ifndef COMPLAINTD_STATS_H
#define COMPLAINTD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "labels.h"
#include "strbuf.h"

typedef struct daemon_stats {
    atomic_uint_fast64_t received;      /* messages taken from the ingest socket */
    atomic_uint_fast64_t decided;       /* decisions committed and published (not rejects) */
    atomic_uint_fast64_t rejected;
    atomic_uint_fast64_t duplicates;    /* re-sent event_ids answered from the log */
    atomic_uint_fast64_t published;     /* messages on the PUB socket */
    atomic_uint_fast64_t commits;
    atomic_uint_fast64_t commit_failures;
    atomic_uint_fast64_t commit_us;     /* total time in mdb_txn_commit */
    atomic_uint_fast64_t last_seq;
    atomic_uint_fast64_t per_action[ACTION_COUNT];
    atomic_uint_fast64_t per_label[LABEL_COUNT];
    int64_t started_ms;
} daemon_stats;

#define STAT_ADD(field, n) atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)
#define STAT_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* Append the counters as one JSON object. */
void stats_json(const daemon_stats *s, int64_t now_ms, strbuf *sb);

#endif
