/*
 * publisher — the thread that owns the PUB socket (publisher.c). What the
 * pipeline gives it, and nothing more.
 */
#ifndef COMPLAINTD_PUBLISHER_H
#define COMPLAINTD_PUBLISHER_H

#include "config.h"
#include "history.h"
#include "stats.h"

typedef struct publisher_ctx {
    /* The thread's own sockets, made by pipeline_start; the publisher closes them. */
    void *in;         /* committed groups from the writer (PULL, bound to PUBLISH_ENDPOINT) */
    void *pub;        /* decisions to subscribers (PUB, bound to cfg->publish) */
    /* Read-only for the pipeline's life. */
    void         *zctx;       /* to connect to ingest's ack queue */
    const config *cfg;        /* durable, batch_size, data_dir */
    /* Shared with the other threads. */
    hist_env     *env;        /* hist_sync only (history.h) */
    daemon_stats *stats;      /* atomic counters (stats.h) */
} publisher_ctx;

void *publisher_main(void *ctx);  /* ctx: a publisher_ctx */

#endif
