/*
 * model_set — the learned models in force, shared by reference like a rule
 * pack (pack_ref.h): the configured models (key `model`) and the local
 * model retrained from feedback, applied in that order. The live state
 * (live.h) holds one reference, each worker one, each batch in flight one
 * (a decision names its models, so they must outlive its packing). The
 * last put releases the models. refs is the only shared field: an atomic,
 * no lock; the rest is read-only once the set is shared.
 */
#ifndef COMPLAINTD_MODEL_SET_H
#define COMPLAINTD_MODEL_SET_H

#include <stdatomic.h>

#include "model.h"

enum { MODEL_SET_MAX = 8 };

typedef struct model_set {
    model     *m[MODEL_SET_MAX];  /* a reference each (model_retain) */
    const char *names[MODEL_SET_MAX]; /* model_name of each, for decisions */
    int        n;
    int        n_base;            /* m[0..n_base): the configured models; then the
                                     feedback model, if any */
    atomic_int refs;              /* atomic: any thread holds and puts */
} model_set;

/* A set of base[0..n_base) then extra (NULL: none), each retained; one
 * reference. NULL when out of memory or when there are more than
 * MODEL_SET_MAX models. */
model_set *model_set_new(model *const *base, int n_base, model *extra);
void model_set_hold(model_set *s);
void model_set_put(model_set *s);  /* NULL is fine */

#endif
