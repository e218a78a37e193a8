/*
 * forget — a customer's erasure in the writer's thread; see forget.h.
 *
 * The logic is complaintctl forget's (daemon/ctl_history.c). Another branch
 * of issue 16 moves it into src/history.c as hist_forget; when both are in,
 * forget_customer should call that and keep only the reply.
 */
#include "forget.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "grow.h"
#include "log.h"

typedef struct found {
    const char *id;
    size_t      idlen;
    uint64_t   *seqs;  /* the customer's logged decisions; owned */
    size_t      n, cap;
    int         out_of_memory;  /* the list is incomplete: redact none */
} found;

static int find_decisions(uint64_t seq, const void *bytes, size_t len, void *arg)
{
    found *f = arg;
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    if (m && m->customer_id && strlen(m->customer_id) == f->idlen &&
        memcmp(m->customer_id, f->id, f->idlen) == 0) {
        uint64_t *seqs = grow_array(f->seqs, &f->cap, f->n + 1, sizeof *seqs, 64);
        if (!seqs) {
            f->out_of_memory = 1;
            complaint__v1__triage_decision__free_unpacked(m, NULL);
            return 1;  /* stop */
        }
        f->seqs = seqs;
        f->seqs[f->n++] = seq;
    }
    if (m)
        complaint__v1__triage_decision__free_unpacked(m, NULL);
    return 0;
}

/* Keep the decision (its seq must stay) without what points at the person. */
static int redact(hist_txn *txn, uint64_t seq)
{
    const void *bytes;
    size_t len;
    int rc = hist_log_get(txn, seq, &bytes, &len);
    if (rc != HIST_OK)
        return rc;
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    if (!m)
        return HIST_ECORRUPT;
    decision_msg r = *m;
    r.customer_id = (char *)"";
    r.n_matches = 0;
    r.n_reasons = 0;
    r.n_customer_flags = 0;
    size_t n = complaint__v1__triage_decision__get_packed_size(&r);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        complaint__v1__triage_decision__free_unpacked(m, NULL);
        return HIST_ERR;
    }
    complaint__v1__triage_decision__pack(&r, buf);
    rc = hist_log_replace(txn, seq, buf, n);
    free(buf);
    complaint__v1__triage_decision__free_unpacked(m, NULL);
    return rc;
}

int forget_customer(hist_env *env, const char *id, size_t idlen, strbuf *reply, size_t *redacted)
{
    found f = {.id = id, .idlen = idlen};
    hist_txn *txn;
    int erased = 0;
    int rc = hist_begin(env, 1, &txn);
    if (rc != HIST_OK)
        goto out;
    rc = hist_del_customer(txn, id, idlen);
    erased = (rc == HIST_OK);
    if (rc == HIST_NOTFOUND)
        rc = HIST_OK;
    if (rc == HIST_OK)
        rc = hist_log_each(txn, 1, find_decisions, &f);
    if (rc == HIST_OK && f.out_of_memory)
        rc = HIST_ERR;
    for (size_t i = 0; rc == HIST_OK && i < f.n; i++)
        rc = redact(txn, f.seqs[i]);
    if (rc == HIST_OK)
        rc = hist_commit(txn);
    else
        hist_abort(txn);
out:
    sb_puts(reply, "{\"customer_id\":");
    sb_json_str(reply, id, idlen);
    if (rc == HIST_OK) {
        sb_printf(reply, ",\"history_erased\":%s,\"decisions_redacted\":%zu}", erased ? "true" : "false",
                  f.n);
    } else {
        const char *why = f.out_of_memory ? "out of memory (nothing was changed)" : hist_last_error(env);
        sb_puts(reply, ",\"error\":");
        sb_json_str(reply, why, strlen(why));
        sb_putc(reply, '}');
    }
    free(f.seqs);
    *redacted = f.n;
    return rc;
}

void forget_serve(void *sock, hist_env *env, int durable)
{
    zmq_msg_t ticket, id;
    zmq_msg_init(&ticket);
    zmq_msg_init(&id);
    if (zmq_msg_recv(&ticket, sock, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&ticket) ||
        zmq_msg_recv(&id, sock, 0) < 0) {
        zmq_msg_close(&ticket);
        zmq_msg_close(&id);
        return;  /* cannot happen: control.c sends both frames */
    }
    strbuf reply = STRBUF_INIT;
    const char *cid = zmq_msg_data(&id);
    size_t len = zmq_msg_size(&id);
    size_t redacted = 0;
    int rc = forget_customer(env, cid, len, &reply, &redacted);
    if (rc == HIST_OK && durable)
        rc = hist_sync(env);  /* the caller hears of it once it is on disk */
    /* Not the id: the log must not remember whom it forgot. */
    if (rc == HIST_OK)
        log_info("forget: a customer's history erased, %zu decision(s) redacted", redacted);
    else
        log_error("forget: failed, nothing changed: %s", hist_last_error(env));
    zmq_msg_send(&ticket, sock, ZMQ_SNDMORE);
    zmq_send(sock, reply.buf ? reply.buf : "", reply.len, 0);
    zmq_msg_close(&ticket);
    zmq_msg_close(&id);
    sb_free(&reply);
}
