/*
 * dirlock — one daemon per data directory.
 *
 * LMDB lets two processes write one environment (they take turns), so a
 * second complaintd on the same directory used to run, and the two handed
 * out the same seq numbers. dirlock_take holds an exclusive flock on
 * <dir>/complaintd.lock for the life of the process: the kernel drops it
 * when the process ends, however it ends (kill -9 included), so a stale
 * lock file never blocks a restart. The holder writes its pid into the file
 * for the message the next one prints.
 */
#ifndef COMPLAINTD_DIRLOCK_H
#define COMPLAINTD_DIRLOCK_H

#include <stddef.h>
#include <sys/types.h>

#define DIRLOCK_FILE "complaintd.lock"

enum { DIRLOCK_ERR = -1, DIRLOCK_HELD = -2 };

/* Lock dir; returns the lock's file descriptor (keep it open), or
 * DIRLOCK_HELD when another process holds it (err names the directory and
 * that process's pid; *holder gets the pid, 0 if unknown), or DIRLOCK_ERR
 * when the lock file cannot be created (err says why). holder may be NULL. */
int dirlock_take(const char *dir, pid_t *holder, char *err, size_t errlen);

/* Release (close) a lock from dirlock_take; a negative fd is fine. */
void dirlock_release(int fd);

/* The pid holding dir's lock, -1 if it is held by a process that has not
 * written its pid yet, 0 if none holds it: for tools that must not write
 * the store while a daemon does. */
pid_t dirlock_holder(const char *dir);

#endif
