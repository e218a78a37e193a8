/*
 * nats_in — an event that came from NATS, as it travels through the
 * pipeline (cluster mode, issue 18): the partition thread that fetched it
 * (nats_part.c) hands it to ingest as a pointer, ingest makes it a job
 * whose body borrows the message's bytes, and the publisher
 * (nats_publish.c) stores its decision in DECISIONS, acks the message and
 * frees it. Ownership goes with the pointer; the job owns it from ingest on.
 */
#ifndef COMPLAINTD_NATS_IN_H
#define COMPLAINTD_NATS_IN_H

#include <stddef.h>
#include <stdint.h>

#define NATS_IN_ENDPOINT "inproc://nats-in"

struct nats_part;
struct __natsMsg;

typedef struct nats_in {
    struct __natsMsg *msg;    /* owned: acked and destroyed after its decision is stored */
    struct nats_part *part;   /* the partition it came from (counts it in flight) */
    uint64_t          stream_seq;  /* its COMPLAINTS sequence */
    int               quiet;  /* decided before the takeover: apply to history, publish nothing */
    int               replay; /* from the takeover's replay (an ordered consumer): nothing to ack */
} nats_in;

/* A nats_in crosses from its partition thread to ingest as a pointer in a
 * ZeroMQ message, which ThreadSanitizer cannot see through (as the
 * batches in pipeline_internal.h): these state the hand-off. */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define NATS_IN_RELEASE(p) __tsan_release(p)
#define NATS_IN_ACQUIRE(p) __tsan_acquire(p)
#else
#define NATS_IN_RELEASE(p) ((void)(p))
#define NATS_IN_ACQUIRE(p) ((void)(p))
#endif

/* The event's bytes, borrowed from the message (nats_publish.c). */
const void *nats_in_data(const nats_in *in);
size_t      nats_in_len(const nats_in *in);

#endif
