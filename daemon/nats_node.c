/*
 * nats_node — setting up a cluster node and its lease thread; see
 * nats_node.h. Taking over, handing back and snapshotting a partition are
 * in nats_takeover.c.
 */
#define _GNU_SOURCE  /* pthread_setname_np */
#include "nats_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "nats_node_internal.h"
#include "partition.h"

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static int valid_node_id(const char *id)
{
    if (!*id || strlen(id) > 63)
        return 0;
    for (; *id; id++)
        if (!id_char(*id))
            return 0;
    return 1;
}

/* The stream `name` on `subject`: created when absent; when present, its
 * retention must hold what a takeover needs (nats_node_internal.h). */
static int ensure_stream(nats_node *n, const char *name, const char *subject, int64_t max_age_ns,
                         int64_t dup_ns, char *err, size_t errlen, int *usage_error)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, n->c.js, name, NULL, &jerr);
    /* A cluster that just started (or lost a server) may have no JetStream
     * leader for a few seconds. */
    for (int attempt = 0; s != NATS_OK && s != NATS_NOT_FOUND && attempt < 20; attempt++) {
        nats_Sleep(500);
        s = js_GetStreamInfo(&si, n->c.js, name, NULL, &jerr);
    }
    if (s == NATS_NOT_FOUND) {
        const char *subjects[] = {subject};
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = name;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Retention = js_LimitsPolicy;
        sc.Storage = js_FileStorage;
        sc.Replicas = n->cfg->nats_replicas;
        sc.MaxAge = max_age_ns;
        sc.Duplicates = dup_ns;
        s = js_AddStream(&si, n->c.js, &sc, NULL, &jerr);
        /* A timeout, or a cluster still forming: its meta leader elected
         * before the other servers joined it has no peers to place the
         * replicas on yet ("no suitable peers", seen in CI a second after
         * the servers started). */
        for (int attempt = 0; attempt < 10 && (s == NATS_TIMEOUT ||
                              (s != NATS_OK && (jerr == JSClusterNoPeersErr ||
                                                jerr == JSClusterNotAvailErr)));
             attempt++) {
            nats_Sleep(500);  /* created meanwhile, or still not */
            jerr = 0;
            s = js_GetStreamInfo(&si, n->c.js, name, NULL, &jerr);
            if (s == NATS_NOT_FOUND)
                s = js_AddStream(&si, n->c.js, &sc, NULL, &jerr);
        }
        if (s == NATS_OK)
            log_info("created stream %s on %s, %d replica(s)", name, subject, n->cfg->nats_replicas);
        else if (jerr == JSStreamNameExistErr)  /* another node was quicker */
            s = js_GetStreamInfo(&si, n->c.js, name, NULL, &jerr);
    }
    if (s != NATS_OK) {
        snprintf(err, errlen, "stream %s: %s", name, nconn_error(s));
        return -1;
    }
    const char *why = node_retention_problem(n->cfg, name, si->Config);
    if (why) {
        snprintf(err, errlen, "stream %s: %s", name, why);
        *usage_error = 1;
    }
    jsStreamInfo_Destroy(si);
    return why ? -1 : 0;
}

static int ensure_bucket(nats_node *n, kvStore **kv, const char *bucket, int64_t ttl_ms, char *err,
                         size_t errlen)
{
    if (js_KeyValue(kv, n->c.js, bucket) == NATS_OK)
        return 0;
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = bucket;
    kc.History = 1;
    kc.TTL = ttl_ms * 1000000;  /* nanoseconds, despite the header's silence */
    kc.Replicas = n->cfg->nats_replicas;
    kc.StorageType = js_FileStorage;
    natsStatus s = js_CreateKeyValue(kv, n->c.js, &kc);
    if (s != NATS_OK && js_KeyValue(kv, n->c.js, bucket) == NATS_OK)
        s = NATS_OK;  /* created meanwhile by another node */
    if (s != NATS_OK)
        snprintf(err, errlen, "bucket %s: %s", bucket, nconn_error(s));
    return s == NATS_OK ? 0 : -1;
}

