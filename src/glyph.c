/*
 * glyph — the classes, scripts and word forms of code points, as functions
 * over ranges, and the tables that cache them; see glyph.h.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_once */
#include "glyph.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>

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

/* A character before its forms are filled in; twin: a plain look-alike,
 * which proves nothing about its script. */
static glyph mk(uint32_t cp, int cls, int script, int twin)
{
    int lean = twin ? 0 : script == SC_CYRILLIC ? 1 : script == SC_LATIN ? -1 : 0;
    glyph u = {cp, {cp, cp}, (uint8_t)cls, (uint8_t)script, (int8_t)lean};
    return u;
}

static glyph ascii_glyph(uint32_t c)
{
    int cls = ascii_class[c];
    if (cls != C_LETTER)
        return mk(c, cls, SC_NONE, 0);
    c |= 0x20;
    return mk(c, C_LETTER, SC_LATIN, latin_twin[c - 'a'] != 0);
}

static glyph latin_glyph(uint32_t cp)
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

static glyph cyrillic_glyph(uint32_t cp)
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
static glyph general_punct_glyph(uint32_t cp)
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
static glyph other_glyph(uint32_t cp)
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
        return general_punct_glyph(cp);
    if (cp >= 0xFF01 && cp <= 0xFF5E) /* fullwidth ASCII, a cheap disguise */
        return ascii_glyph(cp - 0xFEE0);
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
static glyph with_forms(glyph u)
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

glyph glyph_compute(uint32_t cp)
{
    glyph u;
    if (cp < 0x80)
        u = ascii_glyph(cp);
    else if (cp >= 0x400 && cp < 0x530)
        u = cyrillic_glyph(cp);
    else if (cp >= 0xC0 && cp < 0x180)
        u = latin_glyph(cp);
    else
        u = other_glyph(cp);
    return with_forms(u);
}

glyph glyph_table[GLYPH_TABLE_CPS];
glyph_hot glyph_hot_table[GLYPH_HOT_CPS];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t cp = 0; cp < GLYPH_TABLE_CPS; cp++)
        glyph_table[cp] = glyph_compute(cp);
    for (uint32_t cp = 0; cp < GLYPH_HOT_CPS; cp++) {
        glyph u = glyph_compute(cp);
        assert(u.form[0] < GLYPH_HOT_CPS && u.form[1] < GLYPH_HOT_CPS);
        glyph_hot *h = &glyph_hot_table[cp];
        bool ends = u.cls == C_PUNCT || u.cls == C_SPACE || u.cls == C_BREAK || u.cls == C_GLUE;
        *h = (glyph_hot){{(uint16_t)u.form[0], (uint16_t)u.form[1]}, {{0}}, u.cls, u.lean, ends};
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

void glyph_init(void) { pthread_once(&tables_once, build_tables); }
