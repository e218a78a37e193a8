/*
 * ingest — the thread that owns the producer-facing sockets: the PULL
 * socket for plain events and the ROUTER socket for acknowledged ones. It
 * hands every event to a worker (round robin) in the envelope of
 * pipeline_internal.h, and sends the writer's acks back to their producers.
 *
 * On "stop" it drains what its sockets already hold, sends each worker the
 * end marker, and keeps delivering acks until the writer says it is done, so
 * the last batch's producers hear about it too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "pipeline_internal.h"

typedef struct ingest {
    pipeline *p;
    void     *out[MAX_WORKERS];
    int       next;
    void     *acks;  /* writer -> ingest */
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

/* Hand one event to the next worker; blocks when its queue is full. */
static void dispatch(ingest *g, const void *head, size_t head_len, zmq_msg_t *body)
{
    void *out = g->out[g->next];
    g->next = (g->next + 1) % g->p->n_workers;
    zmq_send(out, head, head_len, ZMQ_SNDMORE);
    zmq_msg_send(body, out, 0);
}

/* Everything the PULL socket holds now. */
static void from_pull(ingest *g)
{
    uint8_t head[ENV_HEAD] = {ENV_EVENT};
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, g->p->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        STAT_ADD(g->p->stats->received, 1);
        drop_more(g->p->pull, &m);
        int64_t now = clock_mono_us();
        memcpy(head + 1, &now, sizeof now);
        dispatch(g, head, sizeof head, &m);
    }
}

/* Everything the ROUTER socket holds now: [routing id][event]. */
static void from_router(ingest *g)
{
    void *router = g->p->router;
    for (;;) {
        uint8_t head[ENV_HEAD + ROUTE_MAX];
        int n = zmq_recv(router, head + ENV_HEAD, ROUTE_MAX, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        head[0] = ENV_ACKED;
        int64_t now = clock_mono_us();
        memcpy(head + 1, &now, sizeof now);
        zmq_msg_t m;
        zmq_msg_init(&m);
        int more = 0;
        size_t sz = sizeof more;
        zmq_getsockopt(router, ZMQ_RCVMORE, &more, &sz);
        if (more)
            zmq_msg_recv(&m, router, 0);  /* no body: an empty event, rejected downstream */
        STAT_ADD(g->p->stats->received, 1);
        drop_more(router, &m);
        dispatch(g, head, ENV_HEAD + (size_t)(n > ROUTE_MAX ? ROUTE_MAX : n), &m);
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

void *ingest_main(void *arg)
{
    ingest g = {.p = arg};
    pipeline *p = g.p;
    for (int i = 0; i < p->n_workers; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://work-%d", i);
        g.out[i] = zmq_socket(p->zctx, ZMQ_PUSH);
        set_sockopt_int(g.out[i], ZMQ_SNDHWM, 4 * WORKER_BATCH);
        zmq_connect(g.out[i], ep);
    }
    g.acks = zmq_socket(p->zctx, ZMQ_PULL);
    zmq_bind(g.acks, ACKS_ENDPOINT);

    zmq_pollitem_t items[4] = {{p->stop_recv, 0, ZMQ_POLLIN, 0},
                               {g.acks, 0, ZMQ_POLLIN, 0},
                               {p->pull, 0, ZMQ_POLLIN, 0},
                               {p->router, 0, ZMQ_POLLIN, 0}};
    int n_items = p->router ? 4 : 3;
    int stopping = 0, writer_done = 0;
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
        if (stopping || (items[2].revents & ZMQ_POLLIN))
            from_pull(&g);
        if (p->router && (stopping || (items[3].revents & ZMQ_POLLIN)))
            from_router(&g);
    }
    uint8_t end[ENV_HEAD] = {ENV_END};
    for (int i = 0; i < p->n_workers; i++) {
        zmq_send(g.out[i], end, sizeof end, ZMQ_SNDMORE);
        zmq_send(g.out[i], "", 0, 0);
        zmq_close(g.out[i]);
    }
    /* The last acks come after the last commit. */
    zmq_pollitem_t ack_item = {g.acks, 0, ZMQ_POLLIN, 0};
    while (!writer_done && zmq_poll(&ack_item, 1, 60000) > 0)
        writer_done = forward_acks(&g);
    zmq_close(g.acks);
    return NULL;
}
