/*
 * complaintctl feedback FILE.jsonl: send managers' reviews to a running
 * complaintd (the control endpoint's "feedback" command, control.h).
 *
 * A line is one review: "event_id" (or "id"), "customer_id", "text",
 * "labels" (taxonomy names; [] = no label applies), and optionally
 * "channel", "lang", "action" (e.g. "HOLD_LINE"), "reviewer", "ts_ms". The
 * same file trains a model offline (complaintctl train reads text,
 * channel, lang and labels). A bad line is named (FILE:LINE) and skipped,
 * as is a review the daemon refuses; either makes the exit code 2 once the
 * rest has been sent.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "config.h"
#include "ctl.h"
#include "labels.h"
#include "strbuf.h"

enum { FEEDBACK_BATCH_DEFAULT = 500 };

typedef Complaint__V1__Feedback feedback_msg;

static void feedback_free(feedback_msg *fb)
{
    free(fb->event_id);
    free(fb->customer_id);
    free(fb->text);
    free(fb->lang);
    free(fb->reviewer);
    free(fb->labels);
    free(fb);
}

static char *str_or_empty(json_t *o, const char *k, const char *alt, const char **bad)
{
    json_t *v = json_object_get(o, k);
    if (!v && alt)
        v = json_object_get(o, alt);
    if (v && !json_is_string(v) && !json_is_null(v))
        *bad = k;
    return strdup(v && json_is_string(v) ? json_string_value(v) : "");
}

/* One line into a new review; NULL with the problem in err. */
static feedback_msg *feedback_from_json(const char *line, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        snprintf(err, errlen, o ? "expected a JSON object" : "invalid JSON at column %d: %s",
                 je.column, je.text);
        json_decref(o);
        return NULL;
    }
    feedback_msg *fb = calloc(1, sizeof *fb);
    complaint__v1__feedback__init(fb);
    const char *bad = NULL;
    fb->event_id = str_or_empty(o, "event_id", "id", &bad);
    fb->customer_id = str_or_empty(o, "customer_id", NULL, &bad);
    fb->text = str_or_empty(o, "text", NULL, &bad);
    fb->lang = str_or_empty(o, "lang", NULL, &bad);
    fb->reviewer = str_or_empty(o, "reviewer", NULL, &bad);
    json_t *labels = json_object_get(o, "labels"), *ch = json_object_get(o, "channel");
    json_t *action = json_object_get(o, "action"), *ts = json_object_get(o, "ts_ms");
    err[0] = '\0';
    if (bad) {
        snprintf(err, errlen, "\"%s\" must be a string", bad);
    } else if (!*fb->event_id || !*fb->customer_id || !*fb->text) {
        snprintf(err, errlen, "a review needs \"event_id\", \"customer_id\" and \"text\"");
    } else if (!json_is_array(labels)) {
        snprintf(err, errlen, "\"labels\" must be an array of label names ([] for none)");
    } else if (ch && !(json_is_string(ch) && channel_from_name(json_string_value(ch)) >= 0)) {
        snprintf(err, errlen, "unknown channel (want call, chat, email, review, social, staff_note)");
    } else if (action && !(json_is_string(action) && action_from_name(json_string_value(action)))) {
        snprintf(err, errlen, "unknown action (want e.g. HOLD_LINE or RESOLVE_LOCAL)");
    } else if (ts && !json_is_integer(ts)) {
        snprintf(err, errlen, "\"ts_ms\" must be a whole number");
    }
    if (!err[0]) {
        fb->channel = ch ? (Complaint__V1__Channel)channel_from_name(json_string_value(ch)) : 0;
        fb->action = action ? (Complaint__V1__Action)action_from_name(json_string_value(action)) : 0;
        fb->ts_ms = ts ? json_integer_value(ts) : 0;
        fb->labels = calloc(json_array_size(labels) + 1, sizeof *fb->labels);
        size_t i;
        json_t *v;
        json_array_foreach(labels, i, v)
        {
            int l = json_is_string(v) ? label_from_name(json_string_value(v)) : 0;
            if (!l) {
                snprintf(err, errlen, "unknown label %s", json_is_string(v) ? json_string_value(v) : "(not a string)");
                break;
            }
            fb->labels[fb->n_labels++] = (Complaint__V1__Label)l;
        }
    }
    json_decref(o);
    if (err[0]) {
        feedback_free(fb);
        return NULL;
    }
    return fb;
}

typedef struct fb_send {
    void   *req;
    const char *endpoint;
    const char *input;
    int     timeout_ms;
    feedback_msg **items;
    long   *lines;     /* the input line of each item */
    size_t  n, cap;
    long    sent, stored, rejected;
    int     status;
} fb_send;

/* The daemon's per-item errors, by input line. */
static void report_errors(fb_send *s, json_t *reply)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(reply, "errors"), i, e)
    {
        json_int_t item = json_integer_value(json_object_get(e, "item"));
        const char *why = json_string_value(json_object_get(e, "error"));
        long line = item >= 0 && (size_t)item < s->n ? s->lines[item] : 0;
        fprintf(stderr, "complaintctl: %s:%ld: event %s: refused: %s\n", s->input, line,
                item >= 0 && (size_t)item < s->n ? s->items[item]->event_id : "?", why ? why : "?");
        s->status = CTL_USAGE;
    }
}

/* Send the items held as one batch and read the reply. -1 on a failure
 * that ends the run (no answer, or the store refused). */
