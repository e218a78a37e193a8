/*
 * Fuzz target event_json: one JSON Lines line, as complaintctl reads it.
 * codec_event_from_json must return 0 (then the event validates, packs to
 * protobuf and decodes back unchanged) or -1 with a message.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz_common.h"

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    FUZZ_CHECK(line, "out of memory");
    memcpy(line, data, size);
    line[size] = '\0';

    event_msg ev;
    char err[512] = "";
    int rc = codec_event_from_json(line, &ev, err, sizeof err);
    free(line);
    if (rc < 0) {
        FUZZ_CHECK(rc == -1 && err[0], "rc %d, message '%s'", rc, err);
        return 0;
    }
    FUZZ_CHECK(rc == 0, "rc %d", rc);
    (void)codec_event_invalid(&ev, 262144, 0);

    /* What complaintctl send does next: pack it. */
    size_t n = complaint__v1__complaint_event__get_packed_size(&ev);
    uint8_t *buf = malloc(n ? n : 1);
    FUZZ_CHECK(buf, "out of memory");
    FUZZ_CHECK(complaint__v1__complaint_event__pack(&ev, buf) == n, "packed size differs");
    event_msg *back = complaint__v1__complaint_event__unpack(NULL, n, buf);
    FUZZ_CHECK(back, "the packed event does not decode");
    FUZZ_CHECK(same(back->event_id, ev.event_id) && same(back->customer_id, ev.customer_id) &&
                   same(back->text, ev.text) && same(back->store_id, ev.store_id) &&
                   same(back->employee_id, ev.employee_id) && same(back->lang, ev.lang) &&
                   same(back->product_category, ev.product_category) &&
                   back->channel == ev.channel && back->ts_ms == ev.ts_ms &&
                   back->purchase_amount == ev.purchase_amount,
               "the event changed through protobuf");
    complaint__v1__complaint_event__free_unpacked(back, NULL);
    free(buf);
    codec_event_json_free(&ev);
    return 0;
}
