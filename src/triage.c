/*
 * triage — history-aware decisions inside one write transaction; see
 * triage.h.
 */
#include "triage.h"

#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "utf8.h"

/* ---- building decisions ------------------------------------------------ */

void triage_explain_set(triage_explain *x, label_set rules, label_set final,
                        const model_result *mr, const char *const *models, size_t n_models)
{
    memset(x, 0, sizeof *x);
    x->rules = rules;
    x->covered = mr->covered;
    x->add = mr->add | (mr->alone & final);
    x->vetoed = rules & ~final & ~LABEL_FLAG_AT_STAFF;
    memcpy(x->prob, mr->prob, sizeof x->prob);
    for (size_t i = 0; i < mr->n_ev && x->n_ev < TRIAGE_EVIDENCE; i++)
        if (final & LABEL_BIT(mr->ev[i].label))
            x->ev[x->n_ev++] = mr->ev[i];
    for (size_t i = 0; i < n_models && i < TRIAGE_MODELS; i++)
        x->models[x->n_models++] = models[i];
}

/* Where each label came from, and the n-grams behind the model's ones. The
 * n-gram texts are copied out of the event's text into t (a protobuf string
 * must end in a NUL); one that does not fit keeps its span, not its text. */
static void build_explanation(triage *t, const event_msg *ev, const classify_result *cr,
                              const triage_explain *x)
{
    decision_msg *m = &t->msg;
    for (int l = 1; l < LABEL_COUNT; l++) {
        label_set bit = LABEL_BIT(l);
        if ((x->covered & bit) && x->prob[l] >= 0.05f) {
            Complaint__V1__LabelScore *ls = &t->ms[m->n_model_scores];
            complaint__v1__label_score__init(ls);
            ls->label = (Complaint__V1__Label)l;
            ls->model_score = x->prob[l];
            ls->model_scored = 1;
            t->msp[m->n_model_scores++] = ls;
        }
        if (x->vetoed & bit) {
            Complaint__V1__LabelScore *ls = &t->vs[m->n_vetoed];
            complaint__v1__label_score__init(ls);
            ls->label = (Complaint__V1__Label)l;
            ls->score = ls->rule_score = cr->score[l];
            ls->model_scored = (x->covered & bit) != 0;
            ls->model_score = ls->model_scored ? x->prob[l] : 0.0f;
            ls->source = (char *)"model_veto";
            t->vsp[m->n_vetoed++] = ls;
        }
    }
    m->model_scores = t->msp;
    m->vetoed = t->vsp;
    for (size_t i = 0; i < m->n_labels; i++) {
        Complaint__V1__LabelScore *ls = t->lsp[i];
        label_set bit = LABEL_BIT((int)ls->label);
        ls->rule_score = ls->score;
        ls->model_scored = (x->covered & bit) != 0;
        ls->model_score = ls->model_scored ? x->prob[ls->label] : 0.0f;
        ls->source = (char *)((x->rules & bit) ? ((x->add & bit) ? "both" : "rules") : "model");
    }
    size_t used = 0, textlen = strlen(ev->text);
    for (size_t i = 0; i < x->n_ev; i++) {
        const model_evidence *e = &x->ev[i];
        Complaint__V1__ModelEvidence *me = &t->me[i];
        complaint__v1__model_evidence__init(me);
        me->label = (Complaint__V1__Label)e->label;
        me->start = e->start;
        me->end = e->end;
        me->weight = e->weight;
        size_t n = e->end > e->start && e->end <= textlen ? e->end - e->start : 0;
        if (n && used + n + 1 <= sizeof t->evtext && utf8_valid(ev->text + e->start, n)) {
            memcpy(t->evtext + used, ev->text + e->start, n);
            t->evtext[used + n] = '\0';
            me->ngram = t->evtext + used;
            used += n + 1;
        }
        t->mep[m->n_model_evidence++] = me;
    }
    m->model_evidence = t->mep;
    for (size_t i = 0; i < x->n_models; i++)
        t->modelp[m->n_models++] = (char *)x->models[i];
    m->models = t->modelp;
}

void triage_build(triage *t, const event_msg *ev, const classify_result *cr, const rulepack *rp,
                  const decision *d, uint64_t seq)
{
    triage_build_explained(t, ev, cr, NULL, rp, d, seq);
}

