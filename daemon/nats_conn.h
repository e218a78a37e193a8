/*
 * nats_conn — a NATS connection and JetStream context from a list of
 * server URLs, for complaintd's cluster mode and complaintctl's --nats
 * commands (issue 18).
 *
 * The connection reconnects for ever (to any server of the list or of the
 * cluster it learns about): a node outlives the loss of a server, and
 * JetStream calls made meanwhile fail and are retried by their callers.
 */
#ifndef COMPLAINTD_NATS_CONN_H
#define COMPLAINTD_NATS_CONN_H

#include <nats/nats.h>
#include <stddef.h>

/* The names the cluster shares (the contract of issue 18, and the buckets
 * the nodes coordinate through). */
#define NATS_STREAM_IN "COMPLAINTS"          /* complaints.p.> */
#define NATS_STREAM_OUT "DECISIONS"          /* decisions.> */
#define NATS_STREAM_SNAP "COMPLAINTD_SNAPSHOTS" /* snapshots.<partition> chunks */
#define NATS_KV_NODES "complaintd_nodes"     /* node id -> "alive", expires with the TTL */
#define NATS_KV_LEASES "complaintd_leases"   /* p.<n> -> owner node id, expires with the TTL */
#define NATS_KV_SNAPS "complaintd_snapshots" /* p.<n> -> manifest of the latest snapshot */
#define NATS_CONSUMER_FMT "part-%d"          /* the durable pull consumer of a partition */

typedef struct nconn {
    natsConnection *nc;
    jsCtx          *js;
} nconn;

/* Connect to urls ("nats://h:p[,nats://h:p...]"), naming the connection
 * name. 0, or -1 with "urls: why" in err. */
int  nconn_open(nconn *c, const char *urls, const char *name, char *err, size_t errlen);
/* The same, with JetStream requests given up after wait_ms (5000 above). */
int  nconn_open_wait(nconn *c, const char *urls, const char *name, int wait_ms, char *err,
                     size_t errlen);
void nconn_close(nconn *c);  /* safe on a zeroed or closed nconn */

/* The live keys of a key-value bucket. */
typedef struct nconn_keys {
    char **key;  /* [n], sorted; owned, each string too (nconn_keys_free) */
    int    n;
} nconn_keys;

/* The live keys of `bucket` (kv: that bucket, opened on js), sorted: the
 * subjects its stream holds, less those whose last entry is a delete.
 * kvStore_Keys makes a consumer per call, which goes through the JetStream
 * meta leader and stalls for the request timeout while the servers
 * re-elect one after a loss; this is one stream-info request and a get
 * per key. NATS_OK (out filled), or the failing call's status (out empty). */
natsStatus nconn_kv_keys(jsCtx *js, kvStore *kv, const char *bucket, nconn_keys *out);
void       nconn_keys_free(nconn_keys *k);  /* and empties it; safe on an empty one */

/* The text of a failed call: the library's last error, else the status. */
const char *nconn_error(natsStatus s);

#endif
