/* retrain — the local model from managers' feedback; see retrain.h. */
#include "retrain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "feedback.h"
#include "job_thread.h"
#include "log.h"
#include "model.h"
#include "model_set.h"
#include "model_train.h"
#include "pack_ref.h"
#include "pipeline.h"

/* liblinear keeps process-wide state (its print function, set by
 * train_fit): in the daemon only this thread trains, one job at a time
 * (job_thread.h), so nothing else touches it. */

/* Set by retrain_start and read-only after, except pending, which only the
 * control thread touches (retrain_note_feedback): no lock. The job thread
 * reads the rest. */
struct retrain {
    const config *cfg;
    const char   *cache_dir;
    hist_env     *env;      /* read transactions only: the writer stays LMDB's one writer */
    pipeline     *p;
    daemon_stats *stats;
    job_thread   *jt;
    uint64_t      pending;  /* reviews stored since the last automatic request */
};

void retrain_model_path(const config *cfg, char *out, size_t cap)
{
    snprintf(out, cap, "%s/models/feedback.model", cfg->data_dir);
}

/* Reviews copied out of a read transaction, RETRAIN_CHUNK at a time, so
 * that no transaction stays open while rows are classified (a long one
 * would pin pages the writer wants to reuse). */
enum { RETRAIN_CHUNK = 512 };

typedef struct review_copy {
    char     *text;      /* owned */
    char     *lang;      /* owned */
    int       channel;
    label_set labels;
} review_copy;

typedef struct chunk {
    review_copy row[RETRAIN_CHUNK];
    size_t      n;
    char        last[HIST_ID_MAX];  /* event_id of the last one copied */
    int         oom;
} chunk;

static int copy_review(const feedback_msg *fb, void *arg)
{
    chunk *c = arg;
    review_copy *r = &c->row[c->n];
    r->labels = 0;
    for (size_t i = 0; i < fb->n_labels; i++)
        r->labels |= LABEL_BIT((int)fb->labels[i]);
    r->channel = (int)fb->channel;
    r->text = strdup(fb->text);
    r->lang = strdup(fb->lang ? fb->lang : "");
    if (!r->text || !r->lang) {
        free(r->text);
        free(r->lang);
        c->oom = 1;
        return 1;
    }
    snprintf(c->last, sizeof c->last, "%s", fb->event_id);
    return ++c->n == RETRAIN_CHUNK;
}

static void chunk_clear(chunk *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->row[i].text);
        free(c->row[i].lang);
    }
    c->n = 0;
}

/* Training rows from a manager's verdicts: each covers every label (the
 * ones not given are negatives: scope all), no group (spread over the
 * folds) and one source, the chain's own stream, whose F1 the thresholds
 * maximise. */
typedef struct rows {
    train_set  *ts;
    classifier *cl;
    size_t      bad;     /* reviews that could not be added (invalid UTF-8: cannot happen) */
    char        err[256];
} rows;

static void add_chunk(rows *rw, const chunk *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const review_copy *r = &c->row[i];
        if (train_set_add(rw->ts, rw->cl, r->text, strlen(r->text), r->channel, r->lang,
                          r->labels, ~(label_set)0, -1, 0, rw->err, sizeof rw->err) < 0)
            rw->bad++;
    }
}

static void fail(retrain *r, strbuf *reply, const char *what, const char *err)
{
    STAT_ADD(r->stats->retrain_failures, 1);
    log_error("retrain failed, keeping the running models: %s: %s", what, err);
    strbuf_puts(reply, "{\"ok\":false,\"error\":");
    strbuf msg = STRBUF_INIT;
    strbuf_printf(&msg, "%s: %s", what, err);
    strbuf_json_str(reply, msg.buf, msg.len);
    strbuf_free(&msg);
    strbuf_putc(reply, '}');
}

/* Every stored review as a row, read in short read transactions (they
 * never block the writer). */
static int read_rows(retrain *r, rows *rw, uint64_t *n_reviews, char *err, size_t errlen)
{
    chunk *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = HIST_OK, more = 1, first = 1;
    *n_reviews = 0;
    while (rc == HIST_OK && more) {
        hist_txn *t;
        if ((rc = hist_begin(r->env, 0, &t)) != HIST_OK)
            break;
        rc = feedback_each_after(t, first ? NULL : c->last, first ? 0 : strlen(c->last),
                                 copy_review, c, NULL);
        hist_abort(t);
        first = 0;
        more = c->n == RETRAIN_CHUNK;
        if (rc == HIST_OK && c->oom) {
            snprintf(err, errlen, "out of memory");
            chunk_clear(c);
            free(c);
            return -1;
        }
        add_chunk(rw, c);
        *n_reviews += c->n;
        chunk_clear(c);
    }
    free(c);
    if (rc != HIST_OK)
        snprintf(err, errlen, "%s", hist_last_error(r->env));
    return rc == HIST_OK ? 0 : -1;
}

