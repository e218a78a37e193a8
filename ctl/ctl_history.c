/*
 * complaintctl history, employee, forget, top: the history store, read (and
 * for forget, written) directly, beside a running daemon if need be: LMDB
 * serialises writers across processes, and readers never block.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "codec.h"
#include "grow.h"
#include "ctl.h"
#include "dirlock.h"
#include "history.h"
#include "policy.h"
#include "strbuf.h"

/* The event id of the decision logged under seq, into out ("" if the log no
 * longer has it). */
static void logged_event_id(hist_txn *txn, uint64_t seq, char *out, size_t outlen)
{
    const void *bytes;
    size_t n;
    out[0] = 0;
    if (!txn || !seq || hist_log_get(txn, seq, &bytes, &n) != HIST_OK)
        return;
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, n, bytes);
    if (m && m->event_id)
        snprintf(out, outlen, "%s", m->event_id);
    complaint__v1__triage_decision__free_unpacked(m, NULL);
}

/* txn: to name the recent events from the decision log; may be NULL. */
static void customer_json(strbuf *sb, const char *id, size_t idlen, const hist_customer *c,
                          hist_txn *txn)
{
    strbuf_puts(sb, "{\"customer_id\":");
    strbuf_json_str(sb, id, idlen);
    strbuf_printf(sb, ",\"events\":%u,\"first_ms\":%lld,\"last_ms\":%lld", c->events,
              (long long)c->first_ms, (long long)c->last_ms);
    strbuf_puts(sb, ",\"labels\":{");
    int first = 1;
    for (int l = 1; l < LABEL_COUNT; l++) {
        if (!c->label_count[l])
            continue;
        strbuf_printf(sb, "%s\"%s\":%u", first ? "" : ",", label_name(l), c->label_count[l]);
        first = 0;
    }
    strbuf_printf(sb,
              "},\"toxic_incidents\":%u,\"toxic_weight\":%.2f,\"extremism_incidents\":%u,"
              "\"extremism_weight\":%.2f,\"weights_as_of_ms\":%lld,\"compensations\":%u,"
              "\"compensation_sum\":%lld,\"purchases_sum\":%lld,\"escalations\":%u,"
              "\"last_action\":\"%s\"",
              c->toxic_incidents, (double)c->toxic_decayed, c->extremism_incidents,
              (double)c->extremism_decayed, (long long)c->decayed_at_ms, c->compensations,
              (long long)c->compensation_sum, (long long)c->purchases_sum, c->escalations,
              c->last_action ? action_name((int)c->last_action) : "");
    strbuf_puts(sb, ",\"recent\":[");
    for (uint32_t i = 0; i < c->n_recent; i++) {
        const hist_recent *r = &c->recent[i];
        char logged[HIST_ID_MAX];
        logged_event_id(txn, r->seq, logged, sizeof logged);
        const char *event_id = r->event_id[0] ? r->event_id : logged;
        strbuf_printf(sb, "%s{\"seq\":%llu,\"event_id\":", i ? "," : "", (unsigned long long)r->seq);
        strbuf_json_str(sb, event_id, strlen(event_id));
        strbuf_printf(sb, ",\"ts_ms\":%lld,\"action\":\"%s\",\"labels\":[", (long long)r->ts_ms,
                  action_name((int)r->action));
        int f = 1;
        for (int l = 1; l < LABEL_COUNT; l++)
            if (r->labels & (1u << l)) {
                strbuf_printf(sb, "%s\"%s\"", f ? "" : ",", label_name(l));
                f = 0;
            }
        strbuf_puts(sb, "]}");
    }
    strbuf_puts(sb, "],\"conflicts\":[");
    for (uint32_t i = 0; i < c->n_conflicts; i++) {
        strbuf_puts(sb, i ? ",{\"employee_id\":" : "{\"employee_id\":");
        strbuf_json_str(sb, c->conflicts[i].employee_id, strlen(c->conflicts[i].employee_id));
        strbuf_printf(sb, ",\"count\":%u,\"last_ms\":%lld}", c->conflicts[i].count,
                  (long long)c->conflicts[i].last_ms);
    }
    strbuf_puts(sb, "]}");
}

