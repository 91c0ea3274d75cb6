/* The platform layer: the only code that includes operating-system headers.
 * posix.c (Linux, Android, macOS) and win32.c (Windows, mingw-w64 or MSVC)
 * implement it; CMake compiles the one for the target.
 *
 * Paths are UTF-8 everywhere; on Windows they go through the wide-character
 * API (MultiByteToWideChar), so a name in any script works, and both '/' and
 * '\' separate folders. Functions returning int give 0 on success and -1 with
 * errno set on failure (Windows errors are mapped to the nearest errno).
 * Threads are C11/POSIX threads (winpthreads under mingw-w64), not here. */
#ifndef CLIPVK_PLATFORM_H
#define CLIPVK_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The printf format archetype for __attribute__((format)): mingw-w64's
 * C99 printf (__USE_MINGW_ANSI_STDIO, which CMake sets: %zu, %lld) is
 * gnu_printf there, where plain "printf" would mean msvcrt's. */
#if defined(__MINGW_PRINTF_FORMAT)
#define CLIPVK_PRINTF_FORMAT __MINGW_PRINTF_FORMAT
#else
#define CLIPVK_PRINTF_FORMAT printf
#endif

/* The longest path the library handles (Linux's PATH_MAX; Windows' own
 * MAX_PATH is 260, but its wide API takes longer ones). */
#define CLIPVK_PATH_MAX 4096

/* ---- Files */
/* fopen with a UTF-8 path. */
FILE *clipvk_fopen(const char *path, const char *mode);
/* remove() of a file, UTF-8 path. */
int clipvk_remove(const char *path);
/* Atomically replaces `to` by `from` (rename over an existing file: POSIX
 * rename, Windows MoveFileExW with MOVEFILE_REPLACE_EXISTING). */
int clipvk_replace_file(const char *from, const char *to);
/* Forces a written (and fflush'ed) stream's data to the disk: fsync /
 * FlushFileBuffers. */
int clipvk_fsync(FILE *f);

enum { CLIPVK_PATH_OTHER = 0, CLIPVK_PATH_FILE = 1, CLIPVK_PATH_DIR = 2 };
typedef struct clipvk_path_info {
    int kind;         /* CLIPVK_PATH_FILE (regular), _DIR or _OTHER */
    int is_link;      /* a symbolic link (only when not followed) */
    int64_t size;     /* bytes */
    int64_t mtime_ns; /* modification time, ns since the epoch of the OS */
} clipvk_path_info;
/* stat (follow != 0) or lstat (follow == 0) of a path. */
int clipvk_path_info_get(const char *path, int follow, clipvk_path_info *out);
/* fstat of an open stream (kind and size only are meaningful on every OS). */
int clipvk_stream_info(FILE *f, clipvk_path_info *out);
/* The absolute, canonical form of an existing path (realpath /
 * GetFullPathNameW) into out[n]; NULL with errno set if it does not exist. */
char *clipvk_realpath(const char *path, char *out, size_t n);
/* Makes stdin or stdout carry bytes unchanged (Windows opens them in text
 * mode, turning "\n" into "\r\n"); nothing to do on POSIX. */
void clipvk_binary_stream(FILE *f);
/* Whether a stream is a terminal (isatty). */
int clipvk_isatty(FILE *f);
/* '/' everywhere, '\' too on Windows. */
int clipvk_is_path_sep(char c);

/* A stream writing into memory (open_memstream): open it, write, then
 * clipvk_memstream_close gives the NUL-terminated text (malloc'ed; NULL if
 * writing failed). On Windows the text goes through a temporary file. */
typedef struct clipvk_memstream {
    FILE *f;
    char *buf;
    size_t size;
} clipvk_memstream;
FILE *clipvk_memstream_open(clipvk_memstream *m);
char *clipvk_memstream_close(clipvk_memstream *m);

/* ---- File mapping: read-only view of a whole file. */
typedef struct clipvk_mapped_file {
    void *data;       /* NULL for an empty file */
    size_t size;
    int64_t mtime_ns;
    intptr_t os;      /* the open file (a descriptor or a HANDLE) until mapped */
    int mapped;
} clipvk_mapped_file;
enum { CLIPVK_MAP_OK = 0, CLIPVK_MAP_CANNOT_OPEN = -1, CLIPVK_MAP_NOT_FILE = -2 };
/* Opens a regular file and reads its size and mtime: CLIPVK_MAP_OK,
 * CLIPVK_MAP_CANNOT_OPEN (errno set) or CLIPVK_MAP_NOT_FILE. */
int clipvk_map_open(const char *path, clipvk_mapped_file *m);
/* Maps the opened file (and closes it: the mapping stays valid). 0 or -1
 * with errno; an empty file maps to data NULL. */
int clipvk_map_view(clipvk_mapped_file *m);
/* Unmaps, or closes a file opened and never mapped. */
void clipvk_map_close(clipvk_mapped_file *m);
/* Unmaps a view given by address and size (a mapping kept without its struct). */
void clipvk_unmap(void *data, size_t size);

/* ---- Folders */
/* Creates one folder; -1 with errno EEXIST if something is there already. */
int clipvk_mkdir(const char *path);
/* Removes an empty folder. */
int clipvk_rmdir(const char *path);
/* Makes a new, private folder PREFIX + random characters in the temporary
 * directory (mkdtemp under /tmp; %TEMP% on Windows), its path into out[n]. */
int clipvk_make_temp_dir(const char *prefix, char *out, size_t n);
/* Lists a folder: names (UTF-8, "." and ".." included or not depending on the
 * OS: callers skip names starting with '.'), in no particular order. */
typedef struct clipvk_dir clipvk_dir;
clipvk_dir *clipvk_dir_open(const char *path);
const char *clipvk_dir_next(clipvk_dir *d); /* NULL at the end */
void clipvk_dir_close(clipvk_dir *d);
/* The folder that holds clipvk's caches when the application names none:
 * $XDG_CACHE_HOME/clipvk, else $HOME/.cache/clipvk (POSIX);
 * %LOCALAPPDATA%\clipvk (Windows). -1 when the environment names none. */
int clipvk_default_cache_root(char *out, size_t n);
/* A per-user folder name under the temporary directory for `name`:
 * /tmp/NAME-UID (POSIX), %TEMP%\NAME (Windows, whose temp folder is per user). */
int clipvk_user_temp_path(const char *name, char *out, size_t n);

/* ---- Processes and libraries */
/* The number of online CPUs, or <= 0 if unknown. */
long clipvk_cpu_count(void);
long clipvk_process_id(void);
/* Peak resident memory of the process in bytes (max RSS / peak working
 * set), or -1 if unknown. */
int64_t clipvk_peak_rss_bytes(void);
typedef void (*clipvk_proc)(void);
/* dlopen(RTLD_NOW | RTLD_LOCAL) / LoadLibraryW; NULL if it cannot be loaded. */
void *clipvk_lib_open(const char *name);
clipvk_proc clipvk_lib_sym(void *lib, const char *symbol);
void clipvk_lib_close(void *lib);

#endif
