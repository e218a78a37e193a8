/*
 * complaintd — read complaint events from ZeroMQ, label them with Hyperscan,
 * decide against each customer's LMDB history, publish the decisions.
 *
 * main() loads the configuration, the rule pack and the store, starts the
 * pipeline (pipeline.h), prints "ready" (and tells systemd, notify.h),
 * serves the control endpoint until SIGINT or SIGTERM, then drains the
 * pipeline and exits 0. --check-config only validates (like nginx -t).
 * Exit codes: 0 ok, 1 runtime failure (the data directory in use by another
 * daemon among them), 2 bad usage, config or rules.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "buildinfo.h"
#include "config.h"
#include "control.h"
#include "curve.h"
#include "dirlock.h"
#include "health.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "model_set.h"
#include "models.h"
#include "nats_node.h"
#include "notify.h"
#include "paths.h"
#include "pipeline.h"
#include "retrain.h"
#include "rules.h"

/* Set by on_signal, read by the main thread's control loop: sig_atomic_t, no lock. */
static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: complaintd [--config FILE] [--ingest EP] [--ingest-acked EP] [--publish EP]\n"
            "                  [--control EP] [--metrics HOST:PORT|off]\n"
            "                  [--data-dir DIR] [--rules DIR] [--threads N] [--batch-size N]\n"
            "                  [--commit-interval-ms N] [--ingest-linger-us N] [--no-durable]\n"
            "                  [--verbose] [--print-config] [--check-config] [--version]\n");
}

enum { RUN, PRINT_CONFIG, CHECK_CONFIG };

