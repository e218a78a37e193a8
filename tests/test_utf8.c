/* Unit tests: utf8, the one definition of valid UTF-8 (the normaliser's
 * survey agrees with it: test_normalise, fuzz_normalise). */
#include "testutil.h"

#include "utf8.h"

static void test_valid_strings(void **state)
{
    (void)state;
    const char *good = "a \xd0\xb4 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
    assert_int_equal(utf8_valid(good, strlen(good)), 1);
    assert_int_equal(utf8_valid("", 0), 1);
    assert_int_equal(utf8_valid("a\0b", 3), 1);
    const char *long_mixed = "plain ascii text, then \xd0\xb4\xd0\xb0\xd0\xb9\xd1\x82\xd0\xb5 "
                             "and a euro \xe2\x82\xac at the end of sixteen+";
    assert_int_equal(utf8_valid(long_mixed, strlen(long_mixed)), 1);
    assert_int_equal(utf8_valid_str(NULL), 1);
    assert_int_equal(utf8_valid_str("emp-\xd0\xb4"), 1);
    assert_int_equal(utf8_valid_str("emp-\xff"), 0);
}

/* Each edge of the definition: the last and first code points of each
 * length, either side of the surrogates, and the end of Unicode. */
static void test_edges(void **state)
{
    (void)state;
    static const struct { const char *s; uint32_t cp; } ok[] = {
        {"\x7f", 0x7F},         {"\xc2\x80", 0x80},         {"\xdf\xbf", 0x7FF},
        {"\xe0\xa0\x80", 0x800}, {"\xed\x9f\xbf", 0xD7FF},   {"\xee\x80\x80", 0xE000},
        {"\xef\xbf\xbf", 0xFFFF}, {"\xf0\x90\x80\x80", 0x10000}, {"\xf4\x8f\xbf\xbf", 0x10FFFF},
    };
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++) {
        const unsigned char *u = (const unsigned char *)ok[k].s;
        size_t n = strlen(ok[k].s), i = 0, j = 0;
        uint32_t cp = 0;
        assert_int_equal(utf8_next(u, n, &i, &cp), 0);
        assert_int_equal(i, n);
        assert_int_equal(cp, ok[k].cp);
        assert_int_equal(utf8_decode(u, &j), ok[k].cp); /* the unchecked decoder agrees */
        assert_int_equal(j, n);
    }
    static const char *bad[] = {
        "\xc1\xbf",         /* overlong 0x7F */
        "\xe0\x9f\xbf",     /* overlong 0x7FF */
        "\xf0\x8f\xbf\xbf", /* overlong 0xFFFF */
        "\xed\xa0\x80",     /* U+D800 */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", "\xff", "\x80", "\xbf",
        "\xe2\x82",         /* cut short */
        "\xe2\x28\xa1",     /* not a continuation */
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        size_t i = 0;
        uint32_t cp = 12345;
        assert_int_equal(utf8_next((const unsigned char *)bad[k], strlen(bad[k]), &i, &cp), -1);
        assert_int_equal(i, 0);       /* untouched on failure */
        assert_int_equal(cp, 12345);
        assert_int_equal(utf8_valid(bad[k], strlen(bad[k])), 0);
    }
}

static void test_decode_short(void **state)
{
    (void)state;
    unsigned n;
    assert_int_equal(utf8_decode_short((const unsigned char *)"A", 0, &n), 'A');
    assert_int_equal(n, 1);
    assert_int_equal(utf8_decode_short((const unsigned char *)"x\xd0\xb4", 1, &n), 0x434);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_strings),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_decode_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
