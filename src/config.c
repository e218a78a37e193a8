/*
 * config — the key table; see config.h.
 *
 * DESIGN: every key is one row: name, type, bounds, where it lives, help,
 * and for some a list of choices or CF_LIVE (a reload applies it; every
 * other key needs a restart). Adding a key is adding a row; parsing,
 * validation and `--print-config` come from the table. Policy keys sit here
 * too so that one file configures a deployment.
 *
 * Error messages quote what the file said and what is wanted
 * ("durable = maybe: want 0 or 1"); config_load_file adds "path:line: ".
 * The tables (tier.N, matrix.*, authority.*) are checked for duplicates by
 * what a key means, not how it is spelt: matrix.x.channel:chat.repeat:2 and
 * matrix.x.repeat:2.channel:chat are one cell.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_table.h"
#include "labels.h"
#include "strbuf.h"

typedef enum {
    K_STR, K_INT, K_LONG, K_I64, K_BOOL, K_DAYS, /* K_DAYS: int64 ms */
    K_CHOICE,   /* int: the index of the value in choices ("text|json") */
    K_ENDPOINT, /* string: a ZeroMQ endpoint to bind (tcp://, ipc://, inproc://) */
    K_HOSTPORT, /* string: HOST:PORT of an HTTP listener, or "" / "off" */
} key_type;

enum { CF_LIVE = 1, CF_EMPTY_OK = 2, CF_REPEAT = 4 };  /* flags: a reload applies it; "" allowed;
                                                         may be given more than once (adds up) */

typedef struct key_def {
    const char *name;
    key_type    type;
    long long   min, max;
    size_t      offset;  /* into config */
    size_t      size;    /* string types: buffer size */
    const char *help;
    const char *choices; /* K_CHOICE: "a|b|c" */
    int         flags;   /* CF_* */
} key_def;

#define OFF(f) offsetof(config, f)
#define STR(f) K_STR, 0, 0, OFF(f), sizeof(((config *)0)->f)
#define EP(f) K_ENDPOINT, 0, 0, OFF(f), sizeof(((config *)0)->f)
#define CHOICE(f) K_CHOICE, 0, 0, OFF(f), 0

