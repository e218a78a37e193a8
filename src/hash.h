/*
 * hash — FNV-1a (64-bit), the one hash of the project: short keys (event
 * ids, regexes) in open-addressing tables, and the rule cache's key. Not for
 * anything an attacker may choose to collide at scale, nor for security.
 */
#ifndef COMPLAINTD_HASH_H
#define COMPLAINTD_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_OFFSET 1469598103934665603ULL

/* Continue hash h over n bytes at p; start with HASH_FNV_OFFSET. */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* FNV-1a of a NUL-terminated string (the NUL not included). */
static inline uint64_t hash_fnv1a_str(const char *s)
{
    uint64_t h = HASH_FNV_OFFSET;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
