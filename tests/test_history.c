/* Unit tests: the LMDB store in a temporary directory: records survive a
 * reopen, de-duplication, the sequence, the decision log and its trimming,
 * and an aborted batch leaves nothing behind. */
#include "testutil.h"

#include <lmdb.h>

#include "complaint.pb-c.h"
#include "history.h"
#include "history.pb-c.h"

static hist_env *open_env(const char *dir)
{
    char err[512];
    hist_env *env = hist_open(dir, 16, HIST_NO_SYNC, 0, err, sizeof err);
    if (!env)
        fail_msg("%s", err);
    return env;
}

static void test_customer_roundtrip_across_reopen(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    hist_txn *t;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    hist_customer c;
    memset(&c, 0, sizeof c);
    c.events = 7;
    c.first_ms = 1000;
    c.last_ms = 99000;
    c.label_count[12] = 3;
    c.label_last_ms[12] = 98000;
    c.toxic_incidents = 2;
    c.compensation_sum = 4500;
    assert_int_equal(hist_put_customer(t, "c-1", 3, &c), HIST_OK);
    assert_int_equal(hist_commit(t), HIST_OK);
    hist_close(env);

    env = open_env(dir);
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    hist_customer back;
    assert_int_equal(hist_get_customer(t, "c-1", 3, &back), HIST_OK);
    assert_memory_equal(&back, &c, sizeof c);
    assert_int_equal(hist_get_customer(t, "c-2", 3, &back), HIST_NOTFOUND);
    assert_int_equal(back.events, 0);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

/* A record whose times are every case the relative encoding has to keep:
 * never (0), equal to first_ms, before it, far after, and the extremes. */
static hist_customer record_with_times(int64_t first_ms)
{
    hist_customer c;
    memset(&c, 0, sizeof c);
    c.first_ms = first_ms;
    c.last_ms = first_ms + 86400000LL * 30;
    c.events = 9;
    c.label_count[3] = 2;
    c.label_last_ms[3] = first_ms;           /* distance 0 */
    c.label_count[12] = 1;
    c.label_last_ms[12] = first_ms - 5000;   /* an event stamped earlier, sent later */
    c.label_decayed[12] = 0.5f;
    c.decayed_at_ms = first_ms + 1;
    c.last_escalation_ms = 0;                /* never */
    c.n_recent = 4;
    for (int i = 0; i < 4; i++) {
        c.recent[i].seq = 1000 + (uint64_t)i;
        c.recent[i].labels = 1u << 12;
        c.recent[i].action = 3;
        c.recent[i].ts_ms = first_ms + 3600000LL * i;
    }
    c.n_conflicts = 1;
    snprintf(c.conflicts[0].employee_id, sizeof c.conflicts[0].employee_id, "emp-7");
    c.conflicts[0].last_ms = INT64_MAX - 1;  /* a producer's nonsense stamp survives too */
    c.conflicts[0].count = 2;
    return c;
}

/* The store's customers sub-database through LMDB itself, bypassing
 * history.c: a transaction (read-only with MDB_RDONLY) the caller ends. */
static MDB_txn *customers_raw(const char *dir, unsigned flags, MDB_env **env, MDB_dbi *dbi)
{
    MDB_txn *txn;
    assert_int_equal(mdb_env_create(env), 0);
    mdb_env_set_maxdbs(*env, 8);
    assert_int_equal(mdb_env_open(*env, dir, flags, 0600), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, flags, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "customers", 0, dbi), 0);
    return txn;
}

/* The stored bytes of customer id. */
static size_t stored_size(const char *dir, const char *id)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn = customers_raw(dir, MDB_RDONLY, &env, &dbi);
    MDB_val k = {strlen(id), (void *)id}, v = {0, NULL};
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    size_t n = v.mv_size;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return n;
}

