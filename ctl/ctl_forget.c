/*
 * complaintctl forget through the running daemon: when a daemon serves the
 * store, the erasure goes to its control endpoint ("forget CUSTOMER") and
 * its writer thread does it, so that LMDB keeps one writer and the
 * daemon's groups never interleave with ours.
 *
 * Which daemon: --control EP says so (it must answer); otherwise the
 * control endpoint of --config FILE, or the default one, is asked "info",
 * and used if the daemon there has the same data directory. With no such
 * daemon, complaintctl writes the store itself (ctl_history.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "config.h"
#include "ctl.h"

/* One request, one reply frame into out (NUL-terminated); -1 on no answer. */
static int ask(const char *endpoint, const char *word, int timeout_ms, char *out, size_t cap)
{
    void *ctx = zmq_ctx_new();
    void *req = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0, n = -1;
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(req, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    if (zmq_connect(req, endpoint) == 0 && zmq_send(req, word, strlen(word), 0) >= 0)
        n = zmq_recv(req, out, cap - 1, 0);
    if (n >= 0)
        out[(size_t)n < cap - 1 ? (size_t)n : cap - 1] = '\0';
    zmq_close(req);
    zmq_ctx_term(ctx);
    return n < 0 ? -1 : 0;
}

/* Does the daemon at endpoint serve dir? (its "info" names its data_dir) */
static int serves(const char *endpoint, const char *dir)
{
    char info[PATH_MAX + 128], want[PATH_MAX], key[PATH_MAX + 16];
    if (ask(endpoint, "info", 500, info, sizeof info) < 0 || !realpath(dir, want))
        return 0;
    snprintf(key, sizeof key, "\"data_dir\":\"%s\"", want);  /* paths with quotes: not found */
    return strstr(info, key) != NULL;
}

int ctl_forget_via_daemon(int *argc, char **argv, int *status)
{
    const char *control = NULL, *config_file = NULL, *dir = "data", *id = NULL;
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        if ((strcmp(argv[i], "--control") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < *argc) {
            *(strcmp(argv[i], "--control") == 0 ? &control : &config_file) = argv[i + 1];
            i++;
            continue;  /* taken out: the direct path knows only --data-dir */
        }
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < *argc)
            dir = argv[i + 1];
        else if (argv[i][0] != '-' && (i == 1 || strcmp(argv[i - 1], "--data-dir") != 0) && !id)
            id = argv[i];
        argv[kept++] = argv[i];
    }
    *argc = kept;
    argv[kept] = NULL;
    if (!id)
        return 0;  /* the direct path prints the usage */
    char ep[CONFIG_ENDPOINT], err[1024];
    if (control) {
        snprintf(ep, sizeof ep, "%s", control);
    } else {
        config cfg;
        config_defaults(&cfg);
        if (config_file && config_load_file(&cfg, config_file, err, sizeof err) < 0) {
            fprintf(stderr, "complaintctl: %s\n", err);
            *status = CTL_USAGE;
            return 1;
        }
        snprintf(ep, sizeof ep, "%s", cfg.control);
        if (!serves(ep, dir))
            return 0;
    }
    char word[CONFIG_ENDPOINT + 512], reply[2048];
    snprintf(word, sizeof word, "forget %s", id);
    /* A quick "info" first: a daemon that is not there is said in seconds;
     * the forget itself may read a long decision log. */
    if ((control && ask(ep, "info", 3000, reply, sizeof reply) < 0) ||
        ask(ep, word, 60000, reply, sizeof reply) < 0) {
        fprintf(stderr, "complaintctl: forget: no answer from the daemon at %s\n", ep);
        *status = CTL_FAIL;
        return 1;
    }
    if (strstr(reply, "\"error\"")) {
        fprintf(stderr, "complaintctl: forget %s through %s: %s\n", id, ep, reply);
        *status = CTL_FAIL;
    } else {
        printf("%s\n", reply);
        *status = 0;
    }
    return 1;
}
