/*
 * model_io — the model file: write a spec, read and check one.
 *
 * Reading parses the whole file into a model_spec with every field bounds-
 * checked (a truncated file names the field it stopped in), verifies the
 * checksum last, and hands the spec to model_from_spec, which checks the
 * meaning (labels, thresholds, ids). The file is small (hundreds of KB), so
 * it is read whole rather than mapped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t len, off;
    const char *name;
    char *err;
    size_t errlen;
    int failed;
} reader;

static void fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(reader *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = 1;
    int n = snprintf(r->err, r->errlen, "%s: ", r->name);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < r->errlen)
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static int need(reader *r, size_t n, const char *what)
{
    if (r->failed)
        return 0;
    if (r->len - r->off < n) {
        fail(r, "truncated at byte %zu (in %s)", r->len, what);
        return 0;
    }
    return 1;
}

static uint32_t get_u32(reader *r, const char *what)
{
    if (!need(r, 4, what))
        return 0;
    const uint8_t *p = r->p + r->off;
    r->off += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t get_u8(reader *r, const char *what)
{
    if (!need(r, 1, what))
        return 0;
    return r->p[r->off++];
}

static float get_f32(reader *r, const char *what)
{
    uint32_t u = get_u32(r, what);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void spec_free(model_spec *s)
{
    for (int i = 0; i < s->n_labels; i++) {
        free(s->labels[i].id);
        free(s->labels[i].w);
    }
    s->n_labels = 0;
}

static void read_label(reader *r, model_label_spec *ls)
{
    char name[64];
    uint8_t nlen = get_u8(r, "label name");
    if (!need(r, nlen, "label name"))
        return;
    if (nlen >= sizeof name) {
        fail(r, "label name of %u bytes", nlen);
        return;
    }
    memcpy(name, r->p + r->off, nlen);
    name[nlen] = '\0';
    r->off += nlen;
    ls->label = label_from_name(name);
    if (!ls->label) {
        fail(r, "unknown label '%s' (this build knows the taxonomy's %d labels)", name,
             LABEL_COUNT - 1);
        return;
    }
    ls->thr_alone = get_f32(r, "thresholds");
    ls->thr_add = get_f32(r, "thresholds");
    ls->thr_veto = get_f32(r, "thresholds");
    ls->bias = get_f32(r, "bias");
    uint32_t n = get_u32(r, "weight count");
    if (r->failed)
        return;
    if ((size_t)n > (r->len - r->off) / 8) {
        fail(r, "truncated at byte %zu (label '%s' announces %u weights)", r->len, name, n);
        return;
    }
    ls->id = malloc((n ? n : 1) * sizeof *ls->id);
    ls->w = malloc((n ? n : 1) * sizeof *ls->w);
    if (!ls->id || !ls->w) {
        fail(r, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        ls->id[i] = get_u32(r, "weights");
        ls->w[i] = get_f32(r, "weights");
    }
    ls->n = n;
}

model *model_load_bytes(const uint8_t *buf, size_t len, const char *name, char *err,
                        size_t errlen)
{
    reader r = {.p = buf, .len = len, .name = name, .err = err, .errlen = errlen};
    model_spec spec;
    memset(&spec, 0, sizeof spec);
    if (len < 8 || memcmp(buf, MODEL_MAGIC, 8) != 0) {
        fail(&r, len < 8 ? "truncated at byte %zu (in the magic)" : "not a complaintd model "
             "(no \"" MODEL_MAGIC "\" at the start)", len);
        return NULL;
    }
    r.off = 8;
    uint32_t version = get_u32(&r, "version");
    if (!r.failed && (version < MODEL_VERSION_MIN || version > MODEL_VERSION)) {
        fail(&r, "format version %u, this build reads versions %u..%u (retrain or rebuild)",
             version, MODEL_VERSION_MIN, MODEL_VERSION);
        return NULL;
    }
    spec.fp.hash_bits = get_u32(&r, "feature parameters");
    spec.fp.seed = get_u32(&r, "feature parameters");
    spec.fp.words = get_u8(&r, "feature parameters");
    spec.fp.bigrams = get_u8(&r, "feature parameters");
    spec.fp.char_min = get_u8(&r, "feature parameters");
    spec.fp.char_max = get_u8(&r, "feature parameters");
    spec.fp.len_power = get_f32(&r, "feature parameters");
    if (version >= 3) { /* version 2 files have neither: both 0 */
        spec.fp.rule_ids = get_u8(&r, "feature parameters");
        spec.fp.prefix = get_u8(&r, "feature parameters");
    }
    spec.fp.hash = version >= 4 ? get_u8(&r, "feature parameters") : FEAT_HASH_FNV;
    uint32_t n_labels = get_u32(&r, "label count");
    if (!r.failed && n_labels > LABEL_COUNT - 1)
        fail(&r, "%u labels, the taxonomy has %d", n_labels, LABEL_COUNT - 1);
    for (uint32_t i = 0; i < n_labels && !r.failed; i++) {
        read_label(&r, &spec.labels[i]);
        spec.n_labels = (int)i + 1;
    }
    if (!r.failed && need(&r, 8, "checksum")) {
        uint64_t want = 0;
        for (int i = 7; i >= 0; i--)
            want = want << 8 | r.p[r.off + (size_t)i];
        if (fnv64(buf, r.off) != want)
            fail(&r, "checksum mismatch: the file is corrupt");
        r.off += 8;
        if (!r.failed && r.off != len)
            fail(&r, "%zu bytes after the end of the model", len - r.off);
    }
    model *m = r.failed ? NULL : model_from_spec(&spec, name, err, errlen);
    spec_free(&spec);
    return m;
}

