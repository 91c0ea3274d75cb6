/*
 * torch_bin: a pytorch_model.bin (what torch.save(state_dict) writes: a zip
 * of stored entries <top>/data.pkl, <top>/data/<key>, <top>/version) opened
 * as a clipvk_safetensors handle, so the loader reads it as it reads
 * safetensors. Python is not needed and the pickle is never executed
 * (model/torch_pickle.h). Contiguous tensors point into the mapping;
 * strided views (HF's transposed projections) are copied into contiguous
 * blocks the handle owns. Every view is checked to lie inside its storage
 * and every storage inside its zip entry.
 */
#ifndef CLIPVK_TORCH_BIN_H
#define CLIPVK_TORCH_BIN_H

#include "model/safetensors.h"

/* Maps and opens the .bin at `path`. */
clipvk_status clipvk_safetensors_open_torch(const char *path, clipvk_safetensors **out, clipvk_error *err);

/* The same on a .bin already in memory (`name` for messages); the tensors
 * that are not copies point into `data`, which must outlive the handle. */
clipvk_status clipvk_safetensors_open_torch_memory(const void *data, size_t size, const char *name,
                                                  clipvk_safetensors **out, clipvk_error *err);

#endif
