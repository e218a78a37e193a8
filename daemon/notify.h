/*
 * notify — tell systemd how the daemon is doing, with sd_notify(3):
 * READY=1 once it accepts events, STOPPING=1 when it begins to drain,
 * STATUS= lines for `systemctl status`, and WATCHDOG=1 pings from a thread
 * of its own while health_alive() (health.h) says every pipeline thread
 * makes progress. When a thread is stuck the pings stop, and systemd kills
 * and restarts the service after WatchdogSec.
 *
 * Not started by systemd (no NOTIFY_SOCKET in the environment), every call
 * does nothing; without WatchdogSec, notify_watchdog_start starts no thread.
 */
#ifndef COMPLAINTD_NOTIFY_H
#define COMPLAINTD_NOTIFY_H

typedef struct notify_watchdog notify_watchdog;

void notify_ready(const char *status);  /* READY=1 and STATUS=status */
void notify_stopping(void);             /* STOPPING=1 */
void notify_status(const char *status); /* STATUS=status */

/* Start pinging at half the interval systemd asked for (WATCHDOG_USEC).
 * NULL if it asked for none, or if the thread cannot start (logged). */
notify_watchdog *notify_watchdog_start(void);

/* Stop pinging and join the thread; NULL is fine. */
void notify_watchdog_stop(notify_watchdog *w);

#endif
