/*
 * pipeline — ingest, worker and writer threads; see pipeline.h.
 *
 * DESIGN notes:
 * - Shutdown is a relay of end markers: ingest drains what its PULL socket
 *   already holds, then sends one empty message to each worker; a worker
 *   ships its last batch and then an empty message to the writer; the writer
 *   commits and publishes everything once it has one end marker per worker.
 * - Workers batch opportunistically: block for one message, then take what
 *   is already queued (up to WORKER_BATCH) without waiting. Under light load
 *   an event goes through alone; under heavy load batches fill by themselves.
 * - The writer groups batches into one LMDB transaction until batch_size
 *   events or commit_interval_ms after the first one, and publishes only
 *   after the commit: a subscriber never sees a decision the store lost.
 * - Events of one customer handled by different workers may be decided out of
 *   arrival order when they arrive within a batch's time of each other.
 */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "classify.h"
#include "codec.h"
#include "log.h"
#include "triage.h"

enum { WORKER_BATCH = 128, JOB_MATCHES = 32, MAX_WORKERS = 256 };

/* One event after the worker stage. Owns ev. */
typedef struct job {
    event_msg  *ev;       /* unpacked; NULL if the message did not decode */
    const char *reject;   /* static reason, or NULL if it is to be decided */
    class_result cr;      /* cr.matches points at matches below */
    class_match matches[JOB_MATCHES];
} job;

typedef struct job_batch {
    size_t n;
    job    jobs[WORKER_BATCH];
} job_batch;

typedef struct worker {
    pipeline  *p;
    int        index;
    pthread_t  thread;
} worker;

struct pipeline {
    void          *zctx;
    const config  *cfg;
    const rulepack *rp;
    hist_env      *env;
    daemon_stats  *stats;
    int            n_workers;
    void          *pull;         /* ingest thread's */
    void          *pub;          /* writer thread's */
    void          *stop_send;    /* main -> ingest: "stop" (PAIR) */
    void          *stop_recv;
    pthread_t      ingest_thread, writer_thread;
    worker        *workers;
    int            writer_failed;
};

static void set_int(void *sock, int opt, int v) { zmq_setsockopt(sock, opt, &v, sizeof v); }

/* ---- ingest ------------------------------------------------------------- */

/* The end of input, from ingest to a worker: a two-frame message. Events
 * are always forwarded as single frames, so even an empty event (which is
 * rejected like any bad input) cannot be mistaken for it. */
static void send_end(void *sock)
{
    zmq_send(sock, "end", 3, ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

static int is_end(void *sock, zmq_msg_t *m)
{
    if (!zmq_msg_more(m))
        return 0;
    zmq_msg_t rest;
    zmq_msg_init(&rest);
    zmq_msg_recv(&rest, sock, 0);
    zmq_msg_close(&rest);
    return 1;
}

static void *ingest_main(void *arg)
{
    pipeline *p = arg;
    void *out[MAX_WORKERS];
    for (int i = 0; i < p->n_workers; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://work-%d", i);
        out[i] = zmq_socket(p->zctx, ZMQ_PUSH);
        set_int(out[i], ZMQ_SNDHWM, 4 * WORKER_BATCH);
        zmq_connect(out[i], ep);
    }
    zmq_pollitem_t items[] = {{p->pull, 0, ZMQ_POLLIN, 0}, {p->stop_recv, 0, ZMQ_POLLIN, 0}};
    int next = 0, stopping = 0;
    while (!stopping) {
        if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR)
            break;
        if (items[1].revents & ZMQ_POLLIN)
            stopping = 1;  /* drain below what is already queued, then stop */
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, p->pull, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            STAT_ADD(p->stats->received, 1);
            /* Events are one frame. Extra frames of a multi-part message are
             * dropped here so that a worker only ever sees single frames, and
             * a frame with "more" set can mean "end of input" (send_end). */
            int extra = 0;
            while (zmq_msg_more(&m)) {
                zmq_msg_t part;
                zmq_msg_init(&part);
                zmq_msg_recv(&part, p->pull, 0);
                zmq_msg_close(&part);
                extra++;
            }
            if (extra)
                log_warn("a multi-part message: %d extra frame(s) ignored", extra);
            /* Round robin; blocks when that worker's queue is full. */
            zmq_msg_send(&m, out[next], 0);
            next = (next + 1) % p->n_workers;
        }
    }
    for (int i = 0; i < p->n_workers; i++) {
        send_end(out[i]);
        zmq_close(out[i]);
    }
    return NULL;
}

