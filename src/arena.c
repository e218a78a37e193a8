/*
 * arena — bump allocation for protobuf-c decoding; see arena.h.
 */
#include "arena.h"

#include <stdlib.h>

/* Under AddressSanitizer the first block is poisoned except for what is
 * handed out, so a read of an event after its batch was reset is reported
 * as one, not served stale bytes of the next batch. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum { ALIGN = 16, FIRST_OWNED = 16384 };

struct arena_block {
    arena_block *next;
    _Alignas(ALIGN) uint8_t data[];
};

static size_t round_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static void *pb_alloc(void *ctx, size_t n) { return arena_alloc(ctx, n); }

static void pb_free(void *ctx, void *p)
{
    (void)ctx; /* everything goes at arena_reset */
    (void)p;
}

static void init_common(arena *a)
{
    a->used = 0;
    a->spilled = 0;
    a->extra = NULL;
    a->pb = (ProtobufCAllocator){pb_alloc, pb_free, a};
}

void arena_init(arena *a, size_t keep_max)
{
    a->buf = NULL;
    a->cap = 0;
    a->keep_max = keep_max ? keep_max : FIRST_OWNED;
    init_common(a);
}

void arena_init_with(arena *a, void *buf, size_t cap)
{
    uintptr_t at = (uintptr_t)buf, aligned = (at + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    a->buf = (uint8_t *)aligned;
    a->cap = cap > aligned - at ? cap - (aligned - at) : 0;
    a->keep_max = 0;
    init_common(a);
    POISON(a->buf, a->cap);
}

static void *spill(arena *a, size_t need)
{
    if (need > SIZE_MAX - sizeof(arena_block))
        return NULL;
    arena_block *b = malloc(sizeof *b + need);
    if (!b)
        return NULL;
    b->next = a->extra;
    a->extra = b;
    a->spilled += need;
    return b->data;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    size_t need = round_up(n ? n : 1);
    if (!a->buf && a->keep_max) { /* an owned arena's first use */
        a->buf = malloc(FIRST_OWNED);
        a->cap = a->buf ? FIRST_OWNED : 0;
        POISON(a->buf, a->cap);
    }
    if (need <= a->cap - a->used) {
        void *p = a->buf + a->used;
        a->used += need;
        UNPOISON(p, n);
        return p;
    }
    return spill(a, need);
}

void arena_reset(arena *a)
{
    while (a->extra) {
        arena_block *b = a->extra;
        a->extra = b->next;
        free(b);
    }
    /* An owned buffer that overflowed grows to hold next time what this
     * round needed, within keep_max; a failed malloc keeps the old one. */
    size_t wanted = a->used + a->spilled;
    if (a->keep_max && a->spilled && a->cap < a->keep_max) {
        size_t cap = a->cap ? a->cap : FIRST_OWNED;
        while (cap < wanted && cap < a->keep_max)
            cap *= 2;
        if (cap > a->keep_max)
            cap = a->keep_max;
        uint8_t *grown = malloc(cap);
        if (grown) {
            UNPOISON(a->buf, a->cap); /* back to malloc as it came */
            free(a->buf);
            a->buf = grown;
            a->cap = cap;
        }
    }
    if (a->buf)
        POISON(a->buf, a->cap);
    a->used = 0;
    a->spilled = 0;
}

void arena_destroy(arena *a)
{
    arena_reset(a);
    if (a->buf)
        UNPOISON(a->buf, a->cap); /* a caller's buffer goes back clean */
    if (a->keep_max) {
        free(a->buf);
        a->buf = NULL;
        a->cap = 0;
    }
}
