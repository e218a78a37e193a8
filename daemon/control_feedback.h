/*
 * control_feedback — the control endpoint's "feedback" command, less the
 * sockets (control.c has those): check a FeedbackBatch item by item, pack
 * the valid ones for the writer, and write the reply once the writer has
 * stored them.
 *
 * A request is two frames, the word "feedback" and a serialized
 * complaint.v1.FeedbackBatch. The reply (one frame, JSON):
 *   {"ok":true,"received":N,"stored":S,"replaced":R,"rejected":K,
 *    "errors":[{"item":I,"event_id":"...","error":"..."},...]}
 * item counts from 0 in the batch's order; an invalid item is skipped and
 * the rest are stored. "ok" is false only when the batch does not decode or
 * the store refused the whole write ("error" then says why, and nothing of
 * the batch is stored).
 */
#ifndef COMPLAINTD_CONTROL_FEEDBACK_H
#define COMPLAINTD_CONTROL_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "inproc.h"
#include "strbuf.h"

enum { FEEDBACK_BATCH_MAX = 64 << 20 };  /* bytes of one request's batch, at most */

/* What checking one request found. */
typedef struct feedback_check {
    size_t received;  /* items in the batch */
    size_t rejected;  /* items refused; each has an entry in errors */
    size_t valid;     /* items packed into the writer's message */
    strbuf errors;    /* the "errors" array's entries, comma-separated (owned) */
    const char *fatal;/* static: why no item could be taken (does not decode); NULL if fine */
} feedback_check;

/* Check bytes[0..len) and append the writer's message to msg: the ticket,
 * then a FeedbackBatch of the valid items (appended only if there are any).
 * max_text: the size limit of a review's text. Returns 0, or -1 when out of
 * memory. fc is the caller's; feedback_check_free releases it. */
int  feedback_check_batch(const void *bytes, size_t len, size_t max_text, uint64_t ticket,
                          strbuf *msg /* OUT */, feedback_check *fc /* OUT */);
void feedback_check_free(feedback_check *fc);

/* The reply to a request: d is the writer's outcome, or NULL when nothing
 * went to the writer (no valid item, or a fatal problem). */
void feedback_reply(strbuf *sb, const feedback_check *fc, const feedback_done *d);

#endif
