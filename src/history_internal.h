/*
 * history_internal — what history.c, history_log.c and feedback.c share: the
 * environment, the transaction and LMDB's error mapping. Not for other
 * modules: they see history.h only.
 */
#ifndef COMPLAINTD_HISTORY_INTERNAL_H
#define COMPLAINTD_HISTORY_INTERNAL_H

#include <lmdb.h>

#include "history.h"

/* env and the dbi handles: set by hist_open, read-only after it, so any
 * thread. last_error: guarded by nothing; whichever call fails writes it
 * and its caller reads it next. In the daemon the writer's calls, the
 * control thread's replay reads and the retrain thread's feedback reads can
 * all fail, so two failures at once may
 * mix their messages (never a return code); hist_sync and hist_map_use,
 * called beside the writer, leave it alone for that reason. */
struct hist_env {
    MDB_env *env;
    MDB_dbi  customers, events, decisions, meta, employees;
    MDB_dbi  feedback;      /* managers' reviews (feedback.h) */
    int      has_feedback;  /* 0: a read-only open of a store that has none yet */
    char     last_error[256];
};

struct hist_txn {
    hist_env *env;
    MDB_txn  *txn;
};

/* LMDB's rc as HIST_*; a failure's message goes to env->last_error. */
int hist_map_err(hist_env *env, const char *what, int rc);
/* mdb_get / mdb_put (flags 0) in t, through hist_map_err. */
int hist_get_val(hist_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v);
int hist_put_val(hist_txn *t, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                 size_t vlen);

#endif
