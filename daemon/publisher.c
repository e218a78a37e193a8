/*
 * publisher — the thread that owns the PUB socket: it makes each committed
 * group durable, then publishes its decisions and acknowledges its acked
 * producers.
 *
 * Why a thread of its own: a durable LMDB commit is two device flushes, one
 * for the data pages and one for the page that points at them. The writer
 * commits with the second one deferred (HIST_SYNC_DEFERRED) and goes on to
 * decide the next group while this thread flushes and sends. Nothing is
 * published before the flush that makes it durable, so the promise of the
 * writer stays: a subscriber or producer never hears of a decision the
 * store could lose. Groups that queue up while a flush runs share the next
 * flush.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "clock.h"
#include "group.h"
#include "health.h"
#include "inproc.h"
#include "log.h"
#include "lograte.h"
#include "publisher.h"
#include "utf8.h"

enum { MAX_GROUPS_PER_FLUSH = 64 };

static void send_ack(void *acks, const job *j, const decision_ref *d)
{
    Complaint__V1__Ack ack = COMPLAINT__V1__ACK__INIT;
    if (j->ev && j->ev->event_id && utf8_valid_str(j->ev->event_id))
        ack.event_id = j->ev->event_id;
    ack.seq = d->seq;
    ack.status = (Complaint__V1__Ack__Status)d->status;
    ack.action = (Complaint__V1__Action)d->action;
    if (j->reject)
        ack.reason = (char *)j->reject;
    uint8_t buf[512];
    size_t n = complaint__v1__ack__get_packed_size(&ack);
    if (n > sizeof buf)
        return;  /* cannot happen: ids are bounded by the message limit */
    complaint__v1__ack__pack(&ack, buf);
    zmq_send(acks, j->route, j->route_len, ZMQ_SNDMORE);
    if (j->req)
        zmq_send(acks, "", 0, ZMQ_SNDMORE);  /* a REQ socket drops a reply without it */
    zmq_send(acks, buf, n, 0);
}

/* b - a in microseconds, 0 if the clock said otherwise. */
static uint64_t span_us(int64_t a, int64_t b) { return b > a ? (uint64_t)(b - a) : 0; }

static void publish_group(const publisher_ctx *p, void *acks, const decided_group *g, lograte *rejects)
{
    size_t k = 0;
    int64_t now_us = clock_mono_us();
    stats_hist *stage = p->stats->h_stage_us;
    stats_observe_n(&stage[STAGE_PUBLISHED], span_us(g->committed_us, now_us), g->n_events);
    for (size_t b = 0; b < g->n_batches; b++) {
        const job_batch *batch = g->batches[b];
        stats_observe_n(&stage[STAGE_COMMITTED], span_us(batch->labelled_us, g->committed_us),
                        batch->n);
        for (size_t i = 0; i < batch->n; i++, k++) {
            const job *j = &batch->jobs[i];
            const decision_ref *d = &g->d[k];
            const char *topic = action_name(d->action);
            /* Count before sending: whoever saw the decision must find it
             * counted when they ask for stats. */
            STAT_ADD(p->stats->published, 1);
            stats_observe(&p->stats->h_latency_us, (uint64_t)(now_us - j->received_us));
            stats_observe(&stage[STAGE_LABELLED], span_us(j->received_us, batch->labelled_us));
            if (j->reject) {
                STAT_ADD(p->stats->rejected, 1);
                /* One summary per window, not a line per reject: a
                 * misbehaving producer must not flood the log. */
                char subject[96];
                snprintf(subject, sizeof subject, "event '%.64s'",
                         j->ev && j->ev->event_id ? j->ev->event_id : "(undecodable)");
                lograte_note(rejects, j->reject, subject, clock_wall_ms());
            } else {
                STAT_ADD(p->stats->decided, 1);
                STAT_ADD(p->stats->per_action[d->action], 1);
                for (int l = 1; l < LABEL_COUNT; l++)
                    if (j->cr.labels & (1u << l))
                        STAT_ADD(p->stats->per_label[l], 1);
            }
            zmq_send(p->pub, topic, strlen(topic), ZMQ_SNDMORE);
            zmq_send(p->pub, g->bytes.buf + d->off, d->len, 0);
            if (j->acked)
                send_ack(acks, j, d);
        }
    }
}

