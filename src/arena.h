/*
 * arena — bump allocation for protobuf-c decoding: many small blocks that
 * all die at once.
 *
 * Unpacking a message mallocs the struct and every string and repeated
 * field, and free_unpacked frees them one by one. Where the message dies
 * with others (a job batch) or right after it is read (a history record),
 * an arena hands the blocks out of one buffer and takes them all back in
 * arena_reset. Its ProtobufCAllocator (arena_pb) frees nothing, so
 * free_unpacked through it is a no-op and need not be called.
 *
 * The first block is either the caller's (arena_init_with, e.g. on the stack)
 * or the arena's own (arena_init), allocated at the first use. What does not
 * fit goes into extra blocks from malloc, freed by arena_reset. An owned
 * buffer grows at reset to what the last round used, up to keep_max, so a
 * steady load stops calling malloc after its first rounds.
 *
 * Not thread-safe: one thread at a time (a batch passes between threads
 * with its arena, as a whole).
 */
#ifndef COMPLAINTD_ARENA_H
#define COMPLAINTD_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef struct arena_block arena_block;

typedef struct arena {
    uint8_t     *buf;        /* the first block */
    size_t       cap, used;  /* of buf */
    size_t       keep_max;   /* owned buf may grow to this; 0: buf is the caller's */
    size_t       spilled;    /* bytes handed out of extra blocks since the last reset */
    arena_block *extra;      /* malloc'd blocks, newest first */
    ProtobufCAllocator pb;   /* allocates from this arena; its free does nothing */
} arena;

/* An arena that owns its first block (none until the first allocation). */
void arena_init(arena *a, size_t keep_max);

/* An arena whose first block is buf[0..cap) (aligned to 16), never grown. */
void arena_init_with(arena *a, void *buf, size_t cap);

/* n bytes aligned to 16, valid until the next arena_reset or arena_destroy;
 * NULL if out of memory. */
void *arena_alloc(arena *a, size_t n);

/* Every block handed out dies. Extra blocks are freed; an owned first block
 * may be replaced by a larger one. */
void arena_reset(arena *a);

/* arena_reset, and an owned first block freed too. The arena can be used
 * again (it starts empty). */
void arena_destroy(arena *a);

/* The allocator to pass to protobuf-c's unpack for this arena. */
static inline ProtobufCAllocator *arena_pb(arena *a) { return &a->pb; }

#endif
