/*
 * committer — the thread that writes decided groups to the store.
 *
 * The writer (writer.c) decides a group in memory and hands it here with
 * its generation (triage.h). This thread writes the generation in one
 * transaction and passes the group on to the publisher (publisher.c), which
 * makes it durable and sends it, while the writer already decides the next
 * group: the commit's wait on the disk is no longer added to every group's
 * deciding time.
 *
 * One group at a time: the writer takes this thread's answer about a group
 * before it hands over the next, so the generation it reads through is the
 * one being written. The answer is the commit's HIST_* code; on failure
 * the group goes back to the writer, which decides it again.
 *
 * An empty message from the writer means no more groups will come; the
 * publisher is then told the same.
 */
#include <errno.h>
#include <zmq.h>

#include "clock.h"
#include "pipeline_internal.h"
#include "triage.h"

/* One message from the writer; 0 at the end. */
static int take(void *link, commit_msg *m)
{
    int n;
    while ((n = zmq_recv(link, m, sizeof *m, 0)) < 0 && zmq_errno() == EINTR)
        ;
    return n == (int)sizeof *m;
}

void *committer_main(void *arg)
{
    pipeline *p = arg;
    void *link = zmq_socket(p->zctx, ZMQ_PAIR);
    zmq_connect(link, COMMIT_ENDPOINT);
    void *publish = zmq_socket(p->zctx, ZMQ_PUSH);
    set_sockopt_int(publish, ZMQ_SNDHWM, 8);  /* a slow disk holds the writer back */
    zmq_connect(publish, PUBLISH_ENDPOINT);
    commit_msg m;
    while (take(link, &m)) {
        HANDOFF_ACQUIRE(m.g);
        int64_t t0 = clock_mono_us();
        m.rc = triage_apply(p->env, m.gen, (uint64_t)p->cfg->decision_log_max,
                            p->cfg->decision_log_max_age_ms);
        if (m.rc == HIST_OK) {
            uint64_t us = (uint64_t)(clock_mono_us() - t0);
            STAT_ADD(p->stats->commits, 1);
            STAT_ADD(p->stats->commit_us, us);
            stats_observe(&p->stats->h_commit_us, us);
            stats_observe(&p->stats->h_batch_events, m.g->n_events);
            STAT_ADD(p->stats->duplicates, m.g->duplicates);
            HANDOFF_RELEASE(m.g);
            zmq_send(publish, &m.g, sizeof m.g, 0);  /* the publisher owns it now */
            m.g = NULL;
        }
        HANDOFF_RELEASE(m.gen);
        zmq_send(link, &m, sizeof m, 0);
    }
    zmq_send(publish, "", 0, 0);  /* tells the publisher no more groups will come */
    zmq_close(link);
    zmq_close(publish);
    return NULL;
}
