/* Unit tests: the learned layer. A hand-made model predicts what its weights
 * say and explains itself with spans of the original text; a saved model
 * reads back the same; every kind of bad file is refused with its name and
 * the problem; the combination with the rules; a small training run with
 * liblinear; the committed default model loads and decides. */
#define _GNU_SOURCE
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>

#include "model.h"
#include "model_thr.h"
#include "model_train.h"
#include "rules.h"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_tempdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmdir(dir);
    return 0;
}

/* The hashed feature ids of text, deduplicated, ascending (into id[]). */
static size_t ids_of(const feat_params *fp, const char *text, uint32_t *id, size_t max)
{
    norm_buf nb;
    feat_buf fb;
    norm_buf_init(&nb);
    feat_buf_init(&fb);
    assert_int_equal(norm_text(&nb, text, strlen(text)), NORM_OK);
    assert_int_equal(feat_extract(fp, &nb, NULL, 0, &fb), 0);
    size_t n = 0;
    for (size_t i = fb.n_fixed; i < fb.n; i++) {
        size_t j = 0;
        while (j < n && id[j] != fb.id[i])
            j++;
        if (j == n && n < max)
            id[n++] = fb.id[i];
    }
    for (size_t i = 1; i < n; i++) /* insertion sort */
        for (size_t j = i; j > 0 && id[j - 1] > id[j]; j--) {
            uint32_t t = id[j];
            id[j] = id[j - 1];
            id[j - 1] = t;
        }
    feat_buf_free(&fb);
    norm_buf_free(&nb);
    return n;
}

static uint32_t g_id[256];
static float g_w[256];

/* A model with one label, insult: every n-gram of "idiot" weighs 1, bias -1. */
static void insult_spec(model_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    feat_params_default(&spec->fp);
    spec->fp.char_min = 3; /* the arithmetic below counts 3..5-grams */
    spec->fp.char_max = 5;
    spec->fp.len_power = 0.5f;
    size_t n = ids_of(&spec->fp, "idiot", g_id, 256);
    for (size_t i = 0; i < n; i++)
        g_w[i] = 1.0f;
    spec->labels[0] = (model_label_spec){.label = LABEL_INSULT, .thr_alone = 0.5f,
                                         .thr_add = 0.6f, .thr_veto = 0.0f, .bias = -1.0f,
                                         .id = g_id, .w = g_w, .n = n};
    spec->n_labels = 1;
}

static void predict(const model *m, model_scratch *s, const char *text, model_result *r)
{
    assert_int_equal(model_begin(s, text, strlen(text), r), MODEL_OK);
    assert_int_equal(model_predict(m, s, CHANNEL_CHAT, NULL, r), MODEL_OK);
}

static void test_predict_and_explain(void **state)
{
    (void)state;
    model_spec spec;
    insult_spec(&spec);
    char err[512];
    model *m = model_from_spec(&spec, "hand", err, sizeof err);
    assert_non_null(m);
    assert_int_equal(model_labels(m), LABEL_BIT(LABEL_INSULT));
    model_scratch *s = model_scratch_new();
    model_result r;

    const char *text = "You  IDIOT!!";
    predict(m, s, text, &r);
    /* " you idiot ": 2 words, 1 bigram, 6 + 12 character n-grams; the 13 of
     * "idiot" weigh 1 each, scaled by 1/sqrt(21): log-odds 13/4.58 - 1. */
    assert_true(fabsf(r.prob[LABEL_INSULT] - 1.0f / (1.0f + expf(-(13.0f / sqrtf(21.0f) - 1.0f)))) <
                1e-5f);
    assert_true(r.add & LABEL_BIT(LABEL_INSULT));
    assert_true(r.alone & LABEL_BIT(LABEL_INSULT));
    assert_true(r.n_ev >= 1);
    assert_int_equal(r.ev[0].label, LABEL_INSULT);
    assert_int_equal(r.ev[0].start, 5);  /* "IDIOT" in the original bytes */
    assert_int_equal(r.ev[0].end, 10);
    assert_memory_equal(text + r.ev[0].start, "IDIOT", 5);

    predict(m, s, "thank you for the quick delivery", &r);
    assert_true(fabsf(r.prob[LABEL_INSULT] - 1.0f / (1.0f + expf(1.0f))) < 1e-6f); /* the bias */
    assert_int_equal(r.add | r.alone, 0);
    assert_int_equal(r.n_ev, 0);

    /* An obfuscated spelling meets the same canonical n-grams. */
    predict(m, s, "you 1d10t", &r);
    assert_true(r.add & LABEL_BIT(LABEL_INSULT));

    model_scratch_free(s);
    model_release(m);
}

