/*
 * history — LMDB storage of customer histories, employees, event ids and
 * the sequence (the decision log is history_log.c); see history.h for the
 * layout and the one-writer design.
 */
#include "history.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "history.pb-c.h"
#include "history_internal.h"
#include "log.h"

/* One place maps LMDB's errors to ours, and remembers the message. */
int hist_map_err(hist_env *env, const char *what, int rc)
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
    unsigned flags = MDB_NOTLS | (readonly ? MDB_RDONLY : 0);
    if (durable == HIST_NO_SYNC)
        flags |= MDB_NOSYNC;
    else if (durable == HIST_SYNC_DEFERRED)
        flags |= MDB_NOMETASYNC;
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
        rc = mdb_dbi_open(txn, "employees", create, &h->employees);
    if (rc == 0) {
        /* Stores older than feedback have no such database: opened read-only
         * they simply hold no reviews. */
        int frc = mdb_dbi_open(txn, "feedback", create, &h->feedback);
        h->has_feedback = frc == 0;
        if (frc != 0 && !(readonly && frc == MDB_NOTFOUND))
            rc = frc;
    }
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

int hist_map_use(hist_env *env, uint64_t *used, uint64_t *size)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(env->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(env->env, &st);
    if (rc != 0) {
        *used = *size = 0;
        return HIST_ERR;  /* last_error untouched: it belongs to the writer */
    }
    *used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    *size = (uint64_t)info.me_mapsize;
    return HIST_OK;
}

int hist_sync(hist_env *env)
{
    int rc = mdb_env_sync(env->env, 1);
    if (rc != 0) {
        /* Not last_error: that belongs to the writer thread. */
        log_error("mdb_env_sync: %s", mdb_strerror(rc));
        return HIST_ERR;
    }
    return HIST_OK;
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
        return hist_map_err(env, "mdb_txn_begin", rc);
    }
    *out = t;
    return HIST_OK;
}

int hist_commit(hist_txn *t)
{
    int rc = mdb_txn_commit(t->txn);
    hist_env *env = t->env;
    free(t);
    return hist_map_err(env, "mdb_txn_commit", rc);
}

