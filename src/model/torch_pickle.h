/*
 * torch_pickle: reads the data.pkl of a torch.save(state_dict) archive
 * without executing it. A pickle is a program for a stack machine whose
 * REDUCE calls any global it names (os.system, builtins.eval, ...); this
 * one interprets only the opcodes a state dict is written with and calls
 * nothing: it recognizes collections.OrderedDict, torch._utils.
 * _rebuild_tensor_v2 / _rebuild_parameter and torch.*Storage by name and
 * records what they would build. Any other global or opcode is refused.
 * Memory is linear in the pickle's size (each opcode makes at most one
 * value; memo indices must be sequential, as pickle writes them) and
 * nothing recurses.
 */
#ifndef CLIPVK_TORCH_PICKLE_H
#define CLIPVK_TORCH_PICKLE_H

#include <stddef.h>
#include <stdint.h>
#include "model/safetensors.h"
#include "util/error.h"

/* One tensor of the state dict: a strided view of a storage, in elements. */
typedef struct clipvk_torch_view {
    char *name;                       /* owned: the state dict's key */
    char *key;                        /* owned: the storage's key (the archive's data/<key>) */
    clipvk_dtype dtype;               /* from the storage type */
    uint64_t numel;                   /* the storage's elements, as its persistent id says */
    uint64_t offset;                  /* the view's first element in the storage */
    uint32_t ndim;
    uint64_t size[CLIPVK_MAX_DIMS];
    uint64_t stride[CLIPVK_MAX_DIMS];
} clipvk_torch_view;

/* Interprets the `n` bytes of pickle at `pkl`; `fn` names it in messages
 * ("DIR/pytorch_model.bin: archive/data.pkl"). On success *views (n_views
 * of them, in the dict's order) is owned by the caller:
 * clipvk_torch_views_free. Refusals and malformed pickles are
 * CLIPVK_ERROR_FORMAT, one line. */
clipvk_status clipvk_torch_unpickle(const uint8_t *pkl, size_t n, const char *fn, clipvk_torch_view **views,
                                    uint32_t *n_views, clipvk_error *err);
void clipvk_torch_views_free(clipvk_torch_view *views, uint32_t n);

#endif
