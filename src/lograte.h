/*
 * lograte — a repeated warning counted by reason and logged as one summary
 * per window instead of one line per occurrence:
 *
 *   warn rejected 500 events in 10 s: empty text 312, malformed protobuf 188
 *
 * The first occurrence opens a window; lograte_flush logs the summary once
 * the window is over (or at once with force, e.g. at shutdown), so the
 * caller's loop must wake by lograte_due_ms. A reason is its text up to the
 * first ':' ("malformed protobuf: not a ..." counts as "malformed
 * protobuf"); the first occurrence's full text and subject are kept as an
 * example for the summary. Each occurrence is also logged at debug level.
 *
 * Thread-safe: every function takes the instance's lock, so several threads
 * may count into one instance.
 */
#ifndef COMPLAINTD_LOGRATE_H
#define COMPLAINTD_LOGRATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { LOGRATE_REASONS = 16, LOGRATE_NAME = 48, LOGRATE_EXAMPLE = 160 };

typedef struct lograte {
    pthread_mutex_t lock;
    const char *what;       /* "rejected %llu events": the verb; borrowed, static */
    int64_t     window_ms;
    int         level;      /* log.h level of the summary */
    /* The open window; all guarded by lock. */
    int64_t     first_ms;   /* 0 = no window open */
    uint64_t    total;
    size_t      n_reasons;
    struct {
        char     name[LOGRATE_NAME];
        uint64_t n;
    } reason[LOGRATE_REASONS + 1];  /* the last one is "other" */
    char        example[LOGRATE_EXAMPLE];
    uint64_t    summaries;  /* summaries logged so far (for tests) */
} lograte;

void lograte_init(lograte *r, const char *what, int level, int64_t window_ms);
void lograte_destroy(lograte *r);

/* Count one occurrence. subject names it for the debug line and the
 * example ("event 'e-1'"); may be NULL. Flushes a window that is over. */
void lograte_note(lograte *r, const char *reason, const char *subject, int64_t now_ms);

/* Milliseconds until the open window's summary is due (0 = now), or -1 if
 * no window is open: how long the caller may sleep. */
long lograte_due_ms(lograte *r, int64_t now_ms);

/* Log the summary if the window is over, or if force and any is counted.
 * Returns how many occurrences it summarised (0 if it logged nothing). */
uint64_t lograte_flush(lograte *r, int64_t now_ms, int force);

/* The summary line's message for the open window, into out (for tests and
 * lograte_flush); returns the count it covers. */
uint64_t lograte_summary(lograte *r, int64_t now_ms, char *out, size_t cap);

#endif
