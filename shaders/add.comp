#version 450
/*
 * add: Y[i] = A[i] + B[i] for i < n (the residual connection when it is not
 * fused into the matmul epilogue). Y may alias A.
 *
 * Buffers: 0 A [n] f32, 1 B [n] f32, 2 Y [n] f32.
 * Tiling:  one invocation per 4 elements; WG invocations (spec 0) per group,
 *          groups spread over x and y for large n.
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(std430, binding = 0) readonly buffer ABuf { float a[]; };
layout(std430, binding = 1) readonly buffer BBuf { float b[]; };
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push { uint n; } pc;

void main()
{
    uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint base = (g * WG + gl_LocalInvocationID.x) * 4u;
    for (uint k = 0; k < 4u; k++) {
        uint i = base + k;
        if (i < pc.n) y[i] = a[i] + b[i];
    }
}
