/* live — the rule pack and policy in force; see live.h. */
#include "live.h"

int live_init(live *l, rulepack *rp, const policy *pol)
{
    if (!(l->pack = pack_ref_new(rp)))
        return -1;
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
