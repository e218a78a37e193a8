/*
 * worker — decode, validate, normalise and scan events, in batches.
 *
 * A worker blocks for one envelope, then takes what is already queued (up
 * to WORKER_BATCH) without waiting: under light load an event goes through
 * alone, under heavy load batches fill by themselves. A batch crosses to the
 * writer as one pointer message; ownership goes with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "pipeline_internal.h"

static void job_free(job *j)
{
    if (j->ev)
        complaint__v1__complaint_event__free_unpacked(j->ev, NULL);
    j->ev = NULL;
}

void batch_free(job_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        job_free(&b->jobs[i]);
    pack_ref_put(b->pack);
    free(b);
}

/* Between batches: take up a reloaded pack. On failure keep the old one. */
static void follow_reload(pipeline *p, int index, pack_ref **mine, classifier **cl, unsigned *gen)
{
    unsigned now = atomic_load(&p->pack_gen);
    if (now == *gen && *cl)
        return;
    pack_ref *fresh = pipeline_current_pack(p);
    classifier *c = classifier_new(fresh->rp);
    if (!c) {
        log_error("worker %d: cannot allocate a Hyperscan scratch for the new pack", index);
        pack_ref_put(fresh);
        return;
    }
    classifier_free(*cl);
    pack_ref_put(*mine);
    *cl = c;
    *mine = fresh;
    *gen = now;
}

/* Decode, validate and label one event into j (whose routing fields are set). */
static void work_one(pipeline *p, classifier *cl, zmq_msg_t *m, job *j)
{
    size_t size = zmq_msg_size(m);
    if (size > (size_t)p->cfg->max_message_bytes) {
        j->reject = "message over the size limit";
        return;
    }
    if (size == 0) {
        j->reject = "empty message";
        return;
    }
    j->ev = complaint__v1__complaint_event__unpack(NULL, size, zmq_msg_data(m));
    if (!j->ev) {
        j->reject = "malformed protobuf: not a complaint.v1.ComplaintEvent";
        return;
    }
    j->reject = event_invalid(j->ev, (size_t)p->cfg->max_message_bytes);
    if (j->reject)
        return;
    if (!cl) {
        j->reject = "worker has no Hyperscan scratch";
        return;
    }
    class_result cr;
    int rc = classify_text(cl, j->ev->text, strlen(j->ev->text), (int)j->ev->channel, j->ev->lang, &cr);
    if (rc != CLASSIFY_OK) {
        j->reject = rc == CLASSIFY_EUTF8 ? "text is not valid UTF-8" : "text could not be scanned";
        return;
    }
    j->cr = cr;
    j->cr.n_matches = cr.n_matches < JOB_MATCHES ? cr.n_matches : JOB_MATCHES;
    memcpy(j->matches, cr.matches, j->cr.n_matches * sizeof(class_match));
    j->cr.matches = j->matches;
}

/* An envelope's header frame (pipeline_internal.h), as received. */
typedef struct envelope_head {
    uint8_t bytes[ENV_HEAD + ROUTE_MAX];
    int     len;
} envelope_head;

/* Receive the header frame of the next envelope: 0, or -1 if nothing was
 * there (with ZMQ_DONTWAIT) or on interruption. */
static int receive_head(void *in, int flags, envelope_head *h)
{
    h->len = zmq_recv(in, h->bytes, sizeof h->bytes, flags);
    return h->len < ENV_HEAD ? -1 : 0;
}

/* Receive the rest of the envelope whose header is h, and label its event
 * into j. Returns 1 for an event, 0 for the end marker. */
static int receive_body(pipeline *p, classifier *cl, void *in, const envelope_head *h, job *j)
{
    zmq_msg_t body;
    zmq_msg_init(&body);
    zmq_msg_recv(&body, in, 0);  /* the envelope is always two frames */
    int rc = 1;
    if (h->bytes[0] == ENV_END) {
        rc = 0;
    } else {
        memset(j, 0, offsetof(job, route));
        memcpy(&j->received_us, h->bytes + 1, sizeof j->received_us);
        if (h->bytes[0] == ENV_ACKED) {
            j->acked = 1;
            j->route_len = (uint8_t)(h->len - ENV_HEAD);
            memcpy(j->route, h->bytes + ENV_HEAD, (size_t)(h->len - ENV_HEAD));
        }
        int64_t t0 = clock_mono_us();
        work_one(p, cl, &body, j);
        stats_observe(&p->stats->h_scan_us, (uint64_t)(clock_mono_us() - t0));
    }
    zmq_msg_close(&body);
    return rc;
}

void *worker_main(void *arg)
{
    worker *w = arg;
    pipeline *p = w->p;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://work-%d", w->index);
    void *in = zmq_socket(p->zctx, ZMQ_PULL);
    set_sockopt_int(in, ZMQ_RCVHWM, 4 * WORKER_BATCH);
    zmq_bind(in, ep);
    void *out = zmq_socket(p->zctx, ZMQ_PUSH);
    set_sockopt_int(out, ZMQ_SNDHWM, 64);
    zmq_connect(out, DECIDE_ENDPOINT);
    classifier *cl = NULL;
    pack_ref *mine = NULL;
    unsigned gen = 0;

    int done = 0;
    while (!done) {
        /* Block in the receive itself (a zmq_poll first would cost a few
         * more system calls per wake), and only then look for a reload, so
         * that an event that arrives after a swap gets the new pack. */
        envelope_head h;
        if (receive_head(in, 0, &h) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;  /* the context is going away: cannot happen before the end marker */
        }
        follow_reload(p, w->index, &mine, &cl, &gen);
        job_batch *b = malloc(sizeof *b);
        b->n = 0;
        b->pack = mine;
        atomic_fetch_add(&mine->refs, 1);
        /* The first envelope, then whatever else is already queued. */
        do {
            if (receive_body(p, cl, in, &h, &b->jobs[b->n]) == 0) {
                done = 1;
                break;
            }
            b->n++;
        } while (b->n < WORKER_BATCH && receive_head(in, ZMQ_DONTWAIT, &h) == 0);
        if (b->n > 0) {
            HANDOFF_RELEASE(b);
            zmq_send(out, &b, sizeof b, 0);  /* ownership goes to the writer */
        }
        else
            batch_free(b);
    }
    zmq_send(out, "", 0, 0);  /* this worker is done */
    classifier_free(cl);
    pack_ref_put(mine);
    zmq_close(in);
    zmq_close(out);
    return NULL;
}
