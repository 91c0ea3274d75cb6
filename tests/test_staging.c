/*
 * Staged transfers and the dependencies between submissions, on a simulated
 * discrete GPU (the amd-rdna profile, set through the runtime's options):
 * device memory is not host-visible there, so every upload is a copy from
 * the staging buffer in a submission of its own, and every download the
 * reverse. Exercises, each checked against host arithmetic and with the
 * validation layer (synchronization validation included) on:
 *  - upload through staging -> dispatch -> staged download;
 *  - transfers larger than one staging chunk (16 MiB), at an offset;
 *  - an upload into a buffer that the previous submission read
 *    (write-after-read across submissions), and a dispatch that rewrites a
 *    buffer a staged download just read;
 *  - a download of a range an earlier dispatch wrote, without anything in
 *    between (read-after-write across submissions).
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    clipvk_runtime_options opt = {.device = {.validation = test_validation(), .profile = "amd-rdna"}, .cache_dir = ""};
    clipvk_runtime *rt;
    clipvk_status s0 = clipvk_runtime_create(&opt, &rt, &test_err);
    if (s0) {
        fprintf(stderr, "FAIL: runtime under the amd-rdna profile: %s\n", test_err.msg);
        return 1;
    }
    printf("device: %s\n", rt->dev->caps.name);
    /* the point of the test: tensors are not mapped, transfers are staged */
    CHECK(!rt->dev->uma && !clipvk_allocator_mapped(rt->tensors), "amd-rdna tensors are host-visible: nothing staged");

    /* 5.5 Mi floats (22 MiB): two staging chunks, the second partial */
    /* off: floats before the data in a; 4 KiB, so a view there meets any
     * device's storage-buffer offset alignment (at most 256 bytes) */
    const size_t n = (11u << 20) / 2, off = 1024;
    float *x = malloc(n * 4), *y = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);
    test_seed(11);
    test_fill(x, n, -1, 1);
    test_fill(y, n, -1, 1);
    clipvk_buffer a, b = test_buffer(rt, y, n), c = test_buffer(rt, NULL, n);
    OK(clipvk_alloc(rt->tensors, (off + n) * 4, &a, &test_err));
    CHECK(!a.host && !b.host && !c.host, "tensors mapped");
    OK(clipvk_upload(rt, &a, off * 4, x, n * 4, &test_err)); /* chunked, at an offset */
    clipvk_buffer av = a; /* a's data as a buffer of its own: the range past off */
    av.offset += off * 4;
    av.size = n * 4;

    clipvk_cmd *cmd;
    OK(clipvk_cmd_create(rt->dev, 0, &cmd, &test_err));
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_add(rt, cmd, &av, &b, &c, n, &test_err)); /* c = a + b */
    OK(clipvk_cmd_end(cmd, &test_err));

    /* 1: uploads (copies) -> dispatch -> staged download of what it wrote */
    OK(clipvk_cmd_submit(cmd, &test_err));
    test_read(rt, &c, got, n);
    for (size_t i = 0; i < n; i++) want[i] = x[i] + y[i];
    test_compare("c = a + b, staged", got, want, n, 0, 0);

    /* 2: upload into a, which the last dispatch read (write-after-read), and
     * rerun the dispatch, which rewrites c, which the download just read */
    for (size_t i = 0; i < n; i++) x[i] = -2 * x[i];
    OK(clipvk_upload(rt, &a, off * 4, x, n * 4, &test_err));
    OK(clipvk_cmd_submit(cmd, &test_err));
    test_read(rt, &c, got, n);
    for (size_t i = 0; i < n; i++) want[i] = x[i] + y[i];
    test_compare("c = a + b after re-uploading a", got, want, n, 0, 0);

    /* 3: small downloads at offsets: one straddling the start of a's data
     * (only the data half is known), one of c where the chunks of the
     * transfers above met */
    float head[16];
    OK(clipvk_download(rt, &a, (off - 8) * 4, head, sizeof head, &test_err));
    test_compare("a's first floats", head + 8, x, 8, 0, 0);
    size_t mid = (16u << 20) / 4 - 100;
    OK(clipvk_download(rt, &c, mid * 4, got, 200 * 4, &test_err));
    for (size_t i = 0; i < 200; i++) want[i] = x[mid + i] + y[mid + i];
    test_compare("c across the chunk boundary", got, want, 200, 0, 0);

    /* 4: memory-type choice. The device heap full (by what this device has
     * taken of it): a new block falls back to another heap (the host-visible
     * BAR heap or system memory) instead of failing; and blocks never exceed
     * the largest allocation the device allows. */
    clipvk_device *dev = rt->dev;
    uint64_t saved_used = dev->heap_used[0], saved_max = dev->caps.max_allocation_size;
    CHECK(dev->caps.memory.memoryHeaps[0].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT, "heap 0 is not device-local");
    dev->heap_used[0] = dev->caps.memory.memoryHeaps[0].size;
    clipvk_buffer big;
    OK(clipvk_alloc(rt->tensors, 80u << 20, &big, &test_err)); /* larger than a block: a block of its own */
    CHECK(big.host != NULL, "with the device heap full, the block came from the unmapped device heap");
    float probe[4] = {1, 2, 3, 4}, back[4];
    OK(clipvk_upload(rt, &big, 0, probe, sizeof probe, &test_err));
    OK(clipvk_download(rt, &big, 0, back, sizeof back, &test_err));
    test_compare("fallback block round trip", back, probe, 4, 0, 0);
    clipvk_free(rt->tensors, &big);
    dev->heap_used[0] = saved_used;
    dev->caps.max_allocation_size = 8u << 20;
    clipvk_allocator *fresh; /* no blocks yet, so every request makes one */
    OK(clipvk_allocator_create(dev, CLIPVK_MEMORY_DEVICE, 0, &fresh, &test_err));
    clipvk_buffer small;
    OK(clipvk_alloc(fresh, 1u << 20, &small, &test_err));
    CHECK(clipvk_allocator_bytes(fresh) == 8u << 20, "block of %llu bytes under an 8 MiB allocation limit",
          (unsigned long long)clipvk_allocator_bytes(fresh));
    CHECK(clipvk_alloc(fresh, 9u << 20, &big, &test_err) == CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY &&
              strstr(test_err.msg, "largest allocation"),
          "a tensor over maxMemoryAllocationSize: %s", test_err.msg);
    clipvk_free(fresh, &small);
    clipvk_allocator_destroy(fresh);
    dev->caps.max_allocation_size = saved_max;

    clipvk_cmd_destroy(cmd);
    clipvk_free(rt->tensors, &a);
    clipvk_free(rt->tensors, &b);
    clipvk_free(rt->tensors, &c);
    free(x), free(y), free(got), free(want);
    return test_finish(rt);
}
