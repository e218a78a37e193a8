/*
 * ingest — the thread that owns the producer-facing sockets: the PULL
 * socket for plain events and the ROUTER socket for acknowledged ones. It
 * gathers events into batches (pipeline_internal.h), hands each batch to a
 * worker (round robin), and sends the writer's acks back to their producers.
 *
 * A batch is a run: everything one look at the sockets finds, up to
 * WORKER_BATCH events. Under light load a look finds one event; with
 * ingest_linger_us set, ingest then holds it that long and looks again
 * before handing the run on. Every thread an event passes wakes for it, and
 * on a virtual machine a wake costs several microseconds of system time: at
 * 20-40k events/s the daemon spent more CPU per event than at full load.
 * A run wakes each thread once for all its events.
 *
 * On "stop" it drains what its sockets already hold, sends each worker the
 * end marker, and keeps delivering acks until the writer says it is done, so
 * the last batch's producers hear about it too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "nats_in.h"
#include "pipeline_internal.h"

typedef struct ingest {
    pipeline  *p;
    void      *out[MAX_WORKERS];
    int        next;  /* the worker of the next run */
    uint64_t   runs;  /* runs handed on so far */
    job_batch *run;   /* the run being gathered; NULL when none */
    void      *acks;  /* writer -> ingest */
    void      *nats;  /* cluster mode: events fetched from NATS (nats_in.h); idle otherwise */
} ingest;

/* Receive and drop the rest of a multi-part message: events are one frame. */
static void drop_more(void *sock, zmq_msg_t *m)
{
    int extra = 0;
    while (zmq_msg_more(m)) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        zmq_msg_recv(&part, sock, 0);
        int more = zmq_msg_more(&part);
        zmq_msg_close(&part);
        extra++;
        if (!more)
            break;
    }
    if (extra)
        log_warn("a multi-part message: %d extra frame(s) ignored", extra);
}

/* Hand the run to the next worker (blocks while that worker's queue is
 * full); the worker owns it now. */
static void end_run(ingest *g)
{
    if (!g->run)
        return;
    void *out = g->out[g->next];
    g->next = (g->next + 1) % g->p->n_workers;
    g->run->run = g->runs++;
    HANDOFF_RELEASE(g->run);
    zmq_send(out, &g->run, sizeof g->run, 0);
    g->run = NULL;
}

/* The next job of the run, with its receipt fields set. Only those: the
 * worker clears the rest on its own core (see label_batch). */
static job *next_job(ingest *g)
{
    if (!g->run && !(g->run = batch_new(&g->p->batches))) {
        log_error("ingest: out of memory");
        abort();
    }
    job *j = &g->run->jobs[g->run->n++];
    j->received_us = clock_mono_us();
    j->acked = 0;
    j->route_len = 0;
    j->nats = NULL;
    STAT_ADD(g->p->stats->received, 1);
    return j;
}

/* Take body into the job (zero-copy) and end the run when it is full. */
static void add_body(ingest *g, job *j, zmq_msg_t *body)
{
    zmq_msg_init(&j->body);
    zmq_msg_move(&j->body, body);
    zmq_msg_close(body);
    if (g->run->n == WORKER_BATCH)
        end_run(g);
}

/* Everything the PULL socket holds now; returns how many events. */
static int from_pull(ingest *g)
{
    for (int n = 0;; n++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, g->p->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return n;
        }
        drop_more(g->p->pull, &m);
        add_body(g, next_job(g), &m);
    }
}

/* Everything the ROUTER socket holds now, [routing id][event]; returns how
 * many events. */
static int from_router(ingest *g)
{
    void *router = g->p->router;
    for (int events = 0;; events++) {
        uint8_t route[ROUTE_MAX];
        int n = zmq_recv(router, route, ROUTE_MAX, ZMQ_DONTWAIT);
        if (n < 0)
            return events;
        job *j = next_job(g);
        j->acked = 1;
        j->route_len = (uint8_t)(n > ROUTE_MAX ? ROUTE_MAX : n);
        memcpy(j->route, route, j->route_len);
        zmq_msg_t m;
        zmq_msg_init(&m);
        int more = 0;
        size_t sz = sizeof more;
        zmq_getsockopt(router, ZMQ_RCVMORE, &more, &sz);
        if (more)
            zmq_msg_recv(&m, router, 0);  /* no body: an empty event, rejected downstream */
        drop_more(router, &m);
        add_body(g, j, &m);
    }
}

/* Everything the partition threads handed over now (nats_in.h): the job
 * owns the nats_in, its body borrows the message's bytes (the message
 * outlives the body: the publisher frees it). Returns how many events. */
