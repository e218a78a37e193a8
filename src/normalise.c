/*
 * normalise — raw complaint text -> canonical bytes; the form is specified in
 * normalise.h.
 *
 * DESIGN
 *
 * Runs on every event, so: two passes over the input, no allocation once the
 * buffer has grown, no locale. UTF-8 is decoded by hand and every code point
 * is looked up in one table that says what it is (letter, digit, glue, ...),
 * which script it proves, and how it is written in a Latin word and in a
 * Cyrillic word (folded, diacritics stripped, look-alike or digit swapped).
 * The table is built once from the readable classify_* functions below; it
 * covers U+0000..U+052F (ASCII to Cyrillic), the rest goes through the
 * functions. A second, compact table (hot[]) holds what the per-character
 * loops need for every 1- and 2-byte code point: the letters of a word, which
 * are most of the work, are written straight from it, and the switch over
 * classes is left for what interrupts a run of letters.
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
#define _POSIX_C_SOURCE 200809L /* pthread_once */
#include "normalise.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ classes */

/* The enum values are the characters of ascii_class, so the table reads as
 * text. */
enum cclass {
    C_PUNCT = 'p',  /* word boundary */
    C_SPACE = 's',  /* horizontal space: a boundary; may glue spaced letters */
    C_BREAK = 'n',  /* line break: a boundary that never glues */
    C_GLUE = 'j',   /* . - _ · : a boundary, or glue between single letters */
    C_APOS = 'q',   /* apostrophe: dropped inside a word, else a boundary */
    C_MASK = 'm',   /* '*': one '*' inside a word, else a boundary */
    C_SYM = 'y',    /* @ $: stand-ins for letters inside a word */
    C_DIGIT = 'd',
    C_LETTER = 'L',
    C_IGNORE = 'i', /* invisible or combining mark: dropped, does not split */
};

enum script { SC_NONE, SC_LATIN, SC_CYRILLIC, SC_OTHER };

/* Index of uchar.form: how a character is written in a word of a script. */
enum { IN_LATIN = 0, IN_CYRILLIC = 1 };

static const char ascii_class[] =
    /* 0x00 */ "pppppppppsnnnnpp"
    /* 0x10 */ "pppppppppppppppp"
    /* 0x20    " !"#$%&'()*+,-./ */
    /*       */ "spppyppqppmppjjp"
    /* 0x30 */ "ddddddddddpppppp"
    /* 0x40    @ A-O */
    /*       */ "yLLLLLLLLLLLLLLL"
    /* 0x50    P-Z [\]^_ */
    /*       */ "LLLLLLLLLLLppppj"
    /* 0x60    ` a-o */
    /*       */ "qLLLLLLLLLLLLLLL"
    /* 0x70    p-z {|}~DEL */
    /*       */ "LLLLLLLLLLLppppp";
_Static_assert(sizeof ascii_class == 0x80 + 1, "one class per ASCII byte");

/* Folds of U+00C0..U+017F: the base letter; '.' keeps the letter (lower
 * case), '#' is not a letter (× ÷). */
static const char latin_fold[] =
    /* C0 ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏ */ "aaaaaa.ceeeeiiii"
    /* D0 ÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞß */ "dnooooo#ouuuuy.."
    /* E0 àáâãäåæçèéêëìíîï */ "aaaaaa.ceeeeiiii"
    /* F0 ðñòóôõö÷øùúûüýþÿ */ "dnooooo#ouuuuy.y"
    /* 100 Ā..ą ć..č ď..đ   */ "aaaaaa" "cccccccc" "dddd"
    /* 112 Ē..ě Ĝ..ģ Ĥ..ħ   */ "eeeeeeeeee" "gggggggg" "hhhh"
    /* 128 Ĩ..ı Ĳĳ Ĵĵ Ķķĸ   */ "iiiiiiiiii" ".." "jj" "kkk"
    /* 139 Ĺ..ł Ń..ŋ        */ "llllllllll" "nnnnnnnnn"
    /* 14C Ō..ő Œœ Ŕ..ř     */ "oooooo" ".." "rrrrrr"
    /* 15A Ś..š Ţ..ŧ        */ "ssssssss" "tttttt"
    /* 168 Ũ..ų Ŵŵ Ŷŷ Ÿ      */ "uuuuuuuuuuuu" "ww" "yyy"
    /* 179 Ź..ž ſ           */ "zzzzzz" "s";
