/* The clipvk command-line program: one function per command. */
#ifndef CLIPVK_CLI_H
#define CLIPVK_CLI_H

#include "platform/platform.h"
#include <stdint.h>
#include <stdio.h>
#include "clipvk.h"

/* Exit codes: 0 success, 1 bad input or a failure while running, 2 bad usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_devices(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_preprocess(int argc, char **argv);
int cli_embed_image(int argc, char **argv);
int cli_embed_text(int argc, char **argv);
int cli_classify(int argc, char **argv);
int cli_index(int argc, char **argv);
int cli_search(int argc, char **argv);


/* The options every model command shares. */
typedef struct cli_model_opts {
    const char *model;      /* --model DIR; NULL: see cli_open_model */
    const char *device;     /* --device */
    const char *precision;  /* --precision fp32|fp16 */
    uint32_t batch;         /* --batch */
    int towers;             /* --tower image|text|both (CLIPVK_TOWERS_*); 0: what the command needs */
    int profile;            /* time every dispatch (bench --profile; not an option of its own) */
    uint64_t max_pixels;    /* --max-pixels; 0: the library's default */
    uint64_t memory_budget; /* --memory-budget, in bytes; 0: no limit */
    int tensor_cores;       /* --tensor-cores */
    uint32_t threads;       /* --threads (the native CPU backend); 0: one per core */
} cli_model_opts;

/* Consumes argv[*i] (and its value) if it is one of those options: returns
 * 1 if it was, 0 if not, -1 after printing a usage error. */
int cli_model_option(cli_model_opts *o, int argc, char **argv, int *i);
/* Prints them; model: the command's own --model line(s), NULL for the usual. */
void cli_model_usage(FILE *f, const char *model);
/* Creates the context alone, from --device, --memory-budget and profile (for
 * commands that need the device but no model). Prints the error and returns
 * its code; *ctx may be set even then: free it with cli_close_model. */
int cli_open_context(const cli_model_opts *o, clipvk_context **ctx);
/* Creates the context and loads the model. The folder is --model, else
 * $CLIPVK_MODEL, else the first folder under ./models with a config.json,
 * else a small random-weight model written to the cache (with a warning
 * that its answers mean nothing). Prints the error and returns its code. */
int cli_open_model(const cli_model_opts *o, int towers, clipvk_context **ctx, clipvk_model **m);
/* Loads the model (folder found as cli_open_model does) into an existing context. */
int cli_load_model(const cli_model_opts *o, int towers, clipvk_context *ctx, clipvk_model **m);
/* Writes s as a JSON string literal, quotes included. */
void cli_json_write_string(FILE *f, const char *s);
/* `clipvk bench --model`: the towers end to end at each batch size of a comma list. */
int cli_bench_model(const cli_model_opts *o, const char *batches, uint32_t iters, int json);
/* Frees both (either may be NULL); a success becomes a failure if Vulkan
 * validation complained. */
int cli_close_model(clipvk_context *ctx, clipvk_model *m, int code);
int cli_tokenize(int argc, char **argv);


/* Prints "clipvk: <message>" to stderr; returns code. */
int cli_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(CLIPVK_PRINTF_FORMAT, 2, 3)))
#endif
    ;

#endif
