/* pytorch_model.bin read without Python (model/torch_bin.h): the golden
 * Chinese-CLIP checkpoint as the hub ships it, torch.save's zip with HF's
 * shared q/k/v storages, transposed projections, a 0-d logit_scale and
 * int64 position_ids, against the same weights in model.safetensors: every
 * tensor by name, dtype, shape and bytes. No Vulkan device needed; skipped
 * (77) without the test data. */
#include "check.h"
#include "model/safetensors.h"
#include "model/torch_bin.h"

#include <stdio.h>
#include <string.h>

int test_failures;

int main(void)
{
    char bin[4096], st_path[4096];
    snprintf(bin, sizeof bin, "%s/golden-chinese-clip/model-bin/pytorch_model.bin", test_data_dir());
    snprintf(st_path, sizeof st_path, "%s/golden-chinese-clip/model/model.safetensors", test_data_dir());
    FILE *f = fopen(bin, "rb");
    if (!f) TEST_DATA_SKIP(bin);
    fclose(f);
    clipvk_error err = {0};
    clipvk_safetensors *tb = NULL, *st = NULL;
    CHECK(clipvk_safetensors_open_torch(bin, &tb, &err) == CLIPVK_OK, "%s", err.msg);
    CHECK(clipvk_safetensors_open(st_path, &st, &err) == CLIPVK_OK, "%s", err.msg);
    if (!tb || !st) return test_report();
    uint32_t same = 0;
    for (uint32_t i = 0; i < clipvk_safetensors_count(st); i++) {
        const clipvk_tensor_info *a = clipvk_safetensors_at(st, i), *b = clipvk_safetensors_find(tb, a->name);
        CHECK(b, "%s: not in the .bin", a->name);
        if (!b) continue;
        int shape = a->ndim == b->ndim && !memcmp(a->shape, b->shape, a->ndim * sizeof a->shape[0]);
        CHECK(a->dtype == b->dtype && shape && a->count == b->count && a->bytes == b->bytes,
              "%s: dtype/shape differ (%s %u dims, %s %u dims)", a->name, clipvk_dtype_name(a->dtype), a->ndim,
              clipvk_dtype_name(b->dtype), b->ndim);
        if (a->dtype == b->dtype && shape && a->bytes == b->bytes) {
            CHECK(!memcmp(a->data, b->data, a->bytes), "%s: values differ", a->name);
            same += !memcmp(a->data, b->data, a->bytes);
        }
    }
    /* The .bin's only extras: the int64 position_ids buffers, kept as I64. */
    uint32_t extra = 0;
    for (uint32_t i = 0; i < clipvk_safetensors_count(tb); i++) {
        const clipvk_tensor_info *b = clipvk_safetensors_at(tb, i);
        if (clipvk_safetensors_find(st, b->name)) continue;
        extra++;
        CHECK(strstr(b->name, "position_ids") && b->dtype == CLIPVK_DTYPE_I64, "%s: unexpected in the .bin", b->name);
    }
    CHECK(extra == 2, "%u extra tensors in the .bin (2 position_ids expected)", extra);
    const clipvk_tensor_info *ls = clipvk_safetensors_find(tb, "logit_scale");
    CHECK(ls && ls->ndim == 0 && ls->count == 1, "logit_scale is not 0-d");
    printf("%u tensors identical to model.safetensors, %u extra\n", same, extra);
    clipvk_safetensors_close(tb);
    clipvk_safetensors_close(st);
    return test_report();
}
