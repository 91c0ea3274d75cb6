#version 450
/*
 * gather_rows: picks one row of each sequence (pooling: the class token of
 * the vision tower, the end-of-text token of the text tower).
 *   Y[b, :] = X[b, idx[b], :]
 *
 * Buffers: 0 X [B, L, D] f32, 1 idx [B] int32 (checked < L on the host),
 *          2 Y [B, D] f32.
 * Tiling:  one invocation per output element, WG (spec 0) per group.
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) readonly buffer IBuf { int idx[]; };
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push { uint batch, len, dim; } pc;

void main()
{
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * WG + gl_LocalInvocationID.x;
    if (i >= pc.batch * pc.dim) return;
    uint b = i / pc.dim, d = i % pc.dim;
    uint t = min(uint(idx[b]), pc.len - 1u);
    y[i] = x[(b * pc.len + t) * pc.dim + d];
}
