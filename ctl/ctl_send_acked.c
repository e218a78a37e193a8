/*
 * complaintctl send --acked: at-least-once delivery over the acknowledged
 * ingest endpoint (a DEALER to complaintd's ROUTER).
 *
 * Up to --window events are in flight; each waits for its Ack, which the
 * daemon sends only after the decision is committed. An event with no Ack
 * after --retry-ms is sent again: if the daemon had committed it before a
 * crash, de-duplication answers DUPLICATE and nothing is counted twice. The
 * DEALER reconnects by itself when the daemon comes back.
 *
 * A line of the input that is not an event is reported (INPUT:LINE) and
 * skipped; the good ones are sent all the same, and the exit code is 2 at
 * the end, as with plain send.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "codec.h"
#include "grow.h"
#include "hash.h"
#include "ctl.h"

typedef struct pending {
    char    *event_id;  /* owned */
    uint8_t *bytes;     /* the serialized event; owned */
    size_t   len;
    int64_t  sent_us;   /* 0 = not sent yet */
    int      done;
    long     lineno;    /* where the input had it */
} pending;

typedef struct acked_send {
    pending *ev;
    size_t   n, cap;
    int32_t *slots;     /* hash table event_id -> index, -1 empty */
    size_t   n_slots;
    size_t   in_flight, done, next_new;
    long     sent, resent, decided, duplicates, rejected;
} acked_send;

static uint64_t hash_str(const char *s) { return hash_fnv1a_str(s); }

/* Index the events by event_id. A repeated id could never get an Ack of
 * its own (the daemon answers the first): it is reported, with both
 * lines, and dropped. Returns CTL_USAGE if any was, else 0. */
static int index_events(acked_send *a, const char *input)
{
    int status = 0;
    a->n_slots = 16;
    while (a->n_slots < a->n * 2)
        a->n_slots *= 2;
    a->slots = malloc(a->n_slots * sizeof *a->slots);
    memset(a->slots, 0xff, a->n_slots * sizeof *a->slots);
    size_t kept = 0;
    for (size_t i = 0; i < a->n; i++) {
        size_t s = hash_str(a->ev[i].event_id) & (a->n_slots - 1);
        while (a->slots[s] >= 0 && strcmp(a->ev[a->slots[s]].event_id, a->ev[i].event_id) != 0)
            s = (s + 1) & (a->n_slots - 1);
        if (a->slots[s] >= 0) {
            fprintf(stderr, "complaintctl: %s:%ld: event_id '%s' repeats line %ld; not sent\n", input,
                    a->ev[i].lineno, a->ev[i].event_id, a->ev[a->slots[s]].lineno);
            free(a->ev[i].event_id);
            free(a->ev[i].bytes);
            status = CTL_USAGE;
            continue;
        }
        a->ev[kept] = a->ev[i];
        a->slots[s] = (int32_t)kept++;
    }
    a->n = kept;
    return status;
}

static pending *find(acked_send *a, const char *id)
{
    size_t s = hash_str(id) & (a->n_slots - 1);
    for (; a->slots[s] >= 0; s = (s + 1) & (a->n_slots - 1))
        if (strcmp(a->ev[a->slots[s]].event_id, id) == 0)
            return &a->ev[a->slots[s]];
    return NULL;
}

/* Keep one event of the input; every event needs an event_id (the ack names it). */
static int keep_event(event_msg *ev, const char *input, long lineno, void *arg)
{
    acked_send *a = arg;
    if (!*ev->event_id) {
        fprintf(stderr, "complaintctl: %s:%ld: --acked needs an event_id\n", input, lineno);
        return CTL_USAGE;
    }
    pending *grown = grow_array(a->ev, &a->cap, a->n + 1, sizeof *grown, 1024);
    if (!grown) {
        fprintf(stderr, "complaintctl: %s:%ld: out of memory\n", input, lineno);
        return CTL_FAIL;
    }
    a->ev = grown;
    pending *p = &a->ev[a->n++];
    memset(p, 0, sizeof *p);
    p->event_id = strdup(ev->event_id);
    p->lineno = lineno;
    p->len = complaint__v1__complaint_event__get_packed_size(ev);
    p->bytes = malloc(p->len ? p->len : 1);
    if (!p->event_id || !p->bytes) {
        free(p->event_id);
        free(p->bytes);
        a->n--;
        fprintf(stderr, "complaintctl: %s:%ld: out of memory\n", input, lineno);
        return CTL_FAIL;
    }
    complaint__v1__complaint_event__pack(ev, p->bytes);
    return 0;
}

