/*
 * health — is the daemon alive, and is it ready for events? Asked by
 * GET /healthz and GET /readyz (metrics.c) and by the systemd watchdog
 * (notify.c); told by the pipeline threads and main().
 *
 * Liveness. Every pipeline thread (ingest, workers, writer, publisher)
 * owns a heartbeat: it calls health_wait() just before it blocks for input
 * and health_beat() when it wakes up with some, so its heartbeat is either
 * "waiting" (alive however long the queue stays empty: an idle daemon is a
 * healthy one) or "busy since T". A thread busy for more than
 * HEALTH_STALE_MS without coming back round its loop is stuck: a deadlock,
 * a hung disk, an endless loop. A thread blocked on a full queue
 * downstream is busy too, so the thread that holds everyone up is found
 * stuck along with those queued behind it.
 *
 * Pauses. A thread that stops intake on purpose, the writer retrying a
 * commit the store refuses (a full map or disk) or the publisher retrying
 * a flush, calls health_pause() on every retry. It stays alive (it beats),
 * the threads queued behind it are not judged stuck (a restart would not
 * cure a full disk, and would lose the events queued in memory), and the
 * daemon is not ready, for the pause's reason.
 *
 * Readiness: main() has loaded the rules and opened the store, the daemon
 * accepts events (health_set_accepting) and no thread has paused intake.
 *
 * Every field is an atomic; any thread may call any function.
 */
#ifndef COMPLAINTD_HEALTH_H
#define COMPLAINTD_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* A thread busy this long without progress is stuck. Generous: a durable
 * commit of a 10,000-event group on a slow disk takes seconds. */
enum { HEALTH_STALE_MS = 15000 };

typedef struct health_slot health_slot;

/* A heartbeat for the calling thread, named for the reports ("worker-3").
 * Never NULL (past the table's size, threads share a slot no one checks). */
health_slot *health_register(const char *name);

/* How many heartbeats have been registered so far (pipeline_start waits
 * for its threads' before it returns). */
int health_registered(void);

void health_wait(health_slot *hb);  /* about to block for input */
void health_beat(health_slot *hb);  /* woke with work, or finished a step */
void health_exit(health_slot *hb);  /* the thread is done: not alive any more */

/* Intake paused for reason (a static string), or resumed (NULL). Counts
 * as a beat. */
void health_pause(health_slot *hb, const char *reason);

/* Facts main() reports. rules_hash: buildinfo_pack_hash of the running
 * pack (set again on every swap); 0 = no pack loaded. */
void health_set_rules(uint64_t rules_hash);
void health_set_store_open(int open);
void health_set_accepting(int accepting);
uint64_t health_rules_hash(void);

/* 1 if every pipeline thread is alive at now_ms (CLOCK_MONOTONIC), else 0.
 * report (may be NULL) gets one line per thread ("worker-1 busy for 16.0 s
 * without progress"). */
int health_alive(int64_t now_ms, strbuf *report);

/* 1 if ready; else 0, with why in report (may be NULL). */
int health_ready(strbuf *report);

/* Monotonic milliseconds, the clock health_alive() expects. */
int64_t health_now_ms(void);

/* Forget every heartbeat and fact, and take beats' times from clock
 * (NULL: health_now_ms): the unit tests start each case anew on a clock
 * they set. Only with no pipeline thread running. */
void health_reset(int64_t (*clock)(void));

#endif
