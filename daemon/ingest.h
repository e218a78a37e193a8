/*
 * ingest — the thread that owns the producer-facing sockets (ingest.c).
 * What the pipeline gives it, and nothing more.
 */
#ifndef COMPLAINTD_INGEST_H
#define COMPLAINTD_INGEST_H

#include "batch.h"
#include "config.h"
#include "stats.h"

typedef struct ingest_ctx {
    /* The thread's own sockets, made by pipeline_start; ingest closes them. */
    void *pull;       /* plain events (PULL, bound to cfg->ingest) */
    void *router;     /* acknowledged events (ROUTER, bound to cfg->ingest_acked), or NULL */
    void *stop_recv;  /* "stop" from the main thread (PAIR, bound to STOP_ENDPOINT) */
    void *acks;       /* acks from the publisher (PULL, bound to ACKS_ENDPOINT) */
    /* Read-only for the pipeline's life. */
    void         *zctx;       /* to connect to each worker's queue */
    int           n_workers;
    const config *cfg;        /* ingest_linger_us */
    /* Shared with the other threads. */
    batch_pool   *batches;    /* ingest takes batches from it; locked inside (batch.h) */
    daemon_stats *stats;      /* atomic counters (stats.h) */
} ingest_ctx;

void *ingest_main(void *ctx);  /* ctx: an ingest_ctx */

#endif
