/*
 * feat — the learned layer's view of an event: hashed word and character
 * n-grams of the canonical text (normalise.h), the rule pack's hits and the
 * channel, as sparse feature ids.
 *
 * DESIGN: features are produced as a stream of occurrences (one entry per
 * n-gram seen, duplicates included) so that prediction needs neither a sort
 * nor a hash set: a linear model sums the weight of each occurrence, scaled
 * by feat_scale(). Training merges the duplicates into counts (the same sum).
 * Every occurrence keeps its canonical byte range, so a weight that carried a
 * decision can be shown as a span of the original text (norm_span).
 *
 * Feature ids (1-based, liblinear's convention):
 *   [FEAT_RULE_FIRED + l]   the rules put label l on (value 1);
 *   [FEAT_RULE_WEAK + l]    a rule of label l fired, but the label stayed off;
 *   [FEAT_CHANNEL + c]      the event's channel is c;
 *   hashed ids, value 1     with rule_ids: rule r of the pack fired (a hash of
 *                           its id, so a pack edit does not shift them), so a
 *                           rule that misfires on other writers' text can be
 *                           discounted on its own, not only its label;
 *   [FEAT_HASH_BASE, FEAT_HASH_BASE + 2^hash_bits)  hashed n-grams, each
 *                           occurrence worth 1/n^len_power (n: the event's n-gram
 *                           occurrences): a long letter weighs a little less per
 *                           word than a short one, but its one telling phrase is
 *                           not drowned (0.1 beat 0.5 in cross-validation).
 *
 * Ownership: a feat_buf owns its arrays; one per thread, reused across events
 * (it only grows), freed with feat_buf_free.
 */
#ifndef COMPLAINTD_FEAT_H
#define COMPLAINTD_FEAT_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "normalise.h"

enum {
    FEAT_RULE_FIRED = 0,                            /* + label (1..16) */
    FEAT_RULE_WEAK = FEAT_RULE_FIRED + LABEL_COUNT, /* + label */
    FEAT_CHANNEL = FEAT_RULE_WEAK + LABEL_COUNT,    /* + channel (0..6) */
    FEAT_HASH_BASE = FEAT_CHANNEL + CHANNEL_COUNT + 1,
    FEAT_HASH_BITS_MAX = 24,
};

/* How text becomes features; stored in the model file, so prediction uses
 * exactly what training used. */
typedef struct feat_params {
    uint32_t hash_bits; /* hashed ids span 2^hash_bits values (1..FEAT_HASH_BITS_MAX) */
    uint32_t seed;      /* of the hash */
    uint8_t  words;     /* word unigrams */
    uint8_t  bigrams;   /* word bigrams */
    uint8_t  char_min;  /* character n-grams of char_min..char_max code points, */
    uint8_t  char_max;  /* within a word and its boundary spaces; 0 = none */
    float    len_power; /* a hashed occurrence is worth 1/n^len_power, n the event's
                           occurrences (0..1: 0 = raw counts, 0.5 = unit length) */
    uint8_t  rule_ids;  /* 1: one feature per fired rule (model file version 3) */
    uint8_t  prefix;    /* > 0: the first `prefix` code points of every word longer
                           than that, as a feature (cheap stemming); 0 = none (v3) */
    uint8_t  hash;      /* FEAT_HASH_FNV (models of format 2) or FEAT_HASH_WIDE */
} feat_params;

/* How n-gram bytes are hashed. FNV takes a byte a step; WIDE takes four, which
 * matters because hashing was half of feature extraction (a Cyrillic 4-gram is
 * eight bytes). The ids differ, so the choice is part of the model. */
enum { FEAT_HASH_FNV = 1, FEAT_HASH_WIDE = 2 };

void feat_params_default(feat_params *p);
/* 1 when a and b make the same features (field by field: padding aside). */
int feat_params_same(const feat_params *a, const feat_params *b);
/* NULL if valid, else what is wrong. */
const char *feat_params_invalid(const feat_params *p);

typedef struct feat_buf {
    uint32_t *id;     /* [n] feature ids; the n_fixed fixed ones come first */
    uint32_t *cstart; /* [n] canonical byte range of the word(s) the occurrence belongs to:
                         its word for a unigram or a character n-gram, both words for
                         a bigram ([0,0) for fixed ones); what explanations show */
    uint32_t *cend;
    size_t    n, n_fixed, cap;
} feat_buf;

void feat_buf_init(feat_buf *fb);
void feat_buf_free(feat_buf *fb);

/* Extract the features of the canonical text nb (normalise.h) with the rule
 * result rules (NULL: no rule features) and channel. Replaces fb's content.
 * Returns 0, or -1 when out of memory (fb is then empty). */
int feat_extract(const feat_params *p, const norm_buf *nb, const classify_result *rules, int channel,
                 feat_buf *fb);

/* Value of each hashed occurrence of fb under p. */
float feat_scale(const feat_params *p, const feat_buf *fb);

/* One past the largest feature id under p. */
uint32_t feat_id_limit(const feat_params *p);

#endif
