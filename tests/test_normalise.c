/*
 * Unit tests: the canonical form of normalise.h, one obfuscation per test,
 * and the offset map back to the original bytes. Every expectation is the
 * exact canonical byte string; look-alike letters are spelled as hex escapes
 * so the test says which script each one is in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalise.h"
#include "utf8.h"

/* Canonical form of a NUL-terminated input must be exactly `want`. */
static void expect_norm(const char *in, const char *want)
{
    norm_buf nb;
    norm_buf_init(&nb);
    assert_int_equal(norm_text(&nb, in, strlen(in)), NORM_OK);
    assert_string_equal(nb.text, want);
    assert_int_equal(nb.len, strlen(want));
    norm_buf_free(&nb);
}

/* The canonical word (or phrase) `canon` in the normalised `in` must map
 * back to exactly the bytes of `orig`, which occurs once in `in`. */
static void expect_span(const char *in, const char *canon, const char *orig)
{
    norm_buf nb;
    norm_buf_init(&nb);
    assert_int_equal(norm_text(&nb, in, strlen(in)), NORM_OK);

    char pat[256];
    snprintf(pat, sizeof pat, " %s ", canon);
    const char *hit = strstr(nb.text, pat);
    if (!hit)
        fail_msg("'%s' not in canonical '%s'", pat, nb.text);
    size_t cstart = (size_t)(hit - nb.text) + 1;
    size_t cend = cstart + strlen(canon);

    const char *o = strstr(in, orig);
    assert_non_null(o);
    uint32_t want_start = (uint32_t)(o - in), want_end = want_start + (uint32_t)strlen(orig);

    uint32_t os = 0, oe = 0;
    assert_int_equal(norm_span(&nb, cstart, cend, &os, &oe), 0);
    assert_int_equal(os, want_start);
    assert_int_equal(oe, want_end);
    /* A pattern match includes the word-edge spaces: same answer. */
    assert_int_equal(norm_span(&nb, cstart - 1, cend + 1, &os, &oe), 0);
    assert_int_equal(os, want_start);
    assert_int_equal(oe, want_end);
    norm_buf_free(&nb);
}

/* ------------------------------------------------------------ the form */

static void test_empty_input_is_one_space(void **state)
{
    (void)state;
    expect_norm("", " ");
    expect_norm("  \t\n", " ");
    expect_norm("!!! ... ?!", " ");
}

static void test_words_separated_by_one_space(void **state)
{
    (void)state;
    expect_norm("  hi \t\n world  ", " hi world ");
    expect_norm("word", " word ");
}

static void test_case_folding_latin(void **state)
{
    (void)state;
    expect_norm("IDIOT Idiot iDiOt", " idiot idiot idiot ");
}

static void test_case_folding_cyrillic(void **state)
{
    (void)state;
    expect_norm("ДУРА Дура", " дура дура ");
    /* Ukrainian: і ї є keep their identity, only the case folds */
    expect_norm("ІДІОТ ЇЖАК ЄВРО", " ідіот їжак євро ");
}

static void test_case_folding_polish(void **state)
{
    (void)state;
    expect_norm("GŁUPIA ŻÓŁW", " glupia zolw ");
}

static void test_polish_diacritics_stripped(void **state)
{
    (void)state;
    expect_norm("głupia", " glupia ");
    expect_norm("glupia", " glupia ");
    expect_norm("żółć", " zolc ");
    expect_norm("ąćęłńóśź", " acelnosz ");
    expect_norm("Déjà vu, façade", " deja vu facade ");
}

static void test_yo_and_ghe_fold(void **state)
{
    (void)state;
    expect_norm("Ёлка ёж ґанок Ґудзик", " елка еж ганок гудзик ");
}

static void test_other_scripts_pass_through(void **state)
{
    (void)state;
    expect_norm("Ωμέγα 你好", " Ωμέγα 你好 ");
}

/* ------------------------------------------------------- look-alikes */

static void test_latin_lookalikes_in_cyrillic_word(void **state)
{
    (void)state;
    /* "ду" + Latin p + "а" -> Cyrillic р (d1 80) */
    expect_norm("ду" "p" "а", " \xd0\xb4\xd1\x83\xd1\x80\xd0\xb0 ");
    /* Latin x y + Cyrillic й -> хуй */
    expect_norm("xy" "й", " \xd1\x85\xd1\x83\xd0\xb9 ");
    /* all thirteen: a b c e h i k m o p t x y -> а в с е н і к м о р т х у */
    expect_norm("ж" "abcehikmoptxy",
                " ж\xd0\xb0\xd0\xb2\xd1\x81\xd0\xb5\xd0\xbd\xd1\x96\xd0\xba\xd0\xbc\xd0\xbe"
                "\xd1\x80\xd1\x82\xd1\x85\xd1\x83 ");
}

