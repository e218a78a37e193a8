/*
 * model — checks a spec, lays its weights out for prediction, predicts.
 *
 * DESIGN: the per-label weight lists of the file are merged into one table
 * keyed by feature id (open addressing, 0 = empty). An id with one label's
 * weight keeps it in its slot; an id with several has a row of 16-bit quanta,
 * one lane per label, added to the sums with one vector add. An event's
 * features are a stream of occurrences (feat.h); each costs one probe, then
 * one add. The common n-grams carry weights for many labels, and adding them
 * lane by lane was a third of prediction. The log-odds per label are summed
 * on the stack, so prediction touches no heap but the scratch's buffers and
 * the read-only model.
 */
#include "model.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A weight is quantised to 16 bits against its label's largest (scale[slot]). */
typedef struct mentry {
    int16_t  q;
    uint16_t slot; /* index into the model's labels */
} mentry;

/* One id's quanta by label slot (a model has at most LABEL_COUNT - 1 labels),
 * and the 32-bit sums they are added into. GCC/Clang vector extensions: SSE2
 * at least, wider where the target has it. */
enum { ROW_LANES = 16 };
_Static_assert(LABEL_COUNT - 1 <= ROW_LANES, "a row holds every label");
typedef int16_t row_vec __attribute__((vector_size(2 * ROW_LANES)));
typedef int32_t sum_vec __attribute__((vector_size(4 * ROW_LANES)));
/* Rows added into a sum_vec before it is spilled: 2^16 x 2^15 < 2^31. */
enum { ROWS_PER_SPILL = 65535 };

/* Most ids carry one label's weight: that one is kept in the slot itself, so
 * the probe that finds the id finds its weight too (no second cache miss). */
typedef struct mslot {
    uint32_t key; /* feature id */
    uint32_t val; /* SLOT_INLINE | label slot << 16 | (uint16_t)q for one weight,
                     else 1 + its row's index */
} mslot;

#define SLOT_INLINE 0x80000000u

static inline uint32_t inline_val(uint32_t slot, int16_t q)
{
    return SLOT_INLINE | slot << 16 | (uint16_t)q;
}
static inline uint32_t inline_slot(uint32_t val) { return val >> 16 & 0x7fffu; }
static inline int16_t inline_q(uint32_t val) { return (int16_t)(val & 0xffffu); }

/* Immutable once model_from_spec returns, so any number of threads read it
 * without a lock; only refs changes, atomically. */
struct model {
    atomic_int  refs;                  /* holders; atomic, touched by every holder's thread */
    char       *name;                  /* owned */
    feat_params fp;
    int         n_labels;
    int         label[LABEL_COUNT];    /* [slot] label_id */
    float       thr_alone[LABEL_COUNT], thr_add[LABEL_COUNT], thr_veto[LABEL_COUNT];
    float       bias[LABEL_COUNT];
    float       scale[LABEL_COUNT];    /* [slot] weight of one quantum */
    label_set   labels;
    uint64_t   *present;               /* bit id set: the id has weights (an L2-resident
                                          filter: most n-grams of an event have none) */
    mslot      *slots;                 /* [mask + 1] open addressing, key 0 = empty */
    uint32_t    mask, shift;
    row_vec    *rows;                  /* [n_rows] ids with several labels' weights; owned,
                                          aligned_alloc'd (vector alignment) */
    size_t      n_ids, n_rows, n_entries;  /* n_entries: weights in all */
};

struct model_scratch {
    norm_buf    nb;       /* the canonical text model_begin makes */
    const norm_buf *cur;  /* the current event's: &nb, or the caller's buffer given to
                             model_begin_norm (borrowed, not owned) */
    feat_buf    fb;
    feat_params fp;       /* what fb was extracted with */
    int         have_fb;  /* fb belongs to the current event and fp */
    int         fb_rules; /* ... extracted with (1) or without (0) rule features */
    uint32_t   *hit;      /* [hit_cap] hashed occurrences of fb with weights in the model
                             being applied: index into fb, for explain; owned */
    uint32_t   *hit_val;  /* [hit_cap] their slots' val (see mslot); owned */
    size_t      n_hit, hit_cap;
};

