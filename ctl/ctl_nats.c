/*
 * complaintctl send --nats, tail --nats and cluster: talk to a complaintd
 * cluster through NATS JetStream (issue 18) instead of a node's ZeroMQ
 * endpoints.
 *
 *   send --nats URL[,URL...] [FILE]     JSON Lines events to complaints.in.<token>,
 *                                       Nats-Msg-Id = event_id, publish acks awaited
 *   tail --nats URL [--count N] [--from SEQ] [--action A] [--timeout MS]
 *                                       decisions of the DECISIONS stream as JSON Lines
 *   cluster --nats URL                  streams, partitions, owners, consumers (JSON)
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "ctl.h"
#include "nats_conn.h"
#include "partition.h"
#include "strbuf.h"

typedef struct nats_opts {
    const char *urls;
    long        count;       /* tail: stop after this many (0 = never) */
    uint64_t    from;        /* tail: from this stream sequence (0 = new ones only) */
    const char *action;      /* tail: only decisions.<action> */
    int         timeout_ms;  /* tail: give up after this long idle (-1 = never) */
    const char *raw_token;   /* send: lines as raw bytes to complaints.in.<token> (tests) */
    int         first_arg;
} nats_opts;

static int parse(int argc, char **argv, nats_opts *o)
{
    static const struct option opts[] = {{"nats", required_argument, 0, 'N'},
                                         {"count", required_argument, 0, 'n'},
                                         {"from", required_argument, 0, 'F'},
                                         {"action", required_argument, 0, 'a'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"raw", required_argument, 0, 'R'},
                                         {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->timeout_ms = -1;
    o->action = "";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'N': o->urls = optarg; break;
        case 'n': o->count = atol(optarg); break;
        case 'F': o->from = strtoull(optarg, NULL, 10); break;
        case 'a': o->action = optarg; break;
        case 't': o->timeout_ms = atoi(optarg); break;
        case 'R': o->raw_token = optarg; break;
        default: return -1;
        }
    }
    if (!o->urls || !*o->urls) {
        fprintf(stderr, "complaintctl: --nats URL[,URL...] is required\n");
        return -1;
    }
    o->first_arg = optind;
    return 0;
}

int ctl_nats_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--nats") == 0 || strncmp(argv[i], "--nats=", 7) == 0)
            return 1;
    return 0;
}

typedef struct nsend {
    nconn   c;
    long    sent;
    long    failed;  /* guarded by: written only by the library's ack thread, read after Complete */
    int64_t paused_until; /* ms (nats_Now) the last repeat's pause ended; ack thread only */
} nsend;

enum { SEND_ATTEMPTS = 10, SEND_BACKOFF_MS = 100 };

/* A publish not acknowledged (a timeout while JetStream elects a leader,
 * say) is sent again, a few times: the Msg-Id makes a repeat harmless.
 * Right after a server is lost the stream has "no responders" for a
 * moment, and five immediate repeats all met it (seen in CI): so a burst
 * of failures pauses once, longer on each try (100 ms more each), and the
 * rest of the burst goes again right after that pause. */
static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    nsend *r = closure;
    const char *id = NULL, *tries = NULL;
    natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id);
    natsMsgHeader_Get(pae->Msg, "Complaintctl-Attempt", &tries);
    int attempt = tries ? atoi(tries) : 1;
    if (attempt < SEND_ATTEMPTS && pae->ErrCode != JSStreamNotFoundErr) {
        char next[16];
        snprintf(next, sizeof next, "%d", attempt + 1);
        natsMsgHeader_Set(pae->Msg, "Complaintctl-Attempt", next);
        if (nats_Now() > r->paused_until + SEND_BACKOFF_MS) {  /* a new burst */
            nats_Sleep(SEND_BACKOFF_MS * attempt);
            r->paused_until = nats_Now();
        }
        if (js_PublishMsgAsync(js, &pae->Msg, NULL) == NATS_OK)
            return;  /* the library owns it again */
    }
    fprintf(stderr, "complaintctl: event '%s' not stored: %s\n", id ? id : "?",
            pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    __atomic_add_fetch(&r->failed, 1, __ATOMIC_RELAXED);
}

/* Publish bytes to complaints.in.<token> (asynchronously; the acks are
 * awaited at the end). */
static int publish(nsend *r, const char *token, const char *msg_id, const void *bytes, size_t len)
{
    char subject[PART_TOKEN_MAX + 32];
    snprintf(subject, sizeof subject, "complaints.in.%s", token);
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, bytes, (int)len);
    if (s == NATS_OK && msg_id && *msg_id)
        s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
    if (s == NATS_OK)
        s = js_PublishMsgAsync(r->c.js, &m, NULL);  /* takes m on success */
    natsMsg_Destroy(m);
    if (s != NATS_OK) {
        fprintf(stderr, "complaintctl: publish to %s: %s\n", subject, nconn_error(s));
        return CTL_FAIL;
    }
    r->sent++;
    return 0;
}