static void test_times_roundtrip_relative_to_first_ms(void **state)
{
    (void)state;
    /* the last: times a whole int64 range apart, which the unsigned arithmetic wraps */
    const int64_t firsts[] = {1700000000000LL, 0, -42, INT64_MIN + 86400000LL * 31};
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        hist_customer c = record_with_times(firsts[i]), back;
        hist_txn *t;
        assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
        assert_int_equal(hist_put_customer(t, "c-t", 3, &c), HIST_OK);
        assert_int_equal(hist_get_customer(t, "c-t", 3, &back), HIST_OK);
        assert_int_equal(hist_commit(t), HIST_OK);
        assert_memory_equal(&back, &c, sizeof c);
    }
    hist_close(env);
    tu_rmdir(dir);
}

/* A record written before the *_rel fields (absolute times) still reads
 * the same, and the relative form of a month's history is much smaller. */
static void test_absolute_times_of_older_records_read(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    hist_customer c = record_with_times(1700000000000LL);
    memset(c.conflicts, 0, sizeof c.conflicts);  /* the older layout below has none */
    c.n_conflicts = 0;
    hist_txn *t;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    assert_int_equal(hist_put_customer(t, "new", 3, &c), HIST_OK);
    assert_int_equal(hist_commit(t), HIST_OK);
    hist_close(env);
    size_t relative = stored_size(dir, "new");

    /* The same history in the older layout, put straight into LMDB. */
    Complaint__Store__V1__CustomerRecord r = COMPLAINT__STORE__V1__CUSTOMER_RECORD__INIT;
    Complaint__Store__V1__LabelCount lc[2], *lcp[2];
    uint32_t labels[2] = {3, 12};
    for (int i = 0; i < 2; i++) {
        complaint__store__v1__label_count__init(&lc[i]);
        lc[i].label = labels[i];
        lc[i].count = c.label_count[labels[i]];
        lc[i].last_ms = c.label_last_ms[labels[i]];
        lc[i].decayed = c.label_decayed[labels[i]];
        lcp[i] = &lc[i];
    }
    Complaint__Store__V1__RecentEvent re[4], *rep[4];
    for (int i = 0; i < 4; i++) {
        complaint__store__v1__recent_event__init(&re[i]);
        re[i].event_id = "";
        re[i].seq = c.recent[i].seq;
        re[i].labels = c.recent[i].labels;
        re[i].action = c.recent[i].action;
        re[i].ts_ms = c.recent[i].ts_ms;
        rep[i] = &re[i];
    }
    r.first_ms = c.first_ms;
    r.last_ms = c.last_ms;
    r.events = c.events;
    r.n_labels = 2;
    r.labels = lcp;
    r.n_recent = 4;
    r.recent = rep;
    r.decayed_at_ms = c.decayed_at_ms;
    uint8_t buf[1024];
    size_t n = complaint__store__v1__customer_record__pack(&r, buf);
    MDB_env *menv;
    MDB_dbi dbi;
    MDB_txn *txn = customers_raw(dir, 0, &menv, &dbi);
    MDB_val k = {3, "old"}, v = {n, buf};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(menv);

    env = open_env(dir);
    hist_customer back;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(hist_get_customer(t, "old", 3, &back), HIST_OK);
    hist_abort(t);
    assert_memory_equal(&back, &c, sizeof c);
    hist_close(env);

    /* 8 times of 6-byte varints become 1-4 bytes each. */
    assert_true(relative + 20 <= n);
    tu_rmdir(dir);
}

