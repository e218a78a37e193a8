/* control — the control endpoint and the stats JSON; see control.h. */
#define _GNU_SOURCE  /* memmem */
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "control_feedback.h"
#include "forget.h"
#include "grow.h"
#include "inproc.h"
#include "log.h"

void stats_json(const daemon_stats *s, int64_t now_ms, strbuf *sb)
{
#define U(f) (unsigned long long)STAT_GET(s->f)
    strbuf_printf(sb,
              "{\"uptime_ms\":%lld,\"received\":%llu,\"decided\":%llu,\"rejected\":%llu,"
              "\"duplicates\":%llu,\"published\":%llu,\"commits\":%llu,\"commit_failures\":%llu,"
              "\"commit_us_total\":%llu,\"sync_us_total\":%llu,\"last_seq\":%llu,"
              "\"reloads\":%llu,\"reload_failures\":%llu",
              (long long)(now_ms - s->started_ms), U(received), U(decided), U(rejected),
              U(duplicates), U(published), U(commits), U(commit_failures), U(commit_us),
              U(sync_us), U(last_seq), U(reloads), U(reload_failures));
    strbuf_printf(sb, ",\"span_misses\":%llu", U(span_misses));
    if (s->cluster_partitions) {  /* a cluster node: which partitions it holds now */
        strbuf_printf(sb, ",\"cluster\":{\"takeovers\":%llu,\"handovers\":%llu,\"snapshots\":%llu,"
                      "\"partitions\":[", U(takeovers), U(handovers), U(snapshots));
        for (int p = 0, n = 0; p < s->cluster_partitions && p < 1024; p++)
            if (atomic_load(&s->partitions_owned[p / 64]) & (1ull << (p % 64)))
                strbuf_printf(sb, "%s%d", n++ ? "," : "", p);
        strbuf_puts(sb, "]}");
    }
    strbuf_printf(sb, ",\"feedback\":%llu,\"feedback_rejected\":%llu,\"feedback_stored\":%llu",
              U(feedback), U(feedback_rejected), U(feedback_stored));
    strbuf_printf(sb, ",\"retrains\":%llu,\"retrain_failures\":%llu,\"retrain_skipped\":%llu",
              U(retrains), U(retrain_failures), U(retrain_skipped));
    strbuf_puts(sb, ",\"actions\":{");
    for (int a = 1; a < ACTION_COUNT; a++)
        strbuf_printf(sb, "%s\"%s\":%llu", a > 1 ? "," : "", action_name(a), U(per_action[a]));
    strbuf_puts(sb, "},\"labels\":{");
    for (int l = 1; l < LABEL_COUNT; l++)
        strbuf_printf(sb, "%s\"%s\":%llu", l > 1 ? "," : "", label_name(l), U(per_label[l]));
    /* The latency histograms' counts, bucket i holding values <= 2^i us
     * (the last one everything above), not cumulative: complaintctl stats
     * --watch takes percentiles of what changed between two replies. */
    const stats_hist *hists[1 + STATS_STAGES] = {&s->h_latency_us, &s->h_stage_us[STAGE_LABELLED],
                                                 &s->h_stage_us[STAGE_COMMITTED],
                                                 &s->h_stage_us[STAGE_PUBLISHED]};
    for (int k = 0; k < 1 + STATS_STAGES; k++) {
        strbuf_printf(sb, k ? "],\"%s\":[" : "},\"latency_us_buckets\":{\"%s\":[", stats_latency_names[k]);
        for (int i = 0; i < STATS_HIST_BUCKETS; i++)
            strbuf_printf(sb, "%s%llu", i ? "," : "",
                      (unsigned long long)atomic_load_explicit(&hists[k]->bucket[i], memory_order_relaxed));
    }
    strbuf_puts(sb, "]}}");
#undef U
}

/* Where a request came from: the ROUTER's routing id and, from a REQ client,
 * the empty delimiter frame that a reply must carry back. */
typedef struct envelope {
    unsigned char id[256];  /* ZeroMQ routing ids are at most 255 bytes */
    size_t        id_len;
    int           delimited;
} envelope;

/* Send the envelope's frames; the body frames follow with zmq_send. */
static void send_envelope(void *sock, const envelope *e)
{
    zmq_send(sock, e->id, e->id_len, ZMQ_SNDMORE);
    if (e->delimited)
        zmq_send(sock, "", 0, ZMQ_SNDMORE);
}

static void reply(void *sock, const envelope *e, const char *s, size_t n)
{
    send_envelope(sock, e);
    zmq_send(sock, s, n, 0);
}

