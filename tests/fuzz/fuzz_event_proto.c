/*
 * Fuzz target event_proto: what a worker does with the bytes of one ZeroMQ
 * message. Decode a ComplaintEvent, validate it, and label the valid ones
 * with the real default rule pack.
 */
#include <string.h>

#include "codec.h"
#include "fuzz_common.h"

enum { MAX_TEXT = 262144 };  /* max_message_bytes' default */

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
    event_msg *ev = complaint__v1__complaint_event__unpack(NULL, size, data);
    if (!ev)
        return 0;  /* malformed: the daemon rejects it */
    const char *why = event_invalid(ev, MAX_TEXT);
    if (!why) {
        size_t len = strlen(ev->text);
        class_result r;
        int rc = classify_text(cl, ev->text, len, (int)ev->channel, ev->lang, &r);
        FUZZ_CHECK(rc == CLASSIFY_OK, "a valid event did not classify: %d", rc);
        fuzz_check_result(&r, classifier_pack(cl), ev->text, len);
    }
    complaint__v1__complaint_event__free_unpacked(ev, NULL);
    return 0;
}