static int flush(fb_send *s)
{
    if (!s->n)
        return 0;
    Complaint__V1__FeedbackBatch b = COMPLAINT__V1__FEEDBACK_BATCH__INIT;
    b.items = s->items;
    b.n_items = s->n;
    size_t len = complaint__v1__feedback_batch__get_packed_size(&b);
    uint8_t *buf = malloc(len ? len : 1);
    complaint__v1__feedback_batch__pack(&b, buf);
    int rc = -1;
    if (zmq_send(s->req, "feedback", 8, ZMQ_SNDMORE) == 8 && zmq_send(s->req, buf, len, 0) == (int)len) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->req, 0) >= 0) {
            json_t *reply = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, NULL);
            if (reply && json_is_true(json_object_get(reply, "ok"))) {
                s->sent += (long)s->n;
                s->stored += (long)json_integer_value(json_object_get(reply, "stored"));
                s->rejected += (long)json_integer_value(json_object_get(reply, "rejected"));
                report_errors(s, reply);
                rc = 0;
            } else {
                fprintf(stderr, "complaintctl: feedback: %.*s\n", (int)zmq_msg_size(&m),
                        (const char *)zmq_msg_data(&m));
            }
            json_decref(reply);
        } else {
            fprintf(stderr, "complaintctl: no answer from %s within %d ms\n", s->endpoint, s->timeout_ms);
        }
        zmq_msg_close(&m);
    } else {
        fprintf(stderr, "complaintctl: send to %s: %s\n", s->endpoint, zmq_strerror(zmq_errno()));
    }
    free(buf);
    for (size_t i = 0; i < s->n; i++)
        feedback_free(s->items[i]);
    s->n = 0;
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: complaintctl feedback FILE.jsonl [--control EP] [--config FILE] [--batch N]\n"
                    "       [--timeout MS] [--curve-server-key KEY --curve-key-file FILE]\n");
}

int cmd_feedback(int argc, char **argv)
{
    static const struct option opts[] = {{"control", required_argument, 0, 'c'},
                                         {"config", required_argument, 0, 'f'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"curve-server-key", required_argument, 0, 'S'},
                                         {"curve-key-file", required_argument, 0, 'K'},
                                         {0, 0, 0, 0}};
    config cfg;
    config_defaults(&cfg);
    char err[1024];
    const char *server_key = NULL, *key_file = NULL;
    long batch = FEEDBACK_BATCH_DEFAULT;
    int timeout = 30000, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'c' && config_set(&cfg, "control", optarg, err, sizeof err) == 0)
            continue;
        if (o == 'f' && config_load_file(&cfg, optarg, err, sizeof err) == 0)
            continue;
        if (o == 'c' || o == 'f') {
            fprintf(stderr, "complaintctl: %s\n", err);
            return CTL_USAGE;
        }
        if (o == 'b' && (batch = atol(optarg)) >= 1 && batch <= 10000)
            continue;
        if (o == 't' && (timeout = atoi(optarg)) > 0)
            continue;
        if (o == 'S') {
            server_key = optarg;
            continue;
        }
        if (o == 'K') {
            key_file = optarg;
            continue;
        }
        usage();
        return CTL_USAGE;
    }
    if (optind + 1 != argc) {
        usage();
        return CTL_USAGE;
    }
    const char *input = argv[optind];
    FILE *in = ctl_open_input(input);
    if (!in)
        return CTL_USAGE;
    void *ctx = zmq_ctx_new();
    fb_send s = {.req = zmq_socket(ctx, ZMQ_REQ), .endpoint = cfg.control, .input = input,
                 .timeout_ms = timeout};
    int linger = 0;
    zmq_setsockopt(s.req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s.req, ZMQ_LINGER, &linger, sizeof linger);
    int status = 0;
    if (ctl_apply_curve(s.req, server_key, key_file) < 0) {
        status = CTL_USAGE;
    } else if (zmq_connect(s.req, cfg.control) < 0) {
        fprintf(stderr, "complaintctl: connect %s: %s\n", cfg.control, zmq_strerror(zmq_errno()));
        status = CTL_USAGE;
    }
    s.cap = (size_t)batch;
    s.items = calloc(s.cap, sizeof *s.items);
    s.lines = calloc(s.cap, sizeof *s.lines);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, len;
    int bad_input = 0;
    while (status == 0 && (len = ctl_read_line(in, &line, &cap)) >= 0) {
        lineno++;
        if (len == 0 || strspn(line, " \t\r") == (size_t)len)
            continue;
        feedback_msg *fb = feedback_from_json(line, err, sizeof err);
        if (!fb) {
            fprintf(stderr, "complaintctl: %s:%ld: %s\n", input, lineno, err);
            bad_input = 1;
            continue;
        }
        s.lines[s.n] = lineno;
        s.items[s.n++] = fb;
        if (s.n == s.cap && flush(&s) < 0)
            status = CTL_FAIL;
    }
    if (status == 0 && flush(&s) < 0)
        status = CTL_FAIL;
    for (size_t i = 0; i < s.n; i++)
        feedback_free(s.items[i]);
    free(s.items);
    free(s.lines);
    free(line);
    if (in != stdin)
        fclose(in);
    zmq_close(s.req);
    zmq_ctx_term(ctx);
    if (status == 0)
        printf("{\"sent\":%ld,\"stored\":%ld,\"rejected\":%ld}\n", s.sent, s.stored, s.rejected);
    if (status == 0 && (bad_input || s.status))
        status = CTL_USAGE;
    return status;
}
