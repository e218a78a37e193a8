/*
 * test_health — the liveness and readiness rules of daemon/health.c, on a
 * clock the test sets: a waiting thread is alive however long it waits, a
 * busy one for HEALTH_STALE_MS, a thread behind another's pause is excused,
 * an exited one is not alive; readiness needs rules, store, intake and no
 * pause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"

static int64_t now;  /* the fake clock, in ms */

static int64_t fake_clock(void) { return now; }

static int setup(void **state)
{
    (void)state;
    health_reset(fake_clock);
    now = 1000000;
    return 0;
}

static void waiting_is_alive_forever(void **state)
{
    (void)state;
    health_slot *w = health_register("worker-0");
    health_wait(w);
    now += 10 * HEALTH_STALE_MS;
    strbuf sb = STRBUF_INIT;
    assert_true(health_alive(now, &sb));
    assert_string_equal(sb.buf, "worker-0 waiting for input\n");
    strbuf_free(&sb);
}

static void busy_without_progress_is_stuck(void **state)
{
    (void)state;
    health_slot *w = health_register("worker-1");
    health_slot *i = health_register("ingest");
    health_wait(i);
    health_beat(w);
    assert_true(health_alive(now + HEALTH_STALE_MS, NULL));
    now += HEALTH_STALE_MS + 1;
    strbuf sb = STRBUF_INIT;
    assert_false(health_alive(now, &sb));
    assert_string_equal(sb.buf, "worker-1 busy for 15.0 s without progress\n"
                                "ingest waiting for input\n");
    strbuf_free(&sb);
    health_beat(w);  /* progress: alive again */
    assert_true(health_alive(now, NULL));
}

static void behind_a_pause_is_excused(void **state)
{
    (void)state;
    health_slot *wr = health_register("writer");
    health_slot *wk = health_register("worker-0");
    health_beat(wk);  /* then blocks on the writer's full queue */
    for (int retry = 0; retry < 3 * HEALTH_STALE_MS / 1000; retry++) {
        now += 1000;  /* the writer retries every second */
        health_pause(wr, "intake paused: the LMDB map is full");
    }
    strbuf sb = STRBUF_INIT;
    assert_true(health_alive(now, &sb));
    assert_string_equal(sb.buf, "writer retrying: intake paused: the LMDB map is full\n"
                                "worker-0 held up for 45.0 s behind the pause\n");
    strbuf_free(&sb);
    /* The pausing thread stuck itself (no retry for too long): not alive. */
    assert_false(health_alive(now + HEALTH_STALE_MS + 1, NULL));
    /* Resumed, but the worker made no progress since: stuck. */
    health_pause(wr, NULL);
    assert_false(health_alive(now, NULL));
    health_beat(wk);
    assert_true(health_alive(now, NULL));
}

static void exited_is_not_alive(void **state)
{
    (void)state;
    health_slot *p = health_register("publisher");
    health_exit(p);
    strbuf sb = STRBUF_INIT;
    assert_false(health_alive(now, &sb));
    assert_string_equal(sb.buf, "publisher exited\n");
    strbuf_free(&sb);
}

static void ready_needs_every_fact(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    assert_false(health_ready(&sb));
    assert_string_equal(sb.buf, "no rule pack loaded\n");
    health_set_rules(0x1234);
    assert_false(health_ready(NULL));
    health_set_store_open(1);
    assert_false(health_ready(NULL));
    health_set_accepting(1);
    strbuf_reset(&sb);
    assert_true(health_ready(&sb));
    assert_string_equal(sb.buf, "ready\n");
    health_slot *wr = health_register("writer");
    health_pause(wr, "intake paused: commits to the store fail");
    strbuf_reset(&sb);
    assert_false(health_ready(&sb));
    assert_string_equal(sb.buf, "intake paused: commits to the store fail\n");
    health_pause(wr, NULL);
    assert_true(health_ready(NULL));
    assert_int_equal(health_rules_hash(), 0x1234);
    strbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(waiting_is_alive_forever, setup),
        cmocka_unit_test_setup(busy_without_progress_is_stuck, setup),
        cmocka_unit_test_setup(behind_a_pause_is_excused, setup),
        cmocka_unit_test_setup(exited_is_not_alive, setup),
        cmocka_unit_test_setup(ready_needs_every_fact, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