/* --data-dir DIR and one positional argument; NULL env on failure. */
static hist_env *open_store(int argc, char **argv, int readonly, const char **arg, const char *usage,
                            int *status)
{
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    const char *dir = "data";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 'd') {
            *status = CTL_USAGE;
            return NULL;
        }
        dir = optarg;
    }
    if (arg && optind >= argc) {
        fprintf(stderr, "usage: %s\n", usage);
        *status = CTL_USAGE;
        return NULL;
    }
    if (arg)
        *arg = argv[optind];
    /* A writer beside a running daemon would be a second LMDB writer with
     * its own idea of the store: a daemon that holds the directory is asked
     * through its control endpoint (forget --control EP), never bypassed. */
    pid_t holder = readonly ? 0 : dirlock_holder(dir);
    if (holder != 0) {
        fprintf(stderr, "complaintctl: %s is held by a running complaintd (pid %ld); "
                        "go through it with --control ENDPOINT\n",
                dir, (long)holder);
        *status = CTL_FAIL;
        return NULL;
    }
    char err[512];
    hist_env *env = hist_open(dir, 4096, HIST_SYNC, readonly, err, sizeof err);
    if (!env) {
        fprintf(stderr, "complaintctl: %s\n", err);
        *status = CTL_FAIL;
    }
    return env;
}

int cmd_history(int argc, char **argv)
{
    const char *id;
    int status = 0;
    hist_env *env = open_store(argc, argv, 1, &id, "complaintctl history CUSTOMER --data-dir DIR", &status);
    if (!env)
        return status;
    hist_txn *txn = NULL;
    hist_customer c;
    int rc = hist_begin(env, 0, &txn);
    if (rc == HIST_OK && (rc = hist_get_customer(txn, id, strlen(id), &c)) == HIST_OK) {
        strbuf sb = STRBUF_INIT;
        customer_json(&sb, id, strlen(id), &c, txn);
        printf("%s\n", sb.buf);
        strbuf_free(&sb);
    }
    if (txn)
        hist_abort(txn);
    if (rc == HIST_NOTFOUND) {
        fprintf(stderr, "complaintctl: customer '%s' has no history\n", id);
        status = CTL_FAIL;
    } else if (rc != HIST_OK) {
        fprintf(stderr, "complaintctl: %s\n", hist_last_error(env));
        status = CTL_FAIL;
    }
    hist_close(env);
    return status;
}

int cmd_employee(int argc, char **argv)
{
    const char *id;
    int status = 0;
    hist_env *env = open_store(argc, argv, 1, &id, "complaintctl employee ID --data-dir DIR", &status);
    if (!env)
        return status;
    hist_txn *txn;
    hist_employee e;
    int rc = hist_begin(env, 0, &txn);
    if (rc == HIST_OK) {
        rc = hist_get_employee(txn, id, strlen(id), &e);
        hist_abort(txn);
    }
    if (rc == HIST_OK) {
        strbuf sb = STRBUF_INIT;
        strbuf_puts(&sb, "{\"employee_id\":");
        strbuf_json_str(&sb, id, strlen(id));
        strbuf_printf(&sb,
                  ",\"events\":%u,\"toxic_received\":%u,\"blame_notes\":%u,\"last_ms\":%lld,"
                  "\"last_toxic_ms\":%lld}",
                  e.events, e.toxic_received, e.blame_notes, (long long)e.last_ms,
                  (long long)e.last_toxic_ms);
        printf("%s\n", sb.buf);
        strbuf_free(&sb);
    } else {
        fprintf(stderr, "complaintctl: employee '%s': %s\n", id,
                rc == HIST_NOTFOUND ? "no record" : hist_last_error(env));
        status = CTL_FAIL;
    }
    hist_close(env);
    return status;
}

/* ---- forget ------------------------------------------------------------- */

