/*
 * complaintctl classify, eval and rules: the rule pack offline.
 *
 * classify decides each JSON Lines event exactly as the daemon would (same
 * normaliser, pack, policy; with --data-dir, the same history store), so rule
 * work done here carries over to production unchanged.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "classify.h"
#include "codec.h"
#include "config.h"
#include "ctl.h"
#include "history.h"
#include "model.h"
#include "triage.h"

/* ---- classify ----------------------------------------------------------- */

typedef struct classify_run {
    classifier     *cl;
    const rulepack *rp;
    const config   *cfg;
    hist_env       *env;
    triage_session  ts;
    strbuf          out;
    ctl_models      models;
} classify_run;

/* Decide one event and print its decision as a JSON line. */
static int classify_one(event_msg *ev, const char *input, long lineno, void *arg)
{
    classify_run *r = arg;
    if (!*ev->event_id) {  /* offline, an id is a convenience: name it by line */
        free(ev->event_id);
        char id[32];
        snprintf(id, sizeof id, "line-%ld", lineno);
        ev->event_id = strdup(id);
    }
    if (!*ev->customer_id) {
        free(ev->customer_id);
        ev->customer_id = strdup(r->env ? "" : "anonymous");
    }
    const char *bad = codec_event_invalid(ev, (size_t)r->cfg->max_message_bytes, 0);
    classify_result cr;
    if (!bad && classify_text(r->cl, ev->text, strlen(ev->text), (int)ev->channel, ev->lang, &cr) != 0)
        bad = "text could not be scanned";
    if (bad) {
        fprintf(stderr, "complaintctl: %s:%ld: event %s: %s\n", input, lineno, ev->event_id, bad);
        return CTL_USAGE;
    }
    model_result mr;
    label_set by_rules = cr.labels;
    if (ctl_models_apply(&r->models, ev->text, strlen(ev->text), classifier_canonical(r->cl),
                         (int)ev->channel, &cr, &mr) < 0) {
        fprintf(stderr, "complaintctl: %s:%ld: event %s: model failed\n", input, lineno, ev->event_id);
        return CTL_FAIL;
    }
    cr.labels = model_combine(cr.labels, &mr);
    int action;
    const uint8_t *bytes;
    size_t len;
    if (triage_event(&r->ts, ev, &cr, r->rp, clock_wall_ms(), &action, &bytes, &len) < 0) {
        fprintf(stderr, "complaintctl: %s:%ld: history: %s\n", input, lineno,
                r->env ? hist_last_error(r->env) : "error");
        return CTL_FAIL;
    }
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    strbuf_reset(&r->out);
    codec_decision_json(&r->out, m);
    if (r->models.n && r->out.len && r->out.buf[r->out.len - 1] == '}') {
        r->out.len--;
        ctl_model_json(&r->out, ev->text, by_rules, &cr, &mr, cr.labels);
        strbuf_putc(&r->out, '}');
    }
    puts(r->out.buf);
    complaint__v1__triage_decision__free_unpacked(m, NULL);
    return 0;
}

int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rules", required_argument, 0, 'r'},
        {"data-dir", required_argument, 0, 'd'},
        {"config", required_argument, 0, 'c'},
        {"model", required_argument, 0, 'm'},
        {"no-model", no_argument, 0, 'n'},
        {0, 0, 0, 0}};
    const char *rules = NULL, *data_dir = NULL, *config_path = NULL;
    const char *model_paths[CTL_MODELS_MAX];
    int o, n_models = 0, no_model = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'r')
            rules = optarg;
        else if (o == 'd')
            data_dir = optarg;
        else if (o == 'c')
            config_path = optarg;
        else if (o == 'm' && n_models < CTL_MODELS_MAX)
            model_paths[n_models++] = optarg;
        else if (o == 'n')
            no_model = 1;
        else
            return CTL_USAGE;
    }
    const char *input = optind < argc ? argv[optind] : "-";
    config cfg;
    char err[1024];
    config_defaults(&cfg);
    if (config_path && config_load_file(&cfg, config_path, err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return CTL_USAGE;
    }
    if (!rules)
        rules = config_path ? cfg.rules : ctl_default_rules();
    rulepack *rp = ctl_load_pack(rules);
    if (!rp)
        return CTL_USAGE;
    classifier *cl = classifier_new(rp);
    FILE *in = ctl_open_input(input);
    hist_env *env = NULL;
    if (data_dir && !(env = hist_open(data_dir, (size_t)cfg.map_size_mb, HIST_SYNC, 0, err, sizeof err)))
        fprintf(stderr, "complaintctl: %s\n", err);
    if (!cl || !in || (data_dir && !env)) {
        classifier_free(cl);
        rulepack_free(rp);
        return CTL_FAIL;
    }

    classify_run run = {.cl = cl, .rp = rp, .cfg = &cfg, .env = env, .out = STRBUF_INIT};
    int mrc = ctl_models_open(&run.models, model_paths, n_models, no_model);
    if (mrc) {
        hist_close(env);
        classifier_free(cl);
        rulepack_free(rp);
        return mrc;
    }
    int rc = triage_begin(&run.ts, env, &cfg.pol, (uint64_t)cfg.decision_log_max,
                          cfg.decision_log_max_age_ms);
    int status = rc == HIST_OK ? ctl_each_event(in, input, classify_one, &run) : 0;
    if (rc != HIST_OK || triage_commit(&run.ts) != HIST_OK) {
        fprintf(stderr, "complaintctl: %s: %s\n", data_dir, env ? hist_last_error(env) : "");
        status = CTL_FAIL;
    }
    triage_session_free(&run.ts);
    ctl_models_close(&run.models);
    strbuf_free(&run.out);
    if (in != stdin)
        fclose(in);
    hist_close(env);
    classifier_free(cl);
    rulepack_free(rp);
    return status;
}

/* ---- rules check / export ----------------------------------------------- */

int cmd_rules(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "export") != 0)) {
        fprintf(stderr, "usage: complaintctl rules check [DIR] | rules export [DIR] FILE\n");
        return CTL_USAGE;
    }
    int export = strcmp(argv[1], "export") == 0;
    const char *dir = ctl_default_rules(), *file = NULL;
    if (export) {
        if (argc == 3)
            file = argv[2];
        else if (argc == 4) {
            dir = argv[2];
            file = argv[3];
        } else {
            fprintf(stderr, "usage: complaintctl rules export [DIR] FILE\n");
            return CTL_USAGE;
        }
    } else if (argc >= 3) {
        dir = argv[2];
    }
    rulepack *rp = ctl_load_pack(dir);
    if (!rp)
        return CTL_USAGE;
    int rc = 0;
    if (export) {
        if (rulepack_export(rp, file) < 0) {
            fprintf(stderr, "complaintctl: %s: cannot write\n", file);
            rc = CTL_FAIL;
        }
    } else {
        size_t per_label[LABEL_COUNT] = {0};
        for (size_t i = 0; i < rp->n_rules; i++)
            per_label[rp->rules[i].label]++;
        char how[64];
        if (rp->from_cache)
            snprintf(how, sizeof how, "database from the cache");
        else
            snprintf(how, sizeof how, "compiled in %.0f ms", rp->compile_ms);
        printf("%s: ok: %zu rules, %zu patterns (%zu with word gaps, scanned as %zu runs of "
               "words), %s\n",
               dir, rp->n_rules, rp->n_patterns, rp->chains.n_chains, rp->chains.n_segments, how);
        for (int l = 1; l < LABEL_COUNT; l++)
            printf("  %-22s %zu rules\n", label_name(l), per_label[l]);
    }
    rulepack_free(rp);
    return rc;
}
