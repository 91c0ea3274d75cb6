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
    clipvk_runtime_options opt = {.device = {.validation = 1, .profile = "amd-rdna"}, .cache_dir = ""};
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

    clipvk_cmd_destroy(cmd);
    clipvk_free(rt->tensors, &a);
    clipvk_free(rt->tensors, &b);
    clipvk_free(rt->tensors, &c);
    free(x), free(y), free(got), free(want);
    return test_finish(rt);
}
