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

#endif