_Static_assert(sizeof latin_fold == 0x180 - 0xC0 + 1, "one fold per U+00C0..U+017F");

/* Look-alikes: Cyrillic U+0430..U+045F -> Latin twin ('.' for none), and
 * back. The two tables list the same thirteen pairs. */
static const char cyr_twin[] =
    /* 430 абвгдежзийклмноп */ "a.b..e....k.mho."
    /* 440 рстуфхцчшщъыьэюя */ "pcty.x.........."
    /* 450 ѐёђѓєѕіїјљњћќѝўџ */ "......i.........";
_Static_assert(sizeof cyr_twin == 0x30 + 1, "one twin per U+0430..U+045F");

static const uint16_t latin_twin[26] = {
    ['a' - 'a'] = 0x430, ['b' - 'a'] = 0x432, ['c' - 'a'] = 0x441, ['e' - 'a'] = 0x435,
    ['h' - 'a'] = 0x43D, ['i' - 'a'] = 0x456, ['k' - 'a'] = 0x43A, ['m' - 'a'] = 0x43C,
    ['o' - 'a'] = 0x43E, ['p' - 'a'] = 0x440, ['t' - 'a'] = 0x442, ['x' - 'a'] = 0x445,
    ['y' - 'a'] = 0x443,
};

/* Digits and @ $ in a word: the letter they stand for, per script. */
static uint32_t symbol_as_letter(uint32_t c, int in)
{
    if (in == IN_CYRILLIC) {
        switch (c) {
        case '0': return 0x43E; /* о */
        case '3': return 0x437; /* з */
        case '4': return 0x447; /* ч */
        case '6': return 0x431; /* б */
        case '@': return 0x430; /* а */
        }
    } else {
        switch (c) {
        case '0': return 'o';
        case '1': return 'i';
        case '3': return 'e';
        case '4': case '@': return 'a';
        case '5': case '$': return 's';
        }
    }
    return c; /* no swap: stays itself */
}

/* One classified character. */
typedef struct uchar {
    uint32_t cp;      /* letters: lower case, diacritics stripped */
    uint32_t form[2]; /* as written in a Latin / Cyrillic word (IN_*) */
    uint8_t  cls;     /* enum cclass */
    uint8_t  script;  /* letters only */
    int8_t   lean;    /* +1 proves Cyrillic, -1 proves Latin, 0 (look-alikes) neither */
} uchar;

/* A character before its forms are filled in; twin: a plain look-alike,
 * which proves nothing about its script. */
static uchar mk(uint32_t cp, int cls, int script, int twin)
{
    int lean = twin ? 0 : script == SC_CYRILLIC ? 1 : script == SC_LATIN ? -1 : 0;
    uchar u = {cp, {cp, cp}, (uint8_t)cls, (uint8_t)script, (int8_t)lean};
    return u;
}

static uchar classify_ascii(uint32_t c)
{
    int cls = ascii_class[c];
    if (cls != C_LETTER)
        return mk(c, cls, SC_NONE, 0);
    c |= 0x20;
    return mk(c, C_LETTER, SC_LATIN, latin_twin[c - 'a'] != 0);
}

static uchar classify_latin(uint32_t cp)
{
    char f = latin_fold[cp - 0xC0];
    if (f == '#')
        return mk(cp, C_PUNCT, SC_NONE, 0);
    if (f != '.') /* ó is Latin for sure, though it folds to a look-alike */
        return mk((uint32_t)f, C_LETTER, SC_LATIN, 0);
    /* Æ Þ -> æ þ; Ĳ Œ -> ĳ œ; ß and the lower case ones stay. */
    if (cp >= 0xC0 && cp < 0xDF)
        cp += 0x20;
    else if (cp >= 0x100)
        cp |= 1;
    return mk(cp, C_LETTER, SC_LATIN, 0);
}

