/* job_thread — long jobs off the control thread; see job_thread.h. */
#define _GNU_SOURCE  /* pipe2, pthread_setname_np */
#include "job_thread.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"

/* One ended job: the highest ticket it served and its reply (owned). */
typedef struct outcome {
    uint64_t served;
    char    *reply;
} outcome;

/* Shared by the requesting threads (request, take, stopping) and the job
 * thread: the fields marked "under lock" are guarded by lock; the rest are
 * set before the thread starts and only read after. */
struct job_thread {
    job_fn    fn;
    void     *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    uint64_t  requested;  /* the last ticket handed out; under lock */
    uint64_t  served;     /* the highest ticket whose job has ended; under lock */
    outcome  *untaken;    /* ended jobs not yet taken, oldest first; under lock */
    size_t    n_untaken, cap_untaken;  /* under lock */
    int       stopping;   /* under lock */
    int       done_pipe[2];  /* one byte per ended job, read end polled */
};

static void *run(void *arg)
{
    job_thread *jt = arg;
    strbuf reply = STRBUF_INIT;
    pthread_mutex_lock(&jt->lock);
    for (;;) {
        while (!jt->stopping && jt->served == jt->requested)
            pthread_cond_wait(&jt->wake, &jt->lock);
        if (jt->stopping)
            break;
        uint64_t serving = jt->requested;  /* everyone who asked before this job starts */
        pthread_mutex_unlock(&jt->lock);

        strbuf_reset(&reply);
        jt->fn(jt->arg, jt, &reply);

        pthread_mutex_lock(&jt->lock);
        jt->served = serving;
        char *copy = strdup(reply.buf ? reply.buf : "");
        outcome *grown = grow_array(jt->untaken, &jt->cap_untaken, jt->n_untaken + 1,
                                    sizeof *jt->untaken, 4);
        if (copy && grown) {
            jt->untaken = grown;
            jt->untaken[jt->n_untaken++] = (outcome){serving, copy};
        } else {
            free(copy);  /* out of memory: the waiters get a generic reply */
            if (grown)
                jt->untaken = grown;
        }
        char one = 1;
        if (write(jt->done_pipe[1], &one, 1) < 0) {
            /* The pipe is full only if nobody has drained it for thousands
             * of jobs: the taker will still see `served`. */
        }
    }
    pthread_mutex_unlock(&jt->lock);
    strbuf_free(&reply);
    return NULL;
}

job_thread *job_thread_start(const char *name, job_fn fn, void *arg)
{
    job_thread *jt = calloc(1, sizeof *jt);
    if (!jt)
        return NULL;
    jt->fn = fn;
    jt->arg = arg;
    if (pipe2(jt->done_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        free(jt);
        return NULL;
    }
    pthread_mutex_init(&jt->lock, NULL);
    pthread_cond_init(&jt->wake, NULL);
    if (pthread_create(&jt->thread, NULL, run, jt) != 0) {
        close(jt->done_pipe[0]);
        close(jt->done_pipe[1]);
        pthread_mutex_destroy(&jt->lock);
        pthread_cond_destroy(&jt->wake);
        free(jt);
        return NULL;
    }
    pthread_setname_np(jt->thread, name);
    return jt;
}

uint64_t job_thread_request(job_thread *jt)
{
    pthread_mutex_lock(&jt->lock);
    uint64_t ticket = ++jt->requested;
    pthread_cond_signal(&jt->wake);
    pthread_mutex_unlock(&jt->lock);
    return ticket;
}

int job_thread_stopping(job_thread *jt)
{
    pthread_mutex_lock(&jt->lock);
    int s = jt->stopping;
    pthread_mutex_unlock(&jt->lock);
    return s;
}

int job_thread_fd(const job_thread *jt) { return jt->done_pipe[0]; }

int job_thread_take(job_thread *jt, uint64_t *served, strbuf *reply)
{
    char drain[64];
    while (read(jt->done_pipe[0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&jt->lock);
    int got = 0;
    if (jt->n_untaken > 0) {
        *served = jt->untaken[0].served;
        strbuf_reset(reply);
        strbuf_puts(reply, jt->untaken[0].reply);
        free(jt->untaken[0].reply);
        memmove(jt->untaken, jt->untaken + 1, --jt->n_untaken * sizeof *jt->untaken);
        got = 1;
    } else if (jt->served > *served) {
        /* Its outcome could not be kept (out of memory). */
        *served = jt->served;
        strbuf_reset(reply);
        strbuf_puts(reply, "{\"ok\":false,\"error\":\"out of memory; see the daemon's log\"}");
        got = 1;
    }
    pthread_mutex_unlock(&jt->lock);
    return got;
}

void job_thread_stop(job_thread *jt)
{
    if (!jt)
        return;
    pthread_mutex_lock(&jt->lock);
    jt->stopping = 1;
    pthread_cond_signal(&jt->wake);
    pthread_mutex_unlock(&jt->lock);
    pthread_join(jt->thread, NULL);
    close(jt->done_pipe[0]);
    close(jt->done_pipe[1]);
    pthread_mutex_destroy(&jt->lock);
    pthread_cond_destroy(&jt->wake);
    for (size_t i = 0; i < jt->n_untaken; i++)
        free(jt->untaken[i].reply);
    free(jt->untaken);
    free(jt);
}
