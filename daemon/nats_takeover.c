/*
 * nats_takeover — taking a partition over, handing it back, and its
 * snapshots (cluster mode, issue 18). Lease thread only.
 *
 * Takeover of partition p, once its lease is ours:
 *   1. Drop whatever this node's store holds of p (a previous ownership),
 *      restore p's latest snapshot (covering COMPLAINTS up to S).
 *   2. From p's durable consumer: F, its ack floor (every event up to F had
 *      its decision stored in DECISIONS by the previous owner), and D, the
 *      last event it delivered. If some were delivered and never acked
 *      (the owner died), the consumer is made anew to start after D.
 *   3. The fetch thread replays S+1..D through an ordered consumer: events
 *      up to F are applied to the histories quietly (their decisions
 *      exist), the others are decided and published as usual; a decision
 *      the previous owner stored but did not get acked is derived again
 *      with the same Nats-Msg-Id and dropped by DECISIONS' duplicate window.
 *      Then it reads the durable consumer on from D+1.
 *
 * A snapshot is consistent because it is taken with nothing of p in
 * flight: the fetch thread pauses, the pipeline finishes what it holds,
 * and then the store holds exactly the events up to done_seq.
 *
 * There is no object store in nats.c 3.4: a snapshot is a run of chunk
 * messages on snapshots.<p> in the COMPLAINTD_SNAPSHOTS stream, and its
 * manifest ("S chunks seq...") the entry p.<p> of the complaintd_snapshots
 * bucket. Chunks of older snapshots are purged once the manifest moved on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "nats_node_internal.h"
#include "part_store.h"

enum { SNAP_CHUNK = 256 * 1024, SNAP_MAX_CHUNKS = 4096, ACK_WAIT_S = 30 };

static int64_t now_ms(void) { return clock_mono_us() / 1000; }

static void lease_key(int p, char *key, size_t n) { snprintf(key, n, "p.%d", p); }

static void set_owned(nats_node *n, int p, int on)
{
    uint64_t bit = 1ull << (p % 64);
    if (on)
        atomic_fetch_or(&n->stats->partitions_owned[p / 64], bit);
    else
        atomic_fetch_and(&n->stats->partitions_owned[p / 64], ~bit);
}

/* Store a snapshot of p now (nothing of p in flight). */
static int snapshot_now(nats_node *n, int p)
{
    nats_part *pt = &n->parts[p];
    uint64_t covered = atomic_load(&pt->done_seq);
    strbuf dump = STRBUF_INIT, manifest = STRBUF_INIT;
    size_t customers = 0;
    int rc = pstore_dump(n->env, p, n->n_parts, &dump, &customers) == HIST_OK ? 0 : -1;
    char subject[32];
    snprintf(subject, sizeof subject, "snapshots.%d", p);
    size_t chunks = (dump.len + SNAP_CHUNK - 1) / SNAP_CHUNK;
    strbuf_printf(&manifest, "%" PRIu64 " %zu", covered, chunks);
    uint64_t first = 0;
    for (size_t off = 0; rc == 0 && off < dump.len; off += SNAP_CHUNK) {
        size_t len = dump.len - off < SNAP_CHUNK ? dump.len - off : SNAP_CHUNK;
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_Publish(&pa, n->c.js, subject, dump.buf + off, (int)len, NULL, &jerr);
        if (s != NATS_OK) {
            log_warn("partition %d: snapshot chunk not stored: %s", p, nconn_error(s));
            rc = -1;
        } else {
            first = first ? first : pa->Sequence;
            strbuf_printf(&manifest, " %" PRIu64, pa->Sequence);
        }
        jsPubAck_Destroy(pa);
    }
    char key[32];
    lease_key(p, key, sizeof key);
    if (rc == 0 && chunks <= SNAP_MAX_CHUNKS &&
        kvStore_PutString(NULL, n->snaps, key, manifest.buf) == NATS_OK) {
        /* The chunks of older snapshots of p are no longer needed. Not with
         * first == 1: nothing is older, and a subject purge "below 1"
         * removes the whole subject (seen with nats-server 2.9.10). */
        jsOptions o;
        jsOptions_Init(&o);
        o.Stream.Purge.Subject = subject;
        o.Stream.Purge.Sequence = first;
        jsErrCode jerr = 0;
        if (first > 1)
            js_PurgeStream(n->c.js, NATS_STREAM_SNAP, &o, &jerr);
        STAT_ADD(n->stats->snapshots, 1);
        log_debug("partition %d: snapshot of %zu customers covers COMPLAINTS up to %" PRIu64, p,
                  customers, covered);
    } else {
        rc = -1;
    }
    n->lease[p].snap_ms = now_ms();  /* a failed one is tried again an interval later */
    strbuf_free(&dump);
    strbuf_free(&manifest);
    return rc;
}