static void test_cyrillic_lookalikes_in_latin_word(void **state)
{
    (void)state;
    /* "idi" + Cyrillic о (d0 be) + "t" -> plain ASCII */
    expect_norm("idi\xd0\xbet", " idiot ");
    /* "kurw" + Cyrillic а */
    expect_norm("kurw\xd0\xb0", " kurwa ");
}

static void test_lookalike_only_word_follows_text_script(void **state)
{
    (void)state;
    /* "cyka" is Latin c y k a only: no vote of its own */
    expect_norm("ты cyka", " ты \xd1\x81\xd1\x83\xd0\xba\xd0\xb0 ");
    expect_norm("you are a cyka", " you are a cyka ");
    /* "сор" typed in Cyrillic inside English text becomes Latin */
    expect_norm("what a \xd1\x81\xd0\xbe\xd1\x80", " what a cop ");
    /* no vote anywhere: the word keeps the script it was typed in */
    expect_norm("cop", " cop ");
    expect_norm("\xd1\x81\xd0\xbe\xd1\x80", " \xd1\x81\xd0\xbe\xd1\x80 ");
}

static void test_mixed_languages_in_one_text(void **state)
{
    (void)state;
    /* each word in its own script: ИДИОТ is Cyrillic И Д И О Т */
    expect_norm("Ты ИДИОТ, you are an idiot, ты дура",
                " ты идиот you are an idiot ты дура ");
    /* a look-alike-only word takes the text's script, not its neighbour's */
    expect_norm("ты дура, you cop", " ты дура you \xd1\x81\xd0\xbe\xd1\x80 ");
}

/* ------------------------------------------------------ digit swaps */

static void test_digit_swaps_cyrillic(void **state)
{
    (void)state;
    expect_norm("ты д0лб0ёб и 4мо, 3аяц, 6лин, @дмин",
                " ты долбоеб и чмо заяц блин админ ");
}

static void test_digit_swaps_latin(void **state)
{
    (void)state;
    expect_norm("1d10t sh1t $h1t l0s3r h4te 5uck @ss", " idiot shit shit loser hate suck as ");
}

static void test_numbers_at_word_edge_stay_digits(void **state)
{
    (void)state;
    /* two or more digits at a word's edge are a quantity, not a disguise */
    expect_norm("10kg covid19 500zł 2000руб", " 10kg covid19 500zl 2000руб ");
}

static void test_digits_only_tokens_kept(void **state)
{
    (void)state;
    expect_norm("заказ 12345 от 03.04", " заказ 12345 от 03 04 ");
    expect_norm("0", " 0 ");
    expect_norm("100% за 300$", " 100 за 300 ");
    expect_norm("4@ 5*5", " 4 5 5 ");
}

/* ------------------------------------------------------- separators */

static void test_dotted_letters_join(void **state)
{
    (void)state;
    expect_norm("Ты Д.У.Р.А!", " ты дура ");
    expect_norm("Д. У. Р. А.", " дура ");
    expect_norm("U.S.A. is", " usa is ");
}

static void test_spaced_letters_join(void **state)
{
    (void)state;
    expect_norm("ty k u r w a", " ty kurwa ");
}

static void test_hyphen_underscore_middot_join(void **state)
{
    (void)state;
    expect_norm("i-d-i-o-t", " idiot ");
    expect_norm("д_у_р_а", " дура ");
    expect_norm("д·у·р·а", " дура ");
    /* mixed glue is still tight glue */
    expect_norm("д.у-р_а", " дура ");
}

static void test_three_spaced_letters_do_not_join(void **state)
{
    (void)state;
    /* Russian has one-letter words */
    expect_norm("а я в шоке", " а я в шоке ");
}

static void test_two_dotted_letters_do_not_join(void **state)
{
    (void)state;
    expect_norm("т.е. нет", " т е нет ");
    /* different gaps ("." then ". ") do not chain abbreviations together */
    expect_norm("и т.д. и т.п.", " и т д и т п ");
}

