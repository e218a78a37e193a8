/*
 * history — customers' histories, event de-duplication and the decision log,
 * in one LMDB environment.
 *
 * Sub-databases:
 *   customers  customer_id -> CustomerRecord (proto/history.proto)
 *   events     event_id    -> seq of its decision (8 bytes, native order)
 *   decisions  seq (8 bytes, big-endian so keys sort) -> a small header (when it
 *              was decided, which event id to forget with it) and the
 *              serialized TriageDecision (history_log.c); entries of stores
 *              written before the header are the bare decision, read too
 *   employees  employee_id -> EmployeeRecord
 *   meta       "next_seq"  -> next sequence number
 *   feedback   event_id    -> a manager's review, complaint.v1.Feedback (feedback.h)
 *
 * DESIGN: LMDB allows one writer. The daemon's writer thread is the only
 * caller of the write functions and applies a whole batch of events in one
 * transaction (hist_begin .. hist_commit), so a durable commit costs once per
 * batch. Readers (complaintctl, control replies) use their own read
 * transactions and never block the writer. MDB_MAP_FULL is reported as
 * HIST_EFULL: the batch is aborted whole, so nothing half-applied is visible.
 */
#ifndef COMPLAINTD_HISTORY_H
#define COMPLAINTD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

enum {
    HIST_OK = 0,
    HIST_NOTFOUND = 1,
    HIST_ERR = -1,     /* LMDB or I/O failure; message in the env's last error */
    HIST_EFULL = -2,   /* map or disk full */
    HIST_ECORRUPT = -3 /* a stored record does not decode */
};

enum { HIST_RECENT = 4, HIST_CONFLICTS = 4, HIST_ID_MAX = 64 };

typedef struct hist_recent {
    uint64_t seq;                  /* the decision in the log (its event id is there) */
    char     event_id[HIST_ID_MAX];  /* only in records written before seq existed */
    uint32_t labels;
    uint32_t action;
    int64_t  ts_ms;
} hist_recent;

typedef struct hist_conflict {
    char     employee_id[HIST_ID_MAX];
    int64_t  last_ms;
    uint32_t count;
} hist_conflict;

/* One customer's history, decoded (proto/history.proto CustomerRecord).
 * The ring of recent events holds ids and labels, never texts. */
typedef struct hist_customer {
    int64_t  first_ms, last_ms;
    uint32_t events;
    uint32_t label_count[LABEL_COUNT];
    int64_t  label_last_ms[LABEL_COUNT];
    float    label_decayed[LABEL_COUNT];  /* counts with time decay, as of decayed_at_ms */
    uint32_t toxic_incidents;
    uint32_t extremism_incidents;
    float    toxic_decayed, extremism_decayed;
    int64_t  decayed_at_ms;
    uint32_t compensations;
    int64_t  compensation_sum;
    int64_t  purchases_sum;
    uint32_t last_action;
    uint32_t escalations;
    int64_t  last_escalation_ms;
    hist_recent   recent[HIST_RECENT];     /* newest first */
    uint32_t      n_recent;
    hist_conflict conflicts[HIST_CONFLICTS];
    uint32_t      n_conflicts;
} hist_customer;

/* One employee's record (from events' employee_id). */
typedef struct hist_employee {
    uint32_t toxic_received;
    uint32_t blame_notes;
    uint32_t events;
    int64_t  last_ms, last_toxic_ms;
} hist_employee;

typedef struct hist_env hist_env;
typedef struct hist_txn hist_txn;

/* How commits reach the disk (hist_open's durable). */
enum {
    HIST_NO_SYNC = 0,        /* MDB_NOSYNC: fast; a power loss may lose recent commits */
    HIST_SYNC = 1,           /* each commit is durable when hist_commit returns */
    HIST_SYNC_DEFERRED = 2,  /* a commit flushes its data pages, but is durable only
                                after the next hist_sync (MDB_NOMETASYNC); a power
                                loss before it undoes the commit, never corrupts */
};

/* Open (creating) the environment in dir, which is created 0700 if missing.
 * map_mb: the map size. durable: a HIST_*SYNC* mode above. readonly: open
 * for reading only. NULL with a message in err on failure. */
hist_env *hist_open(const char *dir, size_t map_mb, int durable, int readonly, char *err,
                    size_t errlen);
void hist_close(hist_env *env);
/* Make every commit so far durable (HIST_SYNC_DEFERRED). Any thread, also
 * while another thread writes. */
int  hist_sync(hist_env *env);
const char *hist_last_error(const hist_env *env);

/* How much of the map is in use: *used = pages up to the last one written
 * (as of the last commit) times the page size, *size = the map size, both in
 * bytes. Safe from any thread, without a transaction. */
int hist_map_use(hist_env *env, uint64_t *used /* OUT */, uint64_t *size /* OUT */);