model *model_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int rerr = ferror(f);
    fclose(f);
    model *m = NULL;
    if (rerr)
        snprintf(err, errlen, "%s: read error", path);
    else
        m = model_load_bytes(buf, len, path, err, errlen);
    free(buf);
    return m;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct writer {
    uint8_t *p;
    size_t len, cap;
    int oom;
} writer;

static void put(writer *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *np = realloc(w->p, cap);
        if (!np) {
            w->oom = 1;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}

static void put_f32(writer *w, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u32(w, u);
}

static void put_u8(writer *w, uint8_t v) { put(w, &v, 1); }

int model_save(const char *path, const model_spec *spec, char *err, size_t errlen)
{
    /* Refuse to write what could not be read back. */
    model *check = model_from_spec(spec, path, err, errlen);
    if (!check)
        return -1;
    model_release(check);

    writer w = {0};
    put(&w, MODEL_MAGIC, 8);
    put_u32(&w, MODEL_VERSION);
    put_u32(&w, spec->fp.hash_bits);
    put_u32(&w, spec->fp.seed);
    put_u8(&w, spec->fp.words);
    put_u8(&w, spec->fp.bigrams);
    put_u8(&w, spec->fp.char_min);
    put_u8(&w, spec->fp.char_max);
    put_f32(&w, spec->fp.len_power);
    put_u8(&w, spec->fp.rule_ids);
    put_u8(&w, spec->fp.prefix);
    put_u8(&w, spec->fp.hash);
    put_u32(&w, (uint32_t)spec->n_labels);
    for (int i = 0; i < spec->n_labels; i++) {
        const model_label_spec *ls = &spec->labels[i];
        const char *name = label_name(ls->label);
        put_u8(&w, (uint8_t)strlen(name));
        put(&w, name, strlen(name));
        put_f32(&w, ls->thr_alone);
        put_f32(&w, ls->thr_add);
        put_f32(&w, ls->thr_veto);
        put_f32(&w, ls->bias);
        put_u32(&w, (uint32_t)ls->n);
        for (size_t k = 0; k < ls->n; k++) {
            put_u32(&w, ls->id[k]);
            put_f32(&w, ls->w[k]);
        }
    }
    uint64_t h = fnv64(w.p, w.len);
    for (int i = 0; i < 8; i++)
        put_u8(&w, (uint8_t)(h >> (8 * i)));
    if (w.oom) {
        free(w.p);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(w.p, 1, w.len, f) == w.len;
    ok = f ? (fclose(f) == 0 && ok) : 0;
    free(w.p);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
