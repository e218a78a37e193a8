/* paths — data files of a repository or an installed package; see paths.h. */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef COMPLAINTD_DATADIR
#define COMPLAINTD_DATADIR "/usr/share/complaintd"
#endif

const char *paths_datadir(void) { return COMPLAINTD_DATADIR; }

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int paths_find(const char *configured, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", configured);
    if (!configured[0] || configured[0] == '/' || exists(configured))
        return 0;
    char cand[PATH_MAX], exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int w = snprintf(cand, sizeof cand, "%s/../%s", exe, configured);
            if (w > 0 && (size_t)w < sizeof cand && exists(cand) && (size_t)w < outlen) {
                memcpy(out, cand, (size_t)w + 1);
                return 1;
            }
        }
    }
    int w = snprintf(cand, sizeof cand, "%s/%s", COMPLAINTD_DATADIR, configured);
    if (w > 0 && (size_t)w < sizeof cand && exists(cand) && (size_t)w < outlen) {
        memcpy(out, cand, (size_t)w + 1);
        return 1;
    }
    return 0;
}
