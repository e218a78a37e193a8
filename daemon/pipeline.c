/*
 * pipeline — start and stop complaintd's threads (see pipeline.h for the
 * picture, pipeline_internal.h for what they share, and ingest.c, worker.c,
 * writer.c, publisher.c for each thread).
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
#include <unistd.h>
#include <zmq.h>

#include "buildinfo.h"
#include "curve.h"
#include "health.h"
#include "log.h"
#include "pipeline_internal.h"

static void *bind_socket(void *zctx, int type, const char *ep, int hwm, const curve_keypair *kp,
                         char *err, size_t errlen, int *usage_error)
{
    void *s = zmq_socket(zctx, type);
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

/* A PUB socket drops what a subscriber cannot take once its queue holds hwm
 * messages. The publisher sends a whole flush at once (up to about two
 * groups, see publisher.c), so the queue must hold several groups or a
 * subscriber that keeps up on average would still lose decisions to a burst. */
static int publish_hwm(const config *cfg)
{
    int burst = 4 * cfg->batch_size;
    return cfg->hwm > burst ? cfg->hwm : burst;
}

static void close_sockets(pipeline *p)
{
    if (p->pull)
        zmq_close(p->pull);
    if (p->router)
        zmq_close(p->router);
    if (p->pub)
        zmq_close(p->pub);
}

static pack_ref *pack_ref_new(rulepack *rp)
{
    pack_ref *r = malloc(sizeof *r);
    r->rp = rp;
    atomic_init(&r->refs, 1);
    return r;
}

void pack_ref_put(pack_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        rulepack_free(r->rp);
        free(r);
    }
}

pack_ref *pipeline_current_pack(pipeline *p)
{
    pthread_mutex_lock(&p->swap_lock);
    pack_ref *r = p->pack;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&p->swap_lock);
    return r;
}

void pipeline_current_policy(pipeline *p, policy *out)
{
    pthread_mutex_lock(&p->swap_lock);
    *out = p->pol;
    pthread_mutex_unlock(&p->swap_lock);
}

void pipeline_swap_rules(pipeline *p, rulepack *rp)
{
    pack_ref *fresh = pack_ref_new(rp);
    health_set_rules(buildinfo_pack_hash(rp));  /* complaintd_build_info's rules_hash */
    pthread_mutex_lock(&p->swap_lock);
    pack_ref *old = p->pack;
    p->pack = fresh;
    atomic_fetch_add(&p->pack_gen, 1);
    pthread_mutex_unlock(&p->swap_lock);
    pack_ref_put(old);  /* freed once the last worker and batch let go */
}

void pipeline_swap_policy(pipeline *p, const policy *pol)
{
    pthread_mutex_lock(&p->swap_lock);
    p->pol = *pol;
    atomic_fetch_add(&p->policy_gen, 1);
    pthread_mutex_unlock(&p->swap_lock);
}

pipeline *pipeline_start(void *zctx, const config *cfg, rulepack *rp, hist_env *env,
                         daemon_stats *stats, const curve_keypair *kp, char *err, size_t errlen,
                         int *usage_error)
{
    *usage_error = 0;
    pipeline *p = calloc(1, sizeof *p);
    p->zctx = zctx;
    p->cfg = cfg;
    pthread_mutex_init(&p->swap_lock, NULL);
    pthread_mutex_init(&p->batches.lock, NULL);
    p->pack = pack_ref_new(rp);
    health_set_rules(buildinfo_pack_hash(rp));
    p->pol = cfg->pol;
    p->env = env;
    p->stats = stats;
    p->n_workers = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (p->n_workers < 1)
        p->n_workers = 1;
    if (p->n_workers > MAX_WORKERS)
        p->n_workers = MAX_WORKERS;
    p->pull = bind_socket(zctx, ZMQ_PULL, cfg->ingest, cfg->hwm, kp, err, errlen,
                          usage_error);
    if (p->pull && cfg->ingest_acked[0])
        p->router = bind_socket(zctx, ZMQ_ROUTER, cfg->ingest_acked, cfg->hwm, kp, err, errlen,
                          usage_error);
    if (p->pull && (p->router || !cfg->ingest_acked[0]))
        p->pub = bind_socket(zctx, ZMQ_PUB, cfg->publish, publish_hwm(cfg), kp, err, errlen,
                          usage_error);
    if (!p->pub) {
        close_sockets(p);
        pack_ref_put(p->pack);
        free(p);
        return NULL;
    }
    p->stop_recv = zmq_socket(zctx, ZMQ_PAIR);
    zmq_bind(p->stop_recv, "inproc://ingest-stop");
    p->stop_send = zmq_socket(zctx, ZMQ_PAIR);
    zmq_connect(p->stop_send, "inproc://ingest-stop");

    pthread_create(&p->publisher_thread, NULL, publisher_main, p);
    pthread_setname_np(p->publisher_thread, "cd-publish");
    pthread_create(&p->writer_thread, NULL, writer_main, p);
    pthread_setname_np(p->writer_thread, "cd-writer");
    p->workers = calloc((size_t)p->n_workers, sizeof(worker));
    for (int i = 0; i < p->n_workers; i++) {
        p->workers[i].p = p;
        p->workers[i].index = i;
        pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        char name[24];  /* names beyond 15 bytes are refused: workers past 99999 stay unnamed */
        snprintf(name, sizeof name, "cd-worker%d", i);
        pthread_setname_np(p->workers[i].thread, name);
    }
    pthread_create(&p->ingest_thread, NULL, ingest_main, p);
    pthread_setname_np(p->ingest_thread, "cd-ingest");
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
        pthread_join(p->workers[i].thread, NULL);
    pthread_join(p->writer_thread, NULL);
    pthread_join(p->publisher_thread, NULL);
    int failed = p->writer_failed;
    close_sockets(p);
    zmq_close(p->stop_send);
    zmq_close(p->stop_recv);
    pack_ref_put(p->pack);
    pthread_mutex_destroy(&p->swap_lock);
    batch_pool_drain(&p->batches);
    pthread_mutex_destroy(&p->batches.lock);
    free(p->workers);
    free(p);
    return failed ? -1 : 0;
}
