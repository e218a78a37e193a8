/*
 * bench_model — what the learned layer costs next to the rules, one thread.
 *
 * Loads the texts of JSON Lines files (complaintctl classify's input), the
 * rule pack and one model, then runs rounds over all texts in three ways,
 * interleaved so that load on the machine hits each alike:
 *   rules     classify_text alone;
 *   renorm    classify_text, then model_begin (normalises again) + model_predict;
 *   reuse     classify_text, then model_begin_norm on the classifier's
 *             canonical text + model_predict (what complaintd does);
 *   features  classify_text, then feat_extract alone: what the n-gram hashing
 *             costs, so the rest of reuse's cost is the table probes and
 *             the explanations.
 * Prints the best round of each in events/s of the thread's CPU time and the
 * ratios to rules alone (issue 15's target: rules+model at least 0.5x rules
 * alone). BENCH_CACHE names a directory for the compiled pack (optional).
 *
 *   bench_model RULES_DIR MODEL FILE.jsonl... [--rounds N] [--json]
 *
 * --json prints one JSON object instead (what scripts/bench reads).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "codec.h"
#include "feat.h"
#include "model.h"
#include "rules.h"

typedef struct text {
    char *s;     /* owned; freed at the end of main */
    size_t len;
    int channel;
    char *lang;  /* owned, may be "" */
} text;

/* This thread's CPU time: on a shared machine, time spent descheduled would
 * swamp the difference being measured. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load(const char *path, text **t, size_t *n, size_t *cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_model: %s: cannot open\n", path);
        exit(2);
    }
    char *line = NULL;
    size_t lcap = 0;
    long lineno = 0;
    while (getline(&line, &lcap, f) > 0) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        event_msg ev;
        char err[256];
        if (codec_event_from_json(line, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "bench_model: %s:%ld: %s\n", path, lineno, err);
            exit(2);
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 1024;
            if (!(*t = realloc(*t, *cap * sizeof **t))) {
                fprintf(stderr, "bench_model: out of memory\n");
                exit(1);
            }
        }
        text *x = &(*t)[(*n)++];
        x->s = strdup(ev.text);
        x->len = strlen(ev.text);
        x->channel = (int)ev.channel;
        x->lang = strdup(ev.lang ? ev.lang : "");
        codec_event_json_free(&ev);
        if (!x->s || !x->lang) {
            fprintf(stderr, "bench_model: out of memory\n");
            exit(1);
        }
    }
    free(line);
    fclose(f);
}

enum { RULES, RENORM, REUSE, FEATURES, N_KINDS };
static const char *kind_name[N_KINDS] = {"rules", "rules+model (renormalise)",
                                         "rules+model (reuse canonical)",
                                         "rules+features only"};

/* One pass over all texts; returns seconds. sink collects labels so the
 * compiler keeps the work. */
static double pass(int kind, classifier *cl, const model *m, model_scratch *s, feat_buf *fb,
                   const text *t, size_t n, label_set *sink)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        classify_result cr;
        if (classify_text(cl, t[i].s, t[i].len, t[i].channel, t[i].lang, &cr) != CLASSIFY_OK)
            continue;
        if (kind == FEATURES) {
            if (feat_extract(model_features(m), classifier_canonical(cl), &cr, t[i].channel, fb) == 0)
                *sink ^= fb->n;
        } else if (kind != RULES) {
            model_result mr;
            int rc = kind == RENORM ? model_begin(s, t[i].s, t[i].len, &mr)
                                    : model_begin_norm(s, classifier_canonical(cl), &mr);
            if (rc != MODEL_OK || model_predict(m, s, t[i].channel, &cr, &mr) != MODEL_OK)
                continue;
            cr.labels = model_combine(cr.labels, &mr);
        }
        *sink ^= cr.labels;
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    int rounds = 20, json = 0;
    const char *pos[64];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (npos < 64)
            pos[npos++] = argv[i];
    }
    if (npos < 3 || rounds < 1) {
        fprintf(stderr, "usage: bench_model RULES_DIR MODEL FILE.jsonl... [--rounds N] [--json]\n");
        return 2;
    }
    char err[512];
    rulepack *rp = rulepack_load(pos[0], getenv("BENCH_CACHE"), err, sizeof err);
    if (!rp) {
        fprintf(stderr, "bench_model: %s\n", err);
        return 2;
    }
    model *m = model_load(pos[1], err, sizeof err);
    if (!m) {
        fprintf(stderr, "bench_model: %s\n", err);
        return 2;
    }
    text *t = NULL;
    size_t n = 0, cap = 0;
    for (int i = 2; i < npos; i++)
        load(pos[i], &t, &n, &cap);
    classifier *cl = classifier_new(rp);
    model_scratch *s = model_scratch_new();
    if (!cl || !s || !n) {
        fprintf(stderr, "bench_model: %s\n", n ? "out of memory" : "no texts");
        return 1;
    }
    feat_buf fb;
    feat_buf_init(&fb);
    label_set sink = 0;
    double best[N_KINDS];
    for (int k = 0; k < N_KINDS; k++) /* warm up: scratches grown, caches filled */
        best[k] = pass(k, cl, m, s, &fb, t, n, &sink);
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < N_KINDS; k++) {
            double d = pass(k, cl, m, s, &fb, t, n, &sink);
            if (d < best[k])
                best[k] = d;
        }
    static const char *kind_key[N_KINDS] = {"rules", "renormalise", "model", "features"};
    if (json) {
        printf("{\"texts\":%zu,\"rounds\":%d,\"model_weights\":%zu", n, rounds, model_weight_count(m));
        for (int k = 0; k < N_KINDS; k++)
            printf(",\"%s_events_per_s\":%.0f", kind_key[k], (double)n / best[k]);
        printf(",\"ratio_model_over_rules\":%.4f}\n", best[RULES] / best[REUSE]);
    } else {
        printf("%zu texts, best of %d rounds (sink %llx)\n", n, rounds, (unsigned long long)sink);
        for (int k = 0; k < N_KINDS; k++)
            printf("%-30s %10.0f events/s  %.2fx rules alone\n", kind_name[k], (double)n / best[k],
                   best[RULES] / best[k]);
    }
    for (size_t i = 0; i < n; i++) {
        free(t[i].s);
        free(t[i].lang);
    }
    free(t);
    feat_buf_free(&fb);
    model_scratch_free(s);
    classifier_free(cl);
    model_release(m);
    rulepack_free(rp);
    return 0;
}