/* Flags override the file: read --config first, then apply the rest. */
static int parse_args(int argc, char **argv, config *cfg, int *mode)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'f'},   {"ingest", required_argument, 0, 'i'},
        {"ingest-acked", required_argument, 0, 'a'}, {"metrics", required_argument, 0, 'M'},
        {"publish", required_argument, 0, 'p'},  {"control", required_argument, 0, 'c'},
        {"data-dir", required_argument, 0, 'd'}, {"rules", required_argument, 0, 'r'},
        {"threads", required_argument, 0, 't'},  {"batch-size", required_argument, 0, 'b'},
        {"commit-interval-ms", required_argument, 0, 'm'}, {"ingest-linger-us", required_argument, 0, 'L'},
        {"no-durable", no_argument, 0, 'n'},     {"verbose", no_argument, 0, 'v'},
        {"print-config", no_argument, 0, 'P'},   {"help", no_argument, 0, 'h'},
        {"check-config", no_argument, 0, 'C'},   {"version", no_argument, 0, 'V'},
        {"nats", required_argument, 0, 'N'},     {"node-id", required_argument, 0, 'I'},
        {0, 0, 0, 0}};
    static const struct { int opt; const char *key; } keymap[] = {
        {'i', "ingest"}, {'a', "ingest_acked"}, {'p', "publish"}, {'c', "control"}, {'d', "data_dir"}, {'r', "rules"},
        {'t', "threads"}, {'b', "batch_size"}, {'m', "commit_interval_ms"}, {'M', "metrics"},
        {'L', "ingest_linger_us"}, {'N', "nats_url"}, {'I', "node_id"}};
    char err[1024];
    int o;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc &&
            config_load_file(cfg, argv[i + 1], err, sizeof err) < 0) {
            log_error("%s", err);
            return -1;
        }
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'f')
            continue;
        if (o == 'n') {
            cfg->durable = 0;
            continue;
        }
        if (o == 'v') {
            config_set(cfg, "log_level", "debug", err, sizeof err);
            continue;
        }
        if (o == 'P' || o == 'C') {
            *mode = o == 'P' ? PRINT_CONFIG : CHECK_CONFIG;
            continue;
        }
        if (o == 'V') {
            buildinfo_print(stdout, "complaintd");
            exit(0);
        }
        if (o == 'h') {
            usage(stdout);
            exit(0);
        }
        const char *key = NULL;
        for (size_t k = 0; k < sizeof keymap / sizeof keymap[0]; k++)
            if (keymap[k].opt == o)
                key = keymap[k].key;
        if (!key) {
            usage(stderr);
            return -1;
        }
        if (config_set(cfg, key, optarg, err, sizeof err) < 0) {
            log_error("--%s", err);
            return -1;
        }
    }
    if (optind < argc) {
        log_error("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

/* Without CURVE, plain TCP beyond this machine only if the config says so. */
static int check_plaintext(const config *cfg, char *err, size_t errlen)
{
    const char *eps[] = {cfg->ingest, cfg->ingest_acked, cfg->publish, cfg->control};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
        if (eps[i][0] && !curve_endpoint_is_local(eps[i]) && !cfg->allow_plaintext) {
            snprintf(err, errlen,
                     "refusing plain TCP on %s: set curve_key_file and curve_clients_file, "
                     "or allow_plaintext = 1",
                     eps[i]);
            return -1;
        }
    return 0;
}

/* With a CURVE key file: load the keys and start the allowlist's ZAP
 * handler. Without: refuse plain TCP beyond this machine unless the config
 * says allow_plaintext explicitly. */
static int secure_endpoints(void *zctx, const config *cfg, curve_keypair *kp, curve_auth **auth,
                            char *err, size_t errlen)
{
    *auth = NULL;
    if (cfg->curve_key_file[0]) {
        if (!cfg->curve_clients_file[0]) {
            snprintf(err, errlen, "curve_key_file needs curve_clients_file (the allowlist)");
            return -1;
        }
        if (curve_load_keypair(cfg->curve_key_file, kp, err, errlen) < 0)
            return -1;
        *auth = curve_auth_start(zctx, cfg->curve_clients_file, err, errlen);
        return *auth ? 0 : -1;
    }
    return check_plaintext(cfg, err, errlen);
}

/* The models at start: the configured ones, and the model retrained from
 * feedback by an earlier run, if it left one (a bad one is only logged: it
 * is derived data, and the next retrain writes it anew). */
static void start_models(pipeline *p, const config *cfg, model **models, int n)
{
    char path[CONFIG_PATH + 32], err[1024];
    if (pipeline_swap_models(p, models, n) < 0)
        log_error("out of memory for the models; labelling with the rules alone");
    for (int i = 0; i < n; i++)
        log_info("model %s: %zu weights", model_name(models[i]), model_weight_count(models[i]));
    retrain_model_path(cfg, path, sizeof path);
    if (access(path, F_OK) != 0)
        return;
    model *fb = model_load(path, err, sizeof err);
    if (!fb) {
        log_error("feedback model not used: %s", err);
        return;
    }
    if (pipeline_swap_feedback_model(p, fb) == 0)
        log_info("feedback model %s: %zu weights", path, model_weight_count(fb));
    model_release(fb);
}

/* SIGINT/SIGTERM only set a flag; the threads never see them. */
static void setup_signals(sigset_t *blocked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(blocked);
    sigaddset(blocked, SIGINT);
    sigaddset(blocked, SIGTERM);
    sigaddset(blocked, SIGHUP);
}

/* The --config FILE given, or NULL. */
static const char *config_path_of(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0)
            path = argv[i + 1];
    return path;
}

/* --check-config: what the daemon would load, loaded and dropped, like
 * nginx -t. Nothing is created but the compiled-rule cache, so that the
 * start that follows is quick. 0 or 2. */
static int check_config(const config *cfg, const char *config_path, const char *cache)
{
    char err[1024];
    struct stat st;
    printf("complaintd: config %s: syntax ok\n", config_path ? config_path : "(built-in defaults)");
    if (metrics_check_addr(cfg->metrics, err, sizeof err) < 0)
        goto fail;
    if (cfg->curve_key_file[0]) {
        curve_keypair kp;
        if (!cfg->curve_clients_file[0]) {
            snprintf(err, sizeof err, "curve_key_file needs curve_clients_file (the allowlist)");
            goto fail;
        }
        if (curve_load_keypair(cfg->curve_key_file, &kp, err, sizeof err) < 0)
            goto fail;
        FILE *f = fopen(cfg->curve_clients_file, "r");
        if (!f) {
            snprintf(err, sizeof err, "curve_clients_file %.900s: %s", cfg->curve_clients_file,
                     strerror(errno));
            goto fail;
        }
        fclose(f);
    } else if (check_plaintext(cfg, err, sizeof err) < 0) {
        goto fail;
    }
    printf("complaintd: endpoints ok (ingest %s, acked ingest %s, publish %s, control %s, "
           "metrics %s)\n", cfg->ingest, cfg->ingest_acked[0] ? cfg->ingest_acked : "off",
           cfg->publish, cfg->control, metrics_enabled(cfg->metrics) ? cfg->metrics : "off");
    /* The cache when its directory exists or can be made in one that does
     * (the daemon's data_dir): never a tree of new directories. */
    char parent[CONFIG_PATH + 16];
    snprintf(parent, sizeof parent, "%s", cache);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    int use_cache = stat(cache, &st) == 0 || stat(slash ? parent : ".", &st) == 0;
    rulepack *rp = rulepack_load(cfg->rules, use_cache ? cache : NULL, err, sizeof err);
    if (!rp)
        goto fail;
    printf("complaintd: rules %s: %zu rules, %zu patterns, %s: ok\n", cfg->rules, rp->n_rules,
           rp->n_patterns, rp->from_cache ? "compiled before (cache)" : "compiled");
    rulepack_free(rp);
    model *models[MODEL_SET_MAX - 1];
    int n_models = 0;
    if (models_load(cfg->models, models, MODEL_SET_MAX - 1, &n_models, err, sizeof err) < 0)
        goto fail;
    for (int i = 0; i < n_models; i++)
        printf("complaintd: model %s: %zu weights: ok\n", model_name(models[i]),
               model_weight_count(models[i]));
    if (!n_models)
        printf("complaintd: model: none (the rules alone)\n");
    models_release(models, n_models);
    pid_t holder = dirlock_holder(cfg->data_dir);
    printf("complaintd: data_dir %s: %s\n", cfg->data_dir,
           stat(cfg->data_dir, &st) != 0 ? "does not exist yet (the daemon creates it)"
           : holder ? "in use by a running complaintd" : "exists");
    printf("complaintd: configuration ok\n");
    return 0;
fail:
    fflush(stdout);  /* what passed, then what did not */
    fprintf(stderr, "complaintd: %s\n", err);
    fprintf(stderr, "complaintd: configuration check failed\n");
    return 2;
}

int main(int argc, char **argv)
{
    config cfg;
    config_defaults(&cfg);
    int mode = RUN;
    if (parse_args(argc, argv, &cfg, &mode) < 0) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--check-config") == 0)
                fprintf(stderr, "complaintd: configuration check failed\n");
        return 2;
    }
    if (mode == PRINT_CONFIG) {
        config_print(&cfg, stdout);
        return 0;
    }
    log_set_level(cfg.log_level);
    log_set_format(cfg.log_format);
    log_set_target(cfg.log_target);
    log_debug("config: %d worker thread(s) (0 = one per core), batch_size %d, commit_interval_ms %d, "
              "durable %d, map_size_mb %ld", cfg.threads, cfg.batch_size, cfg.commit_interval_ms,
              cfg.durable, cfg.map_size_mb);

    /* "rules" means the repository's pack when there is one here, else the
     * installed one (paths.h); reloads read the same directory. */
    char found[CONFIG_PATH];
    if (paths_find(cfg.rules, found, sizeof found))
        snprintf(cfg.rules, sizeof cfg.rules, "%s", found);

    char err[1024], cache[CONFIG_PATH + 16];
    if (metrics_check_addr(cfg.metrics, err, sizeof err) < 0) {
        log_error("%s", err);
        return 2;
    }
    const char *env_cache = getenv("COMPLAINTD_CACHE");
    if (cfg.cache_dir[0])
        snprintf(cache, sizeof cache, "%s", cfg.cache_dir);
    else if (env_cache && *env_cache)
        snprintf(cache, sizeof cache, "%s", env_cache);
    else
        snprintf(cache, sizeof cache, "%s/cache", cfg.data_dir);
    if (mode == CHECK_CONFIG)
        return check_config(&cfg, config_path_of(argc, argv), cache);
    /* One daemon per data directory (dirlock.h), decided before the
     * compile so that a second one is told at once. */
    mkdir(cfg.data_dir, 0700);
    int lock = dirlock_take(cfg.data_dir, NULL, err, sizeof err);
    if (lock < 0) {
        fprintf(stderr, "complaintd: %s\n", err);
        return 1;
    }
    /* Rules first: a broken pack is a configuration error (exit 2) and
     * should be reported before the store is created. */
    rulepack *rp = rulepack_load(cfg.rules, cache, err, sizeof err);
    if (!rp) {
        log_error("%s", err);
        dirlock_release(lock);
        return 2;
    }
    /* So are the configured models (a bad file is named). */
    model *models[MODEL_SET_MAX - 1];
    int n_models = 0;
    if (models_load(cfg.models, models, MODEL_SET_MAX - 1, &n_models, err, sizeof err) < 0) {
        log_error("%s", err);
        rulepack_free(rp);
        dirlock_release(lock);
        return 2;
    }
    /* Durable commits defer their second flush to the publisher thread. */
    hist_env *env = hist_open(cfg.data_dir, (size_t)cfg.map_size_mb,
                              cfg.durable ? HIST_SYNC_DEFERRED : HIST_NO_SYNC, 0, err, sizeof err);
    if (!env) {
        log_error("data_dir %s", err);
        rulepack_free(rp);
        models_release(models, n_models);
        dirlock_release(lock);
        return 1;
    }
    health_set_store_open(1);
    log_info("rules %s: %zu rules, %zu patterns, %s (%.0f ms)", cfg.rules, rp->n_rules,
             rp->n_patterns, rp->from_cache ? "from cache" : "compiled", rp->compile_ms);

    sigset_t blocked;
    setup_signals(&blocked);
    daemon_stats stats;
    memset(&stats, 0, sizeof stats);
    hist_txn *txn;
    uint64_t next_seq = 1;
    if (hist_begin(env, 0, &txn) == HIST_OK) {
        hist_get_next_seq(txn, &next_seq);
        hist_abort(txn);
    }
    atomic_store(&stats.last_seq, next_seq - 1);  /* replay clients ask where the log ends */
    stats.started_ms = (int64_t)time(NULL) * 1000;
    /* Per-rule hit counters, exported as complaintd_rule_hits_total{rule=ID};
     * the pack's classifiers count into them (rulepack.hit_counters). */
    stats_rules_init(&stats.rules);
    rp->hit_counters = stats_rules_register(&stats.rules, rp);

    void *zctx = zmq_ctx_new();
    int usage_error = 0, status = 0;
    /* Threads inherit this mask: only the main thread takes the signals. */
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    curve_keypair server_keys, *kp = NULL;
    curve_auth *auth = NULL;
    if (secure_endpoints(zctx, &cfg, &server_keys, &auth, err, sizeof err) < 0) {
        log_error("%s", err);
        zmq_ctx_term(zctx);
        rulepack_free(rp);
        models_release(models, n_models);
        stats_rules_free(&stats.rules);
        hist_close(env);
        dirlock_release(lock);
        return 2;
    }
    if (auth)
        kp = &server_keys;
    /* Cluster mode: the streams are checked before anything is decided. */
    nats_node *node = NULL;
    if (cfg.nats_url[0] && !(node = nats_node_open(&cfg, env, &stats, err, sizeof err, &usage_error))) {
        log_error("%s", err);
        zmq_ctx_term(zctx);
        rulepack_free(rp);
        models_release(models, n_models);
        stats_rules_free(&stats.rules);
        hist_close(env);
        dirlock_release(lock);
        return usage_error ? 2 : 1;
    }
    pipeline *p = pipeline_start(zctx, &cfg, rp, env, &stats, kp, err, sizeof err, &usage_error);
    rp = NULL;  /* the pipeline owns the pack now, and frees it */
    if (p)
        start_models(p, &cfg, models, n_models);
    models_release(models, n_models);  /* the pipeline holds its own references */
    pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
    void *control_sock = NULL;
    metrics_server *metrics = NULL;
    if (p) {
        control_sock = zmq_socket(zctx, ZMQ_ROUTER);
        if (kp)
            curve_make_server(control_sock, kp);
        int linger = 0;
        zmq_setsockopt(control_sock, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_bind(control_sock, cfg.control) < 0) {
            snprintf(err, sizeof err, "cannot bind %s: %s", cfg.control, zmq_strerror(zmq_errno()));
            usage_error = (zmq_errno() == EINVAL || zmq_errno() == EPROTONOSUPPORT);
            pipeline_stop(p);
            p = NULL;
        }
    }
    if (p && metrics_enabled(cfg.metrics)) {
        pthread_sigmask(SIG_BLOCK, &blocked, NULL);  /* the HTTP thread takes no signals */
        metrics = metrics_start(cfg.metrics, &stats, env, err, sizeof err);
        pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
        if (!metrics) {
            usage_error = 0;  /* well-formed (checked above); the machine refused */
            pipeline_stop(p);
            p = NULL;
        }
    }
    if (!p) {
        log_error("%s", err);
        status = usage_error ? 2 : 1;
    } else {
        log_info("ingest %s, acked ingest %s, publish %s, control %s, data %s", cfg.ingest,
                 cfg.ingest_acked[0] ? cfg.ingest_acked : "off", cfg.publish, cfg.control, cfg.data_dir);
        if (metrics)
            log_info("metrics on http://%s/metrics", cfg.metrics);
        if (node) {
            pthread_sigmask(SIG_BLOCK, &blocked, NULL);
            if (nats_node_start(node, zctx) < 0)
                log_error("cannot start the lease thread");
            pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
        }
        health_set_accepting(1);
        pthread_sigmask(SIG_BLOCK, &blocked, NULL);  /* signals wake the main thread only */
        reloader *rl = reloader_start(config_path_of(argc, argv), &cfg, cache, p, &stats);
        retrain *rt = retrain_start(&cfg, cache, env, p, &stats);
        notify_watchdog *wd = NULL;
        if (rl && rt) {
            char ready[CONFIG_ENDPOINT + 64];
            snprintf(ready, sizeof ready, "accepting events on %s", cfg.ingest);
            notify_ready(ready);
            wd = notify_watchdog_start();  /* systemd watches from READY=1 on */
        }
        pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
        if (!rl || !rt) {
            log_error("cannot start the reload or retrain thread; stopping");
            status = 1;
        } else {
            /* After the reloader took its snapshot of the config file: a
             * change made once "ready" is seen is a change it reports. */
            log_ready();
            control_hooks hooks = {&stop_requested, &reload_requested, rl, rt, zctx, cfg.data_dir,
                                   cfg.max_message_bytes};
            control_serve(control_sock, &stats, env, &hooks);
        }
        /* From here on the daemon drains: not ready, and no watchdog (the
         * threads finish one by one). */
        health_set_accepting(0);
        notify_stopping();
        notify_watchdog_stop(wd);
        retrain_stop(rt);   /* lets a retrain in progress end first */
        reloader_stop(rl);  /* and a reload */
        metrics_stop(metrics);
        log_info("stopping: draining in-flight events");
        nats_node_stop(node);  /* hands its partitions back while the pipeline runs */
        if (pipeline_stop(p) < 0) {
            log_error("could not commit the last events: %s", hist_last_error(env));
            status = 1;
        }
        log_info("stopped after %llu decisions, %llu rejects",
                 (unsigned long long)STAT_GET(stats.decided), (unsigned long long)STAT_GET(stats.rejected));
    }
    if (!p)
        nats_node_stop(node);
    nats_node_free(node);  /* after the pipeline: every event it held is acked */
    if (control_sock)
        zmq_close(control_sock);
    curve_auth_stop(auth);
    zmq_ctx_term(zctx);
    rulepack_free(rp);
    hist_close(env);
    health_set_store_open(0);
    dirlock_release(lock);
    stats_rules_free(&stats.rules);
    return status;
}