static uchar classify_cyrillic(uint32_t cp)
{
    if (cp >= 0x483 && cp <= 0x489) /* combining titlo and friends */
        return mk(cp, C_IGNORE, SC_NONE, 0);
    if (cp >= 0x410 && cp <= 0x42F)
        cp += 0x20;
    else if (cp >= 0x400 && cp <= 0x40F)
        cp += 0x50;
    if (cp == 0x450 || cp == 0x451) /* ѐ ё -> е */
        cp = 0x435;
    else if (cp == 0x45D) /* ѝ -> и */
        cp = 0x438;
    else if (cp == 0x490 || cp == 0x491) /* Ґ ґ -> г */
        cp = 0x433;
    int twin = cp >= 0x430 && cp < 0x460 && cyr_twin[cp - 0x430] != '.';
    return mk(cp, C_LETTER, SC_CYRILLIC, twin);
}

/* U+2000..U+2BFF: spaces, invisible controls, dashes, quotes, symbols. */
static uchar classify_general_punct(uint32_t cp)
{
    int cls = C_PUNCT;
    if (cp <= 0x200A || cp == 0x202F || cp == 0x205F)
        cls = C_SPACE;
    else if (cp <= 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F))
        cls = C_IGNORE; /* zero-width space/joiners, bidi marks: invisible tricks */
    else if (cp == 0x2010 || cp == 0x2011)
        cls = C_GLUE; /* hyphen, non-breaking hyphen */
    else if (cp == 0x2018 || cp == 0x2019)
        cls = C_APOS;
    else if (cp == 0x2028 || cp == 0x2029)
        cls = C_BREAK;
    return mk(cp, cls, SC_NONE, 0);
}

/* Everything outside ASCII, Latin-1/Extended-A and Cyrillic. Unknown code
 * points are letters of another script and pass through unchanged. */
static uchar classify_other(uint32_t cp)
{
    if (cp < 0xC0) {
        int cls = cp == 0x85   ? C_BREAK
                : cp == 0xA0   ? C_SPACE
                : cp == 0xAD   ? C_IGNORE /* soft hyphen */
                : cp == 0xB7   ? C_GLUE
                               : C_PUNCT;
        return mk(cp, cls, SC_NONE, 0);
    }
    if (cp < 0x250 || (cp >= 0x1E00 && cp < 0x1F00)) /* Latin Extended-B, Additional */
        return mk(cp, C_LETTER, SC_LATIN, 0);
    if (cp >= 0x2B0 && cp < 0x300) /* modifier letters: ʻ ʼ are apostrophes */
        return mk(cp, cp == 0x2BB || cp == 0x2BC ? C_APOS : C_PUNCT, SC_NONE, 0);
    if (cp >= 0x300 && cp < 0x370) /* combining diacritics: stripping = dropping */
        return mk(cp, C_IGNORE, SC_NONE, 0);
    if (cp >= 0x2000 && cp < 0x2C00)
        return classify_general_punct(cp);
    if (cp >= 0xFF01 && cp <= 0xFF5E) /* fullwidth ASCII, a cheap disguise */
        return classify_ascii(cp - 0xFEE0);
    if ((cp >= 0xFE00 && cp < 0xFE10) || cp == 0xFEFF || (cp >= 0xE0000 && cp < 0xE1000))
        return mk(cp, C_IGNORE, SC_NONE, 0); /* variation selectors, BOM, tags */
    if (cp == 0x3000)
        return mk(cp, C_SPACE, SC_NONE, 0);
    if ((cp >= 0x2E00 && cp < 0x2E80) || (cp > 0x3000 && cp < 0x3040) ||
        (cp >= 0xE000 && cp < 0xF900) || (cp >= 0xFE10 && cp < 0xFE70) ||
        (cp >= 0xFF5F && cp < 0xFF66) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
        (cp >= 0x1F000 && cp < 0x1FC00) || cp >= 0xF0000)
        return mk(cp, C_PUNCT, SC_NONE, 0); /* punctuation, private use, emoji */
    return mk(cp, C_LETTER, SC_OTHER, 0);
}

