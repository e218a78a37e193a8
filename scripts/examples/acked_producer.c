/*
 * acked_producer — an example producer for complaintd's acknowledged ingest,
 * in plain C with libzmq and protobuf-c, for integration teams to start from.
 *
 *   build/acked_producer [ENDPOINT] [EVENTS] [WINDOW]
 *
 * It sends EVENTS synthetic complaints over a DEALER socket, keeps at most
 * WINDOW of them unacknowledged, and re-sends any event whose Ack has not
 * come within RETRY_MS. complaintd acknowledges an event only after its
 * decision is committed and de-duplicates by event_id, so re-sending after a
 * timeout (or after a daemon restart) is always safe: each event is decided
 * exactly once. Exit 0 when every event has its Ack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "complaint.pb-c.h"

enum { RETRY_MS = 2000 };

typedef struct in_flight {
    int64_t sent_ms;  /* 0 = not sent yet */
    int     acked;
} in_flight;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Event i, serialized into buf; returns its size. */
static size_t make_event(long i, uint8_t *buf, size_t cap)
{
    static const char *const texts[] = {
        "The blender stopped working after a week, I want a replacement.",
        "Заказ не привезли в обещанный день, верните деньги за доставку.",
        "Dziękuję za szybką wymianę towaru, bardzo miła obsługa!",
    };
    char event_id[32], customer_id[32];
    snprintf(event_id, sizeof event_id, "example-%ld", i);
    snprintf(customer_id, sizeof customer_id, "customer-%ld", i % 100);
    Complaint__V1__ComplaintEvent ev = COMPLAINT__V1__COMPLAINT_EVENT__INIT;
    ev.event_id = event_id;
    ev.customer_id = customer_id;
    ev.channel = COMPLAINT__V1__CHANNEL__CHAT;
    ev.text = (char *)texts[i % 3];
    if (complaint__v1__complaint_event__get_packed_size(&ev) > cap)
        return 0;
    return complaint__v1__complaint_event__pack(&ev, buf);
}

/* The index encoded in an Ack's event_id, or -1. */
static long acked_index(const void *data, size_t len)
{
    Complaint__V1__Ack *ack = complaint__v1__ack__unpack(NULL, len, data);
    long i = -1;
    if (ack && strncmp(ack->event_id, "example-", 8) == 0)
        i = strtol(ack->event_id + 8, NULL, 10);
    if (ack && ack->status == COMPLAINT__V1__ACK__STATUS__REJECTED)
        fprintf(stderr, "event %s rejected: %s\n", ack->event_id, ack->reason);
    complaint__v1__ack__free_unpacked(ack, NULL);
    return i;
}

int main(int argc, char **argv)
{
    const char *endpoint = argc > 1 ? argv[1] : "tcp://127.0.0.1:5563";
    long n = argc > 2 ? atol(argv[2]) : 1000;
    long window = argc > 3 ? atol(argv[3]) : 100;
    if (n < 1 || window < 1) {
        fprintf(stderr, "usage: acked_producer [ENDPOINT] [EVENTS>0] [WINDOW>0]\n");
        return 2;
    }
    in_flight *state = calloc((size_t)n, sizeof *state);
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    if (zmq_connect(dealer, endpoint) != 0) {
        fprintf(stderr, "connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        return 2;
    }
    long next = 0, outstanding = 0, done = 0, resent = 0;
    uint8_t buf[1024];
    while (done < n) {
        int64_t now = now_ms();
        for (long i = 0; i < next; i++)  /* re-send what is overdue */
            if (!state[i].acked && now - state[i].sent_ms > RETRY_MS) {
                zmq_send(dealer, buf, make_event(i, buf, sizeof buf), 0);
                state[i].sent_ms = now;
                resent++;
            }
        while (outstanding < window && next < n) {  /* fill the window */
            zmq_send(dealer, buf, make_event(next, buf, sizeof buf), 0);
            state[next++].sent_ms = now;
            outstanding++;
        }
        zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        zmq_msg_t ack;
        zmq_msg_init(&ack);
        while (zmq_msg_recv(&ack, dealer, ZMQ_DONTWAIT) >= 0) {
            long i = acked_index(zmq_msg_data(&ack), zmq_msg_size(&ack));
            if (i >= 0 && i < n && !state[i].acked) {
                state[i].acked = 1;
                outstanding--;
                done++;
            }
        }
        zmq_msg_close(&ack);
    }
    printf("%ld events acknowledged, %ld re-sent\n", done, resent);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    free(state);
    return 0;
}
