/*
 * history_log — the decision log of the history store: entries in seq order,
 * trimming by count and age (which also trims the de-duplication index),
 * replay, and forgetting a customer. See history.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complaint.pb-c.h"
#include "feedback.h"
#include "grow.h"
#include "history_internal.h"

static void seq_key(uint64_t seq, unsigned char k[8])
{
    for (int i = 7; i >= 0; i--) {
        k[i] = (unsigned char)(seq & 0xff);
        seq >>= 8;
    }
}

/* ---- log entries ---------------------------------------------------------
 *
 * An entry is a header, then the serialized TriageDecision:
 *   [0]      0x00, the mark of a header (no protobuf message starts with a
 *            zero byte: field number 0 does not exist)
 *   [1]      LOG_VERSION
 *   [2..9]   decided_ms, int64 little-endian
 *   [10..13] length of the event id, uint32 little-endian
 *   [14..]   the event id to drop from the de-duplication index when the
 *            entry leaves the log (empty for none), then the decision.
 * Trimming reads the header and never decodes a decision. Entries written
 * before headers existed are the bare decision: read as such (trimming
 * decodes those, as it always did), they leave the log by trimming like the
 * rest, so a store of the old layout needs no migration. */
enum { LOG_MARK = 0x00, LOG_VERSION = 1, LOG_HEADER = 14 };

typedef struct log_entry {
    int64_t     decided_ms;
    const char *event_id;  /* into the map (or NULL): copy before writing */
    size_t      event_id_len;
    const void *decision;
    size_t      decision_len;
    int         has_header; /* 0: an entry of the old layout */
} log_entry;

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Split a stored entry; -1 if its header is cut short. */
static int log_entry_read(const MDB_val *v, log_entry *e)
{
    const unsigned char *p = v->mv_data;
    memset(e, 0, sizeof *e);
    if (v->mv_size == 0 || p[0] != LOG_MARK) {
        e->decision = v->mv_data;
        e->decision_len = v->mv_size;
        return 0;
    }
    if (v->mv_size < LOG_HEADER || p[1] != LOG_VERSION)
        return -1;
    uint64_t idlen = get_le(p + 10, 4);
    if (idlen > v->mv_size - LOG_HEADER)
        return -1;
    e->has_header = 1;
    e->decided_ms = (int64_t)get_le(p + 2, 8);
    e->event_id = (const char *)p + LOG_HEADER;
    e->event_id_len = (size_t)idlen;
    e->decision = p + LOG_HEADER + idlen;
    e->decision_len = v->mv_size - LOG_HEADER - (size_t)idlen;
    return 0;
}

/* Write header and decision straight into the map (MDB_RESERVE: no copy
 * through a buffer of ours). */
static int log_entry_write(hist_txn *t, const unsigned char k[8], unsigned flags,
                           int64_t decided_ms, const char *event_id, size_t idlen,
                           const void *bytes, size_t len)
{
    if (idlen > UINT32_MAX || len > SIZE_MAX - LOG_HEADER - idlen) {
        snprintf(t->env->last_error, sizeof t->env->last_error, "decision log entry too large");
        return HIST_ERR;
    }
    MDB_val key = {8, (void *)k}, val = {LOG_HEADER + idlen + len, NULL};
    int rc = mdb_put(t->txn, t->env->decisions, &key, &val, flags | MDB_RESERVE);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_put", rc);
    unsigned char *p = val.mv_data;
    p[0] = LOG_MARK;
    p[1] = LOG_VERSION;
    put_le(p + 2, (uint64_t)decided_ms, 8);
    put_le(p + 10, idlen, 4);
    if (idlen)
        memcpy(p + LOG_HEADER, event_id, idlen);
    if (len)
        memcpy(p + LOG_HEADER + idlen, bytes, len);
    return HIST_OK;
}

int hist_log_put(hist_txn *t, uint64_t seq, int64_t decided_ms, const char *event_id,
                 const void *bytes, size_t len)
{
    unsigned char k[8];
    seq_key(seq, k);
    /* Sequence numbers only grow, so appending keeps the B-tree pages full. */
    return log_entry_write(t, k, MDB_APPEND, decided_ms, event_id,
                           event_id ? strlen(event_id) : 0, bytes, len);
}

/* The entry under seq (its key in k), read into *e. */
static int log_entry_get(hist_txn *t, uint64_t seq, unsigned char k[8], log_entry *e)
{
    seq_key(seq, k);
    MDB_val v;
    int rc = hist_get_val(t, t->env->decisions, k, 8, &v);
    if (rc != HIST_OK)
        return rc;
    return log_entry_read(&v, e) < 0 ? HIST_ECORRUPT : HIST_OK;
}

