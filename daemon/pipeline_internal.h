/*
 * pipeline_internal — what the pipeline's threads share: the pipeline
 * itself and the batch of jobs that travels through it. Only
 * daemon/{pipeline,ingest,worker,writer,publisher,group}.c include it
 * (and, for cluster mode, daemon/nats_publish.c).
 *
 * A batch is allocated once per run of events and handed on as a pointer
 * inside a ZeroMQ message, never copied: ingest fills in each job's receipt
 * (time, routing id, the producer's bytes as a zmq_msg_t), a worker labels
 * the jobs in place, the writer decides them, the publisher sends them and
 * frees the batch back to the pool. Ownership goes with the pointer. An
 * empty message on a worker's socket is the end of input.
 *
 * Acks (writer -> ingest, inproc) are [routing id][serialized Ack]; an
 * empty routing id frame alone means the writer is done.
 */
#ifndef COMPLAINTD_PIPELINE_INTERNAL_H
#define COMPLAINTD_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <zmq.h>

#include "arena.h"
#include "classify.h"
#include "codec.h"
#include "pipeline.h"
#include "strbuf.h"

enum { WORKER_BATCH = 128, JOB_MATCHES = 32, MAX_WORKERS = 256, ROUTE_MAX = 255 };
enum { BATCH_POOL_MAX = 64 };  /* freed batches kept for reuse (~95 KB each) */
enum { BATCH_ARENA_MAX = 512 * 1024 };  /* a pooled batch keeps at most this for its events */
enum { WORKER_QUEUE = 8 };     /* batches queued to one worker before ingest blocks */

#define ACKS_ENDPOINT "inproc://acks"
#define DECIDE_ENDPOINT "inproc://decide"
#define PUBLISH_ENDPOINT "inproc://publish"

/* One event. Ingest sets body, received_us and the routing fields; the
 * worker decodes body into ev (which the job then owns), labels it and
 * closes body. */
typedef struct job {
    zmq_msg_t   body;     /* the producer's bytes, until the worker is done */
    event_msg  *ev;       /* unpacked; NULL if the message did not decode */
    const char *reject;   /* static reason, or NULL if it is to be decided */
    class_result cr;      /* cr.matches points at matches below */
    class_match matches[JOB_MATCHES];
    int64_t     received_us;  /* when ingest took it (monotonic) */
    struct nats_in *nats;     /* cluster mode: where it came from (nats_in.h); owned; else NULL */
    uint8_t     acked;        /* came from the ROUTER: send an Ack after commit */
    uint8_t     route_len;
    uint8_t     route[ROUTE_MAX];
} job;

/* A rule pack shared by reference: the pipeline's current pack holds one
 * reference, each worker's classifier one, each batch in flight one. The
 * last put frees the pack, so a reload never frees a pack still in use. */
typedef struct pack_ref {
    rulepack  *rp;
    atomic_int refs;
} pack_ref;

struct batch_pool;

typedef struct job_batch {
    size_t    n;
    uint64_t  run;    /* ingest numbers its runs 0, 1, 2...: the writer decides in that order */
    pack_ref *pack;   /* the pack that labelled these jobs (a reference); set by the worker */
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
 * biggest cost of a worker after the scan. */
typedef struct batch_pool {
    pthread_mutex_t lock;
    job_batch      *free[BATCH_POOL_MAX];
    int             n;
} batch_pool;

/* One serialized decision of a group: where its bytes are in the group's
 * buffer, and what its acknowledgement says. */
typedef struct decision_ref {
    size_t   off, len;
    uint64_t seq;
    int      action;  /* 0 for a reject */
    uint8_t  status;  /* Ack status */
} decision_ref;

/* A group the writer committed in one transaction, handed (as a pointer in
 * a ZeroMQ message) to the publisher, which makes it durable, sends it and
 * frees it. Owns its batches; d[k] is the decision of the k-th job in batch
 * order. */
typedef struct decided_group {
    job_batch   **batches;
    size_t        n_batches, batch_cap, n_events;
    strbuf        bytes;
    decision_ref *d;
    size_t        n, cap;
    uint64_t      last_seq;  /* the highest seq the group's commit logged */
    int64_t       committed_us; /* when its commit returned (monotonic) */
} decided_group;

decided_group *group_new(void);  /* NULL when out of memory */
int  group_hold(decided_group *g, job_batch *b);  /* takes b; -1 when out of memory */
int  group_add_decision(decided_group *g, const uint8_t *bytes, size_t n, int action,
                        uint64_t seq, int status);  /* copies bytes */
void group_clear_decisions(decided_group *g);  /* before a retried transaction */
void group_free(decided_group *g);  /* and its batches */

typedef struct worker {
    pipeline  *p;
    int        index;
    pthread_t  thread;
} worker;

struct pipeline {
    void          *zctx;
    const config  *cfg;
    pthread_mutex_t swap_lock;   /* guards pack and policy below */
    pack_ref      *pack;         /* current rule pack; guarded by swap_lock */
    atomic_uint    pack_gen;     /* bumped on every swap; read without the lock */
    policy         pol;          /* current policy; guarded by swap_lock */
    atomic_uint    policy_gen;
    hist_env      *env;
    daemon_stats  *stats;
    int            n_workers;
    void          *pull;         /* ingest thread's: plain events */
    void          *router;       /* ingest thread's: acknowledged events (may be NULL) */
    void          *pub;          /* publisher thread's */
    void          *stop_send;    /* main -> ingest: "stop" (PAIR) */
    void          *stop_recv;
    pthread_t      ingest_thread, writer_thread, publisher_thread;
    worker        *workers;
    batch_pool     batches;
    int            writer_failed;
};

void *ingest_main(void *arg);
void *worker_main(void *arg);
void *writer_main(void *arg);
void *publisher_main(void *arg);

/* An empty batch (from the pool, or new); NULL when out of memory. */
job_batch *batch_new(batch_pool *pool);
/* Free the batch's decoded events, drop its pack reference and return it to
 * its pool (or to malloc, when the pool is full). Only for labelled batches:
 * the worker has closed every job's body by then. */
void batch_free(job_batch *b);
void batch_pool_drain(batch_pool *pool);  /* frees what the pool holds */

/* The current pack, with a reference the caller must put. */
pack_ref *pipeline_current_pack(pipeline *p);
void pack_ref_put(pack_ref *r);
/* Copy the current policy into *out (the writer's own copy). */
void pipeline_current_policy(pipeline *p, policy *out);

/* A batch crosses from a worker to the writer as a pointer inside a ZeroMQ
 * message. libzmq is not built with ThreadSanitizer, so the ordering its
 * queue gives is invisible to it; these annotations state that hand-off. */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define HANDOFF_RELEASE(p) __tsan_release(p)
#define HANDOFF_ACQUIRE(p) __tsan_acquire(p)
#else
#define HANDOFF_RELEASE(p) ((void)(p))
#define HANDOFF_ACQUIRE(p) ((void)(p))
#endif

static inline void set_sockopt_int(void *sock, int opt, int v)
{
    zmq_setsockopt(sock, opt, &v, sizeof v);
}

#endif
