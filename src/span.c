/*
 * span — backward matching of a word program; see span.h.
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

typedef struct item {
    const char *s;   /* word glob, or NULL for a gap */
    size_t      len;
    int         gap; /* words a gap may skip */
} item;

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
static int masked_match(const item *it, const char *w, size_t wlen)
{
    const char *star = memchr(w, '*', wlen);
    if (!star || star == w)
        return 0;
    size_t pre = (size_t)(star - w);
    return pre < it->len && memcmp(it->s, w, pre) == 0;
}

static int word_match(const item *it, int masked, const text_words *tw, int k)
{
    if (k >= tw->n)
        return 0;
    return glob_match(it->s, it->len, tw->start[k], tw->len[k]) ||
           (masked && masked_match(it, tw->start[k], tw->len[k]));
}

/* Match items[0..last] right to left, the last item against word k.
 * Returns the index of the word matched by items[0], or -1. */
static int match_back(const item *items, int last, int masked, const text_words *tw, int k)
{
    if (last < 0)
        return k - 1;
    const item *it = &items[last];
    if (it->s) {
        if (!word_match(it, masked, tw, k))
            return -1;
        return last == 0 ? k : match_back(items, last - 1, masked, tw, k + 1);
    }
    for (int skip = 0; skip <= it->gap; skip++) {
        int r = match_back(items, last - 1, masked, tw, k + skip);
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
static int words_reached(const item *items, int n)
{
    int need = 0;
    for (int i = 0; i < n && need < MAX_WORDS; i++) {
        if (items[i].s)
            need++;
        else if (items[i].gap > 0) /* skips 0..gap words */
            need += items[i].gap < MAX_WORDS ? items[i].gap : MAX_WORDS;
    }
    return need;
}

static int parse(const char *prog, item *items, int *either_at)
{
    int n = 0;
    *either_at = -1;
    for (const char *p = prog; *p && n < MAX_ITEMS;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ' ')
            q++;
        item it = {p, (size_t)(q - p), 0};
        if (*p == '~') {
            const char *d = p + 1;
            if (*d == '~') {
                *either_at = n;
                d++;
            }
            it.s = NULL;
            it.gap = atoi(d);
        }
        items[n++] = it;
        p = q;
    }
    return n;
}

long span_start(const char *prog, int masked, const char *text, size_t end)
{
    item items[MAX_ITEMS], swapped[MAX_ITEMS];
    int either_at;
    int n = parse(prog, items, &either_at);
    text_words tw;
    words_before(text, end, words_reached(items, n), &tw);
    int first = match_back(items, n - 1, masked, &tw, 0);
    if (first < 0 && either_at >= 0) {
        /* "A ~~N B" matched as "B ~N A". */
        int m = 0;
        for (int i = either_at + 1; i < n; i++)
            swapped[m++] = items[i];
        swapped[m++] = items[either_at];
        for (int i = 0; i < either_at; i++)
            swapped[m++] = items[i];
        first = match_back(swapped, m - 1, masked, &tw, 0);
    }
    return first < 0 ? -1 : (long)(tw.start[first] - text);
}
