/*
 * log — leveled one-line messages, thread-safe (one write per line).
 *
 * Every line carries an RFC 3339 timestamp (UTC, milliseconds) and a level:
 *
 *   text: 2026-12-02T11:17:50.123Z warn rejected 3 events in 10 s: empty text 3 events=3
 *   json: {"ts":"2026-12-02T11:17:50.123Z","level":"warn","msg":"...","events":3}
 *
 * Fields (log_fields) follow the message as key=value in text and as extra
 * keys of the object in JSON, so a shipper can index them. The target is
 * stderr (journald adds the unit and pid) or syslog (LOG_DAEMON, ident
 * "complaintd"; the syslog daemon adds the time, so the line sent there has
 * none). Complaint texts are never logged unless the level is debug.
 *
 * The one line that is not a log line is complaintd's "ready" handshake on
 * stderr (see log_ready).
 */
#ifndef COMPLAINTD_LOG_H
#define COMPLAINTD_LOG_H

#include <stddef.h>
#include <stdint.h>

enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

/* A structured field: a string (str != NULL) or a number. Borrowed. */
typedef struct log_field {
    const char *key;
    const char *str;
    long long   num;
} log_field;

#define LOG_STR(k, v) ((log_field){(k), (v), 0})
#define LOG_NUM(k, v) ((log_field){(k), NULL, (long long)(v)})

void log_set_level(int level);
void log_set_format(int format);
void log_set_target(int target);  /* LOG_TARGET_SYSLOG opens the connection */
int  log_enabled(int level);
const char *log_level_name(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_fields(int level, const log_field *fields, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The line log_fields writes, into out (cut at cap - 1 bytes, always
 * NUL-terminated, no newline); with_ts 0 leaves the timestamp out (syslog).
 * For tests and for the syslog target. Returns the length. */
size_t log_format_line(char *out, size_t cap, int format, int with_ts, int64_t wall_ms, int level,
                       const char *msg, const log_field *fields, size_t n);

/* complaintd's start-up handshake: the bare line "ready" in text format
 * (what scripts, the e2e harness and the bench wait for), an object with
 * "msg":"ready" in JSON. Always on stderr, whatever the target. */
void log_ready(void);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
