/* Unit tests: the fold table (fold.h): one value per id across growth,
 * ids of any length and bytes, LMDB's key order, and reset. */
#include "testutil.h"

#include "fold.h"

typedef struct val {
    uint32_t count;
    char     tag[12];
} val;

static void test_one_value_per_id_across_growth(void **state)
{
    (void)state;
    fold_table t;
    fold_init(&t, sizeof(val));
    char id[40];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5000; i++) {
            snprintf(id, sizeof id, "customer-%d", i);
            int added;
            val *v = fold_get(&t, id, strlen(id), &added);
            assert_non_null(v);
            assert_int_equal(added, round == 0);
            if (added)
                assert_int_equal(v->count, 0);  /* new values start zeroed */
            v->count++;
        }
    }
    assert_int_equal(t.n, 5000);
    for (int i = 0; i < 5000; i += 499) {
        snprintf(id, sizeof id, "customer-%d", i);
        int added;
        val *v = fold_get(&t, id, strlen(id), &added);
        assert_int_equal(added, 0);
        assert_int_equal(v->count, 3);
    }
    fold_free(&t);
}

static void test_ids_are_bytes_of_any_length(void **state)
{
    (void)state;
    fold_table t;
    fold_init(&t, sizeof(val));
    char longid[700];
    memset(longid, 'x', sizeof longid);
    int added;
    ((val *)fold_get(&t, longid, sizeof longid, &added))->count = 1;
    ((val *)fold_get(&t, longid, sizeof longid - 1, &added))->count = 2;  /* a prefix is another id */
    assert_int_equal(added, 1);
    ((val *)fold_get(&t, "a\0b", 3, &added))->count = 3;  /* NUL inside */
    ((val *)fold_get(&t, "a\0c", 3, &added))->count = 4;
    assert_int_equal(added, 1);
    assert_int_equal(((val *)fold_get(&t, longid, sizeof longid, &added))->count, 1);
    assert_int_equal(((val *)fold_get(&t, "a\0b", 3, &added))->count, 3);
    assert_int_equal(added, 0);
    assert_int_equal(t.n, 4);
    fold_free(&t);
}

typedef struct seen {
    char   ids[8][8];
    size_t lens[8];
    int    n, stop_at;
} seen;

static int collect(const char *id, size_t idlen, void *v, void *ctx)
{
    seen *s = ctx;
    memcpy(s->ids[s->n], id, idlen);
    s->lens[s->n] = idlen;
    assert_int_equal(((val *)v)->tag[0], id[0]);  /* the value goes with its id */
    s->n++;
    return s->n == s->stop_at ? 42 : 0;
}

static void test_sorted_like_lmdb_keys(void **state)
{
    (void)state;
    fold_table t;
    fold_init(&t, sizeof(val));
    const char *ids[] = {"b", "ab", "\xd0\xb4", "a", "abc", "B"};
    for (size_t i = 0; i < 6; i++) {
        int added;
        val *v = fold_get(&t, ids[i], strlen(ids[i]), &added);
        v->tag[0] = ids[i][0];
    }
    seen s = {.stop_at = -1};
    assert_int_equal(fold_each_sorted(&t, collect, &s), 0);
    const char *want[] = {"B", "a", "ab", "abc", "b", "\xd0\xb4"};  /* bytes unsigned, prefix first */
    assert_int_equal(s.n, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(s.lens[i], strlen(want[i]));
        assert_memory_equal(s.ids[i], want[i], s.lens[i]);
    }
    seen stop = {.stop_at = 2};
    assert_int_equal(fold_each_sorted(&t, collect, &stop), 42);  /* fn's code comes back */
    assert_int_equal(stop.n, 2);
    fold_free(&t);
}

static void test_reset_empties_and_reuses(void **state)
{
    (void)state;
    fold_table t;
    fold_init(&t, sizeof(val));
    int added;
    ((val *)fold_get(&t, "x", 1, &added))->count = 9;
    fold_reset(&t);
    assert_int_equal(t.n, 0);
    val *v = fold_get(&t, "x", 1, &added);
    assert_int_equal(added, 1);
    assert_int_equal(v->count, 0);
    v->tag[0] = 'x';
    seen s = {.stop_at = -1};
    assert_int_equal(fold_each_sorted(&t, collect, &s), 0);
    assert_int_equal(s.n, 1);
    fold_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_value_per_id_across_growth),
        cmocka_unit_test(test_ids_are_bytes_of_any_length),
        cmocka_unit_test(test_sorted_like_lmdb_keys),
        cmocka_unit_test(test_reset_empties_and_reuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
