/* fuzz_common — see fuzz_common.h. */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    fprintf(stderr, "%s:%d: invariant failed: %s: ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static rulepack *default_pack;
static classifier *default_cl;

static void free_default(void)
{
    classifier_free(default_cl);
    rulepack_free(default_pack);
}

classifier *fuzz_default_classifier(void)
{
    if (default_cl)
        return default_cl;
    const char *dir = getenv("COMPLAINTD_RULES");
    const char *cache = getenv("COMPLAINTD_CACHE");
    if (!dir || !*dir)
        dir = "rules";
    if (!cache || !*cache)
        cache = "/tmp";
    char err[1024] = "";
    default_pack = rulepack_load(dir, cache, err, sizeof err);
    FUZZ_CHECK(default_pack, "cannot load the default pack %s (run from the repo root): %s", dir,
               err);
    default_cl = classifier_new(default_pack);
    FUZZ_CHECK(default_cl, "classifier_new failed");
    atexit(free_default);
    return default_cl;
}

static char tmpdir[256];

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", tmpdir);
}

const char *fuzz_tmpdir(void)
{
    if (tmpdir[0])
        return tmpdir;
    /* Memory-backed if we can: the config and rules targets write a file per input. */
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/complaintd-fuzz-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(tmpdir), "mkdtemp %s", tmpdir);
    atexit(remove_tmpdir);
    return tmpdir;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f, "cannot create %s", path);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size, "cannot write %s", path);
    FUZZ_CHECK(fclose(f) == 0, "cannot close %s", path);
}

int fuzz_utf8_boundary(const char *s, size_t len, size_t i)
{
    return i >= len || ((unsigned char)s[i] & 0xC0) != 0x80;
}

int fuzz_known(const char *msg)
{
    const char *known = getenv("COMPLAINTD_FUZZ_KNOWN");
    return known && *known && strstr(msg, known);
}

void fuzz_check_result(const classify_result *r, const rulepack *rp, const char *text, size_t len)
{
    FUZZ_CHECK(r->n_matches <= rp->n_rules, "%zu matches, %zu rules", r->n_matches, rp->n_rules);
    for (size_t i = 0; i < r->n_matches; i++) {
        const classify_match *m = &r->matches[i];
        FUZZ_CHECK(m->rule < rp->n_rules, "match %zu: rule %u of %zu", i, m->rule, rp->n_rules);
        FUZZ_CHECK(m->start < m->end && m->end <= len, "rule %s: span [%u,%u) of %zu bytes",
                   rp->rules[m->rule].id, m->start, m->end, len);
        FUZZ_CHECK(fuzz_utf8_boundary(text, len, m->start) && fuzz_utf8_boundary(text, len, m->end),
                   "rule %s: span [%u,%u) splits a character", rp->rules[m->rule].id, m->start,
                   m->end);
    }
    for (int l = 1; l < LABEL_COUNT; l++)
        if (r->labels & (1u << l))
            FUZZ_CHECK(r->score[l] >= rp->threshold[l], "label %d on below its threshold", l);
}
