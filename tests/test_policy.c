/* Unit tests: the taxonomy's decision order, flags and the compensation
 * matrix, on scripted customer histories with an injected clock. */
#include "testutil.h"

#include "config.h"
#include "policy.h"

#define BIT(l) (1u << (l))
enum { INSULT = 1, PROFANITY, THREAT, HARASSMENT, HUMILIATION, BLACKMAIL, SHAMING, LEGAL,
       EXCESSIVE, PROMO, BROKEN, DEFECT, SERVICE, REFUND, GRATITUDE, BLAME };
enum { CALL = 1, CHAT, EMAIL, REVIEW, SOCIAL, NOTE };
enum { END = 1, PROTECT, ESCALATE, HOLD, RESOLVE, ACK };
static const int64_t DAY = 24LL * 3600 * 1000;

static policy pol;
static hist_customer hist;

static int setup(void **state)
{
    (void)state;
    policy_defaults(&pol);
    memset(&hist, 0, sizeof hist);
    return 0;
}

/* Decide one event against the scripted history, then record it. */
static decision step_full(label_set labels, int channel, int64_t day, const char *employee,
                          const char *store, int64_t purchase)
{
    policy_event ev = {.labels = labels, .channel = channel, .event_id = "e", .store_id = store,
                       .employee_id = employee, .category = "", .purchase_amount = purchase,
                       .now_ms = day * DAY, .seq = (uint64_t)day};
    decision d;
    policy_decide(&pol, &ev, &hist, &d);
    policy_record(&pol, &hist, &ev, &d);
    return d;
}

static decision step(label_set labels, int channel, int64_t day)
{
    return step_full(labels, channel, day, "", "", 0);
}

/* A first contact: decide without touching the scripted history. */
static decision first(label_set labels, int channel)
{
    hist_customer fresh;
    memset(&fresh, 0, sizeof fresh);
    policy_event ev = {.labels = labels, .channel = channel, .event_id = "e", .now_ms = DAY};
    decision d;
    policy_decide(&pol, &ev, &fresh, &d);
    return d;
}

static int has_reason(const decision *d, const char *fragment)
{
    for (int i = 0; i < d->n_reasons; i++)
        if (strstr(d->reasons[i], fragment))
            return 1;
    return 0;
}

static void test_first_contact_actions(void **state)
{
    (void)state;
    assert_int_equal(first(BIT(INSULT), CHAT).action, PROTECT);
    assert_int_equal(first(BIT(THREAT) | BIT(DEFECT), CHAT).action, PROTECT);
    /* A first offence never ends the relationship. */
    assert_int_equal(first(BIT(HARASSMENT), CALL).action, PROTECT);
    assert_int_equal(first(BIT(BLACKMAIL), CALL).action, HOLD);
    assert_int_equal(first(BIT(LEGAL) | BIT(DEFECT), EMAIL).action, ESCALATE);
    assert_int_equal(first(BIT(BLACKMAIL) | BIT(SHAMING), CHAT).action, HOLD);
    assert_int_equal(first(BIT(DEFECT) | BIT(REFUND), EMAIL).action, RESOLVE);
    assert_int_equal(first(BIT(GRATITUDE), REVIEW).action, ACK);
    assert_int_equal(first(0, CHAT).action, ACK);
    /* Profanity alone is not aimed at staff; aimed at staff it protects. */
    assert_int_equal(first(BIT(PROFANITY) | BIT(DEFECT), CHAT).action, RESOLVE);
    assert_int_equal(first(BIT(PROFANITY) | LABEL_FLAG_AT_STAFF, CHAT).action, PROTECT);
    /* A staff note blaming the customer goes central, with coaching. */
    decision d = first(BIT(BLAME), NOTE);
    assert_int_equal(d.action, ESCALATE);
    assert_true(d.coach_employee);
}

static void test_flags_and_gesture(void **state)
{
    (void)state;
    decision d = first(BIT(DEFECT), REVIEW);
    assert_true(d.public_response);
    assert_true(d.manager_review);
    assert_true(first(BIT(SHAMING) | BIT(EXCESSIVE), EMAIL).public_response);
    d = first(BIT(GRATITUDE), CHAT);
    assert_false(d.public_response);
    assert_false(d.manager_review);  /* thanks is not a negative case */
    assert_null(first(BIT(DEFECT), CHAT).gesture);
    assert_string_equal(first(BIT(PROMO), CHAT).gesture, pol.gesture);
}