static int has_more(void *sock)
{
    int more = 0;
    size_t sz = sizeof more;
    return zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more;
}

static void skip_rest(void *sock)
{
    while (has_more(sock)) {
        char skip[16];
        zmq_recv(sock, skip, sizeof skip, 0);  /* extra frames are ignored */
    }
}

/* One request: its envelope and its first body frame, NUL-terminated (cut
 * at cap - 1 bytes), and, if payload is not NULL, its second body frame
 * there (empty if none; the caller closes it). Returns 0, or -1 if there
 * was none or it was malformed. */
static int recv_request(void *sock, envelope *e, char *word, size_t cap, zmq_msg_t *payload)
{
    if (payload)
        zmq_msg_init(payload);
    int n = zmq_recv(sock, e->id, sizeof e->id, ZMQ_DONTWAIT);
    if (n < 0)
        return -1;
    e->id_len = (size_t)n < sizeof e->id ? (size_t)n : sizeof e->id;
    if (!has_more(sock))
        return -1;  /* an id with no body */
    n = zmq_recv(sock, word, cap - 1, 0);
    e->delimited = (n == 0);
    if (n == 0 && has_more(sock))
        n = zmq_recv(sock, word, cap - 1, 0);
    if (n < 0) {
        skip_rest(sock);
        return -1;
    }
    word[(size_t)n < cap - 1 ? (size_t)n : cap - 1] = '\0';
    if (payload && has_more(sock))
        zmq_msg_recv(payload, sock, 0);
    skip_rest(sock);
    return 0;
}

typedef struct replay_ctx {
    uint64_t first, last;
    uint64_t upto;     /* the last published seq: nothing beyond is durable yet */
    int      count, max;
    strbuf   frames;   /* the decisions, back to back */
    size_t   off[REPLAY_MAX + 1];
} replay_ctx;

static int collect(uint64_t seq, const void *bytes, size_t len, void *arg)
{
    replay_ctx *r = arg;
    if (seq > r->upto)
        return 1;
    if (r->count == 0)
        r->first = seq;
    r->last = seq;
    r->off[r->count] = r->frames.len;
    strbuf_append(&r->frames, bytes, len);
    r->off[++r->count] = r->frames.len;
    return r->count >= r->max;
}

/* "replay FROM [MAX]": a header frame, then the decisions. */
static void replay(void *sock, const envelope *e, hist_env *env, const char *args,
                   daemon_stats *stats)
{
    unsigned long long from = 0;
    int max = REPLAY_MAX;
    if (sscanf(args, "%llu %d", &from, &max) < 1 || from == 0) {
        const char *u = "{\"error\":\"usage: replay FROM [MAX], FROM >= 1\"}";
        reply(sock, e, u, strlen(u));
        return;
    }
    replay_ctx *r = calloc(1, sizeof *r);
    if (!r) {
        const char *m = "{\"error\":\"out of memory\"}";
        reply(sock, e, m, strlen(m));
        return;
    }
    r->max = max > 0 && max < REPLAY_MAX ? max : REPLAY_MAX;
    r->upto = STAT_GET(stats->last_seq);  /* read before the log, so never ahead of it */
    hist_txn *txn;
    int rc = hist_begin(env, 0, &txn);
    if (rc == HIST_OK) {
        rc = hist_log_each(txn, from, collect, r);
        hist_abort(txn);
    }
    strbuf head = STRBUF_INIT;
    if (rc != HIST_OK) {
        strbuf_printf(&head, "{\"error\":\"decision log: %s\"}", hist_last_error(env));
        reply(sock, e, head.buf, head.len);
    } else {
        unsigned long long last = (unsigned long long)r->upto;
        strbuf_printf(&head, "{\"from\":%llu,\"count\":%d,\"next\":%llu,\"last_seq\":%llu}",
                  r->count ? (unsigned long long)r->first : from, r->count,
                  r->count ? (unsigned long long)r->last + 1 : from, last);
        send_envelope(sock, e);
        zmq_send(sock, head.buf, head.len, r->count ? ZMQ_SNDMORE : 0);
        for (int i = 0; i < r->count; i++)
            zmq_send(sock, r->frames.buf + r->off[i], r->off[i + 1] - r->off[i],
                     i + 1 < r->count ? ZMQ_SNDMORE : 0);
    }
    strbuf_free(&head);
    strbuf_free(&r->frames);
    free(r);
}

/* The clients waiting for a reload or a retrain, each with the ticket of
 * its request. */
typedef struct ticket_waiter {
    envelope e;
    uint64_t ticket;
} ticket_waiter;

