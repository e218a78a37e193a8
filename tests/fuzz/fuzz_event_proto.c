/*
 * Fuzz target event_proto: what a worker does with the bytes of one ZeroMQ
 * message. Decode a ComplaintEvent into an arena, validate it, and label
 * the valid ones with the real default rule pack, as the worker does.
 */
#include <string.h>

#include "arena.h"
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
    /* As a worker decodes: into its batch's arena (arena.h). */
    static arena mem;
    static int mem_ready;
    if (!mem_ready) {
        arena_init(&mem, 64 * 1024);
        mem_ready = 1;
    }
    event_msg *ev = complaint__v1__complaint_event__unpack(arena_pb(&mem), size, data);
    if (!ev) {
        arena_reset(&mem);
        return 0;  /* malformed: the daemon rejects it */
    }
    /* The worker leaves the text's encoding to classify_text; together they
     * must refuse exactly the events codec_event_invalid refuses (the reason may
     * differ when an event has two faults: each names the first it checks). */
    const char *why = codec_event_invalid(ev, MAX_TEXT, EVENT_SKIP_TEXT_UTF8);
    const char *full = codec_event_invalid(ev, MAX_TEXT, 0);
    if (!why) {
        size_t len = strlen(ev->text);
        classify_result r;
        int rc = classify_text(cl, ev->text, len, (int)ev->channel, ev->lang, &r);
        if (full) {
            FUZZ_CHECK(rc == CLASSIFY_EUTF8 && strcmp(full, "text is not valid UTF-8") == 0,
                       "codec_event_invalid says '%s' but classify returned %d", full, rc);
        } else {
            FUZZ_CHECK(rc == CLASSIFY_OK, "a valid event did not classify: %d", rc);
            fuzz_check_result(&r, classifier_pack(cl), ev->text, len);
        }
    } else {
        FUZZ_CHECK(full != NULL, "the worker refuses an event codec_event_invalid accepts: '%s'", why);
    }
    arena_reset(&mem);
    return 0;
}
