/*
 * pipeline — start and stop complaintd's threads (see pipeline.h for the
 * picture, inproc.h for the queues between them, and ingest.h, worker.h,
 * writer.h, publisher.h for what each thread is given).
 *
 * Shutdown is a relay of end markers: ingest drains what its sockets
 * already hold, hands on its last run and sends each worker an end marker;
 * a worker passes its last batch on and tells the writer; the writer
 * commits the rest once every worker is done and tells the publisher, which
 * publishes and acks it, then tells ingest, which delivers the last acks.
 *
 * Workers label runs side by side, but the writer decides the runs in the
 * order ingest took them (writer.c): seqs follow arrival order.
 */
#define _GNU_SOURCE  /* pthread_setname_np: threads named for top -H and perf */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "buildinfo.h"
#include "curve.h"
#include "health.h"
#include "ingest.h"
#include "inproc.h"
#include "live.h"
#include "log.h"
#include "publisher.h"
#include "worker.h"
#include "writer.h"

/* The pipeline owns what its threads share and lends each thread a context
 * with its part (ingest.h, worker.h, writer.h, publisher.h). Only the main
 * thread touches this struct; the shared objects in it say how they are
 * guarded. */
struct pipeline {
    void          *stop_send;   /* main -> ingest: "stop" (PAIR); the main thread's */
    live           rules;       /* pack and policy in force; locked inside (live.h) */
    batch_pool     batches;     /* used by ingest, writer, publisher; locked inside (batch.h) */
    int            n_workers;
    ingest_ctx     ingest;
    worker_ctx    *workers;     /* [n_workers] */
    pthread_t     *worker_threads;  /* [n_workers] */
    writer_ctx     writer;
    publisher_ctx  publisher;
    pthread_t      ingest_thread, writer_thread, publisher_thread;
};

static void *bind_socket(void *zctx, int type, const char *ep, int hwm, const curve_keypair *kp,
                         char *err, size_t errlen, int *usage_error)
{
    void *s = zmq_socket(zctx, type);
    if (!s) {
        snprintf(err, errlen, "zmq_socket for %s: %s", ep, zmq_strerror(zmq_errno()));
        return NULL;
    }
    if (kp)
        curve_make_server(s, kp);
    set_sockopt_int(s, ZMQ_RCVHWM, hwm);
    set_sockopt_int(s, ZMQ_SNDHWM, hwm);
    set_sockopt_int(s, ZMQ_LINGER, type == ZMQ_PUB || type == ZMQ_ROUTER ? 2000 : 0);
    if (zmq_bind(s, ep) == 0)
        return s;
    int e = zmq_errno();
    snprintf(err, errlen, "cannot bind %s: %s", ep, zmq_strerror(e));
    *usage_error = (e == EINVAL || e == EPROTONOSUPPORT || e == ENODEV);
    zmq_close(s);
    return NULL;
}

/* The bound end of a queue between two threads (inproc.h); rcvhwm 0 keeps
 * libzmq's default. NULL with a message naming the call on failure. */
static void *bind_inproc(void *zctx, int type, const char *ep, int rcvhwm, char *err,
                         size_t errlen)
{
    void *s = zmq_socket(zctx, type);
    if (!s) {
        snprintf(err, errlen, "zmq_socket for %s: %s", ep, zmq_strerror(zmq_errno()));
        return NULL;
    }
    if (rcvhwm)
        set_sockopt_int(s, ZMQ_RCVHWM, rcvhwm);
    if (zmq_bind(s, ep) == 0)
        return s;
    snprintf(err, errlen, "zmq_bind %s: %s", ep, zmq_strerror(zmq_errno()));
    zmq_close(s);
    return NULL;
}

/* A PUB socket drops what a subscriber cannot take once its queue holds hwm
 * messages. The publisher sends a whole flush at once (up to about two
 * groups, see publisher.c), so the queue must hold several groups or a
 * subscriber that keeps up on average would still lose decisions to a burst. */
static int publish_hwm(const config *cfg)
{
    int burst = 4 * cfg->batch_size;
    return cfg->hwm > burst ? cfg->hwm : burst;
}

static void close_if(void *s)
{
    if (s)
        zmq_close(s);
}

