/*
 * demo_model: writes a small random-weight CLIP folder in the Hugging Face
 * layout (config.json, model.safetensors, a byte-level vocab.json with no
 * merges, merges.txt, preprocessor_config.json). It lets a new user run
 * clipvk before downloading real weights; its answers mean nothing.
 */
#ifndef CLIPVK_DEMO_MODEL_H
#define CLIPVK_DEMO_MODEL_H

#include "util/error.h"

/* Creates dir (and its parents) and writes the model into it. shapes:
 * NULL or "demo" (tiny: 64 px images, two 64-wide layers per tower), or for
 * benchmarks "vit-b-32" (openai/clip-vit-base-patch32's shapes),
 * "siglip-b-16" (google/siglip-base-patch16-224's), "siglip-so400m"
 * (google/siglip-so400m-patch14-384's) or "chinese-clip-b-16"
 * (OFA-Sys/chinese-clip-vit-base-patch16's). */
clipvk_status clipvk_demo_model_write(const char *dir, const char *shapes, clipvk_error *err);

#endif
