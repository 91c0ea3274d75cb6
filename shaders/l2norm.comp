#version 450
/*
 * l2norm: Y[r, :] = X[r, :] / ||X[r, :]|| (an all-zero row stays zero).
 *
 * Buffers: 0 X [rows, n] f32, 1 Y [rows, n] f32 (may alias X).
 * Tiling:  one workgroup per row, WG (spec 0, a power of two) invocations
 *          stride over it and reduce in shared memory.
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push { uint rows, n; } pc;

shared float partial[WG];

void main()
{
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.rows) return;
    uint t = gl_LocalInvocationID.x, o = row * pc.n;
    float s = 0.0;
    for (uint i = t; i < pc.n; i += WG) s += x[o + i] * x[o + i];
    partial[t] = s;
    barrier();
    for (uint k = WG / 2; k > 0; k >>= 1) {
        if (t < k) partial[t] += partial[t + k];
        barrier();
    }
    float scale = partial[0] > 0.0 ? inversesqrt(partial[0]) : 0.0;
    for (uint i = t; i < pc.n; i += WG) y[o + i] = x[o + i] * scale;
}
