/*
 * feat — hashed n-grams of canonical text, rule hits, channel.
 *
 * The canonical text is " w1 w2 ... wn " (normalise.h): words are the runs
 * between single spaces, so no tokenizer is needed here. Character n-grams
 * count code points, not bytes (Cyrillic letters are two bytes), and include
 * the spaces around a word as its boundary marks, so "ид" at the start of a
 * word and inside one are different features.
 */
#include "feat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Longest word (in code points) whose character n-grams are taken: longer
 * "words" are URLs, hashes and keyboard mashing. */
#define CHAR_WORD_MAX 48

void feat_params_default(feat_params *p)
{
    memset(p, 0, sizeof *p);
    p->hash_bits = 20;
    p->seed = 0x5eed1234u;
    p->words = 1;
    p->bigrams = 1;
    /* Character 4-grams alone score as well as 3..5-grams in writer-grouped
     * cross-validation and cost a third of the lookups (docs/model.md). */
    p->char_min = 4;
    p->char_max = 4;
    p->len_power = 0.1f;
    p->hash = FEAT_HASH_WIDE;
    /* Word prefixes (p->prefix) stay off: 5 code points gave leave-one-writer-
     * out micro-F1 mean 0.723 -> 0.726, worst 0.629 -> 0.631 (noise level:
     * prefix lengths 5 and 7 swap places between cross-validation and
     * leave-one-writer-out) for 6.5% more features per event (docs/model.md). */
}

int feat_params_same(const feat_params *a, const feat_params *b)
{
    return a->hash_bits == b->hash_bits && a->seed == b->seed && a->words == b->words &&
           a->bigrams == b->bigrams && a->char_min == b->char_min && a->char_max == b->char_max &&
           a->len_power == b->len_power && a->hash == b->hash && a->rule_ids == b->rule_ids &&
           a->prefix == b->prefix;
}

const char *feat_params_invalid(const feat_params *p)
{
    if (p->hash_bits < 1 || p->hash_bits > FEAT_HASH_BITS_MAX)
        return "hash bits out of range 1..24";
    if (p->words > 1 || p->bigrams > 1)
        return "word flags must be 0 or 1";
    if ((p->char_min == 0) != (p->char_max == 0) || p->char_min > p->char_max ||
        p->char_max > 8)
        return "character n-gram lengths must be 0 0, or 1 <= min <= max <= 8";
    if (!(p->len_power >= 0.0f && p->len_power <= 1.0f))
        return "length power must be within 0..1";
    if (p->hash != FEAT_HASH_FNV && p->hash != FEAT_HASH_WIDE)
        return "unknown n-gram hash";
    if (p->rule_ids > 1)
        return "rule identity flag must be 0 or 1";
    if (p->prefix > 16)
        return "word prefix length must be within 0..16";
    return NULL;
}

uint32_t feat_id_limit(const feat_params *p) { return FEAT_HASH_BASE + (1u << p->hash_bits); }

void feat_buf_init(feat_buf *fb) { memset(fb, 0, sizeof *fb); }

void feat_buf_free(feat_buf *fb)
{
    free(fb->id);
    free(fb->cstart);
    free(fb->cend);
    feat_buf_init(fb);
}

static int reserve(feat_buf *fb, size_t need)
{
    if (need <= fb->cap)
        return 0;
    size_t cap = fb->cap ? fb->cap : 256;
    while (cap < need)
        cap *= 2;
    uint32_t *a = realloc(fb->id, cap * sizeof *a);
    if (a)
        fb->id = a;
    uint32_t *b = realloc(fb->cstart, cap * sizeof *b);
    if (b)
        fb->cstart = b;
    uint32_t *c = realloc(fb->cend, cap * sizeof *c);
    if (c)
        fb->cend = c;
    if (!a || !b || !c)
        return -1;
    fb->cap = cap;
    return 0;
}

static void push(feat_buf *fb, uint32_t id, uint32_t s, uint32_t e)
{
    fb->id[fb->n] = id;
    fb->cstart[fb->n] = s;
    fb->cend[fb->n] = e;
    fb->n++;
}

/* FNV-1a over a family tag and the bytes, then murmur3's finaliser so the
 * low bits (the ones kept) depend on every input byte. */
static uint32_t hash_bytes(uint32_t seed, uint8_t tag, const char *s, size_t len)
{
    uint32_t h = 2166136261u ^ seed;
    h = (h ^ tag) * 16777619u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* Four bytes a step into a 64-bit state (a multiply each); the last step
 * reads the last four bytes, overlapping the one before when the length is
 * not a multiple of four, so there is no byte-by-byte tail (the length goes
 * in too); then murmur3's 64-bit finaliser, so the low bits kept depend on
 * every byte. */
static inline uint32_t hash_wide(uint32_t seed, uint8_t tag, const char *s, size_t len)
{
    const uint64_t mul = 0x9E3779B97F4A7C15ull;
    uint64_t h = ((uint64_t)seed << 8 | tag) * mul;
    uint32_t k;
    if (len >= 4) {
        for (size_t i = 0; i + 4 < len; i += 4) {
            memcpy(&k, s + i, 4);
            h = (h ^ k) * mul;
        }
        memcpy(&k, s + len - 4, 4);
    } else {
        k = 0;
        for (size_t j = 0; j < len; j++)
            k |= (uint32_t)(uint8_t)s[j] << (8 * j);
    }
    h = (h ^ k ^ (uint64_t)len << 32) * mul;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)h;
}

