/*
 * model_train — rows to sparse vectors, liblinear per label, thresholds from
 * grouped cross-validation (model_train.h).
 *
 * Memory: one feature_node array holds every row (16 bytes per distinct
 * feature of a row, about 25 MB for the 2,000 corpus events and 10,000 short
 * data set rows); liblinear's weight vector is dense over the hashed range
 * (2^hash_bits doubles) while a label trains.
 */
#include "model_train.h"

#include <linear.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_thr.h"

/* How much a model trained after base models must beat them by (out-of-fold
 * F1) for a label to be kept: as the veto's 0.01 (model_thr.h). */
#define BASE_MARGIN 0.01

struct train_set {
    feat_params fp;
    norm_buf    nb;
    feat_buf    fb;
    struct feature_node *nodes;  /* every row's features, bias node and terminator */
    size_t      n_nodes, cap_nodes;
    size_t     *row_off;         /* [n] first node of row i */
    label_set  *gold, *scope, *rules;
    int        *group;
    int        *source;          /* [n] the row's source, for thresholds (model_thr.h) */
    size_t      n, cap;
    size_t      occurrences;     /* feature occurrences over all rows (cost per event) */
    uint32_t   *sorted;          /* sort buffer for one row's ids */
    size_t      sorted_cap;
    model      *base[MODEL_BASE_MAX]; /* train_set_base_add: a reference each */
    int         n_base;
    model_scratch *base_s;       /* owned; for the base models' predictions */
};

void train_opts_default(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->l1 = 0;
    /* Hashed features are worth 1/sqrt(n) each, so useful weights are large:
     * weak regularisation wins in writer-grouped cross-validation (docs/model.md). */
    o->c[0] = 8.0;
    o->c[1] = 32.0;
    o->c[2] = 128.0;
    o->n_c = 3;
    o->eps = 0.01;
    o->folds_max = 8;
    o->min_positives = 5;
    o->pos_weight = 1.0;
    o->prune = 1e-3f;
    o->max_weights = 4000; /* per label: 16 labels x 4000 stay in L2 (docs/model.md) */
}

train_set *train_set_new(const feat_params *fp)
{
    train_set *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->fp = *fp;
    norm_buf_init(&ts->nb);
    feat_buf_init(&ts->fb);
    return ts;
}

void train_set_free(train_set *ts)
{
    if (!ts)
        return;
    norm_buf_free(&ts->nb);
    feat_buf_free(&ts->fb);
    free(ts->nodes);
    free(ts->row_off);
    free(ts->gold);
    free(ts->scope);
    free(ts->rules);
    free(ts->group);
    free(ts->source);
    free(ts->sorted);
    for (int i = 0; i < ts->n_base; i++)
        model_release(ts->base[i]);
    model_scratch_free(ts->base_s);
    free(ts);
}

int train_set_base_add(train_set *ts, model *m)
{
    if (ts->n_base == MODEL_BASE_MAX || ts->n)
        return -1;
    if (!ts->base_s && !(ts->base_s = model_scratch_new()))
        return -1;
    ts->base[ts->n_base++] = model_retain(m);
    return 0;
}

size_t train_set_rows(const train_set *ts) { return ts->n; }

/* Feature ids without the top bit (the "fixed" tag of train_set_add). */
static int cmp_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a & 0x7fffffffu, y = *(const uint32_t *)b & 0x7fffffffu;
    return (x > y) - (x < y);
}

#define GROW(ptr, cap, need)                                                                       \
    do {                                                                                           \
        if ((need) > (cap)) {                                                                      \
            size_t nc_ = (cap) ? (cap) * 2 : 1024;                                                 \
            while (nc_ < (need))                                                                   \
                nc_ *= 2;                                                                          \
            void *np_ = realloc((ptr), nc_ * sizeof *(ptr));                                       \
            if (!np_)                                                                              \
                goto oom;                                                                          \
            (ptr) = np_;                                                                           \
            (cap) = nc_;                                                                           \
        }                                                                                          \
    } while (0)

static int grow_rows(train_set *ts)
{
    if (ts->n < ts->cap)
        return 0;
    size_t cap = ts->cap ? ts->cap * 2 : 1024;
    size_t *ro = realloc(ts->row_off, cap * sizeof *ro);
    if (ro)
        ts->row_off = ro;
    label_set *g = realloc(ts->gold, cap * sizeof *g);
    if (g)
        ts->gold = g;
    label_set *s = realloc(ts->scope, cap * sizeof *s);
    if (s)
        ts->scope = s;
    label_set *r = realloc(ts->rules, cap * sizeof *r);
    if (r)
        ts->rules = r;
    int *gr = realloc(ts->group, cap * sizeof *gr);
    if (gr)
        ts->group = gr;
    int *so = realloc(ts->source, cap * sizeof *so);
    if (so)
        ts->source = so;
    if (!ro || !g || !s || !r || !gr || !so)
        return -1;
    ts->cap = cap;
    return 0;
}

