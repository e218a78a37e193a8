/* pack_ref — a rule pack shared by reference; see pack_ref.h. */
#include "pack_ref.h"

#include <stdlib.h>

pack_ref *pack_ref_new(rulepack *rp)
{
    pack_ref *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->rp = rp;
    atomic_init(&r->refs, 1);
    return r;
}

void pack_ref_hold(pack_ref *r) { atomic_fetch_add(&r->refs, 1); }

void pack_ref_put(pack_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        rulepack_free(r->rp);
        free(r);
    }
}