/* ---- workers ------------------------------------------------------------ */

static void job_free(job *j)
{
    if (j->ev)
        complaint__v1__complaint_event__free_unpacked(j->ev, NULL);
    j->ev = NULL;
}

static void batch_free(job_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        job_free(&b->jobs[i]);
    free(b);
}

/* Decode, validate and label one message into j. */
static void work_one(pipeline *p, classifier *cl, zmq_msg_t *m, job *j)
{
    memset(j, 0, sizeof *j);
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

static void *worker_main(void *arg)
{
    worker *w = arg;
    pipeline *p = w->p;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://work-%d", w->index);
    void *in = zmq_socket(p->zctx, ZMQ_PULL);
    set_int(in, ZMQ_RCVHWM, 4 * WORKER_BATCH);
    zmq_bind(in, ep);
    void *out = zmq_socket(p->zctx, ZMQ_PUSH);
    set_int(out, ZMQ_SNDHWM, 64);
    zmq_connect(out, "inproc://decide");
    classifier *cl = classifier_new(p->rp);
    if (!cl)
        log_error("worker %d: cannot allocate a Hyperscan scratch", w->index);

    int done = 0;
    while (!done) {
        job_batch *b = malloc(sizeof *b);
        b->n = 0;
        int flags = 0;  /* block for the first message, then take what is queued */
        while (b->n < WORKER_BATCH) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, in, flags) < 0) {
                zmq_msg_close(&m);
                if (zmq_errno() == EINTR && flags == 0)
                    continue;
                break;
            }
            if (is_end(in, &m)) {
                zmq_msg_close(&m);
                done = 1;
                break;
            }
            if (cl)
                work_one(p, cl, &m, &b->jobs[b->n]);
            else
                b->jobs[b->n] = (job){.reject = "worker has no scratch"};
            b->n++;
            zmq_msg_close(&m);
            flags = ZMQ_DONTWAIT;
        }
        if (b->n > 0)
            zmq_send(out, &b, sizeof b, 0);  /* ownership goes to the writer */
        else
            free(b);
    }
    zmq_send(out, "", 0, 0);
    classifier_free(cl);
    zmq_close(in);
    zmq_close(out);
    return NULL;
}

/* ---- writer ------------------------------------------------------------- */

/* Decisions of one group, serialized, waiting for the commit. */
typedef struct outbox {
    strbuf  bytes;
    size_t *off, *len;
    int    *action;   /* 0 = reject */
    size_t  n, cap;
} outbox;

static int outbox_add(outbox *o, const uint8_t *b, size_t n, int action)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        size_t *off = realloc(o->off, cap * sizeof *off);
        if (off)
            o->off = off;
        size_t *len = realloc(o->len, cap * sizeof *len);
        if (len)
            o->len = len;
        int *act = realloc(o->action, cap * sizeof *act);
        if (act)
            o->action = act;
        if (!off || !len || !act)
            return -1;
        o->cap = cap;
    }
    o->off[o->n] = o->bytes.len;
    o->len[o->n] = n;
    o->action[o->n] = action;
    sb_append(&o->bytes, (const char *)b, n);
    o->n++;
    return sb_failed(&o->bytes) ? -1 : 0;
}