/* Fill in how u is written inside a Latin and inside a Cyrillic word. */
static uchar with_forms(uchar u)
{
    if (u.cls == C_LETTER && u.script == SC_LATIN) {
        if (u.cp >= 'a' && u.cp <= 'z' && latin_twin[u.cp - 'a'])
            u.form[IN_CYRILLIC] = latin_twin[u.cp - 'a'];
    } else if (u.cls == C_LETTER && u.script == SC_CYRILLIC) {
        if (u.cp >= 0x430 && u.cp < 0x460 && cyr_twin[u.cp - 0x430] != '.')
            u.form[IN_LATIN] = (uint32_t)cyr_twin[u.cp - 0x430];
    } else if (u.cls == C_DIGIT || u.cls == C_SYM) {
        u.form[IN_LATIN] = symbol_as_letter(u.cp, IN_LATIN);
        u.form[IN_CYRILLIC] = symbol_as_letter(u.cp, IN_CYRILLIC);
    }
    return u;
}

static uchar classify_slow(uint32_t cp)
{
    uchar u;
    if (cp < 0x80)
        u = classify_ascii(cp);
    else if (cp >= 0x400 && cp < 0x530)
        u = classify_cyrillic(cp);
    else if (cp >= 0xC0 && cp < 0x180)
        u = classify_latin(cp);
    else
        u = classify_other(cp);
    return with_forms(u);
}

/* The functions above are the definition; this table caches them for the
 * code points of our four languages, where the branches would cost more than
 * all the rest of the work. Built once, read-only afterwards. */
enum { TABLE_CPS = 0x530 };
static uchar cp_table[TABLE_CPS];
static pthread_once_t cp_table_once = PTHREAD_ONCE_INIT;

/* The hot loops' view of the same answers: every code point of 1- and 2-byte
 * UTF-8 (U+0000..U+07FF), so a decoded short sequence indexes it with no range
 * check, with only the fields those loops read, and each form already encoded
 * as UTF-8. Every form of such a code point is below U+0800 too (checked when
 * built), so it is at most 2 bytes. */
enum { HOT_CPS = 0x800 };
typedef struct hchar {
    uint16_t form[2]; /* uchar.form */
    uint8_t  utf8[2][2]; /* each form's UTF-8 bytes; [1] is 0 for ASCII */
    uint8_t  cls;
    int8_t   lean;
    bool     ends_token; /* a boundary wherever it is (the switch's default) */
} hchar;
static hchar hot[HOT_CPS];

/* The code point of the 1- or 2-byte sequence at s[i] (s[i] < 0xE0, text
 * already validated), and its length. (A branch-free version, selecting with
 * masks, measured 10% slower: the branch predicts well within a word.) */
static inline uint32_t decode_short(const unsigned char *s, size_t i, unsigned *n /* OUT */)
{
    uint32_t b = s[i];
    if (b < 0x80) {
        *n = 1;
        return b;
    }
    *n = 2;
    return ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
}

static void build_cp_table(void)
{
    for (uint32_t cp = 0; cp < TABLE_CPS; cp++)
        cp_table[cp] = classify_slow(cp);
    for (uint32_t cp = 0; cp < HOT_CPS; cp++) {
        uchar u = classify_slow(cp);
        assert(u.form[0] < HOT_CPS && u.form[1] < HOT_CPS);
        hchar *h = &hot[cp];
        bool ends = u.cls == C_PUNCT || u.cls == C_SPACE || u.cls == C_BREAK || u.cls == C_GLUE;
        *h = (hchar){{(uint16_t)u.form[0], (uint16_t)u.form[1]}, {{0}}, u.cls, u.lean, ends};
        for (int in = 0; in < 2; in++) {
            uint32_t f = u.form[in];
            if (f < 0x80) {
                h->utf8[in][0] = (uint8_t)f;
            } else {
                h->utf8[in][0] = (uint8_t)(0xC0 | (f >> 6));
                h->utf8[in][1] = (uint8_t)(0x80 | (f & 0x3F));
            }
        }
    }
}

