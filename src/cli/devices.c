/* clipvk devices [--json]: every Vulkan device, its limits and features, and the native CPU backend. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

int cli_devices(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: clipvk devices [--json]\n\n"
                   "Lists every Vulkan device: name, type, driver, API version, memory heaps, the limits\n"
                   "and optional features clipvk uses, and known driver quirks.\n"
                   "  --json   one JSON array of objects instead of text\n");
            return CLI_OK;
        } else {
            return cli_error(CLI_USAGE, "devices: unknown option '%s'", argv[i]);
        }
    }
    clipvk_device_list *l;
    if (clipvk_device_list_create(&l)) {
        int code = cli_error(CLI_FAIL, "%s", l ? clipvk_device_list_last_error(l) : "out of host memory");
        clipvk_device_list_destroy(l);
        return code;
    }
    int code = CLI_OK;
    uint32_t n = clipvk_device_list_count(l);
    if (*clipvk_device_list_last_error(l)) /* no Vulkan: the CPU backend alone */
        fprintf(stderr, "clipvk: note: %s\n", clipvk_device_list_last_error(l));
    if (json) printf("[");
    for (uint32_t i = 0; i < n && !code; i++) {
        const char *text = clipvk_device_list_describe(l, i, json);
        if (!text) code = cli_error(CLI_FAIL, "out of host memory");
        else printf("%s%s", json && i ? ",\n " : "", text);
    }
    if (json && !code) printf("]\n");
    clipvk_device_list_destroy(l);
    return code;
}