void triage_build_explained(triage *t, const event_msg *ev, const classify_result *cr,
                            const triage_explain *x, const rulepack *rp, const decision *d,
                            uint64_t seq)
{
    decision_msg *m = &t->msg;
    complaint__v1__triage_decision__init(m);
    m->event_id = ev->event_id;
    m->customer_id = ev->customer_id;
    m->seq = seq;
    m->action = (Complaint__V1__Action)d->action;
    m->channel = ev->channel;
    m->store_id = ev->store_id;
    m->employee_id = ev->employee_id;
    m->ts_ms = ev->ts_ms;
    m->public_response = d->public_response;
    m->manager_review = d->manager_review;
    m->coach_employee = d->coach_employee;
    m->compensation_tier = d->tier;
    m->compensation_amount = d->amount;
    if (d->gesture)
        m->gesture = (char *)d->gesture;

    for (int l = 1; l < LABEL_COUNT; l++) {
        if (!(cr->labels & (1u << l)))
            continue;
        Complaint__V1__LabelScore *ls = &t->ls[m->n_labels];
        complaint__v1__label_score__init(ls);
        ls->label = (Complaint__V1__Label)l;
        ls->score = cr->score[l];
        t->lsp[m->n_labels++] = ls;
    }
    m->labels = t->lsp;
    for (size_t i = 0; i < cr->n_matches && i < TRIAGE_MAX_MATCHES; i++) {
        const rule *r = &rp->rules[cr->matches[i].rule];
        Complaint__V1__RuleMatch *rm = &t->rm[i];
        complaint__v1__rule_match__init(rm);
        rm->rule_id = r->id;
        rm->label = (Complaint__V1__Label)r->label;
        rm->start = cr->matches[i].start;
        rm->end = cr->matches[i].end;
        t->rmp[m->n_matches++] = rm;
    }
    m->matches = t->rmp;
    for (int i = 0; i < d->n_reasons; i++)
        t->reasonp[i] = (char *)d->reasons[i];
    m->reasons = t->reasonp;
    m->n_reasons = (size_t)d->n_reasons;
    for (uint32_t f = 1; f <= CFLAG_REPEAT; f <<= 1)
        if (d->customer_flags & f)
            t->flagp[m->n_customer_flags++] = (char *)policy_flag_name(f);
    m->customer_flags = t->flagp;
    if (x && x->n_models)
        build_explanation(t, ev, cr, x);
}

void triage_build_reject(triage *t, const event_msg *ev, const char *reason, uint64_t seq)
{
    decision_msg *m = &t->msg;
    complaint__v1__triage_decision__init(m);
    m->seq = seq;
    m->reject_reason = (char *)reason;
    if (!ev)
        return;
    /* Echo only what a proto3 runtime will accept: a reject may be one
     * precisely because an id is not UTF-8. */
#define ECHO(field)                                                            \
    if (ev->field && utf8_valid_str(ev->field))                                \
        m->field = ev->field;
    ECHO(event_id)
    ECHO(customer_id)
    ECHO(store_id)
    ECHO(employee_id)
#undef ECHO
    m->ts_ms = ev->ts_ms;
    if ((int)ev->channel >= 0 && (int)ev->channel < CHANNEL_COUNT)
        m->channel = ev->channel;
}

/* ---- the session -------------------------------------------------------- */

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

int triage_begin(triage_session *s, hist_env *env, const policy *pol, uint64_t log_max,
                 int64_t log_max_age_ms)
{
    /* What outlives a batch: the sequence and the buffers' memory. */
    triage_session keep = *s;
    memset(s, 0, sizeof *s);
    s->env = env;
    s->pol = pol;
    s->log_max = log_max;
    s->log_max_age_ms = log_max_age_ms;
    s->packed = keep.packed;
    s->packed_cap = keep.packed_cap;
    s->next_seq = keep.next_seq ? keep.next_seq : 1;
    s->customers = keep.customers;
    s->employees = keep.employees;
    if (!s->customers.val_size) {  /* the first batch of this session */
        fold_init(&s->customers, sizeof(hist_customer));
        fold_init(&s->employees, sizeof(hist_employee));
    }
    fold_reset(&s->customers);
    fold_reset(&s->employees);
    if (!env)
        return HIST_OK;
    int rc = hist_begin(env, 1, &s->txn);
    if (rc == HIST_OK)
        rc = hist_get_next_seq(s->txn, &s->next_seq);
    if (rc != HIST_OK && s->txn) {
        hist_abort(s->txn);
        s->txn = NULL;
    }
    return rc;
}

