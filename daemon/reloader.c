/* reloader — rule and policy reloads off the control thread; see reloader.h. */
#define _GNU_SOURCE  /* pipe2 */
#include "reloader.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "log.h"
#include "rules.h"

/* One ended reload: the highest ticket it served and its reply (owned). */
typedef struct outcome {
    uint64_t served;
    char    *reply;
} outcome;

/* Shared by the control thread (reloader_request, reloader_take) and the
 * reload thread: the fields marked "under lock" are guarded by lock; the
 * rest are set before the thread starts and only read after. */
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

    pthread_t       thread;
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    uint64_t        requested;  /* the last ticket handed out; under lock */
    uint64_t        served;     /* the highest ticket whose reload has ended; under lock */
    outcome        *untaken;    /* ended reloads not yet taken, oldest first; under lock */
    size_t          n_untaken, cap_untaken;  /* under lock */
    int             stopping;   /* under lock */
    int             done_pipe[2];  /* one byte per ended reload, read end polled */
};

static void refuse(reloader *r, strbuf *reply, const char *err)
{
    STAT_ADD(r->stats->reload_failures, 1);
    log_error("reload refused, keeping the running rules and policy: %s", err);
    sb_puts(reply, "{\"ok\":false,\"error\":");
    sb_json_str(reply, err, strlen(err));
    sb_putc(reply, '}');
}

/* ,"restart_needed":[...]: the keys of the file that changed since the
 * daemon started and that a reload does not apply (a warning in the log). */
static void restart_keys(reloader *r, const config *fresh, strbuf *reply)
{
    char names[1024];
    size_t n = r->have_started ? config_restart_keys(&r->started, fresh, names, sizeof names) : 0;
    sb_puts(reply, ",\"restart_needed\":[");
    const char *p = names;
    for (size_t i = 0; i < n && *p; i++) {
        size_t len = strcspn(p, " ");
        sb_printf(reply, "%s\"%.*s\"", i ? "," : "", (int)len, p);
        p += len + (p[len] == ' ');
    }
    sb_putc(reply, ']');
    if (n)
        log_warn("reload: %s changed in %s but take effect only on a restart", names, r->config_path);
}

/* One reload; its JSON outcome goes to reply. Swaps only if !*stopping is
 * still true once the (possibly long) compile is over. */
static void reload_once(reloader *r, strbuf *reply)
{
    char err[1024];
    config fresh;
    config_defaults(&fresh);
    log_info("reloading rules from %s, policy from %s", r->cfg->rules,
             r->config_path ? r->config_path : "(defaults)");
    if (r->config_path && config_load_file(&fresh, r->config_path, err, sizeof err) < 0) {
        refuse(r, reply, err);
        return;
    }
    rulepack *rp = rulepack_load(r->cfg->rules, r->cache_dir, err, sizeof err);
    if (!rp) {
        refuse(r, reply, err);
        return;
    }
    pthread_mutex_lock(&r->lock);
    int stopping = r->stopping;
    pthread_mutex_unlock(&r->lock);
    if (stopping) {  /* the pipeline is about to stop: nothing to swap into */
        rulepack_free(rp);
        sb_puts(reply, "{\"ok\":false,\"error\":\"the daemon is stopping\"}");
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
    sb_printf(reply, "{\"ok\":true,\"rules\":%zu,\"patterns\":%zu,\"from_cache\":%s,\"compile_ms\":%.0f",
              n_rules, n_patterns, from_cache ? "true" : "false", compile_ms);
    restart_keys(r, &fresh, reply);
    sb_putc(reply, '}');
    log_info("reload: %zu rules, %zu patterns (%s), policy %s", n_rules, n_patterns,
             from_cache ? "from cache" : "compiled", r->config_path ? r->config_path : "(defaults)");
    pipeline_swap_policy(r->p, r->config_path ? &fresh.pol : &r->cfg->pol);
    STAT_ADD(r->stats->reloads, 1);
}

static void *reload_thread(void *arg)
{
    reloader *r = arg;
    strbuf reply = STRBUF_INIT;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->stopping && r->served == r->requested)
            pthread_cond_wait(&r->wake, &r->lock);
        if (r->stopping)
            break;
        uint64_t serving = r->requested;  /* everyone who asked before this reload starts */
        pthread_mutex_unlock(&r->lock);

        sb_reset(&reply);
        reload_once(r, &reply);

        pthread_mutex_lock(&r->lock);
        r->served = serving;
        char *copy = strdup(reply.buf ? reply.buf : "");
        outcome *grown = grow_array(r->untaken, &r->cap_untaken, r->n_untaken + 1,
                                    sizeof *r->untaken, 4);
        if (copy && grown) {
            r->untaken = grown;
            r->untaken[r->n_untaken++] = (outcome){serving, copy};
        } else {
            free(copy);  /* out of memory: the waiters get a generic reply */
            if (grown)
                r->untaken = grown;
        }
        char one = 1;
        if (write(r->done_pipe[1], &one, 1) < 0) {
            /* The pipe is full only if the control thread has not drained
             * it for thousands of reloads: it will still see `served`. */
        }
    }
    pthread_mutex_unlock(&r->lock);
    sb_free(&reply);
    return NULL;
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
    if (pipe2(r->done_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, reload_thread, r) != 0) {
        close(r->done_pipe[0]);
        close(r->done_pipe[1]);
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->wake);
        free(r);
        return NULL;
    }
    return r;
}

uint64_t reloader_request(reloader *r)
{
    pthread_mutex_lock(&r->lock);
    uint64_t ticket = ++r->requested;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    return ticket;
}

int reloader_fd(const reloader *r) { return r->done_pipe[0]; }

int reloader_take(reloader *r, uint64_t *served, strbuf *reply)
{
    char drain[64];
    while (read(r->done_pipe[0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&r->lock);
    int got = 0;
    if (r->n_untaken > 0) {
        *served = r->untaken[0].served;
        sb_reset(reply);
        sb_puts(reply, r->untaken[0].reply);
        free(r->untaken[0].reply);
        memmove(r->untaken, r->untaken + 1, --r->n_untaken * sizeof *r->untaken);
        got = 1;
    } else if (r->served > *served) {
        /* Its outcome could not be kept (out of memory). */
        *served = r->served;
        sb_reset(reply);
        sb_puts(reply, "{\"ok\":false,\"error\":\"out of memory; see the daemon's log\"}");
        got = 1;
    }
    pthread_mutex_unlock(&r->lock);
    return got;
}

void reloader_stop(reloader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    close(r->done_pipe[0]);
    close(r->done_pipe[1]);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    for (size_t i = 0; i < r->n_untaken; i++)
        free(r->untaken[i].reply);
    free(r->untaken);
    free(r);
}
