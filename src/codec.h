/*
 * codec — events and decisions between their three forms: protobuf on the
 * wire, JSON Lines for people and tools (complaintctl), and the C structs the
 * pipeline works on.
 */
#ifndef COMPLAINTD_CODEC_H
#define COMPLAINTD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "complaint.pb-c.h"
#include "strbuf.h"

typedef Complaint__V1__ComplaintEvent event_msg;
typedef Complaint__V1__TriageDecision decision_msg;

/* Append the decision as one JSON object (no newline). */
void codec_decision_json(strbuf *sb, const decision_msg *m);

/* Parse one JSON object (a JSON Lines line) into *ev, whose strings are then
 * owned by ev: free with codec_event_json_free. "id" is accepted for "event_id"
 * (the development corpus's spelling). Returns 0, or -1 with a message. */
int  codec_event_from_json(const char *line, event_msg *ev /* OUT */, char *err, size_t errlen);
void codec_event_json_free(event_msg *ev);

/* The latest ts_ms accepted: 9999-12-31T23:59:59.999Z. Event times feed
 * history arithmetic (decay, windows, times stored relative to first_ms);
 * bounding them to 0..EVENT_TS_MAX keeps every difference of two times far
 * from int64 overflow, whatever a producer's clock says. 0 means unset: the
 * daemon uses the time of receipt. */
#define EVENT_TS_MAX_MS 253402300799999LL

/* What codec_event_invalid leaves to its caller (a bit set; 0 checks everything). */
enum {
    /* The text's UTF-8: for a caller that classifies the text next, since
     * classify_text validates it in the pass that reads it anyway
     * (CLASSIFY_EUTF8; both use utf8.h), and reading a text twice was 1.5%
     * of the daemon's CPU. */
    EVENT_SKIP_TEXT_UTF8 = 1,
};

/* Why an event cannot be decided, or NULL if it can. max_text: size limit;
 * skip: EVENT_SKIP_* bits, 0 for every check. */
const char *codec_event_invalid(const event_msg *ev, size_t max_text, unsigned skip);

#endif
