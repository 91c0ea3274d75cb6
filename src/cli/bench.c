#include "cli/cli.h"
int cli_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(CLI_FAIL, "bench: not built yet");
}
