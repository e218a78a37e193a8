/* Unit tests: rule expressions -> Hyperscan regexes over canonical text. */
#include "testutil.h"

#include "rule_regex.h"

static void expect_regex(const char *alt, int mask, const char *want)
{
    char err[256] = "";
    char *re = rule_regex(alt, mask, err, sizeof err);
    if (!re)
        fail_msg("'%s' refused: %s", alt, err);
    assert_string_equal(re, want);
    free(re);
}

static void expect_error(const char *alt, const char *fragment)
{
    char err[256] = "";
    char *re = rule_regex(alt, 0, err, sizeof err);
    assert_null(re);
    if (!strstr(err, fragment))
        fail_msg("'%s': error '%s' lacks '%s'", alt, err, fragment);
}

static void test_words_and_wildcards(void **state)
{
    (void)state;
    expect_regex("idiot", 0, " idiot ");
    expect_regex("idiot*", 0, " idiot[^ ]* ");
    expect_regex("*idiot", 0, " [^ ]*idiot ");
    expect_regex("*id*ot*", 0, " [^ ]*id[^ ]*ot[^ ]* ");
    /* Words are canonicalised like event text: case and repeats fold. */
    expect_regex("KILL you", 0, " kil you ");
}

static void test_cyrillic_is_escaped_bytes(void **state)
{
    (void)state;
    /* "да" is d0 b4 d0 b0 in UTF-8 */
    expect_regex("Да", 0, " \\xd0\\xb4\\xd0\\xb0 ");
}

static void test_gaps(void **state)
{
    (void)state;
    expect_regex("sue ~2 you", 0, " sue (?:[^ ]+ ){0,2}you ");
    expect_regex("refund ~~3 review", 0,
                 " (?:refund (?:[^ ]+ ){0,3}review|review (?:[^ ]+ ){0,3}refund) ");
}

static void test_masked_variants(void **state)
{
    (void)state;
    /* f*k, fu*k, f*ck ... : prefixes '*' suffixes */
    expect_regex("fuck", 1, " (?:fuck|(?:f|fu|fuc)\\x2a(?:uck|ck|k)) ");
    /* short words are not masked: too many innocent matches */
    expect_regex("ok", 1, " ok ");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("~2 you", "gap");
    expect_error("you ~2", "gap");
    expect_error("a ~x b", "bad gap");
    expect_error("a ~~2 b ~~2 c", "only one");
    expect_error("*", "lone");
    expect_error("a**b", "'**'");
    expect_error("hello,world", "not one word");
}

/* The span program is parsed with the regex: words as canonical globs,
 * gaps as numbers, the either-order gap marked; nothing left to re-parse. */
static void test_span_items(void **state)
{
    (void)state;
    char err[256];
    rule_alt a;
    assert_int_equal(rule_alt_compile("Give ~2 *REFUND*", 0, &a, err, sizeof err), 0);
    assert_int_equal(a.span.n, 3);
    assert_int_equal(a.span.either_at, -1);
    assert_int_equal(a.span.items[0].gap, -1);
    assert_memory_equal(a.span.words + a.span.items[0].off, "give", a.span.items[0].len);
    assert_int_equal(a.span.items[0].len, 4);
    assert_int_equal(a.span.items[1].gap, 2);
    assert_int_equal(a.span.items[2].gap, -1);
    assert_int_equal(a.span.items[2].len, 8);
    assert_memory_equal(a.span.words + a.span.items[2].off, "*refund*", 8);
    assert_int_equal(a.runs.n, 2);  /* cut: a chain of " give " and " [^ ]*refund[^ ]* " */
    rule_alt_free(&a);

    /* Masked and either order: the items say the alternative once, as written. */
    assert_int_equal(rule_alt_compile("fool ~~3 you", 1, &a, err, sizeof err), 0);
    assert_int_equal(a.span.n, 3);
    assert_int_equal(a.span.either_at, 1);
    assert_int_equal(a.span.items[1].gap, 3);
    assert_int_equal(a.span.masked, 1);
    assert_memory_equal(a.span.words + a.span.items[2].off, "you", 3);
    assert_int_equal(a.runs.n, 0);
    rule_alt_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_and_wildcards), cmocka_unit_test(test_cyrillic_is_escaped_bytes),
        cmocka_unit_test(test_gaps),                cmocka_unit_test(test_masked_variants),
        cmocka_unit_test(test_errors),              cmocka_unit_test(test_span_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