static int from_nats(ingest *g)
{
    for (int events = 0;; events++) {
        nats_in *in;
        if (zmq_recv(g->nats, &in, sizeof in, ZMQ_DONTWAIT) != (int)sizeof in)
            return events;
        NATS_IN_ACQUIRE(in);
        job *j = next_job(g);
        j->nats = in;
        zmq_msg_t m;
        zmq_msg_init_data(&m, (void *)nats_in_data(in), nats_in_len(in), NULL, NULL);
        add_body(g, j, &m);
    }
}

/* Forward the writer's acks; returns 1 once the writer said it is done. */
static int forward_acks(ingest *g)
{
    for (;;) {
        zmq_msg_t route, ack;
        zmq_msg_init(&route);
        if (zmq_msg_recv(&route, g->acks, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&route);
            return 0;
        }
        if (!zmq_msg_more(&route)) {
            zmq_msg_close(&route);
            return 1;
        }
        zmq_msg_init(&ack);
        zmq_msg_recv(&ack, g->acks, 0);
        if (g->p->router) {
            /* A producer that went away is simply not there: the ROUTER
             * drops what it cannot route, and the producer re-sends. */
            zmq_msg_send(&route, g->p->router, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_msg_send(&ack, g->p->router, ZMQ_DONTWAIT);
        }
        zmq_msg_close(&route);
        zmq_msg_close(&ack);
    }
}

/* What the event sockets that are ready hold now. */
static int take_events(ingest *g, int pull_ready, int router_ready)
{
    int got = 0;
    if (pull_ready)
        got += from_pull(g);
    if (g->p->router && router_ready)
        got += from_router(g);
    return got;
}

void *ingest_main(void *arg)
{
    ingest g = {.p = arg};
    pipeline *p = g.p;
    for (int i = 0; i < p->n_workers; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://work-%d", i);
        g.out[i] = zmq_socket(p->zctx, ZMQ_PUSH);
        set_sockopt_int(g.out[i], ZMQ_SNDHWM, WORKER_QUEUE);
        zmq_connect(g.out[i], ep);
    }
    g.acks = zmq_socket(p->zctx, ZMQ_PULL);
    zmq_bind(g.acks, ACKS_ENDPOINT);
    g.nats = zmq_socket(p->zctx, ZMQ_PULL);
    set_sockopt_int(g.nats, ZMQ_RCVHWM, WORKER_BATCH * 4);
    zmq_bind(g.nats, NATS_IN_ENDPOINT);

    zmq_pollitem_t items[5] = {{p->stop_recv, 0, ZMQ_POLLIN, 0},
                               {g.acks, 0, ZMQ_POLLIN, 0},
                               {p->pull, 0, ZMQ_POLLIN, 0},
                               {g.nats, 0, ZMQ_POLLIN, 0},
                               {p->router, 0, ZMQ_POLLIN, 0}};
    int n_items = p->router ? 5 : 4;
    int stopping = 0, writer_done = 0;
    const struct timespec linger = {p->cfg->ingest_linger_us / 1000000,
                                    (long)(p->cfg->ingest_linger_us % 1000000) * 1000L};
    while (!stopping) {
        if (zmq_poll(items, n_items, -1) < 0 && zmq_errno() != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            stopping = 1;  /* take what is already queued, then stop */
        /* Only the sockets that have something: asking an empty one costs
         * system calls (libzmq polls its mailbox), and at a trickle of
         * events that was most of this thread's time. On stop, all. */
        if (stopping || (items[1].revents & ZMQ_POLLIN))
            writer_done |= forward_acks(&g);
        int got = take_events(&g, stopping || (items[2].revents & ZMQ_POLLIN),
                              stopping || (items[4].revents & ZMQ_POLLIN));
        if (stopping || (items[3].revents & ZMQ_POLLIN))
            got += from_nats(&g);
        if (g.run && got < WORKER_BATCH && (linger.tv_sec || linger.tv_nsec) && !stopping) {
            nanosleep(&linger, NULL);
            take_events(&g, 1, 1);
        }
        end_run(&g);
    }
    for (int i = 0; i < p->n_workers; i++) {
        zmq_send(g.out[i], "", 0, 0);  /* end of input */
        zmq_close(g.out[i]);
    }
    /* The last acks come after the last commit. */
    zmq_pollitem_t ack_item = {g.acks, 0, ZMQ_POLLIN, 0};
    while (!writer_done && zmq_poll(&ack_item, 1, 60000) > 0)
        writer_done = forward_acks(&g);
    zmq_close(g.acks);
    zmq_close(g.nats);
    return NULL;
}
