/*
 * curve — ZeroMQ CURVE security for complaintd's endpoints: key files, the
 * allowlist of client keys, and the ZAP handler that enforces it.
 *
 * A key file holds one key pair as two lines, "public = <Z85>" and
 * "secret = <Z85>", and is created owner-only (0600) by `complaintctl
 * keygen`. An allowlist file holds one client public key (Z85, 40
 * characters) per line; a line starting with '#' is a comment ('#' is also
 * a Z85 digit, so comments cannot follow a key).
 *
 * The ZAP handler is a thread with a REP socket at inproc://zeromq.zap.01
 * in the daemon's context: libzmq asks it about every CURVE handshake, and
 * it answers 200 only for keys on the allowlist. A stranger's connection is
 * refused before a single message is read from it.
 */
#ifndef COMPLAINTD_CURVE_H
#define COMPLAINTD_CURVE_H

#include <stddef.h>

enum { CURVE_KEY_Z85 = 41 };  /* 40 characters and a NUL */

typedef struct curve_keypair {
    char public_z85[CURVE_KEY_Z85];
    char secret_z85[CURVE_KEY_Z85];
} curve_keypair;

/* Generate a key pair and write it to path (0600, refusing to overwrite). */
int curve_keygen(const char *path, curve_keypair *out, char *err, size_t errlen);

/* Read a key file; errors name the file and line. */
int curve_load_keypair(const char *path, curve_keypair *out, char *err, size_t errlen);

/* Make sock a CURVE server with this key pair (call before bind). */
int curve_make_server(void *sock, const curve_keypair *kp);

/* Make sock a CURVE client of server_public_z85 with this key pair. */
int curve_make_client(void *sock, const char *server_public_z85, const curve_keypair *kp);

typedef struct curve_auth curve_auth;

/* Load the allowlist and start the ZAP handler in zctx. NULL with a message
 * naming the file and line on failure. */
curve_auth *curve_auth_start(void *zctx, const char *allowlist_path, char *err, size_t errlen);
void curve_auth_stop(curve_auth *a);

/* Is endpoint one that plain TCP may use without CURVE: loopback, ipc or
 * inproc? */
int curve_endpoint_is_local(const char *endpoint);

#endif
