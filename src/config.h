/*
 * config — complaintd's settings: one table of keys with defaults and bounds
 * (config.c), read from a "key = value" file and overridden by flags.
 *
 * Errors name the file and line and quote the value with what is wanted
 * ("complaintd.conf:7: threads = 300: want 0 to 256"), and the daemon exits
 * 2 on them. A key set twice is an error, the tables' keys included
 * (compared by meaning: two spellings of one matrix cell are one key).
 */
#ifndef COMPLAINTD_CONFIG_H
#define COMPLAINTD_CONFIG_H

#include <stddef.h>

#include "policy.h"

enum { CONFIG_PATH = 1024, CONFIG_ENDPOINT = 256 };

typedef struct config {
    char   ingest[CONFIG_ENDPOINT];   /* PULL: producers PUSH events here */
    char   ingest_acked[CONFIG_ENDPOINT]; /* ROUTER: producers get an Ack per event; "" = off */
    char   publish[CONFIG_ENDPOINT];  /* PUB: decisions, two frames (topic, TriageDecision) */
    char   control[CONFIG_ENDPOINT];  /* ROUTER for REQ clients: ping, stats, reload, replay */
    char   metrics[CONFIG_ENDPOINT];  /* HTTP /metrics, "HOST:PORT"; "" or "off" = none */
    char   data_dir[CONFIG_PATH];
    char   rules[CONFIG_PATH];
    char   cache_dir[CONFIG_PATH];    /* compiled rules; "" = <data_dir>/cache */
    int    threads;                   /* worker threads; 0 = one per core */
    int    batch_size;                /* events per LMDB commit at most */
    int    commit_interval_ms;        /* wait for more after a group's first event; 0 = no */
    int    ingest_linger_us;          /* ingest waits this long for company; 0 = no */
    long   max_message_bytes;         /* larger events are rejected */
    long   map_size_mb;               /* LMDB map size */
    int    durable;                   /* 0: MDB_NOSYNC (faster, loses the last commits on power loss) */
    long   decision_log_max;          /* decisions kept for replay */
    int64_t decision_log_max_age_ms;  /* and for at most this long; 0 = no age limit
                                         (set in days: decision_log_max_age_days) */
    int    hwm;                       /* ZeroMQ high-water marks */
    char   curve_key_file[CONFIG_PATH];     /* server key pair; "" = no CURVE */
    char   curve_clients_file[CONFIG_PATH]; /* allowlist of client public keys */
    int    allow_plaintext;           /* permit plain TCP on non-loopback endpoints */
    int    log_format;                /* LOG_FORMAT_TEXT or _JSON (log.h's order) */
    int    log_target;                /* LOG_TARGET_STDERR or _SYSLOG */
    int    log_level;                 /* LOG_ERROR .. LOG_DEBUG */
    int    reject_log_interval_s;     /* one summary of rejects per this long */
    /* Cluster mode (issue 18): a node of a cluster on NATS JetStream. */
    char   nats_url[CONFIG_PATH];     /* "nats://h:p[,...]"; "" = ZeroMQ single node */
    char   node_id[64];               /* this node's name in the cluster */
    int    partitions;                /* must equal the servers' partition(N,1) */
    int    nats_replicas;             /* replicas of the streams the node creates */
    int    lease_ttl_ms;              /* a partition lease lapses this long after its renewal */
    int    snapshot_interval_s;       /* each owned partition is snapshotted this often */
    int    max_ack_pending;           /* unacked events per partition, at most */
    char   models[CONFIG_PATH];       /* key "model": comma-separated model files; "" = the
                                         default model if there is one; "none" = rules alone */
    int    retrain_every;             /* retrain from feedback after this many reviews; 0 = never */
    policy pol;
} config;

void config_defaults(config *c);

/* Set one key from its text value; err gets "key: problem". */
int config_set(config *c, const char *key, const char *value, char *err, size_t errlen);

/* Read a file of "key = value" lines ('#' comments); err gets "path:line: problem". */
int config_load_file(config *c, const char *path, char *err, size_t errlen);

/* Print every key with its current value and help, as a commented config file. */
void config_print(const config *c, void *file /* FILE * */);

/* A ZeroMQ endpoint a socket can bind (tcp://HOST:PORT, ipc://PATH,
 * inproc://NAME), and a HOST:PORT for the metrics server ("" and "off"
 * pass). 0, or -1 with what is wanted in why. */
int config_check_endpoint(const char *v, char *why, size_t whylen);
int config_check_hostport(const char *v, char *why, size_t whylen);

/* The keys that differ between running and fresh and that a reload does not
 * apply (everything but the policy): their names, space-separated, into out.
 * Returns how many. */
size_t config_restart_keys(const config *running, const config *fresh, char *out, size_t cap);

#endif
