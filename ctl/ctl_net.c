/*
 * complaintctl send, tail, stats, ping: talk to a running complaintd over its
 * ZeroMQ endpoints.
 */
#define _GNU_SOURCE  /* memmem */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "config.h"
#include "ctl.h"

typedef struct net_opts {
    config cfg;          /* endpoints default to the daemon's defaults */
    const char *action;  /* tail: topic filter */
    unsigned long long from;  /* tail: replay from this seq first (0 = live only) */
    int  acked;          /* send: over the acknowledged endpoint */
    long window;         /* send --acked: events in flight */
    int  retry_ms;       /* send --acked: re-send after this long without an ack */
    long rate;           /* send --acked: events per second at most (0 = as fast as acks allow) */
    const char *curve_server_key;  /* the daemon's public key (Z85) */
    const char *curve_key_file;    /* this client's key pair */
    long count;          /* tail: stop after this many (0 = never) */
    int  timeout_ms;     /* tail/stats: give up after this long idle (-1 = never) */
    int  first_arg;      /* index of the first positional argument */
} net_opts;

static int parse_net_opts(int argc, char **argv, net_opts *o)
{
    static const struct option opts[] = {{"ingest", required_argument, 0, 'i'},
                                         {"publish", required_argument, 0, 'p'},
                                         {"control", required_argument, 0, 'c'},
                                         {"config", required_argument, 0, 'f'},
                                         {"action", required_argument, 0, 'a'},
                                         {"count", required_argument, 0, 'n'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"from", required_argument, 0, 'F'},
                                         {"acked", no_argument, 0, 'A'},
                                         {"ingest-acked", required_argument, 0, 'I'},
                                         {"window", required_argument, 0, 'W'},
                                         {"retry-ms", required_argument, 0, 'R'},
                                         {"rate", required_argument, 0, 'r'},
                                         {"curve-server-key", required_argument, 0, 'S'},
                                         {"curve-key-file", required_argument, 0, 'K'},
                                         {0, 0, 0, 0}};
    char err[1024];
    config_defaults(&o->cfg);
    o->action = "";
    o->count = 0;
    o->timeout_ms = -1;
    o->from = 0;
    o->acked = 0;
    o->window = 1000;
    o->retry_ms = 2000;
    o->rate = 0;
    o->curve_server_key = o->curve_key_file = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (c) {
        case 'i': key = "ingest"; break;
        case 'p': key = "publish"; break;
        case 'c': key = "control"; break;
        case 'f':
            if (config_load_file(&o->cfg, optarg, err, sizeof err) < 0) {
                fprintf(stderr, "complaintctl: %s\n", err);
                return -1;
            }
            break;
        case 'a': o->action = optarg; break;
        case 'n': o->count = atol(optarg); break;
        case 't': o->timeout_ms = atoi(optarg); break;
        case 'F': o->from = strtoull(optarg, NULL, 10); break;
        case 'A': o->acked = 1; break;
        case 'I': key = "ingest_acked"; break;
        case 'W': o->window = atol(optarg); break;
        case 'R': o->retry_ms = atoi(optarg); break;
        case 'r': o->rate = atol(optarg); break;
        case 'S': o->curve_server_key = optarg; break;
        case 'K': o->curve_key_file = optarg; break;
        default: return -1;
        }
        if (key && config_set(&o->cfg, key, optarg, err, sizeof err) < 0) {
            fprintf(stderr, "complaintctl: %s\n", err);
            return -1;
        }
    }
    o->first_arg = optind;
    return 0;
}

typedef struct send_run {
    void *push;
    long  sent;
} send_run;

