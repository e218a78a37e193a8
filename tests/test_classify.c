/* Unit tests: rule logic (all-of, unless, cancels, channel, language,
 * thresholds) and spans mapped back to the original bytes. */
#include "testutil.h"

#include "classify.h"

static char *dir;
static rulepack *rp;
static classifier *cl;

static int setup(void **state)
{
    (void)state;
    dir = tu_tempdir();
    tu_write(dir, "test.en.rules",
             "rule insult.en.idiot\n  label insult\n  match idiot* | moron*\n"
             "  unless called me ~2 idiot*\n"
             "rule service.en.called_me\n  label service_failure\n  match called me ~2 idiot*\n"
             "  cancels insult\n"
             "rule blackmail.en.refund_or_review\n  label blackmail\n  match refund* ~~4 review*\n"
             "  match or\n"
             "rule blame.en.did_not_listen\n  label staff_blame\n  channel staff_note\n"
             "  match did not listen\n"
             "threshold excessive_demand 2\n"
             "rule excessive.en.owe\n  label excessive_demand\n  match owe me\n"
             "rule excessive.en.demand\n  label excessive_demand\n  match i demand\n");
    tu_write(dir, "test.ru.rules", "rule insult.ru.dura\n  label insult\n  match дура\n");
    char err[1024];
    rp = rulepack_load(dir, NULL, err, sizeof err);
    if (!rp)
        fail_msg("%s", err);
    cl = classifier_new(rp);
    assert_non_null(cl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    classifier_free(cl);
    rulepack_free(rp);
    tu_rmdir(dir);
    return 0;
}

static label_set labels_of(const char *text, int channel, const char *lang)
{
    classify_result r;
    assert_int_equal(classify_text(cl, text, strlen(text), channel, lang, &r), CLASSIFY_OK);
    return r.labels;
}


static void test_plain_and_unless_and_cancels(void **state)
{
    (void)state;
    assert_int_equal(labels_of("You are an IDIOT!", 2, "en"), LABEL_BIT(LABEL_INSULT));
    /* Reporting staff rudeness: service_failure, and insult is cancelled. */
    assert_int_equal(labels_of("the cashier called me an idiot", 2, "en"), LABEL_BIT(LABEL_SERVICE_FAILURE));
    assert_int_equal(labels_of("nothing to see", 2, "en"), 0);
}

static void test_all_of_and_either_order(void **state)
{
    (void)state;
    assert_int_equal(labels_of("a refund or I write a review", 2, "en"), LABEL_BIT(LABEL_BLACKMAIL));
    assert_int_equal(labels_of("a review or a quick refund", 2, "en"), LABEL_BIT(LABEL_BLACKMAIL));
    /* both words but not the second match clause ("or"): no blackmail */
    assert_int_equal(labels_of("refund then review", 2, "en"), 0);
    /* too far apart */
    assert_int_equal(labels_of("refund it was just not what we expected review or", 2, "en"), 0);
}

static void test_channel_and_language(void **state)
{
    (void)state;
    assert_int_equal(labels_of("the client did not listen", 6, "en"), LABEL_BIT(LABEL_STAFF_BLAME));
    assert_int_equal(labels_of("the client did not listen", 2, "en"), 0);
    /* A hint never hides what the text says: a Russian rule fires on an
     * event marked Polish, as without a hint (issue 15). */
    assert_int_equal(labels_of("ты дура", 2, "pl"), LABEL_BIT(LABEL_INSULT));
    assert_int_equal(labels_of("ты дура", 2, ""), LABEL_BIT(LABEL_INSULT));
    assert_int_equal(labels_of("ты дура", 2, NULL), LABEL_BIT(LABEL_INSULT));
}

static void test_threshold_needs_two_rules(void **state)
{
    (void)state;
    assert_int_equal(labels_of("you owe me", 2, "en"), 0);
    assert_int_equal(labels_of("you owe me and i demand more", 2, "en"), LABEL_BIT(LABEL_EXCESSIVE_DEMAND));
}

static void test_span_points_at_original_bytes(void **state)
{
    (void)state;
    const char *text = "Ну ты Д.У.Р.А, честно";
    classify_result r;
    assert_int_equal(classify_text(cl, text, strlen(text), 2, "ru", &r), CLASSIFY_OK);
    assert_int_equal(r.labels, LABEL_BIT(LABEL_INSULT));
    assert_int_equal(r.n_matches, 1);
    assert_string_equal(rp->rules[r.matches[0].rule].id, "insult.ru.dura");
    const char *want = "Д.У.Р.А";
    assert_int_equal(r.matches[0].end - r.matches[0].start, strlen(want));
    assert_memory_equal(text + r.matches[0].start, want, strlen(want));
}

/* "w1 w2 ... wn" for words w<from> .. w<to - 1>, then " " */
static void filler(char *buf, size_t cap, int from, int to)
{
    for (int i = from; i < to; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "w%d ", i);
    }
}

/* A span the walk back cannot find still labels, but is counted as a miss
 * and not reported. Today's known case: an either-order alternative (not
 * chained, so its start comes from span.c) that reaches further back than
 * span.c's word window (128 words). */
