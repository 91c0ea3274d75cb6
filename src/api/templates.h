/* Prompt templates for zero-shot classification ("{}" is the label). */
#ifndef CLIPVK_TEMPLATES_H
#define CLIPVK_TEMPLATES_H

#define CLIPVK_IMAGENET_TEMPLATES 80
#define CLIPVK_DEFAULT_TEMPLATE "a photo of a {}."

extern const char *const clipvk_imagenet_templates[CLIPVK_IMAGENET_TEMPLATES];

#endif
