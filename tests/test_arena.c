/* Unit tests: the bump arena (arena.h): alignment, blocks that do not
 * overlap and keep their bytes until reset, spilling past the first block,
 * an owned block that grows to what a round used (within keep_max), and
 * protobuf-c decoding through it. */
#include "testutil.h"

#include "arena.h"
#include "complaint.pb-c.h"

/* Fill n blocks of varied sizes with a pattern, then check none was
 * overwritten by a later one. */
static void fill_and_check(arena *a, int n)
{
    uint8_t *p[200];
    size_t len[200];
    assert_true(n <= 200);
    for (int i = 0; i < n; i++) {
        len[i] = (size_t)(i * 37 % 300) + (i % 7 == 0 ? 5000 : 0);
        p[i] = arena_alloc(a, len[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        memset(p[i], i & 0xff, len[i]);
    }
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < len[i]; k++)
            assert_int_equal(p[i][k], i & 0xff);
}

static void test_caller_buffer_and_spill(void **state)
{
    (void)state;
    uint8_t space[1000 + 3];
    arena a;
    arena_init_with(&a, space + 3, 1000); /* misaligned on purpose */
    void *first = arena_alloc(&a, 10);
    assert_true((uint8_t *)first >= space && (uint8_t *)first < space + sizeof space);
    fill_and_check(&a, 150); /* far more than 1000 bytes: spills */
    assert_non_null(a.extra);
    arena_reset(&a);
    assert_null(a.extra);
    assert_int_equal(a.used, 0);
    /* A caller's buffer is never replaced. */
    assert_true(a.buf >= space && a.buf < space + sizeof space);
    assert_ptr_equal(arena_alloc(&a, 10), first);
    arena_destroy(&a);
}

static void test_owned_block_grows_within_keep_max(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 256 * 1024);
    assert_null(a.buf); /* nothing until the first use */
    fill_and_check(&a, 200); /* ~160 KB: spills past the first block */
    size_t used = a.used + a.spilled;
    assert_true(a.spilled > 0);
    arena_reset(&a);
    assert_true(a.cap >= used && a.cap <= 256 * 1024);
    fill_and_check(&a, 200); /* the same round fits now */
    assert_int_equal(a.spilled, 0);
    assert_null(a.extra);
    arena_reset(&a);
    /* A round bigger than keep_max spills, and the block stops at keep_max. */
    assert_non_null(arena_alloc(&a, 1024 * 1024));
    arena_reset(&a);
    assert_int_equal(a.cap, 256 * 1024);
    arena_destroy(&a);
    assert_null(a.buf);
}

static void test_protobuf_unpack_into_arena(void **state)
{
    (void)state;
    Complaint__V1__ComplaintEvent in = COMPLAINT__V1__COMPLAINT_EVENT__INIT;
    in.event_id = "e-1";
    in.customer_id = "c-42";
    in.text = "Верните деньги, чайник сломался";
    in.ts_ms = 1700000000000;
    uint8_t wire[256];
    size_t n = complaint__v1__complaint_event__pack(&in, wire);
    arena a;
    arena_init(&a, 0);
    for (int round = 0; round < 3; round++) {
        Complaint__V1__ComplaintEvent *ev =
            complaint__v1__complaint_event__unpack(arena_pb(&a), n, wire);
        assert_non_null(ev);
        assert_string_equal(ev->text, in.text);
        assert_string_equal(ev->customer_id, "c-42");
        assert_int_equal(ev->ts_ms, in.ts_ms);
        /* Its blocks are the arena's: free_unpacked through it is harmless. */
        assert_true((uint8_t *)ev >= a.buf && (uint8_t *)ev < a.buf + a.cap);
        complaint__v1__complaint_event__free_unpacked(ev, arena_pb(&a));
        arena_reset(&a);
    }
    /* Truncated bytes: unpack fails, and reset takes back what it took. */
    assert_null(complaint__v1__complaint_event__unpack(arena_pb(&a), n - 3, wire));
    arena_destroy(&a);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* Under ASan, what was handed out before a reset reads as poisoned, so a
 * use of an event after its batch went back to the pool is caught. */
static void test_reset_poisons_under_asan(void **state)
{
    (void)state;
    arena a;
    arena_init(&a, 0);
    char *p = arena_alloc(&a, 100);
    assert_non_null(p);
    assert_false(__asan_address_is_poisoned(p + 99));
    assert_true(__asan_address_is_poisoned(p + 128)); /* not handed out yet */
    arena_reset(&a);
    assert_true(__asan_address_is_poisoned(p));
    arena_destroy(&a);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caller_buffer_and_spill),
        cmocka_unit_test(test_owned_block_grows_within_keep_max),
        cmocka_unit_test(test_protobuf_unpack_into_arena),
#if defined(__SANITIZE_ADDRESS__)
        cmocka_unit_test(test_reset_poisons_under_asan),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
