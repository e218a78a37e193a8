/*
 * control — the control endpoint (ZeroMQ ROUTER for REQ clients, loopback by
 * default). A request is one frame of words; the reply is one frame, except
 * for replay.
 *
 *   ping               -> "pong"
 *   stats              -> the counters as JSON
 *   reload             -> recompile the rules and re-read the policy, swap
 *                         them in between batches: {"ok":true,...} or
 *                         {"ok":false,"error":"file:line: ..."} (the old
 *                         ones keep running). SIGHUP does the same.
 *   info               -> {"pid":N,"data_dir":"/abs/path"}: which daemon this is
 *   forget CUSTOMER    -> erase the history and redact the logged decisions of
 *                         CUSTOMER (the rest of the frame), done by the writer
 *                         thread between groups (forget.h):
 *                         {"customer_id","history_erased","decisions_redacted"}
 *                         or {"customer_id","error"}
 *   feedback + a second frame, a serialized FeedbackBatch
 *                      -> {"ok":true,"received","stored","replaced","rejected",
 *                         "errors":[{"item","event_id","error"}]} once the
 *                         writer has stored the valid reviews (control_feedback.h)
 *   retrain            -> train the local model from the stored feedback and
 *                         swap it in: {"ok":true,...} or {"ok":false,"error"}
 *                         when it ends (retrain.h)
 *   replay FROM [MAX]  -> a JSON header frame {"from","count","next","last_seq"}
 *                         then up to MAX (default and cap 1000) frames, each a
 *                         serialized TriageDecision with seq >= FROM, in order.
 *                         count 0 means the caller has caught up; a FROM older
 *                         than the log's retention starts at its oldest entry
 *                         ("from" says where).
 *
 * docs/protocol.md is the full contract. Unknown words get {"error": ...}. The main thread runs it between signal
 * checks. It is a ROUTER rather than a REP so that a reload, which runs in
 * the reloader's thread and may compile for seconds, is answered when it
 * ends while ping, stats and replay keep being answered meanwhile. Replay
 * reads LMDB in its own read transaction and never blocks the writer.
 */
#ifndef COMPLAINTD_CONTROL_H
#define COMPLAINTD_CONTROL_H

#include <signal.h>

#include "history.h"
#include "reloader.h"
#include "retrain.h"
#include "stats.h"

enum { REPLAY_MAX = 1000 };

typedef struct control_hooks {
    volatile sig_atomic_t *stop;    /* set by SIGINT/SIGTERM */
    volatile sig_atomic_t *reload;  /* set by SIGHUP */
    reloader *reloader;             /* runs reloads, by command or SIGHUP */
    retrain  *retrain;              /* retrains from feedback; NULL = "retrain" is unknown */
    void     *zctx;                 /* for the queues to and from the writer (forget, feedback) */
    const char *data_dir;           /* reported by "info" */
    long      max_text;             /* a review's text limit (max_message_bytes) */
} control_hooks;

/* Serve requests on sock (a bound ROUTER) until *hooks->stop becomes non-zero (checked every
 * 100 ms, as is *hooks->reload). */
void control_serve(void *sock, daemon_stats *stats, hist_env *env, control_hooks *hooks);

#endif
