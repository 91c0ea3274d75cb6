/* Fuzzes a whole pytorch_model.bin in memory: the zip table (end records,
 * zip64, central and local headers), the restricted unpickler (opcodes,
 * memo, marks, globals, persistent ids) and the placement of each view in
 * its storage (offsets, strides, copies of strided views); then reads both
 * ends of every tensor as the loader would, so a view that passed the
 * checks but reaches outside its bytes is caught by ASan. */
#include "fuzz.h"
#include "model/torch_bin.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clipvk_safetensors *st;
    clipvk_error err;
    if (clipvk_safetensors_open_torch_memory(data, size, "fuzz.bin", &st, &err)) return 0;
    (void)clipvk_safetensors_find(st, "logit_scale");
    float buf[64];
    volatile uint8_t sink = 0;
    for (uint32_t i = 0; i < clipvk_safetensors_count(st); i++) {
        const clipvk_tensor_info *t = clipvk_safetensors_at(st, i);
        if (clipvk_safetensors_find(st, t->name) != t) abort(); /* lookup must find every tensor */
        uint64_t n = t->count < 64 ? t->count : 64;
        (void)clipvk_tensor_to_f32(t, 0, n, buf, &err);
        (void)clipvk_tensor_to_f32(t, t->count - n, n, buf, &err);
        if (t->bytes) sink ^= ((const uint8_t *)t->data)[0] ^ ((const uint8_t *)t->data)[t->bytes - 1]; /* any dtype */
    }
    (void)sink;
    clipvk_safetensors_close(st);
    return 0;
}
