/*
 * Fuzz target normalise: norm_text on arbitrary bytes, then norm_span over
 * every start and a spread of ends, checking the canonical form and the
 * offset map (normalise.h).
 */
#include <string.h>

#include "fuzz_common.h"
#include "normalise.h"
#include "utf8.h"

static norm_buf nb;

/* A small deterministic PRNG seeded from the input, for the random ranges. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check_span(const char *src, size_t size, size_t cs, size_t ce)
{
    uint32_t os = UINT32_MAX, oe = UINT32_MAX;
    if (norm_span(&nb, cs, ce, &os, &oe) < 0)
        return;
    FUZZ_CHECK(os <= oe && oe <= size, "norm_span(%zu, %zu) = [%u, %u) of %zu bytes", cs, ce, os,
               oe, size);
    FUZZ_CHECK(fuzz_utf8_boundary(src, size, os) && fuzz_utf8_boundary(src, size, oe),
               "norm_span(%zu, %zu) = [%u, %u) splits a character", cs, ce, os, oe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    int rc = norm_text(&nb, src, size);
    int valid = utf8_valid(src, size);
    if (rc == NORM_EUTF8) {
        FUZZ_CHECK(!valid, "valid UTF-8 refused");
        FUZZ_CHECK(nb.len == 0, "len %zu after an error", nb.len);
        return 0;
    }
    FUZZ_CHECK(rc == NORM_OK, "norm_text returned %d", rc);
    FUZZ_CHECK(valid, "invalid UTF-8 accepted");

    const char *t = nb.text;
    size_t n = nb.len;
    FUZZ_CHECK(n >= 1 && t[0] == ' ' && t[n - 1] == ' ', "not framed by spaces: '%s'", t);
    FUZZ_CHECK(t[n] == '\0' && strlen(t) == n, "len %zu, strlen %zu", n, strlen(t));
    FUZZ_CHECK(!strstr(t, "  "), "double space in '%s'", t);
    if (size == 0)
        FUZZ_CHECK(n == 1, "empty input gave '%s'", t);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(nb.src_start[i] <= nb.src_end[i] && nb.src_end[i] <= size,
                   "byte %zu ('%c'): source [%u, %u) of %zu", i, t[i], nb.src_start[i],
                   nb.src_end[i], size);

    /* Every start, with ends just after it, at the end and past it. */
    for (size_t cs = 0; cs <= n; cs++) {
        check_span(src, size, cs, cs + 1);
        check_span(src, size, cs, cs + 3);
        check_span(src, size, cs, n);
        check_span(src, size, cs, n + 7);
    }
    /* And random ranges, seeded from the input. */
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ size;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001B3ull;
    seed |= 1;
    for (int k = 0; k < 64; k++) {
        size_t a = next(&seed) % (n + 2), b = next(&seed) % (n + 2);
        check_span(src, size, a, b);
    }
    return 0;
}
