/* Unit tests: the taxonomy's decision order, flags and the compensation
 * matrix, on scripted histories with an injected clock. */
#include "testutil.h"

#include "policy.h"

#define BIT(l) (1u << (l))
enum { INSULT = 1, PROFANITY, THREAT, HARASSMENT, HUMILIATION, BLACKMAIL, SHAMING, LEGAL,
       EXCESSIVE, PROMO, BROKEN, DEFECT, SERVICE, REFUND, GRATITUDE, BLAME };
enum { CALL = 1, CHAT, EMAIL, REVIEW, SOCIAL, NOTE };
enum { END = 1, PROTECT, ESCALATE, HOLD, RESOLVE, ACK };
static const int64_t DAY = 24LL * 3600 * 1000;

static policy pol;

static int setup(void **state)
{
    (void)state;
    policy_defaults(&pol);
    return 0;
}

static decision decide(label_set labels, int channel, const hist_customer *h, int64_t now)
{
    hist_customer fresh;
    memset(&fresh, 0, sizeof fresh);
    decision d;
    policy_decide(&pol, labels, channel, h ? h : &fresh, now, &d);
    return d;
}

static void test_first_contact_actions(void **state)
{
    (void)state;
    assert_int_equal(decide(BIT(INSULT), CHAT, NULL, 0).action, PROTECT);
    assert_int_equal(decide(BIT(THREAT) | BIT(DEFECT), CHAT, NULL, 0).action, PROTECT);
    /* A first offence never ends the relationship. */
    assert_int_equal(decide(BIT(HARASSMENT), CALL, NULL, 0).action, PROTECT);
    assert_int_equal(decide(BIT(LEGAL) | BIT(DEFECT), EMAIL, NULL, 0).action, ESCALATE);
    assert_int_equal(decide(BIT(BLACKMAIL) | BIT(SHAMING), CHAT, NULL, 0).action, HOLD);
    assert_int_equal(decide(BIT(DEFECT) | BIT(REFUND), EMAIL, NULL, 0).action, RESOLVE);
    assert_int_equal(decide(BIT(GRATITUDE), REVIEW, NULL, 0).action, ACK);
    assert_int_equal(decide(0, CHAT, NULL, 0).action, ACK);
    /* Profanity alone is not aimed at staff. */
    assert_int_equal(decide(BIT(PROFANITY) | BIT(DEFECT), CHAT, NULL, 0).action, RESOLVE);
    /* A staff note blaming the customer goes central, with coaching. */
    decision d = decide(BIT(BLAME), NOTE, NULL, 0);
    assert_int_equal(d.action, ESCALATE);
    assert_true(d.coach_employee);
}

static void test_flags(void **state)
{
    (void)state;
    decision d = decide(BIT(DEFECT), REVIEW, NULL, 0);
    assert_true(d.public_response);
    assert_true(d.manager_review);
    d = decide(BIT(SHAMING) | BIT(EXCESSIVE), EMAIL, NULL, 0);
    assert_true(d.public_response);  /* a public-shaming threat is public */
    d = decide(BIT(GRATITUDE), CHAT, NULL, 0);
    assert_false(d.public_response);
    assert_false(d.manager_review);  /* thanks is not a negative case */
    assert_null(decide(BIT(DEFECT), CHAT, NULL, 0).gesture);
    assert_string_equal(decide(BIT(PROMO), CHAT, NULL, 0).gesture, pol.gesture);
}

static void test_compensation_matrix_and_authority(void **state)
{
    (void)state;
    decision d = decide(BIT(DEFECT), CHAT, NULL, 0);
    assert_int_equal(d.tier, 2);
    assert_int_equal(d.amount, 1500);
    /* Above the employee's authority: central office. */
    pol.authority_limit = 1000;
    d = decide(BIT(DEFECT), CHAT, NULL, 0);
    assert_int_equal(d.action, ESCALATE);
    assert_non_null(strstr(d.reasons[0], "authority"));
    policy_defaults(&pol);
    /* No compensation for blackmail. */
    d = decide(BIT(BLACKMAIL) | BIT(DEFECT), CHAT, NULL, 0);
    assert_int_equal(d.action, HOLD);
    assert_int_equal(d.amount, 0);
}

static void test_repeat_problem_within_window(void **state)
{
    (void)state;
    hist_customer h;
    memset(&h, 0, sizeof h);
    decision d = decide(BIT(BROKEN), CHAT, &h, 1 * DAY);
    policy_record(&h, BIT(BROKEN), &d, 1 * DAY);
    assert_int_equal(d.action, RESOLVE);
    /* Same problem 10 days later: escalate. */
    d = decide(BIT(BROKEN), CHAT, &h, 11 * DAY);
    assert_int_equal(d.action, ESCALATE);
    /* ... but not 40 days later (window 30). */
    d = decide(BIT(BROKEN), CHAT, &h, 41 * DAY);
    assert_int_equal(d.action, RESOLVE);
}

static void test_harassment_after_warning_and_serial_extremism(void **state)
{
    (void)state;
    hist_customer h;
    memset(&h, 0, sizeof h);
    decision d = decide(BIT(INSULT), CHAT, &h, DAY);
    policy_record(&h, BIT(INSULT), &d, DAY);
    assert_int_equal(h.toxic_incidents, 1);
    d = decide(BIT(HARASSMENT), CALL, &h, 2 * DAY);
    assert_int_equal(d.action, END);

    memset(&h, 0, sizeof h);
    for (int i = 1; i <= 3; i++) {
        d = decide(BIT(BLACKMAIL), CHAT, &h, i * DAY);
        policy_record(&h, BIT(BLACKMAIL), &d, i * DAY);
        assert_int_equal(d.action, i < 3 ? HOLD : END);  /* third offence with limit 3 */
    }
    assert_int_equal(h.events, 3);
    assert_int_equal(h.extremism_incidents, 3);
}

static void test_record_counts(void **state)
{
    (void)state;
    hist_customer h;
    memset(&h, 0, sizeof h);
    decision d = decide(BIT(DEFECT) | BIT(REFUND), CHAT, &h, 5 * DAY);
    policy_record(&h, BIT(DEFECT) | BIT(REFUND), &d, 5 * DAY);
    assert_int_equal(h.events, 1);
    assert_int_equal(h.first_ms, 5 * DAY);
    assert_int_equal(h.label_count[DEFECT], 1);
    assert_int_equal(h.label_count[REFUND], 1);
    assert_int_equal(h.compensations, 1);
    assert_int_equal(h.compensation_sum, 1500);
    assert_int_equal(h.last_action, RESOLVE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_contact_actions, setup),
        cmocka_unit_test_setup(test_flags, setup),
        cmocka_unit_test_setup(test_compensation_matrix_and_authority, setup),
        cmocka_unit_test_setup(test_repeat_problem_within_window, setup),
        cmocka_unit_test_setup(test_harassment_after_warning_and_serial_extremism, setup),
        cmocka_unit_test_setup(test_record_counts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
