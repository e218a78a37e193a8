/*
 * group — a committed group of decisions on its way from the writer to the
 * publisher. The writer fills one per transaction and hands it on as a
 * pointer in a ZeroMQ message; the publisher sends it and frees it. Like a
 * batch, a group has one owner at a time, so no lock.
 */
#ifndef COMPLAINTD_GROUP_H
#define COMPLAINTD_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "strbuf.h"

/* One serialized decision of a group: where its bytes are in the group's
 * buffer, and what its acknowledgement says. */
typedef struct decision_ref {
    size_t   off, len;
    uint64_t seq;
    int      action;  /* 0 for a reject */
    uint8_t  status;  /* Ack status */
} decision_ref;

/* Owns its batches; d[k] is the decision of the k-th job in batch order. */
typedef struct decided_group {
    job_batch   **batches;
    size_t        n_batches, batch_cap, n_events;
    strbuf        bytes;
    decision_ref *d;
    size_t        n, cap;
    uint64_t      last_seq;  /* the highest seq the group's commit logged */
    int64_t       committed_us; /* when its commit returned (monotonic) */
} decided_group;

decided_group *group_new(void);  /* NULL when out of memory */
int  group_hold(decided_group *g, job_batch *b);  /* takes b; -1 when out of memory */
int  group_add_decision(decided_group *g, const uint8_t *bytes, size_t n, int action,
                        uint64_t seq, int status);  /* copies bytes */
void group_clear_decisions(decided_group *g);  /* before a retried transaction */
void group_free(decided_group *g);  /* and its batches */

#endif
