/* live — the rule pack and policy in force; see live.h. */
#include "live.h"

int live_init(live *l, rulepack *rp, const policy *pol)
{
    if (!(l->models = model_set_new(NULL, 0, NULL)))
        return -1;
    if (!(l->pack = pack_ref_new(rp))) {
        model_set_put(l->models);
        return -1;
    }
    l->n_base = 0;
    l->feedback = NULL;
    atomic_init(&l->models_gen, 0);
    pthread_mutex_init(&l->lock, NULL);
    l->pol = *pol;
    atomic_init(&l->pack_gen, 0);
    atomic_init(&l->policy_gen, 0);
    return 0;
}

void live_destroy(live *l)
{
    pack_ref_put(l->pack);
    l->pack = NULL;
    model_set_put(l->models);
    l->models = NULL;
    for (int i = 0; i < l->n_base; i++)
        model_release(l->base[i]);
    l->n_base = 0;
    model_release(l->feedback);
    l->feedback = NULL;
    pthread_mutex_destroy(&l->lock);
}

pack_ref *live_pack(live *l)
{
    pthread_mutex_lock(&l->lock);
    pack_ref *r = l->pack;
    pack_ref_hold(r);
    pthread_mutex_unlock(&l->lock);
    return r;
}

unsigned live_pack_gen(live *l) { return atomic_load(&l->pack_gen); }

void live_policy(live *l, policy *out)
{
    pthread_mutex_lock(&l->lock);
    *out = l->pol;
    pthread_mutex_unlock(&l->lock);
}

unsigned live_policy_gen(live *l) { return atomic_load(&l->policy_gen); }

int live_set_pack(live *l, rulepack *rp)
{
    pack_ref *fresh = pack_ref_new(rp);
    if (!fresh) {
        rulepack_free(rp);
        return -1;
    }
    pthread_mutex_lock(&l->lock);
    pack_ref *old = l->pack;
    l->pack = fresh;
    atomic_fetch_add(&l->pack_gen, 1);
    pthread_mutex_unlock(&l->lock);
    pack_ref_put(old);  /* freed once the last worker and batch let go */
    return 0;
}

void live_set_policy(live *l, const policy *pol)
{
    pthread_mutex_lock(&l->lock);
    l->pol = *pol;
    atomic_fetch_add(&l->policy_gen, 1);
    pthread_mutex_unlock(&l->lock);
}

model_set *live_models(live *l)
{
    pthread_mutex_lock(&l->lock);
    model_set *s = l->models;
    model_set_hold(s);
    pthread_mutex_unlock(&l->lock);
    return s;
}

unsigned live_models_gen(live *l) { return atomic_load(&l->models_gen); }

/* Compose base and feedback into a new set in force. Under the lock; the
 * old set is put by the caller after unlocking. NULL if the new set
 * cannot be made (the old one stays). */
static model_set *compose(live *l, model *const *base, int n_base, model *fb)
{
    model_set *fresh = model_set_new(base, n_base, fb);
    if (!fresh)
        return NULL;
    model_set *old = l->models;
    l->models = fresh;
    atomic_fetch_add(&l->models_gen, 1);
    return old;
}

int live_set_base_models(live *l, model *const *m, int n)
{
    if (n < 0 || n > MODEL_SET_MAX)
        return -1;
    pthread_mutex_lock(&l->lock);
    model_set *old = compose(l, m, n, l->feedback);
    model *drop[MODEL_SET_MAX];
    int n_drop = 0;
    if (old) {
        for (int i = 0; i < l->n_base; i++)
            drop[n_drop++] = l->base[i];
        for (int i = 0; i < n; i++)
            l->base[i] = model_retain(m[i]);
        l->n_base = n;
    }
    pthread_mutex_unlock(&l->lock);
    if (!old)
        return -1;
    for (int i = 0; i < n_drop; i++)
        model_release(drop[i]);
    model_set_put(old);  /* freed once the last worker and batch let go */
    return 0;
}

int live_set_feedback_model(live *l, model *fb)
{
    pthread_mutex_lock(&l->lock);
    model_set *old = compose(l, l->base, l->n_base, fb);
    model *drop = NULL;
    if (old) {
        drop = l->feedback;
        l->feedback = fb ? model_retain(fb) : NULL;
    }
    pthread_mutex_unlock(&l->lock);
    if (!old)
        return -1;
    model_release(drop);
    model_set_put(old);
    return 0;
}