/* Make everything committed so far durable; retry while the disk refuses. */
static void make_durable(const publisher_ctx *p, health_slot *hb)
{
    if (!p->cfg->durable)
        return;
    int64_t t0 = clock_mono_us();
    int attempts = 0;
    for (; hist_sync(p->env) != HIST_OK; attempts++) {
        health_pause(hb, "publishing paused: flushing the store to disk fails");
        STAT_ADD(p->stats->commit_failures, 1);
        if (attempts == 0 || attempts % 60 == 0)
            log_error("cannot flush %s to disk (above); publishing paused, retrying",
                      p->cfg->data_dir);
        sleep(1);
    }
    if (attempts)
        health_pause(hb, NULL);
    uint64_t us = (uint64_t)(clock_mono_us() - t0);
    STAT_ADD(p->stats->sync_us, us);
    stats_observe(&p->stats->h_sync_us, us);
}

void *publisher_main(void *arg)
{
    const publisher_ctx *p = arg;  /* what the pipeline gave this thread (publisher.h) */
    void *in = p->in;
    void *acks = zmq_socket(p->zctx, ZMQ_PUSH);
    zmq_connect(acks, ACKS_ENDPOINT);
    decided_group *groups[MAX_GROUPS_PER_FLUSH];
    lograte rejects;
    lograte_init(&rejects, "rejected", LOG_WARN, (int64_t)p->cfg->reject_log_interval_s * 1000);
    health_slot *hb = health_register("publisher");
    for (int done = 0; !done;) {
        /* Wake for the rejects' summary when one is due. */
        long due = lograte_due_ms(&rejects, clock_wall_ms());
        if (due >= 0) {
            zmq_pollitem_t item = {in, 0, ZMQ_POLLIN, 0};
            health_wait(hb);
            int ready = zmq_poll(&item, 1, due);
            health_beat(hb);
            if (ready == 0) {
                lograte_flush(&rejects, clock_wall_ms(), 0);
                continue;
            }
        }
        health_wait(hb);  /* blocks for the first group below */
        /* Block for one group, then take what else is queued, up to about
         * batch_size events (a burst the PUB queue is sized for): one
         * flush covers them all. */
        size_t n = 0;
        int flags = 0;
        size_t events = 0;
        while (n < MAX_GROUPS_PER_FLUSH && events < (size_t)p->cfg->batch_size) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, in, flags) < 0) {
                zmq_msg_close(&m);
                break;
            }
            flags = ZMQ_DONTWAIT;
            if (zmq_msg_size(&m) != sizeof(decided_group *)) {
                zmq_msg_close(&m);
                done = 1;  /* the writer is done */
                break;
            }
            memcpy(&groups[n], zmq_msg_data(&m), sizeof groups[n]);
            HANDOFF_ACQUIRE(groups[n]);
            events += groups[n]->n_events;
            n++;
            zmq_msg_close(&m);
        }
        health_beat(hb);
        if (n == 0)
            continue;
        make_durable(p, hb);
        atomic_store(&p->stats->last_seq, groups[n - 1]->last_seq);  /* before anyone hears */
        for (size_t i = 0; i < n; i++) {
            publish_group(p, acks, groups[i], &rejects);
            group_free(groups[i]);
        }
    }
    lograte_flush(&rejects, clock_wall_ms(), 1);  /* what the last window counted */
    lograte_destroy(&rejects);
    zmq_send(acks, "", 0, 0);  /* tells ingest no more acks will come */
    zmq_close(in);
    zmq_close(acks);
    zmq_close(p->pub);
    health_exit(hb);
    return NULL;
}
