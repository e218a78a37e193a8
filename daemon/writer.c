/*
 * writer — the one thread that writes LMDB and owns the PUB socket.
 *
 * It groups the workers' batches into one transaction until batch_size
 * events or commit_interval_ms after the first one, decides every event
 * against its customer's history (triage.h), commits once, and only then
 * publishes the decisions and acknowledges the acked producers: a subscriber
 * or producer never hears of a decision the store could lose.
 *
 * If the store refuses a commit (full disk, full map) the writer keeps the
 * group and retries every second; the workers then block on it, ingest
 * blocks on them and the producers' sockets fill: intake stops, nothing
 * acknowledged is lost.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"
#include "pipeline_internal.h"
#include "triage.h"

/* Decisions of one group, serialized, waiting for the commit. */
typedef struct outbox {
    strbuf    bytes;
    size_t   *off, *len;
    int      *action;   /* 0 = reject */
    uint64_t *seq;
    uint8_t  *status;   /* Ack status */
    size_t    n, cap;
} outbox;

typedef struct writer {
    pipeline      *p;
    void          *in;     /* batches from the workers */
    void          *acks;   /* to ingest */
    outbox         o;
    triage_session ts;
    policy         pol;      /* the writer's copy, refreshed between groups */
    unsigned       pol_gen;
    job_batch    **held;
    size_t         n_held, held_cap, held_events;
} writer;

static int outbox_grow(outbox *o)
{
    size_t cap = o->cap ? o->cap * 2 : 1024;
    void *a = realloc(o->off, cap * sizeof *o->off);
    if (a)
        o->off = a;
    void *b = realloc(o->len, cap * sizeof *o->len);
    if (b)
        o->len = b;
    void *c = realloc(o->action, cap * sizeof *o->action);
    if (c)
        o->action = c;
    void *d = realloc(o->seq, cap * sizeof *o->seq);
    if (d)
        o->seq = d;
    void *e = realloc(o->status, cap * sizeof *o->status);
    if (e)
        o->status = e;
    if (!a || !b || !c || !d || !e)
        return -1;
    o->cap = cap;
    return 0;
}

static int outbox_add(outbox *o, const uint8_t *b, size_t n, int action, uint64_t seq, int status)
{
    if (o->n == o->cap && outbox_grow(o) < 0)
        return -1;
    o->off[o->n] = o->bytes.len;
    o->len[o->n] = n;
    o->action[o->n] = action;
    o->seq[o->n] = seq;
    o->status[o->n] = (uint8_t)status;
    sb_append(&o->bytes, (const char *)b, n);
    o->n++;
    return sb_failed(&o->bytes) ? -1 : 0;
}

static void outbox_free(outbox *o)
{
    sb_free(&o->bytes);
    free(o->off);
    free(o->len);
    free(o->action);
    free(o->seq);
    free(o->status);
}

