/*
 * pack_ref — a rule pack shared by reference. The pack in force (live.h)
 * holds one reference, each worker's classifier one, each batch in flight
 * one. The last put frees the pack, so a reload never frees a pack still in
 * use. refs is the only shared field: an atomic, no lock.
 */
#ifndef COMPLAINTD_PACK_REF_H
#define COMPLAINTD_PACK_REF_H

#include <stdatomic.h>

#include "rules.h"

typedef struct pack_ref {
    rulepack  *rp;    /* read-only once shared */
    atomic_int refs;  /* atomic: any thread holds and puts */
} pack_ref;

/* A reference count of one on rp, which it takes. NULL when out of memory
 * (rp is then still the caller's). */
pack_ref *pack_ref_new(rulepack *rp);
/* One more reference, for the caller to put. */
void pack_ref_hold(pack_ref *r);
/* Drop a reference; the last one frees the pack. NULL is fine. */
void pack_ref_put(pack_ref *r);

#endif
