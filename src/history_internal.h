/*
 * history_internal — what history.c and history_log.c share: the
 * environment, the transaction and LMDB's error mapping. Not for other
 * modules: they see history.h only.
 */
#ifndef COMPLAINTD_HISTORY_INTERNAL_H
#define COMPLAINTD_HISTORY_INTERNAL_H

#include <lmdb.h>

#include "history.h"

/* Opened once; dbi handles read-only after hist_open. last_error is written
 * by the thread that owns the write transaction (the writer) and read after
 * its call returned an error: one thread at a time by that contract. */
struct hist_env {
    MDB_env *env;
    MDB_dbi  customers, events, decisions, meta, employees;
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
