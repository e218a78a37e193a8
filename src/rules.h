/*
 * rules — load a rule pack directory (rules/README.md has the language) and
 * compile it into one Hyperscan database.
 *
 * Every alternative of every match/unless line becomes one Hyperscan pattern
 * over canonical text (normalise.h); the all-of / unless / cancels logic is
 * bookkeeping done by classify.c after the scan, so the database stays a flat
 * list of byte patterns that Hyperscan scans in one pass.
 *
 * A pack is immutable once loaded and may be shared by any number of threads,
 * each with its own scratch (classify.h).
 */
#ifndef COMPLAINTD_RULES_H
#define COMPLAINTD_RULES_H

#include <hs/hs.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "chain.h"
#include "labels.h"
#include "span.h"

typedef struct rule {
    char    *id;           /* owned */
    int      label;
    float    weight;
    uint32_t lang_mask;    /* LANG_* bits; 0 = any language */
    uint32_t channel_mask; /* bit n = channel n; 0 = every channel */
    label_set cancels;
    int      at_staff;     /* "target staff": the words are aimed at the employee */
    uint32_t first_clause; /* clauses [first_clause, first_clause + n_clauses) */
    uint32_t n_clauses;    /* match clauses first, then unless clauses */
    uint32_t n_match;
    char    *file;         /* owned; for messages */
    int      line;
} rule;

typedef struct rulepack {
    rule     *rules;
    size_t    n_rules;
    uint32_t *clause_rule;     /* [n_clauses] owning rule index */
    size_t    n_clauses;
    /* Pattern i is alternative i of the pack, parsed once (rule_regex.h):
     * its regex for the scan, its span program for where a match starts,
     * and, if it has word gaps, a chain in chains. */
    uint32_t *pattern_clause;  /* [n_patterns] pattern -> clause */
    char    **patterns;        /* [n_patterns] owned regex sources */
    int      *pattern_line;    /* [n_patterns] line of the clause, for messages */
    span_prog *pattern_span;   /* [n_patterns] owned (span_prog_free) */
    size_t    n_patterns;
    float     threshold[LABEL_COUNT];
    /* The patterns with word gaps, scanned as runs of words (chain.h). The
     * database holds the other patterns under their own index as id, and
     * segment s under id n_patterns + s. */
    chain_set chains;
    hs_database_t *db;
    size_t    db_mem_len;      /* > 0: db is our own mapping of this size (from the
                                  cache), unmapped rather than hs_free_database'd */
    uint64_t  hash;            /* of the compiled patterns: the cache key */
    int       from_cache;      /* 1 if the database came from the disk cache */
    double    compile_ms;      /* time spent compiling (0 when cached) */
    /* Optional: [n_rules] counters that the pack's classifiers add one to
     * when a rule fires (classify.h); set by the owner, not freed here. */
    atomic_uint_fast64_t *hit_counters;
} rulepack;

/* Load every *.rules file in dir (sorted by name) and compile the pack.
 * cache_dir: where compiled databases are kept (created if missing), or NULL
 * for no cache. On error returns NULL and writes "file:line: problem" to err.
 * The caller owns the result: rulepack_free. */
rulepack *rulepack_load(const char *dir, const char *cache_dir, char *err, size_t errlen);
void rulepack_free(rulepack *rp);

/* Export the compiled patterns, one regex per line ("id<TAB>regex"), for
 * peers in the benchmark. Returns 0 or -1 on a write error. */
int rulepack_export(const rulepack *rp, const char *path);

#endif
