/*
 * complaintctl train — fit the learned layer from labelled JSON Lines.
 *
 * Input is the corpus format: "text", "labels" (taxonomy names, possibly
 * none), "channel" and "lang" optional. Two optional fields serve data sets
 * that label less than the taxonomy:
 *   "scope": [labels]  the row teaches these labels only (a set that says
 *                      "toxic" teaches insult, and nothing about profanity);
 *   "group": "name"    its cross-validation group; by default the file, as
 *                      a file is one writer; "" spreads the row over folds.
 * The rule pack classifies every row for the rule features, as it will at
 * prediction time, so train with the pack the model will run beside.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classify.h"
#include "ctl.h"
#include "model.h"
#include "model_thr.h"
#include "model_train.h"
#include "strbuf.h"

typedef struct groups {
    char *name[4096];
    int   n;
} groups;

static int group_id(groups *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->name[i], name) == 0)
            return i;
    if (g->n == (int)(sizeof g->name / sizeof g->name[0]))
        return -1;
    g->name[g->n] = strdup(name);
    return g->name[g->n] ? g->n++ : -1;
}

static int json_label_set(json_t *arr, label_set *out, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    *out = 0;
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "\"labels\" and \"scope\" must be arrays of label names");
        return -1;
    }
    json_array_foreach(arr, i, v)
    {
        int l = json_is_string(v) ? label_from_name(json_string_value(v)) : 0;
        if (!l) {
            snprintf(err, errlen, "unknown label %s%s%s", json_is_string(v) ? "\"" : "",
                     json_is_string(v) ? json_string_value(v) : "(not a string)",
                     json_is_string(v) ? "\"" : "");
            return -1;
        }
        *out |= LABEL_BIT(l);
    }
    return 0;
}

/* One line into ts; returns 0 or -1 with the problem in err. */
static int add_line(train_set *ts, classifier *cl, groups *g, const char *file, int source,
                    const char *line, char *err, size_t errlen)
{
    json_error_t je;
    json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    int rc = -1;
    if (!obj || !json_is_object(obj)) {
        snprintf(err, errlen, "not a JSON object%s%s", obj ? "" : ": ", obj ? "" : je.text);
        goto out;
    }
    json_t *text = json_object_get(obj, "text"), *ch = json_object_get(obj, "channel");
    json_t *lang = json_object_get(obj, "lang"), *grp = json_object_get(obj, "group");
    json_t *scope = json_object_get(obj, "scope");
    if (!json_is_string(text) || !json_object_get(obj, "labels")) {
        snprintf(err, errlen, "a training row needs \"text\" and \"labels\"");
        goto out;
    }
    int channel = ch ? (json_is_string(ch) ? channel_from_name(json_string_value(ch)) : -1) : 0;
    if (channel < 0) {
        snprintf(err, errlen, "unknown channel (want call, chat, email, review, social, staff_note)");
        goto out;
    }
    label_set labels, sc = ~0u;
    if (json_label_set(json_object_get(obj, "labels"), &labels, err, errlen) < 0 ||
        (scope && json_label_set(scope, &sc, err, errlen) < 0))
        goto out;
    int group = -1;
    const char *gname = grp && json_is_string(grp) ? json_string_value(grp) : file;
    if (*gname && (group = group_id(g, gname)) < 0) {
        snprintf(err, errlen, "too many groups");
        goto out;
    }
    rc = train_set_add(ts, cl, json_string_value(text), json_string_length(text), channel,
                       json_is_string(lang) ? json_string_value(lang) : NULL, labels, sc, group,
                       source, err, errlen);
out:
    json_decref(obj);
    return rc;
}

static int parse_c_list(const char *s, train_opts *o)
{
    o->n_c = 0;
    char *end;
    while (*s && o->n_c < (int)(sizeof o->c / sizeof o->c[0])) {
        double c = strtod(s, &end);
        if (end == s || c <= 0)
            return -1;
        o->c[o->n_c++] = c;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return o->n_c ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: complaintctl train CORPUS.jsonl... --out MODEL [--rules DIR] [--no-rules]\n"
            "       [--c C[,C...]] [--l1] [--veto] [--folds N] [--bits N] [--chars MIN-MAX]\n"
            "       [--no-bigrams] [--max-weights N] [--min-positives N] [--pos-weight W]\n"
            "       [--len-power P] [--rule-ids] [--prefix N] [--base MODEL]... [--quiet]\n");
}

