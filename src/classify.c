/*
 * classify — normalise, scan, then evaluate the pack's rule logic.
 *
 * DESIGN: the scan callback only marks clauses as hit (first span kept) and
 * remembers which clauses it touched, so the per-event cost after the scan is
 * proportional to what matched, not to the size of the pack. Patterns with
 * word gaps are scanned as runs of words and joined after the scan
 * (chain.h); a joined chain marks its clause like any other match. Rules are then
 * evaluated once each: all match clauses hit, no unless clause hit, language
 * hints never hide a rule; channel 0 counts as a customer channel.
 */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include "span.h"

/* A clause hit whose start is not known: Hyperscan reports ends only. */
#define NO_START UINT32_MAX

struct classifier {
    const rulepack *rp;
    hs_scratch_t   *scratch;
    norm_buf        nb;
    uint8_t        *clause_hit;    /* [n_clauses] 0/1, cleared via touched */
    uint32_t       *clause_pattern; /* [n_clauses] pattern of the first hit */
    uint32_t       *clause_end;     /* [n_clauses] canonical end of the first hit */
    uint32_t       *clause_start;   /* [n_clauses] its canonical start, or NO_START */
    uint32_t       *touched;       /* clauses hit in this event */
    size_t          n_touched;
    chain_scan      chains;        /* segment matches of this event */
    uint8_t        *rule_seen;     /* [n_rules] evaluated already in this event */
    classify_match    *matches;       /* [n_rules] */
    uint64_t        span_misses;   /* spans not found, since classifier_new */
    atomic_uint_fast64_t *hits;    /* [n_rules] fired counts, or NULL; not owned */
};

classifier *classifier_new(const rulepack *rp)
{
    classifier *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rp = rp;
    c->hits = rp->hit_counters;
    norm_buf_init(&c->nb);
    size_t nc = rp->n_clauses ? rp->n_clauses : 1, nr = rp->n_rules ? rp->n_rules : 1;
    c->clause_hit = calloc(nc, 1);
    c->clause_pattern = calloc(nc, sizeof(uint32_t));
    c->clause_end = calloc(nc, sizeof(uint32_t));
    c->clause_start = calloc(nc, sizeof(uint32_t));
    c->touched = calloc(nc, sizeof(uint32_t));
    c->rule_seen = calloc(nr, 1);
    c->matches = calloc(nr, sizeof(classify_match));
    if (!c->clause_hit || !c->clause_pattern || !c->clause_end || !c->clause_start ||
        !c->touched || !c->rule_seen || !c->matches || chain_scan_init(&c->chains, &rp->chains) < 0 ||
        hs_alloc_scratch(rp->db, &c->scratch) != HS_SUCCESS) {
        classifier_free(c);
        return NULL;
    }
    return c;
}

void classifier_free(classifier *c)
{
    if (!c)
        return;
    hs_free_scratch(c->scratch);
    norm_buf_free(&c->nb);
    free(c->clause_hit);
    free(c->clause_pattern);
    free(c->clause_end);
    free(c->clause_start);
    free(c->touched);
    free(c->rule_seen);
    free(c->matches);
    chain_scan_free(&c->chains);
    free(c);
}

const rulepack *classifier_pack(const classifier *c) { return c->rp; }

void classifier_set_hit_counters(classifier *c, atomic_uint_fast64_t *hits) { c->hits = hits; }

uint64_t classifier_span_misses(const classifier *c) { return c->span_misses; }

/* Mark pattern's clause as hit from start (or NO_START) to end. A clause
 * keeps its earliest end (chains are joined after the scan, so theirs may
 * come after a later one), and at equal ends the alternative written first,
 * so that the span does not depend on the order in which Hyperscan reports. */
static void mark_clause(classifier *c, uint32_t pattern, uint32_t start, uint32_t end)
{
    uint32_t clause = c->rp->pattern_clause[pattern];
    if (!c->clause_hit[clause]) {
        c->clause_hit[clause] = 1;
        c->touched[c->n_touched++] = clause;
    } else if (!(end < c->clause_end[clause] ||
                 (end == c->clause_end[clause] && pattern < c->clause_pattern[clause]))) {
        return;
    }
    c->clause_pattern[clause] = pattern;
    c->clause_end[clause] = end;
    c->clause_start[clause] = start;
}

/* Order the touched clauses by (first end, clause): rules are evaluated, and
 * their matches listed, in the order their first clause matched. A handful
 * per event: insertion sort. */
static void sort_touched(classifier *c)
{
    for (size_t i = 1; i < c->n_touched; i++) {
        uint32_t t = c->touched[i], end = c->clause_end[t];
        size_t j = i;
        for (; j > 0; j--) {
            uint32_t u = c->touched[j - 1];
            if (c->clause_end[u] < end || (c->clause_end[u] == end && u < t))
                break;
            c->touched[j] = u;
        }
        c->touched[j] = t;
    }
}

static void on_chain(uint32_t pattern, uint32_t start, uint32_t end, void *ctx)
{
    mark_clause(ctx, pattern, start, end);
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
    (void)from;  /* not tracked: see span.h */
    (void)flags;
    classifier *c = ctx;
    size_t np = c->rp->n_patterns;
    if (id >= np)  /* a chain segment; a failure stops the scan */
        return chain_scan_hit(&c->chains, (uint32_t)(id - np), (uint32_t)to) < 0;
    mark_clause(c, id, NO_START, (uint32_t)to);
    return 0;
}

