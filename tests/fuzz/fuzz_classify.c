/*
 * Fuzz target classify: classify_text with the default rule pack on
 * arbitrary bytes. The first byte picks the channel and language hint;
 * the rest is the text. Invalid UTF-8 must be refused with CLASSIFY_EUTF8.
 */
#include "fuzz_common.h"
#include "utf8.h"

static const char *const langs[] = {NULL, "", "ru", "uk", "pl", "en", "de", "xx"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_default_classifier();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    classifier *cl = fuzz_default_classifier();
    if (size < 1)
        return 0;
    int channel = data[0] % CHANNEL_COUNT;
    const char *lang = langs[(data[0] >> 3) % (sizeof langs / sizeof langs[0])];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    classify_result r;
    int rc = classify_text(cl, text, len, channel, lang, &r);
    if (!utf8_valid(text, len)) {
        FUZZ_CHECK(rc == CLASSIFY_EUTF8, "invalid UTF-8 gave %d", rc);
        return 0;
    }
    FUZZ_CHECK(rc == CLASSIFY_OK, "valid UTF-8 gave %d", rc);
    fuzz_check_result(&r, classifier_pack(cl), text, len);
    return 0;
}
