/* The SPIR-V shaders compiled from shaders/ and embedded at build time. */
#ifndef CLIPVK_SHADERS_H
#define CLIPVK_SHADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct clipvk_shader_code {
    const char *name;      /* variant name from shaders/shaders.cmake */
    const uint32_t *code;
    size_t size;           /* bytes */
} clipvk_shader_code;

extern const clipvk_shader_code clipvk_shaders[];
extern const unsigned clipvk_shader_count;

#endif
