/* log_syslog — see log_syslog.h. */
#include "log_syslog.h"

#include <syslog.h>

void logsys_open(void) { openlog("complaintd", LOG_PID | LOG_NDELAY, LOG_DAEMON); }

void logsys_write(int level, const char *line)
{
    /* log.h's order: error, warn, info, debug. */
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    syslog(prio[level >= 0 && level < 4 ? level : 0], "%s", line);
}