/* Decide every job of the held batches in one transaction; HIST_OK on commit. */
static int decide_group(writer *w)
{
    pipeline *p = w->p;
    outbox *o = &w->o;
    o->n = 0;
    sb_reset(&o->bytes);
    unsigned gen = atomic_load(&p->policy_gen);
    if (gen != w->pol_gen) {  /* a reload: the next group decides with the new policy */
        pipeline_current_policy(p, &w->pol);
        w->pol_gen = gen;
    }
    int rc = triage_begin(&w->ts, p->env, &w->pol, (uint64_t)p->cfg->decision_log_max,
                          (int64_t)p->cfg->decision_log_max_age_days * 24 * 3600 * 1000);
    int64_t now = clock_wall_ms();
    uint64_t dup = 0;
    for (size_t b = 0; b < w->n_held && rc == HIST_OK; b++) {
        for (size_t i = 0; i < w->held[b]->n && rc == HIST_OK; i++) {
            job *j = &w->held[b]->jobs[i];
            const uint8_t *bytes;
            size_t len;
            int action = 0, t, status;
            if (j->reject) {
                t = triage_reject(&w->ts, j->ev, j->reject, now, &bytes, &len);
                status = COMPLAINT__V1__ACK__STATUS__REJECTED;
            } else {
                t = triage_event(&w->ts, j->ev, &j->cr, w->held[b]->pack->rp, now, &action, &bytes,
                                 &len);
                status = t == TRIAGE_DUPLICATE ? COMPLAINT__V1__ACK__STATUS__DUPLICATE
                                               : COMPLAINT__V1__ACK__STATUS__DECIDED;
            }
            if (t < 0) {
                rc = t == TRIAGE_EFULL ? HIST_EFULL : HIST_ERR;
                break;
            }
            dup += (t == TRIAGE_DUPLICATE);
            if (outbox_add(o, bytes, len, j->reject ? 0 : action, w->ts.last_seq, status) < 0)
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
    uint64_t commit_us = (uint64_t)(clock_mono_us() - t0);
    STAT_ADD(p->stats->commits, 1);
    STAT_ADD(p->stats->commit_us, commit_us);
    stats_observe(&p->stats->h_commit_us, commit_us);
    stats_observe(&p->stats->h_batch_events, w->held_events);
    STAT_ADD(p->stats->duplicates, dup);
    return HIST_OK;
}

static void send_ack(writer *w, const job *j, size_t k)
{
    Complaint__V1__Ack ack = COMPLAINT__V1__ACK__INIT;
    if (j->ev && j->ev->event_id && norm_utf8_valid(j->ev->event_id, strlen(j->ev->event_id)))
        ack.event_id = j->ev->event_id;
    ack.seq = w->o.seq[k];
    ack.status = (Complaint__V1__Ack__Status)w->o.status[k];
    ack.action = (Complaint__V1__Action)w->o.action[k];
    if (j->reject)
        ack.reason = (char *)j->reject;
    uint8_t buf[512];
    size_t n = complaint__v1__ack__get_packed_size(&ack);
    if (n > sizeof buf)
        return;  /* cannot happen: ids are bounded by the message limit... */
    complaint__v1__ack__pack(&ack, buf);
    zmq_send(w->acks, j->route, j->route_len, ZMQ_SNDMORE);
    zmq_send(w->acks, buf, n, 0);
}

static void publish_group(writer *w)
{
    pipeline *p = w->p;
    const outbox *o = &w->o;
    size_t k = 0;
    int64_t now_us = clock_mono_us();
    for (size_t b = 0; b < w->n_held; b++) {
        for (size_t i = 0; i < w->held[b]->n; i++, k++) {
            const job *j = &w->held[b]->jobs[i];
            const char *topic = action_name(o->action[k]);
            /* Count before sending: whoever saw the decision must find it
             * counted when they ask for stats. */
            STAT_ADD(p->stats->published, 1);
            stats_observe(&p->stats->h_latency_us, (uint64_t)(now_us - j->received_us));
            if (j->reject) {
                STAT_ADD(p->stats->rejected, 1);
                log_warn("rejected event '%s': %s", j->ev ? j->ev->event_id : "(undecodable)", j->reject);
            } else {
                STAT_ADD(p->stats->decided, 1);
                STAT_ADD(p->stats->per_action[o->action[k]], 1);
                for (int l = 1; l < LABEL_COUNT; l++)
                    if (j->cr.labels & (1u << l))
                        STAT_ADD(p->stats->per_label[l], 1);
            }
            zmq_send(p->pub, topic, strlen(topic), ZMQ_SNDMORE);
            zmq_send(p->pub, o->bytes.buf + o->off[k], o->len[k], 0);
            if (j->acked)
                send_ack(w, j, k);
        }
    }
}

/* Commit, publish and ack what is held; retry while the store refuses. */
static int flush_group(writer *w, int final)
{
    pipeline *p = w->p;
    if (w->n_held == 0)
        return 0;
    int attempts = 0;
    while (decide_group(w) != HIST_OK) {
        STAT_ADD(p->stats->commit_failures, 1);
        if (attempts++ == 0 || attempts % 60 == 0)
            log_error("cannot commit %zu event(s) to %s: %s; intake paused, retrying",
                      w->held_events, p->cfg->data_dir, hist_last_error(p->env));
        if (final && attempts >= 5)
            return -1;
        sleep(1);
    }
    if (attempts)
        log_info("commit succeeded after %d retries; intake resumes", attempts);
    atomic_store(&p->stats->last_seq, w->ts.next_seq - 1);  /* before anyone hears of it */
    publish_group(w);
    for (size_t i = 0; i < w->n_held; i++)
        batch_free(w->held[i]);
    w->n_held = 0;
    w->held_events = 0;
    atomic_store_explicit(&p->stats->writer_held, 0, memory_order_relaxed);
    return 0;
}

static void hold(writer *w, job_batch *b)
{
    if (w->n_held == w->held_cap) {
        w->held_cap *= 2;
        w->held = realloc(w->held, w->held_cap * sizeof *w->held);
    }
    w->held[w->n_held++] = b;
    w->held_events += b->n;
    atomic_store_explicit(&w->p->stats->writer_held, w->held_events, memory_order_relaxed);
}

void *writer_main(void *arg)
{
    writer w = {.p = arg, .held_cap = 1024};
    pipeline *p = w.p;
    pipeline_current_policy(p, &w.pol);
    w.pol_gen = atomic_load(&p->policy_gen);
    w.in = zmq_socket(p->zctx, ZMQ_PULL);
    set_sockopt_int(w.in, ZMQ_RCVHWM, 64);
    zmq_bind(w.in, DECIDE_ENDPOINT);  /* bound before the workers start (pipeline_start) */
    w.acks = zmq_socket(p->zctx, ZMQ_PUSH);
    zmq_connect(w.acks, ACKS_ENDPOINT);
    w.held = malloc(w.held_cap * sizeof *w.held);
    int ends = 0;
    int64_t first_us = 0;
    const int64_t interval_us = (int64_t)p->cfg->commit_interval_ms * 1000;
    while (ends < p->n_workers) {
        int timeout = -1;
        if (w.n_held) {
            int64_t left = first_us + interval_us - clock_mono_us();
            timeout = left > 0 ? (int)(left / 1000) : 0;
        }
        zmq_pollitem_t item = {w.in, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&item, 1, timeout);
        while (ready > 0 && w.held_events < (size_t)p->cfg->batch_size) {
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
                if (w.n_held == 0)
                    first_us = clock_mono_us();
                hold(&w, b);
            } else {
                ends++;  /* a worker is done */
            }
            zmq_msg_close(&m);
        }
        if (w.n_held && (w.held_events >= (size_t)p->cfg->batch_size ||
                         clock_mono_us() - first_us >= interval_us))
            flush_group(&w, 0);
    }
    if (flush_group(&w, 1) < 0) {
        p->writer_failed = 1;
        for (size_t i = 0; i < w.n_held; i++)
            batch_free(w.held[i]);
    }
    zmq_send(w.acks, "", 0, 0);  /* tells ingest no more acks will come */
    triage_session_free(&w.ts);
    outbox_free(&w.o);
    free(w.held);
    zmq_close(w.in);
    zmq_close(w.acks);
    return NULL;
}
