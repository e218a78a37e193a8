/*
 * rule_regex — parse one alternative of a rule expression (rules/README.md)
 * once, into everything the classifier needs of it (rule_alt): the Hyperscan
 * regex over canonical text (normalise.h), its runs of words for the chain
 * scan (chain.h) and its span program (span.h).
 *
 * Canonical text is " w1 w2 ... wn ", so a word is a run of non-space bytes
 * between two spaces, and every pattern starts and ends on a space: whole
 * words only, without \b (which UCP mode refuses anyway). Bytes outside
 * printable ASCII are written as \xHH so the regex is pure ASCII and needs no
 * UTF-8 mode.
 */
#ifndef COMPLAINTD_RULE_REGEX_H
#define COMPLAINTD_RULE_REGEX_H

#include <stddef.h>

#include "span.h"

/*
 * An alternative cut at its word gaps, for the scan (chain.h). A gap
 * "(?:[^ ]+ ){0,n}" costs Hyperscan several times what the words around it
 * do, so an alternative "A ~n B ~m C" is scanned as its runs of words
 * " A ", " B ", " C ", and the gaps are checked afterwards by counting words.
 * Each run's regex starts and ends on a space; words[i] is how many words it
 * spans (a word never holds a space, so this is fixed), gap_before[i] the
 * largest number of words allowed between run i-1 and run i.
 */
enum { RULE_RUNS_MAX = 32 };

typedef struct rule_runs {
    size_t   n;                          /* 0: the alternative is not cut */
    char    *regex[RULE_RUNS_MAX];       /* owned (rule_runs_free) */
    unsigned words[RULE_RUNS_MAX];
    unsigned gap_before[RULE_RUNS_MAX];  /* [0] unused */
} rule_runs;

void rule_runs_free(rule_runs *r);

/* One alternative, compiled. Alternatives without a gap, and those with an
 * either-order gap "~~N" (whose regex is an alternation of both orders), are
 * not cut: runs.n = 0. */
typedef struct rule_alt {
    char      *regex;  /* owned: the whole alternative */
    rule_runs  runs;   /* owned */
    span_prog  span;   /* owned */
} rule_alt;

/* Parse alt (one alternative, no '|'). mask: also match masked spellings
 * of literal words (rules/README.md). Returns 0, or -1 with a message in err
 * (then out holds nothing). The caller frees out with rule_alt_free, or
 * takes its parts. */
int rule_alt_compile(const char *alt, int mask, rule_alt *out, char *err, size_t errlen);
void rule_alt_free(rule_alt *a);

/* Only the regex of alt (malloc'd; the caller frees it), or NULL with a
 * message in err: for tests and tools that need no more. */
char *rule_regex(const char *alt, int mask, char *err, size_t errlen);

#endif