static void test_matrix_and_authority_per_store(void **state)
{
    (void)state;
    decision d = first(BIT(DEFECT), CHAT);
    assert_int_equal(d.tier, 2);
    assert_int_equal(d.amount, 1500);
    /* A more specific cell wins: defects reviewed in public get tier 3. */
    matrix_cell c = {.label = DEFECT, .channel = REVIEW, .tier = 3};
    assert_int_equal(policy_add_cell(&pol, &c), 0);
    assert_int_equal(first(BIT(DEFECT), REVIEW).tier, 3);
    assert_int_equal(first(BIT(DEFECT), CHAT).tier, 2);
    /* A store with a small authority limit sends tier 2 central. */
    snprintf(pol.store_limits[0].store_id, POLICY_NAME, "small-shop");
    pol.store_limits[0].limit = 1000;
    pol.n_store_limits = 1;
    d = step_full(BIT(DEFECT), CHAT, 1, "", "small-shop", 0);
    assert_int_equal(d.action, ESCALATE);
    assert_true(has_reason(&d, "authority limit 1000"));
    assert_int_equal(step_full(BIT(SERVICE), CHAT, 1, "", "small-shop", 0).action, RESOLVE);
    /* No compensation for blackmail; the defect's own tier, no more. */
    d = first(BIT(BLACKMAIL), CHAT);
    assert_int_equal(d.action, HOLD);
    assert_int_equal(d.amount, 0);
    d = first(BIT(BLACKMAIL) | BIT(DEFECT), CHAT);
    assert_int_equal(d.action, HOLD);
    assert_int_equal(d.tier, 2);
    assert_int_equal(d.amount, 1500);
}

static void test_complaint_survives_toxicity(void **state)
{
    (void)state;
    /* Swearing at staff about a wrong delivery: the employee is protected
     * and the delivery problem keeps its matrix compensation. */
    decision d = first(BIT(PROFANITY) | LABEL_FLAG_AT_STAFF | BIT(SERVICE), CHAT);
    assert_int_equal(d.action, PROTECT);
    assert_int_equal(d.tier, 1);
    assert_int_equal(d.amount, 500);
    assert_true(has_reason(&d, "profanity aimed at staff"));
    assert_true(has_reason(&d, "the complaint still stands (service_failure): compensation tier 1"));
    d = first(BIT(INSULT) | BIT(BROKEN) | BIT(REFUND), CALL);
    assert_int_equal(d.action, PROTECT);
    assert_int_equal(d.tier, 2);
    assert_true(has_reason(&d, "(broken_promise, refund_request)"));
    /* An interjection is not aimed at staff: resolved locally, as before. */
    d = first(BIT(PROFANITY) | BIT(SERVICE), CHAT);
    assert_int_equal(d.action, RESOLVE);
    assert_int_equal(d.tier, 1);
    assert_false(has_reason(&d, "still stands"));
    /* Toxicity alone carries no compensation. */
    d = first(BIT(INSULT), CHAT);
    assert_int_equal(d.tier, 0);
    assert_int_equal(d.amount, 0);
    assert_false(has_reason(&d, "still stands"));
    /* Above the authority limit the reason says who grants it. */
    pol.tier_amount[2] = 9000;
    d = first(BIT(THREAT) | BIT(DEFECT), CHAT);
    assert_int_equal(d.action, PROTECT);
    assert_int_equal(d.amount, 9000);
    assert_true(has_reason(&d, "the central office grants it"));
    /* Ended relationships still owe the fix; the history counts the grant. */
    step(BIT(INSULT), CHAT, 1);
    step(BIT(INSULT), CHAT, 2);
    d = step(BIT(INSULT) | BIT(DEFECT), CHAT, 3);
    assert_int_equal(d.action, END);
    assert_int_equal(d.amount, 9000);
    assert_int_equal(hist.compensation_sum, 9000);
}

static void test_reported_misconduct_coaches_employee(void **state)
{
    (void)state;
    /* A customer reports rude service by a named employee. */
    decision d = step_full(BIT(SERVICE), CHAT, 1, "emp-3", "", 0);
    assert_int_equal(d.action, RESOLVE);
    assert_true(d.coach_employee);
    assert_true(has_reason(&d, "poor service by employee emp-3"));
    /* Also when the customer is rude about it. */
    assert_true(step_full(BIT(SERVICE) | BIT(INSULT), CHAT, 2, "emp-4", "", 0).coach_employee);
    /* No employee named, another problem, or the employee's own note: no coaching. */
    assert_false(step_full(BIT(SERVICE), CHAT, 3, "", "", 0).coach_employee);
    assert_false(step_full(BIT(DEFECT), CHAT, 4, "emp-3", "", 0).coach_employee);
    assert_false(step_full(BIT(SERVICE), NOTE, 5, "emp-3", "", 0).coach_employee);
    assert_false(step_full(BIT(INSULT), CHAT, 6, "emp-3", "", 0).coach_employee);
}