int cmd_train(int argc, char **argv)
{
    enum { O_OUT = 1, O_RULES, O_NORULES, O_C, O_L1, O_VETO, O_FOLDS, O_BITS, O_CHARS,
           O_NOBI, O_MAXW, O_MINPOS, O_QUIET, O_POSW, O_LENP, O_RULEIDS, O_PREFIX, O_BASE };
    static const struct option opts[] = {
        {"out", required_argument, 0, O_OUT},       {"rules", required_argument, 0, O_RULES},
        {"no-rules", no_argument, 0, O_NORULES},    {"c", required_argument, 0, O_C},
        {"l1", no_argument, 0, O_L1},               {"veto", no_argument, 0, O_VETO},
        {"folds", required_argument, 0, O_FOLDS},   {"bits", required_argument, 0, O_BITS},
        {"chars", required_argument, 0, O_CHARS},   {"no-bigrams", no_argument, 0, O_NOBI},
        {"max-weights", required_argument, 0, O_MAXW},
        {"min-positives", required_argument, 0, O_MINPOS},
        {"quiet", no_argument, 0, O_QUIET},         {"pos-weight", required_argument, 0, O_POSW},
        {"len-power", required_argument, 0, O_LENP},
        {"rule-ids", no_argument, 0, O_RULEIDS},    {"prefix", required_argument, 0, O_PREFIX},
        {"base", required_argument, 0, O_BASE},
        {0, 0, 0, 0}};
    const char *out = NULL, *rules = NULL, *base[MODEL_BASE_MAX];
    int no_rules = 0, quiet = 0, n_base = 0, o;
    train_opts to;
    train_opts_default(&to);
    to.log = stderr;
    feat_params fp;
    feat_params_default(&fp);
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int a = 0, b = 0;
        switch (o) {
        case O_OUT: out = optarg; break;
        case O_RULES: rules = optarg; break;
        case O_NORULES: no_rules = 1; break;
        case O_C:
            if (parse_c_list(optarg, &to) < 0) {
                fprintf(stderr, "complaintctl: --c: want positive numbers separated by commas\n");
                return CTL_USAGE;
            }
            break;
        case O_L1: to.l1 = 1; break;
        case O_VETO: to.veto = 1; break;
        case O_FOLDS: to.folds_max = atoi(optarg); break;
        case O_BITS: fp.hash_bits = (uint32_t)atoi(optarg); break;
        case O_CHARS:
            if (sscanf(optarg, "%d-%d", &a, &b) != 2 || a < 0 || b < 0 || a > 8 || b > 8) {
                fprintf(stderr, "complaintctl: --chars: want MIN-MAX, e.g. 3-5 (0-0: none)\n");
                return CTL_USAGE;
            }
            fp.char_min = (uint8_t)a;
            fp.char_max = (uint8_t)b;
            break;
        case O_NOBI: fp.bigrams = 0; break;
        case O_MAXW: to.max_weights = (size_t)atol(optarg); break;
        case O_MINPOS: to.min_positives = atoi(optarg); break;
        case O_QUIET: quiet = 1; break;
        case O_LENP: fp.len_power = (float)atof(optarg); break;
        case O_RULEIDS: fp.rule_ids = 1; break;
        case O_PREFIX:
            if ((a = atoi(optarg)) < 0 || a > 16) {
                fprintf(stderr, "complaintctl: --prefix: want a length 0..16 (0: none)\n");
                return CTL_USAGE;
            }
            fp.prefix = (uint8_t)a;
            break;
        case O_BASE:
            if (n_base == MODEL_BASE_MAX) {
                fprintf(stderr, "complaintctl: --base: at most %d models\n", MODEL_BASE_MAX);
                return CTL_USAGE;
            }
            base[n_base++] = optarg;
            break;
        case O_POSW:
            if ((to.pos_weight = atof(optarg)) <= 0) {
                fprintf(stderr, "complaintctl: --pos-weight: want a positive number\n");
                return CTL_USAGE;
            }
            break;
        default: usage(); return CTL_USAGE;
        }
    }
    if (quiet)
        to.log = NULL;
    if (n_base && to.veto) {
        fprintf(stderr, "complaintctl: --veto and --base do not go together: a model's veto "
                        "reaches only the rules' labels\n");
        return CTL_USAGE;
    }
    const char *bad = feat_params_invalid(&fp);
    if (!out || optind >= argc || bad || to.folds_max < 2) {
        if (bad)
            fprintf(stderr, "complaintctl: features: %s\n", bad);
        usage();
        return CTL_USAGE;
    }
    rulepack *rp = no_rules ? NULL : ctl_load_pack(rules ? rules : ctl_default_rules());
    if (!no_rules && !rp)
        return CTL_USAGE;
    classifier *cl = rp ? classifier_new(rp) : NULL;
    train_set *ts = train_set_new(&fp);
    groups g = {.n = 0};
    int status = 0;
    char err[1024], *line = NULL;
    size_t cap = 0;
    if ((rp && !cl) || !ts) {
        fprintf(stderr, "complaintctl: out of memory\n");
        status = CTL_FAIL;
    }
    /* --base: the models the new one will run after (a local model after
     * the default one): its thresholds are chosen against their decisions. */
    for (int i = 0; i < n_base && !status; i++) {
        model *m = model_load(base[i], err, sizeof err);
        if (!m) {
            fprintf(stderr, "complaintctl: --base: %s\n", err);
            status = CTL_USAGE;
        } else if (train_set_base_add(ts, m) < 0) {
            fprintf(stderr, "complaintctl: out of memory\n");
            status = CTL_FAIL;
        }
        model_release(m);
    }
    for (int i = optind; i < argc && !status; i++) {
        FILE *in = ctl_open_input(argv[i]);
        if (!in) {
            status = CTL_USAGE;
            break;
        }
        long lineno = 0, n;
        while ((n = ctl_read_line(in, &line, &cap)) >= 0) {
            lineno++;
            if (n > 0 && add_line(ts, cl, &g, argv[i], (i - optind) % THR_SOURCES_MAX, line, err, sizeof err) < 0) {
                fprintf(stderr, "complaintctl: %s:%ld: %s\n", argv[i], lineno, err);
                status = CTL_USAGE;
            }
        }
        if (in != stdin)
            fclose(in);
    }
    model_spec spec;
    memset(&spec, 0, sizeof spec);
    if (!status && train_set_rows(ts) == 0) {
        fprintf(stderr, "complaintctl: train: no rows\n");
        status = CTL_USAGE;
    }
    if (!status && train_fit(ts, &to, &spec, err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: train: %s\n", err);
        status = CTL_FAIL;
    }
    if (!status && model_save(out, &spec, err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        status = CTL_FAIL;
    }
    if (!status && !quiet) {
        size_t w = 0;
        for (int i = 0; i < spec.n_labels; i++)
            w += spec.labels[i].n;
        struct stat st;
        fprintf(stderr, "train: %s: %d labels, %zu weights, %lld bytes, from %zu rows\n", out,
                spec.n_labels, w, stat(out, &st) == 0 ? (long long)st.st_size : -1LL,
                train_set_rows(ts));
    }
    train_spec_free(&spec);
    for (int i = 0; i < g.n; i++)
        free(g.name[i]);
    free(line);
    train_set_free(ts);
    classifier_free(cl);
    rulepack_free(rp);
    return status;
}

/* ---- models for classify and eval ---------------------------------------- */

const char *ctl_default_model(void)
{
    static char path[PATH_MAX];
    struct stat st;
    if (stat("models/default.model", &st) == 0 && S_ISREG(st.st_mode))
        return "models/default.model";
    char exe[PATH_MAX - 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/../models/default.model", exe);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return path;
        }
    }
    return NULL;
}

