/*
 * model_thr — choose a label's thresholds from out-of-fold probabilities.
 *
 * Each row is (probability, gold, rules fired, source). Three choices, each
 * maximising the mean over sources of their F1 (model_thr.c says why), over
 * the cut points between distinct probabilities (a cut
 * halfway between two neighbours, so that a probability a little off the
 * training rows falls on the same side):
 *   thr_alone  the model alone: label on when p >= thr_alone;
 *   thr_add    combined: on when the rules fired or p >= thr_add;
 *   thr_veto   (when asked) combined, but a rule's label also needs
 *              p >= thr_veto; kept only if it raises F1 by at least 0.01,
 *              else 0 (no veto): a rule author's precise rule should not be
 *              overruled for noise.
 */
#ifndef COMPLAINTD_MODEL_THR_H
#define COMPLAINTD_MODEL_THR_H

#include <stddef.h>

#define THR_SOURCES_MAX 64

typedef struct thr_row {
    float p;
    int   gold;
    int   rules;
    int   src;   /* the row's source (0..THR_SOURCES_MAX-1), e.g. its file */
} thr_row;

typedef struct thr_choice {
    float  thr_alone, thr_add, thr_veto;
    double f1_rules, f1_alone, f1_add; /* out-of-fold mean F1 of the rules, the model, combined */
} thr_choice;

/* rows[0..n) is reordered. */
void model_thr_choose(thr_row *rows, size_t n, int veto, thr_choice *out /* OUT */);

/* F1 of tp true positives, fp false positives and fn false negatives (0 with
 * no true positive). */
double model_thr_f1(long tp, long fp, long fn);

/* The counts of the three decisions of c over rows (rules, alone, combined). */
void model_thr_count(const thr_row *rows, size_t n, const thr_choice *c, long tp[3], long fp[3],
                     long fn[3]);

#endif
