/*
 * inproc — the queues between the pipeline's threads: their endpoints, what
 * travels on them, and the hand-off annotations for ThreadSanitizer.
 *
 *   ingest --WORK_ENDPOINT_FMT (one per worker)--> worker: a job_batch *;
 *            an empty message is the end of input
 *   worker --DECIDE_ENDPOINT--> writer: a job_batch *; empty = a worker is done
 *   writer --PUBLISH_ENDPOINT--> publisher: a decided_group *; empty = the
 *            writer is done
 *   publisher --ACKS_ENDPOINT--> ingest: [routing id][serialized Ack]; an
 *            empty routing id frame alone means no more acks will come
 *   control --FEEDBACK_ENDPOINT--> writer: one frame, a u64 ticket (native
 *            order) then a serialized FeedbackBatch of valid reviews
 *   writer --FEEDBACK_DONE_ENDPOINT--> control: a feedback_done, by value
 *
 * The bound end of each queue is made by pipeline_start (so a failure is
 * reported before any thread runs) and given to the thread that reads it;
 * the connecting end is made by the thread that writes.
 */
#ifndef COMPLAINTD_INPROC_H
#define COMPLAINTD_INPROC_H

#include <stdint.h>
#include <zmq.h>

enum { MAX_WORKERS = 256 };
enum { WORKER_QUEUE = 8 };     /* batches queued to one worker before ingest blocks */

#define WORK_ENDPOINT_FMT "inproc://work-%d"
#define ACKS_ENDPOINT "inproc://acks"
#define DECIDE_ENDPOINT "inproc://decide"
#define PUBLISH_ENDPOINT "inproc://publish"
#define STOP_ENDPOINT "inproc://ingest-stop"
#define FEEDBACK_ENDPOINT "inproc://feedback"
#define FEEDBACK_DONE_ENDPOINT "inproc://feedback-done"

/* What the writer did with one feedback message (copied through the queue:
 * no pointers, so nothing leaks if nobody reads it at shutdown). */
typedef struct feedback_done {
    uint64_t ticket;
    uint32_t stored;      /* reviews written (replaced ones included) */
    uint32_t replaced;    /* of those, events reviewed before */
    int32_t  rc;          /* HIST_OK, or why none was stored */
    char     error[200];  /* rc's message */
} feedback_done;

/* A batch crosses from a worker to the writer as a pointer inside a ZeroMQ
 * message. libzmq is not built with ThreadSanitizer, so the ordering its
 * queue gives is invisible to it; these annotations state that hand-off. */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define HANDOFF_RELEASE(p) __tsan_release(p)
#define HANDOFF_ACQUIRE(p) __tsan_acquire(p)
#else
#define HANDOFF_RELEASE(p) ((void)(p))
#define HANDOFF_ACQUIRE(p) ((void)(p))
#endif

static inline void set_sockopt_int(void *sock, int opt, int v)
{
    zmq_setsockopt(sock, opt, &v, sizeof v);
}

#endif