/* Re-publish the logged decision of an event seen before. */
static int duplicate(triage_session *s, const event_msg *ev, uint64_t seq, int *action,
                     const uint8_t **bytes, size_t *len)
{
    const void *logged;
    size_t n;
    decision_msg *m = NULL;
    if (hist_log_get(s->txn, seq, &logged, &n) == HIST_OK)
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
 * Updates the batch's copy; triage_commit writes it. */
static int record_employee(triage_session *s, const policy_event *pe, const decision *d)
{
    size_t n = strlen(pe->employee_id);
    int added;
    hist_employee *e = fold_get(&s->employees, pe->employee_id, n, &added);
    if (!e)
        return HIST_ERR;
    if (added) {
        int rc = hist_get_employee(s->txn, pe->employee_id, n, e);
        if (rc != HIST_OK && rc != HIST_NOTFOUND)
            return rc;
    }
    e->events++;
    if (pe->now_ms > e->last_ms)
        e->last_ms = pe->now_ms;
    if (d->action == ACTION_END_RELATIONSHIP || d->action == ACTION_PROTECT_EMPLOYEE) {
        e->toxic_received++;
        e->last_toxic_ms = pe->now_ms;
    }
    if (pe->channel == CHANNEL_STAFF_NOTE && (pe->labels & LABEL_BIT(LABEL_STAFF_BLAME)))
        e->blame_notes++;
    return HIST_OK;
}

/* Append the packed decision m under seq, with what trimming needs of it. */
static int log_decision(triage_session *s, uint64_t seq, const decision_msg *m)
{
    if (!s->txn)
        return 0;
    int rc = hist_log_put(s->txn, seq, m->decided_ms, m->duplicate ? NULL : m->event_id,
                          s->packed, s->packed_len);
    /* Trim now and then, not per event: a trim walks the front of the log. */
    if (rc == HIST_OK && seq % 1024 == 0)
        rc = hist_log_trim(s->txn, seq > s->log_max ? seq - s->log_max : 0,
                           s->log_max_age_ms ? s->decided_ms - s->log_max_age_ms : 0, NULL);
    return rc == HIST_OK ? 0 : hist_status(rc);
}

int triage_event(triage_session *s, const event_msg *ev, const classify_result *cr,
                 const rulepack *rp, int64_t now_ms, int *action, const uint8_t **bytes,
                 size_t *len)
{
    return triage_event_explained(s, ev, cr, NULL, rp, now_ms, action, bytes, len);
}

int triage_event_explained(triage_session *s, const event_msg *ev, const classify_result *cr,
                           const triage_explain *x, const rulepack *rp, int64_t now_ms,
                           int *action, const uint8_t **bytes, size_t *len)
{
    size_t idlen = strlen(ev->customer_id);
    size_t evlen = strlen(ev->event_id);
    int64_t when = ev->ts_ms ? ev->ts_ms : now_ms;
    hist_customer none;  /* stateless: every customer is new */
    hist_customer *h = &none;
    memset(&none, 0, sizeof none);
    int rc;
    if (s->txn) {
        uint64_t seen;
        rc = hist_get_event(s->txn, ev->event_id, evlen, &seen);
        if (rc == HIST_OK)
            return duplicate(s, ev, seen, action, bytes, len);
        if (rc != HIST_NOTFOUND)
            return hist_status(rc);
        int added;
        h = fold_get(&s->customers, ev->customer_id, idlen, &added);
        if (!h)
            return TRIAGE_ERR;
        if (added) {  /* first time in this batch: from the store */
            rc = hist_get_customer(s->txn, ev->customer_id, idlen, h);
            if (rc != HIST_OK && rc != HIST_NOTFOUND)
                return hist_status(rc);
        }
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
    triage_build_explained(&t, ev, cr, x, rp, &d, seq);
    t.msg.decided_ms = now_ms;
    s->decided_ms = now_ms;
    if (pack(s, &t.msg, bytes, len) < 0)
        return TRIAGE_ERR;
    *action = d.action;

    if (s->txn) {
        policy_record(s->pol, h, &pe, &d);  /* the batch's copy; written at the commit */
        rc = HIST_OK;
        if (ev->employee_id && *ev->employee_id)
            rc = record_employee(s, &pe, &d);
        if (rc == HIST_OK)
            rc = hist_put_event(s->txn, ev->event_id, evlen, seq);
        if (rc != HIST_OK)
            return hist_status(rc);
        if ((rc = log_decision(s, seq, &t.msg)) < 0)
            return rc;
    }
    s->next_seq = seq + 1;
    s->last_seq = seq;
    return TRIAGE_NEW;
}

int triage_reject(triage_session *s, const event_msg *ev, const char *reason, int64_t now_ms,
                  const uint8_t **bytes, size_t *len)
{
    uint64_t seq = s->next_seq;
    triage t;
    triage_build_reject(&t, ev, reason, seq);
    t.msg.decided_ms = now_ms;
    s->decided_ms = now_ms;
    if (pack(s, &t.msg, bytes, len) < 0)
        return TRIAGE_ERR;
    int rc = log_decision(s, seq, &t.msg);
    if (rc < 0)
        return rc;
    s->next_seq = seq + 1;
    s->last_seq = seq;
    return TRIAGE_NEW;
}

static int put_customer(const char *id, size_t idlen, void *val, void *txn)
{
    return hist_put_customer(txn, id, idlen, val);
}

static int put_employee(const char *id, size_t idlen, void *val, void *txn)
{
    return hist_put_employee(txn, id, idlen, val);
}

int triage_commit(triage_session *s)
{
    if (!s->txn)
        return HIST_OK;
    /* The batch's records, once each and in key order; then the next seq,
     * also once per transaction: it is only read at the start of the next. */
    int rc = fold_each_sorted(&s->customers, put_customer, s->txn);
    if (rc == HIST_OK)
        rc = fold_each_sorted(&s->employees, put_employee, s->txn);
    if (rc == HIST_OK)
        rc = hist_put_next_seq(s->txn, s->next_seq);
    if (rc != HIST_OK) {
        triage_abort(s);
        return rc;
    }
    rc = hist_commit(s->txn);
    s->txn = NULL;
    return rc;
}

void triage_abort(triage_session *s)
{
    if (s->txn) {
        hist_abort(s->txn);
        s->txn = NULL;
    }
}

void triage_session_free(triage_session *s)
{
    triage_abort(s);
    fold_free(&s->customers);
    fold_free(&s->employees);
    free(s->packed);
    s->packed = NULL;
    s->packed_cap = 0;
}
