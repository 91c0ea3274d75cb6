#version 450
/*
 * similarity: S[q, r] = dot(Q[q0 + q], E[r]) for the QN queries q0 .. q0+QN-1
 * and the rows r < n of one block of embeddings.
 *
 * Buffers: 0 E [n, dim] f32 (a block: the host binds slices that fit the
 *          device's storage-buffer range), 1 Q [nq, dim] f32, 2 S [nq, s_stride] f32,
 *          written at column s_col + r.
 * Tiling:  one invocation per row of E; it walks the row once and keeps QN
 *          (spec 1, 1..8) running sums, so a row is read from memory once for up
 *          to 8 queries (the scan is memory-bound: ~1 multiply-add per byte).
 *          Q is read at addresses uniform across the workgroup (a broadcast).
 *          With VEC4 the rows are read as vec4 (dim a multiple of 4).
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint QN = 1;

#ifdef VEC4
#define VT vec4
#else
#define VT float
#endif

layout(std430, binding = 0) readonly buffer EBuf { VT e[]; };
layout(std430, binding = 1) readonly buffer QBuf { VT qv[]; };
layout(std430, binding = 2) writeonly buffer SBuf { float s[]; };

/* dimv: dim in VT units; q0: first query of this dispatch. */
layout(push_constant) uniform Push { uint n, dimv, q0, s_stride, s_col; } pc;

void main()
{
    uint row = gl_LocalInvocationID.x + WG * (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x);
    if (row >= pc.n) return;
    float acc[QN];
    for (uint q = 0; q < QN; q++) acc[q] = 0.0;
    uint eo = row * pc.dimv, qo = pc.q0 * pc.dimv;
    for (uint d = 0; d < pc.dimv; d++) {
        VT x = e[eo + d];
        for (uint q = 0; q < QN; q++) acc[q] += dot(x, qv[qo + q * pc.dimv + d]);
    }
    for (uint q = 0; q < QN; q++) s[(pc.q0 + q) * pc.s_stride + pc.s_col + row] = acc[q];
}