static void test_join_run_stops_at_other_gap(void **state)
{
    (void)state;
    expect_norm("я д.у.р.а", " я дура ");
    expect_norm("д.у.р.а я", " дура я ");
    /* tight glue, then glue with a space: the run ends at the change */
    expect_norm("х.у.й. ок", " хуй ок ");
}

/* ---------------------------------------------------------- repeats */

static void test_repeated_letters_squeezed(void **state)
{
    (void)state;
    expect_norm("дуууура ДУУУРА", " дура дура ");
    expect_norm("ванна", " вана ");
    expect_norm("sooooo baaad", " so bad ");
}

static void test_squeeze_after_mapping(void **state)
{
    (void)state;
    /* Latin p p p between Cyrillic letters: mapped to р first, then squeezed */
    expect_norm("ду" "ppp" "а", " дура ");
    /* Cyrillic р then Latin p */
    expect_norm("ду" "\xd1\x80" "p" "а", " дура ");
}

static void test_long_word_squeezed(void **state)
{
    (void)state;
    char word[512] = "д", in[600];
    for (int i = 0; i < 100; i++)
        strcat(word, "у");
    strcat(word, "ра");
    snprintf(in, sizeof in, "ну %s!", word);
    expect_norm(in, " ну дура ");
    expect_span(in, "дура", word);
}

static void test_digits_are_not_squeezed(void **state)
{
    (void)state;
    expect_norm("1000", " 1000 ");
}

/* ----------------------------------------------------------- masking */

static void test_masks_become_one_star(void **state)
{
    (void)state;
    expect_norm("п***ц", " п*ц ");
    expect_norm("f**k", " f*k ");
    expect_norm("бл*ть х*й", " бл*ть х*й ");
}

static void test_lone_mask_dropped(void **state)
{
    (void)state;
    expect_norm("***", " ");
    expect_norm("ну *** тебя", " ну тебя ");
}

static void test_mask_at_word_edge_is_punctuation(void **state)
{
    (void)state;
    /* markdown bold and footnote stars must not hide the word */
    expect_norm("**дура** price*", " дура price ");
}

/* -------------------------------------------- apostrophes, punctuation */

static void test_apostrophes_dropped_inside_words(void **state)
{
    (void)state;
    expect_norm("п'ять п\xe2\x80\x99ять п\xca\xbcять don't rock`n", " пять пять пять dont rockn ");
}

static void test_apostrophes_at_edges_are_punctuation(void **state)
{
    (void)state;
    expect_norm("'quoted' \xe2\x80\x98too\xe2\x80\x99", " quoted to ");
}

static void test_punctuation_is_a_boundary(void **state)
{
    (void)state;
    expect_norm("дура,идиот!тупица?(да)", " дура идиот тупица да ");
    expect_norm("a/b\"c;d", " a b c d ");
}

static void test_invisible_and_combining_chars_dropped(void **state)
{
    (void)state;
    /* zero-width space inside the word */
    expect_norm("ду\xe2\x80\x8bра", " дура ");
    /* stress mark (combining acute) */
    expect_norm("доро\xcc\x81га", " дорога ");
    /* soft hyphen */
    expect_norm("idi\xc2\xadot", " idiot ");
}

static void test_fullwidth_letters_fold(void **state)
{
    (void)state;
    expect_norm("\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b", " fuck ");
}

/* ------------------------------------------------------------ errors */

static void test_invalid_utf8_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "bad \xff",          "\x80",             "\xc0\xaf",      /* overlong / */
        "\xe0\x80\xaf",      "\xed\xa0\x80",                       /* surrogate */
        "\xf4\x90\x80\x80",                                        /* > U+10FFFF */
        "\xd0",              "ok \xe2\x82",                        /* truncated */
        /* after an ASCII run (taken eight bytes at a time) and after two-byte letters */
        "sixteen ascii by\xc0\xaf",  "eight b\xff",  "twelve bytes\xd0",
        "\xd0\xb4\xd0\xb0\xd0\xb9\xd1\x82\xd0\xb5 \xed\xa0\x80",
        "\xd0\xb4\xd0\xb0\xd0\x41",
    };
    norm_buf nb;
    norm_buf_init(&nb);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(norm_text(&nb, "fine", 4), NORM_OK);
        assert_int_equal(norm_text(&nb, bad[i], strlen(bad[i])), NORM_EUTF8);
        assert_int_equal(nb.len, 0);
        assert_int_equal(utf8_valid(bad[i], strlen(bad[i])), 0);
    }
    norm_buf_free(&nb);
}

