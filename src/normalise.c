/*
 * normalise — raw complaint text -> canonical bytes; the form is specified in
 * normalise.h.
 *
 * DESIGN
 *
 * Runs on every event, so: two passes over the input, no allocation once the
 * buffer has grown, no locale. UTF-8 is decoded by hand (utf8.h) and every
 * code point is looked up in the tables of glyph.h, which say what it is
 * (letter, digit, glue, ...), which script it proves, and how it is written
 * in a Latin word and in a Cyrillic word. The letters of a word, which are
 * most of the work, are written straight from the compact hot table, and the
 * switch over classes is left for what interrupts a run of letters. The
 * writers, which keep each canonical byte's source range, are in
 * normalise_out.h.
 *
 *   1. survey: validate UTF-8 and sum the letters that prove a script
 *      (+1 Cyrillic, -1 Latin; look-alikes prove nothing). The sign is the
 *      text's script, used for words made only of look-alikes ("cyka",
 *      "cop", "ок"), which say nothing about their own script.
 *   2. write, token by token. A token is a run of letters, digits and @ $,
 *      with '*' and apostrophes allowed only between them. A word is written
 *      as it is read, in the script of the word before, while its own
 *      letters are summed; if they prove the other script, the output is
 *      rewound and the word written again. Squeezing happens as letters are
 *      written, so *after* mapping ("дуpppа": Latin p p p -> р, one р).
 *      Rewriting the first word of each language run is cheaper than
 *      buffering every word, and needs no memory but the output arrays,
 *      which are all norm_buf (the contract) owns.
 *
 * Single letters split by separators ("д.у.р.а", "k u r w a") are the one
 * place that needs look-ahead: at a single-letter token we read on while the
 * next tokens are single letters behind a gap of the *same kind* as the
 * first: tight glue (". - _ ·"), glue with spaces (". "), or spaces alone.
 * An obfuscator types one kind throughout; abbreviations change kind and so
 * do not chain ("и т.д. и т.п.": "." then ". "). Glue joins from 3 letters,
 * plain spaces from 4, because Russian has one-letter words ("а я в шоке"
 * must stay four words).
 *
 * Decisions the header leaves open:
 *   - '*' counts as a mask only *between* word characters ("f**k", "п***ц");
 *     at a word's edge it is punctuation, so markdown bold "**дура**" and a
 *     footnote "price*" still match their words (a masked rule form needs
 *     letters on both sides of the '*' anyway).
 *   - Digits swap for letters only inside words; two or more digits at a
 *     word's edge are a quantity and stay ("10kg", "500zł", "covid19").
 *   - Invisible characters (zero-width space, soft hyphen, combining marks
 *     such as the Russian stress mark) are dropped without splitting the
 *     word; fullwidth Latin (ｆｕｃｋ) is read as ASCII.
 *
 * Output size: a word of k input bytes gives at most 2k bytes (an ASCII
 * look-alike or digit becomes a 2-byte Cyrillic letter) and each word is
 * preceded by at least one input byte of gap, so the canonical text never
 * exceeds 2 * len + 2 bytes; the buffer is sized for that once per call and
 * the writers need no bounds checks.
 *
 * Offsets: every canonical byte carries the source range of the character
 * it came from; a squeezed run widens the survivor's range to the whole run,
 * a '*' covers its whole run of stars, and a separating space covers the gap
 * between the two words.
 */
#include "normalise.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "glyph.h"
#include "normalise_out.h"
#include "utf8.h"

static inline bool starts_word(int cls)
{
    return cls == C_LETTER || cls == C_DIGIT || cls == C_SYM;
}

static inline glyph next_char(const unsigned char *s, size_t *i)
{
    return glyph_of(utf8_decode(s, i));
}

static inline int script_of_lean(long lean)
{
    return lean > 0 ? SC_CYRILLIC : lean < 0 ? SC_LATIN : SC_NONE;
}

/* Pass 1: validate, and find the script most unambiguous letters are in. */
static int survey(const unsigned char *s, size_t len, int *script /* OUT */)
{
    long lean = 0;
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        unsigned b = s[i];
        if (b < 0x80) {
            lean += glyph_hot_table[b].lean;
            i++;
        } else if (b >= 0xC2 && b <= 0xDF && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            /* 2 bytes (Cyrillic, Polish): can be neither overlong nor a surrogate */
            lean += glyph_hot_table[((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu)].lean;
            i += 2;
        } else if (utf8_next(s, len, &i, &cp) < 0) {
            return NORM_EUTF8;
        } else {
            lean += glyph_of(cp).lean;
        }
    }
    *script = script_of_lean(lean);
    return NORM_OK;
}

