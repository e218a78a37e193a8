/*
 * glyph — what each code point is to the normaliser (normalise.c): its class
 * (letter, digit, glue, mask, ...), the script it proves, and how it is
 * written inside a Latin and inside a Cyrillic word (folded to lower case,
 * diacritics stripped, look-alike or digit swapped). Internal to the
 * normaliser: the form itself is specified in normalise.h.
 *
 * The readable definition is a handful of functions over code point ranges
 * (glyph.c); two tables cache their answers, because the branches would cost
 * more than all the rest of the normaliser's work:
 *   glyph_table      U+0000..U+052F (ASCII to Cyrillic), the whole glyph;
 *   glyph_hot_table  every code point of 1- and 2-byte UTF-8, with only what
 *                    the per-character loops read and each form already
 *                    encoded, so the letters of a word (most of the work) are
 *                    written straight from it.
 * Both are built once (glyph_init, thread-safe) and read-only afterwards.
 */
#ifndef COMPLAINTD_GLYPH_H
#define COMPLAINTD_GLYPH_H

#include <stdbool.h>
#include <stdint.h>

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

/* Index of glyph.form: how a character is written in a word of a script. */
enum { IN_LATIN = 0, IN_CYRILLIC = 1 };

/* One classified character. */
typedef struct glyph {
    uint32_t cp;      /* letters: lower case, diacritics stripped */
    uint32_t form[2]; /* as written in a Latin / Cyrillic word (IN_*) */
    uint8_t  cls;     /* enum cclass */
    uint8_t  script;  /* letters only */
    int8_t   lean;    /* +1 proves Cyrillic, -1 proves Latin, 0 (look-alikes) neither */
} glyph;

/* The functions of glyph.c are the definition; this table caches them for
 * the code points of our four languages. */
enum { GLYPH_TABLE_CPS = 0x530 };
extern glyph glyph_table[GLYPH_TABLE_CPS];

/* The hot loops' view of the same answers: every code point of 1- and 2-byte
 * UTF-8 (U+0000..U+07FF), so a decoded short sequence indexes it with no range
 * check, with only the fields those loops read, and each form already encoded
 * as UTF-8. Every form of such a code point is below U+0800 too (checked when
 * built), so it is at most 2 bytes. */
enum { GLYPH_HOT_CPS = 0x800 };
typedef struct glyph_hot {
    uint16_t form[2]; /* glyph.form */
    uint8_t  utf8[2][2]; /* each form's UTF-8 bytes; [1] is 0 for ASCII */
    uint8_t  cls;
    int8_t   lean;
    bool     ends_token; /* a boundary wherever it is (the switch's default) */
} glyph_hot;
extern glyph_hot glyph_hot_table[GLYPH_HOT_CPS];

/* Build the tables, once per process; any thread, any number of times. */
void glyph_init(void);

/* The glyph of any code point, from the functions (no table). */
glyph glyph_compute(uint32_t cp);

static inline glyph glyph_of(uint32_t cp)
{
    return cp < GLYPH_TABLE_CPS ? glyph_table[cp] : glyph_compute(cp);
}

/* glyph_of() for the hot loop: points into the table, so only the fields
 * used are loaded; *spare holds the answer for code points past it. */
static inline const glyph *glyph_lookup(uint32_t cp, glyph *spare)
{
    if (cp < GLYPH_TABLE_CPS)
        return &glyph_table[cp];
    *spare = glyph_compute(cp);
    return spare;
}

#endif
