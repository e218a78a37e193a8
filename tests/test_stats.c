/* Unit tests: the histogram's bucket arithmetic (daemon/stats.h), atomic
 * observation from several threads, and the Prometheus exposition and
 * address parsing of daemon/metrics.c. */
#include "testutil.h"

#include <pthread.h>

#include "../daemon/metrics.h"
#include "../daemon/stats.h"
#include "rules.h"

static void test_bucket_bounds(void **state)
{
    (void)state;
    assert_int_equal(stats_hist_bucket(0), 0);
    assert_int_equal(stats_hist_bucket(1), 0);
    assert_int_equal(stats_hist_bucket(2), 1);
    assert_int_equal(stats_hist_bucket(3), 2);
    assert_int_equal(stats_hist_bucket(4), 2);
    assert_int_equal(stats_hist_bucket(5), 3);
    assert_int_equal(stats_hist_bucket(1000), 10);   /* 512 < 1000 <= 1024 */
    assert_int_equal(stats_hist_bucket(1024), 10);
    assert_int_equal(stats_hist_bucket(1025), 11);
    const int last = STATS_HIST_BUCKETS - 1;
    assert_int_equal(stats_hist_bucket((uint64_t)1 << (last - 1)), last - 1);
    assert_int_equal(stats_hist_bucket(((uint64_t)1 << (last - 1)) + 1), last);  /* +Inf */
    assert_int_equal(stats_hist_bucket(UINT64_MAX), last);
    assert_int_equal(stats_hist_le(0), 1);
    assert_int_equal(stats_hist_le(10), 1024);
    assert_int_equal(stats_hist_le(last), 0);  /* +Inf */

    /* Every value lies in (le(i-1), le(i)] of its bucket. */
    for (uint64_t v = 0; v < 200000; v += 1 + v / 64) {
        int i = stats_hist_bucket(v);
        if (i < last)
            assert_true(v <= stats_hist_le(i));
        else
            assert_true(v > stats_hist_le(last - 1));
        if (i > 0)
            assert_true(v > stats_hist_le(i - 1));
    }
}

static void test_observe_and_read(void **state)
{
    (void)state;
    stats_hist h;
    memset(&h, 0, sizeof h);
    uint64_t vals[] = {0, 1, 2, 3, 4, 100, 1000, 1000, (uint64_t)1 << 40};
    uint64_t want_sum = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        stats_observe(&h, vals[i]);
        want_sum += vals[i];
    }
    stats_observe_n(&h, 7, 3);  /* three 7s: bucket le=8 */
    want_sum += 21;
    uint64_t cum[STATS_HIST_BUCKETS], sum;
    stats_hist_read(&h, cum, &sum);
    assert_int_equal(sum, want_sum);
    assert_int_equal(cum[0], 2);    /* 0, 1 */
    assert_int_equal(cum[1], 3);    /* + 2 */
    assert_int_equal(cum[2], 5);    /* + 3, 4 */
    assert_int_equal(cum[3], 8);    /* + 7 x3 */
    assert_int_equal(cum[6], 8);
    assert_int_equal(cum[7], 9);    /* + 100 (64 < 100 <= 128) */
    assert_int_equal(cum[10], 11);  /* + 1000 x2 */
    assert_int_equal(cum[STATS_HIST_BUCKETS - 2], 11);
    assert_int_equal(cum[STATS_HIST_BUCKETS - 1], 12);  /* + 2^40 in +Inf: the count */
    for (int i = 1; i < STATS_HIST_BUCKETS; i++)
        assert_true(cum[i] >= cum[i - 1]);
}

enum { THREADS = 4, PER_THREAD = 100000 };

static void *observer(void *arg)
{
    stats_hist *h = arg;
    for (uint64_t i = 0; i < PER_THREAD; i++)
        stats_observe(h, i % 5000);
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    stats_hist *h = calloc(1, sizeof *h);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, observer, h);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t cum[STATS_HIST_BUCKETS], sum;
    stats_hist_read(h, cum, &sum);
    assert_int_equal(cum[STATS_HIST_BUCKETS - 1], (uint64_t)THREADS * PER_THREAD);
    uint64_t one = 0;
    for (uint64_t i = 0; i < PER_THREAD; i++)
        one += i % 5000;
    assert_int_equal(sum, THREADS * one);
    free(h);
}

static void test_in_flight(void **state)
{
    (void)state;
    daemon_stats *s = calloc(1, sizeof *s);
    STAT_ADD(s->received, 10);
    STAT_ADD(s->decided, 6);
    STAT_ADD(s->rejected, 2);
    assert_int_equal(stats_in_flight(s), 2);
    STAT_ADD(s->decided, 5);  /* a racy read may see more done than received */
    assert_int_equal(stats_in_flight(s), 0);
    free(s);
}

/* The value of the line that starts with prefix (a metric and its labels). */
static double value_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, prefix, n) == 0 && line[n] == ' ')
            return atof(line + n + 1);
    fail_msg("no line '%s' in the exposition", prefix);
    return -1;
}

