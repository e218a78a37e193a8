/* Unit tests: JSON events in, validation, decisions to protobuf and JSON. */
#include "testutil.h"

#include "codec.h"

static void test_event_from_json(void **state)
{
    (void)state;
    event_msg ev;
    char err[256];
    assert_int_equal(codec_event_from_json("{\"event_id\":\"e1\",\"customer_id\":\"c1\",\"channel\":\"staff_note\","
                                     "\"text\":\"Привет\",\"ts_ms\":1700000000000,\"lang\":\"ru\"}",
                                     &ev, err, sizeof err),
                     0);
    assert_string_equal(ev.event_id, "e1");
    assert_string_equal(ev.customer_id, "c1");
    assert_int_equal(ev.channel, 6);
    assert_string_equal(ev.text, "Привет");
    assert_int_equal(ev.ts_ms, 1700000000000LL);
    assert_null(codec_event_invalid(&ev, 1000, 0));
    codec_event_json_free(&ev);
    /* The corpus spells the id "id". */
    assert_int_equal(codec_event_from_json("{\"id\":\"dev-1\",\"customer_id\":7,\"text\":\"x\"}", &ev, err, sizeof err), 0);
    assert_string_equal(ev.event_id, "dev-1");
    assert_string_equal(ev.customer_id, "7");
    codec_event_json_free(&ev);
}

static void test_bad_json_is_explained(void **state)
{
    (void)state;
    event_msg ev;
    char err[256];
    assert_int_equal(codec_event_from_json("{\"text\": ", &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(codec_event_from_json("[1,2]", &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "object"));
    assert_int_equal(codec_event_from_json("{\"channel\":\"fax\",\"text\":\"x\"}", &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown channel"));
    assert_int_equal(codec_event_from_json("{\"text\":[1]}", &ev, err, sizeof err), -1);
}

static void test_validation(void **state)
{
    (void)state;
    event_msg ev;
    complaint__v1__complaint_event__init(&ev);
    ev.event_id = "e";
    ev.customer_id = "";
    ev.text = "hello";
    assert_string_equal(codec_event_invalid(&ev, 100, 0), "missing customer_id");
    ev.customer_id = "c";
    ev.text = "";
    assert_string_equal(codec_event_invalid(&ev, 100, 0), "empty text");
    ev.text = "bad \xc3\x28";
    assert_string_equal(codec_event_invalid(&ev, 100, 0), "text is not valid UTF-8");
    /* The worker skips the text's encoding: it leaves the text's encoding to classify_text (which
     * refuses it: test_classify), and checks all the rest. */
    assert_null(codec_event_invalid(&ev, 100, EVENT_SKIP_TEXT_UTF8));
    assert_string_equal(codec_event_invalid(&ev, 3, EVENT_SKIP_TEXT_UTF8), "text over the size limit");
    ev.customer_id = "";
    assert_string_equal(codec_event_invalid(&ev, 100, EVENT_SKIP_TEXT_UTF8), "missing customer_id");
    ev.customer_id = "c";
    ev.text = "0123456789";
    assert_string_equal(codec_event_invalid(&ev, 5, 0), "text over the size limit");
    /* Ids are echoed into decisions: they must be UTF-8 too. */
    ev.text = "ok";
    ev.employee_id = "emp-\xff";
    assert_string_equal(codec_event_invalid(&ev, 100, 0), "an id or hint field is not valid UTF-8");
    /* Times: unset (0) and the last millisecond of year 9999 pass; a negative
     * time or one past it is refused, naming the field. */
    ev.employee_id = "emp-1";
    ev.ts_ms = 0;
    assert_null(codec_event_invalid(&ev, 100, 0));
    ev.ts_ms = EVENT_TS_MAX_MS;
    assert_null(codec_event_invalid(&ev, 100, 0));
    ev.ts_ms = EVENT_TS_MAX_MS + 1;
    assert_non_null(strstr(codec_event_invalid(&ev, 100, 0), "ts_ms out of range"));
    ev.ts_ms = -1;
    assert_non_null(strstr(codec_event_invalid(&ev, 100, 0), "ts_ms out of range"));
    ev.ts_ms = INT64_MIN;
    assert_non_null(strstr(codec_event_invalid(&ev, 100, 0), "ts_ms out of range"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_from_json),
        cmocka_unit_test(test_bad_json_is_explained),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
