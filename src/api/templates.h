/* Prompt templates for zero-shot classification ("{}" is the label). */
#ifndef CLIPVK_TEMPLATES_H
#define CLIPVK_TEMPLATES_H

#define CLIPVK_IMAGENET_TEMPLATES 80
#define CLIPVK_DEFAULT_TEMPLATE "a photo of a {}."

extern const char *const clipvk_imagenet_templates[CLIPVK_IMAGENET_TEMPLATES];

/* clipvk's own Chinese prompts for Chinese-CLIP ("zh"), written for clipvk
 * (not cn_clip's published set): a photo, a picture, a close-up, ... */
#define CLIPVK_ZH_TEMPLATES 12
extern const char *const clipvk_zh_templates[CLIPVK_ZH_TEMPLATES];

#endif
