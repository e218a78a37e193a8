/*
 * history — LMDB storage of customer histories, event ids and the decision
 * log; see history.h for the layout and the one-writer design.
 */
#include "history.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history.pb-c.h"

struct hist_env {
    MDB_env *env;
    MDB_dbi  customers, events, decisions, meta;
    char     last_error[256];
};

struct hist_txn {
    hist_env *env;
    MDB_txn  *txn;
};

/* One place maps LMDB's errors to ours, and remembers the message. */
static int map_err(hist_env *env, const char *what, int rc)
{
    if (rc == 0)
        return HIST_OK;
    if (rc == MDB_NOTFOUND)
        return HIST_NOTFOUND;
    snprintf(env->last_error, sizeof env->last_error, "%s: %s", what, mdb_strerror(rc));
    if (rc == MDB_MAP_FULL || rc == ENOSPC)
        return HIST_EFULL;
    return HIST_ERR;
}

const char *hist_last_error(const hist_env *env) { return env->last_error; }

hist_env *hist_open(const char *dir, size_t map_mb, int durable, int readonly, char *err,
                    size_t errlen)
{
    if (!readonly && mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    hist_env *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    unsigned flags = MDB_NOTLS | (durable ? 0 : MDB_NOSYNC) | (readonly ? MDB_RDONLY : 0);
    int rc = mdb_env_create(&h->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(h->env, 8);
    if (rc == 0)
        rc = mdb_env_set_mapsize(h->env, map_mb << 20);
    if (rc == 0)
        rc = mdb_env_set_maxreaders(h->env, 256);
    if (rc == 0)
        rc = mdb_env_open(h->env, dir, flags, 0600);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
        mdb_env_close(h->env);
        free(h);
        return NULL;
    }
    /* Clear reader slots left by crashed processes, so they pin no pages. */
    int dead = 0;
    mdb_reader_check(h->env, &dead);

    MDB_txn *txn;
    rc = mdb_txn_begin(h->env, NULL, readonly ? MDB_RDONLY : 0, &txn);
    unsigned create = readonly ? 0 : MDB_CREATE;
    if (rc == 0)
        rc = mdb_dbi_open(txn, "customers", create, &h->customers);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "events", create, &h->events);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "decisions", create, &h->decisions);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", create, &h->meta);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
        mdb_env_close(h->env);
        free(h);
        return NULL;
    }
    return h;
}

void hist_close(hist_env *h)
{
    if (!h)
        return;
    mdb_env_close(h->env);
    free(h);
}

