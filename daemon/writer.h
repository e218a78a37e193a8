/*
 * writer — the one thread that writes LMDB (writer.c). What the pipeline
 * gives it, and nothing more.
 */
#ifndef COMPLAINTD_WRITER_H
#define COMPLAINTD_WRITER_H

#include "config.h"
#include "history.h"
#include "live.h"
#include "stats.h"

typedef struct writer_ctx {
    /* The thread's own socket, made by pipeline_start; the writer closes it. */
    void *in;         /* batches from the workers (PULL, bound to DECIDE_ENDPOINT) */
    void *feedback_in; /* reviews from the control thread (PULL, FEEDBACK_ENDPOINT) */
    /* Read-only for the pipeline's life. */
    void         *zctx;       /* to connect to the publisher's queue */
    int           n_workers;  /* end markers to wait for */
    const config *cfg;        /* batch_size, commit_interval_ms, decision log limits, data_dir */
    /* Shared with the other threads. */
    hist_env     *env;        /* the writer alone writes; LMDB orders readers (history.h) */
    live         *rules;      /* the policy in force; locked inside (live.h) */
    daemon_stats *stats;      /* atomic counters (stats.h) */
    /* Out: set by the writer just before it returns, read by pipeline_stop
     * only after pthread_join, which orders the two: no lock. */
    int           failed;     /* 1 if the last group could not be committed */
} writer_ctx;

void *writer_main(void *ctx);  /* ctx: a writer_ctx */

#endif