/* ------------------------------------------------------------------- tokens */

typedef struct ctx {
    const unsigned char *src;
    size_t len;
    int    text_script; /* from survey(): decides look-alike-only words */
    int    guess;       /* IN_*: words are first written in the last word's script */
    outbuf out;
    size_t space_at;    /* the last space written; its gap end is not known yet */
} ctx;

typedef struct token {
    size_t   start, end; /* source bytes; end is past the last visible char */
    uint32_t n_visible;  /* letters, digits, @ $ */
    uint32_t n_letters;
    int32_t  lean;       /* sum of the letters' leans: > 0 Cyrillic, < 0 Latin */
} token;

/* Does a word go on after i? If a word character follows, skipping
 * invisibles and a run of '*' or apostrophes (which are then inside the
 * word), return where it starts; else 0. */
static size_t word_goes_on(const ctx *c, size_t i)
{
    while (i < c->len) {
        size_t at = i;
        glyph u = next_char(c->src, &i);
        if (starts_word(u.cls))
            return at;
        if (u.cls != C_MASK && u.cls != C_APOS && u.cls != C_IGNORE)
            return 0;
    }
    return 0;
}

/* The run of digits at i: returns its end and sets *n to its length. */
static size_t digit_run(const ctx *c, size_t i, uint32_t *n /* OUT */)
{
    size_t end = i;
    *n = 0;
    while (i < c->len) {
        glyph u = next_char(c->src, &i);
        if (u.cls == C_DIGIT)
            ++*n, end = i;
        else if (u.cls != C_IGNORE)
            break;
    }
    return end;
}

enum gap_kind {
    GAP_SPACE,       /* spaces only */
    GAP_GLUE,        /* glue only: "д.у.р.а", "i-d-i-o-t" */
    GAP_SPACED_GLUE, /* glue and spaces: "Д. У. Р. А." */
    GAP_OTHER,       /* anything else, or the end of the text: never joins */
};

/* Skip the gap at i; return where the next token starts (len if none). */
static size_t skip_gap(const ctx *c, size_t i, int *kind /* OUT, may be NULL */)
{
    bool glue = false, space = false, other = false;
    size_t at = i;
    while (i < c->len) {
        at = i;
        glyph spare;
        int cls = glyph_lookup(utf8_decode(c->src, &i), &spare)->cls;
        if (starts_word(cls))
            break;
        at = i;
        if (cls == C_GLUE)
            glue = true;
        else if (cls == C_SPACE)
            space = true;
        else if (cls != C_IGNORE)
            other = true;
    }
    if (kind)
        *kind = other || at == c->len ? GAP_OTHER
              : !glue                 ? GAP_SPACE
              : space                 ? GAP_SPACED_GLUE
                                      : GAP_GLUE;
    return at;
}

/* ------------------------------------------------------------------- output */

static void begin_word(ctx *c, size_t at) { c->out.src_end[c->space_at] = (uint32_t)at; }

static void end_word(ctx *c, size_t at)
{
    c->space_at = c->out.n;
    out_cp(&c->out, ' ', (uint32_t)at, (uint32_t)at); /* the gap's end: set by the next word */
}

/* ------------------------------------------------------------------- words */

