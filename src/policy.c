/*
 * policy — the taxonomy's decision rules; see policy.h.
 *
 * DESIGN: one function per primary action, tried in the taxonomy's order;
 * each returns whether it applies and adds its reason. The flags are
 * computed independently of the action, because they answer other questions
 * (who must see it, who must answer in public).
 */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HAS(set, l) (((set) >> (l)) & 1u)

enum {
    L_INSULT = 1, L_PROFANITY, L_THREAT, L_HARASSMENT, L_HUMILIATION, L_BLACKMAIL,
    L_PUBLIC_SHAMING, L_LEGAL, L_EXCESSIVE, L_PROMO, L_BROKEN_PROMISE, L_DEFECT,
    L_SERVICE_FAILURE, L_REFUND, L_GRATITUDE, L_STAFF_BLAME
};
enum { A_END = 1, A_PROTECT, A_ESCALATE, A_HOLD, A_RESOLVE, A_ACK };

void policy_defaults(policy *p)
{
    memset(p, 0, sizeof *p);
    /* Amounts in the chain's minor currency unit. */
    p->tier_amount[1] = 500;
    p->tier_amount[2] = 1500;
    p->tier_amount[3] = 5000;
    p->tier_amount[4] = 15000;
    p->label_tier[L_SERVICE_FAILURE] = 1;
    p->label_tier[L_BROKEN_PROMISE] = 2;
    p->label_tier[L_DEFECT] = 2;
    p->label_tier[L_REFUND] = 1;
    p->authority_limit = 5000;
    p->repeat_window_ms = 30LL * 24 * 3600 * 1000;
    p->repeat_bump = 1;
    p->extremism_limit = 3;
    snprintf(p->gesture, sizeof p->gesture, "a personal apology and a coffee voucher");
}

static void reason(decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(decision *d, const char *fmt, ...)
{
    if (d->n_reasons == POLICY_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reasons[d->n_reasons++], POLICY_REASON_LEN, fmt, ap);
    va_end(ap);
}

/* Constructive labels seen before, within the window: the same problem again. */
static int repeat_problem(const policy *p, label_set labels, const hist_customer *h, int64_t now)
{
    for (int l = L_BROKEN_PROMISE; l <= L_SERVICE_FAILURE; l++)
        if (HAS(labels, l) && h->label_count[l] > 0 && now - h->label_last_ms[l] <= p->repeat_window_ms)
            return l;
    return 0;
}

static void compensation(const policy *p, label_set labels, int repeat, decision *d)
{
    uint32_t tier = 0;
    for (int l = L_BROKEN_PROMISE; l <= L_REFUND; l++)
        if (HAS(labels, l) && p->label_tier[l] > tier)
            tier = p->label_tier[l];
    if (tier && repeat)
        tier += p->repeat_bump;
    while (tier >= POLICY_MAX_TIERS || (tier > 0 && p->tier_amount[tier] == 0))
        tier--;  /* the highest configured tier caps the matrix */
    d->tier = tier;
    d->amount = p->tier_amount[tier];
}

static int end_relationship(const policy *p, label_set labels, const hist_customer *h, decision *d)
{
    if ((HAS(labels, L_HARASSMENT) || HAS(labels, L_THREAT)) && h->toxic_incidents > 0) {
        reason(d, "harassment or threat after %u earlier toxic incident(s)", h->toxic_incidents);
        return 1;
    }
    if ((labels & EXTREMISM_LABELS) && h->extremism_incidents + 1 >= p->extremism_limit) {
        reason(d, "repeated consumer extremism: %u incidents with this one (limit %u)",
               h->extremism_incidents + 1, p->extremism_limit);
        return 1;
    }
    return 0;
}

static int protect_employee(label_set labels, int channel, decision *d)
{
    /* In a staff note the toxic words are the employee's account of the case:
     * it is the customer's event that protects, not the note. */
    if (channel == 6)
        return 0;
    if (labels & TOXIC_LABELS) {
        reason(d, "toxicity aimed at staff");
        return 1;
    }
    if (HAS(labels, L_PROFANITY) && (labels & LABEL_FLAG_AT_STAFF)) {
        reason(d, "profanity aimed at staff");
        return 1;
    }
    return 0;
}

static int escalate(const policy *p, label_set labels, int channel, int repeat, decision *d)
{
    int why = 0;
    if (HAS(labels, L_LEGAL)) {
        reason(d, "legal threat");
        why = 1;
    }
    if (d->amount > p->authority_limit) {
        reason(d, "compensation %lld above the authority limit %lld", (long long)d->amount,
               (long long)p->authority_limit);
        why = 1;
    }
    if (repeat) {
        reason(d, "repeat complaint: %s again within the window", label_name(repeat));
        why = 1;
    }
    if (channel == 6 && HAS(labels, L_STAFF_BLAME)) {
        reason(d, "staff note blames the customer");
        why = 1;
    }
    return why;
}

void policy_decide(const policy *p, label_set labels, int channel, const hist_customer *h,
                   int64_t now, decision *d)
{
    memset(d, 0, sizeof *d);
    int repeat = repeat_problem(p, labels, h, now);
    compensation(p, labels, repeat, d);

    if (end_relationship(p, labels, h, d))
        d->action = A_END;
    else if (protect_employee(labels, channel, d))
        d->action = A_PROTECT;
    else if (escalate(p, labels, channel, repeat, d))
        d->action = A_ESCALATE;
    else if (labels & EXTREMISM_LABELS) {
        d->action = A_HOLD;
        d->gesture = p->gesture;
        reason(d, "demand under pressure: decline politely, keep the rules");
    } else if (labels & CONSTRUCTIVE_LABELS) {
        d->action = A_RESOLVE;
        reason(d, "constructive complaint: resolve now, compensation tier %u", d->tier);
    } else {
        d->action = A_ACK;
    }
    /* Compensation is only granted where the company owns the problem. */
    if (d->action != A_RESOLVE && d->action != A_ESCALATE) {
        d->tier = 0;
        d->amount = 0;
    }

    d->public_response = channel_is_public(channel) || HAS(labels, L_PUBLIC_SHAMING);
    d->manager_review = (labels & ~(1u << L_GRATITUDE) & ~LABEL_FLAG_AT_STAFF) != 0;
    d->coach_employee = HAS(labels, L_STAFF_BLAME);
}

void policy_record(hist_customer *h, label_set labels, const decision *d, int64_t now)
{
    if (h->events == 0 || now < h->first_ms)
        h->first_ms = now;
    if (now > h->last_ms)
        h->last_ms = now;
    h->events++;
    for (int l = 1; l < LABEL_COUNT; l++)
        if (HAS(labels, l)) {
            h->label_count[l]++;
            h->label_last_ms[l] = now;
        }
    if (d->action == A_PROTECT || d->action == A_END)
        h->toxic_incidents++;
    if (labels & EXTREMISM_LABELS)
        h->extremism_incidents++;
    if (d->amount > 0) {
        h->compensations++;
        h->compensation_sum += d->amount;
    }
    if (d->action == A_ESCALATE)
        h->escalations++;
    h->last_action = (uint32_t)d->action;
}
