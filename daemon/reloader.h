/*
 * reloader — recompiles the rules, reloads the models (config key `model`)
 * and re-reads the policy in a thread of its own, so that the control
 * endpoint keeps answering ping and stats while a
 * changed pack compiles (seconds in a release build, half a minute under
 * ASan).
 *
 * The thread and its tickets are a job_thread (job_thread.h): a reload
 * starts only after the request it serves, so whoever asked sees files at
 * least as new as when they asked; requests made
 * while a reload runs are served together by the next one. When a reload
 * ends, reloader_fd() becomes readable and reloader_take() hands out its
 * outcome, oldest first: the highest ticket it served and the JSON reply.
 *
 * A broken pack, model file or config keeps the running ones (the reply
 * says why, with file and line, or the model file); good ones are swapped
 * into the pipeline between batches. The feedback model is the retrain's
 * (retrain.h) and is kept across reloads.
 */
#ifndef COMPLAINTD_RELOADER_H
#define COMPLAINTD_RELOADER_H

#include <stdint.h>

#include "config.h"
#include "pipeline.h"
#include "stats.h"
#include "strbuf.h"

typedef struct reloader reloader;

/* Start the thread. config_path is NULL if the daemon was started without
 * --config; cfg, cache_dir, p and stats must outlive the reloader. NULL if
 * the thread cannot start. */
reloader *reloader_start(const char *config_path, const config *cfg, const char *cache_dir,
                         pipeline *p, daemon_stats *stats);

/* Ask for a reload; returns the request's ticket (1, 2, ...). Never blocks
 * on a reload in progress. */
uint64_t reloader_request(reloader *r);

/* A file descriptor that polls readable once a reload has ended; drained by
 * reloader_take. */
int reloader_fd(const reloader *r);

/* The oldest outcome not yet taken: sets *served to the highest ticket that
 * reload served and puts its JSON reply in reply (replacing what was there);
 * returns 1, or 0 if every ended reload has been taken. *served must hold
 * the last value this returned (0 at first). Call until it returns 0. */
int reloader_take(reloader *r, uint64_t *served, strbuf *reply);

/* Let a reload in progress finish (its pack is then dropped, not swapped in:
 * the pipeline is about to stop), join the thread and free r. NULL is fine. */
void reloader_stop(reloader *r);

#endif