static void test_same_problem_twice(void **state)
{
    (void)state;
    assert_int_equal(step(BIT(BROKEN), CHAT, 1).action, RESOLVE);
    decision d = step(BIT(BROKEN), CHAT, 11);  /* 10 days later */
    assert_int_equal(d.action, ESCALATE);
    assert_true(d.customer_flags & CFLAG_REPEAT);
    assert_int_equal(d.tier, 3);  /* bumped */
    /* 40 days after the last one: outside the 30-day window. */
    assert_int_equal(step(BIT(BROKEN), CHAT, 51).action, RESOLVE);
}

static void test_harassment_after_warning(void **state)
{
    (void)state;
    assert_int_equal(step(BIT(INSULT), CHAT, 1).action, PROTECT);  /* the warning */
    decision d = step(BIT(HARASSMENT), CALL, 2);
    assert_int_equal(d.action, END);
    assert_true(d.customer_flags & CFLAG_WARNED);
    assert_true(has_reason(&d, "harassment after a warning"));
}

static void test_third_offence_ends_second_does_not(void **state)
{
    (void)state;
    assert_int_equal(step(BIT(INSULT), CHAT, 1).action, PROTECT);
    assert_int_equal(step(BIT(HUMILIATION), CHAT, 5).action, PROTECT);
    decision d = step(BIT(INSULT), CHAT, 9);
    assert_int_equal(d.action, END);
    assert_true(has_reason(&d, "repeated toxicity"));
    assert_int_equal(hist.toxic_incidents, 3);

    setup(NULL);
    assert_int_equal(step(BIT(BLACKMAIL), CHAT, 1).action, HOLD);
    decision second = step(BIT(EXCESSIVE), CHAT, 2);
    assert_int_equal(second.action, HOLD);
    assert_int_equal(step(BIT(PROMO), CHAT, 3).action, END);
    assert_int_equal(hist.extremism_incidents, 3);
}

static void test_incidents_fade_with_half_life(void **state)
{
    (void)state;
    /* Two insults two years ago weigh little now: a third is not "repeated". */
    step(BIT(INSULT), CHAT, 1);
    step(BIT(INSULT), CHAT, 2);
    decision d = step(BIT(INSULT), CHAT, 2 + 730);
    assert_int_equal(d.action, PROTECT);
    assert_false(d.customer_flags & CFLAG_WARNED);
    /* Four half-lives: 2 incidents weigh 2/16. */
    assert_true(hist.toxic_decayed > 1.0f && hist.toxic_decayed < 1.2f);
    /* Harassment right after an old, faded warning is not an ending either. */
    setup(NULL);
    step(BIT(INSULT), CHAT, 1);
    assert_int_equal(step(BIT(HARASSMENT), CALL, 1 + 400).action, PROTECT);
}

static void test_staff_personally_involved_go_central(void **state)
{
    (void)state;
    /* The customer insulted emp-7 last week... */
    assert_int_equal(step_full(BIT(INSULT), CHAT, 1, "emp-7", "", 0).action, PROTECT);
    /* ...and now complains about a defect to the same employee. */
    decision d = step_full(BIT(DEFECT), CHAT, 8, "emp-7", "", 0);
    assert_int_equal(d.action, ESCALATE);
    assert_true(d.customer_flags & CFLAG_STAFF_INVOLVED);
    /* Another employee resolves it locally. */
    assert_int_equal(step_full(BIT(SERVICE), CHAT, 9, "emp-8", "", 0).action, RESOLVE);
    assert_int_equal(hist.n_conflicts, 1);
    assert_string_equal(hist.conflicts[0].employee_id, "emp-7");
}

