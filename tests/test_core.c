/*
 * The Vulkan core: sub-allocation (many tensors, few memory blocks; freed
 * memory reused; the memory budget gives a clean out-of-memory error and the
 * runtime stays usable), barriers only between dependent dispatches, GPU
 * timestamps, and the on-disk pipeline cache.
 */
#include "harness.h"
#include "platform/platform.h"
#include "util/file.h"

#include <stdlib.h>
#include <string.h>

static void test_allocator(clipvk_runtime *rt)
{
    /* 5000 small tensors must not become 5000 VkDeviceMemory allocations
     * (devices allow as few as 4096). */
    enum { N = 5000 };
    clipvk_buffer *b = calloc(N, sizeof *b);
    for (int i = 0; i < N; i++) OK(clipvk_alloc(rt->tensors, 1000 + (i % 7) * 300, &b[i], &test_err));
    CHECK(clipvk_allocator_bytes(rt->tensors) <= (128u << 20), "5000 small tensors took %llu bytes of blocks",
          (unsigned long long)clipvk_allocator_bytes(rt->tensors));
    /* ranges of one block never overlap and respect the offset alignment */
    for (int i = 1; i < N; i++) {
        CHECK(b[i].offset % rt->dev->caps.min_storage_buffer_offset_alignment == 0, "misaligned offset");
        if (b[i].buffer == b[i - 1].buffer)
            CHECK(b[i].offset >= b[i - 1].offset + b[i - 1].size || b[i - 1].offset >= b[i].offset + b[i].size,
                  "tensors %d and %d overlap", i - 1, i);
    }
    /* free every other one, then everything: blocks are released */
    for (int i = 0; i < N; i += 2) clipvk_free(rt->tensors, &b[i]);
    clipvk_buffer big;
    OK(clipvk_alloc(rt->tensors, 3000, &big, &test_err)); /* fits in a freed hole */
    clipvk_free(rt->tensors, &big);
    for (int i = 1; i < N; i += 2) clipvk_free(rt->tensors, &b[i]);
    CHECK(clipvk_allocator_bytes(rt->tensors) == 0, "%llu bytes still held after freeing everything",
          (unsigned long long)clipvk_allocator_bytes(rt->tensors));
    free(b);
}

static void test_budget(void)
{
    clipvk_runtime_options opt = {.device = {.validation = test_validation(), .memory_budget = 100u << 20}, .cache_dir = ""};
    clipvk_runtime *rt;
    OK(clipvk_runtime_create(&opt, &rt, &test_err));
    clipvk_buffer a, b;
    OK(clipvk_alloc(rt->tensors, 80u << 20, &a, &test_err));
    clipvk_error e = {0};
    clipvk_status s = clipvk_alloc(rt->tensors, 80u << 20, &b, &e);
    CHECK(s == CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY, "allocation past the budget gave status %d", s);
    CHECK(strstr(e.msg, "smaller batch") != NULL, "out-of-memory message gives no advice: %s", e.msg);
    clipvk_free(rt->tensors, &a);
    OK(clipvk_alloc(rt->tensors, 80u << 20, &b, &test_err)); /* usable again */
    clipvk_free(rt->tensors, &b);
    test_failures += test_finish(rt) ? 1 : 0;
}

