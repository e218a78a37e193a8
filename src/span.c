/*
 * span — backward matching of a span program; see span.h.
 *
 * The scan already proved that the alternative matches and where it ends,
 * so this only has to find which words it covered: it takes the words that
 * end there, newest first, and matches the program right to left, trying each
 * gap length, and both orders for "~~N".
 */
#include "span.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_WORDS = 128, MAX_ITEMS = 64 };

typedef struct text_words {
    const char *start[MAX_WORDS];  /* [0] is the last word of the match */
    size_t      len[MAX_WORDS];
    int         n;
} text_words;

/* '*' matches any run of bytes (the canonical text has no spaces in a word). */
static int glob_match(const char *g, size_t glen, const char *w, size_t wlen)
{
    size_t gi = 0, wi = 0, star = (size_t)-1, mark = 0;
    while (wi < wlen) {
        if (gi < glen && g[gi] == '*') {
            star = gi++;
            mark = wi;
        } else if (gi < glen && g[gi] == w[wi]) {
            gi++;
            wi++;
        } else if (star != (size_t)-1) {
            gi = star + 1;
            wi = ++mark;
        } else {
            return 0;
        }
    }
    while (gi < glen && g[gi] == '*')
        gi++;
    return gi == glen;
}

/* A masked spelling ("f*k" for "fuck"): the letters before the mask start
 * the glob. The scan already checked the rest. */
static int masked_match(const char *g, size_t glen, const char *w, size_t wlen)
{
    const char *star = memchr(w, '*', wlen);
    if (!star || star == w)
        return 0;
    size_t pre = (size_t)(star - w);
    return pre < glen && memcmp(g, w, pre) == 0;
}

static int word_match(const span_prog *p, const span_item *it, const text_words *tw, int k)
{
    if (k >= tw->n)
        return 0;
    const char *g = p->words + it->off;
    return glob_match(g, it->len, tw->start[k], tw->len[k]) ||
           (p->masked && masked_match(g, it->len, tw->start[k], tw->len[k]));
}

/* Match items[0..last] right to left, the last item against word k.
 * Returns the index of the word matched by items[0], or -1. */
static int match_back(const span_prog *p, const span_item *items, int last, const text_words *tw,
                      int k)
{
    if (last < 0)
        return k - 1;
    const span_item *it = &items[last];
    if (it->gap < 0) {
        if (!word_match(p, it, tw, k))
            return -1;
        return last == 0 ? k : match_back(p, items, last - 1, tw, k + 1);
    }
    for (int skip = 0; skip <= it->gap; skip++) {
        int r = match_back(p, items, last - 1, tw, k + skip);
        if (r >= 0)
            return r;
    }
    return -1;
}

/* The words of text that end at end, last first: at most `need`, as many
 * as the program can reach (walking back further only cost time, over the
 * whole text when the match is near its end). */
static void words_before(const char *text, size_t end, int need, text_words *tw)
{
    tw->n = 0;
    size_t i = end;
    if (need > MAX_WORDS)
        need = MAX_WORDS;
    while (i > 0 && tw->n < need) {
        while (i > 0 && text[i - 1] == ' ')
            i--;
        size_t stop = i;
        while (i > 0 && text[i - 1] != ' ')
            i--;
        if (stop == i)
            break;
        tw->start[tw->n] = text + i;
        tw->len[tw->n] = stop - i;
        tw->n++;
    }
}

/* How many words, counted back from the match's end, match_back can look at
 * for these items (in either order): one per word, plus every gap's skip. */
static int words_reached(const span_item *items, int n)
{
    int need = 0;
    for (int i = 0; i < n && need < MAX_WORDS; i++) {
        if (items[i].gap < 0)
            need++;
        else if (items[i].gap > 0) /* skips 0..gap words */
            need += items[i].gap < MAX_WORDS ? items[i].gap : MAX_WORDS;
    }
    return need;
}

long span_start(const span_prog *p, const char *text, size_t end)
{
    int n = p->n < MAX_ITEMS ? p->n : MAX_ITEMS;
    if (n == 0)
        return -1;
    text_words tw;
    words_before(text, end, words_reached(p->items, n), &tw);
    int first = match_back(p, p->items, n - 1, &tw, 0);
    if (first < 0 && p->either_at >= 0 && p->either_at < n) {
        /* "A ~~N B" matched as "B ~N A". */
        span_item swapped[MAX_ITEMS];
        int m = 0, at = p->either_at;
        for (int i = at + 1; i < n; i++)
            swapped[m++] = p->items[i];
        swapped[m++] = p->items[at];
        for (int i = 0; i < at; i++)
            swapped[m++] = p->items[i];
        first = match_back(p, swapped, m - 1, &tw, 0);
    }
    return first < 0 ? -1 : (long)(tw.start[first] - text);
}

void span_prog_free(span_prog *p)
{
    free(p->words);
    free(p->items);
    memset(p, 0, sizeof *p);
    p->either_at = -1;
}
