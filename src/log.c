/*
 * log — leveled lines with a timestamp, text or JSON, to stderr or syslog;
 * see log.h.
 *
 * Lines are built in a stack buffer and written with one fwrite, which
 * stdio locks: lines of different threads never interleave. A line is cut
 * at LINE_MAX bytes (the message first: fields are short).
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log_syslog.h"

enum { LINE_CAP = 2048, MSG_CAP = 1024 };

static atomic_int current_level = LOG_INFO;
static atomic_int current_format = LOG_FORMAT_TEXT;
static atomic_int current_target = LOG_TARGET_STDERR;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(int level) { atomic_store(&current_level, level); }
void log_set_format(int format) { atomic_store(&current_format, format); }

void log_set_target(int target)
{
    if (target == LOG_TARGET_SYSLOG)
        logsys_open();
    atomic_store(&current_target, target);
}

int log_enabled(int level) { return level <= atomic_load(&current_level); }

const char *log_level_name(int level)
{
    return level >= LOG_ERROR && level <= LOG_DEBUG ? level_names[level] : "?";
}

/* Appending into a fixed buffer: pos never passes cap - 1. */
typedef struct out {
    char  *buf;
    size_t cap, pos;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->pos + 1 >= o->cap)
        return;
    size_t room = o->cap - 1 - o->pos;
    if (n > room)
        n = room;
    memcpy(o->buf + o->pos, s, n);
    o->pos += n;
    o->buf[o->pos] = '\0';
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string literal; bytes >= 0x80 pass through (messages are UTF-8). */
static void json_str(out *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else if (c == '\n') {
            put(o, "\\n", 2);
        } else if (c == '\t') {
            put(o, "\\t", 2);
        } else if (c < 0x20) {
            putf(o, "\\u%04x", c);
        } else {
            put(o, s, 1);
        }
    }
    put(o, "\"", 1);
}

/* A text message: control bytes (a newline in a hostile event id) become
 * '?', so one call is one line. */
static void text_msg(out *o, const char *s)
{
    for (; *s; s++)
        put(o, (unsigned char)*s < 0x20 ? "?" : s, 1);
}

/* A text field value: bare if it is one word, quoted otherwise. */
static void text_value(out *o, const char *s)
{
    if (*s && !strpbrk(s, " \t\n\"="))
        puts_(o, s);
    else
        json_str(o, s);
}

static void rfc3339(out *o, int64_t wall_ms)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(wall_ms % 1000));
    puts_(o, ts);
}

size_t log_format_line(char *buf, size_t cap, int format, int with_ts, int64_t wall_ms, int level,
                       const char *msg, const log_field *fields, size_t n)
{
    out o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    if (format == LOG_FORMAT_JSON) {
        puts_(&o, "{");
        if (with_ts) {
            puts_(&o, "\"ts\":\"");
            rfc3339(&o, wall_ms);
            puts_(&o, "\",");
        }
        putf(&o, "\"level\":\"%s\",\"msg\":", log_level_name(level));
        json_str(&o, msg);
        for (size_t i = 0; i < n; i++) {
            puts_(&o, ",");
            json_str(&o, fields[i].key);
            puts_(&o, ":");
            if (fields[i].str)
                json_str(&o, fields[i].str);
            else
                putf(&o, "%lld", fields[i].num);
        }
        puts_(&o, "}");
    } else {
        if (with_ts) {
            rfc3339(&o, wall_ms);
            puts_(&o, " ");
        }
        puts_(&o, log_level_name(level));
        puts_(&o, " ");
        text_msg(&o, msg);
        for (size_t i = 0; i < n; i++) {
            puts_(&o, " ");
            puts_(&o, fields[i].key);
            puts_(&o, "=");
            if (fields[i].str)
                text_value(&o, fields[i].str);
            else
                putf(&o, "%lld", fields[i].num);
        }
    }
    return o.pos;
}

static void emit(int level, const char *msg, const log_field *fields, size_t n)
{
    char line[LINE_CAP + 1];
    int format = atomic_load(&current_format);
    if (atomic_load(&current_target) == LOG_TARGET_SYSLOG) {
        log_format_line(line, LINE_CAP, format, 0, 0, level, msg, fields, n);
        logsys_write(level, line);
        return;
    }
    size_t len = log_format_line(line, LINE_CAP, format, 1, clock_wall_ms(), level, msg, fields, n);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

void log_msg(int level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, msg, NULL, 0);
}

void log_fields(int level, const log_field *fields, size_t n, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, msg, fields, n);
}

void log_ready(void)
{
    if (atomic_load(&current_format) == LOG_FORMAT_JSON) {
        char line[256];
        size_t len = log_format_line(line, sizeof line - 1, LOG_FORMAT_JSON, 1, clock_wall_ms(),
                                     LOG_INFO, "ready", NULL, 0);
        line[len++] = '\n';
        fwrite(line, 1, len, stderr);
    } else {
        fputs("ready\n", stderr);
    }
    fflush(stderr);
}