int train_set_add(train_set *ts, classifier *cl, const char *text, size_t len, int channel,
                  const char *lang, label_set labels, label_set scope, int group, int source,
                  char *err, size_t errlen)
{
    classify_result cr;
    int rc = cl ? classify_text(cl, text, len, channel, lang, &cr) : CLASSIFY_OK;
    if (rc == CLASSIFY_EUTF8 || norm_text(&ts->nb, text, len) == NORM_EUTF8) {
        snprintf(err, errlen, "text is not valid UTF-8");
        return -1;
    }
    if (rc != CLASSIFY_OK || feat_extract(&ts->fp, &ts->nb, cl ? &cr : NULL, channel, &ts->fb) < 0)
        goto oom;
    label_set fired = cl ? cr.labels : 0;
    if (ts->n_base) { /* what the rules and the base models decide together */
        model_result mr;
        model_begin_norm(ts->base_s, &ts->nb, &mr);
        for (int k = 0; k < ts->n_base; k++)
            if (model_predict(ts->base[k], ts->base_s, channel, cl ? &cr : NULL, &mr) != MODEL_OK)
                goto oom;
        fired = model_combine(fired, &mr);
    }
    if (grow_rows(ts) < 0)
        goto oom;
    const feat_buf *fb = &ts->fb;
    ts->occurrences += fb->n;
    /* liblinear wants ascending, distinct ids: sort the occurrences (fixed
     * ones tagged by the top bit, as they are worth 1, not scale) and sum
     * duplicates. A rule-identity feature (feat.h) is fixed but hashed, so it
     * may share an id with an n-gram: their values add, as at prediction. */
    GROW(ts->sorted, ts->sorted_cap, fb->n + 1);
    for (size_t i = 0; i < fb->n; i++)
        ts->sorted[i] = fb->id[i] | (i < fb->n_fixed ? 0x80000000u : 0);
    qsort(ts->sorted, fb->n, sizeof *ts->sorted, cmp_id);
    GROW(ts->nodes, ts->cap_nodes, ts->n_nodes + fb->n + 2);
    ts->row_off[ts->n] = ts->n_nodes;
    double scale = feat_scale(&ts->fp, fb);
    for (size_t i = 0; i < fb->n;) {
        uint32_t id = ts->sorted[i] & 0x7fffffffu;
        double v = 0;
        for (; i < fb->n && (ts->sorted[i] & 0x7fffffffu) == id; i++)
            v += (ts->sorted[i] & 0x80000000u) ? 1.0 : scale;
        ts->nodes[ts->n_nodes++] = (struct feature_node){(int)id, v};
    }
    ts->nodes[ts->n_nodes++] = (struct feature_node){(int)feat_id_limit(&ts->fp), 1.0}; /* bias */
    ts->nodes[ts->n_nodes++] = (struct feature_node){-1, 0};
    ts->gold[ts->n] = labels & ~LABEL_FLAG_AT_STAFF;
    ts->scope[ts->n] = scope;
    ts->rules[ts->n] = fired & ~LABEL_FLAG_AT_STAFF;
    ts->group[ts->n] = group;
    ts->source[ts->n] = source;
    ts->n++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---- fitting ------------------------------------------------------------ */

static void quiet(const char *s) { (void)s; }

typedef struct fit_ctx {
    train_set  *ts;
    const train_opts *o;
    int        *fold;      /* [n] fold of each row */
    int         n_folds;
    struct feature_node **x; /* [n] row pointers (built once) */
    double     *y;         /* [n] scratch */
    struct feature_node **px; /* [n] scratch: the problem's rows */
    double     *abs_w;     /* [n_features] scratch for pruning */
} fit_ctx;

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Zero small weights, then keep the max_weights largest (bias excluded). */
static void prune(const fit_ctx *fc, double *w, int n)
{
    size_t nz = 0;
    for (int j = 0; j < n; j++) {
        if (fabs(w[j]) < fc->o->prune)
            w[j] = 0;
        if (w[j] != 0)
            fc->abs_w[nz++] = fabs(w[j]);
    }
    if (!fc->o->max_weights || nz <= fc->o->max_weights)
        return;
    qsort(fc->abs_w, nz, sizeof *fc->abs_w, cmp_desc);
    double cut = fc->abs_w[fc->o->max_weights - 1];
    size_t above = 0; /* weights strictly above the cut stay; ties fill the rest */
    for (size_t k = 0; k < nz && fc->abs_w[k] > cut; k++)
        above++;
    size_t ties = fc->o->max_weights - above;
    for (int j = 0; j < n; j++)
        if (w[j] != 0 && fabs(w[j]) <= cut) {
            if (fabs(w[j]) == cut && ties > 0)
                ties--;
            else
                w[j] = 0;
        }
}

/* Train label l on the in-scope rows whose fold is not skip (-1: all rows).
 * Returns a model whose w scores the positive class (pruned), or NULL when
 * the rows hold one class only. */
static struct model *fit(fit_ctx *fc, int l, int skip, double C)
{
    train_set *ts = fc->ts;
    int n = 0, pos = 0;
    for (size_t i = 0; i < ts->n; i++) {
        if (!(ts->scope[i] & LABEL_BIT(l)) || fc->fold[i] == skip)
            continue;
        int yes = (ts->gold[i] & LABEL_BIT(l)) != 0;
        fc->y[n] = yes ? 1 : -1;
        fc->px[n++] = fc->x[i];
        pos += yes;
    }
    if (pos == 0 || pos == n)
        return NULL;
    struct problem prob = {.l = n, .n = (int)feat_id_limit(&ts->fp), .y = fc->y, .x = fc->px,
                           .bias = 1.0};
    int wl[1] = {1};
    double ww[1] = {fc->o->pos_weight};
    struct parameter par = {.solver_type = fc->o->l1 ? L1R_LR : L2R_LR_DUAL, .eps = fc->o->eps, .C = C,
                            .nr_weight = fc->o->pos_weight != 1.0, .weight_label = wl, .weight = ww};
    struct model *m = train(&prob, &par);
    if (!m)
        return NULL;
    int nf = m->nr_feature; /* bias weight at w[nf] */
    if (m->label[0] != 1)
        for (int j = 0; j <= nf; j++)
            m->w[j] = -m->w[j];
    prune(fc, m->w, nf);
    return m;
}

static float prob_of(const struct model *m, const struct feature_node *x)
{
    double s = 0;
    int nf = m->nr_feature;
    for (; x->index != -1; x++)
        s += x->index <= nf ? m->w[x->index - 1] * x->value : m->w[nf] * x->value;
    return (float)(1.0 / (1.0 + exp(-s)));
}

/* Out-of-fold probability of label l for every in-scope row (p[i]). */
static void out_of_fold(fit_ctx *fc, int l, double C, float *p)
{
    train_set *ts = fc->ts;
    for (size_t i = 0; i < ts->n; i++)
        p[i] = 0;
    for (int f = 0; f < fc->n_folds; f++) {
        struct model *m = fit(fc, l, f, C);
        if (!m)
            continue;
        for (size_t i = 0; i < ts->n; i++)
            if (fc->fold[i] == f && (ts->scope[i] & LABEL_BIT(l)))
                p[i] = prob_of(m, fc->x[i]);
        free_and_destroy_model(&m);
    }
}

/* Folds: groups take turns (the largest groups first would be fairer, but
 * writers' files are of a size), ungrouped rows are spread by a hash of their
 * index. With fewer than 3 groups every row is spread over 5 folds. */
static int make_folds(fit_ctx *fc)
{
    train_set *ts = fc->ts;
    int max_g = -1;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->group[i] > max_g)
            max_g = ts->group[i];
    int n_groups = 0;
    int *gfold = calloc((size_t)(max_g + 2), sizeof *gfold);
    if (!gfold)
        return -1;
    for (int g = 0; g <= max_g; g++)
        gfold[g] = -1;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->group[i] >= 0 && gfold[ts->group[i]] < 0)
            gfold[ts->group[i]] = n_groups++;
    int grouped = n_groups >= 3;
    fc->n_folds = grouped ? (n_groups < fc->o->folds_max ? n_groups : fc->o->folds_max) : 5;
    for (size_t i = 0; i < ts->n; i++) {
        uint32_t h = (uint32_t)i * 2654435761u;
        h ^= h >> 15;
        if (grouped && ts->group[i] >= 0)
            fc->fold[i] = gfold[ts->group[i]] % fc->n_folds;
        else
            fc->fold[i] = (int)(h % (uint32_t)fc->n_folds);
    }
    free(gfold);
    return 0;
}

