#version 450
/*
 * token_embed: the text tower's input — token embedding plus position.
 *   X[b, t, :] = table[ids[b, t]] + pos[t]
 * The table can exceed one storage-buffer range (49408 x 768 f32 is 145 MiB;
 * lavapipe binds at most 128 MiB), so the host binds it in slices of rows
 * [row0, row0 + nrows) and dispatches once per slice; each dispatch writes
 * only the positions whose id falls in its slice. Ids were range-checked on
 * the host; one outside every slice is never written (the output's poison
 * shows it in tests).
 *
 * Buffers: 0 ids [B, L] int32, 1 table slice [nrows, D] (f32, or fp16 pairs
 *          with WEIGHT_F16), 2 pos [>=L, D] f32, 3 X [B, L, D] f32.
 * Tiling:  one invocation per output element, WG (spec 0) per group.
 */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(std430, binding = 0) readonly buffer IBuf { int ids[]; };
layout(std430, binding = 1) readonly buffer TBuf { WEIGHT_T table[]; };
layout(std430, binding = 2) readonly buffer PBuf { float pos[]; };
layout(std430, binding = 3) writeonly buffer XBuf { float x[]; };

layout(push_constant) uniform Push { uint tokens, len, dim, row0, nrows; } pc;

void main()
{
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * WG + gl_LocalInvocationID.x;
    if (i >= pc.tokens * pc.dim) return;
    uint d = i % pc.dim, tok = i / pc.dim, t = tok % pc.len;
    uint id = uint(ids[tok]);
    if (id < pc.row0 || id - pc.row0 >= pc.nrows) return;
    x[i] = W_LOAD(table, (id - pc.row0) * pc.dim + d) + pos[t * pc.dim + d];
}