/* Clear the marks this event set, ready for the next. */
static void clear_marks(classifier *c)
{
    for (size_t t = 0; t < c->n_touched; t++) {
        c->clause_hit[c->touched[t]] = 0;
        c->rule_seen[c->rp->clause_rule[c->touched[t]]] = 0;
    }
    c->n_touched = 0;
}

/* The lang hint is not a filter: customers switch language mid-sentence and
 * hints are often wrong, so a hint never hides what the text says (every
 * rule of the pack may fire whatever the hint). An unknown channel (0, the
 * proto default) may be any customer channel, but is not known to be an
 * employee's note: rules for a customer channel fire on it, rules only for
 * staff_note do not. */
static int rule_fires(const classifier *c, const rule *r, uint32_t lang, int channel)
{
    (void)lang;
    uint32_t seen_as = channel > CHANNEL_UNSPECIFIED && channel < CHANNEL_COUNT
                           ? 1u << channel
                           : ~((1u << CHANNEL_UNSPECIFIED) | (1u << CHANNEL_STAFF_NOTE));
    if (r->channel_mask && !(r->channel_mask & seen_as))
        return 0;
    for (uint32_t i = 0; i < r->n_clauses; i++) {
        int hit = c->clause_hit[r->first_clause + i];
        if (i < r->n_match ? !hit : hit)
            return 0;
    }
    return 1;
}

int classify_text(classifier *c, const char *text, size_t len, int channel, const char *lang,
                  classify_result *out)
{
    memset(out, 0, sizeof *out);
    out->matches = c->matches;
    out->pack = c->rp;
    int nrc = norm_text(&c->nb, text, len);
    if (nrc == NORM_EUTF8)
        return CLASSIFY_EUTF8;
    if (nrc != NORM_OK)
        return CLASSIFY_ENOMEM;

    c->n_touched = 0;
    chain_scan_begin(&c->chains, c->nb.text);
    hs_error_t hrc = hs_scan(c->rp->db, c->nb.text, (unsigned)c->nb.len, 0, c->scratch, on_match, c);
    int jrc = hrc == HS_SUCCESS || hrc == HS_SCAN_TERMINATED
                  ? chain_scan_join(&c->chains, &c->rp->chains, on_chain, c)
                  : 0;
    chain_scan_reset(&c->chains);
    if (jrc < 0) {
        clear_marks(c);
        return CLASSIFY_ENOMEM;
    }
    if (hrc != HS_SUCCESS) {
        clear_marks(c);
        return CLASSIFY_ESCAN;
    }
    sort_touched(c);

    const rulepack *rp = c->rp;
    uint32_t langbit = lang_bit(lang);
    label_set cancelled = 0;
    int at_staff = 0;
    for (size_t t = 0; t < c->n_touched; t++) {
        uint32_t ri = rp->clause_rule[c->touched[t]];
        if (c->rule_seen[ri])
            continue;
        c->rule_seen[ri] = 1;
        const rule *r = &rp->rules[ri];
        if (!rule_fires(c, r, langbit, channel))
            continue;
        if (c->hits)
            atomic_fetch_add_explicit(&c->hits[ri], 1, memory_order_relaxed);
        out->score[r->label] += r->weight;
        cancelled |= r->cancels;
        if (r->at_staff)
            at_staff = 1;
        out->matches[out->n_matches++].rule = ri; /* its span comes below, if kept */
    }
    for (int l = 1; l < LABEL_COUNT; l++)
        if (out->score[l] > 0 && out->score[l] >= rp->threshold[l] && !(cancelled & (1u << l)))
            out->labels |= 1u << l;

    if (at_staff && out->labels)
        out->labels |= LABEL_FLAG_AT_STAFF;

    /* Keep only the matches that explain the outcome: rules of labels that
     * are on, and rules that cancelled a label; and only those whose span is
     * found. A chained alternative's start came from the join; the others'
     * are searched for the kept rules alone (a walk back over the canonical
     * words, span.h): most rules that fire do not decide. A span that is not
     * found (the walk back disagrees with the scan, or cannot reach back as
     * far as the match: span.c looks at 128 words) loses the match but not
     * the label, and is counted (span_misses). */
    size_t kept = 0;
    for (size_t i = 0; i < out->n_matches; i++) {
        uint32_t ri = out->matches[i].rule;
        const rule *r = &rp->rules[ri];
        if (!(out->labels & (1u << r->label)) && !(r->cancels & cancelled))
            continue;
        /* The first match clause's span stands for the rule. */
        classify_match *m = &out->matches[kept];
        uint32_t cl = r->first_clause, pat = c->clause_pattern[cl];
        long start = c->clause_start[cl] != NO_START
                         ? (long)c->clause_start[cl]
                         : span_start(&rp->pattern_span[pat], c->nb.text, c->clause_end[cl]);
        if (start >= 0 &&
            norm_span(&c->nb, (size_t)start, c->clause_end[cl], &m->start, &m->end) == 0) {
            m->rule = ri;
            kept++;
        } else {
            out->span_misses++;
        }
    }
    out->n_matches = kept;
    c->span_misses += out->span_misses;

    clear_marks(c);
    return CLASSIFY_OK;
}

const norm_buf *classifier_canonical(const classifier *c) { return &c->nb; }
