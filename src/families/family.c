#include "families/family.h"

#include <string.h>

static const clipvk_family *const families[] = {&clipvk_family_clip, &clipvk_family_siglip};

const clipvk_family *clipvk_family_find(const char *model_type)
{
    if (!model_type) return &clipvk_family_clip;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i]->model_type, model_type)) return families[i];
    return NULL;
}

const char *clipvk_family_list(void) { return "clip, siglip"; }
