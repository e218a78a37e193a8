/*
 * triage — decide labelled events against customers' histories and log the
 * decisions: the part of the flow that runs in the single LMDB writer.
 *
 * A triage session wraps one write transaction: every event given to it gets
 * the next gap-free sequence number, its customer's history is read, decided
 * on and updated, and its serialized decision is appended to the decision
 * log, all in that transaction; triage_commit makes the whole batch durable
 * at once. Customer and employee records are decoded once per batch and
 * written back once, key-sorted, at the commit (fold.h). Without a history environment (complaintctl classify with no data
 * directory) it decides against an empty history and keeps nothing.
 */
#ifndef COMPLAINTD_TRIAGE_H
#define COMPLAINTD_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "codec.h"
#include "fold.h"
#include "history.h"
#include "model.h"
#include "policy.h"

enum { TRIAGE_MAX_MATCHES = 64, TRIAGE_EVIDENCE = 12, TRIAGE_MODELS = 8,
       TRIAGE_EVIDENCE_TEXT = 1024 };

/* What the learned layer said of an event, kept small enough to travel
 * with it through the daemon's pipeline (a model_result is ~1.3 KB): the
 * labels to act on are then the classify_result's, already combined
 * (model_combine), and this explains them. Names are borrowed from the
 * models, which must outlive the packing of the decision. */
typedef struct triage_explain {
    label_set   rules;              /* the rules' labels, before the models */
    label_set   covered;            /* labels some model has a classifier for */
    label_set   add;                /* labels the models put on (or confirmed) */
    label_set   vetoed;             /* the rules' labels the models took off */
    float       prob[LABEL_COUNT];  /* the models' probability, for covered labels */
    model_evidence ev[TRIAGE_EVIDENCE]; /* n-grams that carried them */
    size_t      n_ev;
    const char *models[TRIAGE_MODELS];  /* the model files applied, in order */
    size_t      n_models;
} triage_explain;

/* Fill x from the rules' labels and the models' result (mr after every
 * model_predict; the evidence kept is that of the labels in final, the
 * combined labels). */
void triage_explain_set(triage_explain *x, label_set rules, label_set final,
                        const model_result *mr, const char *const *models, size_t n_models);

/* A TriageDecision with its storage, so building one allocates nothing.
 * Strings are borrowed from the event, the pack and the decision: pack it
 * before any of them changes. */
typedef struct triage {
    decision_msg msg;
    Complaint__V1__LabelScore  ls[LABEL_COUNT];
    Complaint__V1__LabelScore *lsp[LABEL_COUNT];
    Complaint__V1__RuleMatch   rm[TRIAGE_MAX_MATCHES];
    Complaint__V1__RuleMatch  *rmp[TRIAGE_MAX_MATCHES];
    Complaint__V1__ModelEvidence  me[TRIAGE_EVIDENCE];
    Complaint__V1__ModelEvidence *mep[TRIAGE_EVIDENCE];
    char  evtext[TRIAGE_EVIDENCE_TEXT];  /* the evidence's n-grams, NUL-separated */
    Complaint__V1__LabelScore  ms[LABEL_COUNT];   /* model_scores */
    Complaint__V1__LabelScore *msp[LABEL_COUNT];
    Complaint__V1__LabelScore  vs[LABEL_COUNT];   /* vetoed */
    Complaint__V1__LabelScore *vsp[LABEL_COUNT];
    char *modelp[TRIAGE_MODELS];
    char *reasonp[POLICY_MAX_REASONS];
    char *flagp[8];
} triage;

/* Fill t with the decision d on ev (labelled cr by the pack rp), under seq.
 * x: what the learned layer said (NULL: the rules decided alone). */
void triage_build(triage *t, const event_msg *ev, const classify_result *cr, const rulepack *rp,
                  const decision *d, uint64_t seq);
void triage_build_explained(triage *t, const event_msg *ev, const classify_result *cr,
                            const triage_explain *x, const rulepack *rp, const decision *d,
                            uint64_t seq);

/* A reject: the event (if it decoded at all) and the reason. ev may be NULL. */
void triage_build_reject(triage *t, const event_msg *ev, const char *reason, uint64_t seq);

typedef struct triage_session {
    hist_env *env;          /* borrowed; NULL = stateless */
    hist_txn *txn;
    const policy *pol;      /* borrowed */
    uint64_t  next_seq;
    uint64_t  log_max;      /* decision log entries kept */
    int64_t   log_max_age_ms; /* and for at most this long (0 = no age limit) */
    int64_t   decided_ms;   /* the clock of the current decision */
    uint64_t  last_seq;     /* seq of the last decision returned (the original one for a duplicate) */
    uint8_t  *packed;       /* the last decision, serialized; owned */
    size_t    packed_len, packed_cap;
    fold_table customers;   /* this batch's customers (hist_customer); owned */
    fold_table employees;   /* and employees (hist_employee); owned */
} triage_session;

enum { TRIAGE_NEW = 0, TRIAGE_DUPLICATE = 1, TRIAGE_ERR = -1, TRIAGE_EFULL = -2 };

/* Start a batch. env may be NULL. The decision log keeps log_max entries,
 * none older than log_max_age_ms (0: no age limit). Returns 0 or HIST_*. */
int triage_begin(triage_session *s, hist_env *env, const policy *pol, uint64_t log_max,
                 int64_t log_max_age_ms);

/* Decide one valid event. On success *bytes and *len are the serialized decision
 * (valid until the next call), *action its action; returns TRIAGE_NEW, or
 * TRIAGE_DUPLICATE when event_id was decided before (the logged decision
 * again, marked duplicate). now_ms is used when the event carries no ts_ms. */
int triage_event(triage_session *s, const event_msg *ev, const classify_result *cr,
                 const rulepack *rp, int64_t now_ms, int *action /* OUT */,
                 const uint8_t **bytes, size_t *len /* OUT: both */);
/* The same, with what the learned layer said (x may be NULL): cr's labels
 * are the combined ones, and the decision explains them per source. */
int triage_event_explained(triage_session *s, const event_msg *ev, const classify_result *cr,
                           const triage_explain *x, const rulepack *rp, int64_t now_ms,
                           int *action /* OUT */, const uint8_t **bytes, size_t *len /* OUT */);

/* Log a reject (ev may be NULL if it did not decode). Same outputs. */
int triage_reject(triage_session *s, const event_msg *ev, const char *reason, int64_t now_ms,
                  const uint8_t **bytes, size_t *len /* OUT: both */);

/* Make the batch durable (or, stateless, nothing). Returns a HIST_* code;
 * on failure nothing of the batch is kept and the sequence is not advanced. */
int  triage_commit(triage_session *s);
void triage_abort(triage_session *s);
void triage_session_free(triage_session *s);

#endif
