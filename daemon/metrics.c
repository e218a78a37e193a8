/* metrics — GET /metrics over libmicrohttpd; see metrics.h. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buildinfo.h"
#include "clock.h"
#include "health.h"
#include "labels.h"

/* stats and env are shared with the pipeline (atomics, and LMDB's own
 * locking); log is written by libmicrohttpd's logger and read only when
 * MHD_start_daemon failed, when no server thread runs: no lock. */
struct metrics_server {
    struct MHD_Daemon *mhd;
    daemon_stats      *stats;
    hist_env          *env;
    char               log[256];  /* libmicrohttpd's last message */
};

/* ---- the address -------------------------------------------------------- */

int metrics_enabled(const char *addr) { return addr && *addr && strcmp(addr, "off") != 0; }

/* "HOST:PORT" into a socket address; -1 with a message if malformed. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, int *ipv6, char *err,
                      size_t errlen)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    size_t hlen = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hlen >= sizeof host)
        goto bad;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 1 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof *ss);
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[n - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            goto bad;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *ipv6 = 1;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (strcmp(host, "localhost") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (strcmp(host, "*") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        goto bad;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *ipv6 = 0;
    return 0;
bad:
    snprintf(err, errlen,
             "metrics: '%s' is not HOST:PORT (e.g. 127.0.0.1:9560, [::1]:9560, *:9560; off = none)",
             addr);
    return -1;
}

int metrics_check_addr(const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int ipv6;
    return metrics_enabled(addr) ? parse_addr(addr, &ss, &ipv6, err, errlen) : 0;
}

/* ---- the exposition ----------------------------------------------------- */