static void retrain_once(void *arg, job_thread *jt, strbuf *reply)
{
    retrain *r = arg;
    char path[CONFIG_PATH + 32], dir[CONFIG_PATH + 16], err[1024];
    int64_t t0 = clock_mono_us();
    feat_params fp;
    feat_params_default(&fp);
    pack_ref *pack = pipeline_pack(r->p);
    rows rw = {.ts = train_set_new(&fp), .cl = classifier_new(pack->rp)};
    uint64_t n_reviews = 0;
    train_opts to;
    train_opts_default(&to);
    model_spec spec;
    memset(&spec, 0, sizeof spec);
    if (!rw.ts || !rw.cl) {
        fail(r, reply, "retrain", "out of memory");
        goto done;
    }
    classifier_set_hit_counters(rw.cl, NULL);  /* training is not traffic */
    /* The feedback model runs after the configured ones: its thresholds are
     * chosen against what the rules and they decide (train_set_base_add). */
    _Static_assert(MODEL_SET_MAX - 1 <= MODEL_BASE_MAX,
                   "every configured model can be a base: only memory can fail below");
    model_set *in_force = pipeline_models(r->p);
    int base_ok = 1;
    for (int k = 0; k < in_force->n_base && base_ok; k++)
        base_ok = train_set_base_add(rw.ts, in_force->m[k]) == 0;
    model_set_put(in_force);
    if (!base_ok) {
        fail(r, reply, "retrain", "out of memory");
        goto done;
    }
    if (read_rows(r, &rw, &n_reviews, err, sizeof err) < 0) {
        fail(r, reply, "feedback store", err);
        goto done;
    }
    if (train_fit(rw.ts, &to, &spec, err, sizeof err) < 0) {
        fail(r, reply, "train", err);
        goto done;
    }
    if (spec.n_labels == 0) {
        STAT_ADD(r->stats->retrain_skipped, 1);
        log_info("retrain skipped: %llu review(s), no label has %d positive ones yet",
                 (unsigned long long)n_reviews, to.min_positives);
        strbuf_printf(reply, "{\"ok\":true,\"skipped\":true,\"feedback\":%llu,\"labels\":0,"
                  "\"reason\":\"no label has %d positive reviews yet\"}",
                  (unsigned long long)n_reviews, to.min_positives);
        goto done;
    }
    snprintf(dir, sizeof dir, "%s/models", r->cfg->data_dir);
    retrain_model_path(r->cfg, path, sizeof path);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fail(r, reply, dir, strerror(errno));
        goto done;
    }
    /* Saved (through a temporary file renamed into place) and read back
     * through the same checks as any model file. */
    model *m = NULL;
    if (model_save(path, &spec, err, sizeof err) < 0 || !(m = model_load(path, err, sizeof err))) {
        fail(r, reply, "feedback model", err);
        goto done;
    }
    if (job_thread_stopping(jt)) {
        model_release(m);
        strbuf_puts(reply, "{\"ok\":false,\"error\":\"the daemon is stopping\"}");
        goto done;
    }
    if (pipeline_swap_feedback_model(r->p, m) < 0) {
        model_release(m);
        fail(r, reply, "feedback model", "out of memory while swapping it in");
        goto done;
    }
    size_t weights = model_weight_count(m);
    model_release(m);  /* the pipeline holds its own reference */
    STAT_ADD(r->stats->retrains, 1);
    double ms = (double)(clock_mono_us() - t0) / 1000.0;
    log_info("retrain: %llu review(s), %d label(s), %zu weights -> %s (%.0f ms)",
             (unsigned long long)n_reviews, spec.n_labels, weights, path, ms);
    strbuf_printf(reply, "{\"ok\":true,\"feedback\":%llu,\"labels\":%d,\"weights\":%zu,\"model\":",
              (unsigned long long)n_reviews, spec.n_labels, weights);
    strbuf_json_str(reply, path, strlen(path));
    strbuf_printf(reply, ",\"ms\":%.0f}", ms);
done:
    train_spec_free(&spec);
    train_set_free(rw.ts);
    classifier_free(rw.cl);
    pack_ref_put(pack);
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
        log_info("retrain: %llu new review(s); retraining the local model",
                 (unsigned long long)r->pending);
        r->pending = 0;
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
