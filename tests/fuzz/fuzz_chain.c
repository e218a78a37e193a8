/*
 * Fuzz target chain: a gap alternative scanned as runs of words and joined
 * (chain.h) must find the same first end as its whole regex, on any text,
 * and the start it reports must be where span.h walks back to from there.
 * The input's bytes up to the first 0xFF spell the alternative, a token a
 * byte (a word of a small vocabulary, or a gap ~0..~5, kept only where the
 * language allows it); the bytes after it spell the canonical text, a word
 * a byte. A small vocabulary makes the runs, their repeats and the gap
 * bounds meet often.
 */
#include <stdio.h>
#include <string.h>

#include "chain_oracle.h"
#include "fuzz_common.h"

static const char *const VOCAB[] = {"a", "b", "ab", "ba", "a*", "*b", "c", "aa"};
enum { VOCAB_N = sizeof VOCAB / sizeof *VOCAB, MAX_WORDS = 8, MAX_TEXT_WORDS = 400 };

/* The alternative from data[0..n): words and gaps, at most MAX_WORDS words,
 * never two gaps in a row nor a gap at either end. */
static void spell_alternative(const uint8_t *data, size_t n, char *alt, size_t cap)
{
    size_t len = 0;
    int words = 0, last_gap = 1;
    alt[0] = '\0';
    for (size_t i = 0; i < n && words < MAX_WORDS; i++) {
        char tok[8];
        if (data[i] & 0x80) {
            if (last_gap)
                continue;
            snprintf(tok, sizeof tok, "~%d", data[i] % 6);
            last_gap = 1;
        } else {
            /* Only trailing-star words ("a*") end on a star; "*b" starts one. */
            snprintf(tok, sizeof tok, "%s", VOCAB[data[i] % VOCAB_N]);
            last_gap = 0;
            words++;
        }
        len += (size_t)snprintf(alt + len, cap - len, "%s%s", len ? " " : "", tok);
    }
    if (last_gap && len > 0) {  /* drop a gap at the end */
        char *sp = strrchr(alt, ' ');
        if (sp)
            *sp = '\0';
        else
            alt[0] = '\0';
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xFF, size);
    if (!sep)
        return 0;
    char alt[128];
    spell_alternative(data, (size_t)(sep - data), alt, sizeof alt);
    if (!alt[0])
        return 0;
    /* Compiling is most of a run: keep the last alternative's databases,
     * since mutations often change only the text. */
    static char last_alt[128];
    static chain_oracle *o;
    if (!o || strcmp(alt, last_alt) != 0) {
        chain_oracle_free(o);
        char err[256] = "";
        int not_cut;
        o = chain_oracle_new(alt, &not_cut, err, sizeof err);
        last_alt[0] = '\0';
        if (!o) {
            FUZZ_CHECK(not_cut, "'%s' does not compile: %s", alt, err);
            return 0;  /* no gap: nothing to compare */
        }
        snprintf(last_alt, sizeof last_alt, "%s", alt);
    }
    /* Canonical text: " w1 w2 ... wn ". */
    static char canon[MAX_TEXT_WORDS * 3 + 2];
    size_t len = 0, words = 0;
    canon[len++] = ' ';
    for (const uint8_t *p = sep + 1; p < data + size && words < MAX_TEXT_WORDS; p++, words++) {
        const char *w = VOCAB[*p % VOCAB_N];
        if (strchr(w, '*'))  /* text words have no stars */
            w = "c";
        memcpy(canon + len, w, strlen(w));
        len += strlen(w);
        canon[len++] = ' ';
    }
    uint32_t whole, chained;
    FUZZ_CHECK(chain_oracle_scan(o, canon, len, &whole, &chained) == 0, "scan failed");
    FUZZ_CHECK(whole == chained, "'%s' on \"%.*s\": whole regex ends first at %u, chain at %u",
               alt, (int)len, canon, whole, chained);
    long join, walk;
    if (chained) {
        FUZZ_CHECK(chain_oracle_starts(o, canon, &join, &walk) == 0, "no start after a match");
        FUZZ_CHECK(join == walk, "'%s' on \"%.*s\": the join starts at %ld, the walk back at %ld",
                   alt, (int)len, canon, join, walk);
    }
    return 0;
}