/* ------------------------------------------------------------ offsets */

static void test_span_of_dotted_word(void **state)
{
    (void)state;
    expect_span("Ты Д.У.Р.А!", "дура", "Д.У.Р.А");
    expect_span("ty k u r w a!", "kurwa", "k u r w a");
}

static void test_span_of_squeezed_word(void **state)
{
    (void)state;
    expect_span("ну дуууура.", "дура", "дуууура");
    expect_span("noooo", "no", "noooo");
}

static void test_span_of_masked_word(void **state)
{
    (void)state;
    expect_span("ты п***ц!!", "п*ц", "п***ц");
}

static void test_span_of_mapped_word(void **state)
{
    (void)state;
    /* 1-byte Latin p and 0 became 2-byte Cyrillic letters */
    expect_span("это д0лб0ёб", "долбоеб", "д0лб0ёб");
    expect_span("ты ду" "p" "а", "дура", "ду" "p" "а");
}

static void test_span_of_rewritten_word(void **state)
{
    (void)state;
    /* written first as Cyrillic (the text's script), then again as Latin */
    expect_span("ты дура, you idiot!", "idiot", "idiot");
    /* Latin "cop" written as Cyrillic "сор": 1 source byte, 2 canonical */
    expect_span("ты дура, you cop!", "\xd1\x81\xd0\xbe\xd1\x80", "cop");
}

static void test_span_of_phrase(void **state)
{
    (void)state;
    expect_span("Ты  ТУПАЯ,   корова!", "тупая корова", "ТУПАЯ,   корова");
}

static void test_span_byte_level(void **state)
{
    (void)state;
    /* "ду" + Latin p + "а": р is 2 canonical bytes from 1 source byte */
    const char *in = "ду" "p" "а";
    norm_buf nb;
    norm_buf_init(&nb);
    assert_int_equal(norm_text(&nb, in, strlen(in)), NORM_OK);
    /* " д у р а ": bytes 5,6 are р */
    assert_int_equal(nb.src_start[5], 4);
    assert_int_equal(nb.src_end[5], 5);
    assert_int_equal(nb.src_start[6], 4);
    assert_int_equal(nb.src_end[6], 5);
    /* the spaces cover the gaps: before the word, after it */
    assert_int_equal(nb.src_start[0], 0);
    assert_int_equal(nb.src_end[0], 0);
    assert_int_equal(nb.src_start[nb.len - 1], strlen(in));
    assert_int_equal(nb.src_end[nb.len - 1], strlen(in));
    norm_buf_free(&nb);
}

static void test_spaces_cover_the_gaps(void **state)
{
    (void)state;
    norm_buf nb;
    norm_buf_init(&nb);
    assert_int_equal(norm_text(&nb, "  ab, cd!", 9), NORM_OK);
    assert_string_equal(nb.text, " ab cd ");
    static const uint32_t want_start[] = {0, 2, 3, 4, 6, 7, 8};
    static const uint32_t want_end[] = {2, 3, 4, 6, 7, 8, 9};
    for (size_t k = 0; k < nb.len; k++) {
        assert_int_equal(nb.src_start[k], want_start[k]);
        assert_int_equal(nb.src_end[k], want_end[k]);
    }
    norm_buf_free(&nb);
}

static void test_span_without_word_bytes(void **state)
{
    (void)state;
    norm_buf nb;
    norm_buf_init(&nb);
    uint32_t os = 7, oe = 7;
    assert_int_equal(norm_text(&nb, "a  b", 4), NORM_OK);
    assert_string_equal(nb.text, " a b ");
    assert_int_equal(norm_span(&nb, 0, 1, &os, &oe), -1);
    assert_int_equal(norm_span(&nb, 2, 3, &os, &oe), -1);
    assert_int_equal(norm_span(&nb, 3, 3, &os, &oe), -1);
    /* a range past the end is clipped */
    assert_int_equal(norm_span(&nb, 3, 99, &os, &oe), 0);
    assert_int_equal(os, 3);
    assert_int_equal(oe, 4);
    /* the whole text */
    assert_int_equal(norm_span(&nb, 0, nb.len, &os, &oe), 0);
    assert_int_equal(os, 0);
    assert_int_equal(oe, 4);
    norm_buf_free(&nb);
}

/* ------------------------------------------------------ buffer reuse */

