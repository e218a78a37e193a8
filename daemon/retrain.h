/*
 * retrain — the daemon learns from its managers: a thread of its own reads
 * the stored feedback (feedback.h) in a read transaction, trains a local
 * model from it (model_train.h), writes it to <data_dir>/models/
 * feedback.model (through a temporary file renamed into place) and swaps it
 * in beside the configured models, as a reload swaps a pack (live.h). The
 * pipeline never waits for it: workers take up the new model between
 * batches, and reading LMDB never blocks the writer.
 *
 * A retrain runs on `complaintctl retrain` (the control command, answered
 * when it ends) and, by itself, once retrain_every reviews have been stored
 * since the last one. Requests are tickets (job_thread.h).
 */
#ifndef COMPLAINTD_RETRAIN_H
#define COMPLAINTD_RETRAIN_H

#include <stdint.h>

#include "config.h"
#include "history.h"
#include "stats.h"
#include "strbuf.h"

struct pipeline;
typedef struct retrain retrain;

/* Start the thread. cfg (data_dir, rules, retrain_every), env, p and stats
 * must outlive it. cache_dir: compiled rules (the pack the rule features
 * come from). NULL if the thread cannot start. */
retrain *retrain_start(const config *cfg, const char *cache_dir, hist_env *env,
                       struct pipeline *p, daemon_stats *stats);

/* Ask for a retrain; returns its ticket. Never blocks. */
uint64_t retrain_request(retrain *r);

/* n more reviews were stored: once retrain_every have been since the last
 * retrain, one is requested (nobody waits for its outcome; the log and the
 * counters have it). Called by the control thread only. */
void retrain_note_feedback(retrain *r, uint32_t n);

/* As reloader_fd and reloader_take (reloader.h), for retrains. */
int retrain_fd(const retrain *r);
int retrain_take(retrain *r, uint64_t *served, strbuf *reply);

/* Let a retrain in progress finish (nothing is swapped in then), join the
 * thread and free r. NULL is fine. */
void retrain_stop(retrain *r);

/* Where the feedback model lives: <data_dir>/models/feedback.model. */
void retrain_model_path(const config *cfg, char *out, size_t cap);

#endif