/* Transactions. A write transaction must be the only one live in its thread;
 * hist_commit or hist_abort ends it and frees txn. */
int  hist_begin(hist_env *env, int write, hist_txn **txn /* OUT */);
int  hist_commit(hist_txn *txn);
void hist_abort(hist_txn *txn);

/* Customer record; a missing customer gives HIST_NOTFOUND and a zeroed *out. */
int hist_get_customer(hist_txn *txn, const char *id, size_t idlen, hist_customer *out);
int hist_put_customer(hist_txn *txn, const char *id, size_t idlen, const hist_customer *c);
int hist_del_customer(hist_txn *txn, const char *id, size_t idlen);

/* Customer records as stored (serialized CustomerRecord), for moving a
 * partition's histories between nodes (cluster mode): each's bytes are
 * borrowed for the call; stop early if fn returns non-zero. put_raw
 * refuses (HIST_ECORRUPT) bytes that do not decode. */
int hist_each_customer_raw(hist_txn *txn,
                           int (*fn)(const char *id, size_t idlen, const void *rec, size_t len,
                                     void *ctx),
                           void *ctx);
int hist_put_customer_raw(hist_txn *txn, const char *id, size_t idlen, const void *rec, size_t len);

/* Employee record; a missing one gives HIST_NOTFOUND and a zeroed *out. */
int hist_get_employee(hist_txn *txn, const char *id, size_t idlen, hist_employee *out);
int hist_put_employee(hist_txn *txn, const char *id, size_t idlen, const hist_employee *e);

/* De-duplication: the seq of event_id's decision, or HIST_NOTFOUND. */
int hist_get_event(hist_txn *txn, const char *id, size_t idlen, uint64_t *seq /* OUT */);
int hist_put_event(hist_txn *txn, const char *id, size_t idlen, uint64_t seq);
int hist_del_event(hist_txn *txn, const char *id, size_t idlen);  /* HIST_NOTFOUND if absent */

/* The sequence counter: next seq to assign (1 for a new store). */
int hist_get_next_seq(hist_txn *txn, uint64_t *seq /* OUT */);
int hist_put_next_seq(hist_txn *txn, uint64_t seq);

/* Decision log. put: the serialized decision under seq, with beside it what
 * trimming needs, so that trimming never decodes a decision: decided_ms,
 * and event_id, the id whose de-duplication entry leaves with the decision
 * (NULL or "" for none). get and each: the decision's bytes, which point
 * into the map, valid until txn ends. */
int hist_log_put(hist_txn *txn, uint64_t seq, int64_t decided_ms, const char *event_id,
                 const void *bytes, size_t len);
int hist_log_get(hist_txn *txn, uint64_t seq, const void **bytes /* OUT, borrowed */,
                 size_t *len /* OUT */);
/* Delete log entries with seq < below, and (if min_decided_ms > 0) older
 * entries whose decision was made before min_decided_ms, and their event ids
 * from the de-duplication index: an event re-sent after its decision left
 * the log is decided anew. Returns the count removed in *removed (may be
 * NULL). */
int hist_log_trim(hist_txn *txn, uint64_t below, int64_t min_decided_ms, uint64_t *removed);
/* Call fn for each logged decision with seq >= from, in order; stop when fn
 * returns non-zero. */
int hist_log_each(hist_txn *txn, uint64_t from,
                  int (*fn)(uint64_t seq, const void *bytes, size_t len, void *ctx), void *ctx);
/* Replace the logged decision under seq, keeping its decided_ms and event id
 * (used by forget to redact). HIST_NOTFOUND if there is none. */
int hist_log_replace(hist_txn *txn, uint64_t seq, const void *bytes, size_t len);

/* What hist_forget did. */
typedef struct hist_forgotten {
    int    history_erased;     /* the customer had a record; it is deleted */
    size_t decisions_redacted; /* their logged decisions, kept but redacted */
    size_t feedback_erased;    /* managers' reviews of their events, deleted */
} hist_forgotten;

/* Forget a customer (an erasure request): delete their record and the
 * managers' reviews of their events (which carry the events' texts), and redact
 * each logged decision of theirs: the decision and its seq stay, so replay
 * shows no gap, but without the customer id, matches, reasons or flags. In
 * one write transaction of its own (beside a running daemon, LMDB
 * serialises the writers): all of it, or on any failure (out of memory
 * included) nothing, with the message in hist_last_error. */
int hist_forget(hist_env *env, const char *id, size_t idlen, hist_forgotten *out /* OUT */);

/* Call fn for each customer (read txn); stop early if fn returns non-zero. */
int hist_each_customer(hist_txn *txn,
                       int (*fn)(const char *id, size_t idlen, const hist_customer *c, void *ctx),
                       void *ctx);

#endif
