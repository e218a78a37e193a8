/*
 * grow — room in a growing array, the capacity doubled from a first size.
 * One copy of the idiom the modules' arrays share (rules, groups, the
 * writer's early batches, the stats registry, complaintctl's lists).
 */
#ifndef COMPLAINTD_GROW_H
#define COMPLAINTD_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Room for `need` elements of `elem` bytes in arr, whose capacity is *cap:
 * returns the array (moved or not) and raises *cap, doubling from `first`.
 * NULL when out of memory, with arr still valid and *cap unchanged, so the
 * caller keeps what it had. */
static inline void *grow_array(void *arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return arr;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(arr, c * elem);
    if (p)
        *cap = c;
    return p;
}

#endif
