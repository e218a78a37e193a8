/*
 * worker — decode, validate, normalise and scan events, in batches.
 *
 * A worker blocks for a batch from ingest (a run of events, see ingest.c),
 * labels its jobs in place and passes the same batch on to the writer as
 * one pointer message; ownership goes with it.
 *
 * Labelling is the rule scan, then the learned models in force (live.h)
 * beside it on the same text: the labels the writer acts on are their
 * combination (model_combine), and the job keeps what the models said so
 * that the decision explains itself (triage_explain). Each worker has its
 * own model_scratch; the models themselves are shared, read-only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "batch.h"
#include "clock.h"
#include "inproc.h"
#include "health.h"
#include "log.h"
#include "worker.h"

/* Between batches: take up a reloaded pack. On failure keep the old one. */
static void follow_reload(const worker_ctx *p, int index, pack_ref **mine, classifier **cl, unsigned *gen)
{
    unsigned now = live_pack_gen(p->rules);
    if (now == *gen && *cl)
        return;
    pack_ref *fresh = live_pack(p->rules);
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

/* What a worker labels with besides its classifier: the models in force
 * (a reference, taken up between batches like the pack) and its scratch. */
typedef struct worker_models {
    model_set     *set;
    unsigned       gen;
    model_scratch *s;  /* owned; NULL until a set has a model */
} worker_models;

static void follow_models(const worker_ctx *p, worker_models *wm)
{
    unsigned now = live_models_gen(p->rules);
    if (wm->set && now == wm->gen)
        return;
    model_set *fresh = live_models(p->rules);
    if (fresh->n && !wm->s && !(wm->s = model_scratch_new())) {
        log_error("worker %d: out of memory for a model scratch; labelling with the rules alone",
                  p->index);
        model_set_put(fresh);
        return;
    }
    model_set_put(wm->set);
    wm->set = fresh;
    wm->gen = now;
}

/* The models on an event the rules have labelled cr (with cl, whose canonical
 * text of the event the models read rather than normalising it again): cr's
 * labels become the combined ones and j->explain says why. On failure (out
 * of memory) the rules' labels stand. */
static void apply_models(const worker_models *wm, const classifier *cl, const event_msg *ev,
                         classify_result *cr, job *j)
{
    const model_set *ms = wm->set;
    model_result mr;
    if (model_begin_norm(wm->s, classifier_canonical(cl), &mr) != MODEL_OK)
        return;
    for (int k = 0; k < ms->n; k++)
        if (model_predict(ms->m[k], wm->s, (int)ev->channel, cr, &mr) != MODEL_OK)
            return;
    label_set rules = cr->labels;
    cr->labels = model_combine(rules, &mr);
    triage_explain_set(&j->explain, rules, cr->labels, &mr, ms->names, (size_t)ms->n);
}

/* Decode (into mem), validate and label one event into j (whose routing
 * fields are set). */
static void work_one(const worker_ctx *p, classifier *cl, const worker_models *wm, arena *mem,
                     zmq_msg_t *m, job *j)
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
    j->ev = complaint__v1__complaint_event__unpack(arena_pb(mem), size, zmq_msg_data(m));
    if (!j->ev) {
        j->reject = "malformed protobuf: not a complaint.v1.ComplaintEvent";
        return;
    }
    j->reject = codec_event_invalid(j->ev, (size_t)p->cfg->max_message_bytes, EVENT_SKIP_TEXT_UTF8);
    if (j->reject)
        return;
    if (!cl) {
        j->reject = "worker has no Hyperscan scratch";
        return;
    }
    classify_result cr;
    int rc = classify_text(cl, j->ev->text, strlen(j->ev->text), (int)j->ev->channel, j->ev->lang, &cr);
    if (rc != CLASSIFY_OK) {
        j->reject = rc == CLASSIFY_EUTF8 ? "text is not valid UTF-8" : "text could not be scanned";
        return;
    }
    if (cr.span_misses)  /* not expected of the default pack (classify.c says when) */
        STAT_ADD(p->stats->span_misses, cr.span_misses);
    if (wm->set && wm->set->n && wm->s)
        apply_models(wm, cl, j->ev, &cr, j);
    j->cr = cr;
    j->cr.n_matches = cr.n_matches < JOB_MATCHES ? cr.n_matches : JOB_MATCHES;
    memcpy(j->matches, cr.matches, j->cr.n_matches * sizeof(classify_match));
    j->cr.matches = j->matches;
}

/* Label every job of a batch from ingest in place, and close its bodies. */
static void label_batch(const worker_ctx *p, classifier *cl, const worker_models *wm, job_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        job *j = &b->jobs[i];
        j->ev = NULL;
        j->reject = NULL;
        memset(&j->cr, 0, sizeof j->cr);
        j->explain.n_models = 0;
        int64_t t0 = clock_mono_us();
        work_one(p, cl, wm, &b->events, &j->body, j);
        stats_observe(&p->stats->h_scan_us, (uint64_t)(clock_mono_us() - t0));
        zmq_msg_close(&j->body);
    }
    b->labelled_us = clock_mono_us();
}

void *worker_main(void *arg)
{
    const worker_ctx *p = arg;  /* what the pipeline gave this thread (worker.h) */
    void *in = p->in;
    void *out = zmq_socket(p->zctx, ZMQ_PUSH);
    set_sockopt_int(out, ZMQ_SNDHWM, 64);
    zmq_connect(out, DECIDE_ENDPOINT);
    classifier *cl = NULL;
    pack_ref *mine = NULL;
    unsigned gen = 0;
    worker_models wm = {NULL, 0, NULL};

    char name[24];
    snprintf(name, sizeof name, "worker-%d", p->index);
    health_slot *hb = health_register(name);
    for (;;) {
        job_batch *b;
        health_wait(hb);
        int n = zmq_recv(in, &b, sizeof b, 0);
        health_beat(hb);
        if (n < 0 && zmq_errno() == EINTR)
            continue;
        if (n != (int)sizeof b)
            break;  /* the end marker (or the context going away, which cannot come first) */
        HANDOFF_ACQUIRE(b);
        /* Only now look for a reload, so that a batch that arrives after a
         * swap gets the new pack. */
        follow_reload(p, p->index, &mine, &cl, &gen);
        follow_models(p, &wm);
        b->pack = mine;
        pack_ref_hold(mine);
        b->models = wm.set;
        if (wm.set)
            model_set_hold(wm.set);
        label_batch(p, cl, &wm, b);
        HANDOFF_RELEASE(b);
        zmq_send(out, &b, sizeof b, 0);  /* ownership goes to the writer */
    }
    zmq_send(out, "", 0, 0);  /* this worker is done */
    classifier_free(cl);
    pack_ref_put(mine);
    model_set_put(wm.set);
    model_scratch_free(wm.s);
    zmq_close(in);
    zmq_close(out);
    health_exit(hb);
    return NULL;
}
