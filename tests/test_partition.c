/* Unit tests: customer tokens, the partition hash and the rebalancing rule
 * (partition.h). The hash values were computed independently (FNV-1a 32 in
 * Python); tests/e2e/test_cluster.py checks them against a live nats-server. */
#include "testutil.h"

#include "partition.h"

static void test_plain_ids_are_their_own_token(void **state)
{
    (void)state;
    char tok[PART_TOKEN_MAX + 1];
    assert_int_equal(part_token("cust-1_A", 8, tok), 8);
    assert_string_equal(tok, "cust-1_A");
    char id64[65];
    memset(id64, 'q', 64);
    id64[64] = '\0';
    assert_int_equal(part_token(id64, 64, tok), 64);
    assert_string_equal(tok, id64);
}

static void test_other_ids_are_hashed(void **state)
{
    (void)state;
    char tok[PART_TOKEN_MAX + 1];
    assert_int_equal(part_token("acme.corp@example", 17, tok), 32);
    assert_string_equal(tok, "0a1e6cfbca23248504b7c4cc7f2c54ab");
    assert_int_equal(part_token("Zo\xc3\xab", 4, tok), 32);
    assert_string_equal(tok, "c6a12698582fc1104ea24107a2d72681");
    char id65[66];
    memset(id65, 'x', 65);
    id65[65] = '\0';
    part_token(id65, 65, tok);  /* one character too long for a plain token */
    assert_string_equal(tok, "9537c5fdf120482f7d58d25e9ed583f5");
    part_token("", 0, tok);
    assert_string_equal(tok, "e3b0c44298fc1c149afbf4c8996fb924");
}

static void test_partition_is_fnv1a_modulo(void **state)
{
    (void)state;
    assert_int_equal(part_of_token("cust-1", 6, 32), 1492871556u % 32);
    assert_int_equal(part_of_token("abc", 3, 32), 11);
    assert_int_equal(part_of_token("a", 1, 32), 12);
    assert_int_equal(part_of_token("a", 1, 7), (int)(3826002220u % 7));
    assert_int_equal(part_of_customer("cust-1", 6, 32), 4);
}

/* Every partition has an owner in 0..n-1, and the shares differ by at most one. */
static void assert_balanced(int parts, int nodes, const int *out)
{
    int count[64] = {0};
    for (int p = 0; p < parts; p++) {
        assert_true(out[p] >= 0 && out[p] < nodes);
        count[out[p]]++;
    }
    for (int i = 0; i < nodes; i++) {
        assert_true(count[i] >= parts / nodes);
        assert_true(count[i] <= parts / nodes + 1);
    }
}

static void test_assign_from_nothing_is_even(void **state)
{
    (void)state;
    int owner[32], out[32];
    for (int p = 0; p < 32; p++)
        owner[p] = -1;
    assert_int_equal(part_assign(32, 3, owner, out), 32);
    assert_balanced(32, 3, out);
    int again[32];
    part_assign(32, 3, owner, again);
    assert_memory_equal(out, again, sizeof out);  /* every node computes the same */
}

static void test_stable_when_nothing_changed(void **state)
{
    (void)state;
    int owner[32], out[32];
    for (int p = 0; p < 32; p++)
        owner[p] = -1;
    part_assign(32, 3, owner, out);
    memcpy(owner, out, sizeof out);
    assert_int_equal(part_assign(32, 3, owner, out), 0);
    assert_memory_equal(owner, out, sizeof out);
}

/* A fourth node joins three that hold 11, 11, 10: it gets 8, and only 8 move. */
static void test_join_moves_the_minimum(void **state)
{
    (void)state;
    int owner[32], out[32];
    for (int p = 0; p < 32; p++)
        owner[p] = p % 3;
    int moved = part_assign(32, 4, owner, out);
    assert_balanced(32, 4, out);
    int changed = 0;
    for (int p = 0; p < 32; p++) {
        if (out[p] != owner[p]) {
            changed++;
            assert_int_equal(out[p], 3);  /* only to the newcomer */
        }
    }
    assert_int_equal(changed, 8);
    assert_int_equal(moved, 8);
}

/* A node of three leaves: only its partitions move, split between the others. */
static void test_leave_moves_only_the_orphans(void **state)
{
    (void)state;
    int owner[32], out[32];
    for (int p = 0; p < 32; p++)
        owner[p] = p % 3;  /* 11, 11, 10 */
    /* Node 1 left; the survivors are renumbered 0 and 1 (old 0 and old 2). */
    int view[32];
    int orphans = 0;
    for (int p = 0; p < 32; p++) {
        view[p] = owner[p] == 0 ? 0 : owner[p] == 2 ? 1 : -1;
        orphans += view[p] < 0;
    }
    assert_int_equal(part_assign(32, 2, view, out), orphans);
    assert_balanced(32, 2, out);
    for (int p = 0; p < 32; p++)
        if (view[p] >= 0)
            assert_int_equal(out[p], view[p]);
}

/* The extra partition of an uneven split goes to a node that already holds it. */
static void test_uneven_split_keeps_the_extra(void **state)
{
    (void)state;
    int owner[5] = {1, 1, 1, 0, 0}, out[5];
    assert_int_equal(part_assign(5, 2, owner, out), 0);
    assert_memory_equal(owner, out, sizeof out);
}

static void test_no_nodes_no_owners(void **state)
{
    (void)state;
    int owner[4] = {0, 1, -1, 0}, out[4];
    part_assign(4, 0, owner, out);
    for (int p = 0; p < 4; p++)
        assert_int_equal(out[p], -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_ids_are_their_own_token),
        cmocka_unit_test(test_other_ids_are_hashed),
        cmocka_unit_test(test_partition_is_fnv1a_modulo),
        cmocka_unit_test(test_assign_from_nothing_is_even),
        cmocka_unit_test(test_stable_when_nothing_changed),
        cmocka_unit_test(test_join_moves_the_minimum),
        cmocka_unit_test(test_leave_moves_only_the_orphans),
        cmocka_unit_test(test_uneven_split_keeps_the_extra),
        cmocka_unit_test(test_no_nodes_no_owners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
