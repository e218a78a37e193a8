/*
 * fold — one write transaction's working set of decoded records, by id.
 *
 * Why: in a group commit the same customers come back again and again (the
 * stream is Zipf-shaped: a group of 6,000 events holds about 2,200 distinct
 * customers). The writer reads and decodes each record once per group,
 * decides every event of the group on that decoded copy, and writes each
 * record back once, in key order, just before the commit: one protobuf
 * decode, one encode and one B-tree put per customer instead of per event,
 * and puts that walk the tree from left to right.
 *
 * A table holds fixed-size values (val_size bytes each, e.g. hist_customer)
 * under byte-string ids of any length. It is not thread-safe; the writer
 * owns one per record kind.
 *
 * Ownership: the table owns its memory; fold_reset empties it and keeps the
 * memory for the next group, fold_free releases it.
 */
#ifndef COMPLAINTD_FOLD_H
#define COMPLAINTD_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct fold_entry {
    size_t   id_off;  /* in ids */
    size_t   id_len;
    uint64_t hash;
} fold_entry;

typedef struct fold_ref {
    const char *id;
    size_t      id_len;
    size_t      index;
} fold_ref;

typedef struct fold_table {
    size_t      val_size;
    fold_entry *entries;  /* [n], in insertion order */
    uint8_t    *vals;     /* [n] values of val_size bytes, same order */
    size_t      n, cap;
    uint32_t   *slots;    /* open addressing: entry index + 1, 0 = empty */
    size_t      n_slots;  /* a power of two, at least twice n */
    strbuf      ids;      /* the ids' bytes, back to back */
    fold_ref   *order;    /* [cap] scratch for fold_each_sorted */
} fold_table;

void fold_init(fold_table *t, size_t val_size);
void fold_reset(fold_table *t);
void fold_free(fold_table *t);

/* The value kept under id. If id was not there it is added with a zeroed
 * value and *added is 1 (the caller fills it, e.g. from the store), else 0.
 * The pointer is valid until the next fold_get, fold_reset or fold_free on
 * this table. NULL when out of memory. */
void *fold_get(fold_table *t, const char *id, size_t idlen, int *added /* OUT */);

/* Call fn for every entry in LMDB's default key order (bytes compared as
 * unsigned, a prefix first); stop at the first non-zero return of fn and
 * return it; 0 when fn returned 0 for all. */
int fold_each_sorted(fold_table *t,
                     int (*fn)(const char *id, size_t idlen, void *val, void *ctx), void *ctx);

#endif
