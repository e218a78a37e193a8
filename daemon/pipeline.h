/*
 * pipeline — complaintd's threads and the queues between them.
 *
 *   producers --PUSH--> [ingest: PULL] --round robin, inproc--> [worker 1..N]
 *     workers: decode, validate, normalise, scan; ship batches of jobs
 *     --inproc (pointers)--> [writer: LMDB txn per group, decision log,
 *     PUB after commit] --> subscribers
 *
 * Each ZeroMQ socket belongs to exactly one thread. Threads meet only
 * through inproc sockets with high-water marks, so a slow writer slows the
 * workers, which slow ingest, which stops reading: the producers' PUSH blocks
 * and nothing is dropped (backpressure). Batches of jobs cross from workers to
 * the writer as one pointer message: ownership moves with the message.
 */
#ifndef COMPLAINTD_PIPELINE_H
#define COMPLAINTD_PIPELINE_H

#include <stddef.h>

#include "config.h"
#include "curve.h"
#include "history.h"
#include "policy.h"
#include "rules.h"
#include "stats.h"

typedef struct pipeline pipeline;

/* Bind the ingest and publish endpoints and start every thread. The
 * pipeline takes ownership of rp (and frees it if the start fails); the
 * history environment and the stats
 * outlive the pipeline (borrowed). kp: CURVE server keys for the external
 * sockets, or NULL for none.
 * NULL with a message on failure; *usage_error set when the cause is the
 * configuration (a malformed endpoint) rather than the machine. */
pipeline *pipeline_start(void *zctx, const config *cfg, rulepack *rp, hist_env *env,
                         daemon_stats *stats, const curve_keypair *kp, char *err, size_t errlen,
                         int *usage_error);

/* Stop taking input, decide and commit everything in flight, publish it,
 * join the threads and free the pipeline. Returns 0, or -1 if the writer
 * could not commit what it held. */
int pipeline_stop(pipeline *p);

/* Hot reload: from the next batch on, workers label with rp (ownership
 * moves to the pipeline) and the writer decides with pol (copied). Events
 * already labelled are decided with the pack that labelled them: nothing is
 * dropped or decided twice. pipeline_swap_rules returns -1 (rp freed, the
 * running pack kept) when out of memory. */
int pipeline_swap_rules(pipeline *p, rulepack *rp);
void pipeline_swap_policy(pipeline *p, const policy *pol);
/* The learned models, from the next batch on (live.h): the configured ones
 * (m[0..n), retained) or the feedback model (retained; NULL = none). -1
 * when out of memory: the running ones stay. */
struct model;
struct pack_ref;
/* The pack in force, with a reference the caller puts (pack_ref_put): the
 * retrain classifies its rows with the pack its model will run beside. */
struct pack_ref *pipeline_pack(pipeline *p);
int pipeline_swap_models(pipeline *p, struct model *const *m, int n);
/* The models in force, with a reference the caller puts (model_set_put):
 * the retrain chooses the feedback model's thresholds against the
 * configured ones. */
struct model_set *pipeline_models(pipeline *p);
int pipeline_swap_feedback_model(pipeline *p, struct model *fb);

#endif