static inline uchar classify(uint32_t cp)
{
    return cp < TABLE_CPS ? cp_table[cp] : classify_slow(cp);
}

/* classify() for the hot loop: points into the table, so only the fields
 * used are loaded; *spare holds the answer for code points past it. */
static inline const uchar *lookup(uint32_t cp, uchar *spare)
{
    if (cp < TABLE_CPS)
        return &cp_table[cp];
    *spare = classify_slow(cp);
    return spare;
}

static inline bool starts_word(int cls)
{
    return cls == C_LETTER || cls == C_DIGIT || cls == C_SYM;
}

/* -------------------------------------------------------------------- UTF-8 */

/* Decode one code point at s[*i] and advance; -1 if it is malformed. */
static inline int decode_checked(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
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

/* Decode one code point of text already validated by survey(). */
static inline uint32_t decode(const unsigned char *s, size_t *i)
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

static inline uchar next_char(const unsigned char *s, size_t *i)
{
    return classify(decode(s, i));
}

int norm_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < len;)
        if (decode_checked(u, len, &i, &cp) < 0)
            return 0;
    return 1;
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
            lean += hot[b].lean;
            i++;
        } else if (b >= 0xC2 && b <= 0xDF && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            /* 2 bytes (Cyrillic, Polish): can be neither overlong nor a surrogate */
            lean += hot[((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu)].lean;
            i += 2;
        } else if (decode_checked(s, len, &i, &cp) < 0) {
            return NORM_EUTF8;
        } else {
            lean += classify(cp).lean;
        }
    }
    *script = script_of_lean(lean);
    return NORM_OK;
}

/* ------------------------------------------------------------------- tokens */

/* Where canonical bytes go: nb's arrays and the count written. */
typedef struct outbuf {
    char     *text;
    uint32_t *src_start, *src_end;
    size_t    n;
} outbuf;

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
        uchar u = next_char(c->src, &i);
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
        uchar u = next_char(c->src, &i);
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
        uchar spare;
        int cls = lookup(decode(c->src, &i), &spare)->cls;
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

static inline void put_cp(outbuf *ob, uint32_t cp, uint32_t from, uint32_t to)
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

static void begin_word(ctx *c, size_t at) { c->out.src_end[c->space_at] = (uint32_t)at; }

static void end_word(ctx *c, size_t at)
{
    c->space_at = c->out.n;
    put_cp(&c->out, ' ', (uint32_t)at, (uint32_t)at); /* the gap's end: set by the next word */
}

/* Squeezing: a letter equal to the last one written only widens its source
 * range. '*' goes through here too, so "***" becomes one '*'. */
typedef struct squeeze {
    uint32_t prev;    /* last letter written; 0 after a non-letter */
    size_t   prev_at; /* its first output byte */
} squeeze;

/* 1 if letter repeats the last one written (its range is widened to end at
 * to, nothing is written); else 0, and letter, about to be written at the
 * end of ob, becomes the last one. always_inline: without it gcc's code for
 * the hot path ran 6% slower (bench_normalise, same minute). */
