/* clipvk: the command-line entry point. */
#include "cli/cli.h"
#include "clipvk.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("clipvk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"classify", cli_classify, "zero-shot classification of images against labels"},
    {"embed-image", cli_embed_image, "image embeddings of image files or preprocessed pixels (.npy)"},
    {"embed-text", cli_embed_text, "text embeddings of texts or token ids (.npy)"},
    {"index", cli_index, "embed a collection of images into an index file for search"},
    {"search", cli_search, "rank an index's images by similarity to a text or an image"},
    {"tokenize", cli_tokenize, "token ids of texts (the model's tokenizer: CLIP, SigLIP, SigLIP 2)"},
    {"preprocess", cli_preprocess, "decode and preprocess images to the model's pixels (.npy)"},
    {"devices", cli_devices, "list the Vulkan devices and what they can do"},
    {"bench", cli_bench, "measure the kernels (GFLOP/s) on the chosen device"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: clipvk COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
#ifdef _WIN32
    fprintf(f, "\n`clipvk COMMAND --help` lists a command's options.\n"
               "Environment: CLIPVK_MODEL (default model folder), CLIPVK_DEVICE (device index or name),\n"
               "CLIPVK_VALIDATION=1 (Vulkan validation layer); caches in %%LOCALAPPDATA%%\\clipvk;\n"
               "CLIPVK_VULKAN_LIBRARY (a Vulkan loader to use instead of vulkan-1.dll).\n");
#else
    fprintf(f, "\n`clipvk COMMAND --help` lists a command's options.\n"
               "Environment: CLIPVK_MODEL (default model folder), CLIPVK_DEVICE (device index or name),\n"
               "CLIPVK_VALIDATION=1 (Vulkan validation layer), XDG_CACHE_HOME (caches in $XDG_CACHE_HOME/clipvk),\n"
               "CLIPVK_VULKAN_LIBRARY (a Vulkan loader to use instead of libvulkan.so.1).\n");
#endif
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("clipvk %d.%d.%d\n", CLIPVK_VERSION_MAJOR, CLIPVK_VERSION_MINOR, CLIPVK_VERSION_PATCH);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    return cli_error(CLI_USAGE, "unknown command '%s' (see `clipvk --help`)", argv[1]);
}

void cli_json_write_string(FILE *f, const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *text = str ? cJSON_PrintUnformatted(str) : NULL;
    fputs(text ? text : "null", f);
    cJSON_free(text);
    cJSON_Delete(str);
}
