/*
 * zmq_limit — the transport limit: a bare ZeroMQ PUSH -> PULL loop carrying
 * the corpus's own messages (same sizes) over the same transport as the
 * daemon's ingest (tcp loopback by default).
 *
 *   zmq_limit --corpus FILE.pb [--events N] [--endpoint tcp://127.0.0.1:5590]
 *
 * The pusher and the puller run in two threads with a ZeroMQ context each, so
 * each side has its own I/O thread, as two processes (loadgen and complaintd)
 * would. The puller only receives and counts. Prints one JSON object:
 * messages/s and MB/s from the first send to the last receive.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "corpus_file.h"

static rec *corpus;
static size_t n_corpus;
static uint64_t n_events;
static const char *endpoint = "tcp://127.0.0.1:5590";
static uint64_t t_start, t_end, bytes_rx;


static void *puller(void *arg)
{
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    int hwm = 100000;  /* as the daemon's ingest */
    zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_bind(pull, endpoint);
    *(volatile int *)arg = 1;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (uint64_t i = 0; i < n_events; i++) {
        zmq_msg_recv(&m, pull, 0);
        bytes_rx += zmq_msg_size(&m);
    }
    t_end = now_ns();
    zmq_msg_close(&m);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    static const struct option opts[] = {
        {"corpus", 1, 0, 'c'}, {"events", 1, 0, 'n'}, {"endpoint", 1, 0, 'e'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'c')
            path = optarg;
        else if (o == 'n')
            n_events = strtoull(optarg, NULL, 10);
        else if (o == 'e')
            endpoint = optarg;
        else {
            fprintf(stderr, "usage: zmq_limit --corpus FILE.pb [--events N] [--endpoint EP]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: zmq_limit --corpus FILE.pb [--events N] [--endpoint EP]\n");
        return 2;
    }
    corpus = corpus_load("zmq_limit", path, 0, &n_corpus);
    if (!n_events)
        n_events = n_corpus;
    volatile int bound = 0;
    pthread_t t;
    pthread_create(&t, NULL, puller, (void *)&bound);
    while (!bound)
        usleep(1000);
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = 10000;  /* as loadgen */
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_connect(push, endpoint);
    usleep(200000);
    t_start = now_ns();
    for (uint64_t i = 0; i < n_events; i++) {
        rec *r = &corpus[i % n_corpus];
        zmq_send(push, r->p, r->len, 0);
    }
    pthread_join(t, NULL);
    zmq_close(push);
    zmq_ctx_term(ctx);
    double secs = (double)(t_end - t_start) / 1e9;
    printf("{\"events\":%llu,\"elapsed_s\":%.3f,\"events_per_s\":%.0f,\"mb_per_s\":%.1f,\"mean_msg_bytes\":%.1f}\n",
           (unsigned long long)n_events, secs, (double)n_events / secs, (double)bytes_rx / secs / 1e6,
           (double)bytes_rx / (double)n_events);
    return 0;
}
