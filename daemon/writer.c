/*
 * writer — the one thread that writes LMDB.
 *
 * It groups the workers' batches into one transaction (what queued up while
 * the previous commit ran, at most batch_size events, or, with
 * commit_interval_ms set, everything of that long after the first one),
 * decides every event against its customer's history (triage.h), commits
 * once, and hands the group to the publisher (publisher.c), which makes it
 * durable before anyone hears of it.
 *
 * Workers finish their batches in any order; the writer takes them in the
 * order ingest numbered its runs (holding any that come early), so events
 * are decided, and their seqs given, in the order they arrived.
 *
 * If the store refuses a commit (full disk, full map) the writer keeps the
 * group and retries every second; the workers then block on it, ingest
 * blocks on them and the producers' sockets fill: intake stops, nothing
 * acknowledged is lost.
 *
 * Managers' reviews (feedback.h) come from the control thread on a queue of
 * their own and are stored between groups, in a transaction of their own:
 * LMDB keeps one writer, and a review never waits behind more than one
 * group's commit.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "clock.h"
#include "feedback.h"
#include "forget.h"
#include "group.h"
#include "grow.h"
#include "inproc.h"
#include "health.h"
#include "log.h"
#include "triage.h"
#include "writer.h"

typedef struct writer {
    writer_ctx    *p;        /* what the pipeline gave this thread (writer.h) */
    void          *in;       /* batches from the workers */
    void          *publish;  /* committed groups to the publisher */
    void          *feedback_done; /* outcomes of stored reviews, to the control thread */
    void          *forget;   /* PAIR: forget requests from the control thread (forget.h) */
    decided_group *g;        /* the group being gathered (never NULL) */
    job_batch    **early;    /* batches that came before their turn */
    size_t         n_early, early_cap;
    size_t         early_events; /* events in the early batches */
    uint64_t       next_run; /* the run whose turn it is */
    int64_t        first_us; /* when the group got its first batch */
    triage_session ts;
    policy         pol;      /* the writer's copy, refreshed between groups */
    unsigned       pol_gen;
    health_slot   *hb;       /* this thread's heartbeat (health.h) */
} writer;

/* Decide every job of the held batches in one transaction; HIST_OK on commit. */
static int decide_group(writer *w)
{
    writer_ctx *p = w->p;
    decided_group *g = w->g;
    group_clear_decisions(g);
    unsigned gen = live_policy_gen(p->rules);
    if (gen != w->pol_gen) {  /* a reload: the next group decides with the new policy */
        live_policy(p->rules, &w->pol);
        w->pol_gen = gen;
    }
    int rc = triage_begin(&w->ts, p->env, &w->pol, (uint64_t)p->cfg->decision_log_max,
                          p->cfg->decision_log_max_age_ms);
    int64_t now = clock_wall_ms();
    uint64_t dup = 0;
    for (size_t b = 0; b < g->n_batches && rc == HIST_OK; b++) {
        for (size_t i = 0; i < g->batches[b]->n && rc == HIST_OK; i++) {
            job *j = &g->batches[b]->jobs[i];
            const uint8_t *bytes;
            size_t len;
            int action = 0, t, status;
            if (j->reject) {
                t = triage_reject(&w->ts, j->ev, j->reject, now, &bytes, &len);
                status = COMPLAINT__V1__ACK__STATUS__REJECTED;
            } else {
                t = triage_event_explained(&w->ts, j->ev, &j->cr,
                                           j->explain.n_models ? &j->explain : NULL,
                                           g->batches[b]->pack->rp, now, &action, &bytes, &len);
                status = t == TRIAGE_DUPLICATE ? COMPLAINT__V1__ACK__STATUS__DUPLICATE
                                               : COMPLAINT__V1__ACK__STATUS__DECIDED;
            }
            if (t < 0) {
                rc = t == TRIAGE_EFULL ? HIST_EFULL : HIST_ERR;
                break;
            }
            dup += (t == TRIAGE_DUPLICATE);
            if (group_add_decision(g, bytes, len, j->reject ? 0 : action, w->ts.last_seq,
                                   status) < 0)
                rc = HIST_ERR;
        }
    }
    int64_t t0 = clock_mono_us();
    if (rc == HIST_OK)
        rc = triage_commit(&w->ts);
    else
        triage_abort(&w->ts);
    if (rc != HIST_OK)
        return rc;
    g->committed_us = clock_mono_us();
    uint64_t commit_us = (uint64_t)(g->committed_us - t0);
    STAT_ADD(p->stats->commits, 1);
    STAT_ADD(p->stats->commit_us, commit_us);
    stats_observe(&p->stats->h_commit_us, commit_us);
    stats_observe(&p->stats->h_batch_events, g->n_events);
    STAT_ADD(p->stats->duplicates, dup);
    return HIST_OK;
}