static void test_span_misses_are_counted(void **state)
{
    (void)state;
    char *d = tu_tempdir();
    tu_write(d, "far.en.rules",
             "rule blackmail.en.far\n  label blackmail\n"
             "  match alpha ~50 beta ~50 gamma ~~50 delta\n");
    char err[1024];
    rulepack *far = rulepack_load(d, NULL, err, sizeof err);
    if (!far)
        fail_msg("%s", err);
    classifier *c = classifier_new(far);
    assert_non_null(c);
    classify_result r;

    /* Within reach: found, no miss. */
    const char *near = "alpha beta gamma delta";
    assert_int_equal(classify_text(c, near, strlen(near), 2, "en", &r), CLASSIFY_OK);
    assert_int_equal(r.labels, LABEL_BIT(LABEL_BLACKMAIL));
    assert_int_equal(r.n_matches, 1);
    assert_int_equal(r.matches[0].start, 0);
    assert_int_equal(r.span_misses, 0);
    assert_int_equal(classifier_span_misses(c), 0);

    /* 4 + 3 * 50 words: the scan matches, the walk back does not reach. */
    static char text[4096];
    text[0] = '\0';
    strcat(text, "alpha ");
    filler(text, sizeof text, 0, 50);
    strcat(text, "beta ");
    filler(text, sizeof text, 50, 100);
    strcat(text, "gamma ");
    filler(text, sizeof text, 100, 150);
    strcat(text, "delta");
    for (int k = 1; k <= 2; k++) {
        assert_int_equal(classify_text(c, text, strlen(text), 2, "en", &r), CLASSIFY_OK);
        assert_int_equal(r.labels, LABEL_BIT(LABEL_BLACKMAIL));  /* the label stays */
        assert_int_equal(r.n_matches, 0);                         /* its span is not made up */
        assert_int_equal(r.span_misses, 1);
        assert_int_equal(classifier_span_misses(c), (uint64_t)k);
    }
    classifier_free(c);
    rulepack_free(far);
    tu_rmdir(d);
}

static void test_invalid_utf8_is_refused(void **state)
{
    (void)state;
    classify_result r;
    assert_int_equal(classify_text(cl, "bad \xff\xfe", 6, 2, "en", &r), CLASSIFY_EUTF8);
}

/* A pack of its own (the group's pack has no customer-channel rule): one
 * rule per channel restriction, classified on the unknown channel 0. */
static label_set own_pack_labels(const char *rules, const char *text, int channel, const char *lang)
{
    char *d = tu_tempdir();
    tu_write(d, "own.en.rules", rules);
    char err[1024];
    rulepack *p = rulepack_load(d, NULL, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    classifier *c = classifier_new(p);
    assert_non_null(c);
    classify_result r;
    assert_int_equal(classify_text(c, text, strlen(text), channel, lang, &r), CLASSIFY_OK);
    label_set got = r.labels;
    classifier_free(c);
    rulepack_free(p);
    tu_rmdir(d);
    return got;
}

static void test_unknown_channel_is_a_customer_channel(void **state)
{
    (void)state;
    const char *pack =
        "rule insult.en.clown\n  label insult\n  channel call chat email review social\n"
        "  match clown*\n"
        "rule shaming.en.tell_all\n  label public_shaming_threat\n  channel review social\n"
        "  match tell ~1 everyone\n"
        "rule blame.en.his_fault\n  label staff_blame\n  channel staff_note\n"
        "  match his ~1 own ~1 fault\n";
    /* The proto default (no channel set) may be any customer channel... */
    assert_int_equal(own_pack_labels(pack, "you clowns", CHANNEL_UNSPECIFIED, "en"),
                     LABEL_BIT(LABEL_INSULT));
    assert_int_equal(own_pack_labels(pack, "I will tell everyone", CHANNEL_UNSPECIFIED, ""),
                     LABEL_BIT(LABEL_PUBLIC_SHAMING_THREAT));
    /* ...but is not known to be an employee's note. */
    assert_int_equal(own_pack_labels(pack, "it was his own fault", CHANNEL_UNSPECIFIED, "en"), 0);
    assert_int_equal(own_pack_labels(pack, "it was his own fault", CHANNEL_STAFF_NOTE, "en"),
                     LABEL_BIT(LABEL_STAFF_BLAME));
    /* Known channels keep their restriction. */
    assert_int_equal(own_pack_labels(pack, "you clowns", CHANNEL_STAFF_NOTE, "en"), 0);
    assert_int_equal(own_pack_labels(pack, "I will tell everyone", CHANNEL_CHAT, "en"), 0);
}

static void test_lang_hint_never_hides_text(void **state)
{
    (void)state;
    /* A wrong hint: Russian words in an event marked English. */
    assert_int_equal(labels_of("ну ты и дура", CHANNEL_CHAT, "en"), LABEL_BIT(LABEL_INSULT));
    /* Code-switching: English and Russian rules both fire whatever the hint. */
    label_set both = LABEL_BIT(LABEL_INSULT) | LABEL_BIT(LABEL_EXCESSIVE_DEMAND);
    assert_int_equal(labels_of("moron, you owe me and i demand it, дура", CHANNEL_CHAT, "ru"), both);
    assert_int_equal(labels_of("moron, you owe me and i demand it, дура", CHANNEL_CHAT, "pl"), both);
    assert_int_equal(labels_of("дура", CHANNEL_CHAT, "uk"), LABEL_BIT(LABEL_INSULT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_unless_and_cancels),
        cmocka_unit_test(test_all_of_and_either_order),
        cmocka_unit_test(test_channel_and_language),
        cmocka_unit_test(test_threshold_needs_two_rules),
        cmocka_unit_test(test_span_points_at_original_bytes),
        cmocka_unit_test(test_span_misses_are_counted),
        cmocka_unit_test(test_invalid_utf8_is_refused),
        cmocka_unit_test(test_unknown_channel_is_a_customer_channel),
        cmocka_unit_test(test_lang_hint_never_hides_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