/* staff_blame is an employee's note's label: the model scores it anywhere
 * but sets it only on a staff_note (an unknown channel is not one). */
static void test_staff_blame_only_in_staff_notes(void **state)
{
    (void)state;
    model_spec spec;
    insult_spec(&spec);
    spec.labels[0].label = LABEL_STAFF_BLAME;
    char err[512];
    model *m = model_from_spec(&spec, "hand", err, sizeof err);
    assert_non_null(m);
    model_scratch *s = model_scratch_new();
    model_result r;
    static const int others[] = {CHANNEL_UNSPECIFIED, CHANNEL_CHAT, CHANNEL_REVIEW};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        assert_int_equal(model_begin(s, "you idiot", 9, &r), MODEL_OK);
        assert_int_equal(model_predict(m, s, others[k], NULL, &r), MODEL_OK);
        assert_true(r.prob[LABEL_STAFF_BLAME] > 0.6f);
        assert_int_equal(r.add | r.alone, 0);
    }
    assert_int_equal(model_begin(s, "you idiot", 9, &r), MODEL_OK);
    assert_int_equal(model_predict(m, s, CHANNEL_STAFF_NOTE, NULL, &r), MODEL_OK);
    assert_true(r.add & LABEL_BIT(LABEL_STAFF_BLAME));
    model_scratch_free(s);
    model_release(m);
}

static void test_combine(void **state)
{
    (void)state;
    model_result r;
    memset(&r, 0, sizeof r);
    label_set rules = LABEL_BIT(LABEL_PROFANITY) | LABEL_BIT(LABEL_REFUND_REQUEST) |
                      LABEL_FLAG_AT_STAFF;
    r.add = LABEL_BIT(LABEL_INSULT);
    r.veto = LABEL_BIT(LABEL_REFUND_REQUEST);
    label_set got = model_combine(rules, &r);
    assert_int_equal(got, LABEL_BIT(LABEL_PROFANITY) | LABEL_BIT(LABEL_INSULT) |
                              LABEL_FLAG_AT_STAFF);
    /* No model output: the rules' labels unchanged. */
    memset(&r, 0, sizeof r);
    assert_int_equal(model_combine(rules, &r), rules);
}

