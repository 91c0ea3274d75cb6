/* The platform layer on Windows (mingw-w64 or MSVC); see platform.h. Every
 * path is UTF-8 on the way in and out, and wide (UTF-16) at the API. */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef PSAPI_VERSION
#define PSAPI_VERSION 2 /* K32GetProcessMemoryInfo, in kernel32: no psapi.lib */
#endif
#include "platform/platform.h"

#include <windows.h>
#include <psapi.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <process.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

/* GetLastError() as the nearest errno. */
static int set_errno(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_NETPATH:
    case ERROR_INVALID_DRIVE: errno = ENOENT; break;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION: errno = EACCES; break;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS: errno = EEXIST; break;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: errno = ENOMEM; break;
    case ERROR_FILENAME_EXCED_RANGE: errno = ENAMETOOLONG; break;
    case ERROR_DIRECTORY: errno = ENOTDIR; break;
    case ERROR_DISK_FULL: errno = ENOSPC; break;
    default: errno = EIO; break;
    }
    return -1;
}

/* A UTF-8 string as a malloc'ed wide one; NULL (errno set) if invalid or out of memory. */
static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        errno = ENOENT;
        return NULL;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

/* A wide string as UTF-8 into out[n]; -1 if it does not fit. */
static int narrow(const wchar_t *w, char *out, size_t n)
{
    int len = WideCharToMultiByte(CP_UTF8, 0, w, -1, out, n > INT_MAX ? INT_MAX : (int)n, NULL, NULL);
    if (len <= 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

FILE *clipvk_fopen(const char *path, const char *mode)
{
    wchar_t *wp = wide(path), *wm = wide(mode);
    FILE *f = wp && wm ? _wfopen(wp, wm) : NULL;
    free(wp);
    free(wm);
    return f;
}

int clipvk_remove(const char *path)
{
    wchar_t *w = wide(path);
    if (!w) return -1;
    int r = DeleteFileW(w) ? 0 : set_errno(GetLastError());
    free(w);
    return r;
}

int clipvk_replace_file(const char *from, const char *to)
{
    wchar_t *wf = wide(from), *wt = wide(to);
    int r = -1;
    if (wf && wt)
        r = MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) ? 0 : set_errno(GetLastError());
    free(wf);
    free(wt);
    return r;
}

int clipvk_fsync(FILE *f)
{
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    if (h == INVALID_HANDLE_VALUE) return errno = EBADF, -1;
    return FlushFileBuffers(h) ? 0 : set_errno(GetLastError());
}

FILE *clipvk_memstream_open(clipvk_memstream *m)
{
    m->buf = NULL;
    m->size = 0;
    m->f = NULL;
    /* a temporary file of our own (msvcrt's tmpfile() writes to the drive's root) */
    wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1];
    DWORD len = GetTempPathW(MAX_PATH + 1, dir);
    if (!len || len > MAX_PATH || !GetTempFileNameW(dir, L"cvk", 0, name)) return NULL;
    HANDLE h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DeleteFileW(name);
        return NULL;
    }
    int fd = _open_osfhandle((intptr_t)h, 0);
    if (fd < 0) {
        CloseHandle(h);
        return NULL;
    }
    if (!(m->f = _fdopen(fd, "w+b"))) _close(fd);
    return m->f;
}

char *clipvk_memstream_close(clipvk_memstream *m)
{
    FILE *f = m->f;
    long n = fflush(f) == 0 && !ferror(f) ? ftell(f) : -1;
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf) {
        rewind(f);
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            m->size = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f); /* deletes the file */
    return m->buf = buf;
}

/* FILETIME (100 ns since 1601) as ns since the Unix epoch. */
static int64_t filetime_ns(FILETIME t)
{
    int64_t v = (int64_t)(((uint64_t)t.dwHighDateTime << 32) | t.dwLowDateTime);
    return (v - 116444736000000000LL) * 100;
}

static void fill_info(DWORD attrs, DWORD size_hi, DWORD size_lo, FILETIME mtime, clipvk_path_info *out)
{
    out->kind = attrs & FILE_ATTRIBUTE_DIRECTORY ? CLIPVK_PATH_DIR
                : attrs & FILE_ATTRIBUTE_DEVICE  ? CLIPVK_PATH_OTHER
                                                 : CLIPVK_PATH_FILE;
    out->is_link = 0;
    out->size = (int64_t)(((uint64_t)size_hi << 32) | size_lo);
    out->mtime_ns = filetime_ns(mtime);
}

/* The file a path names, opened for its attributes only (a folder too). */
static HANDLE open_attrs(const wchar_t *w)
{
    return CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                       FILE_FLAG_BACKUP_SEMANTICS, NULL);
}

static int handle_info(HANDLE h, clipvk_path_info *out)
{
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle(h, &bi)) return set_errno(GetLastError());
    fill_info(bi.dwFileAttributes, bi.nFileSizeHigh, bi.nFileSizeLow, bi.ftLastWriteTime, out);
    if (GetFileType(h) != FILE_TYPE_DISK) out->kind = CLIPVK_PATH_OTHER;
    return 0;
}