static int send_one(event_msg *ev, const char *input, long lineno, void *arg)
{
    (void)input;
    (void)lineno;
    send_run *r = arg;
    size_t len = complaint__v1__complaint_event__get_packed_size(ev);
    uint8_t *buf = malloc(len ? len : 1);
    complaint__v1__complaint_event__pack(ev, buf);
    /* Blocks at the high-water mark: the daemon's backpressure. */
    int rc = zmq_send(r->push, buf, len, 0);
    free(buf);
    if (rc < 0) {
        fprintf(stderr, "complaintctl: send: %s\n", zmq_strerror(zmq_errno()));
        return CTL_FAIL;
    }
    r->sent++;
    return 0;
}

int cmd_send(int argc, char **argv)
{
    net_opts o;
    if (parse_net_opts(argc, argv, &o) < 0)
        return CTL_USAGE;
    const char *input = o.first_arg < argc ? argv[o.first_arg] : "-";
    FILE *in = ctl_open_input(input);
    if (!in)
        return CTL_FAIL;
    if (o.acked) {
        if (o.window < 1 || o.retry_ms < 1) {
            fprintf(stderr, "complaintctl: --window and --retry-ms must be positive\n");
            return CTL_USAGE;
        }
        int rc = ctl_send_acked(o.cfg.ingest_acked, in, input, o.window, o.retry_ms,
                                o.timeout_ms >= 0 ? o.timeout_ms : 120000, o.rate, o.curve_server_key,
                                o.curve_key_file);
        if (in != stdin)
            fclose(in);
        return rc;
    }
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 10000;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    if (ctl_apply_curve(push, o.curve_server_key, o.curve_key_file) < 0 ||
        zmq_connect(push, o.cfg.ingest) < 0) {
        fprintf(stderr, "complaintctl: connect %s: %s\n", o.cfg.ingest, zmq_strerror(zmq_errno()));
        zmq_close(push);
        zmq_ctx_term(ctx);
        return CTL_USAGE;
    }
    send_run run = {push, 0};
    int status = ctl_each_event(in, input, send_one, &run);
    long sent = run.sent;
    fprintf(stderr, "complaintctl: sent %ld events\n", sent);
    if (in != stdin)
        fclose(in);
    zmq_close(push);
    zmq_ctx_term(ctx);  /* waits (up to the linger) until queued events are delivered */
    return status;
}

/* tail's state: what was printed, so replay and live never print twice. */
typedef struct tail_state {
    net_opts *o;
    void     *req;          /* control socket, for replay (NULL without --from) */
    uint64_t  next;         /* the next seq to print; 0 = not tracking */
    long      printed;
    strbuf    sb;
} tail_state;

static int tail_done(const tail_state *t) { return t->o->count && t->printed >= t->o->count; }

/* Print one decision if it passes the action filter; tracks the seq. */
static void tail_print(tail_state *t, const decision_msg *m)
{
    if (t->next && m->seq >= t->next)
        t->next = m->seq + 1;
    const char *topic = action_name((int)m->action);
    if (!tail_done(t) && strncmp(topic, t->o->action, strlen(t->o->action)) == 0) {
        strbuf_reset(&t->sb);
        codec_decision_json(&t->sb, m);
        printf("%s\n", t->sb.buf);
        fflush(stdout);
        t->printed++;
    }
}

/* A decision from the wire, or NULL after saying it does not decode. */
static decision_msg *decode_decision(zmq_msg_t *frame)
{
    decision_msg *m =
        complaint__v1__triage_decision__unpack(NULL, zmq_msg_size(frame), zmq_msg_data(frame));
    if (!m)
        fprintf(stderr, "complaintctl: a decision does not decode\n");
    return m;
}

/* Ask the control endpoint for decisions from t->next until caught up or
 * until `until` (exclusive, 0 = no bound). Returns -1 if the daemon does
 * not answer. */
