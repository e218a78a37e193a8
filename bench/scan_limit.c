/*
 * scan_limit — what one core can do with the compiled rule pack, without the
 * daemon around it.
 *
 *   scan_limit --corpus FILE.pb [--rules DIR] [--cache DIR] [--texts N]
 *              [--seconds S] [--threads T] [--dump-canonical FILE]
 *              [--literal] [--nosom] [--extra FILE]
 *
 * Loads the pack exactly as complaintd does (rulepack_load, with the compiled
 * database cache), decodes the corpus's texts, normalises them once, then
 * times, each for at least S seconds:
 *   normalise  norm_text alone, one thread;
 *   scan       raw hs_scan of the default database over the pre-normalised
 *              texts with a callback that only counts: the scan limit;
 *   classify   classify_text (normalise + scan + rule logic), one thread;
 *   scan_mt / classify_mt  the same on T threads (default: every core);
 * and with --literal, a pack of the same size made of plain literals (each
 * pattern's longest literal run, as " word" bytes), compiled with the same
 * flags; with --nosom, the pack's patterns compiled whole, one regex per
 * alternative without SOM (the database before gap phrases were cut into
 * runs of words, chain.h; the name is from when it measured SOM); with --extra,
 * the patterns of FILE ("id<TAB>regex" lines, as `complaintctl rules export`
 * writes; a slice of them finds which patterns cost the most), with and
 * without SOM.
 * Prints one JSON object; rates are texts/s, and MB/s of canonical bytes.
 * --dump-canonical writes the canonical texts, one a line, for grep peers.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "codec.h"
#include "normalise.h"
#include "rules.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct text {
    char  *orig;
    size_t orig_len;
    char  *canon;
    size_t canon_len;
    int    channel;
    char   lang[4];
} text;

static text *texts;
static size_t n_texts;
static double seconds = 2.0;
static size_t canon_bytes, orig_bytes;

static void load_texts(const char *path, size_t limit)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t cap = 1024;
    texts = malloc(cap * sizeof *texts);
    uint8_t le[4];
    uint8_t *buf = NULL;
    size_t bcap = 0;
    while ((!limit || n_texts < limit) && fread(le, 1, 4, f) == 4) {
        uint32_t len = (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 | (uint32_t)le[3] << 24;
        if (len > bcap)
            buf = realloc(buf, bcap = len * 2);
        if (fread(buf, 1, len, f) != len)
            break;
        event_msg *ev = complaint__v1__complaint_event__unpack(NULL, len, buf);
        if (!ev)
            continue;
        if (n_texts == cap)
            texts = realloc(texts, (cap *= 2) * sizeof *texts);
        text *t = &texts[n_texts++];
        memset(t, 0, sizeof *t);
        t->orig = strdup(ev->text);
        t->orig_len = strlen(ev->text);
        t->channel = (int)ev->channel;
        snprintf(t->lang, sizeof t->lang, "%s", ev->lang);
        orig_bytes += t->orig_len;
        complaint__v1__complaint_event__free_unpacked(ev, NULL);
    }
    free(buf);
    fclose(f);
}

/* ---- timed loops --------------------------------------------------------- */

typedef struct job {
    int kind;  /* 0 scan, 1 classify, 2 normalise */
    const rulepack *rp;
    hs_database_t *db;
    size_t first;  /* start at a different text per thread */
    uint64_t done, matches;
    double secs;
} job;

