/* dirlock — an flock on the data directory; see dirlock.h. */
#include "dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The pid written in an open lock file, 0 if none is. */
static pid_t read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? (pid_t)pid : 0;
}

int dirlock_take(const char *dir, pid_t *holder, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, DIRLOCK_FILE);
    if (holder)
        *holder = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "data_dir %s: cannot open the lock file %s: %s", dir, path,
                 strerror(errno));
        return DIRLOCK_ERR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        pid_t pid = e == EWOULDBLOCK ? read_pid(fd) : 0;
        close(fd);
        if (e != EWOULDBLOCK) {
            snprintf(err, errlen, "data_dir %s: cannot lock %s: %s", dir, path, strerror(e));
            return DIRLOCK_ERR;
        }
        if (holder)
            *holder = pid;
        if (pid)
            snprintf(err, errlen, "data_dir %s is in use by another complaintd (pid %ld holds %s)",
                     dir, (long)pid, path);
        else
            snprintf(err, errlen, "data_dir %s is in use by another complaintd (it holds %s)", dir,
                     path);
        return DIRLOCK_HELD;
    }
    /* Ours: replace whatever pid a previous holder left. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "data_dir %s: cannot write %s: %s", dir, path, strerror(errno));
        close(fd);
        return DIRLOCK_ERR;
    }
    return fd;
}

void dirlock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}

pid_t dirlock_holder(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, DIRLOCK_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    pid_t pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
        pid = read_pid(fd) ? read_pid(fd) : -1;
    else
        flock(fd, LOCK_UN);
    close(fd);
    return pid;
}
