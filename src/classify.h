/*
 * classify — label one event's text with a compiled rule pack.
 *
 * A classifier is one thread's working set: a Hyperscan scratch, a
 * normalisation buffer and per-clause hit marks, all reused across events so
 * that labelling allocates nothing once warm. It borrows the pack, which must
 * outlive it.
 */
#ifndef COMPLAINTD_CLASSIFY_H
#define COMPLAINTD_CLASSIFY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "normalise.h"
#include "rules.h"

typedef struct classify_match {
    uint32_t rule;   /* index into pack->rules */
    uint32_t start;  /* byte span in the original text */
    uint32_t end;
} classify_match;

typedef struct classify_result {
    label_set    labels;              /* labels that reached their threshold */
    float        score[LABEL_COUNT];  /* summed weights of fired rules */
    classify_match *matches;             /* fired rules, one span each; owned by the classifier */
    size_t       n_matches;
    uint32_t     span_misses;         /* fired rules left out of matches because their
                                         span was not found (classify.c) */
    const rulepack *pack;             /* whose rules matches index (borrowed); NULL in
                                         results not made by classify_text */
} classify_result;

typedef struct classifier classifier;

/* NULL on allocation or Hyperscan scratch failure. */
classifier *classifier_new(const rulepack *rp);
void classifier_free(classifier *c);
const rulepack *classifier_pack(const classifier *c);

/* Count every rule that fires into hits[rule index] (relaxed atomic adds;
 * [pack->n_rules] counters, shared by all classifiers of the pack and owned
 * by the caller), or stop counting with NULL. The default is the pack's
 * hit_counters (rules.h), usually NULL. */
void classifier_set_hit_counters(classifier *c, atomic_uint_fast64_t *hits);

/* Spans not found since classifier_new: the sum of classify_result.span_misses
 * over every classify_text call on c. */
uint64_t classifier_span_misses(const classifier *c);

enum { CLASSIFY_OK = 0, CLASSIFY_EUTF8 = -1, CLASSIFY_ESCAN = -2, CLASSIFY_ENOMEM = -3 };

/* Label text[0..len). channel: complaint.v1.Channel; lang: hint or NULL.
 * out->matches stays valid until the next call on c. */
int classify_text(classifier *c, const char *text, size_t len, int channel, const char *lang,
                  classify_result *out /* OUT */);

/* The canonical text and offset map of the text of the last successful
 * classify_text on c (model_begin_norm reuses it); owned by c, valid until
 * the next classify_text or classifier_free. */
const norm_buf *classifier_canonical(const classifier *c);

#endif