/* Decide every job of the held batches in one transaction; 0 on commit. */
static int decide_group(pipeline *p, job_batch **held, size_t n_held, outbox *o, triage_session *ts)
{
    o->n = 0;
    sb_reset(&o->bytes);
    int rc = triage_begin(ts, p->env, &p->cfg->pol, (uint64_t)p->cfg->decision_log_max,
                          (int64_t)p->cfg->decision_log_max_age_days * 24 * 3600 * 1000);
    int64_t now = clock_wall_ms();
    uint64_t dup = 0;
    for (size_t b = 0; b < n_held && rc == HIST_OK; b++) {
        for (size_t i = 0; i < held[b]->n && rc == HIST_OK; i++) {
            job *j = &held[b]->jobs[i];
            const uint8_t *bytes;
            size_t len;
            int action = 0, t;
            if (j->reject)
                t = triage_reject(ts, j->ev, j->reject, now, &bytes, &len);
            else
                t = triage_event(ts, j->ev, &j->cr, p->rp, now, &action, &bytes, &len);
            if (t < 0) {
                rc = t == TRIAGE_EFULL ? HIST_EFULL : HIST_ERR;
                break;
            }
            dup += (t == TRIAGE_DUPLICATE);
            if (outbox_add(o, bytes, len, j->reject ? 0 : action) < 0)
                rc = HIST_ERR;
        }
    }
    int64_t t0 = clock_mono_us();
    if (rc == HIST_OK)
        rc = triage_commit(ts);
    else
        triage_abort(ts);
    if (rc != HIST_OK)
        return rc;
    STAT_ADD(p->stats->commits, 1);
    STAT_ADD(p->stats->commit_us, (uint64_t)(clock_mono_us() - t0));
    STAT_ADD(p->stats->duplicates, dup);
    return HIST_OK;
}

static void publish_group(pipeline *p, job_batch **held, size_t n_held, const outbox *o)
{
    size_t k = 0;
    for (size_t b = 0; b < n_held; b++) {
        for (size_t i = 0; i < held[b]->n; i++, k++) {
            const job *j = &held[b]->jobs[i];
            const char *topic = action_name(o->action[k]);
            zmq_send(p->pub, topic, strlen(topic), ZMQ_SNDMORE);
            zmq_send(p->pub, o->bytes.buf + o->off[k], o->len[k], 0);
            STAT_ADD(p->stats->published, 1);
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
        }
    }
}

/* Commit and publish what is held; retry while the store refuses (full disk
 * or map): intake then stops by backpressure and nothing is lost. */
static int flush_group(pipeline *p, job_batch **held, size_t *n_held, outbox *o, triage_session *ts,
                       int final)
{
    if (*n_held == 0)
        return 0;
    int attempts = 0;
    int rc;
    while ((rc = decide_group(p, held, *n_held, o, ts)) != HIST_OK) {
        STAT_ADD(p->stats->commit_failures, 1);
        if (attempts++ == 0 || attempts % 60 == 0)
            log_error("cannot commit %zu batch(es) to %s: %s; intake paused, retrying", *n_held,
                      p->cfg->data_dir, hist_last_error(p->env));
        if (final && attempts >= 5)
            return -1;
        sleep(1);
    }
    if (attempts)
        log_info("commit succeeded after %d retries; intake resumes", attempts);
    publish_group(p, held, *n_held, o);
    atomic_store(&p->stats->last_seq, ts->next_seq - 1);
    for (size_t i = 0; i < *n_held; i++)
        batch_free(held[i]);
    *n_held = 0;
    return 0;
}

static void *writer_main(void *arg)
{
    pipeline *p = arg;
    void *in = zmq_socket(p->zctx, ZMQ_PULL);
    set_int(in, ZMQ_RCVHWM, 64);
    zmq_bind(in, "inproc://decide");  /* bound before the workers start (see pipeline_start) */
    size_t held_cap = 1024, n_held = 0, held_events = 0;
    job_batch **held = malloc(held_cap * sizeof *held);
    outbox o = {STRBUF_INIT, NULL, NULL, NULL, 0, 0};
    triage_session ts = {0};
    int ends = 0;
    int64_t first_us = 0;
    while (ends < p->n_workers) {
        int timeout = -1;
        if (n_held) {
            int64_t left = first_us + (int64_t)p->cfg->commit_interval_ms * 1000 - clock_mono_us();
            timeout = left > 0 ? (int)(left / 1000) : 0;
        }
        zmq_pollitem_t item = {in, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&item, 1, timeout);
        while (ready > 0) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, in, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            if (zmq_msg_size(&m) == sizeof(job_batch *)) {
                job_batch *b;
                memcpy(&b, zmq_msg_data(&m), sizeof b);
                if (n_held == held_cap) {
                    held_cap *= 2;
                    held = realloc(held, held_cap * sizeof *held);
                }
                if (n_held == 0)
                    first_us = clock_mono_us();
                held[n_held++] = b;
                held_events += b->n;
            } else {
                ends++;
            }
            zmq_msg_close(&m);
            if (held_events >= (size_t)p->cfg->batch_size)
                break;
        }
        int due = n_held && (held_events >= (size_t)p->cfg->batch_size ||
                             clock_mono_us() - first_us >= (int64_t)p->cfg->commit_interval_ms * 1000);
        if (due) {
            flush_group(p, held, &n_held, &o, &ts, 0);
            held_events = 0;
        }
    }
    if (flush_group(p, held, &n_held, &o, &ts, 1) < 0) {
        p->writer_failed = 1;
        for (size_t i = 0; i < n_held; i++)
            batch_free(held[i]);
    }
    triage_session_free(&ts);
    sb_free(&o.bytes);
    free(o.off);
    free(o.len);
    free(o.action);
    free(held);
    zmq_close(in);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------- */

