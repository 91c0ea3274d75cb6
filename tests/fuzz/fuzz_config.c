/* Fuzzes config.json parsing: any bytes (a NUL-terminated copy, as
 * clipvk_config_load reads files) through clipvk_config_parse. What passes
 * must satisfy the invariants the model code relies on. */
#include "fuzz.h"
#include "model/config.h"

#include <stdlib.h>
#include <string.h>

static void check_tower(const clipvk_tower_config *t)
{
    if (!t->hidden || !t->heads || t->hidden % t->heads || !t->intermediate || !t->layers || !(t->eps > 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    clipvk_model_config c;
    clipvk_error err;
    if (!clipvk_config_parse("config.json", text, &c, &err)) {
        check_tower(&c.text);
        check_tower(&c.vision);
        if (!c.vision.patch_size || c.vision.patch_size > c.vision.image_size || !c.text.vocab || !c.text.context ||
            !c.projection_dim || clipvk_vision_tokens(&c.vision) > 16385 || c.text.eos_token_id < 0 ||
            c.text.eos_token_id > INT32_MAX)
            abort();
    }
    free(text);
    return 0;
}
