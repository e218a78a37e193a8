/* lograte — counted, windowed warnings; see lograte.h. */
#include "lograte.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

void lograte_init(lograte *r, const char *what, int level, int64_t window_ms)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->what = what;
    r->level = level;
    r->window_ms = window_ms > 0 ? window_ms : 1;
}

void lograte_destroy(lograte *r) { pthread_mutex_destroy(&r->lock); }

/* The reason's counter, by the text before its first ':'; "other" once the
 * table is full. Under lock. */
static size_t slot(lograte *r, const char *reason)
{
    const char *colon = strchr(reason, ':');
    size_t len = colon ? (size_t)(colon - reason) : strlen(reason);
    if (len >= LOGRATE_NAME)
        len = LOGRATE_NAME - 1;
    for (size_t i = 0; i < r->n_reasons; i++)
        if (strncmp(r->reason[i].name, reason, len) == 0 && r->reason[i].name[len] == '\0')
            return i;
    if (r->n_reasons == LOGRATE_REASONS) {
        snprintf(r->reason[LOGRATE_REASONS].name, LOGRATE_NAME, "other");
        return LOGRATE_REASONS;
    }
    size_t i = r->n_reasons++;
    memcpy(r->reason[i].name, reason, len);
    r->reason[i].name[len] = '\0';
    r->reason[i].n = 0;
    return i;
}

/* The seconds the open window covered: up to now, at most its length (a
 * summary flushed late, by a note long after, covers only the window). */
static long window_secs(const lograte *r, int64_t now_ms)
{
    int64_t span = now_ms - r->first_ms;
    if (span > r->window_ms)
        span = r->window_ms;
    long secs = (long)((span + 999) / 1000);
    return secs < 1 ? 1 : secs;
}

static uint64_t summary_locked(lograte *r, int64_t now_ms, char *out, size_t cap)
{
    long secs = window_secs(r, now_ms);
    int n = snprintf(out, cap, "%s %llu event%s in %ld s:", r->what, (unsigned long long)r->total,
                     r->total == 1 ? "" : "s", secs);
    for (size_t i = 0; i <= LOGRATE_REASONS && n >= 0 && (size_t)n < cap; i++) {
        if (i < r->n_reasons || (i == LOGRATE_REASONS && r->reason[i].n))
            n += snprintf(out + n, cap - (size_t)n, "%s %s %llu", i ? "," : "", r->reason[i].name,
                          (unsigned long long)r->reason[i].n);
    }
    if (n >= 0 && (size_t)n < cap && r->example[0])
        snprintf(out + n, cap - (size_t)n, " (first: %s)", r->example);
    return r->total;
}

uint64_t lograte_summary(lograte *r, int64_t now_ms, char *out, size_t cap)
{
    pthread_mutex_lock(&r->lock);
    uint64_t n = summary_locked(r, now_ms, out, cap);
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Under lock: log and reset the window if it is due. */
static uint64_t flush_locked(lograte *r, int64_t now_ms, int force)
{
    if (!r->first_ms || (!force && now_ms - r->first_ms < r->window_ms))
        return 0;
    char msg[1024];
    uint64_t n = summary_locked(r, now_ms, msg, sizeof msg);
    log_field f[] = {LOG_NUM("events", n), LOG_NUM("window_s", window_secs(r, now_ms))};
    log_fields(r->level, f, 2, "%s", msg);
    r->summaries++;
    r->first_ms = 0;
    r->total = 0;
    r->n_reasons = 0;
    r->reason[LOGRATE_REASONS].n = 0;
    r->example[0] = '\0';
    return n;
}

void lograte_note(lograte *r, const char *reason, const char *subject, int64_t now_ms)
{
    if (subject)
        log_debug("%s %s: %s", r->what, subject, reason);
    else
        log_debug("%s: %s", r->what, reason);
    pthread_mutex_lock(&r->lock);
    flush_locked(r, now_ms, 0);
    if (!r->first_ms) {
        r->first_ms = now_ms ? now_ms : 1;
        snprintf(r->example, sizeof r->example, "%s%s%s", subject ? subject : "", subject ? ": " : "",
                 reason);
    }
    r->reason[slot(r, reason)].n++;
    r->total++;
    pthread_mutex_unlock(&r->lock);
}

long lograte_due_ms(lograte *r, int64_t now_ms)
{
    pthread_mutex_lock(&r->lock);
    long due = -1;
    if (r->first_ms) {
        int64_t left = r->first_ms + r->window_ms - now_ms;
        due = left > 0 ? (long)left : 0;
    }
    pthread_mutex_unlock(&r->lock);
    return due;
}

uint64_t lograte_flush(lograte *r, int64_t now_ms, int force)
{
    pthread_mutex_lock(&r->lock);
    uint64_t n = flush_locked(r, now_ms, force);
    pthread_mutex_unlock(&r->lock);
    return n;
}
