/*
 * ingest — the thread that owns the producer-facing sockets: the PULL
 * socket for plain events and the ROUTER socket for acknowledged ones. It
 * gathers events into batches (batch.h), hands each batch to a
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
#include "health.h"
#include "log.h"
#include "ingest.h"
#include "inproc.h"
#include "lograte.h"

typedef struct ingest {
    const ingest_ctx *p;  /* what the pipeline gave this thread (ingest.h) */
    void      *out[MAX_WORKERS];
    int        next;  /* the worker of the next run */
    uint64_t   runs;  /* runs handed on so far */
    job_batch *run;   /* the run being gathered; NULL when none */
    void      *acks;  /* writer -> ingest */
    lograte    extra; /* multi-part messages, one summary per window */
} ingest;

/* Receive and drop the rest of a multi-part message: events are one frame. */
static void drop_more(ingest *g, void *sock, zmq_msg_t *m)
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
    if (extra)  /* counted, not a line each: a producer could send millions */
        lograte_note(&g->extra, "multi-part message", NULL, clock_wall_ms());
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
    if (!g->run && !(g->run = batch_new(g->p->batches))) {
        log_error("ingest: out of memory");
        abort();
    }
    job *j = &g->run->jobs[g->run->n++];
    j->received_us = clock_mono_us();
    j->acked = 0;
    j->req = 0;
    j->route_len = 0;
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
        drop_more(g, g->p->pull, &m);
        add_body(g, next_job(g), &m);
    }
}

static int rcv_more(void *sock)
{
    int more = 0;
    size_t sz = sizeof more;
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
    return more;
}

/* Everything the ROUTER socket holds now; returns how many events. A
 * DEALER sends [routing id][event]; a REQ socket puts an empty delimiter
 * frame before the event ([routing id][][event]) and takes a reply only
 * with it, so its Ack goes back the same way (publisher.c). */
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
        if (rcv_more(router)) {
            zmq_msg_recv(&m, router, 0);
            if (zmq_msg_size(&m) == 0 && zmq_msg_more(&m)) {
                j->req = 1;  /* the delimiter: the event is the next frame */
                zmq_msg_recv(&m, router, 0);
                log_debug("acked ingest: an event from a REQ client");
            }
        }
        /* With no body, m is empty: the event is rejected downstream and
         * the producer hears why. */
        drop_more(g, router, &m);
        add_body(g, j, &m);
    }
}

/* Forward the publisher's acks, every frame of each ([routing id],
 * perhaps the REQ delimiter, [Ack]); returns 1 once the publisher said it
 * is done (a lone frame). */
static int forward_acks(ingest *g)
{
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, g->acks, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return 0;
        }
        if (!zmq_msg_more(&part)) {
            zmq_msg_close(&part);
            return 1;
        }
        for (int more = 1; more;) {
            /* A producer that went away is simply not there: the ROUTER
             * drops what it cannot route, and the producer re-sends. */
            if (g->p->router)
                zmq_msg_send(&part, g->p->router, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_msg_close(&part);
            zmq_msg_init(&part);
            zmq_msg_recv(&part, g->acks, 0);
            more = zmq_msg_more(&part);
            if (!more && g->p->router)
                zmq_msg_send(&part, g->p->router, ZMQ_DONTWAIT);
        }
        zmq_msg_close(&part);
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
    const ingest_ctx *p = g.p;
    lograte_init(&g.extra, "ignored the extra frames of", LOG_WARN,
                 (int64_t)p->cfg->reject_log_interval_s * 1000);
    for (int i = 0; i < p->n_workers; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, WORK_ENDPOINT_FMT, i);
        g.out[i] = zmq_socket(p->zctx, ZMQ_PUSH);
        set_sockopt_int(g.out[i], ZMQ_SNDHWM, WORKER_QUEUE);
        zmq_connect(g.out[i], ep);
    }
    g.acks = p->acks;

    zmq_pollitem_t items[4] = {{p->stop_recv, 0, ZMQ_POLLIN, 0},
                               {g.acks, 0, ZMQ_POLLIN, 0},
                               {p->pull, 0, ZMQ_POLLIN, 0},
                               {p->router, 0, ZMQ_POLLIN, 0}};
    int n_items = p->router ? 4 : 3;
    int stopping = 0, writer_done = 0;
    const struct timespec linger = {p->cfg->ingest_linger_us / 1000000,
                                    (long)(p->cfg->ingest_linger_us % 1000000) * 1000L};
    health_slot *hb = health_register("ingest");
    while (!stopping) {
        long due = lograte_due_ms(&g.extra, clock_wall_ms());
        health_wait(hb);
        int ready = zmq_poll(items, n_items, due);
        if (ready < 0 && zmq_errno() != EINTR)
            break;
        health_beat(hb);
        lograte_flush(&g.extra, clock_wall_ms(), 0);
        if (ready <= 0)
            continue;
        if (items[0].revents & ZMQ_POLLIN)
            stopping = 1;  /* take what is already queued, then stop */
        /* Only the sockets that have something: asking an empty one costs
         * system calls (libzmq polls its mailbox), and at a trickle of
         * events that was most of this thread's time. On stop, all. */
        if (stopping || (items[1].revents & ZMQ_POLLIN))
            writer_done |= forward_acks(&g);
        int got = take_events(&g, stopping || (items[2].revents & ZMQ_POLLIN),
                              stopping || (items[3].revents & ZMQ_POLLIN));
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
    zmq_close(p->pull);
    if (p->router)
        zmq_close(p->router);
    zmq_close(p->stop_recv);
    lograte_flush(&g.extra, clock_wall_ms(), 1);
    lograte_destroy(&g.extra);
    health_exit(hb);
    return NULL;
}