static int tail_replay(tail_state *t, uint64_t until)
{
    while (!tail_done(t) && (!until || t->next < until)) {
        char req[64];
        int n = snprintf(req, sizeof req, "replay %llu", (unsigned long long)t->next);
        if (zmq_send(t->req, req, (size_t)n, 0) < 0)
            return -1;
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, t->req, 0) < 0) {
            zmq_msg_close(&frame);
            fprintf(stderr, "complaintctl: no replay answer from %s\n", t->o->cfg.control);
            return -1;
        }
        unsigned long long from = 0, next = 0;
        int count = 0;
        const char *head = zmq_msg_data(&frame);
        if (sscanf(head, "{\"from\":%llu,\"count\":%d,\"next\":%llu", &from, &count, &next) != 3) {
            fprintf(stderr, "complaintctl: replay: %.*s\n", (int)zmq_msg_size(&frame), head);
            zmq_msg_close(&frame);
            return -1;
        }
        if (from > t->next)
            fprintf(stderr, "complaintctl: decisions %llu..%llu are no longer in the log\n",
                    (unsigned long long)t->next, from - 1);
        while (zmq_msg_more(&frame)) {
            zmq_msg_close(&frame);
            zmq_msg_init(&frame);
            zmq_msg_recv(&frame, t->req, 0);
            decision_msg *m = decode_decision(&frame);
            if (m && (!until || m->seq < until))
                tail_print(t, m);
            if (m)
                complaint__v1__triage_decision__free_unpacked(m, NULL);
        }
        zmq_msg_close(&frame);
        if (count == 0)
            break;  /* caught up with what is committed */
        t->next = next > t->next ? next : t->next;
    }
    return 0;
}

int cmd_tail(int argc, char **argv)
{
    net_opts o;
    if (parse_net_opts(argc, argv, &o) < 0)
        return CTL_USAGE;
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    if (ctl_apply_curve(sub, o.curve_server_key, o.curve_key_file) < 0) {
        zmq_close(sub);
        zmq_ctx_term(ctx);
        return CTL_USAGE;
    }
    /* With --from every topic is needed to see gaps in seq; filter here. */
    const char *filter = o.from ? "" : o.action;
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, filter, strlen(filter));
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &o.timeout_ms, sizeof o.timeout_ms);
    if (zmq_connect(sub, o.cfg.publish) < 0) {
        fprintf(stderr, "complaintctl: connect %s: %s\n", o.cfg.publish, zmq_strerror(zmq_errno()));
        zmq_close(sub);
        zmq_ctx_term(ctx);
        return CTL_USAGE;
    }
    tail_state t = {.o = &o, .next = o.from, .sb = STRBUF_INIT};
    int status = 0;
    if (o.from) {
        /* Subscribed first, then replay: whatever is published meanwhile is
         * either in the replay or arrives live, and seq tells them apart. */
        int timeout = 5000, linger = 0;
        t.req = zmq_socket(ctx, ZMQ_REQ);
        ctl_apply_curve(t.req, o.curve_server_key, o.curve_key_file);  /* checked above */
        zmq_setsockopt(t.req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt(t.req, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(t.req, o.cfg.control) < 0 || tail_replay(&t, 0) < 0)
            status = CTL_FAIL;
    }
    while (status == 0 && !tail_done(&t)) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&topic, sub, 0) < 0) {
            zmq_msg_close(&topic);
            zmq_msg_close(&body);
            if (zmq_errno() == EAGAIN)
                status = o.count ? CTL_FAIL : 0;  /* asked for N and saw fewer */
            break;
        }
        if (zmq_msg_more(&topic) && zmq_msg_recv(&body, sub, 0) >= 0) {
            decision_msg *m = decode_decision(&body);
            if (m) {
                if (t.next && !m->duplicate && m->seq > t.next && tail_replay(&t, m->seq) < 0)
                    status = CTL_FAIL;  /* a gap: PUB dropped messages; fetch them */
                if (!t.next || m->duplicate || m->seq >= t.next)
                    tail_print(&t, m);
                complaint__v1__triage_decision__free_unpacked(m, NULL);
            }
        }
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
    }
    strbuf_free(&t.sb);
    if (t.req)
        zmq_close(t.req);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return status;
}