static decided_group *fresh_group(void)
{
    decided_group *g = group_new();
    if (!g) {
        log_error("writer: out of memory");
        abort();
    }
    return g;
}

/* Commit what is held, retrying while the store refuses, and hand the group
 * to the publisher. -1 if the final group could not be committed. */
static int flush_group(writer *w, int final)
{
    writer_ctx *p = w->p;
    if (w->g->n_batches == 0)
        return 0;
    int attempts = 0, rc;
    while ((rc = decide_group(w)) != HIST_OK) {
        /* Alive and retrying: not ready, but nothing for a watchdog to restart. */
        health_pause(w->hb, rc == HIST_EFULL ? "intake paused: the LMDB map is full"
                                             : "intake paused: commits to the store fail");
        STAT_ADD(p->stats->commit_failures, 1);
        if (attempts++ == 0 || attempts % 60 == 0)
            log_error("cannot commit %zu event(s) to %s: %s; intake paused, retrying",
                      w->g->n_events, p->cfg->data_dir, hist_last_error(p->env));
        if (final && attempts >= 5)
            return -1;
        sleep(1);
    }
    if (attempts) {
        health_pause(w->hb, NULL);
        log_info("commit succeeded after %d retries; intake resumes", attempts);
    }
    w->g->last_seq = w->ts.next_seq - 1;
    log_debug("commit: %zu event(s) in %zu batch(es), up to seq %llu", w->g->n_events,
              w->g->n_batches, (unsigned long long)w->g->last_seq);
    HANDOFF_RELEASE(w->g);
    zmq_send(w->publish, &w->g, sizeof w->g, 0);  /* the publisher owns it now */
    w->g = fresh_group();
    atomic_store_explicit(&p->stats->writer_held, w->early_events, memory_order_relaxed);
    return 0;
}

static void hold(writer *w, job_batch *b)
{
    if (w->g->n_batches == 0)
        w->first_us = clock_mono_us();
    if (group_hold(w->g, b) < 0) {
        log_error("writer: out of memory");
        abort();
    }
    w->next_run++;
}

/* Take b into the group if it is its turn, with the early ones whose turn
 * follows; keep it aside if not. The early list never holds next_run. */
static void take_in_order(writer *w, job_batch *b)
{
    if (b->run != w->next_run) {
        job_batch **a = grow_array(w->early, &w->early_cap, w->n_early + 1, sizeof *a, 16);
        if (!a) {
            log_error("writer: out of memory");
            abort();
        }
        w->early = a;
        w->early[w->n_early++] = b;
        w->early_events += b->n;
        return;
    }
    hold(w, b);
    for (size_t i = 0; i < w->n_early;) {
        if (w->early[i]->run == w->next_run) {
            w->early_events -= w->early[i]->n;
            hold(w, w->early[i]);
            w->early[i] = w->early[--w->n_early];
            i = 0;  /* the one after may be anywhere in the list */
        } else {
            i++;
        }
    }
}

/* Store one message of reviews (inproc.h) and send the outcome back. */
static void store_feedback(writer *w, zmq_msg_t *m)
{
    writer_ctx *p = w->p;
    feedback_done d;
    memset(&d, 0, sizeof d);
    size_t size = zmq_msg_size(m);
    const uint8_t *data = zmq_msg_data(m);
    if (size < sizeof d.ticket)
        return; /* not from the control thread */
    memcpy(&d.ticket, data, sizeof d.ticket);
    Complaint__V1__FeedbackBatch *b =
        complaint__v1__feedback_batch__unpack(NULL, size - sizeof d.ticket, data + sizeof d.ticket);
    hist_txn *t = NULL;
    int rc = b ? hist_begin(p->env, 1, &t) : HIST_ECORRUPT;
    for (size_t i = 0; rc == HIST_OK && i < b->n_items; i++) {
        int replaced;
        rc = feedback_put(t, b->items[i], &replaced);
        d.stored++;
        d.replaced += (uint32_t)replaced;
    }
    if (rc == HIST_OK)
        rc = hist_commit(t);
    else if (t)
        hist_abort(t);
    if (rc == HIST_OK && p->cfg->durable)
        rc = hist_sync(p->env);  /* a reply of "stored" means on disk */
    if (rc != HIST_OK) {
        d.stored = d.replaced = 0;
        snprintf(d.error, sizeof d.error, "%s",
                 b ? hist_last_error(p->env) : "the feedback batch does not decode");
        log_error("feedback: cannot store %zu review(s): %s", b ? b->n_items : 0, d.error);
    }
    d.rc = rc;
    if (b)
        complaint__v1__feedback_batch__free_unpacked(b, NULL);
    STAT_ADD(p->stats->feedback_stored, d.stored);
    zmq_send(w->feedback_done, &d, sizeof d, ZMQ_DONTWAIT);
}