int hist_log_get(hist_txn *t, uint64_t seq, const void **bytes, size_t *len)
{
    unsigned char k[8];
    log_entry e;
    int rc = log_entry_get(t, seq, k, &e);
    if (rc != HIST_OK)
        return rc;
    *bytes = e.decision;
    *len = e.decision_len;
    return HIST_OK;
}

static uint64_t key_seq(const MDB_val *k)
{
    uint64_t seq = 0;
    const unsigned char *b = k->mv_data;
    for (size_t i = 0; i < 8 && i < k->mv_size; i++)
        seq = (seq << 8) | b[i];
    return seq;
}

/* What trimming needs of an entry: from its header, or, for an entry of the
 * old layout, from its decision (decoded; a duplicate or an undecodable one
 * names no event, and an undecodable one counts as decided at 0). The id is
 * copied: deleting from another table may move the page it is on. */
typedef struct trim_info {
    int64_t decided_ms;
    char    small[128];
    char   *event_id; /* small, or allocated; "" for none */
} trim_info;

static int trim_info_read(const MDB_val *v, trim_info *ti)
{
    log_entry e;
    ti->event_id = ti->small;
    ti->small[0] = '\0';
    ti->decided_ms = 0;
    if (log_entry_read(v, &e) < 0)
        return 0; /* a cut header: trimmed like an undecodable entry */
    const char *id = e.event_id;
    size_t idlen = e.event_id_len;
    Complaint__V1__TriageDecision *m = NULL;
    if (e.has_header) {
        ti->decided_ms = e.decided_ms;
    } else {
        m = complaint__v1__triage_decision__unpack(NULL, e.decision_len, e.decision);
        ti->decided_ms = m ? m->decided_ms : 0;
        id = m && !m->duplicate && m->event_id ? m->event_id : "";
        idlen = strlen(id);
    }
    if (idlen >= sizeof ti->small && !(ti->event_id = malloc(idlen + 1))) {
        if (m)
            complaint__v1__triage_decision__free_unpacked(m, NULL);
        return ENOMEM;
    }
    memcpy(ti->event_id, id, idlen);
    ti->event_id[idlen] = '\0';
    if (m)
        complaint__v1__triage_decision__free_unpacked(m, NULL);
    return 0;
}

static void trim_info_free(trim_info *ti)
{
    if (ti->event_id != ti->small)
        free(ti->event_id);
}

/* A decision leaves the log: its event_id leaves the de-duplication index
 * with it, so the index is bounded by the log's retention instead of
 * growing by one entry per event forever. */
static int forget_event_of(hist_txn *t, const char *event_id)
{
    if (!*event_id)
        return 0;
    MDB_val key = {strlen(event_id), (void *)event_id};
    int rc = mdb_del(t->txn, t->env->events, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int hist_log_trim(hist_txn *t, uint64_t below, int64_t min_decided_ms, uint64_t *removed)
{
    MDB_cursor *cur;
    uint64_t n = 0;
    int rc = mdb_cursor_open(t->txn, t->env->decisions, &cur);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_cursor_open", rc);
    MDB_val k, v;
    /* The log is in seq order, which is also decision-time order: trim from
     * the front until an entry is young enough and recent enough. */
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        trim_info ti;
        if ((rc = trim_info_read(&v, &ti)) != 0)
            break;
        int too_many = key_seq(&k) < below;
        int too_old = min_decided_ms > 0 && ti.decided_ms < min_decided_ms;
        if (too_many || too_old) {
            rc = forget_event_of(t, ti.event_id);
            if (rc == 0)
                rc = mdb_cursor_del(cur, 0);
        }
        trim_info_free(&ti);
        if (!too_many && !too_old)
            break;
        if (rc != 0)
            break;
        n++;
    }
    mdb_cursor_close(cur);
    if (removed)
        *removed = n;
    return (rc == 0 || rc == MDB_NOTFOUND) ? HIST_OK : hist_map_err(t->env, "mdb_cursor_del", rc);
}

int hist_log_each(hist_txn *t, uint64_t from,
                  int (*fn)(uint64_t seq, const void *bytes, size_t len, void *ctx), void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->env->decisions, &cur);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_cursor_open", rc);
    unsigned char start[8];
    seq_key(from, start);
    MDB_val k = {8, start}, v;
    log_entry e;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (log_entry_read(&v, &e) < 0)
            continue; /* a cut header: nothing to show of it */
        if (fn(key_seq(&k), e.decision, e.decision_len, ctx))
            break;
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? HIST_OK : hist_map_err(t->env, "mdb_cursor_get", rc);
}

