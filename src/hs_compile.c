/* hs_compile — Hyperscan compilation with an on-disk cache; see hs_compile.h. */
#include "hs_compile.h"

#include "clock.h"
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Ends of matches only: starts are found afterwards for the few rules that
 * fire (span.h explains the cost of HS_FLAG_SOM_LEFTMOST). Canonical text is
 * already lower case, so no CASELESS/UTF8 either. */
#define PATTERN_FLAGS (0u)

/* What the database is built from: every pattern without a gap under its
 * own index, then every chain segment under n_patterns + s (rules.h). */
typedef struct expr_list {
    const char **expr;
    unsigned    *ids;
    unsigned    *flags;
    size_t       n;
} expr_list;

static void expr_list_free(expr_list *x)
{
    free(x->expr);
    free(x->ids);
    free(x->flags);
}

static int expr_list_build(const rulepack *rp, expr_list *x)
{
    const chain_set *cs = &rp->chains;
    size_t cap = rp->n_patterns + cs->n_segments;
    uint8_t *chained = calloc(rp->n_patterns ? rp->n_patterns : 1, 1);
    x->expr = malloc(cap * sizeof *x->expr);
    x->ids = malloc(cap * sizeof *x->ids);
    x->flags = malloc(cap * sizeof *x->flags);
    x->n = 0;
    if (!chained || !x->expr || !x->ids || !x->flags) {
        free(chained);
        expr_list_free(x);
        return -1;
    }
    for (size_t c = 0; c < cs->n_chains; c++)
        chained[cs->chains[c].pattern] = 1;
    for (size_t i = 0; i < rp->n_patterns; i++)
        if (!chained[i]) {
            x->expr[x->n] = rp->patterns[i];
            x->ids[x->n++] = (unsigned)i;
        }
    for (size_t s = 0; s < cs->n_segments; s++) {
        x->expr[x->n] = cs->segments[s];
        x->ids[x->n++] = (unsigned)(rp->n_patterns + s);
    }
    for (size_t i = 0; i < x->n; i++)
        x->flags[i] = PATTERN_FLAGS;
    free(chained);
    return 0;
}

static uint64_t pack_hash(const expr_list *x, const hs_platform_info_t *plat)
{
    uint64_t h = HASH_FNV_OFFSET;
    const char *ver = hs_version();
    unsigned flags = PATTERN_FLAGS;
    h = hash_fnv1a(h, ver, strlen(ver));
    h = hash_fnv1a(h, plat, sizeof *plat);
    h = hash_fnv1a(h, &flags, sizeof flags);
    for (size_t i = 0; i < x->n; i++) {
        h = hash_fnv1a(h, &x->ids[i], sizeof x->ids[i]);
        h = hash_fnv1a(h, x->expr[i], strlen(x->expr[i]) + 1);
    }
    return h;
}

/* Load a serialized database into rp->db (our own mapping of
 * rp->db_mem_len bytes; 0 on success). Both the file and the
 * database's memory are mapped with MAP_POPULATE: on this kind of virtual
 * machine a page fault is costly, and faulting 7 MB twice page by page (a
 * read buffer, then Hyperscan's copy) was a third of the daemon's start. */
static int cache_read(rulepack *rp, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    void *file = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (1 << 30))
        file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (file == MAP_FAILED)
        return -1;
    size_t need = 0;
    void *mem = MAP_FAILED;
    if (hs_serialized_database_size(file, (size_t)st.st_size, &need) == HS_SUCCESS && need > 0)
        mem = mmap(NULL, need, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    int rc = -1;
    if (mem != MAP_FAILED &&
        hs_deserialize_database_at(file, (size_t)st.st_size, mem) == HS_SUCCESS) {
        rp->db = mem;
        rp->db_mem_len = need;
        rc = 0;
    } else if (mem != MAP_FAILED) {
        munmap(mem, need);
    }
    munmap(file, (size_t)st.st_size);
    return rc;
}

/* Best effort: a cache that cannot be written only costs the next start. */
static void cache_write(const char *dir, const char *path, const hs_database_t *db)
{
    char *bytes = NULL;
    size_t len = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, bytes, len);
        int ok = (w == (ssize_t)len) && fsync(fd) == 0;
        close(fd);
        if (!ok || rename(tmp, path) < 0)
            unlink(tmp);
    }
    free(bytes);
}

static int compile_error(rulepack *rp, const expr_list *x, hs_compile_error_t *ce, char *err,
                         size_t errlen)
{
    if (ce->expression >= 0 && (size_t)ce->expression < x->n) {
        size_t p = x->ids[ce->expression];
        if (p >= rp->n_patterns)  /* a segment: name the first pattern using it */
            p = rp->chains.segment_pattern[p - rp->n_patterns];
        const rule *r = &rp->rules[rp->clause_rule[rp->pattern_clause[p]]];
        snprintf(err, errlen, "%s:%d: rule %s: Hyperscan: %s", r->file, rp->pattern_line[p], r->id,
                 ce->message);
    } else {
        snprintf(err, errlen, "Hyperscan: %s", ce->message);
    }
    hs_free_compile_error(ce);
    return -1;
}

int hs_compile_build(rulepack *rp, const char *cache_dir, char *err, size_t errlen)
{
    hs_platform_info_t plat;
    if (hs_populate_platform(&plat) != HS_SUCCESS) {
        snprintf(err, errlen, "Hyperscan: cannot read the CPU platform");
        return -1;
    }
    expr_list x;
    if (expr_list_build(rp, &x) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rp->hash = pack_hash(&x, &plat);
    char path[4200] = {0};
    if (cache_dir) {
        snprintf(path, sizeof path, "%s/rules-%016llx.hsdb", cache_dir, (unsigned long long)rp->hash);
        if (cache_read(rp, path) == 0) {
            rp->from_cache = 1;
            expr_list_free(&x);
            return 0;
        }
    }
    hs_compile_error_t *ce = NULL;
    double t0 = (double)clock_mono_us() / 1e3;
    hs_error_t rc = hs_compile_multi(x.expr, x.flags, x.ids, (unsigned)x.n, HS_MODE_BLOCK, &plat,
                                     &rp->db, &ce);
    rp->compile_ms = (double)clock_mono_us() / 1e3 - t0;
    if (rc != HS_SUCCESS) {
        int r = compile_error(rp, &x, ce, err, errlen);
        expr_list_free(&x);
        return r;
    }
    expr_list_free(&x);
    if (cache_dir)
        cache_write(cache_dir, path, rp->db);
    return 0;
}