static void test_buffer_reused_and_replaced(void **state)
{
    (void)state;
    norm_buf nb;
    norm_buf_init(&nb);
    char big[2000];
    memset(big, 'x', sizeof big);
    for (size_t i = 5; i < sizeof big; i += 6)
        big[i] = ' ';
    assert_int_equal(norm_text(&nb, big, sizeof big), NORM_OK);
    char *text = nb.text;
    size_t cap = nb.cap;
    assert_int_equal(norm_text(&nb, "Дура", strlen("Дура")), NORM_OK);
    assert_string_equal(nb.text, " дура ");
    assert_ptr_equal(nb.text, text); /* no allocation once grown */
    assert_int_equal(nb.cap, cap);
    norm_buf_free(&nb);
    norm_buf_free(&nb); /* idempotent */
    norm_buf_free(NULL);
}

/* Random mixes of the interesting pieces: any result must be well formed. */
static void test_random_inputs_well_formed(void **state)
{
    (void)state;
    static const char *pieces[] = {
        "д", "У", "р", "a", "P", "ó", "Ł", "0", "3", "@", "$", "*", "**", "'", "\xe2\x80\x99",
        ".", "-", "_", " ", "  ", ",", "\n", "\xe2\x80\x8b", "\xcc\x81", "你", "\xf0\x9f\x98\x80",
        "\xef\xbd\x86", "12", "ё", "і", "\xff",
    };
    const size_t np = sizeof pieces / sizeof *pieces;
    norm_buf nb;
    norm_buf_init(&nb);
    uint32_t seed = 12345;
    char in[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 24;
        for (int p = 0; p < parts; p++) {
            seed = seed * 1103515245u + 12345u;
            const char *pc = pieces[(seed >> 16) % np];
            size_t l = strlen(pc);
            memcpy(in + n, pc, l);
            n += l;
        }
        int rc = norm_text(&nb, in, n);
        if (rc == NORM_EUTF8) {
            assert_int_equal(utf8_valid(in, n), 0);
            assert_int_equal(nb.len, 0);
            continue;
        }
        assert_int_equal(rc, NORM_OK);
        assert_true(nb.len >= 1 && nb.len <= 2 * n + 2);
        assert_int_equal(nb.text[0], ' ');
        assert_int_equal(nb.text[nb.len - 1], ' ');
        assert_int_equal(nb.text[nb.len], '\0');
        assert_null(strstr(nb.text, "  "));
        assert_true(utf8_valid(nb.text, nb.len));
        for (size_t k = 0; k < nb.len; k++) {
            assert_true(nb.src_start[k] <= nb.src_end[k]);
            assert_true(nb.src_end[k] <= n);
            if (k > 0)
                assert_true(nb.src_start[k - 1] <= nb.src_start[k]);
        }
    }
    norm_buf_free(&nb);
}

/* Fullwidth ASCII (U+FF01..U+FF5E, 3 bytes) is read as ASCII, but through
 * the general path (decode, classify_slow, the class switch), while ASCII
 * letters go through the hot table and the letter fast path. So random texts
 * of Latin letters, look-alikes, digits, @ $ * ' . - _, spaces and some
 * Cyrillic letters (kept as they are, so words mix both paths and squeeze
 * across them: Cyrillic "о" next to a fullwidth "o") must give the same
 * canonical bytes spelled either way, and the same maps once each original
 * offset is translated to the fullwidth text. */