void train_spec_free(model_spec *spec)
{
    for (int i = 0; i < spec->n_labels; i++) {
        free(spec->labels[i].id);
        free(spec->labels[i].w);
    }
    spec->n_labels = 0;
}

/* Fit label l: choose C and thresholds out of fold, then fit on all rows. */
static int fit_label(fit_ctx *fc, int l, float *p, float *best_p, thr_row *tr,
                     model_label_spec *ls, long cnt[3][3], long src_cnt[THR_SOURCES_MAX][4])
{
    train_set *ts = fc->ts;
    const train_opts *o = fc->o;
    size_t n = 0, pos = 0;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->scope[i] & LABEL_BIT(l)) {
            n++;
            pos += (ts->gold[i] & LABEL_BIT(l)) != 0;
        }
    if (pos < (size_t)o->min_positives || pos == n)
        return 0;
    double best_c = o->c[0], best_f = -1;
    for (int k = 0; k < o->n_c; k++) {
        out_of_fold(fc, l, o->c[k], p);
        size_t m = 0;
        for (size_t i = 0; i < ts->n; i++)
            if (ts->scope[i] & LABEL_BIT(l))
                tr[m++] = (thr_row){p[i], (ts->gold[i] >> l) & 1, (ts->rules[i] >> l) & 1, ts->source[i]};
        thr_choice ch;
        model_thr_choose(tr, m, 0, &ch);
        if (ch.f1_add > best_f) {
            best_f = ch.f1_add;
            best_c = o->c[k];
            memcpy(best_p, p, ts->n * sizeof *p);
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->scope[i] & LABEL_BIT(l))
            tr[m++] = (thr_row){best_p[i], (ts->gold[i] >> l) & 1, (ts->rules[i] >> l) & 1,
                                ts->source[i]};
    thr_choice ch;
    model_thr_choose(tr, m, o->veto, &ch);
    /* After base models, a label whose additions do not beat what is
     * already running by BASE_MARGIN out of fold is left to them: on a few
     * hundred reviews a local model's small "gains" were noise that cost
     * the left-out writers F1 (docs/model.md, feedback). Its rows count as
     * the base decided them. */
    int left_to_base = ts->n_base && ch.f1_add < ch.f1_rules + BASE_MARGIN;
    if (left_to_base) {
        ch.thr_alone = ch.thr_add = 2.0f; /* above any probability */
        ch.thr_veto = 0;
    }
    long tp[3], fp[3], fn[3];
    model_thr_count(tr, m, &ch, tp, fp, fn);
    for (int k = 0; k < 3; k++) {
        cnt[0][k] += tp[k];
        cnt[1][k] += fp[k];
        cnt[2][k] += fn[k];
    }
    for (size_t i = 0; i < m; i++) { /* combined, per source: the writers' own micro-F1 */
        int on = (tr[i].rules && tr[i].p >= ch.thr_veto) || tr[i].p >= ch.thr_add;
        long *c = src_cnt[tr[i].src >= 0 && tr[i].src < THR_SOURCES_MAX ? tr[i].src : 0];
        c[0] += on && tr[i].gold;
        c[1] += on && !tr[i].gold;
        c[2] += !on && tr[i].gold;
    }
    if (left_to_base) {
        if (o->log)
            fprintf(o->log, "train: %-22s %5zu rows %4zu positive  left to the base models: "
                    "combined %.3f against their %.3f out of fold\n",
                    label_name(l), n, pos, ch.f1_add, ch.f1_rules);
        return 0;
    }
    struct model *fm = fit(fc, l, -1, best_c);
    if (!fm)
        return 0;
    int nf = fm->nr_feature;
    size_t nz = 0;
    for (int j = 0; j < nf; j++)
        nz += fm->w[j] != 0;
    ls->label = l;
    ls->thr_alone = ch.thr_alone;
    ls->thr_add = ch.thr_add;
    ls->thr_veto = ch.thr_veto;
    ls->bias = (float)fm->w[nf];
    ls->id = malloc((nz ? nz : 1) * sizeof *ls->id);
    ls->w = malloc((nz ? nz : 1) * sizeof *ls->w);
    if (!ls->id || !ls->w) {
        free_and_destroy_model(&fm);
        return -1;
    }
    for (int j = 0; j < nf; j++)
        if (fm->w[j] != 0) {
            ls->id[ls->n] = (uint32_t)(j + 1);
            ls->w[ls->n++] = (float)fm->w[j];
        }
    free_and_destroy_model(&fm);
    if (o->log)
        fprintf(o->log,
                "train: %-22s %5zu rows %4zu positive  C %-5g out-of-fold F1: rules %.3f model "
                "%.3f combined %.3f%s  thresholds %.3f/%.3f/%.3f  %zu weights\n",
                label_name(l), n, pos, best_c, ch.f1_rules, ch.f1_alone, ch.f1_add,
                ch.thr_veto > 0 ? " (veto)" : "", ch.thr_alone, ch.thr_add, ch.thr_veto, ls->n);
    return 1;
}

