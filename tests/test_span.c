/* Unit tests: the start of a match found by walking back over the words
 * (span.h), for every shape of alternative, against the regexes' ends. */
#include "testutil.h"

#include "normalise.h"
#include "rule_regex.h"
#include "span.h"

/* Canonicalise text, find where the program's match ending at the first
 * occurrence of end_word ends, and return the matched canonical words. */
static void expect_span(const char *rule, int masked, const char *text, const char *end_word,
                        const char *want)
{
    char err[256];
    rule_alt a;
    if (rule_alt_compile(rule, masked, &a, err, sizeof err) < 0)
        fail_msg("%s: %s", rule, err);
    norm_buf nb;
    norm_buf_init(&nb);
    assert_int_equal(norm_text(&nb, text, strlen(text)), NORM_OK);
    char needle[128];
    snprintf(needle, sizeof needle, " %s ", end_word);
    const char *at = strstr(nb.text, needle);
    assert_non_null(at);
    size_t end = (size_t)(at - nb.text) + strlen(needle);  /* one past the trailing space */
    long start = span_start(&a.span, nb.text, end);
    if (want == NULL) {
        assert_int_equal(start, -1);
    } else {
        if (start < 0)
            fail_msg("%s over '%s': no start", rule, nb.text);
        char got[256];
        snprintf(got, sizeof got, "%.*s", (int)(end - 1 - (size_t)start), nb.text + start);
        assert_string_equal(got, want);
    }
    norm_buf_free(&nb);
    rule_alt_free(&a);
}

static void test_phrases_and_wildcards(void **state)
{
    (void)state;
    expect_span("idiot", 0, "you are an idiot", "idiot", "idiot");
    expect_span("you are an idiot*", 0, "hey you are an idiots", "idiots", "you are an idiots");
    expect_span("*blat*", 0, "oh zablatuj now", "zablatuj", "zablatuj");
    expect_span("дур*", 0, "Ну ты ДУУУРА", "дура", "дура");
}

static void test_gaps(void **state)
{
    (void)state;
    expect_span("give ~2 refund*", 0, "give me my refund now", "refund", "give me my refund");
    expect_span("give ~2 refund*", 0, "give refund", "refund", "give refund");
    /* a gap is at most N words */
    expect_span("give ~1 refund*", 0, "give me my refund", "refund", NULL);
}

static void test_either_order(void **state)
{
    (void)state;
    expect_span("refund* ~~3 review*", 0, "refund or a review", "review", "refund or a review");
    expect_span("refund* ~~3 review*", 0, "a bad review unless refund", "refund",
                "review unles refund");  /* canonical: repeats squeezed */
}

/* The walk back reads only as many words as the program can reach: every
 * gap used to its full length must still be found, in both orders, and a
 * match after hundreds of words is found as near the start as the end. */
static void test_walk_reaches_full_gaps(void **state)
{
    (void)state;
    /* (words of two letters: spaced single letters would join into one) */
    expect_span("give ~3 refund*", 0, "so give me my fu refund", "refund", "give me my fu refund");
    expect_span("give ~2 back ~2 refund*", 0, "give me my back no ok refund", "refund",
                "give me my back no ok refund");
    expect_span("give ~2 back ~2 refund*", 0, "give me my fu back ok refund", "refund", NULL);
    expect_span("refund* ~~3 review*", 0, "review me my fu refund", "refund",
                "review me my fu refund");
    expect_span("refund* ~~3 review*", 0, "review me my fu no refund", "refund", NULL);

    char text[4096] = "";
    for (int i = 0; i < 300; i++)
        strcat(text, "word ");
    strcat(text, "give me my refund");
    expect_span("give ~2 refund*", 0, text, "refund", "give me my refund");
}

static void test_masked(void **state)
{
    (void)state;
    expect_span("fuck", 1, "what the f**k man", "f*k", "f*k");
    expect_span("fuck you", 1, "oh f*ck you", "you", "f*ck you");
    expect_span("fuck", 0, "what the f**k man", "f*k", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phrases_and_wildcards),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_either_order),
        cmocka_unit_test(test_walk_reaches_full_gaps),
        cmocka_unit_test(test_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