int hist_begin(hist_env *env, int write, hist_txn **out)
{
    hist_txn *t = malloc(sizeof *t);
    if (!t)
        return HIST_ERR;
    t->env = env;
    int rc = mdb_txn_begin(env->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc == MDB_READERS_FULL) {
        int dead = 0;
        mdb_reader_check(env->env, &dead);
        rc = mdb_txn_begin(env->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    }
    if (rc != 0) {
        free(t);
        return map_err(env, "mdb_txn_begin", rc);
    }
    *out = t;
    return HIST_OK;
}

int hist_commit(hist_txn *t)
{
    int rc = mdb_txn_commit(t->txn);
    hist_env *env = t->env;
    free(t);
    return map_err(env, "mdb_txn_commit", rc);
}

void hist_abort(hist_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

static int get(hist_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v)
{
    MDB_val key = {klen, (void *)k};
    return map_err(t->env, "mdb_get", mdb_get(t->txn, dbi, &key, v));
}

static int put(hist_txn *t, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return map_err(t->env, "mdb_put", mdb_put(t->txn, dbi, &key, &val, 0));
}

/* ---- customers ---------------------------------------------------------- */

static void decode_customer(const Complaint__Store__V1__CustomerRecord *r, hist_customer *c)
{
    c->first_ms = r->first_ms;
    c->last_ms = r->last_ms;
    c->events = r->events;
    for (size_t i = 0; i < r->n_labels; i++) {
        uint32_t l = r->labels[i]->label;
        if (l > 0 && l < LABEL_COUNT) {
            c->label_count[l] = r->labels[i]->count;
            c->label_last_ms[l] = r->labels[i]->last_ms;
        }
    }
    c->toxic_incidents = r->toxic_incidents;
    c->extremism_incidents = r->extremism_incidents;
    c->compensations = r->compensations;
    c->compensation_sum = r->compensation_sum;
    c->last_action = r->last_action;
    c->escalations = r->escalations;
}

int hist_get_customer(hist_txn *t, const char *id, size_t idlen, hist_customer *out)
{
    memset(out, 0, sizeof *out);
    MDB_val v;
    int rc = get(t, t->env->customers, id, idlen, &v);
    if (rc != HIST_OK)
        return rc;
    Complaint__Store__V1__CustomerRecord *r =
        complaint__store__v1__customer_record__unpack(NULL, v.mv_size, v.mv_data);
    if (!r) {
        snprintf(t->env->last_error, sizeof t->env->last_error,
                 "customer record '%.*s' does not decode", (int)idlen, id);
        return HIST_ECORRUPT;
    }
    decode_customer(r, out);
    complaint__store__v1__customer_record__free_unpacked(r, NULL);
    return HIST_OK;
}

int hist_put_customer(hist_txn *t, const char *id, size_t idlen, const hist_customer *c)
{
    Complaint__Store__V1__CustomerRecord r = COMPLAINT__STORE__V1__CUSTOMER_RECORD__INIT;
    Complaint__Store__V1__LabelCount lc[LABEL_COUNT];
    Complaint__Store__V1__LabelCount *lcp[LABEL_COUNT];
    r.first_ms = c->first_ms;
    r.last_ms = c->last_ms;
    r.events = c->events;
    for (uint32_t l = 1; l < LABEL_COUNT; l++) {
        if (!c->label_count[l])
            continue;
        complaint__store__v1__label_count__init(&lc[r.n_labels]);
        lc[r.n_labels].label = l;
        lc[r.n_labels].count = c->label_count[l];
        lc[r.n_labels].last_ms = c->label_last_ms[l];
        lcp[r.n_labels] = &lc[r.n_labels];
        r.n_labels++;
    }
    r.labels = lcp;
    r.toxic_incidents = c->toxic_incidents;
    r.extremism_incidents = c->extremism_incidents;
    r.compensations = c->compensations;
    r.compensation_sum = c->compensation_sum;
    r.last_action = c->last_action;
    r.escalations = c->escalations;
    uint8_t buf[512];
    size_t n = complaint__store__v1__customer_record__get_packed_size(&r);
    if (n > sizeof buf)
        return HIST_ERR;  /* cannot happen: 16 labels of three varints */
    complaint__store__v1__customer_record__pack(&r, buf);
    return put(t, t->env->customers, id, idlen, buf, n);
}

int hist_del_customer(hist_txn *t, const char *id, size_t idlen)
{
    MDB_val key = {idlen, (void *)id};
    return map_err(t->env, "mdb_del", mdb_del(t->txn, t->env->customers, &key, NULL));
}

int hist_each_customer(hist_txn *t,
                       int (*fn)(const char *id, size_t idlen, const hist_customer *c, void *ctx),
                       void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->env->customers, &cur);
    if (rc != 0)
        return map_err(t->env, "mdb_cursor_open", rc);
    MDB_val k, v;
    int stop = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Complaint__Store__V1__CustomerRecord *r =
            complaint__store__v1__customer_record__unpack(NULL, v.mv_size, v.mv_data);
        if (!r)
            continue;
        hist_customer c;
        memset(&c, 0, sizeof c);
        decode_customer(r, &c);
        complaint__store__v1__customer_record__free_unpacked(r, NULL);
        stop = fn(k.mv_data, k.mv_size, &c, ctx);
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? HIST_OK : map_err(t->env, "mdb_cursor_get", rc);
}

/* ---- events, sequence, decision log ------------------------------------- */

int hist_get_event(hist_txn *t, const char *id, size_t idlen, uint64_t *seq)
{
    MDB_val v;
    int rc = get(t, t->env->events, id, idlen, &v);
    if (rc == HIST_OK) {
        if (v.mv_size != sizeof *seq)
            return HIST_ECORRUPT;
        memcpy(seq, v.mv_data, sizeof *seq);
    }
    return rc;
}

int hist_put_event(hist_txn *t, const char *id, size_t idlen, uint64_t seq)
{
    return put(t, t->env->events, id, idlen, &seq, sizeof seq);
}

int hist_get_next_seq(hist_txn *t, uint64_t *seq)
{
    MDB_val v;
    int rc = get(t, t->env->meta, "next_seq", 8, &v);
    if (rc == HIST_NOTFOUND) {
        *seq = 1;
        return HIST_OK;
    }
    if (rc == HIST_OK && v.mv_size == sizeof *seq)
        memcpy(seq, v.mv_data, sizeof *seq);
    return rc;
}

int hist_put_next_seq(hist_txn *t, uint64_t seq)
{
    return put(t, t->env->meta, "next_seq", 8, &seq, sizeof seq);
}

static void seq_key(uint64_t seq, unsigned char k[8])
{
    for (int i = 7; i >= 0; i--) {
        k[i] = (unsigned char)(seq & 0xff);
        seq >>= 8;
    }
}

int hist_log_put(hist_txn *t, uint64_t seq, const void *bytes, size_t len)
{
    unsigned char k[8];
    seq_key(seq, k);
    MDB_val key = {8, k}, val = {len, (void *)bytes};
    /* Sequence numbers only grow, so appending keeps the B-tree pages full. */
    return map_err(t->env, "mdb_put",
                   mdb_put(t->txn, t->env->decisions, &key, &val, MDB_APPEND));
}

int hist_log_get(hist_txn *t, uint64_t seq, const void **bytes, size_t *len)
{
    unsigned char k[8];
    seq_key(seq, k);
    MDB_val v;
    int rc = get(t, t->env->decisions, k, 8, &v);
    if (rc == HIST_OK) {
        *bytes = v.mv_data;
        *len = v.mv_size;
    }
    return rc;
}

int hist_log_trim(hist_txn *t, uint64_t below)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->env->decisions, &cur);
    if (rc != 0)
        return map_err(t->env, "mdb_cursor_open", rc);
    unsigned char limit[8];
    seq_key(below, limit);
    MDB_val k, v;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size != 8 || memcmp(k.mv_data, limit, 8) >= 0)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? HIST_OK : map_err(t->env, "mdb_cursor_del", rc);
}
