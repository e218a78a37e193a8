/* complaintctl keygen FILE — a CURVE key pair for the daemon or a client. */
#include <stdio.h>

#include "ctl.h"
#include "curve.h"

int cmd_keygen(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: complaintctl keygen FILE   (writes 'public = ...' and 'secret = ...', mode 0600)\n");
        return CTL_USAGE;
    }
    curve_keypair kp;
    char err[512];
    if (curve_keygen(argv[1], &kp, err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return CTL_FAIL;
    }
    /* The public half goes to the other side: an allowlist or a client. */
    printf("%s\n", kp.public_z85);
    return 0;
}
