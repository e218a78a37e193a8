/*
 * rule_regex — translate one alternative of a rule expression (rules/README.md)
 * into a Hyperscan regex over canonical text (normalise.h).
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

/* Translate alt (one alternative, no '|') into a regex. mask: also match
 * masked spellings of literal words (rules/README.md). Returns a malloc'd
 * string the caller frees, or NULL with a message in err. If prog is not
 * NULL, *prog gets the alternative's word program for span.h (malloc'd). */
char *rule_regex(const char *alt, int mask, char **prog, char *err, size_t errlen);

/*
 * The same alternative cut at its word gaps, for the scan (chain.h). A gap
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

/* Cut alt (already accepted by rule_regex with the same mask) at its gaps.
 * Alternatives without a gap, and those with an either-order gap "~~N"
 * (whose regex is an alternation of both orders), are left whole: out->n = 0.
 * Returns 0, or -1 with a message in err (out of memory). */
int rule_regex_runs(const char *alt, int mask, rule_runs *out, char *err, size_t errlen);
void rule_runs_free(rule_runs *r);

#endif