static void *bind_socket(void *zctx, int type, const char *ep, int hwm, char *err, size_t errlen,
                         int *usage_error)
{
    void *s = zmq_socket(zctx, type);
    set_int(s, type == ZMQ_PULL ? ZMQ_RCVHWM : ZMQ_SNDHWM, hwm);
    set_int(s, ZMQ_LINGER, type == ZMQ_PUB ? 2000 : 0);
    if (zmq_bind(s, ep) == 0)
        return s;
    int e = zmq_errno();
    snprintf(err, errlen, "cannot bind %s: %s", ep, zmq_strerror(e));
    *usage_error = (e == EINVAL || e == EPROTONOSUPPORT || e == ENODEV);
    zmq_close(s);
    return NULL;
}

pipeline *pipeline_start(void *zctx, const config *cfg, const rulepack *rp, hist_env *env,
                         daemon_stats *stats, char *err, size_t errlen, int *usage_error)
{
    *usage_error = 0;
    pipeline *p = calloc(1, sizeof *p);
    p->zctx = zctx;
    p->cfg = cfg;
    p->rp = rp;
    p->env = env;
    p->stats = stats;
    p->n_workers = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (p->n_workers < 1)
        p->n_workers = 1;
    if (p->n_workers > MAX_WORKERS)
        p->n_workers = MAX_WORKERS;
    p->pull = bind_socket(zctx, ZMQ_PULL, cfg->ingest, cfg->hwm, err, errlen, usage_error);
    if (p->pull)
        p->pub = bind_socket(zctx, ZMQ_PUB, cfg->publish, cfg->hwm, err, errlen, usage_error);
    if (!p->pull || !p->pub) {
        if (p->pull)
            zmq_close(p->pull);
        free(p);
        return NULL;
    }
    p->stop_recv = zmq_socket(zctx, ZMQ_PAIR);
    zmq_bind(p->stop_recv, "inproc://ingest-stop");
    p->stop_send = zmq_socket(zctx, ZMQ_PAIR);
    zmq_connect(p->stop_send, "inproc://ingest-stop");

    pthread_create(&p->writer_thread, NULL, writer_main, p);
    p->workers = calloc((size_t)p->n_workers, sizeof(worker));
    for (int i = 0; i < p->n_workers; i++) {
        p->workers[i].p = p;
        p->workers[i].index = i;
        pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
    }
    pthread_create(&p->ingest_thread, NULL, ingest_main, p);
    log_info("pipeline: %d worker(s), batch %d, commit every %d ms", p->n_workers, cfg->batch_size,
             cfg->commit_interval_ms);
    return p;
}

int pipeline_stop(pipeline *p)
{
    zmq_send(p->stop_send, "stop", 4, 0);
    pthread_join(p->ingest_thread, NULL);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->workers[i].thread, NULL);
    pthread_join(p->writer_thread, NULL);
    int failed = p->writer_failed;
    zmq_close(p->pull);
    zmq_close(p->pub);
    zmq_close(p->stop_send);
    zmq_close(p->stop_recv);
    free(p->workers);
    free(p);
    return failed ? -1 : 0;
}
