/* chain_oracle — an alternative scanned whole and as a chain; see chain_oracle.h. */
#include "chain_oracle.h"

#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "rule_regex.h"
#include "span.h"

struct chain_oracle {
    hs_database_t *whole, *runs;
    hs_scratch_t  *s_whole, *s_runs;
    chain_set      cs;
    chain_scan     sc;
    span_prog      span;        /* the alternative's, for the walk back */
    uint32_t       join_end;    /* the last scan's chained first end ... */
    uint32_t       join_start;  /* ... and where the join says it starts */
};

static hs_database_t *compile(const char *const *exprs, const unsigned *ids, size_t n, char *err,
                              size_t errlen)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    unsigned flags[RULE_RUNS_MAX] = {0};
    if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &db, &ce) !=
        HS_SUCCESS) {
        snprintf(err, errlen, "%s: %s", exprs[ce->expression < 0 ? 0 : ce->expression],
                 ce->message);
        hs_free_compile_error(ce);
        return NULL;
    }
    return db;
}

chain_oracle *chain_oracle_new(const char *alt, int *not_cut, char *err, size_t errlen)
{
    *not_cut = 0;
    rule_alt a;
    if (rule_alt_compile(alt, 0, &a, err, errlen) < 0)
        return NULL;
    if (a.runs.n == 0) {
        *not_cut = 1;
        snprintf(err, errlen, "'%s' has no gap to cut", alt);
        rule_alt_free(&a);
        return NULL;
    }
    char *whole = a.regex;
    chain_oracle *o = calloc(1, sizeof *o);
    int ok = o && chain_set_add(&o->cs, 0, &a.runs) == 0 && chain_set_finish(&o->cs) == 0;
    if (o) {
        o->span = a.span;  /* taken */
        a.span = (span_prog){.either_at = -1};
    }
    if (ok) {
        unsigned zero = 0, ids[RULE_RUNS_MAX];
        for (size_t s = 0; s < o->cs.n_segments; s++)
            ids[s] = (unsigned)s;
        o->whole = compile((const char *const *)&whole, &zero, 1, err, errlen);
        o->runs = o->whole ? compile((const char *const *)o->cs.segments, ids, o->cs.n_segments,
                                     err, errlen)
                           : NULL;
        ok = o->runs && hs_alloc_scratch(o->whole, &o->s_whole) == HS_SUCCESS &&
             hs_alloc_scratch(o->runs, &o->s_runs) == HS_SUCCESS &&
             chain_scan_init(&o->sc, &o->cs) == 0;
    }
    rule_alt_free(&a);
    if (!ok) {
        if (o && !o->runs && !*err)
            snprintf(err, errlen, "out of memory");
        chain_oracle_free(o);
        return NULL;
    }
    return o;
}

static int first_end_cb(unsigned id, unsigned long long from, unsigned long long to,
                        unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)flags;
    uint32_t *first = ctx;
    if (*first == 0 || to < *first)
        *first = (uint32_t)to;
    return 0;
}

static int hit_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                  void *ctx)
{
    (void)from, (void)flags;
    return chain_scan_hit(ctx, id, (uint32_t)to) < 0;
}

static void found(uint32_t pattern, uint32_t start, uint32_t end, void *ctx)
{
    (void)pattern;
    chain_oracle *o = ctx;
    if (o->join_end == 0 || end < o->join_end) {
        o->join_end = end;
        o->join_start = start;
    }
}

int chain_oracle_scan(chain_oracle *o, const char *canon, size_t len, uint32_t *whole,
                      uint32_t *chained)
{
    *whole = *chained = 0;
    if (hs_scan(o->whole, canon, (unsigned)len, 0, o->s_whole, first_end_cb, whole) != HS_SUCCESS)
        return -1;
    chain_scan_begin(&o->sc, canon);
    o->join_end = o->join_start = 0;
    int rc = hs_scan(o->runs, canon, (unsigned)len, 0, o->s_runs, hit_cb, &o->sc) == HS_SUCCESS &&
                     chain_scan_join(&o->sc, &o->cs, found, o) == 0
                 ? 0
                 : -1;
    chain_scan_reset(&o->sc);
    *chained = o->join_end;
    return rc;
}

int chain_oracle_starts(const chain_oracle *o, const char *canon, long *join, long *walk)
{
    if (o->join_end == 0)
        return -1;
    *join = (long)o->join_start;
    *walk = span_start(&o->span, canon, o->join_end);
    return 0;
}

void chain_oracle_free(chain_oracle *o)
{
    if (!o)
        return;
    hs_free_scratch(o->s_whole);
    hs_free_scratch(o->s_runs);
    hs_free_database(o->whole);
    hs_free_database(o->runs);
    chain_scan_free(&o->sc);
    chain_set_free(&o->cs);
    span_prog_free(&o->span);
    free(o);
}