static int count_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void *run_job(void *arg)
{
    job *j = arg;
    hs_scratch_t *scratch = NULL;
    classifier *cl = NULL;
    norm_buf nb;
    norm_buf_init(&nb);
    if (j->kind == 0 && hs_alloc_scratch(j->db, &scratch) != HS_SUCCESS) {
        fprintf(stderr, "scan_limit: no scratch\n");
        exit(1);
    }
    if (j->kind == 1 && !(cl = classifier_new(j->rp))) {
        fprintf(stderr, "scan_limit: no classifier\n");
        exit(1);
    }
    uint64_t done = 0, matches = 0;
    size_t i = j->first;
    double t0 = now_s(), t = t0;
    for (;;) {
        /* check the clock every 256 texts */
        for (int k = 0; k < 256; k++) {
            text *x = &texts[i];
            if (j->kind == 0) {
                hs_scan(j->db, x->canon, (unsigned)x->canon_len, 0, scratch, count_cb, &matches);
            } else if (j->kind == 1) {
                classify_result cr;
                classify_text(cl, x->orig, x->orig_len, x->channel, x->lang, &cr);
                matches += cr.n_matches;
            } else {
                norm_text(&nb, x->orig, x->orig_len);
                matches += nb.len;
            }
            done++;
            if (++i == n_texts)
                i = 0;
        }
        t = now_s();
        if (t - t0 >= seconds)
            break;
    }
    j->done = done;
    j->matches = matches;
    j->secs = t - t0;
    hs_free_scratch(scratch);
    classifier_free(cl);
    norm_buf_free(&nb);
    return NULL;
}

/* texts/s summed over threads; *mpt: matches (or rules fired) per text */
static double measure(int kind, const rulepack *rp, hs_database_t *db, int threads, double *mpt)
{
    job js[64];
    pthread_t th[64];
    for (int k = 0; k < threads; k++) {
        js[k] = (job){.kind = kind, .rp = rp, .db = db, .first = (n_texts / (size_t)threads) * (size_t)k};
        pthread_create(&th[k], NULL, run_job, &js[k]);
    }
    double rate = 0;
    uint64_t done = 0, matches = 0;
    for (int k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        rate += (double)js[k].done / js[k].secs;
        done += js[k].done;
        matches += js[k].matches;
    }
    if (mpt)
        *mpt = (double)matches / (double)done;
    return rate;
}

/* ---- other databases ----------------------------------------------------- */

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

/* The longest run of literal bytes in a pack pattern (patterns are made of
 * \xHH escapes, plain bytes, (?: | ) groups, [^ ] classes and {m,n} repeats). */
static size_t longest_literal(const char *p, char *out)
{
    char cur[4096];
    size_t n = 0, best = 0;
    for (const char *s = p; *s;) {
        int lit = -1;
        if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
            lit = hexval(s[2]) * 16 + hexval(s[3]);
            s += 4;
        } else if (s[0] == '\\' && s[1]) {
            lit = (unsigned char)s[1];
            s += 2;
        } else if (strchr("()|[]{}?*+.^$", *s)) {
            /* skip a whole class or repeat; it ends the literal */
            if (*s == '[')
                while (*s && *s != ']')
                    s++;
            else if (*s == '{')
                while (*s && *s != '}')
                    s++;
            else if (*s == '(' && s[1] == '?' && s[2] == ':')
                s += 2;
            if (*s)
                s++;
            /* a quantifier also takes back the byte before it */
            if (n > 0 && (s[-1] == '}' || s[-1] == '?' || s[-1] == '*' || s[-1] == '+'))
                n--;
            if (n > best) {
                best = n;
                memcpy(out, cur, n);
            }
            n = 0;
            continue;
        } else {
            lit = (unsigned char)*s++;
        }
        if (n < sizeof cur)
            cur[n++] = (char)lit;
    }
    if (n > best) {
        best = n;
        memcpy(out, cur, n);
    }
    return best;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Time each text alone (one pass, one thread): the tail of the per-event cost
 * is what a decision's latency inherits. Writes p50/p99/p99.9/max in us. */
