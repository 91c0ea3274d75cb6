/*
 * JPEG decode time: stb_image vs clipvk's JPEG decode (src/image/jpeg.c:
 * libjpeg-turbo, as PIL decodes), alternating, best of N runs of each.
 * stb is the common yardstick when binaries of two clipvk versions are
 * compared on one machine.
 *
 *   build/bench_jpeg FILE.jpg [runs] [threads]   (built with the project)
 *
 * threads: the budget passed to clipvk_jpeg_decode (default 1; libjpeg-turbo
 * uses one whatever it is, clipvk's earlier own decoder used up to it).
 *
 * (stb configured as in src/image/stb.h, JPEG only.)
 */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb/stb_image.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "image/jpeg.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_jpeg FILE.jpg [runs] [threads]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    unsigned threads = argc > 3 ? (unsigned)atoi(argv[3]) : 1;
    double best_stb = 1e30, best_own = 1e30;
    for (int r = 0; r < runs; r++) {
        int w, h, c;
        double t0 = now_ms();
        unsigned char *p = stbi_load_from_memory(b, (int)n, &w, &h, &c, 3);
        double t1 = now_ms();
        if (!p) {
            fprintf(stderr, "stb: %s\n", stbi_failure_reason());
            return 1;
        }
        free(p);
        clipvk_image im;
        clipvk_error e;
        double t2 = now_ms();
        if (clipvk_jpeg_decode(argv[1], b, (size_t)n, 0, threads, &im, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        double t3 = now_ms();
        clipvk_image_free(&im);
        if (t1 - t0 < best_stb) best_stb = t1 - t0;
        if (t3 - t2 < best_own) best_own = t3 - t2;
    }
    printf("%s: stb_image %.1f ms, clipvk %.1f ms, ratio %.2f\n", argv[1], best_stb, best_own, best_own / best_stb);
    free(b);
    return 0;
}
