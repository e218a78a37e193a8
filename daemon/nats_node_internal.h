/*
 * nats_node_internal — what nats_node.c (setup, lease thread) and
 * nats_takeover.c (takeover, handover, snapshots) share. Everything here
 * is the lease thread's unless a field says otherwise.
 */
#ifndef COMPLAINTD_NATS_NODE_INTERNAL_H
#define COMPLAINTD_NATS_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "history.h"
#include "nats_conn.h"
#include "nats_part.h"
#include "stats.h"

/* The node itself (the handle nats_node.h gives out; C11 allows the same
 * typedef twice, and not including nats_node.h keeps the two apart). */
typedef struct nats_node nats_node;

/* Retention (stated in docs/cluster.md, checked by node_retention_problem):
 * - COMPLAINTS keeps every event a takeover may replay: those after the
 *   latest snapshot of its partition. Snapshots are taken every
 *   snapshot_interval_s, so limits retention with max_age 0 (for ever) or
 *   at least NODE_REPLAY_MARGIN + 2 x interval + 2 x lease TTL, and no
 *   limit by count or size (which would drop events by volume, not age).
 *   Not work-queue or interest retention: acked events are replayed.
 * - DECISIONS drops a decision derived again for an event whose decision
 *   was stored, but not yet acked, when its owner died: its duplicate
 *   window must outlast a takeover, at least max(60 s, 4 x lease TTL).
 * - COMPLAINTD_SNAPSHOTS keeps chunks until a newer snapshot replaces them. */
enum { NODE_REPLAY_MARGIN_MS = 10 * 60 * 1000, NODE_IN_DUPLICATES_MS = 2 * 60 * 1000 };

int64_t node_min_max_age_ms(const config *cfg);      /* COMPLAINTS' max_age, at least */
int64_t node_default_max_age_ms(const config *cfg);  /* for streams the node creates */
int64_t node_dup_window_ms(const config *cfg);       /* DECISIONS' duplicate window, at least */
/* Why stream `name` with config sc cannot serve the cluster, or NULL. */
const char *node_retention_problem(const config *cfg, const char *name, const jsStreamConfig *sc);

/* A partition lease as this node sees it. held, rev and renewed_ms are
 * guarded by nats_node.lease_lock (the lease thread takes and gives up
 * leases, the renew thread renews them); lost is set by the renew thread
 * when a lease could not be renewed in time, and the lease thread then
 * finishes giving it up. snap_ms is the lease thread's. */
typedef struct node_lease {
    int        held;
    uint64_t   rev;         /* the lease entry's revision as of our last write */
    int64_t    renewed_ms;  /* monotonic ms of the last successful create or renew */
    atomic_int lost;
    int64_t    snap_ms;     /* of the last snapshot (or the takeover) */
} node_lease;

struct nats_node {
    const config *cfg;    /* borrowed */
    hist_env     *env;    /* borrowed */
    daemon_stats *stats;  /* borrowed */
    void         *zctx;   /* borrowed */
    nconn         c;      /* shared by the lease and fetch threads (nats.c is thread-safe) */
    kvStore      *nodes, *leases, *snaps;
    int           n_parts;
    nats_part    *parts;  /* n_parts; see nats_part.h for who touches what */
    node_lease   *lease;  /* n_parts */
    pthread_mutex_t lease_lock;  /* guards lease[].held, .rev, .renewed_ms */
    pthread_t     thread;       /* the lease thread (nats_node.c) */
    int           started;
    atomic_int    stop;         /* main -> lease thread */
    int           unreadable_rounds;  /* lease rounds in a row without a full view */
    /* The renew thread (nats_renew.c): its own connection, so that a slow
     * request of the lease thread (creating a replicated consumer) never
     * holds a renewal up. */
    nconn         rc;
    kvStore      *r_nodes, *r_leases;
    pthread_t     renewer;
    atomic_int    renew_stop;   /* main -> renew thread */
};

/* nats_takeover.c */
int  node_takeover(nats_node *n, int p);  /* create the lease, restore, replay */
void node_handover(nats_node *n, int p, int graceful);  /* stop; graceful: snapshot, release */

/* nats_renew.c */
int  node_renewer_start(nats_node *n, char *err, size_t errlen);
void node_renewer_stop(nats_node *n);  /* and remove the node's entry */
int  node_snapshot(nats_node *n, int p);

#endif