int node_snapshot(nats_node *n, int p)
{
    nats_part *pt = &n->parts[p];
    atomic_store(&pt->paused, 1);
    int rc = nats_part_drain(pt, 5000) ? snapshot_now(n, p) : -1;
    atomic_store(&pt->paused, 0);
    return rc;
}

/* Load p's latest snapshot into the store; the COMPLAINTS sequence it
 * covers, 0 when there is none (replay from the start). */
static uint64_t restore(nats_node *n, int p, size_t *customers)
{
    char key[32];
    lease_key(p, key, sizeof key);
    kvEntry *e = NULL;
    *customers = 0;
    if (kvStore_Get(&e, n->snaps, key) != NATS_OK)
        return 0;
    const char *m = kvEntry_ValueString(e);
    char *end;
    uint64_t covered = strtoull(m, &end, 10);
    size_t chunks = strtoull(end, &end, 10);
    strbuf dump = STRBUF_INIT;
    int ok = chunks > 0;
    for (size_t i = 0; ok && i < chunks; i++) {
        uint64_t seq = strtoull(end, &end, 10);
        natsMsg *msg = NULL;
        jsErrCode jerr = 0;
        ok = seq && js_GetMsg(&msg, n->c.js, NATS_STREAM_SNAP, seq, NULL, &jerr) == NATS_OK;
        if (ok)
            strbuf_append(&dump, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
        natsMsg_Destroy(msg);
    }
    if (ok)
        ok = pstore_load(n->env, dump.buf, dump.len, customers) == HIST_OK;
    if (!ok) {
        log_warn("partition %d: snapshot '%s' cannot be read; replaying from the start", p, m);
        pstore_drop(n->env, p, n->n_parts, NULL, NULL);  /* whatever a partial load left */
        covered = 0;
    }
    strbuf_free(&dump);
    kvEntry_Destroy(e);
    return covered;
}

/* Make sure p's durable consumer exists and delivers nothing the replay
 * covers. *floor: its ack floor (decided up to there), *delivered: the
 * last seq it delivered. A consumer with deliveries never acked (its owner
 * died) is made anew after them: the replay covers them, and waiting for
 * their redelivery would stall the partition for the ack wait. */
static int prepare_consumer(nats_node *n, int p, uint64_t covered, uint64_t *floor,
                            uint64_t *delivered)
{
    char name[32], filter[48];
    snprintf(name, sizeof name, NATS_CONSUMER_FMT, p);
    snprintf(filter, sizeof filter, "complaints.p.%d.>", p);
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    *floor = *delivered = covered;
    natsStatus s = js_GetConsumerInfo(&ci, n->c.js, NATS_STREAM_IN, name, NULL, &jerr);
    if (s == NATS_OK) {
        *floor = ci->AckFloor.Stream;
        *delivered = ci->Delivered.Stream > *floor ? ci->Delivered.Stream : *floor;
        int stale = ci->NumAckPending > 0;
        jsConsumerInfo_Destroy(ci);
        ci = NULL;
        if (!stale)
            return 0;
        if (js_DeleteConsumer(n->c.js, NATS_STREAM_IN, name, NULL, &jerr) != NATS_OK)
            return -1;
    } else if (s != NATS_NOT_FOUND) {
        return -1;
    }
    uint64_t start = (*delivered > covered ? *delivered : covered) + 1;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = name;
    cc.FilterSubject = filter;
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = start > 1 ? js_DeliverByStartSequence : js_DeliverAll;
    cc.OptStartSeq = start > 1 ? start : 0;
    cc.MaxAckPending = n->cfg->max_ack_pending;
    cc.AckWait = (int64_t)ACK_WAIT_S * 1000000000LL;
    s = js_AddConsumer(&ci, n->c.js, NATS_STREAM_IN, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK)
        log_error("partition %d: cannot create consumer %s: %s", p, name, nconn_error(s));
    return s == NATS_OK ? 0 : -1;
}

int node_takeover(nats_node *n, int p)
{
    nats_part *pt = &n->parts[p];
    node_lease *l = &n->lease[p];
    if (pt->sub) {  /* handed back undrained earlier: wait until its events are done */
        if (!nats_part_drain(pt, 0))
            return -1;
        nats_part_free_sub(pt);
    }
    char key[32];
    lease_key(p, key, sizeof key);
    uint64_t got = 0;
    if (kvStore_CreateString(&got, n->leases, key, n->cfg->node_id) != NATS_OK)
        return -1;  /* someone else was quicker: it is theirs */
    pthread_mutex_lock(&n->lease_lock);
    l->held = 1;
    l->rev = got;
    l->renewed_ms = now_ms();
    atomic_store(&l->lost, 0);
    pthread_mutex_unlock(&n->lease_lock);
    int64_t t0 = clock_mono_us();
    size_t dropped = 0, customers = 0;
    uint64_t floor = 0, covered = 0, delivered = 0;
    int rc = pstore_drop(n->env, p, n->n_parts, &dropped, NULL) == HIST_OK ? 0 : -1;
    if (rc == 0) {
        covered = restore(n, p, &customers);
        rc = prepare_consumer(n, p, covered, &floor, &delivered);
    }
    if (rc == 0) {
        pt->replay_from = covered + 1;
        pt->replay_to = delivered;
        pt->quiet_upto = floor;
        pt->skip_upto = delivered > covered ? delivered : covered;
        atomic_store(&pt->done_seq, covered);
        rc = nats_part_start(pt);
    }
    if (rc < 0) {
        log_error("partition %d: takeover failed; releasing it", p);
        pthread_mutex_lock(&n->lease_lock);
        l->held = 0;
        pthread_mutex_unlock(&n->lease_lock);
        kvStore_Delete(n->leases, key);
        return -1;
    }
    l->snap_ms = now_ms();
    set_owned(n, p, 1);
    STAT_ADD(n->stats->takeovers, 1);
    log_info("partition %d: taken over in %lld ms (snapshot of %zu customers at seq %" PRIu64
             ", replay to %" PRIu64 ", quietly to %" PRIu64 ", %zu stale records dropped)",
             p, (long long)((clock_mono_us() - t0) / 1000), customers, covered, delivered, floor,
             dropped);
    return 0;
}

void node_handover(nats_node *n, int p, int graceful)
{
    nats_part *pt = &n->parts[p];
    node_lease *l = &n->lease[p];
    graceful = graceful && !atomic_load(&l->lost);
    nats_part_stop(pt);
    /* Fenced, the events in flight still finish (a few ms): their acks
     * spare the next owner a longer replay. */
    int drained = nats_part_drain(pt, graceful ? 10000 : n->cfg->lease_ttl_ms / 4);
    if (graceful && drained)
        snapshot_now(n, p);  /* the next owner replays only what follows */
    if (drained)
        nats_part_free_sub(pt);  /* else kept: the last acks go through it */
    pthread_mutex_lock(&n->lease_lock);
    l->held = 0;  /* no more renewals */
    pthread_mutex_unlock(&n->lease_lock);
    if (graceful) {
        char key[32];
        lease_key(p, key, sizeof key);
        kvStore_Delete(n->leases, key);
    }
    set_owned(n, p, 0);
    STAT_ADD(n->stats->handovers, 1);
    log_info("partition %d: %s", p, graceful ? "handed over" : "given up (lease not renewed)");
}