int cmd_forget(int argc, char **argv)
{
    const char *id;
    int status = 0;
    if (ctl_forget_via_daemon(&argc, argv, &status))  /* a daemon holds the store */
        return status;
    hist_env *env = open_store(argc, argv, 0, &id, "complaintctl forget CUSTOMER --data-dir DIR", &status);
    if (!env)
        return status;
    hist_forgotten f;
    if (hist_forget(env, id, strlen(id), &f) == HIST_OK) {
        printf("{\"customer_id\":\"%s\",\"history_erased\":%s,\"decisions_redacted\":%zu,"
               "\"feedback_erased\":%zu}\n",
               id, f.history_erased ? "true" : "false", f.decisions_redacted, f.feedback_erased);
    } else {
        fprintf(stderr, "complaintctl: forget %s: %s\n", id, hist_last_error(env));
        status = CTL_FAIL;
    }
    hist_close(env);
    return status;
}

/* ---- top ---------------------------------------------------------------- */

enum { TOP_N_MAX = 1000 };

typedef struct top_entry {
    double        key;
    char          id[HIST_ID_MAX];
    hist_customer c;
} top_entry;

typedef struct top_ctx {
    int        by;  /* 0 toxicity, 1 compensation, 2 complaints */
    int        n, want;
    top_entry *e;   /* sorted, largest key first */
} top_ctx;

static double top_key(int by, const hist_customer *c)
{
    if (by == 0)
        return c->toxic_incidents + 0.001 * c->extremism_incidents;
    if (by == 1)
        return (double)c->compensation_sum;
    /* Complaints: events, less those that only thanked. */
    uint32_t thanks = c->label_count[15];
    return c->events > thanks ? c->events - thanks : 0;
}

static int top_add(const char *id, size_t idlen, const hist_customer *c, void *arg)
{
    top_ctx *t = arg;
    double k = top_key(t->by, c);
    if (k <= 0 || (t->n == t->want && k <= t->e[t->n - 1].key))
        return 0;
    int i = t->n < t->want ? t->n++ : t->n - 1;
    while (i > 0 && t->e[i - 1].key < k) {  /* insertion into the sorted list */
        t->e[i] = t->e[i - 1];
        i--;
    }
    t->e[i].key = k;
    snprintf(t->e[i].id, sizeof t->e[i].id, "%.*s", (int)idlen, id);
    t->e[i].c = *c;
    return 0;
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'},
                                         {"by", required_argument, 0, 'b'},
                                         {"n", required_argument, 0, 'n'},
                                         {0, 0, 0, 0}};
    const char *dir = "data", *by = "complaints";
    int want = 20, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'd')
            dir = optarg;
        else if (o == 'b')
            by = optarg;
        else if (o == 'n')
            want = atoi(optarg);
        else
            return CTL_USAGE;
    }
    top_ctx t = {.want = want};
    if (strcmp(by, "toxicity") == 0)
        t.by = 0;
    else if (strcmp(by, "compensation") == 0)
        t.by = 1;
    else if (strcmp(by, "complaints") == 0)
        t.by = 2;
    else {
        fprintf(stderr, "complaintctl: --by toxicity|compensation|complaints, not '%s'\n", by);
        return CTL_USAGE;
    }
    if (want < 1 || want > TOP_N_MAX) {
        fprintf(stderr, "complaintctl: --n from 1 to %d\n", TOP_N_MAX);
        return CTL_USAGE;
    }
    char err[512];
    hist_env *env = hist_open(dir, 4096, HIST_SYNC, 1, err, sizeof err);
    if (!env) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return CTL_FAIL;
    }
    t.e = calloc((size_t)want, sizeof *t.e);
    hist_txn *txn = NULL;
    int rc = hist_begin(env, 0, &txn);
    if (rc == HIST_OK)
        rc = hist_each_customer(txn, top_add, &t);
    strbuf sb = STRBUF_INIT;
    for (int i = 0; rc == HIST_OK && i < t.n; i++) {
        strbuf_reset(&sb);
        customer_json(&sb, t.e[i].id, strlen(t.e[i].id), &t.e[i].c, txn);
        printf("%s\n", sb.buf);
    }
    if (txn)
        hist_abort(txn);
    if (rc != HIST_OK)
        fprintf(stderr, "complaintctl: %s\n", hist_last_error(env));
    strbuf_free(&sb);
    free(t.e);
    hist_close(env);
    return rc == HIST_OK ? 0 : CTL_FAIL;
}
