/*
 * pcre2_classify — the PCRE2-JIT peer: the pack's exported patterns, each
 * compiled with PCRE2 and JIT-compiled, matched one after another against
 * every canonical text (what a classifier built on a backtracking regex
 * library does: it has no multi-pattern scan).
 *
 *   pcre2_classify PATTERNS.tsv CANONICAL.txt [seconds]
 *
 * PATTERNS.tsv: "rule_id<TAB>regex" lines (complaintctl rules export).
 * CANONICAL.txt: canonical texts one a line (scan_limit --dump-canonical).
 * Patterns are byte patterns (no PCRE2_UTF), as Hyperscan scans them, so
 * \xHH escapes mean bytes. Runs over the texts (looping) for at least
 * `seconds` (default 3) and prints one JSON object: texts/s, MB/s, patterns
 * matched per text, patterns refused.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#define _GNU_SOURCE
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pcre2_classify PATTERNS.tsv CANONICAL.txt [seconds]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 3.0;
    FILE *pf = fopen(argv[1], "r"), *tf = fopen(argv[2], "r");
    if (!pf || !tf) {
        perror("open");
        return 2;
    }
    size_t np = 0, pcap = 1024, refused = 0;
    pcre2_code **re = malloc(pcap * sizeof *re);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    double t0 = now_s();
    while ((len = getline(&line, &cap, pf)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = 0;
        char *tab = strchr(line, '\t');
        const char *pat = tab ? tab + 1 : line;
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
        if (!c || pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0) {
            refused++;
            if (c)
                pcre2_code_free(c);
            continue;
        }
        if (np == pcap)
            re = realloc(re, (pcap *= 2) * sizeof *re);
        re[np++] = c;
    }
    double compile_ms = (now_s() - t0) * 1000;
    size_t nt = 0, tcap = 1024, bytes = 0;
    char **texts = malloc(tcap * sizeof *texts);
    size_t *lens = malloc(tcap * sizeof *lens);
    while ((len = getline(&line, &cap, tf)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = 0;
        if (nt == tcap) {
            texts = realloc(texts, (tcap *= 2) * sizeof *texts);
            lens = realloc(lens, tcap * sizeof *lens);
        }
        texts[nt] = strdup(line);
        lens[nt++] = (size_t)len;
        bytes += (size_t)len;
    }
    if (!nt || !np) {
        fprintf(stderr, "pcre2_classify: no texts or no patterns\n");
        return 1;
    }
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_jit_stack *js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    pcre2_jit_stack_assign(mc, NULL, js);
    size_t done = 0, matched = 0, i = 0;
    t0 = now_s();
    double t;
    for (;;) {
        for (size_t p = 0; p < np; p++)
            if (pcre2_jit_match(re[p], (PCRE2_SPTR)texts[i], lens[i], 0, 0, md, mc) >= 0)
                matched++;
        done++;
        if (++i == nt)
            i = 0;
        if ((done & 15) == 0 && (t = now_s()) - t0 >= seconds)
            break;
    }
    t = now_s() - t0;
    double mean = (double)bytes / (double)nt;
    printf("{\"patterns\":%zu,\"refused\":%zu,\"compile_ms\":%.0f,\"texts\":%zu,\"texts_per_s\":%.0f,"
           "\"mb_per_s\":%.3f,\"matches_per_text\":%.2f}\n",
           np, refused, compile_ms, done, (double)done / t, (double)done / t * mean / 1e6,
           (double)matched / (double)done);
    return 0;
}
