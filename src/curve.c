/* curve — key files, allowlist and ZAP handler; see curve.h. */
#include "curve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "grow.h"
#include "log.h"
#include "strbuf.h"

struct curve_auth {
    void      *rep;        /* the ZAP socket: bound in curve_auth_start, then the thread's */
    pthread_t  thread;
    uint8_t  (*keys)[32];  /* allowed client public keys, binary */
    size_t     n_keys;
    atomic_int stop;
};

int curve_keygen(const char *path, curve_keypair *out, char *err, size_t errlen)
{
    if (zmq_curve_keypair(out->public_z85, out->secret_z85) != 0) {
        snprintf(err, errlen, "zmq_curve_keypair: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char buf[160];
    int n = snprintf(buf, sizeof buf, "public = %s\nsecret = %s\n", out->public_z85, out->secret_z85);
    int ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

static int valid_z85_key(const char *s)
{
    uint8_t bin[32];
    return strlen(s) == 40 && zmq_z85_decode(bin, s) != NULL;
}

int curve_load_keypair(const char *path, curve_keypair *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    memset(out, 0, sizeof *out);
    char line[256];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = str_trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        char *key = eq ? (*eq = '\0', str_trim(s)) : s, *val = eq ? str_trim(eq + 1) : "";
        char *dst = strcmp(key, "public") == 0 ? out->public_z85
                    : strcmp(key, "secret") == 0 ? out->secret_z85 : NULL;
        if (!dst || !valid_z85_key(val)) {
            snprintf(err, errlen, "%s:%d: expected 'public = KEY' or 'secret = KEY' (Z85, 40 characters)",
                     path, lineno);
            rc = -1;
        } else {
            memcpy(dst, val, CURVE_KEY_Z85);
        }
    }
    fclose(f);
    if (rc == 0 && (!out->public_z85[0] || !out->secret_z85[0])) {
        snprintf(err, errlen, "%s: needs both a public and a secret key", path);
        rc = -1;
    }
    return rc;
}

int curve_make_server(void *sock, const curve_keypair *kp)
{
    int one = 1;
    return zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) == 0 &&
                   zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, 40) == 0
               ? 0
               : -1;
}

int curve_make_client(void *sock, const char *server_public_z85, const curve_keypair *kp)
{
    return zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public_z85, 40) == 0 &&
                   zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->public_z85, 40) == 0 &&
                   zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, 40) == 0
               ? 0
               : -1;
}

static int load_allowlist(curve_auth *a, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    int lineno = 0, rc = 0;
    size_t cap = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        /* Only whole-line comments: '#' is a Z85 digit. */
        char *s = str_trim(line);
        if (!*s || *s == '#')
            continue;
        if (!valid_z85_key(s)) {
            snprintf(err, errlen, "%s:%d: not a Z85 public key (40 characters)", path, lineno);
            rc = -1;
            break;
        }
        void *keys = grow_array(a->keys, &cap, a->n_keys + 1, sizeof *a->keys, 16);
        if (!keys) {
            snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
            rc = -1;
            break;
        }
        a->keys = keys;
        zmq_z85_decode(a->keys[a->n_keys++], s);
    }
    fclose(f);
    if (rc == 0 && a->n_keys == 0) {
        snprintf(err, errlen, "%s: no client keys: nobody could connect", path);
        rc = -1;
    }
    return rc;
}

static int allowed(const curve_auth *a, const uint8_t *key, size_t len)
{
    if (len != 32)
        return 0;
    for (size_t i = 0; i < a->n_keys; i++)
        if (memcmp(a->keys[i], key, 32) == 0)
            return 1;
    return 0;
}

/* One ZAP request (RFC 27): version, request id, domain, address, identity,
 * mechanism, then the mechanism's credentials. */
static void answer(curve_auth *a, void *rep)
{
    zmq_msg_t f[8];
    int n = 0, more = 1;
    while (more && n < 8) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], rep, 0) < 0) {
            zmq_msg_close(&f[n]);
            break;
        }
        more = zmq_msg_more(&f[n]);
        n++;
    }
    while (more) {  /* more frames than expected: drain */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, rep, 0);
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    int ok = n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
             allowed(a, zmq_msg_data(&f[6]), zmq_msg_size(&f[6]));
    if (!ok && n >= 4)
        log_warn("refused a connection from %.*s: client key not on the allowlist",
                 (int)zmq_msg_size(&f[3]), (char *)zmq_msg_data(&f[3]));
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send(rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else
        zmq_send(rep, "", 0, ZMQ_SNDMORE);
    zmq_send(rep, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(rep, ok ? "OK" : "unknown client key", ok ? 2 : 18, ZMQ_SNDMORE);
    zmq_send(rep, "", 0, ZMQ_SNDMORE);  /* user id */
    zmq_send(rep, "", 0, 0);            /* metadata */
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void *zap_main(void *arg)
{
    curve_auth *a = arg;
    void *rep = a->rep;
    while (!atomic_load(&a->stop)) {
        zmq_pollitem_t item = {rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) > 0)
            answer(a, rep);
    }
    zmq_close(rep);
    return NULL;
}

curve_auth *curve_auth_start(void *zctx, const char *allowlist_path, char *err, size_t errlen)
{
    curve_auth *a = calloc(1, sizeof *a);
    if (load_allowlist(a, allowlist_path, err, errlen) < 0) {
        free(a->keys);
        free(a);
        return NULL;
    }
    /* Bound here, before any CURVE socket exists: libzmq lets a handshake
     * through when no ZAP handler is bound yet. */
    a->rep = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(a->rep, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(a->rep, "inproc://zeromq.zap.01") != 0) {
        snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(zmq_errno()));
        zmq_close(a->rep);
        free(a->keys);
        free(a);
        return NULL;
    }
    pthread_create(&a->thread, NULL, zap_main, a);
    log_info("CURVE: %zu client key(s) allowed", a->n_keys);
    return a;
}

void curve_auth_stop(curve_auth *a)
{
    if (!a)
        return;
    atomic_store(&a->stop, 1);
    pthread_join(a->thread, NULL);
    free(a->keys);
    free(a);
}

int curve_endpoint_is_local(const char *ep)
{
    if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
        return 1;
    if (strncmp(ep, "tcp://", 6) != 0)
        return 0;
    const char *host = ep + 6;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
           strncmp(host, "[::1]:", 6) == 0;
}
