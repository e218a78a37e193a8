/*
 * triage — history-aware decisions, made in memory a group at a time and
 * written to the store in one transaction per group; see triage.h.
 */
#include "triage.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

static int pack(triage_session *s, decision_msg *m, const uint8_t **bytes, size_t *len)
{
    size_t n = complaint__v1__triage_decision__get_packed_size(m);
    if (n > s->packed_cap) {
        uint8_t *p = realloc(s->packed, n);
        if (!p)
            return TRIAGE_ERR;
        s->packed = p;
        s->packed_cap = n;
    }
    s->packed_len = complaint__v1__triage_decision__pack(m, s->packed);
    *bytes = s->packed;
    *len = s->packed_len;
    return 0;
}

static int hist_status(int rc) { return rc == HIST_EFULL ? TRIAGE_EFULL : TRIAGE_ERR; }

/* ---- generations ------------------------------------------------------- */

static void gen_init(triage_gen *g)
{
    memset(g, 0, sizeof *g);
    fold_init(&g->customers, sizeof(hist_customer));
    fold_init(&g->employees, sizeof(hist_employee));
    fold_init(&g->events, sizeof(uint64_t));
}

/* Empty g for a group starting at first_seq; the memory is kept. */
static void gen_reset(triage_gen *g, uint64_t first_seq, uint64_t base_txn)
{
    fold_reset(&g->customers);
    fold_reset(&g->employees);
    fold_reset(&g->events);
    if (sb_failed(&g->log))  /* out of memory last time: start over */
        sb_free(&g->log);
    sb_reset(&g->log);
    g->n_logged = 0;
    g->first_seq = g->next_seq = first_seq;
    g->decided_ms = 0;
    g->base_txn = base_txn;
}

static void gen_free(triage_gen *g)
{
    fold_free(&g->customers);
    fold_free(&g->employees);
    fold_free(&g->events);
    sb_free(&g->log);
    free(g->logged);
    memset(g, 0, sizeof *g);
}

int triage_begin(triage_session *s, hist_env *env, const policy *pol, uint64_t log_max,
                 int64_t log_max_age_ms)
{
    if (!s->gens[0].customers.val_size) {  /* the first group of this session */
        gen_init(&s->gens[0]);
        gen_init(&s->gens[1]);
    }
    if (s->cur)  /* a group begun and never sealed: dropped */
        s->next_seq = s->cur->first_seq;
    s->env = env;
    s->pol = pol;
    s->log_max = log_max;
    s->log_max_age_ms = log_max_age_ms;
    if (env && !s->snap) {
        int rc = hist_begin(env, 0, &s->snap);
        if (rc != HIST_OK) {
            s->snap = NULL;
            return rc;
        }
        s->next_seq = 0;  /* (re)read below */
    }
    if (env && !s->next_seq && !s->sealed) {
        int rc = hist_get_next_seq(s->snap, &s->next_seq);
        if (rc != HIST_OK) {
            s->next_seq = 0;
            return rc;
        }
    }
    if (!s->next_seq)
        s->next_seq = 1;
    s->cur = s->sealed == &s->gens[0] ? &s->gens[1] : &s->gens[0];
    /* Reads see the snapshot and, on top of it, the sealed generation: the
     * commit it will be. */
    gen_reset(s->cur, s->next_seq, s->snap ? hist_txn_id(s->snap) + (s->sealed != NULL) : 0);
    return HIST_OK;
}

/* ---- reads: the group, the sealed group, then the store ------------------ */

/* The seq event_id was decided under; HIST_NOTFOUND if never. */
static int find_event(const triage_session *s, const char *id, size_t n, uint64_t *seq)
{
    const uint64_t *v = fold_find(&s->cur->events, id, n);
    if (!v && s->sealed)
        v = fold_find(&s->sealed->events, id, n);
    if (v) {
        *seq = *v;
        return HIST_OK;
    }
    return hist_get_event(s->snap, id, n, seq);
}

