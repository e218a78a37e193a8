/*
 * policy — the taxonomy's decision rules; see policy.h.
 *
 * DESIGN: one function per primary action, tried in the taxonomy's order;
 * each returns whether it applies and adds its reason. The flags are
 * computed independently of the action, because they answer other questions
 * (who must see it, who must answer in public). History facts that shaped
 * the decision are reported twice: as customer_flags for machines and as
 * reasons for the manager.
 */
#include "policy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HAS(set, l) (((set) >> (l)) & 1u)
#define DAY_MS (24LL * 3600 * 1000)


void policy_defaults(policy *p)
{
    memset(p, 0, sizeof *p);
    /* Amounts in the chain's minor currency unit. */
    p->tier_amount[1] = 500;
    p->tier_amount[2] = 1500;
    p->tier_amount[3] = 5000;
    p->tier_amount[4] = 15000;
    static const int base[][2] = {
        {LABEL_SERVICE_FAILURE, 1}, {LABEL_BROKEN_PROMISE, 2}, {LABEL_PRODUCT_DEFECT, 2}, {LABEL_REFUND_REQUEST, 1}};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        matrix_cell c = {.label = base[i][0], .tier = (uint32_t)base[i][1]};
        policy_add_cell(p, &c);
    }
    p->authority_limit = 5000;
    p->repeat_window_ms = 30 * DAY_MS;
    p->repeat_bump = 1;
    p->half_life_ms = 180 * DAY_MS;
    p->toxicity_limit = 3;
    p->extremism_limit = 3;
    p->compensation_share_pct = 50;
    p->conflict_window_ms = 90 * DAY_MS;
    snprintf(p->gesture, sizeof p->gesture, "a personal apology and a coffee voucher");
}

int policy_add_cell(policy *p, const matrix_cell *c)
{
    /* A cell with the same conditions replaces the earlier one. */
    for (int i = 0; i < p->n_matrix; i++) {
        matrix_cell *m = &p->matrix[i];
        if (m->label == c->label && m->channel == c->channel && m->min_repeat == c->min_repeat &&
            strcmp(m->category, c->category) == 0) {
            *m = *c;
            return 0;
        }
    }
    if (p->n_matrix == POLICY_MAX_MATRIX)
        return -1;
    p->matrix[p->n_matrix++] = *c;
    return 0;
}

int64_t policy_authority(const policy *p, const char *store_id)
{
    for (int i = 0; store_id && i < p->n_store_limits; i++)
        if (strcmp(p->store_limits[i].store_id, store_id) == 0)
            return p->store_limits[i].limit;
    return p->authority_limit;
}

