/*
 * log_syslog — the syslog target of log.c, apart because <syslog.h> defines
 * LOG_INFO and LOG_DEBUG as macros that clash with log.h's levels.
 */
#ifndef COMPLAINTD_LOG_SYSLOG_H
#define COMPLAINTD_LOG_SYSLOG_H

void logsys_open(void);  /* ident "complaintd", LOG_PID, facility LOG_DAEMON */
/* One line at log.h's level (LOG_ERROR .. LOG_DEBUG). */
void logsys_write(int level, const char *line);

#endif
