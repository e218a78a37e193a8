/*
 * live — the rule pack, the learned models and the policy in force. The
 * reloader's thread swaps them (through pipeline_swap_rules,
 * pipeline_swap_policy and pipeline_swap_models), the retrain thread swaps
 * the feedback model (pipeline_swap_feedback_model); each worker takes up a
 * new pack or model set, and the writer a new policy, between batches.
 *
 * A swap bumps a generation counter under the lock, so a reader checks for
 * news with one atomic load and takes the lock only when there is some.
 */
#ifndef COMPLAINTD_LIVE_H
#define COMPLAINTD_LIVE_H

#include <pthread.h>
#include <stdatomic.h>

#include "model_set.h"
#include "pack_ref.h"
#include "policy.h"

typedef struct live {
    pthread_mutex_t lock;
    pack_ref   *pack;        /* guarded by lock; holds one reference */
    policy      pol;         /* guarded by lock */
    atomic_uint pack_gen;    /* atomic; bumped under lock by every pack swap */
    atomic_uint policy_gen;  /* atomic; bumped under lock by every policy swap */
    /* The models: the configured ones and the feedback model are kept apart
     * (each swapped by its own thread) and composed into models. */
    model      *base[MODEL_SET_MAX]; /* guarded by lock; a reference each */
    int         n_base;              /* guarded by lock */
    model      *feedback;            /* guarded by lock; a reference, or NULL */
    model_set  *models;              /* guarded by lock; holds one reference */
    atomic_uint models_gen;          /* atomic; bumped under lock by every model swap */
} live;

/* Start with rp (taken), a copy of pol and no model. -1 when out of memory
 * (rp is then still the caller's). */
int live_init(live *l, rulepack *rp, const policy *pol);
/* After every thread that reads l has been joined. */
void live_destroy(live *l);

/* The pack in force, with a reference the caller must put. */
pack_ref *live_pack(live *l);
unsigned live_pack_gen(live *l);
/* Copy the policy in force into *out (the caller's own copy). */
void live_policy(live *l, policy *out);
unsigned live_policy_gen(live *l);

/* Swap in rp (taken). The old pack is freed once the last worker and batch
 * let go of it. -1 when out of memory: the old pack stays, rp is freed. */
int live_set_pack(live *l, rulepack *rp);
void live_set_policy(live *l, const policy *pol);

/* The models in force, with a reference the caller must put. */
model_set *live_models(live *l);
unsigned live_models_gen(live *l);
/* Swap in the configured models m[0..n) (retained; the caller keeps its
 * references), keeping the feedback model; or the feedback model (retained;
 * NULL = none), keeping the configured ones. -1 when out of memory or over
 * MODEL_SET_MAX models: the running set stays. */
int live_set_base_models(live *l, model *const *m, int n);
int live_set_feedback_model(live *l, model *fb);

#endif