/* Write the token at `start` as a word of script `in` (IN_*), and count it. */
static void write_token(ctx *c, size_t start, int in, token *out /* OUT */)
{
    token t = {.start = start, .end = start};
    out_squeeze sq = {0, 0};
    /* A local copy, so the count stays in a register: stores to the text
     * (char) could otherwise alias c->out and force a reload per char. */
    outbuf ob = c->out;
    size_t inner_until = start; /* marks before this are inside the word */
    size_t digits_until = start; /* end of the current digit run */
    bool number = false;        /* is that run a number at the word's edge? */

    const unsigned char *src = c->src;
    const size_t len = c->len;

    for (size_t i = start; i < len;) {
        size_t at = i;
        /* Most of a word is letters of 1- and 2-byte UTF-8: take them
         * straight from the hot table, without the switch. */
        if (src[i] < 0xE0) {
            unsigned n;
            const glyph_hot *h = &glyph_hot_table[utf8_decode_short(src, i, &n)];
            if (h->cls == C_LETTER) {
                i += n;
                t.n_letters++;
                t.lean += h->lean;
                out_short_letter(&ob, &sq, h, in, (uint32_t)at, (uint32_t)i);
                t.n_visible++;
                t.end = i;
                continue;
            }
            if (h->ends_token) /* the space or punctuation after the word */
                break;
        }
        glyph spare;
        const glyph *u = glyph_lookup(utf8_decode(src, &i), &spare);
        uint32_t f = u->form[in];
        switch (u->cls) {
        case C_LETTER:
            t.n_letters++;
            t.lean += u->lean;
            out_letter(&ob, &sq, f, (uint32_t)at, (uint32_t)i);
            break;
        case C_DIGIT:
            if (at >= digits_until) {
                /* Two or more digits at a word's edge are a quantity ("10kg",
                 * "covid19"), not a disguise: they stay digits. */
                uint32_t n;
                digits_until = digit_run(c, at, &n);
                number = n >= 2 && (t.n_visible == 0 || !word_goes_on(c, digits_until));
            }
            if (number)
                f = u->cp;
            /* fall through */
        case C_SYM:
            if (f == u->cp) /* a digit kept, or $ in a Cyrillic word */
                out_nonletter(&ob, &sq, f, (uint32_t)at, (uint32_t)i);
            else
                out_letter(&ob, &sq, f, (uint32_t)at, (uint32_t)i);
            break;
        case C_MASK:
        case C_APOS:
            if (at >= inner_until && !(inner_until = word_goes_on(c, at)))
                goto done;
            if (u->cls == C_MASK)
                out_letter(&ob, &sq, '*', (uint32_t)at, (uint32_t)i);
            continue; /* apostrophes are dropped */
        case C_IGNORE:
            continue;
        default:
            goto done;
        }
        t.n_visible++;
        t.end = i;
    }
done:
    c->out = ob;
    *out = t;
}

/* A token without letters ("0", "100$", "12*3"): its digit runs are words,
 * the rest is punctuation. */
static void write_numbers(ctx *c, const token *t)
{
    bool in_word = false;
    for (size_t i = t->start; i < t->end;) {
        size_t at = i;
        glyph u = next_char(c->src, &i);
        if (u.cls == C_DIGIT) {
            if (!in_word)
                begin_word(c, at);
            in_word = true;
            out_cp(&c->out, u.cp, (uint32_t)at, (uint32_t)i);
        } else if (u.cls != C_IGNORE && in_word) {
            end_word(c, at);
            in_word = false;
        }
    }
    if (in_word)
        end_word(c, t->end);
}

/* The letters of a joined run ("д.у.р.а") as one word; glue is skipped. */
static void write_joined(ctx *c, const token *run, int in)
{
    out_squeeze sq = {0, 0};
    for (size_t i = run->start; i < run->end;) {
        size_t at = i;
        glyph u = next_char(c->src, &i);
        if (u.cls == C_LETTER)
            out_letter(&c->out, &sq, u.form[in], (uint32_t)at, (uint32_t)i);
    }
}

/* Nothing in the whole text proves a script (a rule word like "ок" alone):
 * go by the code points the word was typed in. Rare: rescan. */
static int typed_in(const ctx *c, const token *t)
{
    long typed = 0;
    for (size_t i = t->start; i < t->end;) {
        glyph u = next_char(c->src, &i);
        typed += u.script == SC_CYRILLIC ? 1 : u.script == SC_LATIN ? -1 : 0;
    }
    return typed > 0 ? IN_CYRILLIC : IN_LATIN;
}

/* The script a word is written in: its own letters' lean, else the text's.
 * Inline: it runs once a word, and mostly the first test decides. */
static inline int word_in(const ctx *c, const token *t)
{
    int script = script_of_lean(t->lean);
    if (script == SC_NONE)
        script = c->text_script;
    if (script == SC_NONE)
        return typed_in(c, t);
    return script == SC_CYRILLIC ? IN_CYRILLIC : IN_LATIN;
}

/* Is there a single-letter token at i? Sets its end and lean. */
static bool single_letter_at(const ctx *c, size_t i, size_t *end, int *lean)
{
    glyph u = next_char(c->src, &i);
    if (u.cls != C_LETTER)
        return false;
    *end = i;
    *lean = u.lean;
    return !word_goes_on(c, i);
}

/* The single letter `first` and those that follow it behind gaps of one
 * kind: 3 or more letters behind glue, or 4 or more behind spaces alone,
 * become one word. Returns the run, or just `first` if it does not join. */
