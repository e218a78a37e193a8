/* Unit tests: a partition's histories as a unit (part_store.h): a dump
 * holds exactly the partition's customers, a drop removes them and their
 * event ids and nothing else, a load brings them back byte for byte, and a
 * broken dump is refused whole. Real LMDB in a temp dir. */
#include "testutil.h"

#include "codec.h"
#include "part_store.h"
#include "partition.h"

enum { PARTS = 8, CUSTOMERS = 200 };

static hist_env *open_env(char **dir)
{
    char err[256];
    *dir = tu_tempdir();
    hist_env *env = hist_open(*dir, 16, HIST_NO_SYNC, 0, err, sizeof err);
    assert_non_null(env);
    return env;
}

/* Customer i has i+1 events; each has one logged decision with an event id. */
static void fill(hist_env *env)
{
    hist_txn *t;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    for (int i = 0; i < CUSTOMERS; i++) {
        char id[32], ev[32];
        snprintf(id, sizeof id, "cust-%d", i);
        snprintf(ev, sizeof ev, "ev-%d", i);
        hist_customer c = {.first_ms = 1000, .last_ms = 2000 + i, .events = (uint32_t)i + 1};
        assert_int_equal(hist_put_customer(t, id, strlen(id), &c), HIST_OK);
        decision_msg d = COMPLAINT__V1__TRIAGE_DECISION__INIT;
        d.event_id = ev;
        d.customer_id = id;
        d.seq = (uint64_t)i + 1;
        uint8_t buf[256];
        size_t n = complaint__v1__triage_decision__pack(&d, buf);
        assert_int_equal(hist_log_put(t, d.seq, 0, ev, buf, n), HIST_OK);
        assert_int_equal(hist_put_event(t, ev, strlen(ev), d.seq), HIST_OK);
    }
    assert_int_equal(hist_commit(t), HIST_OK);
}

static int customer_exists(hist_env *env, int i, uint32_t *events)
{
    char id[32];
    snprintf(id, sizeof id, "cust-%d", i);
    hist_txn *t;
    hist_customer c;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    int rc = hist_get_customer(t, id, strlen(id), &c);
    hist_abort(t);
    *events = c.events;
    return rc == HIST_OK;
}

static int event_exists(hist_env *env, int i)
{
    char ev[32];
    snprintf(ev, sizeof ev, "ev-%d", i);
    hist_txn *t;
    uint64_t seq;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    int rc = hist_get_event(t, ev, strlen(ev), &seq);
    hist_abort(t);
    return rc == HIST_OK;
}

static int part_of(int i)
{
    char id[32];
    snprintf(id, sizeof id, "cust-%d", i);
    return part_of_customer(id, strlen(id), PARTS);
}

static void test_dump_drop_load_round_trip(void **state)
{
    (void)state;
    char *dir;
    hist_env *env = open_env(&dir);
    fill(env);
    const int part = 3;
    int in_part = 0;
    for (int i = 0; i < CUSTOMERS; i++)
        in_part += part_of(i) == part;
    assert_true(in_part > 5 && in_part < CUSTOMERS);  /* the hash spreads them */

    strbuf dump = STRBUF_INIT;
    size_t n = 0, dropped = 0, events = 0;
    assert_int_equal(pstore_dump(env, part, PARTS, &dump, &n), HIST_OK);
    assert_int_equal((int)n, in_part);
    assert_int_equal(pstore_drop(env, part, PARTS, &dropped, &events), HIST_OK);
    assert_int_equal((int)dropped, in_part);
    assert_int_equal((int)events, in_part);
    for (int i = 0; i < CUSTOMERS; i++) {
        uint32_t ev;
        assert_int_equal(customer_exists(env, i, &ev), part_of(i) != part);
        assert_int_equal(event_exists(env, i), part_of(i) != part);
    }
    assert_int_equal(pstore_load(env, dump.buf, dump.len, &n), HIST_OK);
    assert_int_equal((int)n, in_part);
    for (int i = 0; i < CUSTOMERS; i++) {
        uint32_t ev = 0;
        assert_true(customer_exists(env, i, &ev));
        assert_int_equal(ev, (uint32_t)i + 1);  /* the record itself came back */
    }
    strbuf_free(&dump);
    hist_close(env);
    tu_rmdir(dir);  /* frees dir */
}

static void test_broken_dump_is_refused_whole(void **state)
{
    (void)state;
    char *dir;
    hist_env *env = open_env(&dir);
    fill(env);
    strbuf dump = STRBUF_INIT;
    size_t n = 0;
    assert_int_equal(pstore_dump(env, 1, PARTS, &dump, &n), HIST_OK);
    assert_true(n > 1);
    assert_int_equal(pstore_drop(env, 1, PARTS, NULL, NULL), HIST_OK);
    assert_int_equal(pstore_load(env, dump.buf, dump.len - 3, &n), HIST_ECORRUPT);  /* cut short */
    assert_int_equal(n, 0);
    assert_int_equal(pstore_load(env, "XXXX", 4, &n), HIST_ECORRUPT);  /* not a dump */
    for (int i = 0; i < CUSTOMERS; i++) {
        uint32_t ev;
        if (part_of(i) == 1)
            assert_false(customer_exists(env, i, &ev));  /* nothing half-loaded */
    }
    strbuf_free(&dump);
    hist_close(env);
    tu_rmdir(dir);  /* frees dir */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_drop_load_round_trip),
        cmocka_unit_test(test_broken_dump_is_refused_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
