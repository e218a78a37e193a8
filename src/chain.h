/*
 * chain — rule alternatives with word gaps, scanned as their runs of words
 * and joined after the scan.
 *
 * WHY: of the default pack's ~6,400 patterns, the ~3,600 with a gap
 * "(?:[^ ]+ ){0,n}" were about 80% of Hyperscan's time (bench/README.md,
 * "fix 7"). Their runs of words, deduplicated, scan about twice as fast.
 *
 * HOW: an alternative "A ~n B" is a chain of links A, B. Each distinct run
 * regex is one segment, one Hyperscan id. The scan records every end of
 * every segment; afterwards each chain whose trigger segment was seen is
 * joined: link i's match must start within gap_before[i] words after link
 * i-1's match ends. Canonical text is " w1 w2 ... wn " with one space
 * between words (normalise.h), so "words between" is a count of spaces:
 * with sp(x) the number of spaces before byte x, a run of k words ending at
 * byte e starts at space number sp(e) - k - 1, and the previous run ended at
 * space number sp(e') - 1, so the words between are sp(e) - k - sp(e').
 * The chain matches wherever the whole regex would, and its first end is
 * the end the whole regex would report first. A run's words are fixed, so
 * where a run's match starts follows from its end; the join keeps each
 * link's feasible hits and so reports where the whole match starts too,
 * which spares span.h a walk back for the chained alternatives.
 */
#ifndef COMPLAINTD_CHAIN_H
#define COMPLAINTD_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "rule_regex.h"

typedef struct chain_link {
    uint32_t segment;
    uint16_t words;       /* words the segment's regex spans */
    uint16_t gap_before;  /* most words allowed before it (link 0: unused) */
} chain_link;

typedef struct chain {
    uint32_t pattern;     /* the rule pattern (alternative) it stands for */
    uint32_t first_link;  /* links [first_link, first_link + n_links) */
    uint32_t n_links;
} chain;

typedef struct chain_set {
    char      **segments;         /* [n_segments] owned regexes */
    uint32_t   *segment_pattern;  /* [n_segments] the first pattern using it */
    size_t      n_segments;
    chain      *chains;
    size_t      n_chains;
    chain_link *links;
    size_t      n_links;
    /* After chain_set_finish: the chains whose trigger is segment s (the
     * link likeliest to be rare, chain.c) are
     * trigger_chain[trigger_from[s] .. trigger_from[s + 1]). */
    uint32_t   *trigger_from;     /* [n_segments + 1] */
    uint32_t   *trigger_chain;    /* [n_chains] */
    /* While adding: segment regex -> index, open addressing. */
    uint32_t   *slots;
    size_t      n_slots;
    size_t      cap_segments, cap_chains, cap_links;
} chain_set;

/* Add pattern's runs as a chain (runs->n >= 2). Returns 0 or -1 (out of
 * memory). */
int chain_set_add(chain_set *cs, uint32_t pattern, const rule_runs *runs);

/* Index the chains by trigger segment; drop the lookup table. 0 or -1. */
int chain_set_finish(chain_set *cs);

void chain_set_free(chain_set *cs);

/*
 * One scan's segment matches, owned by one classifier. chain_scan_begin
 * names the canonical text about to be scanned; chain_scan_hit is called
 * from the Hyperscan callback; chain_scan_join after the scan reports
 * each chain that matched, with the first end of its whole match; then
 * chain_scan_reset readies it for the next text.
 */
typedef struct chain_scan {
    uint32_t *hit_end;     /* byte ends, in arrival order */
    uint32_t *hit_sp;      /* sp(end) of each */
    int32_t  *hit_next;    /* the segment's previous hit, or -1 */
    size_t    n_hits, cap_hits;
    int32_t  *seg_last;    /* [n_segments] the segment's newest hit, or -1 */
    uint32_t *seen;        /* segments hit in this text */
    size_t    n_seen;
    const char *text;      /* the text being scanned (chain_scan_begin) */
    uint32_t  cursor;      /* spaces are counted up to here ... */
    uint32_t  cursor_spaces; /* ... and there are this many */
    uint32_t *trail;       /* the join's feasible hits of each link (chain.c) */
    size_t    cap_trail;
    int       unordered;   /* a hit ended before the one reported before it */
    int       failed;      /* out of memory during this scan */
} chain_scan;

int  chain_scan_init(chain_scan *sc, const chain_set *cs);  /* 0 or -1 */
void chain_scan_free(chain_scan *sc);

void chain_scan_begin(chain_scan *sc, const char *text);

/* Record that segment ended at byte end of the text. 0, or -1 if out of
 * memory (the scan should stop: the result would be incomplete). */
int chain_scan_hit(chain_scan *sc, uint32_t segment, uint32_t end);

/* Join the chains whose trigger segment matched; calls found(pattern,
 * start, first_end, ctx) for each chain that matched, start being the byte
 * of the first word of that match: the words span.h would find walking back
 * from first_end (at each gap the fewest words skipped, right to left).
 * Returns 0, or -1 if out of memory (a hit could not be recorded, or the
 * join's working set could not grow). */
int chain_scan_join(chain_scan *sc, const chain_set *cs,
                    void (*found)(uint32_t pattern, uint32_t start, uint32_t end, void *ctx),
                    void *ctx);

void chain_scan_reset(chain_scan *sc);

#endif
