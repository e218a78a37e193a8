/* batch — the batches of jobs and their pool; see batch.h. */
#include "batch.h"

#include <stdlib.h>

void batch_pool_init(batch_pool *pool)
{
    pthread_mutex_init(&pool->lock, NULL);
    pool->n = 0;
}

void batch_pool_destroy(batch_pool *pool)
{
    while (pool->n > 0) {
        job_batch *b = pool->free[--pool->n];
        arena_destroy(&b->events);
        free(b);
    }
    pthread_mutex_destroy(&pool->lock);
}

job_batch *batch_new(batch_pool *pool)
{
    job_batch *b = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->n > 0)
        b = pool->free[--pool->n];
    pthread_mutex_unlock(&pool->lock);
    if (!b) {
        if (!(b = malloc(sizeof *b)))
            return NULL;
        arena_init(&b->events, BATCH_ARENA_MAX);
    }
    b->n = 0;
    b->pack = NULL;
    b->models = NULL;
    b->pool = pool;
    return b;
}

void batch_free(job_batch *b)
{
    if (!b)
        return;
    arena_reset(&b->events); /* the jobs' events die with it (label_batch sets ev anew) */
    pack_ref_put(b->pack);
    model_set_put(b->models);
    batch_pool *pool = b->pool;
    pthread_mutex_lock(&pool->lock);
    if (pool->n < BATCH_POOL_MAX) {
        pool->free[pool->n++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    if (b)
        arena_destroy(&b->events);
    free(b);
}