/* The logged decision seq. A generation logs every seq from first_seq on,
 * in order (duplicates take none), so its index is seq - first_seq. */
static int find_logged(const triage_session *s, uint64_t seq, const void **bytes, size_t *len)
{
    const triage_gen *gs[2] = {s->cur, s->sealed};
    for (int i = 0; i < 2; i++) {
        const triage_gen *g = gs[i];
        if (g && seq >= g->first_seq && seq - g->first_seq < g->n_logged) {
            const triage_logged *l = &g->logged[seq - g->first_seq];
            *bytes = g->log.buf + l->off;
            *len = l->len;
            return HIST_OK;
        }
    }
    return hist_log_get(s->snap, seq, bytes, len);
}

enum { REC_CUSTOMER, REC_EMPLOYEE };

static fold_table *records(triage_gen *g, int kind)
{
    return kind == REC_CUSTOMER ? &g->customers : &g->employees;
}

/* The group's copy of a customer's or employee's record (a hist_customer
 * or hist_employee), filled on first use from the sealed group or the
 * store. NULL with *rc set on failure. */
static void *record_of(triage_session *s, int kind, const char *id, size_t n, int *rc)
{
    int added;
    fold_table *t = records(s->cur, kind);
    void *v = fold_get(t, id, n, &added);
    if (!v) {
        *rc = HIST_ERR;
        return NULL;
    }
    if (!added)
        return v;
    const void *sealed = s->sealed ? fold_find(records(s->sealed, kind), id, n) : NULL;
    if (sealed) {
        memcpy(v, sealed, t->val_size);
        return v;
    }
    int r = kind == REC_CUSTOMER ? hist_get_customer(s->snap, id, n, v)
                                 : hist_get_employee(s->snap, id, n, v);
    if (r != HIST_OK && r != HIST_NOTFOUND) {
        *rc = r;
        return NULL;
    }
    return v;
}

/* Re-publish the logged decision of an event seen before. */
static int duplicate(triage_session *s, const event_msg *ev, uint64_t seq, int *action,
                     const uint8_t **bytes, size_t *len)
{
    const void *logged;
    size_t n;
    decision_msg *m = NULL;
    if (find_logged(s, seq, &logged, &n) == HIST_OK)
        m = complaint__v1__triage_decision__unpack(NULL, n, logged);
    int rc;
    if (m) {
        m->duplicate = 1;
        *action = (int)m->action;
        s->last_seq = m->seq;
        rc = pack(s, m, bytes, len);
        complaint__v1__triage_decision__free_unpacked(m, NULL);
    } else {
        /* The log was trimmed past it: say which seq it had, nothing more. */
        decision_msg d = COMPLAINT__V1__TRIAGE_DECISION__INIT;
        d.event_id = ev->event_id;
        d.customer_id = ev->customer_id;
        d.seq = seq;
        d.duplicate = 1;
        *action = 0;
        s->last_seq = seq;
        rc = pack(s, &d, bytes, len);
    }
    return rc < 0 ? rc : TRIAGE_DUPLICATE;
}

/* The employee named in the event: abuse received, blaming notes written.
 * Updates the group's copy; triage_apply writes it. */
static int record_employee(triage_session *s, const policy_event *pe, const decision *d)
{
    int rc = HIST_OK;
    hist_employee *e = record_of(s, REC_EMPLOYEE, pe->employee_id, strlen(pe->employee_id), &rc);
    if (!e)
        return rc;
    e->events++;
    if (pe->now_ms > e->last_ms)
        e->last_ms = pe->now_ms;
    if (d->action == 1 || d->action == 2) {  /* END_RELATIONSHIP, PROTECT_EMPLOYEE */
        e->toxic_received++;
        e->last_toxic_ms = pe->now_ms;
    }
    if (pe->channel == 6 && (pe->labels & (1u << 16)))  /* staff_note with staff_blame */
        e->blame_notes++;
    return HIST_OK;
}

