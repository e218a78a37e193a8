/*
 * span — where a rule's match starts, found after the scan.
 *
 * Hyperscan can report the start of every match (HS_FLAG_SOM_LEFTMOST), but
 * on our pack that costs five times the compile time and six times the
 * database size (47 s / 52 MB against 10 s / 9 MB for 6,000 patterns), and
 * slows every scan. Only the few rules that fire need a start, so the scan
 * reports ends only, and this module walks back from the end over the
 * canonical words with the alternative's word program.
 *
 * A program is the canonical form of one alternative: words as globs ('*' =
 * any letters) separated by spaces, gaps as "~N", either order as "~~N":
 * "дур* ~2 ты", "refund* ~~4 review*". rule_regex builds it beside the regex.
 */
#ifndef COMPLAINTD_SPAN_H
#define COMPLAINTD_SPAN_H

#include <stddef.h>

/* The offset in text of the first word of a match of prog that ends at end
 * (one past its trailing space), or -1 if none is found. masked: the rule
 * accepts masked spellings ("f*k"). */
long span_start(const char *prog, int masked, const char *text, size_t end);

#endif
