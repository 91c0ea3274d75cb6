/*
 * The golden model (<test data>/golden, made by OpenAI's reference code) for
 * the tests of the public API: test_api and test_faults see clipvk only as
 * an embedding program does, through clipvk.h, so this uses nothing else.
 */
#ifndef CLIPVK_TEST_GOLDEN_H
#define CLIPVK_TEST_GOLDEN_H

#include "clipvk.h"

#include <stdint.h>

/* The model folder and a photo of the golden set (set by test_golden_require). */
extern char test_golden_model[1024], test_golden_image[1024];

/* Finds the golden set in the test data folder (check.h: test_data_dir);
 * without it (the test data is not part of the repository) says so and exits
 * 77, which ctest counts as a skip. */
void test_golden_require(void);

/* A context with validation on (any message fails the test) and no pipeline
 * cache on disk, so runs do not depend on each other; budget and timeout as in
 * clipvk_context_options (0: none, the default). Exits the test if it fails. */
clipvk_context *test_context(uint64_t budget, uint32_t fence_timeout_ms);

/* Loads the golden model: weights at precision p, batch inputs per submission (0: the default). */
clipvk_status test_golden_load(clipvk_context *ctx, clipvk_precision p, uint32_t batch, clipvk_model **m);

#endif
