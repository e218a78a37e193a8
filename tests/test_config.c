/* Unit tests: config files, flags-as-keys, bounds and the error messages. */
#include "testutil.h"

#include "config.h"

static void expect_file_error(const char *content, const char *fragment)
{
    char *dir = tu_tempdir();
    tu_write(dir, "c.conf", content);
    char path[1100], err[1024] = "";
    snprintf(path, sizeof path, "%s/c.conf", dir);
    config c;
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, err, sizeof err), -1);
    if (!strstr(err, fragment) || !strstr(err, "c.conf:"))
        fail_msg("error '%s' lacks '%s' or the file name", err, fragment);
    tu_rmdir(dir);
}

static void test_defaults_are_sane(void **state)
{
    (void)state;
    config c;
    config_defaults(&c);
    assert_string_equal(c.ingest, "tcp://127.0.0.1:5560");
    assert_non_null(strstr(c.control, "127.0.0.1"));  /* control is loopback by default */
    assert_int_equal(c.threads, 0);
    assert_true(c.batch_size > 0);
    assert_true(c.durable);
}

static void test_file_sets_keys(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    tu_write(dir, "c.conf",
             "# comment\n"
             "ingest = ipc:///tmp/x.sock\n"
             "threads = 3   # trailing comment\n"
             "durable = false\n"
             "authority_limit = 2500\n"
             "tier.2 = 1800\n"
             "matrix.refund_request = 2\n"
             "repeat_window_days = 7\n"
             "decision_log_max_age_days = 30\n"
             "gesture = a free coffee\n");
    char path[1100], err[1024];
    snprintf(path, sizeof path, "%s/c.conf", dir);
    config c;
    config_defaults(&c);
    if (config_load_file(&c, path, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_string_equal(c.ingest, "ipc:///tmp/x.sock");
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.durable, 0);
    assert_int_equal(c.pol.authority_limit, 2500);
    assert_int_equal(c.pol.tier_amount[2], 1800);
    assert_int_equal(c.pol.matrix[c.pol.n_matrix - 1].tier, 2);  /* replaced the default cell */
    assert_int_equal(c.pol.matrix[3].label, 14);
    assert_int_equal(c.pol.matrix[3].tier, 2);
    assert_int_equal(c.pol.repeat_window_ms, 7LL * 24 * 3600 * 1000);
    assert_int_equal(c.decision_log_max_age_ms, 30LL * 24 * 3600 * 1000);
    assert_string_equal(c.pol.gesture, "a free coffee");
    tu_rmdir(dir);
}

static void test_errors_name_line_and_problem(void **state)
{
    (void)state;
    expect_file_error("\nthreads = 0x\n", "c.conf:2: threads: '0x' is not a whole number");
    expect_file_error("batch_size = 0\n", "c.conf:1: batch_size: 0 is outside 1..100000");
    expect_file_error("\n\nbogus = 1\n", "c.conf:3: unknown key 'bogus'");
    expect_file_error("threads\n", "c.conf:1: expected 'key = value'");
    expect_file_error("threads = 1\nthreads = 2\n", "c.conf:2: threads is duplicate");
    expect_file_error("matrix.nonsense = 1\n", "want matrix.LABEL");
    expect_file_error("tier.9 = 1\n", "tiers are tier.1");
}

/* "model" may be repeated (its files add up, in order); "none" stands alone. */
static void test_model_key(void **state)
{
    (void)state;
    config c;
    config_defaults(&c);
    char err[256];
    assert_string_equal(c.models, "");
    assert_int_equal(c.retrain_every, 500);
    assert_int_equal(config_set(&c, "model", "a.model", err, sizeof err), 0);
    assert_int_equal(config_set(&c, "model", "b.model,c.model", err, sizeof err), 0);
    assert_string_equal(c.models, "a.model,b.model,c.model");
    assert_int_equal(config_set(&c, "model", "none", err, sizeof err), -1);
    assert_non_null(strstr(err, "none means rules alone"));
    config_defaults(&c);
    assert_int_equal(config_set(&c, "model", "none", err, sizeof err), 0);
    assert_int_equal(config_set(&c, "model", "x.model", err, sizeof err), -1);
    assert_int_equal(config_set(&c, "retrain_every", "-1", err, sizeof err), -1);
    assert_string_equal(err, "retrain_every: -1 is outside 0..100000000");
    char *dir = tu_tempdir();
    tu_write(dir, "c.conf", "model = one.model\nmodel = two.model\nretrain_every = 0\n");
    char path[1100];
    snprintf(path, sizeof path, "%s/c.conf", dir);
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, err, sizeof err), 0);
    assert_string_equal(c.models, "one.model,two.model");
    assert_int_equal(c.retrain_every, 0);
    tu_rmdir(dir);
}

static void test_missing_file(void **state)
{
    (void)state;
    config c;
    char err[512];
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, "/nonexistent/complaintd.conf", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/complaintd.conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_sane),
        cmocka_unit_test(test_file_sets_keys),
        cmocka_unit_test(test_errors_name_line_and_problem),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_model_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
