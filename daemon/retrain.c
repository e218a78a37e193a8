/* retrain — the local model from managers' feedback; see retrain.h. */
#include "retrain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "job_thread.h"
#include "log.h"
#include "pipeline.h"

/* Set by retrain_start and read-only after, except pending (the control
 * thread's alone: retrain_note_feedback). */
struct retrain {
    const config *cfg;
    const char   *cache_dir;
    hist_env     *env;
    pipeline     *p;
    daemon_stats *stats;
    job_thread   *jt;
    uint64_t      pending;  /* reviews stored since the last automatic request */
};

void retrain_model_path(const config *cfg, char *out, size_t cap)
{
    snprintf(out, cap, "%s/models/feedback.model", cfg->data_dir);
}

static void retrain_once(void *arg, job_thread *jt, strbuf *reply)
{
    retrain *r = arg;
    (void)jt;
    hist_txn *t;
    uint64_t n = 0;
    if (hist_begin(r->env, 0, &t) == HIST_OK) {
        feedback_count(t, &n);
        hist_abort(t);
    }
    STAT_ADD(r->stats->retrain_skipped, 1);
    sb_printf(reply, "{\"ok\":false,\"error\":\"no learned layer in this build\",\"feedback\":%llu}",
              (unsigned long long)n);
}

retrain *retrain_start(const config *cfg, const char *cache_dir, hist_env *env, pipeline *p,
                       daemon_stats *stats)
{
    retrain *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (retrain){.cfg = cfg, .cache_dir = cache_dir, .env = env, .p = p, .stats = stats};
    if (!(r->jt = job_thread_start("cd-retrain", retrain_once, r))) {
        free(r);
        return NULL;
    }
    return r;
}

uint64_t retrain_request(retrain *r) { return job_thread_request(r->jt); }

void retrain_note_feedback(retrain *r, uint32_t n)
{
    r->pending += n;
    if (r->cfg->retrain_every > 0 && r->pending >= (uint64_t)r->cfg->retrain_every) {
        r->pending = 0;
        log_info("retrain: %d new reviews; retraining the local model", r->cfg->retrain_every);
        job_thread_request(r->jt);
    }
}

int retrain_fd(const retrain *r) { return job_thread_fd(r->jt); }

int retrain_take(retrain *r, uint64_t *served, strbuf *reply)
{
    return job_thread_take(r->jt, served, reply);
}

void retrain_stop(retrain *r)
{
    if (!r)
        return;
    job_thread_stop(r->jt);
    free(r);
}
