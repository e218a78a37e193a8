/*
 * triage — decide labelled events against customers' histories and log the
 * decisions: the part of the flow that runs in the single LMDB writer.
 *
 * A session decides a group of events in memory and hands the result, a
 * generation (triage_gen), to triage_apply, which writes it to the store in
 * one transaction. Every event gets the next gap-free sequence number; its
 * customer's and employee's records are decoded once per group and written
 * back once, key-sorted (fold.h).
 *
 * DESIGN: deciding and writing are split so that they can overlap. The
 * daemon's writer thread decides group N+1 while its committer thread
 * applies group N (daemon/committer.c): a durable LMDB commit is mostly a
 * wait on the disk (a data flush of a few hundred scattered pages), and it
 * used to be added to every group's deciding time instead of hidden under it.
 * While N is applied, N+1 reads through N's generation ("sealed") before the
 * store, so it sees exactly what it would have seen after N's commit.
 *
 * At most one generation is sealed at a time. A generation records which
 * commit of the store its reads saw; triage_apply refuses it
 * (HIST_ECONFLICT) if anyone else wrote the store since (complaintctl forget
 * from another process), and the caller decides it again with
 * triage_abort. triage_commit is the whole cycle in one call, for callers
 * that do not overlap (complaintctl classify, tests).
 *
 * Without a history environment (complaintctl classify with no data
 * directory) it decides against an empty history and keeps nothing.
 */
#ifndef COMPLAINTD_TRIAGE_H
#define COMPLAINTD_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "codec.h"
#include "fold.h"
#include "history.h"
#include "policy.h"
#include "strbuf.h"

/* One decision of a generation: its bytes are log.buf[off .. off+len). */
typedef struct triage_logged {
    uint64_t seq;
    size_t   off, len;
} triage_logged;

/* One group's decisions and the records they changed, in memory from the
 * deciding until the store has them. Owned by its session; triage_apply
 * only reads it. */
typedef struct triage_gen {
    fold_table customers;     /* hist_customer, as the group left them */
    fold_table employees;     /* hist_employee */
    fold_table events;        /* event_id -> uint64_t seq, for the group's new events */
    strbuf     log;           /* the group's serialized decisions, back to back */
    triage_logged *logged;    /* [n_logged], in seq order */
    size_t     n_logged, logged_cap;
    uint64_t   first_seq;     /* the group's first seq */
    uint64_t   next_seq;      /* and the one after its last */
    int64_t    decided_ms;    /* the clock of its last decision (for the age trim) */
    uint64_t   base_txn;      /* the store's commit its reads saw, counting a sealed one */
} triage_gen;

typedef struct triage_session {
    hist_env *env;          /* borrowed; NULL = stateless */
    hist_txn *snap;         /* a read transaction: the store as of the last apply */
    const policy *pol;      /* borrowed */
    uint64_t  next_seq;     /* 0 until read from the store */
    uint64_t  log_max;      /* decision log entries kept */
    int64_t   log_max_age_ms; /* and for at most this long (0 = no age limit) */
    uint64_t  last_seq;     /* seq of the last decision returned (the original one for a duplicate) */
    uint8_t  *packed;       /* the last decision, serialized; owned */
    size_t    packed_len, packed_cap;
    triage_gen gens[2];     /* owned */
    triage_gen *cur;        /* the group being decided, or NULL */
    triage_gen *sealed;     /* handed to triage_apply and not yet applied, or NULL */
} triage_session;

enum { TRIAGE_NEW = 0, TRIAGE_DUPLICATE = 1, TRIAGE_ERR = -1, TRIAGE_EFULL = -2 };

/* Start a group. env may be NULL. The decision log keeps log_max entries,
 * none older than log_max_age_ms (0: no age limit). Returns 0 or HIST_*. */
int triage_begin(triage_session *s, hist_env *env, const policy *pol, uint64_t log_max,
                 int64_t log_max_age_ms);

/* Decide one valid event. On success *bytes and *len are the serialized decision
 * (valid until the next call), *action its action; returns TRIAGE_NEW, or
 * TRIAGE_DUPLICATE when event_id was decided before (the logged decision
 * again, marked duplicate). now_ms is used when the event carries no ts_ms. */
int triage_event(triage_session *s, const event_msg *ev, const class_result *cr,
                 const rulepack *rp, int64_t now_ms, int *action /* OUT */,
                 const uint8_t **bytes, size_t *len /* OUT: both */);

/* Log a reject (ev may be NULL if it did not decode). Same outputs. */
int triage_reject(triage_session *s, const event_msg *ev, const char *reason, int64_t now_ms,
                  const uint8_t **bytes, size_t *len /* OUT: both */);

/* End the group: its generation, for triage_apply (NULL when stateless).
 * Only when no other generation is sealed (triage_applied first). */
triage_gen *triage_seal(triage_session *s);

/* Write a sealed generation to the store in one transaction, committed with
 * env's durability. Any thread: it reads g only, and the session does not
 * change g until triage_applied or triage_abort (apply writes only the
 * tables' scratch order, fold.h). Returns HIST_OK, or a
 * HIST_* code with nothing written (HIST_ECONFLICT: see above). */
int triage_apply(hist_env *env, triage_gen *g, uint64_t log_max, int64_t log_max_age_ms);

/* The sealed generation is in the store: read it from there from now on. */
void triage_applied(triage_session *s);

/* Drop every generation not applied (the sealed one and the one being
 * decided): the sequence goes back to the first seq they held and the
 * store is read afresh. Their events are to be decided again. */
void triage_abort(triage_session *s);

/* Seal, apply and mark applied: the synchronous cycle. Returns a HIST_*
 * code; on failure nothing of the group is kept and the sequence is not
 * advanced. */
int  triage_commit(triage_session *s);
void triage_session_free(triage_session *s);

#endif