static void test_two_models_veto_needs_both(void **state)
{
    (void)state;
    model_spec spec;
    insult_spec(&spec);
    spec.labels[0].thr_veto = 0.9f; /* vetoes the rules' insult below 0.9 */
    char err[512];
    model *a = model_from_spec(&spec, "a", err, sizeof err);
    spec.labels[0].thr_veto = 0.0f; /* never vetoes */
    model *b = model_from_spec(&spec, "b", err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    model_scratch *s = model_scratch_new();
    model_result r;
    const char *text = "thanks";
    assert_int_equal(model_begin(s, text, strlen(text), &r), MODEL_OK);
    assert_int_equal(model_predict(a, s, 0, NULL, &r), MODEL_OK);
    assert_true(r.veto & LABEL_BIT(LABEL_INSULT));
    assert_int_equal(model_predict(b, s, 0, NULL, &r), MODEL_OK);
    assert_false(r.veto & LABEL_BIT(LABEL_INSULT));
    model_scratch_free(s);
    model_release(a);
    model_release(b);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void reseal(uint8_t *buf, size_t len)
{
    uint64_t h = fnv64(buf, len - 8);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

/* Load buf as a file and expect the error to contain want (and the path). */
static void expect_bad(const uint8_t *buf, size_t len, const char *want)
{
    char path[1100], err[1024];
    snprintf(path, sizeof path, "%s/bad.model", dir);
    spit(path, buf, len);
    model *m = model_load(path, err, sizeof err);
    if (m)
        fail_msg("loaded a bad model (want \"%s\")", want);
    if (!strstr(err, want) || strncmp(err, path, strlen(path)) != 0)
        fail_msg("error \"%s\" lacks the path or \"%s\"", err, want);
}

/* Two labels on the same n-grams: each id holds a row of both weights, and
 * each label gets its own sum and its own evidence. A text long enough to add
 * more rows than one 32-bit sum may take before it is spilled (65,535) still
 * sums exactly. */
static void test_shared_ids_and_long_text(void **state)
{
    (void)state;
    model_spec spec;
    memset(&spec, 0, sizeof spec);
    feat_params_default(&spec.fp);
    spec.fp.char_min = 3;
    spec.fp.char_max = 5;
    spec.fp.len_power = 0.5f;
    static uint32_t id[256];
    static float w_insult[256], w_threat[256];
    size_t n = ids_of(&spec.fp, "idiot", id, 256);
    for (size_t i = 0; i < n; i++) {
        w_insult[i] = 0.001f;
        w_threat[i] = -0.002f;
    }
    spec.labels[0] = (model_label_spec){.label = LABEL_INSULT, .thr_alone = 0.4f, .thr_add = 0.4f,
                                        .bias = -1.0f, .id = id, .w = w_insult, .n = n};
    spec.labels[1] = (model_label_spec){.label = LABEL_THREAT, .thr_alone = 0.9f, .thr_add = 0.9f,
                                        .bias = 1.0f, .id = id, .w = w_threat, .n = n};
    spec.n_labels = 2;
    char err[512];
    model *m = model_from_spec(&spec, "shared", err, sizeof err);
    assert_non_null(m);
    assert_int_equal(model_weight_count(m), 2 * n);
    model_scratch *s = model_scratch_new();
    model_result r;

    /* " you idiot ": 21 occurrences, the 13 of "idiot" weighted. */
    predict(m, s, "You  IDIOT!!", &r);
    float x = 13.0f / sqrtf(21.0f);
    assert_true(fabsf(r.prob[LABEL_INSULT] - 1.0f / (1.0f + expf(-(0.001f * x - 1.0f)))) < 1e-5f);
    assert_true(fabsf(r.prob[LABEL_THREAT] - 1.0f / (1.0f + expf(-(1.0f - 0.002f * x)))) < 1e-5f);

    /* "idiot " 70,000 times: per word 1 unigram + 12 character n-grams
     * weighted, and a bigram (but for the first) that is not. */
    enum { REPEAT = 70000 };
    char *text = malloc(REPEAT * 6 + 1);
    assert_non_null(text);
    for (int i = 0; i < REPEAT; i++)
        memcpy(text + 6 * i, "idiot ", 6);
    text[REPEAT * 6] = '\0';
    predict(m, s, text, &r);
    double weighted = 13.0 * REPEAT, all = 14.0 * REPEAT - 1;
    double want_insult = -1.0 + 0.001 * weighted / sqrt(all);   /* about -0.08 */
    double want_threat = 1.0 - 0.002 * weighted / sqrt(all);    /* about -0.84 */
    assert_true(fabs(r.prob[LABEL_INSULT] - 1.0 / (1.0 + exp(-want_insult))) < 1e-4);
    assert_true(fabs(r.prob[LABEL_THREAT] - 1.0 / (1.0 + exp(-want_threat))) < 1e-4);
    assert_true(r.add & LABEL_BIT(LABEL_INSULT));    /* 0.48 >= 0.4 */
    assert_false(r.add & LABEL_BIT(LABEL_THREAT));   /* 0.30 < 0.9 */
    assert_true(r.n_ev >= 1);
    assert_int_equal(r.ev[0].label, LABEL_INSULT);
    assert_memory_equal(text + r.ev[0].start, "idiot", 5);
    free(text);
    model_scratch_free(s);
    model_release(m);
}

static void test_save_load_and_bad_files(void **state)
{
    (void)state;
    model_spec spec;
    insult_spec(&spec);
    char path[1100], err[1024];
    snprintf(path, sizeof path, "%s/good.model", dir);
    assert_int_equal(model_save(path, &spec, err, sizeof err), 0);
    model *m = model_load(path, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_int_equal(model_weight_count(m), spec.labels[0].n);
    assert_true(fabsf(model_threshold(m, LABEL_INSULT, 1) - 0.6f) < 1e-6f);
    model_release(m);

    size_t len;
    uint8_t *good = slurp(path, &len), *bad = malloc(len + 16);

    /* Every cut short of the end is a truncation. */
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 97)) {
        memcpy(bad, good, cut);
        expect_bad(bad, cut, cut < 8 ? "truncated" : cut < len - 8 ? "truncated" : "truncated");
    }
    memcpy(bad, good, len);
    bad[0] = 'X';
    expect_bad(bad, len, "not a complaintd model");

    memcpy(bad, good, len);
    bad[8] = 7; /* version 7 */
    expect_bad(bad, len, "format version 7");

    /* The n-gram hash byte follows magic, version, hash bits, seed, four
     * flags, the length power, the rule-identity flag and the prefix. */
    enum { V3_AT = 8 + 4 + 4 + 4 + 4 + 4, HASH_AT = V3_AT + 2 };
    assert_int_equal(good[HASH_AT], FEAT_HASH_WIDE);
    memcpy(bad, good, len);
    bad[HASH_AT] = 9;
    reseal(bad, len);
    expect_bad(bad, len, "unknown n-gram hash");

    /* Format 3 files have no hash byte, format 2 files not the two before
     * it either; both hash with FNV and are still read. */
    for (uint8_t version = 2; version <= 3; version++) {
        size_t cut = version == 2 ? 3 : 1, at = version == 2 ? V3_AT : HASH_AT;
        memcpy(bad, good, at);
        memcpy(bad + at, good + at + cut, len - at - cut);
        bad[8] = version;
        reseal(bad, len - cut);
        snprintf(path, sizeof path, "%s/format%u.model", dir, version);
        spit(path, bad, len - cut);
        m = model_load(path, err, sizeof err);
        if (!m)
            fail_msg("format %u: %s", version, err);
        assert_int_equal(model_features(m)->hash, FEAT_HASH_FNV);
        assert_int_equal(model_features(m)->prefix, 0);
        assert_int_equal(model_weight_count(m), spec.labels[0].n);
        model_release(m);
    }

    /* The label's name, same length, resealed: only the name is wrong. */
    memcpy(bad, good, len);
    uint8_t *name = memmem(bad, len, "insult", 6);
    assert_non_null(name);
    memcpy(name, "insulx", 6);
    reseal(bad, len);
    expect_bad(bad, len, "unknown label 'insulx'");

    memcpy(bad, good, len);
    bad[len - 12] ^= 0x40; /* a weight's byte, not resealed */
    expect_bad(bad, len, "checksum mismatch");

    memcpy(bad, good, len);
    memcpy(bad + len, "junk", 4);
    expect_bad(bad, len + 4, "bytes after the end");

    /* A threshold of 2, resealed. */
    memcpy(bad, good, len);
    float two = 2.0f;
    memcpy(name + 6 + 4, &two, 4); /* thr_add follows thr_alone */
    reseal(bad, len);
    expect_bad(bad, len, "threshold outside [0, 1]");

    snprintf(path, sizeof path, "%s/missing.model", dir);
    assert_null(model_load(path, err, sizeof err));
    assert_non_null(strstr(err, "missing.model: No such file"));

    free(good);
    free(bad);
}

/* Version 3 feature parameters: a word prefix joins a word's inflections, a
 * fired rule is a feature of its own (by its id, not its index), and a model
 * reads back with them as written. */
static void test_prefix_rule_ids_v3(void **state)
{
    (void)state;
    feat_params fp;
    feat_params_default(&fp);
    fp.prefix = 0;
    uint32_t a[256], b[256];
    /* Two inflections of one Russian word (7 and 8 code points) share their
     * 5-code-point prefix: one id more than without prefixes, not two; a
     * word of 5 code points has no prefix feature. */
    size_t plain = ids_of(&fp, "заказом заказами", a, 256);
    fp.prefix = 5;
    size_t pre = ids_of(&fp, "заказом заказами", b, 256);
    assert_int_equal(pre, plain + 1);
    fp.prefix = 0;
    plain = ids_of(&fp, "idiot", a, 256);
    fp.prefix = 5;
    assert_int_equal(ids_of(&fp, "idiot", b, 256), plain);

    rule rules[2] = {{.id = "tox.first", .label = LABEL_INSULT},
                     {.id = "tox.second", .label = LABEL_INSULT}};
    rulepack rp = {.rules = rules, .n_rules = 2};
    classify_match match = {.rule = 1, .start = 0, .end = 5};
    classify_result cr = {.labels = LABEL_BIT(LABEL_INSULT), .matches = &match, .n_matches = 1,
                          .pack = &rp};
    norm_buf nb;
    feat_buf fb;
    norm_buf_init(&nb);
    feat_buf_init(&fb);
    assert_int_equal(norm_text(&nb, "idiot", 5), NORM_OK);
    fp.prefix = 0;
    assert_int_equal(feat_extract(&fp, &nb, &cr, 0, &fb), 0);
    size_t fixed = fb.n_fixed;
    fp.rule_ids = 1;
    assert_int_equal(feat_extract(&fp, &nb, &cr, 0, &fb), 0);
    assert_int_equal(fb.n_fixed, fixed + 1);
    uint32_t second = fb.id[1]; /* after "the rules set insult" */
    assert_true(second >= FEAT_HASH_BASE);
    match.rule = 0;
    assert_int_equal(feat_extract(&fp, &nb, &cr, 0, &fb), 0);
    assert_int_not_equal(fb.id[1], second);
    cr.pack = NULL; /* a result not made by classify_text: no rule ids */
    assert_int_equal(feat_extract(&fp, &nb, &cr, 0, &fb), 0);
    assert_int_equal(fb.n_fixed, fixed);
    feat_buf_free(&fb);
    norm_buf_free(&nb);

    model_spec spec;
    char path[1100], err[1024];
    snprintf(path, sizeof path, "%s/v3.model", dir);
    for (int v3 = 0; v3 < 2; v3++) {
        insult_spec(&spec);
        spec.fp.prefix = v3 ? 6 : 0;
        spec.fp.rule_ids = (uint8_t)v3;
        assert_int_equal(model_save(path, &spec, err, sizeof err), 0);
        size_t len;
        uint8_t *bytes = slurp(path, &len);
        assert_int_equal(bytes[8], MODEL_VERSION);
        free(bytes);
        model *m = model_load(path, err, sizeof err);
        if (!m)
            fail_msg("%s", err);
        assert_int_equal(model_features(m)->prefix, v3 ? 6 : 0);
        assert_int_equal(model_features(m)->rule_ids, v3);
        model_release(m);
    }
    spec.fp.prefix = 17;
    assert_null(model_from_spec(&spec, "hand", err, sizeof err));
    assert_non_null(strstr(err, "prefix"));
}

static void test_spec_checks(void **state)
{
    (void)state;
    model_spec spec;
    insult_spec(&spec);
    char err[512];
    uint32_t save = g_id[1];
    g_id[1] = g_id[0]; /* not ascending */
    assert_null(model_from_spec(&spec, "x", err, sizeof err));
    assert_non_null(strstr(err, "x: label 'insult': feature ids not in ascending order"));
    g_id[1] = save;
    spec.labels[1] = spec.labels[0];
    spec.n_labels = 2;
    assert_null(model_from_spec(&spec, "x", err, sizeof err));
    assert_non_null(strstr(err, "appears twice"));
    spec.n_labels = 1;
    spec.fp.hash_bits = 40;
    assert_null(model_from_spec(&spec, "x", err, sizeof err));
    assert_non_null(strstr(err, "hash bits"));
}

static void test_thresholds(void **state)
{
    (void)state;
    /* The rules catch row 0; the model ranks the other positives above the
     * negatives except one. */
    thr_row r[] = {{0.05f, 1, 1, 0}, {0.9f, 1, 0, 0}, {0.8f, 1, 0, 0}, {0.7f, 0, 0, 0},
                   {0.6f, 1, 0, 0},  {0.2f, 0, 0, 0}, {0.1f, 0, 0, 0}};
    thr_choice c;
    model_thr_choose(r, sizeof r / sizeof r[0], 1, &c);
    assert_true(fabs(c.f1_rules - 2.0 / 5.0) < 1e-9);   /* tp 1, fn 3 */
    assert_true(c.thr_add > 0.2f && c.thr_add < 0.6f);  /* all four positives, one fp */
    assert_true(fabs(c.f1_add - 8.0 / 9.0) < 1e-9);
    assert_true(c.thr_alone > 0.2f && c.thr_alone < 0.6f);
    assert_true(c.thr_veto == 0.0f); /* vetoing row 0 would lose a true positive */
}

/* Source 1 scores everything high, source 0 low: pooled, the cut would sit
 * between source 1's rows and leave source 0 without recall; the mean of the
 * sources' F1s takes source 0's positives too. */
static void test_thresholds_per_source(void **state)
{
    (void)state;
    thr_row r[] = {{0.99f, 1, 0, 1}, {0.98f, 1, 0, 1}, {0.97f, 1, 0, 1}, {0.96f, 1, 0, 1},
                   {0.60f, 0, 0, 1}, {0.50f, 0, 0, 1}, {0.40f, 0, 0, 1}, {0.30f, 1, 0, 0},
                   {0.25f, 0, 0, 0}, {0.20f, 0, 0, 0}, {0.10f, 0, 0, 0}, {0.05f, 0, 0, 0}};
    thr_choice c;
    model_thr_choose(r, sizeof r / sizeof r[0], 0, &c);
    /* Pooled F1 would cut at 0.78 (8/9 against 10/14 at 0.275). */
    assert_true(c.thr_alone > 0.25f && c.thr_alone < 0.30f);
    assert_true(fabs(c.f1_alone - (8.0 / 11.0 + 1.0) / 2) < 1e-9);
}

/* 60 rows, a third of them insults ("moron"), in four groups; after base
 * (NULL: none). */
static train_set *small_train_set(model *base)
{
    feat_params fp;
    feat_params_default(&fp);
    fp.hash_bits = 16;
    train_set *ts = train_set_new(&fp);
    if (base)
        assert_int_equal(train_set_base_add(ts, base), 0);
    char err[256], text[128];
    static const char *bad[] = {"you moron", "what a moron you are", "moron of a manager",
                                "stupid moron"};
    static const char *good[] = {"my parcel is late", "thank you so much", "where is my order",
                                 "the kettle arrived broken"};
    for (int i = 0; i < 60; i++) {
        int pos = i % 3 == 0;
        snprintf(text, sizeof text, "%s %s", pos ? bad[i % 4] : good[i % 4],
                 i % 2 ? "today" : "again");
        assert_int_equal(train_set_add(ts, NULL, text, strlen(text), CHANNEL_CHAT, "en",
                                       pos ? LABEL_BIT(LABEL_INSULT) : 0, ~0u, i % 4, 0,
                                       err, sizeof err), 0);
    }
    return ts;
}

static void test_train_small(void **state)
{
    (void)state;
    train_set *ts = small_train_set(NULL);
    char err[256];
    assert_int_equal(train_set_add(ts, NULL, "\xff", 1, 0, NULL, 0, ~0u, 0, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "UTF-8"));
    train_opts o;
    train_opts_default(&o);
    model_spec spec;
    assert_int_equal(train_fit(ts, &o, &spec, err, sizeof err), 0);
    assert_int_equal(spec.n_labels, 1); /* only insult has positives */
    assert_int_equal(spec.labels[0].label, LABEL_INSULT);
    model *m = model_from_spec(&spec, "trained", err, sizeof err);
    assert_non_null(m);
    model_scratch *s = model_scratch_new();
    model_result r;
    /* Unseen sentences; "again" and "today" are spread over both classes. */
    predict(m, s, "a total moron again", &r);
    assert_true(r.add & LABEL_BIT(LABEL_INSULT));
    predict(m, s, "my order is late today", &r);
    assert_false(r.add & LABEL_BIT(LABEL_INSULT));
    model_scratch_free(s);
    model_release(m);
    train_spec_free(&spec);
    train_set_free(ts);
}

/* Trained after a base model that already decides every row right, a
 * model has nothing to add: the label is left to the base. Without the
 * base (test_train_small) the same rows give an insult classifier. */
static void test_train_after_base(void **state)
{
    (void)state;
    train_set *first = small_train_set(NULL);
    train_opts o;
    train_opts_default(&o);
    model_spec spec;
    char err[256];
    assert_int_equal(train_fit(first, &o, &spec, err, sizeof err), 0);
    model *base = model_from_spec(&spec, "base", err, sizeof err);
    assert_non_null(base);
    train_spec_free(&spec);
    /* A base is given before the rows, not after. */
    assert_int_equal(train_set_base_add(first, base), -1);
    train_set_free(first);

    train_set *after = small_train_set(base);
    model_release(base);  /* the set holds its own reference */
    FILE *log = tmpfile();
    assert_non_null(log);
    o.log = log;
    assert_int_equal(train_fit(after, &o, &spec, err, sizeof err), 0);
    assert_int_equal(spec.n_labels, 0);
    char line[512];
    int left = 0;
    rewind(log);
    while (fgets(line, sizeof line, log))
        left += strstr(line, "insult") && strstr(line, "left to the base models") != NULL;
    assert_int_equal(left, 1);
    fclose(log);
    train_spec_free(&spec);
    train_set_free(after);
}

/* The committed default model: it loads, knows labels, and marks an insult
 * that the rules would need the rule features for, as a fresh clone will. */
static void test_default_model(void **state)
{
    (void)state;
    const char *root = getenv("COMPLAINTD_ROOT");
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/models/default.model", root ? root : ".");
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("no committed default model at %s", path);
    model *m = model_load(path, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    assert_true(model_labels(m) & LABEL_BIT(LABEL_INSULT));
    assert_true(model_labels(m) & LABEL_BIT(LABEL_REFUND_REQUEST));
    model_release(m);
}

/* The model reading the rule classifier's canonical text (model_begin_norm,
 * as complaintd does) decides and explains exactly as when it normalises the
 * text itself. Both paths share one scratch and alternate, reuse first, so a
 * scratch still holding the previous event's text would show. */
static void test_begin_norm_matches_begin(void **state)
{
    (void)state;
    const char *root = getenv("COMPLAINTD_ROOT");
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/rules", root ? root : ".");
    rulepack *rp = rulepack_load(path, getenv("COMPLAINTD_CACHE"), err, sizeof err);
    if (!rp)
        fail_msg("%s", err);
    snprintf(path, sizeof path, "%s/models/default.model", root ? root : ".");
    model *m = model_load(path, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    classifier *cl = classifier_new(rp);
    model_scratch *s = model_scratch_new();
    assert_non_null(cl);
    assert_non_null(s);
    static const char *texts[] = {
        "You utter 1d10t, you never listen to a word I say!!",
        "Thank you, the repair was quick and the staff were kind.",
        "Верните деньги за сломанный чайник, иначе напишу отзывы везде",
        "Ти дурень, де моє замовлення?",
        "Zamówienie nie przyszło, oddajcie pieniądze albo idę do sądu",
        "",
    };
    size_t n = sizeof texts / sizeof *texts, with_ev = 0, differ = 0;
    float last = -1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(texts[i]);
        classify_result cr;
        assert_int_equal(classify_text(cl, texts[i], len, CHANNEL_CHAT, NULL, &cr), CLASSIFY_OK);
        model_result a, b;
        assert_int_equal(model_begin_norm(s, classifier_canonical(cl), &a), MODEL_OK);
        assert_int_equal(model_predict(m, s, CHANNEL_CHAT, &cr, &a), MODEL_OK);
        assert_string_equal(model_scratch_text(s), classifier_canonical(cl)->text);
        assert_int_equal(model_begin(s, texts[i], len, &b), MODEL_OK);
        assert_int_equal(model_predict(m, s, CHANNEL_CHAT, &cr, &b), MODEL_OK);
        assert_string_equal(model_scratch_text(s), classifier_canonical(cl)->text);
        assert_int_equal(a.covered, b.covered);
        assert_int_equal(a.alone, b.alone);
        assert_int_equal(a.add, b.add);
        assert_int_equal(a.veto, b.veto);
        for (int l = 0; l < LABEL_COUNT; l++)
            assert_true(a.prob[l] == b.prob[l]);
        assert_int_equal(a.n_ev, b.n_ev);
        for (size_t k = 0; k < a.n_ev; k++) {
            assert_int_equal(a.ev[k].label, b.ev[k].label);
            assert_true(a.ev[k].weight == b.ev[k].weight);
            assert_int_equal(a.ev[k].start, b.ev[k].start);
            assert_int_equal(a.ev[k].end, b.ev[k].end);
            assert_int_equal(a.ev[k].cstart, b.ev[k].cstart);
            assert_int_equal(a.ev[k].cend, b.ev[k].cend);
        }
        with_ev += a.n_ev > 0;
        differ += a.prob[LABEL_INSULT] != last;
        last = a.prob[LABEL_INSULT];
    }
    /* The texts exercise the evidence spans and differ from one another. */
    assert_true(with_ev >= 1);
    assert_int_equal(differ, n);
    model_scratch_free(s);
    classifier_free(cl);
    model_release(m);
    rulepack_free(rp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predict_and_explain),
        cmocka_unit_test(test_combine),
        cmocka_unit_test(test_staff_blame_only_in_staff_notes),
        cmocka_unit_test(test_two_models_veto_needs_both),
        cmocka_unit_test(test_shared_ids_and_long_text),
        cmocka_unit_test(test_save_load_and_bad_files),
        cmocka_unit_test(test_spec_checks),
        cmocka_unit_test(test_prefix_rule_ids_v3),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_thresholds_per_source),
        cmocka_unit_test(test_train_small),
        cmocka_unit_test(test_train_after_base),
        cmocka_unit_test(test_default_model),
        cmocka_unit_test(test_begin_norm_matches_begin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