static inline uint32_t hashed_id(const feat_params *p, uint8_t tag, const char *s, size_t len)
{
    uint32_t h = p->hash == FEAT_HASH_WIDE ? hash_wide(p->seed, tag, s, len)
                                           : hash_bytes(p->seed, tag, s, len);
    return FEAT_HASH_BASE + (h & ((1u << p->hash_bits) - 1));
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Character n-grams of the word t[ws, we) with its boundary spaces. */
static void char_grams(const feat_params *p, const char *t, size_t ws, size_t we, feat_buf *fb)
{
    uint32_t cp[CHAR_WORD_MAX + 3]; /* byte offset of each code point, then the end */
    size_t n = 0;
    cp[n++] = (uint32_t)(ws - 1);   /* the space before */
    for (size_t i = ws; i < we; i++)
        if (((uint8_t)t[i] & 0xC0) != 0x80) {
            if (n > CHAR_WORD_MAX)
                return;
            cp[n++] = (uint32_t)i;
        }
    cp[n++] = (uint32_t)we;         /* the space after */
    cp[n] = (uint32_t)we + 1;
    for (size_t k = p->char_min; k <= p->char_max; k++)
        for (size_t i = 0; i + k <= n; i++) {
            uint32_t s = cp[i], e = cp[i + k];
            push(fb, hashed_id(p, (uint8_t)('0' + k), t + s, e - s), (uint32_t)ws, (uint32_t)we);
        }
}

/* The first p->prefix code points of the word t[ws, we), when it is longer:
 * one feature shared by a word's inflections (ru/uk/pl endings). */
static void prefix_gram(const feat_params *p, const char *t, size_t ws, size_t we, feat_buf *fb)
{
    size_t cps = 0, cut = we;
    for (size_t i = ws; i < we; i++)
        if (((uint8_t)t[i] & 0xC0) != 0x80 && cps++ == p->prefix) {
            cut = i;
            break;
        }
    if (cut < we)
        push(fb, hashed_id(p, 'p', t + ws, cut - ws), (uint32_t)ws, (uint32_t)we);
}

int feat_extract(const feat_params *p, const norm_buf *nb, const classify_result *rules, int channel,
                 feat_buf *fb)
{
    fb->n = fb->n_fixed = 0;
    const char *t = nb->text;
    size_t len = nb->len;
    /* An upper bound on occurrences: per word one unigram, one bigram and
     * (word length + 2) n-grams per length. */
    size_t words = 0;
    for (size_t i = 0; i < len; i++)
        words += t[i] == ' ';
    size_t per_char = p->char_min ? (size_t)(p->char_max - p->char_min + 1) : 0;
    size_t bound = 2 * LABEL_COUNT + 1 + words * (p->prefix ? 3 : 2) + per_char * (len + 2 * words);
    if (rules && p->rule_ids)
        bound += rules->n_matches;
    if (reserve(fb, bound) < 0)
        return -1;

    if (rules) {
        for (int l = 1; l < LABEL_COUNT; l++) {
            if (rules->labels & LABEL_BIT(l))
                push(fb, FEAT_RULE_FIRED + (uint32_t)l, 0, 0);
            else if (rules->score[l] > 0)
                push(fb, FEAT_RULE_WEAK + (uint32_t)l, 0, 0);
        }
    }
    if (rules && p->rule_ids && rules->pack) {
        const rulepack *rp = rules->pack;
        for (size_t i = 0; i < rules->n_matches; i++) {
            const char *rid = rp->rules[rules->matches[i].rule].id;
            push(fb, hashed_id(p, 'r', rid, strlen(rid)), 0, 0);
        }
    }
    if (channel < 0 || channel >= CHANNEL_COUNT)
        channel = 0;
    push(fb, FEAT_CHANNEL + (uint32_t)channel, 0, 0);
    fb->n_fixed = fb->n;

    size_t prev_s = 0, prev_e = 0; /* the previous word, for bigrams; prev_e 0 = none */
    for (size_t i = 1; i < len;) {
        size_t ws = i;
        while (i < len && t[i] != ' ')
            i++;
        size_t we = i++;
        if (we == ws)
            continue;
        int digits = all_digits(t + ws, we - ws);
        if (p->words) {
            if (digits) { /* order numbers and sums: only their length says something */
                char d = (char)('0' + (we - ws > 9 ? 9 : we - ws));
                push(fb, hashed_id(p, 'n', &d, 1), (uint32_t)ws, (uint32_t)we);
            } else {
                push(fb, hashed_id(p, 'w', t + ws, we - ws), (uint32_t)ws, (uint32_t)we);
            }
        }
        if (p->bigrams && prev_e && !digits)
            push(fb, hashed_id(p, 'b', t + prev_s, we - prev_s), (uint32_t)prev_s, (uint32_t)we);
        if (p->char_min && !digits)
            char_grams(p, t, ws, we, fb);
        if (p->prefix && !digits)
            prefix_gram(p, t, ws, we, fb);
        if (digits) {
            prev_e = 0;
        } else {
            prev_s = ws;
            prev_e = we;
        }
    }
    return 0;
}

float feat_scale(const feat_params *p, const feat_buf *fb)
{
    size_t hashed = fb->n - fb->n_fixed;
    return hashed ? (float)pow((double)hashed, -(double)p->len_power) : 0.0f;
}
