/*
 * chain_oracle — one rule alternative scanned both ways, for the tests and
 * the chain fuzz target: its whole regex in a database of its own, and its
 * runs of words joined by chain.h. The two must agree on every text: same
 * first end, or both no match.
 */
#ifndef COMPLAINTD_CHAIN_ORACLE_H
#define COMPLAINTD_CHAIN_ORACLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct chain_oracle chain_oracle;

/* For alternative alt (rules/README.md syntax, no masking). NULL with a
 * message in err if it does not translate, does not compile, or has no gap
 * to cut (*not_cut is then set to 1). The caller frees the result. */
chain_oracle *chain_oracle_new(const char *alt, int *not_cut, char *err, size_t errlen);

/* Scan canonical text (" w1 w2 ... ") both ways: the first end of the whole
 * regex and of the joined chain (0: no match). 0, or -1 if a scan failed. */
int chain_oracle_scan(chain_oracle *o, const char *canon, size_t len, uint32_t *whole,
                      uint32_t *chained);

void chain_oracle_free(chain_oracle *o);

/* After a scan that matched: where the join says the chained first match
 * starts (*join) and where span.h's walk back from its end finds it
 * (*walk, -1 if not found). They must agree. 0, or -1 if the last scan's
 * chain did not match. */
int chain_oracle_starts(const chain_oracle *o, const char *canon, long *join, long *walk);

#endif