static int fail(char *err, size_t errlen, const char *name, const char *what, const char *label)
{
    if (label)
        snprintf(err, errlen, "%s: label '%s': %s", name, label, what);
    else
        snprintf(err, errlen, "%s: %s", name, what);
    return -1;
}

static int check_spec(const model_spec *s, const char *name, char *err, size_t errlen)
{
    const char *why = feat_params_invalid(&s->fp);
    if (why)
        return fail(err, errlen, name, why, NULL);
    if (s->n_labels < 0 || s->n_labels > LABEL_COUNT - 1)
        return fail(err, errlen, name, "too many labels", NULL);
    uint32_t limit = feat_id_limit(&s->fp);
    label_set seen = 0;
    for (int i = 0; i < s->n_labels; i++) {
        const model_label_spec *ls = &s->labels[i];
        const char *ln = label_name(ls->label);
        if (!ln)
            return fail(err, errlen, name, "unknown label number", NULL);
        if (seen & LABEL_BIT(ls->label))
            return fail(err, errlen, name, "appears twice", ln);
        seen |= LABEL_BIT(ls->label);
        float t[3] = {ls->thr_alone, ls->thr_add, ls->thr_veto};
        for (int k = 0; k < 3; k++)
            if (!(t[k] >= 0.0f && t[k] <= 1.0f))
                return fail(err, errlen, name, "threshold outside [0, 1]", ln);
        if (!isfinite(ls->bias))
            return fail(err, errlen, name, "bias is not a finite number", ln);
        for (size_t k = 0; k < ls->n; k++) {
            if (ls->id[k] < 1 || ls->id[k] >= limit)
                return fail(err, errlen, name, "feature id outside the hashing range", ln);
            if (k && ls->id[k] <= ls->id[k - 1])
                return fail(err, errlen, name, "feature ids not in ascending order", ln);
            if (!isfinite(ls->w[k]))
                return fail(err, errlen, name, "weight is not a finite number", ln);
        }
    }
    return 0;
}

static uint32_t probe_start(const model *m, uint32_t id)
{
    return (uint32_t)((id * 2654435761u) >> m->shift) & m->mask;
}

/* Put id with its count weights e[]: inline when there is one, else in a new row. */
static void table_put(model *m, uint32_t id, const mentry *e, uint32_t count)
{
    uint32_t i = probe_start(m, id);
    while (m->slots[i].key)
        i = (i + 1) & m->mask;
    uint32_t val;
    if (count == 1) {
        val = inline_val(e->slot, e->q);
    } else {
        row_vec *row = &m->rows[m->n_rows];
        memset(row, 0, sizeof *row);
        for (uint32_t k = 0; k < count; k++)
            (*row)[e[k].slot] = e[k].q;
        val = (uint32_t)++m->n_rows;
    }
    m->slots[i] = (mslot){id, val};
    m->present[id >> 6] |= 1ull << (id & 63);
}

enum { PREFETCH_FAR = 16, PREFETCH_NEAR = 8 }; /* features ahead (model_predict) */

/* The slot value of feature id (see mslot), or 0 when it has no weights. */
static inline uint32_t lookup(const model *m, uint32_t id)
{
    if (!(m->present[id >> 6] >> (id & 63) & 1))
        return 0;
    uint32_t i = probe_start(m, id);
    for (;;) {
        uint32_t k = m->slots[i].key;
        if (k == id)
            return m->slots[i].val;
        if (!k)
            return 0;
        i = (i + 1) & m->mask;
    }
}

/* The quantum of label slot in slot value val (0 if it has none). */
static inline int32_t slot_quantum(const model *m, uint32_t val, uint32_t slot)
{
    if (val & SLOT_INLINE)
        return inline_slot(val) == slot ? inline_q(val) : 0;
    return m->rows[val - 1][slot];
}