void hist_abort(hist_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

int hist_get_val(hist_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v)
{
    MDB_val key = {klen, (void *)k};
    return hist_map_err(t->env, "mdb_get", mdb_get(t->txn, dbi, &key, v));
}

int hist_put_val(hist_txn *t, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                 size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return hist_map_err(t->env, "mdb_put", mdb_put(t->txn, dbi, &key, &val, 0));
}

/* ---- customers ---------------------------------------------------------- */

/* Decoding a record makes a dozen small allocations that live only until it
 * is copied out; on the writer's hot path they were most of its malloc time.
 * They come from an arena on the caller's stack instead (arena.h). */
enum { RECORD_ARENA = 8192 };

/* A time of a customer's record as written: its distance from the record's
 * first_ms, one further from zero, so that 0 can mean "never" (a time of 0).
 * Stored zigzagged (sint64): small either side of first_ms. The arithmetic
 * is unsigned (wrapping) because ts_ms comes from producers unchecked: any
 * pair of times round-trips, but for a distance of exactly INT64_MAX. */
static int64_t rel_ms(int64_t t, int64_t first_ms)
{
    if (t == 0)
        return 0;
    uint64_t d = (uint64_t)t - (uint64_t)first_ms;
    return (int64_t)d >= 0 ? (int64_t)(d + 1) : (int64_t)d;
}

/* The time back from rel_ms(), or the absolute field of an older record. */
static int64_t abs_ms(int64_t absolute, int64_t rel, int64_t first_ms)
{
    if (absolute)
        return absolute;
    if (rel == 0)
        return 0;
    uint64_t d = rel > 0 ? (uint64_t)rel - 1 : (uint64_t)rel;
    return (int64_t)((uint64_t)first_ms + d);
}

static void decode_customer(const Complaint__Store__V1__CustomerRecord *r, hist_customer *c)
{
    const int64_t base = r->first_ms;
    c->first_ms = r->first_ms;
    c->last_ms = abs_ms(r->last_ms, r->last_rel, base);
    c->events = r->events;
    for (size_t i = 0; i < r->n_labels; i++) {
        uint32_t l = r->labels[i]->label;
        if (l > 0 && l < LABEL_COUNT) {
            c->label_count[l] = r->labels[i]->count;
            c->label_last_ms[l] = abs_ms(r->labels[i]->last_ms, r->labels[i]->last_rel, base);
            c->label_decayed[l] = r->labels[i]->decayed;
        }
    }
    for (size_t i = 0; i < r->n_recent && c->n_recent < HIST_RECENT; i++) {
        hist_recent *e = &c->recent[c->n_recent++];
        snprintf(e->event_id, sizeof e->event_id, "%s", r->recent[i]->event_id);
        e->seq = r->recent[i]->seq;
        e->labels = r->recent[i]->labels;
        e->action = r->recent[i]->action;
        e->ts_ms = abs_ms(r->recent[i]->ts_ms, r->recent[i]->ts_rel, base);
    }
    for (size_t i = 0; i < r->n_conflicts && c->n_conflicts < HIST_CONFLICTS; i++) {
        hist_conflict *e = &c->conflicts[c->n_conflicts++];
        snprintf(e->employee_id, sizeof e->employee_id, "%s", r->conflicts[i]->employee_id);
        e->last_ms = abs_ms(r->conflicts[i]->last_ms, r->conflicts[i]->last_rel, base);
        e->count = r->conflicts[i]->count;
    }
    c->purchases_sum = r->purchases_sum;
    c->toxic_decayed = r->toxic_decayed;
    c->extremism_decayed = r->extremism_decayed;
    c->decayed_at_ms = abs_ms(r->decayed_at_ms, r->decayed_at_rel, base);
    c->last_escalation_ms = abs_ms(r->last_escalation_ms, r->last_escalation_rel, base);
    c->toxic_incidents = r->toxic_incidents;
    c->extremism_incidents = r->extremism_incidents;
    c->compensations = r->compensations;
    c->compensation_sum = r->compensation_sum;
    c->last_action = r->last_action;
    c->escalations = r->escalations;
}

/* Decode a stored record into *out (zeroed first); -1 if it does not decode. */
static int read_customer(const MDB_val *v, hist_customer *out)
{
    memset(out, 0, sizeof *out);
    _Alignas(16) uint8_t space[RECORD_ARENA];
    arena mem;
    arena_init_with(&mem, space, sizeof space);
    Complaint__Store__V1__CustomerRecord *r =
        complaint__store__v1__customer_record__unpack(arena_pb(&mem), v->mv_size, v->mv_data);
    if (r)
        decode_customer(r, out);
    arena_destroy(&mem); /* the record too: it was all in the arena */
    return r ? 0 : -1;
}

int hist_get_customer(hist_txn *t, const char *id, size_t idlen, hist_customer *out)
{
    memset(out, 0, sizeof *out);
    MDB_val v;
    int rc = hist_get_val(t, t->env->customers, id, idlen, &v);
    if (rc != HIST_OK)
        return rc;
    if (read_customer(&v, out) < 0) {
        snprintf(t->env->last_error, sizeof t->env->last_error,
                 "customer record '%.*s' does not decode", (int)idlen, id);
        return HIST_ECORRUPT;
    }
    return HIST_OK;
}

int hist_put_customer(hist_txn *t, const char *id, size_t idlen, const hist_customer *c)
{
    Complaint__Store__V1__CustomerRecord r = COMPLAINT__STORE__V1__CUSTOMER_RECORD__INIT;
    Complaint__Store__V1__LabelCount lc[LABEL_COUNT];
    Complaint__Store__V1__LabelCount *lcp[LABEL_COUNT];
    const int64_t base = c->first_ms;
    r.first_ms = c->first_ms;
    r.last_rel = rel_ms(c->last_ms, base);
    r.events = c->events;
    for (uint32_t l = 1; l < LABEL_COUNT; l++) {
        if (!c->label_count[l])
            continue;
        complaint__store__v1__label_count__init(&lc[r.n_labels]);
        lc[r.n_labels].label = l;
        lc[r.n_labels].count = c->label_count[l];
        lc[r.n_labels].last_rel = rel_ms(c->label_last_ms[l], base);
        lc[r.n_labels].decayed = c->label_decayed[l];
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
    Complaint__Store__V1__RecentEvent re[HIST_RECENT], *rep[HIST_RECENT];
    for (uint32_t i = 0; i < c->n_recent && i < HIST_RECENT; i++) {
        complaint__store__v1__recent_event__init(&re[i]);
        re[i].event_id = (char *)c->recent[i].event_id;
        re[i].seq = c->recent[i].seq;
        re[i].labels = c->recent[i].labels;
        re[i].action = c->recent[i].action;
        re[i].ts_rel = rel_ms(c->recent[i].ts_ms, base);
        rep[i] = &re[i];
        r.n_recent++;
    }
    r.recent = rep;
    Complaint__Store__V1__Conflict co[HIST_CONFLICTS], *cop[HIST_CONFLICTS];
    for (uint32_t i = 0; i < c->n_conflicts && i < HIST_CONFLICTS; i++) {
        complaint__store__v1__conflict__init(&co[i]);
        co[i].employee_id = (char *)c->conflicts[i].employee_id;
        co[i].last_rel = rel_ms(c->conflicts[i].last_ms, base);
        co[i].count = c->conflicts[i].count;
        cop[i] = &co[i];
        r.n_conflicts++;
    }
    r.conflicts = cop;
    r.purchases_sum = c->purchases_sum;
    r.toxic_decayed = c->toxic_decayed;
    r.extremism_decayed = c->extremism_decayed;
    r.decayed_at_rel = rel_ms(c->decayed_at_ms, base);
    r.last_escalation_rel = rel_ms(c->last_escalation_ms, base);
    uint8_t buf[2048];
    size_t n = complaint__store__v1__customer_record__get_packed_size(&r);
    if (n > sizeof buf)
        return HIST_ERR;  /* cannot happen: every part is bounded (ids to 63 bytes) */
    complaint__store__v1__customer_record__pack(&r, buf);
    return hist_put_val(t, t->env->customers, id, idlen, buf, n);
}

int hist_del_customer(hist_txn *t, const char *id, size_t idlen)
{
    MDB_val key = {idlen, (void *)id};
    return hist_map_err(t->env, "mdb_del", mdb_del(t->txn, t->env->customers, &key, NULL));
}

int hist_each_customer_raw(hist_txn *t,
                           int (*fn)(const char *id, size_t idlen, const void *rec, size_t len,
                                     void *ctx),
                           void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->env->customers, &cur);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_cursor_open", rc);
    MDB_val k, v;
    int stop = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        stop = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, ctx);
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? HIST_OK : hist_map_err(t->env, "mdb_cursor_get", rc);
}

