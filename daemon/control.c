/* control — the REP endpoint and the stats JSON; see control.h. */
#include "control.h"

#include <errno.h>
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
              "\"commit_us_total\":%llu,\"last_seq\":%llu",
              (long long)(now_ms - s->started_ms), U(received), U(decided), U(rejected),
              U(duplicates), U(published), U(commits), U(commit_failures), U(commit_us),
              U(last_seq));
    sb_puts(sb, ",\"actions\":{");
    for (int a = 1; a < ACTION_COUNT; a++)
        sb_printf(sb, "%s\"%s\":%llu", a > 1 ? "," : "", action_name(a), U(per_action[a]));
    sb_puts(sb, "},\"labels\":{");
    for (int l = 1; l < LABEL_COUNT; l++)
        sb_printf(sb, "%s\"%s\":%llu", l > 1 ? "," : "", label_name(l), U(per_label[l]));
    sb_puts(sb, "}}");
#undef U
}

static void reply(void *rep, const char *s, size_t n) { zmq_send(rep, s, n, 0); }

void control_serve(void *rep, daemon_stats *stats, volatile sig_atomic_t *stop)
{
    strbuf sb = STRBUF_INIT;
    while (!*stop) {
        zmq_pollitem_t item = {rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;  /* timeout or EINTR: look at *stop again */
        char word[64];
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
        } else {
            sb_puts(&sb, "{\"error\":\"unknown command; try ping or stats\"}");
        }
        reply(rep, sb.buf, sb.len);
    }
    sb_free(&sb);
}
