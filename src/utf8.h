/*
 * utf8 — the one definition of valid UTF-8 in complaintd: no overlong forms,
 * no surrogates, nothing past U+10FFFF.
 *
 * Two callers need it in two shapes: whole strings (ids and hints of an
 * event, fields echoed into a decision), with utf8_valid; and the
 * normaliser's first pass, which validates the text while it reads it for
 * another reason (normalise.c survey), with the inline step utf8_next. Both
 * go through utf8_next, so they cannot disagree on what valid means.
 * utf8_decode reads text that was validated already.
 */
#ifndef COMPLAINTD_UTF8_H
#define COMPLAINTD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the code point at s[*i] (i < len) into *cp and advance *i past it;
 * -1 if the sequence there is malformed (then *i and *cp are untouched). */
static inline int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    size_t p = *i;
    uint32_t c = s[p], min;
    size_t n;
    if (c < 0x80) {
        *cp = c;
        *i = p + 1;
        return 0;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        c &= 0x07;
        min = 0x10000;
    } else {
        return -1; /* continuation byte, C0/C1 overlong lead, or > U+10FFFF */
    }
    if (len - p - 1 < n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        uint32_t b = s[p + k];
        if ((b & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *cp = c;
    *i = p + 1 + n;
    return 0;
}

/* Decode one code point of text already validated, and advance *i. */
static inline uint32_t utf8_decode(const unsigned char *s, size_t *i)
{
    size_t p = *i;
    uint32_t c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return c;
    }
    if (c < 0xE0) {
        *i = p + 2;
        return ((c & 0x1F) << 6) | (s[p + 1] & 0x3Fu);
    }
    if (c < 0xF0) {
        *i = p + 3;
        return ((c & 0x0F) << 12) | ((s[p + 1] & 0x3Fu) << 6) | (s[p + 2] & 0x3Fu);
    }
    *i = p + 4;
    return ((c & 0x07) << 18) | ((s[p + 1] & 0x3Fu) << 12) | ((s[p + 2] & 0x3Fu) << 6) |
           (s[p + 3] & 0x3Fu);
}

/* The code point of the 1- or 2-byte sequence at s[i] (s[i] < 0xE0, text
 * already validated), and its length. (A branch-free version, selecting with
 * masks, measured 10% slower: the branch predicts well within a word.) */
static inline uint32_t utf8_decode_short(const unsigned char *s, size_t i, unsigned *n /* OUT */)
{
    uint32_t b = s[i];
    if (b < 0x80) {
        *n = 1;
        return b;
    }
    *n = 2;
    return ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
}

/* Is s[0..len) valid UTF-8? */
int utf8_valid(const char *s, size_t len);

/* Is the NUL-terminated s valid UTF-8? NULL counts as valid (no string). */
int utf8_valid_str(const char *s);

#endif
