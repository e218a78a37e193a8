/*
 * health — heartbeats and readiness facts; see health.h.
 *
 * DESIGN: a fixed table of slots and a count, never freed: a thread takes
 * the next slot with one atomic add, writes the name, then publishes the
 * slot (used = 1, release). Readers walk the first n slots and skip any not
 * yet published. A heartbeat is one int64: a CLOCK_MONOTONIC millisecond
 * ("busy since") or a negative state, so a beat is one relaxed store, and
 * costs the pipeline a clock read per batch, not per event.
 */
#include "health.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

enum { HEALTH_SLOTS = 320 };  /* > MAX_WORKERS + ingest, writer, publisher */
enum { STATE_WAITING = -1, STATE_EXITED = -2 };

struct health_slot {
    char                  name[24];  /* written once, before used is set */
    atomic_int            used;      /* 1 once name is written (release) */
    _Atomic int64_t       state;     /* busy since (ms), or STATE_* */
    _Atomic(const char *) paused;    /* why intake is paused by this thread; NULL = not */
};

/* Guarded by: atomics only (see DESIGN). */
static health_slot slots[HEALTH_SLOTS];
static health_slot spare;           /* shared by threads past the table; never read */
static atomic_int n_slots;
static _Atomic uint64_t rules_hash;
static atomic_int store_open, accepting;

int64_t health_now_ms(void) { return clock_mono_us() / 1000; }

/* The clock of the beats; set only by health_reset, with no thread running. */
static int64_t (*beat_clock)(void) = health_now_ms;

health_slot *health_register(const char *name)
{
    int i = atomic_fetch_add(&n_slots, 1);
    if (i >= HEALTH_SLOTS)
        return &spare;
    health_slot *hb = &slots[i];
    snprintf(hb->name, sizeof hb->name, "%s", name);
    atomic_store_explicit(&hb->paused, NULL, memory_order_relaxed);
    atomic_store_explicit(&hb->state, beat_clock(), memory_order_relaxed);
    atomic_store_explicit(&hb->used, 1, memory_order_release);
    return hb;
}

int health_registered(void)
{
    int n = atomic_load_explicit(&n_slots, memory_order_acquire), used = 0;
    for (int i = 0; i < n && i < HEALTH_SLOTS; i++)
        used += atomic_load_explicit(&slots[i].used, memory_order_acquire);
    return used;
}

void health_wait(health_slot *hb)
{
    atomic_store_explicit(&hb->state, STATE_WAITING, memory_order_relaxed);
}

void health_beat(health_slot *hb)
{
    atomic_store_explicit(&hb->state, beat_clock(), memory_order_relaxed);
}

void health_exit(health_slot *hb)
{
    atomic_store_explicit(&hb->paused, NULL, memory_order_relaxed);
    atomic_store_explicit(&hb->state, STATE_EXITED, memory_order_relaxed);
}

void health_pause(health_slot *hb, const char *reason)
{
    atomic_store_explicit(&hb->paused, reason, memory_order_relaxed);
    health_beat(hb);
}

void health_set_rules(uint64_t h) { atomic_store(&rules_hash, h); }
void health_set_store_open(int open) { atomic_store(&store_open, open); }
void health_set_accepting(int a) { atomic_store(&accepting, a); }
uint64_t health_rules_hash(void) { return atomic_load(&rules_hash); }

/* The published slots: how many to walk. */
static int published(void)
{
    int n = atomic_load_explicit(&n_slots, memory_order_acquire);
    return n < HEALTH_SLOTS ? n : HEALTH_SLOTS;
}

/* The first pause reason of any thread, or NULL. */
static const char *pause_reason(void)
{
    for (int i = 0, n = published(); i < n; i++)
        if (atomic_load_explicit(&slots[i].used, memory_order_acquire)) {
            const char *r = atomic_load_explicit(&slots[i].paused, memory_order_relaxed);
            if (r)
                return r;
        }
    return NULL;
}

int health_alive(int64_t now_ms, strbuf *report)
{
    const char *paused = pause_reason();
    int alive = 1;
    for (int i = 0, n = published(); i < n; i++) {
        health_slot *hb = &slots[i];
        if (!atomic_load_explicit(&hb->used, memory_order_acquire))
            continue;
        int64_t st = atomic_load_explicit(&hb->state, memory_order_relaxed);
        int ok = 1;
        if (st == STATE_WAITING) {
            if (report)
                strbuf_printf(report, "%s waiting for input\n", hb->name);
            continue;
        }
        if (st == STATE_EXITED) {
            ok = 0;
            if (report)
                strbuf_printf(report, "%s exited\n", hb->name);
        } else {
            int64_t busy = now_ms > st ? now_ms - st : 0;
            const char *mine = atomic_load_explicit(&hb->paused, memory_order_relaxed);
            double secs = (double)busy / 1000.0;
            if (busy <= HEALTH_STALE_MS) {
                if (report && mine)
                    strbuf_printf(report, "%s retrying: %s\n", hb->name, mine);
                else if (report)
                    strbuf_printf(report, "%s busy for %.1f s\n", hb->name, secs);
            } else if (paused && !mine) {
                /* Behind a pause, being held up is expected (health.h). */
                if (report)
                    strbuf_printf(report, "%s held up for %.1f s behind the pause\n", hb->name, secs);
            } else {
                ok = 0;
                if (report)
                    strbuf_printf(report, "%s busy for %.1f s without progress\n", hb->name, secs);
            }
        }
        alive &= ok;
    }
    return alive;
}

int health_ready(strbuf *report)
{
    const char *why = NULL;
    if (!atomic_load(&rules_hash))
        why = "no rule pack loaded";
    else if (!atomic_load(&store_open))
        why = "the store is not open";
    else if (!atomic_load(&accepting))
        why = "not accepting events (starting or stopping)";
    else
        why = pause_reason();
    if (report)
        strbuf_printf(report, "%s\n", why ? why : "ready");
    return why == NULL;
}

void health_reset(int64_t (*clock)(void))
{
    beat_clock = clock ? clock : health_now_ms;
    memset(slots, 0, sizeof slots);
    atomic_store(&n_slots, 0);
    atomic_store(&rules_hash, 0);
    atomic_store(&store_open, 0);
    atomic_store(&accepting, 0);
}
