/* control_feedback — checking and answering "feedback"; see control_feedback.h. */
#include "control_feedback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complaint.pb-c.h"
#include "feedback.h"
#include "history.h"
#include "utf8.h"

static void add_error(feedback_check *fc, size_t item, const char *event_id, const char *why)
{
    strbuf *e = &fc->errors;
    strbuf_printf(e, "%s{\"item\":%zu,\"event_id\":", e->len ? "," : "", item);
    /* An id that is not UTF-8 is named by its position only. */
    if (event_id && utf8_valid_str(event_id))
        strbuf_json_str(e, event_id, strlen(event_id));
    else
        strbuf_puts(e, "\"\"");
    strbuf_puts(e, ",\"error\":");
    strbuf_json_str(e, why, strlen(why));
    strbuf_putc(e, '}');
    fc->rejected++;
}

int feedback_check_batch(const void *bytes, size_t len, size_t max_text, uint64_t ticket,
                         strbuf *msg, feedback_check *fc)
{
    memset(fc, 0, sizeof *fc);
    fc->errors = (strbuf)STRBUF_INIT;
    /* No frame, or an empty one (a batch of no reviews packs to nothing). */
    if (len == 0) {
        fc->fatal = "feedback needs a second frame: a serialized complaint.v1.FeedbackBatch "
                    "of one review or more";
        return 0;
    }
    if (len > FEEDBACK_BATCH_MAX) {
        fc->fatal = "feedback batch over 64 MiB: send fewer reviews per request";
        return 0;
    }
    Complaint__V1__FeedbackBatch *b = complaint__v1__feedback_batch__unpack(NULL, len, bytes);
    if (!b) {
        fc->fatal = "not a serialized complaint.v1.FeedbackBatch";
        return 0;
    }
    fc->received = b->n_items;
    /* The valid items, borrowed from b, packed as a batch of their own. */
    Complaint__V1__Feedback **keep = malloc((b->n_items ? b->n_items : 1) * sizeof *keep);
    if (!keep) {
        complaint__v1__feedback_batch__free_unpacked(b, NULL);
        return -1;
    }
    for (size_t i = 0; i < b->n_items; i++) {
        const char *why = feedback_invalid(b->items[i], max_text);
        if (why)
            add_error(fc, i, b->items[i]->event_id, why);
        else
            keep[fc->valid++] = b->items[i];
    }
    int rc = 0;
    if (fc->valid) {
        Complaint__V1__FeedbackBatch out = COMPLAINT__V1__FEEDBACK_BATCH__INIT;
        out.items = keep;
        out.n_items = fc->valid;
        size_t n = complaint__v1__feedback_batch__get_packed_size(&out);
        uint8_t *buf = malloc(sizeof ticket + n);
        if (buf) {
            memcpy(buf, &ticket, sizeof ticket);
            complaint__v1__feedback_batch__pack(&out, buf + sizeof ticket);
            strbuf_append(msg, (const char *)buf, sizeof ticket + n);
            free(buf);
        } else {
            rc = -1;
        }
    }
    free(keep);
    complaint__v1__feedback_batch__free_unpacked(b, NULL);
    return rc;
}

void feedback_check_free(feedback_check *fc) { strbuf_free(&fc->errors); }

void feedback_reply(strbuf *sb, const feedback_check *fc, const feedback_done *d)
{
    if (fc->fatal) {
        strbuf_puts(sb, "{\"ok\":false,\"error\":");
        strbuf_json_str(sb, fc->fatal, strlen(fc->fatal));
        strbuf_puts(sb, ",\"received\":0,\"stored\":0}");
        return;
    }
    int failed = d && d->rc != HIST_OK;
    strbuf_printf(sb, "{\"ok\":%s", failed ? "false" : "true");
    if (failed) {
        char msg[sizeof d->error + 32];
        int n = snprintf(msg, sizeof msg, "feedback store: %.*s", (int)sizeof d->error, d->error);
        strbuf_puts(sb, ",\"error\":");
        strbuf_json_str(sb, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : strlen(msg));
    }
    strbuf_printf(sb, ",\"received\":%zu,\"stored\":%u,\"replaced\":%u,\"rejected\":%zu,\"errors\":[",
              fc->received, d ? d->stored : 0u, d ? d->replaced : 0u, fc->rejected);
    if (fc->errors.len)
        strbuf_append(sb, fc->errors.buf, fc->errors.len);
    strbuf_puts(sb, "]}");
}
