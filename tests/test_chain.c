/* Unit tests: gap alternatives scanned as runs of words (chain.h) find the
 * same matches as the whole regex. For each alternative, a database of the
 * whole regex alone and a database of its runs scan the same texts; the
 * chain's first end must equal the whole regex's first end, and a text
 * neither matches must stay unmatched. Texts are random words from a small
 * vocabulary, so that the runs, their repeats and the gap bounds meet often. */
#include "testutil.h"

#include <hs/hs.h>

#include "chain.h"
#include "normalise.h"
#include "rule_regex.h"

/* Scanning one alternative both ways. */
typedef struct both {
    hs_database_t *whole, *runs;
    hs_scratch_t  *s_whole, *s_runs;
    chain_set      cs;
    chain_scan     sc;
} both;

static uint32_t first_end;

static int whole_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
    (void)id, (void)from, (void)flags, (void)ctx;
    if (first_end == 0 || to < first_end)
        first_end = (uint32_t)to;
    return 0;
}

static int runs_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                   void *ctx)
{
    (void)from, (void)flags;
    return chain_scan_hit(ctx, id, (uint32_t)to) < 0;
}

static void found(uint32_t pattern, uint32_t end, void *ctx)
{
    (void)pattern;
    uint32_t *e = ctx;
    if (*e == 0 || end < *e)
        *e = end;
}

static hs_database_t *compile(const char *const *exprs, const unsigned *ids, size_t n)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    unsigned flags[RULE_RUNS_MAX] = {0};
    if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &db, &ce) !=
        HS_SUCCESS) {
        fprintf(stderr, "compile %s: %s\n", exprs[ce->expression < 0 ? 0 : ce->expression], ce->message);
        hs_free_compile_error(ce);
        return NULL;
    }
    return db;
}

static void both_init(both *b, const char *alt)
{
    char err[256];
    memset(b, 0, sizeof *b);
    char *whole = rule_regex(alt, 0, NULL, err, sizeof err);
    assert_non_null(whole);
    rule_runs runs;
    assert_int_equal(rule_regex_runs(alt, 0, &runs, err, sizeof err), 0);
    assert_true(runs.n >= 2);
    assert_int_equal(chain_set_add(&b->cs, 0, &runs), 0);
    rule_runs_free(&runs);
    assert_int_equal(chain_set_finish(&b->cs), 0);
    unsigned zero = 0, ids[RULE_RUNS_MAX];
    for (size_t s = 0; s < b->cs.n_segments; s++)
        ids[s] = (unsigned)s;
    b->whole = compile((const char *const *)&whole, &zero, 1);
    b->runs = compile((const char *const *)b->cs.segments, ids, b->cs.n_segments);
    free(whole);
    assert_non_null(b->whole);
    assert_non_null(b->runs);
    assert_int_equal(hs_alloc_scratch(b->whole, &b->s_whole), HS_SUCCESS);
    assert_int_equal(hs_alloc_scratch(b->runs, &b->s_runs), HS_SUCCESS);
    assert_int_equal(chain_scan_init(&b->sc, &b->cs), 0);
}

static void both_free(both *b)
{
    hs_free_scratch(b->s_whole);
    hs_free_scratch(b->s_runs);
    hs_free_database(b->whole);
    hs_free_database(b->runs);
    chain_scan_free(&b->sc);
    chain_set_free(&b->cs);
}

/* Scan canonical text both ways; returns the agreed first end (0: none). */
static uint32_t scan_both(both *b, const char *canon, size_t len)
{
    first_end = 0;
    assert_int_equal(hs_scan(b->whole, canon, (unsigned)len, 0, b->s_whole, whole_cb, NULL),
                     HS_SUCCESS);
    chain_scan_begin(&b->sc, canon);
    assert_int_equal(hs_scan(b->runs, canon, (unsigned)len, 0, b->s_runs, runs_cb, &b->sc),
                     HS_SUCCESS);
    uint32_t chained = 0;
    assert_int_equal(chain_scan_join(&b->sc, &b->cs, found, &chained), 0);
    chain_scan_reset(&b->sc);
    if (chained != first_end)
        fprintf(stderr, "mismatch on \"%.*s\": whole %u, chain %u\n", (int)len, canon, first_end,
                chained);
    assert_int_equal(chained, first_end);
    return chained;
}

static uint32_t scan_text(both *b, norm_buf *nb, const char *text)
{
    assert_int_equal(norm_text(nb, text, strlen(text)), NORM_OK);
    return scan_both(b, nb->text, nb->len);
}

static void test_known_cases(void **state)
{
    (void)state;
    norm_buf nb;
    norm_buf_init(&nb);
    both b;
    both_init(&b, "want ~2 refund");
    assert_int_not_equal(scan_text(&b, &nb, "I want a refund"), 0);
    assert_int_not_equal(scan_text(&b, &nb, "want refund"), 0);            /* gap 0 */
    assert_int_not_equal(scan_text(&b, &nb, "want my full refund"), 0);    /* gap 2 */
    assert_int_equal(scan_text(&b, &nb, "want my money full refund"), 0);  /* gap 3 */
    assert_int_equal(scan_text(&b, &nb, "refund, I want"), 0);             /* order */
    both_free(&b);

    both_init(&b, "very ~1 very bad");  /* one segment twice, a two-word run */
    assert_int_equal(scan_text(&b, &nb, "very bad"), 0);
    assert_int_not_equal(scan_text(&b, &nb, "very very bad"), 0);
    assert_int_not_equal(scan_text(&b, &nb, "very, so very bad"), 0);
    assert_int_equal(scan_text(&b, &nb, "very so so very bad"), 0);
    both_free(&b);

    both_init(&b, "call* ~0 manag* ~3 now");  /* prefixes, a ~0 gap */
    assert_int_not_equal(scan_text(&b, &nb, "calling manager right now"), 0);
    assert_int_equal(scan_text(&b, &nb, "calling the manager now"), 0);
    both_free(&b);
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
        both b;
        both_init(&b, alts[k]);
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
            matched += scan_both(&b, canon, len) != 0;
            total++;
        }
        both_free(&b);
    }
    /* The texts must exercise both outcomes, or the test proves little. */
    assert_true(matched > total / 10);
    assert_true(matched < total * 9 / 10);
}

static void test_whole_alternatives_are_not_cut(void **state)
{
    (void)state;
    char err[256];
    rule_runs runs;
    assert_int_equal(rule_regex_runs("no gap here", 0, &runs, err, sizeof err), 0);
    assert_int_equal(runs.n, 0);
    assert_int_equal(rule_regex_runs("a ~~2 b", 0, &runs, err, sizeof err), 0);  /* either order */
    assert_int_equal(runs.n, 0);
    assert_int_equal(rule_regex_runs("a b ~2 c ~0 d e", 0, &runs, err, sizeof err), 0);
    assert_int_equal(runs.n, 3);
    assert_int_equal(runs.words[0], 2);
    assert_int_equal(runs.words[1], 1);
    assert_int_equal(runs.words[2], 2);
    assert_int_equal(runs.gap_before[1], 2);
    assert_int_equal(runs.gap_before[2], 0);
    assert_string_equal(runs.regex[0], " a b ");
    rule_runs_free(&runs);
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
