/*
 * policy — from labels and a customer's history to one decision
 * (taxonomy.md, "Decisions"): the primary action, first that applies, the
 * flags, the compensation from the matrix, and the reasons behind it.
 *
 * The policy is pure: policy_decide reads the history as it was before the
 * event and never writes it; policy_record then folds the event and its
 * decision into the history. Both take the clock in the event, so tests can
 * script time.
 *
 * Incidents fade: toxicity and extremism are counted with a half-life, so an
 * incident weighs 1 when new and 1/2 one half-life later. A limit is reached
 * when the weights, this event's included, come within LIMIT_SLACK of it
 * (so three incidents a few weeks apart still count as three).
 */
#ifndef COMPLAINTD_POLICY_H
#define COMPLAINTD_POLICY_H

#include <stdint.h>

#include "history.h"
#include "labels.h"

enum { POLICY_MAX_TIERS = 8, POLICY_MAX_REASONS = 8, POLICY_REASON_LEN = 120 };
enum { POLICY_MAX_MATRIX = 64, POLICY_MAX_STORES = 256, POLICY_NAME = 48 };
#define LIMIT_SLACK 0.1f

/* One cell of the compensation matrix: the most specific matching cell of a
 * label gives its tier (conditions: channel, product category, repeat). */
typedef struct matrix_cell {
    int      label;
    int      channel;                 /* 0 = any */
    char     category[POLICY_NAME];   /* "" = any */
    uint32_t min_repeat;              /* earlier complaints about this label, at least */
    uint32_t tier;
} matrix_cell;

typedef struct store_limit {
    char    store_id[POLICY_NAME];
    int64_t limit;
} store_limit;

typedef struct policy {
    int64_t     tier_amount[POLICY_MAX_TIERS]; /* tier n's compensation; [0] = 0 */
    matrix_cell matrix[POLICY_MAX_MATRIX];
    int         n_matrix;
    int64_t     authority_limit;         /* default employee authority limit */
    store_limit store_limits[POLICY_MAX_STORES];
    int         n_store_limits;
    int64_t     repeat_window_ms;        /* same problem again within this: go central */
    uint32_t    repeat_bump;             /* a repeat complaint raises the tier by this */
    int64_t     half_life_ms;            /* incidents fade with this half-life */
    uint32_t    toxicity_limit;          /* this many toxic incidents: END_RELATIONSHIP */
    uint32_t    extremism_limit;         /* this many extremism incidents: END_RELATIONSHIP */
    uint32_t    compensation_share_pct;  /* granted beyond this % of purchases: flagged */
    int64_t     conflict_window_ms;      /* an employee in conflict this recently goes central */
    char        gesture[128];            /* symbolic gesture offered with HOLD_LINE */
} policy;

/* What the policy knows of the event. Strings are borrowed, may be "". */
typedef struct policy_event {
    label_set   labels;
    int         channel;
    const char *event_id;
    const char *store_id;
    const char *employee_id;
    const char *category;
    int64_t     purchase_amount;
    int64_t     now_ms;
    uint64_t    seq;  /* the decision's seq in the log (kept in the recent ring) */
} policy_event;

/* Facts about the customer a decision carries (TriageDecision.customer_flags). */
enum {
    CFLAG_WARNED = 1,            /* an earlier toxic incident still weighs */
    CFLAG_SERIAL_EXTREMISM = 2,  /* repeated blackmail / excessive demands / promo abuse */
    CFLAG_COMPENSATION_SHARE = 4,/* compensated beyond the configured share of purchases */
    CFLAG_STAFF_INVOLVED = 8,    /* the named employee had a conflict with this customer */
    CFLAG_REPEAT = 16,           /* the same problem again within the window */
};

typedef struct decision {
    int      action;               /* complaint.v1.Action */
    int      public_response, manager_review, coach_employee;
    uint32_t tier;
    int64_t  amount;
    uint32_t customer_flags;       /* CFLAG_* */
    const char *gesture;           /* borrowed from the policy; NULL unless HOLD_LINE */
    char     reasons[POLICY_MAX_REASONS][POLICY_REASON_LEN];
    int      n_reasons;
} decision;

/* The taxonomy's defaults. */
void policy_defaults(policy *p);

/* Add a matrix cell; -1 if the matrix is full. */
int policy_add_cell(policy *p, const matrix_cell *c);

/* The authority limit of a store (its own, or the default). */
int64_t policy_authority(const policy *p, const char *store_id);

/* Bring the decayed weights of h up to now. */
void policy_decay(const policy *p, hist_customer *h, int64_t now_ms);

/* Decide for an event, given the customer's history before it (a zeroed
 * history for a new customer). */
void policy_decide(const policy *p, const policy_event *ev, const hist_customer *before,
                   decision *out /* OUT */);

/* Fold the event and its decision into the customer's history. */
void policy_record(const policy *p, hist_customer *h, const policy_event *ev, const decision *d);

/* Names of CFLAG_* bits, for decisions and JSON. */
const char *policy_flag_name(uint32_t flag);

/* Toxicity labels (aimed at staff) and consumer-extremism labels as sets. */
/* Toxicity that protects the employee on its own (profanity needs a target). */
#define TOXIC_LABELS (FAMILY_TOXICITY_LABELS & ~LABEL_BIT(LABEL_PROFANITY))
#define PROFANITY_LABEL LABEL_BIT(LABEL_PROFANITY)
/* Extremism that holds the line (shaming and legal threats are decided apart). */
#define EXTREMISM_LABELS (LABEL_BIT(LABEL_BLACKMAIL) | LABEL_BIT(LABEL_EXCESSIVE_DEMAND) | \
                          LABEL_BIT(LABEL_PROMO_ABUSE))
#define CONSTRUCTIVE_LABELS FAMILY_CONSTRUCTIVE_LABELS

#endif