/* Undo a pipeline_start that failed before any thread started: the sockets
 * the threads would have owned, then what the pipeline owns. */
static void discard(pipeline *p)
{
    close_if(p->ingest.pull);
    close_if(p->ingest.router);
    close_if(p->ingest.stop_recv);
    close_if(p->ingest.acks);
    close_if(p->stop_send);
    for (int i = 0; p->workers && i < p->n_workers; i++)
        close_if(p->workers[i].in);
    close_if(p->writer.in);
    close_if(p->writer.feedback_in);
    close_if(p->publisher.in);
    close_if(p->publisher.pub);
    free(p->workers);
    free(p->worker_threads);
    batch_pool_destroy(&p->batches);
    live_destroy(&p->rules);
    free(p);
}

/* Every socket the threads will own, bound before any of them runs, so a
 * failure stops the start cleanly. -1 with a message in err. */
static int make_sockets(pipeline *p, void *zctx, const config *cfg, const curve_keypair *kp,
                        char *err, size_t errlen, int *usage_error)
{
    ingest_ctx *in = &p->ingest;
    if (!(in->pull = bind_socket(zctx, ZMQ_PULL, cfg->ingest, cfg->hwm, kp, err, errlen,
                                 usage_error)))
        return -1;
    if (cfg->ingest_acked[0] &&
        !(in->router = bind_socket(zctx, ZMQ_ROUTER, cfg->ingest_acked, cfg->hwm, kp, err,
                                   errlen, usage_error)))
        return -1;
    if (!(p->publisher.pub = bind_socket(zctx, ZMQ_PUB, cfg->publish, publish_hwm(cfg), kp, err,
                                         errlen, usage_error)))
        return -1;
    if (!(in->stop_recv = bind_inproc(zctx, ZMQ_PAIR, STOP_ENDPOINT, 0, err, errlen)) ||
        !(in->acks = bind_inproc(zctx, ZMQ_PULL, ACKS_ENDPOINT, 0, err, errlen)) ||
        !(p->writer.in = bind_inproc(zctx, ZMQ_PULL, DECIDE_ENDPOINT, 64, err, errlen)) ||
        !(p->writer.feedback_in = bind_inproc(zctx, ZMQ_PULL, FEEDBACK_ENDPOINT, 0, err, errlen)) ||
        !(p->publisher.in = bind_inproc(zctx, ZMQ_PULL, PUBLISH_ENDPOINT, 0, err, errlen)))
        return -1;
    for (int i = 0; i < p->n_workers; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, WORK_ENDPOINT_FMT, i);
        if (!(p->workers[i].in = bind_inproc(zctx, ZMQ_PULL, ep, WORKER_QUEUE, err, errlen)))
            return -1;
    }
    if (!(p->stop_send = zmq_socket(zctx, ZMQ_PAIR)) ||
        zmq_connect(p->stop_send, STOP_ENDPOINT) != 0) {
        snprintf(err, errlen, "zmq_connect %s: %s", STOP_ENDPOINT, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* Once the first thread runs there is no clean way back (the others would
 * wait for it forever), so a thread that cannot start ends the process. */
static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
    int rc = pthread_create(t, NULL, fn, arg);
    if (rc != 0) {
        log_error("pipeline: pthread_create for %s: %s", name, strerror(rc));
        abort();
    }
    pthread_setname_np(*t, name);
}

int pipeline_swap_rules(pipeline *p, rulepack *rp)
{
    if (live_set_pack(&p->rules, rp) < 0) {
        log_error("pipeline: malloc for the new pack's reference: out of memory; keeping the running pack");
        return -1;
    }
    health_set_rules(buildinfo_pack_hash(rp));  /* complaintd_build_info's rules_hash */
    return 0;
}

void pipeline_swap_policy(pipeline *p, const policy *pol) { live_set_policy(&p->rules, pol); }

pack_ref *pipeline_pack(pipeline *p) { return live_pack(&p->rules); }
model_set *pipeline_models(pipeline *p) { return live_models(&p->rules); }

int pipeline_swap_models(pipeline *p, model *const *m, int n)
{
    return live_set_base_models(&p->rules, m, n);
}

int pipeline_swap_feedback_model(pipeline *p, model *fb)
{
    return live_set_feedback_model(&p->rules, fb);
}

pipeline *pipeline_start(void *zctx, const config *cfg, rulepack *rp, hist_env *env,
                         daemon_stats *stats, const curve_keypair *kp, char *err, size_t errlen,
                         int *usage_error)
{
    *usage_error = 0;
    pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "pipeline: calloc: out of memory");
        rulepack_free(rp);
        return NULL;
    }
    if (live_init(&p->rules, rp, &cfg->pol) < 0) {
        snprintf(err, errlen, "pipeline: malloc for the pack's reference: out of memory");
        rulepack_free(rp);
        free(p);
        return NULL;
    }
    health_set_rules(buildinfo_pack_hash(rp));  /* complaintd_build_info's rules_hash */
    batch_pool_init(&p->batches);
    p->n_workers = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (p->n_workers < 1)
        p->n_workers = 1;
    if (p->n_workers > MAX_WORKERS)
        p->n_workers = MAX_WORKERS;
    p->workers = calloc((size_t)p->n_workers, sizeof *p->workers);
    p->worker_threads = calloc((size_t)p->n_workers, sizeof *p->worker_threads);
    if (!p->workers || !p->worker_threads) {
        snprintf(err, errlen, "pipeline: calloc for %d workers: out of memory", p->n_workers);
        discard(p);
        return NULL;
    }
    if (make_sockets(p, zctx, cfg, kp, err, errlen, usage_error) < 0) {
        discard(p);
        return NULL;
    }
    ingest_ctx *in = &p->ingest;
    in->zctx = zctx;
    in->n_workers = p->n_workers;
    in->cfg = cfg;
    in->batches = &p->batches;
    in->stats = stats;
    p->writer.zctx = zctx;
    p->writer.n_workers = p->n_workers;
    p->writer.cfg = cfg;
    p->writer.env = env;
    p->writer.rules = &p->rules;
    p->writer.stats = stats;
    p->publisher.zctx = zctx;
    p->publisher.cfg = cfg;
    p->publisher.env = env;
    p->publisher.stats = stats;

    start_thread(&p->publisher_thread, publisher_main, &p->publisher, "cd-publish");
    start_thread(&p->writer_thread, writer_main, &p->writer, "cd-writer");
    for (int i = 0; i < p->n_workers; i++) {
        worker_ctx *w = &p->workers[i];
        w->zctx = zctx;
        w->index = i;
        w->cfg = cfg;
        w->rules = &p->rules;
        w->stats = stats;
        char name[24];  /* names beyond 15 bytes are refused: workers past 99999 stay unnamed */
        snprintf(name, sizeof name, "cd-worker%d", i);
        start_thread(&p->worker_threads[i], worker_main, w, name);
    }
    start_thread(&p->ingest_thread, ingest_main, in, "cd-ingest");
    /* Each thread registers its heartbeat as it starts: wait for them all,
     * so that /healthz lists every thread from "ready" on (bounded: a
     * thread that never starts is reported by the probes, not waited for). */
    int threads = p->n_workers + 3;  /* workers, ingest, writer, publisher */
    for (int tries = 0; health_registered() < threads && tries < 5000; tries++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    log_info("pipeline: %d worker(s), groups of at most %d events, commit interval %d ms%s",
             p->n_workers, cfg->batch_size, cfg->commit_interval_ms,
             cfg->commit_interval_ms ? "" : " (as soon as the queue is empty)");
    return p;
}

int pipeline_stop(pipeline *p)
{
    zmq_send(p->stop_send, "stop", 4, 0);
    pthread_join(p->ingest_thread, NULL);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->worker_threads[i], NULL);
    pthread_join(p->writer_thread, NULL);
    pthread_join(p->publisher_thread, NULL);
    int failed = p->writer.failed;  /* the joins order it after the writer's store */
    zmq_close(p->stop_send);        /* each thread closed its own sockets */
    live_destroy(&p->rules);
    batch_pool_destroy(&p->batches);
    free(p->workers);
    free(p->worker_threads);
    free(p);
    return failed ? -1 : 0;
}
