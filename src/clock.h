/*
 * clock — the two clocks the daemon reads: wall time for event and decision
 * timestamps (ms since the Unix epoch), monotonic time for intervals (us).
 */
#ifndef COMPLAINTD_CLOCK_H
#define COMPLAINTD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
