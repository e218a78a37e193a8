/*
 * model_train — fit the learned layer (model.h) with liblinear.
 *
 * Rows are added one by one (the text is normalised, classified by the rule
 * pack for its rule features, and turned into a sorted sparse vector right
 * away; the text is not kept). Training then fits, per label, an L1- or
 * L2-regularised logistic regression with liblinear (the dual solver: far
 * faster when features outnumber rows), and picks its
 * thresholds from out-of-fold probabilities:
 *
 *   - the folds follow the rows' groups (one group per writer, i.e. per
 *     corpus file), so a threshold is chosen on text of writers the fold's
 *     model never saw, as the product will meet it; rows without a group are
 *     spread over the folds;
 *   - thr_alone maximises the model's own F1, thr_add the F1 of "rules OR
 *     model" (both the mean F1 over the rows' sources), and a veto threshold is kept only when dropping the rules'
 *     label below it raises the out-of-fold F1 (and --veto asks for it);
 *   - with several C values, each label keeps the one with the best
 *     out-of-fold F1 of "rules OR model".
 *
 * A row supervises the labels in its scope only: a toxicity data set that
 * says "toxic" but not which kind teaches `insult`, and says nothing about
 * profanity. Labels with fewer than min_positives positive rows get no
 * classifier (the rules alone decide them).
 *
 * Not thread-safe; training is an offline, single-threaded job.
 */
#ifndef COMPLAINTD_MODEL_TRAIN_H
#define COMPLAINTD_MODEL_TRAIN_H

#include <stdio.h>

#include "classify.h"
#include "feat.h"
#include "model.h"

typedef struct train_opts {
    int    l1;             /* 1: L1-regularised (sparse), 0: L2 then pruned */
    double c[8];           /* C values to choose from per label */
    int    n_c;
    double eps;            /* liblinear's stopping tolerance */
    int    folds_max;      /* at most this many cross-validation folds */
    int    veto;           /* allow veto thresholds */
    int    min_positives;  /* fewer positive rows: no classifier for the label */
    double pos_weight;     /* C of positive rows relative to negatives (1 = same) */
    float  prune;          /* drop weights with |w| below this */
    size_t max_weights;    /* and keep at most this many per label (0 = all) */
    FILE  *log;            /* progress and per-label choices, or NULL */
} train_opts;

void train_opts_default(train_opts *o);

typedef struct train_set train_set;

/* fp: how text becomes features (stored in the model). NULL on OOM. */
train_set *train_set_new(const feat_params *fp);
void train_set_free(train_set *ts);
size_t train_set_rows(const train_set *ts);

/* Add a model the one trained here will be applied after (at most
 * MODEL_BASE_MAX, in their order; each retained until train_set_free),
 * before any row is added. Each row's "rules fired" then becomes what the
 * rules and these models decide together (model_combine), so the
 * thresholds (model_thr.h) make the new model add a label only where that
 * beats the running combination: a local model learning from feedback
 * then does not trade the default model's right labels for its own.
 * Not for veto thresholds (a model's veto reaches only the rules' labels).
 * 0, or -1 (too many, rows already added, out of memory). */
enum { MODEL_BASE_MAX = 8 };
int train_set_base_add(train_set *ts, model *m);

/* Add one row. cl: the rule pack's classifier for the rule features (NULL:
 * none). group: the row's cross-validation group (>= 0, e.g. its writer), or
 * -1 to spread it. source: where it comes from (its file, 0..63), whose F1s
 * the thresholds average (model_thr.h). Returns 0, or -1 with the problem in err (invalid UTF-8,
 * out of memory). */
int train_set_add(train_set *ts, classifier *cl, const char *text, size_t len, int channel,
                  const char *lang, label_set labels, label_set scope, int group, int source,
                  char *err, size_t errlen);

/* Fit every label and fill spec (its weight arrays are allocated here:
 * train_spec_free). Returns 0, or -1 with the problem in err. */
int train_fit(train_set *ts, const train_opts *o, model_spec *spec /* OUT */, char *err,
              size_t errlen);
void train_spec_free(model_spec *spec);

#endif
