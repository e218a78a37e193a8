/*
 * loadgen — replay a corpus of ComplaintEvents into complaintd over ZeroMQ and
 * time the decisions that come back.
 *
 *   loadgen --corpus FILE.pb [--ingest EP] [--publish EP] [--events N]
 *           [--rate R] [--tick-us T] [--run-id K] [--skip N] [--idle-timeout MS]
 *           [--quiet]
 *
 * FILE.pb is gen_stream's output (4-byte little-endian length + serialized
 * event, repeated). The corpus is replayed in a loop until N events are sent;
 * each event's fixed-width event_id ("e" + 15 digits) is rewritten in place to
 * run_id * 10^12 + its send index, so ids stay unique across loops and runs
 * (the daemon would otherwise answer re-sends as duplicates) and a decision
 * leads straight back to its send time.
 *
 * One thread PUSHes (at full speed, or at --rate events/s against absolute
 * deadlines), one thread SUBscribes to the daemon's PUB and matches decisions
 * to send times (reading event_id, field 1, straight from the wire bytes).
 * At a fixed rate, latency is measured from the event's scheduled send time,
 * not the moment it was actually sent, so a stalled sender cannot hide queueing
 * (no coordinated omission). The sender sleeps once per tick (--tick-us,
 * 100 by default; 0 sleeps for each event) and then sends every event that
 * has come due, never one early: sleeping for each event cost a wake per
 * event on this VM's two cores, which the daemon under test paid for. The
 * tick is charged to the daemon: an event sent up to T us after its time
 * counts from its time. The main thread prints a progress line to stderr
 * every second: rate, sent, decided, lag (sent - decided).
 *
 * The summary is one JSON object on stdout: events sent and decided, elapsed
 * time, events/s (decided over first send .. last decision), latency
 * percentiles in microseconds (p50, p90, p99, p99.9, max) over the events after
 * the first --skip, distinct customers sent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
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
static uint64_t n_events, rate, run_id, skip;
static const char *ingest = "tcp://127.0.0.1:5560", *publish = "tcp://127.0.0.1:5561";
static int idle_timeout_ms = 10000, quiet;
static uint64_t tick_ns = 100000;

static uint64_t *send_ns;     /* [n_events] scheduled (rate) or actual send time */
static uint32_t *lat_us;      /* [n_events] latency, UINT32_MAX = not seen */
static _Atomic uint64_t sent, decided, rejected, unknown, dup_seen;
static _Atomic int sending_done, stop_recv;
static uint64_t t_first_send, t_last_send, t_last_recv;

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    exit(1);
}


/* Distinct customer_id values among the records that will be sent (field 2
 * follows the 18-byte event_id field in gen_stream's records). */
static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h | 1;
}

static uint64_t distinct_customers(void)
{
    size_t n = n_events < n_corpus ? n_events : n_corpus;
    size_t cap = 1;
    while (cap < 2 * n)
        cap <<= 1;
    uint64_t *tab = calloc(cap, sizeof *tab), count = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = corpus[i].p + 18;
        if (p[0] != 0x12 || p[1] >= 0x80)
            continue;
        uint64_t h = fnv(p + 2, p[1]);
        size_t k = h & (cap - 1);
        while (tab[k] && tab[k] != h)
            k = (k + 1) & (cap - 1);
        if (!tab[k]) {
            tab[k] = h;
            count++;
        }
    }
    free(tab);
    return count;
}

static void set_id(uint8_t *p, uint64_t id)
{
    /* p[2..18) = "e" + 15 digits */
    p[2] = 'e';
    for (int i = 17; i >= 3; i--) {
        p[i] = (uint8_t)('0' + id % 10);
        id /= 10;
    }
}

