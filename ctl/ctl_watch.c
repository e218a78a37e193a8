/*
 * complaintctl stats --watch: ask the control endpoint for stats every
 * interval and show totals and rates per second, like top.
 *
 * Rates come from two successive replies: the change of a counter over the
 * time between them (measured here, monotonic). On a terminal the screen is
 * redrawn in place (ANSI: cursor home, clear); otherwise each sample is one
 * line of key=value pairs, for logs and pipes. A daemon that stops answering
 * is reported and asked again; a restarted one (counters going back) starts
 * the rates afresh. Ctrl-C ends it (exit 0).
 *
 * Latency percentiles come the same way, from the change of the latency
 * histograms' bucket counts between two replies (the first reply: from the
 * start), for the whole and for each stage, so a slow stage shows live.
 * They are bucket bounds, powers of two in microseconds: "at most".
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "ctl.h"
#include "labels.h"
#include "stats.h"

enum { F_RECEIVED, F_DECIDED, F_REJECTED, F_DUPLICATES, F_PUBLISHED, F_COMMITS, F_COMMIT_FAILURES,
       F_COMMIT_US, F_LAST_SEQ, F_COUNT };

static const char *const field_key[F_COUNT] = {
    "received", "decided", "rejected", "duplicates", "published", "commits", "commit_failures",
    "commit_us_total", "last_seq"};

typedef struct sample {
    int       valid;
    int64_t   t_us;                 /* local monotonic time of the reply */
    long long uptime_ms;
    uint64_t  f[F_COUNT];
    uint64_t  action[ACTION_COUNT];
    uint64_t  label[LABEL_COUNT];
    uint64_t  lat[1 + STATS_STAGES][STATS_HIST_BUCKETS];  /* stats_latency_names order */
} sample;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* A count from the reply: a positive integer, else 0. */
static uint64_t json_count(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static uint64_t json_u64(json_t *obj, const char *key) { return json_count(json_object_get(obj, key)); }

/* Parse a stats reply into s; -1 if it is not the stats object. */
static int parse_sample(const char *buf, size_t len, sample *s)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    if (!json_is_object(root) || !json_object_get(root, "received")) {
        json_decref(root);
        return -1;
    }
    memset(s, 0, sizeof *s);
    s->uptime_ms = (long long)json_u64(root, "uptime_ms");
    for (int i = 0; i < F_COUNT; i++)
        s->f[i] = json_u64(root, field_key[i]);
    json_t *actions = json_object_get(root, "actions"), *labels = json_object_get(root, "labels");
    for (int a = 1; a < ACTION_COUNT; a++)
        s->action[a] = json_u64(actions, action_name(a));
    for (int l = 1; l < LABEL_COUNT; l++)
        s->label[l] = json_u64(labels, label_name(l));
    json_t *lat = json_object_get(root, "latency_us_buckets");  /* absent from older daemons */
    for (int k = 0; k < 1 + STATS_STAGES; k++) {
        json_t *arr = json_object_get(lat, stats_latency_names[k]);
        for (int i = 0; i < STATS_HIST_BUCKETS; i++)
            s->lat[k][i] = json_count(json_array_get(arr, (size_t)i));
    }
    s->valid = 1;
    json_decref(root);
    return 0;
}

typedef struct watcher {
    void       *ctx, *req;
    const char *endpoint;
    int         timeout_ms;
} watcher;

static void *new_req(watcher *w)
{
    void *req = zmq_socket(w->ctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &w->timeout_ms, sizeof w->timeout_ms);
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(req, w->endpoint);
    return req;
}

/* One stats request; 0 with *s filled, -1 on no (or no usable) answer. */
static int ask(watcher *w, sample *s)
{
    if (!w->req)
        w->req = new_req(w);
    if (zmq_send(w->req, "stats", 5, 0) < 0)
        goto reset;
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    if (zmq_msg_recv(&reply, w->req, 0) < 0) {
        zmq_msg_close(&reply);
        goto reset;
    }
    int rc = parse_sample(zmq_msg_data(&reply), zmq_msg_size(&reply), s);
    zmq_msg_close(&reply);
    if (rc == 0)
        s->t_us = clock_mono_us();
    return rc;
reset:
    /* A REQ that lost its reply cannot send again: start over. */
    zmq_close(w->req);
    w->req = NULL;
    return -1;
}

/* Change per second of a counter between two samples; -1 if unknown. */
static double rate(uint64_t now, uint64_t before, double secs)
{
    return secs > 0 && now >= before ? (double)(now - before) / secs : -1;
}

static void fmt_rate(char *out, size_t n, double r)
{
    if (r < 0)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.1f", r);
}

