/*
 * worker — one of the threads that decode, validate, normalise and scan
 * events (worker.c). What the pipeline gives it, and nothing more.
 */
#ifndef COMPLAINTD_WORKER_H
#define COMPLAINTD_WORKER_H

#include "config.h"
#include "live.h"
#include "stats.h"

typedef struct worker_ctx {
    /* The thread's own socket, made by pipeline_start; the worker closes it. */
    void *in;         /* batches from ingest (PULL, bound to WORK_ENDPOINT_FMT, index) */
    /* Read-only for the pipeline's life. */
    void         *zctx;       /* to connect to the writer's queue */
    int           index;
    const config *cfg;        /* max_message_bytes */
    /* Shared with the other threads. */
    live         *rules;      /* the pack in force; locked inside (live.h) */
    daemon_stats *stats;      /* atomic counters (stats.h) */
} worker_ctx;

void *worker_main(void *ctx);  /* ctx: a worker_ctx */

#endif
