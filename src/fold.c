/*
 * fold — a transaction's working set of decoded records; see fold.h.
 */
#include "fold.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

enum { FIRST_CAP = 64 };

void fold_init(fold_table *t, size_t val_size)
{
    memset(t, 0, sizeof *t);
    t->val_size = val_size;
}

void fold_reset(fold_table *t)
{
    t->n = 0;
    strbuf_reset(&t->ids);
    if (t->slots)
        memset(t->slots, 0, t->n_slots * sizeof *t->slots);
}

void fold_free(fold_table *t)
{
    free(t->entries);
    free(t->vals);
    free(t->slots);
    free(t->order);
    strbuf_free(&t->ids);
    fold_init(t, t->val_size);
}

/* FNV-1a: ids are short and this runs once per event. */
static uint64_t hash_id(const char *id, size_t n) { return hash_fnv1a(HASH_FNV_OFFSET, id, n); }

static const char *id_of(const fold_table *t, const fold_entry *e)
{
    return t->ids.buf + e->id_off;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t probe(const fold_table *t, const char *id, size_t idlen, uint64_t h)
{
    size_t mask = t->n_slots - 1;
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        uint32_t k = t->slots[s];
        if (k == 0)
            return s;
        const fold_entry *e = &t->entries[k - 1];
        if (e->hash == h && e->id_len == idlen && memcmp(id_of(t, e), id, idlen) == 0)
            return s;
    }
}

/* Room for one more entry, keeping the slots at most half full. */
static int grow(fold_table *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : FIRST_CAP;
        fold_entry *e = realloc(t->entries, cap * sizeof *e);
        if (!e)
            return -1;
        t->entries = e;
        uint8_t *v = realloc(t->vals, cap * t->val_size);
        if (!v)
            return -1;
        t->vals = v;
        fold_ref *o = realloc(t->order, cap * sizeof *o);
        if (!o)
            return -1;
        t->order = o;
        t->cap = cap;
    }
    if (2 * (t->n + 1) <= t->n_slots)
        return 0;
    size_t n_slots = t->n_slots ? 2 * t->n_slots : 2 * FIRST_CAP;
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    for (size_t i = 0; i < t->n; i++) {
        const fold_entry *e = &t->entries[i];
        t->slots[probe(t, id_of(t, e), e->id_len, e->hash)] = (uint32_t)(i + 1);
    }
    return 0;
}

void *fold_get(fold_table *t, const char *id, size_t idlen, int *added)
{
    uint64_t h = hash_id(id, idlen);
    *added = 0;
    if (t->n_slots) {
        uint32_t k = t->slots[probe(t, id, idlen, h)];
        if (k)
            return t->vals + (size_t)(k - 1) * t->val_size;
    }
    if (t->n >= UINT32_MAX - 1 || grow(t) < 0)
        return NULL;
    size_t off = t->ids.len;
    strbuf_append(&t->ids, id, idlen);
    if (strbuf_failed(&t->ids))
        return NULL;
    fold_entry *e = &t->entries[t->n];
    e->id_off = off;
    e->id_len = idlen;
    e->hash = h;
    t->slots[probe(t, id, idlen, h)] = (uint32_t)(t->n + 1);
    void *v = t->vals + t->n * t->val_size;
    memset(v, 0, t->val_size);
    t->n++;
    *added = 1;
    return v;
}

/* LMDB's default order: memcmp over the shorter length, then the shorter first. */
static int by_key(const void *a, const void *b)
{
    const fold_ref *x = a, *y = b;
    size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
    int c = memcmp(x->id, y->id, n);
    if (c)
        return c;
    return (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

int fold_each_sorted(fold_table *t,
                     int (*fn)(const char *id, size_t idlen, void *val, void *ctx), void *ctx)
{
    /* ids may have moved since the entries were added (strbuf growth), so
     * the pointers are taken only now. */
    for (size_t i = 0; i < t->n; i++)
        t->order[i] = (fold_ref){id_of(t, &t->entries[i]), t->entries[i].id_len, i};
    if (t->n > 1)
        qsort(t->order, t->n, sizeof *t->order, by_key);
    for (size_t i = 0; i < t->n; i++) {
        const fold_ref *r = &t->order[i];
        int rc = fn(r->id, r->id_len, t->vals + r->index * t->val_size, ctx);
        if (rc)
            return rc;
    }
    return 0;
}