typedef struct waiters {
    ticket_waiter *w;
    size_t         n, cap;
    uint64_t       served;  /* the last ticket the take function reported */
} waiters;

/* reloader_take and retrain_take have this shape. */
typedef int (*take_fn)(void *src, uint64_t *served, strbuf *reply);

static int take_reload(void *r, uint64_t *served, strbuf *reply)
{
    return reloader_take(r, served, reply);
}

static int take_retrain(void *r, uint64_t *served, strbuf *reply)
{
    return retrain_take(r, served, reply);
}

static int wait_for(waiters *ws, const envelope *e, uint64_t ticket)
{
    ticket_waiter *grown = grow_array(ws->w, &ws->cap, ws->n + 1, sizeof *ws->w, 4);
    if (!grown)
        return -1;
    ws->w = grown;
    ws->w[ws->n++] = (ticket_waiter){*e, ticket};
    return 0;
}

/* Jobs have ended: answer each waiter with the outcome of the first job
 * that started after its request. */
static void answer_waiters(void *sock, take_fn take, void *src, waiters *ws, strbuf *sb)
{
    while (take(src, &ws->served, sb)) {
        size_t kept = 0;
        for (size_t i = 0; i < ws->n; i++) {
            if (ws->w[i].ticket <= ws->served)
                reply(sock, &ws->w[i].e, sb->buf ? sb->buf : "", sb->len);
            else
                ws->w[kept++] = ws->w[i];
        }
        ws->n = kept;
    }
}

enum { REQUEST_MAX = 512 };  /* a request's bytes kept, NUL included */

/* Clients whose reviews are with the writer: answered when it has stored
 * them (feedback_done carries the ticket). */
typedef struct fb_waiter {
    envelope       e;
    uint64_t       ticket;
    feedback_check fc;  /* owned */
} fb_waiter;

/* The control thread's state; only that thread touches it. */
typedef struct control {
    void          *sock;
    daemon_stats  *stats;
    hist_env      *env;
    control_hooks *hooks;
    waiters        reloads, retrains; /* waiting for a reload's or a retrain's outcome */
    waiters        forgets;  /* waiting for the writer's forget (served = tickets handed out) */
    void          *forget;   /* PAIR to the writer (forget.h) */
    void          *fb_out;   /* reviews to the writer (PUSH to FEEDBACK_ENDPOINT) */
    void          *fb_done;  /* the writer's outcomes (PULL bound to FEEDBACK_DONE_ENDPOINT) */
    fb_waiter     *fb;
    size_t         n_fb, cap_fb;
    uint64_t       fb_ticket;
    char           data_dir[PATH_MAX];  /* absolute, for "info" */
    strbuf         sb;
} control;

/* "forget CUSTOMER": handed to the writer, answered when it is done
 * (answer_forgets). The id is the rest of the frame, spaces and all. */