int ctl_models_open(ctl_models *cm, const char *const *paths, int n_paths, int no_default)
{
    memset(cm, 0, sizeof *cm);
    const char *def = no_default ? NULL : ctl_default_model();
    char err[1024];
    for (int i = -1; i < n_paths; i++) {
        const char *p = i < 0 ? def : paths[i];
        if (!p)
            continue;
        if (cm->n == CTL_MODELS_MAX) {
            fprintf(stderr, "complaintctl: at most %d models\n", CTL_MODELS_MAX);
            ctl_models_close(cm);
            return CTL_USAGE;
        }
        if (!(cm->m[cm->n] = model_load(p, err, sizeof err))) {
            fprintf(stderr, "complaintctl: %s\n", err);
            ctl_models_close(cm);
            return CTL_USAGE;
        }
        cm->n++;
    }
    if (cm->n && !(cm->s = model_scratch_new())) {
        fprintf(stderr, "complaintctl: out of memory\n");
        ctl_models_close(cm);
        return CTL_FAIL;
    }
    return 0;
}

void ctl_models_close(ctl_models *cm)
{
    for (int i = 0; i < cm->n; i++)
        model_release(cm->m[i]);
    model_scratch_free(cm->s);
    memset(cm, 0, sizeof *cm);
}

int ctl_models_apply(ctl_models *cm, const char *text, size_t len, const norm_buf *canon,
                     int channel, const classify_result *cr, model_result *mr)
{
    memset(mr, 0, sizeof *mr);
    if (!cm->n)
        return 0;
    int rc = canon ? model_begin_norm(cm->s, canon, mr) : model_begin(cm->s, text, len, mr);
    if (rc != MODEL_OK)
        return -1;
    for (int i = 0; i < cm->n; i++)
        if (model_predict(cm->m[i], cm->s, channel, cr, mr) != MODEL_OK)
            return -1;
    return 0;
}

