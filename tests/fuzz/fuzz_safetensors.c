/* Fuzzes a whole .safetensors file: the header length, the JSON header and
 * the tensor table's checks (dtype, shape, offsets inside the data section,
 * no overlaps, unique names), then reads every float tensor the way the
 * loader would, so a table that passed validation but points outside the
 * bytes is caught by ASan. */
#include "fuzz.h"
#include "model/safetensors.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clipvk_safetensors *st;
    clipvk_error err;
    if (clipvk_safetensors_open_memory(data, size, "fuzz.safetensors", &st, &err)) return 0;
    (void)clipvk_safetensors_find(st, "text_model.embeddings.token_embedding.weight");
    float buf[64];
    for (uint32_t i = 0; i < clipvk_safetensors_count(st); i++) {
        const clipvk_tensor_info *t = clipvk_safetensors_at(st, i);
        if (clipvk_safetensors_find(st, t->name) != t) abort(); /* lookup must find every tensor */
        /* The first and the last few elements: enough to touch both ends. */
        uint64_t n = t->count < 64 ? t->count : 64;
        (void)clipvk_tensor_to_f32(t, 0, n, buf, &err);
        (void)clipvk_tensor_to_f32(t, t->count - n, n, buf, &err);
    }
    clipvk_safetensors_close(st);
    return 0;
}
