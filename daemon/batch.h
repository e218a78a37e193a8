/*
 * batch — the batch of jobs that travels through the pipeline, and the pool
 * that recycles batches.
 *
 * A batch is allocated once per run of events and handed on as a pointer
 * inside a ZeroMQ message, never copied: ingest fills in each job's receipt
 * (time, routing id, the producer's bytes as a zmq_msg_t), a worker labels
 * the jobs in place, the writer decides them, the publisher sends them and
 * frees the batch back to the pool. Ownership goes with the pointer: one
 * thread at a time owns a batch, so its fields need no lock (the queue
 * orders the hand-off, see HANDOFF_* in inproc.h).
 */
#ifndef COMPLAINTD_BATCH_H
#define COMPLAINTD_BATCH_H

#include <pthread.h>
#include <stdint.h>
#include <zmq.h>

#include "arena.h"
#include "classify.h"
#include "codec.h"
#include "model_set.h"
#include "pack_ref.h"
#include "triage.h"

enum { WORKER_BATCH = 128, JOB_MATCHES = 32, ROUTE_MAX = 255 };
enum { BATCH_POOL_MAX = 64 };  /* freed batches kept for reuse (~95 KB each) */
enum { BATCH_ARENA_MAX = 512 * 1024 };  /* a pooled batch keeps at most this for its events */

/* One event. Ingest sets body, received_us and the routing fields; the
 * worker decodes body into ev (which the job then owns), labels it and
 * closes body. */
typedef struct job {
    zmq_msg_t   body;     /* the producer's bytes, until the worker is done */
    event_msg  *ev;       /* unpacked; NULL if the message did not decode */
    const char *reject;   /* static reason, or NULL if it is to be decided */
    classify_result cr;      /* cr.matches points at matches below */
    classify_match matches[JOB_MATCHES];
    triage_explain explain;   /* what the models said (explain.n_models 0: none ran) */
    int64_t     received_us;  /* when ingest took it (monotonic) */
    struct nats_in *nats;     /* cluster mode: where it came from (nats_in.h); owned; else NULL */
    uint8_t     acked;        /* came from the ROUTER: send an Ack after commit */
    uint8_t     req;          /* from a REQ socket: the Ack carries the empty delimiter */
    uint8_t     route_len;
    uint8_t     route[ROUTE_MAX];
} job;

struct batch_pool;

typedef struct job_batch {
    size_t    n;
    uint64_t  run;    /* ingest numbers its runs 0, 1, 2...: the writer decides in that order */
    pack_ref *pack;   /* the pack that labelled these jobs (a reference); set by the worker */
    model_set *models;/* and the models (a reference; their names are in the decisions) */
    int64_t   labelled_us; /* when the worker finished them (monotonic) */
    struct batch_pool *pool;  /* where batch_free returns it */
    /* The jobs' unpacked events: the worker decodes into it and batch_free
     * takes them all back at once. With malloc, the publisher's frees of
     * what the workers allocated kept glibc off its per-thread caches
     * (_int_malloc was 6% of the daemon's CPU at full load). */
    arena     events;
    job       jobs[WORKER_BATCH];
} job_batch;

/* Freed batches wait here for the next worker that needs one, instead of
 * going back to malloc: a batch is ~95 KB, and glibc handed each new one
 * fresh pages (the heap top trimmed by one thread's free and faulted in
 * again by another's malloc). At 40k events/s those page faults were the
 * biggest cost of a worker after the scan. Ingest takes batches, the writer
 * and the publisher give them back. */
typedef struct batch_pool {
    pthread_mutex_t lock;
    job_batch      *free[BATCH_POOL_MAX];  /* guarded by lock */
    int             n;                     /* guarded by lock */
} batch_pool;

void batch_pool_init(batch_pool *pool);
/* Free what the pool holds; once every thread that uses it has been joined. */
void batch_pool_destroy(batch_pool *pool);

/* An empty batch (from the pool, or new) that the caller owns; NULL when out
 * of memory. */
job_batch *batch_new(batch_pool *pool);
/* Free the batch's decoded events, drop its pack reference and return it to
 * its pool (or to malloc, when the pool is full). Only for labelled batches:
 * the worker has closed every job's body by then. NULL is fine. */
void batch_free(job_batch *b);

#endif