model *model_from_spec(const model_spec *s, const char *name, char *err, size_t errlen)
{
    if (check_spec(s, name, err, errlen) < 0)
        return NULL;
    model *m = calloc(1, sizeof *m);
    if (!m || !(m->name = strdup(name)))
        goto oom;
    atomic_init(&m->refs, 1);
    m->fp = s->fp;
    m->n_labels = s->n_labels;
    size_t total = 0;
    for (int i = 0; i < s->n_labels; i++) {
        const model_label_spec *ls = &s->labels[i];
        m->label[i] = ls->label;
        m->thr_alone[i] = ls->thr_alone;
        m->thr_add[i] = ls->thr_add;
        m->thr_veto[i] = ls->thr_veto;
        m->bias[i] = ls->bias;
        m->labels |= LABEL_BIT(ls->label);
        total += ls->n;
        float max = 0;
        for (size_t k = 0; k < ls->n; k++)
            if (fabsf(ls->w[k]) > max)
                max = fabsf(ls->w[k]);
        m->scale[i] = max > 0 ? max / 32767.0f : 1.0f;
    }
    /* Merge the ascending lists: entries grouped by id, ids counted, and the
     * ids with several weights (each gets a row). */
    size_t pos[LABEL_COUNT] = {0}, multi = 0;
    mentry *entries = malloc((total ? total : 1) * sizeof *entries);
    uint32_t *ids = malloc((total ? total : 1) * sizeof *ids);
    uint32_t *first = malloc((total ? total : 1) * sizeof *first);
    if (!entries || !ids || !first)
        goto oom_build;
    for (;;) {
        uint32_t min = UINT32_MAX;
        for (int i = 0; i < s->n_labels; i++)
            if (pos[i] < s->labels[i].n && s->labels[i].id[pos[i]] < min)
                min = s->labels[i].id[pos[i]];
        if (min == UINT32_MAX)
            break;
        ids[m->n_ids] = min;
        first[m->n_ids++] = (uint32_t)m->n_entries;
        for (int i = 0; i < s->n_labels; i++)
            if (pos[i] < s->labels[i].n && s->labels[i].id[pos[i]] == min) {
                entries[m->n_entries].q =
                    (int16_t)lrintf(s->labels[i].w[pos[i]++] / m->scale[i]);
                entries[m->n_entries++].slot = (uint16_t)i;
            }
        multi += m->n_entries - first[m->n_ids - 1] > 1;
    }
    uint32_t bits = 4; /* load factor at most 2/3: short probe runs, a small table */
    while ((1u << bits) < m->n_ids + m->n_ids / 2 + 2)
        bits++;
    m->mask = (1u << bits) - 1;
    m->shift = 32 - bits;
    m->slots = calloc((size_t)m->mask + 1, sizeof *m->slots);
    m->present = calloc(feat_id_limit(&m->fp) / 64 + 1, sizeof *m->present);
    m->rows = aligned_alloc(sizeof(row_vec), (multi ? multi : 1) * sizeof(row_vec));
    if (!m->slots || !m->present || !m->rows || multi >= SLOT_INLINE) /* 1 + row < 2^31 */
        goto oom_build;
    for (size_t k = 0; k < m->n_ids; k++) {
        uint32_t end = k + 1 < m->n_ids ? first[k + 1] : (uint32_t)m->n_entries;
        table_put(m, ids[k], entries + first[k], end - first[k]);
    }
    free(entries);
    free(ids);
    free(first);
    return m;
oom_build:
    free(entries);
    free(ids);
    free(first);
oom:
    model_release(m);
    snprintf(err, errlen, "%s: out of memory", name);
    return NULL;
}