static void test_compensation_share_flags_customer(void **state)
{
    (void)state;
    /* 2000 of purchases, then compensations 1500 + 500 = 100%. */
    step_full(0, CHAT, 1, "", "", 2000);
    step(BIT(DEFECT), CHAT, 2);
    step(BIT(REFUND), CHAT, 3);
    assert_int_equal(hist.compensation_sum, 2000);
    decision d = step(BIT(SERVICE), CHAT, 4);
    assert_true(d.customer_flags & CFLAG_COMPENSATION_SHARE);
    assert_int_equal(d.action, ESCALATE);
}

static void test_record_keeps_recent_ring(void **state)
{
    (void)state;
    for (int i = 1; i <= 6; i++)
        step(BIT(DEFECT), CHAT, i * 40);
    assert_int_equal(hist.events, 6);
    assert_int_equal(hist.n_recent, HIST_RECENT);
    assert_int_equal(hist.recent[0].ts_ms, 240 * DAY);  /* newest first */
    assert_int_equal(hist.recent[HIST_RECENT - 1].ts_ms, (6 - HIST_RECENT + 1) * 40 * DAY);
    /* The ring points into the decision log by seq, and keeps no ids. */
    assert_int_equal(hist.recent[0].seq, 240);
    assert_int_equal(hist.recent[HIST_RECENT - 1].seq, (6 - HIST_RECENT + 1) * 40);
    assert_string_equal(hist.recent[0].event_id, "");
    assert_int_equal(hist.label_count[DEFECT], 6);
    assert_int_equal(hist.compensations, 6);
    assert_int_equal(hist.last_action, RESOLVE);
}

/* The policy a deployment writes in its config file drives the decisions. */
static void test_policy_tables_from_config(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    tu_write(dir, "p.conf",
             "authority_limit = 10000\n"
             "authority.kiosk-1 = 400\n"
             "tier.3 = 7000\n"
             "matrix.product_defect.category:electronics = 3\n"
             "matrix.service_failure.repeat:1 = 2\n"
             "toxicity_limit = 2\n"
             "repeat_window_days = 0\n"
             "gesture = a handwritten apology\n");
    char path[1100], err[512];
    snprintf(path, sizeof path, "%s/p.conf", dir);
    config cfg;
    config_defaults(&cfg);
    if (config_load_file(&cfg, path, err, sizeof err) < 0)
        fail_msg("%s", err);
    pol = cfg.pol;
    memset(&hist, 0, sizeof hist);
    policy_event ev = {.labels = BIT(DEFECT), .channel = CHAT, .event_id = "e", .store_id = "big",
                       .category = "electronics", .now_ms = DAY};
    decision d;
    policy_decide(&pol, &ev, &hist, &d);
    assert_int_equal(d.tier, 3);
    assert_int_equal(d.amount, 7000);
    assert_int_equal(d.action, RESOLVE);  /* 7000 is within the 10000 limit */
    ev.store_id = "kiosk-1";
    policy_decide(&pol, &ev, &hist, &d);
    assert_int_equal(d.action, ESCALATE);  /* the kiosk may grant 400 */
    /* A second service failure gets tier 2 from its repeat cell (the window is 0 days). */
    assert_int_equal(step(BIT(SERVICE), CHAT, 1).tier, 1);
    assert_int_equal(step(BIT(SERVICE), CHAT, 2).tier, 2);
    /* toxicity_limit 2: the second insult ends it. */
    assert_int_equal(step(BIT(INSULT), CHAT, 3).action, PROTECT);
    assert_int_equal(step(BIT(INSULT), CHAT, 4).action, END);
    assert_string_equal(step(BIT(PROMO), CHAT, 5).gesture, "a handwritten apology");
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_contact_actions, setup),
        cmocka_unit_test_setup(test_flags_and_gesture, setup),
        cmocka_unit_test_setup(test_matrix_and_authority_per_store, setup),
        cmocka_unit_test_setup(test_same_problem_twice, setup),
        cmocka_unit_test_setup(test_complaint_survives_toxicity, setup),
        cmocka_unit_test_setup(test_reported_misconduct_coaches_employee, setup),
        cmocka_unit_test_setup(test_harassment_after_warning, setup),
        cmocka_unit_test_setup(test_third_offence_ends_second_does_not, setup),
        cmocka_unit_test_setup(test_incidents_fade_with_half_life, setup),
        cmocka_unit_test_setup(test_staff_personally_involved_go_central, setup),
        cmocka_unit_test_setup(test_compensation_share_flags_customer, setup),
        cmocka_unit_test_setup(test_record_keeps_recent_ring, setup),
        cmocka_unit_test_setup(test_policy_tables_from_config, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
