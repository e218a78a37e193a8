/*
 * policy — from labels and a customer's history to one decision
 * (taxonomy.md, "Decisions"): the primary action, first that applies, the
 * flags, the compensation from the matrix, and the reasons behind it.
 *
 * The policy is pure: it reads the history as it was before this event and
 * never writes it; policy_record then folds the event into the history. Both
 * take the clock as an argument, so tests can script time.
 */
#ifndef COMPLAINTD_POLICY_H
#define COMPLAINTD_POLICY_H

#include <stdint.h>

#include "history.h"
#include "labels.h"

enum { POLICY_MAX_TIERS = 8, POLICY_MAX_REASONS = 8, POLICY_REASON_LEN = 120 };

typedef struct policy {
    int64_t  tier_amount[POLICY_MAX_TIERS]; /* tier n's compensation; [0] = 0 */
    uint32_t label_tier[LABEL_COUNT];       /* the matrix: constructive label -> tier */
    int64_t  authority_limit;      /* above this an employee may not grant: go central */
    int64_t  repeat_window_ms;     /* same problem again within this: go central */
    uint32_t repeat_bump;          /* a repeat complaint raises the tier by this */
    uint32_t extremism_limit;      /* this many extremism incidents: END_RELATIONSHIP */
    char     gesture[128];         /* symbolic gesture offered with HOLD_LINE */
} policy;

typedef struct decision {
    int      action;               /* complaint.v1.Action */
    int      public_response, manager_review, coach_employee;
    uint32_t tier;
    int64_t  amount;
    const char *gesture;           /* borrowed from the policy; NULL unless HOLD_LINE */
    char     reasons[POLICY_MAX_REASONS][POLICY_REASON_LEN];
    int      n_reasons;
} decision;

/* The taxonomy's defaults. */
void policy_defaults(policy *p);

/* Decide for an event with these labels on this channel, given the
 * customer's history before it (a zeroed history for a new customer). */
void policy_decide(const policy *p, label_set labels, int channel, const hist_customer *before,
                   int64_t now_ms, decision *out /* OUT */);

/* Fold the event and its decision into the customer's history. */
void policy_record(hist_customer *h, label_set labels, const decision *d, int64_t now_ms);

/* Toxicity labels (aimed at staff) and consumer-extremism labels as sets. */
#define TOXIC_LABELS ((1u << 1) | (1u << 3) | (1u << 4) | (1u << 5))  /* insult threat harassment humiliation */
#define PROFANITY_LABEL (1u << 2)
#define EXTREMISM_LABELS ((1u << 6) | (1u << 9) | (1u << 10))         /* blackmail excessive promo */
#define CONSTRUCTIVE_LABELS ((1u << 11) | (1u << 12) | (1u << 13) | (1u << 14))

#endif
