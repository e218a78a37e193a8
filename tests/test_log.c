/* Unit tests: log lines (text and JSON) and rate-limited summaries (lograte). */
#include "testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "log.h"
#include "lograte.h"

/* 2026-12-02T11:17:50.123Z, the wall clock of these tests' lines. */
static const int64_t T0 = 1796210270123LL;

static void test_text_line_has_time_level_and_fields(void **state)
{
    (void)state;
    char line[512];
    log_field f[] = {LOG_NUM("events", 500), LOG_STR("reason", "empty text"), LOG_STR("id", "e-1")};
    log_format_line(line, sizeof line, LOG_FORMAT_TEXT, 1, T0, LOG_WARN, "rejected", f, 3);
    assert_string_equal(line, "2026-12-02T11:17:50.123Z warn rejected events=500 reason=\"empty text\" id=e-1");
    /* A newline in a hostile id cannot start a second line. */
    log_format_line(line, sizeof line, LOG_FORMAT_TEXT, 0, T0, LOG_ERROR, "event 'a\nb'", NULL, 0);
    assert_string_equal(line, "error event 'a?b'");
}

static void test_json_line_is_one_object(void **state)
{
    (void)state;
    char line[512];
    log_field f[] = {LOG_NUM("events", 3), LOG_STR("example", "say \"hi\"\n")};
    log_format_line(line, sizeof line, LOG_FORMAT_JSON, 1, T0, LOG_DEBUG, "tab\there", f, 2);
    assert_null(strchr(line, '\n'));
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    if (!o)
        fail_msg("not JSON: %s: %s", line, je.text);
    assert_string_equal(json_string_value(json_object_get(o, "ts")), "2026-12-02T11:17:50.123Z");
    assert_string_equal(json_string_value(json_object_get(o, "level")), "debug");
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "tab\there");
    assert_int_equal(json_integer_value(json_object_get(o, "events")), 3);
    assert_string_equal(json_string_value(json_object_get(o, "example")), "say \"hi\"\n");
    json_decref(o);
}

static void test_long_lines_are_cut_not_overrun(void **state)
{
    (void)state;
    char big[3000], line[64];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t n = log_format_line(line, sizeof line, LOG_FORMAT_TEXT, 1, T0, LOG_INFO, big, NULL, 0);
    assert_int_equal(n, sizeof line - 1);
    assert_int_equal(strlen(line), sizeof line - 1);
}

static void test_summary_counts_by_reason(void **state)
{
    (void)state;
    lograte r;
    lograte_init(&r, "rejected", LOG_WARN, 10000);
    assert_int_equal(lograte_due_ms(&r, T0), -1);
    for (int i = 0; i < 500; i++)
        lograte_note(&r, i % 5 < 3 ? "empty text" : "malformed protobuf: not a complaint.v1.ComplaintEvent",
                     i == 0 ? "event 'e-0'" : "event 'e-n'", T0 + i);
    assert_int_equal(lograte_due_ms(&r, T0 + 4000), 6000);
    assert_int_equal(lograte_flush(&r, T0 + 9999, 0), 0);  /* not due yet */
    char msg[512];
    assert_int_equal(lograte_summary(&r, T0 + 10000, msg, sizeof msg), 500);
    assert_string_equal(msg, "rejected 500 events in 10 s: empty text 300, malformed protobuf 200 "
                             "(first: event 'e-0': empty text)");
    assert_int_equal(lograte_flush(&r, T0 + 10000, 0), 500);
    assert_int_equal(r.summaries, 1);
    assert_int_equal(lograte_flush(&r, T0 + 20000, 1), 0);  /* nothing new: no line */
    assert_int_equal(lograte_due_ms(&r, T0 + 20000), -1);
    /* A new window opens with the next note; force flushes it early. */
    lograte_note(&r, "empty text", NULL, T0 + 30000);
    assert_int_equal(lograte_flush(&r, T0 + 30001, 1), 1);
    assert_int_equal(r.summaries, 2);
    lograte_destroy(&r);
}

static void test_a_late_note_flushes_the_old_window(void **state)
{
    (void)state;
    lograte r;
    lograte_init(&r, "rejected", LOG_WARN, 1000);
    lograte_note(&r, "empty text", NULL, T0);
    lograte_note(&r, "empty text", NULL, T0 + 5000);  /* the first window is long over */
    assert_int_equal(r.summaries, 1);
    char msg[256];
    assert_int_equal(lograte_summary(&r, T0 + 5000, msg, sizeof msg), 1);
    lograte_destroy(&r);
}

static void test_too_many_reasons_count_as_other(void **state)
{
    (void)state;
    lograte r;
    lograte_init(&r, "rejected", LOG_WARN, 1000);
    char reason[32];
    for (int i = 0; i < LOGRATE_REASONS + 5; i++) {
        snprintf(reason, sizeof reason, "reason %d", i);
        lograte_note(&r, reason, NULL, T0);
    }
    char msg[2048];
    assert_int_equal(lograte_summary(&r, T0 + 1000, msg, sizeof msg), LOGRATE_REASONS + 5);
    assert_non_null(strstr(msg, ", other 5"));
    lograte_destroy(&r);
}

static lograte shared;

static void *noter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++)
        lograte_note(&shared, "empty text", NULL, T0);
    return NULL;
}

static void test_threads_share_one_counter(void **state)
{
    (void)state;
    lograte_init(&shared, "rejected", LOG_WARN, 60000);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, noter, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char msg[256];
    assert_int_equal(lograte_summary(&shared, T0 + 1, msg, sizeof msg), 40000);
    lograte_destroy(&shared);
}

/* The summary really is one line on stderr, with its fields. */
static void test_flush_writes_one_line(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char path[1100];
    snprintf(path, sizeof path, "%s/err", dir);
    fflush(stderr);
    int saved = dup(2);
    assert_non_null(freopen(path, "w", stderr));
    log_set_format(LOG_FORMAT_JSON);
    lograte r;
    lograte_init(&r, "rejected", LOG_WARN, 1000);
    for (int i = 0; i < 50; i++)
        lograte_note(&r, "empty text", NULL, T0);
    lograte_flush(&r, T0 + 1000, 0);
    lograte_destroy(&r);
    log_set_format(LOG_FORMAT_TEXT);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    char line[1024];
    int lines = 0;
    json_t *o = NULL;
    while (fgets(line, sizeof line, f)) {
        lines++;
        o = json_loads(line, 0, NULL);
    }
    fclose(f);
    assert_int_equal(lines, 1);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "rejected 50 events in 1 s: empty text 50 (first: empty text)");
    assert_int_equal(json_integer_value(json_object_get(o, "events")), 50);
    json_decref(o);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line_has_time_level_and_fields),
        cmocka_unit_test(test_json_line_is_one_object),
        cmocka_unit_test(test_long_lines_are_cut_not_overrun),
        cmocka_unit_test(test_summary_counts_by_reason),
        cmocka_unit_test(test_a_late_note_flushes_the_old_window),
        cmocka_unit_test(test_too_many_reasons_count_as_other),
        cmocka_unit_test(test_threads_share_one_counter),
        cmocka_unit_test(test_flush_writes_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
