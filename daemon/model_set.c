/* model_set — the models in force, by reference; see model_set.h. */
#include "model_set.h"

#include <stdlib.h>

model_set *model_set_new(model *const *base, int n_base, model *extra)
{
    if (n_base < 0 || n_base + (extra ? 1 : 0) > MODEL_SET_MAX)
        return NULL;
    model_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i <= n_base; i++) {
        model *m = i < n_base ? base[i] : extra;
        if (!m)
            continue;
        s->m[s->n] = model_retain(m);
        s->names[s->n++] = model_name(m);
    }
    s->n_base = s->n - (extra ? 1 : 0);
    atomic_init(&s->refs, 1);
    return s;
}

void model_set_hold(model_set *s) { atomic_fetch_add(&s->refs, 1); }

void model_set_put(model_set *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        for (int i = 0; i < s->n; i++)
            model_release(s->m[i]);
        free(s);
    }
}