/* Keep the packed decision under seq in the group, and advance. */
static int log_decision(triage_session *s, uint64_t seq, int64_t now_ms)
{
    s->next_seq = seq + 1;
    s->last_seq = seq;
    if (!s->env)
        return 0;
    triage_gen *g = s->cur;
    triage_logged *l =
        grow_array(g->logged, &g->logged_cap, g->n_logged + 1, sizeof *l, 256);
    if (!l)
        return TRIAGE_ERR;
    g->logged = l;
    size_t off = g->log.len;
    sb_append(&g->log, (const char *)s->packed, s->packed_len);
    if (sb_failed(&g->log))
        return TRIAGE_ERR;
    g->logged[g->n_logged++] = (triage_logged){seq, off, s->packed_len};
    g->next_seq = seq + 1;
    g->decided_ms = now_ms;
    return 0;
}

int triage_event(triage_session *s, const event_msg *ev, const class_result *cr,
                 const rulepack *rp, int64_t now_ms, int *action, const uint8_t **bytes,
                 size_t *len)
{
    size_t idlen = strlen(ev->customer_id);
    size_t evlen = strlen(ev->event_id);
    int64_t when = ev->ts_ms ? ev->ts_ms : now_ms;
    hist_customer none;  /* stateless: every customer is new */
    hist_customer *h = &none;
    memset(&none, 0, sizeof none);
    int rc = HIST_OK;
    if (s->env) {
        uint64_t seen;
        rc = find_event(s, ev->event_id, evlen, &seen);
        if (rc == HIST_OK)
            return duplicate(s, ev, seen, action, bytes, len);
        if (rc != HIST_NOTFOUND)
            return hist_status(rc);
        h = record_of(s, REC_CUSTOMER, ev->customer_id, idlen, &rc);
        if (!h)
            return hist_status(rc);
    }

    uint64_t seq = s->next_seq;
    policy_event pe = {.labels = cr->labels,
                       .channel = (int)ev->channel,
                       .event_id = ev->event_id,
                       .store_id = ev->store_id,
                       .employee_id = ev->employee_id,
                       .category = ev->product_category,
                       .purchase_amount = ev->purchase_amount,
                       .now_ms = when,
                       .seq = seq};
    decision d;
    policy_decide(s->pol, &pe, h, &d);
    triage t;
    triage_build(&t, ev, cr, rp, &d, seq);
    t.msg.decided_ms = now_ms;
    if (pack(s, &t.msg, bytes, len) < 0)
        return TRIAGE_ERR;
    *action = d.action;

    if (s->env) {
        policy_record(s->pol, h, &pe, &d);  /* the group's copy; written by triage_apply */
        if (ev->employee_id && *ev->employee_id && (rc = record_employee(s, &pe, &d)) != HIST_OK)
            return hist_status(rc);
        int added;
        uint64_t *at = fold_get(&s->cur->events, ev->event_id, evlen, &added);
        if (!at)
            return TRIAGE_ERR;
        *at = seq;
    }
    if ((rc = log_decision(s, seq, now_ms)) < 0)
        return rc;
    return TRIAGE_NEW;
}

int triage_reject(triage_session *s, const event_msg *ev, const char *reason, int64_t now_ms,
                  const uint8_t **bytes, size_t *len)
{
    uint64_t seq = s->next_seq;
    triage t;
    triage_build_reject(&t, ev, reason, seq);
    t.msg.decided_ms = now_ms;
    if (pack(s, &t.msg, bytes, len) < 0)
        return TRIAGE_ERR;
    int rc = log_decision(s, seq, now_ms);
    return rc < 0 ? rc : TRIAGE_NEW;
}

triage_gen *triage_seal(triage_session *s)
{
    triage_gen *g = s->cur;
    if (!g || s->sealed)
        return NULL;
    s->cur = NULL;
    if (!s->env)
        return NULL;
    s->sealed = g;
    return g;
}