static const key_def keys[] = {
    {"ingest", EP(ingest), "ZeroMQ endpoint the PULL socket binds for events"},
    {"ingest_acked", EP(ingest_acked),
     "ZeroMQ endpoint the ROUTER socket binds for acknowledged events (empty = off)", NULL,
     CF_EMPTY_OK},
    {"publish", EP(publish), "ZeroMQ endpoint the PUB socket binds for decisions"},
    {"control", EP(control), "ZeroMQ endpoint of the control socket (ping, stats, reload, replay, forget)"},
    {"metrics", K_HOSTPORT, 0, 0, OFF(metrics), sizeof(((config *)0)->metrics),
     "HOST:PORT of the HTTP server of Prometheus metrics (GET /metrics); empty or off = none"},
    {"data_dir", STR(data_dir), "LMDB environment: histories, de-duplication, decision log"},
    {"rules", STR(rules), "rule pack directory"},
    {"cache_dir", STR(cache_dir), "compiled rule cache; empty = <data_dir>/cache"},
    {"threads", K_INT, 0, 256, OFF(threads), 0, "worker threads; 0 = one per core"},
    {"batch_size", K_INT, 1, 100000, OFF(batch_size), 0, "events per LMDB commit, at most"},
    {"commit_interval_ms", K_INT, 0, 10000, OFF(commit_interval_ms), 0,
     "wait this long after a group's first event for more; 0 = commit as soon as none is queued"},
    {"ingest_linger_us", K_INT, 0, 1000000, OFF(ingest_linger_us), 0,
     "after a lone event, wait this long for more before handing them to a worker; 0 = none"},
    {"max_message_bytes", K_LONG, 64, 64L << 20, OFF(max_message_bytes), 0,
     "events larger than this are rejected"},
    {"map_size_mb", K_LONG, 1, 1L << 24, OFF(map_size_mb), 0, "LMDB map size"},
    {"durable", K_BOOL, 0, 1, OFF(durable), 0, "fsync each commit (0: faster, may lose the last commits on power loss)"},
    {"decision_log_max", K_LONG, 1000, 1L << 40, OFF(decision_log_max), 0,
     "decisions kept in the log for replay"},
    {"decision_log_max_age_days", K_DAYS, 0, 36500, OFF(decision_log_max_age_ms), 0,
     "decisions older than this leave the log; 0 = kept until decision_log_max"},
    {"hwm", K_INT, 10, 10000000, OFF(hwm), 0,
     "ZeroMQ high-water mark of ingest and publish (publish holds 4 x batch_size at least)"},
    {"curve_key_file", STR(curve_key_file),
     "CURVE server key pair (complaintctl keygen); empty = no encryption"},
    {"curve_clients_file", STR(curve_clients_file),
     "allowlist of client public keys, one per line (required with curve_key_file)"},
    {"allow_plaintext", K_BOOL, 0, 1, OFF(allow_plaintext), 0,
     "permit plain TCP on non-loopback endpoints (without CURVE)"},
    {"log_format", CHOICE(log_format), "log lines as text or as one JSON object per line",
     "text|json"},
    {"log_target", CHOICE(log_target), "where log lines go: stderr (journald under systemd) or syslog",
     "stderr|syslog"},
    {"log_level", CHOICE(log_level), "the least severe level logged (--verbose: debug)",
     "error|warn|info|debug"},
    {"reject_log_interval_s", K_INT, 1, 3600, OFF(reject_log_interval_s), 0,
     "rejected events are logged as one summary per this many seconds, with counts by reason"},
    {"nats_url", STR(nats_url),
     "cluster mode: NATS server URLs, comma-separated; empty = single node on ZeroMQ"},
    {"node_id", STR(node_id), "cluster mode: this node's id ([A-Za-z0-9_-], unique in the cluster)"},
    {"partitions", K_INT, 1, 1024, OFF(partitions), 0,
     "cluster mode: partitions; must match the servers' mapping partition(N,1)"},
    {"nats_replicas", K_INT, 1, 5, OFF(nats_replicas), 0,
     "cluster mode: replicas of the streams and buckets the node creates (3 in a cluster)"},
    {"lease_ttl_ms", K_INT, 500, 600000, OFF(lease_ttl_ms), 0,
     "cluster mode: a partition's owner must renew its lease within this; a dead node's lapse after it"},
    {"snapshot_interval_s", K_INT, 1, 86400, OFF(snapshot_interval_s), 0,
     "cluster mode: each owned partition's histories are snapshotted this often"},
    {"max_ack_pending", K_INT, 1, 1000000, OFF(max_ack_pending), 0,
     "cluster mode: events of one partition delivered and not yet acked, at most (backpressure)"},
    {"model", STR(models),
     "learned models beside the rules, comma-separated (or one per line); empty = the "
     "default model; none = rules alone (may be repeated)", NULL, CF_LIVE | CF_REPEAT},
    {"retrain_every", K_INT, 0, 100000000, OFF(retrain_every), 0,
     "retrain the local model after this many managers' reviews; 0 = only on complaintctl retrain"},
    {"authority_limit", K_I64, 0, 1LL << 50, OFF(pol.authority_limit), 0,
     "compensation an employee may grant without the central office", NULL, CF_LIVE},
    {"extremism_limit", K_INT, 2, 1000, OFF(pol.extremism_limit), 0,
     "extremism incidents (this one included) that end the relationship; a first offence never does",
     NULL, CF_LIVE},
    {"toxicity_limit", K_INT, 2, 1000, OFF(pol.toxicity_limit), 0,
     "toxic incidents (this one included) that end the relationship; a first offence never does",
     NULL, CF_LIVE},
    {"compensation_share_pct", K_INT, 0, 100000, OFF(pol.compensation_share_pct), 0,
     "a customer compensated beyond this % of their purchases is flagged", NULL, CF_LIVE},
    {"repeat_bump", K_INT, 0, 7, OFF(pol.repeat_bump), 0, "tiers added for a repeat complaint", NULL,
     CF_LIVE},
    {"repeat_window_days", K_DAYS, 0, 3650, OFF(pol.repeat_window_ms), 0,
     "the same problem again within this many days escalates", NULL, CF_LIVE},
    {"half_life_days", K_DAYS, 1, 3650, OFF(pol.half_life_ms), 0,
     "toxic and extremism incidents weigh half after this many days", NULL, CF_LIVE},
    {"conflict_window_days", K_DAYS, 0, 3650, OFF(pol.conflict_window_ms), 0,
     "an employee who clashed with the customer this recently makes a case go central", NULL,
     CF_LIVE},
    {"gesture", STR(pol.gesture), "symbolic gesture offered with HOLD_LINE", NULL, CF_LIVE},
};

