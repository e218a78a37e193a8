/* complaintctl history — one customer's stored history as JSON. */
#include <getopt.h>
#include <string.h>

#include "ctl.h"
#include "history.h"
#include "strbuf.h"

static void customer_json(strbuf *sb, const char *id, const hist_customer *c)
{
    sb_puts(sb, "{\"customer_id\":");
    sb_json_str(sb, id, strlen(id));
    sb_printf(sb, ",\"events\":%u,\"first_ms\":%lld,\"last_ms\":%lld", c->events,
              (long long)c->first_ms, (long long)c->last_ms);
    sb_puts(sb, ",\"labels\":{");
    int first = 1;
    for (int l = 1; l < LABEL_COUNT; l++) {
        if (!c->label_count[l])
            continue;
        sb_printf(sb, "%s\"%s\":%u", first ? "" : ",", label_name(l), c->label_count[l]);
        first = 0;
    }
    sb_printf(sb,
              "},\"toxic_incidents\":%u,\"extremism_incidents\":%u,\"compensations\":%u,"
              "\"compensation_sum\":%lld,\"escalations\":%u,\"last_action\":\"%s\"}",
              c->toxic_incidents, c->extremism_incidents, c->compensations,
              (long long)c->compensation_sum, c->escalations,
              c->last_action ? action_name((int)c->last_action) : "");
}

int cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    const char *dir = "data";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'd')
            dir = optarg;
        else
            return CTL_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: complaintctl history CUSTOMER --data-dir DIR\n");
        return CTL_USAGE;
    }
    const char *id = argv[optind];
    char err[512];
    hist_env *env = hist_open(dir, 4096, 1, 1, err, sizeof err);
    if (!env) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return CTL_FAIL;
    }
    hist_txn *txn;
    hist_customer c;
    int rc = hist_begin(env, 0, &txn);
    if (rc == HIST_OK) {
        rc = hist_get_customer(txn, id, strlen(id), &c);
        hist_abort(txn);
    }
    int status = 0;
    if (rc == HIST_OK) {
        strbuf sb = STRBUF_INIT;
        customer_json(&sb, id, &c);
        printf("%s\n", sb.buf);
        sb_free(&sb);
    } else if (rc == HIST_NOTFOUND) {
        fprintf(stderr, "complaintctl: customer '%s' has no history in %s\n", id, dir);
        status = CTL_FAIL;
    } else {
        fprintf(stderr, "complaintctl: %s\n", hist_last_error(env));
        status = CTL_FAIL;
    }
    hist_close(env);
    return status;
}