static void fmt_uptime(char *out, size_t n, long long ms)
{
    long long s = ms / 1000;
    if (s >= 86400)
        snprintf(out, n, "%lldd%02lldh%02lldm", s / 86400, s / 3600 % 24, s / 60 % 60);
    else
        snprintf(out, n, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
}

static uint64_t in_flight(const sample *s)
{
    uint64_t done = s->f[F_DECIDED] + s->f[F_REJECTED];
    return s->f[F_RECEIVED] > done ? s->f[F_RECEIVED] - done : 0;
}

/* Mean commit time over the interval (ms), or -1 without commits. */
static double mean_commit_ms(const sample *cur, const sample *prev)
{
    if (!prev->valid || cur->f[F_COMMITS] <= prev->f[F_COMMITS] || cur->f[F_COMMIT_US] < prev->f[F_COMMIT_US])
        return -1;
    return (double)(cur->f[F_COMMIT_US] - prev->f[F_COMMIT_US]) /
           (double)(cur->f[F_COMMITS] - prev->f[F_COMMITS]) / 1000.0;
}

/* The q-quantile (0..1) of latency k over what was observed between prev
 * and cur (from the start without prev), as its bucket's bound in ms; -1
 * if nothing was observed or a counter went back (a restart). */
static double latency_ms(const sample *cur, const sample *prev, int k, double q)
{
    uint64_t d[STATS_HIST_BUCKETS], n = 0;
    for (int i = 0; i < STATS_HIST_BUCKETS; i++) {
        uint64_t before = prev->valid ? prev->lat[k][i] : 0;
        if (cur->lat[k][i] < before)
            return -1;
        n += d[i] = cur->lat[k][i] - before;
    }
    uint64_t run = 0;
    for (int i = 0; i < STATS_HIST_BUCKETS && n; i++)
        if ((run += d[i]) >= q * (double)n)
            return i < STATS_HIST_BUCKETS - 1 ? (double)((uint64_t)1 << i) / 1000.0 : -1;
    return -1;
}

/* Latency k's p50 and p99 over the interval, as text ("-" when unknown). */
static void fmt_latency(const sample *cur, const sample *prev, int k, char p50[32], char p99[32])
{
    double q[2] = {latency_ms(cur, prev, k, 0.50), latency_ms(cur, prev, k, 0.99)};
    char *out[2] = {p50, p99};
    for (int i = 0; i < 2; i++) {
        if (q[i] < 0)
            snprintf(out[i], 32, "-");
        else
            snprintf(out[i], 32, "%.3f", q[i]);
    }
}

static void draw_screen_to(FILE *out, const watcher *w, const sample *cur, const sample *prev,
                           int interval_ms)
{
    double secs = prev->valid ? (double)(cur->t_us - prev->t_us) / 1e6 : 0;
    char up[32], r[32];
    fmt_uptime(up, sizeof up, cur->uptime_ms);
    fprintf(out, "complaintd %s   up %s   every %.1f s   (Ctrl-C quits)\n\n", w->endpoint, up,
            interval_ms / 1000.0);
    fprintf(out, "%-18s %14s %12s\n", "", "total", "per second");
    static const int shown[] = {F_RECEIVED, F_DECIDED, F_REJECTED, F_DUPLICATES, F_PUBLISHED, F_COMMITS,
                                F_COMMIT_FAILURES};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        int f = shown[i];
        fmt_rate(r, sizeof r, prev->valid ? rate(cur->f[f], prev->f[f], secs) : -1);
        fprintf(out, "%-18s %14llu %12s\n", field_key[f], (unsigned long long)cur->f[f], r);
    }
    fprintf(out, "%-18s %14llu\n", "in flight", (unsigned long long)in_flight(cur));
    fprintf(out, "%-18s %14llu\n", "last_seq", (unsigned long long)cur->f[F_LAST_SEQ]);
    double mc = mean_commit_ms(cur, prev);
    if (mc >= 0)
        fprintf(out, "%-18s %14.3f\n", "commit ms (mean)", mc);
    else
        fprintf(out, "%-18s %14s\n", "commit ms (mean)", "-");

    fprintf(out, "\n%-18s %14s %12s   (ms, at most; %s)\n", "latency", "p50", "p99",
            prev->valid ? "since the last sample" : "since the start");
    for (int k = 0; k < 1 + STATS_STAGES; k++) {
        char p50[32], p99[32];
        fmt_latency(cur, prev, k, p50, p99);
        fprintf(out, "%s%-16s %14s %12s\n", k ? "  " : "", stats_latency_names[k], p50, p99);
    }

    fprintf(out, "\n%-18s %14s %12s %7s\n", "action", "total", "per second", "share");
    uint64_t decided = 0;
    for (int a = 1; a < ACTION_COUNT; a++)
        decided += cur->action[a];
    for (int a = 1; a < ACTION_COUNT; a++) {
        fmt_rate(r, sizeof r, prev->valid ? rate(cur->action[a], prev->action[a], secs) : -1);
        fprintf(out, "%-18s %14llu %12s %6.1f%%\n", action_name(a), (unsigned long long)cur->action[a], r,
               decided ? 100.0 * (double)cur->action[a] / (double)decided : 0.0);
    }

    int any = 0;
    for (int l = 1; l < LABEL_COUNT; l++) {
        if (!cur->label[l])
            continue;
        if (!any++)
            fprintf(out, "\n%-22s %10s %12s\n", "label", "total", "per second");
        fmt_rate(r, sizeof r, prev->valid ? rate(cur->label[l], prev->label[l], secs) : -1);
        fprintf(out, "%-22s %10llu %12s\n", label_name(l), (unsigned long long)cur->label[l], r);
    }
}