enum { N_KEYS = sizeof keys / sizeof keys[0] };

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ingest, sizeof c->ingest, "tcp://127.0.0.1:5560");
    snprintf(c->publish, sizeof c->publish, "tcp://127.0.0.1:5561");
    snprintf(c->ingest_acked, sizeof c->ingest_acked, "tcp://127.0.0.1:5563");
    snprintf(c->control, sizeof c->control, "tcp://127.0.0.1:5562");
    snprintf(c->metrics, sizeof c->metrics, "127.0.0.1:9560");
    snprintf(c->data_dir, sizeof c->data_dir, "data");
    snprintf(c->rules, sizeof c->rules, "rules");
    c->threads = 0;
    c->batch_size = 10000;
    c->commit_interval_ms = 0;
    c->ingest_linger_us = 200;
    c->max_message_bytes = 256 * 1024;
    c->map_size_mb = 4096;
    c->durable = 1;
    c->decision_log_max = 1000000;
    c->hwm = 10000;
    c->log_format = 0;  /* text */
    c->log_target = 0;  /* stderr */
    c->log_level = 2;   /* info */
    c->reject_log_interval_s = 10;
    c->partitions = 32;
    c->nats_replicas = 1;
    c->lease_ttl_ms = 3000;
    c->snapshot_interval_s = 60;
    c->max_ack_pending = 1024;
    c->retrain_every = 500;
    policy_defaults(&c->pol);
}

static int set_number(const key_def *k, config *c, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long n;
    if (k->type == K_BOOL && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0))
        n = 1;
    else if (k->type == K_BOOL && (strcmp(v, "false") == 0 || strcmp(v, "no") == 0))
        n = 0;
    else {
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end || (k->type == K_BOOL && (n < 0 || n > 1))) {
            if (k->type == K_BOOL)
                snprintf(err, errlen, "%s = %s: want 0 or 1 (or true/false, yes/no)", k->name, v);
            else
                snprintf(err, errlen, "%s = %s: want a whole number from %lld to %lld", k->name, v,
                         k->min, k->max);
            return -1;
        }
    }
    if (n < k->min || n > k->max) {
        snprintf(err, errlen, "%s = %s: want %lld to %lld", k->name, v, k->min, k->max);
        return -1;
    }
    char *p = (char *)c + k->offset;
    switch (k->type) {
    case K_INT:
    case K_BOOL: *(int *)p = (int)n; break;
    case K_LONG: *(long *)p = (long)n; break;
    case K_DAYS: *(int64_t *)p = n * 24 * 3600 * 1000; break;
    default: *(int64_t *)p = n; break;
    }
    return 0;
}

/* The index of v among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == vl && strncmp(p, v, len) == 0)
            return i;
        p += len + (bar ? 1 : 0);
    }
    return -1;
}

/* The i-th of "a|b|c" into out ("?" if there is none). */
static const char *choice_name(const char *choices, int i, char *out, size_t cap)
{
    const char *p = choices;
    for (int k = 0; k < i && p; k++)
        p = (p = strchr(p, '|')) ? p + 1 : NULL;
    if (!p) {
        snprintf(out, cap, "?");
        return out;
    }
    const char *bar = strchr(p, '|');
    snprintf(out, cap, "%.*s", (int)(bar ? (size_t)(bar - p) : strlen(p)), p);
    return out;
}