/* Fit every label into spec (from empty), logging the out-of-fold figures.
 * Returns 0, or -1 (out of memory, in err). */
static int fit_all(fit_ctx *fc, model_spec *spec, char *err, size_t errlen)
{
    train_set *ts = fc->ts;
    const train_opts *o = fc->o;
    size_t n = ts->n ? ts->n : 1;
    float *p = malloc(n * sizeof *p), *best_p = malloc(n * sizeof *best_p);
    thr_row *tr = malloc(n * sizeof *tr);
    long cnt[3][3] = {{0}};                   /* [tp fp fn][rules alone combined], out of fold */
    long src_cnt[THR_SOURCES_MAX][4] = {{0}}; /* per source: tp fp fn, is a writer's file */
    int rc = -1;
    if (!p || !best_p || !tr)
        goto done;
    for (size_t i = 0; i < ts->n; i++)
        if (ts->group[i] >= 0 && ts->source[i] >= 0 && ts->source[i] < THR_SOURCES_MAX)
            src_cnt[ts->source[i]][3] = 1; /* a writer's file, not a data set */
    for (int l = 1; l < LABEL_COUNT; l++) {
        int r = fit_label(fc, l, p, best_p, tr, &spec->labels[spec->n_labels], cnt, src_cnt);
        if (r < 0) {
            train_spec_free(spec);
            goto done;
        }
        spec->n_labels += r;
    }
    rc = 0;
    if (o->log) {
        double f[3];
        for (int k = 0; k < 3; k++)
            f[k] = model_thr_f1(cnt[0][k], cnt[1][k], cnt[2][k]);
        fprintf(o->log, "train: out-of-fold micro-F1 over the trained labels: rules %.3f model "
                "%.3f combined %.3f\n", f[0], f[1], f[2]);
        /* The figure leave-one-writer-out reports, out of fold: each source's
         * (file's) own micro-F1, combined, mean and worst over the sources. */
        double sum = 0, worst = 1;
        int n_src = 0;
        for (int k = 0; k < THR_SOURCES_MAX; k++) {
            long *c = src_cnt[k];
            if ((!c[0] && !c[1] && !c[2]) || !c[3])
                continue;
            double sf = model_thr_f1(c[0], c[1], c[2]);
            sum += sf;
            worst = sf < worst ? sf : worst;
            n_src++;
        }
        if (n_src)
            fprintf(o->log, "train: out-of-fold micro-F1 per writer (grouped source), combined: "
                    "mean %.3f worst %.3f (%d writers)\n", sum / n_src, worst, n_src);
    }
done:
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    free(p);
    free(best_p);
    free(tr);
    return rc;
}