/* hist_each_customer over the raw walk: decode, skip what does not decode. */
typedef struct each_decoded {
    int (*fn)(const char *id, size_t idlen, const hist_customer *c, void *ctx);
    void *ctx;
} each_decoded;

static int decode_then(const char *id, size_t idlen, const void *rec, size_t len, void *arg)
{
    const each_decoded *d = arg;
    MDB_val v = {len, (void *)rec};
    hist_customer c;
    if (read_customer(&v, &c) < 0)  /* an undecodable record is skipped */
        return 0;
    return d->fn(id, idlen, &c, d->ctx);
}

int hist_each_customer(hist_txn *t,
                       int (*fn)(const char *id, size_t idlen, const hist_customer *c, void *ctx),
                       void *ctx)
{
    each_decoded d = {fn, ctx};
    return hist_each_customer_raw(t, decode_then, &d);
}

int hist_put_customer_raw(hist_txn *t, const char *id, size_t idlen, const void *rec, size_t len)
{
    hist_customer c;
    MDB_val v = {len, (void *)rec};
    if (read_customer(&v, &c) < 0) {
        snprintf(t->env->last_error, sizeof t->env->last_error,
                 "customer record '%.*s' does not decode", (int)idlen, id);
        return HIST_ECORRUPT;
    }
    return hist_put_val(t, t->env->customers, id, idlen, rec, len);
}

/* ---- employees ---------------------------------------------------------- */

int hist_get_employee(hist_txn *t, const char *id, size_t idlen, hist_employee *out)
{
    memset(out, 0, sizeof *out);
    MDB_val v;
    int rc = hist_get_val(t, t->env->employees, id, idlen, &v);
    if (rc != HIST_OK)
        return rc;
    Complaint__Store__V1__EmployeeRecord *r =
        complaint__store__v1__employee_record__unpack(NULL, v.mv_size, v.mv_data);
    if (!r)
        return HIST_ECORRUPT;
    out->toxic_received = r->toxic_received;
    out->blame_notes = r->blame_notes;
    out->events = r->events;
    out->last_ms = r->last_ms;
    out->last_toxic_ms = r->last_toxic_ms;
    complaint__store__v1__employee_record__free_unpacked(r, NULL);
    return HIST_OK;
}

int hist_put_employee(hist_txn *t, const char *id, size_t idlen, const hist_employee *e)
{
    Complaint__Store__V1__EmployeeRecord r = COMPLAINT__STORE__V1__EMPLOYEE_RECORD__INIT;
    r.toxic_received = e->toxic_received;
    r.blame_notes = e->blame_notes;
    r.events = e->events;
    r.last_ms = e->last_ms;
    r.last_toxic_ms = e->last_toxic_ms;
    uint8_t buf[128];
    size_t n = complaint__store__v1__employee_record__pack(&r, buf);
    return hist_put_val(t, t->env->employees, id, idlen, buf, n);
}

/* ---- events, sequence (the decision log: history_log.c) ------------------ */

int hist_get_event(hist_txn *t, const char *id, size_t idlen, uint64_t *seq)
{
    MDB_val v;
    int rc = hist_get_val(t, t->env->events, id, idlen, &v);
    if (rc == HIST_OK) {
        if (v.mv_size != sizeof *seq)
            return HIST_ECORRUPT;
        memcpy(seq, v.mv_data, sizeof *seq);
    }
    return rc;
}

int hist_put_event(hist_txn *t, const char *id, size_t idlen, uint64_t seq)
{
    return hist_put_val(t, t->env->events, id, idlen, &seq, sizeof seq);
}

int hist_del_event(hist_txn *t, const char *id, size_t idlen)
{
    MDB_val key = {idlen, (void *)id};
    return hist_map_err(t->env, "mdb_del", mdb_del(t->txn, t->env->events, &key, NULL));
}

int hist_get_next_seq(hist_txn *t, uint64_t *seq)
{
    MDB_val v;
    int rc = hist_get_val(t, t->env->meta, "next_seq", 8, &v);
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
    return hist_put_val(t, t->env->meta, "next_seq", 8, &seq, sizeof seq);
}