static void test_fast_path_agrees_with_general_path(void **state)
{
    (void)state;
    static const char *units[] = {
        "a", "b", "c", "d", "e", "h", "i", "k", "m", "o", "p", "t", "x", "y", "f", "g", "l",
        "n", "r", "s", "u", "w", "z", "A", "K", "O", "P", "X", "0", "1", "3", "4", "5", "6",
        "@", "$", "*", "'", ".", "-", "_", ",", "!", " ", " ", " ", "\n",
        "\xd0\xbe" /* о */, "\xd1\x80" /* р */, "\xd0\xb4" /* д */, "\xd1\x83" /* у */,
        "\xd0\x90" /* А */,
    };
    const size_t nu = sizeof units / sizeof *units;
    norm_buf ascii, wide;
    norm_buf_init(&ascii);
    norm_buf_init(&wide);
    uint32_t seed = 2024;
    char in[256], win[768];
    uint32_t pos[257]; /* pos[k]: where in[k] is in win (pos[n] = its length) */
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0, w = 0;
        int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int p = 0; p < parts; p++) {
            seed = seed * 1103515245u + 12345u;
            const char *u = units[(seed >> 16) % nu];
            size_t l = strlen(u);
            for (size_t k = 0; k < l; k++)
                pos[n + k] = (uint32_t)w;
            memcpy(in + n, u, l);
            n += l;
            unsigned char c = (unsigned char)u[0];
            if (c > 0x20 && c < 0x7F) { /* U+FF01 + (c - 0x21) */
                uint32_t cp = 0xFEE0u + c;
                win[w++] = (char)0xEF;
                win[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                win[w++] = (char)(0x80 | (cp & 0x3F));
            } else {
                memcpy(win + w, u, l);
                w += l;
            }
        }
        pos[n] = (uint32_t)w;
        assert_int_equal(norm_text(&ascii, in, n), NORM_OK);
        assert_int_equal(norm_text(&wide, win, w), NORM_OK);
        if (ascii.len != wide.len || memcmp(ascii.text, wide.text, ascii.len) != 0)
            fail_msg("'%.*s': '%s' but fullwidth gives '%s'", (int)n, in, ascii.text, wide.text);
        for (size_t k = 0; k < ascii.len; k++) {
            assert_int_equal(wide.src_start[k], pos[ascii.src_start[k]]);
            assert_int_equal(wide.src_end[k], pos[ascii.src_end[k]]);
        }
    }
    norm_buf_free(&ascii);
    norm_buf_free(&wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_input_is_one_space),
        cmocka_unit_test(test_words_separated_by_one_space),
        cmocka_unit_test(test_case_folding_latin),
        cmocka_unit_test(test_case_folding_cyrillic),
        cmocka_unit_test(test_case_folding_polish),
        cmocka_unit_test(test_polish_diacritics_stripped),
        cmocka_unit_test(test_yo_and_ghe_fold),
        cmocka_unit_test(test_other_scripts_pass_through),
        cmocka_unit_test(test_latin_lookalikes_in_cyrillic_word),
        cmocka_unit_test(test_cyrillic_lookalikes_in_latin_word),
        cmocka_unit_test(test_lookalike_only_word_follows_text_script),
        cmocka_unit_test(test_mixed_languages_in_one_text),
        cmocka_unit_test(test_digit_swaps_cyrillic),
        cmocka_unit_test(test_digit_swaps_latin),
        cmocka_unit_test(test_numbers_at_word_edge_stay_digits),
        cmocka_unit_test(test_digits_only_tokens_kept),
        cmocka_unit_test(test_dotted_letters_join),
        cmocka_unit_test(test_spaced_letters_join),
        cmocka_unit_test(test_hyphen_underscore_middot_join),
        cmocka_unit_test(test_three_spaced_letters_do_not_join),
        cmocka_unit_test(test_two_dotted_letters_do_not_join),
        cmocka_unit_test(test_join_run_stops_at_other_gap),
        cmocka_unit_test(test_repeated_letters_squeezed),
        cmocka_unit_test(test_squeeze_after_mapping),
        cmocka_unit_test(test_long_word_squeezed),
        cmocka_unit_test(test_digits_are_not_squeezed),
        cmocka_unit_test(test_masks_become_one_star),
        cmocka_unit_test(test_lone_mask_dropped),
        cmocka_unit_test(test_mask_at_word_edge_is_punctuation),
        cmocka_unit_test(test_apostrophes_dropped_inside_words),
        cmocka_unit_test(test_apostrophes_at_edges_are_punctuation),
        cmocka_unit_test(test_punctuation_is_a_boundary),
        cmocka_unit_test(test_invisible_and_combining_chars_dropped),
        cmocka_unit_test(test_fullwidth_letters_fold),
        cmocka_unit_test(test_invalid_utf8_refused),
        cmocka_unit_test(test_span_of_dotted_word),
        cmocka_unit_test(test_span_of_squeezed_word),
        cmocka_unit_test(test_span_of_masked_word),
        cmocka_unit_test(test_span_of_mapped_word),
        cmocka_unit_test(test_span_of_rewritten_word),
        cmocka_unit_test(test_span_of_phrase),
        cmocka_unit_test(test_span_byte_level),
        cmocka_unit_test(test_spaces_cover_the_gaps),
        cmocka_unit_test(test_span_without_word_bytes),
        cmocka_unit_test(test_buffer_reused_and_replaced),
        cmocka_unit_test(test_random_inputs_well_formed),
        cmocka_unit_test(test_fast_path_agrees_with_general_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