const char *policy_flag_name(uint32_t flag)
{
    switch (flag) {
    case CFLAG_WARNED: return "warned";
    case CFLAG_SERIAL_EXTREMISM: return "serial_extremism";
    case CFLAG_COMPENSATION_SHARE: return "compensation_share_exceeded";
    case CFLAG_STAFF_INVOLVED: return "staff_involved";
    case CFLAG_REPEAT: return "repeat_problem";
    default: return "unknown";
    }
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

void policy_decay(const policy *p, hist_customer *h, int64_t now)
{
    if (h->decayed_at_ms && now > h->decayed_at_ms && p->half_life_ms > 0) {
        float f = (float)exp2(-(double)(now - h->decayed_at_ms) / (double)p->half_life_ms);
        h->toxic_decayed *= f;
        h->extremism_decayed *= f;
        for (int l = 1; l < LABEL_COUNT; l++)
            h->label_decayed[l] *= f;
    }
    if (now > h->decayed_at_ms)
        h->decayed_at_ms = now;
}

/* Constructive labels seen before, within the window: the same problem again. */
static int repeat_problem(const policy *p, label_set labels, const hist_customer *h, int64_t now)
{
    for (int l = LABEL_BROKEN_PROMISE; l <= LABEL_SERVICE_FAILURE; l++)
        if (HAS(labels, l) && h->label_count[l] > 0 && now - h->label_last_ms[l] <= p->repeat_window_ms)
            return l;
    return 0;
}

/* The tier of one label: its most specific matching matrix cell. */
static uint32_t label_tier(const policy *p, int label, const policy_event *ev, uint32_t earlier)
{
    int best = -1;
    uint32_t tier = 0;
    for (int i = 0; i < p->n_matrix; i++) {
        const matrix_cell *c = &p->matrix[i];
        if (c->label != label || (c->channel && c->channel != ev->channel) ||
            (c->category[0] && strcmp(c->category, ev->category ? ev->category : "") != 0) ||
            earlier < c->min_repeat)
            continue;
        int spec = (c->channel != 0) + (c->category[0] != 0) + (c->min_repeat != 0);
        if (spec > best || (spec == best && c->tier > tier)) {
            best = spec;
            tier = c->tier;
        }
    }
    return tier;
}

static void compensation(const policy *p, const policy_event *ev, const hist_customer *h, int repeat,
                         decision *d)
{
    uint32_t tier = 0;
    for (int l = LABEL_BROKEN_PROMISE; l <= LABEL_REFUND_REQUEST; l++) {
        if (!HAS(ev->labels, l))
            continue;
        uint32_t t = label_tier(p, l, ev, h->label_count[l]);
        if (t > tier)
            tier = t;
    }
    if (tier && repeat)
        tier += p->repeat_bump;
    while (tier >= POLICY_MAX_TIERS || (tier > 0 && p->tier_amount[tier] == 0))
        tier--;  /* the highest configured tier caps the matrix */
    d->tier = tier;
    d->amount = p->tier_amount[tier];
}

static int reached(float weight, uint32_t limit) { return weight + LIMIT_SLACK >= (float)limit; }

static int end_relationship(const policy *p, label_set labels, int channel, const hist_customer *h,
                            decision *d)
{
    if (channel == CHANNEL_STAFF_NOTE)  /* the employee's account, not the customer's act */
        return 0;
    if ((HAS(labels, LABEL_HARASSMENT) || HAS(labels, LABEL_THREAT)) && (d->customer_flags & CFLAG_WARNED)) {
        reason(d, "%s after a warning (%u earlier toxic incident(s))",
               HAS(labels, LABEL_HARASSMENT) ? "harassment" : "threat", h->toxic_incidents);
        return 1;
    }
    if ((labels & TOXIC_LABELS) && reached(h->toxic_decayed + 1, p->toxicity_limit)) {
        reason(d, "repeated toxicity: weight %.1f with this one (limit %u)", h->toxic_decayed + 1,
               p->toxicity_limit);
        return 1;
    }
    if ((labels & EXTREMISM_LABELS) && reached(h->extremism_decayed + 1, p->extremism_limit)) {
        reason(d, "repeated consumer extremism: weight %.1f with this one (limit %u)",
               h->extremism_decayed + 1, p->extremism_limit);
        return 1;
    }
    return 0;
}

static int protect_employee(label_set labels, int channel, decision *d)
{
    /* In a staff note the toxic words are the employee's account of the case:
     * it is the customer's event that protects, not the note. */
    if (channel == CHANNEL_STAFF_NOTE)
        return 0;
    if (labels & TOXIC_LABELS) {
        reason(d, "toxicity aimed at staff");
        return 1;
    }
    if (HAS(labels, LABEL_PROFANITY) && (labels & LABEL_FLAG_AT_STAFF)) {
        reason(d, "profanity aimed at staff");
        return 1;
    }
    return 0;
}

static int escalate(const policy *p, const policy_event *ev, int repeat, decision *d)
{
    int why = 0;
    int64_t limit = policy_authority(p, ev->store_id);
    if (HAS(ev->labels, LABEL_LEGAL_THREAT)) {
        reason(d, "legal threat");
        why = 1;
    }
    if (d->amount > limit) {
        reason(d, "compensation %lld above the authority limit %lld", (long long)d->amount,
               (long long)limit);
        why = 1;
    }
    if (repeat) {
        reason(d, "repeat complaint: %s again within %lld days", label_name(repeat),
               (long long)(p->repeat_window_ms / DAY_MS));
        why = 1;
    }
    if (ev->channel == CHANNEL_STAFF_NOTE && HAS(ev->labels, LABEL_STAFF_BLAME)) {
        reason(d, "staff note blames the customer");
        why = 1;
    }
    /* A negative case handled by staff who already clashed with this
     * customer: they want to win, not to solve it. */
    if ((d->customer_flags & CFLAG_STAFF_INVOLVED) && ev->channel != CHANNEL_STAFF_NOTE &&
        (ev->labels & ~LABEL_BIT(LABEL_GRATITUDE) & ~LABEL_FLAG_AT_STAFF)) {
        reason(d, "employee %s had a recent conflict with this customer", ev->employee_id);
        why = 1;
    }
    if ((d->customer_flags & (CFLAG_SERIAL_EXTREMISM | CFLAG_COMPENSATION_SHARE)) &&
        (ev->labels & CONSTRUCTIVE_LABELS)) {
        reason(d, "customer flagged for serial claims: the central office decides compensation");
        why = 1;
    }
    return why;
}

/* History facts, as flags, before any action is chosen. */
static void customer_facts(const policy *p, const policy_event *ev, const hist_customer *h,
                           int repeat, decision *d)
{
    if (h->toxic_decayed >= 0.5f) {
        d->customer_flags |= CFLAG_WARNED;
        reason(d, "earlier toxic incidents: %u", h->toxic_incidents);
    }
    if (h->extremism_decayed + LIMIT_SLACK >= 2.0f) {
        d->customer_flags |= CFLAG_SERIAL_EXTREMISM;
        reason(d, "repeated extremism on record: %u incident(s)", h->extremism_incidents);
    }
    if (h->purchases_sum > 0 &&
        h->compensation_sum * 100 > h->purchases_sum * (int64_t)p->compensation_share_pct) {
        d->customer_flags |= CFLAG_COMPENSATION_SHARE;
        reason(d, "compensated %lld of %lld purchases (over %u%%)", (long long)h->compensation_sum,
               (long long)h->purchases_sum, p->compensation_share_pct);
    }
    if (repeat)
        d->customer_flags |= CFLAG_REPEAT;
    if (ev->employee_id && *ev->employee_id)
        for (uint32_t i = 0; i < h->n_conflicts; i++)
            if (strcmp(h->conflicts[i].employee_id, ev->employee_id) == 0 &&
                ev->now_ms - h->conflicts[i].last_ms <= p->conflict_window_ms)
                d->customer_flags |= CFLAG_STAFF_INVOLVED;
}

/* The reason line of a complaint whose compensation rides on another
 * action (a customer who swears about a wrong delivery still gets it fixed). */
static void complaint_still_owed(const policy *p, const policy_event *ev, decision *d)
{
    char names[80] = "";
    size_t n = 0;
    for (int l = LABEL_BROKEN_PROMISE; l <= LABEL_REFUND_REQUEST; l++)
        if (HAS(ev->labels, l) && n < sizeof names)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", label_name(l));
    int64_t limit = policy_authority(p, ev->store_id);
    reason(d, "the complaint still stands (%s): compensation tier %u", names, d->tier);
    if (d->amount > limit)
        reason(d, "compensation %lld above the authority limit %lld: the central office grants it",
               (long long)d->amount, (long long)limit);
}

/* A customer reporting poor service by a named employee: the employee needs
 * coaching, as when their own note blames the customer (taxonomy idea 7).
 * A staff note's own service_failure is the employee's account, not a report. */
static int staff_misconduct(const policy_event *ev, decision *d)
{
    if (ev->channel == CHANNEL_STAFF_NOTE || !HAS(ev->labels, LABEL_SERVICE_FAILURE) ||
        !ev->employee_id || !*ev->employee_id)
        return 0;
    reason(d, "customer reports poor service by employee %s: coaching", ev->employee_id);
    return 1;
}

void policy_decide(const policy *p, const policy_event *ev, const hist_customer *before, decision *d)
{
    memset(d, 0, sizeof *d);
    hist_customer h = *before;
    policy_decay(p, &h, ev->now_ms);
    label_set labels = ev->labels;
    int repeat = repeat_problem(p, labels, &h, ev->now_ms);
    customer_facts(p, ev, &h, repeat, d);
    compensation(p, ev, &h, repeat, d);

    if (end_relationship(p, labels, ev->channel, &h, d))
        d->action = ACTION_END_RELATIONSHIP;
    else if (protect_employee(labels, ev->channel, d))
        d->action = ACTION_PROTECT_EMPLOYEE;
    else if (escalate(p, ev, repeat, d))
        d->action = ACTION_ESCALATE_CENTRAL;
    else if (labels & EXTREMISM_LABELS) {
        d->action = ACTION_HOLD_LINE;
        d->gesture = p->gesture;
        reason(d, "demand under pressure: decline politely, offer a gesture, keep the rules");
    } else if (labels & CONSTRUCTIVE_LABELS) {
        d->action = ACTION_RESOLVE_LOCAL;
        reason(d, "constructive complaint: resolve now, compensation tier %u", d->tier);
    } else {
        d->action = ACTION_ACKNOWLEDGE;
    }
    /* The company owns a constructive complaint whatever else came with it:
     * the tier is only ever set by constructive labels, and it stays on the
     * decision under any action, so that the problem still gets fixed. */
    if (d->tier && d->action != ACTION_RESOLVE_LOCAL && d->action != ACTION_ESCALATE_CENTRAL)
        complaint_still_owed(p, ev, d);

    d->public_response = channel_is_public(ev->channel) || HAS(labels, LABEL_PUBLIC_SHAMING_THREAT);
    d->manager_review = (labels & ~LABEL_BIT(LABEL_GRATITUDE) & ~LABEL_FLAG_AT_STAFF) != 0;
    d->coach_employee = HAS(labels, LABEL_STAFF_BLAME) || staff_misconduct(ev, d);
}

static void remember_conflict(hist_customer *h, const char *employee_id, int64_t now)
{
    if (!employee_id || !*employee_id)
        return;
    uint32_t i;
    for (i = 0; i < h->n_conflicts; i++)
        if (strcmp(h->conflicts[i].employee_id, employee_id) == 0)
            break;
    if (i == h->n_conflicts) {
        if (h->n_conflicts < HIST_CONFLICTS)
            h->n_conflicts++;
        else  /* full: replace the oldest */
            for (uint32_t j = i = 0; j < h->n_conflicts; j++)
                if (h->conflicts[j].last_ms < h->conflicts[i].last_ms)
                    i = j;
        memset(&h->conflicts[i], 0, sizeof h->conflicts[i]);
        snprintf(h->conflicts[i].employee_id, HIST_ID_MAX, "%s", employee_id);
    }
    h->conflicts[i].last_ms = now;
    h->conflicts[i].count++;
}

static void remember_event(hist_customer *h, const policy_event *ev, const decision *d)
{
    /* Newest first; the oldest falls off the end. */
    uint32_t n = h->n_recent < HIST_RECENT ? h->n_recent + 1 : HIST_RECENT;
    memmove(&h->recent[1], &h->recent[0], (n - 1) * sizeof h->recent[0]);
    memset(&h->recent[0], 0, sizeof h->recent[0]);
    h->recent[0].seq = ev->seq;  /* the id stays in the log, not in every history */
    h->recent[0].labels = ev->labels & ~LABEL_FLAG_AT_STAFF;
    h->recent[0].action = (uint32_t)d->action;
    h->recent[0].ts_ms = ev->now_ms;
    h->n_recent = n;
}

void policy_record(const policy *p, hist_customer *h, const policy_event *ev, const decision *d)
{
    int64_t now = ev->now_ms;
    policy_decay(p, h, now);
    if (h->events == 0 || now < h->first_ms)
        h->first_ms = now;
    if (now > h->last_ms)
        h->last_ms = now;
    h->events++;
    for (int l = 1; l < LABEL_COUNT; l++)
        if (HAS(ev->labels, l)) {
            h->label_count[l]++;
            h->label_last_ms[l] = now;
            h->label_decayed[l] += 1.0f;
        }
    if (d->action == ACTION_PROTECT_EMPLOYEE || d->action == ACTION_END_RELATIONSHIP) {
        h->toxic_incidents++;
        h->toxic_decayed += 1.0f;
        remember_conflict(h, ev->employee_id, now);
    }
    if (ev->labels & EXTREMISM_LABELS) {
        h->extremism_incidents++;
        h->extremism_decayed += 1.0f;
    }
    if (ev->channel == CHANNEL_STAFF_NOTE && HAS(ev->labels, LABEL_STAFF_BLAME))
        remember_conflict(h, ev->employee_id, now);
    if (d->amount > 0) {
        h->compensations++;
        h->compensation_sum += d->amount;
    }
    if (ev->purchase_amount > 0)
        h->purchases_sum += ev->purchase_amount;
    if (d->action == ACTION_ESCALATE_CENTRAL) {
        h->escalations++;
        h->last_escalation_ms = now;
    }
    h->last_action = (uint32_t)d->action;
    remember_event(h, ev, d);
}