int train_fit(train_set *ts, const train_opts *o, model_spec *spec, char *err, size_t errlen)
{
    memset(spec, 0, sizeof *spec);
    spec->fp = ts->fp;
    set_print_string_function(quiet);
    fit_ctx fc = {.ts = ts, .o = o};
    size_t n = ts->n ? ts->n : 1, nf = feat_id_limit(&ts->fp);
    fc.fold = malloc(n * sizeof *fc.fold);
    fc.x = malloc(n * sizeof *fc.x);
    fc.px = malloc(n * sizeof *fc.px);
    fc.y = malloc(n * sizeof *fc.y);
    fc.abs_w = malloc(nf * sizeof *fc.abs_w);
    int rc = -1;
    if (!fc.fold || !fc.x || !fc.px || !fc.y || !fc.abs_w ||
        make_folds(&fc) < 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ts->n; i++)
        fc.x[i] = ts->nodes + ts->row_off[i];
    if (o->log)
        fprintf(o->log, "train: %zu rows (%.1f feature occurrences each), %d folds, %s, C %g%s\n",
                ts->n, ts->n ? (double)ts->occurrences / (double)ts->n : 0.0, fc.n_folds,
                o->l1 ? "L1" : "L2", o->c[0], o->n_c > 1 ? " (and others, chosen per label)" : "");
    if (fit_all(&fc, spec, err, errlen) < 0)
        goto done;
    rc = 0;
done:
    free(fc.fold);
    free(fc.x);
    free(fc.px);
    free(fc.y);
    free(fc.abs_w);
    return rc;
}
