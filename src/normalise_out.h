/*
 * normalise_out — the normaliser's writers (internal to normalise.c): each
 * canonical byte goes out with the source range it came from, which is the
 * offset map norm_span reads back. Inline, because they run once per
 * character of every event.
 *
 * No writer checks bounds: norm_text sizes the arrays for the largest
 * canonical form of its input first (normalise.c, "Output size").
 */
#ifndef COMPLAINTD_NORMALISE_OUT_H
#define COMPLAINTD_NORMALISE_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "glyph.h"

/* Where canonical bytes go: nb's arrays and the count written. */
typedef struct outbuf {
    char     *text;
    uint32_t *src_start, *src_end;
    size_t    n;
} outbuf;

static inline void out_cp(outbuf *ob, uint32_t cp, uint32_t from, uint32_t to)
{
    char *o = ob->text + ob->n;
    uint32_t *ss = ob->src_start + ob->n, *se = ob->src_end + ob->n;
    if (cp < 0x80) { /* most output is ASCII or 2-byte Cyrillic: no loop */
        o[0] = (char)cp;
        ss[0] = from, se[0] = to;
        ob->n += 1;
        return;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        ss[0] = ss[1] = from, se[0] = se[1] = to;
        ob->n += 2;
        return;
    }
    size_t n;
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    for (size_t k = 0; k < n; k++)
        ss[k] = from, se[k] = to;
    ob->n += n;
}

/* Squeezing: a letter equal to the last one written only widens its source
 * range. '*' goes through here too, so "***" becomes one '*'. */
typedef struct out_squeeze {
    uint32_t prev;    /* last letter written; 0 after a non-letter */
    size_t   prev_at; /* its first output byte */
} out_squeeze;

/* 1 if letter repeats the last one written (its range is widened to end at
 * to, nothing is written); else 0, and letter, about to be written at the
 * end of ob, becomes the last one. always_inline: without it gcc's code for
 * the hot path ran 6% slower (bench_normalise, same minute). */
static inline __attribute__((always_inline)) int out_squeezed(outbuf *ob, out_squeeze *sq,
                                                          uint32_t letter, uint32_t to)
{
    if (letter == sq->prev) {
        for (size_t k = sq->prev_at; k < ob->n; k++)
            ob->src_end[k] = to;
        return 1;
    }
    sq->prev = letter;
    sq->prev_at = ob->n;
    return 0;
}

static inline void out_letter(outbuf *ob, out_squeeze *sq, uint32_t letter, uint32_t from,
                              uint32_t to)
{
    if (!out_squeezed(ob, sq, letter, to))
        out_cp(ob, letter, from, to);
}

/* out_letter() for a letter of the hot table: its UTF-8 bytes are
 * precomputed, and both are stored whatever the length (a 1-byte form's
 * second byte is overwritten by what comes next: the buffer has room, see
 * reserve() in norm_text), so the store does not branch on the script. */
static inline void out_short_letter(outbuf *ob, out_squeeze *sq, const glyph_hot *h, int in,
                                    uint32_t from, uint32_t to)
{
    if (out_squeezed(ob, sq, h->form[in], to))
        return;
    char *o = ob->text + ob->n;
    uint32_t *ss = ob->src_start + ob->n, *se = ob->src_end + ob->n;
    memcpy(o, h->utf8[in], 2);
    ss[0] = ss[1] = from;
    se[0] = se[1] = to;
    ob->n += 1 + (h->utf8[in][1] != 0);
}

static inline void out_nonletter(outbuf *ob, out_squeeze *sq, uint32_t cp, uint32_t from,
                                 uint32_t to)
{
    sq->prev = 0;
    out_cp(ob, cp, from, to);
}

#endif
