/*
 * model — the learned layer: one binary logistic regression per label over
 * the features of feat.h, combined with the rule pack's labels.
 *
 * A model is immutable once loaded and is read by any number of threads at
 * once; each thread predicts with its own model_scratch (the canonical text
 * and the features of the event), so prediction allocates nothing once the
 * scratch has grown to the largest event. A worker holds a model by
 * reference (model_retain / model_release): a reload swaps in a new one, and
 * the old one is freed when its last holder lets go.
 *
 * Combination, per label (model_combine): the label is on when the rules put
 * it on, or when the model's probability reaches the label's "add" threshold.
 * A model may also veto a rule's label when its probability stays below the
 * label's veto threshold (0 = no veto; training sets one only where
 * cross-validation showed that vetoing helps).
 *
 * Weights live in one open-addressing table keyed by feature id, each id
 * holding the weights of every label that uses it, so an n-gram costs one
 * probe for all labels, and a pruned model of a few tens of thousands of ids
 * stays in the L2 cache.
 *
 * The file format (all numbers little-endian), checked field by field on load:
 *   "CPLMODEL" | u32 version (MODEL_VERSION)
 *   | u32 hash_bits | u32 seed | u8 words | u8 bigrams | u8 char_min | u8 char_max
 *   | f32 len_power | (version 3 on: u8 rule_ids | u8 prefix) | (version 4: u8 hash;
 *     before it, FEAT_HASH_FNV)
 *   | u32 n_labels | n_labels x ( u8 name length | name | f32 thr_alone | f32 thr_add
 *                                 | f32 thr_veto | f32 bias | u32 n | n x (u32 id, f32 w) )
 *   | u64 FNV-1a of every byte before it
 * Ids of a label ascend strictly and lie below feat_id_limit().
 */
#ifndef COMPLAINTD_MODEL_H
#define COMPLAINTD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "feat.h"
#include "labels.h"

#define MODEL_MAGIC "CPLMODEL"
#define MODEL_VERSION 4u /* 2: the length power in the feature parameters; 3: rule
                            identities and word prefixes; 4: the n-gram hash */
#define MODEL_VERSION_MIN 2u /* still read: 2 and 3 hash with FNV, 2 has no rule ids
                                or prefixes */

/* One label's classifier, as written to and read from a file. */
typedef struct model_label_spec {
    int       label;     /* label_id */
    float     thr_alone; /* probability at which the model alone sets the label */
    float     thr_add;   /* probability at which the model adds it to the rules' labels */
    float     thr_veto;  /* a rule's label is dropped below this; 0 = never */
    float     bias;
    uint32_t *id;        /* [n] ascending feature ids; owned by whoever built the spec */
    float    *w;         /* [n] their weights */
    size_t    n;
} model_label_spec;

typedef struct model_spec {
    feat_params      fp;
    model_label_spec labels[LABEL_COUNT];
    int              n_labels;
} model_spec;

typedef struct model model;

/* Read and check a model file. On error returns NULL and writes
 * "PATH: problem" to err. The caller holds the one reference: model_release. */
model *model_load(const char *path, char *err, size_t errlen);
/* The same from bytes in memory; name stands for the file in messages. */
model *model_load_bytes(const uint8_t *buf, size_t len, const char *name, char *err,
                        size_t errlen);
/* Build a model from a spec (copied; the spec stays the caller's). On error
 * NULL with "NAME: problem" in err. */
model *model_from_spec(const model_spec *spec, const char *name, char *err, size_t errlen);
/* Write spec to path (through a temporary file renamed into place). Returns 0,
 * or -1 with "PATH: problem" in err. */
int model_save(const char *path, const model_spec *spec, char *err, size_t errlen);

model *model_retain(model *m);
void   model_release(model *m); /* frees at the last reference; NULL is fine */

const char *model_name(const model *m);        /* the path it came from */
label_set   model_labels(const model *m);      /* labels it has a classifier for */
size_t      model_weight_count(const model *m);/* nonzero weights, all labels */
const feat_params *model_features(const model *m);
/* Thresholds of label l (0 if the model has no classifier for it). */
float model_threshold(const model *m, int label, int which /* 0 alone, 1 add, 2 veto */);

/* ---- prediction -------------------------------------------------------- */

#define MODEL_EVIDENCE_PER_LABEL 4
#define MODEL_EVIDENCE_MAX 48

typedef struct model_evidence {
    uint8_t  label;
    float    weight;      /* what this n-gram added to the label's log-odds */
    uint32_t start, end;  /* byte span in the original text */
    uint32_t cstart, cend;/* and in the canonical text (model_scratch_text) */
} model_evidence;

/* Filled by model_predict; caller-owned (a worker keeps one per event or
 * reuses one), no pointers inside. */
typedef struct model_result {
    label_set covered;            /* labels some model has a classifier for */
    label_set alone;              /* the models alone would set these */
    label_set add;                /* the models add these to the rules' labels */
    label_set veto;               /* covered labels every model vetoes */
    label_set unvetoed;           /* internal: labels some model does not veto */
    float     prob[LABEL_COUNT];  /* highest probability over the models; 0 if none */
    model_evidence ev[MODEL_EVIDENCE_MAX]; /* for the labels in alone | add that the
                                              rules did not set */
    size_t    n_ev;
} model_result;

typedef struct model_scratch model_scratch;

model_scratch *model_scratch_new(void); /* NULL when out of memory */
void model_scratch_free(model_scratch *s);

enum { MODEL_OK = 0, MODEL_EUTF8 = -1, MODEL_ENOMEM = -2 };

/* Start an event: normalise text[0..len) into s and clear r. */
int model_begin(model_scratch *s, const char *text, size_t len, model_result *r /* OUT */);
/* The same for an event already normalised into nb (norm_text succeeded on
 * it), usually the rule classifier's buffer (classifier_canonical): the model
 * then reads nb instead of normalising the text a second time, which was a
 * large share of its cost. nb is borrowed: it must stay unchanged until the
 * event's last model_predict and model_scratch_text call (with a classifier:
 * until its next classify_text). Returns MODEL_OK. */
int model_begin_norm(model_scratch *s, const norm_buf *nb, model_result *r /* OUT */);
/* Score the event begun on s with m, given the rules' result (NULL: none),
 * and merge into r: several models may be applied in turn (the default one
 * and local ones); a label is on if any model puts it on. */
int model_predict(const model *m, model_scratch *s, int channel, const classify_result *rules,
                  model_result *r /* IN/OUT */);

/* The canonical text of the event begun on s (evidence's cstart/cend index it). */
const char *model_scratch_text(const model_scratch *s);

/* The labels to act on: the rules' labels (with LABEL_FLAG_AT_STAFF kept)
 * minus vetoed ones, plus what the models add. */
label_set model_combine(label_set rules, const model_result *r);

#endif
