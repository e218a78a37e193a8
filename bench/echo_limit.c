/*
 * echo_limit — the latency floor of any daemon on this machine: a process
 * that does nothing with an event but hand it back, driven by the same
 * loadgen at the same rates as complaintd.
 *
 *   echo_limit --ingest EP --publish EP [--durable FILE] [--max-group N]
 *
 * One thread PULLs events from --ingest and PUBlishes each back on --publish
 * as two frames, the topic "ECHO" and the event's own bytes: loadgen reads
 * event_id (field 1) from the start of the body, so it matches an echo to
 * its send time as it does a TriageDecision.
 *
 * With --durable, every group of events (what one look at the socket finds,
 * at most --max-group) is appended to FILE and flushed with fdatasync
 * before any of it is published: the shortest path a durable group commit
 * could take, one sequential append and one flush per group, with no
 * labelling, no history and no B-tree. FILE is a 64 MB log written with
 * zeros at start and then round and round, as a write-ahead log's
 * preallocated segments would be.
 *
 * It runs until SIGTERM or SIGINT, then prints one JSON object: events
 * echoed, groups, mean events per group, and the flush time (mean, p99, max).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

enum { LOG_BYTES = 64 << 20 };  /* the log file, written round and round */

static volatile sig_atomic_t stopping;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: echo_limit --ingest EP --publish EP [--durable FILE] [--max-group N]\n");
    exit(2);
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Write the file's whole length with zeros and flush it, so that the appends
 * below overwrite allocated blocks: their fdatasync then flushes data only,
 * not the file's size or extent map through the journal. */
static void preallocate(int fd, const char *path)
{
    static char zeros[1 << 20];
    for (off_t off = 0; off < LOG_BYTES; off += (off_t)sizeof zeros)
        if (pwrite(fd, zeros, sizeof zeros, off) != (ssize_t)sizeof zeros) {
            fprintf(stderr, "echo_limit: %s: %s\n", path, strerror(errno));
            exit(2);
        }
    if (fsync(fd) < 0) {
        fprintf(stderr, "echo_limit: %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

/* Append every message of the group at *off (wrapping to the start of the
 * file when it would pass its end) and flush; exits 1 on a write error. */
static void append_group(int fd, zmq_msg_t *group, size_t n, off_t *off)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = zmq_msg_size(&group[i]);
        if (*off + (off_t)len > LOG_BYTES)
            *off = 0;
        if (pwrite(fd, zmq_msg_data(&group[i]), len, *off) != (ssize_t)len) {
            perror("echo_limit: pwrite");
            exit(1);
        }
        *off += (off_t)len;
    }
    if (fdatasync(fd) < 0) {
        perror("echo_limit: fdatasync");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *ingest = NULL, *publish = NULL, *durable = NULL;
    size_t max_group = 1024;
    static const struct option opts[] = {{"ingest", 1, 0, 'i'},
                                         {"publish", 1, 0, 'p'},
                                         {"durable", 1, 0, 'd'},
                                         {"max-group", 1, 0, 'g'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'i')
            ingest = optarg;
        else if (o == 'p')
            publish = optarg;
        else if (o == 'd')
            durable = optarg;
        else if (o == 'g' && atol(optarg) > 0)
            max_group = (size_t)atol(optarg);
        else
            usage();
    }
    if (!ingest || !publish || optind != argc)
        usage();

    int fd = -1;
    off_t off = 0;
    if (durable) {
        if ((fd = open(durable, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
            fprintf(stderr, "echo_limit: %s: %s\n", durable, strerror(errno));
            return 2;
        }
        preallocate(fd, durable);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    int hwm = 100000, timeout_ms = 100;  /* the daemon's ingest HWM; a timeout to see signals */
    zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(pull, ingest) < 0 || zmq_bind(pub, publish) < 0) {
        fprintf(stderr, "echo_limit: bind: %s\n", zmq_strerror(zmq_errno()));
        return 2;
    }
    fprintf(stderr, "ready\n");

    zmq_msg_t *group = calloc(max_group, sizeof *group);
    if (!group)
        return 1;
    uint64_t echoed = 0, groups = 0;
    uint32_t *flush_us = NULL;  /* each flush's time, for the mean and percentiles */
    size_t n_flush = 0, flush_cap = 0;
    while (!stopping) {
        /* Block for the first event, then take what is already there. */
        size_t n = 0;
        zmq_msg_init(&group[0]);
        if (zmq_msg_recv(&group[0], pull, 0) < 0) {
            zmq_msg_close(&group[0]);
            continue;
        }
        for (n = 1; n < max_group; n++) {
            zmq_msg_init(&group[n]);
            if (zmq_msg_recv(&group[n], pull, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&group[n]);
                break;
            }
        }
        if (fd >= 0) {
            uint64_t t0 = now_ns();
            append_group(fd, group, n, &off);
            uint32_t dt_us = (uint32_t)((now_ns() - t0) / 1000);
            if (n_flush == flush_cap) {
                flush_cap = flush_cap ? 2 * flush_cap : 4096;
                if (!(flush_us = realloc(flush_us, flush_cap * sizeof *flush_us)))
                    return 1;
            }
            flush_us[n_flush++] = dt_us;
        }
        for (size_t i = 0; i < n; i++) {
            zmq_send(pub, "ECHO", 4, ZMQ_SNDMORE);
            zmq_msg_send(&group[i], pub, 0);  /* hands the message over */
            zmq_msg_close(&group[i]);
        }
        echoed += n;
        groups++;
    }
    uint64_t flush_us_sum = 0;
    for (size_t i = 0; i < n_flush; i++)
        flush_us_sum += flush_us[i];
    if (n_flush)  /* qsort may not be given NULL, even for no elements */
        qsort(flush_us, n_flush, sizeof *flush_us, by_value);
    printf("{\"echoed\":%llu,\"groups\":%llu,\"events_per_group\":%.1f,\"flush_ms_mean\":%.3f,"
           "\"flush_ms_p99\":%.3f,\"flush_ms_max\":%.3f}\n",
           (unsigned long long)echoed, (unsigned long long)groups,
           groups ? (double)echoed / (double)groups : 0.0,
           n_flush ? (double)flush_us_sum / (double)n_flush / 1e3 : 0.0,
           n_flush ? flush_us[n_flush * 99 / 100] / 1e3 : 0.0, n_flush ? flush_us[n_flush - 1] / 1e3 : 0.0);
    free(flush_us);
    free(group);
    if (fd >= 0)
        close(fd);
    zmq_close(pull);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return 0;
}