static void per_text(int kind, const rulepack *rp, double out[4])
{
    hs_scratch_t *scratch = NULL;
    classifier *cl = NULL;
    if (kind == 0)
        hs_alloc_scratch(rp->db, &scratch);
    else
        cl = classifier_new(rp);
    double *us = malloc(n_texts * sizeof *us);
    uint64_t m = 0;
    for (size_t i = 0; i < n_texts; i++) {
        text *x = &texts[i];
        double t0 = now_s();
        if (kind == 0) {
            hs_scan(rp->db, x->canon, (unsigned)x->canon_len, 0, scratch, count_cb, &m);
        } else {
            classify_result cr;
            classify_text(cl, x->orig, x->orig_len, x->channel, x->lang, &cr);
        }
        us[i] = (now_s() - t0) * 1e6;
    }
    qsort(us, n_texts, sizeof *us, cmp_dbl);
    out[0] = us[n_texts / 2];
    out[1] = us[(size_t)((double)(n_texts - 1) * 0.99)];
    out[2] = us[(size_t)((double)(n_texts - 1) * 0.999)];
    out[3] = us[n_texts - 1];
    free(us);
    hs_free_scratch(scratch);
    classifier_free(cl);
}

static hs_database_t *compile_cached(char **pats, size_t n, unsigned flag, const char *cache, const char *tag,
                                     double *compile_ms, int *from_cache)
{
    char path[4200];
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        for (const char *s = pats[i]; ; s++) {
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
            if (!*s)
                break;
        }
    h ^= flag;
    snprintf(path, sizeof path, "%s/bench-%s-%016llx.hsdb", cache ? cache : "/tmp", tag, (unsigned long long)h);
    *from_cache = 0;
    *compile_ms = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        struct stat st;
        fstat(fileno(f), &st);
        char *b = malloc((size_t)st.st_size);
        hs_database_t *db = NULL;
        if (fread(b, 1, (size_t)st.st_size, f) == (size_t)st.st_size &&
            hs_deserialize_database(b, (size_t)st.st_size, &db) == HS_SUCCESS) {
            free(b);
            fclose(f);
            *from_cache = 1;
            return db;
        }
        free(b);
        fclose(f);
    }
    unsigned *flags = malloc(n * sizeof *flags), *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        flags[i] = flag;
        ids[i] = (unsigned)i;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    double t0 = now_s();
    if (hs_compile_multi((const char *const *)pats, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &db, &err) !=
        HS_SUCCESS) {
        fprintf(stderr, "scan_limit: %s pack: %s (pattern %d)\n", tag, err->message, err->expression);
        exit(1);
    }
    *compile_ms = (now_s() - t0) * 1000;
    free(flags);
    free(ids);
    char *bytes;
    size_t len;
    if (cache && hs_serialize_database(db, &bytes, &len) == HS_SUCCESS) {
        f = fopen(path, "wb");
        if (f) {
            fwrite(bytes, 1, len, f);
            fclose(f);
        }
        free(bytes);
    }
    return db;
}

static size_t db_size(const hs_database_t *db)
{
    size_t s = 0;
    hs_database_size(db, &s);
    return s;
}

