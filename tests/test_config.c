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
    expect_file_error("\nthreads = 0x\n", "c.conf:2: threads = 0x: want a whole number from 0 to 256");
    expect_file_error("batch_size = 0\n", "c.conf:1: batch_size = 0: want 1 to 100000");
    expect_file_error("\n\nbogus = 1\n", "c.conf:3: unknown key 'bogus'");
    expect_file_error("threads\n", "c.conf:1: expected 'key = value'");
    expect_file_error("threads = 1\nthreads = 2\n", "c.conf:2: threads is duplicate (first set on line 1)");
    expect_file_error("tier.9 = 1\n", "tiers are tier.1");
    expect_file_error("durable = maybe\n", "c.conf:1: durable = maybe: want 0 or 1");
    expect_file_error("allow_plaintext = 2\n", "c.conf:1: allow_plaintext = 2: want 0 or 1");
    expect_file_error("log_format = xml\n", "c.conf:1: log_format = xml: want one of text/json");
    expect_file_error("log_target = file\n", "log_target = file: want one of stderr/syslog");
}

static void test_matrix_errors_name_the_bad_part(void **state)
{
    (void)state;
    expect_file_error("\nmatrix.service_failure.channel:sms = 1\n",
                      "c.conf:2: matrix.service_failure.channel:sms: the value 'sms' is not a channel (call, chat");
    expect_file_error("matrix.nonsense = 1\n", "matrix.nonsense: 'nonsense' is not a label (");
    expect_file_error("matrix.service_failure.colour:red = 1\n",
                      "matrix.service_failure.colour:red: unknown condition 'colour'");
    expect_file_error("matrix.service_failure.repeat:x = 1\n",
                      "the value 'x' is not a repeat count");
    expect_file_error("matrix.service_failure.channel:chat.channel:call = 1\n", "channel: given twice");
    expect_file_error("matrix.service_failure = 9\n", "matrix.service_failure = 9: want a tier from 0 to 7");
    expect_file_error("tier.1 = lots\n", "tier.1 = lots: want an amount");
    expect_file_error("authority. = 5\n", "want authority.STORE_ID = AMOUNT");
}

static void test_table_duplicates_are_refused(void **state)
{
    (void)state;
    expect_file_error("tier.2 = 1800\ntier.2 = 1900\n", "c.conf:2: tier.2 is duplicate (first set on line 1)");
    expect_file_error("tier.2 = 1800\ntier.02 = 1900\n", "c.conf:2: tier.02 is duplicate (first set on line 1)");
    expect_file_error("authority.s1 = 5\n\nauthority.s1 = 6\n",
                      "c.conf:3: authority.s1 is duplicate (first set on line 1)");
    expect_file_error("matrix.refund_request = 1\nmatrix.refund_request = 2\n",
                      "c.conf:2: matrix.refund_request is duplicate");
    /* The same cell spelt with its conditions in another order. */
    expect_file_error("matrix.refund_request.channel:chat.repeat:2 = 1\n"
                      "matrix.refund_request.repeat:2.channel:chat = 2\n",
                      "c.conf:2: matrix.refund_request.repeat:2.channel:chat is duplicate (first set on line 1)");
}

static void test_distinct_table_keys_are_fine(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    tu_write(dir, "c.conf",
             "matrix.refund_request = 1\n"
             "matrix.refund_request.channel:chat = 2\n"
             "matrix.refund_request.repeat:2 = 3\n"
             "authority.s1 = 5\nauthority.s2 = 5\n");
    char path[1100], err[1024];
    snprintf(path, sizeof path, "%s/c.conf", dir);
    config c;
    config_defaults(&c);
    if (config_load_file(&c, path, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_int_equal(c.pol.n_store_limits, 2);
    tu_rmdir(dir);
}

static void test_tiers_must_rise(void **state)
{
    (void)state;
    /* The defaults are 500, 1500, 5000, 15000. */
    expect_file_error("\ntier.3 = 1000\n", "c.conf:2: tier.3 = 1000 is not above tier.2 = 1500 (tiers must rise)");
    expect_file_error("tier.1 = 2000\ntier.2 = 2000\n", "c.conf:2: tier.2 = 2000 is not above tier.1 = 2000");
    expect_file_error("tier.2 = 6000\n", "c.conf:1: tier.3 = 5000 is not above tier.2 = 6000");
}

static void test_endpoints_and_metrics_address(void **state)
{
    (void)state;
    expect_file_error("\n\ningest = tcp://127.0.0.1\n",
                      "c.conf:3: ingest = tcp://127.0.0.1: want tcp://HOST:PORT with a port from 1 to 65535");
    expect_file_error("publish = tcp://127.0.0.1:99999\n", "c.conf:1: publish = tcp://127.0.0.1:99999: want tcp://HOST:PORT");
    expect_file_error("control = udp://x:1\n", "c.conf:1: control = udp://x:1: want tcp://HOST:PORT, ipc://PATH");
    expect_file_error("ingest = \n", "c.conf:1: ingest = : want tcp://HOST:PORT");
    expect_file_error("metrics = 9560\n", "c.conf:1: metrics = 9560: want HOST:PORT");
    expect_file_error("metrics = nonsense:12\n", "c.conf:1: metrics = nonsense:12: want HOST:PORT");
    char why[200];
    assert_int_equal(config_check_endpoint("tcp://*:5560", why, sizeof why), 0);
    assert_int_equal(config_check_endpoint("ipc:///run/complaintd.sock", why, sizeof why), 0);
    assert_int_equal(config_check_endpoint("ipc://", why, sizeof why), -1);
    assert_int_equal(config_check_hostport("off", why, sizeof why), 0);
    assert_int_equal(config_check_hostport("[::1]:9560", why, sizeof why), 0);
    assert_int_equal(config_check_hostport("127.0.0.1:0", why, sizeof why), -1);
    config c;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "ingest_acked", "", why, sizeof why), 0);  /* off */
}

static void test_restart_keys(void **state)
{
    (void)state;
    config a, b;
    config_defaults(&a);
    config_defaults(&b);
    char out[256], err[256];
    assert_int_equal(config_restart_keys(&a, &b, out, sizeof out), 0);
    assert_int_equal(config_set(&b, "threads", "3", err, sizeof err), 0);
    assert_int_equal(config_set(&b, "log_format", "json", err, sizeof err), 0);
    assert_int_equal(config_set(&b, "toxicity_limit", "5", err, sizeof err), 0);  /* live */
    assert_int_equal(config_set(&b, "tier.4", "20000", err, sizeof err), 0);      /* live */
    assert_int_equal(config_restart_keys(&a, &b, out, sizeof out), 2);
    assert_string_equal(out, "threads log_format");
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
    assert_string_equal(err, "retrain_every = -1: want 0 to 100000000");
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
        cmocka_unit_test(test_matrix_errors_name_the_bad_part),
        cmocka_unit_test(test_table_duplicates_are_refused),
        cmocka_unit_test(test_distinct_table_keys_are_fine),
        cmocka_unit_test(test_tiers_must_rise),
        cmocka_unit_test(test_endpoints_and_metrics_address),
        cmocka_unit_test(test_restart_keys),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_model_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