static void head(strbuf *sb, const char *name, const char *type, const char *help)
{
    strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(strbuf *sb, const char *name, const char *type, const char *help, uint64_t v)
{
    head(sb, name, type, help);
    strbuf_printf(sb, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            strbuf_putc(sb, '\\');
        if (*s == '\n')
            strbuf_puts(sb, "\\n");
        else
            strbuf_putc(sb, *s);
    }
}

/* One histogram's series; label is a "name=\"value\"" pair for one member
 * of a family, or NULL. scale: the unit of the observations in the
 * exposition's unit (1e-6 for microseconds shown as seconds, 1 for counts). */
static void histogram_series(strbuf *sb, const char *name, const char *label, const stats_hist *h,
                             double scale)
{
    uint64_t cum[STATS_HIST_BUCKETS], sum;
    stats_hist_read(h, cum, &sum);
    const char *sep = label ? "," : "";
    label = label ? label : "";
    for (int i = 0; i < STATS_HIST_BUCKETS - 1; i++)
        strbuf_printf(sb, "%s_bucket{%s%sle=\"%.9g\"} %llu\n", name, label, sep,
                  (double)stats_hist_le(i) * scale, (unsigned long long)cum[i]);
    uint64_t count = cum[STATS_HIST_BUCKETS - 1];
    strbuf_printf(sb, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep, (unsigned long long)count);
    const char *open = *label ? "{" : "", *close = *label ? "}" : "";
    if (scale == 1.0)
        strbuf_printf(sb, "%s_sum%s%s%s %llu\n", name, open, label, close, (unsigned long long)sum);
    else
        strbuf_printf(sb, "%s_sum%s%s%s %.9g\n", name, open, label, close, (double)sum * scale);
    strbuf_printf(sb, "%s_count%s%s%s %llu\n", name, open, label, close, (unsigned long long)count);
}

static void histogram(strbuf *sb, const char *name, const char *help, const stats_hist *h, double scale)
{
    head(sb, name, "histogram", help);
    histogram_series(sb, name, NULL, h, scale);
}

void metrics_render(daemon_stats *s, hist_env *env, int64_t now_ms, strbuf *sb)
{
#define U(f) (uint64_t) STAT_GET(s->f)
    char rules[20] = "";
    uint64_t rh = health_rules_hash();
    if (rh)
        snprintf(rules, sizeof rules, "%016llx", (unsigned long long)rh);
    head(sb, "complaintd_build_info", "gauge",
         "Always 1; the labels say what runs: version, git commit, running rule pack and model "
         "(\"none\" until one is loaded).");
    strbuf_puts(sb, "complaintd_build_info{version=\"");
    label_value(sb, buildinfo_version());
    strbuf_puts(sb, "\",commit=\"");
    label_value(sb, buildinfo_commit());
    strbuf_printf(sb, "\",rules_hash=\"%s\",model_hash=\"none\"} 1\n", rules);
    one(sb, "complaintd_events_received_total", "counter",
        "Messages taken from the ingest socket.", U(received));
    one(sb, "complaintd_events_decided_total", "counter",
        "Events decided, committed and published (duplicates included, rejects not).", U(decided));
    one(sb, "complaintd_events_rejected_total", "counter",
        "Events rejected as bad input, committed and published on REJECT.", U(rejected));
    one(sb, "complaintd_events_duplicate_total", "counter",
        "Re-sent event_ids answered with their original decision.", U(duplicates));
    one(sb, "complaintd_published_total", "counter", "Messages sent on the PUB socket.", U(published));

    head(sb, "complaintd_decisions_total", "counter", "Decisions by action (rejects not included).");
    for (int a = 1; a < ACTION_COUNT; a++)
        strbuf_printf(sb, "complaintd_decisions_total{action=\"%s\"} %llu\n", action_name(a),
                  (unsigned long long)U(per_action[a]));
    head(sb, "complaintd_labels_total", "counter", "Decided events carrying each label.");
    for (int l = 1; l < LABEL_COUNT; l++)
        strbuf_printf(sb, "complaintd_labels_total{label=\"%s\"} %llu\n", label_name(l),
                  (unsigned long long)U(per_label[l]));

    one(sb, "complaintd_commits_total", "counter", "LMDB write transactions committed.", U(commits));
    one(sb, "complaintd_commit_failures_total", "counter",
        "LMDB commits or flushes to disk that failed (retried; intake or publishing pauses "
        "meanwhile).", U(commit_failures));

    head(sb, "complaintd_reloads_total", "counter",
         "Rule and policy reloads (command or SIGHUP) by outcome: ok (swapped in) or refused "
         "(the running pack and policy kept; the log says why).");
    strbuf_printf(sb, "complaintd_reloads_total{outcome=\"ok\"} %llu\n", (unsigned long long)U(reloads));
    strbuf_printf(sb, "complaintd_reloads_total{outcome=\"refused\"} %llu\n",
              (unsigned long long)U(reload_failures));

    head(sb, "complaintd_feedback_total", "counter",
         "Managers' reviews received on the control endpoint by outcome: stored, or rejected "
         "(invalid; the reply names the item and the problem).");
    strbuf_printf(sb, "complaintd_feedback_total{outcome=\"stored\"} %llu\n",
              (unsigned long long)U(feedback_stored));
    strbuf_printf(sb, "complaintd_feedback_total{outcome=\"rejected\"} %llu\n",
              (unsigned long long)U(feedback_rejected));
    head(sb, "complaintd_retrains_total", "counter",
         "Retrains of the local model from stored feedback by outcome: ok (swapped in), failed "
         "(the running models kept; the log says why) or skipped (too little feedback).");
    strbuf_printf(sb, "complaintd_retrains_total{outcome=\"ok\"} %llu\n", (unsigned long long)U(retrains));
    strbuf_printf(sb, "complaintd_retrains_total{outcome=\"failed\"} %llu\n",
              (unsigned long long)U(retrain_failures));
    strbuf_printf(sb, "complaintd_retrains_total{outcome=\"skipped\"} %llu\n",
              (unsigned long long)U(retrain_skipped));

    one(sb, "complaintd_span_misses_total", "counter",
        "Fired rules reported without their span because it was not found.", U(span_misses));
    one(sb, "complaintd_events_in_flight", "gauge",
        "Events received and not yet decided or rejected (queued or held for a commit).",
        stats_in_flight(s));
    one(sb, "complaintd_writer_held_events", "gauge",
        "Events held by the writer thread: in the group waiting for its commit, or come "
        "before their turn.", U(writer_held));
    one(sb, "complaintd_last_seq", "gauge", "Seq of the last decision published.", U(last_seq));
    head(sb, "complaintd_start_time_seconds", "gauge", "When the daemon started, seconds since the epoch.");
    strbuf_printf(sb, "complaintd_start_time_seconds %lld\n", (long long)(s->started_ms / 1000));
    head(sb, "complaintd_uptime_seconds", "gauge", "Seconds since the daemon started.");
    strbuf_printf(sb, "complaintd_uptime_seconds %.3f\n", (double)(now_ms - s->started_ms) / 1000.0);

    uint64_t used, size;
    if (env && hist_map_use(env, &used, &size) == HIST_OK) {
        one(sb, "complaintd_lmdb_map_used_bytes", "gauge",
            "Bytes of the LMDB map in use (pages up to the last written).", used);
        one(sb, "complaintd_lmdb_map_size_bytes", "gauge", "Size of the LMDB map (map_size_mb).", size);
    }

    histogram(sb, "complaintd_event_scan_seconds",
              "Worker time per event: decode, validate, normalise and scan.", &s->h_scan_us, 1e-6);
    histogram(sb, "complaintd_commit_seconds", "Time in the LMDB commit of one group of events.",
              &s->h_commit_us, 1e-6);
    histogram(sb, "complaintd_sync_seconds",
              "Time the publisher spends making committed groups durable before it sends them.",
              &s->h_sync_us, 1e-6);
    histogram(sb, "complaintd_event_latency_seconds",
              "From an event's receipt by the ingest thread to its publication.", &s->h_latency_us,
              1e-6);
    histogram(sb, "complaintd_commit_batch_events", "Events in one group commit.", &s->h_batch_events,
              1.0);
    head(sb, "complaintd_event_stage_seconds", "histogram",
         "An event's latency cut at the hand-offs: receipt to labelled by its worker, to its "
         "group's commit, to its publication. The three add up to "
         "complaintd_event_latency_seconds.");
    for (int i = 0; i < STATS_STAGES; i++) {
        char label[64];
        snprintf(label, sizeof label, "stage=\"%s\"", stats_latency_names[1 + i]);
        histogram_series(sb, "complaintd_event_stage_seconds", label, &s->h_stage_us[i], 1e-6);
    }

    const char **ids;
    uint64_t *hits;
    size_t n = stats_rules_snapshot(&s->rules, &ids, &hits);
    if (n) {
        head(sb, "complaintd_rule_hits_total", "counter",
             "Events in which each rule of the running pack fired (kept across reloads).");
        for (size_t i = 0; i < n; i++) {
            strbuf_puts(sb, "complaintd_rule_hits_total{rule=\"");
            label_value(sb, ids[i]);
            strbuf_printf(sb, "\"} %llu\n", (unsigned long long)hits[i]);
        }
    }
    free(ids);
    free(hits);
#undef U
}

/* ---- the HTTP server ---------------------------------------------------- */

#define NOT_FOUND "not found; try /metrics, /healthz or /readyz\n"

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
                               const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    metrics_server *m = cls;
    const char *text = "text/plain; charset=utf-8";
    int probe = strcmp(url, "/healthz") == 0 ? 1 : strcmp(url, "/readyz") == 0 ? 2 : 0;
    if (strcmp(url, "/metrics") != 0 && !probe)
        return respond(conn, MHD_HTTP_NOT_FOUND,
                       strdup(NOT_FOUND), strlen(NOT_FOUND), text);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        *upload_data_size = 0;  /* a body, if any, is ignored */
        return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET or HEAD\n"), 12, text);
    }
    if (probe) {  /* 200 or 503, with the reasons in the body (health.h) */
        strbuf rep = STRBUF_INIT, pb = STRBUF_INIT;
        int ok = probe == 1 ? health_alive(health_now_ms(), &rep) : health_ready(&rep);
        if (probe == 1)
            strbuf_puts(&pb, ok ? "alive\n" : "not alive: a pipeline thread makes no progress\n");
        if (rep.len)
            strbuf_puts(&pb, rep.buf);
        strbuf_free(&rep);
        size_t plen = pb.len;
        char *pbody = strbuf_take(&pb);
        if (!pbody)
            return MHD_NO;
        return respond(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, pbody, plen, text);
    }
    strbuf sb = STRBUF_INIT;
    metrics_render(m->stats, m->env, clock_wall_ms(), &sb);
    size_t len = sb.len;
    char *body = strbuf_take(&sb);
    if (!body)
        return MHD_NO;
    return respond(conn, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* libmicrohttpd's messages: kept for the start-up error; later ones (a
 * client that went away) are only the client's problem. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    metrics_server *m = cls;
    vsnprintf(m->log, sizeof m->log, fmt, ap);
    size_t n = strlen(m->log);
    while (n && (m->log[n - 1] == '\n' || m->log[n - 1] == '.'))
        m->log[--n] = '\0';
}

metrics_server *metrics_start(const char *addr, daemon_stats *stats, hist_env *env, char *err,
                              size_t errlen)
{
    struct sockaddr_storage ss;
    int ipv6;
    if (parse_addr(addr, &ss, &ipv6, err, errlen) < 0)
        return NULL;
    metrics_server *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "metrics: out of memory");
        return NULL;
    }
    m->stats = stats;
    m->env = env;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    errno = 0;
    m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_EXTERNAL_LOGGER, on_log, m,
                              MHD_OPTION_CONNECTION_LIMIT, 32u,
                              MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                              MHD_OPTION_END);
    if (!m->mhd) {
        int e = errno;
        snprintf(err, errlen, "metrics: cannot serve HTTP on %s: %s", addr,
                 m->log[0] ? m->log : e ? strerror(e) : "libmicrohttpd failed to start");
        free(m);
        return NULL;
    }
    return m;
}

void metrics_stop(metrics_server *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->mhd);
    free(m);
}
