/*
 * nats_part — one partition a node owns (cluster mode, issue 18): its
 * fetch thread first replays what the takeover asks for (an ordered
 * consumer over the partition's subjects, from the snapshot's sequence on),
 * waits until the pipeline is done with it, then reads the partition's
 * durable pull consumer in order, and hands each message to the pipeline's
 * ingest (nats_in.h); the publisher
 * reports each one done (nats_part_done) once its decision is stored and
 * the message acked. The lease thread (nats_node.c) starts, pauses and
 * stops it.
 */
#ifndef COMPLAINTD_NATS_PART_H
#define COMPLAINTD_NATS_PART_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nats_in.h"

typedef struct nats_part {
    int          index;
    jsCtx       *js;         /* borrowed: the node's connection */
    void        *zctx;       /* borrowed */
    int          max_ack_pending;
    pthread_t    thread;
    int          running;    /* the thread exists; lease thread only */
    atomic_int   stop;       /* lease thread -> fetch thread: leave */
    atomic_int   paused;     /* lease thread -> fetch thread: fetch nothing (snapshots) */
    atomic_int   inflight;   /* handed to the pipeline and not yet done; any thread */
    _Atomic uint64_t done_seq;   /* highest COMPLAINTS seq done (acked); publisher writes */
    /* Set by the takeover before the thread starts (nats_takeover.c): */
    uint64_t     replay_from, replay_to;  /* replay these COMPLAINTS seqs first (if from <= to) */
    uint64_t     quiet_upto; /* seqs <= it were decided before: apply, publish nothing */
    uint64_t     skip_upto;  /* the consumer's seqs <= it are covered already: ack, drop */
    natsSubscription *sub;   /* the fetch thread's while it runs; freed by the lease thread */
    _Atomic int64_t fetched; /* messages fetched since the node started (stats) */
} nats_part;

/* Start the fetch thread on the consumer NATS_CONSUMER_FMT of index. 0 or -1. */
int  nats_part_start(nats_part *pt);
/* Ask the fetch thread to leave and join it. In-flight events still
 * complete through the pipeline. */
void nats_part_stop(nats_part *pt);
/* Wait until nothing of the partition is in flight, at most timeout_ms;
 * 1 when drained. */
int  nats_part_drain(nats_part *pt, int timeout_ms);
/* Free the subscription (only once drained: acks go through it). */
void nats_part_free_sub(nats_part *pt);

/* Publisher: in's decision is stored and in acked; frees in and its message. */
void nats_part_done(nats_in *in);

#endif