int main(int argc, char **argv)
{
    const char *corpus = NULL, *rules = "rules", *cache = getenv("COMPLAINTD_CACHE"), *dump = NULL, *extra = NULL;
    size_t limit = 0;
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), literal = 0, nosom = 0;
    static const struct option opts[] = {
        {"corpus", 1, 0, 'c'}, {"rules", 1, 0, 'r'},          {"cache", 1, 0, 'C'},
        {"texts", 1, 0, 'n'},  {"seconds", 1, 0, 's'},        {"threads", 1, 0, 't'},
        {"dump-canonical", 1, 0, 'd'}, {"literal", 0, 0, 'l'}, {"nosom", 0, 0, 'S'},
        {"extra", 1, 0, 'x'},  {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': corpus = optarg; break;
        case 'r': rules = optarg; break;
        case 'C': cache = optarg; break;
        case 'n': limit = strtoull(optarg, NULL, 10); break;
        case 's': seconds = atof(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'd': dump = optarg; break;
        case 'l': literal = 1; break;
        case 'S': nosom = 1; break;
        case 'x': extra = optarg; break;
        default:
            fprintf(stderr, "usage: scan_limit --corpus FILE.pb [--rules DIR] [--cache DIR] [--texts N] "
                            "[--seconds S] [--threads T] [--dump-canonical FILE] [--literal] [--nosom]\n");
            return 2;
        }
    }
    if (!corpus)
        return 2;
    if (threads < 1 || threads > 64)
        threads = 2;
    char err[1024];
    double t0 = now_s();
    rulepack *rp = rulepack_load(rules, cache, err, sizeof err);
    double load_ms = (now_s() - t0) * 1000;
    if (!rp) {
        fprintf(stderr, "scan_limit: %s\n", err);
        return 2;
    }
    load_texts(corpus, limit);
    norm_buf nb;
    norm_buf_init(&nb);
    FILE *df = dump ? fopen(dump, "w") : NULL;
    for (size_t i = 0; i < n_texts; i++) {
        if (norm_text(&nb, texts[i].orig, texts[i].orig_len) != NORM_OK)
            continue;
        texts[i].canon = malloc(nb.len + 1);
        memcpy(texts[i].canon, nb.text, nb.len + 1);
        texts[i].canon_len = nb.len;
        canon_bytes += nb.len;
        if (df) {
            for (size_t k = 0; k < nb.len; k++)
                if (nb.text[k] == '\n')
                    nb.text[k] = ' ';
            fprintf(df, "%s\n", nb.text);
        }
    }
    if (df)
        fclose(df);
    norm_buf_free(&nb);

    double mpt_scan, mpt_cls, mpt_norm;
    double norm1 = measure(2, rp, NULL, 1, &mpt_norm);
    double scan1 = measure(0, rp, rp->db, 1, &mpt_scan);
    double cls1 = measure(1, rp, NULL, 1, &mpt_cls);
    double scanN = measure(0, rp, rp->db, threads, NULL);
    double clsN = measure(1, rp, NULL, threads, NULL);
    double pt_scan[4], pt_cls[4];
    per_text(0, rp, pt_scan);
    per_text(1, rp, pt_cls);
    double cb = (double)canon_bytes / (double)n_texts, ob = (double)orig_bytes / (double)n_texts;
    printf("{\"texts\":%zu,\"mean_text_bytes\":%.1f,\"mean_canonical_bytes\":%.1f,\"rules\":%zu,\"patterns\":%zu,"
           "\"db_bytes\":%zu,\"pack_load_ms\":%.1f,\"pack_from_cache\":%d,\"pack_compile_ms\":%.0f,\"threads\":%d,"
           "\"normalise_1t\":{\"texts_per_s\":%.0f,\"mb_per_s\":%.1f},"
           "\"scan_1t\":{\"texts_per_s\":%.0f,\"mb_per_s\":%.2f,\"matches_per_text\":%.2f},"
           "\"classify_1t\":{\"texts_per_s\":%.0f,\"mb_per_s\":%.2f,\"rules_fired_per_text\":%.2f},"
           "\"scan_mt\":{\"texts_per_s\":%.0f},\"classify_mt\":{\"texts_per_s\":%.0f},"
           "\"classify_over_scan_1t\":%.3f,"
           "\"scan_per_text_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},"
           "\"classify_per_text_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}",
           n_texts, ob, cb, rp->n_rules, rp->n_patterns, db_size(rp->db), load_ms, rp->from_cache, rp->compile_ms,
           threads, norm1, norm1 * ob / 1e6, scan1, scan1 * cb / 1e6, mpt_scan, cls1, cls1 * ob / 1e6, mpt_cls,
           scanN, clsN, cls1 / scan1, pt_scan[0], pt_scan[1], pt_scan[2], pt_scan[3], pt_cls[0], pt_cls[1],
           pt_cls[2], pt_cls[3]);
    if (nosom) {
        double cms;
        int fc;
        hs_database_t *db = compile_cached(rp->patterns, rp->n_patterns, 0, cache, "nosom", &cms, &fc);
        double mpt, r = measure(0, rp, db, 1, &mpt);
        printf(",\"scan_nosom_1t\":{\"texts_per_s\":%.0f,\"mb_per_s\":%.2f,\"matches_per_text\":%.2f,"
               "\"db_bytes\":%zu,\"compile_ms\":%.0f,\"from_cache\":%d}",
               r, r * cb / 1e6, mpt, db_size(db), cms, fc);
        hs_free_database(db);
    }
    if (literal) {
        char **lits = malloc(rp->n_patterns * sizeof *lits), tmp[4096];
        for (size_t i = 0; i < rp->n_patterns; i++) {
            size_t n = longest_literal(rp->patterns[i], tmp);
            lits[i] = malloc(n * 4 + 1);
            char *w = lits[i];
            for (size_t k = 0; k < n; k++)
                w += sprintf(w, "\\x%02x", (unsigned char)tmp[k]);
            *w = 0;
            if (n == 0)
                strcpy(lits[i], "\\x01\\x02\\x03");  /* never in text */
        }
        double r[2], mpt[2], cms[2];
        size_t sz[2];
        int fc[2];
        for (int som = 0; som < 2; som++) {
            hs_database_t *db = compile_cached(lits, rp->n_patterns, som ? HS_FLAG_SOM_LEFTMOST : 0, cache,
                                               som ? "literal-som" : "literal", &cms[som], &fc[som]);
            r[som] = measure(0, rp, db, 1, &mpt[som]);
            sz[som] = db_size(db);
            hs_free_database(db);
        }
        printf(",\"scan_literal_1t\":{\"texts_per_s\":%.0f,\"mb_per_s\":%.2f,\"matches_per_text\":%.2f,"
               "\"db_bytes\":%zu,\"compile_ms\":%.0f},"
               "\"scan_literal_som_1t\":{\"texts_per_s\":%.0f,\"mb_per_s\":%.2f,\"matches_per_text\":%.2f,"
               "\"db_bytes\":%zu,\"compile_ms\":%.0f}",
               r[0], r[0] * cb / 1e6, mpt[0], sz[0], cms[0], r[1], r[1] * cb / 1e6, mpt[1], sz[1], cms[1]);
        for (size_t i = 0; i < rp->n_patterns; i++)
            free(lits[i]);
        free(lits);
    }
    if (extra) {
        FILE *xf = fopen(extra, "r");
        if (!xf) {
            perror(extra);
            return 2;
        }
        char *line = NULL;
        size_t cap = 0, n = 0, ncap = 1024;
        char **pats = malloc(ncap * sizeof *pats);
        ssize_t len;
        while ((len = getline(&line, &cap, xf)) > 0) {
            if (line[len - 1] == '\n')
                line[--len] = 0;
            char *tab = strchr(line, '\t');
            if (n == ncap)
                pats = realloc(pats, (ncap *= 2) * sizeof *pats);
            pats[n++] = strdup(tab ? tab + 1 : line);
        }
        fclose(xf);
        free(line);
        for (int som = 0; som < 2; som++) {
            double cms, mpt;
            int fc;
            hs_database_t *db = compile_cached(pats, n, som ? HS_FLAG_SOM_LEFTMOST : 0, cache,
                                               som ? "extra-som" : "extra", &cms, &fc);
            double r = measure(0, rp, db, 1, &mpt);
            printf(",\"scan_extra%s_1t\":{\"patterns\":%zu,\"texts_per_s\":%.0f,\"mb_per_s\":%.2f,"
                   "\"matches_per_text\":%.2f,\"db_bytes\":%zu,\"compile_ms\":%.0f}",
                   som ? "_som" : "", n, r, r * cb / 1e6, mpt, db_size(db), cms);
            hs_free_database(db);
        }
    }
    printf("}\n");
    rulepack_free(rp);
    return 0;
}