static inline __attribute__((always_inline)) int squeezed(outbuf *ob, squeeze *sq,
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

static inline void put_letter(outbuf *ob, squeeze *sq, uint32_t letter, uint32_t from,
                              uint32_t to)
{
    if (!squeezed(ob, sq, letter, to))
        put_cp(ob, letter, from, to);
}

/* put_letter() for a letter of the hot table: its UTF-8 bytes are
 * precomputed, and both are stored whatever the length (a 1-byte form's
 * second byte is overwritten by what comes next: the buffer has room, see
 * reserve() in norm_text), so the store does not branch on the script. */
static inline void put_short_letter(outbuf *ob, squeeze *sq, const hchar *h, int in,
                                    uint32_t from, uint32_t to)
{
    if (squeezed(ob, sq, h->form[in], to))
        return;
    char *o = ob->text + ob->n;
    uint32_t *ss = ob->src_start + ob->n, *se = ob->src_end + ob->n;
    memcpy(o, h->utf8[in], 2);
    ss[0] = ss[1] = from;
    se[0] = se[1] = to;
    ob->n += 1 + (h->utf8[in][1] != 0);
}

static inline void put_nonletter(outbuf *ob, squeeze *sq, uint32_t cp, uint32_t from,
                                 uint32_t to)
{
    sq->prev = 0;
    put_cp(ob, cp, from, to);
}

/* ------------------------------------------------------------------- words */

/* Write the token at `start` as a word of script `in` (IN_*), and count it. */
static void write_token(ctx *c, size_t start, int in, token *out /* OUT */)
{
    token t = {.start = start, .end = start};
    squeeze sq = {0, 0};
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
            const hchar *h = &hot[decode_short(src, i, &n)];
            if (h->cls == C_LETTER) {
                i += n;
                t.n_letters++;
                t.lean += h->lean;
                put_short_letter(&ob, &sq, h, in, (uint32_t)at, (uint32_t)i);
                t.n_visible++;
                t.end = i;
                continue;
            }
            if (h->ends_token) /* the space or punctuation after the word */
                break;
        }
        uchar spare;
        const uchar *u = lookup(decode(src, &i), &spare);
        uint32_t f = u->form[in];
        switch (u->cls) {
        case C_LETTER:
            t.n_letters++;
            t.lean += u->lean;
            put_letter(&ob, &sq, f, (uint32_t)at, (uint32_t)i);
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
                put_nonletter(&ob, &sq, f, (uint32_t)at, (uint32_t)i);
            else
                put_letter(&ob, &sq, f, (uint32_t)at, (uint32_t)i);
            break;
        case C_MASK:
        case C_APOS:
            if (at >= inner_until && !(inner_until = word_goes_on(c, at)))
                goto done;
            if (u->cls == C_MASK)
                put_letter(&ob, &sq, '*', (uint32_t)at, (uint32_t)i);
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
        uchar u = next_char(c->src, &i);
        if (u.cls == C_DIGIT) {
            if (!in_word)
                begin_word(c, at);
            in_word = true;
            put_cp(&c->out, u.cp, (uint32_t)at, (uint32_t)i);
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
    squeeze sq = {0, 0};
    for (size_t i = run->start; i < run->end;) {
        size_t at = i;
        uchar u = next_char(c->src, &i);
        if (u.cls == C_LETTER)
            put_letter(&c->out, &sq, u.form[in], (uint32_t)at, (uint32_t)i);
    }
}

/* Nothing in the whole text proves a script (a rule word like "ок" alone):
 * go by the code points the word was typed in. Rare: rescan. */
static int typed_in(const ctx *c, const token *t)
{
    long typed = 0;
    for (size_t i = t->start; i < t->end;) {
        uchar u = next_char(c->src, &i);
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
    uchar u = next_char(c->src, &i);
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
    pthread_once(&cp_table_once, build_cp_table);
    if (len > UINT32_MAX - 1)
        return fail(nb, NORM_ETOOBIG);
    if (len > (SIZE_MAX / sizeof(uint32_t) - 2) / 2)
        return fail(nb, NORM_ENOMEM);
    if (survey(s, len, &text_script) != NORM_OK)
        return fail(nb, NORM_EUTF8);
    if (reserve(nb, 2 * len + 3) < 0) /* + 1: put_short_letter's spare byte */
        return fail(nb, NORM_ENOMEM);

    ctx c = {.src = s, .len = len, .text_script = text_script,
             .guess = text_script == SC_CYRILLIC ? IN_CYRILLIC : IN_LATIN,
             .out = {nb->text, nb->src_start, nb->src_end, 0}};
    put_cp(&c.out, ' ', 0, 0);
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
