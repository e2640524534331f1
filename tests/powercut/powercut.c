/*
 * A power cut for the tests (issue 21): an LD_PRELOAD library that keeps, for
 * every file under $KASIR_POWERCUT_WATCH, a copy of what the file held the
 * last time it was synced (fsync or fdatasync), in $KASIR_POWERCUT_DIR.
 *
 * After the process is killed, the copies are what a disk would hold after
 * losing power at that instant, in the harshest reading: nothing written
 * since a file's last sync survives (a real disk may keep some of it, never
 * more). The test puts the copies in place of the files and starts the
 * server again on them.
 *
 * Directory entries: a file exists after the cut once its content has been
 * synced (lenient: SQLite also syncs the directory of a new journal or
 * WAL), and a deleted file is gone only once its directory has been synced
 * (harsh: until then the deletion may not have reached the disk, and a
 * stale rollback journal left behind is rolled back by the next open).
 *
 * There is no packaged tool for this here: LazyFS (the FUSE file system
 * Jepsen uses for the same purpose) is not in Debian's packages, and a
 * device-mapper target needs privileges CI does not have.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The watched directory was synced: the files deleted from it are gone. */
static void forget_deleted(const char *shadow, const char *watch) {
    DIR *dir = opendir(shadow);
    if (dir == NULL) return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char original[PATH_MAX], copy[PATH_MAX];
        snprintf(original, sizeof original, "%s/%s", watch, e->d_name);
        snprintf(copy, sizeof copy, "%s/%s", shadow, e->d_name);
        if (access(original, F_OK) != 0) unlink(copy);
    }
    closedir(dir);
}

/* Copies the file behind `fd` to the shadow directory, atomically. */
static void keep_synced_copy(int fd) {
    const char *shadow = getenv("KASIR_POWERCUT_DIR");
    const char *watch = getenv("KASIR_POWERCUT_WATCH");
    if (shadow == NULL || watch == NULL) return;
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return;
    path[n] = '\0';
    if (S_ISDIR(st.st_mode)) {
        if (strcmp(path, watch) == 0) {
            pthread_mutex_lock(&lock);
            forget_deleted(shadow, watch);
            pthread_mutex_unlock(&lock);
        }
        return;
    }
    if (!S_ISREG(st.st_mode)) return;
    size_t w = strlen(watch);
    if (strncmp(path, watch, w) != 0 || path[w] != '/') return;
    const char *name = strrchr(path, '/') + 1;
    char tmp[PATH_MAX], dst[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", shadow, name);
    snprintf(dst, sizeof dst, "%s/%s", shadow, name);
    pthread_mutex_lock(&lock);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out >= 0) {
        char buf[65536];
        off_t off = 0;
        int ok = 1;
        for (;;) {
            ssize_t r = pread(fd, buf, sizeof buf, off);
            if (r < 0) { ok = 0; break; }
            if (r == 0) break;
            if (write(out, buf, (size_t)r) != r) { ok = 0; break; }
            off += r;
        }
        close(out);
        if (ok) rename(tmp, dst); else unlink(tmp);
    }
    pthread_mutex_unlock(&lock);
}

/* After a successful sync of `fd`: keep its copy, leaving errno alone. */
static int synced(int rc, int fd) {
    if (rc == 0) {
        int saved = errno;
        keep_synced_copy(fd);
        errno = saved;
    }
    return rc;
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return synced(real(fd), fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return synced(real(fd), fd);
}
