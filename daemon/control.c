/* control — the REP endpoint and the stats JSON; see control.h. */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"

void stats_json(const daemon_stats *s, int64_t now_ms, strbuf *sb)
{
#define U(f) (unsigned long long)STAT_GET(s->f)
    sb_printf(sb,
              "{\"uptime_ms\":%lld,\"received\":%llu,\"decided\":%llu,\"rejected\":%llu,"
              "\"duplicates\":%llu,\"published\":%llu,\"commits\":%llu,\"commit_failures\":%llu,"
              "\"commit_us_total\":%llu,\"sync_us_total\":%llu,\"last_seq\":%llu",
              (long long)(now_ms - s->started_ms), U(received), U(decided), U(rejected),
              U(duplicates), U(published), U(commits), U(commit_failures), U(commit_us),
              U(sync_us), U(last_seq));
    sb_puts(sb, ",\"actions\":{");
    for (int a = 1; a < ACTION_COUNT; a++)
        sb_printf(sb, "%s\"%s\":%llu", a > 1 ? "," : "", action_name(a), U(per_action[a]));
    sb_puts(sb, "},\"labels\":{");
    for (int l = 1; l < LABEL_COUNT; l++)
        sb_printf(sb, "%s\"%s\":%llu", l > 1 ? "," : "", label_name(l), U(per_label[l]));
    sb_puts(sb, "}}");
#undef U
}

typedef struct replay_ctx {
    void    *rep;
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
static void replay(void *rep, hist_env *env, const char *args, daemon_stats *stats)
{
    unsigned long long from = 0;
    int max = REPLAY_MAX;
    if (sscanf(args, "%llu %d", &from, &max) < 1 || from == 0) {
        const char *e = "{\"error\":\"usage: replay FROM [MAX], FROM >= 1\"}";
        zmq_send(rep, e, strlen(e), 0);
        return;
    }
    replay_ctx *r = calloc(1, sizeof *r);
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
        zmq_send(rep, head.buf, head.len, 0);
    } else {
        unsigned long long last = (unsigned long long)r->upto;
        sb_printf(&head, "{\"from\":%llu,\"count\":%d,\"next\":%llu,\"last_seq\":%llu}",
                  r->count ? (unsigned long long)r->first : from, r->count,
                  r->count ? (unsigned long long)r->last + 1 : from, last);
        zmq_send(rep, head.buf, head.len, r->count ? ZMQ_SNDMORE : 0);
        for (int i = 0; i < r->count; i++)
            zmq_send(rep, r->frames.buf + r->off[i], r->off[i + 1] - r->off[i],
                     i + 1 < r->count ? ZMQ_SNDMORE : 0);
    }
    sb_free(&head);
    sb_free(&r->frames);
    free(r);
}

static void reply(void *rep, const char *s, size_t n) { zmq_send(rep, s, n, 0); }

void control_serve(void *rep, daemon_stats *stats, hist_env *env, control_hooks *hooks)
{
    strbuf sb = STRBUF_INIT;
    while (!*hooks->stop) {
        if (*hooks->reload) {
            *hooks->reload = 0;
            sb_reset(&sb);
            hooks->do_reload(hooks->ctx, &sb);  /* the outcome is logged */
        }
        zmq_pollitem_t item = {rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;  /* timeout or EINTR: look at *stop again */
        char word[128];
        int n = zmq_recv(rep, word, sizeof word - 1, ZMQ_DONTWAIT);
        if (n < 0)
            continue;
        word[n < (int)sizeof word - 1 ? n : (int)sizeof word - 1] = '\0';
        int more = 0;
        size_t sz = sizeof more;
        while (zmq_getsockopt(rep, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
            char skip[16];
            zmq_recv(rep, skip, sizeof skip, 0);  /* extra frames are ignored */
        }
        sb_reset(&sb);
        if (strcmp(word, "ping") == 0) {
            sb_puts(&sb, "pong");
        } else if (strcmp(word, "stats") == 0) {
            stats_json(stats, clock_wall_ms(), &sb);
        } else if (strcmp(word, "reload") == 0) {
            hooks->do_reload(hooks->ctx, &sb);
        } else if (strncmp(word, "replay ", 7) == 0) {
            replay(rep, env, word + 7, stats);
            continue;
        } else {
            sb_puts(&sb, "{\"error\":\"unknown command; try ping, stats, reload or replay FROM\"}");
        }
        reply(rep, sb.buf, sb.len);
    }
    sb_free(&sb);
}
