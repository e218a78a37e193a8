/*
 * group — a committed group of decisions on its way from the writer to the
 * publisher; see group.h.
 */
#include "group.h"

#include <stdlib.h>

#include "grow.h"

decided_group *group_new(void)
{
    return calloc(1, sizeof(decided_group));
}

int group_hold(decided_group *g, job_batch *b)
{
    job_batch **a = grow_array(g->batches, &g->batch_cap, g->n_batches + 1, sizeof *a, 64);
    if (!a)
        return -1;
    g->batches = a;
    g->batches[g->n_batches++] = b;
    g->n_events += b->n;
    return 0;
}

int group_add_decision(decided_group *g, const uint8_t *bytes, size_t n, int action,
                       uint64_t seq, int status)
{
    decision_ref *d = grow_array(g->d, &g->cap, g->n + 1, sizeof *d, 1024);
    if (!d)
        return -1;
    g->d = d;
    g->d[g->n++] = (decision_ref){.off = g->bytes.len, .len = n, .action = action, .seq = seq,
                                  .status = (uint8_t)status};
    strbuf_append(&g->bytes, (const char *)bytes, n);
    return strbuf_failed(&g->bytes) ? -1 : 0;
}

void group_clear_decisions(decided_group *g)
{
    g->n = 0;
    strbuf_reset(&g->bytes);
}

void group_free(decided_group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_batches; i++)
        batch_free(g->batches[i]);
    free(g->batches);
    free(g->d);
    strbuf_free(&g->bytes);
    free(g);
}