static void test_barriers(clipvk_runtime *rt)
{
    size_t n = 4096;
    float *x = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);
    test_fill(x, n, -1, 1);
    clipvk_buffer a = test_buffer(rt, x, n), b = test_buffer(rt, x, n), c = test_buffer(rt, NULL, n),
                  d = test_buffer(rt, NULL, n), e = test_buffer(rt, NULL, n);
    clipvk_cmd *cmd;
    OK(clipvk_cmd_create(rt->dev, 1, &cmd, &test_err));
    OK(clipvk_cmd_begin(cmd, &test_err));
    /* c = a + b and d = a + a read the same inputs: independent, no barrier */
    OK(clipvk_add(rt, cmd, &a, &b, &c, n, &test_err));
    OK(clipvk_add(rt, cmd, &a, &a, &d, n, &test_err));
    CHECK(clipvk_cmd_barriers(cmd) == 0, "independent dispatches got %u barriers", clipvk_cmd_barriers(cmd));
    /* e = c + d reads what both wrote: one barrier */
    OK(clipvk_add(rt, cmd, &c, &d, &e, n, &test_err));
    CHECK(clipvk_cmd_barriers(cmd) == 1, "dependent dispatch: %u barriers, want 1", clipvk_cmd_barriers(cmd));
    /* a = a + b overwrites an input read before the last barrier... and e? no: a was read by
     * dispatches before the barrier, so no new barrier is needed */
    OK(clipvk_add(rt, cmd, &b, &b, &a, n, &test_err));
    CHECK(clipvk_cmd_barriers(cmd) == 1, "write after an already-fenced read: %u barriers", clipvk_cmd_barriers(cmd));
    /* c = b + b overwrites c, which e's dispatch read since the last barrier: write-after-read */
    OK(clipvk_add(rt, cmd, &b, &b, &c, n, &test_err));
    CHECK(clipvk_cmd_barriers(cmd) == 2, "write-after-read: %u barriers, want 2", clipvk_cmd_barriers(cmd));
    OK(clipvk_cmd_end(cmd, &test_err));
    for (int rep = 0; rep < 2; rep++) { /* a recording replays */
        OK(clipvk_upload(rt, &a, 0, x, n * 4, &test_err));
        OK(clipvk_cmd_submit(cmd, &test_err));
        test_read(rt, &e, got, n);
        for (size_t i = 0; i < n; i++) want[i] = (x[i] + x[i]) + (x[i] + x[i]);
        test_compare("e = (a+b) + (a+a)", got, want, n, 0, 0);
    }
    uint32_t nt;
    const clipvk_timing *t = clipvk_cmd_timings(cmd, &nt);
    if (rt->dev->caps.timestamp_period > 0) {
        CHECK(nt == 5, "%u timings for 5 dispatches", nt);
        for (uint32_t i = 0; i < nt; i++) CHECK(t[i].ms >= 0 && t[i].ms < 1e4, "timing %u: %g ms", i, t[i].ms);
    }
    clipvk_cmd_destroy(cmd);
    clipvk_buffer *all[] = {&a, &b, &c, &d, &e};
    for (int i = 0; i < 5; i++) clipvk_free(rt->tensors, all[i]);
    free(x), free(got), free(want);
}

static void test_pipeline_cache(void)
{
    char dir[1024];
    CHECK(clipvk_make_temp_dir("clipvk-cache-", dir, sizeof dir) == 0, "mkdtemp");
    for (int round = 0; round < 2; round++) {
        clipvk_runtime_options opt = {.device = {.validation = test_validation()}, .cache_dir = dir};
        clipvk_runtime *rt;
        OK(clipvk_runtime_create(&opt, &rt, &test_err));
        const clipvk_pipeline *p;
        uint32_t wg = 64;
        OK(clipvk_pipeline_get(rt->pipelines, "add", &wg, 1, 3, 4, &p, &test_err));
        const clipvk_pipeline *again;
        OK(clipvk_pipeline_get(rt->pipelines, "add", &wg, 1, 3, 4, &again, &test_err));
        CHECK(p == again && clipvk_pipelines_count(rt->pipelines) == 1, "pipeline not reused");
        clipvk_error e = {0};
        CHECK(clipvk_pipeline_get(rt->pipelines, "no-such-shader", NULL, 0, 1, 0, &p, &e) == CLIPVK_ERROR_UNSUPPORTED,
              "unknown shader accepted");
        test_failures += test_finish(rt) ? 1 : 0;
    }
    /* the first runtime saved the cache; a corrupt file must be ignored, not trusted */
    int written = 0, corrupted = 1;
    clipvk_dir *d = clipvk_dir_open(dir);
    for (const char *name; d && (name = clipvk_dir_next(d));) {
        size_t len = strlen(name);
        if (strncmp(name, "pipelines-", 10) || len < 14 || strcmp(name + len - 4, ".bin")) continue;
        written++;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = clipvk_fopen(path, "wb");
        for (int i = 0; f && i < 40; i++) fputc(rand() & 0xff, f);
        if (!f || fclose(f)) corrupted = 0;
    }
    clipvk_dir_close(d);
    CHECK(written > 0, "no pipeline cache file written in %s", dir);
    CHECK(corrupted, "corrupting the cache");
    clipvk_runtime_options opt = {.device = {.validation = test_validation()}, .cache_dir = dir};
    clipvk_runtime *rt;
    OK(clipvk_runtime_create(&opt, &rt, &test_err));
    test_failures += test_finish(rt) ? 1 : 0;
    CHECK(clipvk_remove_tree(dir) == 0, "cleanup");
}

/* The quirk table (ranges of driver versions, device-ID exceptions) and the
 * device choice on made-up devices: no Vulkan needed. */
