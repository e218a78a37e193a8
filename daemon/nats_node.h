/*
 * nats_node — complaintd as a node of a cluster on NATS JetStream
 * (issue 18). See docs/cluster.md for the design; in short:
 *
 *   - nats_node_open connects, creates the streams COMPLAINTS
 *     (complaints.p.>) and DECISIONS (decisions.>) and the coordination
 *     buckets when absent, and refuses (a configuration error) streams whose
 *     retention cannot hold what a takeover replays.
 *   - nats_node_start starts the lease thread: it announces the node,
 *     computes the partitions' owners with part_assign over the live nodes,
 *     takes the leases it should hold (revision-checked creates), renews
 *     them, and gives up those it should not (after a snapshot). A lease a
 *     node does not renew lapses after lease_ttl_ms, and the others take its
 *     partitions over: restore the latest snapshot, replay the partition
 *     from the sequence it covers, then read on.
 *   - nats_node_stop hands every partition back (drain, snapshot, release)
 *     so that the others take them at once; the pipeline keeps running
 *     meanwhile and is stopped after it.
 */
#ifndef COMPLAINTD_NATS_NODE_H
#define COMPLAINTD_NATS_NODE_H

#include <stddef.h>

#include "config.h"
#include "history.h"
#include "stats.h"

typedef struct nats_node nats_node;

/* Connect and prepare the streams. NULL with err on failure; *usage_error
 * set when it is the configuration (node id, retention, replicas) and not
 * the network. env and stats are borrowed and outlive the node. */
nats_node *nats_node_open(const config *cfg, hist_env *env, daemon_stats *stats, char *err,
                          size_t errlen, int *usage_error);

/* Start taking partitions; their events go to the running pipeline's
 * ingest through zctx (inproc). 0 or -1. */
int nats_node_start(nats_node *n, void *zctx);

/* Leave the cluster in order (see above), while the pipeline still runs.
 * NULL is fine. */
void nats_node_stop(nats_node *n);
/* After the pipeline has stopped (every event it held is acked): free,
 * and shut the NATS library down (the process is ending). */
void nats_node_free(nats_node *n);

#endif
