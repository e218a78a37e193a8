/* control — the control endpoint and the stats JSON; see control.h. */
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
#include "forget.h"
#include "grow.h"
#include "log.h"

void stats_json(const daemon_stats *s, int64_t now_ms, strbuf *sb)
{
#define U(f) (unsigned long long)STAT_GET(s->f)
    sb_printf(sb,
              "{\"uptime_ms\":%lld,\"received\":%llu,\"decided\":%llu,\"rejected\":%llu,"
              "\"duplicates\":%llu,\"published\":%llu,\"commits\":%llu,\"commit_failures\":%llu,"
              "\"commit_us_total\":%llu,\"sync_us_total\":%llu,\"last_seq\":%llu,"
              "\"reloads\":%llu,\"reload_failures\":%llu",
              (long long)(now_ms - s->started_ms), U(received), U(decided), U(rejected),
              U(duplicates), U(published), U(commits), U(commit_failures), U(commit_us),
              U(sync_us), U(last_seq), U(reloads), U(reload_failures));
    sb_printf(sb, ",\"span_misses\":%llu", U(span_misses));
    if (s->cluster_partitions) {  /* a cluster node: which partitions it holds now */
        sb_printf(sb, ",\"cluster\":{\"takeovers\":%llu,\"handovers\":%llu,\"snapshots\":%llu,"
                      "\"partitions\":[", U(takeovers), U(handovers), U(snapshots));
        for (int p = 0, n = 0; p < s->cluster_partitions && p < 1024; p++)
            if (atomic_load(&s->partitions_owned[p / 64]) & (1ull << (p % 64)))
                sb_printf(sb, "%s%d", n++ ? "," : "", p);
        sb_puts(sb, "]}");
    }
    sb_puts(sb, ",\"actions\":{");
    for (int a = 1; a < ACTION_COUNT; a++)
        sb_printf(sb, "%s\"%s\":%llu", a > 1 ? "," : "", action_name(a), U(per_action[a]));
    sb_puts(sb, "},\"labels\":{");
    for (int l = 1; l < LABEL_COUNT; l++)
        sb_printf(sb, "%s\"%s\":%llu", l > 1 ? "," : "", label_name(l), U(per_label[l]));
    /* The latency histograms' counts, bucket i holding values <= 2^i us
     * (the last one everything above), not cumulative: complaintctl stats
     * --watch takes percentiles of what changed between two replies. */
    const stats_hist *hists[1 + STATS_STAGES] = {&s->h_latency_us, &s->h_stage_us[STAGE_LABELLED],
                                                 &s->h_stage_us[STAGE_COMMITTED],
                                                 &s->h_stage_us[STAGE_PUBLISHED]};
    for (int k = 0; k < 1 + STATS_STAGES; k++) {
        sb_printf(sb, k ? "],\"%s\":[" : "},\"latency_us_buckets\":{\"%s\":[", stats_latency_names[k]);
        for (int i = 0; i < STATS_HIST_BUCKETS; i++)
            sb_printf(sb, "%s%llu", i ? "," : "",
                      (unsigned long long)atomic_load_explicit(&hists[k]->bucket[i], memory_order_relaxed));
    }
    sb_puts(sb, "]}}");
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
 * at cap - 1 bytes). Returns 0, or -1 if there was none or it was malformed. */
static int recv_request(void *sock, envelope *e, char *word, size_t cap)
{
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
    sb_append(&r->frames, bytes, len);
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
        sb_printf(&head, "{\"error\":\"decision log: %s\"}", hist_last_error(env));
        reply(sock, e, head.buf, head.len);
    } else {
        unsigned long long last = (unsigned long long)r->upto;
        sb_printf(&head, "{\"from\":%llu,\"count\":%d,\"next\":%llu,\"last_seq\":%llu}",
                  r->count ? (unsigned long long)r->first : from, r->count,
                  r->count ? (unsigned long long)r->last + 1 : from, last);
        send_envelope(sock, e);
        zmq_send(sock, head.buf, head.len, r->count ? ZMQ_SNDMORE : 0);
        for (int i = 0; i < r->count; i++)
            zmq_send(sock, r->frames.buf + r->off[i], r->off[i + 1] - r->off[i],
                     i + 1 < r->count ? ZMQ_SNDMORE : 0);
    }
    sb_free(&head);
    sb_free(&r->frames);
    free(r);
}

/* The clients waiting for a reload, each with the ticket of its request. */
typedef struct reload_waiter {
    envelope e;
    uint64_t ticket;
} reload_waiter;

typedef struct waiters {
    reload_waiter *w;
    size_t         n, cap;
    uint64_t       served;  /* the last ticket reloader_take reported */
} waiters;

/* Reloads have ended: answer each waiter with the outcome of the first
 * reload that started after its request. */
