/*
 * Test harness shared by the kernel tests: a runtime with the validation
 * layer on (any message fails the test), deterministic random data, and
 * comparisons against plain-C references.
 */
#ifndef CLIPVK_TEST_HARNESS_H
#define CLIPVK_TEST_HARNESS_H

#include "core/runtime.h"
#include "kernels/kernels.h"

#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* A value no kernel produces: outputs are filled with it first, so an element
 * the kernel forgot to write is caught. */
#define POISON_BITS 0x7fc0dead


/* Aborts the test with a message when a clipvk call fails. */
#define OK(call)                                                                \
    do {                                                                        \
        clipvk_status s_ = (call);                                              \
        if (s_) {                                                               \
            fprintf(stderr, "FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__,   \
                    #call, clipvk_status_string(s_), test_err.msg);             \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

extern clipvk_error test_err;

/* Creates the runtime (validation on, no pipeline cache on disk). */
clipvk_runtime *test_runtime(void);
/* Destroys it; fails the test on any validation message. Returns the exit code. */
int test_finish(clipvk_runtime *rt);

/* xorshift random numbers, reproducible across platforms. */
void test_seed(uint64_t s);
float test_uniform(float lo, float hi);
void test_fill(float *x, size_t n, float lo, float hi);

/* Allocates a device buffer of n floats and uploads x (or poison when x is NULL). */
clipvk_buffer test_buffer(clipvk_runtime *rt, const float *x, size_t n);
/* Downloads n floats. */
void test_read(clipvk_runtime *rt, const clipvk_buffer *b, float *x, size_t n);

/* Compares got with want; each element must satisfy
 * |got - want| <= atol + rtol * |want|, and none may be the poison.
 * Prints the worst element and returns the number of bad elements. */
size_t test_compare(const char *what, const float *got, const float *want, size_t n, double atol, double rtol);


#endif
