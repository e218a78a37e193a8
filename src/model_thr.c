/*
 * model_thr — F1-maximising thresholds by one sweep over sorted rows.
 */
#include "model_thr.h"

#include <stdlib.h>

static double f1(long tp, long fp, long fn)
{
    return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

static int by_p_desc(const void *a, const void *b)
{
    float x = ((const thr_row *)a)->p, y = ((const thr_row *)b)->p;
    return (x < y) - (x > y);
}

/* Best F1 when rows with p above a cut are added to (tp0, fp0) — the rows
 * with rules set are taken as already on when with_rules. */
static double sweep(const thr_row *r, size_t n, long pos, int with_rules, long tp0, long fp0,
                    float *thr)
{
    long tp = tp0, fp = fp0;
    double best = f1(tp, fp, pos - tp);
    *thr = 1.0f;
    /* Only rows the threshold decides take part; ties move together. */
    size_t last = 0; /* index of the last deciding row seen, for the cut */
    for (size_t i = 0; i < n; i++) {
        if (with_rules && r[i].rules)
            continue;
        tp += r[i].gold;
        fp += !r[i].gold;
        last = i;
        size_t j = i + 1;
        while (j < n && with_rules && r[j].rules)
            j++;
        if (j < n && r[j].p == r[i].p)
            continue;
        double f = f1(tp, fp, pos - tp);
        if (f > best) {
            best = f;
            *thr = j < n ? 0.5f * (r[last].p + r[j].p) : 0.0f;
        }
    }
    return best;
}

void model_thr_choose(thr_row *r, size_t n, int veto, thr_choice *out)
{
    qsort(r, n, sizeof *r, by_p_desc);
    long pos = 0, rtp = 0, rfp = 0;
    for (size_t i = 0; i < n; i++) {
        pos += r[i].gold;
        rtp += r[i].rules && r[i].gold;
        rfp += r[i].rules && !r[i].gold;
    }
    out->f1_rules = f1(rtp, rfp, pos - rtp);
    out->f1_alone = sweep(r, n, pos, 0, 0, 0, &out->thr_alone);
    out->f1_add = sweep(r, n, pos, 1, rtp, rfp, &out->thr_add);
    out->thr_veto = 0;
    if (!veto)
        return;
    /* Rows the rules set and the model does not: from the lowest p up,
     * dropping them changes tp/fp; the added rows stay. */
    long tp = 0, fp = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].rules || r[i].p >= out->thr_add) {
            tp += r[i].gold;
            fp += !r[i].gold;
        }
    double base = f1(tp, fp, pos - tp), best = base;
    float best_thr = 0;
    for (size_t i = n; i-- > 0;) {
        if (!r[i].rules || r[i].p >= out->thr_add)
            continue;
        tp -= r[i].gold;
        fp -= !r[i].gold;
        size_t j = i; /* the next candidate up, or i if none */
        while (j > 0 && (!r[j - 1].rules || r[j - 1].p >= out->thr_add))
            j--;
        j = j > 0 ? j - 1 : i;
        if (j < i && r[j].p == r[i].p)
            continue;
        double f = f1(tp, fp, pos - tp);
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
