/* log — leveled one-line messages to stderr; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int current_level = LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(int level) { atomic_store(&current_level, level); }

int log_enabled(int level) { return level <= atomic_load(&current_level); }

void log_msg(int level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "complaintd: %s: %s\n", level_names[level], line);
}