model *model_retain(model *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void model_release(model *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(m->name);
    free(m->slots);
    free(m->present);
    free(m->rows);
    free(m);
}

const char *model_name(const model *m) { return m->name; }
label_set model_labels(const model *m) { return m->labels; }
size_t model_weight_count(const model *m) { return m->n_entries; }
const feat_params *model_features(const model *m) { return &m->fp; }

float model_threshold(const model *m, int label, int which)
{
    for (int i = 0; i < m->n_labels; i++)
        if (m->label[i] == label)
            return which == 0 ? m->thr_alone[i] : which == 1 ? m->thr_add[i] : m->thr_veto[i];
    return 0;
}

/* ---- prediction -------------------------------------------------------- */

model_scratch *model_scratch_new(void)
{
    model_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    norm_buf_init(&s->nb);
    feat_buf_init(&s->fb);
    s->cur = &s->nb;
    return s;
}

void model_scratch_free(model_scratch *s)
{
    if (!s)
        return;
    norm_buf_free(&s->nb);
    feat_buf_free(&s->fb);
    free(s->hit);
    free(s->hit_val);
    free(s);
}

const char *model_scratch_text(const model_scratch *s) { return s->cur->text; }

int model_begin(model_scratch *s, const char *text, size_t len, model_result *r)
{
    memset(r, 0, sizeof *r);
    s->have_fb = 0;
    s->cur = &s->nb;
    int rc = norm_text(&s->nb, text, len);
    return rc == NORM_OK ? MODEL_OK : rc == NORM_EUTF8 ? MODEL_EUTF8 : MODEL_ENOMEM;
}

int model_begin_norm(model_scratch *s, const norm_buf *nb, model_result *r)
{
    memset(r, 0, sizeof *r);
    s->have_fb = 0;
    s->cur = nb;
    return MODEL_OK;
}

/* Note candidate j as the one last added to (explain's two-entry memory). */
static inline void touch(size_t recent[2], size_t j)
{
    if (recent[0] != j) {
        recent[1] = recent[0];
        recent[0] = j;
    }
}

/* The words that added most to slot's score, as evidence in r. */
static void explain(const model *m, const model_scratch *s, uint32_t slot, float scale,
                    model_result *r)
{
    enum { CAND = 24 };
    struct cand { uint32_t ws, we; float w; } c[CAND];
    size_t nc = 0, recent[2] = {CAND, CAND}; /* CAND: none */
    const feat_buf *fb = &s->fb;
    for (size_t h = 0; h < s->n_hit; h++) { /* the features with weights, in fb's order */
        int32_t q = slot_quantum(m, s->hit_val[h], slot);
        if (!q)
            continue;
        size_t i = s->hit[h];
        float w = (float)q * m->scale[slot] * scale;
        if (w == 0)
            continue;
        /* feat.h gives each occurrence the span of its word (both words for
         * a bigram), so an n-gram is shown as the word it belongs to. */
        uint32_t ws = fb->cstart[i], we = fb->cend[i];
        /* fb runs word by word (unigram, bigram with the word before,
         * character n-grams): the last two candidates touched are tried
         * before searching them all. */
        size_t j = recent[0];
        if (j >= nc || c[j].ws != ws || c[j].we != we) {
            j = recent[1];
            if (j >= nc || c[j].ws != ws || c[j].we != we)
                for (j = 0; j < nc && (c[j].ws != ws || c[j].we != we); j++)
                    ;
        }
        if (j < nc) {
            c[j].w += w;
            touch(recent, j);
        } else if (nc < CAND) {
            touch(recent, nc);
            c[nc++] = (struct cand){ws, we, w};
        } else if (w > 0) { /* full: replace the weakest */
            size_t low = 0;
            for (j = 1; j < nc; j++)
                if (c[j].w < c[low].w)
                    low = j;
            if (w > c[low].w) {
                c[low] = (struct cand){ws, we, w};
                touch(recent, low);
            }
        }
    }
    for (int k = 0; k < MODEL_EVIDENCE_PER_LABEL && nc && r->n_ev < MODEL_EVIDENCE_MAX; k++) {
        size_t best = 0;
        for (size_t j = 1; j < nc; j++)
            if (c[j].w > c[best].w)
                best = j;
        if (c[best].w <= 0)
            break;
        model_evidence *ev = &r->ev[r->n_ev];
        if (norm_span(s->cur, c[best].ws, c[best].we, &ev->start, &ev->end) == 0) {
            ev->label = (uint8_t)m->label[slot];
            ev->weight = c[best].w;
            ev->cstart = c[best].ws;
            ev->cend = c[best].we;
            r->n_ev++;
        }
        c[best] = c[--nc];
    }
}

int model_predict(const model *m, model_scratch *s, int channel, const classify_result *rules,
                  model_result *r)
{
    int with_rules = rules != NULL;
    if (!s->have_fb || s->fb_rules != with_rules || !feat_params_same(&s->fp, &m->fp)) {
        if (feat_extract(&m->fp, s->cur, rules, channel, &s->fb) < 0)
            return MODEL_ENOMEM;
        s->fp = m->fp;
        s->have_fb = 1;
        s->fb_rules = with_rules;
    }
    const feat_buf *fb = &s->fb;
    if (fb->n > s->hit_cap) { /* grows to the largest event, then stays */
        uint32_t *a = realloc(s->hit, fb->n * sizeof *a);
        if (a)
            s->hit = a;
        uint32_t *b = realloc(s->hit_val, fb->n * sizeof *b);
        if (b)
            s->hit_val = b;
        if (!a || !b)
            return MODEL_ENOMEM;
        s->hit_cap = fb->n;
    }
    s->n_hit = 0;
    /* Sums of quanta: the fixed features (value 1) and the hashed ones (value
     * scale each) apart, each label's scale applied once at the end. Integer
     * quanta: exact, and cheaper to add than floats. */
    float fixed[LABEL_COUNT] = {0}, score[LABEL_COUNT];
    int64_t hashed[LABEL_COUNT] = {0};
    float scale = feat_scale(&m->fp, fb);
    for (size_t i = 0; i < fb->n_fixed; i++) {
        uint32_t val = lookup(m, fb->id[i]);
        for (int k = 0; val && k < m->n_labels; k++)
            fixed[k] += (float)slot_quantum(m, val, (uint32_t)k);
    }
    sum_vec rows = {0}; /* the rows' sums since the last spill into hashed */
    uint32_t n_rows = 0;
    for (size_t i = fb->n_fixed; i < fb->n; i++) {
        /* The table outgrows L2 and each probe is a likely miss; the ids are
         * all known, so fetch ahead: filter words far, probe starts nearer.
         * (Looking ids up a few ahead to fetch their rows too measured
         * no faster.) */
        if (i + PREFETCH_FAR < fb->n)
            __builtin_prefetch(&m->present[fb->id[i + PREFETCH_FAR] >> 6]);
        if (i + PREFETCH_NEAR < fb->n)
            __builtin_prefetch(&m->slots[probe_start(m, fb->id[i + PREFETCH_NEAR])]);
        uint32_t val = lookup(m, fb->id[i]);
        if (!val)
            continue;
        s->hit[s->n_hit] = (uint32_t)i; /* remembered for explain: no second probe */
        s->hit_val[s->n_hit++] = val;
        if (val & SLOT_INLINE) {
            hashed[inline_slot(val)] += inline_q(val);
            continue;
        }
        rows += __builtin_convertvector(m->rows[val - 1], sum_vec);
        if (++n_rows == ROWS_PER_SPILL) {
            for (int k = 0; k < m->n_labels; k++)
                hashed[k] += rows[k];
            rows = (sum_vec){0};
            n_rows = 0;
        }
    }
    for (int k = 0; k < m->n_labels; k++)
        hashed[k] += rows[k];
    for (int i = 0; i < m->n_labels; i++)
        score[i] = m->bias[i] + m->scale[i] * (fixed[i] + (float)hashed[i] * scale);
    for (int i = 0; i < m->n_labels; i++) {
        int l = m->label[i];
        float p = 1.0f / (1.0f + expf(-score[i]));
        label_set bit = LABEL_BIT(l);
        int was_on = ((r->alone | r->add) & bit) != 0;
        r->covered |= bit;
        if (p > r->prob[l])
            r->prob[l] = p;
        /* A label the channel cannot carry (labels.h) is scored, never set. */
        int allowed = label_on_channel(l, channel);
        if (allowed && p >= m->thr_alone[i])
            r->alone |= bit;
        if (allowed && p >= m->thr_add[i])
            r->add |= bit;
        if (p < m->thr_veto[i] && !(r->unvetoed & bit))
            r->veto |= bit;
        else {
            r->veto &= ~bit;
            r->unvetoed |= bit;
        }
        /* Evidence for the labels the model drives: a label the rules set
         * already has their matches for evidence. */
        if (!was_on && ((r->alone | r->add) & bit) && !(rules && (rules->labels & bit)))
            explain(m, s, (uint32_t)i, scale, r);
    }
    return MODEL_OK;
}

label_set model_combine(label_set rules, const model_result *r)
{
    label_set kept = rules & ~LABEL_FLAG_AT_STAFF & ~r->veto;
    label_set out = kept | r->add;
    if ((rules & LABEL_FLAG_AT_STAFF) && out)
        out |= LABEL_FLAG_AT_STAFF;
    return out;
}