static int set_choice(const key_def *k, config *c, const char *v, char *err, size_t errlen)
{
    int i = choice_index(k->choices, v);
    if (i < 0) {
        char want[128];
        snprintf(want, sizeof want, "%s", k->choices);
        for (char *b = want; (b = strchr(b, '|')) != NULL;)
            *b = '/';
        snprintf(err, errlen, "%s = %s: want one of %s", k->name, v, want);
        return -1;
    }
    *(int *)((char *)c + k->offset) = i;
    return 0;
}

/* "PORT" in 1..65535 (or "*" when star_ok: an ephemeral port). */
static int port_ok(const char *s, int star_ok)
{
    if (star_ok && strcmp(s, "*") == 0)
        return 1;
    char *end;
    errno = 0;
    long port = strtol(s, &end, 10);
    return *s && !*end && !errno && port >= 1 && port <= 65535;
}

int config_check_endpoint(const char *v, char *why, size_t whylen)
{
    if (strncmp(v, "tcp://", 6) == 0) {
        const char *hp = v + 6, *colon = strrchr(hp, ':');
        if (!colon || colon == hp || !port_ok(colon + 1, 1)) {
            snprintf(why, whylen, "want tcp://HOST:PORT with a port from 1 to 65535");
            return -1;
        }
        return 0;
    }
    if (strncmp(v, "ipc://", 6) == 0 || strncmp(v, "inproc://", 9) == 0) {
        if (!strchr(v, '/')[2]) {
            snprintf(why, whylen, "want a path after ://");
            return -1;
        }
        return 0;
    }
    snprintf(why, whylen, "want tcp://HOST:PORT, ipc://PATH or inproc://NAME");
    return -1;
}

int config_check_hostport(const char *v, char *why, size_t whylen)
{
    if (!*v || strcmp(v, "off") == 0)
        return 0;
    char host[128];
    const char *colon = strrchr(v, ':');
    size_t hlen = colon ? (size_t)(colon - v) : 0;
    int ok = colon && hlen > 0 && hlen < sizeof host && port_ok(colon + 1, 0);
    if (ok) {
        memcpy(host, v, hlen);
        host[hlen] = '\0';
        unsigned char addr[16];
        if (host[0] == '[' && host[hlen - 1] == ']') {
            host[hlen - 1] = '\0';
            ok = inet_pton(AF_INET6, host + 1, addr) == 1;
        } else {
            ok = strcmp(host, "localhost") == 0 || strcmp(host, "*") == 0 ||
                 inet_pton(AF_INET, host, addr) == 1;
        }
    }
    if (!ok)
        snprintf(why, whylen,
                 "want HOST:PORT (e.g. 127.0.0.1:9560, [::1]:9560, *:9560; off = none)");
    return ok ? 0 : -1;
}

static int set_string(const key_def *k, config *c, const char *v, char *err, size_t errlen)
{
    char why[160];
    if (strlen(v) >= k->size) {
        snprintf(err, errlen, "%s: longer than %zu bytes", k->name, k->size - 1);
        return -1;
    }
    int bad = 0;
    if (k->type == K_ENDPOINT && !(*v == '\0' && (k->flags & CF_EMPTY_OK)))
        bad = config_check_endpoint(v, why, sizeof why) < 0;
    else if (k->type == K_HOSTPORT)
        bad = config_check_hostport(v, why, sizeof why) < 0;
    if (bad) {
        snprintf(err, errlen, "%s = %s: %s", k->name, v, why);
        return -1;
    }
    snprintf((char *)c + k->offset, k->size, "%s", v);
    return 0;
}

/* "model" may be given more than once (lines or flags): each adds its
 * files to the list, except "none", which stands alone. */
