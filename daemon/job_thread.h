/*
 * job_thread — a thread that runs one kind of long job (a reload, a
 * retrain) off the control thread, so that the control endpoint keeps
 * answering while it runs.
 *
 * Requests are tickets. A job starts only after the requests it serves, so
 * whoever asked sees the state of things at least as new as when they
 * asked; requests made while a job runs are served together by the next
 * one. When a job ends, job_thread_fd() becomes readable and
 * job_thread_take() hands out its outcome, oldest first: the highest ticket
 * it served and its JSON reply.
 */
#ifndef COMPLAINTD_JOB_THREAD_H
#define COMPLAINTD_JOB_THREAD_H

#include <stdint.h>

#include "strbuf.h"

typedef struct job_thread job_thread;

/* One job: write its JSON outcome to reply. It may call
 * job_thread_stopping(jt) to learn that the daemon is stopping (and then
 * not swap anything in). Runs in the job thread. */
typedef void (*job_fn)(void *arg, job_thread *jt, strbuf *reply);

/* Start the thread; name is the thread's name (at most 15 bytes). NULL if
 * it cannot start. arg must outlive the job thread. */
job_thread *job_thread_start(const char *name, job_fn fn, void *arg);

/* Ask for a job; returns the request's ticket (1, 2, ...). Never blocks on
 * a job in progress. Any thread. */
uint64_t job_thread_request(job_thread *jt);

/* 1 once job_thread_stop has begun. */
int job_thread_stopping(job_thread *jt);

/* Readable once a job has ended; drained by job_thread_take. */
int job_thread_fd(const job_thread *jt);

/* The oldest outcome not yet taken: sets *served to the highest ticket that
 * job served and puts its reply in reply; returns 1, or 0 if every ended
 * job has been taken. *served must hold the last value this returned (0 at
 * first). Call until it returns 0. */
int job_thread_take(job_thread *jt, uint64_t *served, strbuf *reply);

/* Let a job in progress finish, join the thread and free jt. NULL is fine. */
void job_thread_stop(job_thread *jt);

#endif