static void answer_waiters(void *sock, reloader *rl, waiters *ws, strbuf *sb)
{
    while (reloader_take(rl, &ws->served, sb)) {
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

/* What serve_request needs besides the request. */
typedef struct control_state {
    daemon_stats *stats;
    hist_env     *env;
    reloader     *rl;
    waiters       reloads;     /* waiting for a reload's outcome */
    waiters       forgets;     /* waiting for the writer's forget (served = tickets handed out) */
    void         *forget;      /* PAIR to the writer (forget.h) */
    char          data_dir[PATH_MAX];  /* absolute, for "info" */
} control_state;

static int add_waiter(waiters *ws, const envelope *e, uint64_t ticket)
{
    reload_waiter *grown = grow_array(ws->w, &ws->cap, ws->n + 1, sizeof *ws->w, 4);
    if (!grown)
        return -1;
    ws->w = grown;
    ws->w[ws->n++] = (reload_waiter){*e, ticket};
    return 0;
}

/* "forget CUSTOMER": handed to the writer, answered when it is done
 * (answer_forgets). The id is the rest of the frame, spaces and all. */
static void forget(void *sock, const envelope *e, control_state *cs, const char *id, strbuf *sb)
{
    /* The request frame is cut at REQUEST_MAX - 1 bytes: an id that fills
     * it may have been cut, and is refused rather than half-matched. */
    if (!*id || strlen(id) >= REQUEST_MAX - 1 - 7) {
        sb_printf(sb, "{\"error\":\"usage: forget CUSTOMER_ID (1 to %d bytes)\"}", REQUEST_MAX - 2 - 7);
        reply(sock, e, sb->buf, sb->len);
        return;
    }
    uint64_t ticket = cs->forgets.served + 1;
    if (add_waiter(&cs->forgets, e, ticket) < 0 ||
        zmq_send(cs->forget, &ticket, sizeof ticket, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(cs->forget, id, strlen(id), ZMQ_DONTWAIT) < 0) {
        if (cs->forgets.n && cs->forgets.w[cs->forgets.n - 1].ticket == ticket)
            cs->forgets.n--;
        sb_puts(sb, "{\"error\":\"the writer cannot take the request now; try again\"}");
        reply(sock, e, sb->buf, sb->len);
        return;
    }
    cs->forgets.served = ticket;
    log_debug("control: forget handed to the writer (ticket %llu)", (unsigned long long)ticket);
}

/* The writer's answers: [ticket][JSON], each to the client that asked. */
static void answer_forgets(void *sock, control_state *cs)
{
    for (;;) {
        uint64_t ticket = 0;
        zmq_msg_t body;
        if (zmq_recv(cs->forget, &ticket, sizeof ticket, ZMQ_DONTWAIT) < 0)
            return;
        zmq_msg_init(&body);
        zmq_msg_recv(&body, cs->forget, 0);
        size_t kept = 0;
        for (size_t i = 0; i < cs->forgets.n; i++) {
            if (cs->forgets.w[i].ticket == ticket)
                reply(sock, &cs->forgets.w[i].e, zmq_msg_data(&body), zmq_msg_size(&body));
            else
                cs->forgets.w[kept++] = cs->forgets.w[i];
        }
        cs->forgets.n = kept;
        zmq_msg_close(&body);
    }
}

static void serve_request(void *sock, control_state *cs, strbuf *sb)
{
    daemon_stats *stats = cs->stats;
    envelope e;
    char word[REQUEST_MAX];
    if (recv_request(sock, &e, word, sizeof word) < 0)
        return;
    sb_reset(sb);
    log_debug("control: %.*s", (int)strcspn(word, " "), word);  /* the word, not a customer id */
    if (strcmp(word, "ping") == 0) {
        sb_puts(sb, "pong");
    } else if (strcmp(word, "stats") == 0) {
        stats_json(stats, clock_wall_ms(), sb);
    } else if (strcmp(word, "info") == 0) {
        sb_printf(sb, "{\"pid\":%ld,\"data_dir\":", (long)getpid());
        sb_json_str(sb, cs->data_dir, strlen(cs->data_dir));
        sb_putc(sb, '}');
    } else if (strcmp(word, "reload") == 0) {
        if (add_waiter(&cs->reloads, &e, reloader_request(cs->rl)) == 0)
            return;  /* answered when the reload ends */
        sb_puts(sb, "{\"ok\":false,\"error\":\"out of memory\"}");
    } else if (strncmp(word, "replay ", 7) == 0) {
        replay(sock, &e, cs->env, word + 7, stats);
        return;
    } else if (strncmp(word, "forget ", 7) == 0 || strcmp(word, "forget") == 0) {
        forget(sock, &e, cs, word[6] ? word + 7 : "", sb);
        return;
    } else {
        sb_puts(sb, "{\"error\":\"unknown command; try ping, stats, info, reload, replay FROM or forget CUSTOMER\"}");
    }
    reply(sock, &e, sb->buf, sb->len);
}

void control_serve(void *sock, daemon_stats *stats, hist_env *env, control_hooks *hooks)
{
    strbuf sb = STRBUF_INIT;
    control_state *cs = calloc(1, sizeof *cs);
    if (!cs) {
        log_error("control: out of memory");
        return;
    }
    cs->stats = stats;
    cs->env = env;
    cs->rl = hooks->reloader;
    if (!realpath(hooks->data_dir, cs->data_dir))
        snprintf(cs->data_dir, sizeof cs->data_dir, "%s", hooks->data_dir);
    cs->forget = zmq_socket(hooks->zctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(cs->forget, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(cs->forget, FORGET_ENDPOINT);
    while (!*hooks->stop) {
        if (*hooks->reload) {  /* SIGHUP: nobody waits for the outcome, the log has it */
            *hooks->reload = 0;
            reloader_request(hooks->reloader);
        }
        zmq_pollitem_t items[3] = {{sock, 0, ZMQ_POLLIN, 0},
                                   {NULL, reloader_fd(hooks->reloader), ZMQ_POLLIN, 0},
                                   {cs->forget, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, 100) <= 0)
            continue;  /* timeout or EINTR: look at *stop again */
        if (items[1].revents & ZMQ_POLLIN)
            answer_waiters(sock, hooks->reloader, &cs->reloads, &sb);
        if (items[2].revents & ZMQ_POLLIN)
            answer_forgets(sock, cs);
        if (items[0].revents & ZMQ_POLLIN)
            serve_request(sock, cs, &sb);
    }
    zmq_close(cs->forget);
    free(cs->reloads.w);  /* clients still waiting time out on their side */
    free(cs->forgets.w);
    free(cs);
    sb_free(&sb);
}
