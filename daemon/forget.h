/*
 * forget — "forget CUSTOMER" from the control endpoint, run in the writer's
 * thread so that LMDB keeps one writer (a second writing process would
 * serialise on LMDB's lock but interleave with the daemon's groups).
 *
 * The control thread sends [ticket, 8 bytes][customer id] on a PAIR to
 * FORGET_ENDPOINT; the writer, between two groups, commits what it holds,
 * erases the customer's history and redacts their logged decisions in a
 * transaction of its own, makes it durable, and answers [ticket][JSON]:
 *   {"customer_id":"c-1","history_erased":true,"decisions_redacted":3}
 *   {"customer_id":"c-1","error":"..."}   (nothing was changed)
 */
#ifndef COMPLAINTD_FORGET_H
#define COMPLAINTD_FORGET_H

#include <stddef.h>

#include "history.h"
#include "strbuf.h"

#define FORGET_ENDPOINT "inproc://forget"

/* Erase the customer's history and redact every logged decision of theirs
 * (the seq stays, so replay shows no gap) in one write transaction; the
 * JSON outcome into reply. Returns HIST_OK or the failing HIST_* code. */
int forget_customer(hist_env *env, const char *id, size_t idlen, strbuf *reply,
                    size_t *redacted /* OUT */);

/* The writer's side: take one request from sock (a bound PAIR), run it,
 * answer it. */
void forget_serve(void *sock, hist_env *env, int durable);

#endif
