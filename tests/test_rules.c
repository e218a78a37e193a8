/* Unit tests: loading rule packs, and the errors a broken pack gives. */
#include "testutil.h"

#include "rules.h"

static void expect_load_error(const char *content, const char *fragment)
{
    char *dir = tu_tempdir();
    tu_write(dir, "toxicity.en.rules", content);
    char err[1024] = "";
    rulepack *rp = rulepack_load(dir, NULL, err, sizeof err);
    assert_null(rp);
    if (!strstr(err, fragment))
        fail_msg("error '%s' lacks '%s'", err, fragment);
    /* Every error names the file. */
    assert_non_null(strstr(err, "toxicity.en.rules"));
    tu_rmdir(dir);
}

static void test_loads_rules_and_defaults(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    tu_write(dir, "toxicity.ru.rules",
             "# comment\n"
             "threshold insult 2\n"
             "rule insult.ru.a\n"
             "  label insult\n"
             "  match дура | идиот*\n"
             "  unless не ~1 дура\n"
             "rule threat.ru.b\n"
             "  label threat\n"
             "  weight 0.5\n"
             "  lang any\n"
             "  channel chat call\n"
             "  match убью\n"
             "  match тебя\n");
    char err[1024] = "";
    rulepack *rp = rulepack_load(dir, NULL, err, sizeof err);
    if (!rp)
        fail_msg("%s", err);
    assert_int_equal(rp->n_rules, 2);
    assert_string_equal(rp->rules[0].id, "insult.ru.a");
    assert_int_equal(rp->rules[0].lang_mask, LANG_RU);  /* from the file name */
    assert_int_equal(rp->rules[0].n_match, 1);
    assert_int_equal(rp->rules[0].n_clauses, 2);        /* one match, one unless */
    assert_int_equal(rp->rules[1].lang_mask, 0);
    assert_int_equal(rp->rules[1].channel_mask, (1u << 1) | (1u << 2));
    assert_int_equal(rp->rules[1].n_match, 2);
    assert_true(rp->rules[1].weight == 0.5f);
    assert_true(rp->threshold[1] == 2.0f);
    assert_int_equal(rp->n_patterns, 5);  /* 2 + 1 + 1 + 1 alternatives */
    assert_non_null(rp->db);
    rulepack_free(rp);
    tu_rmdir(dir);
}

static void test_errors_name_file_line_and_rule(void **state)
{
    (void)state;
    expect_load_error("rule a\n  label nonsense\n  match x\n", "toxicity.en.rules:2: rule a: unknown label 'nonsense'");
    expect_load_error("rule a\n  label insult\n", "rule a: has no match line");
    expect_load_error("rule a\n  label insult\n  match x\nrule a\n  label insult\n  match y\n",
                      ":4: rule id 'a' is duplicate");
    expect_load_error("rule a\n  label insult\n  match a ~~x b\n", ":3: rule a: bad gap");
    expect_load_error("  label insult\n", ":1: indented line outside a rule");
    expect_load_error("rule a\n  label insult\n  colour red\n", "unknown key 'colour'");
    expect_load_error("rule a\n  label insult\n  weight lots\n  match x\n", "not a number");
    expect_load_error("rule a\n  label insult\n  channel fax\n  match x\n", "unknown channel 'fax'");
    expect_load_error("threshold insult\n", ":1: threshold takes a label and a number");
}

static void test_missing_dir_and_empty_dir(void **state)
{
    (void)state;
    char err[1024];
    assert_null(rulepack_load("/nonexistent/rules", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/rules"));
    char *dir = tu_tempdir();
    assert_null(rulepack_load(dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "no *.rules files"));
    tu_rmdir(dir);
}

static void test_cache_is_used_on_second_load(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    tu_write(dir, "a.en.rules", "rule a\n  label insult\n  match idiot*\n");
    char cache[1100], err[1024];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    rulepack *first = rulepack_load(dir, cache, err, sizeof err);
    assert_non_null(first);
    assert_int_equal(first->from_cache, 0);
    rulepack *second = rulepack_load(dir, cache, err, sizeof err);
    assert_non_null(second);
    assert_int_equal(second->from_cache, 1);
    assert_true(first->hash == second->hash);
    rulepack_free(first);
    rulepack_free(second);
    /* A changed pack has another key: compiled afresh. */
    tu_write(dir, "a.en.rules", "rule a\n  label insult\n  match moron*\n");
    rulepack *third = rulepack_load(dir, cache, err, sizeof err);
    assert_non_null(third);
    assert_int_equal(third->from_cache, 0);
    rulepack_free(third);
    tu_rmdir(dir);
}

static void test_default_pack_compiles(void **state)
{
    (void)state;
    const char *root = getenv("COMPLAINTD_ROOT");
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/rules", root ? root : ".");
    /* Through the suite's shared cache: compiling the full pack under the
     * sanitizers takes minutes. */
    rulepack *rp = rulepack_load(path, getenv("COMPLAINTD_CACHE"), err, sizeof err);
    if (!rp)
        fail_msg("%s", err);
    /* Every label of the taxonomy has rules. */
    int per_label[LABEL_COUNT] = {0};
    for (size_t i = 0; i < rp->n_rules; i++)
        per_label[rp->rules[i].label]++;
    for (int l = 1; l < LABEL_COUNT; l++)
        if (per_label[l] == 0)
            fail_msg("label %s has no rules", label_name(l));
    rulepack_free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_rules_and_defaults),
        cmocka_unit_test(test_errors_name_file_line_and_rule),
        cmocka_unit_test(test_missing_dir_and_empty_dir),
        cmocka_unit_test(test_cache_is_used_on_second_load),
        cmocka_unit_test(test_default_pack_compiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
