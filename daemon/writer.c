/*
 * writer — the thread that decides events against their customers' history.
 *
 * It groups the workers' batches (what queued up while the previous group
 * was decided, at most batch_size events, or, with commit_interval_ms set,
 * everything of that long after the first one), decides every event of the
 * group in memory (triage.h) and hands the group to the committer
 * (committer.c), which writes it to the store and passes it on to the
 * publisher (publisher.c), which makes it durable before anyone hears of it.
 *
 * Deciding and committing overlap: while the committer writes group N, this
 * thread decides group N+1, reading through N's generation. It takes the
 * committer's answer about N before it hands over N+1. If N could not be
 * committed (full disk, full map, or another process wrote the store),
 * both are decided again, in order, and N is retried every second until the
 * store takes it; the workers then block on the writer, ingest blocks on
 * them and the producers' sockets fill: intake stops, nothing acknowledged
 * is lost.
 *
 * Workers finish their batches in any order; the writer takes them in the
 * order ingest numbered its runs (holding any that come early), so events
 * are decided, and their seqs given, in the order they arrived.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "grow.h"
#include "log.h"
#include "pipeline_internal.h"
#include "triage.h"

typedef struct writer {
    pipeline      *p;
    void          *in;       /* batches from the workers */
    void          *commit;   /* PAIR with the committer */
    decided_group *g;        /* the group being gathered (never NULL) */
    decided_group *inflight; /* handed to the committer, its answer not yet taken */
    size_t         decided;  /* g's batches decided so far (catch_up) */
    int            decide_rc; /* the first failure deciding them, or HIST_OK */
    job_batch    **early;    /* batches that came before their turn */
    size_t         n_early, early_cap;
    size_t         early_events; /* events in the early batches */
    uint64_t       next_run; /* the run whose turn it is */
    int64_t        first_us; /* when the group got its first batch */
    triage_session ts;
    policy         pol;      /* the writer's copy, refreshed between groups */
    unsigned       pol_gen;
} writer;

/* Start deciding g: a fresh generation, with the current policy. */
static int begin_group(writer *w, decided_group *g)
{
    pipeline *p = w->p;
    group_clear_decisions(g);
    g->duplicates = 0;
    unsigned gen = atomic_load(&p->policy_gen);
    if (gen != w->pol_gen) {  /* a reload: the next group decides with the new policy */
        pipeline_current_policy(p, &w->pol);
        w->pol_gen = gen;
    }
    return triage_begin(&w->ts, p->env, &w->pol, (uint64_t)p->cfg->decision_log_max,
                        p->cfg->decision_log_max_age_ms);
}

/* Decide the jobs of b, one of g's batches, into the current generation.
 * HIST_OK, or a code (the caller then drops the generation with
 * triage_abort). */
static int decide_batch(writer *w, decided_group *g, const job_batch *b)
{
    int64_t now = clock_wall_ms();
    for (size_t i = 0; i < b->n; i++) {
        const job *j = &b->jobs[i];
        const uint8_t *bytes;
        size_t len;
        int action = 0, t, status;
        if (j->reject) {
            t = triage_reject(&w->ts, j->ev, j->reject, now, &bytes, &len);
            status = COMPLAINT__V1__ACK__STATUS__REJECTED;
        } else {
            t = triage_event(&w->ts, j->ev, &j->cr, b->pack->rp, now, &action, &bytes, &len);
            status = t == TRIAGE_DUPLICATE ? COMPLAINT__V1__ACK__STATUS__DUPLICATE
                                           : COMPLAINT__V1__ACK__STATUS__DECIDED;
        }
        if (t < 0)
            return t == TRIAGE_EFULL ? HIST_EFULL : HIST_ERR;
        g->duplicates += (t == TRIAGE_DUPLICATE);
        if (group_add_decision(g, bytes, len, j->reject ? 0 : action, w->ts.last_seq, status) < 0)
            return HIST_ERR;
    }
    return HIST_OK;
}

