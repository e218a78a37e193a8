/* notify — sd_notify and the watchdog thread; see notify.h. */
#define _GNU_SOURCE  /* pthread_setname_np */
#include "notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "health.h"
#include "log.h"
#include "strbuf.h"

struct notify_watchdog {
    pthread_t       thread;
    pthread_mutex_t lock;
    pthread_cond_t  wake;     /* signalled by notify_watchdog_stop */
    int             stop;     /* guarded by lock */
    uint64_t        every_us; /* half of WATCHDOG_USEC; read-only after start */
};

void notify_ready(const char *status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status); }

void notify_stopping(void) { sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining in-flight events"); }

void notify_status(const char *status) { sd_notifyf(0, "STATUS=%s", status); }

/* One look at the pipeline: ping if it is alive, else say why not (once
 * per change, so a stuck daemon does not flood the journal before it is
 * killed). */
static void check(int *was_alive)
{
    strbuf report = STRBUF_INIT;
    int alive = health_alive(health_now_ms(), &report);
    for (size_t i = 0; report.buf && i + 1 < report.len; i++)
        if (report.buf[i] == '\n')
            report.buf[i] = ';';  /* one log line */
    if (report.len && report.buf[report.len - 1] == '\n')
        report.buf[--report.len] = '\0';
    if (alive) {
        sd_notify(0, "WATCHDOG=1");
        if (!*was_alive)
            log_info("watchdog: every pipeline thread makes progress again");
    } else if (*was_alive) {
        log_error("watchdog: a pipeline thread makes no progress; systemd will restart the "
                  "daemon if it stays so: %s", report.buf ? report.buf : "");
        notify_status("a pipeline thread makes no progress (GET /healthz says which)");
    }
    *was_alive = alive;
    strbuf_free(&report);
}

static void *watchdog_main(void *arg)
{
    notify_watchdog *w = arg;
    int was_alive = 1;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        pthread_mutex_unlock(&w->lock);
        check(&was_alive);
        pthread_mutex_lock(&w->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (w->every_us % 1000000) * 1000;
        until.tv_sec += (time_t)(w->every_us / 1000000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

notify_watchdog *notify_watchdog_start(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return NULL;
    notify_watchdog *w = calloc(1, sizeof *w);
    if (!w) {
        log_error("watchdog: out of memory; systemd will get no pings");
        return NULL;
    }
    w->every_us = usec / 2 > 0 ? usec / 2 : 1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        log_error("watchdog: cannot start its thread; systemd will get no pings");
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    pthread_setname_np(w->thread, "cd-watchdog");
    log_info("watchdog: pinging systemd every %.1f s while the pipeline makes progress",
             (double)w->every_us / 1e6);
    return w;
}

void notify_watchdog_stop(notify_watchdog *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
