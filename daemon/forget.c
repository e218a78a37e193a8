/*
 * forget — a customer's erasure in the writer's thread; see forget.h.
 * The erasure itself is hist_forget (src/history_log.c), the same call
 * complaintctl forget makes when no daemon holds the store; this file adds
 * the control reply and the hand-off from the control thread.
 */
#include "forget.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

int forget_customer(hist_env *env, const char *id, size_t idlen, strbuf *reply, size_t *redacted)
{
    hist_forgotten f = {0};
    int rc = hist_forget(env, id, idlen, &f);
    strbuf_puts(reply, "{\"customer_id\":");
    strbuf_json_str(reply, id, idlen);
    if (rc == HIST_OK) {
        strbuf_printf(reply, ",\"history_erased\":%s,\"decisions_redacted\":%zu,\"feedback_erased\":%zu}",
                  f.history_erased ? "true" : "false", f.decisions_redacted, f.feedback_erased);
    } else {
        const char *why = hist_last_error(env);
        strbuf_puts(reply, ",\"error\":");
        strbuf_json_str(reply, why, strlen(why));
        strbuf_putc(reply, '}');
    }
    *redacted = f.decisions_redacted;
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
    strbuf_free(&reply);
}