static token letter_run(const ctx *c, const token *first)
{
    token run = *first;
    int kind, k;
    size_t at = skip_gap(c, first->end, &kind);
    size_t end;
    int lean;
    while (kind != GAP_OTHER && single_letter_at(c, at, &end, &lean)) {
        run.end = end;
        run.n_visible++, run.n_letters++;
        run.lean += lean;
        at = skip_gap(c, end, &k);
        if (k != kind)
            break;
    }
    return run.n_letters >= (kind == GAP_SPACE ? 4u : 3u) ? run : *first;
}

/* Write the token at `start` and return where it ends.
 *
 * The word is written as it is read, in the script of the word before
 * (languages come in runs of sentences); when it turns out to be in the other
 * script, or a number, or a run of single letters, the output is rewound to
 * the word's start and it is written again. The guess never changes the
 * result, only the cost: a second read for the first word of each run,
 * instead of buffering every word. */
static size_t write_word(ctx *c, size_t start)
{
    size_t word_at = c->out.n;
    token t;
    begin_word(c, start);
    write_token(c, start, c->guess, &t);
    if (t.n_letters == 0) {
        c->out.n = word_at;
        write_numbers(c, &t);
        return t.end;
    }
    if (t.n_visible == 1) {
        token run = letter_run(c, &t);
        if (run.end != t.end) {
            c->out.n = word_at;
            write_joined(c, &run, word_in(c, &run));
            end_word(c, run.end);
            return run.end;
        }
    }
    int in = word_in(c, &t);
    if (in != c->guess) {
        c->out.n = word_at;
        write_token(c, start, in, &t);
        c->guess = in;
    }
    end_word(c, t.end);
    return t.end;
}

/* -------------------------------------------------------------------- buffer */

void norm_buf_init(norm_buf *nb) { memset(nb, 0, sizeof *nb); }

void norm_buf_free(norm_buf *nb)
{
    if (!nb)
        return;
    free(nb->text);
    free(nb->src_start);
    free(nb->src_end);
    memset(nb, 0, sizeof *nb);
}

/* Room for `need` canonical bytes (and the NUL). Grows only; arrays that did
 * grow before a failure stay valid, cap is raised only when all three did. */
static int reserve(norm_buf *nb, size_t need)
{
    if (need <= nb->cap)
        return 0;
    size_t cap = nb->cap ? nb->cap : 256;
    while (cap < need)
        cap *= 2;
    char *text = realloc(nb->text, cap + 1);
    if (!text)
        return -1;
    nb->text = text;
    uint32_t *ss = realloc(nb->src_start, cap * sizeof *ss);
    if (!ss)
        return -1;
    nb->src_start = ss;
    uint32_t *se = realloc(nb->src_end, cap * sizeof *se);
    if (!se)
        return -1;
    nb->src_end = se;
    nb->cap = cap;
    return 0;
}

static int fail(norm_buf *nb, int rc)
{
    nb->len = 0;
    if (nb->text)
        nb->text[0] = '\0';
    return rc;
}

int norm_text(norm_buf *nb, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    int text_script;
    glyph_init();
    if (len > UINT32_MAX - 1)
        return fail(nb, NORM_ETOOBIG);
    if (len > (SIZE_MAX / sizeof(uint32_t) - 2) / 2)
        return fail(nb, NORM_ENOMEM);
    if (survey(s, len, &text_script) != NORM_OK)
        return fail(nb, NORM_EUTF8);
    if (reserve(nb, 2 * len + 3) < 0) /* + 1: out_short_letter's spare byte */
        return fail(nb, NORM_ENOMEM);

    ctx c = {.src = s, .len = len, .text_script = text_script,
             .guess = text_script == SC_CYRILLIC ? IN_CYRILLIC : IN_LATIN,
             .out = {nb->text, nb->src_start, nb->src_end, 0}};
    out_cp(&c.out, ' ', 0, 0);
    for (size_t i = skip_gap(&c, 0, NULL); i < len; i = skip_gap(&c, i, NULL))
        i = write_word(&c, i);
    c.out.src_end[c.space_at] = (uint32_t)len;
    assert(c.out.n <= 2 * len + 2);
    c.out.text[c.out.n] = '\0';
    nb->len = c.out.n;
    return NORM_OK;
}

int norm_span(const norm_buf *nb, size_t cstart, size_t cend, uint32_t *orig_start,
              uint32_t *orig_end)
{
    if (cend > nb->len)
        cend = nb->len;
    while (cstart < cend && nb->text[cstart] == ' ')
        cstart++;
    while (cend > cstart && nb->text[cend - 1] == ' ')
        cend--;
    if (cstart >= cend)
        return -1;
    *orig_start = nb->src_start[cstart];
    *orig_end = nb->src_end[cend - 1];
    return 0;
}