nats_node *nats_node_open(const config *cfg, hist_env *env, daemon_stats *stats, char *err,
                          size_t errlen, int *usage_error)
{
    *usage_error = 0;
    if (!valid_node_id(cfg->node_id)) {
        snprintf(err, errlen, "node_id '%s': want 1-63 of [A-Za-z0-9_-] (and unique in the cluster)",
                 cfg->node_id);
        *usage_error = 1;
        return NULL;
    }
    nats_node *n = calloc(1, sizeof *n);
    n->cfg = cfg;
    n->env = env;
    n->stats = stats;
    n->n_parts = cfg->partitions;
    char name[96];
    snprintf(name, sizeof name, "complaintd-%s", cfg->node_id);
    if (nconn_open(&n->c, cfg->nats_url, name, err, errlen) < 0) {
        free(n);
        return NULL;
    }
    const int64_t ms = 1000000;  /* nanoseconds */
    int rc = ensure_stream(n, NATS_STREAM_IN, "complaints.p.>", node_default_max_age_ms(cfg) * ms,
                           NODE_IN_DUPLICATES_MS * ms, err, errlen, usage_error);
    if (rc == 0)
        rc = ensure_stream(n, NATS_STREAM_OUT, "decisions.>", node_default_max_age_ms(cfg) * ms,
                           2 * node_dup_window_ms(cfg) * ms, err, errlen, usage_error);
    if (rc == 0)
        rc = ensure_stream(n, NATS_STREAM_SNAP, "snapshots.>", 0, NODE_IN_DUPLICATES_MS * ms, err,
                           errlen, usage_error);
    if (rc == 0)
        rc = ensure_bucket(n, &n->nodes, NATS_KV_NODES, cfg->lease_ttl_ms, err, errlen);
    if (rc == 0)
        rc = ensure_bucket(n, &n->leases, NATS_KV_LEASES, cfg->lease_ttl_ms, err, errlen);
    if (rc == 0)
        rc = ensure_bucket(n, &n->snaps, NATS_KV_SNAPS, 0, err, errlen);
    if (rc < 0) {
        kvStore_Destroy(n->nodes);
        kvStore_Destroy(n->leases);
        kvStore_Destroy(n->snaps);
        nconn_close(&n->c);
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->lease_lock, NULL);
    n->parts = calloc((size_t)n->n_parts, sizeof *n->parts);
    n->lease = calloc((size_t)n->n_parts, sizeof *n->lease);
    for (int p = 0; p < n->n_parts; p++) {
        n->parts[p].index = p;
        n->parts[p].js = n->c.js;
        n->parts[p].max_ack_pending = cfg->max_ack_pending;
    }
    stats->cluster_partitions = n->n_parts;
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The live nodes, sorted (every node numbers them the same way); -1 when
 * the bucket cannot be read. *me: this node's index, or -1 if absent. */
static int live_nodes(nats_node *n, nconn_keys *nodes, int *me)
{
    *me = -1;
    if (nconn_kv_keys(n->c.js, n->nodes, NATS_KV_NODES, nodes) != NATS_OK)
        return -1;
    for (int i = 0; i < nodes->n; i++)
        if (strcmp(nodes->key[i], n->cfg->node_id) == 0)
            *me = i;
    return nodes->n;
}

/* The owner of every partition as an index into the live nodes (-1 none,
 * -2 a departed node whose lease has not lapsed yet); 0, or -1 when the
 * view is partial (a server away: decide nothing on it). */
static int read_owners(nats_node *n, const nconn_keys *nodes, int *owner)
{
    for (int p = 0; p < n->n_parts; p++) {
        owner[p] = -1;
        char key[32];
        snprintf(key, sizeof key, "p.%d", p);
        kvEntry *e = NULL;
        natsStatus s = kvStore_Get(&e, n->leases, key);
        if (s == NATS_OK) {
            const char *who = kvEntry_ValueString(e);
            for (int i = 0; i < nodes->n; i++)
                if (strcmp(nodes->key[i], who) == 0)
                    owner[p] = i;
            if (owner[p] < 0)
                owner[p] = -2;
        }
        kvEntry_Destroy(e);
        if (s != NATS_OK && s != NATS_NOT_FOUND)
            return -1;
    }
    return 0;
}

/* One round: announce, read the owners, rebalance, act on this node's part. */
static void lease_round(nats_node *n)
{
    for (int p = 0; p < n->n_parts; p++)  /* fenced by the renew thread */
        if (n->lease[p].held && atomic_load(&n->lease[p].lost))
            node_handover(n, p, 0);
    nconn_keys nodes = {0};
    int me = -1;
    int n_nodes = live_nodes(n, &nodes, &me);
    int *owner = malloc((size_t)n->n_parts * sizeof *owner);
    int *want = malloc((size_t)n->n_parts * sizeof *want);
    int *view = malloc((size_t)n->n_parts * sizeof *view);
    int readable = n_nodes > 0 && me >= 0 && read_owners(n, &nodes, owner) == 0;
    if (!readable && n->unreadable_rounds++ % 20 == 5)  /* a few rounds: a server away */
        log_warn("node %s: cannot read the live nodes or the leases (%d node(s) listed, %s); "
                 "not rebalancing", n->cfg->node_id, n_nodes, me >= 0 ? "self listed" : "self missing");
    if (readable)
        n->unreadable_rounds = 0;
    if (readable) {
        /* A lapsing lease of a departed node counts as unowned for the
         * rule (its partition goes to someone), but nobody can take it
         * before it lapses. */
        for (int p = 0; p < n->n_parts; p++)
            view[p] = owner[p] >= 0 ? owner[p] : -1;
        part_assign(n->n_parts, n_nodes, view, want);
        for (int p = 0; p < n->n_parts; p++)  /* rebalancing: to its new owner */
            if (n->lease[p].held && want[p] != me)
                node_handover(n, p, 1);
        for (int p = 0; p < n->n_parts && !atomic_load(&n->stop); p++)
            if (!n->lease[p].held && want[p] == me && owner[p] == -1)
                node_takeover(n, p);
    }
    int64_t now = clock_mono_us() / 1000;
    for (int p = 0; p < n->n_parts && !atomic_load(&n->stop); p++)
        if (n->lease[p].held && now - n->lease[p].snap_ms >= n->cfg->snapshot_interval_s * 1000LL)
            node_snapshot(n, p);
    free(owner);
    free(want);
    free(view);
    nconn_keys_free(&nodes);
}

static void *lease_main(void *arg)
{
    nats_node *n = arg;
    int tick = n->cfg->lease_ttl_ms / 4;
    while (!atomic_load(&n->stop)) {
        lease_round(n);
        for (int waited = 0; waited < tick && !atomic_load(&n->stop); waited += 20)
            sleep_ms(20);
    }

    /* Leave: hand every partition back so the others need not wait for
     * the leases to lapse, then say goodbye. */
    for (int p = 0; p < n->n_parts; p++)
        if (n->lease[p].held)
            node_handover(n, p, 1);
    return NULL;
}

int nats_node_start(nats_node *n, void *zctx)
{
    n->zctx = zctx;
    for (int p = 0; p < n->n_parts; p++)
        n->parts[p].zctx = zctx;
    char err[512];
    if (node_renewer_start(n, err, sizeof err) < 0) {
        log_error("node %s: %s", n->cfg->node_id, err);
        return -1;
    }
    if (pthread_create(&n->thread, NULL, lease_main, n) != 0) {
        node_renewer_stop(n);
        return -1;
    }
    pthread_setname_np(n->thread, "cd-lease");
    log_info("node %s: %d partitions, lease TTL %d ms, snapshots every %d s, NATS %s",
             n->cfg->node_id, n->n_parts, n->cfg->lease_ttl_ms, n->cfg->snapshot_interval_s,
             n->cfg->nats_url);
    n->started = 1;
    return 0;
}

void nats_node_stop(nats_node *n)
{
    if (!n || !n->started)
        return;
    atomic_store(&n->stop, 1);
    pthread_join(n->thread, NULL);  /* it hands every partition back first */
    node_renewer_stop(n);
    n->started = 0;
}

void nats_node_free(nats_node *n)
{
    if (!n)
        return;
    nats_node_stop(n);
    for (int p = 0; p < n->n_parts; p++) {
        nats_part_stop(&n->parts[p]);  /* a fenced partition's thread is already gone */
        nats_part_drain(&n->parts[p], 0);
        nats_part_free_sub(&n->parts[p]);
    }
    natsConnection_Flush(n->c.nc);  /* the last acks */
    kvStore_Destroy(n->nodes);
    kvStore_Destroy(n->leases);
    kvStore_Destroy(n->snaps);
    nconn_close(&n->c);
    free(n->parts);
    free(n->lease);
    pthread_mutex_destroy(&n->lease_lock);
    free(n);
    nats_Close();  /* the library's threads and caches: the process is ending */
}
