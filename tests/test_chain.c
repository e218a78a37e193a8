/* Unit tests: gap alternatives scanned as runs of words (chain.h) find the
 * same matches as the whole regex. For each alternative, a database of the
 * whole regex alone and a database of its runs scan the same texts; the
 * chain's first end must equal the whole regex's first end, and a text
 * neither matches must stay unmatched, and where the join says the first
 * match starts must be where span.h's walk back from its end finds it. Texts are random words from a small
 * vocabulary, so that the runs, their repeats and the gap bounds meet often
 * (tests/chain_oracle.h scans both ways; fuzz_chain does the same on
 * fuzzed alternatives and texts). */
#include "testutil.h"

#include "chain_oracle.h"
#include "normalise.h"
#include "rule_regex.h"

/* Scan canonical text both ways; returns the agreed first end (0: none). */
static uint32_t scan_both(chain_oracle *o, const char *canon, size_t len)
{
    uint32_t whole, chained;
    assert_int_equal(chain_oracle_scan(o, canon, len, &whole, &chained), 0);
    if (chained != whole)
        fprintf(stderr, "mismatch on \"%.*s\": whole %u, chain %u\n", (int)len, canon, whole,
                chained);
    assert_int_equal(chained, whole);
    long join, walk;
    if (chained) {
        /* The join's start must be the walk back's (span.h). */
        assert_int_equal(chain_oracle_starts(o, canon, &join, &walk), 0);
        if (join != walk)
            fprintf(stderr, "start on \"%.*s\": join %ld, walk %ld\n", (int)len, canon, join,
                    walk);
        assert_int_equal(join, walk);
    }
    return chained;
}

static uint32_t scan_text(chain_oracle *o, norm_buf *nb, const char *text)
{
    assert_int_equal(norm_text(nb, text, strlen(text)), NORM_OK);
    return scan_both(o, nb->text, nb->len);
}

static chain_oracle *oracle(const char *alt)
{
    char err[256] = "";
    int not_cut;
    chain_oracle *o = chain_oracle_new(alt, &not_cut, err, sizeof err);
    if (!o)
        fprintf(stderr, "%s: %s\n", alt, err);
    assert_non_null(o);
    return o;
}

static void test_known_cases(void **state)
{
    (void)state;
    norm_buf nb;
    norm_buf_init(&nb);
    chain_oracle *b = oracle("want ~2 refund");
    assert_int_not_equal(scan_text(b, &nb, "I want a refund"), 0);
    assert_int_not_equal(scan_text(b, &nb, "want refund"), 0);            /* gap 0 */
    assert_int_not_equal(scan_text(b, &nb, "want my full refund"), 0);    /* gap 2 */
    assert_int_equal(scan_text(b, &nb, "want my money full refund"), 0);  /* gap 3 */
    assert_int_equal(scan_text(b, &nb, "refund, I want"), 0);             /* order */
    chain_oracle_free(b);

    b = oracle("very ~1 very bad");  /* one segment twice, a two-word run */
    assert_int_equal(scan_text(b, &nb, "very bad"), 0);
    assert_int_not_equal(scan_text(b, &nb, "very very bad"), 0);
    assert_int_not_equal(scan_text(b, &nb, "very, so very bad"), 0);
    assert_int_equal(scan_text(b, &nb, "very so so very bad"), 0);
    chain_oracle_free(b);

    b = oracle("call* ~0 manag* ~3 now");  /* prefixes, a ~0 gap */
    assert_int_not_equal(scan_text(b, &nb, "calling manager right now"), 0);
    assert_int_equal(scan_text(b, &nb, "calling the manager now"), 0);
    chain_oracle_free(b);
    norm_buf_free(&nb);
}

static const char *const VOCAB[] = {"a", "b", "c", "aa", "ab", "ba", "x"};

static void test_random_texts_agree(void **state)
{
    (void)state;
    static const char *const alts[] = {
        "a ~1 b",      "a ~0 a",       "a b ~2 c",       "a ~3 b ~1 c",    "ab* ~2 *a",
        "a ~2 a ~2 a", "x ~1 a b ~0 c", "b ~4 b",        "c ~1 *b* ~1 x",
    };
    unsigned seed = 12345;
    char canon[512];
    size_t matched = 0, total = 0;
    for (size_t k = 0; k < sizeof alts / sizeof *alts; k++) {
        chain_oracle *b = oracle(alts[k]);
        for (int t = 0; t < 3000; t++) {
            /* Canonical text by hand: " w1 w2 ... wn ". */
            size_t len = 0;
            int words = 1 + (int)(rand_r(&seed) % 16);
            canon[len++] = ' ';
            for (int w = 0; w < words; w++) {
                const char *v = VOCAB[rand_r(&seed) % (sizeof VOCAB / sizeof *VOCAB)];
                memcpy(canon + len, v, strlen(v));
                len += strlen(v);
                canon[len++] = ' ';
            }
            matched += scan_both(b, canon, len) != 0;
            total++;
        }
        chain_oracle_free(b);
    }
    /* The texts must exercise both outcomes, or the test proves little. */
    assert_true(matched > total / 10);
    assert_true(matched < total * 9 / 10);
}

static void test_whole_alternatives_are_not_cut(void **state)
{
    (void)state;
    char err[256];
    rule_alt a;
    assert_int_equal(rule_alt_compile("no gap here", 0, &a, err, sizeof err), 0);
    assert_int_equal(a.runs.n, 0);
    rule_alt_free(&a);
    assert_int_equal(rule_alt_compile("a ~~2 b", 0, &a, err, sizeof err), 0);  /* either order */
    assert_int_equal(a.runs.n, 0);
    rule_alt_free(&a);
    assert_int_equal(rule_alt_compile("a b ~2 c ~0 d e", 0, &a, err, sizeof err), 0);
    assert_int_equal(a.runs.n, 3);
    assert_int_equal(a.runs.words[0], 2);
    assert_int_equal(a.runs.words[1], 1);
    assert_int_equal(a.runs.words[2], 2);
    assert_int_equal(a.runs.gap_before[1], 2);
    assert_int_equal(a.runs.gap_before[2], 0);
    assert_string_equal(a.runs.regex[0], " a b ");
    assert_string_equal(a.runs.regex[1], " c ");
    assert_string_equal(a.runs.regex[2], " d e ");
    assert_string_equal(a.regex, " a b (?:[^ ]+ ){0,2}c d e ");
    rule_alt_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_cases),
        cmocka_unit_test(test_random_texts_agree),
        cmocka_unit_test(test_whole_alternatives_are_not_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