void ctl_model_json(strbuf *sb, const char *text, label_set rules, const classify_result *cr,
                    const model_result *mr, label_set final)
{
    strbuf_puts(sb, ",\"sources\":{");
    int first = 1;
    for (int l = 1; l < LABEL_COUNT; l++) {
        label_set bit = LABEL_BIT(l);
        int vetoed = (rules & bit) && !(final & bit);
        if (!(final & bit) && !vetoed)
            continue;
        const char *by = (rules & bit) && (mr->add & bit) ? "both" : (rules & bit) ? "rules" : "model";
        strbuf_printf(sb, "%s\"%s\":{\"rules\":%.2f", first ? "" : ",", label_name(l),
                  (double)cr->score[l]);
        if (mr->covered & bit)
            strbuf_printf(sb, ",\"model\":%.3f", (double)mr->prob[l]);
        strbuf_printf(sb, ",\"by\":\"%s\"%s}", vetoed ? "model_veto" : by, "");
        first = 0;
    }
    /* The model's probabilities, on or off, when not negligible. */
    strbuf_puts(sb, "},\"model_scores\":{");
    first = 1;
    for (int l = 1; l < LABEL_COUNT; l++)
        if ((mr->covered & LABEL_BIT(l)) && mr->prob[l] >= 0.05f) {
            strbuf_printf(sb, "%s\"%s\":%.3f", first ? "" : ",", label_name(l), (double)mr->prob[l]);
            first = 0;
        }
    strbuf_puts(sb, "},\"model_evidence\":[");
    first = 1;
    for (size_t i = 0; i < mr->n_ev; i++) {
        const model_evidence *e = &mr->ev[i];
        if (!(final & LABEL_BIT(e->label)))
            continue;
        strbuf_printf(sb, "%s{\"label\":\"%s\",\"text\":", first ? "" : ",", label_name(e->label));
        strbuf_json_str(sb, text + e->start, e->end - e->start);
        strbuf_printf(sb, ",\"start\":%u,\"end\":%u,\"weight\":%.3f}", e->start, e->end,
                  (double)e->weight);
        first = 0;
    }
    strbuf_putc(sb, ']');
}
