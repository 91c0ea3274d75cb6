/* clipvk devices [--json]: every Vulkan device, its limits and features. */
#include "cli/cli.h"
#include "core/device.h"

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
    clipvk_device_caps *caps;
    uint32_t n;
    clipvk_error err = {0};
    if (clipvk_devices_query(&caps, &n, &err)) return cli_error(CLI_FAIL, "%s", err.msg);
    if (json) printf("[");
    for (uint32_t i = 0; i < n; i++) {
        if (json && i) printf(",\n ");
        clipvk_device_caps_print(stdout, &caps[i], json);
    }
    if (json) printf("]\n");
    free(caps);
    return CLI_OK;
}
