/*
 * span — where a rule's match starts, found after the scan.
 *
 * Hyperscan can report the start of every match (HS_FLAG_SOM_LEFTMOST), but
 * on our pack that costs five times the compile time and six times the
 * database size (47 s / 52 MB against 10 s / 9 MB for 6,000 patterns), and
 * slows every scan. Only the few rules that fire need a start, so the scan
 * reports ends only. Alternatives scanned as chains get their start from the
 * join (chain.h); for the others this module walks back from the end over
 * the canonical words with the alternative's span program.
 *
 * A span program is one alternative, parsed once at load (rule_regex.h):
 * its words as canonical globs ('*' = any letters) and its gaps, in the
 * order written ("дур* ~2 ты", "refund* ~~4 review*").
 */
#ifndef COMPLAINTD_SPAN_H
#define COMPLAINTD_SPAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct span_item {
    uint32_t off;  /* a word: its glob is words[off, off + len) */
    uint16_t len;
    int16_t  gap;  /* -1: a word; >= 0: a gap of at most gap words */
} span_item;

typedef struct span_prog {
    char      *words;     /* owned; the globs, back to back (not NUL-separated) */
    span_item *items;     /* owned; [n] */
    uint16_t   n;
    int16_t    either_at; /* index of the "~~N" gap (either order), or -1 */
    uint8_t    masked;    /* the rule accepts masked spellings ("f*k") */
} span_prog;

/* The offset in text of the first word of a match of p that ends at end
 * (one past its trailing space), or -1 if none is found. */
long span_start(const span_prog *p, const char *text, size_t end);

void span_prog_free(span_prog *p);

#endif