static void *sender(void *ctx)
{
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = 10000, linger = 5000;
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(push, ingest) < 0)
        die("cannot connect the ingest endpoint");
    usleep(200000); /* let the connection come up before the clock starts */
    uint64_t start = now_ns();
    t_first_send = start;
    double period = rate ? 1e9 / (double)rate : 0;
    for (uint64_t i = 0; i < n_events; i++) {
        rec *r = &corpus[i % n_corpus];
        set_id(r->p, run_id * 1000000000000ull + i);
        uint64_t t = now_ns();
        if (rate) {
            uint64_t due = start + (uint64_t)(period * (double)i);
            if (t < due) {
                /* Not due yet: sleep to its time plus a tick, then what has
                 * come due by then goes out without sleeping. */
                uint64_t wake = due + tick_ns;
                struct timespec ts = {(time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull)};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            }
            send_ns[i] = due;
        } else {
            send_ns[i] = t;
        }
        while (zmq_send(push, r->p, r->len, 0) < 0)
            if (zmq_errno() != EINTR)
                die("send failed");
        atomic_store_explicit(&sent, i + 1, memory_order_release);
    }
    t_last_send = now_ns();
    atomic_store(&sending_done, 1);
    zmq_close(push);
    return NULL;
}

static void *receiver(void *arg)
{
    void *sub = arg;
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    while (!atomic_load(&stop_recv)) {
        if (zmq_msg_recv(&topic, sub, 0) < 0) {
            if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
                continue;
            break;
        }
        if (!zmq_msg_more(&topic))
            continue;
        if (zmq_msg_recv(&body, sub, 0) < 0)
            continue;
        uint64_t t = now_ns();
        const uint8_t *b = zmq_msg_data(&body);
        size_t n = zmq_msg_size(&body);
        if (zmq_msg_size(&topic) == 6 && memcmp(zmq_msg_data(&topic), "REJECT", 6) == 0)
            rejected++;
        if (n < 18 || b[0] != 0x0a || b[1] != 16 || b[2] != 'e') {
            unknown++;
            continue;
        }
        uint64_t id = 0;
        for (int i = 3; i < 18; i++)
            id = id * 10 + (uint64_t)(b[i] - '0');
        if (id / 1000000000000ull != run_id) {
            unknown++;
            continue;
        }
        uint64_t i = id % 1000000000000ull;
        if (i >= n_events || i >= atomic_load_explicit(&sent, memory_order_acquire) + 1000000) {
            unknown++;
            continue;
        }
        if (lat_us[i] != UINT32_MAX) {
            dup_seen++;
            continue;
        }
        uint64_t d = t > send_ns[i] ? (t - send_ns[i]) / 1000 : 0;
        lat_us[i] = d >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)d;
        t_last_recv = t;
        decided++;
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[k];
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen --corpus FILE.pb [--ingest EP] [--publish EP] [--events N] [--rate R]\n"
                    "               [--tick-us T] [--run-id K] [--skip N] [--idle-timeout MS] [--quiet]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    static const struct option opts[] = {
        {"corpus", 1, 0, 'c'}, {"ingest", 1, 0, 'i'}, {"publish", 1, 0, 'p'}, {"events", 1, 0, 'n'},
        {"rate", 1, 0, 'r'},   {"run-id", 1, 0, 'k'}, {"skip", 1, 0, 's'},    {"idle-timeout", 1, 0, 't'},
        {"quiet", 0, 0, 'q'},  {"tick-us", 1, 0, 'T'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'i': ingest = optarg; break;
        case 'p': publish = optarg; break;
        case 'n': n_events = strtoull(optarg, NULL, 10); break;
        case 'r': rate = strtoull(optarg, NULL, 10); break;
        case 'k': run_id = strtoull(optarg, NULL, 10) % 1000; break;
        case 's': skip = strtoull(optarg, NULL, 10); break;
        case 't': idle_timeout_ms = atoi(optarg); break;
        case 'q': quiet = 1; break;
        case 'T': tick_ns = strtoull(optarg, NULL, 10) * 1000ull; break;
        default: usage();
        }
    }
    if (!path)
        usage();
    corpus = corpus_load("loadgen", path, 1, &n_corpus);
    if (!n_events)
        n_events = n_corpus;
    if (n_events >= 1000000000000ull)
        die("too many events");
    uint64_t customers = distinct_customers();
    send_ns = calloc(n_events, sizeof *send_ns);
    lat_us = malloc(n_events * sizeof *lat_us);
    if (!send_ns || !lat_us)
        die("out of memory");
    memset(lat_us, 0xff, n_events * sizeof *lat_us);
    double mean_bytes = 0;
    for (size_t i = 0; i < n_corpus; i++)
        mean_bytes += corpus[i].len;
    mean_bytes /= (double)n_corpus;

    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    int zero = 0, tmo = 100;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(sub, publish) < 0)
        die("cannot connect the publish endpoint");
    usleep(300000); /* the subscription must reach the PUB before the first decision */
    pthread_t ts, tr;
    pthread_create(&tr, NULL, receiver, sub);
    pthread_create(&ts, NULL, sender, ctx);

    uint64_t last_dec = 0, last_progress = now_ns(), last_change = now_ns(), prev_dec = 0;
    for (;;) {
        usleep(100000);
        uint64_t t = now_ns(), d = atomic_load(&decided), s = atomic_load(&sent);
        if (d != last_dec) {
            last_dec = d;
            last_change = t;
        }
        if (t - last_progress >= 1000000000ull) {
            if (!quiet)
                fprintf(stderr, "loadgen: rate %8.0f/s  sent %10llu  decided %10llu  lag %8llu\n",
                        (double)(d - prev_dec) * 1e9 / (double)(t - last_progress), (unsigned long long)s,
                        (unsigned long long)d, (unsigned long long)(s - d));
            prev_dec = d;
            last_progress = t;
        }
        if (d >= n_events)
            break;
        if (atomic_load(&sending_done) && t - last_change > (uint64_t)idle_timeout_ms * 1000000ull) {
            fprintf(stderr, "loadgen: no decision for %d ms, giving up with %llu of %llu decided\n",
                    idle_timeout_ms, (unsigned long long)d, (unsigned long long)n_events);
            break;
        }
    }
    pthread_join(ts, NULL);
    atomic_store(&stop_recv, 1);
    pthread_join(tr, NULL);
    zmq_close(sub);
    zmq_ctx_term(ctx);

    /* latencies of the decided events after the skipped warm-up */
    size_t m = 0;
    for (uint64_t i = skip; i < n_events; i++)
        if (lat_us[i] != UINT32_MAX)
            lat_us[m++] = lat_us[i];
    qsort(lat_us, m, sizeof *lat_us, cmp_u32);
    uint64_t d = decided;
    double secs = t_last_recv > t_first_send ? (double)(t_last_recv - t_first_send) / 1e9 : 0;
    double send_secs = (double)(t_last_send - t_first_send) / 1e9;
    printf("{\"events\":%llu,\"decided\":%llu,\"rejected\":%llu,\"missing\":%llu,\"unknown\":%llu,"
           "\"duplicates_seen\":%llu,\"rate_target\":%llu,\"elapsed_s\":%.3f,\"send_s\":%.3f,"
           "\"events_per_s\":%.0f,\"send_per_s\":%.0f,\"mean_msg_bytes\":%.1f,\"distinct_customers\":%llu,"
           "\"latency_us\":{\"n\":%zu,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%.0f}}\n",
           (unsigned long long)n_events, (unsigned long long)d, (unsigned long long)rejected,
           (unsigned long long)(n_events - d), (unsigned long long)unknown, (unsigned long long)dup_seen,
           (unsigned long long)rate, secs, send_secs, secs > 0 ? (double)d / secs : 0,
           send_secs > 0 ? (double)n_events / send_secs : 0, mean_bytes, (unsigned long long)customers, m,
           pct(lat_us, m, 50), pct(lat_us, m, 90), pct(lat_us, m, 99), pct(lat_us, m, 99.9),
           m ? (double)lat_us[m - 1] : 0);
    return d == n_events ? 0 : 1;
}