static void take_ack(acked_send *a, const void *data, size_t len)
{
    Complaint__V1__Ack *ack = complaint__v1__ack__unpack(NULL, len, data);
    if (!ack)
        return;
    pending *p = *ack->event_id ? find(a, ack->event_id) : NULL;
    if (p && !p->done) {
        p->done = 1;
        a->done++;
        if (p->sent_us)
            a->in_flight--;
        if (ack->status == COMPLAINT__V1__ACK__STATUS__DUPLICATE)
            a->duplicates++;
        else if (ack->status == COMPLAINT__V1__ACK__STATUS__REJECTED) {
            a->rejected++;
            fprintf(stderr, "complaintctl: event %s rejected: %s\n", ack->event_id, ack->reason);
        } else
            a->decided++;
    }
    complaint__v1__ack__free_unpacked(ack, NULL);
}

/* Send new events while the window has room (and, with a rate, while the
 * schedule allows), and re-send the overdue. */
static void send_some(acked_send *a, void *dealer, size_t window, int64_t retry_us, long rate,
                      int64_t start_us)
{
    int64_t now = clock_mono_us();
    size_t allowed = rate > 0 ? (size_t)((now - start_us) * rate / 1000000) + 1 : a->n;
    for (size_t i = 0; i < a->next_new && a->in_flight > 0; i++) {
        pending *p = &a->ev[i];
        if (!p->done && p->sent_us && now - p->sent_us > retry_us) {
            if (zmq_send(dealer, p->bytes, p->len, ZMQ_DONTWAIT) < 0)
                return;
            p->sent_us = now;
            a->resent++;
        }
    }
    while (a->in_flight < window && a->next_new < a->n && a->next_new < allowed) {
        pending *p = &a->ev[a->next_new];
        if (zmq_send(dealer, p->bytes, p->len, ZMQ_DONTWAIT) < 0)
            return;
        p->sent_us = now;
        a->in_flight++;
        a->next_new++;
        a->sent++;
    }
}

int ctl_send_acked(const char *endpoint, FILE *in, const char *input, long window, int retry_ms,
                   int timeout_ms, long rate, const char *curve_server_key, const char *curve_key_file)
{
    acked_send a = {0};
    int input_status = ctl_each_event(in, input, keep_event, &a);  /* bad lines: reported, skipped */
    int status = 0;
    int repeated = index_events(&a, input);
    if (repeated > input_status)
        input_status = repeated;
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (ctl_apply_curve(dealer, curve_server_key, curve_key_file) < 0) {
        status = CTL_USAGE;
    } else if (zmq_connect(dealer, endpoint) < 0) {
        fprintf(stderr, "complaintctl: connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        status = CTL_USAGE;
    }
    int64_t start = clock_mono_us();
    int64_t deadline = start + (int64_t)timeout_ms * 1000;
    while (status != CTL_USAGE && a.done < a.n && clock_mono_us() < deadline) {
        send_some(&a, dealer, (size_t)window, (int64_t)retry_ms * 1000, rate, start);
        zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, rate > 0 ? 5 : 50) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT) >= 0)
            take_ack(&a, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
    fprintf(stderr,
            "complaintctl: %zu events: %ld decided, %ld duplicates, %ld rejected, %ld re-sent, "
            "%zu unacknowledged\n",
            a.n, a.decided, a.duplicates, a.rejected, a.resent, a.n - a.done);
    if (status == 0 && a.done < a.n)
        status = CTL_FAIL;
    if (status == 0 && input_status)
        status = input_status;
    for (size_t i = 0; i < a.n; i++) {
        free(a.ev[i].event_id);
        free(a.ev[i].bytes);
    }
    free(a.ev);
    free(a.slots);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    return status;
}