/* Redraw in place: cursor home, each line cleared to its end, the rest of
 * the screen cleared below (no blank flash between frames). */
static void draw_screen(const watcher *w, const sample *cur, const sample *prev, int interval_ms)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return;
    draw_screen_to(out, w, cur, prev, interval_ms);
    fclose(out);
    fputs("\033[H", stdout);
    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        fwrite(line, 1, nl ? (size_t)(nl - line) : strlen(line), stdout);
        fputs("\033[K\n", stdout);
    }
    fputs("\033[J", stdout);
    fflush(stdout);
    free(buf);
}

static void print_line(const sample *cur, const sample *prev)
{
    double secs = prev->valid ? (double)(cur->t_us - prev->t_us) / 1e6 : 0;
    char r[32];
    printf("uptime_s=%.1f", cur->uptime_ms / 1000.0);
    static const int shown[] = {F_RECEIVED, F_DECIDED, F_REJECTED, F_DUPLICATES, F_COMMITS};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        int f = shown[i];
        fmt_rate(r, sizeof r, prev->valid ? rate(cur->f[f], prev->f[f], secs) : -1);
        printf(" %s=%llu %s/s=%s", field_key[f], (unsigned long long)cur->f[f], field_key[f], r);
    }
    printf(" in_flight=%llu last_seq=%llu", (unsigned long long)in_flight(cur),
           (unsigned long long)cur->f[F_LAST_SEQ]);
    double mc = mean_commit_ms(cur, prev);
    if (mc >= 0)
        printf(" commit_ms=%.3f", mc);
    for (int k = 0; k < 1 + STATS_STAGES; k++) {
        char p50[32], p99[32];
        fmt_latency(cur, prev, k, p50, p99);
        const char *name = k ? stats_latency_names[k] : "latency";
        printf(" %s_p50_ms=%s %s_p99_ms=%s", name, p50, name, p99);
    }
    for (int a = 1; a < ACTION_COUNT; a++) {
        fmt_rate(r, sizeof r, prev->valid ? rate(cur->action[a], prev->action[a], secs) : -1);
        printf(" %s=%llu %s/s=%s", action_name(a), (unsigned long long)cur->action[a], action_name(a), r);
    }
    printf("\n");
    fflush(stdout);
}

/* Sleep until deadline (monotonic us), unless interrupted. */
static void sleep_until(int64_t deadline_us)
{
    for (;;) {
        int64_t left = deadline_us - clock_mono_us();
        if (left <= 0 || interrupted)
            return;
        struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        if (nanosleep(&ts, NULL) < 0 && errno == EINTR && interrupted)
            return;
    }
}

int ctl_stats_watch(const char *endpoint, int interval_ms, long count, int timeout_ms)
{
    watcher w = {zmq_ctx_new(), NULL, endpoint, timeout_ms};
    int tty = isatty(STDOUT_FILENO);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sample prev = {0}, cur;
    long shown = 0;
    int silent = 0;  /* consecutive requests without an answer */
    int64_t next = clock_mono_us();
    while (!interrupted && (count <= 0 || shown < count)) {
        if (ask(&w, &cur) == 0) {
            if (prev.valid && cur.f[F_RECEIVED] < prev.f[F_RECEIVED])
                prev.valid = 0;  /* the daemon restarted: rates start again */
            if (tty)
                draw_screen(&w, &cur, &prev, interval_ms);
            else
                print_line(&cur, &prev);
            prev = cur;
            shown++;
            silent = 0;
        } else if (!interrupted) {
            silent++;
            if (tty) {
                printf("\033[H\033[2J");
                printf("complaintd %s: no answer within %d ms (%d time%s); asking again\n", endpoint,
                       timeout_ms, silent, silent > 1 ? "s" : "");
                fflush(stdout);
            } else {
                fprintf(stderr, "complaintctl: no answer from %s within %d ms\n", endpoint, timeout_ms);
            }
            prev.valid = 0;
            if (count > 0 && silent >= 3) {
                /* a bounded watch (--count) gives up rather than wait forever */
                break;
            }
        }
        next += (int64_t)interval_ms * 1000;
        if (next < clock_mono_us())  /* a slow answer: keep the interval from now */
            next = clock_mono_us() + (int64_t)interval_ms * 1000;
        if (count <= 0 || shown < count)
            sleep_until(next);
    }
    if (w.req)
        zmq_close(w.req);
    zmq_ctx_term(w.ctx);
    return count > 0 && shown < count && !interrupted ? CTL_FAIL : 0;
}