static void forget(control *c, const envelope *e, const char *id)
{
    strbuf *sb = &c->sb;
    /* The request frame is cut at REQUEST_MAX - 1 bytes: an id that fills
     * it may have been cut, and is refused rather than half-matched. */
    if (!*id || strlen(id) >= REQUEST_MAX - 1 - 7) {
        strbuf_printf(sb, "{\"error\":\"usage: forget CUSTOMER_ID (1 to %d bytes)\"}", REQUEST_MAX - 2 - 7);
        reply(c->sock, e, sb->buf, sb->len);
        return;
    }
    uint64_t ticket = c->forgets.served + 1;
    if (wait_for(&c->forgets, e, ticket) < 0 ||
        zmq_send(c->forget, &ticket, sizeof ticket, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(c->forget, id, strlen(id), ZMQ_DONTWAIT) < 0) {
        if (c->forgets.n && c->forgets.w[c->forgets.n - 1].ticket == ticket)
            c->forgets.n--;
        strbuf_puts(sb, "{\"error\":\"the writer cannot take the request now; try again\"}");
        reply(c->sock, e, sb->buf, sb->len);
        return;
    }
    c->forgets.served = ticket;
    log_debug("control: forget handed to the writer (ticket %llu)", (unsigned long long)ticket);
}

/* The writer's answers: [ticket][JSON], each to the client that asked. */
static void answer_forgets(control *c)
{
    for (;;) {
        uint64_t ticket = 0;
        zmq_msg_t body;
        if (zmq_recv(c->forget, &ticket, sizeof ticket, ZMQ_DONTWAIT) < 0)
            return;
        zmq_msg_init(&body);
        zmq_msg_recv(&body, c->forget, 0);
        size_t kept = 0;
        for (size_t i = 0; i < c->forgets.n; i++) {
            if (c->forgets.w[i].ticket == ticket)
                reply(c->sock, &c->forgets.w[i].e, zmq_msg_data(&body), zmq_msg_size(&body));
            else
                c->forgets.w[kept++] = c->forgets.w[i];
        }
        c->forgets.n = kept;
        /* Their reviews are gone from the store: the local model, trained
         * on them, is retrained without them. */
        unsigned long long erased = 0;
        const char *f = memmem(zmq_msg_data(&body), zmq_msg_size(&body), "\"feedback_erased\":", 18);
        if (f && sscanf(f + 18, "%llu", &erased) == 1 && erased && c->hooks->retrain) {
            log_info("forget erased %llu review(s); retraining the local model without them", erased);
            retrain_request(c->hooks->retrain);
        }
        zmq_msg_close(&body);
    }
}

static void feedback(control *c, const envelope *e, zmq_msg_t *payload)
{
    strbuf msg = STRBUF_INIT;
    feedback_check fc;
    uint64_t ticket = ++c->fb_ticket;
    strbuf_reset(&c->sb);
    if (feedback_check_batch(zmq_msg_data(payload), zmq_msg_size(payload),
                             (size_t)c->hooks->max_text, ticket, &msg, &fc) < 0) {
        feedback_check_free(&fc);
        strbuf_free(&msg);
        strbuf_puts(&c->sb, "{\"ok\":false,\"error\":\"out of memory\"}");
        reply(c->sock, e, c->sb.buf, c->sb.len);
        return;
    }
    STAT_ADD(c->stats->feedback, fc.received);
    STAT_ADD(c->stats->feedback_rejected, fc.rejected);
    if (fc.valid) {
        fb_waiter *grown = grow_array(c->fb, &c->cap_fb, c->n_fb + 1, sizeof *c->fb, 4);
        /* The writer's queue has no high-water mark to hit (inproc, default
         * HWM 1000 messages, each answered before the client may send more). */
        if (grown && zmq_send(c->fb_out, msg.buf, msg.len, ZMQ_DONTWAIT) == (int)msg.len) {
            c->fb = grown;
            c->fb[c->n_fb++] = (fb_waiter){*e, ticket, fc};
            strbuf_free(&msg);
            return;  /* answered when the writer has stored them */
        }
        if (grown)
            c->fb = grown;
        feedback_done d = {.ticket = ticket, .rc = HIST_ERR};
        snprintf(d.error, sizeof d.error, "the writer's queue is full or out of memory");
        feedback_reply(&c->sb, &fc, &d);
    } else {
        feedback_reply(&c->sb, &fc, NULL);
    }
    reply(c->sock, e, c->sb.buf, c->sb.len);
    feedback_check_free(&fc);
    strbuf_free(&msg);
}

/* The writer has stored (or not) some reviews: answer their client, and
 * count them towards the next retrain. */
static void feedback_stored(control *c)
{
    feedback_done d;
    while (zmq_recv(c->fb_done, &d, sizeof d, ZMQ_DONTWAIT) == (int)sizeof d) {
        for (size_t i = 0; i < c->n_fb; i++) {
            if (c->fb[i].ticket != d.ticket)
                continue;
            strbuf_reset(&c->sb);
            feedback_reply(&c->sb, &c->fb[i].fc, &d);
            reply(c->sock, &c->fb[i].e, c->sb.buf, c->sb.len);
            feedback_check_free(&c->fb[i].fc);
            c->fb[i] = c->fb[--c->n_fb];
            break;
        }
        if (d.rc == HIST_OK && d.stored && c->hooks->retrain)
            retrain_note_feedback(c->hooks->retrain, d.stored);
    }
}

static void serve_request(control *c)
{
    envelope e;
    char word[REQUEST_MAX];
    zmq_msg_t payload;
    if (recv_request(c->sock, &e, word, sizeof word, &payload) < 0) {
        zmq_msg_close(&payload);
        return;
    }
    strbuf *sb = &c->sb;
    strbuf_reset(sb);
    log_debug("control: %.*s", (int)strcspn(word, " "), word);  /* the word, not a customer id */
    int answered = 0;  /* replied already, or to be replied later */
    if (strcmp(word, "ping") == 0) {
        strbuf_puts(sb, "pong");
    } else if (strcmp(word, "stats") == 0) {
        stats_json(c->stats, clock_wall_ms(), sb);
    } else if (strcmp(word, "info") == 0) {
        strbuf_printf(sb, "{\"pid\":%ld,\"data_dir\":", (long)getpid());
        strbuf_json_str(sb, c->data_dir, strlen(c->data_dir));
        strbuf_putc(sb, '}');
    } else if (strcmp(word, "reload") == 0) {
        answered = wait_for(&c->reloads, &e, reloader_request(c->hooks->reloader)) == 0;
        if (!answered)
            strbuf_puts(sb, "{\"ok\":false,\"error\":\"out of memory\"}");
    } else if (strcmp(word, "retrain") == 0 && c->hooks->retrain) {
        answered = wait_for(&c->retrains, &e, retrain_request(c->hooks->retrain)) == 0;
        if (!answered)
            strbuf_puts(sb, "{\"ok\":false,\"error\":\"out of memory\"}");
    } else if (strcmp(word, "feedback") == 0) {
        feedback(c, &e, &payload);
        answered = 1;
    } else if (strncmp(word, "replay ", 7) == 0) {
        replay(c->sock, &e, c->env, word + 7, c->stats);
        answered = 1;
    } else if (strncmp(word, "forget ", 7) == 0 || strcmp(word, "forget") == 0) {
        forget(c, &e, word[6] ? word + 7 : "");
        answered = 1;
    } else {
        strbuf_puts(sb, "{\"error\":\"unknown command; try ping, stats, info, reload, retrain, "
                    "feedback, replay FROM or forget CUSTOMER\"}");
    }
    zmq_msg_close(&payload);
    if (!answered)
        reply(c->sock, &e, sb->buf, sb->len);
}

/* The queues to the writer (inproc.h, forget.h). */
static void open_queues(control *c, void *zctx)
{
    int linger = 0;
    c->forget = zmq_socket(zctx, ZMQ_PAIR);
    c->fb_out = zmq_socket(zctx, ZMQ_PUSH);
    c->fb_done = zmq_socket(zctx, ZMQ_PULL);
    zmq_setsockopt(c->forget, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->fb_out, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->fb_done, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(c->forget, FORGET_ENDPOINT);
    if (zmq_connect(c->fb_out, FEEDBACK_ENDPOINT) < 0 || zmq_bind(c->fb_done, FEEDBACK_DONE_ENDPOINT) < 0)
        log_error("control: feedback queue: %s; feedback will not be answered",
                  zmq_strerror(zmq_errno()));
}

void control_serve(void *sock, daemon_stats *stats, hist_env *env, control_hooks *hooks)
{
    control *c = calloc(1, sizeof *c);
    if (!c) {
        log_error("control: out of memory");
        return;
    }
    *c = (control){.sock = sock, .stats = stats, .env = env, .hooks = hooks, .sb = STRBUF_INIT};
    if (!realpath(hooks->data_dir, c->data_dir))
        snprintf(c->data_dir, sizeof c->data_dir, "%s", hooks->data_dir);
    open_queues(c, hooks->zctx);
    while (!*hooks->stop) {
        if (*hooks->reload) {  /* SIGHUP: nobody waits for the outcome, the log has it */
            *hooks->reload = 0;
            reloader_request(hooks->reloader);
        }
        zmq_pollitem_t items[5] = {{sock, 0, ZMQ_POLLIN, 0},
                                   {NULL, reloader_fd(hooks->reloader), ZMQ_POLLIN, 0},
                                   {c->forget, 0, ZMQ_POLLIN, 0},
                                   {c->fb_done, 0, ZMQ_POLLIN, 0},
                                   {NULL, hooks->retrain ? retrain_fd(hooks->retrain) : -1,
                                    ZMQ_POLLIN, 0}};
        if (zmq_poll(items, hooks->retrain ? 5 : 4, 100) <= 0)
            continue;  /* timeout or EINTR: look at *stop again */
        if (items[1].revents & ZMQ_POLLIN)
            answer_waiters(sock, take_reload, hooks->reloader, &c->reloads, &c->sb);
        if (hooks->retrain && (items[4].revents & ZMQ_POLLIN))
            answer_waiters(sock, take_retrain, hooks->retrain, &c->retrains, &c->sb);
        if (items[2].revents & ZMQ_POLLIN)
            answer_forgets(c);
        if (items[3].revents & ZMQ_POLLIN)
            feedback_stored(c);
        if (items[0].revents & ZMQ_POLLIN)
            serve_request(c);
    }
    /* Clients still waiting time out on their side. */
    free(c->reloads.w);
    free(c->retrains.w);
    free(c->forgets.w);
    for (size_t i = 0; i < c->n_fb; i++)
        feedback_check_free(&c->fb[i].fc);
    free(c->fb);
    zmq_close(c->forget);
    zmq_close(c->fb_out);
    zmq_close(c->fb_done);
    strbuf_free(&c->sb);
    free(c);
}
