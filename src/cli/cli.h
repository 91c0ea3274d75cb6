/* The clipvk command-line program: one function per command. */
#ifndef CLIPVK_CLI_H
#define CLIPVK_CLI_H

#include <stdint.h>

/* Exit codes: 0 success, 1 bad input or a failure while running, 2 bad usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_devices(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_preprocess(int argc, char **argv);
int cli_embed_image(int argc, char **argv);
int cli_embed_text(int argc, char **argv);
int cli_index(int argc, char **argv);
int cli_search(int argc, char **argv);

struct clipvk_runtime;
struct clipvk_net;
/* Creates the runtime and loads a model (towers: CLIPVK_TOWERS_*); prints the error. */
int cli_load_model(const char *dir, const char *device, const char *precision, int towers, uint32_t batch,
                   struct clipvk_runtime **rt, struct clipvk_net **m);
/* Destroys both; turns a success into a failure if Vulkan validation complained. */
int cli_finish(struct clipvk_runtime *rt, struct clipvk_net *m, int code);
int cli_tokenize(int argc, char **argv);

struct clipvk_context;
struct clipvk_model;
/* The public-API counterparts (index, search): a context and a model with the
 * given towers (CLIPVK_TOWERS_*); prints the error. precision: NULL, "fp32" or "fp16". */
int cli_open_model(const char *dir, const char *device, const char *precision, int towers, uint32_t batch,
                   struct clipvk_context **ctx, struct clipvk_model **m);
/* Frees both; turns a success into a failure if Vulkan validation complained. */
int cli_close_model(struct clipvk_context *ctx, struct clipvk_model *m, int code);

/* Prints "clipvk: <message>" to stderr; returns code. */
int cli_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