static int set_models(config *c, const char *v, char *err, size_t errlen)
{
    size_t have = strlen(c->models);
    if (have && (strcmp(v, "none") == 0 || strcmp(c->models, "none") == 0)) {
        snprintf(err, errlen, "model: none means rules alone and takes no other model");
        return -1;
    }
    if (have + (have ? 1 : 0) + strlen(v) >= sizeof c->models) {
        snprintf(err, errlen, "model: the list is longer than %zu bytes", sizeof c->models - 1);
        return -1;
    }
    snprintf(c->models + have, sizeof c->models - have, "%s%s", have ? "," : "", v);
    return 0;
}

int config_set(config *c, const char *key, const char *value, char *err, size_t errlen)
{
    if (config_is_table_key(key))
        return config_table_set(c, key, value, err, errlen);
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_def *k = &keys[i];
        if (strcmp(k->name, key) != 0)
            continue;
        if (k->flags & CF_REPEAT)
            return set_models(c, value, err, errlen); /* the one repeatable key */
        if (k->type == K_STR || k->type == K_ENDPOINT || k->type == K_HOSTPORT)
            return set_string(k, c, value, err, errlen);
        if (k->type == K_CHOICE)
            return set_choice(k, c, value, err, errlen);
        return set_number(k, c, value, err, errlen);
    }
    snprintf(err, errlen, "unknown key '%s'", key);
    return -1;
}

/* ---- the file ------------------------------------------------------------ */

/* The table keys a file set, by meaning, with their lines. */
typedef struct seen_table {
    struct {
        char key[300];
        int  line;
    } *e;
    size_t n, cap;
} seen_table;

/* -1 (and the line of the first) if key was seen; else remembers it. */
static int seen_before(seen_table *t, const char *canon, int line, int *first_line)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->e[i].key, canon) == 0) {
            *first_line = t->e[i].line;
            return 1;
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        void *grown = realloc(t->e, cap * sizeof *t->e);
        if (!grown)
            return 0;  /* out of memory: only the duplicate check is lost */
        t->e = grown;
        t->cap = cap;
    }
    snprintf(t->e[t->n].key, sizeof t->e[t->n].key, "%s", canon);
    t->e[t->n++].line = line;
    return 0;
}

/* Tiers must rise: tier.N pays more than every tier below it. tier_line[t]
 * is the line that set tier t (0 = the default). */
static int check_tiers(const config *c, const char *path, const int *tier_line, char *err,
                       size_t errlen)
{
    int prev = 0;
    for (int t = 1; t < POLICY_MAX_TIERS; t++) {
        if (!c->pol.tier_amount[t])
            continue;
        if (prev && c->pol.tier_amount[t] <= c->pol.tier_amount[prev]) {
            int line = tier_line[t] ? tier_line[t] : tier_line[prev];
            snprintf(err, errlen, "%s:%d: tier.%d = %lld is not above tier.%d = %lld (tiers must rise)",
                     path, line, t, (long long)c->pol.tier_amount[t], prev,
                     (long long)c->pol.tier_amount[prev]);
            return -1;
        }
        prev = t;
    }
    return 0;
}

int config_load_file(config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[2048], msg[768], canon[300];
    int lineno = 0, rc = 0, first;
    int seen[N_KEYS] = {0};  /* the line that set each key */
    int tier_line[POLICY_MAX_TIERS] = {0};
    seen_table tables = {NULL, 0, 0};
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = str_trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = str_trim(s), *val = str_trim(eq + 1);
        for (size_t i = 0; i < N_KEYS && rc == 0; i++)
            if (strcmp(keys[i].name, key) == 0) {
                if (seen[i] && !(keys[i].flags & CF_REPEAT)) {
                    snprintf(err, errlen, "%s:%d: %s is duplicate (first set on line %d)", path,
                             lineno, key, seen[i]);
                    rc = -1;
                }
                seen[i] = lineno;
            }
        if (rc == 0 && config_is_table_key(key)) {
            if (config_table_canonical(key, canon, sizeof canon, msg, sizeof msg) < 0) {
                snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
                rc = -1;
            } else if (seen_before(&tables, canon, lineno, &first)) {
                snprintf(err, errlen, "%s:%d: %s is duplicate (first set on line %d)", path, lineno,
                         key, first);
                rc = -1;
            } else if (strncmp(key, "tier.", 5) == 0) {
                tier_line[atoi(key + 5)] = lineno;
            }
        }
        if (rc == 0 && config_set(c, key, val, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -1;
        }
    }
    fclose(f);
    free(tables.e);
    if (rc == 0)
        rc = check_tiers(c, path, tier_line, err, errlen);
    return rc;
}

