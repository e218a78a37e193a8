/*
 * complaintctl — classify, evaluate and check rules offline; send events to,
 * tail decisions from and query a running complaintd.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "ctl.h"
#include "curve.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: complaintctl COMMAND [options]\n"
            "\n"
            "offline:\n"
            "  classify [FILE] [--rules DIR] [--data-dir DIR] [--config FILE]\n"
            "                      JSON Lines events in (stdin if no FILE), decisions out\n"
            "  eval CORPUS.jsonl [--rules DIR] [--errors] [--min-micro-f1 X] [--min-action-accuracy X]\n"
            "                      precision/recall/F1 per label, action accuracy\n"
            "  rules check [DIR]   validate and compile a rule pack\n"
            "  rules export [DIR] FILE   write the compiled regexes, one per line\n"
            "  history CUSTOMER --data-dir DIR   one customer's history as JSON\n"
            "  employee ID --data-dir DIR        abuse received and blaming notes written\n"
            "  forget CUSTOMER --data-dir DIR    erase a customer's history, redact their decisions\n"
            "  top --by toxicity|compensation|complaints [--n N] --data-dir DIR\n"
            "                      the customers who take most of the staff's time\n"
            "\n"
            "against a running daemon:\n"
            "  send [FILE] [--ingest ENDPOINT]          publish JSON Lines events\n"
            "  send --acked [FILE] [--ingest-acked EP] [--window N] [--retry-ms MS] [--timeout MS]\n"
            "               [--rate N]\n"
            "                      at-least-once: wait for each event's Ack, re-send the overdue\n"
            "  tail [--publish ENDPOINT] [--action A] [--count N] [--timeout MS] [--from SEQ]\n"
            "                      print decisions as JSON Lines; --from replays the log\n"
            "                      from SEQ first and fills any gap in the live stream\n"
            "  stats [--control ENDPOINT]               counters as JSON\n"
            "  send --nats URL[,URL...] [FILE]          events to a cluster (JetStream publish acks)\n"
            "  tail --nats URL [--count N] [--from SEQ] [--action A] [--timeout MS]\n"
            "                      the cluster's DECISIONS stream as JSON Lines\n"
            "  cluster --nats URL  streams, nodes, partition owners and backlogs (JSON)\n"
            "  keygen FILE         a CURVE key pair (0600); prints the public key\n"
            "\n"
            "network commands take --curve-server-key KEY --curve-key-file FILE for a daemon\n"
            "that requires CURVE\n"
            "  stats --watch [--interval MS] [--count N] [--control ENDPOINT]\n"
            "                      totals and rates per second, refreshed like top\n"
            "  ping [--control ENDPOINT]\n"
            "  reload [--control ENDPOINT]              recompile rules, re-read policy\n");
}

const char *ctl_default_rules(void)
{
    static char path[PATH_MAX];
    struct stat st;
    if (stat("rules", &st) == 0 && S_ISDIR(st.st_mode))
        return "rules";
    char exe[PATH_MAX - 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/../rules", exe);
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return path;
        }
    }
    return "rules";
}

const char *ctl_cache_dir(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("COMPLAINTD_CACHE");
    if (env && *env)
        return env;
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    snprintf(path, sizeof path, "%s/.cache", home);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.cache/complaintd", home);
    return path;
}

int ctl_apply_curve(void *sock, const char *server_key, const char *key_file)
{
    if (!server_key && !key_file)
        return 0;
    if (!server_key || !key_file) {
        fprintf(stderr, "complaintctl: CURVE needs both --curve-server-key and --curve-key-file\n");
        return -1;
    }
    curve_keypair kp;
    char err[512];
    if (curve_load_keypair(key_file, &kp, err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return -1;
    }
    if (strlen(server_key) != 40 || curve_make_client(sock, server_key, &kp) < 0) {
        fprintf(stderr, "complaintctl: --curve-server-key: not a Z85 public key (40 characters)\n");
        return -1;
    }
    return 0;
}

int ctl_each_event(FILE *in, const char *input, ctl_event_fn fn, void *ctx)
{
    char *line = NULL, err[512];
    size_t cap = 0;
    long lineno = 0, n;
    int status = 0;
    while ((n = ctl_read_line(in, &line, &cap)) >= 0) {
        lineno++;
        if (n == 0)
            continue;
        event_msg ev;
        if (event_from_json(line, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "complaintctl: %s:%ld: %s\n", input, lineno, err);
            status = CTL_USAGE;
            continue;
        }
        int r = fn(&ev, input, lineno, ctx);
        event_json_free(&ev);
        if (r < 0)
            break;
        if (r > status)
            status = r;
    }
    free(line);
    return status;
}

FILE *ctl_open_input(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "complaintctl: %s: %s\n", path, strerror(errno));
    return f;
}

long ctl_read_line(FILE *f, char **buf, size_t *cap)
{
    ssize_t n = getline(buf, cap, f);
    if (n < 0)
        return -1;
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return (long)n;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_USAGE : 0;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    if (strcmp(cmd, "cluster") == 0 ||
        ((strcmp(cmd, "send") == 0 || strcmp(cmd, "tail") == 0) && ctl_nats_wanted(argc, argv)))
        return ctl_nats_main(cmd, argc, argv);
    if (strcmp(cmd, "classify") == 0)
        return cmd_classify(argc, argv);
    if (strcmp(cmd, "eval") == 0)
        return cmd_eval(argc, argv);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc, argv);
    if (strcmp(cmd, "send") == 0)
        return cmd_send(argc, argv);
    if (strcmp(cmd, "tail") == 0)
        return cmd_tail(argc, argv);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(argc, argv);
    if (strcmp(cmd, "ping") == 0 || strcmp(cmd, "reload") == 0)
        return cmd_control(argc, argv);
    if (strcmp(cmd, "history") == 0)
        return cmd_history(argc, argv);
    if (strcmp(cmd, "employee") == 0)
        return cmd_employee(argc, argv);
    if (strcmp(cmd, "forget") == 0)
        return cmd_forget(argc, argv);
    if (strcmp(cmd, "top") == 0)
        return cmd_top(argc, argv);
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc, argv);
    fprintf(stderr, "complaintctl: unknown command '%s'\n", cmd);
    usage(stderr);
    return CTL_USAGE;
}