/* Send one word to the control endpoint and print the reply. */
static int control_request(net_opts *o, const char *word)
{
    void *ctx = zmq_ctx_new();
    void *req = zmq_socket(ctx, ZMQ_REQ);
    if (ctl_apply_curve(req, o->curve_server_key, o->curve_key_file) < 0) {
        zmq_close(req);
        zmq_ctx_term(ctx);
        return CTL_USAGE;
    }
    /* A reload may compile the pack, a retrain fit a model: give them time. */
    int timeout = o->timeout_ms >= 0 ? o->timeout_ms
                  : strcmp(word, "reload") == 0 || strcmp(word, "retrain") == 0 ? 120000 : 3000;
    int linger = 0;
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    int status = CTL_FAIL;
    if (zmq_connect(req, o->cfg.control) < 0) {
        fprintf(stderr, "complaintctl: connect %s: %s\n", o->cfg.control, zmq_strerror(zmq_errno()));
        status = CTL_USAGE;
    } else if (zmq_send(req, word, strlen(word), 0) >= 0) {
        zmq_msg_t reply;
        zmq_msg_init(&reply);
        if (zmq_msg_recv(&reply, req, 0) >= 0) {
            const char *text = zmq_msg_data(&reply);
            size_t len = zmq_msg_size(&reply);
            printf("%.*s\n", (int)len, text);
            /* Say it where a person looks: the names, without the JSON. */
            const char *rn = memmem(text, len, "\"restart_needed\":[\"", 19);
            if (rn) {
                fprintf(stderr, "complaintctl: reloaded, but these keys changed and need a restart: ");
                for (const char *c = rn + 18; c < text + len && *c != ']'; c++)
                    if (*c != '"')
                        fputc(*c == ',' ? ' ' : *c, stderr);
                fputc('\n', stderr);
            }
            /* A refused reload or an unknown command is a failure for scripts. */
            status = (memmem(text, len, "\"ok\":false", 10) || memmem(text, len, "\"error\"", 7))
                         ? CTL_FAIL : 0;
        } else {
            fprintf(stderr, "complaintctl: no answer from %s within %d ms\n", o->cfg.control, timeout);
        }
        zmq_msg_close(&reply);
    }
    zmq_close(req);
    zmq_ctx_term(ctx);
    return status;
}

/* stats [--watch [--interval MS] [--count N]]: once as JSON, or refreshed
 * like top (ctl_watch.c). --watch and --interval are taken out here; the
 * rest are the usual endpoint options. */
int cmd_stats(int argc, char **argv)
{
    int watch = 0, interval_ms = 1000;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i > 0 && strcmp(a, "--watch") == 0) {
            watch = 1;
        } else if (i > 0 && (strcmp(a, "--interval") == 0 || strncmp(a, "--interval=", 11) == 0)) {
            const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : "");
            char *end;
            long ms = strtol(v, &end, 10);
            if (!*v || *end || ms < 50 || ms > 3600000) {
                fprintf(stderr, "complaintctl: stats --interval: '%s' is not 50..3600000 ms\n", v);
                free(rest);
                return CTL_USAGE;
            }
            interval_ms = (int)ms;
            watch = 1;
        } else {
            rest[n++] = argv[i];
        }
    }
    net_opts o;
    int rc = parse_net_opts(n, rest, &o);
    if (rc == 0 && o.first_arg < n) {
        fprintf(stderr, "complaintctl: stats: unexpected argument '%s'\n", rest[o.first_arg]);
        rc = -1;
    }
    free(rest);
    if (rc < 0)
        return CTL_USAGE;
    if (watch)
        return ctl_stats_watch(o.cfg.control, interval_ms, o.count,
                               o.timeout_ms >= 0 ? o.timeout_ms : 3000);
    return control_request(&o, "stats");
}

int cmd_control(int argc, char **argv)
{
    net_opts o;
    if (parse_net_opts(argc, argv, &o) < 0)
        return CTL_USAGE;
    return control_request(&o, argv[0]);
}
