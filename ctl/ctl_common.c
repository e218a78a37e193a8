/*
 * ctl_common — what several complaintctl subcommands share: defaults for
 * the rule pack and its cache, CURVE for client sockets, and reading JSON
 * Lines input. It calls no subcommand, so the ctl_*.c files depend on it
 * and never on each other's helpers or on the dispatcher (complaintctl.c).
 */
#include "ctl_common.h"
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "curve.h"
#include "rules.h"

/* ./rules, else build/../rules, else the installed pack (paths.h). */
const char *ctl_default_rules(void)
{
    static char path[PATH_MAX];
    paths_find("rules", path, sizeof path);
    return path;
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
        if (codec_event_from_json(line, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "complaintctl: %s:%ld: %s\n", input, lineno, err);
            status = CTL_USAGE;
            continue;
        }
        int r = fn(&ev, input, lineno, ctx);
        codec_event_json_free(&ev);
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

struct rulepack *ctl_load_pack(const char *dir)
{
    char err[1024];
    rulepack *rp = rulepack_load(dir, ctl_cache_dir(), err, sizeof err);
    if (!rp)
        fprintf(stderr, "complaintctl: %s\n", err);
    return rp;
}