static void test_render(void **state)
{
    (void)state;
    daemon_stats *s = calloc(1, sizeof *s);
    STAT_ADD(s->received, 5);
    STAT_ADD(s->decided, 4);
    STAT_ADD(s->per_action[ACTION_COUNT - 1], 4);
    STAT_ADD(s->span_misses, 2);
    stats_observe(&s->h_commit_us, 1500);  /* 1.5 ms: bucket le=2048 us */
    stats_observe(&s->h_batch_events, 3);
    stats_observe(&s->h_batch_events, 1);
    stats_rules_init(&s->rules);
    rule rules[2] = {{.id = "a.b"}, {.id = "quote\"back\\slash"}};
    rulepack rp = {.rules = rules, .n_rules = 2};
    atomic_uint_fast64_t *hits = stats_rules_register(&s->rules, &rp);
    assert_non_null(hits);
    STAT_ADD(hits[0], 7);
    s->started_ms = 1000;
    strbuf sb = STRBUF_INIT;
    metrics_render(s, NULL, 3500, &sb);
    assert_false(strbuf_failed(&sb));
    const char *t = sb.buf;
    assert_non_null(strstr(t, "# TYPE complaintd_events_received_total counter\n"));
    assert_non_null(strstr(t, "# TYPE complaintd_commit_seconds histogram\n"));
    assert_true(value_of(t, "complaintd_events_received_total") == 5);
    assert_true(value_of(t, "complaintd_events_decided_total") == 4);
    assert_true(value_of(t, "complaintd_events_in_flight") == 1);
    assert_true(value_of(t, "complaintd_span_misses_total") == 2);
    char key[128];
    snprintf(key, sizeof key, "complaintd_decisions_total{action=\"%s\"}", action_name(ACTION_COUNT - 1));
    assert_true(value_of(t, key) == 4);
    assert_true(value_of(t, "complaintd_commit_seconds_bucket{le=\"0.001024\"}") == 0);
    assert_true(value_of(t, "complaintd_commit_seconds_bucket{le=\"0.002048\"}") == 1);
    assert_true(value_of(t, "complaintd_commit_seconds_bucket{le=\"+Inf\"}") == 1);
    assert_true(value_of(t, "complaintd_commit_seconds_count") == 1);
    assert_true(value_of(t, "complaintd_commit_seconds_sum") == 0.0015);
    assert_true(value_of(t, "complaintd_commit_batch_events_bucket{le=\"1\"}") == 1);
    assert_true(value_of(t, "complaintd_commit_batch_events_bucket{le=\"4\"}") == 2);
    assert_true(value_of(t, "complaintd_commit_batch_events_sum") == 4);
    assert_true(value_of(t, "complaintd_uptime_seconds") == 2.5);
    assert_true(value_of(t, "complaintd_rule_hits_total{rule=\"a.b\"}") == 7);
    assert_true(value_of(t, "complaintd_rule_hits_total{rule=\"quote\\\"back\\\\slash\"}") == 0);
    assert_null(strstr(t, "lmdb"));  /* no environment given */
    strbuf_free(&sb);
    stats_rules_free(&s->rules);
    free(s);
}

/* Hits by rule id, carried over reloads; only the running pack's rules shown. */
static void test_rule_registry(void **state)
{
    (void)state;
    stats_rules r;
    stats_rules_init(&r);
    const char **ids;
    uint64_t *tot;
    assert_int_equal(stats_rules_snapshot(&r, &ids, &tot), 0);
    assert_null(ids);

    rule v1[3] = {{.id = "x"}, {.id = "y"}, {.id = "gone"}};
    rulepack p1 = {.rules = v1, .n_rules = 3};
    atomic_uint_fast64_t *h1 = stats_rules_register(&r, &p1);
    STAT_ADD(h1[0], 5);
    STAT_ADD(h1[1], 1);
    STAT_ADD(h1[2], 9);

    rule v2[3] = {{.id = "new"}, {.id = "x"}, {.id = "x"}};  /* reordered, one id twice */
    rulepack p2 = {.rules = v2, .n_rules = 3};
    atomic_uint_fast64_t *h2 = stats_rules_register(&r, &p2);
    STAT_ADD(h2[1], 2);
    STAT_ADD(h2[2], 1);
    STAT_ADD(h1[0], 1);  /* an old classifier still counting after the swap */

    size_t n = stats_rules_snapshot(&r, &ids, &tot);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], "new");
    assert_int_equal(tot[0], 0);
    assert_string_equal(ids[1], "x");
    assert_int_equal(tot[1], 5 + 1 + 2 + 1);
    free(ids);
    free(tot);
    stats_rules_free(&r);
}

static void test_addresses(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(metrics_enabled(""), 0);
    assert_int_equal(metrics_enabled("off"), 0);
    assert_int_equal(metrics_enabled("127.0.0.1:9560"), 1);
    const char *good[] = {"127.0.0.1:9560", "0.0.0.0:1", "*:9560", "localhost:65535", "[::1]:9560", "off", ""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (metrics_check_addr(good[i], err, sizeof err) != 0)
            fail_msg("'%s' refused: %s", good[i], err);
    const char *bad[] = {"9560", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                         "127.0.0.1:95x", "example.com:9560", "::1:9560", "[::1:9560", "1.2.3:9560"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (metrics_check_addr(bad[i], err, sizeof err) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err, bad[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_bounds),
        cmocka_unit_test(test_observe_and_read),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_in_flight),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_rule_registry),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