static void test_abort_keeps_nothing(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    hist_txn *t;
    hist_customer c = {.events = 1};
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    assert_int_equal(hist_put_customer(t, "x", 1, &c), HIST_OK);
    assert_int_equal(hist_put_event(t, "e1", 2, 5), HIST_OK);
    hist_abort(t);
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    uint64_t seq;
    assert_int_equal(hist_get_customer(t, "x", 1, &c), HIST_NOTFOUND);
    assert_int_equal(hist_get_event(t, "e1", 2, &seq), HIST_NOTFOUND);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

static void test_sequence_events_and_log(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    hist_txn *t;
    uint64_t seq = 0;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    assert_int_equal(hist_get_next_seq(t, &seq), HIST_OK);
    assert_int_equal(seq, 1);  /* a new store starts at 1 */
    for (uint64_t s = 1; s <= 300; s++) {
        char body[32];
        int n = snprintf(body, sizeof body, "decision %llu", (unsigned long long)s);
        assert_int_equal(hist_log_put(t, s, 0, NULL, body, (size_t)n), HIST_OK);
    }
    assert_int_equal(hist_put_next_seq(t, 301), HIST_OK);
    assert_int_equal(hist_put_event(t, "ev-9", 4, 9), HIST_OK);
    uint64_t removed = 0;
    assert_int_equal(hist_log_trim(t, 256, 0, &removed), HIST_OK);
    assert_int_equal(removed, 255);
    assert_int_equal(hist_commit(t), HIST_OK);

    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(hist_get_next_seq(t, &seq), HIST_OK);
    assert_int_equal(seq, 301);
    assert_int_equal(hist_get_event(t, "ev-9", 4, &seq), HIST_OK);
    assert_int_equal(seq, 9);
    const void *bytes;
    size_t len;
    assert_int_equal(hist_log_get(t, 255, &bytes, &len), HIST_NOTFOUND);  /* trimmed */
    assert_int_equal(hist_log_get(t, 256, &bytes, &len), HIST_OK);
    assert_int_equal(len, strlen("decision 256"));
    assert_memory_equal(bytes, "decision 256", len);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

/* Trimming the log also trims the de-duplication index, so it stays bounded. */
static void test_trim_forgets_event_ids(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    hist_txn *t;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    for (uint64_t s = 1; s <= 10; s++) {
        char id[16];
        snprintf(id, sizeof id, "ev-%llu", (unsigned long long)s);
        Complaint__V1__TriageDecision d = COMPLAINT__V1__TRIAGE_DECISION__INIT;
        d.event_id = id;
        d.seq = s;
        d.decided_ms = (int64_t)s * 1000;
        uint8_t buf[64];
        size_t n = complaint__v1__triage_decision__pack(&d, buf);
        assert_int_equal(hist_log_put(t, s, d.decided_ms, id, buf, n), HIST_OK);
        assert_int_equal(hist_put_event(t, id, strlen(id), s), HIST_OK);
    }
    uint64_t removed = 0, seq;
    /* by count: below seq 4; by age: decided before 6 s */
    assert_int_equal(hist_log_trim(t, 4, 6000, &removed), HIST_OK);
    assert_int_equal(removed, 5);
    assert_int_equal(hist_get_event(t, "ev-5", 4, &seq), HIST_NOTFOUND);
    assert_int_equal(hist_get_event(t, "ev-1", 4, &seq), HIST_NOTFOUND);
    assert_int_equal(hist_get_event(t, "ev-6", 4, &seq), HIST_OK);
    assert_int_equal(seq, 6);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

static int count_one(const char *id, size_t idlen, const hist_customer *c, void *ctx)
{
    (void)id;
    (void)idlen;
    *(uint32_t *)ctx += c->events;
    return 0;
}

static void test_full_map_is_reported_not_corrupting(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char err[512];
    hist_env *env = hist_open(dir, 1, HIST_NO_SYNC, 0, err, sizeof err);  /* 1 MB map */
    assert_non_null(env);
    hist_txn *t;
    int rc = HIST_OK;
    char id[32];
    hist_customer c = {.events = 1};
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    for (int i = 0; i < 100000 && rc == HIST_OK; i++) {
        snprintf(id, sizeof id, "customer-%06d", i);
        rc = hist_put_customer(t, id, strlen(id), &c);
    }
    assert_int_equal(rc, HIST_EFULL);
    assert_non_null(strstr(hist_last_error(env), "MDB_MAP_FULL"));
    hist_abort(t);
    /* The store is still usable, and holds what was committed before (nothing). */
    uint32_t total = 0;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(hist_each_customer(t, count_one, &total), HIST_OK);
    assert_int_equal(total, 0);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_customer_roundtrip_across_reopen),
        cmocka_unit_test(test_times_roundtrip_relative_to_first_ms),
        cmocka_unit_test(test_absolute_times_of_older_records_read),
        cmocka_unit_test(test_abort_keeps_nothing),
        cmocka_unit_test(test_sequence_events_and_log),
        cmocka_unit_test(test_trim_forgets_event_ids),
        cmocka_unit_test(test_full_map_is_reported_not_corrupting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
