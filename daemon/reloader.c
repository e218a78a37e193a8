/* reloader — rule and policy reloads off the control thread; see reloader.h. */
#include "reloader.h"

#include <stdlib.h>
#include <string.h>

#include "job_thread.h"
#include "log.h"
#include "model_set.h"
#include "models.h"
#include "rules.h"

/* Set by reloader_start, read-only after: the job thread reads them. */
struct reloader {
    const char   *config_path;  /* NULL if started without --config */
    const config *cfg;          /* the running configuration */
    config        started;      /* what config_path said at start (no flags): a reload
                                   compares the file with it to name the keys that
                                   changed but need a restart */
    int           have_started; /* config_path could be read at start */
    const char   *cache_dir;
    pipeline     *p;
    daemon_stats *stats;        /* the new pack's rule hit counters */
    job_thread   *jt;           /* runs the reloads (job_thread.h) */
};

static void refuse(reloader *r, strbuf *reply, const char *err)
{
    STAT_ADD(r->stats->reload_failures, 1);
    log_error("reload refused, keeping the running rules and policy: %s", err);
    strbuf_puts(reply, "{\"ok\":false,\"error\":");
    strbuf_json_str(reply, err, strlen(err));
    strbuf_putc(reply, '}');
}

/* ,"restart_needed":[...]: the keys of the file that changed since the
 * daemon started and that a reload does not apply (a warning in the log). */
static void restart_keys(reloader *r, const config *fresh, strbuf *reply)
{
    char names[1024];
    size_t n = r->have_started ? config_restart_keys(&r->started, fresh, names, sizeof names) : 0;
    strbuf_puts(reply, ",\"restart_needed\":[");
    const char *p = names;
    for (size_t i = 0; i < n && *p; i++) {
        size_t len = strcspn(p, " ");
        strbuf_printf(reply, "%s\"%.*s\"", i ? "," : "", (int)len, p);
        p += len + (p[len] == ' ');
    }
    strbuf_putc(reply, ']');
    if (n)
        log_warn("reload: %s changed in %s but take effect only on a restart", names, r->config_path);
}

/* One reload; its JSON outcome goes to reply. Swaps only if the daemon is
 * not stopping once the (possibly long) compile is over. */
static void reload_once(void *arg, job_thread *jt, strbuf *reply)
{
    reloader *r = arg;
    char err[1024];
    config fresh;
    config_defaults(&fresh);
    log_info("reloading rules from %s, policy from %s", r->cfg->rules,
             r->config_path ? r->config_path : "(defaults)");
    if (r->config_path && config_load_file(&fresh, r->config_path, err, sizeof err) < 0) {
        refuse(r, reply, err);
        return;
    }
    /* The models first: a bad file is named and refuses the whole reload,
     * before the (possibly long) compile. One place stays for the feedback
     * model. */
    model *models[MODEL_SET_MAX - 1];
    int n_models = 0;
    if (models_load(r->config_path ? fresh.models : r->cfg->models, models, MODEL_SET_MAX - 1,
                    &n_models, err, sizeof err) < 0) {
        refuse(r, reply, err);
        return;
    }
    rulepack *rp = rulepack_load(r->cfg->rules, r->cache_dir, err, sizeof err);
    if (!rp) {
        models_release(models, n_models);
        refuse(r, reply, err);
        return;
    }
    if (job_thread_stopping(jt)) {  /* the pipeline is about to stop: nothing to swap into */
        models_release(models, n_models);
        rulepack_free(rp);
        strbuf_puts(reply, "{\"ok\":false,\"error\":\"the daemon is stopping\"}");
        return;
    }
    int swapped = pipeline_swap_models(r->p, models, n_models);
    models_release(models, n_models);  /* the pipeline holds its own references */
    if (swapped < 0) {
        rulepack_free(rp);
        refuse(r, reply, "out of memory while swapping in the new models");
        return;
    }
    size_t n_rules = rp->n_rules, n_patterns = rp->n_patterns;
    int from_cache = rp->from_cache;
    double compile_ms = rp->compile_ms;
    rp->hit_counters = stats_rules_register(&r->stats->rules, rp);
    if (pipeline_swap_rules(r->p, rp) < 0) {  /* the pipeline owns rp now, even on failure */
        refuse(r, reply, "out of memory while swapping in the new pack");
        return;
    }
    strbuf_printf(reply, "{\"ok\":true,\"rules\":%zu,\"patterns\":%zu,\"from_cache\":%s,\"compile_ms\":%.0f,"
              "\"models\":%d",
              n_rules, n_patterns, from_cache ? "true" : "false", compile_ms, n_models);
    restart_keys(r, &fresh, reply);
    strbuf_putc(reply, '}');
    log_info("reload: %zu rules, %zu patterns (%s), %d model(s), policy %s", n_rules, n_patterns,
             from_cache ? "from cache" : "compiled", n_models,
             r->config_path ? r->config_path : "(defaults)");
    pipeline_swap_policy(r->p, r->config_path ? &fresh.pol : &r->cfg->pol);
    STAT_ADD(r->stats->reloads, 1);
}

reloader *reloader_start(const char *config_path, const config *cfg, const char *cache_dir,
                         pipeline *p, daemon_stats *stats)
{
    reloader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (reloader){.config_path = config_path, .cfg = cfg, .cache_dir = cache_dir, .p = p,
                    .stats = stats};
    char err[1024];
    config_defaults(&r->started);
    r->have_started = config_path && config_load_file(&r->started, config_path, err, sizeof err) == 0;
    if (!(r->jt = job_thread_start("cd-reload", reload_once, r))) {
        free(r);
        return NULL;
    }
    return r;
}

uint64_t reloader_request(reloader *r) { return job_thread_request(r->jt); }

int reloader_fd(const reloader *r) { return job_thread_fd(r->jt); }

int reloader_take(reloader *r, uint64_t *served, strbuf *reply)
{
    return job_thread_take(r->jt, served, reply);
}

void reloader_stop(reloader *r)
{
    if (!r)
        return;
    job_thread_stop(r->jt);
    free(r);
}