/* ---- writing a generation ---------------------------------------------- */

static int put_customer(const char *id, size_t idlen, void *val, void *txn)
{
    return hist_put_customer(txn, id, idlen, val);
}

static int put_employee(const char *id, size_t idlen, void *val, void *txn)
{
    return hist_put_employee(txn, id, idlen, val);
}

static int put_event(const char *id, size_t idlen, void *val, void *txn)
{
    return hist_put_event(txn, id, idlen, *(const uint64_t *)val);
}

int triage_apply(hist_env *env, triage_gen *g, uint64_t log_max, int64_t log_max_age_ms)
{
    hist_txn *txn;
    int rc = hist_begin(env, 1, &txn);
    if (rc != HIST_OK)
        return rc;
    if (hist_txn_id(txn) != g->base_txn + 1) {
        hist_abort(txn);
        return HIST_ECONFLICT;
    }
    /* Records and event ids once each and in key order, decisions appended;
     * then the next seq, also once per transaction. */
    rc = fold_each_sorted(&g->customers, put_customer, txn);
    if (rc == HIST_OK)
        rc = fold_each_sorted(&g->employees, put_employee, txn);
    if (rc == HIST_OK)
        rc = fold_each_sorted(&g->events, put_event, txn);
    for (size_t i = 0; rc == HIST_OK && i < g->n_logged; i++) {
        const triage_logged *l = &g->logged[i];
        rc = hist_log_put(txn, l->seq, g->log.buf + l->off, l->len);
    }
    /* Trim when the group passes a multiple of 1024, not per group: a trim
     * walks the front of the log. */
    uint64_t last = g->next_seq - 1;
    if (rc == HIST_OK && g->n_logged && last / 1024 > (g->first_seq - 1) / 1024)
        rc = hist_log_trim(txn, last > log_max ? last - log_max : 0,
                           log_max_age_ms ? g->decided_ms - log_max_age_ms : 0, NULL);
    /* Always, even for a group of duplicates only: a transaction that
     * writes nothing commits without a new id, and the conflict check
     * above counts on each apply taking one. */
    if (rc == HIST_OK)
        rc = hist_put_next_seq(txn, g->next_seq);
    if (rc != HIST_OK) {
        hist_abort(txn);
        return rc;
    }
    return hist_commit(txn);
}

void triage_applied(triage_session *s)
{
    s->sealed = NULL;
    /* If the snapshot cannot move, the next triage_begin opens another. */
    if (s->snap && hist_renew(s->snap) != HIST_OK) {
        hist_abort(s->snap);
        s->snap = NULL;
    }
}

void triage_abort(triage_session *s)
{
    triage_gen *first = s->sealed ? s->sealed : s->cur;
    if (first)
        s->next_seq = first->first_seq;
    s->sealed = s->cur = NULL;
    if (s->snap && hist_renew(s->snap) != HIST_OK) {
        hist_abort(s->snap);
        s->snap = NULL;
    }
}

int triage_commit(triage_session *s)
{
    if (!s->env) {
        s->cur = NULL;
        return HIST_OK;
    }
    triage_gen *g = triage_seal(s);
    if (!g)
        return HIST_ERR;  /* no group begun, or one still sealed: a caller's mistake */
    int rc = triage_apply(s->env, g, s->log_max, s->log_max_age_ms);
    if (rc == HIST_OK)
        triage_applied(s);
    else
        triage_abort(s);
    return rc;
}

void triage_session_free(triage_session *s)
{
    if (s->snap)
        hist_abort(s->snap);
    s->snap = NULL;
    gen_free(&s->gens[0]);
    gen_free(&s->gens[1]);
    s->cur = s->sealed = NULL;
    free(s->packed);
    s->packed = NULL;
    s->packed_cap = 0;
}
