/*
 * fuzz_common — what the fuzz targets share: a check that aborts (so both
 * libFuzzer and the replay driver report it), the default rule pack loaded
 * once, a scratch directory, and byte-level UTF-8 helpers.
 *
 * Every target defines LLVMFuzzerTestOneInput; it is linked either with
 * libFuzzer (-fsanitize=fuzzer) or with replay_main.c, which runs it over the
 * committed seed corpus under ctest.
 */
#ifndef COMPLAINTD_FUZZ_COMMON_H
#define COMPLAINTD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, called once before any input (outside libFuzzer's timeout). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with a message when an invariant does not hold. */
#define FUZZ_CHECK(cond, ...)                                                                   \
    do {                                                                                        \
        if (!(cond))                                                                            \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                  \
    } while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* A classifier over the default pack (rules/ in the working directory, or
 * $COMPLAINTD_RULES), loaded once; the compiled database is cached in
 * $COMPLAINTD_CACHE, else /tmp. Aborts if the pack does not load. Call it
 * from LLVMFuzzerInitialize too: compiling the pack takes a minute. */
classifier *fuzz_default_classifier(void);

/* A private directory ($TMPDIR, else /dev/shm, else /tmp), created on
 * first use and removed at exit. */
const char *fuzz_tmpdir(void);

/* Write data to path (truncating); aborts on failure. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* Is s[i] the first byte of a character (or i == len)? */
int fuzz_utf8_boundary(const char *s, size_t len, size_t i);

/* While a reported bug waits for its fix, fuzzing can go on past it:
 * with COMPLAINTD_FUZZ_KNOWN=TEXT set, a message containing TEXT is let
 * through by the message checks. Unset (ctest), nothing is. */
int fuzz_known(const char *msg);

/* The checks every classify_text result must pass. */
void fuzz_check_result(const classify_result *r, const rulepack *rp, const char *text, size_t len);

#endif
