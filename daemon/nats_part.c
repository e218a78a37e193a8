/* nats_part — a partition's fetch thread; see nats_part.h. */
#define _GNU_SOURCE  /* pthread_setname_np */
#include "nats_part.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "log.h"
#include "nats_conn.h"

enum { FETCH_BATCH = 128, FETCH_WAIT_MS = 200 };

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void nats_part_done(nats_in *in)
{
    nats_part *pt = in->part;
    uint64_t seen = atomic_load(&pt->done_seq);
    while (in->stream_seq > seen && !atomic_compare_exchange_weak(&pt->done_seq, &seen, in->stream_seq))
        ;
    natsMsg_Destroy(in->msg);
    free(in);
    atomic_fetch_sub(&pt->inflight, 1);  /* last: the lease thread may free the sub after it */
}

/* m's COMPLAINTS sequence; *pending (may be NULL): how many messages its
 * consumer still has after it. */
static uint64_t stream_seq(natsMsg *m, uint64_t *pending)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    if (pending)
        *pending = 0;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        seq = meta->Sequence.Stream;
        if (pending)
            *pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
    }
    return seq;
}

/* Hand one message to ingest; takes m. */
static void hand_over(nats_part *pt, void *push, natsMsg *m, uint64_t seq, int replay)
{
    nats_in *in = calloc(1, sizeof *in);
    if (!in)
        abort();
    in->msg = m;
    in->part = pt;
    in->stream_seq = seq;
    in->quiet = seq && seq <= pt->quiet_upto;
    in->replay = replay;
    atomic_fetch_add(&pt->inflight, 1);
    NATS_IN_RELEASE(in);
    zmq_send(push, &in, sizeof in, 0);  /* blocks while ingest is behind: backpressure */
}

/* The takeover's replay: replay_from..replay_to of the partition, in order,
 * through an ordered consumer (memory, one replica: quick to create even
 * with a server down), then until the pipeline has applied all of it. */
static void replay(nats_part *pt, void *push)
{
    char subject[64];
    snprintf(subject, sizeof subject, "complaints.p.%d.>", pt->index);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = NATS_STREAM_IN;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = pt->replay_from;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = NATS_ERR;
    for (int attempt = 0; s != NATS_OK && attempt < 50 && !atomic_load(&pt->stop); attempt++) {
        if (attempt)
            sleep_ms(200);
        s = js_SubscribeSync(&sub, pt->js, subject, NULL, &so, &jerr);
    }
    /* The consumer's delivered sequence may lie past the partition's last
     * event (it counts the stream), so the replay ends at replay_to or
     * after as many messages as the partition had from replay_from when
     * the ordered consumer was made (delivered or pending then): anything
     * later comes after replay_to. */
    uint64_t seq = 0, n = 0, total = 0;
    jsConsumerInfo *ci = NULL;
    if (s == NATS_OK && natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) == NATS_OK)
        total = ci->NumPending + ci->Delivered.Consumer;
    else
        s = NATS_ERR;
    jsConsumerInfo_Destroy(ci);
    int idle = 0;
    while (s == NATS_OK && n < total && seq < pt->replay_to && idle < 50 &&
           !atomic_load(&pt->stop)) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, 200) != NATS_OK) {
            idle++;
            continue;
        }
        idle = 0;
        seq = stream_seq(m, NULL);
        if (seq > pt->replay_to) {  /* beyond: the durable consumer delivers it */
            natsMsg_Destroy(m);
            break;
        }
        hand_over(pt, push, m, seq, 1);
        n++;
    }
    if ((s != NATS_OK || idle >= 50) && !atomic_load(&pt->stop))
        log_error("partition %d: replay stopped at seq %llu of %llu: histories may miss events",
                  pt->index, (unsigned long long)seq, (unsigned long long)pt->replay_to);
    /* Until the pipeline is done with the replay: then nothing refers to
     * the ordered consumer's messages any more, and it can go. */
    while (atomic_load(&pt->inflight) > 0 && !atomic_load(&pt->stop))
        sleep_ms(2);
    natsSubscription_Destroy(sub);
    log_debug("partition %d: replayed %llu events, to seq %llu", pt->index, (unsigned long long)n,
             (unsigned long long)seq);
}

static void *fetch_main(void *arg)
{
    nats_part *pt = arg;
    void *push = zmq_socket(pt->zctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(push, NATS_IN_ENDPOINT);
    if (pt->replay_from && pt->replay_from <= pt->replay_to)
        replay(pt, push);
    while (!atomic_load(&pt->stop)) {
        int room = pt->max_ack_pending - atomic_load(&pt->inflight);
        if (atomic_load(&pt->paused) || room <= 0) {
            sleep_ms(2);
            continue;
        }
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus s = natsSubscription_Fetch(&list, pt->sub, room < FETCH_BATCH ? room : FETCH_BATCH,
                                              FETCH_WAIT_MS, &jerr);
        if (s == NATS_OK) {
            for (int i = 0; i < list.Count; i++) {
                natsMsg *m = list.Msgs[i];
                list.Msgs[i] = NULL;
                uint64_t seq = stream_seq(m, NULL);
                if (seq && seq <= pt->skip_upto) {  /* a redelivery the replay covered */
                    natsMsg_Ack(m, NULL);
                    natsMsg_Destroy(m);
                    continue;
                }
                hand_over(pt, push, m, seq, 0);
            }
            atomic_fetch_add(&pt->fetched, list.Count);
        } else if (s != NATS_TIMEOUT) {
            log_debug("partition %d: fetch: %s", pt->index, nconn_error(s));
            sleep_ms(100);  /* a server away: the connection reconnects */
        }
        natsMsgList_Destroy(&list);
    }
    zmq_close(push);
    return NULL;
}

int nats_part_start(nats_part *pt)
{
    char durable[32], subject[64];
    snprintf(durable, sizeof durable, NATS_CONSUMER_FMT, pt->index);
    snprintf(subject, sizeof subject, "complaints.p.%d.>", pt->index);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = NATS_STREAM_IN;
    so.Consumer = durable;  /* bind to the consumer the takeover created */
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&pt->sub, pt->js, subject, durable, NULL, &so, &jerr);
    if (s != NATS_OK) {
        log_error("partition %d: cannot bind consumer %s: %s", pt->index, durable, nconn_error(s));
        pt->sub = NULL;
        return -1;
    }
    atomic_store(&pt->stop, 0);
    atomic_store(&pt->paused, 0);
    pthread_create(&pt->thread, NULL, fetch_main, pt);
    char name[16];
    snprintf(name, sizeof name, "cd-part%d", pt->index);
    pthread_setname_np(pt->thread, name);
    pt->running = 1;
    return 0;
}

void nats_part_stop(nats_part *pt)
{
    if (!pt->running)
        return;
    atomic_store(&pt->stop, 1);
    pthread_join(pt->thread, NULL);
    pt->running = 0;
}

int nats_part_drain(nats_part *pt, int timeout_ms)
{
    for (int waited = 0; atomic_load(&pt->inflight) > 0; waited += 5) {
        if (waited >= timeout_ms)
            return 0;
        sleep_ms(5);
    }
    return 1;
}

void nats_part_free_sub(nats_part *pt)
{
    if (pt->sub)
        natsSubscription_Destroy(pt->sub);
    pt->sub = NULL;
}
