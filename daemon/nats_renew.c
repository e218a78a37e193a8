/*
 * nats_renew — the renew thread of a cluster node: every quarter of the
 * lease TTL it refreshes the node's entry in complaintd_nodes and renews
 * (revision-checked) every partition lease the node holds.
 *
 * It has its own connection, with requests given up after a third of the
 * TTL, so that nothing the lease thread waits for (a replicated consumer
 * being created, a snapshot being stored) delays a renewal. A lease not
 * renewed for 2/3 of its TTL is fenced here: its fetch thread is told to
 * stop before the lease can lapse and another node take the partition,
 * and the lease thread then finishes giving it up (node_handover).
 */
#define _GNU_SOURCE  /* pthread_setname_np */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "nats_node_internal.h"

static int64_t now_ms(void) { return clock_mono_us() / 1000; }

static void renew_one(nats_node *n, int p)
{
    node_lease *l = &n->lease[p];
    pthread_mutex_lock(&n->lease_lock);
    int held = l->held && !atomic_load(&l->lost);
    uint64_t rev = l->rev;
    pthread_mutex_unlock(&n->lease_lock);
    if (!held)
        return;
    char key[32];
    snprintf(key, sizeof key, "p.%d", p);
    uint64_t next = 0;
    natsStatus s = kvStore_UpdateString(&next, n->r_leases, key, n->cfg->node_id, rev);
    pthread_mutex_lock(&n->lease_lock);
    if (l->held && l->rev == rev) {  /* still the same lease */
        if (s == NATS_OK) {
            l->rev = next;
            l->renewed_ms = now_ms();
        } else if (now_ms() - l->renewed_ms > n->cfg->lease_ttl_ms * 2 / 3) {
            atomic_store(&l->lost, 1);
            atomic_store(&n->parts[p].stop, 1);  /* fetch nothing more */
            log_warn("partition %d: lease not renewed for %lld ms; giving it up", p,
                     (long long)(now_ms() - l->renewed_ms));
        }
    }
    pthread_mutex_unlock(&n->lease_lock);
}

static void *renew_main(void *arg)
{
    nats_node *n = arg;
    const int tick = n->cfg->lease_ttl_ms / 4;
    while (!atomic_load(&n->renew_stop)) {
        int64_t t0 = now_ms();
        kvStore_PutString(NULL, n->r_nodes, n->cfg->node_id, "alive");
        for (int p = 0; p < n->n_parts; p++)
            renew_one(n, p);
        while (!atomic_load(&n->renew_stop) && now_ms() - t0 < tick) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    kvStore_Delete(n->r_nodes, n->cfg->node_id);  /* gone: the others rebalance now */
    return NULL;
}

int node_renewer_start(nats_node *n, char *err, size_t errlen)
{
    char name[96];
    snprintf(name, sizeof name, "complaintd-%s-renew", n->cfg->node_id);
    int wait_ms = n->cfg->lease_ttl_ms / 3 > 300 ? n->cfg->lease_ttl_ms / 3 : 300;
    if (nconn_open_wait(&n->rc, n->cfg->nats_url, name, wait_ms, err, errlen) < 0)
        return -1;
    if (js_KeyValue(&n->r_nodes, n->rc.js, NATS_KV_NODES) != NATS_OK ||
        js_KeyValue(&n->r_leases, n->rc.js, NATS_KV_LEASES) != NATS_OK) {
        snprintf(err, errlen, "buckets: %s", nconn_error(NATS_ERR));
        node_renewer_stop(n);
        return -1;
    }
    /* Announced before the first lease round reads who is alive. */
    kvStore_PutString(NULL, n->r_nodes, n->cfg->node_id, "alive");
    if (pthread_create(&n->renewer, NULL, renew_main, n) != 0) {
        snprintf(err, errlen, "cannot start the renew thread");
        node_renewer_stop(n);
        return -1;
    }
    pthread_setname_np(n->renewer, "cd-renew");
    return 0;
}

void node_renewer_stop(nats_node *n)
{
    if (n->renewer) {
        atomic_store(&n->renew_stop, 1);
        pthread_join(n->renewer, NULL);
        n->renewer = 0;
    }
    kvStore_Destroy(n->r_nodes);
    kvStore_Destroy(n->r_leases);
    n->r_nodes = n->r_leases = NULL;
    nconn_close(&n->rc);
}