/* ---- printing and comparing --------------------------------------------- */

/* One key's value as the file would spell it. */
static void key_value(const key_def *k, const config *c, char *out, size_t cap)
{
    const char *p = (const char *)c + k->offset;
    switch (k->type) {
    case K_STR:
    case K_ENDPOINT:
    case K_HOSTPORT: snprintf(out, cap, "%s", p); break;
    case K_CHOICE: choice_name(k->choices, *(const int *)p, out, cap); break;
    case K_INT:
    case K_BOOL: snprintf(out, cap, "%d", *(const int *)p); break;
    case K_LONG: snprintf(out, cap, "%ld", *(const long *)p); break;
    case K_DAYS: snprintf(out, cap, "%lld", (long long)(*(const int64_t *)p / (24LL * 3600 * 1000))); break;
    default: snprintf(out, cap, "%lld", (long long)*(const int64_t *)p); break;
    }
}

void config_print(const config *c, void *file)
{
    FILE *f = file;
    char v[CONFIG_PATH + 1];
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_def *k = &keys[i];
        key_value(k, c, v, sizeof v);
        if (k->type == K_CHOICE) {
            char want[128];
            snprintf(want, sizeof want, "%s", k->choices);
            fprintf(f, "# %s (%s)\n%s = %s\n", k->help, want, k->name, v);
        } else {
            fprintf(f, "# %s\n%s = %s\n", k->help, k->name, v);
        }
    }
    fprintf(f, "# compensation tiers (minor currency units; each above the one before)\n");
    for (int t = 1; t < POLICY_MAX_TIERS; t++)
        if (c->pol.tier_amount[t])
            fprintf(f, "tier.%d = %lld\n", t, (long long)c->pol.tier_amount[t]);
    fprintf(f, "# the compensation matrix: matrix.LABEL[.channel:CH][.category:CAT][.repeat:N] = TIER\n"
               "# (the most specific matching cell of each label wins)\n");
    for (int i = 0; i < c->pol.n_matrix; i++) {
        const matrix_cell *m = &c->pol.matrix[i];
        fprintf(f, "matrix.%s", label_name(m->label));
        if (m->channel)
            fprintf(f, ".channel:%s", channel_name(m->channel));
        if (m->category[0])
            fprintf(f, ".category:%s", m->category);
        if (m->min_repeat)
            fprintf(f, ".repeat:%u", m->min_repeat);
        fprintf(f, " = %u\n", m->tier);
    }
    fprintf(f, "# per-store authority limits: authority.STORE_ID = AMOUNT\n");
    for (int i = 0; i < c->pol.n_store_limits; i++)
        fprintf(f, "authority.%s = %lld\n", c->pol.store_limits[i].store_id,
                (long long)c->pol.store_limits[i].limit);
}

size_t config_restart_keys(const config *running, const config *fresh, char *out, size_t cap)
{
    size_t changed = 0, n = 0;
    char a[CONFIG_PATH + 1], b[CONFIG_PATH + 1];
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_def *k = &keys[i];
        if (k->flags & CF_LIVE)
            continue;
        key_value(k, running, a, sizeof a);
        key_value(k, fresh, b, sizeof b);
        if (strcmp(a, b) == 0)
            continue;
        changed++;
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", k->name);
    }
    return changed;
}