int clipvk_path_info_get(const char *path, int follow, clipvk_path_info *out)
{
    wchar_t *w = wide(path);
    if (!w) return -1;
    WIN32_FILE_ATTRIBUTE_DATA a;
    int r;
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &a)) {
        r = set_errno(GetLastError());
    } else if (!(a.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
        fill_info(a.dwFileAttributes, a.nFileSizeHigh, a.nFileSizeLow, a.ftLastWriteTime, out);
        r = 0;
    } else if (!follow) { /* a symbolic link or junction, not followed */
        fill_info(a.dwFileAttributes, a.nFileSizeHigh, a.nFileSizeLow, a.ftLastWriteTime, out);
        out->kind = CLIPVK_PATH_OTHER;
        out->is_link = 1;
        r = 0;
    } else { /* followed: what the link points to */
        HANDLE h = open_attrs(w);
        if (h == INVALID_HANDLE_VALUE) {
            r = set_errno(GetLastError());
        } else {
            r = handle_info(h, out);
            CloseHandle(h);
        }
    }
    free(w);
    return r;
}

int clipvk_stream_info(FILE *f, clipvk_path_info *out)
{
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    if (h == INVALID_HANDLE_VALUE) return errno = EBADF, -1;
    if (GetFileType(h) != FILE_TYPE_DISK) { /* a pipe or a console */
        memset(out, 0, sizeof *out);
        out->kind = CLIPVK_PATH_OTHER;
        return 0;
    }
    return handle_info(h, out);
}

char *clipvk_realpath(const char *path, char *out, size_t n)
{
    wchar_t *w = wide(path);
    if (!w) return NULL;
    char *r = NULL;
    DWORD len = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = len ? malloc((size_t)len * sizeof *full) : NULL;
    if (!len) set_errno(GetLastError());
    else if (!full) errno = ENOMEM;
    else if (GetFullPathNameW(w, len, full, NULL) == 0) set_errno(GetLastError());
    else if (GetFileAttributesW(full) == INVALID_FILE_ATTRIBUTES) set_errno(GetLastError()); /* as realpath: must exist */
    else if (narrow(full, out, n) == 0) r = out;
    free(full);
    free(w);
    return r;
}

void clipvk_binary_stream(FILE *f)
{
    fflush(f);
    _setmode(_fileno(f), _O_BINARY);
}

int clipvk_isatty(FILE *f) { return _isatty(_fileno(f)); }

int clipvk_is_path_sep(char c) { return c == '/' || c == '\\'; }

int clipvk_map_open(const char *path, clipvk_mapped_file *m)
{
    memset(m, 0, sizeof *m);
    m->os = (intptr_t)INVALID_HANDLE_VALUE;
    wchar_t *w = wide(path);
    if (!w) return CLIPVK_MAP_CANNOT_OPEN;
    HANDLE h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return set_errno(GetLastError()), CLIPVK_MAP_CANNOT_OPEN;
    clipvk_path_info info;
    if (handle_info(h, &info) != 0 || info.kind != CLIPVK_PATH_FILE) {
        CloseHandle(h);
        return CLIPVK_MAP_NOT_FILE;
    }
    m->size = (size_t)info.size;
    m->mtime_ns = info.mtime_ns;
    m->os = (intptr_t)h;
    return CLIPVK_MAP_OK;
}

int clipvk_map_view(clipvk_mapped_file *m)
{
    HANDLE h = (HANDLE)m->os;
    m->os = (intptr_t)INVALID_HANDLE_VALUE;
    void *p = NULL;
    int r = 0;
    if (m->size) {
        HANDLE fm = CreateFileMappingW(h, NULL, PAGE_READONLY, 0, 0, NULL);
        if (!fm) {
            r = set_errno(GetLastError());
        } else {
            p = MapViewOfFile(fm, FILE_MAP_READ, 0, 0, m->size);
            if (!p) r = set_errno(GetLastError());
            CloseHandle(fm); /* the view keeps the mapping alive */
        }
    }
    CloseHandle(h);
    if (r) return r;
    m->data = p;
    m->mapped = 1;
    return 0;
}

void clipvk_unmap(void *data, size_t size)
{
    (void)size;
    if (data) UnmapViewOfFile(data);
}

void clipvk_map_close(clipvk_mapped_file *m)
{
    if (m->mapped) clipvk_unmap(m->data, m->size);
    else if ((HANDLE)m->os != INVALID_HANDLE_VALUE && m->os) CloseHandle((HANDLE)m->os);
    memset(m, 0, sizeof *m);
    m->os = (intptr_t)INVALID_HANDLE_VALUE;
}

int clipvk_mkdir(const char *path)
{
    wchar_t *w = wide(path);
    if (!w) return -1;
    int r = 0;
    if (!CreateDirectoryW(w, NULL)) {
        DWORD e = GetLastError();
        /* "C:" or "\\server\share" exist without being creatable */
        if (e == ERROR_ALREADY_EXISTS || GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES) errno = EEXIST, r = -1;
        else r = set_errno(e);
    }
    free(w);
    return r;
}

