/*
 * Fuzz target rules: the input is one .rules file in an otherwise empty
 * pack directory. rulepack_load must return a pack, or NULL with a message
 * naming the file (or, for a problem of the whole pack, the directory).
 * A pack that loads then labels its own source text, so the words it
 * defines are there to match. Inputs over 4 KB are skipped:
 * Hyperscan compiles slowly.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "utf8.h"

enum { MAX_INPUT = 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char path[512];
    snprintf(path, sizeof path, "%s/fuzz.en.rules", fuzz_tmpdir());
    fuzz_write_file(path, data, size);

    char err[2048] = "";
    rulepack *rp = rulepack_load(fuzz_tmpdir(), NULL, err, sizeof err);
    if (!rp) {
        FUZZ_CHECK(strstr(err, "fuzz.en.rules") || strstr(err, fuzz_tmpdir()) || fuzz_known(err),
                   "the message names neither the file nor the pack: '%s'", err);
        return 0;
    }
    classifier *cl = classifier_new(rp);
    FUZZ_CHECK(cl, "classifier_new failed on a pack that loaded");
    const char *text = (const char *)data;
    classify_result r;
    int rc = classify_text(cl, text, size, 0, NULL, &r);
    if (rc == CLASSIFY_OK)
        fuzz_check_result(&r, rp, text, size);
    else
        FUZZ_CHECK(rc == CLASSIFY_EUTF8 && !utf8_valid(text, size), "classify_text gave %d",
                   rc);
    classifier_free(cl);
    rulepack_free(rp);
    return 0;
}
