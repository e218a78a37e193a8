/* stats — the per-rule hit counters across reloads; see stats.h. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "rules.h"

void stats_rules_init(stats_rules *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

void stats_rules_free(stats_rules *r)
{
    for (stats_rule_table *t = r->current, *prev; t; t = prev) {
        prev = t->prev;
        free(t->slot);
        free(t);
    }
    for (size_t i = 0; i < r->n_ids; i++)
        free(r->ids[i]);
    free(r->ids);
    pthread_mutex_destroy(&r->lock);
    memset(r, 0, sizeof *r);
}

/* The registry index of id, added if new; -1 if out of memory. Under the lock. */
static long slot_of(stats_rules *r, const char *id)
{
    for (size_t i = 0; i < r->n_ids; i++)
        if (strcmp(r->ids[i], id) == 0)
            return (long)i;
    char **ids = grow_array(r->ids, &r->cap_ids, r->n_ids + 1, sizeof *ids, 256);
    if (!ids)
        return -1;
    r->ids = ids;
    char *copy = strdup(id);
    if (!copy)
        return -1;
    r->ids[r->n_ids] = copy;
    return (long)r->n_ids++;
}

atomic_uint_fast64_t *stats_rules_register(stats_rules *r, const struct rulepack *rp)
{
    size_t n = rp->n_rules;
    stats_rule_table *t = calloc(1, sizeof *t + (n ? n : 1) * sizeof t->hits[0]);
    uint32_t *slot = calloc(n ? n : 1, sizeof *slot);
    if (!t || !slot) {
        free(t);
        free(slot);
        return NULL;
    }
    t->n = n;
    t->slot = slot;
    pthread_mutex_lock(&r->lock);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        long s = slot_of(r, rp->rules[i].id ? rp->rules[i].id : "");
        ok = s >= 0;
        slot[i] = (uint32_t)(ok ? s : 0);
    }
    if (ok) {
        t->prev = r->current;
        r->current = t;
    }
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        free(slot);
        free(t);
        return NULL;
    }
    return t->hits;
}

size_t stats_rules_snapshot(stats_rules *r, const char ***ids_out, uint64_t **totals_out)
{
    *ids_out = NULL;
    *totals_out = NULL;
    pthread_mutex_lock(&r->lock);
    const stats_rule_table *cur = r->current;
    size_t n = 0;
    uint64_t *by_slot = cur ? calloc(r->n_ids ? r->n_ids : 1, sizeof *by_slot) : NULL;
    uint8_t *emitted = cur ? calloc(r->n_ids ? r->n_ids : 1, 1) : NULL;
    const char **ids = cur ? malloc((cur->n ? cur->n : 1) * sizeof *ids) : NULL;
    uint64_t *totals = cur ? malloc((cur->n ? cur->n : 1) * sizeof *totals) : NULL;
    if (by_slot && emitted && ids && totals) {
        for (const stats_rule_table *t = cur; t; t = t->prev)
            for (size_t i = 0; i < t->n; i++)
                by_slot[t->slot[i]] += atomic_load_explicit(&t->hits[i], memory_order_relaxed);
        for (size_t i = 0; i < cur->n; i++) {
            uint32_t s = cur->slot[i];
            if (emitted[s]++)
                continue;  /* a pack with two rules of one id: one series */
            ids[n] = r->ids[s];
            totals[n++] = by_slot[s];
        }
    }
    pthread_mutex_unlock(&r->lock);
    free(by_slot);
    free(emitted);
    if (n == 0) {
        free(ids);
        free(totals);
        return 0;
    }
    *ids_out = ids;
    *totals_out = totals;
    return n;
}
