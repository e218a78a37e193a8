/* nats_publish — decisions to DECISIONS, then acks to COMPLAINTS; see
 * nats_publish.h. */
#include "nats_publish.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "log.h"
#include "nats_conn.h"
#include "nats_part.h"
#include "strbuf.h"

/* One decision waiting for its publish ack. */
typedef struct pending {
    nats_in *in;
    char     subject[48];
    size_t   id_off, bytes_off, len;  /* in np->buf: msg id (NUL-terminated), decision */
} pending;

struct nats_pub {
    nconn        c;
    pending     *q;
    size_t       n, cap;
    strbuf       buf;
    atomic_int   failed;  /* set by the library's ack thread (on_error); reset by flush */
    daemon_stats *stats;  /* borrowed */
};

const void *nats_in_data(const nats_in *in) { return natsMsg_GetData(in->msg); }
size_t nats_in_len(const nats_in *in) { return (size_t)natsMsg_GetDataLength(in->msg); }

static void on_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    nats_pub *np = closure;
    atomic_store(&np->failed, 1);  /* flush re-publishes the whole flush, idempotently */
}

nats_pub *nats_pub_open(const config *cfg, daemon_stats *stats)
{
    if (!cfg->nats_url[0])
        return NULL;
    nats_pub *np = calloc(1, sizeof *np);
    if (!np)
        abort();
    np->stats = stats;
    np->buf = (strbuf)STRBUF_INIT;
    char err[512], name[96];
    snprintf(name, sizeof name, "complaintd-%s-publish", cfg->node_id);
    for (int attempt = 0; nconn_open(&np->c, cfg->nats_url, name, err, sizeof err) < 0; attempt++) {
        if (attempt % 30 == 0)
            log_error("publisher: %s; retrying", err);
        sleep(1);
    }
    jsCtx_Destroy(np->c.js);  /* again, with the error callback */
    np->c.js = NULL;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    jo.PublishAsync.MaxPending = 65536;
    jo.PublishAsync.ErrHandler = on_error;
    jo.PublishAsync.ErrHandlerClosure = np;
    if (natsConnection_JetStream(&np->c.js, np->c.nc, &jo) != NATS_OK) {
        log_error("publisher: JetStream: %s", nconn_error(NATS_ERR));
        abort();  /* only out of memory gets here */
    }
    return np;
}

/* The input's own Msg-Id header, else its stream sequence: a decision of an
 * event without a usable id is still published once per input message. */
static void fallback_id(nats_in *in, strbuf *sb)
{
    const char *id = NULL;
    if (natsMsgHeader_Get(in->msg, "Nats-Msg-Id", &id) == NATS_OK && id && *id)
        strbuf_puts(sb, id);
    else
        strbuf_printf(sb, "complaints-seq-%llu", (unsigned long long)in->stream_seq);
}

static natsStatus publish_one(nats_pub *np, const pending *d, int async)
{
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, d->subject, NULL, np->buf.buf + d->bytes_off, (int)d->len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Nats-Msg-Id", np->buf.buf + d->id_off);
    if (s == NATS_OK && async) {
        s = js_PublishMsgAsync(np->c.js, &m, NULL);  /* takes m on success */
    } else if (s == NATS_OK) {
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        s = js_PublishMsg(&pa, np->c.js, m, NULL, &jerr);
        jsPubAck_Destroy(pa);
    }
    natsMsg_Destroy(m);
    return s;
}

/* Only ids that are safe as a header value: printable ASCII. */
static int header_safe(const char *s)
{
    if (!s || !*s || strlen(s) > 256)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

void nats_pub_add(nats_pub *np, nats_in *in, const char *topic, const char *event_id,
                  const void *bytes, size_t len)
{
    pending *q = grow_array(np->q, &np->cap, np->n + 1, sizeof *q, 256);
    if (!q)
        abort();
    np->q = q;
    pending *d = &np->q[np->n++];
    d->in = in;
    snprintf(d->subject, sizeof d->subject, "decisions.%s", topic);
    d->id_off = np->buf.len;
    if (header_safe(event_id))
        strbuf_puts(&np->buf, event_id);
    else
        fallback_id(in, &np->buf);
    strbuf_putc(&np->buf, '\0');
    d->bytes_off = np->buf.len;
    d->len = len;
    strbuf_append(&np->buf, (const char *)bytes, len);
    if (in->quiet)
        return;  /* decided and stored before the takeover: only the ack is owed */
    if (publish_one(np, d, 1) != NATS_OK)
        atomic_store(&np->failed, 1);
}

void nats_pub_flush(nats_pub *np)
{
    if (!np || np->n == 0)
        return;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 10000;
    natsStatus s = js_PublishAsyncComplete(np->c.js, &po);
    if (s != NATS_OK || atomic_exchange(&np->failed, 0)) {
        /* Some acks did not come: publish the flush again, one by one,
         * until each is stored. Those that were stored are dropped by the
         * stream as duplicates of their Msg-Id. */
        for (size_t i = 0; i < np->n; i++) {
            if (np->q[i].in->quiet)
                continue;
            for (int attempt = 0; (s = publish_one(np, &np->q[i], 0)) != NATS_OK; attempt++) {
                if (attempt % 30 == 0)
                    log_error("cannot store decisions in %s: %s; retrying", NATS_STREAM_OUT,
                              nconn_error(s));
                usleep(200000);
            }
        }
        atomic_store(&np->failed, 0);
    }
    for (size_t i = 0; i < np->n; i++) {
        nats_in *in = np->q[i].in;
        /* A lost ack is redelivered after the consumer's ack wait, and then
         * found a duplicate by event id: nothing to retry here. */
        if (!in->replay)
            natsMsg_Ack(in->msg, NULL);
        nats_part_done(in);  /* frees in */
    }
    np->n = 0;
    strbuf_reset(&np->buf);
}

void nats_pub_close(nats_pub *np)
{
    if (!np)
        return;
    nats_pub_flush(np);
    natsConnection_Flush(np->c.nc);
    nconn_close(&np->c);
    free(np->q);
    strbuf_free(&np->buf);
    free(np);
}
