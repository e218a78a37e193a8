/*
 * stats — the daemon's counters, gauges and histograms. Written by the
 * pipeline threads with relaxed atomic adds, read by the control thread and
 * the metrics server (metrics.h); no lock.
 *
 * A stats_hist is a histogram with fixed log-spaced buckets: bucket i counts
 * the values v with 2^(i-1) < v <= 2^i (bucket 0 takes v <= 1), the last
 * bucket everything above 2^(STATS_HIST_BUCKETS-2). One observation is two
 * relaxed atomic adds (the bucket and the sum), so any thread may observe
 * into the same histogram: stats_observe(&stats->h_commit_us, us).
 */
#ifndef COMPLAINTD_STATS_H
#define COMPLAINTD_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "strbuf.h"

/* The stages an event's latency is cut into (daemon_stats.h_stage_us). */
enum { STAGE_LABELLED, STAGE_COMMITTED, STAGE_PUBLISHED, STATS_STAGES };

/* Names of the whole latency and of its stages, in the stats JSON's
 * "latency_us_buckets" (all, then the stages in enum order). */
static const char *const stats_latency_names[1 + STATS_STAGES] = {"all", "labelled", "committed",
                                                                  "published"};

/* Upper bounds 1, 2, 4, .. 2^26 (67 s in microseconds), then +Inf. */
enum { STATS_HIST_BUCKETS = 28 };

typedef struct stats_hist {
    atomic_uint_fast64_t bucket[STATS_HIST_BUCKETS];  /* not cumulative */
    atomic_uint_fast64_t sum;
} stats_hist;

/* The bucket a value falls in: the smallest i with v <= 2^i, or the last
 * (+Inf) bucket. */
static inline int stats_hist_bucket(uint64_t v)
{
    if (v <= 1)
        return 0;
    int i = 64 - __builtin_clzll(v - 1);  /* ceil(log2 v) */
    return i < STATS_HIST_BUCKETS - 1 ? i : STATS_HIST_BUCKETS - 1;
}

/* The upper bound of bucket i; 0 for the last bucket, which is +Inf. */
static inline uint64_t stats_hist_le(int i)
{
    return i < STATS_HIST_BUCKETS - 1 ? (uint64_t)1 << i : 0;
}