/* Decide every batch of g at once (a retry). */
static int decide_group(writer *w, decided_group *g)
{
    int rc = begin_group(w, g);
    for (size_t b = 0; b < g->n_batches && rc == HIST_OK; b++)
        rc = decide_batch(w, g, g->batches[b]);
    return rc;
}

/* Decide the batches of the group being gathered that are not decided yet:
 * the work done while the committer writes the group before. A failure is
 * kept in decide_rc and dealt with when the group is flushed. */
static void catch_up(writer *w)
{
    decided_group *g = w->g;
    if (w->decide_rc != HIST_OK || w->decided == g->n_batches)
        return;
    if (w->decided == 0)
        w->decide_rc = begin_group(w, g);
    while (w->decide_rc == HIST_OK && w->decided < g->n_batches)
        w->decide_rc = decide_batch(w, g, g->batches[w->decided++]);
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

/* Seal the decided generation and hand it, with g, to the committer. */
static void hand_over(writer *w, decided_group *g)
{
    commit_msg m = {g, triage_seal(&w->ts), 0};
    g->last_seq = w->ts.next_seq - 1;
    HANDOFF_RELEASE(g);
    HANDOFF_RELEASE(m.gen);
    zmq_send(w->commit, &m, sizeof m, 0);
    w->inflight = g;
}

/* Wait for the committer's answer about the group in flight. HIST_OK: it
 * is in the store and with the publisher. Else the group is back, in *back,
 * and its generation still sealed (triage_abort drops it). */
static int take_answer(writer *w, decided_group **back)
{
    commit_msg m;
    while (zmq_recv(w->commit, &m, sizeof m, 0) < 0 && zmq_errno() == EINTR)
        ;
    HANDOFF_ACQUIRE(m.gen);
    w->inflight = NULL;
    *back = m.g;
    if (m.rc == HIST_OK) {
        triage_applied(&w->ts);
        return HIST_OK;
    }
    HANDOFF_ACQUIRE(m.g);
    return m.rc;
}

/* Decide g and wait until it is in the store, retrying while the store
 * refuses; nothing may be in flight. -1 if it is the final group and the
 * store refused it five times (g is then freed: its events are not
 * decided). */
static int commit_sync(writer *w, decided_group *g, int final)
{
    pipeline *p = w->p;
    int attempts = 0;
    for (;; attempts++) {
        int rc = decide_group(w, g);
        if (rc == HIST_OK) {
            decided_group *back;
            hand_over(w, g);
            if ((rc = take_answer(w, &back)) == HIST_OK)
                break;
        }
        triage_abort(&w->ts);
        STAT_ADD(p->stats->commit_failures, 1);
        if (rc == HIST_ECONFLICT) {  /* complaintctl forget, say: decide on what it left */
            log_info("the store changed under %zu decided event(s); deciding them again",
                     g->n_events);
            continue;
        }
        if (attempts == 0 || attempts % 60 == 0)
            log_error("cannot commit %zu event(s) to %s: %s; intake paused, retrying",
                      g->n_events, p->cfg->data_dir, hist_last_error(p->env));
        if (final && attempts >= 4) {
            group_free(g);
            return -1;
        }
        sleep(1);
    }
    if (attempts)
        log_info("commit succeeded after %d retries; intake resumes", attempts);
    return 0;
}

/* Take the committer's answer about the group in flight, if any. If it
 * failed, the group is committed again now, and the group being gathered
 * (decided on top of it) will be decided again. 0: nothing had to be
 * redone; 1: it was; -1: it is the final group and could not be committed. */
static int settle(writer *w, int final)
{
    decided_group *back;
    if (!w->inflight || take_answer(w, &back) == HIST_OK)
        return 0;
    triage_abort(&w->ts);
    w->decided = 0;
    w->decide_rc = HIST_OK;
    return commit_sync(w, back, final) < 0 ? -1 : 1;
}

/* Finish deciding the group gathered and hand it over, once the one in
 * flight is in the store. -1 if the final groups could not be committed. */
static int flush_group(writer *w, int final)
{
    pipeline *p = w->p;
    if (w->g->n_batches == 0)
        return 0;
    if (settle(w, final) < 0) {
        group_free(w->g);
        w->g = fresh_group();
        w->decided = 0;
        w->decide_rc = HIST_OK;
        return -1;
    }
    catch_up(w);
    decided_group *g = w->g;
    int rc = w->decide_rc;
    w->g = fresh_group();
    w->decided = 0;
    w->decide_rc = HIST_OK;
    if (rc == HIST_OK) {
        hand_over(w, g);
    } else {
        triage_abort(&w->ts);
        if (commit_sync(w, g, final) < 0)
            return -1;
    }
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

void *writer_main(void *arg)
{
    writer w = {.p = arg, .g = fresh_group()};
    pipeline *p = w.p;
    pipeline_current_policy(p, &w.pol);
    w.pol_gen = atomic_load(&p->policy_gen);
    w.in = zmq_socket(p->zctx, ZMQ_PULL);
    set_sockopt_int(w.in, ZMQ_RCVHWM, 64);
    zmq_bind(w.in, DECIDE_ENDPOINT);  /* bound before the workers start (pipeline_start) */
    w.commit = zmq_socket(p->zctx, ZMQ_PAIR);
    zmq_bind(w.commit, COMMIT_ENDPOINT);
    int ends = 0;
    const int64_t interval_us = (int64_t)p->cfg->commit_interval_ms * 1000;
    const size_t batch_size = (size_t)p->cfg->batch_size;
    while (ends < p->n_workers) {
        /* While a group is in flight, the next one gathers what comes and
         * is decided as it comes; it is handed over when the answer
         * arrives. Else a group is flushed as below. */
        int timeout = -1;
        if (w.g->n_batches && !w.inflight) {
            int64_t left = w.first_us + interval_us - clock_mono_us();
            timeout = left > 0 ? (int)(left / 1000) : 0;
        }
        zmq_pollitem_t items[2];
        int n_items = 0, in_at = -1, commit_at = -1;
        if (w.g->n_events < batch_size) {
            items[n_items] = (zmq_pollitem_t){w.in, 0, ZMQ_POLLIN, 0};
            in_at = n_items++;
        }
        if (w.inflight) {
            items[n_items] = (zmq_pollitem_t){w.commit, 0, ZMQ_POLLIN, 0};
            commit_at = n_items++;
        }
        int ready = n_items ? zmq_poll(items, n_items, timeout) : 0;
        if (ready > 0 && commit_at >= 0 && (items[commit_at].revents & ZMQ_POLLIN))
            settle(&w, 0);
        while (ready > 0 && in_at >= 0 && w.g->n_events < batch_size) {
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
        catch_up(&w);
        /* With commit_interval_ms = 0 (the default) a group is whatever
         * queued up while the previous commit ran: it commits as soon as
         * nothing more is waiting, so light load costs no added delay and
         * heavy load makes bigger groups by itself. */
        if (w.g->n_batches && !w.inflight &&
            (interval_us == 0 || w.g->n_events >= batch_size ||
             clock_mono_us() - w.first_us >= interval_us))
            flush_group(&w, 0);
    }
    if (w.n_early)  /* cannot happen: every run ingest numbered came through a worker */
        log_error("writer: %zu batch(es) never got their turn; their events are not decided",
                  w.n_early);
    if (flush_group(&w, 1) < 0 || settle(&w, 1) < 0) {
        log_error("writer: the last events could not be committed; they are not decided");
        p->writer_failed = 1;
    }
    group_free(w.g);  /* empty */
    for (size_t i = 0; i < w.n_early; i++)
        batch_free(w.early[i]);
    free(w.early);
    zmq_send(w.commit, "", 0, 0);  /* tells the committer no more groups will come */
    triage_session_free(&w.ts);
    zmq_close(w.in);
    zmq_close(w.commit);
    return NULL;
}
