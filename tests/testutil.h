/*
 * testutil — helpers shared by the unit tests: temporary directories and
 * writing small files (rule packs, configs) into them.
 */
#ifndef COMPLAINTD_TESTUTIL_H
#define COMPLAINTD_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory under /tmp; the caller frees the string (the directory
 * is removed by tu_rmdir). */
static inline char *tu_tempdir(void)
{
    char *tmpl = strdup("/tmp/complaintd-test-XXXXXX");
    assert_non_null(mkdtemp(tmpl));
    return tmpl;
}

static inline void tu_write(const char *dir, const char *name, const char *content)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static inline void tu_rmdir(char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

#endif