static inline void stats_observe(stats_hist *h, uint64_t v)
{
    atomic_fetch_add_explicit(&h->bucket[stats_hist_bucket(v)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

/* Observe the same value n times in one go (e.g. a batch of events that
 * share one latency). */
static inline void stats_observe_n(stats_hist *h, uint64_t v, uint64_t n)
{
    atomic_fetch_add_explicit(&h->bucket[stats_hist_bucket(v)], n, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v * n, memory_order_relaxed);
}

/* A snapshot: cumulative counts (cum[i] = values <= le(i); cum[last] is
 * the count), and the sum. Concurrent observations may land between the
 * reads of buckets and sum, so sum can run slightly ahead of the counts. */
static inline void stats_hist_read(const stats_hist *h, uint64_t cum[STATS_HIST_BUCKETS],
                                   uint64_t *sum)
{
    uint64_t run = 0;
    for (int i = 0; i < STATS_HIST_BUCKETS; i++) {
        run += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        cum[i] = run;
    }
    *sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
}

/*
 * Per-rule hit counters that survive rule reloads. Each pack gets a table
 * of counters indexed like its rules (stats_rules_register), which its
 * classifiers increment lock-free (rulepack.hit_counters). A rule's
 * total is the sum over every table of the counters of rules with its id,
 * so counts carry over a reload for the rules that stay. Tables are kept
 * until stats_rules_free: a classifier of the old pack may still count into
 * its table after a swap. The lock only orders registration and snapshots.
 */
typedef struct stats_rule_table {
    struct stats_rule_table *prev;   /* the tables of earlier packs */
    size_t    n;
    uint32_t *slot;                  /* [n] index of the rule's id in stats_rules.ids */
    atomic_uint_fast64_t hits[];     /* [n] by rule index of the pack */
} stats_rule_table;

/* Guarded by lock: current, ids, n_ids, cap_ids, and each table's prev, n
 * and slot (set before the table is published under the lock). The hits are
 * atomics that classifiers add to without it. */
typedef struct stats_rules {
    pthread_mutex_t   lock;
    stats_rule_table *current;       /* the newest pack's table, or NULL */
    char            **ids;           /* every rule id registered (owned) */
    size_t            n_ids, cap_ids;
} stats_rules;

struct rulepack;
void stats_rules_init(stats_rules *r);
void stats_rules_free(stats_rules *r);
/* A table for rp's rules (zeroed), which becomes the current one; its
 * counters, [rp->n_rules], for rp->hit_counters. NULL if out of
 * memory (then simply count nothing). */
atomic_uint_fast64_t *stats_rules_register(stats_rules *r, const struct rulepack *rp);
/* The current pack's rules, each id once, with totals over every table.
 * *ids (strings owned by r) and *totals are malloc'ed arrays the caller
 * frees; returns how many (0 and NULLs if none). */
size_t stats_rules_snapshot(stats_rules *r, const char ***ids, uint64_t **totals);

/* Shared by every pipeline thread, the control thread and the metrics
 * server. Guarded by nothing: each counter, gauge and histogram bucket is an
 * atomic, added to and read relaxed (STAT_ADD, STAT_GET, stats_observe), so
 * a reader may see one counter ahead of another. started_ms is written once
 * before any thread starts. rules has its own lock (stats_rules above). */
typedef struct daemon_stats {
    atomic_uint_fast64_t received;      /* messages taken from the ingest socket */
    atomic_uint_fast64_t decided;       /* decisions committed and published (not rejects) */
    atomic_uint_fast64_t rejected;
    atomic_uint_fast64_t duplicates;    /* re-sent event_ids answered from the log */
    atomic_uint_fast64_t published;     /* messages on the PUB socket */
    atomic_uint_fast64_t commits;
    atomic_uint_fast64_t commit_failures;
    atomic_uint_fast64_t commit_us;     /* total time in mdb_txn_commit (writer) */
    atomic_uint_fast64_t sync_us;       /* total time making commits durable (publisher) */
    atomic_uint_fast64_t last_seq;
    atomic_uint_fast64_t reloads;         /* reloads that swapped in a new pack and policy */
    atomic_uint_fast64_t reload_failures; /* reloads refused (the running ones kept) */
    atomic_uint_fast64_t span_misses;     /* fired rules whose span was not found (classify.h) */
    atomic_uint_fast64_t feedback;          /* managers' reviews received on the control endpoint */
    atomic_uint_fast64_t feedback_rejected; /* of those, refused as invalid (not stored) */
    atomic_uint_fast64_t feedback_stored;   /* stored by the writer (a re-review replaces) */
    atomic_uint_fast64_t retrains;          /* feedback models trained and swapped in */
    atomic_uint_fast64_t retrain_failures;  /* retrains that failed (the running models kept) */
    atomic_uint_fast64_t retrain_skipped;   /* retrains with too little feedback to train on */
    atomic_uint_fast64_t per_action[ACTION_COUNT];
    atomic_uint_fast64_t per_label[LABEL_COUNT];
    int64_t started_ms;

    /* Histograms (stats_observe). */
    stats_hist h_scan_us;      /* per event in a worker: decode, validate, normalise, scan */
    stats_hist h_commit_us;    /* per group: the LMDB commit (triage_commit) */
    stats_hist h_sync_us;      /* per flush: the publisher's hist_sync before it publishes */
    stats_hist h_latency_us;   /* per event: receipt in ingest -> published */
    stats_hist h_batch_events; /* per group: events in one commit */
    /* per event, h_latency_us cut at the hand-offs (they add up to it):
     * receipt -> its batch labelled, -> its group committed, -> published */
    stats_hist h_stage_us[STATS_STAGES];

    /* Gauges the pipeline may set (atomic_store); 0 if it does not. */
    atomic_uint_fast64_t writer_held;  /* events held by the writer, waiting for their commit */

    /* Per-rule hits, by rule id, across rule reloads (stats_rules_*). */
    stats_rules rules;

    /* Cluster mode (issue 18): written by the lease thread, read by stats. */
    int cluster_partitions;  /* partitions of the cluster; 0 = not a cluster node (set before threads) */
    atomic_uint_fast64_t partitions_owned[16];  /* bit p%64 of word p/64: this node holds p */
    atomic_uint_fast64_t takeovers;   /* partitions taken (restored and replayed) */
    atomic_uint_fast64_t handovers;   /* partitions given up (lost, released, or left) */
    atomic_uint_fast64_t snapshots;   /* partition snapshots stored */
} daemon_stats;

#define STAT_ADD(field, n) atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)
#define STAT_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* Events taken from the ingest socket and not yet decided or rejected:
 * queued between the threads or held by the writer. */
static inline uint64_t stats_in_flight(const daemon_stats *s)
{
    uint64_t done = STAT_GET(s->decided) + STAT_GET(s->rejected);
    uint64_t in = STAT_GET(s->received);
    return in > done ? in - done : 0;
}

/* Append the counters as one JSON object. */
void stats_json(const daemon_stats *s, int64_t now_ms, strbuf *sb);

#endif