/* Replace the decision under seq, keeping what its header said (an entry of
 * the old layout stays in it: trimming reads that from the decision). */
int hist_log_replace(hist_txn *t, uint64_t seq, const void *bytes, size_t len)
{
    unsigned char k[8];
    log_entry e;
    int rc = log_entry_get(t, seq, k, &e);
    if (rc != HIST_OK)
        return rc;
    if (!e.has_header)
        return hist_put_val(t, t->env->decisions, k, 8, bytes, len);
    char small[128], *id = small;
    if (e.event_id_len >= sizeof small && !(id = malloc(e.event_id_len + 1)))
        return HIST_ERR;
    memcpy(id, e.event_id, e.event_id_len); /* the put may move the page it is on */
    rc = log_entry_write(t, k, 0, e.decided_ms, id, e.event_id_len, bytes, len);
    if (id != small)
        free(id);
    return rc;
}

/* ---- forget ------------------------------------------------------------- */

typedef struct forget_ctx {
    const char *id;
    size_t      idlen;
    uint64_t   *seqs; /* decisions of this customer; owned */
    size_t      n, cap;
    int         out_of_memory; /* the list is incomplete: redact none */
} forget_ctx;

static int find_decisions(uint64_t seq, const void *bytes, size_t len, void *arg)
{
    forget_ctx *f = arg;
    Complaint__V1__TriageDecision *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    if (m && m->customer_id && strlen(m->customer_id) == f->idlen &&
        memcmp(m->customer_id, f->id, f->idlen) == 0) {
        uint64_t *seqs = grow_array(f->seqs, &f->cap, f->n + 1, sizeof *seqs, 64);
        if (!seqs) {
            f->out_of_memory = 1;
            complaint__v1__triage_decision__free_unpacked(m, NULL);
            return 1; /* stop */
        }
        f->seqs = seqs;
        f->seqs[f->n++] = seq;
    }
    if (m)
        complaint__v1__triage_decision__free_unpacked(m, NULL);
    return 0;
}

/* Keep the decision (its seq must stay, or replay would show a gap) but
 * without anything that points at the person. */
static int redact(hist_txn *t, uint64_t seq)
{
    const void *bytes;
    size_t len;
    int rc = hist_log_get(t, seq, &bytes, &len);
    if (rc != HIST_OK)
        return rc;
    Complaint__V1__TriageDecision *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    if (!m)
        return HIST_ECORRUPT;
    Complaint__V1__TriageDecision r = *m;
    r.customer_id = (char *)"";
    r.n_matches = 0;
    r.n_reasons = 0;
    r.n_customer_flags = 0;
    size_t n = complaint__v1__triage_decision__get_packed_size(&r);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) {
        complaint__v1__triage_decision__pack(&r, buf);
        rc = hist_log_replace(t, seq, buf, n);
    } else {
        snprintf(t->env->last_error, sizeof t->env->last_error, "out of memory");
        rc = HIST_ERR;
    }
    free(buf);
    complaint__v1__triage_decision__free_unpacked(m, NULL);
    return rc;
}

int hist_forget(hist_env *env, const char *id, size_t idlen, hist_forgotten *out)
{
    memset(out, 0, sizeof *out);
    forget_ctx f = {.id = id, .idlen = idlen};
    hist_txn *t;
    int rc = hist_begin(env, 1, &t);
    if (rc != HIST_OK)
        return rc;
    rc = hist_del_customer(t, id, idlen);
    out->history_erased = rc == HIST_OK;
    if (rc == HIST_NOTFOUND)
        rc = HIST_OK;
    size_t reviews = 0;
    if (rc == HIST_OK)
        rc = feedback_forget(t, id, idlen, &reviews);
    if (rc == HIST_OK)
        rc = hist_log_each(t, 1, find_decisions, &f);
    if (rc == HIST_OK && f.out_of_memory) {
        snprintf(env->last_error, sizeof env->last_error, "out of memory (nothing was changed)");
        rc = HIST_ERR;
    }
    for (size_t i = 0; rc == HIST_OK && i < f.n; i++)
        rc = redact(t, f.seqs[i]);
    if (rc == HIST_OK) {
        rc = hist_commit(t);
    } else {
        hist_abort(t);
    }
    if (rc == HIST_OK) {
        out->decisions_redacted = f.n;
        out->feedback_erased = reviews;
    } else {
        out->history_erased = 0;
    }
    free(f.seqs);
    return rc;
}
