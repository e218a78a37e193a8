/* feedback — managers' reviews in the history store; see feedback.h. */
#include "feedback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "history_internal.h"
#include "labels.h"
#include "utf8.h"

static int id_ok(const char *s) { return s && *s && strlen(s) < HIST_ID_MAX && utf8_valid_str(s); }

const char *feedback_invalid(const feedback_msg *fb, size_t max_text)
{
    if (!id_ok(fb->event_id))
        return "event_id missing, not UTF-8 or longer than 63 bytes";
    if (!id_ok(fb->customer_id))
        return "customer_id missing, not UTF-8 or longer than 63 bytes";
    if (!fb->text || !*fb->text)
        return "empty text";
    size_t n = strlen(fb->text);
    if (n > max_text)
        return "text over the size limit";
    if (!utf8_valid(fb->text, n))
        return "text is not valid UTF-8";
    if (!utf8_valid_str(fb->reviewer) || !utf8_valid_str(fb->lang))
        return "reviewer or lang is not valid UTF-8";
    for (size_t i = 0; i < fb->n_labels; i++)
        if ((int)fb->labels[i] <= 0 || (int)fb->labels[i] >= LABEL_COUNT)
            return "unknown label";
    if ((int)fb->action < 0 || (int)fb->action >= ACTION_COUNT)
        return "unknown action";
    if ((int)fb->channel < 0 || (int)fb->channel >= CHANNEL_COUNT)
        return "unknown channel";
    if (fb->ts_ms < 0)
        return "ts_ms is negative";
    return NULL;
}

/* A store opened read-only before it had reviews: every read finds none. */
static int absent(hist_txn *t) { return !t->env->has_feedback; }

int feedback_put(hist_txn *t, const feedback_msg *fb, int *replaced)
{
    if (replaced)
        *replaced = 0;
    if (absent(t)) {
        snprintf(t->env->last_error, sizeof t->env->last_error, "feedback: store opened read-only");
        return HIST_ERR;
    }
    size_t n = complaint__v1__feedback__get_packed_size(fb);
    MDB_val key = {strlen(fb->event_id), (void *)fb->event_id}, val = {n ? n : 1, NULL}, old;
    if (replaced && mdb_get(t->txn, t->env->feedback, &key, &old) == 0)
        *replaced = 1;
    /* Packed straight into the map (MDB_RESERVE): no buffer of ours. */
    int rc = mdb_put(t->txn, t->env->feedback, &key, &val, MDB_RESERVE);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_put feedback", rc);
    if (n)
        complaint__v1__feedback__pack(fb, val.mv_data);
    else
        ((uint8_t *)val.mv_data)[0] = 0; /* cannot happen: a valid review has an id */
    return HIST_OK;
}

int feedback_get(hist_txn *t, const char *event_id, size_t idlen, feedback_msg **out)
{
    *out = NULL;
    if (absent(t))
        return HIST_NOTFOUND;
    MDB_val v;
    int rc = hist_get_val(t, t->env->feedback, event_id, idlen, &v);
    if (rc != HIST_OK)
        return rc;
    *out = complaint__v1__feedback__unpack(NULL, v.mv_size, v.mv_data);
    return *out ? HIST_OK : HIST_ECORRUPT;
}

int feedback_each(hist_txn *t, int (*fn)(const feedback_msg *fb, void *ctx), void *ctx,
                  uint64_t *corrupt)
{
    return feedback_each_after(t, NULL, 0, fn, ctx, corrupt);
}

int feedback_each_after(hist_txn *t, const char *after, size_t len,
                        int (*fn)(const feedback_msg *fb, void *ctx), void *ctx, uint64_t *corrupt)
{
    if (corrupt)
        *corrupt = 0;
    if (absent(t))
        return HIST_OK;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->env->feedback, &cur);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_cursor_open", rc);
    MDB_val k = {len, (void *)after}, v;
    if (!len)
        after = NULL;  /* LMDB has no empty keys: from the first */
    rc = mdb_cursor_get(cur, &k, &v, after ? MDB_SET_RANGE : MDB_FIRST);
    if (rc == 0 && after && k.mv_size == len && memcmp(k.mv_data, after, len) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);  /* strictly after */
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        feedback_msg *fb = complaint__v1__feedback__unpack(NULL, v.mv_size, v.mv_data);
        if (!fb) {
            if (corrupt)
                (*corrupt)++;
            continue;
        }
        int stop = fn(fb, ctx);
        complaint__v1__feedback__free_unpacked(fb, NULL);
        if (stop)
            break;
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? HIST_OK : hist_map_err(t->env, "mdb_cursor_get", rc);
}

int feedback_count(hist_txn *t, uint64_t *n)
{
    *n = 0;
    if (absent(t))
        return HIST_OK;
    MDB_stat st;
    int rc = mdb_stat(t->txn, t->env->feedback, &st);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_stat feedback", rc);
    *n = st.ms_entries;
    return HIST_OK;
}

/* Whether the stored review v is of customer id. */
static int review_of(const MDB_val *v, const char *id, size_t idlen)
{
    feedback_msg *fb = complaint__v1__feedback__unpack(NULL, v->mv_size, v->mv_data);
    if (!fb)
        return 0; /* undecodable: nobody's, kept for an operator to look at */
    int mine = fb->customer_id && strlen(fb->customer_id) == idlen &&
               memcmp(fb->customer_id, id, idlen) == 0;
    complaint__v1__feedback__free_unpacked(fb, NULL);
    return mine;
}

int feedback_forget(hist_txn *t, const char *customer_id, size_t idlen, size_t *removed)
{
    *removed = 0;
    if (absent(t))
        return HIST_OK;
    /* Reviews are keyed by event, not customer: a walk over all of them (as
     * forget walks the decision log), collecting the keys to delete, then
     * the deletions, so no cursor is read across a deletion. */
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->env->feedback, &cur);
    if (rc != 0)
        return hist_map_err(t->env, "mdb_cursor_open", rc);
    char **keys = NULL; /* owned, each a copy (a page moves once we delete) */
    size_t n = 0, cap = 0;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (!review_of(&v, customer_id, idlen))
            continue;
        char **grown = grow_array(keys, &cap, n + 1, sizeof *keys, 16);
        char *copy = malloc(k.mv_size + 1);
        if (!grown || !copy) {
            free(copy);
            if (grown)
                keys = grown;
            rc = ENOMEM;
            break;
        }
        keys = grown;
        memcpy(copy, k.mv_data, k.mv_size);
        copy[k.mv_size] = '\0';
        keys[n++] = copy;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        MDB_val key = {strlen(keys[i]), keys[i]};
        rc = mdb_del(t->txn, t->env->feedback, &key, NULL);
    }
    if (rc == 0)
        *removed = n;
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    if (rc == ENOMEM) {
        snprintf(t->env->last_error, sizeof t->env->last_error, "feedback forget: out of memory");
        return HIST_ERR;
    }
    return hist_map_err(t->env, "feedback forget", rc);
}
