#include "families/family.h"

#include <stdio.h>
#include <string.h>

static const clipvk_family *const families[] = {&clipvk_family_clip, &clipvk_family_siglip, &clipvk_family_chinese_clip};

const clipvk_family *clipvk_family_find(const char *model_type)
{
    if (!model_type) return &clipvk_family_clip;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i]->model_type, model_type)) return families[i];
    return NULL;
}

const char *clipvk_family_list(char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof families / sizeof families[0] && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", families[i]->model_type);
    return out;
}
