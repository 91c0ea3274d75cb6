/* The platform layer on POSIX systems (Linux, Android, macOS); see platform.h. */
#include "platform/platform.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *clipvk_fopen(const char *path, const char *mode) { return fopen(path, mode); }

int clipvk_remove(const char *path) { return remove(path); }

int clipvk_replace_file(const char *from, const char *to) { return rename(from, to); }

int clipvk_fsync(FILE *f) { return fsync(fileno(f)); }

FILE *clipvk_memstream_open(clipvk_memstream *m)
{
    m->buf = NULL;
    m->size = 0;
    return m->f = open_memstream(&m->buf, &m->size);
}

char *clipvk_memstream_close(clipvk_memstream *m)
{
    if (fclose(m->f)) {
        free(m->buf);
        m->buf = NULL;
    }
    return m->buf;
}

static int64_t mtime_ns(const struct stat *st)
{
#if defined(__APPLE__)
    return (int64_t)st->st_mtimespec.tv_sec * 1000000000 + st->st_mtimespec.tv_nsec;
#else
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
#endif
}

static void fill_info(const struct stat *st, clipvk_path_info *out)
{
    out->kind = S_ISREG(st->st_mode) ? CLIPVK_PATH_FILE : S_ISDIR(st->st_mode) ? CLIPVK_PATH_DIR : CLIPVK_PATH_OTHER;
    out->is_link = S_ISLNK(st->st_mode);
    out->size = (int64_t)st->st_size;
    out->mtime_ns = mtime_ns(st);
}

int clipvk_path_info_get(const char *path, int follow, clipvk_path_info *out)
{
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) return -1;
    fill_info(&st, out);
    return 0;
}

int clipvk_stream_info(FILE *f, clipvk_path_info *out)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0) return -1;
    fill_info(&st, out);
    return 0;
}

char *clipvk_realpath(const char *path, char *out, size_t n)
{
    char *r = realpath(path, NULL);
    if (!r) return NULL;
    size_t len = strlen(r);
    if (len >= n) {
        free(r);
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(out, r, len + 1);
    free(r);
    return out;
}

void clipvk_binary_stream(FILE *f) { (void)f; }

int clipvk_isatty(FILE *f) { return isatty(fileno(f)); }

int clipvk_is_path_sep(char c) { return c == '/'; }

int clipvk_map_open(const char *path, clipvk_mapped_file *m)
{
    memset(m, 0, sizeof *m);
    m->os = -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return CLIPVK_MAP_CANNOT_OPEN;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return CLIPVK_MAP_NOT_FILE;
    }
    m->size = (size_t)st.st_size;
    m->mtime_ns = mtime_ns(&st);
    m->os = fd;
    return CLIPVK_MAP_OK;
}

int clipvk_map_view(clipvk_mapped_file *m)
{
    int fd = (int)m->os;
    m->os = -1;
    void *p = m->size ? mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        errno = e;
        return -1;
    }
    m->data = p;
    m->mapped = 1;
    return 0;
}

void clipvk_unmap(void *data, size_t size)
{
    if (data) munmap(data, size);
}

void clipvk_map_close(clipvk_mapped_file *m)
{
    if (m->mapped) clipvk_unmap(m->data, m->size);
    else if (m->os >= 0) close((int)m->os);
    memset(m, 0, sizeof *m);
    m->os = -1;
}

int clipvk_mkdir(const char *path) { return mkdir(path, 0755); }

int clipvk_rmdir(const char *path) { return rmdir(path); }

int clipvk_make_temp_dir(const char *prefix, char *out, size_t n)
{
    int len = snprintf(out, n, "/tmp/%sXXXXXX", prefix);
    if (len < 0 || (size_t)len >= n) return errno = ENAMETOOLONG, -1;
    return mkdtemp(out) ? 0 : -1;
}

struct clipvk_dir {
    DIR *d;
};

clipvk_dir *clipvk_dir_open(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return NULL;
    clipvk_dir *r = malloc(sizeof *r);
    if (!r) {
        closedir(d);
        errno = ENOMEM;
        return NULL;
    }
    r->d = d;
    return r;
}

const char *clipvk_dir_next(clipvk_dir *d)
{
    struct dirent *e = readdir(d->d);
    return e ? e->d_name : NULL;
}

void clipvk_dir_close(clipvk_dir *d)
{
    if (!d) return;
    closedir(d->d);
    free(d);
}

int clipvk_default_cache_root(char *out, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int len;
    if (xdg && *xdg) len = snprintf(out, n, "%s/clipvk", xdg);
    else if (home && *home) len = snprintf(out, n, "%s/.cache/clipvk", home);
    else return -1;
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int clipvk_user_temp_path(const char *name, char *out, size_t n)
{
    int len = snprintf(out, n, "/tmp/%s-%ld", name, (long)getuid());
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

long clipvk_cpu_count(void) { return sysconf(_SC_NPROCESSORS_ONLN); }

long clipvk_process_id(void) { return (long)getpid(); }

int64_t clipvk_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
#if defined(__APPLE__)
    return (int64_t)ru.ru_maxrss; /* bytes on macOS */
#else
    return (int64_t)ru.ru_maxrss * 1024; /* KiB on Linux */
#endif
}

void *clipvk_lib_open(const char *name) { return dlopen(name, RTLD_NOW | RTLD_LOCAL); }

clipvk_proc clipvk_lib_sym(void *lib, const char *symbol) { return (clipvk_proc)dlsym(lib, symbol); }

void clipvk_lib_close(void *lib)
{
    if (lib) dlclose(lib);
}
