/*
 * corpus_file — the bench tools' reader of gen_stream's --format pb output:
 * records of a 4-byte little-endian length and a serialized ComplaintEvent.
 *
 * Header-only (static functions): each tool is one .c file, and scripts/bench
 * can still build them one file at a time.
 */
#ifndef COMPLAINTD_BENCH_CORPUS_FILE_H
#define COMPLAINTD_BENCH_CORPUS_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "grow.h"

typedef struct rec {
    uint8_t *p;   /* the serialized event, inside the file's bytes */
    uint32_t len;
} rec;

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void corpus_die(const char *tool, const char *path, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", tool, path, what);
    exit(2);
}

/* Read the whole corpus at path into memory; *n records. With
 * need_event_id, every record must start with gen_stream's 16-byte event_id
 * (loadgen rewrites it in place). Any problem exits 2 with a message naming
 * tool and path. The records and the bytes they point into are never freed:
 * a tool keeps them for its whole run. */
static rec *corpus_load(const char *tool, const char *path, int need_event_id, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        corpus_die(tool, path, "cannot open");
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        corpus_die(tool, path, "cannot size");
    uint8_t *all = malloc((size_t)size + 1);
    if (!all || fread(all, 1, (size_t)size, f) != (size_t)size)
        corpus_die(tool, path, "cannot read");
    fclose(f);
    size_t cap = 0, off = 0, count = 0;
    rec *out = NULL;
    while (off + 4 <= (size_t)size) {
        uint32_t len = (uint32_t)all[off] | (uint32_t)all[off + 1] << 8 |
                       (uint32_t)all[off + 2] << 16 | (uint32_t)all[off + 3] << 24;
        off += 4;
        if (len > (size_t)size - off)
            corpus_die(tool, path, "truncated record");
        if (need_event_id && (len < 18 || all[off] != 0x0a || all[off + 1] != 16))
            corpus_die(tool, path, "a record without a 16-byte event_id first (use gen_stream's output)");
        rec *grown = grow_array(out, &cap, count + 1, sizeof *out, 1024);
        if (!grown)
            corpus_die(tool, path, "out of memory");
        out = grown;
        out[count++] = (rec){all + off, len};
        off += len;
    }
    if (!count)
        corpus_die(tool, path, "no records");
    *n = count;
    return out;
}

#endif