static int send_event(event_msg *ev, const char *input, long lineno, void *arg)
{
    (void)input;
    (void)lineno;
    nsend *r = arg;
    size_t len = complaint__v1__complaint_event__get_packed_size(ev);
    uint8_t *buf = malloc(len ? len : 1);
    complaint__v1__complaint_event__pack(ev, buf);
    char token[PART_TOKEN_MAX + 1];
    const char *cid = ev->customer_id ? ev->customer_id : "";
    part_token(cid, strlen(cid), token);
    int rc = publish(r, token, ev->event_id, buf, len);
    free(buf);
    return rc;
}

static int finish_send(nsend *r, int status)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 120000;  /* a loaded cluster (three servers electing, sanitizer builds) acks slowly */
    natsStatus s = js_PublishAsyncComplete(r->c.js, &po);
    if (s != NATS_OK) {
        fprintf(stderr, "complaintctl: publish acks: %s\n", nconn_error(s));
        status = CTL_FAIL;
    }
    long failed = __atomic_load_n(&r->failed, __ATOMIC_RELAXED);
    fprintf(stderr, "complaintctl: sent %ld events over NATS, %ld not stored\n", r->sent - failed,
            failed);
    nconn_close(&r->c);
    return failed ? CTL_FAIL : status;
}

static int nats_send(nats_opts *o, int argc, char **argv)
{
    const char *input = o->first_arg < argc ? argv[o->first_arg] : "-";
    FILE *in = ctl_open_input(input);
    if (!in)
        return CTL_USAGE;
    nsend r = {.sent = 0};
    char err[512];
    if (nconn_open(&r.c, o->urls, "complaintctl-send", err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        if (in != stdin)
            fclose(in);
        return CTL_FAIL;
    }
    /* The error callback is a JetStream option: a context of its own. */
    jsCtx_Destroy(r.c.js);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 4096;  /* backpressure: at most this many unacked */
    /* How long a publish waits for room under that bound. The library's
     * 200 ms failed the whole send while the servers moved a stream
     * leader under load; a stalled cluster still fails it, after a minute. */
    jo.PublishAsync.StallWait = 60000;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = &r;
    r.c.js = NULL;
    if (natsConnection_JetStream(&r.c.js, r.c.nc, &jo) != NATS_OK) {
        fprintf(stderr, "complaintctl: JetStream: %s\n", nconn_error(NATS_ERR));
        nconn_close(&r.c);
        return CTL_FAIL;
    }
    int status = 0;
    if (o->raw_token) {
        char *line = NULL;
        size_t cap = 0;
        long n;
        while ((n = ctl_read_line(in, &line, &cap)) >= 0 && status == 0)
            status = publish(&r, o->raw_token, NULL, line, (size_t)n);
        free(line);
    } else {
        status = ctl_each_event(in, input, send_event, &r);
    }
    if (in != stdin)
        fclose(in);
    return finish_send(&r, status);
}

static int nats_tail(nats_opts *o)
{
    nconn c;
    char err[512], subject[128];
    if (nconn_open(&c, o->urls, "complaintctl-tail", err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return CTL_FAIL;
    }
    snprintf(subject, sizeof subject, "decisions.%s", *o->action ? o->action : ">");
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = "DECISIONS";
    so.Ordered = true;  /* an ephemeral consumer that replays in order, no acks */
    so.Config.DeliverPolicy = o->from ? js_DeliverByStartSequence : js_DeliverNew;
    so.Config.OptStartSeq = o->from;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&sub, c.js, subject, NULL, &so, &jerr);
    /* Right after a server is lost JetStream elects new leaders: a few
     * seconds without answers. */
    for (int attempt = 0; s != NATS_OK && attempt < 30; attempt++) {
        nats_Sleep(500);
        s = js_SubscribeSync(&sub, c.js, subject, NULL, &so, &jerr);
    }
    if (s != NATS_OK) {
        fprintf(stderr, "complaintctl: subscribe %s: %s\n", subject, nconn_error(s));
        nconn_close(&c);
        return CTL_FAIL;
    }
    strbuf sb = STRBUF_INIT;
    long printed = 0;
    int status = 0;
    while (!o->count || printed < o->count) {
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, o->timeout_ms >= 0 ? o->timeout_ms : 3600000);
        if (s == NATS_TIMEOUT && o->timeout_ms < 0)
            continue;
        if (s != NATS_OK) {
            if (o->count)
                status = CTL_FAIL;  /* asked for N and saw fewer */
            break;
        }
        decision_msg *d = complaint__v1__triage_decision__unpack(
            NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        if (d) {
            strbuf_reset(&sb);
            codec_decision_json(&sb, d);
            printf("%s\n", sb.buf);
            fflush(stdout);
            printed++;
            complaint__v1__triage_decision__free_unpacked(d, NULL);
        } else {
            fprintf(stderr, "complaintctl: %s: a message that is not a TriageDecision\n",
                    natsMsg_GetSubject(m));
        }
        natsMsg_Destroy(m);
    }
    strbuf_free(&sb);
    natsSubscription_Destroy(sub);
    nconn_close(&c);
    return status;
}

int ctl_nats_main(const char *cmd, int argc, char **argv)
{
    nats_opts o;
    if (parse(argc, argv, &o) < 0)
        return CTL_USAGE;
    if (strcmp(cmd, "send") == 0)
        return nats_send(&o, argc, argv);
    if (strcmp(cmd, "tail") == 0)
        return nats_tail(&o);
    return ctl_nats_cluster(o.urls);
}