int clipvk_rmdir(const char *path)
{
    wchar_t *w = wide(path);
    if (!w) return -1;
    int r = RemoveDirectoryW(w) ? 0 : set_errno(GetLastError());
    free(w);
    return r;
}

int clipvk_make_temp_dir(const char *prefix, char *out, size_t n)
{
    wchar_t tmp[MAX_PATH + 1];
    char base[MAX_PATH * 3 + 1];
    DWORD len = GetTempPathW(MAX_PATH + 1, tmp); /* ends in '\' */
    if (!len || len > MAX_PATH || narrow(tmp, base, sizeof base) != 0) return -1;
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t x = ((uint64_t)GetCurrentProcessId() << 32) ^ GetTickCount64() ^ (uintptr_t)out;
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[7];
        for (int i = 0; i < 6; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            suffix[i] = chars[(x >> 33) % (sizeof chars - 1)];
        }
        suffix[6] = '\0';
        int k = snprintf(out, n, "%s%s%s", base, prefix, suffix);
        if (k < 0 || (size_t)k >= n) return errno = ENAMETOOLONG, -1;
        if (clipvk_mkdir(out) == 0) return 0;
        if (errno != EEXIST) return -1;
    }
    return -1;
}

struct clipvk_dir {
    HANDLE find;
    int first; /* the entry FindFirstFileW gave is not read yet */
    WIN32_FIND_DATAW entry;
    char name[MAX_PATH * 3 + 1];
};

clipvk_dir *clipvk_dir_open(const char *path)
{
    size_t len = strlen(path);
    char *pattern = malloc(len + 3);
    if (!pattern) return errno = ENOMEM, NULL;
    memcpy(pattern, path, len);
    size_t k = len;
    if (k && !clipvk_is_path_sep(path[k - 1])) pattern[k++] = '\\';
    pattern[k++] = '*';
    pattern[k] = '\0';
    wchar_t *w = wide(pattern);
    free(pattern);
    if (!w) return NULL;
    clipvk_dir *d = calloc(1, sizeof *d);
    if (!d) {
        free(w);
        return errno = ENOMEM, NULL;
    }
    d->find = FindFirstFileW(w, &d->entry);
    free(w);
    if (d->find == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        free(d);
        set_errno(e == ERROR_FILE_NOT_FOUND ? ERROR_PATH_NOT_FOUND : e);
        return NULL;
    }
    d->first = 1;
    return d;
}

const char *clipvk_dir_next(clipvk_dir *d)
{
    for (;;) {
        if (!d->first && !FindNextFileW(d->find, &d->entry)) return NULL;
        d->first = 0;
        if (narrow(d->entry.cFileName, d->name, sizeof d->name) == 0) return d->name;
        /* a name that does not convert is skipped */
    }
}

void clipvk_dir_close(clipvk_dir *d)
{
    if (!d) return;
    FindClose(d->find);
    free(d);
}

/* An environment variable through the wide API (UTF-8 out); -1 if unset or empty. */
static int env_utf8(const wchar_t *name, char *out, size_t n)
{
    const wchar_t *v = _wgetenv(name);
    if (!v || !*v) return -1;
    return narrow(v, out, n);
}

int clipvk_default_cache_root(char *out, size_t n)
{
    char base[MAX_PATH * 3 + 1];
    if (env_utf8(L"LOCALAPPDATA", base, sizeof base) != 0) return -1;
    int len = snprintf(out, n, "%s\\clipvk", base);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int clipvk_user_temp_path(const char *name, char *out, size_t n)
{
    wchar_t tmp[MAX_PATH + 1];
    char base[MAX_PATH * 3 + 1];
    DWORD len = GetTempPathW(MAX_PATH + 1, tmp); /* ends in '\' */
    if (!len || len > MAX_PATH || narrow(tmp, base, sizeof base) != 0) return -1;
    int k = snprintf(out, n, "%s%s", base, name);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

long clipvk_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    if (!n) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        n = si.dwNumberOfProcessors;
    }
    return (long)n;
}

long clipvk_process_id(void) { return (long)GetCurrentProcessId(); }

int64_t clipvk_peak_rss_bytes(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) return -1;
    return (int64_t)pmc.PeakWorkingSetSize;
}

void *clipvk_lib_open(const char *name)
{
    wchar_t *w = wide(name);
    if (!w) return NULL;
    /* no "cannot find the DLL" dialog box */
    UINT old = SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
    HMODULE h = LoadLibraryW(w);
    SetErrorMode(old);
    free(w);
    return (void *)h;
}

clipvk_proc clipvk_lib_sym(void *lib, const char *symbol)
{
    return (clipvk_proc)(void (*)(void))GetProcAddress((HMODULE)lib, symbol);
}

void clipvk_lib_close(void *lib)
{
    if (lib) FreeLibrary((HMODULE)lib);
}
