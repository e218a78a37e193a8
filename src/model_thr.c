/*
 * model_thr — thresholds by one sweep over rows sorted by probability.
 *
 * The objective is the mean of the F1s of the rows' sources (a writer's file,
 * a data set), not the F1 of all rows pooled: pooled, a large data set with
 * its own base rate (a tweet set that is 83% toxic) would set the threshold
 * for everyone, and a writer whose text scores lower would lose its recall.
 * The mean counts each source once, as leave-one-writer-out does.
 */
#include "model_thr.h"

#include <stdlib.h>
#include <string.h>

double model_thr_f1(long tp, long fp, long fn)
{
    return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

static int by_p_desc(const void *a, const void *b)
{
    float x = ((const thr_row *)a)->p, y = ((const thr_row *)b)->p;
    return (x < y) - (x > y);
}

typedef struct tally {
    long tp[THR_SOURCES_MAX], fp[THR_SOURCES_MAX], pos[THR_SOURCES_MAX];
} tally;

static int src_of(const thr_row *r) { return r->src >= 0 && r->src < THR_SOURCES_MAX ? r->src : 0; }

/* Mean F1 over the sources that have positives. */
static double score(const tally *t)
{
    double sum = 0;
    int n = 0;
    for (int s = 0; s < THR_SOURCES_MAX; s++)
        if (t->pos[s]) {
            sum += model_thr_f1(t->tp[s], t->fp[s], t->pos[s] - t->tp[s]);
            n++;
        }
    return n ? sum / n : 0;
}

static void turn_on(tally *t, const thr_row *r, int sign)
{
    int s = src_of(r);
    t->tp[s] += sign * r->gold;
    t->fp[s] += sign * !r->gold;
}

/* Best score when rows above a cut are switched on, starting from t (the rows
 * the rules set are on already when with_rules). */
static double sweep(const thr_row *r, size_t n, int with_rules, tally t, float *thr)
{
    double best = score(&t);
    *thr = 1.0f;
    for (size_t i = 0; i < n; i++) {
        if (with_rules && r[i].rules)
            continue;
        turn_on(&t, &r[i], 1);
        size_t j = i + 1; /* the next row the threshold decides */
        while (j < n && with_rules && r[j].rules)
            j++;
        if (j < n && r[j].p == r[i].p)
            continue;     /* ties move together */
        double f = score(&t);
        if (f > best) {
            best = f;
            *thr = j < n ? 0.5f * (r[i].p + r[j].p) : 0.0f;
        }
    }
    return best;
}

void model_thr_choose(thr_row *r, size_t n, int veto, thr_choice *out)
{
    qsort(r, n, sizeof *r, by_p_desc);
    tally none, rules;
    memset(&none, 0, sizeof none);
    for (size_t i = 0; i < n; i++)
        none.pos[src_of(&r[i])] += r[i].gold;
    rules = none;
    for (size_t i = 0; i < n; i++)
        if (r[i].rules)
            turn_on(&rules, &r[i], 1);
    out->f1_rules = score(&rules);
    out->f1_alone = sweep(r, n, 0, none, &out->thr_alone);
    out->f1_add = sweep(r, n, 1, rules, &out->thr_add);
    out->thr_veto = 0;
    if (!veto)
        return;
    /* From the lowest p up, drop the rows the rules set and the model does not. */
    tally t = rules;
    for (size_t i = 0; i < n; i++)
        if (!r[i].rules && r[i].p >= out->thr_add)
            turn_on(&t, &r[i], 1);
    double base = score(&t), best = base;
    float best_thr = 0;
    for (size_t i = n; i-- > 0;) {
        if (!r[i].rules || r[i].p >= out->thr_add)
            continue;
        turn_on(&t, &r[i], -1);
        size_t j = i; /* the next candidate up, or i if none */
        while (j > 0 && (!r[j - 1].rules || r[j - 1].p >= out->thr_add))
            j--;
        j = j > 0 ? j - 1 : i;
        if (j < i && r[j].p == r[i].p)
            continue;
        double f = score(&t);
        if (f > best) {
            best = f;
            best_thr = j < i ? 0.5f * (r[i].p + r[j].p) : out->thr_add;
        }
    }
    if (best >= base + 0.01) {
        out->thr_veto = best_thr;
        out->f1_add = best;
    }
}

void model_thr_count(const thr_row *r, size_t n, const thr_choice *c, long tp[3], long fp[3],
                     long fn[3])
{
    for (int k = 0; k < 3; k++)
        tp[k] = fp[k] = fn[k] = 0;
    for (size_t i = 0; i < n; i++) {
        int on[3] = {r[i].rules, r[i].p >= c->thr_alone,
                     (r[i].rules && r[i].p >= c->thr_veto) || r[i].p >= c->thr_add};
        for (int k = 0; k < 3; k++) {
            tp[k] += on[k] && r[i].gold;
            fp[k] += on[k] && !r[i].gold;
            fn[k] += !on[k] && r[i].gold;
        }
    }
}