static void test_quirks_and_choice(void)
{
    clipvk_device_caps c = {0};
    c.vendor_id = 0x8086;
    c.driver_id = VK_DRIVER_ID_INTEL_PROPRIETARY_WINDOWS;
    c.api_version = VK_API_VERSION_1_3;
    c.driver_version = VK_MAKE_API_VERSION(0, 0, 405, 100);
    clipvk_device_quirks_apply(&c);
    CHECK((c.quirks & CLIPVK_QUIRK_BROKEN_COMPUTE) && c.unusable, "Intel 0.405.100: broken compute");
    c.unusable = NULL;
    c.driver_version = VK_MAKE_API_VERSION(0, 0, 405, 286);
    clipvk_device_quirks_apply(&c);
    CHECK(c.quirks == 0 && !c.unusable, "Intel 0.405.286 is fixed");

    clipvk_device_caps a = {0};
    a.vendor_id = 0x5143;
    a.device_id = 0x43050a01;
    clipvk_device_quirks_apply(&a);
    CHECK(a.quirks & CLIPVK_QUIRK_STORAGE_BUFFER_NO_L1, "Adreno 740: storage buffers without L1");
    a.device_id = 0x6040001;
    clipvk_device_quirks_apply(&a);
    CHECK(!(a.quirks & CLIPVK_QUIRK_STORAGE_BUFFER_NO_L1), "Adreno 640 is ncnn's exception");
    for (uint32_t i = 0; i < clipvk_device_quirk_count(); i++) {
        const char *reason = NULL, *evidence = clipvk_device_quirk_evidence(i, &reason);
        CHECK(evidence && *evidence && reason && *reason, "quirk %u states what and why", i);
    }

    /* Choice: skips the unusable discrete GPU, prefers the bigger of two. */
    clipvk_device_caps d[4] = {0};
    d[0].type = VK_PHYSICAL_DEVICE_TYPE_CPU;
    d[1].type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, d[1].device_local_bytes = 4ull << 30;
    d[2].type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, d[2].device_local_bytes = 16ull << 30;
    d[3].type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, d[3].device_local_bytes = 24ull << 30;
    d[3].unusable = "supports only Vulkan 1.0; clipvk needs 1.1";
    for (int i = 0; i < 4; i++) {
        snprintf(d[i].name, sizeof d[i].name, "device %d", i);
        d[i].device_uuid[15] = (uint8_t)(0xA0 + i);
    }
    uint32_t chosen = 99;
    clipvk_error err;
    CHECK(clipvk_device_choose(d, 4, NULL, &chosen, &err) == CLIPVK_OK && chosen == 2, "best usable: %u", chosen);
    CHECK(clipvk_device_choose(d, 4, "3", &chosen, &err) == CLIPVK_ERROR_NO_DEVICE && strstr(err.msg, "Vulkan 1.0"),
          "an unusable device named by index says why");
    CHECK(clipvk_device_choose(d, 4, "00000000-0000-0000-0000-0000000000a1", &chosen, &err) == CLIPVK_OK &&
              chosen == 1, "by UUID");
    CHECK(clipvk_device_choose(d, 4, "DEVICE 0", &chosen, &err) == CLIPVK_OK && chosen == 0, "by name");
    CHECK(clipvk_device_choose(d, 4, "cpu", &chosen, &err) == CLIPVK_OK && chosen == CLIPVK_CHOSE_CPU,
          "\"cpu\": the native CPU backend");
    CHECK(clipvk_device_choose(d, 4, "CPU", &chosen, &err) == CLIPVK_OK && chosen == CLIPVK_CHOSE_CPU, "any case");
    CHECK(clipvk_device_choose(d, 4, "vulkan", &chosen, &err) == CLIPVK_OK && chosen == 2, "\"vulkan\": the best GPU");
    /* Without a usable GPU: a CPU driver only by name, else the native backend. */
    d[1].unusable = d[2].unusable = "has no compute queue";
    CHECK(clipvk_device_choose(d, 4, NULL, &chosen, &err) == CLIPVK_OK && chosen == CLIPVK_CHOSE_CPU,
          "no GPU: the native CPU backend, not the CPU driver (%u)", chosen);
    CHECK(clipvk_device_choose(d, 4, "vulkan", &chosen, &err) == CLIPVK_OK && chosen == 0,
          "\"vulkan\" without a GPU: the CPU driver");
    d[0].unusable = "has no compute queue";
    CHECK(clipvk_device_choose(d, 4, NULL, &chosen, &err) == CLIPVK_OK && chosen == CLIPVK_CHOSE_CPU,
          "none usable: the native CPU backend");
    CHECK(clipvk_device_choose(d, 4, "vulkan", &chosen, &err) == CLIPVK_ERROR_NO_DEVICE, "none usable, \"vulkan\"");
}

int main(void)
{
    test_quirks_and_choice();
    clipvk_runtime *rt = test_runtime();
    test_seed(7);
    test_allocator(rt);
    test_barriers(rt);
    int code = test_finish(rt);
    test_budget();
    test_pipeline_cache();
    if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures);
    return code || test_failures ? 1 : 0;
}
