/*
 * make_model: writes a random-weight CLIP folder with clipvk's own writer
 * (no Python needed), for benchmarks on machines that only have the built
 * binaries, such as the lent GPU machine (tools/device_check.sh).
 *   make_model DIR [demo|vit-b-32]
 */
#include "model/demo_model.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: make_model DIR [demo|vit-b-32]\n");
        return 2;
    }
    clipvk_error err = {0};
    if (clipvk_demo_model_write(argv[1], argc == 3 ? argv[2] : NULL, &err)) {
        fprintf(stderr, "make_model: %s\n", err.msg);
        return 1;
    }
    return 0;
}
