#include "golden.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

char test_golden_model[1024], test_golden_image[1024];

void test_golden_require(void)
{
    struct stat st;
    snprintf(test_golden_model, sizeof test_golden_model, "%s/golden/model", test_data_dir());
    snprintf(test_golden_image, sizeof test_golden_image, "%s/golden/images/chelsea.png", test_data_dir());
    if (stat(test_golden_model, &st) != 0) TEST_DATA_SKIP(test_golden_model);
}

clipvk_context *test_context(uint64_t budget, uint32_t fence_timeout_ms)
{
    clipvk_context_options o;
    clipvk_context_options_init(&o);
    o.validation = test_validation();
    o.cache_dir = "";
    o.device_memory_budget = budget;
    o.fence_timeout_ms = fence_timeout_ms;
    clipvk_context *ctx;
    if (clipvk_context_create(&o, &ctx)) {
        fprintf(stderr, "FAIL: context: %s\n", clipvk_context_last_error(ctx));
        exit(1);
    }
    return ctx;
}

clipvk_status test_golden_load(clipvk_context *ctx, clipvk_precision p, uint32_t batch, clipvk_model **m)
{
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.precision = p;
    mo.max_batch = batch;
    return clipvk_model_load(ctx, test_golden_model, &mo, m);
}