/* Every review message waiting, without blocking. */
static void take_feedback(writer *w)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, w->p->feedback_in, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        store_feedback(w, &m);
        zmq_msg_close(&m);
    }
}

void *writer_main(void *arg)
{
    writer w = {.p = arg, .g = fresh_group(), .hb = health_register("writer")};
    writer_ctx *p = w.p;
    live_policy(p->rules, &w.pol);
    w.pol_gen = live_policy_gen(p->rules);
    w.in = p->in;
    w.publish = zmq_socket(p->zctx, ZMQ_PUSH);
    set_sockopt_int(w.publish, ZMQ_SNDHWM, 8);  /* a slow disk holds the writer back */
    zmq_connect(w.publish, PUBLISH_ENDPOINT);
    w.feedback_done = zmq_socket(p->zctx, ZMQ_PUSH);
    set_sockopt_int(w.feedback_done, ZMQ_LINGER, 0);
    zmq_connect(w.feedback_done, FEEDBACK_DONE_ENDPOINT);
    w.forget = zmq_socket(p->zctx, ZMQ_PAIR);
    zmq_bind(w.forget, FORGET_ENDPOINT);
    int ends = 0;
    const int64_t interval_us = (int64_t)p->cfg->commit_interval_ms * 1000;
    const size_t batch_size = (size_t)p->cfg->batch_size;
    while (ends < p->n_workers) {
        int timeout = -1;
        if (w.g->n_batches) {
            int64_t left = w.first_us + interval_us - clock_mono_us();
            timeout = left > 0 ? (int)(left / 1000) : 0;
        }
        zmq_pollitem_t items[3] = {{w.in, 0, ZMQ_POLLIN, 0}, {w.forget, 0, ZMQ_POLLIN, 0},
                                   {p->feedback_in, 0, ZMQ_POLLIN, 0}};
        health_wait(w.hb);
        int ready = zmq_poll(items, 3, timeout);
        health_beat(w.hb);
        if (ready > 0 && (items[1].revents & ZMQ_POLLIN)) {
            /* Between groups, in a transaction of its own: what is held
             * commits first, so events that came before are forgotten too. */
            flush_group(&w, 0);
            forget_serve(w.forget, p->env, p->cfg->durable);
        }
        if (ready > 0 && (items[2].revents & ZMQ_POLLIN))
            take_feedback(&w);
        while (ready > 0 && (items[0].revents & ZMQ_POLLIN) && w.g->n_events < batch_size) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, w.in, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            if (zmq_msg_size(&m) == sizeof(job_batch *)) {
                job_batch *b;
                memcpy(&b, zmq_msg_data(&m), sizeof b);
                HANDOFF_ACQUIRE(b);
                take_in_order(&w, b);
                atomic_store_explicit(&p->stats->writer_held, w.g->n_events + w.early_events,
                                      memory_order_relaxed);
            } else {
                ends++;  /* a worker is done */
            }
            zmq_msg_close(&m);
        }
        /* With commit_interval_ms = 0 (the default) a group is whatever
         * queued up while the previous commit ran: it commits as soon as
         * nothing more is waiting, so light load costs no added delay and
         * heavy load makes bigger groups by itself. */
        if (w.g->n_batches && (interval_us == 0 || w.g->n_events >= batch_size ||
                               clock_mono_us() - w.first_us >= interval_us))
            flush_group(&w, 0);
    }
    if (w.n_early)  /* cannot happen: every run ingest numbered came through a worker */
        log_error("writer: %zu batch(es) never got their turn; their events are not decided",
                  w.n_early);
    if (flush_group(&w, 1) < 0)
        p->failed = 1;
    group_free(w.g);  /* empty, or the group that could not be committed */
    for (size_t i = 0; i < w.n_early; i++)
        batch_free(w.early[i]);
    free(w.early);
    zmq_send(w.publish, "", 0, 0);  /* tells the publisher no more groups will come */
    triage_session_free(&w.ts);
    take_feedback(&w);  /* the control thread has stopped: stored, unanswered */
    zmq_close(w.in);
    zmq_close(p->feedback_in);
    zmq_close(w.feedback_done);
    zmq_close(w.publish);
    zmq_close(w.forget);
    health_exit(w.hb);
    return NULL;
}
